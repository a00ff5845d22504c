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
	/* ABI 1.1 */
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
 * remote port's IPv4 address (for optional permanent neighbour entries). */
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
};

enum vxc_instance_kind {
	VXC_INSTANCE_CONTAINER = 1,
	VXC_INSTANCE_VM = 2,
};

struct vxc_instance {
	const char *name;
	enum vxc_instance_kind kind;
	const struct vxc_host *host;
	const struct vxc_port *port;
	const char *image;           /* NULL when none given */
	const char *const *command;  /* NULL-terminated argv, or NULL */
	unsigned cpus;               /* 0 = driver default */
	unsigned memory_mb;          /* 0 = driver default */
	char netns[VXC_NETNS_NAMSIZ]; /* "vxi-<name>" for drivers that name one */
	void *reserved[4];
	/* ABI 1.1: kind vm. image is then the base disk image (a path). */
	const char *kernel;          /* direct kernel boot, or NULL */
	const char *initrd;          /* NULL when none */
	const char *cmdline;         /* kernel command line, NULL when none */
	int allow_restart;           /* apply may restart it to apply vCPU/memory changes */
};

enum vxc_lb_protocol {
	VXC_LB_TCP = 1,
	VXC_LB_HTTP = 2,
};

enum vxc_lb_algorithm {
	VXC_LB_ROUNDROBIN = 1,
	VXC_LB_LEASTCONN = 2,
	VXC_LB_SOURCE = 3,
};

struct vxc_lb_member {
	struct in_addr addr;
	uint16_t port;
	unsigned weight;
};

struct vxc_lb_health {
	int enabled;
	unsigned interval_ms;
	unsigned timeout_ms;
	unsigned rise;
	unsigned fall;
	const char *http_path; /* HTTP check when set, TCP connect otherwise */
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
	void *reserved[2];
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
