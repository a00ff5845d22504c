/* Rebuilding a damaged provider record from the kernel and the ownership
 * marks: the records are caches of what vxcloud did, never a dead end.
 * The uplink is the one interface not vxcloud's that is a port of a
 * provider bridge vxcloud made (or adopted); its MTU before vxcloud is
 * lost, so the current one is kept. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lbr.h"
#include "links.h"
#include "record.h"

struct find_arg {
	char adopted[VXC_IFNAMSIZ];
	struct lbr_uplink_rec *r;
	int found;
};

/* Whether ifindex is a provider bridge: ours by mark, or the adopted one. */
static int is_provider_bridge(struct lbr *p, struct nl_cache *cache, int ifindex,
			      const char *adopted, char name[VXC_IFNAMSIZ])
{
	struct rtnl_link *br = rtnl_link_get(cache, ifindex);
	char kind[LBR_KIND_MAX], owner[LBR_NAME_MAX];
	int yes = 0;

	if (!br)
		return 0;
	if ((lbr_link_owner_any(p, br, kind, owner) == 0 && !strcmp(kind, "provider")) ||
	    (adopted[0] && !strcmp(rtnl_link_get_name(br), adopted))) {
		snprintf(name, VXC_IFNAMSIZ, "%s", rtnl_link_get_name(br));
		yes = 1;
	}
	rtnl_link_put(br);
	return yes;
}

static int find_uplink(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache, void *arg)
{
	struct find_arg *a = arg;
	char bridge[VXC_IFNAMSIZ];
	int master = rtnl_link_get_master(l);

	if (a->found || !master || lbr_link_is_ours(l) || lbr_link_is_newborn(p, l) ||
	    !is_provider_bridge(p, cache, master, a->adopted, bridge))
		return 0;
	snprintf(a->r->name, sizeof(a->r->name), "%s", rtnl_link_get_name(l));
	snprintf(a->r->bridge, sizeof(a->r->bridge), "%s", bridge);
	a->r->mtu = rtnl_link_get_mtu(l);
	a->r->joined = 1;
	a->found = 1;
	return 0;
}

int lbr_uplink_rec_rebuild(struct lbr *p, const char *why, struct lbr_uplink_rec *r)
{
	struct find_arg a = { .r = r };
	int err;

	memset(r, 0, sizeof(*r));
	if (lbr_adopted_read(p, a.adopted) <= 0)
		a.adopted[0] = '\0';
	err = lbr_links_foreach(p, p->sk, find_uplink, &a);
	if (err < 0)
		return err;
	if (!a.found) {
		lbr_log(p, VXC_LOG_WARN, "provider: record provider.uplink is damaged (%s) and no "
			"provider bridge holds an uplink; forgetting the record", why);
		err = lbr_uplink_rec_forget(p);
		return err < 0 ? err : 0;
	}
	lbr_log(p, VXC_LOG_WARN, "provider: record provider.uplink is damaged (%s); rebuilt "
		"from the kernel: uplink %s in bridge %s (its MTU before vxcloud is unknown; "
		"%u is kept)", why, r->name, r->bridge, r->mtu);
	err = lbr_uplink_rec_write(p, r);
	return err < 0 ? err : 1;
}
