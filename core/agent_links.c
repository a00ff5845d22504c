/* Which link messages are news. The kernel announces a link again for
 * changes vxcloud neither sets nor checks: carrier and operational state
 * (delivered late and in batches by the kernel's link watch, so a thousand
 * new veths keep announcing themselves for seconds after the pass that
 * made them), statistics, queue state. Each socket remembers, per link, a
 * signature of what vxcloud does set: name, up flag, MTU, master, MAC,
 * alias; a message with the same signature is not drift. A bridge port's
 * state messages are never drift. */
#include "config.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 1099511628211ULL;
	return h;
}

static uint64_t signature(const struct nlmsghdr *h)
{
	static const unsigned short kept[] = { IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_ADDRESS,
					       IFLA_IFALIAS };
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	unsigned up = ifi->ifi_flags & IFF_UP;
	uint64_t sig = fnv(1469598103934665603ULL, &up, sizeof(up));
	int len = (int)IFLA_PAYLOAD(h);

	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		for (size_t i = 0; i < VXC_ARRAY_SIZE(kept); i++)
			if (a->rta_type == kept[i]) {
				sig = fnv(sig, &a->rta_type, sizeof(a->rta_type));
				sig = fnv(sig, RTA_DATA(a), RTA_PAYLOAD(a));
			}
	return sig;
}

static struct link_seen *find(struct agent_src *s, int ifindex)
{
	for (size_t i = 0; i < s->n_links; i++)
		if (s->links[i].ifindex == ifindex)
			return &s->links[i];
	return NULL;
}

int agent_link_unchanged(struct agent_src *s, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct link_seen *seen = find(s, ifi->ifi_index);
	uint64_t sig;

	if (h->nlmsg_type == RTM_DELLINK) {
		if (seen)
			*seen = s->links[--s->n_links];
		return 0;
	}
	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	/* A bridge port's own announcements (AF_BRIDGE) carry its STP state,
	 * which follows carrier; joining or leaving a bridge is announced for
	 * the link itself too (IFLA_MASTER), and that is compared below. */
	if (ifi->ifi_family == AF_BRIDGE)
		return 1;
	sig = signature(h);
	if (seen && seen->sig == sig)
		return 1;
	if (!seen) {
		s->links = vxc_xrealloc(s->links, (s->n_links + 1) * sizeof(*s->links));
		seen = &s->links[s->n_links++];
		seen->ifindex = ifi->ifi_index;
	}
	seen->sig = sig;
	return 0;
}

void agent_links_free(struct agent_src *s)
{
	free(s->links);
	s->links = NULL;
	s->n_links = 0;
}
