/* The desired NAT state of one router, flattened from the model and checked
 * before anything touches the kernel. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natcommon.h"

const char *nat_ip(uint32_t a, char *buf)
{
	struct in_addr in = { .s_addr = a };

	return inet_ntop(AF_INET, &in, buf, NAT_IPSTR);
}

void nat_want_free(struct nat_want *w)
{
	free(w->nets);
	free(w->dnat);
	free(w->snat_map);
	nat_index_free(&w->fresh);
	memset(w, 0, sizeof(*w));
}

static uint32_t prefix_mask(uint8_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

static int want_nets(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		     struct nat_want *w)
{
	w->nets = calloc(r->n_ports ? r->n_ports : 1, sizeof(*w->nets));
	if (!w->nets)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct vxc_port *p = r->ports[i];
		struct nat_net n;
		size_t j;

		if (!p || !p->network)
			return svc->error(ctx, -EINVAL, "router %s: port %zu has no network",
					  r->name, i);
		n.addr = p->network->cidr.addr.s_addr & prefix_mask(p->network->cidr.len);
		n.len = p->network->cidr.len;
		if (n.len > 32)
			return svc->error(ctx, -EINVAL, "router %s: network %s: bad prefix length %u",
					  r->name, p->network->name, n.len);
		for (j = 0; j < w->n_nets; j++)
			if (w->nets[j].addr == n.addr && w->nets[j].len == n.len)
				break;
		if (j == w->n_nets)
			w->nets[w->n_nets++] = n;
	}
	return 0;
}

void nat_index_free(struct nat_index *x)
{
	free(x->dnat);
	nat_hash_free(&x->by_fip);
	nat_hash_free(&x->by_target);
	memset(x, 0, sizeof(*x));
}

static int bad_pair(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		    const struct vxc_fip *f)
{
	char a[NAT_IPSTR], b[NAT_IPSTR];
	uint32_t fa = f->address.s_addr, ta = f->target_addr.s_addr;

	if (!fa || !ta || fa == 0xffffffffu || ta == 0xffffffffu)
		return svc->error(ctx, -EINVAL,
				  "router %s: floating IP %s -> %s (target %s): both addresses "
				  "must be unicast", r->name, nat_ip(fa, a), nat_ip(ta, b),
				  f->target ? f->target : "?");
	if (fa == r->external.s_addr)
		return svc->error(ctx, -EINVAL,
				  "router %s: floating IP %s is the router's external address",
				  r->name, nat_ip(fa, a));
	return 0;
}

static int dup_fip(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		   uint32_t fa)
{
	char a[NAT_IPSTR];

	return svc->error(ctx, -EINVAL, "router %s: floating IP %s is given twice", r->name,
			  nat_ip(fa, a));
}

static int dup_target(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		      uint32_t other, uint32_t fa, uint32_t ta)
{
	char a[NAT_IPSTR], b[NAT_IPSTR], c[NAT_IPSTR];

	return svc->error(ctx, -EINVAL, "router %s: floating IPs %s and %s both map to %s; a "
			  "target takes one floating IP", r->name, nat_ip(other, a),
			  nat_ip(fa, b), nat_ip(ta, c));
}

/* Checks entries [from, n) of w against each other, and against the
 * entries before them through by_fip/by_target (which hold those). */
static int check_range(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		       struct nat_want *w, size_t from, struct nat_hash *by_fip,
		       struct nat_hash *by_target, int insert_into_given)
{
	struct nat_hash tf, tt; /* the range's own entries, when not inserted */
	int err = -ENOMEM;

