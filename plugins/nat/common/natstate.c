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

/* Each floating IP once, each target once (the SNAT map is keyed by target),
 * none equal to the router's own external address. */
static int want_fips(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		     struct nat_want *w)
{
	struct nat_hash by_fip, by_target;
	char a[NAT_IPSTR], b[NAT_IPSTR];
	int err = -ENOMEM;

	w->dnat = malloc((r->n_fips ? r->n_fips : 1) * sizeof(*w->dnat));
	w->snat_map = malloc((r->n_fips ? r->n_fips : 1) * sizeof(*w->snat_map));
	if (!w->dnat || !w->snat_map)
		return -ENOMEM;
	if (nat_hash_init(&by_fip, r->n_fips) < 0)
		return -ENOMEM;
	if (nat_hash_init(&by_target, r->n_fips) < 0)
		goto out_fip;
	for (size_t i = 0; i < r->n_fips; i++) {
		const struct vxc_fip *f = r->fips[i];
		uint32_t fa, ta;
		long slot;

		if (!f) {
			err = svc->error(ctx, -EINVAL, "router %s: floating IP %zu missing", r->name, i);
			goto out;
		}
		fa = f->address.s_addr;
		ta = f->target_addr.s_addr;
		if (!fa || !ta || fa == 0xffffffffu || ta == 0xffffffffu) {
			err = svc->error(ctx, -EINVAL,
					 "router %s: floating IP %s -> %s (target %s): both addresses "
					 "must be unicast", r->name, nat_ip(fa, a), nat_ip(ta, b),
					 f->target ? f->target : "?");
			goto out;
		}
		if (fa == r->external.s_addr) {
			err = svc->error(ctx, -EINVAL,
					 "router %s: floating IP %s is the router's external address",
					 r->name, nat_ip(fa, a));
			goto out;
		}
		if (nat_hash_put(&by_fip, fa, ta) == -EEXIST) {
			err = svc->error(ctx, -EINVAL, "router %s: floating IP %s is given twice",
					 r->name, nat_ip(fa, a));
			goto out;
		}
		if (nat_hash_put(&by_target, ta, fa) == -EEXIST) {
			slot = nat_hash_find(&by_target, ta);
			err = svc->error(ctx, -EINVAL,
					 "router %s: floating IPs %s and %s both map to %s; a target "
					 "takes one floating IP", r->name,
					 nat_ip(by_target.vals[slot], a), nat_ip(fa, b),
					 nat_ip(ta, (char[NAT_IPSTR]){ 0 }));
			goto out;
		}
		w->dnat[i] = (struct nat_pair){ fa, ta };
		w->snat_map[i] = (struct nat_pair){ ta, fa };
	}
	w->n_fips = r->n_fips;
	err = 0;
out:
	nat_hash_free(&by_target);
out_fip:
	nat_hash_free(&by_fip);
	return err;
}

int nat_want_build(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		   struct nat_want *w)
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
		err = want_fips(svc, ctx, r, w);
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
