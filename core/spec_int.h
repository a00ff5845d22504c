/* Inside the spec loader: the raw objects read from the spec, checked as a
 * whole, then turned into the public model.
 *
 * Three steps share one context (struct sp):
 *   spec_parse.c    settings (cfgtree.h) -> raw objects: keys, types, value syntax
 *   spec_validate.c references and every rule that spans objects
 *   spec_model.c    derived names and MACs, the linked public model
 * Every problem goes through sp_err()/sp_err_at() so each carries the file,
 * the line of the offending setting and its field path. Field paths use
 * zero-based indexes, e.g. "networks[1].cidr" or
 * "load_balancers[0].listeners[0].members[1].weight"; the message itself
 * names the object ("network \"private\": ..."). */
#ifndef VXC_SPEC_INT_H
#define VXC_SPEC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cfgtree.h"
#include "spec.h"

/* Room for the longest path the spec's shape allows with 1,000,000 elements
 * per list (VXC_CFG_MAX_ELEMS), "load_balancers[999999].listeners[999999].
 * members[999999]", 56 characters: every raw object carries one, and 128
 * made a third of the memory (and page faults) of loading 10,000. */
#define SP_PATHSZ 64
#define SP_KEYS_MAX 12   /* most settings any object's key table knows */
#define SP_NAME_MAX 12   /* longest network/router/instance/LB name */
#define SP_MTU_MIN 576
#define SP_MTU_MAX 9000
#define SP_VNI_MAX 16777215

/* Where something sits in the spec: its setting (for the line) and its
 * field path (for the message). name is the object's name, or for a
 * reference the name referred to; NULL when missing or not a string. */
struct sp_key;

struct sp_obj {
	const struct vxc_cfg_node *cs;
	const char *name;
	/* after sp_check_keys: for each entry of keys, 1 + the position of
	 * that member in the group (0: absent), so reading it needs no search
	 * of the group (a third of parsing 10,000 objects). Bytes, not
	 * pointers: tens of thousands of objects are made. */
	const struct sp_key *keys;
	unsigned char by_key[SP_KEYS_MAX];
	bool parsed; /* a group whose settings were read; the checks skip others */
	bool dup;    /* its name repeats an earlier one of its kind */
	char path[SP_PATHSZ];
};

/* A reference by name; idx is -1 until resolved (or when unknown). */
struct sp_ref {
	struct sp_obj at;
	int idx;
};

struct sp_host {
	struct sp_obj o;
	struct in_addr tunnel;
	bool tunnel_ok;
	unsigned underlay_mtu;
};

struct sp_provider {
	struct sp_obj o;
	const char *bridge, *uplink;
	bool bridge_ok;
	struct vxc_prefix cidr;
	bool cidr_ok;
	struct in_addr gateway;
	bool gateway_ok;
	struct in_addr first, last; /* the range; whole CIDR when not given */
	bool range_ok;
	unsigned mtu;
};

struct sp_network {
	struct sp_obj o;
	uint32_t vni;
	bool vni_ok;
	struct vxc_prefix cidr;
	bool cidr_ok;
	struct in_addr gateway;
	bool gateway_ok;
	unsigned mtu;       /* as given, or derived by validation */
	bool mtu_given;
	int router;         /* index of the attached router, or -1 */
	bool dhcp;
	struct in_addr *dns; /* DNS servers handed out by DHCP */
	size_t n_dns;
};

/* High availability (spec_ha.c): `hosts = [...]` instead of `host`, and
 * an optional `ha` group. n_hosts is 0 for an object on one host. */
struct sp_ha {
	struct sp_ref *hosts;   /* in priority order; hosts[0] is also `host` */
	size_t n_hosts;
	struct sp_obj grp;      /* the `ha` group (grp.cs NULL when absent) */
	unsigned vrid;          /* given, or allocated by validation; 0 = none yet */
	bool vrid_given;
	unsigned advert_ms;
	bool preempt;
};

struct sp_router {
	struct sp_obj o;
	struct sp_ref host;
	struct sp_ha ha;
	struct in_addr external;
	bool external_ok;
	struct sp_ref *nets; /* attached networks, one per array element */
	size_t n_nets;
	bool snat;
	struct vxc_mac gw_mac;
};

