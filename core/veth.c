/* veth pairs: one end on the host (it joins a bridge), the peer inside a
 * namespace with its MAC, address and default route. Ensure is idempotent:
 * it creates what is missing, corrects what differs, and reports each
 * change (or, under VXC_F_DRY_RUN, each change it would make). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "nl.h"
#include "util.h"

struct veth_run {
	vxc_ctx *ctx;
	const struct vxc_veth *v;
	int dry;
	int ha;                    /* VXC_F_VETH_HA: keepalived's address and route stay */
	int created;               /* link settings that follow are part of it */
	char who[96];              /* "instance web1", for messages */
	struct nl_sock *hsk, *psk; /* host side, namespace side */
	struct rtnl_link *host, *peer;
};

/* "vxcloud:instance:web1" -> "instance web1": the owner the change is for. */
static void set_who(struct veth_run *run)
{
	const char *a = run->v->alias;
	size_t mlen = strlen(VXC_OWNER_MARK);
	char *colon;

	if (a && !strncmp(a, VXC_OWNER_MARK, mlen) && a[mlen]) {
		snprintf(run->who, sizeof(run->who), "%s", a + mlen);
		colon = strchr(run->who, ':');
		if (colon)
			*colon = ' ';
	} else {
		snprintf(run->who, sizeof(run->who), "veth %s", run->v->host_if);
	}
}

static int fail(struct veth_run *run, int err, const char *what, const char *ifname)
{
	return vxc_ctx_error(run->ctx, err, "%s: %s %s: %s", run->who, what, ifname,
			     strerror(-err));
}

static int get_link(struct nl_sock *sk, const char *name, struct rtnl_link **out)
{
	int r = rtnl_link_get_kernel(sk, 0, name, out);

	if (r < 0) {
		*out = NULL;
		r = vxc_nl_errno(r);
		return r == -ENODEV ? -ENOENT : r;
	}
	return 0;
}

static int check_args(vxc_ctx *ctx, const struct vxc_veth *v, unsigned flags)
{
	if (flags & ~(VXC_F_KNOWN | VXC_F_VETH_HA))
		return vxc_ctx_error(ctx, -EINVAL, "veth: unknown flags 0x%x", flags);
	if (!v || !v->host_if || !*v->host_if || strlen(v->host_if) >= IFNAMSIZ)
		return vxc_ctx_error(ctx, -EINVAL, "veth: invalid host interface name '%s'",
				     v && v->host_if ? v->host_if : "");
	if (!v->peer_if || !*v->peer_if || strlen(v->peer_if) >= IFNAMSIZ)
		return vxc_ctx_error(ctx, -EINVAL, "veth %s: invalid peer interface name '%s'",
				     v->host_if, v->peer_if ? v->peer_if : "");
	if (v->prefixlen > 32)
		return vxc_ctx_error(ctx, -EINVAL, "veth %s: prefix length %u over 32", v->host_if,
				     v->prefixlen);
	if (v->mtu && (v->mtu < 68 || v->mtu > 65535))
		return vxc_ctx_error(ctx, -EINVAL, "veth %s: MTU %u out of range 68..65535",
				     v->host_if, v->mtu);
	if (v->netns_fd < 0 && !(flags & VXC_F_DRY_RUN))
		return vxc_ctx_error(ctx, -EBADF, "veth %s: no namespace for the peer",
				     v->host_if);
	return 0;
}

static int is_pair(struct rtnl_link *host, struct rtnl_link *peer)
{
	return rtnl_link_get_link(peer) == rtnl_link_get_ifindex(host) &&
	       rtnl_link_get_link(host) == rtnl_link_get_ifindex(peer);
}

/* The host end carries the MAC vxcloud gives every link it creates (see
 * vxc_link_birth_mac): a run killed between creation and alias left it. */
static int is_newborn(struct veth_run *run)
{
	struct nl_addr *a = rtnl_link_get_addr(run->host);
	struct vxc_mac birth;

	vxc_link_birth_mac(run->ctx->host_name, run->v->host_if, &birth);
	return a && nl_addr_get_len(a) == 6 && !memcmp(nl_addr_get_binary_addr(a), birth.b, 6);
}

