/* Plugging an interface made by another driver (an instance's or a load
 * balancer's host end) into a tenant network: enslaved to its bridge, the
 * network's MTU, up. The interface stays the other driver's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "lbr.h"

int lbr_port_attach(void *priv, const struct vxc_network *net, const char *ifname, unsigned mtu,
		    unsigned flags)
{
	struct lbr *p = priv;
	char who[LBR_WHO_MAX];

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "port_attach: unknown flags %#x", flags);
	if (!net || !ifname || !ifname[0])
		return lbr_error(p, -EINVAL, "port_attach: missing network or interface");
	snprintf(who, sizeof(who), "network %s: port %s", net->name, ifname);
	return lbr_attach(p, who, ifname, net->bridge_if, mtu ? mtu : lbr_net_mtu(net), flags);
}
