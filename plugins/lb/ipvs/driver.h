/* lb/ipvs: a load balancer is a namespace vxlb-NAME on the tenant network
 * (a veth holding the VIP, default route via the gateway) whose kernel
 * balances: one IPVS virtual service per listener on the VIP, programmed
 * over IPVS's generic netlink family (libnl-genl-3), and one nftables
 * masquerade rule so members on any host answer the VIP (full NAT). Reaches
 * the core only through the services table. */
#ifndef VXC_IPVS_DRIVER_H
#define VXC_IPVS_DRIVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <vxcloud/lb.h>

#include "health.h"
#include "lbha.h"
#include "lbport.h"

#define NETNS_PREFIX "vxlb-" /* namespace of balancer B: vxlb-B */
#define PEER_IF LB_VIP_IF
#define SNAT_TABLE "vxcloud-ipvs" /* nftables table of the driver's own in the namespace */

/* The health targets of a balancer and which of them its checker holds
 * down (health.c). */
struct ipvs_targets {
	struct ipvs_target *v;
	size_t n;
	uint8_t *down; /* n flags, NULL until read */
};

struct ipvs_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	const char *checker;                /* the vxcloud-ipvs-check program */
	const struct ipvs_targets *health;  /* during one lb_ensure: members held down */
	struct lb_ha_cfg ha;                /* copies on several hosts: keepalived, notify */
};

/* A virtual service or one of its destinations as IPVS holds it. */
struct ipvs_svc {
	uint16_t protocol;   /* IPPROTO_TCP or IPPROTO_UDP */
	struct in_addr addr;
	uint16_t port;       /* host order */
	char sched[16];
	uint32_t conns;      /* connections scheduled since created (stats; dumps only) */
};

struct ipvs_dest {
	struct in_addr addr;
	uint16_t port;       /* host order */
	uint32_t weight;
	uint32_t fwd;        /* IP_VS_CONN_F_MASQ ... */
	uint32_t active, inactive; /* connections now (dumps only) */
};

/* genl.c: one IPVS generic netlink socket in the current namespace. */
struct ipvs_nl;
int ipvs_nl_open(struct ipvs_nl **out);  /* -EPROTONOSUPPORT: kernel lacks IP_VS */
void ipvs_nl_close(struct ipvs_nl *nl);
int ipvs_services(struct ipvs_nl *nl, struct ipvs_svc **out, size_t *n);
int ipvs_dests(struct ipvs_nl *nl, const struct ipvs_svc *s, struct ipvs_dest **out,
	       size_t *n);
int ipvs_svc_add(struct ipvs_nl *nl, const struct ipvs_svc *s);
int ipvs_svc_set(struct ipvs_nl *nl, const struct ipvs_svc *s);
int ipvs_svc_del(struct ipvs_nl *nl, const struct ipvs_svc *s);
int ipvs_dest_add(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d);
int ipvs_dest_set(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d);
int ipvs_dest_del(struct ipvs_nl *nl, const struct ipvs_svc *s, const struct ipvs_dest *d);

/* sync.c: the services of lb brought over, only the difference sent. */
int ipvs_sync(struct ipvs_drv *d, struct ipvs_nl *nl, const struct vxc_lb *lb, unsigned flags);
const char *ipvs_sched_name(enum vxc_lb_algorithm a); /* NULL when unknown */

/* snat.c: the masquerade of forwarded traffic and the sysctls IPVS needs. */
int ipvs_snat_ensure(struct ipvs_drv *d, const char *lb, struct in_addr vip, unsigned flags);
/* ha: the copy is one of several; ip_forward is then the gate's (lbha.h). */
int ipvs_sysctls_ensure(struct ipvs_drv *d, const char *lb, int ha, unsigned flags);

int ipvs_lb_ensure(void *priv, const struct vxc_lb *lb, unsigned flags);
int ipvs_lb_list(void *priv, vxc_owned_cb cb, void *arg);
int ipvs_lb_remove(void *priv, const struct vxc_owned *obj, unsigned flags);
int ipvs_name_ok(const char *name);

/* health.c: the checker process and its findings. */
int ipvs_health_targets(const struct vxc_lb *lb, struct ipvs_targets *out);
void ipvs_targets_free(struct ipvs_targets *t);
int ipvs_health_read_down(struct ipvs_drv *d, const char *lb, struct ipvs_targets *t);
int ipvs_health_is_down(const struct ipvs_targets *t, struct in_addr vip, uint16_t vport,
			struct in_addr addr, uint16_t port);
int ipvs_checker_ensure(struct ipvs_drv *d, const struct vxc_lb *lb, int fd,
			const struct ipvs_targets *t, unsigned flags);
int ipvs_checker_stop(struct ipvs_drv *d, const char *lb, unsigned flags);
void ipvs_checker_status(struct ipvs_drv *d, const struct vxc_lb *lb,
			 void (*cb)(void *arg, const char *line), void *arg);

/* status.c: lb_status, what IPVS holds in the namespace, one line a fact. */
int ipvs_lb_status(void *priv, const struct vxc_lb *lb, void (*cb)(void *arg, const char *line),
		   void *arg);

#endif
