/* The haproxy configuration of a load balancer, as text. Deterministic:
 * the same model gives the same bytes, so comparing texts tells whether
 * anything changed. Only validated values reach it (check.c). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"

static const char *const modes[] = { [VXC_LB_TCP] = "tcp", [VXC_LB_HTTP] = "http" };

/* source hashes consistently so weights can change at run time (a map
 * based hash only takes 0 or the configured weight without a reload). */
static const char *const balances[] = {
	[VXC_LB_ROUNDROBIN] = "roundrobin",
	[VXC_LB_LEASTCONN] = "leastconn",
	[VXC_LB_SOURCE] = "source\n    hash-type consistent",
};

void hap_server_name(const struct vxc_lb_member *m, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &m->addr, ip, sizeof(ip));
	snprintf(buf, len, "m-%s-%u", ip, (unsigned)m->port);
}

static int member_enabled(const struct vxc_lb_listener *l, size_t i)
{
	const struct vxc_lb_listener_ext *x = l->ext;

	return !x || x->size < sizeof(*x) || !x->member_enabled || x->member_enabled[i];
}

static void render_global(FILE *f, const struct vxc_lb *lb, const struct hap_paths *p)
{
	fprintf(f, "# vxcloud lb/haproxy: load balancer %s. Generated; edits are overwritten.\n",
		lb->name);
	fprintf(f, "global\n");
	fprintf(f, "    master-worker\n");
	/* expose-fd listeners: a reload hands the listening sockets over to
	 * the new worker, so no connection is refused meanwhile. */
	fprintf(f, "    stats socket %s mode 600 level admin expose-fd listeners\n", p->stats);
	fprintf(f, "    stats timeout 30s\n");
}

static void render_frontend(FILE *f, const struct vxc_lb *lb, const struct vxc_lb_listener *l)
{
	char vip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &lb->port->addr, vip, sizeof(vip));
	fprintf(f, "\nfrontend fe-%u\n", (unsigned)l->port);
	fprintf(f, "    mode %s\n", modes[l->protocol]);
	fprintf(f, "    bind %s:%u\n", vip, (unsigned)l->port);
	fprintf(f, "    maxconn %u\n", l->maxconn);
	fprintf(f, "    timeout client %ums\n", l->timeout_client_ms);
	if (l->protocol == VXC_LB_HTTP)
		fprintf(f, "    option forwardfor\n");
	fprintf(f, "    default_backend be-%u\n", (unsigned)l->port);
}

static void render_health(FILE *f, const struct vxc_lb_listener *l)
{
	const struct vxc_lb_health *h = &l->health;
	const struct vxc_lb_listener_ext *x = l->ext;
	unsigned status = x && x->size >= sizeof(*x) ? x->http_status : 0;

	if (!h->enabled)
		return;
	if (h->http_path) {
		fprintf(f, "    option httpchk GET %s\n", h->http_path);
		if (status)
			fprintf(f, "    http-check expect status %u\n", status);
	}
	fprintf(f, "    timeout check %ums\n", h->timeout_ms);
	fprintf(f, "    default-server inter %ums rise %u fall %u\n", h->interval_ms, h->rise,
		h->fall);
}

static void render_backend(FILE *f, const struct vxc_lb_listener *l)
{
	fprintf(f, "\nbackend be-%u\n", (unsigned)l->port);
	fprintf(f, "    mode %s\n", modes[l->protocol]);
	fprintf(f, "    balance %s\n", balances[l->algorithm]);
	fprintf(f, "    retries %u\n", l->retries);
	fprintf(f, "    option redispatch\n");
	fprintf(f, "    timeout connect %ums\n", l->timeout_connect_ms);
	fprintf(f, "    timeout server %ums\n", l->timeout_server_ms);
	render_health(f, l);
	for (size_t i = 0; i < l->n_members; i++) {
		const struct vxc_lb_member *m = &l->members[i];
		char name[48], ip[INET_ADDRSTRLEN];

		hap_server_name(m, name, sizeof(name));
		inet_ntop(AF_INET, &m->addr, ip, sizeof(ip));
		fprintf(f, "    server %s %s:%u weight %u%s%s\n", name, ip, (unsigned)m->port,
			m->weight, l->health.enabled ? " check" : "",
			member_enabled(l, i) ? "" : " disabled");
	}
}

int hap_render(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
	       char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f)
		return d->svc->error(d->ctx, -ENOMEM, "load balancer %s: out of memory", lb->name);
	render_global(f, lb, p);
	for (size_t i = 0; i < lb->n_listeners; i++) {
		render_frontend(f, lb, &lb->listeners[i]);
		render_backend(f, &lb->listeners[i]);
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return d->svc->error(d->ctx, -ENOMEM, "load balancer %s: out of memory", lb->name);
	}
	return 0;
}
