/* Step 2 of loading a spec: resolve references and check every rule that
 * spans more than one value. Runs only on a spec whose values all parsed,
 * and reports every problem it finds, not just the first.
 *
 * Duplicates are found by sorting (names, VNIs, addresses, MACs), so a
 * spec with thousands of floating IPs stays fast. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

static unsigned line_of(const struct sp_obj *o, const char *key)
{
	const struct vxc_cfg_node *at = o->cs;

	if (key && at && vxc_cfg_is_group(at) && vxc_cfg_member(at, key))
		at = vxc_cfg_member(at, key);
	return at ? vxc_cfg_line(at) : 0;
}

static struct sp_obj *obj_at(void *arr, size_t elsize, size_t i)
{
	return (struct sp_obj *)(void *)((char *)arr + i * elsize);
}

/* ---- duplicates by sorting ------------------------------------------ */

typedef void dup_fn(struct sp *sp, size_t first, size_t dup);

/* Calls fn for every item whose keys equal an earlier item's (by index). */
static void find_dups(struct sp *sp, struct dup_item *it, size_t n, dup_fn *fn)
{
	size_t first = 0;

	sp_sort_items(it, n);
	for (size_t i = 1; i < n; i++) {
		if (it[i].k1 == it[first].k1 && it[i].k2 == it[first].k2)
			fn(sp, it[first].idx, it[i].idx);
		else
			first = i;
	}
	free(it);
}

/* ---- name index: lookups, duplicate names, unknown references ------- */

struct name_ent {
	const char *name;
	size_t idx;
};

/* The names of one kind in file order, and a hash table over them (open
 * addressing; slot values are positions in e plus one, 0 for empty). */
struct name_idx {
	const char *kind; /* "host", "network", ... */
	struct name_ent *e;
	size_t n;
	size_t *slot;
	size_t mask;
};

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot holding name, or the empty one where it would go. */
static size_t *name_slot(const struct name_idx *ix, const char *name)
{
	size_t i = name_hash(name) & ix->mask;

	while (ix->slot[i] && strcmp(ix->e[ix->slot[i] - 1].name, name))
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

/* Names of one kind; a name given twice is reported at the second and
 * resolves to the first. */
static void index_build(struct sp *sp, struct name_idx *ix, const char *kind, void *arr,
			size_t n, size_t elsize)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	ix->kind = kind;
	ix->e = vxc_xcalloc(n + 1, sizeof(*ix->e));
	ix->slot = vxc_xcalloc(cap, sizeof(*ix->slot));
	ix->mask = cap - 1;
	ix->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct sp_obj *o = obj_at(arr, elsize, i);
		size_t *slot;

		if (!o->parsed || !o->name)
			continue;
		slot = name_slot(ix, o->name);
		if (*slot) {
			const struct sp_obj *first = obj_at(arr, elsize, ix->e[*slot - 1].idx);

			o->dup = true;
			sp_err(sp, o, "name",
			       "duplicate %s name \"%s\" (first at line %u); every %s needs its own "
			       "name", kind, o->name, line_of(first, "name"), kind);
			continue;
		}
		ix->e[ix->n++] = (struct name_ent){ o->name, i };
		*slot = ix->n;
	}
}

static void index_free(struct name_idx *ix)
{
	free(ix->e);
	free(ix->slot);
}

static int index_find(const struct name_idx *ix, const char *name)
{
	size_t *slot = name_slot(ix, name);

	return *slot ? (int)ix->e[*slot - 1].idx : -1;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Suggestions compare the name with every candidate: past this many, a
 * spec with as many unknown references would take quadratic time. */
#define SP_SUGGEST_MAX 256

static void unknown_ref(struct sp *sp, const struct name_idx *ix, const struct sp_ref *ref)
{
	const char **cands;
	const char *sug;
	char list[256] = "";

	if (ix->n > SP_SUGGEST_MAX) {
		sp_err(sp, &ref->at, NULL, "unknown %s \"%s\": none of the spec's %zu %ss has that "
		       "name", ix->kind, ref->at.name, ix->n, ix->kind);
		return;
	}
	cands = vxc_xcalloc(ix->n + 1, sizeof(*cands));
	for (size_t i = 0; i < ix->n; i++)
		cands[i] = ix->e[i].name;
	qsort(cands, ix->n, sizeof(*cands), str_cmp); /* the list in name order */
	for (size_t i = 0; i < ix->n; i++) {
		if (strlen(list) + strlen(cands[i]) + 8 < sizeof(list))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[0] ? ", " : "", cands[i]);
	}
	sug = sp_suggest(ref->at.name, cands, ix->n);
	if (sug)
		sp_err(sp, &ref->at, NULL, "unknown %s \"%s\"; did you mean \"%s\"?", ix->kind,
		       ref->at.name, sug);
	else if (ix->n)
		sp_err(sp, &ref->at, NULL, "unknown %s \"%s\"; the spec's %ss are: %s", ix->kind,
		       ref->at.name, ix->kind, list);
	else
		sp_err(sp, &ref->at, NULL, "unknown %s \"%s\": the spec defines no %s", ix->kind,
		       ref->at.name, ix->kind);
	free(cands);
}

static void resolve(struct sp *sp, const struct name_idx *ix, struct sp_ref *ref)
{
	ref->idx = -1;
	if (!ref->at.name)
		return;
	ref->idx = index_find(ix, ref->at.name);
	if (ref->idx < 0)
		unknown_ref(sp, ix, ref);
}

