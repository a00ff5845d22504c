/* What compute engines report: a driver with events_open (ABI 1.6; the
 * docker driver streams Docker's events) hands the agent a descriptor to
 * poll, and names the instance each event concerns. A container restarted
 * by its engine comes back in a new network namespace without its NIC; the
 * event makes a pass for that instance at once instead of at the periodic
 * pass. A stream that ends (the engine stopped or restarted) is opened
 * again at a slowing pace; events may have been missed meanwhile, so every
 * instance of that driver is checked once it is back.
 *
 * Such an engine's restart also deletes the NIC's host end (the old
 * namespace goes) before the container runs again: a pass on that netlink
 * event alone could find the container stopped and start it under the
 * engine's own restart. So while the stream is open, a kernel event about
 * such an instance waits up to AGENT_ENGINE_WAIT_MS for the engine's
 * event, which then starts the pass at once; without one (someone deleted
 * the link) the pass runs when the wait ends. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vxcloud/compute.h>

#include "agent.h"
#include "util.h"

#define REOPEN_FIRST_MS 100
#define REOPEN_MAX_MS 5000

static const struct vxc_compute_ops *events_ops(const struct vxc_driver *drv)
{
	const struct vxc_compute_ops *ops = drv->desc->ops;

	if (drv->desc->concern != VXC_CONCERN_COMPUTE ||
	    ops->size < offsetof(struct vxc_compute_ops, events_read) + sizeof(void *))
		return NULL;
	return ops->events_open && ops->events_read ? ops : NULL;
}

static struct agent_src *find(const struct agent *a, const struct vxc_driver *drv)
{
	for (size_t i = 0; i < a->n_engines; i++)
		if (a->engines[i]->drv == drv)
			return a->engines[i];
	return NULL;
}

static void add(struct agent *a, struct vxc_driver *drv)
{
	struct agent_src *s = vxc_xcalloc(1, sizeof(*s));

	s->type = SRC_ENGINE;
	s->fd = -1;
	s->drv = drv;
	a->engines = vxc_xrealloc(a->engines, (a->n_engines + 1) * sizeof(*a->engines));
	a->engines[a->n_engines++] = s;
}

static const struct vxc_driver *driver_of(const struct agent *a, const struct vxc_instance *in)
{
	return a->engine->role[in->kind == VXC_INSTANCE_VM ? VXC_ROLE_VM : VXC_ROLE_CONTAINER];
}

/* A stream is kept only while the plan has an instance for its driver:
 * an engine that serves nothing here need not even run. */
static int serves_any(const struct agent *a, const struct vxc_driver *drv)
{
	for (size_t i = 0; a->plan && i < a->plan->n_instances; i++)
		if (driver_of(a, a->plan->instances[i]) == drv)
			return 1;
	return 0;
}

static void drop(struct agent *a, size_t i)
{
	agent_unwatch(a, a->engines[i]);
	free(a->engines[i]);
	a->engines[i] = a->engines[--a->n_engines];
}

/* Every instance the driver serves: after a gap in its events. */
static void mark_all(struct agent *a, const struct vxc_driver *drv, const char *why)
{
	for (size_t i = 0; a->plan && i < a->plan->n_instances; i++)
		if (driver_of(a, a->plan->instances[i]) == drv)
			agent_mark(a, VXC_KIND_INSTANCE, a->plan->instances[i]->name, why);
}

static void lost(struct agent_src *s, int64_t now)
{
	s->reopen_ms = s->reopen_ms ? s->reopen_ms * 2 : REOPEN_FIRST_MS;
	if (s->reopen_ms > REOPEN_MAX_MS)
		s->reopen_ms = REOPEN_MAX_MS;
	s->retry_at_ms = now + s->reopen_ms;
	s->lost = 1;
}

