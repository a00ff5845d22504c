/* The objects the plan wants on this host, what the agent knows of each
 * (state, changes, repairs, errors) and which of them the next pass checks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

static const char *const cause_names[] = {
	[CAUSE_NONE] = "none",     [CAUSE_START] = "start", [CAUSE_SPEC] = "spec",
	[CAUSE_RELOAD] = "reload", [CAUSE_DRIFT] = "drift", [CAUSE_PERIODIC] = "periodic",
};

const char *agent_cause_name(enum agent_cause c)
{
	return c <= CAUSE_PERIODIC ? cause_names[c] : "?";
}

struct agent_obj *agent_obj_find(struct agent *a, enum vxc_kind kind, const char *name)
{
	for (size_t i = 0; i < a->n_objs; i++)
		if (a->objs[i].kind == kind && !strcmp(a->objs[i].name, name))
			return &a->objs[i];
	return NULL;
}

static const char *driver_for(const struct agent *a, enum vxc_kind kind, const void *inst)
{
	const struct vxc_driver *d = a->engine->role[VXC_ROLE_NETWORK];
	const struct vxc_instance *in = inst;

	if (kind == VXC_KIND_NAT)
		d = a->engine->role[VXC_ROLE_NAT];
	else if (kind == VXC_KIND_LB)
		d = a->engine->role[VXC_ROLE_LB];
	else if (kind == VXC_KIND_INSTANCE)
		d = a->engine->role[in->kind == VXC_INSTANCE_VM ? VXC_ROLE_VM : VXC_ROLE_CONTAINER];
	return d ? d->desc->name : "-";
}

static void obj_free(struct agent_obj *o)
{
	free(o->name);
	free(o->error);
	free(o->dirty_cause);
}

static void add(struct agent_obj **v, size_t *n, const struct agent_obj *old, size_t n_old,
		enum vxc_kind kind, const char *name, const char *driver)
{
	struct agent_obj *o;

	*v = vxc_xrealloc(*v, (*n + 1) * sizeof(**v));
	o = &(*v)[(*n)++];
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n_old; i++)
		if (old[i].kind == kind && !strcmp(old[i].name, name)) {
			*o = old[i]; /* keeps its counters; moves its strings */
			memset((void *)&old[i], 0, sizeof(old[i]));
			break;
		}
	if (!o->name)
		o->name = vxc_xstrdup(name);
	o->kind = kind;
	o->driver = driver;
	/* A new plan may have fixed what failed: try again. */
	if (o->state == OBJ_GAVE_UP || o->state == OBJ_RETRYING)
		o->failures = 0;
}

/* After a new plan or new drivers: one entry per wanted object, in the
 * engine's order, keeping what was known of objects still wanted. */
void agent_objs_rebuild(struct agent *a)
{
	const struct vxc_plan *p = a->plan;
	struct agent_obj *v = NULL;
	size_t n = 0;

	if (p->provider)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_PROVIDER, "provider",
		    driver_for(a, VXC_KIND_PROVIDER, NULL));
	for (size_t i = 0; i < p->n_networks; i++)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_NETWORK, p->networks[i].net->name,
		    driver_for(a, VXC_KIND_NETWORK, NULL));
	for (size_t i = 0; i < p->n_routers; i++)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_ROUTER, p->routers[i]->name,
		    driver_for(a, VXC_KIND_ROUTER, NULL));
	for (size_t i = 0; a->engine->role[VXC_ROLE_NAT] && i < p->n_routers; i++)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_NAT, p->routers[i]->name,
		    driver_for(a, VXC_KIND_NAT, NULL));
	for (size_t i = 0; i < p->n_instances; i++)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_INSTANCE, p->instances[i]->name,
		    driver_for(a, VXC_KIND_INSTANCE, p->instances[i]));
	for (size_t i = 0; i < p->n_lbs; i++)
		add(&v, &n, a->objs, a->n_objs, VXC_KIND_LB, p->lbs[i]->name,
		    driver_for(a, VXC_KIND_LB, NULL));
	agent_objs_free(a);
	a->objs = v;
	a->n_objs = n;
}

void agent_objs_free(struct agent *a)
{
	for (size_t i = 0; i < a->n_objs; i++)
		obj_free(&a->objs[i]);
	free(a->objs);
	a->objs = NULL;
	a->n_objs = 0;
}

void agent_schedule(struct agent *a, int64_t at_ms)
{
	if (!a->due_ms || at_ms < a->due_ms)
		a->due_ms = at_ms;
}

/* An event concerns this object: the next pass checks it. Events read
 * right after a pass that changed the object are that pass's own echo. */
