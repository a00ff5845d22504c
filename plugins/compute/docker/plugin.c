/* The descriptor: the one symbol this .so exports, and the settings. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static const struct vxc_option options[] = {
	{ "socket", VXC_OPT_STRING, "/run/docker.sock", 0, 0,
	  "unix socket of the Docker Engine API (dockerd, or podman system service)" },
	{ "pull", VXC_OPT_STRING, "if-missing", 0, 0,
	  "when to pull an image: never, if-missing or always" },
	{ "restart", VXC_OPT_STRING, "unless-stopped", 0, 0,
	  "restart policy of the containers: no, on-failure, always or unless-stopped" },
	{ "name_prefix", VXC_OPT_STRING, "", 0, 0,
	  "prefix of container names (the instance name follows it)" },
	{ "stop_timeout_ms", VXC_OPT_INT, "10000", 0, 600000,
	  "how long a stop waits for the container before the engine kills it" },
	{ "api_timeout_ms", VXC_OPT_INT, "30000", 100, 600000,
	  "longest wait for one engine API call (pulls excepted)" },
	{ "pull_timeout_ms", VXC_OPT_INT, "600000", 1000, 86400000, "longest wait for a pull" },
	{ "ulimit_nofile", VXC_OPT_INT, "0", 0, 1048576,
	  "nofile limit of the containers; 0 = the engine's (podman needs one set here)" },
	{ "ulimit_nproc", VXC_OPT_INT, "0", 0, 4194304,
	  "nproc limit of the containers; 0 = the engine's (podman needs one set here)" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* The last service slot this driver calls; an older core lacks it. */
#define NEEDED_SERVICES (offsetof(struct vxc_services, link_delete) + sizeof(void *))

static int one_of(const char *v, const char *const *allowed)
{
	for (int i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i]))
			return i;
	return -1;
}

static int get_strings(struct docker_drv *d)
{
	static const char *const pulls[] = { "never", "if-missing", "always", NULL };
	static const char *const restarts[] = { "no", "on-failure", "always", "unless-stopped",
						NULL };
	const char *pull;
	int r, p;

	if ((r = d->svc->opt_string(d->ctx, "socket", &d->socket)) < 0 ||
	    (r = d->svc->opt_string(d->ctx, "pull", &pull)) < 0 ||
	    (r = d->svc->opt_string(d->ctx, "restart", &d->restart)) < 0 ||
	    (r = d->svc->opt_string(d->ctx, "name_prefix", &d->name_prefix)) < 0)
		return d->svc->error(d->ctx, r, "compute/docker: a setting is missing");
	if ((p = one_of(pull, pulls)) < 0)
		return d->svc->error(d->ctx, -EINVAL, "compute/docker: pull = \"%s\": must be "
				     "\"never\", \"if-missing\" or \"always\"", pull);
	d->pull = (enum pull_policy)p;
	if (one_of(d->restart, restarts) < 0)
		return d->svc->error(d->ctx, -EINVAL, "compute/docker: restart = \"%s\": must be "
				     "\"no\", \"on-failure\", \"always\" or \"unless-stopped\"",
				     d->restart);
	if (!*d->socket)
		return d->svc->error(d->ctx, -EINVAL, "compute/docker: socket is empty");
	if (strspn(d->name_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_.-") != strlen(d->name_prefix))
		return d->svc->error(d->ctx, -EINVAL, "compute/docker: name_prefix = \"%s\": "
				     "letters, digits, '_', '.' and '-' only", d->name_prefix);
	return 0;
}

static int get_ints(struct docker_drv *d)
{
	long long stop, api, pull;
	int r;

	if ((r = d->svc->opt_int(d->ctx, "stop_timeout_ms", &stop)) < 0 ||
	    (r = d->svc->opt_int(d->ctx, "api_timeout_ms", &api)) < 0 ||
	    (r = d->svc->opt_int(d->ctx, "pull_timeout_ms", &pull)) < 0 ||
	    (r = d->svc->opt_int(d->ctx, "ulimit_nofile", &d->nofile)) < 0 ||
	    (r = d->svc->opt_int(d->ctx, "ulimit_nproc", &d->nproc)) < 0)
		return d->svc->error(d->ctx, r, "compute/docker: a setting is missing");
	d->stop_timeout_ms = (unsigned)stop;
	d->api_timeout_ms = (unsigned)api;
	d->pull_timeout_ms = (unsigned)pull;
	return 0;
}

static void drv_close(void *priv)
{
	struct docker_drv *d = priv;

	if (!d)
		return;
	if (d->engine_calls)
		d->svc->log(d->ctx, VXC_LOG_DEBUG, "compute/docker: %u engine API calls, %.1f ms "
			    "waiting for the engine", d->engine_calls, d->engine_ns / 1e6);
	if (d->curl)
		curl_easy_cleanup(d->curl);
	events_free(d);
	free(d);
}

/* The engine is not contacted here: `validate` and `plugins` work without
 * it, and the first call that needs it names the instance it was for. */
static int drv_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct docker_drv *d;
	int r;

	if (!svc || svc->size < NEEDED_SERVICES)
		return -ENOTSUP;
	d = calloc(1, sizeof(*d));
	if (!d)
		return svc->error(ctx, -ENOMEM, "compute/docker: out of memory");
	d->ctx = ctx;
	d->svc = svc;
	if ((r = get_strings(d)) < 0 || (r = get_ints(d)) < 0) {
		drv_close(d);
		return r;
	}
	*priv = d;
	return 0;
}

static const struct vxc_compute_ops ops = {
	.size = sizeof(struct vxc_compute_ops),
	.instance_ensure = instance_ensure,
	.list = instance_list,
	.remove = instance_remove,
	.events_open = events_open,
	.events_read = events_read,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_COMPUTE,
	.name = "docker",
	.description = "containers through the Docker Engine API (dockerd or podman), "
		       "plugged by a veth into their network namespace",
	.caps = VXC_CAP_CONTAINER,
	.options = options,
	.open = drv_open,
	.close = drv_close,
	.ops = &ops,
};
