/* Reads what our table holds in the current namespace. Only our own table
 * is asked for, by name: foreign tables are never read (beyond the table
 * headers, to find tables carrying our mark under another name). */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "nft.h"

void nft_cur_free(struct nft_cur *c)
{
	for (int i = 0; i < NFT_NCHAINS; i++) {
		for (size_t j = 0; j < c->chain[i].n; j++) {
			free(c->chain[i].rules[j].text);
			free(c->chain[i].rules[j].comment);
		}
		free(c->chain[i].rules);
	}
	free(c->dnat);
	free(c->snat);
	memset(c, 0, sizeof(*c));
}

static struct nlmsghdr *get_hdr(struct nft_sock *s, char *buf, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_IPV4, flags, ++s->seq);
}

/* ---- table ---------------------------------------------------------- */

struct table_info {
	int found;
	uint32_t use, flags;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_info *ti = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		ti->found = 1;
		ti->use = nftnl_table_get_u32(t, NFTNL_TABLE_USE);
		ti->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int get_table(struct nft_sock *s, const char *table, struct table_info *ti)
{
	char buf[1024] = { 0 }; /* no uninitialised padding sent */
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETTABLE, NLM_F_ACK);
	int err;

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	memset(ti, 0, sizeof(*ti));
	err = nft_sock_query(s, nlh, table_cb, ti);
	return err == -ENOENT ? 0 : err;
}

int nft_read_table(struct nft_sock *s, const char *table, int *exists)
{
	struct table_info ti;
	int err = get_table(s, table, &ti);

	*exists = ti.found;
	return err;
}

struct marked {
	const char *keep;
	char **v;
	size_t n, cap;
	int err;
};

static int marked_cb(const struct nlmsghdr *nlh, void *data)
{
	struct marked *m = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const char *name;
	const void *ud;
	uint32_t len = 0;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    (name = nftnl_table_get_str(t, NFTNL_TABLE_NAME)) && strcmp(name, m->keep) &&
	    (ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len)) &&
	    len == sizeof(NFT_TABLE_MARK) && !memcmp(ud, NFT_TABLE_MARK, len)) {
		char **v = m->n + 2 > m->cap ? realloc(m->v, (m->cap + 8) * sizeof(*v)) : m->v;

		if (v && m->n + 2 > m->cap)
			m->cap += 8;
		if (!v || !(v[m->n] = strdup(name)))
			m->err = -ENOMEM;
		else
			v[++m->n] = NULL;
		if (v)
			m->v = v;
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int nft_marked_tables(struct nft_sock *s, const char *keep, char ***names, size_t *n)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETTABLE, NLM_F_DUMP);
	struct marked m = { .keep = keep };
	int err = nft_sock_query(s, nlh, marked_cb, &m);

	if (!err)
		err = m.err;
	if (err) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i]);
		free(m.v);
		return err;
	}
	*names = m.v;
	*n = m.n;
	return 0;
}

/* ---- chains and maps ------------------------------------------------ */

struct check {
	const struct nft_chain_def *def;
	int ok;
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct check *chk = data;
	const struct nft_chain_def *d = chk->def;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return MNL_CB_ERROR;
	chk->ok = nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	     nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
	     nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == d->hook &&
	     nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == d->prio &&
	     nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT &&
	     nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) &&
	     !strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "nat");
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

/* 0 when the chain is as we make it, -EBADSLT when it is not. */
static int check_chain(struct nft_sock *s, const char *table, const struct nft_chain_def *d)
{
	char buf[1024] = { 0 }; /* no uninitialised padding sent */
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETCHAIN, NLM_F_ACK);
	struct check chk = { d, 0 };
	int err;

	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, d->name);
	err = nft_sock_query(s, nlh, chain_cb, &chk);
	if (err == -ENOENT || (!err && !chk.ok))
		return -EBADSLT;
	return err;
}

static int map_cb(const struct nlmsghdr *nlh, void *data)
{
	struct check *chk = data;
	struct nftnl_set *m = nftnl_set_alloc();

	if (!m)
		return MNL_CB_ERROR;
	chk->ok = nftnl_set_nlmsg_parse(nlh, m) == 0 &&
	     (nftnl_set_get_u32(m, NFTNL_SET_FLAGS) & ~NFT_SET_EVAL) == NFT_SET_MAP &&
	     nftnl_set_get_u32(m, NFTNL_SET_KEY_LEN) == 4 &&
	     nftnl_set_get_u32(m, NFTNL_SET_DATA_LEN) == 4 &&
	     nftnl_set_get_u32(m, NFTNL_SET_DATA_TYPE) != NFT_DATA_VERDICT;
	nftnl_set_free(m);
	return MNL_CB_OK;
}

static int check_map(struct nft_sock *s, const char *table, const char *name)
{
	char buf[1024] = { 0 }; /* no uninitialised padding sent */
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETSET, NLM_F_ACK);
	struct check chk = { NULL, 0 };
	int err;

	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	err = nft_sock_query(s, nlh, map_cb, &chk);
	if (err == -ENOENT || (!err && !chk.ok))
		return -EBADSLT;
	return err;
}

