/* Which wanted object a kernel name belongs to: a namespace vxcloud made,
 * or a link in the host's namespace. Names come from the plan, never from
 * prefixes: a foreign object with a look-alike name concerns nothing. */
#include "config.h"

#include <string.h>

#include "agent.h"

int agent_ns_owner(const struct agent *a, const char *ns, enum vxc_kind *kind,
		   const char **name)
{
	const struct vxc_plan *p = a->plan;

	for (size_t i = 0; p && i < p->n_routers; i++)
		if (!strcmp(p->routers[i]->netns, ns)) {
			*kind = VXC_KIND_ROUTER;
			*name = p->routers[i]->name;
			return 1;
		}
	for (size_t i = 0; p && i < p->n_instances; i++)
		if (!strcmp(p->instances[i]->netns, ns)) {
			*kind = VXC_KIND_INSTANCE;
			*name = p->instances[i]->name;
			return 1;
		}
	for (size_t i = 0; p && i < p->n_lbs; i++)
		if (!strcmp(p->lbs[i]->netns, ns)) {
			*kind = VXC_KIND_LB;
			*name = p->lbs[i]->name;
			return 1;
		}
	return 0;
}

static int router_link(const struct vxc_router *r, const char *ifname)
{
	if (!strcmp(r->gw_host_if, ifname))
		return 1;
	for (size_t j = 0; j < r->n_ports; j++)
		if (!strcmp(r->ports[j]->host_if, ifname))
			return 1;
	return 0;
}

int agent_link_owner(const struct agent *a, const char *ifname, enum vxc_kind *kind,
		     const char **name)
{
	const struct vxc_plan *p = a->plan;

	*kind = VXC_KIND_PROVIDER;
	*name = "provider";
	if (!p)
		return 0;
	if (p->provider && (!strcmp(p->provider->bridge, ifname) ||
			    (p->provider->uplink && !strcmp(p->provider->uplink, ifname))))
		return 1;
	*kind = VXC_KIND_NETWORK;
	for (size_t i = 0; i < p->n_networks; i++)
		if (!strcmp(p->networks[i].net->bridge_if, ifname) ||
		    !strcmp(p->networks[i].net->vxlan_if, ifname))
			return (*name = p->networks[i].net->name), 1;
	*kind = VXC_KIND_ROUTER;
	for (size_t i = 0; i < p->n_routers; i++)
		if (router_link(p->routers[i], ifname))
			return (*name = p->routers[i]->name), 1;
	*kind = VXC_KIND_INSTANCE;
	for (size_t i = 0; i < p->n_instances; i++)
		if (!strcmp(p->instances[i]->port->host_if, ifname))
			return (*name = p->instances[i]->name), 1;
	*kind = VXC_KIND_LB;
	for (size_t i = 0; i < p->n_lbs; i++)
		if (!strcmp(p->lbs[i]->port->host_if, ifname))
			return (*name = p->lbs[i]->name), 1;
	return 0;
}
