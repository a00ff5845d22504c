/* Step 3 of loading a spec: the linked public model, built only from a spec
 * that passed every check. Every string is copied into the spec's arena, so
 * the model outlives the settings tree it came from. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "spec_int.h"
#include "util.h"

/* FNV-1a 64 over "kind\0name\0net\0"; the low 40 bits follow the 02 prefix
 * (locally administered, unicast). */
void sp_derive_mac(const char *kind, const char *name, const char *net, struct vxc_mac *out)
{
	const char *parts[3] = { kind, name, net };
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 0; i < 3; i++) {
		const char *s = parts[i] ? parts[i] : "";

		do {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ull;
		} while (*s++);
	}
	out->b[0] = 0x02;
	for (int i = 1; i < 6; i++)
		out->b[i] = (uint8_t)(h >> (8 * (5 - i)));
}

/* prefix + name into dst of size n. Validation has limited every name so
 * the result fits; check anyway. By hand: snprintf for every port's and
 * instance's names was a twentieth of building a model of 10,000. */
static void join_name(char *dst, size_t n, const char *prefix, const char *name)
{
	size_t lp = strlen(prefix), ln = strlen(name);

	if (lp + ln >= n)
		abort();
	memcpy(dst, prefix, lp);
	memcpy(dst + lp, name, ln + 1);
}

static void ifname(char dst[VXC_IFNAMSIZ], const char *prefix, const char *name)
{
	join_name(dst, VXC_IFNAMSIZ, prefix, name);
}

static void nsname(char dst[VXC_NETNS_NAMSIZ], const char *prefix, const char *name)
{
	join_name(dst, VXC_NETNS_NAMSIZ, prefix, name);
}

struct build {
	const struct sp *sp;
	struct vxc_spec *s;
	struct vxc_arena *a;
};

static char *dup(struct build *b, const char *s)
{
	return vxc_arena_strdup(&b->a, s);
}

static void build_hosts(struct build *b)
{
	b->s->n_hosts = b->sp->n_hosts;
	b->s->hosts = vxc_arena_calloc(&b->a, b->s->n_hosts, sizeof(*b->s->hosts));
	for (size_t i = 0; i < b->s->n_hosts; i++) {
		const struct sp_host *h = &b->sp->hosts[i];

		b->s->hosts[i].name = dup(b, h->o.name);
		b->s->hosts[i].tunnel = h->tunnel;
		b->s->hosts[i].underlay_mtu = h->underlay_mtu;
	}
}

static void build_provider(struct build *b)
{
	const struct sp_provider *p = b->sp->prov;
	struct vxc_provider *m;

	if (!p)
		return;
	m = b->s->provider = vxc_arena_alloc(&b->a, sizeof(*m));
	ifname(m->bridge, "", p->bridge);
	m->uplink = dup(b, p->uplink);
	m->cidr = p->cidr;
	m->gateway = p->gateway;
	m->range_first = p->first;
	m->range_last = p->last;
	m->mtu = p->mtu;
}

static void build_networks(struct build *b)
{
	for (size_t i = 0; i < b->s->n_networks; i++) {
		const struct sp_network *n = &b->sp->nets[i];
		struct vxc_network *m = &b->s->networks[i];

		m->name = dup(b, n->o.name);
		m->vni = n->vni;
		m->cidr = n->cidr;
		m->gateway = n->gateway;
		m->mtu = n->mtu;
		ifname(m->bridge_if, "vb-", n->o.name);
		ifname(m->vxlan_if, "vx-", n->o.name);
		m->router = n->router >= 0 ? &b->s->routers[n->router] : NULL;
		m->dhcp = n->dhcp;
		if (n->n_dns) {
			struct in_addr *dns = vxc_arena_calloc(&b->a, n->n_dns, sizeof(*dns));

			memcpy(dns, n->dns, n->n_dns * sizeof(*dns));
			m->dns = dns;
			m->n_dns = n->n_dns;
		}
	}
}

