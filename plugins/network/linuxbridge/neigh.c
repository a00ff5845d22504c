/* Optional ARP suppression (option neigh_proxy): permanent neighbour entries
 * for remote ports on the VXLAN device, whose "proxy" flag makes it answer
 * ARP requests for them locally instead of flooding them to every VTEP.
 * Same shape as fdb.c: one filtered dump, sorted merge, batched changes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"

struct nb {
	struct in_addr addr;
	uint8_t mac[6];
};

struct nb_vec {
	struct nb *v;
	size_t n, cap;
};

struct nb_op {
	int del;
	struct nb e;
};

struct nb_ops {
	struct nb_op *v;
	size_t n, cap;
	size_t n_del, n_set;
};

static int nb_push(struct nb_vec *vec, struct in_addr addr, const uint8_t mac[6])
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 64;
		struct nb *v = realloc(vec->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->n].addr = addr;
	memcpy(vec->v[vec->n].mac, mac, 6);
	vec->n++;
	return 0;
}

static int op_push(struct nb_ops *ops, int del, const struct nb *e)
{
	if (ops->n == ops->cap) {
		size_t cap = ops->cap ? ops->cap * 2 : 64;
		struct nb_op *v = realloc(ops->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ops->v = v;
		ops->cap = cap;
	}
	ops->v[ops->n++] = (struct nb_op){ .del = del, .e = *e };
	if (del)
		ops->n_del++;
	else
		ops->n_set++;
	return 0;
}

static int nb_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct nb *)a)->addr.s_addr);
	uint32_t y = ntohl(((const struct nb *)b)->addr.s_addr);

	return x < y ? -1 : x > y;
}

/* Sorted by address, one entry per address (the first one given wins). */
static void nb_sort_unique(struct nb_vec *vec)
{
	size_t i, o = 0;

	if (vec->n)
		qsort(vec->v, vec->n, sizeof(*vec->v), nb_cmp);
	for (i = 0; i < vec->n; i++)
		if (!o || nb_cmp(&vec->v[o - 1], &vec->v[i]))
			vec->v[o++] = vec->v[i];
	vec->n = o;
}

struct dump_arg {
	int ifindex;
	struct nb_vec *vec;
};

static int dump_one(void *arg, struct nlmsghdr *h)
{
	struct dump_arg *d = arg;
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;
	struct in_addr addr;

	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_datalen(h) < (int)sizeof(*ndm))
		return 0;
	ndm = nlmsg_data(h);
	if (ndm->ndm_family != AF_INET || ndm->ndm_ifindex != d->ifindex ||
	    !(ndm->ndm_state & NUD_PERMANENT))
		return 0;
	if (nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0 || !tb[NDA_DST] ||
	    nla_len(tb[NDA_DST]) != 4 || !tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6)
		return 0;
	memcpy(&addr, nla_data(tb[NDA_DST]), 4);
	return nb_push(d->vec, addr, nla_data(tb[NDA_LLADDR]));
}

static int nb_dump(struct lbr *p, int ifindex, struct nb_vec *vec)
{
	struct ndmsg ndm = { .ndm_family = AF_INET };
	struct dump_arg d = { .ifindex = ifindex, .vec = vec };
	int err, tries = 0;

	do {
		vec->n = 0;
		err = lbr_dump(p->bsk, RTM_GETNEIGH, &ndm, sizeof(ndm), NDA_IFINDEX,
			       (uint32_t)ifindex, dump_one, &d);
	} while (err == -EAGAIN && ++tries < 5);
	return err;
}

static int nb_diff(const struct nb_vec *k, const struct nb_vec *w, struct nb_ops *ops)
{
	size_t ki = 0, wi = 0;
	int err = 0;

	while (!err && (ki < k->n || wi < w->n)) {
		int c = ki == k->n ? 1 : wi == w->n ? -1 : nb_cmp(&k->v[ki], &w->v[wi]);

		if (c < 0) {
			err = op_push(ops, 1, &k->v[ki++]);
		} else if (c > 0) {
			err = op_push(ops, 0, &w->v[wi++]);
		} else {
			if (memcmp(k->v[ki].mac, w->v[wi].mac, 6))
				err = op_push(ops, 0, &w->v[wi]);
			ki++;
			wi++;
		}
	}
	return err;
}

