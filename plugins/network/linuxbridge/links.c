/* Walking every link of a namespace: list, garbage collection and the
 * provider's stale-bridge check work from one dump. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "lbr.h"
#include "links.h"

int lbr_links_foreach(struct lbr *p, struct nl_sock *sk, lbr_link_fn fn, void *arg)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int err, first = 0;

	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0)
		return lbr_error(p, lbr_nlerr(err), "cannot list links: %s", nl_geterror(err));
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		err = fn(p, (struct rtnl_link *)o, cache, arg);
		if (err < 0 && !first)
			first = err;
	}
	nl_cache_free(cache);
	return first;
}

int lbr_link_owner(struct rtnl_link *l, char kind[LBR_KIND_MAX], char name[LBR_NAME_MAX])
{
	return lbr_alias_parse(rtnl_link_get_ifalias(l), kind, LBR_KIND_MAX, name, LBR_NAME_MAX);
}

/* A newborn link (lbr_link_is_newborn) has no mark yet: its owner follows
 * from the names vxcloud gives (core/spec_model.c). Router ports (rp-*)
 * and instance NICs (vi-*) go with their namespaces. */
int lbr_link_owner_any(struct lbr *p, struct rtnl_link *l, char kind[LBR_KIND_MAX],
		       char name[LBR_NAME_MAX])
{
	const char *n = rtnl_link_get_name(l);

	if (lbr_link_owner(l, kind, name) == 0)
		return 0;
	if (!n || !lbr_link_is_newborn(p, l))
		return -EINVAL;
	if ((!strncmp(n, "vb-", 3) || !strncmp(n, "vx-", 3)) && n[3]) {
		snprintf(kind, LBR_KIND_MAX, "network");
		snprintf(name, LBR_NAME_MAX, "%s", n + 3);
	} else if (!strncmp(n, "rg-", 3) && n[3]) {
		snprintf(kind, LBR_KIND_MAX, "router");
		snprintf(name, LBR_NAME_MAX, "%s", n + 3);
	} else if (!strcmp(lbr_link_kind(l), "bridge")) {
		snprintf(kind, LBR_KIND_MAX, "provider");
		snprintf(name, LBR_NAME_MAX, "%s", n);
	} else {
		return -EINVAL;
	}
	return 0;
}

int lbr_link_is_ours(struct rtnl_link *l)
{
	const char *a = rtnl_link_get_ifalias(l);

	return a && !strncmp(a, VXC_OWNER_MARK, strlen(VXC_OWNER_MARK));
}

/* Ports of bridge br that vxcloud did not make leave it first, so that
 * deleting the bridge is visibly a release for them, never a deletion. */
struct release_arg {
	const char *who;
	int br, skip;
	unsigned flags;
};

static int release_one(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache, void *arg)
{
	struct release_arg *r = arg;
	struct lbr_want w = { .master = -1 };
	char who[LBR_WHO_MAX];

	(void)cache;
	if (rtnl_link_get_master(l) != r->br || rtnl_link_get_ifindex(l) == r->skip)
		return 0;
	snprintf(who, sizeof(who), "%s: %s", r->who, rtnl_link_get_name(l));
	return lbr_link_fix(p, p->sk, who, l, &w, r->flags, 0);
}

int lbr_bridge_release_ports(struct lbr *p, const char *who, int br_ifindex, int skip,
			     unsigned flags)
{
	struct release_arg r = { .who = who, .br = br_ifindex, .skip = skip, .flags = flags };

	return lbr_links_foreach(p, p->sk, release_one, &r);
}

int lbr_link_remove(struct lbr *p, const char *who, struct rtnl_link *l, unsigned flags)
{
	lbr_change(p, "%s: delete %s %s", who, lbr_link_kind(l)[0] ? lbr_link_kind(l) : "link",
		   rtnl_link_get_name(l));
	if (lbr_dry(flags))
		return 0;
	return lbr_link_doom(p, who, l);
}
