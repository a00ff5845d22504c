/* Load balancers with copies on several hosts (ABI 1.8 vxc_lb.ha), the
 * same for every lb driver. Every copy has the namespace, the VIP port with
 * the shared MAC, and the driver's listeners (haproxy bound to the VIP with
 * ip_nonlocal_bind, IPVS services on the VIP); keepalived
 * (plugins/common/keepalived.c) elects the active copy, which alone holds
 * the VIP and the default route and alone answers ARP (the gate,
 * ha-gate.c), so only it gets traffic. A standby's VIP port holds only its
 * VRRP source address, 169.254.<vrid>.<rank+1>/32. Compiled into each lb
 * plugin (hidden). */
#ifndef VXC_LB_LBHA_H
#define VXC_LB_LBHA_H

#include <vxcloud/lb.h>

#define LB_HA_TAG "lb"

struct lb_ha_cfg {
	const char *keepalived; /* program: path or name in PATH */
	const char *notify;     /* vxcloud-ha-notify, absolute path */
	int forwards;           /* ip_forward of a single copy (ipvs 1, haproxy 0) */
};

/* lb's copies when the core is of ABI 1.8 or later and gives some, else
 * NULL (one copy). */
const struct vxc_ha *lb_ha(const struct vxc_services *svc, const struct vxc_lb *lb);

/* Before the VIP port. An HA copy whose keepalived does not run: gate
 * closed, IPv6 off, non-local binds allowed. A balancer back to one copy:
 * its keepalived stopped, the gate opened as a single copy has it;
 * *announce set (lb_ha_after then sends a gratuitous ARP for the VIP). */
int lb_ha_before(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		 const struct lb_ha_cfg *cfg, int fd, unsigned flags, int *announce);

/* After the listeners: keepalived of this copy ensured (HA), or the VIP
 * announced (announce from lb_ha_before). */
int lb_ha_after(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		const struct lb_ha_cfg *cfg, int fd, unsigned flags, int announce);

/* Stops the balancer's keepalived (first, on remove); 0 when none. */
int lb_ha_remove(vxc_ctx *ctx, const struct vxc_services *svc, const char *name,
		 unsigned flags);
/* cb for every balancer with a keepalived record (a leftover to remove). */
int lb_ha_list(vxc_ctx *ctx, const struct vxc_services *svc,
	       void (*cb)(void *arg, const char *name), void *arg);

/* For lb_status: "copy 1 of 2 on h1 (VRID 3, priority 250): active". */
void lb_ha_status(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		  int fd, void (*cb)(void *arg, const char *line), void *arg);

#endif
