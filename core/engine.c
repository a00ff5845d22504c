#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vxcloud/compute.h>
#include <vxcloud/lb.h>
#include <vxcloud/nat.h>
#include <vxcloud/network.h>

#include "engine.h"
#include "util.h"

/* A slot is usable when the plugin's table is large enough to hold it and
 * the plugin filled it: tables only grow at the end. */
#define SLOT(ops, type, field)                                                       \
	((ops) && (ops)->size >= offsetof(type, field) + sizeof((ops)->field) ? (ops)->field \
									       : NULL)

static const char *const kind_names[] = {
	[VXC_KIND_PROVIDER] = "provider", [VXC_KIND_NETWORK] = "network",
	[VXC_KIND_ROUTER] = "router",     [VXC_KIND_NAT] = "nat",
	[VXC_KIND_INSTANCE] = "instance", [VXC_KIND_LB] = "lb",
};

const char *vxc_kind_name(enum vxc_kind k)
{
	return k >= VXC_KIND_PROVIDER && k <= VXC_KIND_LB ? kind_names[k] : "?";
}

static const struct vxc_network_ops *net_ops(const struct vxc_driver *d)
{
	return d && d->desc->concern == VXC_CONCERN_NETWORK ? d->desc->ops : NULL;
}
static const struct vxc_nat_ops *nat_ops(const struct vxc_driver *d)
{
	return d && d->desc->concern == VXC_CONCERN_NAT ? d->desc->ops : NULL;
}
static const struct vxc_lb_ops *lb_ops(const struct vxc_driver *d)
{
	return d && d->desc->concern == VXC_CONCERN_LB ? d->desc->ops : NULL;
}
static const struct vxc_compute_ops *compute_ops(const struct vxc_driver *d)
{
	return d && d->desc->concern == VXC_CONCERN_COMPUTE ? d->desc->ops : NULL;
}

/* ---- the roles file: which driver served each role last time --------- */

static char *roles_path(const struct vxc_nodeconf *nc)
{
	return vxc_xasprintf("%s/drivers", nc->state_dir);
}

static void read_previous_roles(const struct vxc_nodeconf *nc, char *prev[VXC_ROLE_COUNT])
{
	char *path = roles_path(nc), line[128], role[64], name[64];
	FILE *f = fopen(path, "re");

	free(path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %63s", role, name) != 2)
			continue;
		for (int r = 0; r < VXC_ROLE_COUNT; r++)
			if (!strcmp(role, vxc_role_name(r)) && !prev[r])
				prev[r] = vxc_xstrdup(name);
	}
	fclose(f);
}

int vxc_engine_save_roles(const struct vxc_engine *e)
{
	char *path = roles_path(e->nc), *tmp = vxc_xasprintf("%s.tmp", path);
	FILE *f;
	int r = vxc_mkdir_p(e->nc->state_dir, 0755);

	if (r == 0 && (f = vxc_fcreate_nofollow(tmp))) {
		for (int i = 0; i < VXC_ROLE_COUNT; i++)
			if (e->role[i])
				fprintf(f, "%s %s\n", vxc_role_name(i), e->role[i]->desc->name);
		r = fclose(f) ? -errno : 0;
		if (!r && rename(tmp, path) < 0)
			r = -errno;
	} else if (r == 0) {
		r = -errno;
	}
	free(tmp);
	free(path);
	return r;
}

int vxc_engine_forget_roles(const struct vxc_engine *e)
{
	char *path = roles_path(e->nc);
	int r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;

	free(path);
	return r;
}

/* ---- opening drivers ---------------------------------------------------- */

static void sink_report(void *arg, const char *driver, const char *what)
{
	struct vxc_engine *e = arg;
	vxc_changes_add(e->changes, driver, what);
}

static void sink_note(void *arg, const char *driver, const char *what)
{
	struct vxc_engine *e = arg;

	if (e->notes)
		vxc_changes_add(e->notes, driver, what);
}

