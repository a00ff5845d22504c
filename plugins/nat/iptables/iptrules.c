/* Our rules as ipt_entry blobs for libiptc, and reading them back. The
 * entries are built zeroed and laid out as the kernel returns them, so a
 * rule read back compares equal byte for byte (counters aside). */
#include "config.h"

#include "ipt.h" /* libiptc's libc headers before any linux/ header */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ipt_chain_def ipt_chains[IPT_NCHAINS] = {
	{ "vxc-pre", "PREROUTING" },
	{ "vxc-out", "OUTPUT" },
	{ "vxc-post", "POSTROUTING" },
};

enum { CH_PRE, CH_OUT, CH_POST };

#define MATCH_CT_SIZE (XT_ALIGN(sizeof(struct xt_entry_match)) + \
		       XT_ALIGN(sizeof(struct xt_conntrack_mtinfo3)))
#define TARGET_NAT_SIZE (XT_ALIGN(sizeof(struct xt_entry_target)) + \
			 XT_ALIGN(sizeof(struct nf_nat_ipv4_multi_range_compat)))
#define TARGET_STD_SIZE (XT_ALIGN(sizeof(struct xt_standard_target)))

/* What goes into one entry. */
struct spec {
	uint32_t src, smask, dst, dmask;
	const char *oif;
	int oif_invert;
	int ct;        /* with a conntrack --ctstate DNAT match */
	int ct_invert;
	const char *target; /* "DNAT", "SNAT" or a standard one ("RETURN", a chain) */
	uint32_t to;   /* NAT address */
};

static uint32_t mask_of(uint8_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

static struct ipt_entry *entry_new(const struct spec *s)
{
	size_t msize = s->ct ? MATCH_CT_SIZE : 0;
	int nat = !strcmp(s->target, "DNAT") || !strcmp(s->target, "SNAT");
	size_t tsize = nat ? TARGET_NAT_SIZE : TARGET_STD_SIZE;
	struct ipt_entry *e = calloc(1, XT_ALIGN(sizeof(*e)) + msize + tsize);
	struct xt_entry_target *t;

	if (!e)
		return NULL;
	e->ip.src.s_addr = s->src;
	e->ip.smsk.s_addr = s->smask;
	e->ip.dst.s_addr = s->dst;
	e->ip.dmsk.s_addr = s->dmask;
	if (s->oif) {
		size_t len = strlen(s->oif);

		memcpy(e->ip.outiface, s->oif, len);
		/* An exact name: the mask covers it and its terminating NUL. */
		memset(e->ip.outiface_mask, 0xff, len + 1);
		if (s->oif_invert)
			e->ip.invflags |= IPT_INV_VIA_OUT;
	}
	e->target_offset = XT_ALIGN(sizeof(*e)) + msize;
	e->next_offset = e->target_offset + tsize;
	if (s->ct) {
		struct xt_entry_match *m = (struct xt_entry_match *)e->elems;
		struct xt_conntrack_mtinfo3 *ci = (struct xt_conntrack_mtinfo3 *)m->data;

		m->u.user.match_size = MATCH_CT_SIZE;
		snprintf(m->u.user.name, sizeof(m->u.user.name), "conntrack");
		m->u.user.revision = 3;
		ci->match_flags = XT_CONNTRACK_STATE;
		ci->state_mask = XT_CONNTRACK_STATE_DNAT;
		if (s->ct_invert)
			ci->invert_flags = XT_CONNTRACK_STATE;
	}
	t = (struct xt_entry_target *)((char *)e + e->target_offset);
	t->u.user.target_size = tsize;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", s->target);
	if (nat) {
		struct nf_nat_ipv4_multi_range_compat *mr = (void *)t->data;

		mr->rangesize = 1;
		mr->range[0].flags = NF_NAT_RANGE_MAP_IPS;
		mr->range[0].min_ip = mr->range[0].max_ip = s->to;
	}
	return e;
}

struct ipt_entry *ipt_jump_entry(const char *chain)
{
	struct spec s = { .target = chain };

	return entry_new(&s);
}

static int add(struct ipt_rules *c, const struct spec *s, const char *desc)
{
	struct ipt_rule *r;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->r, cap * sizeof(*c->r));

		if (!p)
			return -ENOMEM;
		c->r = p;
		c->cap = cap;
	}
	r = &c->r[c->n];
	r->e = entry_new(s);
	if (!r->e)
		return -ENOMEM;
	r->target = s->target;
	snprintf(r->desc, sizeof(r->desc), "%s", desc ? desc : "");
	c->n++;
	return 0;
}

