/* Kernel events from the namespaces vxcloud owns on this host: one
 * NETLINK_ROUTE socket per namespace (links, IPv4 addresses and routes,
 * permanent neighbour and fdb entries) and, in router namespaces, one
 * NETLINK_NETFILTER socket on NFNLGRP_NFTABLES (every ruleset change and
 * generation). A netlink socket stays in the namespace it was made in, so
 * the thread visits each namespace only to make its sockets (setns). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/neighbour.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"

#define RCVBUF_BYTES (4 << 20)

static const unsigned rtnl_groups[] = { RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR,
					RTNLGRP_IPV4_ROUTE };
static const unsigned nft_groups[] = { NFNLGRP_NFTABLES };

static int netlink_socket(int proto, const unsigned *groups, size_t n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, size = RCVBUF_BYTES, r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	/* A burst (a namespace torn down) must not overflow the queue. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* Sockets made inside the namespace at path (NULL: the agent's own). */
static int open_in_ns(const char *path, int proto, const unsigned *groups, size_t n)
{
	int nsfd, self, fd, r;

	if (!path)
		return netlink_socket(proto, groups, n);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		r = -errno;
		close(nsfd);
		return r;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		fd = -errno; /* an empty file left by a crash is no namespace */
	} else {
		fd = netlink_socket(proto, groups, n);
		if (setns(self, CLONE_NEWNET) < 0) {
			agent_log("fatal: cannot return to the host's namespace: %s",
				  strerror(errno));
			abort();
		}
	}
	close(self);
	close(nsfd);
	return fd;
}

static struct agent_src *find_src(struct agent *a, enum agent_src_type type, const char *ns)
{
	for (size_t i = 0; i < a->n_ns; i++)
		if (a->ns[i]->type == type && !strcmp(a->ns[i]->ns, ns))
			return a->ns[i];
	return NULL;
}

static void add_src(struct agent *a, enum agent_src_type type, const char *ns, ino_t ino,
		    int fd)
{
	struct agent_src *s = vxc_xcalloc(1, sizeof(*s));

	s->type = type;
	s->fd = fd;
	s->ns = vxc_xstrdup(ns);
	s->ns_ino = ino;
	if (agent_watch_fd(a, s) < 0) {
		close(fd);
		free(s->ns);
		free(s);
		return;
	}
	a->ns = vxc_xrealloc(a->ns, (a->n_ns + 1) * sizeof(*a->ns));
	a->ns[a->n_ns++] = s;
}

static void drop_src(struct agent *a, size_t i)
{
	struct agent_src *s = a->ns[i];

	agent_unwatch(a, s);
	agent_links_free(s);
	free(s->ns);
	free(s);
	a->ns[i] = a->ns[--a->n_ns];
}

/* Closing our sockets lets a deleted namespace die (they hold it). */
void agent_watch_forget_ns(struct agent *a, const char *ns)
{
	for (size_t i = a->n_ns; i-- > 0;)
		if (a->ns[i]->ns[0] && !strcmp(a->ns[i]->ns, ns))
			drop_src(a, i);
}

static void watch_ns(struct agent *a, const char *ns, int with_nft)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", a->nc->netns_dir, ns);
	if (stat(path, &st) < 0)
		return;
	if (find_src(a, SRC_RTNL, ns) && find_src(a, SRC_RTNL, ns)->ns_ino != st.st_ino)
		agent_watch_forget_ns(a, ns); /* made anew since */
	if (!find_src(a, SRC_RTNL, ns)) {
		fd = open_in_ns(path, NETLINK_ROUTE, rtnl_groups, VXC_ARRAY_SIZE(rtnl_groups));
		if (fd < 0)
			return;
		add_src(a, SRC_RTNL, ns, st.st_ino, fd);
	}
	if (with_nft && !find_src(a, SRC_NFT, ns)) {
		fd = open_in_ns(path, NETLINK_NETFILTER, nft_groups, VXC_ARRAY_SIZE(nft_groups));
		if (fd >= 0)
			add_src(a, SRC_NFT, ns, st.st_ino, fd);
	}
}

static int ns_wanted(const struct agent *a, const char *ns)
{
	enum vxc_kind kind;
	const char *name;

	return !ns[0] || agent_ns_owner(a, ns, &kind, &name);
}

/* After every pass: sockets for every namespace of the plan that exists,
 * none for namespaces no longer wanted or gone. */
void agent_watch_sync(struct agent *a)
{
	const struct vxc_plan *p = a->plan;
	int fd;

	for (size_t i = a->n_ns; i-- > 0;)
		if (!ns_wanted(a, a->ns[i]->ns))
			drop_src(a, i);
	if (!find_src(a, SRC_RTNL, "")) {
		fd = open_in_ns(NULL, NETLINK_ROUTE, rtnl_groups, VXC_ARRAY_SIZE(rtnl_groups));
		if (fd >= 0)
			add_src(a, SRC_RTNL, "", 0, fd);
		else
			agent_log("error: cannot listen to netlink: %s", strerror(-fd));
	}
	for (size_t i = 0; p && i < p->n_routers; i++)
		watch_ns(a, p->routers[i]->netns, 1);
	for (size_t i = 0; p && i < p->n_instances; i++)
		watch_ns(a, p->instances[i]->netns, 0);
	for (size_t i = 0; p && i < p->n_lbs; i++)
		watch_ns(a, p->lbs[i]->netns, 0);
	agent_inotify_sync(a);
}