static struct vxc_driver *find_open(struct vxc_engine *e, const struct vxc_plugin *desc)
{
	for (size_t i = 0; i < e->n_drivers; i++)
		if (e->drivers[i]->desc == desc)
			return e->drivers[i];
	return NULL;
}

static struct vxc_driver *open_driver(struct vxc_engine *e, enum vxc_role role, const char *name,
				      int previous, struct vxc_diag *diag)
{
	const struct vxc_nodeconf *nc = e->nc;
	const struct vxc_loaded *lp;
	struct vxc_driver *d;
	char *why;
	int r;

	lp = vxc_registry_get(&e->reg, name, vxc_role_concern(role), &why);
	if (!lp) {
		if (previous)
			fprintf(stderr,
				"vxcloud: warning: %s driver %s served this host before and cannot "
				"be loaded to remove its objects: %s\n",
				vxc_role_name(role), name, why);
		else
			vxc_diag_add(diag, nc->path, nc->driver_line[role], vxc_role_name(role),
				     "%s", why);
		free(why);
		return NULL;
	}
	if (!previous && role == VXC_ROLE_VM && !(lp->desc->caps & VXC_CAP_VM)) {
		vxc_diag_add(diag, nc->path, nc->driver_line[role], vxc_role_name(role),
			     "driver %s does not serve virtual machines (no vm capability)", name);
		return NULL;
	}
	if (!previous && role == VXC_ROLE_CONTAINER && !(lp->desc->caps & VXC_CAP_CONTAINER)) {
		vxc_diag_add(diag, nc->path, nc->driver_line[role], vxc_role_name(role),
			     "driver %s does not serve containers (no container capability)", name);
		return NULL;
	}
	d = find_open(e, lp->desc);
	if (d)
		return d;
	if (vxc_nodeconf_check_settings(nc, name, lp->desc->options, diag) < 0)
		return NULL;
	d = vxc_xcalloc(1, sizeof(*d));
	d->desc = lp->desc;
	d->previous = previous;
	vxc_ctx_init(&d->ctx, lp->desc, nc->host, nc->netns_dir, nc->state_dir);
	d->ctx.settings = vxc_nodeconf_settings(nc, name);
	d->ctx.log_level = nc->log_level;
	d->ctx.sink.report = sink_report;
	d->ctx.sink.note = sink_note;
	d->ctx.sink.arg = e;
	r = lp->desc->open(&d->ctx, vxc_services(), &d->priv);
	if (r < 0) {
		vxc_diag_add(diag, nc->path, nc->driver_line[role], vxc_role_name(role),
			     "driver %s failed to start: %s", name,
			     d->ctx.errmsg ? d->ctx.errmsg : strerror(-r));
		vxc_ctx_fini(&d->ctx);
		free(d);
		return NULL;
	}
	e->drivers[e->n_drivers++] = d;
	return d;
}

/* Settings blocks must belong to an installed driver: catches typos. */
static void check_settings_blocks(struct vxc_engine *e, struct vxc_diag *diag)
{
	const config_setting_t *s = e->nc->settings;

	for (int i = 0; s && i < config_setting_length(s); i++) {
		const config_setting_t *b = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(b);
		const struct vxc_plugin *desc = NULL;

		for (size_t j = 0; j < e->reg.n; j++)
			if (e->reg.v[j].desc && !strcmp(e->reg.v[j].desc->name, name))
				desc = e->reg.v[j].desc;
		if (!desc)
			vxc_diag_add(diag, e->nc->path, config_setting_source_line(b), "settings",
				     "no installed driver is called '%s' (`vxcloud plugins` lists "
				     "them)",
				     name);
		else if (!find_open(e, desc))
			vxc_nodeconf_check_settings(e->nc, name, desc->options, diag);
	}
}

int vxc_engine_open(struct vxc_engine *e, const struct vxc_nodeconf *nc,
		    struct vxc_changes *changes, struct vxc_diag *diag)
{
	char *prev[VXC_ROLE_COUNT] = { 0 };
	size_t before = diag->n;

