/* `vxcloud status --cloud`: every host of the cloud as etcd knows it, from
 * the agents' status/<host> documents and alive/<host> keys (lease-bound)
 * and the spec's revision (vxcloud(8), issue 14). Reads only. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_client.h"
#include "cloud_status.h"
#include "etcd.h"
#include "spec.h"
#include "util.h"

/* One host: what its keys say. */
struct cloud_host {
	char *name;
	int alive;
	long pid;         /* from alive/<host> */
	json_t *doc;      /* status/<host>, NULL when none */
	int in_spec;
	const char *state; /* converged, lagging, failing, refused, starting, unknown */
	char *detail;
	int64_t applied;
};

struct cloud {
	struct cloud_host *v;
	size_t n;
	int64_t spec_rev;  /* 0: no spec stored */
	int64_t now_ms;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cloud_host *host_get(struct cloud *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	c->v = vxc_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].name = vxc_xstrdup(name);
	return &c->v[c->n++];
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct cloud_host *)x)->name, ((const struct cloud_host *)y)->name);
}

static int64_t int_of(const json_t *doc, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(doc, key));
}

/* The first error a document reports, as "kind name: error". */
static char *first_error(const json_t *doc)
{
	const json_t *e = json_array_get(json_object_get(doc, "errors"), 0);

	if (!e)
		return NULL;
	return vxc_xasprintf("%s %s: %s", json_string_value(json_object_get(e, "kind")) ?: "?",
			     json_string_value(json_object_get(e, "name")) ?: "?",
			     json_string_value(json_object_get(e, "error")) ?: "?");
}

/* What a host's document says against the current spec revision. */
static void judge(const struct cloud *c, struct cloud_host *h)
{
	const json_t *d = h->doc;
	const char *spec_error, *outcome;
	char *err;

	if (!d) {
		h->state = h->alive ? "starting" : "unknown";
		h->detail = vxc_xstrdup(h->alive ? "no status written yet"
						 : "no agent has reported from this host");
		return;
	}
	h->applied = int_of(d, "spec_revision_applied");
	spec_error = json_string_value(json_object_get(d, "spec_error"));
	outcome = json_string_value(json_object_get(json_object_get(d, "last_pass"), "outcome"));
	err = first_error(d);
	if (spec_error && int_of(d, "spec_revision_seen") >= c->spec_rev) {
		h->state = "refused";
		h->detail = vxc_xasprintf("spec refused: %s", spec_error);
	} else if (err || (outcome && strcmp(outcome, "ok"))) {
		h->state = "failing";
		h->detail = vxc_xasprintf("failing: %s", err ? err : "the last pass failed");
	} else if (h->applied < c->spec_rev) {
		h->state = "lagging";
		h->detail = vxc_xasprintf("lagging: revision %lld applied, the spec is %lld",
					  (long long)h->applied, (long long)c->spec_rev);
	} else {
		h->state = "converged";
		h->detail = vxc_xstrdup("converged");
	}
	free(err);
}

static int read_alive(struct cloud *c, struct vxc_etcd *e)
{
	struct vxc_etcd_kv *kv = NULL;
	size_t n = 0;
	int r = vxc_etcd_list(e, "alive/", &kv, &n, NULL);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct cloud_host *h = host_get(c, kv[i].key + strlen("alive/"));
		json_t *j = json_loadb(kv[i].value, kv[i].value_len, 0, NULL);

		h->alive = 1;
		h->pid = (long)int_of(j, "pid");
		json_decref(j);
	}
	vxc_etcd_kv_free(kv, n);
	return r;
}

static int read_status(struct cloud *c, struct vxc_etcd *e)
{
	struct vxc_etcd_kv *kv = NULL;
	size_t n = 0;
	int r = vxc_etcd_list(e, "status/", &kv, &n, NULL);

	for (size_t i = 0; r == 0 && i < n; i++) {
		json_error_t jerr;
		json_t *j = json_loadb(kv[i].value, kv[i].value_len, 0, &jerr);

		if (!j || !json_is_object(j)) {
			fprintf(stderr, "vxcloud: status --cloud: %s: not a status document (%s); "
					"skipped\n", kv[i].key, j ? "not an object" : jerr.text);
			json_decref(j);
			continue;
		}
		host_get(c, kv[i].key + strlen("status/"))->doc = j;
	}
	vxc_etcd_kv_free(kv, n);
	return r;
}

