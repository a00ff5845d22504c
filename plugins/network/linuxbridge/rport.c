/* A router port: a veth pair whose host end joins a bridge here and whose
 * peer sits in the router namespace. Made with libnl directly (the peer is
 * created straight in the namespace) rather than the core's veth service,
 * which gives a namespace exactly one address and one default route: a
 * router has several ports, floating IPs and a default route on only one
 * of them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netlink/route/link/veth.h>

#include "lbr.h"
#include "router.h"

/* Both ends exist and point at each other. */
static int pair_ok(struct rtnl_link *host, struct rtnl_link *peer)
{
	return host && peer && !strcmp(lbr_link_kind(host), "veth") &&
	       !strcmp(lbr_link_kind(peer), "veth") &&
	       rtnl_link_get_link(peer) == rtnl_link_get_ifindex(host) &&
	       rtnl_link_get_link(host) == rtnl_link_get_ifindex(peer);
}

static int pair_create(struct lbr *p, const char *who, const struct lbr_inside *in,
		       const struct lbr_rport *rp)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;
	int err;

	if (!l)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, rp->host_if);
	lbr_link_set_birth_mac(p, l, rp->host_if);
	rtnl_link_set_mtu(l, rp->mtu);
	rtnl_link_set_name(peer, rp->peer_if);
	rtnl_link_set_mtu(peer, rp->mtu);
	lbr_link_set_mac(peer, rp->mac);
	rtnl_link_set_ns_fd(peer, in->fd);
	err = rtnl_link_add(p->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(l);
	if (err < 0)
		return lbr_error(p, lbr_nlerr(err), "%s: cannot create veth %s <-> %s: %s", who,
				 rp->host_if, rp->peer_if, nl_geterror(err));
	return 0;
}

/* Looks both ends up; an end missing is NULL, not an error. */
static int pair_get(struct lbr *p, const char *who, const struct lbr_inside *in,
		    const struct lbr_rport *rp, struct rtnl_link **host, struct rtnl_link **peer)
{
	int err;

	*host = *peer = NULL;
	err = lbr_link_get(p->sk, rp->host_if, host);
	if (err == -ENODEV)
		err = 0;
	if (!err && in) {
		err = lbr_link_get(in->sk, rp->peer_if, peer);
		if (err == -ENODEV)
			err = 0;
	}
	if (err < 0)
		return lbr_error(p, err, "%s: cannot read %s/%s: %s", who, rp->host_if,
				 rp->peer_if, strerror(-err));
	return 0;
}

static void put2(struct rtnl_link **a, struct rtnl_link **b)
{
	if (*a)
		rtnl_link_put(*a);
	if (*b)
		rtnl_link_put(*b);
	*a = *b = NULL;
}

/* Deletes what is there of a broken pair: the host end if it is ours, a
 * stale peer (anything in the router namespace is ours). */
static int pair_clear(struct lbr *p, const char *who, const struct lbr_inside *in,
		      struct rtnl_link *host, struct rtnl_link *peer)
{
	int err = 0;

	if (host)
		err = lbr_link_delete(p, p->sk, who, host);
	if (!err && peer)
		err = lbr_link_delete(p, in->sk, who, peer);
	return err;
}

/* A port made by a build that did not mark links yet: no alias, and its
 * peer is inside the router namespace vxcloud made. Claimed (the fix below
 * sets the alias). */
static int older_build_port(struct lbr *p, const char *who, struct rtnl_link *host,
			    struct rtnl_link *peer)
{
	const char *a = rtnl_link_get_ifalias(host);

	if ((a && *a) || !pair_ok(host, peer))
		return 0;
	lbr_log(p, VXC_LOG_WARN, "%s: interface %s has no alias but its peer is in the router's "
		"namespace; claiming it", who, rtnl_link_get_name(host));
	return 1;
}

int lbr_rport_ensure(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		     const struct lbr_rport *rp, unsigned flags, int *peer_ifindex)
{
	char who[LBR_WHO_MAX], alias[LBR_ALIAS_MAX];
	struct rtnl_link *host = NULL, *peer = NULL;
	struct lbr_want hw = { .alias = alias };
	struct lbr_want pw = { .mtu = rp->mtu, .mac = rp->mac, .up = 1 };
	int err, created = 0;

	*peer_ifindex = 0;
	snprintf(who, sizeof(who), "router %s: port %s", r->name, rp->host_if);
	lbr_alias(alias, "router", r->name);
	err = pair_get(p, who, in, rp, &host, &peer);
	if (!err && host && !older_build_port(p, who, host, peer))
		err = lbr_link_claim(p, who, host, alias);
	if (err < 0)
		goto out;
	if (!pair_ok(host, peer)) {
		if (host || peer)
			lbr_change(p, "%s: replace veth %s <-> %s (its ends do not match)", who,
				   rp->host_if, rp->peer_if);
		else
			lbr_change(p, "%s: create veth %s <-> %s in %s (mtu %u)", who, rp->host_if,
				   rp->peer_if, r->netns, rp->mtu);
		if (lbr_dry(flags)) {
			/* What the new pair then gets is reported by the caller. */
			lbr_change(p, "%s: attach %s to %s", who, rp->host_if, rp->bridge);
			goto out;
		}
		err = pair_clear(p, who, in, host, peer);
		if (!err)
			err = pair_create(p, who, in, rp);
		put2(&host, &peer);
		if (!err)
			err = pair_get(p, who, in, rp, &host, &peer);
		if (!err && !pair_ok(host, peer))
			err = lbr_error(p, -EIO, "%s: veth %s <-> %s not found after creating it",
					who, rp->host_if, rp->peer_if);
		if (err < 0)
			goto out;
		created = 1;
	}
	err = lbr_link_fix(p, p->sk, who, host, &hw, flags, created);
	if (!err)
		err = lbr_attach(p, who, rp->host_if, rp->bridge, rp->mtu, flags);
	if (!err) {
		snprintf(who, sizeof(who), "router %s: %s", r->name, rp->peer_if);
		err = lbr_link_fix(p, in->sk, who, peer, &pw, flags, created);
		*peer_ifindex = rtnl_link_get_ifindex(peer);
	}
out:
	put2(&host, &peer);
	return err;
}
