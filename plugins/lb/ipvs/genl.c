/* IPVS's generic netlink family through libnl-genl-3: what ipvsadm does,
 * without a process. Every request is acknowledged before the next. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/ip_vs.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "driver.h"

struct ipvs_nl {
	struct nl_sock *sk;
	int family;
};

static int nl_err(int e)
{
	switch (e < 0 ? -e : e) {
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_EXIST: return -EEXIST;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_PERM: return -EPERM;
	case NLE_INVAL: return -EINVAL;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

int ipvs_nl_open(struct ipvs_nl **out)
{
	struct ipvs_nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl || !(nl->sk = nl_socket_alloc())) {
		free(nl);
		return -ENOMEM;
	}
	r = genl_connect(nl->sk);
	if (r == 0) {
		nl->family = genl_ctrl_resolve(nl->sk, IPVS_GENL_NAME);
		r = nl->family < 0 ? -EPROTONOSUPPORT : 0;
	} else {
		r = nl_err(r);
	}
	if (r < 0) {
		ipvs_nl_close(nl);
		return r;
	}
	*out = nl;
	return 0;
}

void ipvs_nl_close(struct ipvs_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

static struct nl_msg *request(struct ipvs_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
				IPVS_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int put_addr(struct nl_msg *msg, int type, struct in_addr a)
{
	union nf_inet_addr u;

	memset(&u, 0, sizeof(u));
	u.in = a;
	return nla_put(msg, type, sizeof(u), &u);
}

/* The service's key; with full, everything NEW_SERVICE and SET_SERVICE
 * require (scheduler, flags, persistence timeout, netmask). */
static int put_service(struct nl_msg *msg, const struct ipvs_svc *s, int full)
{
	struct ip_vs_flags fl = { 0, 0 };
	struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE);
	int r;

	if (!nest)
		return -ENOMEM;
	r = nla_put_u16(msg, IPVS_SVC_ATTR_AF, AF_INET);
	r = r ?: nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, s->protocol);
	r = r ?: put_addr(msg, IPVS_SVC_ATTR_ADDR, s->addr);
	r = r ?: nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(s->port));
	if (full) {
		r = r ?: nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, s->sched);
		r = r ?: nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl);
		r = r ?: nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, 0);
		r = r ?: nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, 0xffffffffu);
	}
	nla_nest_end(msg, nest);
	return r ? -ENOMEM : 0;
}

static int put_dest(struct nl_msg *msg, const struct ipvs_dest *d, int full)
{
	struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_DEST);
	int r;

	if (!nest)
		return -ENOMEM;
	r = put_addr(msg, IPVS_DEST_ATTR_ADDR, d->addr);
	r = r ?: nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(d->port));
	r = r ?: nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
	if (full) {
		r = r ?: nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, d->fwd);
		r = r ?: nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, d->weight);
		r = r ?: nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, 0);
		r = r ?: nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, 0);
	}
	nla_nest_end(msg, nest);
	return r ? -ENOMEM : 0;
}

/* Sends msg (consumed) and waits for the kernel's answer. */
static int transact(struct ipvs_nl *nl, struct nl_msg *msg)
{
	int r = nl_send_sync(nl->sk, msg);

	return r < 0 ? nl_err(r) : 0;
}