/* ---- what an event concerns ------------------------------------------ */

static const struct rtattr *find_attr(const struct rtattr *rta, int len, int type)
{
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* The interface a host-namespace message is about, or 0. */
static int event_ifname(const struct nlmsghdr *h, char ifname[IF_NAMESIZE])
{
	const struct rtattr *at;
	unsigned idx = 0;

	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		at = find_attr(IFLA_RTA(NLMSG_DATA(h)), (int)IFLA_PAYLOAD(h), IFLA_IFNAME);
		if (!at)
			return 0;
		snprintf(ifname, IF_NAMESIZE, "%.*s", (int)RTA_PAYLOAD(at), (char *)RTA_DATA(at));
		return 1;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		idx = ((const struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		idx = (unsigned)((const struct ndmsg *)NLMSG_DATA(h))->ndm_ifindex;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		at = find_attr(RTM_RTA(NLMSG_DATA(h)), (int)RTM_PAYLOAD(h), RTA_OIF);
		if (at)
			idx = *(const unsigned *)RTA_DATA(at);
		break;
	}
	return idx && if_indextoname(idx, ifname);
}

/* Learned and resolving entries come and go with traffic; vxcloud only
 * makes permanent ones. */
static int is_traffic(const struct nlmsghdr *h)
{
	const struct ndmsg *nd = NLMSG_DATA(h);

	return (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH) &&
	       !(nd->ndm_state & NUD_PERMANENT);
}

static void describe(const struct nlmsghdr *h, const char *ifname, char *buf, size_t len)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	const char *entry = nd->ndm_family == AF_BRIDGE ? "fdb entry" : "neighbour entry";

	switch (h->nlmsg_type) {
	case RTM_NEWLINK: snprintf(buf, len, "link %s changed", ifname); break;
	case RTM_DELLINK: snprintf(buf, len, "link %s deleted", ifname); break;
	case RTM_NEWADDR: snprintf(buf, len, "address added on %s", ifname); break;
	case RTM_DELADDR: snprintf(buf, len, "address removed from %s", ifname); break;
	case RTM_NEWROUTE: snprintf(buf, len, "route added via %s", ifname); break;
	case RTM_DELROUTE: snprintf(buf, len, "route deleted via %s", ifname); break;
	case RTM_NEWNEIGH: snprintf(buf, len, "%s added on %s", entry, ifname); break;
	case RTM_DELNEIGH: snprintf(buf, len, "%s deleted on %s", entry, ifname); break;
	default: snprintf(buf, len, "netlink message %u", h->nlmsg_type); break;
	}
}

static void on_rtnl(struct agent *a, struct agent_src *s, const struct nlmsghdr *h)
{
	char ifname[IF_NAMESIZE] = "?", why[128], full[200];
	enum vxc_kind kind;
	const char *name;

	if (is_traffic(h) || agent_link_unchanged(s, h))
		return;
	if (!s->ns[0]) {
		if (!event_ifname(h, ifname) || !agent_link_owner(a, ifname, &kind, &name))
			return;
		describe(h, ifname, why, sizeof(why));
		agent_mark(a, kind, name, why);
		return;
	}
	if (!agent_ns_owner(a, s->ns, &kind, &name))
		return;
	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
		event_ifname(h, ifname);
	describe(h, ifname, why, sizeof(why));
	snprintf(full, sizeof(full), "%s in %s", why, s->ns);
	agent_mark(a, kind, name, full);
}

static void on_nft(struct agent *a, const struct agent_src *s)
{
	enum vxc_kind kind;
	const char *name;
	char why[128];

	if (!agent_ns_owner(a, s->ns, &kind, &name) || kind != VXC_KIND_ROUTER)
		return;
	snprintf(why, sizeof(why), "nftables ruleset changed in %s", s->ns);
	agent_mark(a, VXC_KIND_NAT, name, why);
}

/* Reads every queued message. A lost message (the queue overflowed) may
 * have been about anything: a full pass follows. */
void agent_watch_read(struct agent *a, struct agent_src *s)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	while ((n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		int len = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS)
				agent_mark_full(a, CAUSE_DRIFT, "netlink events were lost");
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
				continue;
			if (s->type == SRC_NFT)
				on_nft(a, s);
			else
				on_rtnl(a, s, h);
		}
	}
}

void agent_watch_drain(struct agent *a)
{
	for (size_t i = 0; i < a->n_ns; i++)
		agent_watch_read(a, a->ns[i]);
	agent_inotify_read(a);
}

void agent_watch_fini(struct agent *a)
{
	while (a->n_ns)
		drop_src(a, a->n_ns - 1);
	free(a->ns);
	a->ns = NULL;
}
