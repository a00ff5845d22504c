/* lb_ensure: namespace, VIP port, configuration, haproxy, in that order
 * (on copies on several hosts, lbha.h, haproxy binds the VIP the copy may
 * not hold, then keepalived).
 * A new configuration is checked by `haproxy -c` before it replaces the
 * running one; then weights and enabled flags go through the runtime API
 * (the worker stays), anything else through a seamless reload, and a dead
 * haproxy is started again. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

/* The candidate file, written and checked; renamed over cfg by commit(). */
static int stage(struct hap_drv *d, const char *lb, const struct hap_paths *p, const char *text)
{
	int r;

	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST)
		return d->svc->error(d->ctx, -errno, "load balancer %s: mkdir %s: %s", lb, p->dir,
				     strerror(errno));
	r = hap_write_file(p->next, text);
	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: write %s: %s", lb, p->next,
				     strerror(-r));
	r = hap_validate_file(d, lb, p->next);
	if (r < 0)
		unlink(p->next);
	return r;
}

static int commit(struct hap_drv *d, const char *lb, const struct hap_paths *p)
{
	if (rename(p->next, p->cfg) < 0)
		return d->svc->error(d->ctx, -errno, "load balancer %s: rename %s: %s", lb, p->next,
				     strerror(errno));
	return 0;
}

static int start(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
		 const char *text, int fd, const char *why, unsigned flags)
{
	int r;

	d->svc->change(d->ctx, "load balancer %s: start haproxy (%s)", lb->name, why);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = stage(d, lb->name, p, text);
	if (r == 0)
		r = commit(d, lb->name, p);
	if (r == 0)
		r = hap_sweep(d, lb->name, lb->netns, flags);
	return r < 0 ? r : hap_start(d, lb->name, fd, p);
}

static int reload(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
		  const char *text, unsigned flags)
{
	int r;

	d->svc->change(d->ctx, "load balancer %s: reload haproxy (configuration changed)",
		       lb->name);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = stage(d, lb->name, p, text);
	if (r == 0)
		r = commit(d, lb->name, p);
	return r < 0 ? r : hap_reload(d, lb->name, p);
}

/* Weights and enabled flags only: the runtime API, the worker stays. */
static int runtime_update(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
			  const char *text, const struct hap_diff *diff, unsigned flags)
{
	int r = 0;

	for (size_t i = 0; i < diff->n_srv; i++)
		d->svc->change(d->ctx, "load balancer %s: %s/%s weight %u, %s (runtime API, no "
			       "reload)", lb->name, diff->srv[i].backend, diff->srv[i].server,
			       diff->srv[i].weight, diff->srv[i].enabled ? "enabled" : "disabled");
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = stage(d, lb->name, p, text);
	for (size_t i = 0; r == 0 && i < diff->n_srv; i++)
		r = hap_set_server(d, lb->name, p, &diff->srv[i]);
	return r < 0 ? r : commit(d, lb->name, p);
}

struct srv_list {
	struct hap_srv_state *v;
	size_t n;
};

static int collect_srv(void *arg, const struct hap_srv_state *s)
{
	struct srv_list *l = arg;
	struct hap_srv_state *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *s;
	return 0;
}

static int push_srv(struct hap_diff *diff, const struct hap_srv_state *s)
{
	struct srv_list l = { diff->srv, diff->n_srv };
	int r = collect_srv(&l, s);

	diff->srv = l.v;
	diff->n_srv = l.n;
	return r;
}

static const struct hap_srv_state *find_srv(const struct srv_list *l,
					     const struct hap_srv_state *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].backend, s->backend) && !strcmp(l->v[i].server, s->server))
			return &l->v[i];
	return NULL;
}

/* The file is current, but the worker may hold other weights or states
 * (set by hand over the socket): those go into diff to be set back. A
 * server the worker lacks means it runs another file: reload. */
static int runtime_drift(struct hap_drv *d, const char *lb, const struct hap_paths *p,
			 const char *text, struct hap_diff *diff)
{
	struct srv_list have = { 0 }, want = { 0 };
	int r = hap_runtime_servers(d, p, collect_srv, &have);

	if (r < 0) {
		free(have.v);
		return d->svc->error(d->ctx, r, "load balancer %s: runtime API %s: show servers "
				     "state: %s", lb, p->stats, strerror(-r));
	}
	r = hap_cfg_servers(text, collect_srv, &want);
	for (size_t i = 0; r == 0 && i < want.n; i++) {
		const struct hap_srv_state *h = find_srv(&have, &want.v[i]);

		if (!h)
			diff->structural = 1;
		else if (h->weight != want.v[i].weight || h->enabled != want.v[i].enabled)
			r = push_srv(diff, &want.v[i]);
	}
	free(have.v);
	free(want.v);
	return r;
}

/* Running with a file: what differs from the new text, in the file or in
 * the worker, and the least that brings it over. */
static int update(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
		  const char *old, const char *text, unsigned flags)
{
	struct hap_diff diff;
	int r = hap_diff(old, text, &diff);

	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: out of memory", lb->name);
	if (!diff.structural && !diff.n_srv)
		r = runtime_drift(d, lb->name, p, text, &diff);
	if (r == 0 && diff.structural)
		r = reload(d, lb, p, text, flags);
	else if (r == 0 && diff.n_srv)
		r = runtime_update(d, lb, p, text, &diff, flags);
	hap_diff_free(&diff);
	return r;
}

static int ensure_haproxy(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
			  int fd, unsigned flags)
{
	char *text = NULL, *old = NULL;
	pid_t pid;
	int r;

	r = hap_render(d, lb, p, &text);
	if (r < 0)
		return r;
	if (hap_master_pid(d, p, &pid) < 0)
		r = start(d, lb, p, text, fd, pid ? "no longer running" : "not started yet", flags);
	else if (hap_read_file(p->cfg, &old) < 0)
		r = reload(d, lb, p, text, flags); /* its file went missing */
	else
		r = update(d, lb, p, old, text, flags);
	free(old);
	free(text);
	return r;
}

int hap_lb_ensure(void *priv, const struct vxc_lb *lb, unsigned flags)
{
	struct hap_drv *d = priv;
	struct hap_paths p;
	int fd = -1, r, announce = 0;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "lb_ensure: unknown flags 0x%x", flags);
	r = hap_check_lb(d, lb);
	if (r == 0)
		r = hap_paths(d, lb->name, &p);
	if (r == 0)
		r = lb_netns_ensure(d->ctx, d->svc, lb, flags, &fd);
	if (r == 0)
		r = lb_ha_before(d->ctx, d->svc, lb, &d->ha, fd, flags, &announce);
	if (r == 0)
		r = lb_vip_ensure(d->ctx, d->svc, lb, fd, flags);
	if (r == 0)
		r = ensure_haproxy(d, lb, &p, fd, flags);
	if (r == 0)
		r = lb_ha_after(d->ctx, d->svc, lb, &d->ha, fd, flags, announce);
	if (fd >= 0)
		close(fd);
	return r;
}
