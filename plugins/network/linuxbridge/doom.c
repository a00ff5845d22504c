/* Links removed in one batch.
 *
 * Each RTM_DELLINK costs the kernel an RCU grace period (20-55 ms each
 * here): destroying a router and its networks took 10x as long as making
 * them. A link to remove joins instead a group of this run (a cheap change
 * of IFLA_GROUP), and one RTM_DELLINK naming the group deletes all of them
 * in one batch (the kernel's rtnl_group_dellink). The batch goes before the
 * driver makes anything (so a name is free again before it is reused), at
 * the end of the provider's removal (the last in a destroy, whose errors
 * are still reported) and when the driver closes.
 *
 * The group is random per run: a run killed between marking and deleting
 * leaves links in a group no later run deletes blindly (a later destroy
 * removes them as the links they are). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lbr.h"

static uint32_t run_group(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Never 0 (every link's default group); high bit set, clear of the
	 * small numbers operators give in /etc/iproute2/group. */
	return 0x80000000u | (((uint32_t)getpid() << 16) ^ (uint32_t)ts.tv_nsec) >> 1;
}

int lbr_link_doom(struct lbr *p, const char *who, struct rtnl_link *l)
{
	struct rtnl_link *chg = rtnl_link_alloc();
	int err;

	if (!chg)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	if (!p->doom_group)
		p->doom_group = run_group();
	rtnl_link_set_group(chg, p->doom_group);
	err = rtnl_link_change(p->sk, l, chg, 0);
	rtnl_link_put(chg);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return 0; /* gone meanwhile (a veth with its namespace) */
	if (err < 0)
		return lbr_error(p, lbr_nlerr(err), "%s: cannot mark %s for deletion: %s", who,
				 rtnl_link_get_name(l), nl_geterror(err));
	p->n_doomed++;
	return 0;
}

int lbr_doomed_flush(struct lbr *p)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int err;

	if (!p->n_doomed)
		return 0;
	msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST);
	if (!msg)
		return lbr_error(p, -ENOMEM, "deleting links: out of memory");
	err = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (!err)
		err = nla_put_u32(msg, IFLA_GROUP, p->doom_group);
	if (!err)
		err = nl_send_sync(p->sk, msg); /* frees msg, waits for the ACK */
	else
		nlmsg_free(msg);
	/* ENODEV: every one of them was gone already. */
	if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
		return lbr_error(p, lbr_nlerr(err), "cannot delete %u links (group %#x): %s",
				 p->n_doomed, p->doom_group, nl_geterror(err));
	p->n_doomed = 0;
	return 0;
}
