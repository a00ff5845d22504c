/* Floating IPs of a router: /32 addresses on its gateway port inside the
 * router namespace (the NAT driver maps them). There can be thousands, so
 * like fdb entries they are dumped once, merged sorted and sent batched. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"
#include "router.h"

struct ipv {
	uint32_t *v; /* host byte order, sorted */
	size_t n, cap;
};

static int ipv_push(struct ipv *a, uint32_t ip)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
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

	qsort(a->v, a->n, sizeof(*a->v), u32_cmp);
	for (i = 0; i < a->n; i++)
		if (!o || a->v[o - 1] != a->v[i])
			a->v[o++] = a->v[i];
	a->n = o;
}

struct dump_arg {
	int ifindex;
	uint32_t external;
	struct ipv *have;
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
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != d->ifindex ||
	    ifa->ifa_prefixlen != 32)
		return 0;
	if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0 || !tb[IFA_LOCAL] ||
	    nla_len(tb[IFA_LOCAL]) != 4)
		return 0;
	memcpy(&ip, nla_data(tb[IFA_LOCAL]), 4);
	ip = ntohl(ip);
	/* The external address itself is the veth service's business. */
	return ip == d->external ? 0 : ipv_push(d->have, ip);
}

struct fail_arg {
	struct lbr *p;
	const char *router;
	const uint32_t *ops; /* address, top bit of a parallel flag array */
	const char *del;
	size_t n, n_failed;
	char first[128];
};

static void on_fail(void *arg, size_t idx, int err, const char *extack)
{
	struct fail_arg *f = arg;
	struct in_addr a;
	char ip[LBR_IPSTR];

	if (idx >= f->n)
		return;
	a.s_addr = htonl(f->ops[idx]);
	lbr_log(f->p, VXC_LOG_ERR, "router %s: %s floating IP %s: %s%s%s", f->router,
		f->del[idx] ? "remove" : "add", lbr_ip_str(a, ip), strerror(-err),
		extack ? ": " : "", extack ? extack : "");
	if (!f->n_failed++)
		snprintf(f->first, sizeof(f->first), "%s floating IP %s: %s",
			 f->del[idx] ? "remove" : "add", ip, strerror(-err));
}

static int send_ops(struct lbr *p, struct nl_sock *nsk, const char *router, int ifindex,
		    const uint32_t *ops, const char *del, size_t n)
{
	struct fail_arg f = { .p = p, .router = router, .ops = ops, .del = del, .n = n };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 32,
				 .ifa_index = (uint32_t)ifindex };
	struct lbr_batch *b = lbr_batch_new(nsk, on_fail, &f);
	size_t i;
	int err = 0;

	if (!b)
		return lbr_error(p, -ENOMEM, "router %s: out of memory", router);
	for (i = 0; !err && i < n; i++) {
		uint32_t ip = htonl(ops[i]);

		err = lbr_batch_msg(b, del[i] ? RTM_DELADDR : RTM_NEWADDR,
				    del[i] ? 0 : NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
		if (!err)
			err = lbr_batch_attr(b, IFA_LOCAL, &ip, 4);
		if (!err)
			err = lbr_batch_attr(b, IFA_ADDRESS, &ip, 4);
	}
	if (err) {
		lbr_batch_discard(b);
		return lbr_error(p, err, "router %s: cannot program floating IPs: %s", router,
				 strerror(-err));
	}
	err = lbr_batch_finish(b);
	if (f.n_failed)
		return lbr_error(p, err < 0 ? err : -EIO,
				 "router %s: %zu of %zu floating IP changes failed; first: %s",
				 router, f.n_failed, n, f.first);
	if (err < 0)
		return lbr_error(p, err, "router %s: programming floating IPs: %s", router,
				 strerror(-err));
	return 0;
}

static void report(struct lbr *p, const char *router, const uint32_t *ops, const char *del,
		   size_t n, size_t n_del)
{
	size_t i, n_add = n - n_del;
	struct in_addr a;
	char ip[LBR_IPSTR];

	if (n_del > LBR_REPORT_MAX)
		lbr_change(p, "router %s: remove %zu floating IPs", router, n_del);
	if (n_add > LBR_REPORT_MAX)
		lbr_change(p, "router %s: add %zu floating IPs", router, n_add);
	for (i = 0; i < n; i++) {
		if ((del[i] ? n_del : n_add) > LBR_REPORT_MAX)
			continue;
		a.s_addr = htonl(ops[i]);
		lbr_change(p, "router %s: %s floating IP %s", router, del[i] ? "remove" : "add",
			   lbr_ip_str(a, ip));
	}
}

int lbr_fips_sync(struct lbr *p, const struct vxc_router *r, struct nl_sock *nsk, int ifindex,
		  unsigned flags)
{
	struct ipv want = { 0 }, have = { 0 };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };
	struct dump_arg d = { .ifindex = ifindex, .external = ntohl(r->external.s_addr),
			      .have = &have };
	uint32_t *ops = NULL;
	char *del = NULL;
	size_t i = 0, j = 0, n = 0, n_del = 0;
	int err = 0;

	for (i = 0; !err && i < r->n_fips; i++)
		if (r->fips[i]->address.s_addr != r->external.s_addr)
			err = ipv_push(&want, ntohl(r->fips[i]->address.s_addr));
	if (!err && ifindex)
		err = lbr_dump(nsk, RTM_GETADDR, &ifa, sizeof(ifa), 0, 0, dump_one, &d);
	if (err) {
		err = lbr_error(p, err, "router %s: cannot read addresses of %s: %s", r->name,
				r->gw_if, strerror(-err));
		goto out;
	}
	ipv_sort_unique(&want);
	ipv_sort_unique(&have);
	ops = malloc((want.n + have.n + 1) * sizeof(*ops));
	del = malloc(want.n + have.n + 1);
	if (!ops || !del) {
		err = lbr_error(p, -ENOMEM, "router %s: out of memory", r->name);
		goto out;
	}
	for (i = 0, j = 0; i < have.n || j < want.n;) {
		if (j == want.n || (i < have.n && have.v[i] < want.v[j])) {
			ops[n] = have.v[i++];
			del[n++] = 1;
			n_del++;
		} else if (i == have.n || want.v[j] < have.v[i]) {
			ops[n] = want.v[j++];
			del[n++] = 0;
		} else {
			i++, j++;
		}
	}
	report(p, r->name, ops, del, n, n_del);
	if (n && !lbr_dry(flags))
		err = send_ops(p, nsk, r->name, ifindex, ops, del, n);
out:
	free(want.v);
	free(have.v);
	free(ops);
	free(del);
	return err;
}
