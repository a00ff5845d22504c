/* Containers: the configuration vxcloud gives them, and the engine calls
 * that make, start, find and remove them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* ---- the configuration hash ---------------------------------------------- */

#define FNV_SEED 1469598103934665603ULL

static unsigned long long fnv(unsigned long long h, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s;; c++) {
		h = (h ^ *c) * 1099511628211ULL;
		if (!*c)
			return h;
	}
}

/* A NULL list and an empty one differ ("the image's default" vs none). */
static unsigned long long fnv_list(const char *const *v)
{
	unsigned long long h = fnv(FNV_SEED, v ? "list" : "none");

	for (; v && *v; v++)
		h = fnv(h, *v);
	return h;
}

static unsigned long long limits_hash(const struct docker_drv *d, const struct vxc_instance *inst)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "cpus=%u memory=%u nofile=%lld nproc=%lld restart=%s",
		 inst->cpus, inst->memory_mb, d->nofile, d->nproc, d->restart);
	return fnv(FNV_SEED, buf);
}

static const char *const aspects[] = { "image", "command", "environment",
				       "limits or restart policy" };

void config_hash(const struct docker_drv *d, const struct vxc_instance *inst, char *out,
		 size_t len)
{
	snprintf(out, len, "%016llx.%016llx.%016llx.%016llx",
		 fnv(FNV_SEED, inst->image ? inst->image : ""), fnv_list(inst->command),
		 fnv_list(inst->environment), limits_hash(d, inst));
}

const char *config_diff(const char *have, const char *want, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(aspects) / sizeof(*aspects); i++) {
		const char *h = have ? have + 17 * i : NULL;
		const char *w = want + 17 * i;

		if (h && strlen(have) >= 17 * i + 16 && !strncmp(h, w, 16))
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
				      aspects[i]);
		if (n >= len)
			break;
	}
	return buf;
}

/* ---- engine calls ---------------------------------------------------------- */

int container_name(struct docker_drv *d, const char *instance, char *out, size_t len)
{
	if (snprintf(out, len, "%s%s", d->name_prefix, instance) >= (int)len)
		return d->svc->error(d->ctx, -ENAMETOOLONG, "container name too long");
	return 0;
}

const char *container_label(json_t *c, const char *label)
{
	json_t *labels = json_object_get(json_object_get(c, "Config"), "Labels");

	if (!labels) /* a /containers/json entry */
		labels = json_object_get(c, "Labels");
	return json_string_value(json_object_get(labels, label));
}

int container_inspect(struct docker_drv *d, const char *ref, json_t **out)
{
	struct api_reply rep;
	char path[512];
	int r;

	*out = NULL;
	snprintf(path, sizeof(path), "/containers/%s/json", ref);
	if ((r = api_call(d, "GET", path, NULL, 0, &rep)) < 0)
		return r;
	if (rep.status == 404)
		r = -ENOENT;
	else if (rep.status != 200)
		r = api_fail(d, &rep, "inspect container", -EIO);
	else if (!(*out = api_json(d, &rep, "inspect container")))
		r = -EPROTO;
	api_reply_free(&rep);
	return r;
}

/* The engine resolves a reference as an ID, a name, then an ID prefix:
 * "c42" may find a container whose ID starts with c42. Only one whose
 * name is the one asked for counts. */
int container_by_name(struct docker_drv *d, const char *name, json_t **out)
{
	const char *have;
	int r = container_inspect(d, name, out);

	if (r < 0)
		return r;
	have = json_string_value(json_object_get(*out, "Name"));
	if (have && *have == '/')
		have++;
	if (have && !strcmp(have, name))
		return 0;
	json_decref(*out);
	*out = NULL;
	return -ENOENT;
}

static json_t *string_array(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *labels(const struct docker_drv *d, const struct vxc_instance *inst)
{
	char hash[80];

	config_hash(d, inst, hash, sizeof(hash));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", LABEL_OWNER, "vxcloud", LABEL_INSTANCE,
			 inst->name, LABEL_HOST, d->svc->host_name(d->ctx), LABEL_CONFIG, hash,
			 LABEL_NIC, inst->port->host_if);
}

/* Networking off (the driver plugs the NIC itself), an init process so a
 * stop does not wait out the timeout, limits, restart policy, ulimits. */
static json_t *host_config(const struct docker_drv *d, const struct vxc_instance *inst)
{
	json_t *hc = json_pack("{s:s, s:b, s:{s:s}}", "NetworkMode", "none", "Init", 1,
			       "RestartPolicy", "Name", d->restart);
	json_t *ulimits = json_array();

	if (!hc || !ulimits) {
		json_decref(hc);
		json_decref(ulimits);
		return NULL;
	}
	if (inst->cpus)
		json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)inst->cpus *
								  1000000000));
	if (inst->memory_mb)
		json_object_set_new(hc, "Memory", json_integer((json_int_t)inst->memory_mb << 20));
	if (d->nofile)
		json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", "nofile",
							 "Soft", d->nofile, "Hard", d->nofile));
	if (d->nproc)
		json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", "nproc",
							 "Soft", d->nproc, "Hard", d->nproc));
	json_object_set_new(hc, "Ulimits", ulimits);
	return hc;
}