struct sp_instance {
	struct sp_obj o;
	enum vxc_instance_kind kind; /* 0 when unknown */
	struct sp_ref host, net;
	struct in_addr addr;
	bool addr_ok;
	struct vxc_mac mac;
	bool mac_given, mac_ok;
	const char *image;
	const char **command; /* NULL-terminated, or NULL */
	const char **environment; /* "NAME=value", NULL-terminated, or NULL */
	unsigned cpus, memory_mb;
	const char *kernel, *initrd, *cmdline; /* direct kernel boot of a VM */
	bool allow_restart;
};

struct sp_member {
	struct sp_obj o;
	struct vxc_lb_member m;
	bool enabled;
	bool ok; /* address and port valid */
};

struct sp_listener {
	struct sp_obj o;
	struct vxc_lb_listener l; /* members/n_members unset until the model */
	unsigned http_status;     /* health.http_status, 0 = not given */
	struct sp_member *members;
	size_t n_members;
	bool port_ok;
};

struct sp_lb {
	struct sp_obj o;
	struct sp_ref host, net;
	struct sp_ha ha;
	struct in_addr vip;
	bool vip_ok;
	struct sp_listener *ls;
	size_t n_ls;
	bool has_fip;
	struct vxc_mac mac;
};

/* An entry of floating_ips, or the floating_ip of a load balancer (then o
 * is the load balancer and addr_key "floating_ip"). */
struct sp_fip {
	struct sp_obj o;
	const char *addr_key;
	struct in_addr addr;
	bool addr_ok;
	struct sp_ref router; /* derived from the target's network when not given */
	struct sp_ref target;
	enum vxc_target_kind target_kind; /* 0 until resolved */
	struct in_addr target_addr;
	int lb; /* load balancer that declared it, or -1 */
};

/* Anything on a tenant network, gathered for the per-network checks. */
struct sp_port {
	const struct sp_obj *at;  /* setting to blame */
	const char *addr_key;     /* member of at holding the address, or NULL */
	const char *mac_key;      /* member holding a given MAC, or NULL */
	const char *owner;
	enum vxc_port_owner kind;
	int owner_idx, net, host;
	struct in_addr addr;
	struct vxc_mac mac;
};

/* Something to sort and compare: two keys and the index it came from. */
struct dup_item {
	uint64_t k1, k2;
	size_t idx;
};

/* Sorts items by k1, then k2, then idx (spec_sort.c). */
void sp_sort_items(struct dup_item *it, size_t n);

/* A message held back until the end, so they come out in line order. */
struct sp_msg {
	const char *file;
	int line;
	size_t seq;
	char *text; /* "field: message" */
};

struct sp {
	const char *file;     /* name for messages about the top file */
	struct sp_msg *msgs;
	size_t n_err, cap_msgs;
	struct sp_host *hosts;
	size_t n_hosts;
	struct sp_provider *prov; /* NULL when the spec has none */
	struct sp_network *nets;
	size_t n_nets;
	struct sp_router *routers;
	size_t n_routers;
	struct sp_instance *insts;
	size_t n_insts;
	struct sp_lb *lbs;
	size_t n_lbs;
	struct sp_fip *fips;
	size_t n_fips;
	struct sp_port *ports;
	size_t n_ports;
	/* validation's scratch: the load balancer whose listeners or members
	 * are checked for duplicates, routers' external addresses sorted */
	const struct sp_lb *cur_lb;
	const struct sp_listener *cur_ls;
	struct dup_item *externals;
	size_t n_externals;
};

/* Messages. sp_err blames member `key` of o (its line when present, else the
 * object's line; field "o.path.key"); key NULL blames o itself. */