	memset(e, 0, sizeof(*e));
	e->nc = nc;
	e->changes = changes;
	vxc_registry_scan(&e->reg, nc->plugin_dir);
	for (int r = 0; r < VXC_ROLE_COUNT; r++)
		if (nc->driver[r])
			e->role[r] = open_driver(e, r, nc->driver[r], 0, diag);
	check_settings_blocks(e, diag);
	if (diag->n > before)
		return -EINVAL;
	/* A replaced driver that cannot start is only warned about: its objects
	 * stay, and the operator is told, but the new configuration proceeds. */
	read_previous_roles(nc, prev);
	for (int r = 0; r < VXC_ROLE_COUNT; r++) {
		struct vxc_diag pd;

		vxc_diag_init(&pd);
		if (prev[r] && (!nc->driver[r] || strcmp(prev[r], nc->driver[r])) &&
		    !open_driver(e, r, prev[r], 1, &pd))
			for (size_t i = 0; i < pd.n; i++)
				fprintf(stderr,
					"vxcloud: warning: the previous %s driver %s cannot remove "
					"its objects: %s\n",
					vxc_role_name(r), prev[r], pd.msgs[i]);
		vxc_diag_free(&pd);
		free(prev[r]);
	}
	return 0;
}

void vxc_engine_close(struct vxc_engine *e)
{
	for (size_t i = 0; i < e->n_drivers; i++) {
		struct vxc_driver *d = e->drivers[i];
		if (d->desc->close)
			d->desc->close(d->priv);
		vxc_ctx_fini(&d->ctx);
		free(d);
	}
	vxc_registry_free(&e->reg);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

/* ---- what the plan needs ------------------------------------------------ */

static int router_needs_nat(const struct vxc_router *r)
{
	return r->snat || r->n_fips;
}

/* One listener item the lb driver cannot honour: refused with its file,
 * line and field, never silently ignored. */
static void refuse_item(const struct vxc_driver *d, const struct vxc_spec *spec, size_t lb,
			size_t ls, unsigned line, const char *key, const char *what,
			struct vxc_diag *diag)
{
	char field[96];

	if (!line)
		line = spec->lb_lines[lb][ls].listener;
	snprintf(field, sizeof(field), "load_balancers[%zu].listeners[%zu].%s", lb, ls, key);
	vxc_diag_add(diag, spec->path, (int)line, field,
		     "load balancer \"%s\": %s: the lb driver %s cannot honour it",
		     spec->lbs[lb].name, what, d->desc->name);
}

/* What a listener asks of the lb driver, against the driver's caps. */
static void check_lb_caps(const struct vxc_driver *d, const struct vxc_spec *spec,
			  const struct vxc_lb *lb, struct vxc_diag *diag)
{
	size_t i = (size_t)(lb - spec->lbs);
	uint64_t caps = d->desc->caps;

	for (size_t j = 0; j < lb->n_listeners; j++) {
		const struct vxc_lb_listener *l = &lb->listeners[j];
		const struct vxc_spec_listener_lines *at = &spec->lb_lines[i][j];

		if (l->protocol == VXC_LB_HTTP && !(caps & VXC_CAP_L7))
			refuse_item(d, spec, i, j, at->protocol, "protocol",
				    "protocol \"http\" (HTTP mode, forwardfor) needs a layer-7 "
				    "balancer; use \"tcp\"", diag);
		if (l->protocol == VXC_LB_UDP && !(caps & VXC_CAP_UDP))
			refuse_item(d, spec, i, j, at->protocol, "protocol",
				    "protocol \"udp\"", diag);
		if ((l->algorithm == VXC_LB_RR || l->algorithm == VXC_LB_LC) &&
		    !(caps & VXC_CAP_UNWEIGHTED))
			refuse_item(d, spec, i, j, at->algorithm, "algorithm",
				    l->algorithm == VXC_LB_RR ? "algorithm \"rr\"" :
				    "algorithm \"lc\"", diag);
		if (l->health.enabled && l->health.http_path && !(caps & VXC_CAP_L7))
			refuse_item(d, spec, i, j, at->health, "health.http_path",
				    "an HTTP health check", diag);
		else if (l->health.enabled && !(caps & VXC_CAP_HEALTHCHECK))
			refuse_item(d, spec, i, j, at->health, "health", "health checks", diag);
		else if (l->health.enabled && l->protocol == VXC_LB_UDP)
			refuse_item(d, spec, i, j, at->health, "health",
				    "health checks of a udp listener (checks connect by TCP)", diag);
	}
}

int vxc_engine_check_plan(const struct vxc_engine *e, const struct vxc_plan *plan,
			  struct vxc_diag *diag)
{
	const char *path = e->nc->path;
	size_t before = diag->n;

	if ((plan->provider || plan->n_networks || plan->n_routers) && !e->role[VXC_ROLE_NETWORK])
		vxc_diag_add(diag, path, 0, "network",
			     "host %s holds networks but no network driver is configured",
			     plan->self->name);
	for (size_t i = 0; i < plan->n_routers; i++)
		if (router_needs_nat(plan->routers[i]) && !e->role[VXC_ROLE_NAT])
			vxc_diag_add(diag, path, 0, "nat",
				     "router %s needs SNAT or floating IPs but no nat driver is "
				     "configured",
				     plan->routers[i]->name);
	for (size_t i = 0; i < plan->n_instances; i++) {
		const struct vxc_instance *in = plan->instances[i];
		enum vxc_role role = in->kind == VXC_INSTANCE_VM ? VXC_ROLE_VM : VXC_ROLE_CONTAINER;
		if (!e->role[role])
			vxc_diag_add(diag, path, 0, vxc_role_name(role),
				     "instance %s is a %s on this host but no %s driver is configured",
				     in->name, vxc_role_name(role), vxc_role_name(role));
	}
	if (plan->n_lbs && !e->role[VXC_ROLE_LB])
		vxc_diag_add(diag, path, 0, "lb",
			     "load balancer %s is on this host but no lb driver is configured",
			     plan->lbs[0]->name);
	else
		for (size_t i = 0; i < plan->n_lbs; i++)
			check_lb_caps(e->role[VXC_ROLE_LB], plan->spec, plan->lbs[i], diag);
	return diag->n > before ? -EINVAL : 0;
}

/* ---- failure messages --------------------------------------------------- */

static int fail(struct vxc_engine *e, struct vxc_driver *d, int rc, const char *what,
		const char *name)
{
	free(e->error);
	e->error = vxc_xasprintf("%s: %s %s: %s", d->desc->name, what, name,
				 d->ctx.errmsg ? d->ctx.errmsg : strerror(rc < 0 ? -rc : EIO));
	return rc < 0 ? rc : -EIO;
}

static int unsupported(struct vxc_engine *e, struct vxc_driver *d, const char *op)
{
	free(e->error);
	e->error = vxc_xasprintf("%s: driver does not support %s", d->desc->name, op);
	return -EOPNOTSUPP;
}

#define CALL(e, d, fn, what, name, ...)                                           \
	({                                                                         \
		int rc_ = 0;                                                       \
		vxc_ctx_reset(&(d)->ctx);                                          \
		if (!(fn))                                                         \
			rc_ = unsupported((e), (d), what);                         \
		else if ((rc_ = (fn)((d)->priv, __VA_ARGS__)) < 0)                 \
			rc_ = fail((e), (d), rc_, what, name);                     \
		rc_;                                                               \
	})

/* ---- ensure, in dependency order ---------------------------------------- */

static struct vxc_driver *compute_for(const struct vxc_engine *e, const struct vxc_instance *in)
{
	return e->role[in->kind == VXC_INSTANCE_VM ? VXC_ROLE_VM : VXC_ROLE_CONTAINER];
}

static int ensure_provider(struct vxc_engine *e, const struct vxc_plan *p, unsigned flags)
{
	struct vxc_driver *d = e->role[VXC_ROLE_NETWORK];
	const struct vxc_network_ops *o = net_ops(d);

	return CALL(e, d, SLOT(o, struct vxc_network_ops, provider_ensure), "provider",
		    p->provider->bridge, p->provider, flags);
}

static int ensure_network(struct vxc_engine *e, const struct vxc_plan *p, size_t i,
			  unsigned flags)
{
	struct vxc_driver *d = e->role[VXC_ROLE_NETWORK];
	const struct vxc_network_ops *o = net_ops(d);
	const struct vxc_plan_network *pn = &p->networks[i];

	return CALL(e, d, SLOT(o, struct vxc_network_ops, network_ensure), "network",
		    pn->net->name, pn->net, p->self, pn->fdb, pn->n_fdb, flags);
}

static int ensure_router(struct vxc_engine *e, const struct vxc_plan *p, size_t i,
			 unsigned flags)
{
	const struct vxc_router *rt = p->routers[i];
	struct vxc_driver *d = e->role[VXC_ROLE_NETWORK];

	return CALL(e, d, SLOT(net_ops(d), struct vxc_network_ops, router_ensure), "router",
		    rt->name, rt, flags);
}

static int ensure_nat(struct vxc_engine *e, const struct vxc_plan *p, size_t i, unsigned flags)
{
	const struct vxc_router *rt = p->routers[i];
	struct vxc_driver *n = e->role[VXC_ROLE_NAT];

	return CALL(e, n, SLOT(nat_ops(n), struct vxc_nat_ops, router_ensure), "router",
		    rt->name, rt, flags);
}

static int attach_port(struct vxc_engine *e, const struct vxc_port *port, unsigned flags)
{
	struct vxc_driver *d = e->role[VXC_ROLE_NETWORK];

	return CALL(e, d, SLOT(net_ops(d), struct vxc_network_ops, port_attach), "port",
		    port->host_if, port->network, port->host_if, port->network->mtu, flags);
}

static int ensure_instance(struct vxc_engine *e, const struct vxc_plan *p, size_t i,
			   unsigned flags)
{
	const struct vxc_instance *in = p->instances[i];
	struct vxc_driver *d = compute_for(e, in);
	int r;

	r = CALL(e, d, SLOT(compute_ops(d), struct vxc_compute_ops, instance_ensure), "instance",
		 in->name, in, flags);
	return r < 0 ? r : attach_port(e, in->port, flags);
}

static int ensure_lb(struct vxc_engine *e, const struct vxc_plan *p, size_t i, unsigned flags)
{
	const struct vxc_lb *lb = p->lbs[i];
	struct vxc_driver *d = e->role[VXC_ROLE_LB];
	int r;

	r = CALL(e, d, SLOT(lb_ops(d), struct vxc_lb_ops, lb_ensure), "load balancer", lb->name,
		 lb, flags);
	return r < 0 ? r : attach_port(e, lb->port, flags);
}

/* Visits every wanted object in dependency order. */
typedef int (*visit_fn)(struct vxc_engine *e, const struct vxc_plan *p, enum vxc_kind kind,
			const char *name, size_t i, unsigned flags, void *arg);

static int ensure_one(struct vxc_engine *e, const struct vxc_plan *p, enum vxc_kind kind,
		      const char *name, size_t i, unsigned flags, void *arg)
{
	switch (kind) {
	case VXC_KIND_PROVIDER:
		return ensure_provider(e, p, flags);
	case VXC_KIND_NETWORK:
		return ensure_network(e, p, i, flags);
	case VXC_KIND_ROUTER:
		return ensure_router(e, p, i, flags);
	case VXC_KIND_NAT:
		return ensure_nat(e, p, i, flags);
	case VXC_KIND_INSTANCE:
		return ensure_instance(e, p, i, flags);
	case VXC_KIND_LB:
		return ensure_lb(e, p, i, flags);
	default:
		return 0;
	}
}

static int for_each_wanted(struct vxc_engine *e, const struct vxc_plan *p, unsigned flags,
			   visit_fn fn, void *arg)
{
	int r = 0;

	if (p->provider)
		r = fn(e, p, VXC_KIND_PROVIDER, "provider", 0, flags, arg);
	for (size_t i = 0; r >= 0 && i < p->n_networks; i++)
		r = fn(e, p, VXC_KIND_NETWORK, p->networks[i].net->name, i, flags, arg);
	for (size_t i = 0; r >= 0 && i < p->n_routers; i++)
		r = fn(e, p, VXC_KIND_ROUTER, p->routers[i]->name, i, flags, arg);
	/* A router's NAT lives in its namespace: after every router exists. */
	for (size_t i = 0; r >= 0 && e->role[VXC_ROLE_NAT] && i < p->n_routers; i++)
		r = fn(e, p, VXC_KIND_NAT, p->routers[i]->name, i, flags, arg);
	for (size_t i = 0; r >= 0 && i < p->n_instances; i++)
		r = fn(e, p, VXC_KIND_INSTANCE, p->instances[i]->name, i, flags, arg);
	for (size_t i = 0; r >= 0 && i < p->n_lbs; i++)
		r = fn(e, p, VXC_KIND_LB, p->lbs[i]->name, i, flags, arg);
	return r;
}

/* ---- what this host holds, and what of it is no longer wanted ----------- */

struct owned {
	struct vxc_driver *d;
	enum vxc_kind kind;
	char *name;
	char *netns;
};

struct owned_list {
	struct owned *v;
	size_t n, cap;
	struct vxc_driver *current;
};

static void collect(void *arg, const struct vxc_owned *o)
{
	struct owned_list *l = arg;

	if (!o || !o->name)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = vxc_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct owned){
		.d = l->current,
		.kind = o->kind,
		.name = vxc_xstrdup(o->name),
		.netns = o->netns ? vxc_xstrdup(o->netns) : NULL,
	};
}

