/* Routers (step 2): a namespace per router on its host with
 *  - a gateway port: veth rg-R on the provider bridge <-> gw0 holding the
 *    external address, a local route per floating IP (rfip.c), default
 *    route via the provider gateway;
 *  - per attached network N a port: veth rp-N on N's bridge <-> t-N holding
 *    N's gateway address;
 *  - forwarding on.
 * Inside the namespace everything goes through netlink sockets opened
 * while the thread visited it (a socket stays bound to the namespace it was
 * made in), so the thread spends only a moment there. SNAT and floating IP
 * translation are the NAT driver's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keepalived.h"
#include "lbr.h"
#include "router.h"

#define FORWARD_SYSCTL "/proc/sys/net/ipv4/ip_forward"

static void inside_close(struct lbr_inside *in)
{
	if (in->sk)
		nl_socket_free(in->sk);
	if (in->bsk)
		nl_socket_free(in->bsk);
	if (in->fwd_fd >= 0)
		close(in->fwd_fd);
	if (in->fd >= 0)
		close(in->fd);
	in->sk = in->bsk = NULL;
	in->fwd_fd = in->fd = -1;
}

static int inside_open(struct lbr *p, const struct vxc_router *r, int nsfd,
		       struct lbr_inside *in)
{
	int saved, err, left;

	*in = (struct lbr_inside){ .fd = nsfd, .fwd_fd = -1 };
	err = p->svc->netns_enter(p->ctx, nsfd, &saved);
	if (err < 0)
		return err;
	err = lbr_sock_open(&in->sk);
	if (!err)
		err = lbr_sock_open(&in->bsk);
	if (!err)
		lbr_route_strict(in->bsk);
	if (!err) {
		in->fwd_fd = open(FORWARD_SYSCTL, O_RDWR | O_CLOEXEC);
		if (in->fwd_fd < 0)
			err = -errno;
	}
	left = p->svc->netns_leave(p->ctx, saved);
	if (!err && left < 0)
		err = left;
	if (err < 0) {
		inside_close(in);
		return lbr_error(p, err, "router %s: cannot work inside namespace %s: %s", r->name,
				 r->netns, strerror(-err));
	}
	return 0;
}

static int ensure_forwarding(struct lbr *p, const struct vxc_router *r,
			     const struct lbr_inside *in, unsigned flags)
{
	char buf[8] = "";

	if (in && pread(in->fwd_fd, buf, sizeof(buf) - 1, 0) < 0)
		return lbr_error(p, -errno, "router %s: cannot read %s: %s", r->name,
				 FORWARD_SYSCTL, strerror(errno));
	if (buf[0] == '1')
		return 0;
	lbr_change(p, "router %s: enable forwarding", r->name);
	if (lbr_dry(flags))
		return 0;
	if (pwrite(in->fwd_fd, "1\n", 2, 0) != 2)
		return lbr_error(p, -errno, "router %s: cannot enable forwarding: %s", r->name,
				 strerror(errno));
	return 0;
}

static int ensure_lo(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		     unsigned flags)
{
	struct lbr_want up = { .up = 1 };
	struct rtnl_link *lo = NULL;
	char who[LBR_WHO_MAX];
	int err;

	if (!in)
		return 0; /* a new namespace has lo up */
	snprintf(who, sizeof(who), "router %s: lo", r->name);
	err = lbr_link_get(in->sk, "lo", &lo);
	if (err < 0)
		return lbr_error(p, err, "%s: %s", who, strerror(-err));
	err = lbr_link_fix(p, in->sk, who, lo, &up, flags, 0);
	rtnl_link_put(lo);
	return err;
}

static int ensure_gateway(struct lbr *p, const struct vxc_router *r,
			  const struct lbr_inside *in, unsigned flags)
{
	const struct vxc_provider *pv = r->provider;
	struct lbr_rport rp = { .host_if = r->gw_host_if, .peer_if = r->gw_if,
				.bridge = pv->bridge, .mac = r->gw_mac.b, .mtu = pv->mtu };
	const struct vxc_ha *ha = lbr_router_ha(p, r);
	struct lbr_raddr want[2] = { { .ip = r->external, .plen = pv->cidr.len, .vrrp = !!ha } };
	int err, ifindex = 0;

	if (ha)
		want[1] = (struct lbr_raddr){
			.ip = vxc_ka_src_addr(ha, vxc_ka_rank(ha, p->svc->host_name(p->ctx))),
			.plen = 32 };
	err = lbr_rport_ensure(p, r, in, &rp, flags, &ifindex);
	if (!err)
		err = lbr_raddr_sync(p, r, in, r->gw_if, ifindex, want, ha ? 2 : 1, flags);
	if (!err)
		err = lbr_rfip_sync(p, r, in, r->gw_if, ifindex, flags);
	if (!err && pv->gateway.s_addr && !ha)
		err = lbr_rdefault_ensure(p, r, in, r->gw_if, ifindex, pv->gateway, flags);
	return err;
}

