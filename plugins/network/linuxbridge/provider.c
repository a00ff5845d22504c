/* Step 1, the provider network: its bridge on this host with the uplink
 * enslaved (or none: a simulated fabric), up, with the provider MTU.
 *
 * A bridge that already exists without our mark (operators often make it
 * themselves) is adopted: configured, never marked, recorded (record.h) and
 * reported once; destroy leaves it, taking out only what vxcloud put in. A
 * bridge we make carries "vxcloud:provider:<bridge>"; one of ours under
 * another name (the spec renamed the bridge) is released and deleted here.
 * An uplink vxcloud enslaved that the spec no longer names is given back. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lbr.h"
#include "links.h"
#include "record.h"

struct stale_arg {
	const char *keep;
	unsigned flags;
};

static int remove_stale(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache, void *arg)
{
	struct stale_arg *s = arg;
	char kind[LBR_KIND_MAX], name[LBR_NAME_MAX];
	int err;

	(void)cache;
	if (lbr_link_owner_any(p, l, kind, name) < 0 || strcmp(kind, "provider") ||
	    !strcmp(rtnl_link_get_name(l), s->keep))
		return 0;
	err = lbr_bridge_release_ports(p, "provider", rtnl_link_get_ifindex(l), 0, s->flags);
	if (!err)
		err = lbr_link_remove(p, "provider", l, s->flags);
	return err;
}

/* A bridge without our mark is used as it is, said once; the record lets
 * destroy find what vxcloud put in it. */
static int note_adoption(struct lbr *p, const struct vxc_provider *pv, struct rtnl_link *l,
			 const char *alias, unsigned flags)
{
	char had[VXC_IFNAMSIZ];
	int have = lbr_adopted_read(p, had);

	if (have < 0)
		return have;
	if (!l || lbr_link_has_alias(l, alias)) /* ours (or about to be) */
		return have && !lbr_dry(flags) ? lbr_adopted_forget(p) : 0;
	if (have && !strcmp(had, pv->bridge))
		return 0;
	lbr_change(p, "provider: use existing bridge %s (not created by vxcloud; it will be kept)",
		   pv->bridge);
	return lbr_dry(flags) ? 0 : lbr_adopted_write(p, pv->bridge);
}

static int ensure_bridge(struct lbr *p, const struct vxc_provider *pv, unsigned flags,
			 int *ifindex)
{
	char who[LBR_WHO_MAX], alias[LBR_ALIAS_MAX];
	struct lbr_want w = { .mtu = pv->mtu, .up = 1 };
	struct rtnl_link *l = NULL;
	int err, created = 0;

	*ifindex = 0;
	lbr_alias(alias, "provider", pv->bridge);
	err = lbr_link_get(p->sk, pv->bridge, &l);
	if (err == -ENODEV) {
		lbr_change(p, "provider: create bridge %s (mtu %u)", pv->bridge, pv->mtu);
		if (lbr_dry(flags))
			return 0;
		err = lbr_bridge_create(p, p->sk, "provider", pv->bridge, alias, &l);
		created = 1;
	} else if (err < 0) {
		return lbr_error(p, err, "provider: cannot read %s: %s", pv->bridge,
				 strerror(-err));
	} else if (strcmp(lbr_link_kind(l), "bridge")) {
		err = lbr_error(p, -EEXIST, "provider: %s exists and is a %s link, not a bridge",
				pv->bridge, lbr_link_kind(l));
	} else if (lbr_link_is_newborn(p, l)) {
		/* Ours, made by a run killed before the alias: not adopted. */
		lbr_log(p, VXC_LOG_WARN, "provider: bridge %s has vxcloud's creation MAC but no "
			"alias (a run was interrupted right after creating it); claiming it",
			pv->bridge);
		w.alias = alias;
		created = -1;
	}
	if (!err)
		err = note_adoption(p, pv, created ? NULL : l, alias, flags);
	if (created < 0)
		created = 0;
	if (!err) {
		snprintf(who, sizeof(who), "provider: %s", pv->bridge);
		err = lbr_link_fix(p, p->sk, who, l, &w, flags, created);
		*ifindex = rtnl_link_get_ifindex(l);
	}
	if (l)
		rtnl_link_put(l);
	return err;
}

/* The uplink vxcloud enslaved is not the spec's any more. */
static int release_dropped_uplink(struct lbr *p, const struct vxc_provider *pv, unsigned flags)
{
	struct lbr_uplink_rec r;
	int ifindex, err = lbr_uplink_rec_read(p, &r);

	if (err <= 0)
		return err;
	if (pv->uplink && !strcmp(pv->uplink, r.name))
		return 0;
	return lbr_uplink_release(p, flags, &ifindex);
}

int lbr_provider_ensure(void *priv, const struct vxc_provider *pv, unsigned flags)
{
	struct lbr *p = priv;
	struct stale_arg s = { .flags = flags };
	int br = 0, err;

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "provider_ensure: unknown flags %#x", flags);
	if (!pv || !pv->bridge[0])
		return lbr_error(p, -EINVAL, "provider: no bridge name");
	s.keep = pv->bridge;
	err = release_dropped_uplink(p, pv, flags);
	if (!err)
		err = lbr_links_foreach(p, p->sk, remove_stale, &s);
	if (!err)
		err = ensure_bridge(p, pv, flags, &br);
	if (!err && pv->uplink && pv->uplink[0])
		err = lbr_uplink_ensure(p, pv, br, flags);
	return err;
}
