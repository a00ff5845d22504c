/* Links through libnl-route-3: lookups, ownership, one-request fixes. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>

#include "lbr.h"

int lbr_nlerr(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_BUSY: return -EBUSY;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	default: return -EIO;
	}
}

int lbr_sock_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	/* The kernel sizes dump messages by the reader's buffer (up to 32 KiB);
	 * a VXLAN fdb dump resumes by skipping every entry already sent, so
	 * few large messages cost much less than many page-sized ones. */
	nl_socket_set_msg_buf_size(sk, 64 * 1024);
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		return lbr_nlerr(err);
	}
	*out = sk;
	return 0;
}

int lbr_link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out)
{
	int err = rtnl_link_get_kernel(sk, 0, name, out);

	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return -ENODEV;
	return err < 0 ? lbr_nlerr(err) : 0;
}

const char *lbr_link_kind(struct rtnl_link *l)
{
	const char *t = rtnl_link_get_type(l);

	return t ? t : "";
}

int lbr_link_has_alias(struct rtnl_link *l, const char *alias)
{
	const char *a = rtnl_link_get_ifalias(l);

	return a && !strcmp(a, alias);
}

int lbr_link_is_newborn(struct lbr *p, struct rtnl_link *l)
{
	const char *a = rtnl_link_get_ifalias(l);
	const char *name = rtnl_link_get_name(l);
	struct nl_addr *mac = rtnl_link_get_addr(l);
	struct vxc_mac birth;

	if ((a && *a) || !name)
		return 0;
	vxc_link_birth_mac(p->svc->host_name(p->ctx), name, &birth);
	return mac && nl_addr_get_len(mac) == 6 &&
	       !memcmp(nl_addr_get_binary_addr(mac), birth.b, 6);
}

void lbr_link_set_birth_mac(struct lbr *p, struct rtnl_link *l, const char *name)
{
	struct vxc_mac birth;

	vxc_link_birth_mac(p->svc->host_name(p->ctx), name, &birth);
	lbr_link_set_mac(l, birth.b);
}

int lbr_link_claim(struct lbr *p, const char *who, struct rtnl_link *l, const char *alias)
{
	const char *a = rtnl_link_get_ifalias(l);

	if (a && !strcmp(a, alias))
		return 0;
	if (lbr_link_is_newborn(p, l)) {
		lbr_log(p, VXC_LOG_WARN, "%s: interface %s has vxcloud's creation MAC but no "
			"alias (a run was interrupted right after creating it); claiming it",
			who, rtnl_link_get_name(l));
		return 0; /* the caller's fix sets the alias */
	}
	if (a && !strncmp(a, VXC_OWNER_MARK, strlen(VXC_OWNER_MARK)))
		return lbr_error(p, -EEXIST,
				 "%s: interface %s belongs to another vxcloud object (alias '%s', "
				 "want '%s'); two objects derive the same name",
				 who, rtnl_link_get_name(l), a, alias);
	return lbr_error(p, -EEXIST,
			 "%s: interface %s exists but was not made by vxcloud (no alias '%s'); "
			 "remove or rename it",
			 who, rtnl_link_get_name(l), alias);
}

static int mac_is(struct nl_addr *a, const uint8_t *mac)
{
	return a && nl_addr_get_len(a) == 6 && !memcmp(nl_addr_get_binary_addr(a), mac, 6);
}

void lbr_link_set_mac(struct rtnl_link *l, const uint8_t *mac)
{
	struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

	if (a) {
		rtnl_link_set_addr(l, a); /* takes its own reference */
		nl_addr_put(a);
	}
}

/* Reports what differs; returns how many differences there are. */
static int link_diff(struct lbr *p, const char *who, struct rtnl_link *l,
		     const struct lbr_want *w, int quiet, struct rtnl_link *change)
{
	const char *alias = rtnl_link_get_ifalias(l);
	int master = rtnl_link_get_master(l), n = 0;
	unsigned mtu = rtnl_link_get_mtu(l);

	if (w->alias && (!alias || strcmp(alias, w->alias))) {
		if (!quiet)
			lbr_change(p, "%s: set alias %s", who, w->alias);
		rtnl_link_set_ifalias(change, w->alias);
		n++;
	}
	if (w->mtu && mtu != w->mtu) {
		if (!quiet)
			lbr_change(p, "%s: mtu %u -> %u", who, mtu, w->mtu);
		rtnl_link_set_mtu(change, w->mtu);
		n++;
	}
	if (w->master > 0 && master != w->master) {
		if (!quiet)
			lbr_change(p, "%s: join bridge %s", who, w->master_name);
		rtnl_link_set_master(change, w->master);
		n++;
	} else if (w->master < 0 && master) {
		if (!quiet)
			lbr_change(p, "%s: leave its bridge", who);
		rtnl_link_set_master(change, 0);
		n++;
	}
	if (w->mac && !mac_is(rtnl_link_get_addr(l), w->mac)) {
		char m[LBR_MACSTR];

		if (!quiet)
			lbr_change(p, "%s: mac -> %s", who, lbr_mac_str(w->mac, m));
		lbr_link_set_mac(change, w->mac);
		n++;
	}
	if (w->up && !(rtnl_link_get_flags(l) & IFF_UP)) {
		if (!quiet)
			lbr_change(p, "%s: set up", who);
		rtnl_link_set_flags(change, IFF_UP);
		n++;
	}
	return n;
}

