/* The VXLAN device's forwarding entries (l2population without multicast):
 * one all-zeros flood entry per remote VTEP and one entry per remote port.
 *
 * The device's entries are dumped once (filtered by ifindex), both sets are
 * sorted and merged, and only the difference is sent, in batches
 * (batch.c): O(N log N) and a handful of system calls for N entries. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"

struct fdb {
	uint8_t mac[6];
	struct in_addr remote;
};

struct fdb_vec {
	struct fdb *v;
	size_t n, cap;
};

enum fdb_opcode { OP_DEL, OP_MOVE, OP_ADD };

struct fdb_op {
	enum fdb_opcode code;
	struct fdb e;
	struct in_addr old; /* OP_MOVE: the remote it had */
};

struct fdb_ops {
	struct fdb_op *v;
	size_t n, cap;
	size_t count[3];
};

static const uint8_t zero_mac[6];

static int vec_push(struct fdb_vec *vec, const uint8_t mac[6], struct in_addr remote)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 64;
		struct fdb *v = realloc(vec->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	memcpy(vec->v[vec->n].mac, mac, 6);
	vec->v[vec->n].remote = remote;
	vec->n++;
	return 0;
}

static int ops_push(struct fdb_ops *ops, enum fdb_opcode code, const struct fdb *e,
		    struct in_addr old)
{
	if (ops->n == ops->cap) {
		size_t cap = ops->cap ? ops->cap * 2 : 64;
		struct fdb_op *v = realloc(ops->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ops->v = v;
		ops->cap = cap;
	}
	ops->v[ops->n++] = (struct fdb_op){ .code = code, .e = *e, .old = old };
	ops->count[code]++;
	return 0;
}

static int cmp_remote(struct in_addr a, struct in_addr b)
{
	uint32_t x = ntohl(a.s_addr), y = ntohl(b.s_addr);

	return x < y ? -1 : x > y;
}

static int fdb_cmp(const void *a, const void *b)
{
	const struct fdb *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);

	return c ? c : cmp_remote(x->remote, y->remote);
}

static void vec_sort_unique(struct fdb_vec *vec)
{
	size_t i, o = 0;

	if (vec->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(vec->v, vec->n, sizeof(*vec->v), fdb_cmp);
	for (i = 0; i < vec->n; i++)
		if (!o || fdb_cmp(&vec->v[o - 1], &vec->v[i]))
			vec->v[o++] = vec->v[i];
	vec->n = o;
}

/* ---- what the kernel has --------------------------------------------- */

struct dump_arg {
	int ifindex;
	struct fdb_vec *vec;
};

static int dump_one(void *arg, struct nlmsghdr *h)
{
	struct dump_arg *d = arg;
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;
	struct in_addr remote;

	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_datalen(h) < (int)sizeof(*ndm))
		return 0;
	ndm = nlmsg_data(h);
	/* The bridge's own entries for this port (NTF_MASTER) are not ours. */
	if (ndm->ndm_ifindex != d->ifindex || !(ndm->ndm_flags & NTF_SELF))
		return 0;
	if (nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0)
		return 0;
	if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6 || !tb[NDA_DST] ||
	    nla_len(tb[NDA_DST]) != 4)
		return 0;
	memcpy(&remote, nla_data(tb[NDA_DST]), 4);
	return vec_push(d->vec, nla_data(tb[NDA_LLADDR]), remote);
}

static int fdb_dump(struct lbr *p, int ifindex, struct fdb_vec *vec)
{
	/* An ifinfomsg header: the kernel filters a (non-strict) fdb dump by
	 * its ifi_index. */
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct dump_arg d = { .ifindex = ifindex, .vec = vec };
	int err, tries = 0;

	do {
		vec->n = 0;
		err = lbr_dump(p->bsk, RTM_GETNEIGH, &ifi, sizeof(ifi), 0, 0, dump_one, &d);
	} while (err == -EAGAIN && ++tries < 5);
	return err;
}

/* ---- the difference -------------------------------------------------- */

static size_t group_end(const struct fdb_vec *vec, size_t i, const uint8_t mac[6])
{
	while (i < vec->n && !memcmp(vec->v[i].mac, mac, 6))
		i++;
	return i;
}

/* One MAC: kernel remotes k[ki..ke), wanted remotes w[wi..we). */
static int diff_group(struct fdb_ops *ops, const struct fdb_vec *k, size_t ki, size_t ke,
		      const struct fdb_vec *w, size_t wi, size_t we)
{
	struct in_addr none = { 0 };
	int err = 0;

	/* A port that moved host: replace its one remote in place, so the
	 * entry never disappears (unicast only; flood lists are appended). */
	if (ke - ki == 1 && we - wi == 1 && memcmp(w->v[wi].mac, zero_mac, 6) &&
	    k->v[ki].remote.s_addr != w->v[wi].remote.s_addr)
		return ops_push(ops, OP_MOVE, &w->v[wi], k->v[ki].remote);
	while (!err && (ki < ke || wi < we)) {
		int c = ki == ke ? 1 : wi == we ? -1 : cmp_remote(k->v[ki].remote, w->v[wi].remote);

		if (c < 0) {
			err = ops_push(ops, OP_DEL, &k->v[ki++], none);
		} else if (c > 0) {
			err = ops_push(ops, OP_ADD, &w->v[wi++], none);
		} else {
			ki++;
			wi++;
		}
	}
	return err;
}

