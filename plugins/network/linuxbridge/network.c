/* A tenant network on this host: bridge vb-N, VXLAN device vx-N enslaved
 * to it (VNI, UDP port, local = this host's tunnel address, learning off),
 * both up with the network's MTU, then exactly the wanted fdb entries. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netlink/addr.h>
#include <netlink/route/link/vxlan.h>

#include "lbr.h"

#define VXLAN_DEFAULT_MTU 1450

unsigned lbr_net_mtu(const struct vxc_network *net)
{
	return net->mtu ? net->mtu : VXLAN_DEFAULT_MTU;
}

static int ensure_bridge(struct lbr *p, const struct vxc_network *net, unsigned flags,
			 int *ifindex)
{
	char who[LBR_WHO_MAX], alias[LBR_ALIAS_MAX];
	struct lbr_want w = { .mtu = lbr_net_mtu(net), .alias = alias, .up = 1 };
	struct rtnl_link *l = NULL;
	int err, created = 0;

	*ifindex = 0;
	snprintf(who, sizeof(who), "network %s", net->name);
	lbr_alias(alias, "network", net->name);
	err = lbr_link_get(p->sk, net->bridge_if, &l);
	if (err == -ENODEV) {
		lbr_change(p, "%s: create bridge %s (mtu %u)", who, net->bridge_if, w.mtu);
		if (lbr_dry(flags))
			return 0;
		err = lbr_bridge_create(p, p->sk, who, net->bridge_if, alias, &l);
		created = 1;
	} else if (err < 0) {
		return lbr_error(p, err, "%s: cannot read %s: %s", who, net->bridge_if,
				 strerror(-err));
	} else {
		err = lbr_link_claim(p, who, l, alias);
		if (!err && strcmp(lbr_link_kind(l), "bridge"))
			err = lbr_error(p, -EEXIST, "%s: %s is a %s link, not a bridge", who,
					net->bridge_if, lbr_link_kind(l));
	}
	if (!err) {
		snprintf(who, sizeof(who), "network %s: %s", net->name, net->bridge_if);
		err = lbr_link_fix(p, p->sk, who, l, &w, flags, created);
		*ifindex = rtnl_link_get_ifindex(l);
	}
	if (l)
		rtnl_link_put(l);
	return err;
}

/* Why the existing device cannot stay (attributes the kernel does not let
 * us change in place), or "" when it matches. */
static void vxlan_mismatch(struct lbr *p, struct rtnl_link *l, const struct vxc_network *net,
			   const struct vxc_host *self, char *why, size_t sz)
{
	struct nl_addr *local = NULL;
	uint32_t vni = 0, port = 0;
	char want[LBR_IPSTR];

	why[0] = '\0';
	if (strcmp(lbr_link_kind(l), "vxlan")) {
		snprintf(why, sz, "it is a %s link", lbr_link_kind(l));
		return;
	}
	rtnl_link_vxlan_get_id(l, &vni);
	rtnl_link_vxlan_get_port(l, &port);
	if (vni != net->vni) {
		snprintf(why, sz, "vni %u -> %u", vni, net->vni);
	} else if (port != p->vxlan_port) {
		snprintf(why, sz, "port %u -> %u", port, p->vxlan_port);
	} else if (rtnl_link_vxlan_get_local(l, &local) < 0 ||
		   nl_addr_get_family(local) != AF_INET ||
		   memcmp(nl_addr_get_binary_addr(local), &self->tunnel, 4)) {
		snprintf(why, sz, "local address -> %s", lbr_ip_str(self->tunnel, want));
	} else if (rtnl_link_vxlan_get_learning(l) != 0) {
		snprintf(why, sz, "learning on -> off");
	} else if (rtnl_link_vxlan_get_proxy(l) != !!p->neigh_proxy) {
		snprintf(why, sz, "neighbour proxy %s", p->neigh_proxy ? "off -> on" : "on -> off");
	}
	if (local)
		nl_addr_put(local);
}

