/* Routers (step 2): a namespace per router on its host with
 *  - a gateway port: veth rg-R (on the provider bridge) <-> gw0 holding the
 *    external address, default route via the provider gateway, and every
 *    floating IP as a /32 (fip.c);
 *  - per attached network N a port: veth rp-N (on N's bridge) <-> t-N
 *    holding N's gateway address;
 *  - forwarding on.
 * The veth pairs come from the core's veth service; what lives inside the
 * namespace is reached through a netlink socket opened while inside it:
 * a socket stays bound to the namespace it was created in. SNAT is the NAT
 * driver's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lbr.h"
#include "router.h"

#define FORWARD_SYSCTL "/proc/sys/net/ipv4/ip_forward"

struct inside {
	struct nl_sock *sk; /* bound to the router namespace */
	int fwd_fd;         /* its ip_forward sysctl */
};

static void peer_name(char buf[VXC_IFNAMSIZ], const struct vxc_port *port)
{
	snprintf(buf, VXC_IFNAMSIZ, "t-%s", port->network->name);
}

static unsigned port_mtu(const struct vxc_port *port)
{
	return lbr_net_mtu(port->network);
}

/* What a router that does not exist yet would get (dry run). */
static void plan_new(struct lbr *p, const struct vxc_router *r)
{
	char ip[LBR_IPSTR], gw[LBR_IPSTR];
	size_t i;

	if (r->provider)
		lbr_change(p, "router %s: create gateway port %s (%s/%u via %s) on %s", r->name,
			   r->gw_host_if, lbr_ip_str(r->external, ip), r->provider->cidr.len,
			   lbr_ip_str(r->provider->gateway, gw), r->provider->bridge);
	for (i = 0; i < r->n_ports; i++)
		lbr_change(p, "router %s: create port %s (%s/%u) on network %s", r->name,
			   r->ports[i]->host_if, lbr_ip_str(r->ports[i]->addr, ip),
			   r->ports[i]->network->cidr.len, r->ports[i]->network->name);
	lbr_fips_sync(p, r, NULL, 0, VXC_F_DRY_RUN);
	lbr_change(p, "router %s: enable forwarding", r->name);
}

static int ensure_veth(struct lbr *p, const struct vxc_router *r, int nsfd,
		       const struct vxc_veth *v, const char *bridge, unsigned flags)
{
	char who[LBR_WHO_MAX];
	int err;

	err = p->svc->veth_ensure(p->ctx, v, flags);
	if (err < 0)
		return err; /* the service said what went wrong */
	snprintf(who, sizeof(who), "router %s: port %s", r->name, v->host_if);
	return lbr_attach(p, who, v->host_if, bridge, v->mtu, flags);
}

static int ensure_ports(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	char alias[LBR_ALIAS_MAX], peer[VXC_IFNAMSIZ];
	size_t i;
	int err = 0;

	lbr_alias(alias, "router", r->name);
	if (r->provider) {
		struct vxc_veth v = {
			.host_if = r->gw_host_if, .alias = alias, .netns_fd = nsfd,
			.peer_if = r->gw_if, .mac = r->gw_mac, .addr = r->external,
			.prefixlen = r->provider->cidr.len, .gateway = r->provider->gateway,
			.mtu = r->provider->mtu,
		};
		err = ensure_veth(p, r, nsfd, &v, r->provider->bridge, flags);
	}
	for (i = 0; !err && i < r->n_ports; i++) {
		const struct vxc_port *port = r->ports[i];
		struct vxc_veth v = {
			.host_if = port->host_if, .alias = alias, .netns_fd = nsfd,
			.peer_if = peer, .mac = port->mac, .addr = port->addr,
			.prefixlen = port->network->cidr.len, .mtu = port_mtu(port),
		};

		peer_name(peer, port);
		err = ensure_veth(p, r, nsfd, &v, port->network->bridge_if, flags);
	}
	return err;
}

