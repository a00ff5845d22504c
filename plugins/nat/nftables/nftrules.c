/* The objects of our table as libnftnl builds them: the skeleton (table,
 * maps, base chains), the rules derived from the router, and map elements.
 * Each rule carries a comment naming what it does, so `nft list table ip
 * vxcloud` reads well and removed rules can be reported by name. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft.h"

#define NFT_TYPE_IPADDR 7 /* nft's ipv4_addr datatype, shown by `nft list` */
#define NAT_PRIO_DST (-100) /* NF_IP_PRI_NAT_DST, "dstnat" */
#define NAT_PRIO_SRC 100    /* NF_IP_PRI_NAT_SRC, "srcnat" */
#define IP_SADDR_OFF 12
#define IP_DADDR_OFF 16

const struct nft_chain_def nft_chains[NFT_NCHAINS] = {
	{ "prerouting", NF_INET_PRE_ROUTING, NAT_PRIO_DST },
	{ "output", NF_INET_LOCAL_OUT, NAT_PRIO_DST },
	{ "postrouting", NF_INET_POST_ROUTING, NAT_PRIO_SRC },
};

enum { CH_PRE, CH_OUT, CH_POST };

/* ---- expressions ---------------------------------------------------- */

static int add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int x_payload(struct nftnl_rule *r, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int x_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

static int x_mask(struct nftnl_rule *r, uint32_t mask)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint32_t zero = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	return add_expr(r, e);
}

static int x_oifname(struct nftnl_rule *r, uint32_t op, const char *ifname)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	char name[VXC_IFNAMSIZ] = { 0 };

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_OIFNAME);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	if (add_expr(r, e) < 0)
		return -ENOMEM;
	snprintf(name, sizeof(name), "%s", ifname);
	return x_cmp(r, op, name, sizeof(name));
}

/* ct status & dnat == 0 (op NFT_CMP_EQ) or != 0 (NFT_CMP_NEQ) */
static int x_ct_dnat(struct nftnl_rule *r, uint32_t op)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t zero = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if (add_expr(r, e) < 0 || x_mask(r, IPS_DST_NAT) < 0)
		return -ENOMEM;
	return x_cmp(r, op, &zero, sizeof(zero));
}

static int x_saddr_in(struct nftnl_rule *r, const struct nat_net *n)
{
	uint32_t mask = n->len ? htonl(~0u << (32 - n->len)) : 0;

	if (x_payload(r, IP_SADDR_OFF, 4) < 0 || x_mask(r, mask) < 0)
		return -ENOMEM;
	return x_cmp(r, NFT_CMP_EQ, &n->addr, sizeof(n->addr));
}

static int x_lookup(struct nftnl_rule *r, const char *map)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	}
	return add_expr(r, e);
}

static int x_addr(struct nftnl_rule *r, uint32_t addr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &addr, sizeof(addr));
	}
	return add_expr(r, e);
}

static int x_accept(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	}
	return add_expr(r, e);
}

static int x_nat(struct nftnl_rule *r, uint32_t type)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		/* As the kernel dumps it back, so a read rule compares equal. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_MAP_IPS);
	}
	return add_expr(r, e);
}

/* ---- rules ---------------------------------------------------------- */

char *nft_rule_text(const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	size_t cap = 512, len = 0;
	char *s = malloc(cap);

	if (!it || !s)
		goto fail;
	s[0] = 0;
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		int n;

		for (;;) {
			n = snprintf(s + len, cap - len, "[%s ", name ? name : "?");
			if (n >= 0 && (size_t)n < cap - len) {
				int m = nftnl_expr_snprintf(s + len + n, cap - len - n, e,
							    NFTNL_OUTPUT_DEFAULT, 0);
				if (m >= 0 && (size_t)(n + m + 2) < cap - len) {
					len += n + m;
					s[len++] = ']';
					s[len] = 0;
					break;
				}
			}
			cap *= 2;
			char *p = realloc(s, cap);
			if (!p)
				goto fail;
			s = p;
		}
	}
	nftnl_expr_iter_destroy(it);
	return s;
fail:
	if (it)
		nftnl_expr_iter_destroy(it);
	free(s);
	return NULL;
}

static struct nftnl_rule *rule_new(const char *table, const char *chain, const char *comment)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *ud;

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment)) {
		nftnl_udata_buf_free(ud);
		nftnl_rule_free(r);
		return NULL;
	}
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
			    nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return r;
}