static json_t *create_body(const struct docker_drv *d, const struct vxc_instance *inst)
{
	json_t *b = json_pack("{s:s, s:o, s:o, s:o}", "Image", inst->image, "Env",
			      string_array(inst->environment), "Labels", labels(d, inst),
			      "HostConfig", host_config(d, inst));

	if (b && inst->command)
		json_object_set_new(b, "Cmd", string_array(inst->command));
	return b;
}

int container_create(struct docker_drv *d, const struct vxc_instance *inst,
		     const char *name, char **id)
{
	json_t *body = create_body(d, inst), *j = NULL;
	struct api_reply rep;
	char path[512];
	int r;

	*id = NULL;
	if (!body)
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "/containers/create?name=%s", name);
	r = api_call(d, "POST", path, body, 0, &rep);
	json_decref(body);
	if (r < 0)
		return r;
	if (rep.status != 201)
		r = api_fail(d, &rep, "create container", rep.status == 409 ? -EEXIST : -EIO);
	else if (!(j = api_json(d, &rep, "create container")))
		r = -EPROTO;
	else if (!json_string_value(json_object_get(j, "Id")) ||
		 !(*id = strdup(json_string_value(json_object_get(j, "Id")))))
		r = d->svc->error(d->ctx, -EPROTO, "create container: no Id in the "
				  "reply");
	json_decref(j);
	api_reply_free(&rep);
	return r;
}

/* POST /containers/ID/ACTION: 204 done, 304 already so, 404 gone. */
static int post_action(struct docker_drv *d, const char *id, const char *action,
		       const char *query, unsigned timeout_ms, int ok_gone)
{
	struct api_reply rep;
	char path[512], what[64];
	int r;

	snprintf(path, sizeof(path), "/containers/%s/%s%s", id, action, query);
	if ((r = api_call(d, "POST", path, NULL, timeout_ms, &rep)) < 0)
		return r;
	if (rep.status != 204 && rep.status != 304 && !(ok_gone && rep.status == 404)) {
		snprintf(what, sizeof(what), "%s container", action);
		r = api_fail(d, &rep, what, -EIO);
	}
	api_reply_free(&rep);
	return r;
}

int container_start(struct docker_drv *d, const char *id)
{
	return post_action(d, id, "start", "", 0, 0);
}

int container_remove(struct docker_drv *d, const char *id)
{
	unsigned secs = (d->stop_timeout_ms + 999) / 1000;
	struct api_reply rep;
	char q[32], path[512];
	int r;

	snprintf(q, sizeof(q), "?t=%u", secs);
	r = post_action(d, id, "stop", q, d->stop_timeout_ms + d->api_timeout_ms, 1);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/containers/%s?force=1", id);
	if ((r = api_call(d, "DELETE", path, NULL, 0, &rep)) < 0)
		return r;
	if (rep.status != 204 && rep.status != 404)
		r = api_fail(d, &rep, "remove container", -EIO);
	api_reply_free(&rep);
	return r;
}

/* ---- listing by label ------------------------------------------------------ */

static char *list_filter(struct docker_drv *d, const char *instance)
{
	char owner[64], host[512], inst[512];
	json_t *f, *l;
	char *text, *q;

	snprintf(owner, sizeof(owner), "%s=vxcloud", LABEL_OWNER);
	snprintf(host, sizeof(host), "%s=%s", LABEL_HOST, d->svc->host_name(d->ctx));
	l = json_pack("[s, s]", owner, host);
	if (l && instance) {
		snprintf(inst, sizeof(inst), "%s=%s", LABEL_INSTANCE, instance);
		json_array_append_new(l, json_string(inst));
	}
	f = json_pack("{s:o}", "label", l);
	text = f ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	q = text ? api_escape(d, text) : NULL;
	free(text);
	return q;
}

static int each_listed(struct docker_drv *d, json_t *a, container_cb cb, void *arg)
{
	size_t i;
	json_t *c;

	if (!json_is_array(a))
		return d->svc->error(d->ctx, -EPROTO, "list containers: not a list");
	json_array_foreach(a, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		const char *name = container_label(c, LABEL_INSTANCE);

		if (id && name)
			cb(arg, id, name, container_label(c, LABEL_NIC));
	}
	return 0;
}

int container_list(struct docker_drv *d, const char *instance, container_cb cb, void *arg)
{
	char *q = list_filter(d, instance), path[2048];
	struct api_reply rep;
	json_t *a;
	int r;

	if (!q)
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s", q);
	free(q);
	if ((r = api_call(d, "GET", path, NULL, 0, &rep)) < 0)
		return r;
	if (rep.status != 200)
		r = api_fail(d, &rep, "list containers", -EIO);
	else if (!(a = api_json(d, &rep, "list containers")))
		r = -EPROTO;
	else {
		r = each_listed(d, a, cb, arg);
		json_decref(a);
	}
	api_reply_free(&rep);
	return r;
}