/* Only a veth marked as ours may be corrected; anything else with this
 * name belongs to someone else. */
static int check_owner(struct veth_run *run)
{
	const char *alias = rtnl_link_get_ifalias(run->host);
	const char *type = rtnl_link_get_type(run->host);

	if (!type || strcmp(type, "veth"))
		return vxc_ctx_error(run->ctx, -EEXIST,
				     "%s: interface %s exists and is not a veth (type %s); "
				     "refusing to take it over", run->who, run->v->host_if,
				     type ? type : "none");
	if ((!alias || !*alias) && is_newborn(run)) {
		vxc_ctx_log(run->ctx, VXC_LOG_WARN, "%s: interface %s has vxcloud's creation MAC "
			    "but no alias (a run was interrupted right after creating it); "
			    "claiming it", run->who, run->v->host_if);
		return 0; /* ensure_alias marks it */
	}
	/* Made by an older build and never marked: its peer is inside the
	 * namespace vxcloud made for this object, so it is vxcloud's too. */
	if ((!alias || !*alias) && run->peer && is_pair(run->host, run->peer)) {
		vxc_ctx_log(run->ctx, VXC_LOG_WARN, "%s: interface %s has no alias but its peer "
			    "%s is in the namespace vxcloud made for it; claiming it", run->who,
			    run->v->host_if, run->v->peer_if);
		return 0;
	}
	if (!alias || strncmp(alias, VXC_OWNER_MARK, strlen(VXC_OWNER_MARK)))
		return vxc_ctx_error(run->ctx, -EEXIST,
				     "%s: interface %s exists without the vxcloud alias; refusing "
				     "to take over an interface vxcloud did not create", run->who,
				     run->v->host_if);
	return 0;
}

static void describe_net(struct veth_run *run, char *buf, size_t len)
{
	char a[VXC_IPSTR], g[VXC_IPSTR], m[VXC_MACSTR];

	snprintf(buf, len, "%s %s/%u%s%s mtu %u", vxc_mac_str(&run->v->mac, m),
		 vxc_ip_str(run->v->addr, a), run->v->prefixlen,
		 run->v->gateway.s_addr ? " via " : "",
		 run->v->gateway.s_addr ? vxc_ip_str(run->v->gateway, g) : "", run->v->mtu);
}

static int create_pair(struct veth_run *run)
{
	const struct vxc_veth *v = run->v;
	struct rtnl_link *link, *peer;
	struct nl_addr *mac;
	struct vxc_mac birth;
	char desc[128];
	int r;

	describe_net(run, desc, sizeof(desc));
	vxc_ctx_change(run->ctx, "%s: create veth %s (peer %s: %s)", run->who, v->host_if,
		       v->peer_if, desc);
	if (run->dry)
		return 0;
	link = rtnl_link_veth_alloc();
	if (!link)
		return fail(run, -ENOMEM, "create veth", v->host_if);
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, v->host_if);
	vxc_link_birth_mac(run->ctx->host_name, v->host_if, &birth);
	if ((mac = nl_addr_build(AF_LLC, birth.b, sizeof(birth.b)))) {
		rtnl_link_set_addr(link, mac);
		nl_addr_put(mac);
	}
	if (v->alias)
		rtnl_link_set_ifalias(link, v->alias);
	rtnl_link_set_name(peer, v->peer_if);
	rtnl_link_set_ns_fd(peer, v->netns_fd);
	if (v->mtu) {
		rtnl_link_set_mtu(link, v->mtu);
		rtnl_link_set_mtu(peer, v->mtu);
	}
	mac = nl_addr_build(AF_LLC, v->mac.b, sizeof(v->mac.b));
	if (mac) {
		rtnl_link_set_addr(peer, mac);
		nl_addr_put(mac);
	}
	r = rtnl_link_add(run->hsk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(link);
	if (r < 0)
		return fail(run, vxc_nl_errno(r), "create veth", v->host_if);
	return 0;
}

