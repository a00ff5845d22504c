/* The balancer's namespace and VIP port, the same for every lb driver. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

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

	snprintf(alias, sizeof(alias), "%slb:%s", VXC_OWNER_MARK, lb->name);
	return svc->veth_ensure(ctx, &v, flags);
}
