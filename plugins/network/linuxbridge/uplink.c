/* The provider's uplink: an interface of the host, never vxcloud's, put in
 * the provider bridge at the provider MTU. What vxcloud changes on it is
 * recorded first (record.h), so that dropping it from the spec or removing
 * the provider gives it back as it was -- and an uplink vxcloud did not
 * enslave is never taken out of its bridge. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lbr.h"
#include "links.h"
#include "record.h"

/* Records the uplink before the first change vxcloud makes to it; later
 * records keep its original MTU. */
static int record_before(struct lbr *p, const struct vxc_provider *pv, struct rtnl_link *l,
			 int br)
{
	struct lbr_uplink_rec r, old;
	int join = rtnl_link_get_master(l) != br;
	int have = lbr_uplink_rec_read(p, &old);

	if (have < 0)
		return have;
	if (!join && rtnl_link_get_mtu(l) == pv->mtu)
		return 0;
	if (have && !strcmp(old.name, pv->uplink)) {
		r = old;
		if (!join)
			return 0;
	} else {
		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "%s", pv->uplink);
		r.mtu = rtnl_link_get_mtu(l);
	}
	snprintf(r.bridge, sizeof(r.bridge), "%s", pv->bridge);
	r.joined = r.joined || join;
	return lbr_uplink_rec_write(p, &r);
}

int lbr_uplink_ensure(struct lbr *p, const struct vxc_provider *pv, int br, unsigned flags)
{
	struct lbr_want w = { .mtu = pv->mtu, .master = br, .master_name = pv->bridge, .up = 1 };
	struct rtnl_link *l = NULL;
	char who[LBR_WHO_MAX];
	int err;

	err = lbr_link_get(p->sk, pv->uplink, &l);
	if (err < 0)
		return lbr_error(p, err, "provider: uplink %s: %s", pv->uplink,
				 err == -ENODEV ? "no such interface on this host" : strerror(-err));
	if (lbr_link_is_ours(l)) {
		rtnl_link_put(l);
		return lbr_error(p, -EINVAL, "provider: uplink %s is an interface vxcloud made",
				 pv->uplink);
	}
	snprintf(who, sizeof(who), "provider: uplink %s", pv->uplink);
	if (!br) /* dry run, the bridge is only planned */
		lbr_change(p, "%s: join bridge %s", who, pv->bridge);
	err = lbr_dry(flags) ? 0 : record_before(p, pv, l, br);
	if (!err)
		err = lbr_link_fix(p, p->sk, who, l, &w, flags, 0);
	rtnl_link_put(l);
	return err;
}

/* Whether l is a port of the bridge named bridge. */
static int in_bridge(struct lbr *p, struct rtnl_link *l, const char *bridge)
{
	struct rtnl_link *br = NULL;
	int yes;

	if (!rtnl_link_get_master(l) || lbr_link_get(p->sk, bridge, &br) < 0)
		return 0;
	yes = rtnl_link_get_master(l) == rtnl_link_get_ifindex(br);
	rtnl_link_put(br);
	return yes;
}

int lbr_uplink_release(struct lbr *p, unsigned flags, int *ifindex)
{
	struct lbr_want leave = { .master = -1 };
	struct lbr_uplink_rec r;
	struct rtnl_link *l = NULL;
	char who[LBR_WHO_MAX];
	int err;

	*ifindex = 0;
	err = lbr_uplink_rec_read(p, &r);
	if (err <= 0)
		return err;
	err = lbr_link_get(p->sk, r.name, &l);
	if (err == -ENODEV) /* gone: nothing to give back */
		return lbr_dry(flags) ? 0 : lbr_uplink_rec_forget(p);
	if (err < 0)
		return lbr_error(p, err, "provider: uplink %s: %s", r.name, strerror(-err));
	snprintf(who, sizeof(who), "provider: uplink %s", r.name);
	if (!lbr_link_is_ours(l)) {
		*ifindex = rtnl_link_get_ifindex(l);
		/* Out of the bridge first: a bridge follows its ports' MTU. */
		if (r.joined && in_bridge(p, l, r.bridge))
			err = lbr_link_fix(p, p->sk, who, l, &leave, flags, 0);
		if (!err) {
			struct lbr_want mtu = { .mtu = r.mtu };

			err = lbr_link_fix(p, p->sk, who, l, &mtu, flags, 0);
		}
	}
	rtnl_link_put(l);
	if (!err && !lbr_dry(flags))
		err = lbr_uplink_rec_forget(p);
	return err;
}