static void owned_free(struct owned_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].netns);
	}
	free(l->v);
}

typedef int (*list_fn)(void *priv, vxc_owned_cb cb, void *arg);
typedef int (*remove_fn)(void *priv, const struct vxc_owned *obj, unsigned flags);

static list_fn list_slot(const struct vxc_driver *d)
{
	switch (d->desc->concern) {
	case VXC_CONCERN_NETWORK:
		return SLOT(net_ops(d), struct vxc_network_ops, list);
	case VXC_CONCERN_NAT:
		return SLOT(nat_ops(d), struct vxc_nat_ops, list);
	case VXC_CONCERN_LB:
		return SLOT(lb_ops(d), struct vxc_lb_ops, list);
	default:
		return SLOT(compute_ops(d), struct vxc_compute_ops, list);
	}
}

static remove_fn remove_slot(const struct vxc_driver *d)
{
	switch (d->desc->concern) {
	case VXC_CONCERN_NETWORK:
		return SLOT(net_ops(d), struct vxc_network_ops, remove);
	case VXC_CONCERN_NAT:
		return SLOT(nat_ops(d), struct vxc_nat_ops, remove);
	case VXC_CONCERN_LB:
		return SLOT(lb_ops(d), struct vxc_lb_ops, remove);
	default:
		return SLOT(compute_ops(d), struct vxc_compute_ops, remove);
	}
}

