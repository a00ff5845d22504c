/* Compute driver vtable: containers and VMs plugged into tenant networks. */
#ifndef VXCLOUD_COMPUTE_H
#define VXCLOUD_COMPUTE_H

#include <vxcloud/plugin.h>

struct vxc_compute_ops {
	uint32_t size;

	/* The instance exists, runs, and has its NIC: MAC, address, MTU and
	 * default route via the network gateway. The host end of the NIC is
	 * named inst->port->host_if; the network driver attaches it after this
	 * returns. */
	int (*instance_ensure)(void *priv, const struct vxc_instance *inst, unsigned flags);

	int (*list)(void *priv, vxc_owned_cb cb, void *arg);
	int (*remove)(void *priv, const struct vxc_owned *obj, unsigned flags);
};

#endif