static void open_stream(struct agent *a, struct agent_src *s, int64_t now)
{
	const char *name = s->drv->desc->name;
	char why[128];
	int fd;

	vxc_ctx_reset(&s->drv->ctx);
	fd = events_ops(s->drv)->events_open(s->drv->priv);
	if (fd < 0) {
		if (!s->lost)
			agent_log("error: %s: cannot follow the engine's events: %s; trying again "
				  "at a slowing pace", name,
				  s->drv->ctx.errmsg ? s->drv->ctx.errmsg : strerror(-fd));
		lost(s, now);
		agent_schedule(a, s->retry_at_ms);
		return;
	}
	s->fd = fd;
	if (agent_watch_fd(a, s) < 0) {
		agent_unwatch(a, s);
		lost(s, now);
		agent_schedule(a, s->retry_at_ms);
		return;
	}
	s->reopen_ms = 0;
	if (s->lost) {
		agent_log("%s: following the engine's events again", name);
		snprintf(why, sizeof(why), "%s: events may have been missed", name);
		mark_all(a, s->drv, why);
	} else if (a->opt.verbose) {
		agent_log("%s: following the engine's events", name);
	}
	s->lost = 0;
}

/* Called on every turn of the loop: a stream for each compute driver that
 * offers one and serves an instance of the plan, (re)opened when due.
 * Cheap when nothing is due. */
void agent_engines_sync(struct agent *a)
{
	int64_t now = agent_now_ms();

	if (!a->plan || !a->engine)
		return;
	for (size_t i = a->n_engines; i-- > 0;)
		if (!serves_any(a, a->engines[i]->drv))
			drop(a, i);
	for (int r = 0; r < VXC_ROLE_COUNT; r++) {
		struct vxc_driver *drv = a->engine->role[r];

		if (drv && events_ops(drv) && !find(a, drv) && serves_any(a, drv))
			add(a, drv);
	}
	for (size_t i = 0; i < a->n_engines; i++) {
		struct agent_src *s = a->engines[i];

		if (s->fd < 0 && s->retry_at_ms <= now)
			open_stream(a, s, now);
		else if (s->fd < 0)
			agent_schedule(a, s->retry_at_ms);
	}
}

/* 1 when the instance's driver streams its engine's events and the stream
 * is open: kernel events about the instance then wait a little for the
 * engine's (agent_mark). */
int agent_engines_follow(const struct agent *a, const char *instance)
{
	for (size_t i = 0; a->plan && i < a->plan->n_instances; i++) {
		const struct vxc_instance *in = a->plan->instances[i];
		const struct agent_src *s;

		if (strcmp(in->name, instance))
			continue;
		s = find(a, driver_of(a, in));
		return s && s->fd >= 0;
	}
	return 0;
}

static void on_event(void *arg, const char *instance, const char *what)
{
	struct agent *a = arg;
	struct agent_obj *o = agent_obj_find(a, VXC_KIND_INSTANCE, instance);
	int waiting = o && o->dirty && o->engine_wait_ms;

	/* Logged even when the instance is marked already (a restart also
	 * deletes its NIC's host end: the netlink event often comes first). */
	if (a->opt.verbose)
		agent_log("instance %s: engine event: %s", instance, what);
	agent_mark(a, VXC_KIND_INSTANCE, instance, what);
	if (!o || !o->dirty)
		return; /* an echo of the agent's own pass */
	if (waiting) {
		/* The engine has spoken: the pass goes now, for this reason. */
		char *why = vxc_xasprintf("%s (after %s)", what, o->dirty_cause);

		free(o->dirty_cause);
		o->dirty_cause = why;
	}
	o->engine_wait_ms = 0;
	agent_schedule(a, agent_now_ms() + AGENT_DEBOUNCE_MS);
}

void agent_engines_read(struct agent *a, struct agent_src *s)
{
	int r;

	if (s->fd < 0)
		return;
	vxc_ctx_reset(&s->drv->ctx);
	r = events_ops(s->drv)->events_read(s->drv->priv, s->fd, on_event, a);
	if (r == 0)
		return;
	agent_log("%s: the engine's event stream ended (%s); opening it again",
		  s->drv->desc->name, s->drv->ctx.errmsg ? s->drv->ctx.errmsg : strerror(-r));
	agent_unwatch(a, s);
	lost(s, agent_now_ms());
	agent_schedule(a, s->retry_at_ms);
}

void agent_engines_drain(struct agent *a)
{
	for (size_t i = 0; i < a->n_engines; i++)
		agent_engines_read(a, a->engines[i]);
}

/* Before the drivers close (SIGHUP swaps them, or the agent stops). */
void agent_engines_fini(struct agent *a)
{
	while (a->n_engines)
		drop(a, a->n_engines - 1);
	free(a->engines);
	a->engines = NULL;
	a->n_engines = 0;
}
