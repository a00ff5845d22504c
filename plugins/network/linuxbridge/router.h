/* Router internals: its veth ports (rport.c) and what lives inside its
 * namespace (raddr.c). A NULL namespace socket or a 0 ifindex means "only
 * planned" (dry run before the namespace or port exists): everything is
 * reported as to be made. */
#ifndef LBR_ROUTER_H
#define LBR_ROUTER_H

#include "lbr.h"

/* The router namespace, reached through sockets made while inside it. */
struct lbr_inside {
	int fd;             /* the namespace */
	struct nl_sock *sk; /* libnl requests */
	struct nl_sock *bsk; /* raw dumps and batches */
	int fwd_fd;         /* its /proc/sys/net/ipv4/ip_forward */
};

/* One veth pair: host_if on bridge here, peer_if in the namespace. */
struct lbr_rport {
	const char *host_if;
	const char *peer_if;
	const char *bridge;
	const uint8_t *mac; /* of the peer */
	unsigned mtu;       /* both ends */
};

/* Makes or repairs the pair and both ends' settings; *peer_ifindex is the
 * peer's index in the namespace (0 when only planned). */
int lbr_rport_ensure(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		     const struct lbr_rport *rp, unsigned flags, int *peer_ifindex);

struct lbr_raddr {
	struct in_addr ip;
	uint8_t plen;
	uint8_t vrrp; /* keepalived's to add and remove: neither added nor removed here */
};

/* Exactly these IPv4 addresses on the peer ifname (index ifindex), but
 * those marked vrrp, which are left as they are. */
int lbr_raddr_sync(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		   const char *ifname, int ifindex, const struct lbr_raddr *want, size_t n_want,
		   unsigned flags);
/* rfip.c: floating IPs are local routes with this protocol (the ownership
 * mark; 0x76 is unassigned in iproute2's rt_protos). */
#define LBR_RTPROT_FIP 0x76
/* Exactly r's floating IPs (but its external address) as local routes
 * through the port ifname (index ifindex). */
int lbr_rfip_sync(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		  const char *ifname, int ifindex, unsigned flags);
/* Lets the kernel filter route and address dumps on sk (NETLINK_GET_STRICT_CHK). */
void lbr_route_strict(struct nl_sock *sk);

/* The namespace's IPv4 default route: via gw on ifindex. */
int lbr_rdefault_ensure(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
			const char *ifname, int ifindex, struct in_addr gw, unsigned flags);

#endif