struct sp_val {
	struct sp *sp;
	struct name_idx hosts, nets, routers, insts, lbs;
};

/* `host`, or every entry of `hosts` (then host is hosts[0]). */
static void resolve_placement(struct sp_val *v, const struct sp_obj *o, struct sp_ref *host,
			      struct sp_ha *ha)
{
	if (!ha->n_hosts) {
		resolve(v->sp, &v->hosts, host);
		return;
	}
	for (size_t i = 0; i < ha->n_hosts; i++)
		resolve(v->sp, &v->hosts, &ha->hosts[i]);
	host->idx = ha->hosts[0].idx;
	sp_check_ha_hosts(v->sp, o, ha);
}

/* ---- hosts ---------------------------------------------------------- */

static void dup_tunnel(struct sp *sp, size_t first, size_t dup)
{
	char ip[VXC_IPSTR];

	sp_err(sp, &sp->hosts[dup].o, "tunnel", "tunnel address %s is already used by host \"%s\" "
	       "(line %u); every host needs its own tunnel address",
	       vxc_ip_str(sp->hosts[dup].tunnel, ip), sp_nm(&sp->hosts[first].o),
	       line_of(&sp->hosts[first].o, "tunnel"));
}

static void check_hosts(struct sp *sp)
{
	struct dup_item *it = vxc_xcalloc(sp->n_hosts, sizeof(*it));
	size_t n = 0;

	for (size_t i = 0; i < sp->n_hosts; i++)
		if (sp->hosts[i].o.parsed && sp->hosts[i].tunnel_ok)
			it[n++] = (struct dup_item){ 0, ntohl(sp->hosts[i].tunnel.s_addr), i };
	find_dups(sp, it, n, dup_tunnel);
}

/* ---- addresses against a network ------------------------------------ */

static const char *pfx_str(const struct vxc_prefix *p, char buf[24])
{
	char ip[VXC_IPSTR];

	snprintf(buf, 24, "%s/%u", vxc_ip_str(p->addr, ip), p->len);
	return buf;
}

/* An address of o (member key) that must sit inside network n. */
/* o's address at key, in network n; the messages name o as `kind "name":`
 * and then what (" VIP" or ""), formatted only for a message: once per
 * instance, snprintf was a measurable part of validating 10,000. */
static void check_in_net(struct sp *sp, const struct sp_obj *o, const char *key, const char *kind,
			 const char *what, struct in_addr a, const struct sp_network *n,
			 bool not_gateway)
{
	char ip[VXC_IPSTR], pfx[24];
	const char *special;

	if (!n->cidr_ok)
		return;
	if (!vxc_prefix_contains(&n->cidr, a)) {
		sp_err(sp, o, key, "%s \"%s\":%s address %s is outside network \"%s\" (%s); "
		       "pick an address inside it", kind, sp_nm(o), what, vxc_ip_str(a, ip),
		       sp_nm(&n->o), pfx_str(&n->cidr, pfx));
		return;
	}
	special = sp_special_addr(&n->cidr, a);
	if (special)
		sp_err(sp, o, key, "%s \"%s\":%s address %s is the %s of network \"%s\" (%s); "
		       "pick a host address", kind, sp_nm(o), what, vxc_ip_str(a, ip), special,
		       sp_nm(&n->o), pfx_str(&n->cidr, pfx));
	else if (not_gateway && n->gateway_ok && a.s_addr == n->gateway.s_addr)
		sp_err(sp, o, key, "%s \"%s\":%s address %s is the gateway of network \"%s\"; "
		       "pick another address", kind, sp_nm(o), what, vxc_ip_str(a, ip),
		       sp_nm(&n->o));
}

/* ---- provider ------------------------------------------------------- */

static void check_provider(struct sp *sp)
{
	struct sp_provider *pv = sp->prov;
	char a[VXC_IPSTR], b[VXC_IPSTR], pfx[24];

	if (!pv) {
		if (sp->n_routers)
			sp_err(sp, &sp->routers[0].o, NULL, "the spec has routers but no provider "
			       "network; add a provider = { bridge = ...; cidr = ...; gateway = ...; } "
			       "group");
		return;
	}
	if (!pv->cidr_ok)
		return;
	if (pv->gateway_ok) {
		if (!vxc_prefix_contains(&pv->cidr, pv->gateway))
			sp_err(sp, &pv->o, "gateway", "provider gateway %s is outside the provider "
			       "network %s; pick an address inside it", vxc_ip_str(pv->gateway, a),
			       pfx_str(&pv->cidr, pfx));
		else if (sp_special_addr(&pv->cidr, pv->gateway))
			sp_err(sp, &pv->o, "gateway", "provider gateway %s is the %s of %s; pick a "
			       "host address", vxc_ip_str(pv->gateway, a),
			       sp_special_addr(&pv->cidr, pv->gateway), pfx_str(&pv->cidr, pfx));
	}
	if (!pv->range_ok)
		return;
	for (int i = 0; i < 2; i++) {
		struct in_addr x = i ? pv->last : pv->first;

		if (!vxc_prefix_contains(&pv->cidr, x) || sp_special_addr(&pv->cidr, x)) {
			sp_err(sp, &pv->o, "range", "provider range %s..%s is not inside the host "
			       "addresses of %s; pick a range inside it", vxc_ip_str(pv->first, a),
			       vxc_ip_str(pv->last, b), pfx_str(&pv->cidr, pfx));
			pv->range_ok = false;
			return;
		}
	}
	if (ntohl(pv->first.s_addr) > ntohl(pv->last.s_addr)) {
		sp_err(sp, &pv->o, "range", "provider range %s..%s is reversed; write the lower "
		       "address first", vxc_ip_str(pv->first, a), vxc_ip_str(pv->last, b));
		pv->range_ok = false;
	}
}

