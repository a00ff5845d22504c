/* Router internals shared between router.c and fip.c. */
#ifndef LBR_ROUTER_H
#define LBR_ROUTER_H

#include "lbr.h"

/* The router's floating IPs as /32 addresses on its gateway port (ifindex
 * in the namespace nsk is bound to; 0: the port is only planned). */
int lbr_fips_sync(struct lbr *p, const struct vxc_router *r, struct nl_sock *nsk, int ifindex,
		  unsigned flags);

#endif
