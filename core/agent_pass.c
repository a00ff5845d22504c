/* One pass of the agent: under the host lock (the one `vxcloud apply`
 * takes, so agent and CLI never change the host at the same time), either
 * the whole host (start, spec or node config change, periodic) or only the
 * objects events marked, each object's outcome kept for the status. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "lock.h"
#include "util.h"

#define LOCK_RETRY_MS 50
#define LOCK_RETRY_MAX_MS 1000

struct pass {
	struct agent *a;
	int full;
	int64_t now;
	enum agent_cause cause;
	char *why;
	unsigned objects, changes, failed;
};

static int wants(void *arg, enum vxc_kind kind, const char *name)
{
	struct pass *p = arg;
	struct agent_obj *o;

	if (p->full)
		return 1;
	o = agent_obj_find(p->a, kind, name);
	return o && agent_obj_ready(o, p->now);
}

/* Changes a pass made that no spec or node config change asked for. */
static int is_repair(const struct pass *p)
{
	return !p->full || p->cause >= CAUSE_DRIFT;
}

static void log_changes(struct agent *a, const struct pass *p, const char *why)
{
	for (; a->printed < a->changes.n; a->printed++)
		agent_log("%s (%s): %s: %s", is_repair(p) ? "repair" : "change", why,
			  a->changes.v[a->printed].driver, a->changes.v[a->printed].what);
}

static void done(void *arg, enum vxc_kind kind, const char *name, int rc, const char *error,
		 size_t n_changes)
{
	struct pass *p = arg;
	struct agent *a = p->a;
	struct agent_obj *o = agent_obj_find(a, kind, name);

	if (!o)
		return;
	log_changes(a, p, p->full || !o->dirty_cause ? p->why : o->dirty_cause);
	o->dirty = 0;
	o->engine_wait_ms = 0;
	p->objects++;
	if (n_changes) {
		o->echo_pass = a->passes;
		if (is_repair(p)) {
			o->repairs += (unsigned)n_changes;
			agent_obj_repaired(a, o);
		} else
			o->changes += (unsigned)n_changes;
	}
	if (rc < 0) {
		p->failed++;
		agent_obj_failed(a, o, error);
	} else {
		agent_obj_succeeded(a, o);
	}
}

/* What started a pass limited to marked objects: the first mark. */
static char *scoped_why(const struct agent *a, int64_t now)
{
	const char *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < a->n_objs; i++)
		if (agent_obj_ready(&a->objs[i], now)) {
			if (!first)
				first = a->objs[i].dirty_cause ? a->objs[i].dirty_cause : "drift";
			n++;
		}
	if (!n)
		return NULL;
	return n == 1 ? vxc_xstrdup(first)
		      : vxc_xasprintf("%s (and %zu more object%s)", first, n - 1,
				      n == 2 ? "" : "s");
}

static void record(struct agent *a, const struct pass *p, int r, int64_t t0)
{
	a->last.cause = p->cause;
	free(a->last.why);
	a->last.why = vxc_xstrdup(p->why);
	a->last.at_ms = agent_now_ms();
	a->last.duration_us = agent_now_us() - t0;
	a->last.changes = (unsigned)a->changes.n;
	a->last.objects = p->objects;
	a->last.full = p->full;
	free(a->last.error);
	a->last.error = r < 0 ? vxc_xstrdup(a->engine->error ? a->engine->error : strerror(-r))
			      : NULL;
	if (is_repair(p))
		a->total_repairs += (unsigned)a->changes.n;
	else
		a->total_changes += (unsigned)a->changes.n;
	if (a->changes.n || a->opt.verbose || r < 0)
		agent_log("pass %u (%s: %s): %s%u object%s checked, %zu change%s, %.1f ms%s%s",
			  a->passes, agent_cause_name(p->cause), p->why, p->full ? "full, " : "",
			  p->objects, p->objects == 1 ? "" : "s", a->changes.n,
			  a->changes.n == 1 ? "" : "s", (double)a->last.duration_us / 1000.0,
			  r < 0 ? "; failed: " : "", r < 0 ? a->last.error : "");
}

/* A failure outside any object (listing what the host holds, removing
 * what is no longer wanted) makes the whole pass come again, backing off. */