/* Removal runs from the top of the dependency order down; kinds are
 * numbered in dependency order. */
static int by_kind_desc(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)y->kind - (int)x->kind;
	return strcmp(x->name, y->name);
}

static int collect_owned(struct vxc_engine *e, struct owned_list *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < e->n_drivers; i++) {
		struct vxc_driver *d = e->drivers[i];
		list_fn fn = list_slot(d);
		int r;

		if (!fn)
			continue;
		l->current = d;
		r = CALL(e, d, fn, "list", "owned objects", collect, l);
		if (r < 0)
			return r;
	}
	if (l->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(l->v, l->n, sizeof(*l->v), by_kind_desc);
	return 0;
}

static int in_plan(const struct vxc_plan *p, enum vxc_kind kind, const char *name,
		   const struct vxc_engine *e, const struct vxc_driver *d)
{
	if (!p)
		return 0;
	switch (kind) {
	case VXC_KIND_PROVIDER:
		return p->provider && d == e->role[VXC_ROLE_NETWORK];
	case VXC_KIND_NETWORK:
		for (size_t i = 0; i < p->n_networks; i++)
			if (!strcmp(p->networks[i].net->name, name))
				return d == e->role[VXC_ROLE_NETWORK];
		return 0;
	case VXC_KIND_ROUTER:
	case VXC_KIND_NAT:
		for (size_t i = 0; i < p->n_routers; i++)
			if (!strcmp(p->routers[i]->name, name))
				return d == e->role[kind == VXC_KIND_NAT ? VXC_ROLE_NAT
									 : VXC_ROLE_NETWORK];
		return 0;
	case VXC_KIND_INSTANCE:
		for (size_t i = 0; i < p->n_instances; i++)
			if (!strcmp(p->instances[i]->name, name))
				return d == compute_for(e, p->instances[i]);
		return 0;
	case VXC_KIND_LB:
		for (size_t i = 0; i < p->n_lbs; i++)
			if (!strcmp(p->lbs[i]->name, name))
				return d == e->role[VXC_ROLE_LB];
		return 0;
	}
	return 0;
}