/* ---- networks ------------------------------------------------------- */

static void dup_vni(struct sp *sp, size_t first, size_t dup)
{
	sp_err(sp, &sp->nets[dup].o, "vni", "network \"%s\": VNI %u is already used by network "
	       "\"%s\" (line %u); every network needs its own VNI", sp_nm(&sp->nets[dup].o),
	       sp->nets[dup].vni, sp_nm(&sp->nets[first].o), line_of(&sp->nets[first].o, "vni"));
}

static void check_networks(struct sp *sp)
{
	struct dup_item *it = vxc_xcalloc(sp->n_nets, sizeof(*it));
	char ip[VXC_IPSTR], pfx[24];
	size_t n = 0;

	for (size_t i = 0; i < sp->n_nets; i++) {
		struct sp_network *net = &sp->nets[i];

		net->router = -1;
		if (!net->o.parsed)
			continue;
		if (net->vni_ok)
			it[n++] = (struct dup_item){ 0, net->vni, i };
		if (!net->cidr_ok || !net->gateway_ok)
			continue;
		if (!vxc_prefix_contains(&net->cidr, net->gateway))
			sp_err(sp, &net->o, "gateway", "network \"%s\": gateway %s is outside %s; "
			       "pick an address inside the network", sp_nm(&net->o),
			       vxc_ip_str(net->gateway, ip), pfx_str(&net->cidr, pfx));
		else if (sp_special_addr(&net->cidr, net->gateway))
			sp_err(sp, &net->o, "gateway", "network \"%s\": gateway %s is the %s of %s; "
			       "pick a host address", sp_nm(&net->o), vxc_ip_str(net->gateway, ip),
			       sp_special_addr(&net->cidr, net->gateway), pfx_str(&net->cidr, pfx));
		else
			continue;
		net->gateway_ok = false;
	}
	find_dups(sp, it, n, dup_vni);
}

/* ---- routers -------------------------------------------------------- */

static void dup_external(struct sp *sp, size_t first, size_t dup)
{
	char ip[VXC_IPSTR];

	sp_err(sp, &sp->routers[dup].o, "external", "router \"%s\": external address %s is "
	       "already used by router \"%s\" (line %u); every router needs its own",
	       sp_nm(&sp->routers[dup].o), vxc_ip_str(sp->routers[dup].external, ip),
	       sp_nm(&sp->routers[first].o), line_of(&sp->routers[first].o, "external"));
}

static void check_external(struct sp *sp, struct sp_router *r)
{
	const struct sp_provider *pv = sp->prov;
	char ip[VXC_IPSTR], pfx[24];

	if (!pv || !pv->cidr_ok || !r->external_ok)
		return;
	vxc_ip_str(r->external, ip);
	if (!vxc_prefix_contains(&pv->cidr, r->external))
		sp_err(sp, &r->o, "external", "router \"%s\": external address %s is outside the "
		       "provider network %s; pick an address inside it", sp_nm(&r->o), ip,
		       pfx_str(&pv->cidr, pfx));
	else if (sp_special_addr(&pv->cidr, r->external))
		sp_err(sp, &r->o, "external", "router \"%s\": external address %s is the %s of the "
		       "provider network %s; pick a host address", sp_nm(&r->o), ip,
		       sp_special_addr(&pv->cidr, r->external), pfx_str(&pv->cidr, pfx));
	else if (pv->gateway_ok && r->external.s_addr == pv->gateway.s_addr)
		sp_err(sp, &r->o, "external", "router \"%s\": external address %s is the provider "
		       "gateway; pick another address", sp_nm(&r->o), ip);
	else
		return;
	r->external_ok = false;
}

/* Attaches each listed network to router ri; one router per network, no
 * overlap among a router's networks nor with the provider. */
static void attach_networks(struct sp_val *v, size_t ri)
{
	struct sp *sp = v->sp;
	struct sp_router *r = &sp->routers[ri];
	char a[24], b[24];

	for (size_t i = 0; i < r->n_nets; i++) {
		struct sp_ref *ref = &r->nets[i];
		struct sp_network *n;

		resolve(sp, &v->nets, ref);
		if (ref->idx < 0)
			continue;
		n = &sp->nets[ref->idx];
		if (n->router == (int)ri) {
			sp_err(sp, &ref->at, NULL, "router \"%s\" lists network \"%s\" twice; list it "
			       "once", sp_nm(&r->o), n->o.name);
			ref->idx = -1;
			continue;
		}
		if (n->router >= 0) {
			const struct sp_router *other = &sp->routers[n->router];

			sp_err(sp, &ref->at, NULL, "network \"%s\" is already attached to router "
			       "\"%s\" (line %u); a network has one router", n->o.name,
			       sp_nm(&other->o), line_of(&other->o, "networks"));
			ref->idx = -1;
			continue;
		}
		n->router = (int)ri;
		if (!n->cidr_ok)
			continue;
		if (sp->prov && sp->prov->cidr_ok && vxc_prefix_overlap(&n->cidr, &sp->prov->cidr))
			sp_err(sp, &ref->at, NULL, "network \"%s\" (%s) overlaps the provider network "
			       "%s; a router cannot route between overlapping networks",
			       n->o.name, pfx_str(&n->cidr, a), pfx_str(&sp->prov->cidr, b));
		for (size_t j = 0; j < i; j++) {
			const struct sp_network *m;

			if (r->nets[j].idx < 0)
				continue;
			m = &sp->nets[r->nets[j].idx];
			if (m->cidr_ok && vxc_prefix_overlap(&n->cidr, &m->cidr))
				sp_err(sp, &ref->at, NULL, "network \"%s\" (%s) overlaps network \"%s\" "
				       "(%s) on router \"%s\"; networks of one router must not "
				       "overlap", n->o.name, pfx_str(&n->cidr, a), m->o.name,
				       pfx_str(&m->cidr, b), sp_nm(&r->o));
		}
	}
}

