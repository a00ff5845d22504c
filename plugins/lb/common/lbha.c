/* Load balancer copies on several hosts: see lbha.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keepalived.h"
#include "lbha.h"
#include "lbport.h"

#define NONLOCAL_BIND "/proc/sys/net/ipv4/ip_nonlocal_bind"
#define FORWARD "/proc/sys/net/ipv4/ip_forward"

const struct vxc_ha *lb_ha(const struct vxc_services *svc, const struct vxc_lb *lb)
{
	/* the field exists only when the core is of ABI 1.8 or later */
	if (svc->size < offsetof(struct vxc_services, abi_minor) + sizeof(uint32_t) ||
	    svc->abi_minor < 8)
		return NULL;
	return lb->ha;
}

static int get_char(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char c = '?';

	if (fd < 0)
		return '?';
	if (read(fd, &c, 1) != 1)
		c = '?';
	close(fd);
	return c;
}

/* A standby copy: no ARP answers, no forwarding, no IPv6 (every copy's
 * port has the same MAC), and listeners may bind the VIP it lacks. */
static int standby_inside(void)
{
	int err = vxc_ha_quiet();

	if (!err)
		err = vxc_ha_gate(0);
	return err ? err : vxc_ha_sysctl(NONLOCAL_BIND, "1\n");
}

/* The only copy again: ARP answers, and forwarding as the driver has it
 * for one copy; binds to the VIP only, as for a balancer never on two. */
static int single_inside(int forwards)
{
	int err = vxc_ha_gate(1);

	if (!err && !forwards)
		err = vxc_ha_sysctl(FORWARD, "0\n");
	return err ? err : vxc_ha_sysctl(NONLOCAL_BIND, "0\n");
}

static int in_netns(vxc_ctx *ctx, const struct vxc_services *svc, int fd,
		    int (*fn)(int arg), int arg)
{
	int saved, err, left;

	err = svc->netns_enter(ctx, fd, &saved);
	if (err < 0)
		return err;
	err = fn(arg);
	left = svc->netns_leave(ctx, saved);
	return err < 0 || left >= 0 ? err : left; /* fn's value (status: a character) */
}

static int standby_fn(int arg)
{
	(void)arg;
	return standby_inside();
}

static int prepare(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		   int fd, unsigned flags)
{
	int err;

	if (vxc_ka_running(svc, ctx, LB_HA_TAG, lb->name))
		return 0;
	svc->change(ctx, "load balancer %s: copy inactive until VRRP elects it (no ARP "
		    "answers, no IPv6, listeners bind the VIP it does not hold)", lb->name);
	if ((flags & VXC_F_DRY_RUN) || fd < 0)
		return 0;
	err = in_netns(ctx, svc, fd, standby_fn, 0);
	if (err < 0)
		return svc->error(ctx, err, "load balancer %s: cannot close the gate in %s: %s",
				  lb->name, lb->netns, strerror(-err));
	return 0;
}

static int single(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		  const struct lb_ha_cfg *cfg, int fd, unsigned flags, int *announce)
{
	int err;

	if (!vxc_ka_recorded(svc, ctx, LB_HA_TAG, lb->name))
		return 0;
	*announce = 1;
	/* keepalived drops the VIP and closes the gate as it stops */
	err = lb_ha_remove(ctx, svc, lb->name, flags);
	if (err < 0)
		return err;
	svc->change(ctx, "load balancer %s: one copy again: ARP answers on", lb->name);
	if ((flags & VXC_F_DRY_RUN) || fd < 0)
		return 0;
	err = in_netns(ctx, svc, fd, single_inside, cfg->forwards);
	if (err < 0)
		return svc->error(ctx, err, "load balancer %s: cannot open the gate in %s: %s",
				  lb->name, lb->netns, strerror(-err));
	return 0;
}