static void build_ports(struct build *b)
{
	static const char *const prefix[] = {
		[VXC_PORT_INSTANCE] = "vi-",
		[VXC_PORT_ROUTER] = "rp-",
		[VXC_PORT_LB] = "vl-",
	};

	for (size_t i = 0; i < b->s->n_ports; i++) {
		const struct sp_port *p = &b->sp->ports[i];
		struct vxc_port *m = &b->s->ports[i];
		const struct vxc_network *net = &b->s->networks[p->net];

		m->owner_kind = p->kind;
		m->network = net;
		m->host = &b->s->hosts[p->host];
		m->addr = p->addr;
		m->mac = p->mac;
		/* a router port is named after its network: a router has many */
		ifname(m->host_if, prefix[p->kind], p->kind == VXC_PORT_ROUTER ? net->name : p->owner);
		switch (p->kind) {
		case VXC_PORT_ROUTER:
			m->owner = b->s->routers[p->owner_idx].name;
			break;
		case VXC_PORT_INSTANCE:
			m->owner = b->s->instances[p->owner_idx].name;
			b->s->instances[p->owner_idx].port = m;
			break;
		case VXC_PORT_LB:
			m->owner = b->s->lbs[p->owner_idx].name;
			b->s->lbs[p->owner_idx].port = m;
			break;
		}
	}
}

/* The copies' hosts in priority order, or NULL for one copy. */
static const struct vxc_ha *build_ha(struct build *b, const struct sp_ha *h)
{
	struct vxc_ha *m;
	const struct vxc_host **hosts;

	if (!h->n_hosts)
		return NULL;
	m = vxc_arena_calloc(&b->a, 1, sizeof(*m));
	hosts = vxc_arena_calloc(&b->a, h->n_hosts, sizeof(*hosts));
	for (size_t i = 0; i < h->n_hosts; i++)
		hosts[i] = &b->s->hosts[h->hosts[i].idx];
	m->hosts = hosts;
	m->n_hosts = h->n_hosts;
	m->vrid = h->vrid;
	m->advert_ms = h->advert_ms;
	m->preempt = h->preempt;
	return m;
}

static void build_routers(struct build *b)
{
	for (size_t i = 0; i < b->s->n_routers; i++) {
		const struct sp_router *r = &b->sp->routers[i];
		struct vxc_router *m = &b->s->routers[i];

		m->name = dup(b, r->o.name);
		m->host = &b->s->hosts[r->host.idx];
		m->provider = b->s->provider;
		m->external = r->external;
		m->snat = r->snat;
		nsname(m->netns, "vxr-", r->o.name);
		ifname(m->gw_host_if, "rg-", r->o.name);
		ifname(m->gw_if, "", "gw0");
		m->gw_mac = r->gw_mac;
		m->ha = build_ha(b, &r->ha);
	}
}

/* Each network's list of its ports (DHCP reservations need them all) and
 * each router's ports and floating IPs: counted, then filled, so the cost
 * stays linear in the objects (a scan of every port per network would not). */
static void link_networks(struct build *b)
{
	struct vxc_spec *s = b->s;
	size_t *fill = vxc_xcalloc(s->n_networks + 1, sizeof(*fill));

	for (size_t j = 0; j < s->n_ports; j++)
		s->networks[s->ports[j].network - s->networks].n_ports++;
	for (size_t i = 0; i < s->n_networks; i++)
		s->networks[i].ports = vxc_arena_calloc(&b->a, s->networks[i].n_ports + 1,
						       sizeof(*s->networks[i].ports));
	for (size_t j = 0; j < s->n_ports; j++) {
		size_t i = (size_t)(s->ports[j].network - s->networks);
		const struct vxc_port **v = (const struct vxc_port **)s->networks[i].ports;

		v[fill[i]++] = &s->ports[j];
	}
	free(fill);
}