/* Sends one change for link on sk, or only reports it under dry run. */
static int change_link(struct veth_run *run, struct nl_sock *sk, struct rtnl_link *link,
		       struct rtnl_link *chg, const char *what)
{
	int r = 0;

	if (!run->dry) {
		r = rtnl_link_change(sk, link, chg, 0);
		if (r < 0)
			r = fail(run, vxc_nl_errno(r), what, rtnl_link_get_name(link));
	}
	if (r == 0 && !run->created)
		vxc_ctx_change(run->ctx, "%s: %s %s", run->who, what, rtnl_link_get_name(link));
	rtnl_link_put(chg);
	return r;
}

static int ensure_alias(struct veth_run *run)
{
	const char *cur = rtnl_link_get_ifalias(run->host);
	struct rtnl_link *chg;
	char what[128];

	if (!run->v->alias || (cur && !strcmp(cur, run->v->alias)))
		return 0;
	if (!(chg = rtnl_link_alloc()))
		return -ENOMEM;
	rtnl_link_set_ifalias(chg, run->v->alias);
	snprintf(what, sizeof(what), "set alias %s on", run->v->alias);
	return change_link(run, run->hsk, run->host, chg, what);
}

static int ensure_mtu(struct veth_run *run, struct nl_sock *sk, struct rtnl_link *link)
{
	unsigned cur = rtnl_link_get_mtu(link);
	struct rtnl_link *chg;
	char what[64];

	if (!run->v->mtu || cur == run->v->mtu)
		return 0;
	if (!(chg = rtnl_link_alloc()))
		return -ENOMEM;
	rtnl_link_set_mtu(chg, run->v->mtu);
	snprintf(what, sizeof(what), "set MTU %u (was %u) on", run->v->mtu, cur);
	return change_link(run, sk, link, chg, what);
}

static int mac_differs(struct rtnl_link *link, const struct vxc_mac *want, char cur[VXC_MACSTR])
{
	struct nl_addr *a = rtnl_link_get_addr(link);

	if (!a || nl_addr_get_len(a) != sizeof(want->b)) {
		snprintf(cur, VXC_MACSTR, "none");
		return 1;
	}
	vxc_mac_str((const struct vxc_mac *)nl_addr_get_binary_addr(a), cur);
	return memcmp(nl_addr_get_binary_addr(a), want->b, sizeof(want->b)) != 0;
}

static int ensure_mac(struct veth_run *run)
{
	char cur[VXC_MACSTR], want[VXC_MACSTR], what[96];
	struct rtnl_link *chg;
	struct nl_addr *mac;

	if (!mac_differs(run->peer, &run->v->mac, cur))
		return 0;
	if (!(chg = rtnl_link_alloc()))
		return -ENOMEM;
	mac = nl_addr_build(AF_LLC, run->v->mac.b, sizeof(run->v->mac.b));
	if (!mac) {
		rtnl_link_put(chg);
		return -ENOMEM;
	}
	rtnl_link_set_addr(chg, mac);
	nl_addr_put(mac);
	snprintf(what, sizeof(what), "set MAC %s (was %s) on", vxc_mac_str(&run->v->mac, want),
		 cur);
	return change_link(run, run->psk, run->peer, chg, what);
}

static int ensure_up(struct veth_run *run, struct nl_sock *sk, struct rtnl_link *link)
{
	struct rtnl_link *chg;

	if (rtnl_link_get_flags(link) & IFF_UP)
		return 0;
	if (!(chg = rtnl_link_alloc()))
		return -ENOMEM;
	rtnl_link_set_flags(chg, IFF_UP);
	return change_link(run, sk, link, chg, "bring up");
}

struct addr_scan {
	struct veth_run *run;
	int ifindex;
	int found;
	int err;
};

/* Every other IPv4 address on the peer goes: the namespace is ours and the
 * spec gives the port exactly one address. On an HA copy the others are
 * keepalived's (the shared address, on the active copy): they stay. */