static int ensure_port(struct lbr *p, const struct vxc_router *r, const struct lbr_inside *in,
		       const struct vxc_port *port, unsigned flags)
{
	char peer[VXC_IFNAMSIZ];
	struct lbr_rport rp = { .host_if = port->host_if, .peer_if = peer,
				.bridge = port->network->bridge_if, .mac = port->mac.b,
				.mtu = lbr_net_mtu(port->network) };
	struct lbr_raddr want = { .ip = port->addr, .plen = port->network->cidr.len,
				  .vrrp = lbr_router_ha(p, r) != NULL };
	int err, ifindex = 0;

	snprintf(peer, sizeof(peer), "t-%s", port->network->name);
	err = lbr_rport_ensure(p, r, in, &rp, flags, &ifindex);
	if (!err)
		err = lbr_raddr_sync(p, r, in, peer, ifindex, &want, 1, flags);
	return err;
}

static int check_router(struct lbr *p, const struct vxc_router *r)
{
	size_t i;

	if (!r || !r->name || !r->netns[0])
		return lbr_error(p, -EINVAL, "router_ensure: no router");
	if (r->n_fips && !r->provider)
		return lbr_error(p, -EINVAL, "router %s: floating IPs need a provider network",
				 r->name);
	if (lbr_router_ha(p, r) && (!r->provider ||
				    vxc_ka_rank(lbr_router_ha(p, r), p->svc->host_name(p->ctx)) < 0))
		return lbr_error(p, -EINVAL, "router %s: a copy needs the provider network and "
				 "this host (%s) among the router's hosts", r->name,
				 p->svc->host_name(p->ctx));
	for (i = 0; i < r->n_ports; i++)
		if (!r->ports[i] || !r->ports[i]->network)
			return lbr_error(p, -EINVAL, "router %s: port %zu has no network", r->name,
					 i);
	return 0;
}

int lbr_router_ensure(void *priv, const struct vxc_router *r, unsigned flags)
{
	struct lbr *p = priv;
	struct lbr_inside in = { .fd = -1, .fwd_fd = -1 }, *inp = NULL;
	size_t i;
	int nsfd, err, announce = 0;

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "router_ensure: unknown flags %#x", flags);
	err = check_router(p, r);
	if (err < 0)
		return err;
	nsfd = p->svc->netns_open(p->ctx, r->netns);
	if (nsfd == -ENOENT) {
		lbr_change(p, "router %s: create namespace %s", r->name, r->netns);
		if (!lbr_dry(flags)) {
			err = p->svc->netns_create(p->ctx, r->netns);
			if (err < 0)
				return err;
			nsfd = p->svc->netns_open(p->ctx, r->netns);
		}
	}
	if (nsfd < 0 && !(nsfd == -ENOENT && lbr_dry(flags)))
		return lbr_error(p, nsfd, "router %s: cannot open namespace %s: %s", r->name,
				 r->netns, strerror(-nsfd));
	if (nsfd >= 0) {
		err = inside_open(p, r, nsfd, &in);
		if (err < 0) {
			close(nsfd);
			return err;
		}
		inp = &in;
	}
	err = ensure_lo(p, r, inp, flags);
	if (!err)
		err = lbr_router_ha(p, r) ? lbr_rha_prepare(p, r, inp ? inp->fd : -1, flags)
					  : lbr_rha_single(p, r, inp ? inp->fd : -1, flags,
							   &announce);
	if (!err && r->provider)
		err = ensure_gateway(p, r, inp, flags);
	for (i = 0; !err && i < r->n_ports; i++)
		err = ensure_port(p, r, inp, r->ports[i], flags);
	if (!err && !lbr_router_ha(p, r))
		err = ensure_forwarding(p, r, inp, flags);
	if (!err)
		err = lbr_dhcp_ensure(p, r, inp ? inp->fd : -1, flags);
	if (!err && lbr_router_ha(p, r))
		err = lbr_rha_ensure(p, r, inp ? inp->fd : -1, flags);
	if (!err && announce)
		err = lbr_rha_announce(p, r, inp ? inp->fd : -1, flags);
	inside_close(&in);
	return err;
}
