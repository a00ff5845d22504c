/* Helpers of the NAT driver tests (test-nat, bench-nat): namespaces under a
 * private netns directory, a small topology built through libnl, UDP
 * probes, conntrack and NAT state read back from the kernel, and foreign
 * objects that the drivers must leave alone. */
#ifndef VXC_NATTEST_H
#define VXC_NATTEST_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <vxcloud/nat.h>

#include "ctx.h"

struct nt_pair {
	uint32_t key, val;
};

/* ---- namespaces (through the core's services) ---- */
extern vxc_ctx nt_ctx; /* a context for the core services the tests use */
int nt_ns_create(const char *name);
void nt_ns_delete(const char *name);
int nt_enter(const char *ns, int *saved); /* 0 or -errno */
void nt_leave(int saved);
int nt_sysctl(const char *ns, const char *path, const char *value);

/* ---- links through libnl, inside namespaces ---- */
int nt_veth(const char *ns_a, const char *if_a, const char *ns_b, const char *if_b);
int nt_bridge(const char *ns, const char *br, const char *const *ports);
int nt_addr(const char *ns, const char *ifname, const char *cidr);
int nt_addr_del(const char *ns, const char *ifname, const char *cidr);
int nt_up(const char *ns, const char *ifname);
int nt_default_route(const char *ns, const char *gateway);

/* ---- UDP probes ---- */
int nt_udp_open(const char *ns, const char *addr, uint16_t port); /* fd or -errno */
int nt_udp_send(int fd, const char *dst, uint16_t port, const char *msg);
/* Waits up to timeout_ms; returns the length, -ETIMEDOUT or -errno. */
int nt_udp_recv(int fd, char *buf, size_t len, char from[16], uint16_t *from_port,
		int timeout_ms);
/* Drains whatever is queued. */
void nt_udp_drain(int fd);

/* ---- conntrack ---- */
/* Entries whose original or reply destination is addr. */
int nt_ct_count(const char *ns, const char *addr);

/* ---- NAT state as the kernel holds it, per driver ---- */
/* Floating IP -> target pairs, checked consistent across DNAT and SNAT
 * (-EPROTO when not); 0 pairs when the driver's objects are absent. */
int nt_read_fips(const char *driver, const char *ns, struct nt_pair **out, size_t *n);
/* 1 when the driver's table/chains (and jumps) are present, 0 absent. */
int nt_has_objects(const char *driver, const char *ns);
/* Whether ns holds the nftables table ip TABLE (1/0, or -errno). */
int nt_nft_table_exists(const char *ns, const char *table);
/* Per-network SNAT rules present (nftables: rule comments; iptables:
 * decoded), one text per line; malloc'd. */
char *nt_read_rules(const char *driver, const char *ns);

/* ---- foreign objects ---- */
int nt_foreign_create(const char *ns);
/* A text of every foreign object (nft table "foreign", iptables rules and
 * chains that are not vxcloud's); malloc'd. */
char *nt_foreign_fingerprint(const char *ns);
/* One more foreign change of each kind (an nft commit and an iptables
 * commit): what an administrator might do at any moment. */
int nt_foreign_poke(const char *ns);

/* Address helpers. */
uint32_t nt_ip(const char *s);
const char *nt_ipstr(uint32_t a, char buf[16]);

#endif
