/* NAT driver vtable: a router's SNAT and floating IPs inside its namespace. */
#ifndef VXCLOUD_NAT_H
#define VXCLOUD_NAT_H

#include <vxcloud/plugin.h>

struct vxc_nat_ops {
	uint32_t size;

	/* Exactly this router's NAT state: SNAT of each attached network out of
	 * gw_if to external (when snat is on), and for each floating IP DNAT in
	 * prerouting and output and SNAT in postrouting. Committed in one
	 * transaction; unbound mappings get their conntrack entries flushed. */
	int (*router_ensure)(void *priv, const struct vxc_router *r, unsigned flags);

	int (*list)(void *priv, vxc_owned_cb cb, void *arg);
	int (*remove)(void *priv, const struct vxc_owned *obj, unsigned flags);
};

#endif
