/* lb_ensure: namespace, VIP port, sysctls, snat rule, IPVS services, in
 * that order; each step compares first and changes only what differs. On
 * copies on several hosts (lbha.h) every copy has the services and the
 * checker; keepalived, last, gives the VIP to the active one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

/* What the driver can do with a listener; the core refuses the rest by
 * caps before this runs, this guards hand-made models. */
static int check_lb(struct ipvs_drv *d, const struct vxc_lb *lb)
{
	if (!lb || !lb->name || !ipvs_name_ok(lb->name) || !lb->port || !lb->port->network)
		return d->svc->error(d->ctx, -EINVAL, "lb_ensure: incomplete load balancer");
	for (size_t i = 0; i < lb->n_listeners; i++) {
		const struct vxc_lb_listener *l = &lb->listeners[i];

		if (l->protocol != VXC_LB_TCP && l->protocol != VXC_LB_UDP)
			return d->svc->error(d->ctx, -EINVAL, "listener %zu: only tcp and udp are "
					     "layer 4", i);
		if (!ipvs_sched_name(l->algorithm))
			return d->svc->error(d->ctx, -EINVAL, "listener %zu: unknown algorithm %d",
					     i, (int)l->algorithm);
		if (l->health.enabled && (l->health.http_path || l->protocol != VXC_LB_TCP))
			return d->svc->error(d->ctx, -EINVAL, "listener %zu: ipvs checks members of "
					     "tcp listeners by TCP connect only (no HTTP check, no "
					     "udp)", i);
		for (size_t j = 0; j < l->n_members; j++)
			if (l->members[j].weight > 65535)
				return d->svc->error(d->ctx, -EINVAL, "listener %zu: member %zu: "
						     "weight %u over 65535", i, j,
						     l->members[j].weight);
	}
	return 0;
}

/* Inside the namespace: a socket of its own, since IPVS's tables are per
 * namespace. */
static int ensure_kernel(struct ipvs_drv *d, const struct vxc_lb *lb, unsigned flags)
{
	struct ipvs_nl *nl = NULL;
	int r = ipvs_nl_open(&nl);

	if (r < 0)
		return d->svc->error(d->ctx, r, "IPVS netlink in %s: %s", lb->netns, strerror(-r));
	r = ipvs_sysctls_ensure(d, lb->name, lb_ha(d->svc, lb) != NULL, flags);
	if (r == 0)
		r = ipvs_snat_ensure(d, lb->name, lb->port->addr, flags);
	if (r == 0)
		r = ipvs_sync(d, nl, lb, flags);
	ipvs_nl_close(nl);
	return r;
}

static int ensure_in_netns(struct ipvs_drv *d, const struct vxc_lb *lb, int fd, unsigned flags)
{
	int saved, r;

	if (fd < 0) { /* dry run, nothing made yet: all of it would be */
		d->svc->change(d->ctx, "load balancer %s: sysctls, snat to the VIP", lb->name);
		return ipvs_sync(d, NULL, lb, flags);
	}
	r = d->svc->netns_enter(d->ctx, fd, &saved);
	if (r < 0)
		return r;
	r = ensure_kernel(d, lb, flags);
	d->svc->netns_leave(d->ctx, saved);
	return r;
}

/* The kernel's modules are the same in every namespace: a kernel without
 * IPVS is named here, before anything is made. */
static int probe_ipvs(struct ipvs_drv *d)
{
	struct ipvs_nl *nl = NULL;
	int r = ipvs_nl_open(&nl);

	ipvs_nl_close(nl);
	if (r == -EPROTONOSUPPORT)
		return d->svc->error(d->ctx, r, "the kernel has no IPVS (generic netlink family "
				     "\"IPVS\" unknown; modprobe ip_vs)");
	return r < 0 ? d->svc->error(d->ctx, r, "IPVS netlink: %s", strerror(-r)) : 0;
}

/* The services with the members the checker holds down at weight 0, then
 * the checker itself (after the services: it sets their weights). */
static int ensure_with_health(struct ipvs_drv *d, const struct vxc_lb *lb, int fd,
			      unsigned flags)
{
	struct ipvs_targets t;
	int r = ipvs_health_targets(lb, &t);

	if (r == 0 && t.n)
		r = ipvs_health_read_down(d, lb->name, &t);
	if (r < 0) {
		ipvs_targets_free(&t);
		return d->svc->error(d->ctx, r, "load balancer %s: health: %s", lb->name,
				     strerror(-r));
	}
	d->health = &t;
	r = ensure_in_netns(d, lb, fd, flags);
	d->health = NULL;
	if (r == 0)
		r = ipvs_checker_ensure(d, lb, fd, &t, flags);
	ipvs_targets_free(&t);
	return r;
}

int ipvs_lb_ensure(void *priv, const struct vxc_lb *lb, unsigned flags)
{
	struct ipvs_drv *d = priv;
	int fd = -1, r, announce = 0;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "lb_ensure: unknown flags 0x%x", flags);
	r = check_lb(d, lb);
	if (r == 0)
		r = probe_ipvs(d);
	if (r == 0)
		r = lb_netns_ensure(d->ctx, d->svc, lb, flags, &fd);
	if (r == 0)
		r = lb_ha_before(d->ctx, d->svc, lb, &d->ha, fd, flags, &announce);
	if (r == 0)
		r = lb_vip_ensure(d->ctx, d->svc, lb, fd, flags);
	if (r == 0)
		r = ensure_with_health(d, lb, fd, flags);
	if (r == 0)
		r = lb_ha_after(d->ctx, d->svc, lb, &d->ha, fd, flags, announce);
	if (fd >= 0)
		close(fd);
	return r;
}
