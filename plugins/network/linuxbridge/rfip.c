/* Inside a router namespace: every floating IP as a local route on the
 * gateway port (table local, type local, scope host, protocol
 * LBR_RTPROT_FIP as the ownership mark). The kernel answers ARP and accepts
 * packets for an address that routes as local just as for an interface
 * address, and the NAT driver translates them before routing.
 *
 * Why not /32 addresses on the port: for each address added the kernel walks
 * the device's whole address list and every route through the device
 * (__inet_insert_ifa, fib_sync_up), so N floating IPs cost O(N^2): 2.9 s at
 * 10,000, minutes at 100,000. A local route is one insert into the FIB trie.
 *
 * The routes are read with one dump the kernel filters (strict checking:
 * only table local, type local, through the port), diffed sorted against
 * the wanted list and changed in batches. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"
#include "router.h"

struct ipv {
	uint32_t *v; /* host order: sorts numerically */
	size_t n, cap;
};

static int ipv_push(struct ipv *a, uint32_t ip)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		uint32_t *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = ip;
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void ipv_sort_unique(struct ipv *a)
{
	size_t i, o = 0;

	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), u32_cmp);
	for (i = 0; i < a->n; i++)
		if (!o || a->v[o - 1] != a->v[i])
			a->v[o++] = a->v[i];
	a->n = o;
}

void lbr_route_strict(struct nl_sock *sk)
{
	int one = 1;

	/* Dumps filtered by the kernel (table, type, device); kernels before
	 * 4.20 ignore this and the callbacks still filter. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
}

struct dump_arg {
	int ifindex;
	struct ipv *have;
};

static int dump_one(void *arg, struct nlmsghdr *h)
{
	struct dump_arg *d = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;
	uint32_t ip;

	if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_datalen(h) < (int)sizeof(*rtm))
		return 0;
	rtm = nlmsg_data(h);
	if (rtm->rtm_family != AF_INET || rtm->rtm_table != RT_TABLE_LOCAL ||
	    rtm->rtm_type != RTN_LOCAL || rtm->rtm_protocol != LBR_RTPROT_FIP ||
	    rtm->rtm_dst_len != 32)
		return 0;
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0 || !tb[RTA_DST] ||
	    nla_len(tb[RTA_DST]) != 4 || !tb[RTA_OIF] || (int)nla_get_u32(tb[RTA_OIF]) != d->ifindex)
		return 0;
	memcpy(&ip, nla_data(tb[RTA_DST]), 4);
	return ipv_push(d->have, ntohl(ip));
}

static int read_have(const struct lbr_inside *in, int ifindex, struct ipv *have)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_LOCAL,
			     .rtm_protocol = LBR_RTPROT_FIP, .rtm_type = RTN_LOCAL };
	struct dump_arg d = { .ifindex = ifindex, .have = have };
	int err, tries = 0;

	do { /* a dump the kernel marks interrupted is read again */
		have->n = 0;
		err = lbr_dump(in->bsk, RTM_GETROUTE, &rtm, sizeof(rtm), RTA_OIF,
			       (uint32_t)ifindex, dump_one, &d);
	} while (err == -EAGAIN && ++tries < 5);
	return err;
}

struct ops {
	struct ipv add, del;
};

static void report(struct lbr *p, const struct vxc_router *r, const char *ifname,
		   const struct ops *o)
{
	char buf[LBR_IPSTR];
	size_t i;

	if (o->del.n > LBR_REPORT_MAX)
		lbr_change(p, "router %s: %s: remove %zu floating IPs", r->name, ifname, o->del.n);
	else
		for (i = 0; i < o->del.n; i++)
			lbr_change(p, "router %s: %s: remove floating IP %s", r->name, ifname,
				   lbr_ip_str((struct in_addr){ htonl(o->del.v[i]) }, buf));
	if (o->add.n > LBR_REPORT_MAX)
		lbr_change(p, "router %s: %s: add %zu floating IPs", r->name, ifname, o->add.n);
	else
		for (i = 0; i < o->add.n; i++)
			lbr_change(p, "router %s: %s: add floating IP %s", r->name, ifname,
				   lbr_ip_str((struct in_addr){ htonl(o->add.v[i]) }, buf));
}

struct fail_arg {
	struct lbr *p;
	const struct vxc_router *r;
	const struct ops *o;
	size_t n_failed;
	char first[128];
};

