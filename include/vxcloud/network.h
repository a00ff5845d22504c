/* Network driver vtable: provider network, tenant networks (bridge, VXLAN
 * device and its forwarding entries), routers, and attaching ports. */
#ifndef VXCLOUD_NETWORK_H
#define VXCLOUD_NETWORK_H

#include <vxcloud/plugin.h>

struct vxc_network_ops {
	uint32_t size;

	int (*provider_ensure)(void *priv, const struct vxc_provider *p, unsigned flags);

	/* The tenant network on this host: bridge, VXLAN device with local =
	 * self->tunnel, and exactly the forwarding entries given (entries not
	 * listed are removed), with the network's MTU. */
	int (*network_ensure)(void *priv, const struct vxc_network *net,
			      const struct vxc_host *self,
			      const struct vxc_fdb_entry *fdb, size_t n_fdb,
			      unsigned flags);

	/* The router namespace, its ports (one per attached network, holding the
	 * gateway), its gateway port on the provider bridge holding the external
	 * address and answering for every floating IP, default route, forwarding on. */
	int (*router_ensure)(void *priv, const struct vxc_router *r, unsigned flags);

	/* Plug an interface made by another driver (compute, lb) into net. */
	int (*port_attach)(void *priv, const struct vxc_network *net,
			   const char *ifname, unsigned mtu, unsigned flags);

	/* Report every object this driver owns on the host. */
	int (*list)(void *priv, vxc_owned_cb cb, void *arg);
	int (*remove)(void *priv, const struct vxc_owned *obj, unsigned flags);
};

#endif
