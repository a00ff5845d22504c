#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "nl.h"

int vxc_nl_errno(int nlerr)
{
	static const struct {
		int nle, err;
	} map[] = {
		{ NLE_INTR, EINTR },		{ NLE_BAD_SOCK, EBADF },
		{ NLE_AGAIN, EAGAIN },		{ NLE_NOMEM, ENOMEM },
		{ NLE_EXIST, EEXIST },		{ NLE_INVAL, EINVAL },
		{ NLE_RANGE, ERANGE },		{ NLE_MSGSIZE, EMSGSIZE },
		{ NLE_OPNOTSUPP, EOPNOTSUPP },	{ NLE_AF_NOSUPPORT, EAFNOSUPPORT },
		{ NLE_OBJ_NOTFOUND, ENOENT },	{ NLE_NOATTR, ENOENT },
		{ NLE_NOADDR, EADDRNOTAVAIL },	{ NLE_PERM, EPERM },
		{ NLE_NOACCESS, EACCES },	{ NLE_BUSY, EBUSY },
		{ NLE_NODEV, ENODEV },		{ NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
		{ NLE_IMMUTABLE, EROFS },
	};
	int e = nlerr < 0 ? -nlerr : nlerr;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nle == e)
			return -map[i].err;
	return -EIO;
}

static int connect_here(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return vxc_nl_errno(r);
	}
	*out = sk;
	return 0;
}

int vxc_nl_open(vxc_ctx *ctx, int netns_fd, struct nl_sock **out)
{
	int saved, r, r2;

	*out = NULL;
	if (netns_fd < 0) {
		r = connect_here(out);
		return r < 0 ? vxc_ctx_error(ctx, r, "netlink: cannot connect: %s", strerror(-r))
			     : 0;
	}
	r = vxc_netns_enter(ctx, netns_fd, &saved);
	if (r < 0)
		return r;
	r = connect_here(out);
	r2 = vxc_netns_leave(ctx, saved);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "netlink: cannot connect inside a namespace: %s",
				     strerror(-r));
	if (r2 < 0) {
		nl_socket_free(*out);
		*out = NULL;
		return r2;
	}
	return 0;
}

int vxc_nl_host(vxc_ctx *ctx, struct nl_sock **out)
{
	int r = 0;

	if (!ctx->host_nl)
		r = vxc_nl_open(ctx, -1, &ctx->host_nl);
	*out = ctx->host_nl;
	return r;
}

struct nl_addr *vxc_nl_addr4(struct in_addr a, unsigned len)
{
	struct nl_addr *na = nl_addr_build(AF_INET, &a, sizeof(a));

	if (na)
		nl_addr_set_prefixlen(na, (int)len);
	return na;
}

int vxc_nl_link_up(struct nl_sock *sk, const char *ifname)
{
	struct rtnl_link *link = NULL, *chg;
	int r;

	r = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (r < 0)
		return vxc_nl_errno(r);
	if (rtnl_link_get_flags(link) & IFF_UP) {
		rtnl_link_put(link);
		return 0;
	}
	chg = rtnl_link_alloc();
	if (!chg) {
		rtnl_link_put(link);
		return -ENOMEM;
	}
	rtnl_link_set_flags(chg, IFF_UP);
	r = rtnl_link_change(sk, link, chg, 0);
	rtnl_link_put(chg);
	rtnl_link_put(link);
	return r < 0 ? vxc_nl_errno(r) : 0;
}