static void link_routers(struct build *b)
{
	struct vxc_spec *s = b->s;
	size_t *np = vxc_xcalloc(s->n_routers + 1, sizeof(*np));
	size_t *nf = vxc_xcalloc(s->n_routers + 1, sizeof(*nf));

	for (size_t j = 0; j < s->n_ports; j++)
		if (s->ports[j].owner_kind == VXC_PORT_ROUTER)
			s->routers[b->sp->ports[j].owner_idx].n_ports++;
	for (size_t j = 0; j < s->n_fips; j++)
		s->routers[s->fips[j].router - s->routers].n_fips++;
	for (size_t i = 0; i < s->n_routers; i++) {
		struct vxc_router *m = &s->routers[i];

		m->ports = vxc_arena_calloc(&b->a, m->n_ports + 1, sizeof(*m->ports));
		m->fips = vxc_arena_calloc(&b->a, m->n_fips + 1, sizeof(*m->fips));
	}
	for (size_t j = 0; j < s->n_ports; j++) {
		size_t i;

		if (s->ports[j].owner_kind != VXC_PORT_ROUTER)
			continue;
		i = (size_t)b->sp->ports[j].owner_idx;
		((const struct vxc_port **)s->routers[i].ports)[np[i]++] = &s->ports[j];
	}
	for (size_t j = 0; j < s->n_fips; j++) {
		size_t i = (size_t)(s->fips[j].router - s->routers);

		((const struct vxc_fip **)s->routers[i].fips)[nf[i]++] = &s->fips[j];
	}
	free(np);
	free(nf);
}

/* A NULL-terminated list copied into the arena; NULL stays NULL. */
static const char *const *dup_strings(struct build *b, const char *const *v)
{
	const char **out;
	size_t n = 0;

	if (!v)
		return NULL;
	while (v[n])
		n++;
	out = vxc_arena_calloc(&b->a, n + 1, sizeof(*out));
	for (size_t j = 0; j < n; j++)
		out[j] = dup(b, v[j]);
	return out;
}

static void build_instances(struct build *b)
{
	for (size_t i = 0; i < b->s->n_instances; i++) {
		const struct sp_instance *in = &b->sp->insts[i];
		struct vxc_instance *m = &b->s->instances[i];

		m->name = dup(b, in->o.name);
		m->kind = in->kind;
		m->host = &b->s->hosts[in->host.idx];
		m->image = dup(b, in->image);
		m->command = dup_strings(b, in->command);
		m->environment = dup_strings(b, in->environment);
		m->cpus = in->cpus;
		m->memory_mb = in->memory_mb;
		m->kernel = dup(b, in->kernel);
		m->initrd = dup(b, in->initrd);
		m->cmdline = dup(b, in->cmdline);
		m->allow_restart = in->allow_restart;
		nsname(m->netns, "vxi-", in->o.name);
	}
}

static void build_listener(struct build *b, const struct sp_listener *ls,
			   struct vxc_lb_listener *m)
{
	struct vxc_lb_listener_ext *ext = vxc_arena_calloc(&b->a, 1, sizeof(*ext));
	struct vxc_lb_member *members;
	uint8_t *enabled;

	*m = ls->l;
	m->health.http_path = dup(b, ls->l.health.http_path);
	members = vxc_arena_calloc(&b->a, ls->n_members, sizeof(*members));
	enabled = vxc_arena_calloc(&b->a, ls->n_members, sizeof(*enabled));
	for (size_t i = 0; i < ls->n_members; i++) {
		members[i] = ls->members[i].m;
		enabled[i] = ls->members[i].enabled;
	}
	m->members = members;
	ext->size = sizeof(*ext);
	ext->member_enabled = enabled;
	ext->http_status = ls->http_status;
	m->ext = ext;
	m->n_members = ls->n_members;
}

static unsigned key_line(const struct sp_obj *o, const char *key)
{
	const struct vxc_cfg_node *at = o->cs ? vxc_cfg_member(o->cs, key) : NULL;

	return at ? vxc_cfg_line(at) : 0;
}

