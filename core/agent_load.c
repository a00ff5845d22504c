/* The agent's configuration: the node config and its drivers (opened once,
 * swapped whole on SIGHUP) and the spec (the last good one is kept when a
 * new one is refused). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "etcd.h"
#include "util.h"

static void log_diag(const char *what, const struct vxc_diag *d)
{
	agent_log("%s:", what);
	for (size_t i = 0; i < d->n; i++)
		agent_log("  %s", d->msgs[i]);
}

/* The first problem and how many more: what the status shows. */
static char *diag_summary(const struct vxc_diag *d, int err)
{
	if (!d->n)
		return vxc_xasprintf("%s", strerror(err < 0 ? -err : EINVAL));
	if (d->n == 1)
		return vxc_xstrdup(d->msgs[0]);
	return vxc_xasprintf("%s (and %zu more)", d->msgs[0], d->n - 1);
}

static struct vxc_nodeconf *load_nodeconf(const struct agent_opts *o, struct vxc_diag *d)
{
	struct vxc_nodeconf *nc = vxc_xcalloc(1, sizeof(*nc));
	const char *path = o->config;

	if (!path && access(VXC_DEFAULT_CONFIG, F_OK) == 0)
		path = VXC_DEFAULT_CONFIG;
	if (path && vxc_nodeconf_load(nc, path, d) < 0) {
		vxc_nodeconf_free(nc);
		free(nc);
		return NULL;
	}
	if (!path) {
		vxc_nodeconf_init(nc);
		nc->path = vxc_xstrdup(VXC_DEFAULT_CONFIG " (absent: defaults)");
	}
	if (o->host) {
		free(nc->host);
		nc->host = vxc_xstrdup(o->host);
	}
	if (o->spec)
		nc->spec = o->spec;
	if (o->verbose)
		nc->log_level = VXC_LOG_INFO + (o->verbose > 1);
	return nc;
}

static void free_nodeconf(struct vxc_nodeconf *nc)
{
	if (nc) {
		vxc_nodeconf_free(nc);
		free(nc);
	}
}

static struct vxc_engine *open_engine(struct agent *a, struct vxc_nodeconf *nc,
				      struct vxc_diag *d)
{
	struct vxc_engine *e = vxc_xcalloc(1, sizeof(*e));

	if (vxc_engine_open(e, nc, &a->changes, d) < 0) {
		vxc_engine_close(e);
		free(e);
		return NULL;
	}
	for (size_t i = 0; i < e->n_drivers; i++) {
		e->drivers[i]->ctx.on_spawn = agent_procs_spawned;
		e->drivers[i]->ctx.on_spawn_arg = a;
	}
	return e;
}

static void close_engine(struct vxc_engine *e)
{
	if (e) {
		vxc_engine_close(e);
		free(e);
	}
}

/* Spec and plan for nc's host, checked against engine e's drivers. The
 * spec is the file nc names, or text from etcd (named `name` in messages). */
static int load_plan(const struct vxc_nodeconf *nc, const struct vxc_engine *e,
		     const char *text, const char *name, struct vxc_spec **spec,
		     struct vxc_plan **plan, struct vxc_diag *d)
{
	int r = text ? vxc_spec_load_buffer(text, name, spec, d)
		     : vxc_spec_load_file(nc->spec, spec, d);

	if (r == 0)
		r = vxc_plan_build(*spec, nc->host, plan, d);
	if (r == 0)
		r = vxc_engine_check_plan(e, *plan, d);
	if (r < 0) {
		vxc_plan_free(*plan);
		vxc_spec_free(*spec);
		*plan = NULL;
		*spec = NULL;
	}
	return r;
}

static void take_plan(struct agent *a, struct vxc_spec *spec, struct vxc_plan *plan)
{
	vxc_plan_free(a->plan);
	vxc_spec_free(a->spec);
	a->spec = spec;
	a->plan = plan;
	a->spec_generation++;
	free(a->spec_error);
	a->spec_error = NULL;
}

int agent_open(struct agent *a)
{
	struct vxc_diag d;
	int r = -EINVAL;

	vxc_diag_init(&d);
	a->nc = load_nodeconf(&a->opt, &d);
	if (!a->nc)
		log_diag("invalid node config; nothing was changed", &d);
	else if (!(a->engine = open_engine(a, a->nc, &d)))
		log_diag("cannot use the configured drivers; nothing was changed", &d);
	else
		r = 0;
	vxc_diag_free(&d);
	if (r == 0) {
		a->spec_path = agent_spec_in_store(a)
				       ? vxc_xasprintf("etcd:%sspec", a->nc->etcd->prefix)
				       : vxc_xstrdup(a->nc->spec);
		agent_log("host %s: node config %s, spec %s", a->nc->host, a->nc->path,
			  a->spec_path);
	}
	return r;
}

/* The spec text from etcd and its name in messages: "etcd:
 * /vxcloud/spec@12", as the CLI names it. NULL text: the spec is a file. */
static const char *store_text(const struct agent *a, char **name)
{
	*name = NULL;
	if (!agent_spec_in_store(a) || !a->store_text)
		return NULL;
	*name = vxc_xasprintf("%s@%lld", a->spec_path, (long long)a->store_rev_seen);
	return a->store_text;
}