static void check_routers(struct sp_val *v)
{
	struct sp *sp = v->sp;
	struct dup_item *it = vxc_xcalloc(sp->n_routers, sizeof(*it));
	size_t n = 0;

	for (size_t i = 0; i < sp->n_routers; i++) {
		struct sp_router *r = &sp->routers[i];

		if (!r->o.parsed)
			continue;
		resolve_placement(v, &r->o, &r->host, &r->ha);
		check_external(sp, r);
		if (r->external_ok)
			it[n++] = (struct dup_item){ 0, ntohl(r->external.s_addr), i };
		attach_networks(v, i);
	}
	find_dups(sp, it, n, dup_external);
}

/* DHCP is served from the namespace of the network's router. */
static void check_dhcp(struct sp *sp)
{
	for (size_t i = 0; i < sp->n_nets; i++) {
		struct sp_network *n = &sp->nets[i];

		if (!n->o.parsed)
			continue;
		if (n->dhcp && n->router < 0)
			sp_err(sp, &n->o, "dhcp", "network \"%s\": DHCP is served from the router's "
			       "namespace, and no router lists this network; attach it to a router "
			       "or set dhcp = false", sp_nm(&n->o));
		if (n->dhcp && n->router >= 0 && sp->routers[n->router].ha.n_hosts)
			sp_err(sp, &n->o, "dhcp", "network \"%s\": its router \"%s\" has copies on "
			       "several hosts, and DHCP (dnsmasq) is not served from HA routers; "
			       "set dhcp = false and give instances static addresses",
			       sp_nm(&n->o), sp_nm(&sp->routers[n->router].o));
		if (n->n_dns && !n->dhcp)
			sp_err(sp, &n->o, "dns", "network \"%s\": DNS servers are handed out by "
			       "DHCP; set dhcp = true or leave dns out", sp_nm(&n->o));
	}
}

/* ---- instances and load balancers ----------------------------------- */

/* A path a VM definition reads on its host: absolute, no control bytes. */
static void check_vm_path(struct sp *sp, const struct sp_instance *in, const char *key,
			  const char *path)
{
	bool good = path && path[0] == '/';

	for (const char *c = path; good && *c; c++)
		good = (unsigned char)*c >= 0x20 && *c != 0x7f;
	if (path && !good)
		sp_err(sp, &in->o, key, "instance \"%s\": \"%s\" must be an absolute path on the "
		       "host, without control characters", sp_nm(&in->o), path);
}

/* The boot keys belong to VMs only; kernel and initrd are paths. */
static void check_boot(struct sp *sp, const struct sp_instance *in)
{
	static const char *const vm_only[] = { "kernel", "initrd", "cmdline", "allow_restart" };

	if (in->kind != VXC_INSTANCE_VM) {
		for (size_t k = 0; k < VXC_ARRAY_SIZE(vm_only); k++)
			if (in->kind && vxc_cfg_member(in->o.cs, vm_only[k]))
				sp_err(sp, &in->o, vm_only[k], "instance \"%s\": %s is for kind "
				       "\"vm\" only", sp_nm(&in->o), vm_only[k]);
		return;
	}
	/* what boots it (image or kernel) is the VM driver's to check: specs
	 * written before ABI 1.5 name images a driver resolves itself */
	check_vm_path(sp, in, "kernel", in->kernel);
	check_vm_path(sp, in, "initrd", in->initrd);
	if (!in->kernel && (in->initrd || in->cmdline))
		sp_err(sp, &in->o, in->initrd ? "initrd" : "cmdline", "instance \"%s\": %s "
		       "needs kernel", sp_nm(&in->o), in->initrd ? "initrd" : "cmdline");
	if (in->command)
		sp_err(sp, &in->o, "command", "instance \"%s\": a VM runs what its image or "
		       "kernel boots; command is for containers", sp_nm(&in->o));
}

static void check_instances(struct sp_val *v)
{
	struct sp *sp = v->sp;

	for (size_t i = 0; i < sp->n_insts; i++) {
		struct sp_instance *in = &sp->insts[i];
		if (!in->o.parsed)
			continue;
		resolve(sp, &v->hosts, &in->host);
		resolve(sp, &v->nets, &in->net);
		check_boot(sp, in);
		if (in->net.idx >= 0 && in->addr_ok)
			check_in_net(sp, &in->o, "address", "instance", "", in->addr,
				     &sp->nets[in->net.idx], true);
	}
}

