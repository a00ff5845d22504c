/* vxcloud public model: the objects the core hands to drivers.
 *
 * The core parses and validates the cloud spec, derives every kernel name
 * (all fit IFNAMSIZ) and every MAC, and links the objects together. Drivers
 * only read these structures; they stay valid for the whole operation.
 * IPv4 only in ABI 1. */
#ifndef VXCLOUD_MODEL_H
#define VXCLOUD_MODEL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define VXC_IFNAMSIZ 16    /* kernel interface name, with the NUL */
#define VXC_NETNS_NAMSIZ 64
#define VXC_VXLAN_OVERHEAD 50 /* outer IPv4 + UDP + VXLAN + inner Ethernet */

/* Every link vxcloud creates carries an interface alias starting with this. */
#define VXC_OWNER_MARK "vxcloud:"

struct vxc_prefix {
	struct in_addr addr; /* network byte order */
	uint8_t len;
};

struct vxc_mac {
	uint8_t b[6];
};

/* The kernel takes no interface alias in the request that creates a link,
 * so the mark comes in a second request, and a run killed between the two
 * leaves a link without it. Every link vxcloud creates therefore gets this
 * MAC in its creating request: 0e (locally administered, unicast), then
 * 40 bits of FNV-1a over "host\0ifname". A link without an alias that has
 * one of vxcloud's names and exactly this MAC was made by vxcloud on this
 * host and is claimed (marked) by the next run; nothing else is. */
static inline void vxc_link_birth_mac(const char *host, const char *ifname,
				      struct vxc_mac *out)
{
	const char *parts[2] = { host ? host : "", ifname ? ifname : "" };
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 0; i < 2; i++) {
		const char *s = parts[i];

		do {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ull;
		} while (*s++);
	}
	out->b[0] = 0x0e;
	for (int i = 1; i < 6; i++)
		out->b[i] = (uint8_t)(h >> (8 * (5 - i)));
}

struct vxc_host {
	const char *name;
	struct in_addr tunnel;  /* underlay / VTEP address */
	unsigned underlay_mtu;  /* MTU of the underlay path, default 1500 */
	void *reserved[4];
};

struct vxc_provider {
	char bridge[VXC_IFNAMSIZ]; /* provider bridge on every host */
	const char *uplink;        /* enslaved interface, NULL for none */
	struct vxc_prefix cidr;
	struct in_addr gateway;
	struct in_addr range_first; /* floating IP / router allocation range */
	struct in_addr range_last;
	unsigned mtu;
	void *reserved[4];
};

struct vxc_router;

struct vxc_network {
	const char *name;
	uint32_t vni;
	struct vxc_prefix cidr;
	struct in_addr gateway;
	unsigned mtu;
	char bridge_if[VXC_IFNAMSIZ]; /* "vb-<name>" */
	char vxlan_if[VXC_IFNAMSIZ];  /* "vx-<name>" */
	const struct vxc_router *router; /* router holding the gateway, or NULL */
	void *reserved[4];
	/* ABI 1.5 */
	int dhcp;                        /* serve DHCP (from the router's namespace) */
	const struct in_addr *dns;       /* DNS servers DHCP hands out */
	size_t n_dns;
	const struct vxc_port *const *ports; /* every port on the network, all hosts */
	size_t n_ports;
};

enum vxc_port_owner {
	VXC_PORT_INSTANCE = 1,
	VXC_PORT_ROUTER = 2,
	VXC_PORT_LB = 3,
};

/* Anything plugged into a tenant network on some host. */
struct vxc_port {
	const char *owner;        /* name of the instance, router or load balancer */
	enum vxc_port_owner owner_kind;
	const struct vxc_network *network;
	const struct vxc_host *host;
	struct in_addr addr;
	struct vxc_mac mac;
	char host_if[VXC_IFNAMSIZ]; /* end that joins the tenant bridge */
	void *reserved[4];
};

/* One forwarding entry on a VXLAN device. An all-zero MAC is the flood
 * (head-end replication) entry toward a remote VTEP; otherwise addr is the
 * remote port's IPv4 address (for optional permanent neighbour entries).
 * ABI 1.7: remote 0.0.0.0 with a MAC is a neighbour only, no fdb entry
 * (an HA router's port, reached through the flood entries). */
struct vxc_fdb_entry {
	struct vxc_mac mac;
	struct in_addr remote;
	struct in_addr addr;
};

enum vxc_target_kind {
	VXC_TARGET_INSTANCE = 1,
	VXC_TARGET_LB = 2,
};

struct vxc_fip {
	struct in_addr address;
	const struct vxc_router *router;
	const char *target;       /* instance or load balancer name */
	enum vxc_target_kind target_kind;
	struct in_addr target_addr; /* tenant address the floating IP maps to */
	void *reserved[2];
};

/* ABI 1.7: an object with copies on several hosts sharing its addresses by
 * VRRP. hosts[0] is also the object's host; a host's VRRP priority follows
 * its place in hosts (first highest). vrid is unique in the cloud. */
struct vxc_ha {
	const struct vxc_host *const *hosts;
	size_t n_hosts;          /* 2 or more */
	unsigned vrid;           /* VRRP virtual router ID, 1..255 */
	unsigned advert_ms;      /* between adverts, a multiple of 10 */
	int preempt;             /* a higher-priority copy that comes back takes over */
	void *reserved[4];
};