static struct nft_rule_want *slot(struct nft_want_rules *c)
{
	void *p = realloc(c->r, (c->n + 1) * sizeof(*c->r));

	if (!p)
		return NULL;
	c->r = p;
	memset(&c->r[c->n], 0, sizeof(c->r[0]));
	return &c->r[c->n++];
}

/* Builds one rule through fill(); keeps its text for comparison. */
static int rule(struct nft_want_rules *c, const char *table, int ch, const char *comment,
		int semantic, int (*fill)(struct nftnl_rule *, const void *), const void *arg)
{
	struct nft_rule_want *w = slot(c);

	if (!w)
		return -ENOMEM;
	snprintf(w->comment, sizeof(w->comment), "%s", comment);
	w->semantic = semantic;
	w->rule = rule_new(table, nft_chains[ch].name, comment);
	if (!w->rule || fill(w->rule, arg) < 0)
		return -ENOMEM;
	w->text = nft_rule_text(w->rule);
	return w->text ? 0 : -ENOMEM;
}

static int fill_dnat(struct nftnl_rule *r, const void *arg)
{
	if (x_payload(r, IP_DADDR_OFF, 4) < 0 || x_lookup(r, NFT_MAP_DNAT) < 0)
		return -ENOMEM;
	return x_nat(r, NFT_NAT_DNAT);
}

/* Traffic routed between attached networks keeps its addresses: only what
 * leaves through the gateway port, or was DNATed (hairpin), goes on. */
static int fill_guard(struct nftnl_rule *r, const void *arg)
{
	if (x_oifname(r, NFT_CMP_NEQ, arg) < 0 || x_ct_dnat(r, NFT_CMP_EQ) < 0)
		return -ENOMEM;
	return x_accept(r);
}

static int fill_fip_snat(struct nftnl_rule *r, const void *arg)
{
	if (x_payload(r, IP_SADDR_OFF, 4) < 0 || x_lookup(r, NFT_MAP_SNAT) < 0)
		return -ENOMEM;
	return x_nat(r, NFT_NAT_SNAT);
}

struct net_arg {
	const struct nat_net *net;
	const struct nat_want *w;
};

static int fill_snat(struct nftnl_rule *r, const void *arg)
{
	const struct net_arg *a = arg;

	if (x_saddr_in(r, a->net) < 0 || x_oifname(r, NFT_CMP_EQ, a->w->gw_if) < 0 ||
	    x_addr(r, a->w->external) < 0)
		return -ENOMEM;
	return x_nat(r, NFT_NAT_SNAT);
}

/* An instance reaching a floating IP of its own network: without SNAT the
 * target would answer it directly, bypassing the reverse DNAT. */
static int fill_hairpin(struct nftnl_rule *r, const void *arg)
{
	const struct net_arg *a = arg;

	if (x_saddr_in(r, a->net) < 0 || x_ct_dnat(r, NFT_CMP_NEQ) < 0 ||
	    x_addr(r, a->w->external) < 0)
		return -ENOMEM;
	return x_nat(r, NFT_NAT_SNAT);
}

int nft_rules_build(const char *table, const struct nat_want *w,
		    struct nft_want_rules out[NFT_NCHAINS])
{
	char desc[NAT_DESC_LEN];
	int err;

	memset(out, 0, NFT_NCHAINS * sizeof(*out));
	err = rule(&out[CH_PRE], table, CH_PRE, "vxcloud: floating IPs", 0, fill_dnat, NULL);
	if (!err)
		err = rule(&out[CH_OUT], table, CH_OUT, "vxcloud: floating IPs", 0, fill_dnat,
			   NULL);
	if (!err)
		err = rule(&out[CH_POST], table, CH_POST,
			   "vxcloud: routed between attached networks, no NAT", 0, fill_guard,
			   w->gw_if);
	if (!err)
		err = rule(&out[CH_POST], table, CH_POST, "vxcloud: floating IPs", 0,
			   fill_fip_snat, NULL);
	for (size_t i = 0; !err && w->snat && i < w->n_nets; i++) {
		struct net_arg a = { &w->nets[i], w };

		nat_desc_snat(desc, sizeof(desc), &w->nets[i], w->gw_if, w->external);
		err = rule(&out[CH_POST], table, CH_POST, desc, 1, fill_snat, &a);
	}
	/* Hairpin needs an address the target answers to through the router;
	 * without an external address there is no floating IP either. */
	for (size_t i = 0; !err && w->external && i < w->n_nets; i++) {
		struct net_arg a = { &w->nets[i], w };

		nat_desc_hairpin(desc, sizeof(desc), &w->nets[i], w->external);
		err = rule(&out[CH_POST], table, CH_POST, desc, 1, fill_hairpin, &a);
	}
	if (err)
		nft_rules_free(out);
	return err;
}