static int remove_owned(struct vxc_engine *e, const struct owned *o, unsigned flags)
{
	struct vxc_owned obj = { .kind = o->kind, .name = o->name, .netns = o->netns };

	return CALL(e, o->d, remove_slot(o->d), vxc_kind_name(o->kind), o->name, &obj, flags);
}

/* A replaced NAT driver's rules go only after the new driver's are in
 * place: NAT drivers own disjoint objects (their own table or chains), so
 * both can hold a router for that moment and floating IPs never lapse.
 * Drivers of other concerns share names (bridges, veths, namespaces), so
 * what a replaced one owns goes first, like anything else unwanted. */
static int removed_last(const struct vxc_plan *plan, const struct owned *o)
{
	return plan && o->d->previous && o->d->desc->concern == VXC_CONCERN_NAT;
}

static int in_scope(const struct vxc_engine *e, enum vxc_kind kind, const char *name)
{
	return !e->scope || e->scope->wants(e->scope->arg, kind, name);
}

/* Under a scope: only the objects it wants, each one's outcome reported,
 * a failure remembered in *arg without stopping the walk. */
static int ensure_scoped(struct vxc_engine *e, const struct vxc_plan *p, enum vxc_kind kind,
			 const char *name, size_t i, unsigned flags, void *arg)
{
	int *first = arg;
	size_t before = e->changes->n;
	int r;

	if (!in_scope(e, kind, name))
		return 0;
	r = ensure_one(e, p, kind, name, i, flags, NULL);
	e->scope->done(e->scope->arg, kind, name, r, r < 0 ? e->error : NULL,
		       e->changes->n - before);
	if (r < 0 && !*first)
		*first = r;
	return 0;
}

