/* vxcloudd, the per-host agent: loads the node config and drivers once and
 * keeps this host converged. A pass runs when the spec changes (inotify),
 * when the host drifts (netlink events in the namespaces vxcloud owns, a
 * supervised process exiting, a compute engine's event), when a failed object's retry is due, and
 * periodically. See vxcloudd(8). */
#ifndef VXC_AGENT_H
#define VXC_AGENT_H

#include <linux/netlink.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "nodeconf.h"
#include "plan.h"
#include "spec.h"

/* Why a pass runs. Changes made by a pass that no spec or node config
 * change caused are counted as repairs. */
enum agent_cause {
	CAUSE_NONE,
	CAUSE_START,
	CAUSE_SPEC,
	CAUSE_RELOAD,
	CAUSE_DRIFT,    /* a scoped pass: an event, a process exit, a retry (see why) */
	CAUSE_PERIODIC,
};

enum agent_obj_state {
	OBJ_PENDING,  /* not checked since it entered the plan */
	OBJ_OK,
	OBJ_RETRYING, /* failed; the next try is scheduled */
	OBJ_GAVE_UP,  /* failed AGENT_RETRY_LIMIT times; only full passes try again */
};

#define AGENT_RETRY_LIMIT 6
#define AGENT_RETRY_FIRST_MS 200
#define AGENT_RETRY_MAX_MS 30000
#define AGENT_DEBOUNCE_MS 5 /* events of one burst make one pass */
#define AGENT_SPEC_SETTLE_MS 20
#define AGENT_FLAP_MS 1000 /* a third repair this soon after the last: the next waits */
#define AGENT_ENGINE_WAIT_MS 500 /* see agent_engines.c */

/* One object the plan wants on this host, and what the agent knows of it. */
struct agent_obj {
	enum vxc_kind kind;
	char *name;
	const char *driver;
	enum agent_obj_state state;
	unsigned changes, repairs, failures;
	char *error;
	int64_t retry_at_ms;
	int dirty;         /* in the next pass's scope */
	char *dirty_cause; /* the first event that made it dirty */
	unsigned echo_pass; /* changed by this pass: its own events are echoes */
	int64_t last_repair_ms;
	unsigned flaps;     /* repaired again within AGENT_FLAP_MS, in a row */
	int64_t hold_ms;    /* a flapping object's next repair waits until then */
	int64_t engine_wait_ms; /* an instance whose engine reports events: a kernel
				 * event's pass waits until then for the engine's */
};

/* A watched event source; epoll's data.ptr points at it. */
enum agent_src_type {
	SRC_SIGNAL,
	SRC_INOTIFY,
	SRC_CONTROL,
	SRC_RTNL,
	SRC_NFT,
	SRC_PIDFD,
	SRC_ENGINE,  /* a compute engine's event stream (agent_engines.c) */
	SRC_STORE,   /* etcd's watch thread has a newer spec (agent_store.c) */
};

struct agent_src {
	enum agent_src_type type;
	int fd;
	char *ns;           /* SRC_RTNL/NFT: namespace name, "" = the host's */
	ino_t ns_ino;       /* its nsfs inode, to notice a namespace made anew */
	pid_t pid;          /* SRC_PIDFD */
	char *inst;         /* SRC_PIDFD: the instance whose namespace it ran in */
	struct link_seen { int ifindex; uint64_t sig; } *links; /* SRC_RTNL: see agent_links.c */
	size_t n_links;
	struct vxc_driver *drv; /* SRC_ENGINE: the compute driver it is from */
	int64_t retry_at_ms;    /* SRC_ENGINE: when to open it again (fd -1) */
	int64_t reopen_ms;      /* SRC_ENGINE: the wait before that, growing */
	int lost;               /* SRC_ENGINE: it ended; events may be missed */
};

struct agent_opts {
	const char *config;
	const char *spec;
	const char *host;
	const char *socket; /* NULL: <state_dir>/agent.sock */
	unsigned interval_s;
	int verbose;
};

struct agent {
	struct agent_opts opt;
	struct vxc_nodeconf *nc;     /* heap: the engine and drivers point into it */
	struct vxc_changes changes;
	struct vxc_engine *engine;   /* heap: drivers' change sinks point at it */
	size_t printed;              /* changes already logged */
	struct vxc_spec *spec;
	struct vxc_plan *plan;
	char *spec_path;

	/* what the status shows */
	unsigned spec_generation;
	char *spec_error;          /* the newest spec file is refused: why */
	int64_t spec_load_us;      /* reading, validating and planning it took */
	int64_t started_ms;
	unsigned passes, total_changes, total_repairs, total_errors;
	struct {
		enum agent_cause cause;
		char *why;
		int64_t at_ms;
		int64_t duration_us;
		unsigned changes, objects;
		int full;
		char *error;
	} last;

	struct agent_obj *objs;
	size_t n_objs;

	/* what the next pass does, and when */
	int full_dirty;
	enum agent_cause full_cause;
	char *full_why;
	int spec_dirty;
	int reload_dirty;
	int64_t due_ms;        /* 0: nothing due */
	int64_t periodic_at_ms;
	unsigned full_failures;
	int64_t lock_busy;      /* ms to the next try while another run holds the lock */
	int in_echo;           /* reading the events of the pass just made */

