/* The spec from etcd, and this host's status and liveness in it (issue 14,
 * vxcloudd(8)). The loop never waits on etcd: two threads, each with its
 * own client handle (a handle is not thread-safe), do the talking.
 *
 *  - The watch thread reads <prefix>spec, then follows it with a watch.
 *    A broken stream resumes from the last revision seen + 1; a revision
 *    compacted meanwhile means reading the key again. Each new text goes
 *    to the loop (the newest wins; older ones are never wanted) through an
 *    eventfd the loop polls (SRC_STORE).
 *  - The lease thread keeps alive/<host> attached to a lease it keeps
 *    alive (so a dead agent's key goes by itself), and writes
 *    status/<host> when the loop publishes a new document (again the
 *    newest wins) or when the store comes back after an outage.
 *
 * Losing etcd changes nothing on the host: the loop keeps the last spec it
 * accepted, and the local status says since when the store is unreachable.
 * A clean stop revokes the lease, so the host shows as gone at once. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "etcd.h"
#include "util.h"

#define SPEC_KEY "spec"
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000

struct agent_store {
	struct vxc_etcd *watch_h, *lease_h;
	char *alive_key, *status_key; /* alive/<host>, status/<host> */
	int64_t started_ms;     /* wall clock, for alive/<host> */
	unsigned ttl_s;
	int stopfd;             /* readable: the threads stop (the watch polls it) */
	pthread_t watch_t, lease_t;
	int threads;            /* how many were started */

	pthread_mutex_t mu;     /* guards everything below */
	pthread_cond_t wake;    /* the lease thread: a new document, or stop */
	int stop;
	/* watch thread -> loop */
	char *spec_text;
	size_t spec_len;
	int64_t spec_rev;       /* of spec_text; 0 none yet */
	int spec_new;
	/* loop -> lease thread */
	json_t *doc;            /* the newest document not yet written */
	json_t *last_doc;       /* the last one handed over: rewritten on reconnect */
	/* both threads -> status */
	int64_t unreachable_ms; /* wall clock; 0 while etcd answers */
	char *error;            /* the failure that made it unreachable */
	uint64_t spec_bytes;    /* spec text read from etcd, in total */
	unsigned spec_reads;
	uint64_t rx_bytes;      /* what the watch thread's handle read, replies whole */

	/* watch thread only */
	int64_t next_rev;       /* watch from here; 0: read the key first */
	int loop_fd;            /* the loop's eventfd (SRC_STORE) */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(struct agent_store *s)
{
	int stop;

	pthread_mutex_lock(&s->mu);
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* etcd answered: returns 1 when it had been unreachable (a reconnect). */
static int store_ok(struct agent_store *s)
{
	int was;

	pthread_mutex_lock(&s->mu);
	was = s->unreachable_ms != 0;
	if (was) {
		agent_log("etcd: reachable again after %.1f s",
			  (double)(wall_ms() - s->unreachable_ms) / 1000.0);
		s->unreachable_ms = 0;
		free(s->error);
		s->error = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return was;
}

static void store_failed(struct agent_store *s, const char *what, int r, struct vxc_etcd *h)
{
	const char *why = vxc_etcd_error(h);

	if (!why || !*why)
		why = strerror(-r);
	pthread_mutex_lock(&s->mu);
	if (!s->unreachable_ms) {
		agent_log("etcd: %s: %s; the host keeps its last spec", what, why);
		s->unreachable_ms = wall_ms();
	}
	free(s->error);
	s->error = vxc_xasprintf("%s: %s", what, why);
	pthread_mutex_unlock(&s->mu);
}

/* Sleeps ms, or until stop; 1 when stopping. Growing waits, reset by
 * the caller on success. */
static int backoff(struct agent_store *s, unsigned *ms)
{
	struct timespec until;
	int stop;

	*ms = *ms ? *ms * 2 : BACKOFF_FIRST_MS;
	if (*ms > BACKOFF_MAX_MS)
		*ms = BACKOFF_MAX_MS;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += *ms / 1000;
	until.tv_nsec += (long)(*ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->wake, &s->mu, &until) != ETIMEDOUT)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* ---------------------------------------------------------------- watch */

/* Hands a spec text to the loop: newer revisions only. */
static void deliver(struct agent_store *s, const char *text, size_t len, int64_t rev)
{
	uint64_t one = 1;
	int fresh = 0;

	pthread_mutex_lock(&s->mu);
	s->spec_bytes += len;
	s->spec_reads++;
	s->rx_bytes = vxc_etcd_rx_bytes(s->watch_h);
	if (rev > s->spec_rev) {
		free(s->spec_text);
		s->spec_text = vxc_xmalloc(len + 1);
		memcpy(s->spec_text, text, len);
		s->spec_text[len] = '\0';
		s->spec_len = len;
		s->spec_rev = rev;
		s->spec_new = fresh = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (fresh && write(s->loop_fd, &one, sizeof(one)) < 0)
		(void)0; /* the counter is already nonzero: the loop will look */
}

static int on_spec_event(const struct vxc_etcd_event *ev, void *arg)
{
	struct agent_store *s = arg;

	store_ok(s);
	s->next_rev = ev->kv.mod_revision + 1;
	if (ev->type == VXC_ETCD_PUT)
		deliver(s, ev->kv.value, ev->kv.value_len, ev->kv.mod_revision);
	else
		agent_log("etcd: the spec was deleted from the store (revision %lld); the host "
			  "keeps the last one it applied",
			  (long long)ev->kv.mod_revision);
	return 0;
}

/* The key as it is now; the watch then starts after the store's revision. */
static int read_spec(struct agent_store *s)
{
	struct vxc_etcd_kv kv = { 0 };
	int64_t store_rev = 0;
	int r = vxc_etcd_get(s->watch_h, SPEC_KEY, &kv, &store_rev);

	if (r == -ENOENT) {
		agent_log("etcd: no spec in the store yet (revision %lld); waiting for a push",
			  (long long)store_rev);
		r = 0;
	} else if (r == 0) {
		deliver(s, kv.value, kv.value_len, kv.mod_revision);
		vxc_etcd_kv_clear(&kv);
	}
	if (r == 0)
		s->next_rev = store_rev + 1;
	return r;
}

static void *watch_main(void *arg)
{
	struct agent_store *s = arg;
	unsigned wait_ms = 0;

	while (!stopping(s)) {
		int64_t compact = 0;
		int r;

		if (!s->next_rev) {
			r = read_spec(s);
			if (r == 0) {
				store_ok(s);
				wait_ms = 0;
				continue;
			}
		} else {
			int64_t t0 = agent_now_ms();

			r = vxc_etcd_watch(s->watch_h, SPEC_KEY, 0, s->next_rev, on_spec_event, s,
					   s->stopfd, &compact);
			/* A stream that lasted was connected: its end starts a new series
			 * of tries, from the shortest wait. */
			if (agent_now_ms() - t0 >= BACKOFF_MAX_MS)
				wait_ms = 0;
			if (r == 0)
				break; /* stopping */
			if (r == -ERANGE) {
				agent_log("etcd: revision %lld was compacted (up to %lld); reading "
					  "the spec again",
					  (long long)s->next_rev, (long long)compact);
				s->next_rev = 0;
				continue;
			}
		}
		store_failed(s, s->next_rev ? "watching the spec" : "reading the spec", r,
			     s->watch_h);
		if (!wait_ms && s->next_rev) /* the first failure of a series */
			agent_log("etcd: the spec's watch broke (%s); resuming from revision %lld",
				  vxc_etcd_error(s->watch_h), (long long)s->next_rev);
		else if (!wait_ms)
			agent_log("etcd: cannot read the spec (%s); trying again",
				  vxc_etcd_error(s->watch_h));
		if (backoff(s, &wait_ms))
			break;
	}
	return NULL;
}

/* ---------------------------------------------------------------- lease */

static int announce(struct agent_store *s, int64_t *lease)
{
	char *alive;
	int r = vxc_etcd_lease_grant(s->lease_h, s->ttl_s, lease);

	if (r < 0)
		return r;
	alive = vxc_xasprintf("{\"pid\":%ld,\"started\":%lld}", (long)getpid(),
			      (long long)s->started_ms);
	r = vxc_etcd_put(s->lease_h, s->alive_key, alive, strlen(alive), VXC_ETCD_ANY, *lease,
			 NULL);
	free(alive);
	if (r < 0)
		*lease = 0;
	return r;
}

static int write_doc(struct agent_store *s, json_t *doc)
{
	char *text;
	int r;

	json_object_set_new(doc, "store", json_string("ok"));
	json_object_set_new(doc, "written_ms", json_integer(wall_ms()));
	text = json_dumps(doc, JSON_COMPACT);
	r = text ? vxc_etcd_put(s->lease_h, s->status_key, text, strlen(text), VXC_ETCD_ANY, 0,
				NULL)
		 : -ENOMEM;
	free(text);
	return r;
}

/* Takes the newest document to write (NULL: none). On reconnect the last
 * one is written again: what the host did meanwhile, and "store": "ok". */
static json_t *take_doc(struct agent_store *s, int reconnected)
{
	json_t *doc;

	pthread_mutex_lock(&s->mu);
	doc = s->doc;
	s->doc = NULL;
	if (!doc && reconnected && s->last_doc)
		doc = json_deep_copy(s->last_doc);
	pthread_mutex_unlock(&s->mu);
	return doc;
}

static void put_back_doc(struct agent_store *s, json_t *doc)
{
	pthread_mutex_lock(&s->mu);
	if (!s->doc)
		s->doc = doc; /* not written: next time, unless a newer one came */
	else
		json_decref(doc);
	pthread_mutex_unlock(&s->mu);
}

/* Waits until due_ms (monotonic) or a new document or stop. */
static void lease_wait(struct agent_store *s, int64_t due_ms)
{
	int64_t left = due_ms - agent_now_ms();
	struct timespec until;

	if (left <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += left / 1000;
	until.tv_nsec += (long)(left % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop && !s->doc &&
	       pthread_cond_timedwait(&s->wake, &s->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->mu);
}

/* One round: a lease and the alive key, the document, the keepalive. */
static int lease_round(struct agent_store *s, int64_t *lease, int64_t *keep_at, int *failed)
{
	const char *what = "granting the liveness lease";
	json_t *doc = NULL;
	int r = 0;

	if (!*lease && (r = announce(s, lease)) == 0)
		*keep_at = agent_now_ms() + (int64_t)s->ttl_s * 1000 / 3;
	if (r == 0 && agent_now_ms() >= *keep_at) {
		what = "keeping the liveness lease";
		r = vxc_etcd_lease_keepalive(s->lease_h, *lease);
		if (r == -ENOENT) {
			agent_log("etcd: the liveness lease expired; announcing this host again");
			*lease = 0;
			return 0;
		}
		*keep_at = agent_now_ms() + (int64_t)s->ttl_s * 1000 / 3;
	}
	if (r == 0) {
		doc = take_doc(s, store_ok(s) || *failed);
		if (doc && (r = write_doc(s, doc)) < 0) {
			what = "writing this host's status";
			put_back_doc(s, doc);
		} else if (doc) {
			json_decref(doc);
		}
	}
	*failed = r < 0;
	if (r < 0)
		store_failed(s, what, r, s->lease_h);
	return r;
}

static void *lease_main(void *arg)
{
	struct agent_store *s = arg;
	int64_t lease = 0, keep_at = 0;
	unsigned wait_ms = 0;
	int failed = 0;

	while (!stopping(s)) {
		if (lease_round(s, &lease, &keep_at, &failed) < 0) {
			if (backoff(s, &wait_ms))
				break;
			continue;
		}
		wait_ms = 0;
		if (lease)
			lease_wait(s, keep_at);
	}
	/* A clean stop: the host is not alive any more, say so now. */
	if (lease && vxc_etcd_lease_revoke(s->lease_h, lease) < 0)
		agent_log("etcd: cannot revoke the liveness lease: %s; %s goes when it expires",
			  vxc_etcd_error(s->lease_h), s->alive_key);
	return NULL;
}

/* ---------------------------------------------------------------- loop side */

static void store_free(struct agent_store *s)
{
	vxc_etcd_free(s->watch_h);
	vxc_etcd_free(s->lease_h);
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s->alive_key);
	free(s->status_key);
	free(s->spec_text);
	free(s->error);
	json_decref(s->doc);
	json_decref(s->last_doc);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	free(s);
}

int agent_store_start(struct agent *a)
{
	const struct vxc_etcd_conf *conf = a->nc->etcd;
	struct agent_store *s;
	int r;

	if (!conf)
		return 0;
	s = vxc_xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->alive_key = vxc_xasprintf("alive/%s", a->nc->host);
	s->status_key = vxc_xasprintf("status/%s", a->nc->host);
	s->started_ms = wall_ms() - (agent_now_ms() - a->started_ms);
	s->ttl_s = conf->lease_ttl_s ? conf->lease_ttl_s : 10;
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->store_src.type = SRC_STORE;
	a->store_src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0 || a->store_src.fd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = vxc_etcd_open(&s->watch_h, conf)) < 0 ||
	    (r = vxc_etcd_open(&s->lease_h, conf)) < 0 || (r = agent_watch_fd(a, &a->store_src)) < 0)
		goto fail;
	a->store = s;
	s->loop_fd = a->store_src.fd;
	if ((r = -pthread_create(&s->watch_t, NULL, watch_main, s)) < 0)
		goto fail_threads;
	s->threads++;
	if ((r = -pthread_create(&s->lease_t, NULL, lease_main, s)) < 0)
		goto fail_threads;
	s->threads++;
	agent_log("spec from etcd %s%s (%zu endpoint%s), liveness lease %u s", conf->prefix,
		  SPEC_KEY, conf->n_endpoints, conf->n_endpoints == 1 ? "" : "s", s->ttl_s);
	return 0;
fail_threads:
	agent_log("fatal: cannot start the etcd threads: %s", strerror(-r));
	agent_store_stop(a);
	return r;
fail:
	agent_log("fatal: etcd: %s", strerror(-r));
	if (a->store_src.fd >= 0)
		agent_unwatch(a, &a->store_src);
	store_free(s);
	return r;
}

void agent_store_stop(struct agent *a)
{
	struct agent_store *s = a->store;
	uint64_t one = 1;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->mu);
	if (write(s->stopfd, &one, sizeof(one)) < 0)
		(void)0;
	if (s->threads > 0)
		pthread_join(s->watch_t, NULL);
	if (s->threads > 1)
		pthread_join(s->lease_t, NULL);
	agent_unwatch(a, &a->store_src);
	store_free(s);
	a->store = NULL;
}

/* SRC_STORE: a newer spec came; the next pass loads it. */
void agent_store_read(struct agent *a)
{
	struct agent_store *s = a->store;
	uint64_t n;

	if (read(a->store_src.fd, &n, sizeof(n)) < 0)
		(void)0;
	pthread_mutex_lock(&s->mu);
	if (s->spec_new) {
		free(a->store_text);
		a->store_text = s->spec_text;
		a->store_rev_seen = s->spec_rev;
		s->spec_text = NULL;
		s->spec_new = 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (a->store_text) {
		a->spec_dirty = 1;
		agent_schedule(a, agent_now_ms());
	}
}

/* Each failing object; the pass's own error only when no object failed
 * (a failure outside any object: listing what the host holds, removing). */
static json_t *errors_json(const struct agent *a)
{
	json_t *v = json_array();

	for (size_t i = 0; i < a->n_objs; i++)
		if (a->objs[i].error)
			json_array_append_new(v, json_pack("{s:s,s:s,s:s}", "kind",
							   vxc_kind_name(a->objs[i].kind), "name",
							   a->objs[i].name, "error",
							   a->objs[i].error));
	if (a->last.error && !json_array_size(v))
		json_array_append_new(v, json_pack("{s:s,s:s,s:s}", "kind", "host", "name",
						   a->nc->host, "error", a->last.error));
	return v;
}

/* What the pass outcome says, without the times: a change of this is what
 * makes a new document worth writing. */
static json_t *status_core(const struct agent *a)
{
	json_t *errors = errors_json(a);
	const char *outcome = json_array_size(errors) ? "failed" : "ok";

	return json_pack("{s:s,s:I,s:I,s:I,s:o,s:{s:s,s:I},s:I,s:o}", "host", a->nc->host,
			 "agent_pid", (json_int_t)getpid(), "spec_revision_seen",
			 (json_int_t)a->store_rev_seen, "spec_revision_applied",
			 (json_int_t)a->store_rev_applied, "spec_error",
			 a->spec_error ? json_string(a->spec_error) : json_null(), "last_pass",
			 "outcome", outcome, "changes", (json_int_t)a->last.changes, "repairs",
			 (json_int_t)a->total_repairs, "errors", errors);
}

/* After each loop round: hands a new document to the lease thread when the
 * outcome changed since the last one (never waits: the thread writes). */
void agent_store_publish(struct agent *a)
{
	struct agent_store *s = a->store;
	json_t *doc, *lp;
	char *sig;

	if (!s)
		return;
	if (a->store_rev_plan && agent_plan_done(a))
		a->store_rev_applied = a->store_rev_plan;
	if (!a->passes && !a->spec_error)
		return; /* nothing to say yet */
	doc = status_core(a);
	sig = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (sig && a->store_sig && !strcmp(sig, a->store_sig)) {
		free(sig);
		json_decref(doc);
		return;
	}
	free(a->store_sig);
	a->store_sig = sig;
	lp = json_object_get(doc, "last_pass");
	/* wall clock: the reader compares it with other hosts' */
	json_object_set_new(lp, "at_ms",
			    json_integer(wall_ms() - (agent_now_ms() - a->last.at_ms)));
	json_object_set_new(lp, "duration_us", json_integer(a->last.duration_us));
	pthread_mutex_lock(&s->mu);
	json_decref(s->doc);
	json_decref(s->last_doc);
	s->doc = doc;
	s->last_doc = json_deep_copy(doc);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->mu);
}

/* For the local status: "ok", or since when and why not. Caller frees. */
char *agent_store_state(const struct agent *a)
{
	struct agent_store *s = a->store;
	char *out;

	if (!s)
		return NULL;
	pthread_mutex_lock(&s->mu);
	if (s->unreachable_ms)
		out = vxc_xasprintf("unreachable since %lld (%.1f s): %s",
				    (long long)s->unreachable_ms,
				    (double)(wall_ms() - s->unreachable_ms) / 1000.0,
				    s->error ? s->error : "?");
	else
		out = vxc_xstrdup("ok");
	pthread_mutex_unlock(&s->mu);
	return out;
}

/* How many spec texts were read from etcd so far, their bytes, and the
 * bytes of etcd's replies to the watch thread (JSON, base64) until the
 * last one: the traffic per change. */
void agent_store_traffic(const struct agent *a, struct agent_store_traffic *t)
{
	struct agent_store *s = a->store;

	memset(t, 0, sizeof(*t));
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	t->spec_bytes = s->spec_bytes;
	t->spec_reads = s->spec_reads;
	t->rx_bytes = s->rx_bytes;
	pthread_mutex_unlock(&s->mu);
}