void nft_rules_free(struct nft_want_rules out[NFT_NCHAINS])
{
	for (int c = 0; c < NFT_NCHAINS; c++) {
		for (size_t i = 0; i < out[c].n; i++) {
			if (out[c].r[i].rule)
				nftnl_rule_free(out[c].r[i].rule);
			free(out[c].r[i].text);
		}
		free(out[c].r);
		out[c].r = NULL;
		out[c].n = 0;
	}
}

/* ---- batch commands ------------------------------------------------- */

static struct nlmsghdr *cmd(struct nft_batch *b, uint16_t type, uint16_t flags, size_t room)
{
	char *p = nft_batch_room(b, room);

	if (!p)
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_IPV4, flags, nft_batch_seq(b));
}

static int put_table(struct nft_batch *b, const char *table, uint16_t type, uint16_t flags,
		     const char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	/* The ownership mark: a table of ours is found again under any name
	 * (the table setting renamed). */
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, NFT_TABLE_MARK,
				     sizeof(NFT_TABLE_MARK));
	nlh = cmd(b, type, flags, 1024);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nft_batch_add(b, what);
	}
	nftnl_table_free(t);
	return nlh ? 0 : -ENOMEM;
}

int nft_put_del_table(struct nft_batch *b, const char *table)
{
	return put_table(b, table, NFT_MSG_DELTABLE, 0, "delete the table");
}

static int put_map(struct nft_batch *b, const char *table, const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 4);
	nlh = cmd(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, 1024);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nft_batch_add(b, "create a map");
	}
	nftnl_set_free(s);
	return nlh ? 0 : -ENOMEM;
}

static int put_chain(struct nft_batch *b, const char *table, const struct nft_chain_def *d)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = cmd(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, 1024);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nft_batch_add(b, "create a chain");
	}
	nftnl_chain_free(c);
	return nlh ? 0 : -ENOMEM;
}

int nft_put_skeleton(struct nft_batch *b, const char *table)
{
	int err = put_table(b, table, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
			    "create the table");

	if (!err)
		err = put_map(b, table, NFT_MAP_DNAT, 1);
	if (!err)
		err = put_map(b, table, NFT_MAP_SNAT, 2);
	for (int i = 0; !err && i < NFT_NCHAINS; i++)
		err = put_chain(b, table, &nft_chains[i]);
	return err;
}

int nft_put_rule(struct nft_batch *b, const struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = cmd(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 4096);

	if (!nlh)
		return -ENOMEM;
	nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *)r);
	nft_batch_add(b, "add a rule");
	return 0;
}

int nft_put_flush_chain(struct nft_batch *b, const char *table, const char *chain)
{
	struct nlmsghdr *nlh = cmd(b, NFT_MSG_DELRULE, 0, 1024);

	if (!nlh)
		return -ENOMEM;
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	nft_batch_add(b, "flush a chain");
	return 0;
}

#define ELEMS_PER_MSG 1024
#define ELEM_ROOM 48 /* element nest: key and data nests of 4 bytes each */

static void put_value(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(v), &v);
	mnl_attr_nest_end(nlh, n);
}

int nft_put_elems(struct nft_batch *b, const char *table, const char *map, int add,
		  const struct nat_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i += ELEMS_PER_MSG) {
		size_t k = n - i < ELEMS_PER_MSG ? n - i : ELEMS_PER_MSG;
		struct nlmsghdr *nlh;
		struct nlattr *list;

		/* EXCL: an element we did not see means our view is stale. */
		nlh = cmd(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
			  add ? NLM_F_CREATE | NLM_F_EXCL : 0, 512 + k * ELEM_ROOM);
		if (!nlh)
			return -ENOMEM;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, map);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (size_t j = i; j < i + k; j++) {
			struct nlattr *e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

			put_value(nlh, NFTA_SET_ELEM_KEY, p[j].key);
			if (add)
				put_value(nlh, NFTA_SET_ELEM_DATA, p[j].val);
			mnl_attr_nest_end(nlh, e);
		}
		mnl_attr_nest_end(nlh, list);
		nft_batch_add(b, add ? "add map elements" : "delete map elements");
	}
	return 0;
}