static int ensure_wanted(struct vxc_engine *e, const struct vxc_plan *plan, unsigned flags)
{
	int first = 0, r;

	if (!e->scope)
		return for_each_wanted(e, plan, flags, ensure_one, NULL);
	r = for_each_wanted(e, plan, flags, ensure_scoped, &first);
	return r < 0 ? r : first;
}

static int unwanted(struct vxc_engine *e, const struct vxc_plan *plan, const struct owned *o)
{
	return !in_plan(plan, o->kind, o->name, e, o->d) && in_scope(e, o->kind, o->name);
}

int vxc_engine_reconcile(struct vxc_engine *e, const struct vxc_plan *plan, unsigned flags)
{
	struct owned_list l = { 0 };
	int r = 0;

	if (plan && e->scope && e->scope->ensure_only)
		return ensure_wanted(e, plan, flags);
	r = collect_owned(e, &l);
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		if (unwanted(e, plan, &l.v[i]) && !removed_last(plan, &l.v[i]))
			r = remove_owned(e, &l.v[i], flags);
	if (r >= 0 && plan)
		r = ensure_wanted(e, plan, flags);
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		if (unwanted(e, plan, &l.v[i]) && removed_last(plan, &l.v[i]))
			r = remove_owned(e, &l.v[i], flags);
	owned_free(&l);
	return r < 0 ? r : 0;
}