int ipt_rules_build(const struct nat_want *w, struct ipt_rules out[IPT_NCHAINS])
{
	char desc[NAT_DESC_LEN];
	int err = 0;

	memset(out, 0, IPT_NCHAINS * sizeof(*out));
	for (size_t i = 0; !err && i < w->n_fips; i++) {
		struct spec s = { .dst = w->dnat[i].key, .dmask = 0xffffffffu, .target = "DNAT",
				  .to = w->dnat[i].val };

		err = add(&out[CH_PRE], &s, NULL);
		if (!err)
			err = add(&out[CH_OUT], &s, NULL);
	}
	/* Routed between attached networks: no NAT (see nat/nftables). */
	if (!err) {
		struct spec s = { .oif = w->gw_if, .oif_invert = 1, .ct = 1, .ct_invert = 1,
				  .target = "RETURN" };

		err = add(&out[CH_POST], &s, NULL);
	}
	for (size_t i = 0; !err && i < w->n_fips; i++) {
		struct spec s = { .src = w->snat_map[i].key, .smask = 0xffffffffu,
				  .target = "SNAT", .to = w->snat_map[i].val };

		err = add(&out[CH_POST], &s, NULL);
	}
	for (size_t i = 0; !err && w->snat && i < w->n_nets; i++) {
		struct spec s = { .src = w->nets[i].addr, .smask = mask_of(w->nets[i].len),
				  .oif = w->gw_if, .target = "SNAT", .to = w->external };

		nat_desc_snat(desc, sizeof(desc), &w->nets[i], w->gw_if, w->external);
		err = add(&out[CH_POST], &s, desc);
	}
	for (size_t i = 0; !err && w->external && i < w->n_nets; i++) {
		struct spec s = { .src = w->nets[i].addr, .smask = mask_of(w->nets[i].len),
				  .ct = 1, .target = "SNAT", .to = w->external };

		nat_desc_hairpin(desc, sizeof(desc), &w->nets[i], w->external);
		err = add(&out[CH_POST], &s, desc);
	}
	if (err)
		ipt_rules_free(out);
	return err;
}

void ipt_rules_free(struct ipt_rules out[IPT_NCHAINS])
{
	for (int c = 0; c < IPT_NCHAINS; c++) {
		for (size_t i = 0; i < out[c].n; i++)
			free(out[c].r[i].e);
		free(out[c].r);
		memset(&out[c], 0, sizeof(out[c]));
	}
}

static const struct xt_entry_target *target_of(const struct ipt_entry *e)
{
	return (const struct xt_entry_target *)((const char *)e + e->target_offset);
}

int ipt_entry_same(const struct ipt_entry *e, struct xtc_handle *h, const struct ipt_rule *r)
{
	const struct ipt_entry *w = r->e;
	const char *name = iptc_get_target(e, h);

	if (memcmp(&e->ip, &w->ip, sizeof(e->ip)) || e->target_offset != w->target_offset ||
	    e->next_offset != w->next_offset || !name || strcmp(name, r->target))
		return 0;
	/* Matches: names compared as strings, the kernel leaves bytes of its
	 * own after the NUL. */
	for (size_t off = sizeof(*e); off < e->target_offset;) {
		const struct xt_entry_match *a = (const void *)((const char *)e + off);
		const struct xt_entry_match *b = (const void *)((const char *)w + off);

		if (a->u.match_size != b->u.match_size || a->u.match_size < sizeof(*a) ||
		    strncmp(a->u.user.name, b->u.user.name, sizeof(a->u.user.name)) ||
		    a->u.user.revision != b->u.user.revision ||
		    memcmp(a->data, b->data, a->u.match_size - sizeof(*a)))
			return 0;
		off += a->u.match_size;
	}
	/* A standard target's verdict is an offset libiptc resolves. */
	if (!strcmp(r->target, "DNAT") || !strcmp(r->target, "SNAT"))
		return !memcmp(target_of(e)->data, target_of(w)->data,
			       e->next_offset - e->target_offset - sizeof(struct xt_entry_target));
	return 1;
}

int ipt_entry_is_jump(const struct ipt_entry *e, struct xtc_handle *h, const char *chain)
{
	static const struct ipt_ip any; /* all zero: no condition */
	const char *name = iptc_get_target(e, h);

	return name && !strcmp(name, chain) && !memcmp(&e->ip, &any, sizeof(any)) &&
	       e->target_offset == sizeof(*e);
}

static uint8_t len_of(uint32_t mask)
{
	return (uint8_t)__builtin_popcount(mask);
}

enum ipt_kind ipt_entry_decode(const struct ipt_entry *e, struct xtc_handle *h,
			       struct nat_pair *fip, char *desc, size_t len)
{
	const char *name = iptc_get_target(e, h);
	const struct nf_nat_ipv4_multi_range_compat *mr;
	struct nat_net net;
	int has_match = e->target_offset > sizeof(*e);

	if (!name || (strcmp(name, "DNAT") && strcmp(name, "SNAT")) ||
	    e->next_offset - e->target_offset != TARGET_NAT_SIZE)
		return IPT_OTHER;
	mr = (const void *)target_of(e)->data;
	if (mr->rangesize != 1)
		return IPT_OTHER;
	if (!strcmp(name, "DNAT")) {
		if (e->ip.dmsk.s_addr != 0xffffffffu || has_match)
			return IPT_OTHER;
		*fip = (struct nat_pair){ e->ip.dst.s_addr, mr->range[0].min_ip };
		return IPT_FIP;
	}
	if (!has_match && !e->ip.outiface[0] && e->ip.smsk.s_addr == 0xffffffffu) {
		*fip = (struct nat_pair){ e->ip.src.s_addr, mr->range[0].min_ip };
		return IPT_FIP;
	}
	net.addr = e->ip.src.s_addr;
	net.len = len_of(e->ip.smsk.s_addr);
	if (e->ip.outiface[0] && !(e->ip.invflags & IPT_INV_VIA_OUT))
		nat_desc_snat(desc, len, &net, e->ip.outiface, mr->range[0].min_ip);
	else
		nat_desc_hairpin(desc, len, &net, mr->range[0].min_ip);
	return IPT_NET;
}