void agent_mark(struct agent *a, enum vxc_kind kind, const char *name, const char *why)
{
	struct agent_obj *o = agent_obj_find(a, kind, name);

	if (!o || (a->in_echo && o->echo_pass == a->passes) || o->state == OBJ_GAVE_UP)
		return;
	if (!o->dirty) {
		/* The engine restarting a container deletes its NIC's host end
		 * first: a pass now would start the container under the
		 * engine's own restart. Its start event ends the wait. */
		if (kind == VXC_KIND_INSTANCE && agent_engines_follow(a, name))
			o->engine_wait_ms = agent_now_ms() + AGENT_ENGINE_WAIT_MS;
		o->dirty = 1;
		free(o->dirty_cause);
		o->dirty_cause = vxc_xstrdup(why);
		if (a->opt.verbose)
			agent_log("%s %s: %s", vxc_kind_name(kind), name, why);
	}
	agent_schedule(a, agent_now_ms() + AGENT_DEBOUNCE_MS);
}

void agent_mark_full(struct agent *a, enum agent_cause cause, const char *why)
{
	/* A spec or config change outranks drift as the cause of a pass. */
	if (!a->full_dirty || cause < a->full_cause) {
		a->full_cause = cause;
		free(a->full_why);
		a->full_why = vxc_xstrdup(why);
	}
	a->full_dirty = 1;
	agent_schedule(a, agent_now_ms());
}

/* Marked, and not held back for flapping. */
int agent_obj_ready(const struct agent_obj *o, int64_t now)
{
	return o->dirty && o->hold_ms <= now && o->engine_wait_ms <= now;
}

/* Failed objects whose retry is due join the next pass; held ones wake
 * the loop when their hold ends. */
void agent_objs_retry_due(struct agent *a, int64_t now)
{
	for (size_t i = 0; i < a->n_objs; i++) {
		struct agent_obj *o = &a->objs[i];

		if (o->dirty && o->hold_ms > now)
			agent_schedule(a, o->hold_ms);
		if (o->dirty && o->engine_wait_ms > now)
			agent_schedule(a, o->engine_wait_ms);
		if (o->state != OBJ_RETRYING || o->dirty)
			continue;
		if (o->retry_at_ms <= now) {
			o->dirty = 1;
			free(o->dirty_cause);
			o->dirty_cause = vxc_xasprintf("retry %u of %u", o->failures + 1,
						       AGENT_RETRY_LIMIT);
		} else {
			agent_schedule(a, o->retry_at_ms);
		}
	}
}

static int64_t backoff_ms(unsigned failures)
{
	int64_t ms = AGENT_RETRY_FIRST_MS;

	while (--failures && ms < AGENT_RETRY_MAX_MS)
		ms *= 2;
	return ms < AGENT_RETRY_MAX_MS ? ms : AGENT_RETRY_MAX_MS;
}

void agent_obj_failed(struct agent *a, struct agent_obj *o, const char *error)
{
	o->failures++;
	a->total_errors++;
	free(o->error);
	o->error = vxc_xstrdup(error ? error : "unknown error");
	if (o->failures >= AGENT_RETRY_LIMIT) {
		o->state = OBJ_GAVE_UP;
		agent_log("error: %s %s: %s (failed %u times; no more retries until the next "
			  "full pass)",
			  vxc_kind_name(o->kind), o->name, o->error, o->failures);
		return;
	}
	o->state = OBJ_RETRYING;
	o->retry_at_ms = agent_now_ms() + backoff_ms(o->failures);
	agent_schedule(a, o->retry_at_ms);
	agent_log("error: %s %s: %s (try %u of %u; again in %lld ms)", vxc_kind_name(o->kind),
		  o->name, o->error, o->failures, AGENT_RETRY_LIMIT,
		  (long long)backoff_ms(o->failures));
}

/* An object that keeps breaking right after each repair (a command that
 * exits at once, another tool fighting over a setting) is repaired at a
 * slowing pace instead of in a busy loop. */
void agent_obj_repaired(struct agent *a, struct agent_obj *o)
{
	int64_t now = agent_now_ms();

	o->flaps = o->last_repair_ms && now - o->last_repair_ms < AGENT_FLAP_MS ? o->flaps + 1 : 0;
	o->last_repair_ms = now;
	/* Twice in a row may be chance; three times is a fight. */
	o->hold_ms = o->flaps >= 2 ? now + backoff_ms(o->flaps - 1) : 0;
	if (o->hold_ms)
		agent_log("%s %s: repaired %u times in a row within %d ms each; the next repair "
			  "waits %lld ms",
			  vxc_kind_name(o->kind), o->name, o->flaps + 1, AGENT_FLAP_MS,
			  (long long)backoff_ms(o->flaps - 1));
}

void agent_obj_succeeded(struct agent *a, struct agent_obj *o)
{
	if (o->state == OBJ_RETRYING || o->state == OBJ_GAVE_UP)
		agent_log("%s %s: recovered after %u failure%s", vxc_kind_name(o->kind), o->name,
			  o->failures, o->failures == 1 ? "" : "s");
	o->state = OBJ_OK;
	o->failures = 0;
	free(o->error);
	o->error = NULL;
}