/* A netlink socket and the forwarding sysctl of the router namespace. */
static int inside_open(struct lbr *p, const struct vxc_router *r, int nsfd, struct inside *in)
{
	int saved, err, left;

	in->sk = NULL;
	in->fwd_fd = -1;
	err = p->svc->netns_enter(p->ctx, nsfd, &saved);
	if (err < 0)
		return err;
	err = lbr_sock_open(&in->sk);
	if (!err) {
		in->fwd_fd = open(FORWARD_SYSCTL, O_RDWR | O_CLOEXEC);
		if (in->fwd_fd < 0)
			err = -errno;
	}
	left = p->svc->netns_leave(p->ctx, saved);
	if (err < 0 || left < 0) {
		if (in->sk)
			nl_socket_free(in->sk);
		if (in->fwd_fd >= 0)
			close(in->fwd_fd);
		in->sk = NULL;
		in->fwd_fd = -1;
		return lbr_error(p, err < 0 ? err : left, "router %s: cannot reach namespace %s: %s",
				 r->name, r->netns, strerror(err < 0 ? -err : -left));
	}
	return 0;
}

static void inside_close(struct inside *in)
{
	if (in->sk)
		nl_socket_free(in->sk);
	if (in->fwd_fd >= 0)
		close(in->fwd_fd);
}

static int ensure_forwarding(struct lbr *p, const struct vxc_router *r, int fd, unsigned flags)
{
	char buf[8] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
		return lbr_error(p, -errno, "router %s: cannot read %s: %s", r->name,
				 FORWARD_SYSCTL, strerror(errno));
	if (buf[0] == '1')
		return 0;
	lbr_change(p, "router %s: enable forwarding", r->name);
	if (lbr_dry(flags))
		return 0;
	if (pwrite(fd, "1\n", 2, 0) != 2)
		return lbr_error(p, -errno, "router %s: cannot enable forwarding: %s", r->name,
				 strerror(errno));
	return 0;
}

static int ensure_inside(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	struct lbr_want up = { .up = 1 };
	struct rtnl_link *l = NULL;
	struct inside in;
	char who[LBR_WHO_MAX];
	int err, gw = 0;

	err = inside_open(p, r, nsfd, &in);
	if (err < 0)
		return err;
	snprintf(who, sizeof(who), "router %s: lo", r->name);
	err = lbr_link_get(in.sk, "lo", &l);
	if (!err) {
		err = lbr_link_fix(p, in.sk, who, l, &up, flags, 0);
		rtnl_link_put(l);
		l = NULL;
	}
	if (!err && r->provider) {
		err = lbr_link_get(in.sk, r->gw_if, &l);
		if (!err)
			gw = rtnl_link_get_ifindex(l);
		else if (err == -ENODEV && lbr_dry(flags))
			err = 0; /* planned by veth_ensure */
		if (l)
			rtnl_link_put(l);
		if (err < 0)
			err = lbr_error(p, err, "router %s: gateway port %s missing in %s", r->name,
					r->gw_if, r->netns);
		else
			err = lbr_fips_sync(p, r, in.sk, gw, gw ? flags : VXC_F_DRY_RUN);
	}
	if (!err)
		err = ensure_forwarding(p, r, in.fwd_fd, flags);
	inside_close(&in);
	return err;
}

int lbr_router_ensure(void *priv, const struct vxc_router *r, unsigned flags)
{
	struct lbr *p = priv;
	int nsfd, err;

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "router_ensure: unknown flags %#x", flags);
	if (!r || !r->name || !r->netns[0])
		return lbr_error(p, -EINVAL, "router_ensure: no router");
	if (r->n_fips && !r->provider)
		return lbr_error(p, -EINVAL, "router %s: floating IPs need a provider network",
				 r->name);
	nsfd = p->svc->netns_open(p->ctx, r->netns);
	if (nsfd == -ENOENT) {
		lbr_change(p, "router %s: create namespace %s", r->name, r->netns);
		if (lbr_dry(flags)) {
			plan_new(p, r);
			return 0;
		}
		err = p->svc->netns_create(p->ctx, r->netns);
		if (err < 0)
			return err;
		nsfd = p->svc->netns_open(p->ctx, r->netns);
	}
	if (nsfd < 0)
		return lbr_error(p, nsfd, "router %s: cannot open namespace %s: %s", r->name,
				 r->netns, strerror(-nsfd));
	err = ensure_ports(p, r, nsfd, flags);
	if (!err)
		err = ensure_inside(p, r, nsfd, flags);
	close(nsfd);
	return err;
}