/* ---- status: a dry run per object --------------------------------------- */

static struct vxc_status_row *add_row(struct vxc_status *st, enum vxc_kind kind,
				      const char *name, const char *driver)
{
	struct vxc_status_row *row;

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->v = vxc_xrealloc(st->v, st->cap * sizeof(*st->v));
	}
	row = &st->v[st->n++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->name = vxc_xstrdup(name);
	row->driver = vxc_xstrdup(driver);
	return row;
}

static const char *driver_of(const struct vxc_engine *e, const struct vxc_plan *p,
			     enum vxc_kind kind, size_t i)
{
	const struct vxc_driver *d = e->role[VXC_ROLE_NETWORK];

	if (kind == VXC_KIND_INSTANCE)
		d = compute_for(e, p->instances[i]);
	else if (kind == VXC_KIND_LB)
		d = e->role[VXC_ROLE_LB];
	else if (kind == VXC_KIND_NAT)
		d = e->role[VXC_ROLE_NAT];
	return d ? d->desc->name : "-";
}

static void add_info(void *arg, const char *line)
{
	vxc_changes_add(arg, "lb", line);
}

/* What a load balancer driver reports running; a driver without the slot
 * (ABI 1.0) reports nothing. */
static int lb_info(struct vxc_engine *e, const struct vxc_plan *p, size_t i,
		   struct vxc_status_row *row)
{
	struct vxc_driver *d = e->role[VXC_ROLE_LB];
	const struct vxc_lb_ops *o = lb_ops(d);

	if (!SLOT(o, struct vxc_lb_ops, lb_status))
		return 0;
	return CALL(e, d, o->lb_status, "load balancer", p->lbs[i]->name, p->lbs[i], add_info,
		    &row->info);
}

static int status_one(struct vxc_engine *e, const struct vxc_plan *p, enum vxc_kind kind,
		      const char *name, size_t i, unsigned flags, void *arg)
{
	struct vxc_status_row *row = add_row(arg, kind, name, driver_of(e, p, kind, i));
	struct vxc_changes *saved = e->changes;
	int r;

	e->changes = &row->details;
	e->notes = &row->notes;
	r = ensure_one(e, p, kind, name, i, flags, NULL);
	e->changes = saved;
	e->notes = NULL;
	row->state = row->details.n ? VXC_STATE_DIFFERS : VXC_STATE_OK;
	if (r >= 0 && kind == VXC_KIND_LB)
		r = lb_info(e, p, i, row);
	return r;
}

int vxc_engine_status(struct vxc_engine *e, const struct vxc_plan *plan, struct vxc_status *st)
{
	struct owned_list l;
	int r;

	memset(st, 0, sizeof(*st));
	r = for_each_wanted(e, plan, VXC_F_DRY_RUN, status_one, st);
	if (r < 0 || (r = collect_owned(e, &l)) < 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		if (!in_plan(plan, l.v[i].kind, l.v[i].name, e, l.v[i].d))
			add_row(st, l.v[i].kind, l.v[i].name, l.v[i].d->desc->name)->state =
				VXC_STATE_STALE;
	owned_free(&l);
	return 0;
}

void vxc_status_free(struct vxc_status *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].name);
		free(st->v[i].driver);
		vxc_changes_free(&st->v[i].details);
		vxc_changes_free(&st->v[i].info);
		vxc_changes_free(&st->v[i].notes);
	}
	free(st->v);
	memset(st, 0, sizeof(*st));
}
