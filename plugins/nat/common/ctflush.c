/* Conntrack flush through ctnetlink: when a floating IP is unbound or moved,
 * the entries of its old mapping are deleted so that an existing flow does
 * not keep using it. The dump is read whole, then matching entries are
 * deleted by their original tuple (and zone). Runs in the current
 * namespace: the caller has entered the router's. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "natcommon.h"

struct victim {
	uint16_t zone;    /* network byte order, 0 = default zone */
	uint16_t len;     /* of tuple[] */
	char tuple[128];  /* the CTA_TUPLE_ORIG payload, as dumped */
};

struct flush {
	struct nat_hash addrs;
	struct victim *v;
	size_t n, cap;
	int err;
};

/* The IPv4 destination of a CTA_TUPLE_ORIG / CTA_TUPLE_REPLY nest, or 0. */
static uint32_t tuple_dst(const struct nlattr *tuple)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, tuple) {
		if (mnl_attr_get_type(a) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == CTA_IP_V4_DST &&
			    mnl_attr_get_payload_len(b) == 4)
				return *(const uint32_t *)mnl_attr_get_payload(b);
	}
	return 0;
}

static int keep(struct flush *f, const struct nlattr *orig, uint16_t zone)
{
	struct victim *v;

	if (mnl_attr_get_payload_len(orig) > sizeof(v->tuple))
		return 0; /* not an IPv4 tuple we made */
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		void *p = realloc(f->v, cap * sizeof(*f->v));

		if (!p)
			return -ENOMEM;
		f->v = p;
		f->cap = cap;
	}
	v = &f->v[f->n++];
	v->zone = zone;
	v->len = mnl_attr_get_payload_len(orig);
	memcpy(v->tuple, mnl_attr_get_payload(orig), v->len);
	return 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct flush *f = data;
	const struct nlattr *a, *orig = NULL, *reply = NULL;
	uint16_t zone = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_ORIG:
			orig = a;
			break;
		case CTA_TUPLE_REPLY:
			reply = a;
			break;
		case CTA_ZONE:
			if (mnl_attr_get_payload_len(a) == 2)
				zone = mnl_attr_get_u16(a);
			break;
		}
	}
	if (!orig || !reply)
		return MNL_CB_OK;
	if (nat_hash_find(&f->addrs, tuple_dst(orig)) >= 0 ||
	    nat_hash_find(&f->addrs, tuple_dst(reply)) >= 0) {
		f->err = keep(f, orig, zone);
		if (f->err)
			return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_header(char *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static int run(struct mnl_socket *nl, char *buf, size_t len, uint32_t seq, mnl_cb_t cb,
	       void *data)
{
	unsigned portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, buf, len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int dump(struct mnl_socket *nl, struct flush *f, uint32_t seq)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct nlmsghdr *nlh;
	int err;

	if (!buf)
		return -ENOMEM;
	nlh = ct_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq);
	err = run(nl, buf, nlh->nlmsg_len, seq, dump_cb, f);
	free(buf);
	return err ? err : f->err;
}

static int delete_one(struct mnl_socket *nl, const struct victim *v, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = ct_header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, seq);
	int err;

	mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, v->len, v->tuple);
	if (v->zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, v->zone);
	err = run(nl, buf, nlh->nlmsg_len, seq, NULL, NULL);
	/* Gone meanwhile (expired, or deleted as the other half): fine. */
	return err == -ENOENT ? 0 : err;
}

int nat_ct_flush(const uint32_t *addrs, size_t n)
{
	struct flush f = { 0 };
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL);
	int err, done = 0;

	if (!n)
		return 0;
	if (nat_hash_init(&f.addrs, n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (addrs[i])
			nat_hash_put(&f.addrs, addrs[i], 0);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		err = -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out_sock;
	}
	err = dump(nl, &f, seq++);
	for (size_t i = 0; !err && i < f.n; i++) {
		err = delete_one(nl, &f.v[i], seq++);
		if (!err)
			done++;
	}
out_sock:
	mnl_socket_close(nl);
out:
	nat_hash_free(&f.addrs);
	free(f.v);
	return err ? err : done;
}