/* ---- rules ---------------------------------------------------------- */

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_chain_cur *c = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nft_rule_cur *rc;
	const char *comment = NULL;
	const void *ud;
	uint32_t udlen;
	void *p;

	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto fail;
	p = realloc(c->rules, (c->n + 1) * sizeof(*c->rules));
	if (!p)
		goto fail;
	c->rules = p;
	rc = &c->rules[c->n];
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udlen);
	if (ud && udlen)
		nftnl_udata_parse(ud, udlen, comment_cb, &comment);
	rc->text = nft_rule_text(r);
	rc->comment = strdup(comment ? comment : "");
	if (!rc->text || !rc->comment) {
		free(rc->text);
		free(rc->comment);
		goto fail;
	}
	c->n++;
	nftnl_rule_free(r);
	return MNL_CB_OK;
fail:
	if (r)
		nftnl_rule_free(r);
	return MNL_CB_ERROR;
}

static int read_rules(struct nft_sock *s, const char *table, const char *chain,
		      struct nft_chain_cur *c)
{
	char buf[1024] = { 0 }; /* no uninitialised padding sent */
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETRULE, NLM_F_DUMP);

	/* The kernel filters the dump by table and chain. */
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	return nft_sock_query(s, nlh, rule_cb, c);
}

/* ---- map elements --------------------------------------------------- */

struct elems {
	struct nat_pair *p;
	size_t n, cap;
	int err;
};

static uint32_t nested_value(const struct nlattr *nest)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == NFTA_DATA_VALUE && mnl_attr_get_payload_len(a) == 4)
			return *(const uint32_t *)mnl_attr_get_payload(a);
	return 0;
}

/* Parsed by hand: libnftnl would allocate an object per element, and the
 * maps can hold tens of thousands. */
static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elems *el = data;
	const struct nlattr *a, *e, *f;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			struct nat_pair pr = { 0, 0 };

			mnl_attr_for_each_nested(f, e) {
				if (mnl_attr_get_type(f) == NFTA_SET_ELEM_KEY)
					pr.key = nested_value(f);
				else if (mnl_attr_get_type(f) == NFTA_SET_ELEM_DATA)
					pr.val = nested_value(f);
			}
			if (el->n == el->cap) {
				size_t cap = el->cap ? el->cap * 2 : 256;
				void *p = realloc(el->p, cap * sizeof(*el->p));

				if (!p) {
					el->err = -ENOMEM;
					return MNL_CB_ERROR;
				}
				el->p = p;
				el->cap = cap;
			}
			el->p[el->n++] = pr;
		}
	}
	return MNL_CB_OK;
}

int nft_read_map(struct nft_sock *s, const char *table, const char *map, struct nat_pair **out,
		 size_t *n)
{
	char buf[1024] = { 0 }; /* no uninitialised padding sent */
	struct nlmsghdr *nlh = get_hdr(s, buf, NFT_MSG_GETSETELEM, NLM_F_DUMP);
	struct elems el = { 0 };
	int err;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, map);
	err = nft_sock_query(s, nlh, elem_cb, &el);
	if (!err && el.err)
		err = el.err;
	if (err) {
		free(el.p);
		return err;
	}
	*out = el.p;
	*n = el.n;
	return 0;
}

/* ---- all of it ------------------------------------------------------ */

int nft_read(struct nft_sock *s, const char *table, struct nft_cur *c)
{
	struct table_info ti;
	int err;

	memset(c, 0, sizeof(*c));
	err = get_table(s, table, &ti);
	if (err || !ti.found)
		return err;
	c->table = 1;
	/* Exactly our chains and maps, nothing added, table not dormant. */
	c->sane = ti.use == NFT_TABLE_USE && ti.flags == 0;
	for (int i = 0; c->sane && i < NFT_NCHAINS; i++) {
		err = check_chain(s, table, &nft_chains[i]);
		if (err == -EBADSLT)
			c->sane = 0;
		else if (err)
			return err;
	}
	for (int i = 0; c->sane && i < 2; i++) {
		err = check_map(s, table, i ? NFT_MAP_SNAT : NFT_MAP_DNAT);
		if (err == -EBADSLT)
			c->sane = 0;
		else if (err)
			return err;
	}
	for (int i = 0; c->sane && i < NFT_NCHAINS; i++) {
		err = read_rules(s, table, nft_chains[i].name, &c->chain[i]);
		if (err)
			return err;
	}
	if (!c->sane) {
		/* Still learn the floating IPs, to report and flush them. */
		if (nft_read_map(s, table, NFT_MAP_DNAT, &c->dnat, &c->n_dnat) < 0)
			c->n_dnat = 0;
		return 0;
	}
	err = nft_read_map(s, table, NFT_MAP_DNAT, &c->dnat, &c->n_dnat);
	if (!err)
		err = nft_read_map(s, table, NFT_MAP_SNAT, &c->snat, &c->n_snat);
	return err;
}
