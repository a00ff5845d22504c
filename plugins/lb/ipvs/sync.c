/* The services of one balancer brought over: IPVS is dumped (services on
 * the VIP, then each one's destinations), compared with the spec, and only
 * what differs is sent. A second apply sends nothing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/ip_vs.h>

#include "driver.h"

const char *ipvs_sched_name(enum vxc_lb_algorithm a)
{
	switch (a) {
	case VXC_LB_ROUNDROBIN: return "wrr"; /* weighted, as the spec means it */
	case VXC_LB_LEASTCONN: return "wlc";
	case VXC_LB_SOURCE: return "sh";
	case VXC_LB_RR: return "rr";
	case VXC_LB_LC: return "lc";
	}
	return NULL;
}

static const char *proto_name(uint16_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

static void want_service(const struct vxc_lb *lb, const struct vxc_lb_listener *l,
			 struct ipvs_svc *s)
{
	memset(s, 0, sizeof(*s));
	s->protocol = l->protocol == VXC_LB_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	s->addr = lb->port->addr;
	s->port = l->port;
	snprintf(s->sched, sizeof(s->sched), "%s", ipvs_sched_name(l->algorithm));
}

static int same_key(const struct ipvs_svc *a, const struct ipvs_svc *b)
{
	return a->protocol == b->protocol && a->addr.s_addr == b->addr.s_addr &&
	       a->port == b->port;
}

static const struct ipvs_svc *find_svc(const struct ipvs_svc *v, size_t n,
				       const struct ipvs_svc *key)
{
	for (size_t i = 0; i < n; i++)
		if (same_key(&v[i], key))
			return &v[i];
	return NULL;
}

static int fail(struct ipvs_drv *d, const char *lb, int r, const char *what,
		const struct ipvs_svc *s)
{
	return d->svc->error(d->ctx, r, "IPVS %s %s %s:%u: %s", what,
			     proto_name(s->protocol), inet_ntoa(s->addr), s->port, strerror(-r));
}

/* One member as a destination: full NAT (masquerading) at its weight;
 * weight 0 drains it, IPVS then keeps its connections but sends no new.
 * A member the spec says `enabled = false` (ABI 1.3) is drained the same,
 * and so is one the health checker holds down (it restores the weight). */
static void want_dest(struct ipvs_drv *d, const struct ipvs_svc *s,
		      const struct vxc_lb_listener *l, size_t i, struct ipvs_dest *dst)
{
	const struct vxc_lb_member *m = &l->members[i];
	const struct vxc_lb_listener_ext *x = l->ext;
	int enabled = !x || x->size < sizeof(*x) || !x->member_enabled || x->member_enabled[i];

	memset(dst, 0, sizeof(*dst));
	dst->addr = m->addr;
	dst->port = m->port;
	dst->weight = enabled ? m->weight : 0;
	if (l->health.enabled && ipvs_health_is_down(d->health, s->addr, s->port, m->addr, m->port))
		dst->weight = 0;
	dst->fwd = IP_VS_CONN_F_MASQ;
}

static int sync_dest(struct ipvs_drv *d, struct ipvs_nl *nl, const char *lb,
		     const struct ipvs_svc *s, const struct ipvs_dest *want,
		     const struct ipvs_dest *have, unsigned flags)
{
	char who[64];
	int r = 0;

	snprintf(who, sizeof(who), "%s:%u", inet_ntoa(want->addr), want->port);
	if (have && have->weight == want->weight && (have->fwd & IP_VS_CONN_F_FWD_MASK) ==
	    IP_VS_CONN_F_MASQ)
		return 0;
	d->svc->change(d->ctx, "load balancer %s: %s %s:%u: %s member %s weight %u%s", lb,
		       proto_name(s->protocol), inet_ntoa(s->addr), s->port,
		       have ? "set" : "add", who, want->weight, !want->weight ? " (drained)" : "");
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = have ? ipvs_dest_set(nl, s, want) : ipvs_dest_add(nl, s, want);
	return r < 0 ? fail(d, lb, r, have ? "set destination of" : "add destination to", s) : 0;
}

static int drop_extra_dests(struct ipvs_drv *d, struct ipvs_nl *nl, const char *lb,
			    const struct ipvs_svc *s, const struct vxc_lb_listener *l,
			    const struct ipvs_dest *have, size_t n_have, unsigned flags)
{
	for (size_t i = 0; i < n_have; i++) {
		char member[INET_ADDRSTRLEN];
		size_t j = 0;
		int r;

		while (j < l->n_members && (l->members[j].addr.s_addr != have[i].addr.s_addr ||
					    l->members[j].port != have[i].port))
			j++;
		if (j < l->n_members)
			continue;
		inet_ntop(AF_INET, &have[i].addr, member, sizeof(member));
		d->svc->change(d->ctx, "load balancer %s: %s %s:%u: remove member %s:%u", lb,
			       proto_name(s->protocol), inet_ntoa(s->addr), s->port, member,
			       have[i].port);
		if (flags & VXC_F_DRY_RUN)
			continue;
		r = ipvs_dest_del(nl, s, &have[i]);
		if (r < 0 && r != -ENOENT)
			return fail(d, lb, r, "remove destination from", s);
	}
	return 0;
}

static const struct ipvs_dest *find_dest(const struct ipvs_dest *v, size_t n,
					 const struct ipvs_dest *key)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.s_addr == key->addr.s_addr && v[i].port == key->port)
			return &v[i];
	return NULL;
}