static void scan_addr(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)obj;
	struct addr_scan *s = arg;
	struct veth_run *run = s->run;
	struct nl_addr *local = rtnl_addr_get_local(ra);
	char buf[64];
	int r;

	if (rtnl_addr_get_ifindex(ra) != s->ifindex || rtnl_addr_get_family(ra) != AF_INET ||
	    !local || s->err)
		return;
	if (nl_addr_get_len(local) == 4 && rtnl_addr_get_prefixlen(ra) == run->v->prefixlen &&
	    !memcmp(nl_addr_get_binary_addr(local), &run->v->addr, 4)) {
		s->found = 1;
		return;
	}
	if (run->ha)
		return;
	nl_addr2str(local, buf, sizeof(buf));
	if (!run->dry) {
		r = rtnl_addr_delete(run->psk, ra, 0);
		if (r < 0) {
			s->err = fail(run, vxc_nl_errno(r), "remove an address from",
				      run->v->peer_if);
			return;
		}
	}
	vxc_ctx_change(run->ctx, "%s: remove address %s from %s", run->who, buf,
		       run->v->peer_if);
}

static int add_addr(struct veth_run *run, int ifindex)
{
	char a[VXC_IPSTR];
	struct rtnl_addr *ra;
	struct nl_addr *local;
	int r = 0;

	if (!run->dry) {
		ra = rtnl_addr_alloc();
		local = vxc_nl_addr4(run->v->addr, run->v->prefixlen);
		if (!ra || !local) {
			if (ra)
				rtnl_addr_put(ra);
			nl_addr_put(local);
			return -ENOMEM;
		}
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_local(ra, local);
		r = rtnl_addr_add(run->psk, ra, 0);
		nl_addr_put(local);
		rtnl_addr_put(ra);
		if (r < 0)
			return fail(run, vxc_nl_errno(r), "add an address to", run->v->peer_if);
	}
	vxc_ctx_change(run->ctx, "%s: add address %s/%u to %s", run->who,
		       vxc_ip_str(run->v->addr, a), run->v->prefixlen, run->v->peer_if);
	return 0;
}

static int ensure_addr(struct veth_run *run)
{
	struct addr_scan s = { run, rtnl_link_get_ifindex(run->peer), 0, 0 };
	struct nl_cache *cache;
	int r;

	r = rtnl_addr_alloc_cache(run->psk, &cache);
	if (r < 0)
		return fail(run, vxc_nl_errno(r), "list addresses of", run->v->peer_if);
	nl_cache_foreach(cache, scan_addr, &s);
	nl_cache_free(cache);
	if (s.err)
		return s.err;
	return s.found ? 0 : add_addr(run, s.ifindex);
}

/* The main table's IPv4 default route, if any (a new reference). */
static struct rtnl_route *find_default(struct nl_cache *cache)
{
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);

		if (rtnl_route_get_table(rt) == RT_TABLE_MAIN &&
		    rtnl_route_get_type(rt) == RTN_UNICAST && dst && !nl_addr_get_prefixlen(dst)) {
			nl_object_get(o);
			return rt;
		}
	}
	return NULL;
}

static int route_gateway(struct rtnl_route *rt, struct in_addr *gw)
{
	struct rtnl_nexthop *nh;
	struct nl_addr *a;

	gw->s_addr = 0;
	if (rtnl_route_get_nnexthops(rt) != 1 || !(nh = rtnl_route_nexthop_n(rt, 0)))
		return -1;
	a = rtnl_route_nh_get_gateway(nh);
	if (!a || nl_addr_get_len(a) != 4)
		return -1;
	memcpy(gw, nl_addr_get_binary_addr(a), 4);
	return 0;
}

static int put_default(struct veth_run *run, int ifindex)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct in_addr any = { 0 };
	struct nl_addr *dst = vxc_nl_addr4(any, 0), *gw = vxc_nl_addr4(run->v->gateway, 32);
	int r = -ENOMEM;

	if (rt && nh && dst && gw) {
		rtnl_route_set_family(rt, AF_INET);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_type(rt, RTN_UNICAST);
		rtnl_route_set_protocol(rt, RTPROT_STATIC);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL;
		r = rtnl_route_add(run->psk, rt, NLM_F_REPLACE);
		r = r < 0 ? vxc_nl_errno(r) : 0;
	}
	if (nh)
		rtnl_route_nh_free(nh);
	if (rt)
		rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
	return r;
}

