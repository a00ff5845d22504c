/* Namespaces, links, UDP probes and conntrack for the NAT tests. Links are
 * made through libnl-route-3 inside namespaces the test owns. */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nattest.h"
#include "netns.h"

vxc_ctx nt_ctx;

uint32_t nt_ip(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

const char *nt_ipstr(uint32_t a, char buf[16])
{
	struct in_addr in = { .s_addr = a };

	return inet_ntop(AF_INET, &in, buf, 16);
}

int nt_ns_create(const char *name)
{
	return vxc_netns_create(&nt_ctx, name);
}

void nt_ns_delete(const char *name)
{
	vxc_netns_delete(&nt_ctx, name);
}

int nt_enter(const char *ns, int *saved)
{
	int fd = vxc_netns_open(&nt_ctx, ns), err;

	if (fd < 0)
		return fd;
	err = vxc_netns_enter(&nt_ctx, fd, saved);
	close(fd);
	return err;
}

void nt_leave(int saved)
{
	vxc_netns_leave(&nt_ctx, saved);
}

int nt_sysctl(const char *ns, const char *path, const char *value)
{
	int saved, fd, err = nt_enter(ns, &saved);

	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	nt_leave(saved);
	return err;
}

/* ---- libnl ---------------------------------------------------------- */

static struct nl_sock *nl_in(const char *ns, int *saved)
{
	struct nl_sock *sk;

	if (nt_enter(ns, saved) < 0)
		return NULL;
	sk = nl_socket_alloc();
	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
	}
	if (!sk)
		nt_leave(*saved);
	return sk;
}

static void nl_out(struct nl_sock *sk, int saved)
{
	nl_socket_free(sk);
	nt_leave(saved);
}

static int nlerr(int e)
{
	return e < 0 ? -EIO : e;
}

int nt_veth(const char *ns_a, const char *if_a, const char *ns_b, const char *if_b)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;
	int saved, fd_b = vxc_netns_open(&nt_ctx, ns_b), err;
	struct nl_sock *sk;

	if (!l || fd_b < 0)
		return -ENOENT;
	sk = nl_in(ns_a, &saved);
	if (!sk) {
		close(fd_b);
		return -EIO;
	}
	rtnl_link_set_name(l, if_a);
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(peer, if_b);
	rtnl_link_set_ns_fd(peer, fd_b);
	rtnl_link_put(peer);
	err = nlerr(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(l);
	nl_out(sk, saved);
	close(fd_b);
	if (!err)
		err = nt_up(ns_a, if_a);
	if (!err)
		err = nt_up(ns_b, if_b);
	return err;
}

int nt_up(const char *ns, const char *ifname)
{
	struct rtnl_link *l = NULL, *ch = rtnl_link_alloc();
	struct nl_sock *sk;
	int saved, err;

	sk = nl_in(ns, &saved);
	if (!sk || !ch)
		return -EIO;
	err = rtnl_link_get_kernel(sk, 0, ifname, &l);
	if (!err) {
		rtnl_link_set_flags(ch, IFF_UP);
		err = rtnl_link_change(sk, l, ch, 0);
		rtnl_link_put(l);
	}
	rtnl_link_put(ch);
	nl_out(sk, saved);
	return nlerr(err);
}

int nt_bridge(const char *ns, const char *br, const char *const *ports)
{
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	struct nl_sock *sk;
	int saved, err;

	sk = nl_in(ns, &saved);
	if (!sk || !l)
		return -EIO;
	rtnl_link_set_name(l, br);
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	for (size_t i = 0; !err && ports[i]; i++) {
		struct rtnl_link *b = NULL, *p = NULL;

		err = rtnl_link_get_kernel(sk, 0, br, &b);
		if (!err)
			err = rtnl_link_get_kernel(sk, 0, ports[i], &p);
		if (!err)
			err = rtnl_link_enslave(sk, b, p);
		if (b)
			rtnl_link_put(b);
		if (p)
			rtnl_link_put(p);
	}
	nl_out(sk, saved);
	return err ? nlerr(err) : nt_up(ns, br);
}

