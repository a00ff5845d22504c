/* libnl-route-3 plumbing shared by the core's link services: sockets bound
 * to a given network namespace and libnl errors turned into -errno. */
#ifndef VXC_NL_H
#define VXC_NL_H

#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/socket.h>

#include <vxcloud/plugin.h>

/* A connected NETLINK_ROUTE socket that talks to the namespace netns_fd
 * (-1 = the calling thread's). A netlink socket stays bound to the
 * namespace it was made in, so the thread only visits netns_fd briefly. */
int vxc_nl_open(vxc_ctx *ctx, int netns_fd, struct nl_sock **out);

/* The host namespace's socket, made on first use and kept in ctx for the
 * run (freed by vxc_ctx_fini): one socket per run, not one per instance.
 * The caller must not free it. */
int vxc_nl_host(vxc_ctx *ctx, struct nl_sock **out);

/* A libnl error code (-NLE_*) as a negative errno. */
int vxc_nl_errno(int nlerr);

/* An AF_INET nl_addr holding a/len; NULL only when out of memory. */
struct nl_addr *vxc_nl_addr4(struct in_addr a, unsigned len);

/* Brings the link named ifname up in the socket's namespace. */
int vxc_nl_link_up(struct nl_sock *sk, const char *ifname);

#endif