struct vxc_router {
	const char *name;
	const struct vxc_host *host;
	const struct vxc_provider *provider;
	struct in_addr external;      /* address on the gateway port */
	int snat;                     /* SNAT attached networks to external */
	char netns[VXC_NETNS_NAMSIZ]; /* "vxr-<name>" */
	char gw_host_if[VXC_IFNAMSIZ]; /* "rg-<name>", joins the provider bridge */
	char gw_if[VXC_IFNAMSIZ];      /* gateway port inside the namespace */
	struct vxc_mac gw_mac;
	const struct vxc_port *const *ports; /* one per attached network */
	size_t n_ports;
	const struct vxc_fip *const *fips;   /* floating IPs held by this router */
	size_t n_fips;
	void *reserved[4];
	/* ABI 1.7: copies on several hosts, or NULL (one copy, on host) */
	const struct vxc_ha *ha;
};

enum vxc_instance_kind {
	VXC_INSTANCE_CONTAINER = 1,
	VXC_INSTANCE_VM = 2,
};

/* The spec guarantees a command's program name (command[0]) is 1 to
 * VXC_PROGRAM_MAX bytes without blanks or control characters, so drivers
 * can record and compare it as one token. */
#define VXC_PROGRAM_MAX 255

struct vxc_instance {
	const char *name;
	enum vxc_instance_kind kind;
	const struct vxc_host *host;
	const struct vxc_port *port;
	const char *image;           /* NULL when none given */
	const char *const *command;  /* NULL-terminated argv, or NULL; see below */
	unsigned cpus;               /* 0 = driver default */
	unsigned memory_mb;          /* 0 = driver default */
	char netns[VXC_NETNS_NAMSIZ]; /* "vxi-<name>" for drivers that name one */
	/* ABI 1.4: "NAME=value" entries, NULL-terminated, or NULL (none given).
	 * Takes the first reserved slot, so the struct keeps its size. */
	const char *const *environment;
	void *reserved[3];
	/* ABI 1.5: kind vm. image is then the base disk image (a path). */
	const char *kernel;          /* direct kernel boot, or NULL */
	const char *initrd;          /* NULL when none */
	const char *cmdline;         /* kernel command line, NULL when none */
	int allow_restart;           /* apply may restart it to apply vCPU/memory changes */
};

enum vxc_lb_protocol {
	VXC_LB_TCP = 1,
	VXC_LB_HTTP = 2,
	VXC_LB_UDP = 3,        /* ABI 1.2; needs VXC_CAP_UDP */
};

/* roundrobin and leastconn honour member weights; rr and lc (ABI 1.2,
 * need VXC_CAP_UNWEIGHTED) treat every member alike but one at weight 0. */
enum vxc_lb_algorithm {
	VXC_LB_ROUNDROBIN = 1,
	VXC_LB_LEASTCONN = 2,
	VXC_LB_SOURCE = 3,     /* a hash of the client address */
	VXC_LB_RR = 4,
	VXC_LB_LC = 5,
};

struct vxc_lb_member {
	struct in_addr addr;
	uint16_t port;
	unsigned weight; /* 0..256; 0 drains the member (no new connections) */
};

struct vxc_lb_health {
	int enabled;
	unsigned interval_ms;
	unsigned timeout_ms;
	unsigned rise;
	unsigned fall;
	const char *http_path; /* HTTP check when set, TCP connect otherwise */
};

/* ABI 1.3 additions to a listener; grows at the end, size tells how far. */
struct vxc_lb_listener_ext {
	uint32_t size;                 /* sizeof(struct vxc_lb_listener_ext) of the core */
	const uint8_t *member_enabled; /* n_members flags; 0: `enabled = false`, the member
					* is out of rotation and not health checked */
	unsigned http_status;          /* health: the HTTP status meaning "up"; 0 = any
					* 2xx or 3xx */
	void *reserved[4];
};

struct vxc_lb_listener {
	enum vxc_lb_protocol protocol;
	uint16_t port;
	enum vxc_lb_algorithm algorithm;
	unsigned maxconn;
	unsigned timeout_connect_ms;
	unsigned timeout_client_ms;
	unsigned timeout_server_ms;
	unsigned retries;
	const struct vxc_lb_member *members;
	size_t n_members;
	struct vxc_lb_health health;
	/* ABI 1.3: what a listener says beyond ABI 1.2; NULL from an older core.
	 * A pointer in a reserved slot, not a new last field: listeners and
	 * members are arrays, whose element size must not change. */
	const struct vxc_lb_listener_ext *ext;
	void *reserved[1];
};

struct vxc_lb {
	const char *name;
	const struct vxc_host *host;
	const struct vxc_port *port;  /* the VIP port on the tenant network */
	const struct vxc_lb_listener *listeners;
	size_t n_listeners;
	const struct vxc_fip *fip;    /* bound floating IP, or NULL */
	char netns[VXC_NETNS_NAMSIZ]; /* "vxlb-<name>" */
	void *reserved[4];
	/* ABI 1.8: copies on several hosts sharing the VIP, or NULL (one copy) */
	const struct vxc_ha *ha;
};

/* Object kinds a driver reports as owned and the core asks it to remove. */
enum vxc_kind {
	VXC_KIND_PROVIDER = 1,
	VXC_KIND_NETWORK = 2,
	VXC_KIND_ROUTER = 3,
	VXC_KIND_NAT = 4,      /* a router's NAT state */
	VXC_KIND_INSTANCE = 5,
	VXC_KIND_LB = 6,
};

/* An object found on the host that carries vxcloud's mark. name is the
 * spec name (network, router, instance, load balancer; "provider"). */
struct vxc_owned {
	enum vxc_kind kind;
	const char *name;
	const char *netns; /* namespace the object lives in, NULL = the host's */
};

typedef void (*vxc_owned_cb)(void *arg, const struct vxc_owned *obj);

#endif