/* The spec's revision, and its hosts: one that never reported shows too. */
static int read_spec(struct cloud *c, struct vxc_etcd *e)
{
	struct vxc_etcd_kv kv = { 0 };
	struct vxc_spec *spec = NULL;
	struct vxc_diag d;
	int r = vxc_etcd_get(e, "spec", &kv, NULL);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	c->spec_rev = kv.mod_revision;
	vxc_diag_init(&d);
	if (vxc_spec_load_buffer(kv.value, "the stored spec", &spec, &d) == 0)
		for (size_t i = 0; i < spec->n_hosts; i++)
			host_get(c, spec->hosts[i].name)->in_spec = 1;
	vxc_spec_free(spec);
	vxc_diag_free(&d);
	vxc_etcd_kv_clear(&kv);
	return 0;
}

static void print_text(const struct cloud *c, FILE *out)
{
	if (c->spec_rev)
		fprintf(out, "spec: revision %lld\n", (long long)c->spec_rev);
	else
		fprintf(out, "spec: none stored yet (vxcloud push FILE)\n");
	fprintf(out, "%-16s %-16s %8s  %-12s %s\n", "HOST", "AGENT", "APPLIED", "LAST PASS",
		"STATE");
	for (size_t i = 0; i < c->n; i++) {
		const struct cloud_host *h = &c->v[i];
		const json_t *lp = json_object_get(h->doc, "last_pass");
		char agent[32], last[32] = "-";

		if (h->alive)
			snprintf(agent, sizeof(agent), "alive pid %ld", h->pid);
		else
			snprintf(agent, sizeof(agent), "gone");
		if (lp && int_of(lp, "at_ms"))
			snprintf(last, sizeof(last), "%.1f s ago",
				 (double)(c->now_ms - int_of(lp, "at_ms")) / 1000.0);
		fprintf(out, "%-16s %-16s %8lld  %-12s %s%s\n", h->name, agent,
			(long long)h->applied, last, h->detail,
			h->in_spec || !c->spec_rev ? "" : " (not in the spec)");
	}
}

/* One object per line, per host. */
static void print_json(const struct cloud *c, FILE *out)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct cloud_host *h = &c->v[i];
		json_t *o = json_pack("{s:s,s:b,s:I,s:s,s:s,s:I,s:I,s:b,s:O?}", "host", h->name,
				      "alive", h->alive, "pid", (json_int_t)h->pid, "state",
				      h->state, "detail", h->detail, "spec_revision",
				      (json_int_t)c->spec_rev, "spec_revision_applied",
				      (json_int_t)h->applied, "in_spec", h->in_spec, "status",
				      h->doc);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s)
			fprintf(out, "%s\n", s);
		free(s);
		json_decref(o);
	}
}

static void cloud_free(struct cloud *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].detail);
		json_decref(c->v[i].doc);
	}
	free(c->v);
}

int vxc_cloud_status(const struct vxc_etcd_conf *conf, int json, FILE *out)
{
	struct cloud c = { .now_ms = wall_ms() };
	struct vxc_etcd *e = NULL;
	int r, all_good = 1;

	r = vxc_etcd_open(&e, conf);
	if (r == 0 && (r = read_spec(&c, e)) == 0 && (r = read_alive(&c, e)) == 0)
		r = read_status(&c, e);
	if (r < 0) {
		fprintf(stderr, "vxcloud: status --cloud: %s\n",
			e && *vxc_etcd_error(e) ? vxc_etcd_error(e) : strerror(-r));
		vxc_etcd_free(e);
		cloud_free(&c);
		return 1;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), by_name);
	for (size_t i = 0; i < c.n; i++) {
		judge(&c, &c.v[i]);
		all_good &= c.v[i].alive && !strcmp(c.v[i].state, "converged");
	}
	if (json)
		print_json(&c, out);
	else
		print_text(&c, out);
	vxc_etcd_free(e);
	cloud_free(&c);
	return all_good && c.spec_rev ? 0 : VXC_AGENT_EXIT_DIFFERS;
}