/* Requests are numbered deletions first, then additions. */
static void on_fail(void *arg, size_t idx, int err, const char *extack)
{
	struct fail_arg *f = arg;
	int del = idx < f->o->del.n;
	size_t i = del ? idx : idx - f->o->del.n;
	char buf[LBR_IPSTR];

	if (!del && i >= f->o->add.n)
		return;
	lbr_ip_str((struct in_addr){ htonl(del ? f->o->del.v[i] : f->o->add.v[i]) }, buf);
	lbr_log(f->p, VXC_LOG_ERR, "router %s: %s floating IP %s: %s%s%s", f->r->name,
		del ? "remove" : "add", buf, strerror(-err), extack ? ": " : "",
		extack ? extack : "");
	if (!f->n_failed++)
		snprintf(f->first, sizeof(f->first), "%s floating IP %s: %s",
			 del ? "remove" : "add", buf, strerror(-err));
}

static int queue(struct lbr_batch *b, int del, uint32_t ip, int ifindex)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32,
			     .rtm_table = RT_TABLE_LOCAL, .rtm_protocol = LBR_RTPROT_FIP,
			     .rtm_scope = RT_SCOPE_HOST, .rtm_type = RTN_LOCAL };
	uint32_t dst = htonl(ip), oif = (uint32_t)ifindex;
	int err;

	err = lbr_batch_msg(b, del ? RTM_DELROUTE : RTM_NEWROUTE,
			    del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof(rtm));
	if (!err)
		err = lbr_batch_attr(b, RTA_DST, &dst, 4);
	if (!err)
		err = lbr_batch_attr(b, RTA_OIF, &oif, 4);
	return err;
}

static int send_ops(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		    int ifindex, const struct ops *o)
{
	struct fail_arg f = { .p = p, .r = r, .o = o };
	struct lbr_batch *b = lbr_batch_new(in->bsk, on_fail, &f);
	size_t i, n = o->del.n + o->add.n;
	int err = 0;

	if (!b)
		return lbr_error(p, -ENOMEM, "router %s: out of memory", r->name);
	for (i = 0; !err && i < n; i++)
		err = i < o->del.n ? queue(b, 1, o->del.v[i], ifindex)
				   : queue(b, 0, o->add.v[i - o->del.n], ifindex);
	if (err) {
		lbr_batch_discard(b);
		return lbr_error(p, err, "router %s: cannot program floating IPs: %s", r->name,
				 strerror(-err));
	}
	err = lbr_batch_finish(b);
	if (f.n_failed)
		return lbr_error(p, err < 0 ? err : -EIO,
				 "router %s: %zu of %zu floating IP changes failed; first: %s",
				 r->name, f.n_failed, n, f.first);
	if (err < 0)
		return lbr_error(p, err, "router %s: programming floating IPs: %s", r->name,
				 strerror(-err));
	return 0;
}

/* Both lists sorted and unique: what to add and what to delete. */
static int diff(const struct ipv *have, const struct ipv *want, struct ops *o)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < have->n || j < want->n)) {
		if (j == want->n || (i < have->n && have->v[i] < want->v[j]))
			err = ipv_push(&o->del, have->v[i++]);
		else if (i == have->n || want->v[j] < have->v[i])
			err = ipv_push(&o->add, want->v[j++]);
		else
			i++, j++;
	}
	return err;
}

int lbr_rfip_sync(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		  const char *ifname, int ifindex, unsigned flags)
{
	struct ipv want = { 0 }, have = { 0 };
	struct ops o = { { 0 }, { 0 } };
	size_t i;
	int err = 0;

	for (i = 0; !err && i < r->n_fips; i++)
		if (r->fips[i]->address.s_addr != r->external.s_addr)
			err = ipv_push(&want, ntohl(r->fips[i]->address.s_addr));
	if (!err && in && ifindex)
		err = read_have(in, ifindex, &have);
	if (!err) {
		ipv_sort_unique(&want);
		ipv_sort_unique(&have);
		err = diff(&have, &want, &o);
	}
	if (err) {
		err = lbr_error(p, err, "router %s: cannot read the floating IPs of %s: %s",
				r->name, ifname, strerror(-err));
		goto out;
	}
	report(p, r, ifname, &o);
	if ((o.add.n || o.del.n) && !lbr_dry(flags))
		err = send_ops(p, r, in, ifindex, &o);
out:
	free(want.v);
	free(have.v);
	free(o.add.v);
	free(o.del.v);
	return err;
}
