/* Kernel state read back (and tampered with) through libnl for the
 * root-only driver tests. A namespace is named by its file (a netns_dir
 * entry or /proc/PID/ns/net); NULL means the calling thread's. */
#ifndef VXC_NLTEST_H
#define VXC_NLTEST_H

#include <stddef.h>
#include <netlink/socket.h>

struct nlt_link {
	int exists, up;
	unsigned mtu;
	char mac[18];
	char alias[64];
};

/* A NETLINK_ROUTE socket talking to that namespace, or NULL. */
struct nl_sock *nlt_sock(const char *nsfile);

struct nlt_link nlt_link(const char *nsfile, const char *ifname);
/* "a.b.c.d/len a.b.c.d/len" of the IPv4 addresses on ifname. */
void nlt_addrs(const char *nsfile, const char *ifname, char *out, size_t len);
/* Gateway of the main table's IPv4 default route; "" none, "dev" no gateway. */
void nlt_default_gw(const char *nsfile, char *out, size_t len);

int nlt_set_mtu(const char *nsfile, const char *ifname, unsigned mtu);
int nlt_add_addr(const char *nsfile, const char *ifname, const char *cidr);
int nlt_del_default_route(const char *nsfile);
/* A veth NAME / NAMEp without any alias: somebody else's interface. */
int nlt_add_plain_veth(const char *nsfile, const char *name);

#endif