static int addr_op(const char *ns, const char *ifname, const char *cidr, int add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	struct nl_sock *sk;
	int saved, err, idx;

	sk = nl_in(ns, &saved);
	if (!sk || !a)
		return -EIO;
	{
		struct rtnl_link *l = NULL;

		idx = 0;
		if (rtnl_link_get_kernel(sk, 0, ifname, &l) == 0) {
			idx = rtnl_link_get_ifindex(l);
			rtnl_link_put(l);
		}
	}
	err = nl_addr_parse(cidr, AF_INET, &local);
	if (!err) {
		rtnl_addr_set_ifindex(a, idx);
		rtnl_addr_set_local(a, local);
		err = add ? rtnl_addr_add(sk, a, 0) : rtnl_addr_delete(sk, a, 0);
		nl_addr_put(local);
	}
	rtnl_addr_put(a);
	nl_out(sk, saved);
	return nlerr(err);
}

int nt_addr(const char *ns, const char *ifname, const char *cidr)
{
	return addr_op(ns, ifname, cidr, 1);
}

int nt_addr_del(const char *ns, const char *ifname, const char *cidr)
{
	return addr_op(ns, ifname, cidr, 0);
}

int nt_default_route(const char *ns, const char *gateway)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL, *gw = NULL;
	struct nl_sock *sk;
	int saved, err;

	sk = nl_in(ns, &saved);
	if (!sk || !r || !nh)
		return -EIO;
	err = nl_addr_parse("0.0.0.0/0", AF_INET, &dst);
	if (!err)
		err = nl_addr_parse(gateway, AF_INET, &gw);
	if (!err) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_dst(r, dst);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_add_nexthop(r, nh);
		err = rtnl_route_add(sk, r, NLM_F_CREATE);
	}
	if (dst)
		nl_addr_put(dst);
	if (gw)
		nl_addr_put(gw);
	rtnl_route_put(r);
	nl_out(sk, saved);
	return nlerr(err);
}

/* ---- UDP ------------------------------------------------------------ */

int nt_udp_open(const char *ns, const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int saved, fd, err = nt_enter(ns, &saved), one = 1;

	if (err)
		return err;
	sa.sin_addr.s_addr = addr ? nt_ip(addr) : INADDR_ANY;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			err = -errno;
			close(fd);
			fd = err;
		}
	} else {
		fd = -errno;
	}
	nt_leave(saved);
	return fd;
}

int nt_udp_send(int fd, const char *dst, uint16_t port, const char *msg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = nt_ip(dst);
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

int nt_udp_recv(int fd, char *buf, size_t len, char from[16], uint16_t *from_port,
		int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recvfrom(fd, buf, len - 1, 0, (struct sockaddr *)&sa, &sl);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (from)
		nt_ipstr(sa.sin_addr.s_addr, from);
	if (from_port)
		*from_port = ntohs(sa.sin_port);
	return (int)n;
}

void nt_udp_drain(int fd)
{
	char buf[256];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* ---- conntrack ------------------------------------------------------ */

struct ct_count {
	uint32_t addr;
	int n;
};

static uint32_t tuple_dst(const struct nlattr *t)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, t)
		if (mnl_attr_get_type(a) == CTA_TUPLE_IP)
			mnl_attr_for_each_nested(b, a)
				if (mnl_attr_get_type(b) == CTA_IP_V4_DST)
					return mnl_attr_get_u32(b);
	return 0;
}

static int ct_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_count *c = data;
	const struct nlattr *a;
	int hit = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if ((mnl_attr_get_type(a) == CTA_TUPLE_ORIG ||
		     mnl_attr_get_type(a) == CTA_TUPLE_REPLY) && tuple_dst(a) == c->addr)
			hit = 1;
	c->n += hit;
	return MNL_CB_OK;
}

int nt_ct_count(const char *ns, const char *addr)
{
	struct ct_count c = { nt_ip(addr), 0 };
	char *buf = malloc(65536);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	int saved, err = nt_enter(ns, &saved), ret;

	if (err || !buf) {
		free(buf);
		return err ? err : -ENOMEM;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, 65536);

		if (n < 0) {
			err = -errno;
			break;
		}
		ret = mnl_cb_run(buf, n, 1, mnl_socket_get_portid(nl), ct_cb, &c);
	} while (ret > 0);
out:
	if (nl)
		mnl_socket_close(nl);
	nt_leave(saved);
	free(buf);
	return err ? err : c.n;
}
