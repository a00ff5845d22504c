/* The planner: what one host holds of a validated spec.
 *
 * A host holds a tenant network when one of its ports (instance, router
 * port, load balancer VIP) is on it. For each such network the VXLAN device
 * needs a flood entry (all-zero MAC) toward every other host holding the
 * network, and a unicast entry for every port of the network on another
 * host (but an HA router's or balancer's, see port_fdb): no multicast, no
 * learning. A router or load balancer with copies on several hosts is held
 * by each of them. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "util.h"

static int fdb_cmp(const void *pa, const void *pb)
{
	const struct vxc_fdb_entry *a = pa, *b = pb;
	int c = memcmp(&a->mac, &b->mac, sizeof(a->mac));

	if (c)
		return c;
	c = memcmp(&a->remote, &b->remote, sizeof(a->remote));
	return c ? c : memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/* The balancer whose VIP port this is (a port knows its owner by name). */
static const struct vxc_lb *port_lb(const struct vxc_spec *s, const struct vxc_port *port)
{
	for (size_t i = 0; i < s->n_lbs; i++)
		if (s->lbs[i].port == port)
			return &s->lbs[i];
	return NULL;
}

/* The copies of an HA router's port or HA balancer's VIP port: one per
 * host of the object, all with the same MAC and address (only the active
 * copy holds the address). */
static const struct vxc_ha *port_ha(const struct vxc_spec *s, const struct vxc_port *port)
{
	const struct vxc_router *r = port->network->router;
	const struct vxc_lb *lb;

	if (port->owner_kind == VXC_PORT_ROUTER)
		return r && r->ha ? r->ha : NULL;
	if (port->owner_kind == VXC_PORT_LB && (lb = port_lb(s, port)))
		return lb->ha;
	return NULL;
}

static bool ha_has(const struct vxc_ha *ha, const struct vxc_host *h)
{
	for (size_t i = 0; i < ha->n_hosts; i++)
		if (ha->hosts[i] == h)
			return true;
	return false;
}

/* holds[h * n_networks + n]: host h has a port on network n. */
static bool *holdings(const struct vxc_spec *s)
{
	bool *holds = vxc_xcalloc(s->n_hosts * s->n_networks + 1, sizeof(*holds));

	for (size_t i = 0; i < s->n_ports; i++) {
		const struct vxc_ha *ha = port_ha(s, &s->ports[i]);
		size_t n = (size_t)(s->ports[i].network - s->networks);
		size_t copies = ha ? ha->n_hosts : 1;

		for (size_t c = 0; c < copies; c++) {
			const struct vxc_host *host = ha ? ha->hosts[c] : s->ports[i].host;

			holds[(size_t)(host - s->hosts) * s->n_networks + n] = true;
		}
	}
	return holds;
}

/* A port's unicast entry on another host. An HA object's port MAC gets
 * no forwarding entry: Linux keeps one remote per unicast MAC (NLM_F_APPEND
 * adds remotes only to the all-zero and multicast entries), so frames for
 * it go out as unknown unicast through the flood entries, to every host
 * holding the network and so to every copy; the inactive copies drop them.
 * On hosts without a copy it gets an entry with remote 0.0.0.0: a
 * neighbour only (for ARP suppression), no fdb entry. */
static size_t port_fdb(const struct vxc_plan *p, const struct vxc_port *port,
		       struct vxc_fdb_entry *e)
{
	const struct vxc_ha *ha = port_ha(p->spec, port);

	if (ha ? ha_has(ha, p->self) : port->host == p->self)
		return 0;
	e[0] = (struct vxc_fdb_entry){ port->mac, { ha ? 0 : port->host->tunnel.s_addr },
				       port->addr };
	return 1;
}

/* Flood entries sort first (zero MAC), then unicast ones by MAC. */
static void build_fdb(const struct vxc_plan *p, const bool *holds, struct vxc_plan_network *pn)
{
	const struct vxc_spec *s = p->spec;
	size_t n = 0, k = 0, ni = (size_t)(pn->net - s->networks);
	struct vxc_fdb_entry *e = vxc_xcalloc(s->n_hosts + s->n_ports, sizeof(*e));

	for (size_t i = 0; i < s->n_hosts; i++)
		if (&s->hosts[i] != p->self && holds[i * s->n_networks + ni])
			e[n++] = (struct vxc_fdb_entry){ .remote = s->hosts[i].tunnel };
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].network == pn->net)
			n += port_fdb(p, &s->ports[i], &e[n]);
	qsort(e, n, sizeof(*e), fdb_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || fdb_cmp(&e[k - 1], &e[i]))
			e[k++] = e[i];
	pn->fdb = e;
	pn->n_fdb = k;
}

static void plan_networks(struct vxc_plan *p)
{
	const struct vxc_spec *s = p->spec;
	bool *holds = holdings(s);
	size_t self = (size_t)(p->self - s->hosts);

	p->networks = vxc_xcalloc(s->n_networks, sizeof(*p->networks));
	for (size_t i = 0; i < s->n_networks; i++) {
		struct vxc_plan_network *pn;

		if (!holds[self * s->n_networks + i])
			continue;
		pn = &p->networks[p->n_networks++];
		pn->net = &s->networks[i];
		build_fdb(p, holds, pn);
	}
	free(holds);
}

int vxc_plan_build(const struct vxc_spec *spec, const char *host, struct vxc_plan **out,
		   struct vxc_diag *diag)
{
	const struct vxc_host *self = vxc_spec_host(spec, host);
	struct vxc_plan *p;

	*out = NULL;
	if (!self) {
		vxc_diag_add(diag, spec->path, 0, NULL, "host \"%s\" is not in the spec's hosts; "
			     "add it there or pick another name with --host", host ? host : "");
		return -ENOENT;
	}
	p = vxc_xcalloc(1, sizeof(*p));
	p->spec = spec;
	p->self = self;
	p->provider = spec->provider;
	plan_networks(p);
	p->routers = vxc_xcalloc(spec->n_routers, sizeof(*p->routers));
	for (size_t i = 0; i < spec->n_routers; i++)
		if (spec->routers[i].ha ? ha_has(spec->routers[i].ha, self)
					: spec->routers[i].host == self)
			p->routers[p->n_routers++] = &spec->routers[i];
	p->instances = vxc_xcalloc(spec->n_instances, sizeof(*p->instances));
	for (size_t i = 0; i < spec->n_instances; i++)
		if (spec->instances[i].host == self)
			p->instances[p->n_instances++] = &spec->instances[i];
	p->lbs = vxc_xcalloc(spec->n_lbs, sizeof(*p->lbs));
	for (size_t i = 0; i < spec->n_lbs; i++)
		if (spec->lbs[i].ha ? ha_has(spec->lbs[i].ha, self) : spec->lbs[i].host == self)
			p->lbs[p->n_lbs++] = &spec->lbs[i];
	*out = p;
	return 0;
}

void vxc_plan_free(struct vxc_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_networks; i++)
		free(plan->networks[i].fdb);
	free(plan->networks);
	free(plan->routers);
	free(plan->instances);
	free(plan->lbs);
	free(plan);
}
