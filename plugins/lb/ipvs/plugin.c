/* The descriptor: the one symbol this .so exports. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "driver.h"

static const struct vxc_option options[] = {
	{ "checker", VXC_OPT_STRING, PKGLIBEXECDIR "/vxcloud-ipvs-check", 0, 0,
	  "the member health checker program (a path)" },
	{ "keepalived", VXC_OPT_STRING, "keepalived", 0, 0,
	  "keepalived program for balancers on several hosts (path, or name in PATH)" },
	{ "ha_notify", VXC_OPT_STRING, PKGLIBEXECDIR "/vxcloud-ha-notify", 0, 0,
	  "program keepalived runs on a VRRP state change (absolute path)" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* The last service slot this driver calls; an older core lacks it. */
#define NEEDED_SERVICES (offsetof(struct vxc_services, proc_stop_exact) + sizeof(void *))

static int drv_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct ipvs_drv *d;
	const char *checker, *keepalived, *notify;
	int r;

	if (!svc || svc->size < NEEDED_SERVICES)
		return -ENOTSUP;
	if ((r = svc->opt_string(ctx, "checker", &checker)) < 0 ||
	    (r = svc->opt_string(ctx, "keepalived", &keepalived)) < 0 ||
	    (r = svc->opt_string(ctx, "ha_notify", &notify)) < 0)
		return svc->error(ctx, r, "lb/ipvs: options missing");
	if (checker[0] != '/')
		return svc->error(ctx, -EINVAL, "lb/ipvs: checker %s: not an absolute path",
				  checker);
	d = calloc(1, sizeof(*d));
	if (!d)
		return svc->error(ctx, -ENOMEM, "lb/ipvs: out of memory");
	d->ctx = ctx;
	d->svc = svc;
	d->checker = checker;
	d->ha = (struct lb_ha_cfg){ keepalived, notify, 1 };
	*priv = d;
	return 0;
}

static void drv_close(void *priv)
{
	free(priv);
}

static const struct vxc_lb_ops ops = {
	.size = sizeof(struct vxc_lb_ops),
	.lb_ensure = ipvs_lb_ensure,
	.list = ipvs_lb_list,
	.remove = ipvs_lb_remove,
	.lb_status = ipvs_lb_status,
};

/* No VXC_CAP_L7 (layer 4 only): the core refuses http listeners and HTTP
 * health checks for this driver; VXC_CAP_HEALTHCHECK: TCP checks by the
 * driver's own checker process (health.c). */
VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_LB,
	.name = "ipvs",
	.description = "layer-4 load balancers in the kernel (IPVS over generic netlink, full "
		       "NAT) in a namespace on the tenant network",
	.caps = VXC_CAP_UDP | VXC_CAP_UNWEIGHTED | VXC_CAP_HEALTHCHECK,
	.options = options,
	.open = drv_open,
	.close = drv_close,
	.ops = &ops,
};