static int svc_cmd(struct ipvs_nl *nl, uint8_t cmd, const struct ipvs_svc *s, int full)
{
	struct nl_msg *msg = request(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (put_service(msg, s, full) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return transact(nl, msg);
}

static int dest_cmd(struct ipvs_nl *nl, uint8_t cmd, const struct ipvs_svc *s,
		    const struct ipvs_dest *d, int full)
{
	struct nl_msg *msg = request(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (put_service(msg, s, 0) < 0 || put_dest(msg, d, full) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return transact(nl, msg);
}

int ipvs_svc_add(struct ipvs_nl *nl, const struct ipvs_svc *s)
{
	return svc_cmd(nl, IPVS_CMD_NEW_SERVICE, s, 1);
}

int ipvs_svc_set(struct ipvs_nl *nl, const struct ipvs_svc *s)
{
	return svc_cmd(nl, IPVS_CMD_SET_SERVICE, s, 1);
}

int ipvs_svc_del(struct ipvs_nl *nl, const struct ipvs_svc *s)
{
	return svc_cmd(nl, IPVS_CMD_DEL_SERVICE, s, 0);
}

int ipvs_dest_add(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d)
{
	return dest_cmd(nl, IPVS_CMD_NEW_DEST, s, d, 1);
}

int ipvs_dest_set(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d)
{
	return dest_cmd(nl, IPVS_CMD_SET_DEST, s, d, 1);
}

int ipvs_dest_del(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d)
{
	return dest_cmd(nl, IPVS_CMD_DEL_DEST, s, d, 0);
}

/* ---- dumps ------------------------------------------------------------ */

struct dump {
	void *v;
	size_t n, elem;
	int err;
};

static void *dump_slot(struct dump *dp)
{
	char *v = realloc(dp->v, (dp->n + 1) * dp->elem);

	if (!v) {
		dp->err = -ENOMEM;
		return NULL;
	}
	dp->v = v;
	memset(v + dp->n * dp->elem, 0, dp->elem);
	return v + dp->n++ * dp->elem;
}

static struct nlattr *nested(struct nl_msg *msg, int which, int max, struct nlattr **tb)
{
	struct nlattr *top[IPVS_CMD_ATTR_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, IPVS_CMD_ATTR_MAX, NULL) < 0 || !top[which] ||
	    nla_parse_nested(tb, max, top[which], NULL) < 0)
		return NULL;
	return top[which];
}

static struct in_addr get_addr(struct nlattr *a)
{
	union nf_inet_addr u;

	memset(&u, 0, sizeof(u));
	if (a)
		nla_memcpy(&u, a, sizeof(u));
	return u.in;
}

/* The connections counter of a service's nested statistics (0 if absent). */
static uint32_t stats_conns(struct nlattr *stats)
{
	struct nlattr *tb[IPVS_STATS_ATTR_MAX + 1];

	if (!stats || nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, stats, NULL) < 0 ||
	    !tb[IPVS_STATS_ATTR_CONNS])
		return 0;
	return nla_get_u32(tb[IPVS_STATS_ATTR_CONNS]);
}

static int on_service(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];
	struct dump *dp = arg;
	struct ipvs_svc *s;

	if (!nested(msg, IPVS_CMD_ATTR_SERVICE, IPVS_SVC_ATTR_MAX, tb) ||
	    !tb[IPVS_SVC_ATTR_AF] || nla_get_u16(tb[IPVS_SVC_ATTR_AF]) != AF_INET ||
	    !tb[IPVS_SVC_ATTR_PROTOCOL] || !tb[IPVS_SVC_ATTR_PORT])
		return NL_OK; /* fwmark or IPv6 services: not the driver's */
	if (!(s = dump_slot(dp)))
		return NL_STOP;
	s->protocol = nla_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
	s->addr = get_addr(tb[IPVS_SVC_ATTR_ADDR]);
	s->port = ntohs(nla_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	if (tb[IPVS_SVC_ATTR_SCHED_NAME])
		nla_strlcpy(s->sched, tb[IPVS_SVC_ATTR_SCHED_NAME], sizeof(s->sched));
	s->conns = stats_conns(tb[IPVS_SVC_ATTR_STATS]);
	return NL_OK;
}

static int on_dest(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];
	struct dump *dp = arg;
	struct ipvs_dest *d;

	if (!nested(msg, IPVS_CMD_ATTR_DEST, IPVS_DEST_ATTR_MAX, tb) ||
	    !tb[IPVS_DEST_ATTR_PORT])
		return NL_OK;
	if (!(d = dump_slot(dp)))
		return NL_STOP;
	d->addr = get_addr(tb[IPVS_DEST_ATTR_ADDR]);
	d->port = ntohs(nla_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	if (tb[IPVS_DEST_ATTR_WEIGHT])
		d->weight = nla_get_u32(tb[IPVS_DEST_ATTR_WEIGHT]);
	if (tb[IPVS_DEST_ATTR_FWD_METHOD])
		d->fwd = nla_get_u32(tb[IPVS_DEST_ATTR_FWD_METHOD]);
	if (tb[IPVS_DEST_ATTR_ACTIVE_CONNS])
		d->active = nla_get_u32(tb[IPVS_DEST_ATTR_ACTIVE_CONNS]);
	if (tb[IPVS_DEST_ATTR_INACT_CONNS])
		d->inactive = nla_get_u32(tb[IPVS_DEST_ATTR_INACT_CONNS]);
	return NL_OK;
}

static int run_dump(struct ipvs_nl *nl, struct nl_msg *msg, nl_recvmsg_msg_cb_t cb,
		    struct dump *dp)
{
	int r = nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, cb, dp);

	if (r == 0)
		r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = nl_recvmsgs_default(nl->sk);
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	if (r < 0 || dp->err < 0) {
		free(dp->v);
		dp->v = NULL;
		return dp->err < 0 ? dp->err : nl_err(r);
	}
	return 0;
}

int ipvs_services(struct ipvs_nl *nl, struct ipvs_svc **out, size_t *n)
{
	struct dump dp = { NULL, 0, sizeof(struct ipvs_svc), 0 };
	struct nl_msg *msg = request(nl, IPVS_CMD_GET_SERVICE, NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	r = run_dump(nl, msg, on_service, &dp);
	*out = dp.v;
	*n = r < 0 ? 0 : dp.n;
	return r;
}

int ipvs_dests(struct ipvs_nl *nl, const struct ipvs_svc *s, struct ipvs_dest **out, size_t *n)
{
	struct dump dp = { NULL, 0, sizeof(struct ipvs_dest), 0 };
	struct nl_msg *msg = request(nl, IPVS_CMD_GET_DEST, NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	if (put_service(msg, s, 0) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = run_dump(nl, msg, on_dest, &dp);
	*out = dp.v;
	*n = r < 0 ? 0 : dp.n;
	return r;
}
