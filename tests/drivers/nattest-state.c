/* NAT state read back from the kernel, independently of the drivers' own
 * code: nftables through libnftnl/libmnl dumps, iptables through libiptc.
 * And foreign objects (an nft table, legacy iptables rules and a chain)
 * that the drivers must leave exactly as they are. */
#include "config.h"

#include <netinet/in.h>
#include <libiptc/libiptc.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nattest.h"

#define NFT_TABLE "vxcloud"
#define FOREIGN "foreign"
/* libiptc takes chain names as char[32]: give it whole buffers. */
#define L(s) ((const char *)(char[sizeof(xt_chainlabel)]){ s })

/* ---- a growing string ----------------------------------------------- */

struct str {
	char *s;
	size_t len, cap;
};

static void sadd(struct str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sadd(struct str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
		if (!b->len)
			b->s[0] = 0;
	}
}

/* ---- nftables: dumps ------------------------------------------------ */

struct nl {
	struct mnl_socket *s;
	char *buf;
	uint32_t seq;
	int saved;
};

static int nl_open(struct nl *n, const char *ns)
{
	memset(n, 0, sizeof(*n));
	if (nt_enter(ns, &n->saved) < 0)
		return -ENOENT;
	n->buf = malloc(1 << 18);
	n->s = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->buf || !n->s || mnl_socket_bind(n->s, 0, MNL_SOCKET_AUTOPID) < 0)
		return -EIO;
	n->seq = (uint32_t)time(NULL);
	return 0;
}

static void nl_close(struct nl *n)
{
	if (n->s)
		mnl_socket_close(n->s);
	free(n->buf);
	nt_leave(n->saved);
}

static int nl_query(struct nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	int ret;

	if (mnl_socket_sendto(n->s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t r = mnl_socket_recvfrom(n->s, n->buf, 1 << 18);

		if (r < 0)
			return -errno;
		ret = mnl_cb_run(n->buf, r, nlh->nlmsg_seq, mnl_socket_get_portid(n->s), cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

struct elems {
	struct nt_pair *p;
	size_t n;
};

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elems *el = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len;
		const uint32_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		const uint32_t *v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);

		el->p = realloc(el->p, (el->n + 1) * sizeof(*el->p));
		el->p[el->n++] = (struct nt_pair){ k ? *k : 0, v ? *v : 0 };
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int nft_elems(struct nl *n, const char *table, const char *set, struct elems *el)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
						     NLM_F_DUMP, ++n->seq);

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	return nl_query(n, nlh, elem_cb, el);
}

static int any_cb(const struct nlmsghdr *nlh, void *data)
{
	*(int *)data = 1;
	return MNL_CB_OK;
}

static int nft_table_exists(struct nl *n, const char *table)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4,
						     NLM_F_ACK, ++n->seq);
	int found = 0;

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	return nl_query(n, nlh, any_cb, &found) == 0 && found;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct nt_pair *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* fwd must be exactly the inverse of rev. */
static int check_inverse(struct nt_pair *fwd, size_t n, struct nt_pair *rev, size_t m)
{
	struct nt_pair *inv;

	if (n != m)
		return -EPROTO;
	inv = malloc((m + 1) * sizeof(*inv));
	for (size_t i = 0; i < m; i++)
		inv[i] = (struct nt_pair){ rev[i].val, rev[i].key };
	qsort(inv, m, sizeof(*inv), cmp_pair);
	qsort(fwd, n, sizeof(*fwd), cmp_pair);
	for (size_t i = 0; i < n; i++)
		if (fwd[i].key != inv[i].key || fwd[i].val != inv[i].val) {
			free(inv);
			return -EPROTO;
		}
	free(inv);
	return 0;
}