static struct vxc_spec_listener_lines *listener_lines(struct build *b, const struct sp_lb *lb)
{
	struct vxc_spec_listener_lines *v = vxc_arena_calloc(&b->a, lb->n_ls, sizeof(*v));

	for (size_t j = 0; j < lb->n_ls; j++) {
		const struct sp_obj *o = &lb->ls[j].o;

		v[j].listener = o->cs ? vxc_cfg_line(o->cs) : 0;
		v[j].protocol = key_line(o, "protocol");
		v[j].algorithm = key_line(o, "algorithm");
		v[j].health = key_line(o, "health");
	}
	return v;
}

static void build_lbs(struct build *b)
{
	b->s->lb_lines = vxc_arena_calloc(&b->a, b->s->n_lbs, sizeof(*b->s->lb_lines));
	for (size_t i = 0; i < b->s->n_lbs; i++) {
		const struct sp_lb *lb = &b->sp->lbs[i];
		struct vxc_lb *m = &b->s->lbs[i];
		struct vxc_lb_listener *ls;

		m->name = dup(b, lb->o.name);
		m->host = &b->s->hosts[lb->host.idx];
		m->ha = build_ha(b, &lb->ha);
		ls = vxc_arena_calloc(&b->a, lb->n_ls, sizeof(*ls));
		for (size_t j = 0; j < lb->n_ls; j++)
			build_listener(b, &lb->ls[j], &ls[j]);
		m->listeners = ls;
		m->n_listeners = lb->n_ls;
		nsname(m->netns, "vxlb-", lb->o.name);
		b->s->lb_lines[i] = listener_lines(b, lb);
	}
}

static void build_fips(struct build *b)
{
	for (size_t i = 0; i < b->s->n_fips; i++) {
		const struct sp_fip *f = &b->sp->fips[i];
		struct vxc_fip *m = &b->s->fips[i];

		m->address = f->addr;
		m->router = &b->s->routers[f->router.idx];
		m->target_kind = f->target_kind;
		m->target = f->target_kind == VXC_TARGET_LB ? b->s->lbs[f->target.idx].name
							    : b->s->instances[f->target.idx].name;
		m->target_addr = f->target_addr;
		if (f->target_kind == VXC_TARGET_LB)
			b->s->lbs[f->target.idx].fip = m;
	}
}

struct vxc_spec *sp_build(const struct sp *sp, const char *path)
{
	struct build b = { .sp = sp };
	struct vxc_spec *s;

	s = b.s = vxc_arena_alloc(&b.a, sizeof(*s));
	s->path = dup(&b, path);
	/* every array first, so objects can point at each other */
	s->n_networks = sp->n_nets;
	s->networks = vxc_arena_calloc(&b.a, s->n_networks, sizeof(*s->networks));
	s->n_routers = sp->n_routers;
	s->routers = vxc_arena_calloc(&b.a, s->n_routers, sizeof(*s->routers));
	s->n_instances = sp->n_insts;
	s->instances = vxc_arena_calloc(&b.a, s->n_instances, sizeof(*s->instances));
	s->n_lbs = sp->n_lbs;
	s->lbs = vxc_arena_calloc(&b.a, s->n_lbs, sizeof(*s->lbs));
	s->n_fips = sp->n_fips;
	s->fips = vxc_arena_calloc(&b.a, s->n_fips, sizeof(*s->fips));
	s->n_ports = sp->n_ports;
	s->ports = vxc_arena_calloc(&b.a, s->n_ports, sizeof(*s->ports));

	build_hosts(&b);
	build_provider(&b);
	build_routers(&b);
	build_networks(&b);
	build_instances(&b);
	build_lbs(&b);
	build_ports(&b);
	build_fips(&b);
	link_routers(&b);
	link_networks(&b);
	s->arena = b.a;
	return s;
}