static int sync_dests(struct ipvs_drv *d, struct ipvs_nl *nl, const char *lb,
		      const struct ipvs_svc *s, const struct vxc_lb_listener *l, int exists,
		      unsigned flags)
{
	struct ipvs_dest *have = NULL, want;
	size_t n_have = 0;
	int r = exists ? ipvs_dests(nl, s, &have, &n_have) : 0;

	if (r < 0)
		return fail(d, lb, r, "list destinations of", s);
	r = drop_extra_dests(d, nl, lb, s, l, have, n_have, flags);
	for (size_t i = 0; r == 0 && i < l->n_members; i++) {
		want_dest(d, s, l, i, &want);
		r = sync_dest(d, nl, lb, s, &want, find_dest(have, n_have, &want), flags);
	}
	free(have);
	return r;
}

static int sync_service(struct ipvs_drv *d, struct ipvs_nl *nl, const struct vxc_lb *lb,
			const struct vxc_lb_listener *l, const struct ipvs_svc *have,
			unsigned flags)
{
	struct ipvs_svc want;
	int r = 0;

	want_service(lb, l, &want);
	if (!have || strcmp(have->sched, want.sched)) {
		d->svc->change(d->ctx, "load balancer %s: %s service %s %s:%u scheduler %s",
			       lb->name, have ? "set" : "add", proto_name(want.protocol),
			       inet_ntoa(want.addr), want.port, want.sched);
		if (!(flags & VXC_F_DRY_RUN))
			r = have ? ipvs_svc_set(nl, &want) : ipvs_svc_add(nl, &want);
		if (r < 0)
			return fail(d, lb->name, r, have ? "set service" : "add service", &want);
	}
	/* under dry run a service still to be made has no destinations to dump */
	return sync_dests(d, nl, lb->name, &want, l, have || !(flags & VXC_F_DRY_RUN), flags);
}

static int wanted(const struct vxc_lb *lb, const struct ipvs_svc *s)
{
	struct ipvs_svc w;

	for (size_t i = 0; i < lb->n_listeners; i++) {
		want_service(lb, &lb->listeners[i], &w);
		if (same_key(&w, s))
			return 1;
	}
	return 0;
}

/* Every service in the namespace is the balancer's: those no listener
 * names (an old VIP, a removed listener) go. */
static int drop_extra_services(struct ipvs_drv *d, struct ipvs_nl *nl, const struct vxc_lb *lb,
			       const struct ipvs_svc *have, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (wanted(lb, &have[i]))
			continue;
		d->svc->change(d->ctx, "load balancer %s: remove service %s %s:%u", lb->name,
			       proto_name(have[i].protocol), inet_ntoa(have[i].addr),
			       have[i].port);
		if (flags & VXC_F_DRY_RUN)
			continue;
		r = ipvs_svc_del(nl, &have[i]);
		if (r < 0 && r != -ENOENT)
			return fail(d, lb->name, r, "remove service", &have[i]);
	}
	return 0;
}

int ipvs_sync(struct ipvs_drv *d, struct ipvs_nl *nl, const struct vxc_lb *lb, unsigned flags)
{
	struct ipvs_svc *have = NULL, want;
	size_t n = 0;
	int r = nl ? ipvs_services(nl, &have, &n) : 0;

	if (r < 0)
		return d->svc->error(d->ctx, r, "IPVS: list services: %s",
				     strerror(-r));
	r = drop_extra_services(d, nl, lb, have, n, flags);
	for (size_t i = 0; r == 0 && i < lb->n_listeners; i++) {
		want_service(lb, &lb->listeners[i], &want);
		r = sync_service(d, nl, lb, &lb->listeners[i], find_svc(have, n, &want), flags);
	}
	free(have);
	return r;
}
