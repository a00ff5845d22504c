/* The linuxbridge network driver: Linux bridges and VXLAN devices with
 * static forwarding entries (no multicast), router namespaces, all through
 * libnl-route-3. This file: the descriptor, options, open/close. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "lbr.h"

#define VXLAN_IANA_PORT 4789

static const struct vxc_option options[] = {
	{ .name = "vxlan_port", .type = VXC_OPT_INT, .def = "4789", .min = 1, .max = 65535,
	  .help = "UDP port of the VXLAN tunnels (the same on every host)" },
	{ .name = "neigh_proxy", .type = VXC_OPT_BOOL, .def = "false",
	  .help = "answer ARP for remote ports locally from permanent neighbour entries" },
	{ .name = "keepalived", .type = VXC_OPT_STRING, .def = "keepalived",
	  .help = "keepalived program for routers on several hosts (path, or name in PATH)" },
	{ .name = "ha_notify", .type = VXC_OPT_STRING, .def = VXC_PKGLIBEXECDIR "/vxcloud-ha-notify",
	  .help = "program keepalived runs on a VRRP state change (absolute path)" },
	{ .name = NULL },
};

/* The last service slot this driver calls. */
#define SVC_NEEDED (offsetof(struct vxc_services, link_delete) + sizeof(void *))

static int lbr_read_options(struct lbr *p)
{
	long long port = VXLAN_IANA_PORT;
	int proxy = 0, err;

	err = p->svc->opt_int(p->ctx, "vxlan_port", &port);
	if (!err)
		err = p->svc->opt_bool(p->ctx, "neigh_proxy", &proxy);
	if (!err)
		err = p->svc->opt_string(p->ctx, "keepalived", &p->keepalived);
	if (!err)
		err = p->svc->opt_string(p->ctx, "ha_notify", &p->ha_notify);
	if (err < 0)
		return lbr_error(p, err, "cannot read the linuxbridge settings");
	if (port < 1 || port > 65535)
		return lbr_error(p, -ERANGE, "vxlan_port %lld is out of range 1..65535", port);
	p->vxlan_port = (unsigned)port;
	p->neigh_proxy = proxy;
	return 0;
}

static void lbr_close(void *priv)
{
	struct lbr *p = priv;

	if (!p)
		return;
	if (p->sk && lbr_doomed_flush(p) < 0)
		lbr_log(p, VXC_LOG_ERR, "links marked for deletion (group %#x) are left; a later "
			"destroy removes them", p->doom_group);
	if (p->sk)
		nl_socket_free(p->sk);
	if (p->bsk)
		nl_socket_free(p->bsk);
	free(p);
}

static int lbr_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct lbr *p;
	int err;

	if (!svc || svc->size < SVC_NEEDED)
		return -EPROTO; /* no way to say more without the services */
	p = calloc(1, sizeof(*p));
	if (!p)
		return svc->error(ctx, -ENOMEM, "out of memory");
	p->ctx = ctx;
	p->svc = svc;
	err = lbr_read_options(p);
	/* Both sockets belong to the namespace the driver is opened in: the
	 * host's, even while other code visits instance namespaces. */
	if (!err && (err = lbr_sock_open(&p->sk)) < 0)
		err = lbr_error(p, err, "cannot open a netlink socket: %s", nl_geterror(err));
	if (!err && (err = lbr_sock_open(&p->bsk)) < 0)
		err = lbr_error(p, err, "cannot open a netlink socket: %s", nl_geterror(err));
	if (!err && (err = nl_socket_set_buffer_size(p->bsk, 1 << 20, 1 << 20)) < 0)
		err = lbr_error(p, lbr_nlerr(err), "netlink buffers: %s", nl_geterror(err));
	if (err < 0) {
		lbr_close(p);
		return err;
	}
	*priv = p;
	return 0;
}

/* Links removed earlier in the run go, in one batch, before anything is
 * made or listed (see doom.c). */
static int provider_ensure(void *priv, const struct vxc_provider *pv, unsigned flags)
{
	int err = lbr_doomed_flush(priv);

	return err ? err : lbr_provider_ensure(priv, pv, flags);
}

static int network_ensure(void *priv, const struct vxc_network *net, const struct vxc_host *self,
			  const struct vxc_fdb_entry *fdb, size_t n_fdb, unsigned flags)
{
	int err = lbr_doomed_flush(priv);

	return err ? err : lbr_network_ensure(priv, net, self, fdb, n_fdb, flags);
}

static int router_ensure(void *priv, const struct vxc_router *r, unsigned flags)
{
	int err = lbr_doomed_flush(priv);

	return err ? err : lbr_router_ensure(priv, r, flags);
}

static int port_attach(void *priv, const struct vxc_network *net, const char *ifname,
		       unsigned mtu, unsigned flags)
{
	int err = lbr_doomed_flush(priv);

	return err ? err : lbr_port_attach(priv, net, ifname, mtu, flags);
}

static int list(void *priv, vxc_owned_cb cb, void *arg)
{
	int err = lbr_doomed_flush(priv);

	return err ? err : lbr_list(priv, cb, arg);
}

static const struct vxc_network_ops ops = {
	.size = sizeof(struct vxc_network_ops),
	.provider_ensure = provider_ensure,
	.network_ensure = network_ensure,
	.router_ensure = router_ensure,
	.port_attach = port_attach,
	.list = list,
	.remove = lbr_remove,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NETWORK,
	.name = "linuxbridge",
	.description = "Linux bridges and VXLAN with static fdb entries, router namespaces",
	.caps = VXC_CAP_NEIGH_PROXY,
	.options = options,
	.open = lbr_open,
	.close = lbr_close,
	.ops = &ops,
};