	if (nat_hash_init(&tf, insert_into_given ? 0 : w->n_fips - from) < 0)
		return -ENOMEM;
	if (nat_hash_init(&tt, insert_into_given ? 0 : w->n_fips - from) < 0)
		goto out_tf;
	for (size_t i = from; i < w->n_fips; i++) {
		uint32_t fa = w->dnat[i].key, ta = w->dnat[i].val;
		long s;

		err = bad_pair(svc, ctx, r, r->fips[i]);
		if (err)
			goto out;
		if ((!insert_into_given && nat_hash_find(by_fip, fa) >= 0) ||
		    nat_hash_put(insert_into_given ? by_fip : &tf, fa, ta) == -EEXIST) {
			err = dup_fip(svc, ctx, r, fa);
			goto out;
		}
		if (!insert_into_given && (s = nat_hash_find(by_target, ta)) >= 0) {
			err = dup_target(svc, ctx, r, by_target->vals[s], fa, ta);
			goto out;
		}
		if (nat_hash_put(insert_into_given ? by_target : &tt, ta, fa) == -EEXIST) {
			struct nat_hash *h = insert_into_given ? by_target : &tt;

			err = dup_target(svc, ctx, r, h->vals[nat_hash_find(h, ta)], fa, ta);
			goto out;
		}
	}
	err = 0;
out:
	nat_hash_free(&tt);
out_tf:
	nat_hash_free(&tf);
	return err;
}

/* The tail [from, n) against prev's entries by a scan: for an index read
 * back without its hashes, when only a few floating IPs are appended. */
#define NAT_SCAN_MAX 64

static int check_tail_scan(const struct vxc_services *svc, vxc_ctx *ctx,
			   const struct vxc_router *r, struct nat_want *w, size_t from)
{
	for (size_t i = from; i < w->n_fips; i++) {
		uint32_t fa = w->dnat[i].key, ta = w->dnat[i].val;
		int err = bad_pair(svc, ctx, r, r->fips[i]);

		if (err)
			return err;
		for (size_t j = 0; j < i; j++) {
			if (w->dnat[j].key == fa)
				return dup_fip(svc, ctx, r, fa);
			if (w->dnat[j].val == ta)
				return dup_target(svc, ctx, r, w->dnat[j].key, fa, ta);
		}
	}
	return 0;
}

/* Each floating IP once, each target once (the SNAT map is keyed by target),
 * none equal to the router's own external address. */
static int want_fips(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		     struct nat_want *w, const struct nat_index *prev)
{
	size_t n = r->n_fips;

	w->dnat = malloc((n ? n : 1) * sizeof(*w->dnat));
	w->snat_map = malloc((n ? n : 1) * sizeof(*w->snat_map));
	if (!w->dnat || !w->snat_map)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct vxc_fip *f = r->fips[i];

		if (!f)
			return svc->error(ctx, -EINVAL, "router %s: floating IP %zu missing",
					  r->name, i);
		w->dnat[i] = (struct nat_pair){ f->address.s_addr, f->target_addr.s_addr };
		w->snat_map[i] = (struct nat_pair){ f->target_addr.s_addr, f->address.s_addr };
	}
	w->n_fips = n;
	/* The previous list, unchanged, then new entries: check only those.
	 * The external address took part in the checks, so it must not move. */
	if (prev && prev->n <= n && prev->external == w->external &&
	    (prev->by_fip.keys || n - prev->n <= NAT_SCAN_MAX) &&
	    !memcmp(prev->dnat, w->dnat, prev->n * sizeof(*w->dnat))) {
		w->same_prefix = prev->n;
		w->extends_prev = 1;
		if (!prev->by_fip.keys)
			return check_tail_scan(svc, ctx, r, w, prev->n);
		return check_range(svc, ctx, r, w, prev->n, (struct nat_hash *)&prev->by_fip,
				   (struct nat_hash *)&prev->by_target, 0);
	}
	if (nat_hash_init(&w->fresh.by_fip, n) < 0 || nat_hash_init(&w->fresh.by_target, n) < 0)
		return -ENOMEM;
	return check_range(svc, ctx, r, w, 0, &w->fresh.by_fip, &w->fresh.by_target, 1);
}