static int nft_fips(const char *ns, struct nt_pair **out, size_t *n)
{
	struct elems d = { 0 }, s = { 0 };
	struct nl nl;
	int err = nl_open(&nl, ns);

	if (!err && nft_table_exists(&nl, NFT_TABLE)) {
		err = nft_elems(&nl, NFT_TABLE, "fip_dnat", &d);
		if (!err)
			err = nft_elems(&nl, NFT_TABLE, "fip_snat", &s);
		if (!err)
			err = check_inverse(d.p, d.n, s.p, s.n);
	}
	nl_close(&nl);
	free(s.p);
	*out = d.p;
	*n = d.n;
	return err;
}

struct rules {
	struct str *out;
	int comments_only;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rules *r = data;
	struct nftnl_rule *rule = nftnl_rule_alloc();
	char buf[4096];

	if (nftnl_rule_nlmsg_parse(nlh, rule) == 0) {
		if (r->comments_only) {
			const char *c = NULL;
			uint32_t len;
			const void *ud = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len);

			if (ud)
				nftnl_udata_parse(ud, len, comment_cb, &c);
			if (c && (!strncmp(c, "SNAT ", 5) || !strncmp(c, "hairpin ", 8)))
				sadd(r->out, "%s\n", c);
		} else {
			nftnl_rule_snprintf(buf, sizeof(buf), rule, NFTNL_OUTPUT_DEFAULT, 0);
			sadd(r->out, "%s\n", buf);
		}
	}
	nftnl_rule_free(rule);
	return MNL_CB_OK;
}

static int nft_rules(struct nl *n, const char *table, struct rules *r)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4,
						     NLM_F_DUMP, ++n->seq);

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	return nl_query(n, nlh, rule_cb, r);
}

/* ---- iptables ------------------------------------------------------- */

static int ipt_nat_exists(void)
{
	char line[64];
	FILE *f = fopen("/proc/thread-self/net/ip_tables_names", "re");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "nat\n");
	if (f)
		fclose(f);
	return found;
}

static const struct nf_nat_ipv4_multi_range_compat *nat_range(const struct ipt_entry *e)
{
	const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);

	return (const void *)t->data;
}

static int ipt_chain_pairs(struct xtc_handle *h, const char *chain, int snat,
			   struct elems *out)
{
	const struct ipt_entry *e;

	if (!iptc_is_chain(chain, h))
		return -ENOENT;
	for (e = iptc_first_rule(chain, h); e; e = iptc_next_rule(e, h)) {
		const char *t = iptc_get_target(e, h);
		uint32_t a = snat ? e->ip.src.s_addr : e->ip.dst.s_addr;
		uint32_t m = snat ? e->ip.smsk.s_addr : e->ip.dmsk.s_addr;

		if (strcmp(t, snat ? "SNAT" : "DNAT") || m != 0xffffffffu ||
		    e->target_offset != sizeof(*e) || e->ip.outiface[0])
			continue;
		out->p = realloc(out->p, (out->n + 1) * sizeof(*out->p));
		out->p[out->n++] = (struct nt_pair){ a, nat_range(e)->range[0].min_ip };
	}
	return 0;
}

static int ipt_fips(const char *ns, struct nt_pair **out, size_t *n)
{
	struct elems pre = { 0 }, o = { 0 }, post = { 0 };
	struct xtc_handle *h = NULL;
	int saved, err = nt_enter(ns, &saved);

	*out = NULL;
	*n = 0;
	if (err)
		return err;
	if (!ipt_nat_exists() || !(h = iptc_init("nat")) || !iptc_is_chain("vxc-pre", h))
		goto out;
	err = ipt_chain_pairs(h, "vxc-pre", 0, &pre);
	if (!err)
		err = ipt_chain_pairs(h, "vxc-out", 0, &o);
	if (!err)
		err = ipt_chain_pairs(h, "vxc-post", 1, &post);
	if (!err)
		err = check_inverse(pre.p, pre.n, post.p, post.n);
	if (!err && (o.n != pre.n ||
		     (qsort(o.p, o.n, sizeof(*o.p), cmp_pair),
		      memcmp(o.p, pre.p, o.n * sizeof(*o.p)))))
		err = -EPROTO;
out:
	if (h)
		iptc_free(h);
	nt_leave(saved);
	free(o.p);
	free(post.p);
	*out = pre.p;
	*n = pre.n;
	return err;
}

