/* The planner: from a validated spec and a host name, the objects this host
 * must hold for each concern, in dependency order. Pure computation. */
#ifndef VXC_PLAN_H
#define VXC_PLAN_H

#include "spec.h"

struct vxc_plan_network {
	const struct vxc_network *net;
	struct vxc_fdb_entry *fdb; /* flood entry per other host having the net,
				      then one per remote port; sorted, unique */
	size_t n_fdb;
};

struct vxc_plan {
	const struct vxc_spec *spec;
	const struct vxc_host *self;
	const struct vxc_provider *provider; /* every host, when the spec has one */
	struct vxc_plan_network *networks;    /* tenant networks present here */
	size_t n_networks;
	const struct vxc_router **routers;
	size_t n_routers;
	const struct vxc_instance **instances;
	size_t n_instances;
	const struct vxc_lb **lbs;
	size_t n_lbs;
};

/* -ENOENT (with a message in diag) when host is not in the spec. */
int vxc_plan_build(const struct vxc_spec *spec, const char *host, struct vxc_plan **out,
		   struct vxc_diag *diag);
void vxc_plan_free(struct vxc_plan *plan);

#endif