static int vxlan_create(struct lbr *p, const char *who, const struct vxc_network *net,
			const struct vxc_host *self, int br_ifindex, struct rtnl_link **out)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *local;
	int err;

	if (!l)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	local = nl_addr_build(AF_INET, &self->tunnel, 4);
	if (!local) {
		rtnl_link_put(l);
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	}
	rtnl_link_set_name(l, net->vxlan_if);
	lbr_link_set_birth_mac(p, l, net->vxlan_if);
	rtnl_link_vxlan_set_id(l, net->vni);
	rtnl_link_vxlan_set_local(l, local);
	rtnl_link_vxlan_set_port(l, p->vxlan_port);
	rtnl_link_vxlan_set_learning(l, 0);
	rtnl_link_vxlan_set_proxy(l, p->neigh_proxy ? 1 : 0);
	rtnl_link_set_mtu(l, lbr_net_mtu(net));
	if (br_ifindex)
		rtnl_link_set_master(l, br_ifindex);
	err = lbr_link_create(p, p->sk, who, l, net->vxlan_if, out);
	nl_addr_put(local);
	rtnl_link_put(l);
	return err;
}

static int ensure_vxlan(struct lbr *p, const struct vxc_network *net,
			const struct vxc_host *self, int br_ifindex, unsigned flags, int *ifindex)
{
	char who[LBR_WHO_MAX], alias[LBR_ALIAS_MAX], why[96], ip[LBR_IPSTR];
	struct lbr_want w = { .mtu = lbr_net_mtu(net), .master = br_ifindex,
			      .master_name = net->bridge_if, .alias = alias, .up = 1 };
	struct rtnl_link *l = NULL;
	int err, create = 0;

	*ifindex = 0;
	snprintf(who, sizeof(who), "network %s", net->name);
	lbr_alias(alias, "network", net->name);
	err = lbr_link_get(p->sk, net->vxlan_if, &l);
	if (err == -ENODEV) {
		lbr_change(p, "%s: create vxlan %s (vni %u, port %u, local %s, mtu %u)", who,
			   net->vxlan_if, net->vni, p->vxlan_port, lbr_ip_str(self->tunnel, ip),
			   w.mtu);
		create = 1;
	} else if (err < 0) {
		return lbr_error(p, err, "%s: cannot read %s: %s", who, net->vxlan_if,
				 strerror(-err));
	} else {
		err = lbr_link_claim(p, who, l, alias);
		if (err < 0)
			goto out;
		vxlan_mismatch(p, l, net, self, why, sizeof(why));
		if (why[0]) {
			/* VNI, port and proxy cannot change in place: a new device,
			 * whose fdb is then programmed from scratch below. */
			lbr_change(p, "%s: replace vxlan %s (%s)", who, net->vxlan_if, why);
			create = 1;
			if (!lbr_dry(flags)) {
				err = lbr_link_delete(p, p->sk, who, l);
				if (err < 0)
					goto out;
			}
			rtnl_link_put(l);
			l = NULL;
		}
	}
	if (create && lbr_dry(flags))
		return 0;
	if (create)
		err = vxlan_create(p, who, net, self, br_ifindex, &l);
	if (!err) {
		snprintf(who, sizeof(who), "network %s: %s", net->name, net->vxlan_if);
		err = lbr_link_fix(p, p->sk, who, l, &w, flags, create);
		*ifindex = rtnl_link_get_ifindex(l);
	}
out:
	if (l)
		rtnl_link_put(l);
	return err;
}

int lbr_network_ensure(void *priv, const struct vxc_network *net, const struct vxc_host *self,
		       const struct vxc_fdb_entry *fdb, size_t n_fdb, unsigned flags)
{
	struct lbr *p = priv;
	int br = 0, vx = 0, err;

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "network_ensure: unknown flags %#x", flags);
	if (!net || !self || (n_fdb && !fdb))
		return lbr_error(p, -EINVAL, "network_ensure: missing network, host or fdb");
	if (self->underlay_mtu && lbr_net_mtu(net) + VXC_VXLAN_OVERHEAD > self->underlay_mtu)
		return lbr_error(p, -EINVAL,
				 "network %s: mtu %u does not fit host %s's underlay mtu %u "
				 "(VXLAN takes %u bytes)",
				 net->name, lbr_net_mtu(net), self->name, self->underlay_mtu,
				 VXC_VXLAN_OVERHEAD);
	err = ensure_bridge(p, net, flags, &br);
	if (!err)
		err = ensure_vxlan(p, net, self, br, flags, &vx);
	if (!err)
		err = lbr_fdb_sync(p, net, vx, fdb, n_fdb, flags);
	if (!err)
		err = lbr_neigh_sync(p, net, vx, fdb, n_fdb, flags);
	return err;
}