static int is_jump(const struct ipt_entry *e, struct xtc_handle *h, const char *to)
{
	static const struct ipt_ip any;

	return !strcmp(iptc_get_target(e, h), to) && !memcmp(&e->ip, &any, sizeof(any)) &&
	       e->target_offset == sizeof(*e);
}

static int ipt_objects(const char *ns)
{
	static const char *const ch[3][2] = { { "vxc-pre", "PREROUTING" },
					      { "vxc-out", "OUTPUT" },
					      { "vxc-post", "POSTROUTING" } };
	struct xtc_handle *h;
	int saved, found = 0, whole = 1;

	if (nt_enter(ns, &saved))
		return -ENOENT;
	if (ipt_nat_exists() && (h = iptc_init("nat"))) {
		for (int i = 0; i < 3; i++) {
			const struct ipt_entry *e;
			int jumps = 0;

			if (!iptc_is_chain(ch[i][0], h)) {
				whole = 0;
				continue;
			}
			found = 1;
			for (e = iptc_first_rule(ch[i][1], h); e; e = iptc_next_rule(e, h))
				jumps += is_jump(e, h, ch[i][0]);
			if (jumps != 1)
				whole = 0;
		}
		iptc_free(h);
	}
	nt_leave(saved);
	/* Partly there counts as an error: -EPROTO. */
	return found ? (whole ? 1 : -EPROTO) : 0;
}

static char *ipt_rules(const char *ns)
{
	struct str s = { 0 };
	struct xtc_handle *h;
	const struct ipt_entry *e;
	int saved;

	sadd(&s, "%s", "");
	if (nt_enter(ns, &saved))
		return s.s;
	if (ipt_nat_exists() && (h = iptc_init("nat"))) {
		if (iptc_is_chain("vxc-post", h))
			for (e = iptc_first_rule("vxc-post", h); e; e = iptc_next_rule(e, h)) {
				char a[16], b[16];
				int len = __builtin_popcount(e->ip.smsk.s_addr);

				if (strcmp(iptc_get_target(e, h), "SNAT") || len == 32)
					continue;
				if (e->ip.outiface[0])
					sadd(&s, "SNAT %s/%d out %s to %s\n",
					     nt_ipstr(e->ip.src.s_addr, a), len, e->ip.outiface,
					     nt_ipstr(nat_range(e)->range[0].min_ip, b));
				else
					sadd(&s, "hairpin SNAT %s/%d to %s\n",
					     nt_ipstr(e->ip.src.s_addr, a), len,
					     nt_ipstr(nat_range(e)->range[0].min_ip, b));
			}
		iptc_free(h);
	}
	nt_leave(saved);
	return s.s;
}

/* ---- per driver ----------------------------------------------------- */

int nt_read_fips(const char *driver, const char *ns, struct nt_pair **out, size_t *n)
{
	int err = !strcmp(driver, "nftables") ? nft_fips(ns, out, n) : ipt_fips(ns, out, n);

	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_pair);
	return err;
}

int nt_has_objects(const char *driver, const char *ns)
{
	struct nl nl;
	int found;

	if (strcmp(driver, "nftables"))
		return ipt_objects(ns);
	if (nl_open(&nl, ns)) {
		nl_close(&nl);
		return -ENOENT;
	}
	found = nft_table_exists(&nl, NFT_TABLE);
	nl_close(&nl);
	return found;
}

int nt_nft_table_exists(const char *ns, const char *table)
{
	struct nl nl;
	int found;

	if (nl_open(&nl, ns)) {
		nl_close(&nl);
		return -ENOENT;
	}
	found = nft_table_exists(&nl, table);
	nl_close(&nl);
	return found;
}