static void dup_member(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_member *m = &sp->cur_ls->members[dup], *o = &sp->cur_ls->members[first];
	char ip[VXC_IPSTR];

	sp_err(sp, &m->o, NULL, "load balancer \"%s\": member %s:%u is listed twice (first at "
	       "line %u); list it once", sp_nm(&sp->cur_lb->o), vxc_ip_str(m->m.addr, ip), m->m.port,
	       line_of(&o->o, NULL));
}

/* Sorted, so 100,000 members cost no more than sorting them. */
static void check_members(struct sp *sp, const struct sp_lb *lb, const struct sp_listener *ls)
{
	struct dup_item *it = vxc_xcalloc(ls->n_members + 1, sizeof(*it));
	size_t n = 0;

	for (size_t i = 0; i < ls->n_members; i++) {
		const struct sp_member *m = &ls->members[i];

		if (m->o.parsed && m->ok)
			it[n++] = (struct dup_item){ ntohl(m->m.addr.s_addr), m->m.port, i };
	}
	sp->cur_lb = lb;
	sp->cur_ls = ls;
	find_dups(sp, it, n, dup_member);
}

static void dup_listener(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_lb *lb = sp->cur_lb;
	const struct sp_listener *ls = &lb->ls[dup];

	sp_err(sp, &ls->o, "port", "load balancer \"%s\": port %u is already used by listener "
	       "%zu (line %u); every listener needs its own port per protocol", sp_nm(&lb->o),
	       ls->l.port, first, line_of(&lb->ls[first].o, "port"));
}

/* UDP and TCP ports are apart: a udp and a tcp listener may share a number
 * (the protocol is the first key). */
static void check_listeners(struct sp *sp, const struct sp_lb *lb)
{
	struct dup_item *it = vxc_xcalloc(lb->n_ls + 1, sizeof(*it));
	size_t n = 0;

	for (size_t i = 0; i < lb->n_ls; i++)
		if (lb->ls[i].o.parsed && lb->ls[i].port_ok)
			it[n++] = (struct dup_item){ lb->ls[i].l.protocol == VXC_LB_UDP,
						     lb->ls[i].l.port, i };
	sp->cur_lb = lb;
	find_dups(sp, it, n, dup_listener);
	for (size_t i = 0; i < lb->n_ls; i++)
		if (lb->ls[i].o.parsed)
			check_members(sp, lb, &lb->ls[i]);
}

static void check_lbs(struct sp_val *v)
{
	struct sp *sp = v->sp;

	for (size_t i = 0; i < sp->n_lbs; i++) {
		struct sp_lb *lb = &sp->lbs[i];
		if (!lb->o.parsed)
			continue;
		resolve_placement(v, &lb->o, &lb->host, &lb->ha);
		resolve(sp, &v->nets, &lb->net);
		if (lb->net.idx >= 0 && lb->vip_ok)
			check_in_net(sp, &lb->o, "vip", "load balancer", " VIP", lb->vip,
				     &sp->nets[lb->net.idx], true);
		check_listeners(sp, lb);
	}
}

/* ---- ports: per-network addresses, MACs, MTU ------------------------ */

static void add_port(struct sp *sp, const struct sp_port *p)
{
	if (p->net < 0)
		return;
	sp->ports[sp->n_ports++] = *p;
}

static void collect_ports(struct sp *sp)
{
	size_t max = sp->n_insts + sp->n_lbs;

	for (size_t i = 0; i < sp->n_routers; i++)
		max += sp->routers[i].n_nets;
	sp->ports = vxc_xcalloc(max, sizeof(*sp->ports));
	for (size_t i = 0; i < sp->n_routers; i++) {
		struct sp_router *r = &sp->routers[i];

		for (size_t j = 0; r->o.parsed && r->o.name && !r->o.dup && j < r->n_nets; j++) {
			int ni = r->nets[j].idx;
			struct sp_port p = { .at = &r->nets[j].at, .owner = r->o.name,
					     .kind = VXC_PORT_ROUTER, .owner_idx = (int)i,
					     .net = ni, .host = r->host.idx };

			if (ni < 0 || sp->nets[ni].router != (int)i || !sp->nets[ni].gateway_ok)
				continue;
			p.addr = sp->nets[ni].gateway;
			sp_derive_mac("router", r->o.name, sp->nets[ni].o.name, &p.mac);
			add_port(sp, &p);
		}
	}
	for (size_t i = 0; i < sp->n_insts; i++) {
		struct sp_instance *in = &sp->insts[i];
		struct sp_port p = { .at = &in->o, .addr_key = "address", .mac_key = "mac",
				     .owner = in->o.name, .kind = VXC_PORT_INSTANCE,
				     .owner_idx = (int)i, .net = in->net.idx,
				     .host = in->host.idx, .addr = in->addr, .mac = in->mac };

		if (!in->o.parsed || !in->o.name || in->o.dup || !in->addr_ok ||
		    (in->mac_given && !in->mac_ok))
			continue;
		if (!in->mac_given) {
			p.mac_key = NULL;
			sp_derive_mac("instance", in->o.name, in->net.at.name, &p.mac);
			in->mac = p.mac;
		}
		add_port(sp, &p);
	}
	for (size_t i = 0; i < sp->n_lbs; i++) {
		struct sp_lb *lb = &sp->lbs[i];
		struct sp_port p = { .at = &lb->o, .addr_key = "vip", .owner = lb->o.name,
				     .kind = VXC_PORT_LB, .owner_idx = (int)i, .net = lb->net.idx,
				     .host = lb->host.idx, .addr = lb->vip };

		if (!lb->o.parsed || !lb->o.name || lb->o.dup || !lb->vip_ok)
			continue;
		sp_derive_mac("lb", lb->o.name, lb->net.at.name, &p.mac);
		lb->mac = p.mac;
		add_port(sp, &p);
	}
}

