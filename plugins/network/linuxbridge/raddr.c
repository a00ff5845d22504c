/* Inside a router namespace: the addresses of a port (dumped once, merged
 * sorted and sent batched; floating IPs are routes, see rfip.c) and the
 * default route (read with a dump the kernel filters to the main table:
 * the local table holds a route per floating IP). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/route.h>

#include "lbr.h"
#include "router.h"

struct addr {
	uint32_t ip; /* host order: sorts numerically */
	uint8_t plen;
	uint8_t del; /* as an operation */
};

struct addrv {
	struct addr *v;
	size_t n, cap;
};

static int push(struct addrv *a, uint32_t ip, uint8_t plen, uint8_t del)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		struct addr *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (struct addr){ .ip = ip, .plen = plen, .del = del };
	return 0;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct addr *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static void sort_unique(struct addrv *a)
{
	size_t i, o = 0;

	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), addr_cmp);
	for (i = 0; i < a->n; i++)
		if (!o || addr_cmp(&a->v[o - 1], &a->v[i]))
			a->v[o++] = a->v[i];
	a->n = o;
}

struct dump_arg {
	int ifindex;
	struct addrv *have;
};

static int dump_one(void *arg, struct nlmsghdr *h)
{
	struct dump_arg *d = arg;
	struct nlattr *tb[IFA_MAX + 1];
	struct ifaddrmsg *ifa;
	uint32_t ip;

	if (h->nlmsg_type != RTM_NEWADDR || nlmsg_datalen(h) < (int)sizeof(*ifa))
		return 0;
	ifa = nlmsg_data(h);
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != d->ifindex)
		return 0;
	if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0 || !tb[IFA_LOCAL] ||
	    nla_len(tb[IFA_LOCAL]) != 4)
		return 0;
	memcpy(&ip, nla_data(tb[IFA_LOCAL]), 4);
	return push(d->have, ntohl(ip), ifa->ifa_prefixlen, 1);
}

static const char *addr_str(const struct addr *a, char buf[24])
{
	struct in_addr in = { .s_addr = htonl(a->ip) };
	char ip[LBR_IPSTR];

	snprintf(buf, 24, "%s/%u", lbr_ip_str(in, ip), a->plen);
	return buf;
}

static void report(struct lbr *p, const struct vxc_router *r, const char *ifname,
		   const struct addrv *ops)
{
	size_t i, n_del = 0, n_add;
	char buf[24];

	for (i = 0; i < ops->n; i++)
		n_del += ops->v[i].del;
	n_add = ops->n - n_del;
	if (n_del > LBR_REPORT_MAX)
		lbr_change(p, "router %s: %s: remove %zu addresses", r->name, ifname, n_del);
	if (n_add > LBR_REPORT_MAX)
		lbr_change(p, "router %s: %s: add %zu addresses", r->name, ifname, n_add);
	for (i = 0; i < ops->n; i++) {
		const struct addr *a = &ops->v[i];

		if ((a->del ? n_del : n_add) > LBR_REPORT_MAX)
			continue;
		lbr_change(p, "router %s: %s: %s address %s", r->name, ifname,
			   a->del ? "remove" : "add", addr_str(a, buf));
	}
}

struct fail_arg {
	struct lbr *p;
	const struct vxc_router *r;
	const struct addrv *ops;
	size_t n_failed;
	char first[128];
};

static void on_fail(void *arg, size_t idx, int err, const char *extack)
{
	struct fail_arg *f = arg;
	char buf[24];

	if (idx >= f->ops->n)
		return;
	addr_str(&f->ops->v[idx], buf);
	lbr_log(f->p, VXC_LOG_ERR, "router %s: %s address %s: %s%s%s", f->r->name,
		f->ops->v[idx].del ? "remove" : "add", buf, strerror(-err), extack ? ": " : "",
		extack ? extack : "");
	if (!f->n_failed++)
		snprintf(f->first, sizeof(f->first), "%s address %s: %s",
			 f->ops->v[idx].del ? "remove" : "add", buf, strerror(-err));
}