int lb_ha_before(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		 const struct lb_ha_cfg *cfg, int fd, unsigned flags, int *announce)
{
	const struct vxc_ha *ha = lb_ha(svc, lb);

	*announce = 0;
	if (!ha)
		return single(ctx, svc, lb, cfg, fd, flags, announce);
	if (vxc_ka_rank(ha, svc->host_name(ctx)) < 0)
		return svc->error(ctx, -EINVAL, "load balancer %s: this host (%s) is not among "
				  "its hosts", lb->name, svc->host_name(ctx));
	return prepare(ctx, svc, lb, fd, flags);
}

static int ensure_keepalived(vxc_ctx *ctx, const struct vxc_services *svc,
			     const struct vxc_lb *lb, const struct lb_ha_cfg *cfg, int fd,
			     unsigned flags)
{
	const struct vxc_port *port = lb->port;
	struct vxc_ka_vip vip = { port->addr, port->network->cidr.len, LB_VIP_IF };
	struct vxc_ka_spec ks = { .kind = "load balancer", .tag = LB_HA_TAG, .name = lb->name,
				  .ha = lb_ha(svc, lb), .vrrp_if = LB_VIP_IF, .vips = &vip,
				  .n_vips = 1, .route_gw = port->network->gateway,
				  .route_if = LB_VIP_IF, .keepalived = cfg->keepalived,
				  .notify = cfg->notify };

	return vxc_ka_ensure(svc, ctx, &ks, fd, flags);
}

static int announce_vip(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
			int fd, unsigned flags)
{
	int saved, err, left;

	svc->change(ctx, "load balancer %s: announce its VIP (gratuitous ARP)", lb->name);
	if ((flags & VXC_F_DRY_RUN) || fd < 0)
		return 0;
	err = svc->netns_enter(ctx, fd, &saved);
	if (err < 0)
		return err;
	err = vxc_ha_announce(LB_VIP_IF, lb->port->addr);
	left = svc->netns_leave(ctx, saved);
	if (err < 0)
		return svc->error(ctx, err, "load balancer %s: gratuitous ARP in %s: %s",
				  lb->name, lb->netns, strerror(-err));
	return left;
}

int lb_ha_after(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		const struct lb_ha_cfg *cfg, int fd, unsigned flags, int announce)
{
	if (lb_ha(svc, lb))
		return ensure_keepalived(ctx, svc, lb, cfg, fd, flags);
	return announce ? announce_vip(ctx, svc, lb, fd, flags) : 0;
}

int lb_ha_remove(vxc_ctx *ctx, const struct vxc_services *svc, const char *name,
		 unsigned flags)
{
	return vxc_ka_stop(svc, ctx, "load balancer", LB_HA_TAG, name, flags);
}

int lb_ha_list(vxc_ctx *ctx, const struct vxc_services *svc,
	       void (*cb)(void *arg, const char *name), void *arg)
{
	return vxc_ka_list(svc, ctx, LB_HA_TAG, cb, arg);
}

static int forward_char(int arg)
{
	(void)arg;
	return get_char(FORWARD);
}

void lb_ha_status(vxc_ctx *ctx, const struct vxc_services *svc, const struct vxc_lb *lb,
		  int fd, void (*cb)(void *arg, const char *line), void *arg)
{
	const struct vxc_ha *ha = lb_ha(svc, lb);
	const char *host = svc->host_name(ctx);
	int rank = vxc_ka_rank(ha, host), c = '?';
	char line[256];

	if (!ha)
		return;
	if (fd >= 0) {
		c = in_netns(ctx, svc, fd, forward_char, 0);
		if (c < 0)
			c = '?';
	}
	/* the gate keepalived's notify sets: open (1) only on the active copy */
	snprintf(line, sizeof(line), "copy %d of %zu on %s (VRID %u, priority %u), keepalived "
		 "%s: %s", rank + 1, ha->n_hosts, host, ha->vrid, vxc_ka_priority(rank),
		 vxc_ka_running(svc, ctx, LB_HA_TAG, lb->name) ? "running" : "not running",
		 c == '1' ? "active" : c == '0' ? "standby" : "unknown");
	cb(arg, line);
}