char *nt_read_rules(const char *driver, const char *ns)
{
	struct str s = { 0 };
	struct rules r = { &s, 1 };
	struct nl nl;

	if (strcmp(driver, "nftables"))
		return ipt_rules(ns);
	sadd(&s, "%s", "");
	if (!nl_open(&nl, ns) && nft_table_exists(&nl, NFT_TABLE))
		nft_rules(&nl, NFT_TABLE, &r);
	nl_close(&nl);
	return s.s;
}

/* ---- foreign objects ------------------------------------------------ */

struct batch {
	char buf[65536];
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
};

static void batch_begin(struct batch *bt)
{
	bt->seq = (uint32_t)time(NULL);
	bt->b = mnl_nlmsg_batch_start(bt->buf, sizeof(bt->buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
}

static struct nlmsghdr *batch_msg(struct batch *bt, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_IPV4,
				     flags | NLM_F_ACK, bt->seq++);
}

static int batch_send(struct batch *bt, const char *ns)
{
	uint32_t last = bt->seq - 1; /* the last command */
	struct nl nl;
	int err, done = 0;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
	err = nl_open(&nl, ns);
	if (!err && mnl_socket_sendto(nl.s, mnl_nlmsg_batch_head(bt->b),
				      mnl_nlmsg_batch_size(bt->b)) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t n = mnl_socket_recvfrom(nl.s, nl.buf, 1 << 18);
		const struct nlmsghdr *nlh = (const void *)nl.buf;

		if (n < 0) {
			err = -errno;
			break;
		}
		for (; mnl_nlmsg_ok(nlh, (int)n); nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type == NLMSG_ERROR && e->error)
				err = e->error;
			if (nlh->nlmsg_seq == last)
				done = 1;
		}
	}
	mnl_nlmsg_batch_stop(bt->b);
	nl_close(&nl);
	return err;
}

static struct nftnl_expr *expr(const char *name, const uint16_t *keys, const uint32_t *vals,
			       size_t n)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	for (size_t i = 0; i < n; i++)
		nftnl_expr_set_u32(e, keys[i], vals[i]);
	return e;
}

/* ip daddr 192.0.2.99 dnat to 10.9.9.9 */
static struct nftnl_rule *foreign_rule(void)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	uint32_t daddr = nt_ip("192.0.2.99"), to = nt_ip("10.9.9.9");

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FOREIGN);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "fpre");
	nftnl_rule_add_expr(r, expr("payload",
				    (const uint16_t[]){ NFTNL_EXPR_PAYLOAD_BASE,
							NFTNL_EXPR_PAYLOAD_OFFSET,
							NFTNL_EXPR_PAYLOAD_LEN,
							NFTNL_EXPR_PAYLOAD_DREG },
				    (const uint32_t[]){ NFT_PAYLOAD_NETWORK_HEADER, 16, 4,
							NFT_REG_1 }, 4));
	e = expr("cmp", (const uint16_t[]){ NFTNL_EXPR_CMP_SREG, NFTNL_EXPR_CMP_OP },
		 (const uint32_t[]){ NFT_REG_1, NFT_CMP_EQ }, 2);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &daddr, 4);
	nftnl_rule_add_expr(r, e);
	e = expr("immediate", (const uint16_t[]){ NFTNL_EXPR_IMM_DREG },
		 (const uint32_t[]){ NFT_REG_1 }, 1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &to, 4);
	nftnl_rule_add_expr(r, e);
	nftnl_rule_add_expr(r, expr("nat",
				    (const uint16_t[]){ NFTNL_EXPR_NAT_TYPE, NFTNL_EXPR_NAT_FAMILY,
							NFTNL_EXPR_NAT_REG_ADDR_MIN },
				    (const uint32_t[]){ NFT_NAT_DNAT, NFPROTO_IPV4, NFT_REG_1 },
				    3));
	return r;
}

