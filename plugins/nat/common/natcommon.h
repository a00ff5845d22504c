/* Code shared by the NAT drivers (nat/iptables, nat/nftables): the desired
 * NAT state of a router taken from the model and checked, the difference
 * between two floating IP maps, change reports, conntrack flushing and
 * entering a router's namespace. Built into each plugin as a hidden
 * convenience library; nothing here is exported. */
#ifndef VXC_NATCOMMON_H
#define VXC_NATCOMMON_H

#include <stddef.h>
#include <stdint.h>
#include <vxcloud/nat.h>

/* One map entry: a floating IP and its target, or the reverse. IPv4
 * addresses in network byte order; 0 never occurs (checked). */
struct nat_pair {
	uint32_t key, val;
};

struct nat_net {
	uint32_t addr; /* network byte order, host bits clear */
	uint8_t len;
};

/* A router's desired NAT state, flattened from struct vxc_router. */
struct nat_want {
	const char *router;
	const char *netns;
	uint32_t external;
	char gw_if[VXC_IFNAMSIZ];
	int snat;
	struct nat_net *nets; /* attached networks (SNAT and hairpin) */
	size_t n_nets;
	struct nat_pair *dnat; /* floating IP -> target, in the router's order */
	struct nat_pair *snat_map; /* target -> floating IP, same order */
	size_t n_fips;
};

/* Fills *w from r, checking it; on bad input reports through svc->error
 * (naming the router and the floating IP) and returns -EINVAL. */
int nat_want_build(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_router *r,
		   struct nat_want *w);
void nat_want_free(struct nat_want *w);

/* Open addressing hash of 32-bit keys (never 0) to 32-bit values. */
struct nat_hash {
	uint32_t *keys;
	uint32_t *vals;
	size_t mask; /* capacity - 1 */
	size_t n;
};

int nat_hash_init(struct nat_hash *h, size_t expect);
void nat_hash_free(struct nat_hash *h);
/* 0 inserted, -EEXIST present (value left alone), -ENOMEM. */
int nat_hash_put(struct nat_hash *h, uint32_t key, uint32_t val);
/* Slot index, or -1. */
long nat_hash_find(const struct nat_hash *h, uint32_t key);

/* The difference between the current and the desired content of a map.
 * A key whose value changes is both deleted (old value) and added. */
struct nat_diff {
	struct nat_pair *del; /* key -> old value */
	size_t n_del;
	struct nat_pair *add; /* key -> new value */
	size_t n_add;
	size_t n_move; /* keys both deleted and added */
};

int nat_diff_pairs(const struct nat_pair *cur, size_t n_cur, const struct nat_pair *want,
		   size_t n_want, struct nat_diff *d);
void nat_diff_free(struct nat_diff *d);
static inline size_t nat_diff_size(const struct nat_diff *d)
{
	return d->n_del + d->n_add;
}

/* Reports floating IP changes from the diff of the floating IP -> target
 * map ("bind", "unbind", "move"), one line each up to a few, then one
 * summary line per kind. */
void nat_report_fips(const struct vxc_services *svc, vxc_ctx *ctx, const char *router,
		     const struct nat_diff *d);

/* Reports the per-network SNAT rules (texts below) added and removed
 * between cur[] and want[]; *old_external receives the external address of
 * a removed rule when it differs from new_external (its flows get flushed).
 * Returns the number of changes reported. */
size_t nat_report_rules(const struct vxc_services *svc, vxc_ctx *ctx, const char *router,
			const char *const *cur, size_t n_cur, const char *const *want,
			size_t n_want, uint32_t new_external, uint32_t *old_external);

/* Text for one SNAT rule, the same for both drivers (reports, comments). */
void nat_desc_snat(char *buf, size_t len, const struct nat_net *n, const char *gw_if,
		   uint32_t external);
void nat_desc_hairpin(char *buf, size_t len, const struct nat_net *n, uint32_t external);
#define NAT_DESC_LEN 128
/* The address after " to " in such a text (0 if none): the external address
 * a removed rule used, whose SNAT flows are flushed. */
uint32_t nat_desc_external(const char *desc);
/* True for the texts above (rules reported by name when added/removed). */
int nat_desc_semantic(const char *desc);

/* Deletes, through ctnetlink in the current namespace, every conntrack entry
 * whose original or reply destination is one of addrs[] (so flows through
 * an old mapping do not keep it). Returns the number deleted or -errno. */
int nat_ct_flush(const uint32_t *addrs, size_t n);

/* The addresses whose conntrack entries go when a fip diff is committed:
 * every floating IP unbound or moved. *out is malloc'd. */
int nat_flush_addrs(const struct nat_diff *dnat, uint32_t old_external, uint32_t **out,
		    size_t *n);

/* Opens netns (a name in the node's netns directory) and switches the
 * calling thread into it. -ENOENT when it does not exist. */
int nat_ns_enter(const struct vxc_services *svc, vxc_ctx *ctx, const char *netns, int *saved);
int nat_ns_leave(const struct vxc_services *svc, vxc_ctx *ctx, int saved);

/* The names of every router namespace ("vxr-*") into a malloc'd vector. */
int nat_ns_collect(const struct vxc_services *svc, vxc_ctx *ctx, char ***names, size_t *n);
void nat_strv_free(char **v, size_t n);

#define NAT_ROUTER_NS_PREFIX "vxr-"

/* "a.b.c.d" into buf[16]. */
const char *nat_ip(uint32_t a, char *buf);
#define NAT_IPSTR 16

#endif