static const char *owner_word(enum vxc_port_owner k)
{
	return k == VXC_PORT_ROUTER ? "router" : k == VXC_PORT_LB ? "load balancer" : "instance";
}

static void dup_addr(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_port *a = &sp->ports[first], *b = &sp->ports[dup];
	char ip[VXC_IPSTR];

	/* the gateway against an instance or VIP is reported by check_in_net */
	if (a->kind == VXC_PORT_ROUTER || b->kind == VXC_PORT_ROUTER)
		return;
	sp_err(sp, b->at, b->addr_key, "address %s of %s \"%s\" is already used by %s \"%s\" "
	       "(line %u) on network \"%s\"; every port needs its own address",
	       vxc_ip_str(b->addr, ip), owner_word(b->kind), b->owner, owner_word(a->kind),
	       a->owner, line_of(a->at, a->addr_key), sp->nets[b->net].o.name);
}

static void dup_mac(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_port *a = &sp->ports[first], *b = &sp->ports[dup];
	const struct sp_port *blame = b->mac_key || !a->mac_key ? b : a;
	const struct sp_port *other = blame == b ? a : b;
	char mac[VXC_MACSTR];

	sp_err(sp, blame->at, blame->mac_key, "%sMAC %s of %s \"%s\" is already used by %s \"%s\" "
	       "(line %u) on network \"%s\"; every port needs its own MAC, set a different mac",
	       blame->mac_key ? "" : "derived ", vxc_mac_str(&blame->mac, mac),
	       owner_word(blame->kind), blame->owner, owner_word(other->kind), other->owner,
	       line_of(other->at, other->mac_key), sp->nets[b->net].o.name);
}

static void check_ports(struct sp *sp)
{
	struct dup_item *ia = vxc_xcalloc(sp->n_ports, sizeof(*ia));
	struct dup_item *im = vxc_xcalloc(sp->n_ports, sizeof(*im));

	for (size_t i = 0; i < sp->n_ports; i++) {
		const struct sp_port *p = &sp->ports[i];
		uint64_t mac = 0;

		for (int b = 0; b < 6; b++)
			mac = mac << 8 | p->mac.b[b];
		ia[i] = (struct dup_item){ (uint64_t)p->net, ntohl(p->addr.s_addr), i };
		im[i] = (struct dup_item){ (uint64_t)p->net, mac, i };
	}
	find_dups(sp, ia, sp->n_ports, dup_addr);
	find_dups(sp, im, sp->n_ports, dup_mac);
}

/* MTU: given, it must fit the underlay of every host holding the network
 * (with a port on it) with the VXLAN overhead; omitted, it is derived from
 * the smallest such underlay. The (network, host) pairs come from the
 * ports, sorted: a host-by-network table would grow with their product. */
static void mtu_too_big(struct sp *sp, const struct sp_network *n, const struct sp_host *host)
{
	sp_err(sp, &n->o, "mtu", "network \"%s\": MTU %u plus %d bytes of VXLAN overhead exceeds "
	       "underlay_mtu %u of host \"%s\", which holds it; lower mtu to %u or raise that "
	       "host's underlay_mtu", n->o.name, n->mtu, VXC_VXLAN_OVERHEAD, host->underlay_mtu,
	       sp_nm(&host->o), host->underlay_mtu - VXC_VXLAN_OVERHEAD);
}

static void derive_mtu(struct sp *sp, struct sp_network *n, unsigned min, size_t min_host)
{
	n->mtu = min - VXC_VXLAN_OVERHEAD;
	if (n->mtu < SP_MTU_MIN)
		sp_err(sp, &n->o, NULL, "network \"%s\": the derived MTU %u (underlay_mtu %u of host "
		       "\"%s\" minus %d) is below %d; raise that host's underlay_mtu", n->o.name,
		       n->mtu, min, sp_nm(&sp->hosts[min_host].o), VXC_VXLAN_OVERHEAD, SP_MTU_MIN);
}

static void check_mtus(struct sp *sp)
{
	struct dup_item *it = vxc_xcalloc(sp->n_ports + 1, sizeof(*it));
	unsigned *min = vxc_xcalloc(sp->n_nets + 1, sizeof(*min));
	size_t *min_host = vxc_xcalloc(sp->n_nets + 1, sizeof(*min_host)), n = 0;

	for (size_t i = 0; i < sp->n_ports; i++)
		if (sp->ports[i].host >= 0)
			it[n++] = (struct dup_item){ (uint64_t)sp->ports[i].net,
						     (uint64_t)sp->ports[i].host, i };
	sp_sort_items(it, n);
	for (size_t i = 0; i < sp->n_nets; i++) {
		min[i] = 1500;
		min_host[i] = SIZE_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		size_t ni = it[i].k1, h = it[i].k2;
		struct sp_network *net = &sp->nets[ni];
		const struct sp_host *host = &sp->hosts[h];

		if ((i && it[i - 1].k1 == ni && it[i - 1].k2 == h) || !net->o.parsed || !net->o.name)
			continue;
		if (min_host[ni] == SIZE_MAX || host->underlay_mtu < min[ni]) {
			min[ni] = host->underlay_mtu;
			min_host[ni] = h;
		}
		if (net->mtu_given && net->mtu && net->mtu + VXC_VXLAN_OVERHEAD > host->underlay_mtu)
			mtu_too_big(sp, net, host);
	}
	for (size_t i = 0; i < sp->n_nets; i++)
		if (sp->nets[i].o.parsed && sp->nets[i].o.name && !sp->nets[i].mtu_given)
			derive_mtu(sp, &sp->nets[i], min[i], min_host[i]);
	free(it);
	free(min);
	free(min_host);
}