static int nft_foreign_create(const char *ns)
{
	struct batch *bt = calloc(1, sizeof(*bt));
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_rule *r = foreign_rule();
	int err;

	batch_begin(bt);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FOREIGN);
	nftnl_table_nlmsg_build_payload(batch_msg(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
	mnl_nlmsg_batch_next(bt->b);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FOREIGN);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "fset");
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_nlmsg_build_payload(batch_msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	mnl_nlmsg_batch_next(bt->b);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, FOREIGN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "fpre");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -150);
	nftnl_chain_nlmsg_build_payload(batch_msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	mnl_nlmsg_batch_next(bt->b);
	nftnl_rule_nlmsg_build_payload(
		batch_msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	mnl_nlmsg_batch_next(bt->b);
	err = batch_send(bt, ns);
	nftnl_table_free(t);
	nftnl_chain_free(c);
	nftnl_set_free(s);
	nftnl_rule_free(r);
	free(bt);
	return err;
}

static int nft_foreign_poke(const char *ns)
{
	static uint32_t n = 1;
	struct batch *bt = calloc(1, sizeof(*bt));
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t key = htonl(0xc0000200u + (n++ & 0xff)); /* 192.0.2.x */
	int err;

	batch_begin(bt);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FOREIGN);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "fset");
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, 4);
	nftnl_set_elem_add(s, e);
	nftnl_set_elems_nlmsg_build_payload(batch_msg(bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE), s);
	mnl_nlmsg_batch_next(bt->b);
	err = batch_send(bt, ns);
	nftnl_set_free(s);
	free(bt);
	return err;
}

static struct ipt_entry *ipt_entry_nat(uint32_t dst, const char *target, uint32_t to)
{
	size_t tsize = XT_ALIGN(sizeof(struct xt_entry_target)) +
		       XT_ALIGN(sizeof(struct nf_nat_ipv4_multi_range_compat));
	struct ipt_entry *e = calloc(1, sizeof(*e) + tsize);
	struct xt_entry_target *t = (void *)e->elems;
	struct nf_nat_ipv4_multi_range_compat *mr = (void *)t->data;

	e->ip.dst.s_addr = dst;
	e->ip.dmsk.s_addr = 0xffffffffu;
	e->target_offset = sizeof(*e);
	e->next_offset = sizeof(*e) + tsize;
	t->u.user.target_size = tsize;
	strcpy(t->u.user.name, target);
	mr->rangesize = 1;
	mr->range[0].flags = NF_NAT_RANGE_MAP_IPS;
	mr->range[0].min_ip = mr->range[0].max_ip = to;
	return e;
}

static struct ipt_entry *ipt_entry_std(uint32_t src, const char *target)
{
	size_t tsize = XT_ALIGN(sizeof(struct xt_standard_target));
	struct ipt_entry *e = calloc(1, sizeof(*e) + tsize);
	struct xt_entry_target *t = (void *)e->elems;

	e->ip.src.s_addr = src;
	e->ip.smsk.s_addr = src ? 0xffffffffu : 0;
	e->target_offset = sizeof(*e);
	e->next_offset = sizeof(*e) + tsize;
	t->u.user.target_size = tsize;
	strcpy(t->u.user.name, target);
	return e;
}