/* A refused spec changes nothing: the host keeps the last good one. */
int agent_load_spec(struct agent *a)
{
	struct vxc_spec *spec = NULL;
	struct vxc_plan *plan = NULL;
	int64_t t0 = agent_now_us();
	struct vxc_diag d;
	char *name;
	const char *text = store_text(a, &name);
	int r;

	if (agent_spec_in_store(a) && !text)
		return 0; /* no spec in the store yet */
	vxc_diag_init(&d);
	r = load_plan(a->nc, a->engine, text, name, &spec, &plan, &d);
	if (r < 0) {
		free(a->spec_error);
		a->spec_error = diag_summary(&d, r);
		log_diag(a->spec ? "spec refused; keeping the last good one, nothing changes"
				 : "spec refused; waiting for a valid one, nothing changes",
			 &d);
	} else {
		take_plan(a, spec, plan);
		a->store_rev_plan = a->store_rev_seen;
		a->spec_load_us = agent_now_us() - t0;
		agent_log("spec %s: generation %u accepted (read, validated and planned in %.1f ms)",
			  name ? name : a->spec_path, a->spec_generation,
			  (double)a->spec_load_us / 1000.0);
		agent_objs_rebuild(a);
		agent_mark_full(a, a->spec_generation == 1 ? CAUSE_START : CAUSE_SPEC,
				a->spec_generation == 1 ? "agent started" : "spec changed");
	}
	vxc_diag_free(&d);
	free(name);
	return r;
}

/* New etcd settings (endpoints, credentials, prefix, timeouts): the
 * threads reconnect with them. The spec last read stays until the new
 * watch delivers one, so nothing on the host changes meanwhile. */
static void restart_store(struct agent *a)
{
	free(a->spec_path);
	a->spec_path = vxc_xasprintf("etcd:%sspec", a->nc->etcd->prefix);
	agent_log("reload: the etcd settings changed; reconnecting with them");
	agent_store_stop(a);
	free(a->store_sig); /* the next status document goes to the new store */
	a->store_sig = NULL;
	if (agent_store_start(a) < 0)
		agent_log("reload: etcd: the store is unreachable until vxcloudd restarts");
}

/* SIGHUP: a new node config and drivers (say nat = "iptables" instead of
 * "nftables") replace the old ones only when they load and can serve the
 * spec; the next full pass then moves the host over, the replaced driver's
 * objects going as in `vxcloud apply`. */
int agent_reload(struct agent *a)
{
	struct vxc_nodeconf *nc;
	struct vxc_engine *e = NULL;
	struct vxc_spec *spec = NULL;
	struct vxc_plan *plan = NULL;
	struct vxc_diag d;
	char *name;
	const char *text = store_text(a, &name);
	int r = -EINVAL, same_store;

	vxc_diag_init(&d);
	nc = load_nodeconf(&a->opt, &d);
	if (!nc)
		log_diag("reload: invalid node config; keeping the running one", &d);
	else if (!nc->etcd != !a->nc->etcd)
		agent_log("reload: the node config moves the spec between a file and etcd; "
			  "that needs a restart of vxcloudd; keeping the running config");
	else if (agent_spec_in_store(a) && !text)
		agent_log("reload: no spec from etcd yet; keeping the running config");
	else if (!(e = open_engine(a, nc, &d)))
		log_diag("reload: cannot use the configured drivers; keeping the running ones", &d);
	else if (load_plan(nc, e, text, name, &spec, &plan, &d) < 0)
		log_diag("reload: the spec does not fit the new node config; keeping the running "
			 "one",
			 &d);
	else
		r = 0;
	vxc_diag_free(&d);
	free(name);
	if (r < 0) {
		close_engine(e);
		free_nodeconf(nc);
		return r;
	}
	agent_engines_fini(a); /* the streams belong to the drivers closed here */
	close_engine(a->engine);
	same_store = vxc_etcd_conf_same(a->nc->etcd, nc->etcd);
	free_nodeconf(a->nc);
	a->engine = e;
	a->nc = nc;
	if (!same_store)
		restart_store(a);
	take_plan(a, spec, plan);
	a->store_rev_plan = a->store_rev_seen;
	if (!agent_spec_in_store(a)) {
		free(a->spec_path);
		a->spec_path = vxc_xstrdup(nc->spec);
	}
	agent_log("reload: node config %s; spec generation %u", nc->path, a->spec_generation);
	agent_objs_rebuild(a);
	agent_mark_full(a, CAUSE_RELOAD, "node config reloaded");
	return 0;
}

void agent_close(struct agent *a)
{
	vxc_plan_free(a->plan);
	vxc_spec_free(a->spec);
	close_engine(a->engine);
	free_nodeconf(a->nc);
	vxc_changes_free(&a->changes);
	agent_objs_free(a);
	free(a->spec_path);
	free(a->spec_error);
	free(a->store_text);
	free(a->store_sig);
	free(a->full_why);
	free(a->last.why);
	free(a->last.error);
}
