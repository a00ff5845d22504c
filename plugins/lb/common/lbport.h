/* What every load balancer driver makes first: the balancer's namespace
 * (lb->netns) and its VIP port, a veth whose peer LB_VIP_IF holds the VIP
 * at the network's MTU with a default route via the tenant gateway.
 * Compiled into each lb plugin (hidden); reaches the core only through the
 * services table. */
#ifndef VXC_LB_LBPORT_H
#define VXC_LB_LBPORT_H

#include <vxcloud/lb.h>

#define LB_VIP_IF "eth0"

/* The namespace exists: its fd in *fd, or -1 under dry run when it is
 * still to be made (reported as a change). */
int lb_netns_ensure(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		    unsigned flags, int *fd);

/* The VIP port, marked "vxcloud:lb:NAME", through veth_ensure. On an HA
 * copy (lbha.h) it holds the copy's VRRP source address; the VIP and the
 * default route are keepalived's. */
int lb_vip_ensure(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb, int fd,
		  unsigned flags);

#endif
