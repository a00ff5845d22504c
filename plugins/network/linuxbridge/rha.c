/* Routers with copies on several hosts (ABI 1.7 vxc_router.ha). Every copy
 * has the same namespace, ports, MACs, floating IP routes and NAT rules;
 * keepalived (plugins/common/keepalived.c) elects the active copy, which
 * alone holds the gateway addresses, the external address and the default
 * route, and alone forwards and answers ARP (the gate, ha-gate.c). A copy
 * whose keepalived is not running yet has its gate closed, and IPv6 off,
 * before its ports are made (lbr_rha_prepare). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keepalived.h"
#include "lbr.h"

#define RHA_TAG "router"

const struct vxc_ha *lbr_router_ha(const struct lbr *p, const struct vxc_router *r)
{
	/* the field exists only when the core is of ABI 1.7 or later */
	if (p->svc->size < offsetof(struct vxc_services, abi_minor) + sizeof(uint32_t) ||
	    p->svc->abi_minor < 7)
		return NULL;
	return r->ha;
}

int lbr_rha_prepare(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	int saved, err, left;

	if (vxc_ka_running(p->svc, p->ctx, RHA_TAG, r->name))
		return 0;
	lbr_change(p, "router %s: copy inactive until VRRP elects it (forwarding off, no ARP "
		   "answers, no IPv6)", r->name);
	if (lbr_dry(flags))
		return 0;
	err = p->svc->netns_enter(p->ctx, nsfd, &saved);
	if (err < 0)
		return err;
	err = vxc_ha_quiet();
	if (!err)
		err = vxc_ha_gate(0);
	left = p->svc->netns_leave(p->ctx, saved);
	if (err < 0)
		return lbr_error(p, err, "router %s: cannot close the gate in %s: %s", r->name,
				 r->netns, strerror(-err));
	return left;
}

/* status shows which copy is active: the gate keepalived's notify set */
static void note_role(struct lbr *p, const struct vxc_router *r, const struct vxc_ha *ha,
		      int nsfd)
{
	const char *host = p->svc->host_name(p->ctx);
	int rank = vxc_ka_rank(ha, host), saved, fd;
	char c = '?';

	if (nsfd < 0 || p->svc->size < offsetof(struct vxc_services, note) + sizeof(void *) ||
	    !p->svc->note || p->svc->netns_enter(p->ctx, nsfd, &saved) < 0)
		return;
	fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, &c, 1) != 1)
		c = '?';
	if (fd >= 0)
		close(fd);
	p->svc->netns_leave(p->ctx, saved);
	p->svc->note(p->ctx, "router %s: copy %d of %zu on %s (VRID %u, priority %u): %s",
		     r->name, rank + 1, ha->n_hosts, host, ha->vrid, vxc_ka_priority(rank),
		     c == '1' ? "active" : c == '0' ? "standby" : "unknown");
}

int lbr_rha_ensure(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	const struct vxc_ha *ha = lbr_router_ha(p, r);
	struct vxc_ka_vip *vips;
	struct vxc_ka_spec ks = { .kind = "router", .tag = RHA_TAG, .name = r->name, .ha = ha,
				  .vrrp_if = r->gw_if, .route_gw = r->provider->gateway,
				  .route_if = r->gw_if, .keepalived = p->keepalived,
				  .notify = p->ha_notify };
	char peers[64][VXC_IFNAMSIZ];
	int err;

	if (r->n_ports > 64)
		return lbr_error(p, -E2BIG, "router %s: more than 64 networks on an HA router",
				 r->name);
	vips = calloc(r->n_ports + 1, sizeof(*vips));
	if (!vips)
		return lbr_error(p, -ENOMEM, "router %s: out of memory", r->name);
	vips[ks.n_vips++] = (struct vxc_ka_vip){ r->external, r->provider->cidr.len, r->gw_if };
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct vxc_port *port = r->ports[i];

		snprintf(peers[i], sizeof(peers[i]), "t-%s", port->network->name);
		vips[ks.n_vips++] = (struct vxc_ka_vip){ port->addr, port->network->cidr.len,
							  peers[i] };
	}
	ks.vips = vips;
	err = vxc_ka_ensure(p->svc, p->ctx, &ks, nsfd, flags);
	if (!err)
		note_role(p, r, ha, nsfd);
	free(vips);
	return err;
}

int lbr_rha_single(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags,
		   int *announce)
{
	int saved, err, left;

	*announce = 0;
	if (!vxc_ka_recorded(p->svc, p->ctx, RHA_TAG, r->name))
		return 0;
	*announce = 1;
	/* keepalived leaves the gate closed as it stops */
	err = lbr_rha_remove(p, r->name, flags);
	if (err < 0)
		return err;
	lbr_change(p, "router %s: one copy again: forwarding and ARP answers on", r->name);
	if (lbr_dry(flags) || nsfd < 0)
		return 0;
	err = p->svc->netns_enter(p->ctx, nsfd, &saved);
	if (err < 0)
		return err;
	err = vxc_ha_gate(1);
	left = p->svc->netns_leave(p->ctx, saved);
	if (err < 0)
		return lbr_error(p, err, "router %s: cannot open the gate in %s: %s", r->name,
				 r->netns, strerror(-err));
	return left;
}

int lbr_rha_announce(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags)
{
	char peer[VXC_IFNAMSIZ];
	int saved, err, left;

	lbr_change(p, "router %s: announce its addresses (gratuitous ARP)", r->name);
	if (lbr_dry(flags) || nsfd < 0)
		return 0;
	err = p->svc->netns_enter(p->ctx, nsfd, &saved);
	if (err < 0)
		return err;
	err = vxc_ha_announce(r->gw_if, r->external);
	for (size_t i = 0; !err && i < r->n_ports; i++) {
		snprintf(peer, sizeof(peer), "t-%s", r->ports[i]->network->name);
		err = vxc_ha_announce(peer, r->ports[i]->addr);
	}
	left = p->svc->netns_leave(p->ctx, saved);
	if (err < 0)
		return lbr_error(p, err, "router %s: gratuitous ARP in %s: %s", r->name, r->netns,
				 strerror(-err));
	return left;
}

int lbr_rha_remove(struct lbr *p, const char *router, unsigned flags)
{
	return vxc_ka_stop(p->svc, p->ctx, "router", RHA_TAG, router, flags);
}

int lbr_rha_list(struct lbr *p, void (*cb)(void *arg, const char *router), void *arg)
{
	return vxc_ka_list(p->svc, p->ctx, RHA_TAG, cb, arg);
}
