/* linuxbridge network driver: internals shared by its source files.
 *
 * Everything goes through libnl-route-3: links with its request/ACK calls,
 * forwarding and neighbour entries (the hot path, thousands of them) with
 * batched raw netlink messages on a second socket (batch.c). */
#ifndef LBR_H
#define LBR_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <vxcloud/vxcloud.h>

#define LBR_ALIAS_MAX 128
#define LBR_IPSTR 16
#define LBR_MACSTR 18
#define LBR_WHO_MAX 96
/* Beyond this many entries of one kind a diff is reported as one summary
 * line per network instead of one line per entry. */
#define LBR_REPORT_MAX 16

struct lbr {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	struct nl_sock *sk;  /* links and addresses: one request, one ACK */
	struct nl_sock *bsk; /* fdb/neighbour dumps and batches (raw messages) */
	unsigned vxlan_port;
	int neigh_proxy;
	uint32_t doom_group; /* doom.c: links to delete in one batch */
	unsigned n_doomed;
	const char *keepalived; /* program for HA routers */
	const char *ha_notify;  /* vxcloud-ha-notify, run by keepalived */
};

#define lbr_change(p, ...) ((p)->svc->change((p)->ctx, __VA_ARGS__))
#define lbr_error(p, err, ...) ((p)->svc->error((p)->ctx, (err), __VA_ARGS__))
#define lbr_log(p, lvl, ...) ((p)->svc->log((p)->ctx, (lvl), __VA_ARGS__))
#define lbr_dry(flags) (((flags) & VXC_F_DRY_RUN) != 0)

/* doom.c: l joins the links deleted together by the next flush, which
 * goes before anything is made, after the provider's removal and at close. */
int lbr_link_doom(struct lbr *p, const char *who, struct rtnl_link *l);
int lbr_doomed_flush(struct lbr *p);

/* fmt.c: text for messages */
const char *lbr_ip_str(struct in_addr a, char buf[LBR_IPSTR]);
const char *lbr_mac_str(const uint8_t mac[6], char buf[LBR_MACSTR]);
/* "vxcloud:<kind>:<name>" */
const char *lbr_alias(char buf[LBR_ALIAS_MAX], const char *kind, const char *name);
/* Splits an alias of ours into kind and name; 0, or -EINVAL when the alias
 * is not vxcloud's. */
int lbr_alias_parse(const char *alias, char *kind, size_t kind_sz, char *name, size_t name_sz);

/* link.c: links through libnl */
int lbr_nlerr(int nlerr);                 /* libnl error -> -errno */
int lbr_sock_open(struct nl_sock **out);  /* NETLINK_ROUTE in the current netns */
/* 0 and *out (to rtnl_link_put), or -ENODEV when there is no such link. */
int lbr_link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out);
const char *lbr_link_kind(struct rtnl_link *l);   /* "bridge", "vxlan", "" */
int lbr_link_has_alias(struct rtnl_link *l, const char *alias);
/* Without an alias and with the birth MAC vxc_link_birth_mac() gives its
 * name on this host: created by a run killed before it set the alias. */
int lbr_link_is_newborn(struct lbr *p, struct rtnl_link *l);
/* Puts that MAC into a creating request. */
void lbr_link_set_birth_mac(struct lbr *p, struct rtnl_link *l, const char *name);
/* An existing link named like one of ours must carry our mark, or be a
 * newborn of ours (then 0 too: the caller's fix sets the alias). */
int lbr_link_claim(struct lbr *p, const char *who, struct rtnl_link *l, const char *alias);

/* The state a link should be in; fields left 0/NULL are not checked. */
struct lbr_want {
	unsigned mtu;
	int master;              /* ifindex of the bridge; -1 = no master; 0 = leave */
	const char *master_name; /* for messages */
	const char *alias;
	const uint8_t *mac;      /* 6 bytes */
	int up;
};
/* Sets the link's hardware address in a request object. */
void lbr_link_set_mac(struct rtnl_link *l, const uint8_t *mac);
/* Brings l to w with one request, reporting each difference as "who: ..."
 * unless quiet (right after creating the link: creation was reported). */
int lbr_link_fix(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l,
		 const struct lbr_want *w, unsigned flags, int quiet);
/* Creates l (CREATE|EXCL) and reads it back into *out. */
int lbr_link_create(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l,
		    const char *name, struct rtnl_link **out);
int lbr_link_delete(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l);
/* Creates a bridge named name carrying alias; *out as lbr_link_create. */
int lbr_bridge_create(struct lbr *p, struct nl_sock *sk, const char *who, const char *name,
		      const char *alias, struct rtnl_link **out);