/* Routers' gateway ports all share the provider bridge. */
static void dup_gw_mac(struct sp *sp, size_t first, size_t dup)
{
	char mac[VXC_MACSTR];

	sp_err(sp, &sp->routers[dup].o, "name", "derived gateway MAC %s of router \"%s\" collides "
	       "with router \"%s\" (line %u); rename one of them",
	       vxc_mac_str(&sp->routers[dup].gw_mac, mac), sp->routers[dup].o.name,
	       sp->routers[first].o.name, line_of(&sp->routers[first].o, "name"));
}

static void check_gw_macs(struct sp *sp)
{
	struct dup_item *it = vxc_xcalloc(sp->n_routers, sizeof(*it));
	size_t n = 0;

	for (size_t i = 0; i < sp->n_routers; i++) {
		struct sp_router *r = &sp->routers[i];
		uint64_t mac = 0;

		if (!r->o.parsed || !r->o.name || r->o.dup)
			continue;
		sp_derive_mac("router-gw", r->o.name, "provider", &r->gw_mac);
		for (int b = 0; b < 6; b++)
			mac = mac << 8 | r->gw_mac.b[b];
		it[n++] = (struct dup_item){ 0, mac, i };
	}
	find_dups(sp, it, n, dup_gw_mac);
}

/* ---- floating IPs --------------------------------------------------- */

/* The target's network, or -1. */
static int target_net(const struct sp *sp, const struct sp_fip *f)
{
	if (f->target.idx < 0)
		return -1;
	if (f->target_kind == VXC_TARGET_LB)
		return sp->lbs[f->target.idx].net.idx;
	return sp->insts[f->target.idx].net.idx;
}

static void resolve_target(struct sp_val *v, struct sp_fip *f)
{
	struct sp *sp = v->sp;
	int in, lb;

	if (f->lb >= 0 || !f->target.at.name)
		return;
	in = index_find(&v->insts, f->target.at.name);
	lb = index_find(&v->lbs, f->target.at.name);
	if (in >= 0 && lb >= 0) {
		sp_err(sp, &f->target.at, NULL, "target \"%s\" is both an instance and a load "
		       "balancer; rename one of them", f->target.at.name);
	} else if (in >= 0) {
		f->target.idx = in;
		f->target_kind = VXC_TARGET_INSTANCE;
		f->target_addr = sp->insts[in].addr;
	} else if (lb >= 0) {
		f->target.idx = lb;
		f->target_kind = VXC_TARGET_LB;
		f->target_addr = sp->lbs[lb].vip;
	} else {
		sp_err(sp, &f->target.at, NULL, "unknown target \"%s\": no instance or load "
		       "balancer has that name", f->target.at.name);
	}
}

/* The router given, or the one of the target's network; it must be the
 * router of the target's network. */
static void resolve_fip_router(struct sp_val *v, struct sp_fip *f)
{
	struct sp *sp = v->sp;
	int ni = target_net(sp, f);
	const struct sp_network *n = ni >= 0 ? &sp->nets[ni] : NULL;

	if (f->router.at.name) {
		resolve(sp, &v->routers, &f->router);
		if (f->router.idx < 0 || !n || n->router == f->router.idx)
			return;
		if (n->router < 0)
			sp_err(sp, &f->router.at, NULL, "target \"%s\" is on network \"%s\", which "
			       "no router is attached to; add \"%s\" to router \"%s\"'s networks",
			       f->target.at.name, n->o.name, n->o.name, f->router.at.name);
		else
			sp_err(sp, &f->router.at, NULL, "target \"%s\" is on network \"%s\", which "
			       "is attached to router \"%s\", not \"%s\"; a floating IP is held by "
			       "the router of its target's network", f->target.at.name, n->o.name,
			       sp_nm(&sp->routers[n->router].o), f->router.at.name);
		f->router.idx = -1;
		return;
	}
	if (!n)
		return;
	f->router.idx = n->router;
	if (n->router < 0)
		sp_err(sp, f->lb >= 0 ? &f->o : &f->target.at, f->lb >= 0 ? f->addr_key : NULL,
		       "%s \"%s\" is on network \"%s\", which no router is attached to; a floating "
		       "IP needs one: add \"%s\" to a router's networks",
		       f->target_kind == VXC_TARGET_LB ? "load balancer" : "target",
		       f->target.at.name, n->o.name, n->o.name);
}

/* Routers' external addresses, sorted once: each floating IP is then looked
 * up instead of compared with every router. */
static void index_externals(struct sp *sp)
{
	sp->externals = vxc_xcalloc(sp->n_routers + 1, sizeof(*sp->externals));
	sp->n_externals = 0;
	for (size_t i = 0; i < sp->n_routers; i++)
		if (sp->routers[i].o.parsed && sp->routers[i].external_ok)
			sp->externals[sp->n_externals++] = (struct dup_item){
				ntohl(sp->routers[i].external.s_addr), 0, i };
	sp_sort_items(sp->externals, sp->n_externals);
}

