/* High availability by VRRP: one supervised keepalived per copy of a router
 * or load balancer, in the copy's namespace. Shared by the network driver's
 * routers and the lb drivers (compiled into each plugin: plugins keep no
 * globals and link nothing of the core). What the copies share:
 *  - addresses (VIPs) and a default route, which only the active copy
 *    holds (keepalived adds and removes them);
 *  - forwarding and ARP answers, gated by vxcloud-ha-notify, the program
 *    keepalived runs on every state change (vxc_ha_gate below).
 * State files in the driver's state directory, per object:
 *   ka-<tag>-<name>.conf  the generated configuration (a change: SIGHUP)
 *   ka-<tag>-<name>.pid   "<pid> <start time>", written before keepalived runs
 *   ka-<tag>-<name>.log   its output
 * and keepalived's own pid files (.kpid, .vpid). */
#ifndef VXC_KEEPALIVED_H
#define VXC_KEEPALIVED_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <vxcloud/plugin.h>

#define VXC_KA_NAME_MAX 64

/* An address only the active copy holds. */
struct vxc_ka_vip {
	struct in_addr addr;
	uint8_t plen;
	const char *ifname;
};

/* One copy's keepalived. */
struct vxc_ka_spec {
	const char *kind;        /* for messages: "router", "load balancer" */
	const char *tag;         /* for file names and the owner mark: "router", "lb" */
	const char *name;        /* the object's name (spec-validated) */
	const struct vxc_ha *ha;
	const char *vrrp_if;     /* interface the adverts cross */
	const struct vxc_ka_vip *vips; /* vips[0] goes in the adverts */
	size_t n_vips;
	struct in_addr route_gw; /* default route of the active copy; 0 = none */
	const char *route_if;
	const char *keepalived;  /* program: path or name searched in PATH */
	const char *notify;      /* absolute path of vxcloud-ha-notify */
};

/* This host's place in ha->hosts, or -1. */
int vxc_ka_rank(const struct vxc_ha *ha, const char *host);
/* Its VRRP priority: 250 for the first host, 10 less for each next. */
unsigned vxc_ka_priority(int rank);
/* The copy's own address on the VRRP interface, 169.254.<vrid>.<rank+1>/32:
 * adverts need a source, and a link-local /32 makes nothing routable. */
struct in_addr vxc_ka_src_addr(const struct vxc_ha *ha, int rank);

/* The configuration text for this host (malloc'd), or NULL. */
char *vxc_ka_render(const struct vxc_ka_spec *ks, const char *host);

/* keepalived running with exactly ks's configuration: started (in
 * netns_fd, recorded by PID and start time) when not running, SIGHUP when
 * its configuration changed. Reports changes; nothing under DRY_RUN. */
int vxc_ka_ensure(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks,
		  int netns_fd, unsigned flags);
/* 1 when the recorded keepalived of (tag, name) runs, 0 when not. */
int vxc_ka_running(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		   const char *name);
/* 1 when (tag, name) has a keepalived record (running or not), else 0. */
int vxc_ka_recorded(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		    const char *name);
/* Stops the object's keepalived (recorded, and any process with its owner
 * mark) and removes its files; 0 when there is none. */
int vxc_ka_stop(const struct vxc_services *svc, vxc_ctx *ctx, const char *kind,
		const char *tag, const char *name, unsigned flags);
/* cb for every object of tag with a keepalived record. */
int vxc_ka_list(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		void (*cb)(void *arg, const char *name), void *arg);

/* ha-gate.c: the calling thread's namespace forwards and answers ARP only
 * when active (ip_forward, conf/all/arp_ignore 8 = answer nothing).
 * 0 or -errno. */
int vxc_ha_gate(int active);
/* Writes TEXT to the /proc/sys file PATH (of the calling thread's
 * namespace): 0 or -errno. */
int vxc_ha_sysctl(const char *path, const char *text);
/* No IPv6 in the calling thread's namespace, on links there and links made
 * there later, and no IGMP reports for link-local groups (the VRRP group):
 * every copy's ports share MACs, and a backup's router solicitations, DAD
 * or IGMP report would teach the bridges to send the active copy's traffic
 * to it. 0 or -errno. */
int vxc_ha_quiet(void);

/* A gratuitous ARP for addr from ifname (in the calling thread's
 * namespace): where a copy that is the only one again announces itself,
 * since the bridges may have learned the shared MACs at another copy.
 * 0 or -errno. */
int vxc_ha_announce(const char *ifname, struct in_addr addr);

#endif
