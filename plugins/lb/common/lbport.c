/* The balancer's namespace and VIP port, the same for every lb driver. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "keepalived.h"
#include "lbha.h"
#include "lbport.h"

int lb_netns_ensure(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		    unsigned flags, int *fd)
{
	int r;

	*fd = svc->netns_open(ctx, lb->netns);
	if (*fd >= 0)
		return 0;
	if (*fd != -ENOENT)
		return *fd;
	*fd = -1;
	svc->change(ctx, "load balancer %s: create netns %s", lb->name, lb->netns);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = svc->netns_create(ctx, lb->netns);
	if (r < 0)
		return r;
	*fd = svc->netns_open(ctx, lb->netns);
	if (*fd < 0)
		return svc->error(ctx, *fd, "load balancer %s: netns %s: cannot open it after "
				  "creating it", lb->name, lb->netns);
	return 0;
}

int lb_vip_ensure(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb, int fd,
		  unsigned flags)
{
	const struct vxc_port *port = lb->port;
	char alias[128];
	struct vxc_veth v = {
		.host_if = port->host_if,
		.alias = alias,
		.netns_fd = fd,
		.peer_if = LB_VIP_IF,
		.mac = port->mac,
		.addr = port->addr,
		.prefixlen = port->network->cidr.len,
		.gateway = port->network->gateway,
		.mtu = port->network->mtu,
	};

	const struct vxc_ha *ha = lb_ha(svc, lb);

	snprintf(alias, sizeof(alias), "%slb:%s", VXC_OWNER_MARK, lb->name);
	if (ha) {
		/* an HA copy: its VRRP source address only; keepalived adds the
		 * VIP and the route on the active copy. Until keepalived runs,
		 * whatever else the port holds goes (a single copy's VIP). */
		v.addr = vxc_ka_src_addr(ha, vxc_ka_rank(ha, svc->host_name(ctx)));
		v.prefixlen = 32;
		v.gateway.s_addr = 0;
		if (vxc_ka_running(svc, ctx, LB_HA_TAG, lb->name))
			flags |= VXC_F_VETH_HA;
	}
	return svc->veth_ensure(ctx, &v, flags);
}