static void full_failed(struct agent *a, const struct pass *p)
{
	int64_t ms = AGENT_RETRY_FIRST_MS;

	a->full_failures++;
	a->total_errors++;
	for (unsigned i = 1; i < a->full_failures && ms < AGENT_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > AGENT_RETRY_MAX_MS)
		ms = AGENT_RETRY_MAX_MS;
	a->full_dirty = 1;
	a->full_cause = p->cause;
	free(a->full_why);
	a->full_why = vxc_xstrdup(p->why);
	agent_schedule(a, agent_now_ms() + ms);
}

static void run_pass(struct agent *a, int full)
{
	struct pass p = { .a = a, .full = full, .now = agent_now_ms() };
	struct vxc_engine_scope scope = { wants, done, &p, !full };
	int64_t t0 = agent_now_us();
	int r;

	p.cause = full ? a->full_cause : CAUSE_DRIFT;
	p.why = full ? vxc_xstrdup(a->full_why ? a->full_why : "full pass") : scoped_why(a, p.now);
	a->full_dirty = 0;
	a->passes++;
	vxc_changes_free(&a->changes);
	a->printed = 0;
	a->engine->scope = &scope;
	r = vxc_engine_reconcile(a->engine, a->plan, 0);
	a->engine->scope = NULL;
	log_changes(a, &p, p.why);
	record(a, &p, r, t0);
	if (full && r == 0) {
		vxc_engine_save_roles(a->engine);
		a->full_failures = 0;
	}
	if (r < 0 && !p.failed)
		full_failed(a, &p);
	if (full)
		a->periodic_at_ms = agent_now_ms() + (int64_t)a->opt.interval_s * 1000;
	free(p.why);
}

static int any_ready(const struct agent *a, int64_t now)
{
	for (size_t i = 0; i < a->n_objs; i++)
		if (agent_obj_ready(&a->objs[i], now))
			return 1;
	return 0;
}

/* The CLI's lock (core/lock.c), held only for the pass, so a `vxcloud
 * apply` waits for at most one pass. While another run holds it the pass
 * waits, asking again at a slowing pace (the lock says so each time). */
static int locked_pass(struct agent *a, int full)
{
	int fd = vxc_lock_acquire(a->nc->state_dir, 1);

	if (fd == -EWOULDBLOCK) {
		if (!a->lock_busy)
			agent_log("another vxcloud run holds the lock of %s; the pass waits for it",
				  a->nc->state_dir);
		a->lock_busy = a->lock_busy ? a->lock_busy * 2 : LOCK_RETRY_MS;
		if (a->lock_busy > LOCK_RETRY_MAX_MS)
			a->lock_busy = LOCK_RETRY_MAX_MS;
		agent_schedule(a, agent_now_ms() + a->lock_busy);
		return fd;
	}
	if (fd < 0) {
		agent_log("error: cannot take the lock of %s: %s", a->nc->state_dir,
			  strerror(-fd));
		agent_schedule(a, agent_now_ms() + AGENT_RETRY_MAX_MS);
		return fd;
	}
	a->lock_busy = 0;
	run_pass(a, full);
	vxc_lock_release(fd);
	return 0;
}

/* Called from the loop whenever something may be due. */
void agent_run_due(struct agent *a)
{
	int64_t now = agent_now_ms();

	if (a->plan && a->periodic_at_ms && now >= a->periodic_at_ms) {
		a->periodic_at_ms = 0;
		agent_mark_full(a, CAUSE_PERIODIC, "periodic full pass");
	}
	if (!a->due_ms || now < a->due_ms)
		return;
	a->due_ms = 0;
	if (a->reload_dirty) {
		a->reload_dirty = 0;
		agent_reload(a);
	}
	if (a->spec_dirty) {
		a->spec_dirty = 0;
		agent_load_spec(a);
	}
	if (!a->plan)
		return; /* no good spec yet: nothing is touched */
	agent_objs_retry_due(a, now);
	if ((!a->full_dirty && !any_ready(a, now)) || locked_pass(a, a->full_dirty) < 0) {
		agent_objs_retry_due(a, now); /* wakes up for held objects */
		return;
	}
	agent_watch_sync(a);
	agent_procs_sync(a);
	/* What the pass itself changed comes back as events: read them now,
	 * so they are told apart from drift (agent_mark). */
	a->in_echo = 1;
	agent_watch_drain(a);
	agent_engines_drain(a);
	a->in_echo = 0;
	agent_objs_retry_due(a, agent_now_ms());
}
