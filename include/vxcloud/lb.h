/* Load balancer driver vtable. */
#ifndef VXCLOUD_LB_H
#define VXCLOUD_LB_H

#include <vxcloud/plugin.h>

struct vxc_lb_ops {
	uint32_t size;

	/* The load balancer running with exactly this configuration. Its VIP
	 * port's host end (lb->port->host_if) is attached by the network driver
	 * after this returns. */
	int (*lb_ensure)(void *priv, const struct vxc_lb *lb, unsigned flags);

	int (*list)(void *priv, vxc_owned_cb cb, void *arg);
	int (*remove)(void *priv, const struct vxc_owned *obj, unsigned flags);

	/* ABI 1.3: what runs for lb as the balancer itself reports it (its
	 * process, each listener, each member's health), one line per fact
	 * through cb; shown by `vxcloud status`. Changes nothing. */
	int (*lb_status)(void *priv, const struct vxc_lb *lb,
			 void (*cb)(void *arg, const char *line), void *arg);
};

#endif