static int remove_default(struct veth_run *run, struct rtnl_route *rt, const char *was)
{
	int r = 0;

	if (!run->dry && (r = rtnl_route_delete(run->psk, rt, 0)) < 0)
		return fail(run, vxc_nl_errno(r), "remove the default route via", was);
	vxc_ctx_change(run->ctx, "%s: remove the default route via %s", run->who, was);
	return 0;
}

static int ensure_route(struct veth_run *run)
{
	char want[VXC_IPSTR], was[VXC_IPSTR] = "a device";
	struct in_addr cur = { 0 };
	struct rtnl_route *rt;
	struct nl_cache *cache;
	int r;

	r = rtnl_route_alloc_cache(run->psk, AF_INET, 0, &cache);
	if (r < 0)
		return fail(run, vxc_nl_errno(r), "list routes of", run->v->peer_if);
	rt = find_default(cache);
	nl_cache_free(cache);
	if (rt && route_gateway(rt, &cur) == 0)
		vxc_ip_str(cur, was);
	vxc_ip_str(run->v->gateway, want);
	if (!run->v->gateway.s_addr) {
		/* No gateway wanted: a default route left over goes. */
		r = rt ? remove_default(run, rt, was) : 0;
	} else if (rt && cur.s_addr == run->v->gateway.s_addr) {
		r = 0;
	} else if (!run->dry && (r = put_default(run, rtnl_link_get_ifindex(run->peer))) < 0) {
		r = fail(run, r, "set the default route via", want);
	} else {
		if (rt)
			vxc_ctx_change(run->ctx, "%s: replace the default route via %s with "
				       "one via %s", run->who, was, want);
		else
			vxc_ctx_change(run->ctx, "%s: add default route via %s", run->who, want);
		r = 0;
	}
	if (rt)
		rtnl_route_put(rt);
	return r;
}

/* Under dry run with nothing there yet: what creating would go on to do. */
static void report_planned(struct veth_run *run)
{
	char a[VXC_IPSTR], g[VXC_IPSTR];

	vxc_ctx_change(run->ctx, "%s: add address %s/%u to %s", run->who,
		       vxc_ip_str(run->v->addr, a), run->v->prefixlen, run->v->peer_if);
	if (run->v->gateway.s_addr && !run->ha)
		vxc_ctx_change(run->ctx, "%s: add default route via %s", run->who,
			       vxc_ip_str(run->v->gateway, g));
}

static void drop_links(struct veth_run *run)
{
	if (run->host)
		rtnl_link_put(run->host);
	if (run->peer)
		rtnl_link_put(run->peer);
	run->host = run->peer = NULL;
}

static int load_links(struct veth_run *run)
{
	int r;

	drop_links(run);
	r = get_link(run->hsk, run->v->host_if, &run->host);
	if (r < 0)
		return r == -ENOENT ? 0 : fail(run, r, "look up", run->v->host_if);
	if (!run->psk)
		return 0;
	r = get_link(run->psk, run->v->peer_if, &run->peer);
	if (r < 0 && r != -ENOENT)
		return fail(run, r, "look up", run->v->peer_if);
	return 0;
}

/* The host end is ours but its peer is not in the namespace (renamed,
 * moved): the pair is rebuilt. A stale peer name inside the namespace
 * (our namespace) is cleared so the new pair can take it. */