static int send_ops(struct lbr *p, const struct vxc_router *r, struct nl_sock *bsk,
		    int ifindex, const struct addrv *ops)
{
	struct fail_arg f = { .p = p, .r = r, .ops = ops };
	struct lbr_batch *b = lbr_batch_new(bsk, on_fail, &f);
	size_t i;
	int err = 0;

	if (!b)
		return lbr_error(p, -ENOMEM, "router %s: out of memory", r->name);
	for (i = 0; !err && i < ops->n; i++) {
		const struct addr *a = &ops->v[i];
		struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = a->plen,
					 .ifa_index = (uint32_t)ifindex };
		uint32_t ip = htonl(a->ip);

		err = lbr_batch_msg(b, a->del ? RTM_DELADDR : RTM_NEWADDR,
				    a->del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
		if (!err)
			err = lbr_batch_attr(b, IFA_LOCAL, &ip, 4);
		if (!err)
			err = lbr_batch_attr(b, IFA_ADDRESS, &ip, 4);
	}
	if (err) {
		lbr_batch_discard(b);
		return lbr_error(p, err, "router %s: cannot program addresses: %s", r->name,
				 strerror(-err));
	}
	err = lbr_batch_finish(b);
	if (f.n_failed)
		return lbr_error(p, err < 0 ? err : -EIO,
				 "router %s: %zu of %zu address changes failed; first: %s", r->name,
				 f.n_failed, ops->n, f.first);
	if (err < 0)
		return lbr_error(p, err, "router %s: programming addresses: %s", r->name,
				 strerror(-err));
	return 0;
}

static int diff(const struct addrv *have, const struct addrv *want, struct addrv *ops)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < have->n || j < want->n)) {
		int c = i == have->n ? 1 : j == want->n ? -1 : addr_cmp(&have->v[i], &want->v[j]);

		if (c < 0) {
			err = push(ops, have->v[i].ip, have->v[i].plen, 1);
			i++;
		} else if (c > 0) {
			err = push(ops, want->v[j].ip, want->v[j].plen, 0);
			j++;
		} else {
			i++;
			j++;
		}
	}
	return err;
}

/* An address keepalived holds on the active copy is no change to make. */
static void drop_vrrp(struct addrv *ops, const struct lbr_raddr *want, size_t n_want)
{
	size_t o = 0;

	for (size_t i = 0; i < ops->n; i++) {
		bool keep = false;

		for (size_t j = 0; j < n_want && !keep; j++)
			keep = want[j].vrrp && ops->v[i].ip == ntohl(want[j].ip.s_addr) &&
			       ops->v[i].plen == want[j].plen;
		if (!keep)
			ops->v[o++] = ops->v[i];
	}
	ops->n = o;
}

int lbr_raddr_sync(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		   const char *ifname, int ifindex, const struct lbr_raddr *want, size_t n_want,
		   unsigned flags)
{
	struct addrv w = { 0 }, have = { 0 }, ops = { 0 };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_index = (uint32_t)ifindex };
	struct dump_arg d = { .ifindex = ifindex, .have = &have };
	size_t i;
	int err = 0;

	for (i = 0; !err && i < n_want; i++)
		err = push(&w, ntohl(want[i].ip.s_addr), want[i].plen, 0);
	if (!err && in && ifindex)
		err = lbr_dump(in->bsk, RTM_GETADDR, &ifa, sizeof(ifa), 0, 0, dump_one, &d);
	if (!err) {
		sort_unique(&w);
		sort_unique(&have);
		err = diff(&have, &w, &ops);
	}
	if (!err)
		drop_vrrp(&ops, want, n_want);
	if (err) {
		err = lbr_error(p, err, "router %s: cannot read the addresses of %s: %s", r->name,
				ifname, strerror(-err));
		goto out;
	}
	report(p, r, ifname, &ops);
	if (ops.n && !lbr_dry(flags))
		err = send_ops(p, r, in->bsk, ifindex, &ops);
