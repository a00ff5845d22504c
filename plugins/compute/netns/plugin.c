/* The descriptor: the one symbol this .so exports. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "driver.h"

static const struct vxc_option options[] = {
	{ "stop_timeout_ms", VXC_OPT_INT, "3000", 0, 60000,
	  "how long to wait after SIGTERM before SIGKILL when stopping a command" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* The last service slot this driver calls; an older core lacks it. */
#define NEEDED_SERVICES (offsetof(struct vxc_services, proc_stop_exact) + sizeof(void *))

static int drv_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct netns_drv *d;
	long long t;
	int r;

	if (!svc || svc->size < NEEDED_SERVICES)
		return -ENOTSUP;
	r = svc->opt_int(ctx, "stop_timeout_ms", &t);
	if (r < 0)
		return svc->error(ctx, r, "compute/netns: option stop_timeout_ms missing");
	d = calloc(1, sizeof(*d));
	if (!d)
		return svc->error(ctx, -ENOMEM, "compute/netns: out of memory");
	d->ctx = ctx;
	d->svc = svc;
	d->stop_timeout_ms = (unsigned)t;
	*priv = d;
	return 0;
}

static void drv_close(void *priv)
{
	struct netns_drv *d = priv;

	reap_wait(d);
	free(d->reap);
	proc_recs_free(d);
	free(d);
}

static const struct vxc_compute_ops ops = {
	.size = sizeof(struct vxc_compute_ops),
	.instance_ensure = instance_ensure,
	.list = instance_list,
	.remove = instance_remove,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_COMPUTE,
	.name = "netns",
	.description = "containers as plain network namespaces running a command on the "
		       "host's filesystem",
	.caps = VXC_CAP_CONTAINER,
	.options = options,
	.open = drv_open,
	.close = drv_close,
	.ops = &ops,
};
