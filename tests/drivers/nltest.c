#include "config.h"

#include <fcntl.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nltest.h"

struct nl_sock *nlt_sock(const char *nsfile)
{
	struct nl_sock *sk = nl_socket_alloc();
	int fd = -1, saved = -1, ok = 0;

	if (!sk)
		return NULL;
	if (nsfile) {
		fd = open(nsfile, O_RDONLY | O_CLOEXEC);
		saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || saved < 0 || setns(fd, CLONE_NEWNET) < 0)
			goto out;
	}
	ok = nl_connect(sk, NETLINK_ROUTE) == 0;
	if (nsfile && setns(saved, CLONE_NEWNET) < 0)
		ok = 0;
out:
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	if (!ok) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int ifindex_of(struct nl_sock *sk, const char *ifname)
{
	struct rtnl_link *l;
	int idx = -1;

	if (rtnl_link_get_kernel(sk, 0, ifname, &l) == 0) {
		idx = rtnl_link_get_ifindex(l);
		rtnl_link_put(l);
	}
	return idx;
}

struct nlt_link nlt_link(const char *nsfile, const char *ifname)
{
	struct nlt_link st = { 0 };
	struct nl_sock *sk = nlt_sock(nsfile);
	struct rtnl_link *l;

	if (sk && rtnl_link_get_kernel(sk, 0, ifname, &l) == 0) {
		struct nl_addr *a = rtnl_link_get_addr(l);
		const char *al = rtnl_link_get_ifalias(l);

		st.exists = 1;
		st.up = !!(rtnl_link_get_flags(l) & IFF_UP);
		st.mtu = rtnl_link_get_mtu(l);
		if (a && nl_addr_get_len(a) == 6) {
			const unsigned char *b = nl_addr_get_binary_addr(a);

			snprintf(st.mac, sizeof(st.mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0],
				 b[1], b[2], b[3], b[4], b[5]);
		}
		snprintf(st.alias, sizeof(st.alias), "%s", al ? al : "");
		rtnl_link_put(l);
	}
	if (sk)
		nl_socket_free(sk);
	return st;
}

void nlt_addrs(const char *nsfile, const char *ifname, char *out, size_t len)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct nl_cache *cache;
	int idx;

	out[0] = '\0';
	if (!sk)
		return;
	idx = ifindex_of(sk, ifname);
	if (rtnl_addr_alloc_cache(sk, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;
			char buf[64];

			if (rtnl_addr_get_ifindex(a) != idx || rtnl_addr_get_family(a) != AF_INET)
				continue;
			nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf));
			size_t used = strlen(out);

			snprintf(out + used, len - used, "%s%s", used ? " " : "", buf);
		}
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
}

void nlt_default_gw(const char *nsfile, char *out, size_t len)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct nl_cache *cache;

	out[0] = '\0';
	if (!sk)
		return;
	if (rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_route *rt = (struct rtnl_route *)o;
			struct rtnl_nexthop *nh;

			if (rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
			    nl_addr_get_prefixlen(rtnl_route_get_dst(rt)) != 0)
				continue;
			nh = rtnl_route_nexthop_n(rt, 0);
			if (nh && rtnl_route_nh_get_gateway(nh))
				nl_addr2str(rtnl_route_nh_get_gateway(nh), out, len);
			else
				snprintf(out, len, "dev");
		}
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
}

int nlt_set_mtu(const char *nsfile, const char *ifname, unsigned mtu)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct rtnl_link *l, *chg = rtnl_link_alloc();
	int r = -1;

	if (sk && chg && rtnl_link_get_kernel(sk, 0, ifname, &l) == 0) {
		rtnl_link_set_mtu(chg, mtu);
		r = rtnl_link_change(sk, l, chg, 0);
		rtnl_link_put(l);
	}
	if (chg)
		rtnl_link_put(chg);
	if (sk)
		nl_socket_free(sk);
	return r;
}

int nlt_add_addr(const char *nsfile, const char *ifname, const char *cidr)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int r = -1;

	if (sk && a && nl_addr_parse(cidr, AF_INET, &local) == 0) {
		rtnl_addr_set_ifindex(a, ifindex_of(sk, ifname));
		rtnl_addr_set_local(a, local);
		r = rtnl_addr_add(sk, a, 0);
		nl_addr_put(local);
	}
	if (a)
		rtnl_addr_put(a);
	if (sk)
		nl_socket_free(sk);
	return r;
}

int nlt_del_default_route(const char *nsfile)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct nl_cache *cache;
	int r = -1;

	if (sk && rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_route *rt = (struct rtnl_route *)o;

			if (rtnl_route_get_table(rt) == RT_TABLE_MAIN &&
			    nl_addr_get_prefixlen(rtnl_route_get_dst(rt)) == 0)
				r = rtnl_route_delete(sk, rt, 0);
		}
		nl_cache_free(cache);
	}
	if (sk)
		nl_socket_free(sk);
	return r;
}

int nlt_add_plain_veth(const char *nsfile, const char *name)
{
	struct nl_sock *sk = nlt_sock(nsfile);
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;
	char pname[IFNAMSIZ];
	int r = -1;

	if (!l)
		goto out;
	peer = rtnl_link_veth_get_peer(l);
	snprintf(pname, sizeof(pname), "%.13sp", name);
	rtnl_link_set_name(l, name);
	rtnl_link_set_name(peer, pname);
	if (sk)
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(l);
out:
	if (sk)
		nl_socket_free(sk);
	return r;
}