static int fdb_diff(const struct fdb_vec *k, const struct fdb_vec *w, struct fdb_ops *ops)
{
	size_t ki = 0, wi = 0;
	int err = 0;

	while (!err && (ki < k->n || wi < w->n)) {
		const uint8_t *mac;
		size_t ke, we;

		if (ki == k->n)
			mac = w->v[wi].mac;
		else if (wi == w->n)
			mac = k->v[ki].mac;
		else
			mac = memcmp(k->v[ki].mac, w->v[wi].mac, 6) <= 0 ? k->v[ki].mac
									 : w->v[wi].mac;
		ke = group_end(k, ki, mac);
		we = group_end(w, wi, mac);
		err = diff_group(ops, k, ki, ke, w, wi, we);
		ki = ke;
		wi = we;
	}
	return err;
}

/* ---- reports and requests -------------------------------------------- */

static const char *const op_verb[] = { "remove", "move", "add" };

static void report(struct lbr *p, const char *net, const struct fdb_ops *ops)
{
	char mac[LBR_MACSTR], ip[LBR_IPSTR], old[LBR_IPSTR];
	int code;
	size_t i;

	for (code = OP_DEL; code <= OP_ADD; code++) {
		if (!ops->count[code])
			continue;
		if (ops->count[code] > LBR_REPORT_MAX) {
			lbr_change(p, "network %s: %s %zu fdb entries", net, op_verb[code],
				   ops->count[code]);
			continue;
		}
		for (i = 0; i < ops->n; i++) {
			const struct fdb_op *o = &ops->v[i];

			if ((int)o->code != code)
				continue;
			if (code == OP_MOVE)
				lbr_change(p, "network %s: move fdb %s -> %s (was %s)", net,
					   lbr_mac_str(o->e.mac, mac), lbr_ip_str(o->e.remote, ip),
					   lbr_ip_str(o->old, old));
			else
				lbr_change(p, "network %s: %s fdb %s -> %s", net, op_verb[code],
					   lbr_mac_str(o->e.mac, mac), lbr_ip_str(o->e.remote, ip));
		}
	}
}

struct fail_arg {
	struct lbr *p;
	const char *net;
	const struct fdb_ops *ops;
	size_t n_failed;
	char first[256];
};

static void on_fail(void *arg, size_t idx, int err, const char *extack)
{
	struct fail_arg *f = arg;
	char mac[LBR_MACSTR], ip[LBR_IPSTR], msg[256];
	const struct fdb_op *o;

	if (idx >= f->ops->n)
		return;
	o = &f->ops->v[idx];
	snprintf(msg, sizeof(msg), "%s fdb %s -> %s: %s%s%s%s", op_verb[o->code],
		 lbr_mac_str(o->e.mac, mac), lbr_ip_str(o->e.remote, ip), strerror(-err),
		 extack ? " (" : "", extack ? extack : "", extack ? ")" : "");
	lbr_log(f->p, VXC_LOG_ERR, "network %s: %s", f->net, msg);
	if (!f->n_failed++)
		snprintf(f->first, sizeof(f->first), "%s", msg);
}

static int send_ops(struct lbr *p, const char *net, int ifindex, const struct fdb_ops *ops)
{
	struct fail_arg f = { .p = p, .net = net, .ops = ops };
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_NOARP | NUD_PERMANENT,
		.ndm_flags = NTF_SELF, /* the VXLAN device's table, not the bridge's */
	};
	struct lbr_batch *b = lbr_batch_new(p->bsk, on_fail, &f);
	size_t i;
	int err = 0;

	if (!b)
		return lbr_error(p, -ENOMEM, "network %s: out of memory", net);
	for (i = 0; !err && i < ops->n; i++) {
		const struct fdb_op *o = &ops->v[i];
		int type = o->code == OP_DEL ? RTM_DELNEIGH : RTM_NEWNEIGH;
		int fl = o->code == OP_ADD ? NLM_F_CREATE | NLM_F_APPEND
		       : o->code == OP_MOVE ? NLM_F_CREATE | NLM_F_REPLACE : 0;

		err = lbr_batch_msg(b, type, fl, &ndm, sizeof(ndm));
		if (!err)
			err = lbr_batch_attr(b, NDA_LLADDR, o->e.mac, 6);
		if (!err)
			err = lbr_batch_attr(b, NDA_DST, &o->e.remote, 4);
	}
	if (err) {
		lbr_batch_discard(b);
		return lbr_error(p, err, "network %s: cannot program fdb entries: %s", net,
				 strerror(-err));
	}
	err = lbr_batch_finish(b);
	if (f.n_failed)
		return lbr_error(p, err < 0 ? err : -EIO, "network %s: %zu of %zu fdb changes failed; first: %s",
				 net, f.n_failed, ops->n, f.first);
	if (err < 0)
		return lbr_error(p, err, "network %s: programming fdb entries: %s", net,
				 strerror(-err));
	return 0;
}

int lbr_fdb_sync(struct lbr *p, const struct vxc_network *net, int ifindex,
		 const struct vxc_fdb_entry *want, size_t n_want, unsigned flags)
{
	struct fdb_vec k = { 0 }, w = { 0 };
	struct fdb_ops ops = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; !err && i < n_want; i++)
		if (want[i].remote.s_addr) /* 0.0.0.0: a neighbour only (neigh.c) */
			err = vec_push(&w, want[i].mac.b, want[i].remote);
	if (err) {
		err = lbr_error(p, err, "network %s: out of memory", net->name);
		goto out;
	}
	vec_sort_unique(&w);
	if (ifindex) {
		err = fdb_dump(p, ifindex, &k);
		if (err < 0) {
			err = lbr_error(p, err, "network %s: cannot read the fdb of %s: %s",
					net->name, net->vxlan_if, strerror(-err));
			goto out;
		}
		vec_sort_unique(&k);
	}
	err = fdb_diff(&k, &w, &ops);
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