static int clear_for_create(struct veth_run *run)
{
	int r;

	if (run->host && !(run->peer && is_pair(run->host, run->peer))) {
		vxc_ctx_change(run->ctx, "%s: delete veth %s (its peer is not %s in the namespace)",
			       run->who, run->v->host_if, run->v->peer_if);
		if (!run->dry && (r = rtnl_link_delete(run->hsk, run->host)) < 0)
			return fail(run, vxc_nl_errno(r), "delete", run->v->host_if);
		rtnl_link_put(run->host);
		run->host = NULL;
	}
	if (!run->host && run->peer) {
		vxc_ctx_change(run->ctx, "%s: delete stale %s in the namespace", run->who,
			       run->v->peer_if);
		if (!run->dry && (r = rtnl_link_delete(run->psk, run->peer)) < 0)
			return fail(run, vxc_nl_errno(r), "delete", run->v->peer_if);
		rtnl_link_put(run->peer);
		run->peer = NULL;
	}
	return 0;
}

static int correct(struct veth_run *run)
{
	int r;

	if ((r = ensure_alias(run)) < 0 || (r = ensure_mtu(run, run->hsk, run->host)) < 0 ||
	    (r = ensure_mtu(run, run->psk, run->peer)) < 0 || (r = ensure_mac(run)) < 0 ||
	    (r = ensure_up(run, run->hsk, run->host)) < 0 ||
	    (r = ensure_up(run, run->psk, run->peer)) < 0)
		return r;
	/* Under dry run a link brought up only in theory has no connected
	 * route yet; the address and route checks still read real state. */
	if ((r = ensure_addr(run)) < 0 || (!run->ha && (r = ensure_route(run)) < 0))
		return r;
	return 0;
}

static int run_ensure(struct veth_run *run)
{
	int r;

	r = vxc_nl_host(run->ctx, &run->hsk);
	if (r < 0)
		return r;
	if (run->v->netns_fd >= 0 && (r = vxc_nl_open(run->ctx, run->v->netns_fd, &run->psk)) < 0)
		return r;
	if ((r = load_links(run)) < 0)
		return r;
	if (run->host && (r = check_owner(run)) < 0)
		return r;
	if (!run->psk) { /* dry run, the namespace is still to be made */
		if (!run->host) {
			create_pair(run);
			report_planned(run);
			return 0;
		}
		return vxc_ctx_error(run->ctx, -EINVAL, "%s: %s exists but its namespace does "
				     "not", run->who, run->v->host_if);
	}
	if ((r = clear_for_create(run)) < 0)
		return r;
	if (!run->host) {
		if ((r = create_pair(run)) < 0)
			return r;
		if (run->dry) {
			report_planned(run);
			return 0;
		}
		if ((r = load_links(run)) < 0)
			return r;
		if (!run->host || !run->peer)
			return vxc_ctx_error(run->ctx, -ENOENT, "%s: veth %s vanished after "
					     "creation", run->who, run->v->host_if);
		/* Bringing the ends up is part of the creation just reported;
		 * (a veth cannot come up in the creating request: its peer is
		 * not linked yet, the kernel answers ENOTCONN). */
		run->created = 1;
	}
	return correct(run);
}

int vxc_veth_ensure(vxc_ctx *ctx, const struct vxc_veth *veth, unsigned flags)
{
	struct veth_run run = { .ctx = ctx, .v = veth, .dry = !!(flags & VXC_F_DRY_RUN),
				.ha = !!(flags & VXC_F_VETH_HA) };
	int r;

	r = check_args(ctx, veth, flags);
	if (r < 0)
		return r;
	set_who(&run);
	r = run_ensure(&run);
	drop_links(&run);
	if (run.psk)
		nl_socket_free(run.psk);
	return r;
}

int vxc_link_delete(vxc_ctx *ctx, const char *ifname)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int r;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return vxc_ctx_error(ctx, -EINVAL, "link '%s': invalid interface name",
				     ifname ? ifname : "");
	r = vxc_nl_host(ctx, &sk);
	if (r < 0)
		return r;
	r = get_link(sk, ifname, &link);
	if (r == 0) {
		r = rtnl_link_delete(sk, link);
		r = r < 0 ? vxc_nl_errno(r) : 0;
		rtnl_link_put(link);
		/* Gone meanwhile (a veth dies with its peer's namespace). */
		if (r == -ENODEV || r == -ENOENT)
			r = 0;
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		return vxc_ctx_error(ctx, r, "link %s: delete: %s", ifname, strerror(-r));
	return 0;
}