void sp_err(struct sp *sp, const struct sp_obj *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* An object's name for messages, also when it has none. */
const char *sp_nm(const struct sp_obj *o);
/* The closest of n candidates (edit distance at most 2), or NULL. */
const char *sp_suggest(const char *word, const char *const *cands, size_t n);

/* Hands the messages to diag, sorted by file order of lines. */
void sp_flush(struct sp *sp, struct vxc_diag *diag);

/* ---- value readers (spec_value.c) ---------------------------------- */

enum sp_type { SP_STR, SP_INT, SP_BOOL, SP_STRS, SP_GROUP, SP_LIST };

/* One known setting of an object; tables end with a NULL name. */
struct sp_key {
	const char *name;
	enum sp_type type;
	bool required;
	const char *example; /* shown when a required key is missing */
};

/* How a kind's name turns into its longest kernel name. */
struct sp_name_rule {
	const char *kind;
	const char *prefix;  /* of the derived interface name */
	const char *derived; /* what that interface is */
};

const char *sp_have_name(const struct vxc_cfg_node *s);
void sp_child_obj(struct sp_obj *c, const struct sp_obj *o, const struct vxc_cfg_node *cs,
		  const char *key);
void sp_elem_obj(struct sp_obj *c, const struct sp_obj *o, const struct vxc_cfg_node *cs,
		 const char *key, size_t i);
/* Unknown keys (with a suggestion), wrong types, missing required keys. */
void sp_check_keys(struct sp *sp, struct sp_obj *o, const char *what,
		   const struct sp_key *keys);
/* Member key of o of any type, or NULL. */
const struct vxc_cfg_node *sp_setting(const struct sp_obj *o, const char *key);
/* A member of the wanted type, or NULL (absent or wrong type). */
const struct vxc_cfg_node *sp_member(const struct sp_obj *o, const char *key, enum sp_type t);
const char *sp_get_str(const struct sp_obj *o, const char *key);
/* *out = def when absent; false when present but out of range. */
bool sp_get_uint(struct sp *sp, const struct sp_obj *o, const char *key, long long min,
		 long long max, unsigned def, unsigned *out);
bool sp_get_bool(const struct sp_obj *o, const char *key, bool def);
bool sp_parse_addr(struct sp *sp, const struct sp_obj *o, const char *key, const char *text,
		   struct in_addr *out);
bool sp_get_addr(struct sp *sp, const struct sp_obj *o, const char *key, struct in_addr *out);
bool sp_get_prefix(struct sp *sp, const struct sp_obj *o, const char *key,
		   struct vxc_prefix *out);
bool sp_get_mac(struct sp *sp, const struct sp_obj *o, const char *key, struct vxc_mac *out);
bool sp_get_ifname(struct sp *sp, const struct sp_obj *o, const char *key, const char **out);
void sp_get_name(struct sp *sp, struct sp_obj *o, const struct sp_name_rule *r);
void sp_get_host_name(struct sp *sp, struct sp_obj *o);
void sp_get_ref(const struct sp_obj *o, const char *key, struct sp_ref *ref);
int sp_get_enum(struct sp *sp, const struct sp_obj *o, const char *key,
		const char *const *words, size_t n, int def);
/* Each element of a list of groups gets an sp_obj (the first member of
 * every raw struct) with its path, and is parsed by fn. */
void *sp_parse_list(struct sp *sp, const struct sp_obj *parent, const char *key,
		    size_t elsize, size_t *n, void (*fn)(struct sp *, void *));

/* ---- high availability (spec_ha.c) ---------------------------------- */

#define SP_HA_HOSTS_MAX 8      /* copies of one router or balancer */
#define SP_HA_ADVERT_DEF 100   /* ms between VRRP adverts */

/* Reads `host` or `hosts` (exactly one of them) and the `ha` group into
 * host and ha; what names the object in messages ("router"). */
void sp_parse_placement(struct sp *sp, struct sp_obj *o, const char *what, struct sp_ref *host,
			struct sp_ha *ha);
/* After every host reference is resolved: repeated hosts. */
void sp_check_ha_hosts(struct sp *sp, const struct sp_obj *o, struct sp_ha *ha);
/* Virtual router IDs, one cloud-wide per HA router or balancer: given ones
 * must not repeat, the rest get the lowest free IDs in spec order (routers
 * first); more than 255 is an error on the first object left without. */
void sp_alloc_vrids(struct sp *sp);

/* ---- the steps ------------------------------------------------------ */

void sp_parse(struct sp *sp, const struct vxc_cfg_node *root);
void sp_validate(struct sp *sp);
void sp_fini(struct sp *sp);

/* Deterministic locally administered MAC (02:...) for a port: a hash of its
 * owner kind, owner name and network name. Stable across releases: changing
 * it would change every derived MAC of a running cloud. */
void sp_derive_mac(const char *kind, const char *name, const char *net, struct vxc_mac *out);
struct vxc_spec *sp_build(const struct sp *sp, const char *path);

/* Address helpers shared by the checks. */
struct in_addr sp_net_addr(const struct vxc_prefix *p);
struct in_addr sp_bcast_addr(const struct vxc_prefix *p);
/* "network address" / "broadcast address" when a is one of them, else NULL. */
const char *sp_special_addr(const struct vxc_prefix *p, struct in_addr a);

#endif
