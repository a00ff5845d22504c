/* Full NAT. Members live on any host behind the tenant gateway, which is
 * their route back, not this namespace: IPVS's masquerading alone would
 * have them answer the client directly and the answer would be dropped.
 * So forwarded connections also leave with the VIP as source (one nftables
 * snat rule, conntrack kept for IPVS connections by net.ipv4.vs.conntrack)
 * and every answer comes back through the balancer.
 *
 * The table carries "snat VIP, not vrrp" as user data: a table that says so is
 * current; anything else is replaced whole in one transaction. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "driver.h"

#define SNAT_CHAIN "postrouting"
#define IPPROTO_VRRP_NUM 112

struct nlconn {
	struct mnl_socket *nl;
	uint32_t seq, portid;
	char buf[16384];
};

static int nlconn_open(struct nlconn *c)
{
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl)
		return -errno;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(c->nl);
		return r;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	return 0;
}

/* Answers until the ack (seq 0: any sequence); cb sees the replies. */
static int nlconn_wait(struct nlconn *c, uint32_t seq, mnl_cb_t cb, void *arg)
{
	int r;

	do {
		ssize_t n = mnl_socket_recvfrom(c->nl, c->buf, sizeof(c->buf));

		if (n < 0)
			return -errno;
		r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, cb, arg);
	} while (r > 0);
	return r < 0 ? -errno : 0;
}

static int on_table(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_table *t = nftnl_table_alloc();
	char *want = arg;
	uint32_t len = 0;
	const char *ud;

	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (!ud || len != strlen(want) + 1 || memcmp(ud, want, len))
		want[0] = '\0'; /* another VIP, or not ours as written */
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* 1 when the table exists and says mark, else 0. */
static int table_current(struct nlconn *c, const char *mark)
{
	char want[64];
	struct nlmsghdr *nlh;
	struct nftnl_table *t = nftnl_table_alloc();
	int r;

	if (!t)
		return -ENOMEM;
	snprintf(want, sizeof(want), "%s", mark);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, SNAT_TABLE);
	nlh = nftnl_nlmsg_build_hdr(c->buf, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, ++c->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = nlconn_wait(c, c->seq, on_table, want);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : want[0] != '\0';
}

static struct nftnl_expr *expr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

/* ip protocol != vrrp ip saddr != VIP snat to VIP. The adverts of a copy
 * on several hosts (keepalived, from its link-local address) leave as
 * they are: a copy not holding the VIP cannot send from it (the kernel
 * drops such a packet: EPERM). */
static struct nftnl_rule *snat_rule(struct in_addr vip)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	uint8_t vrrp = IPPROTO_VRRP_NUM;

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, SNAT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, SNAT_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	if (!(e = expr(r, "payload")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 9);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	if (!(e = expr(r, "cmp")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &vrrp, sizeof(vrrp));
	if (!(e = expr(r, "payload")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	if (!(e = expr(r, "cmp")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &vip, sizeof(vip));
	if (!(e = expr(r, "immediate")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &vip, sizeof(vip));
	if (!(e = expr(r, "nat")))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	return r;
fail:
	nftnl_rule_free(r);
	return NULL;
}

static struct nlmsghdr *cmd_hdr(struct mnl_nlmsg_batch *b, uint16_t type, uint16_t flags,
				uint32_t seq)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type, NFPROTO_IPV4, flags, seq);
}

/* Table (made if absent, then deleted: whatever was there goes), table
 * again with the mark, nat chain, rule: all or nothing. */
static int replace_table(struct nlconn *c, struct in_addr vip, const char *mark)
{
	static char buf[8192];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nftnl_rule *rule = snat_rule(vip);
	int r = -ENOMEM;

	if (!b || !t || !ch || !rule)
		goto out;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), ++c->seq);
	mnl_nlmsg_batch_next(b);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, SNAT_TABLE);
	nftnl_table_nlmsg_build_payload(cmd_hdr(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, ++c->seq), t);
	mnl_nlmsg_batch_next(b);
	nftnl_table_nlmsg_build_payload(cmd_hdr(b, NFT_MSG_DELTABLE, 0, ++c->seq), t);
	mnl_nlmsg_batch_next(b);
	nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, mark, (uint32_t)strlen(mark) + 1);
	nftnl_table_nlmsg_build_payload(cmd_hdr(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, ++c->seq), t);
	mnl_nlmsg_batch_next(b);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, SNAT_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, SNAT_CHAIN);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_POST_ROUTING);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, 100);
	nftnl_chain_nlmsg_build_payload(cmd_hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, ++c->seq), ch);
	mnl_nlmsg_batch_next(b);
	nftnl_rule_nlmsg_build_payload(cmd_hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND |
					       NLM_F_ACK, ++c->seq), rule);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), ++c->seq);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(c->nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		r = -errno;
	else
		r = nlconn_wait(c, 0, NULL, NULL); /* the one ack, or the first error */
out:
	if (b)
		mnl_nlmsg_batch_stop(b);
	nftnl_rule_free(rule);
	nftnl_chain_free(ch);
	nftnl_table_free(t);
	return r;
}

/* Called inside the balancer's namespace. */
int ipvs_snat_ensure(struct ipvs_drv *d, const char *lb, struct in_addr vip, unsigned flags)
{
	char mark[64];
	struct nlconn c;
	int r;

	/* the rule's text: a table of an older rule is replaced */
	snprintf(mark, sizeof(mark), "snat %s, not vrrp", inet_ntoa(vip));
	r = nlconn_open(&c);
	if (r == 0)
		r = table_current(&c, mark);
	if (r == 0) {
		d->svc->change(d->ctx, "load balancer %s: nftables table %s: %s", lb, SNAT_TABLE,
			       mark);
		if (!(flags & VXC_F_DRY_RUN))
			r = replace_table(&c, vip, mark);
	}
	if (c.nl)
		mnl_socket_close(c.nl);
	if (r < 0)
		return d->svc->error(d->ctx, r, "nftables table %s: %s", SNAT_TABLE,
				     strerror(-r));
	return 0;
}

static int read_sysctl(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Inside the namespace: answers are forwarded back to clients, and IPVS
 * keeps conntrack entries so the snat rule sees its connections. An HA
 * copy forwards only while active: keepalived's notify opens the gate. */
int ipvs_sysctls_ensure(struct ipvs_drv *d, const char *lb, int ha, unsigned flags)
{
	static const char *const paths[] = {
		"/proc/sys/net/ipv4/ip_forward",
		"/proc/sys/net/ipv4/vs/conntrack",
	};
	char cur[32];

	for (size_t i = ha ? 1 : 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int r = read_sysctl(paths[i], cur, sizeof(cur));

		if (r == 0 && cur[0] == '1')
			continue;
		d->svc->change(d->ctx, "load balancer %s: sysctl %s = 1", lb, paths[i] + 10);
		if (flags & VXC_F_DRY_RUN)
			continue;
		r = write_sysctl(paths[i], "1");
		if (r < 0)
			return d->svc->error(d->ctx, r, "%s: %s", paths[i], strerror(-r));
	}
	return 0;
}
