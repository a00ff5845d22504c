/* The agent's filter of link announcements (core/agent_links.c): what
 * vxcloud sets is news, what follows carrier is not. */
#include "config.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "agent.h"
#include "tap.h"

/* From <linux/if.h>, which cannot be included beside <net/if.h>. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1 << 16)
#endif
enum { OPER_DOWN = 2, OPER_UP = 6 };

struct msg {
	struct nlmsghdr h;
	struct ifinfomsg ifi;
	char attrs[256];
};

static void put(struct msg *m, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* A link announcement: name, MTU, master, flags, and carrier/operstate. */
static struct msg link_msg(int type, int family, unsigned flags, unsigned mtu, unsigned master,
			   unsigned char operstate)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_type = (unsigned short)type;
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(m.ifi));
	m.ifi.ifi_family = (unsigned char)family;
	m.ifi.ifi_index = 7;
	m.ifi.ifi_flags = flags;
	put(&m, IFLA_IFNAME, "vb-blue", 8);
	put(&m, IFLA_MTU, &mtu, sizeof(mtu));
	if (master)
		put(&m, IFLA_MASTER, &master, sizeof(master));
	put(&m, IFLA_OPERSTATE, &operstate, 1);
	return m;
}

int main(void)
{
	struct agent_src src = { .type = SRC_RTNL, .fd = -1 };
	struct msg m;

	m = link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP, 1400, 3, OPER_DOWN);
	ok(!agent_link_unchanged(&src, &m.h), "a link seen for the first time is news");
	m = link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING | IFF_LOWER_UP, 1400, 3,
		     OPER_UP);
	ok(agent_link_unchanged(&src, &m.h), "carrier and operational state coming up are not");
	m = link_msg(RTM_NEWLINK, AF_BRIDGE, IFF_UP | IFF_RUNNING, 1400, 3, OPER_UP);
	ok(agent_link_unchanged(&src, &m.h), "a bridge port's own state message is not");
	m = link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING | IFF_LOWER_UP, 1300, 3,
		     OPER_UP);
	ok(!agent_link_unchanged(&src, &m.h), "an MTU changed by hand is news");
	ok(agent_link_unchanged(&src, &m.h), "the same announcement twice is news once");
	m = link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP, 1300, 0, OPER_UP);
	ok(!agent_link_unchanged(&src, &m.h), "leaving the bridge (no master) is news");
	m = link_msg(RTM_NEWLINK, AF_UNSPEC, 0, 1300, 0, OPER_DOWN);
	ok(!agent_link_unchanged(&src, &m.h), "set down by hand is news");
	m = link_msg(RTM_DELLINK, AF_UNSPEC, 0, 1300, 0, OPER_DOWN);
	ok(!agent_link_unchanged(&src, &m.h), "a deleted link is news");
	m = link_msg(RTM_NEWLINK, AF_UNSPEC, 0, 1300, 0, OPER_DOWN);
	ok(!agent_link_unchanged(&src, &m.h), "a link made again under the same index is news");
	agent_links_free(&src);
	return tap_done();
}