	/* sources */
	int epfd, lockfd, inofd, spec_wd, netns_wd;
	struct agent_src sig, ino, ctl;
	char *sock_path;
	struct agent_src **ns;   /* netlink sockets, two per watched namespace */
	size_t n_ns;
	struct agent_src **procs;
	size_t n_procs;
	struct agent_src **engines; /* compute engines' event streams */
	size_t n_engines;
	struct agent_spawned { pid_t pid; ino_t ns_ino; } *spawned; /* by the last pass */
	size_t n_spawned;
	int stop;

	/* the spec from etcd (node config `etcd` group): agent_store.c */
	struct agent_store *store;  /* NULL: the spec is a file */
	struct agent_src store_src;
	char *store_text;           /* the newest spec text read */
	int64_t store_rev_seen;     /* its revision */
	int64_t store_rev_plan;     /* the revision the plan was made from */
	int64_t store_rev_applied;  /* the plan's revision once a pass left the host in sync */
	char *store_sig;            /* the status last handed over, without times */
};

/* agent_main.c */
int64_t agent_now_ms(void);
int64_t agent_now_us(void);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int agent_watch_fd(struct agent *a, struct agent_src *src);
void agent_unwatch(struct agent *a, struct agent_src *src);

/* agent_load.c: node config, drivers and spec */
int agent_open(struct agent *a);
int agent_reload(struct agent *a);
int agent_load_spec(struct agent *a);
void agent_close(struct agent *a);

/* agent_objs.c: the wanted objects, marks, backoff */
void agent_objs_rebuild(struct agent *a);
void agent_objs_free(struct agent *a);
struct agent_obj *agent_obj_find(struct agent *a, enum vxc_kind kind, const char *name);
void agent_mark(struct agent *a, enum vxc_kind kind, const char *name, const char *why);
void agent_mark_full(struct agent *a, enum agent_cause cause, const char *why);
void agent_schedule(struct agent *a, int64_t at_ms);
void agent_objs_retry_due(struct agent *a, int64_t now);
void agent_obj_failed(struct agent *a, struct agent_obj *o, const char *error);
void agent_obj_succeeded(struct agent *a, struct agent_obj *o);
void agent_obj_repaired(struct agent *a, struct agent_obj *o);
int agent_obj_ready(const struct agent_obj *o, int64_t now);
const char *agent_cause_name(enum agent_cause c);

/* agent_pass.c: one pass under the host lock */
void agent_run_due(struct agent *a);

/* agent_owner.c: the object a namespace or a host link belongs to (1), or 0 */
int agent_ns_owner(const struct agent *a, const char *ns, enum vxc_kind *kind,
		   const char **name);
int agent_link_owner(const struct agent *a, const char *ifname, enum vxc_kind *kind,
		     const char **name);

/* agent_watch.c: netlink per namespace, inotify on the spec and netns dirs */
void agent_watch_sync(struct agent *a);
void agent_watch_read(struct agent *a, struct agent_src *src);
void agent_watch_drain(struct agent *a);
void agent_watch_forget_ns(struct agent *a, const char *ns);
void agent_watch_fini(struct agent *a);

/* agent_links.c: 1 when a link message changes nothing vxcloud sets */
int agent_link_unchanged(struct agent_src *src, const struct nlmsghdr *h);
void agent_links_free(struct agent_src *src);

/* agent_inotify.c: the spec file (rename-over-write included) and the
 * netns directory (a namespace deleted under vxcloud) */
int agent_inotify_init(struct agent *a);
void agent_inotify_sync(struct agent *a);
void agent_inotify_read(struct agent *a);
void agent_inotify_fini(struct agent *a);

/* agent_procs.c: the processes running in instance namespaces, by pidfd */
void agent_procs_sync(struct agent *a);
void agent_procs_spawned(void *arg, pid_t pid, int netns_fd);
void agent_procs_exited(struct agent *a, struct agent_src *src);
void agent_procs_fini(struct agent *a);

/* agent_engines.c: compute engines' event streams (compute ops ABI 1.6) */
void agent_engines_sync(struct agent *a);
void agent_engines_read(struct agent *a, struct agent_src *src);
void agent_engines_drain(struct agent *a);
void agent_engines_fini(struct agent *a);
int agent_engines_follow(const struct agent *a, const char *instance);

/* The spec comes from etcd: the node config has an `etcd` group and no
 * --spec FILE overrides it. */
static inline int agent_spec_in_store(const struct agent *a)
{
	return a->nc->etcd && !a->opt.spec;
}

/* agent_store.c: the spec from etcd, status/<host> and alive/<host> in it */
int agent_store_start(struct agent *a);
void agent_store_stop(struct agent *a);
void agent_store_read(struct agent *a);
void agent_store_publish(struct agent *a);
char *agent_store_state(const struct agent *a);
struct agent_store_traffic {
	uint64_t spec_bytes, rx_bytes;
	unsigned spec_reads;
};
void agent_store_traffic(const struct agent *a, struct agent_store_traffic *t);

/* agent_status.c: the control socket (`vxcloud status` asks it) */
int agent_plan_done(const struct agent *a);
int agent_in_sync(const struct agent *a);
int agent_control_open(struct agent *a);
void agent_control_accept(struct agent *a);
void agent_control_close(struct agent *a);

#endif