/* Plug ifname into bridge with mtu, up (port_attach and router ports). */
int lbr_attach(struct lbr *p, const char *who, const char *ifname, const char *bridge,
	       unsigned mtu, unsigned flags);

/* batch.c: many netlink requests per sendmsg, errors collected after. */
struct lbr_batch;
typedef void (*lbr_batch_fail_fn)(void *arg, size_t idx, int err, const char *extack);
struct lbr_batch *lbr_batch_new(struct nl_sock *sk, lbr_batch_fail_fn fail, void *arg);
/* Starts request number idx (counted from 0 in the order added). */
int lbr_batch_msg(struct lbr_batch *b, int type, int flags, const void *hdr, size_t hdrlen);
int lbr_batch_attr(struct lbr_batch *b, int type, const void *data, size_t len);
/* Sends what is left, waits for every answer; returns the first error (or
 * 0) and frees b. */
int lbr_batch_finish(struct lbr_batch *b);
void lbr_batch_discard(struct lbr_batch *b);

/* One dump request; cb sees every answer message. A dump the kernel marks
 * inconsistent (NLM_F_DUMP_INTR) gives -EAGAIN: the caller starts over. */
typedef int (*lbr_dump_fn)(void *arg, struct nlmsghdr *h);
int lbr_dump(struct nl_sock *sk, int type, const void *hdr, size_t hdrlen, int attr_type,
	     uint32_t attr_u32, lbr_dump_fn cb, void *arg);

/* fdb.c / neigh.c: make the VXLAN device's entries exactly the wanted set.
 * ifindex 0: the device is only planned (dry run), everything is new. */
int lbr_fdb_sync(struct lbr *p, const struct vxc_network *net, int ifindex,
		 const struct vxc_fdb_entry *want, size_t n_want, unsigned flags);
int lbr_neigh_sync(struct lbr *p, const struct vxc_network *net, int ifindex,
		   const struct vxc_fdb_entry *want, size_t n_want, unsigned flags);

/* The ops (one file each). */
int lbr_provider_ensure(void *priv, const struct vxc_provider *pv, unsigned flags);
/* uplink.c: the provider's uplink into bridge ifindex br (0: planned). */
int lbr_uplink_ensure(struct lbr *p, const struct vxc_provider *pv, int br, unsigned flags);
int lbr_network_ensure(void *priv, const struct vxc_network *net, const struct vxc_host *self,
		       const struct vxc_fdb_entry *fdb, size_t n_fdb, unsigned flags);
int lbr_router_ensure(void *priv, const struct vxc_router *r, unsigned flags);
int lbr_port_attach(void *priv, const struct vxc_network *net, const char *ifname, unsigned mtu,
		    unsigned flags);
int lbr_list(void *priv, vxc_owned_cb cb, void *arg);

/* dhcp.c: the dnsmasq of every attached network with dhcp = true runs in
 * router r's namespace nsfd (-1: only planned), and no other of r's. */
int lbr_dhcp_ensure(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags);
/* Stops every dnsmasq of router (its files go too). */
int lbr_dhcp_remove(struct lbr *p, const char *router, unsigned flags);
/* cb for each router with a DHCP record (duplicates possible). */
/* rha.c: an HA router copy's keepalived (plugins/common/keepalived.c). */
const struct vxc_ha *lbr_router_ha(const struct lbr *p, const struct vxc_router *r);
/* Before the copy's ports: gate closed, no IPv6, unless keepalived runs. */
int lbr_rha_prepare(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags);
int lbr_rha_ensure(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags);
int lbr_rha_remove(struct lbr *p, const char *router, unsigned flags);
/* A router back to one copy: its keepalived stopped first (which takes its
 * addresses), the gate opened; before the addresses are ensured. *announce
 * is set when it was a copy: lbr_rha_announce then, once the addresses are
 * back, tells the bridges (which may have learned the shared MACs at
 * another copy) where they are. */
int lbr_rha_single(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags,
		   int *announce);
int lbr_rha_announce(struct lbr *p, const struct vxc_router *r, int nsfd, unsigned flags);
int lbr_rha_list(struct lbr *p, void (*cb)(void *arg, const char *router), void *arg);

int lbr_dhcp_list(struct lbr *p, void (*cb)(void *arg, const char *router), void *arg);
int lbr_remove(void *priv, const struct vxc_owned *obj, unsigned flags);

/* The MTU of a tenant network (the spec fills it in; 1450 when it did not). */
unsigned lbr_net_mtu(const struct vxc_network *net);

#endif
