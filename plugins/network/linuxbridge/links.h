/* Walking links, and which of them are vxcloud's. */
#ifndef LBR_LINKS_H
#define LBR_LINKS_H

#include <netlink/cache.h>
#include "lbr.h"

#define LBR_KIND_MAX 16
#define LBR_NAME_MAX 64

typedef int (*lbr_link_fn)(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache,
			   void *arg);
/* Calls fn for every link in sk's namespace; the first error is returned
 * after every link was seen. */
int lbr_links_foreach(struct lbr *p, struct nl_sock *sk, lbr_link_fn fn, void *arg);
/* The kind and name from a link's ownership mark; -EINVAL if not ours. */
int lbr_link_owner(struct rtnl_link *l, char kind[LBR_KIND_MAX], char name[LBR_NAME_MAX]);
/* The same, also for a newborn link of ours (created, not yet marked). */
int lbr_link_owner_any(struct lbr *p, struct rtnl_link *l, char kind[LBR_KIND_MAX],
		       char name[LBR_NAME_MAX]);
/* Whether the link carries vxcloud's mark (any kind). */
int lbr_link_is_ours(struct rtnl_link *l);
/* Takes every port off a bridge (reported as "who: IF: leave its bridge")
 * but the one with ifindex skip (0: none), which is released on its own. */
int lbr_bridge_release_ports(struct lbr *p, const char *who, int br_ifindex, int skip,
			     unsigned flags);
/* Reports and (unless dry run) deletes one link of ours. */
int lbr_link_remove(struct lbr *p, const char *who, struct rtnl_link *l, unsigned flags);

#endif
