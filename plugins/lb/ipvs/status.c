/* lb_status: what IPVS holds in the balancer's namespace, for `vxcloud
 * status`: each virtual service (scheduler, connections scheduled since it
 * was made) and each destination (weight, active and inactive connections,
 * drained at weight 0, or down when the health checker holds it there),
 * read over generic netlink as sync.c reads them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "driver.h"

typedef void (*line_cb)(void *arg, const char *line);

/* Why a destination is at weight 0. */
static const char *zero_why(const struct ipvs_targets *health, const struct ipvs_svc *s,
			    const struct ipvs_dest *dst)
{
	if (dst->weight)
		return "";
	return ipvs_health_is_down(health, s->addr, s->port, dst->addr, dst->port)
		       ? " (down: health check)" : " (drained)";
}

static void report_dests(struct ipvs_nl *nl, const struct ipvs_targets *health,
			 const struct ipvs_svc *s, const char *svc_name, line_cb cb, void *arg)
{
	struct ipvs_dest *v = NULL;
	size_t n = 0;
	char line[256], addr[INET_ADDRSTRLEN];
	int r = ipvs_dests(nl, s, &v, &n);

	if (r < 0) {
		snprintf(line, sizeof(line), "listener %s: destinations: %s", svc_name,
			 strerror(-r));
		cb(arg, line);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		inet_ntop(AF_INET, &v[i].addr, addr, sizeof(addr));
		snprintf(line, sizeof(line), "member %s:%u (%s): weight %u%s, %u active, "
			 "%u inactive connections", addr, v[i].port, svc_name, v[i].weight,
			 zero_why(health, s, &v[i]), v[i].active, v[i].inactive);
		cb(arg, line);
	}
	free(v);
}

static void report_services(struct ipvs_nl *nl, const struct ipvs_targets *health,
			    const char *netns, line_cb cb, void *arg)
{
	struct ipvs_svc *v = NULL;
	size_t n = 0;
	char line[256], name[64], addr[INET_ADDRSTRLEN];
	int r = ipvs_services(nl, &v, &n);

	if (r < 0) {
		snprintf(line, sizeof(line), "ipvs: netns %s: list services: %s", netns,
			 strerror(-r));
		cb(arg, line);
		return;
	}
	snprintf(line, sizeof(line), "ipvs: netns %s, %zu virtual service%s", netns, n,
		 n == 1 ? "" : "s");
	cb(arg, line);
	for (size_t i = 0; i < n; i++) {
		inet_ntop(AF_INET, &v[i].addr, addr, sizeof(addr));
		snprintf(name, sizeof(name), "%s %s:%u",
			 v[i].protocol == IPPROTO_UDP ? "udp" : "tcp", addr, v[i].port);
		snprintf(line, sizeof(line), "listener %s: scheduler %s, %u connections scheduled",
			 name, v[i].sched, v[i].conns);
		cb(arg, line);
		report_dests(nl, health, &v[i], name, cb, arg);
	}
	free(v);
}

/* Inside the namespace: IPVS's tables are per namespace. */
static int report_in_netns(struct ipvs_drv *d, const struct vxc_lb *lb,
			   const struct ipvs_targets *health, int fd, line_cb cb, void *arg)
{
	struct ipvs_nl *nl = NULL;
	char line[256];
	int saved, r = d->svc->netns_enter(d->ctx, fd, &saved);

	if (r < 0)
		return r;
	r = ipvs_nl_open(&nl);
	if (r < 0) {
		snprintf(line, sizeof(line), "ipvs: netns %s: IPVS netlink: %s", lb->netns,
			 strerror(-r));
		cb(arg, line);
	} else {
		report_services(nl, health, lb->netns, cb, arg);
		ipvs_nl_close(nl);
	}
	d->svc->netns_leave(d->ctx, saved);
	return 0;
}

int ipvs_lb_status(void *priv, const struct vxc_lb *lb, line_cb cb, void *arg)
{
	struct ipvs_drv *d = priv;
	struct ipvs_targets health;
	char line[256];
	int fd, r;

	if (!lb || !lb->name || !cb)
		return d->svc->error(d->ctx, -EINVAL, "lb_status: incomplete load balancer");
	fd = d->svc->netns_open(d->ctx, lb->netns);
	if (fd == -ENOENT) {
		snprintf(line, sizeof(line), "ipvs: netns %s absent", lb->netns);
		cb(arg, line);
		return 0;
	}
	if (fd < 0)
		return fd;
	/* the checker's findings, read here: the namespace changes only the network */
	if (ipvs_health_targets(lb, &health) < 0 || ipvs_health_read_down(d, lb->name, &health) < 0)
		ipvs_targets_free(&health);
	lb_ha_status(d->ctx, d->svc, lb, fd, cb, arg);
	r = report_in_netns(d, lb, &health, fd, cb, arg);
	ipvs_targets_free(&health);
	close(fd);
	if (r == 0)
		ipvs_checker_status(d, lb, cb, arg);
	return r;
}