out:
	free(w.v);
	free(have.v);
	free(ops.v);
	return err;
}

/* ---- default route --------------------------------------------------- */

struct default_arg {
	struct in_addr *gw;
	int *oif, *found;
};

static int default_one(void *arg, struct nlmsghdr *h)
{
	struct default_arg *d = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;

	if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_datalen(h) < (int)sizeof(*rtm))
		return 0;
	rtm = nlmsg_data(h);
	if (*d->found || rtm->rtm_family != AF_INET || rtm->rtm_table != RT_TABLE_MAIN ||
	    rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len)
		return 0;
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return 0;
	*d->found = 1;
	/* A multipath default route has neither: it gets replaced. */
	if (tb[RTA_OIF])
		*d->oif = (int)nla_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] && nla_len(tb[RTA_GATEWAY]) == 4)
		memcpy(d->gw, nla_data(tb[RTA_GATEWAY]), 4);
	return 0;
}

/* The main table's IPv4 default route: its gateway and device. One dump of
 * the main table's unicast routes (the kernel filters; see lbr_route_strict). */
static int find_default(struct nl_sock *bsk, struct in_addr *gw, int *oif, int *found)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
			     .rtm_type = RTN_UNICAST };
	struct default_arg d = { .gw = gw, .oif = oif, .found = found };
	int err, tries = 0;

	do { /* a dump the kernel marks interrupted is read again */
		*found = 0;
		gw->s_addr = 0;
		*oif = 0;
		err = lbr_dump(bsk, RTM_GETROUTE, &rtm, sizeof(rtm), 0, 0, default_one, &d);
	} while (err == -EAGAIN && ++tries < 5);
	return err;
}

static int put_default(struct nl_sock *sk, int ifindex, struct in_addr gw)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(AF_INET, &(struct in_addr){ 0 }, 4);
	struct nl_addr *via = nl_addr_build(AF_INET, &gw, 4);
	int err = -ENOMEM;

	if (rt && nh && dst && via) {
		nl_addr_set_prefixlen(dst, 0);
		rtnl_route_set_family(rt, AF_INET);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_type(rt, RTN_UNICAST);
		rtnl_route_set_protocol(rt, RTPROT_STATIC);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_gateway(nh, via);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* the route owns it now */
		err = rtnl_route_add(sk, rt, NLM_F_REPLACE);
		err = err < 0 ? lbr_nlerr(err) : 0;
	}
	if (nh)
		rtnl_route_nh_free(nh);
	if (rt)
		rtnl_route_put(rt);
	if (dst)
		nl_addr_put(dst);
	if (via)
		nl_addr_put(via);
	return err;
}

int lbr_rdefault_ensure(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
			const char *ifname, int ifindex, struct in_addr gw, unsigned flags)
{
	struct in_addr cur = { 0 };
	char want[LBR_IPSTR], was[LBR_IPSTR];
	int err = 0, found = 0, oif = 0;

	if (in && ifindex)
		err = find_default(in->bsk, &cur, &oif, &found);
	if (err < 0)
		return lbr_error(p, err, "router %s: cannot read routes: %s", r->name,
				 strerror(-err));
	if (found && oif == ifindex && cur.s_addr == gw.s_addr)
		return 0;
	if (found)
		lbr_change(p, "router %s: replace default route via %s with one via %s on %s",
			   r->name, lbr_ip_str(cur, was), lbr_ip_str(gw, want), ifname);
	else
		lbr_change(p, "router %s: add default route via %s on %s", r->name,
			   lbr_ip_str(gw, want), ifname);
	if (lbr_dry(flags))
		return 0;
	err = put_default(in->sk, ifindex, gw);
	if (err < 0)
		return lbr_error(p, err, "router %s: cannot set the default route via %s: %s",
				 r->name, want, strerror(-err));
	return 0;
}