/* The first router (in file order) whose external address is a, or NULL. */
static const struct sp_router *router_with_external(const struct sp *sp, struct in_addr a)
{
	size_t lo = 0, hi = sp->n_externals;
	uint64_t k = ntohl(a.s_addr);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->externals[mid].k1 < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sp->n_externals && sp->externals[lo].k1 == k)
		return &sp->routers[sp->externals[lo].idx];
	return NULL;
}

static void check_fip_addr(struct sp *sp, struct sp_fip *f)
{
	const struct sp_provider *pv = sp->prov;
	char ip[VXC_IPSTR], a[VXC_IPSTR], b[VXC_IPSTR];
	uint32_t h = ntohl(f->addr.s_addr);
	const struct sp_router *r;

	if (!pv || !f->addr_ok)
		return;
	vxc_ip_str(f->addr, ip);
	if (pv->range_ok && (h < ntohl(pv->first.s_addr) || h > ntohl(pv->last.s_addr)))
		sp_err(sp, &f->o, f->addr_key, "floating IP %s is outside the provider range %s..%s; "
		       "pick one inside it", ip, vxc_ip_str(pv->first, a), vxc_ip_str(pv->last, b));
	else if (pv->gateway_ok && f->addr.s_addr == pv->gateway.s_addr)
		sp_err(sp, &f->o, f->addr_key, "floating IP %s is the provider gateway; pick another",
		       ip);
	else if ((r = router_with_external(sp, f->addr)))
		sp_err(sp, &f->o, f->addr_key, "floating IP %s is the external address of router "
		       "\"%s\" (line %u); pick another", ip, sp_nm(&r->o), line_of(&r->o, "external"));
}

/* The one further down the file is the duplicate. */
static void later_first(const struct sp_fip **a, const struct sp_fip **b)
{
	if (line_of(&(*a)->o, (*a)->addr_key) > line_of(&(*b)->o, (*b)->addr_key)) {
		const struct sp_fip *t = *a;

		*a = *b;
		*b = t;
	}
}

static void dup_fip(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_fip *a = &sp->fips[first], *b = &sp->fips[dup];
	char ip[VXC_IPSTR];

	later_first(&a, &b);
	sp_err(sp, &b->o, b->addr_key, "floating IP %s is already used (line %u); every floating "
	       "IP maps to one target", vxc_ip_str(b->addr, ip), line_of(&a->o, a->addr_key));
}

/* One floating IP per target: SNAT of the target's own traffic must pick
 * exactly one address. */
static void dup_target(struct sp *sp, size_t first, size_t dup)
{
	const struct sp_fip *a = &sp->fips[first], *b = &sp->fips[dup];
	char ip[VXC_IPSTR];

	later_first(&a, &b);
	sp_err(sp, b->lb >= 0 ? &b->o : &b->target.at, b->lb >= 0 ? b->addr_key : NULL,
	       "%s \"%s\" already has floating IP %s (line %u); give a target one floating IP",
	       b->target_kind == VXC_TARGET_LB ? "load balancer" : "instance", b->target.at.name,
	       vxc_ip_str(a->addr, ip), line_of(&a->o, a->addr_key));
}

static void check_fips(struct sp_val *v)
{
	struct sp *sp = v->sp;
	struct dup_item *ia = vxc_xcalloc(sp->n_fips, sizeof(*ia));
	struct dup_item *it = vxc_xcalloc(sp->n_fips, sizeof(*it));
	size_t na = 0, nt = 0;

	index_externals(sp);

	for (size_t i = 0; i < sp->n_fips; i++) {
		struct sp_fip *f = &sp->fips[i];

		if (!f->o.parsed)
			continue;
		if (f->lb >= 0)
			f->target_addr = sp->lbs[f->lb].vip;
		resolve_target(v, f);
		resolve_fip_router(v, f);
		check_fip_addr(sp, f);
		if (f->addr_ok)
			ia[na++] = (struct dup_item){ 0, ntohl(f->addr.s_addr), i };
		if (f->target.idx >= 0)
			it[nt++] = (struct dup_item){ (uint64_t)f->target_kind,
						      (uint64_t)f->target.idx, i };
	}
	find_dups(sp, ia, na, dup_fip);
	find_dups(sp, it, nt, dup_target);
	free(sp->externals);
	sp->externals = NULL;
}

void sp_validate(struct sp *sp)
{
	struct sp_val v = { .sp = sp };

	index_build(sp, &v.hosts, "host", sp->hosts, sp->n_hosts, sizeof(*sp->hosts));
	index_build(sp, &v.nets, "network", sp->nets, sp->n_nets, sizeof(*sp->nets));
	index_build(sp, &v.routers, "router", sp->routers, sp->n_routers, sizeof(*sp->routers));
	index_build(sp, &v.insts, "instance", sp->insts, sp->n_insts, sizeof(*sp->insts));
	index_build(sp, &v.lbs, "load balancer", sp->lbs, sp->n_lbs, sizeof(*sp->lbs));
	check_hosts(sp);
	check_provider(sp);
	check_networks(sp);
	check_routers(&v);
	check_dhcp(sp);
	check_instances(&v);
	check_lbs(&v);
	collect_ports(sp);
	check_ports(sp);
	check_mtus(sp);
	check_gw_macs(sp);
	check_fips(&v);
	sp_alloc_vrids(sp);
	index_free(&v.hosts);
	index_free(&v.nets);
	index_free(&v.routers);
	index_free(&v.insts);
	index_free(&v.lbs);
}