static void report(struct lbr *p, const char *net, const struct nb_ops *ops)
{
	char ip[LBR_IPSTR], mac[LBR_MACSTR];
	size_t i;

	if (ops->n_del > LBR_REPORT_MAX)
		lbr_change(p, "network %s: remove %zu neighbour entries", net, ops->n_del);
	if (ops->n_set > LBR_REPORT_MAX)
		lbr_change(p, "network %s: set %zu neighbour entries", net, ops->n_set);
	for (i = 0; i < ops->n; i++) {
		const struct nb_op *o = &ops->v[i];

		if (o->del && ops->n_del <= LBR_REPORT_MAX)
			lbr_change(p, "network %s: remove neighbour %s", net,
				   lbr_ip_str(o->e.addr, ip));
		else if (!o->del && ops->n_set <= LBR_REPORT_MAX)
			lbr_change(p, "network %s: set neighbour %s -> %s", net,
				   lbr_ip_str(o->e.addr, ip), lbr_mac_str(o->e.mac, mac));
	}
}

struct fail_arg {
	struct lbr *p;
	const char *net;
	const struct nb_ops *ops;
	size_t n_failed;
	char first[160];
};

static void on_fail(void *arg, size_t idx, int err, const char *extack)
{
	struct fail_arg *f = arg;
	char ip[LBR_IPSTR];

	if (idx >= f->ops->n)
		return;
	lbr_log(f->p, VXC_LOG_ERR, "network %s: %s neighbour %s: %s%s%s", f->net,
		f->ops->v[idx].del ? "remove" : "set", lbr_ip_str(f->ops->v[idx].e.addr, ip),
		strerror(-err), extack ? ": " : "", extack ? extack : "");
	if (!f->n_failed++)
		snprintf(f->first, sizeof(f->first), "%s neighbour %s: %s",
			 f->ops->v[idx].del ? "remove" : "set", ip, strerror(-err));
}

static int send_ops(struct lbr *p, const char *net, int ifindex, const struct nb_ops *ops)
{
	struct fail_arg f = { .p = p, .net = net, .ops = ops };
	struct ndmsg ndm = {
		.ndm_family = AF_INET,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_PERMANENT,
	};
	struct lbr_batch *b = lbr_batch_new(p->bsk, on_fail, &f);
	size_t i;
	int err = 0;

	if (!b)
		return lbr_error(p, -ENOMEM, "network %s: out of memory", net);
	for (i = 0; !err && i < ops->n; i++) {
		const struct nb_op *o = &ops->v[i];

		err = lbr_batch_msg(b, o->del ? RTM_DELNEIGH : RTM_NEWNEIGH,
				    o->del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &ndm, sizeof(ndm));
		if (!err)
			err = lbr_batch_attr(b, NDA_DST, &o->e.addr, 4);
		if (!err && !o->del)
			err = lbr_batch_attr(b, NDA_LLADDR, o->e.mac, 6);
	}
	if (err) {
		lbr_batch_discard(b);
		return lbr_error(p, err, "network %s: cannot program neighbour entries: %s", net,
				 strerror(-err));
	}
	err = lbr_batch_finish(b);
	if (f.n_failed)
		return lbr_error(p, err < 0 ? err : -EIO,
				 "network %s: %zu of %zu neighbour changes failed; first: %s", net,
				 f.n_failed, ops->n, f.first);
	if (err < 0)
		return lbr_error(p, err, "network %s: programming neighbour entries: %s", net,
				 strerror(-err));
	return 0;
}

int lbr_neigh_sync(struct lbr *p, const struct vxc_network *net, int ifindex,
		   const struct vxc_fdb_entry *want, size_t n_want, unsigned flags)
{
	static const uint8_t zero[6];
	struct nb_vec k = { 0 }, w = { 0 };
	struct nb_ops ops = { 0 };
	size_t i;
	int err = 0;

	/* With the option off the wanted set is empty: entries an earlier
	 * run made are removed. */
	for (i = 0; p->neigh_proxy && !err && i < n_want; i++)
		if (want[i].addr.s_addr && memcmp(want[i].mac.b, zero, 6))
			err = nb_push(&w, want[i].addr, want[i].mac.b);
	if (!err && ifindex)
		err = nb_dump(p, ifindex, &k);
	if (err) {
		err = lbr_error(p, err, "network %s: cannot read the neighbour entries of %s: %s",
				net->name, net->vxlan_if, strerror(-err));
		goto out;
	}
	nb_sort_unique(&w);
	nb_sort_unique(&k);
	err = nb_diff(&k, &w, &ops);
	if (err) {
		err = lbr_error(p, err, "network %s: out of memory", net->name);
		goto out;
	}
	report(p, net->name, &ops);
	if (ops.n && !lbr_dry(flags))
		err = send_ops(p, net->name, ifindex, &ops);
out:
	free(k.v);
	free(w.v);
	free(ops.v);
	return err;
}