int nat_index_commit(struct nat_index *prev, struct nat_want *w)
{
	if (!w->extends_prev) {
		nat_index_free(prev);
		*prev = w->fresh;
		memset(&w->fresh, 0, sizeof(w->fresh));
		prev->dnat = malloc((w->n_fips ? w->n_fips : 1) * sizeof(*prev->dnat));
		if (!prev->dnat) {
			nat_index_free(prev);
			return -ENOMEM;
		}
		memcpy(prev->dnat, w->dnat, w->n_fips * sizeof(*w->dnat));
		prev->n = prev->cap = w->n_fips;
		prev->external = w->external;
		return 0;
	}
	if (w->n_fips > prev->cap) {
		size_t cap = w->n_fips + w->n_fips / 2 + 16;
		void *p = realloc(prev->dnat, cap * sizeof(*prev->dnat));

		if (!p) {
			nat_index_free(prev);
			return -ENOMEM;
		}
		prev->dnat = p;
		prev->cap = cap;
	}
	for (size_t i = prev->n; i < w->n_fips; i++) {
		/* An index read back has no hashes until a full check. */
		if (prev->by_fip.keys &&
		    (nat_hash_put(&prev->by_fip, w->dnat[i].key, w->dnat[i].val) == -ENOMEM ||
		     nat_hash_put(&prev->by_target, w->dnat[i].val, w->dnat[i].key) == -ENOMEM)) {
			nat_index_free(prev);
			return -ENOMEM;
		}
		prev->dnat[i] = w->dnat[i];
	}
	prev->n = w->n_fips;
	return 0;
}

int nat_want_build(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		   struct nat_want *w, const struct nat_index *prev)
{
	int err;

	memset(w, 0, sizeof(*w));
	if (!r || !r->name)
		return svc->error(ctx, -EINVAL, "router without a name");
	if (!r->netns[0] || !r->gw_if[0])
		return svc->error(ctx, -EINVAL, "router %s: namespace or gateway port name missing",
				  r->name);
	if ((r->snat || r->n_fips) && !r->external.s_addr)
		return svc->error(ctx, -EINVAL, "router %s: no external address", r->name);
	if (r->n_fips && !r->fips)
		return svc->error(ctx, -EINVAL, "router %s: floating IP list missing", r->name);
	if (r->n_ports && !r->ports)
		return svc->error(ctx, -EINVAL, "router %s: port list missing", r->name);
	w->router = r->name;
	w->netns = r->netns;
	w->external = r->external.s_addr;
	w->snat = !!r->snat;
	snprintf(w->gw_if, sizeof(w->gw_if), "%.*s", (int)sizeof(w->gw_if) - 1, r->gw_if);
	err = want_nets(svc, ctx, r, w);
	if (!err)
		err = want_fips(svc, ctx, r, w, prev);
	if (err)
		nat_want_free(w);
	return err;
}

void nat_desc_snat(char *buf, size_t len, const struct nat_net *n, const char *gw_if,
		   uint32_t external)
{
	char a[NAT_IPSTR], b[NAT_IPSTR];

	snprintf(buf, len, "SNAT %s/%u out %s to %s", nat_ip(n->addr, a), n->len, gw_if,
		 nat_ip(external, b));
}

void nat_desc_hairpin(char *buf, size_t len, const struct nat_net *n, uint32_t external)
{
	char a[NAT_IPSTR], b[NAT_IPSTR];

	snprintf(buf, len, "hairpin SNAT %s/%u to %s", nat_ip(n->addr, a), n->len,
		 nat_ip(external, b));
}

uint32_t nat_desc_external(const char *desc)
{
	const char *to = strstr(desc, " to ");
	struct in_addr a;

	if (!to || inet_pton(AF_INET, to + 4, &a) != 1)
		return 0;
	return a.s_addr;
}

int nat_desc_semantic(const char *desc)
{
	return !strncmp(desc, "SNAT ", 5) || !strncmp(desc, "hairpin SNAT ", 13);
}