static int ipt_foreign_create(const char *ns)
{
	struct xtc_handle *h;
	struct ipt_entry *e;
	int saved, ok = 1;

	if (nt_enter(ns, &saved))
		return -ENOENT;
	h = iptc_init("nat");
	if (!h) {
		nt_leave(saved);
		return -EIO;
	}
	e = ipt_entry_nat(nt_ip("192.0.2.99"), "DNAT", nt_ip("10.9.9.9"));
	ok &= iptc_append_entry(L("PREROUTING"), e, h);
	free(e);
	e = ipt_entry_std(nt_ip("192.0.2.98"), "RETURN");
	ok &= iptc_append_entry(L("POSTROUTING"), e, h);
	free(e);
	ok &= iptc_create_chain(L("fx"), h);
	e = ipt_entry_std(nt_ip("192.0.2.97"), "RETURN");
	ok &= iptc_append_entry(L("fx"), e, h);
	free(e);
	e = ipt_entry_std(0, "fx");
	ok &= iptc_append_entry(L("OUTPUT"), e, h);
	free(e);
	ok = ok && iptc_commit(h);
	iptc_free(h);
	h = iptc_init("filter");
	e = ipt_entry_std(nt_ip("192.0.2.96"), "ACCEPT");
	ok = ok && h && iptc_append_entry(L("FORWARD"), e, h) && iptc_commit(h);
	free(e);
	if (h)
		iptc_free(h);
	nt_leave(saved);
	return ok ? 0 : -EIO;
}

static int ipt_foreign_poke(const char *ns)
{
	static uint32_t n = 1;
	struct xtc_handle *h;
	struct ipt_entry *e;
	int saved, ok;

	if (nt_enter(ns, &saved))
		return -ENOENT;
	h = iptc_init("nat");
	e = ipt_entry_std(htonl(0xc6336400u + (n++ & 0xff)), "RETURN"); /* 198.51.100.x */
	ok = h && iptc_append_entry(L("fx"), e, h) && iptc_commit(h);
	free(e);
	if (h)
		iptc_free(h);
	nt_leave(saved);
	return ok ? 0 : -EIO;
}

int nt_foreign_create(const char *ns)
{
	int err = nft_foreign_create(ns);

	return err ? err : ipt_foreign_create(ns);
}

int nt_foreign_poke(const char *ns)
{
	int err = nft_foreign_poke(ns);

	return err ? err : ipt_foreign_poke(ns);
}

static void ipt_fingerprint(struct str *s, const char *table)
{
	struct xtc_handle *h = iptc_init(table);
	const char *chain;

	if (!h)
		return;
	for (chain = iptc_first_chain(h); chain; chain = iptc_next_chain(h)) {
		const struct ipt_entry *e;

		if (!strncmp(chain, "vxc-", 4))
			continue;
		sadd(s, "%s %s:", table, chain);
		for (e = iptc_first_rule(chain, h); e; e = iptc_next_rule(e, h)) {
			const char *t = iptc_get_target(e, h);
			const unsigned char *p = (const void *)e;

			if (!strncmp(t, "vxc-", 4))
				continue; /* our jumps */
			sadd(s, " [%s", t);
			for (size_t i = 0; i < sizeof(e->ip); i++)
				sadd(s, "%02x", p[i]);
			sadd(s, "]");
		}
		sadd(s, "\n");
	}
	iptc_free(h);
}

char *nt_foreign_fingerprint(const char *ns)
{
	struct str s = { 0 };
	struct rules r = { &s, 0 };
	struct elems el = { 0 };
	struct nl nl;
	int saved;

	sadd(&s, "%s", "");
	if (!nl_open(&nl, ns)) {
		sadd(&s, "table foreign: %d\n", nft_table_exists(&nl, FOREIGN));
		nft_rules(&nl, FOREIGN, &r);
		nft_elems(&nl, FOREIGN, "fset", &el);
		qsort(el.p, el.n, sizeof(*el.p), cmp_pair);
		for (size_t i = 0; i < el.n; i++)
			sadd(&s, "fset %08x\n", el.p[i].key);
		free(el.p);
	}
	nl_close(&nl);
	if (!nt_enter(ns, &saved)) {
		if (ipt_nat_exists())
			ipt_fingerprint(&s, "nat");
		ipt_fingerprint(&s, "filter");
		nt_leave(saved);
	}
	return s.s;
}