int lbr_link_fix(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l,
		 const struct lbr_want *w, unsigned flags, int quiet)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int err = 0;

	if (!change)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	if (link_diff(p, who, l, w, quiet, change) && !lbr_dry(flags)) {
		err = rtnl_link_change(sk, l, change, 0);
		if (err < 0)
			err = lbr_error(p, lbr_nlerr(err), "%s: cannot update %s: %s", who,
					rtnl_link_get_name(l), nl_geterror(err));
	}
	rtnl_link_put(change);
	return err;
}

int lbr_link_create(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l,
		    const char *name, struct rtnl_link **out)
{
	int err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);

	if (err < 0)
		return lbr_error(p, lbr_nlerr(err), "%s: cannot create %s %s: %s", who,
				 lbr_link_kind(l), name, nl_geterror(err));
	err = lbr_link_get(sk, name, out);
	if (err < 0)
		return lbr_error(p, err, "%s: %s vanished right after it was created", who, name);
	return 0;
}

int lbr_link_delete(struct lbr *p, struct nl_sock *sk, const char *who, struct rtnl_link *l)
{
	int err = rtnl_link_delete(sk, l);

	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return 0;
	if (err < 0)
		return lbr_error(p, lbr_nlerr(err), "%s: cannot delete %s: %s", who,
				 rtnl_link_get_name(l), nl_geterror(err));
	return 0;
}

int lbr_bridge_create(struct lbr *p, struct nl_sock *sk, const char *who, const char *name,
		      const char *alias, struct rtnl_link **out)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct lbr_want w = { .alias = alias };
	int err;

	if (!l)
		return lbr_error(p, -ENOMEM, "%s: out of memory", who);
	rtnl_link_set_name(l, name);
	lbr_link_set_birth_mac(p, l, name);
	err = rtnl_link_set_type(l, "bridge");
	if (err < 0) {
		rtnl_link_put(l);
		return lbr_error(p, lbr_nlerr(err), "%s: bridge links: %s", who,
				 nl_geterror(err));
	}
	err = lbr_link_create(p, sk, who, l, name, out);
	rtnl_link_put(l);
	if (err < 0)
		return err;
	/* The kernel takes no alias on RTM_NEWLINK create: set it next (the
	 * birth MAC marks the bridge in between). */
	err = lbr_link_fix(p, sk, who, *out, &w, 0, 1);
	if (err < 0) {
		rtnl_link_put(*out);
		*out = NULL;
	}
	return err;
}

int lbr_attach(struct lbr *p, const char *who, const char *ifname, const char *bridge,
	       unsigned mtu, unsigned flags)
{
	struct rtnl_link *l = NULL, *br = NULL;
	struct lbr_want w = { .mtu = mtu, .master_name = bridge, .up = 1 };
	int err;

	err = lbr_link_get(p->sk, ifname, &l);
	if (err == 0)
		err = lbr_link_get(p->sk, bridge, &br);
	if (err == -ENODEV && lbr_dry(flags)) {
		/* Made earlier in the same plan, once it is applied. */
		lbr_change(p, "%s: attach %s to %s (mtu %u)", who, ifname, bridge, mtu);
		err = 0;
		goto out;
	}
	if (err == -ENODEV) {
		err = lbr_error(p, err, "%s: cannot attach %s to %s: %s not found", who, ifname,
				bridge, l ? bridge : ifname);
		goto out;
	}
	if (err < 0) {
		err = lbr_error(p, err, "%s: cannot attach %s to %s: %s", who, ifname, bridge,
				strerror(-err));
		goto out;
	}
	if (strcmp(lbr_link_kind(br), "bridge")) {
		err = lbr_error(p, -EINVAL, "%s: %s is not a bridge", who, bridge);
		goto out;
	}
	w.master = rtnl_link_get_ifindex(br);
	err = lbr_link_fix(p, p->sk, who, l, &w, flags, 0);
out:
	if (l)
		rtnl_link_put(l);
	if (br)
		rtnl_link_put(br);
	return err;
}
