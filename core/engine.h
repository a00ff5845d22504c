/* The reconciler: opens the drivers the node config names, then makes this
 * host match a plan — removing what vxcloud owns and no longer wants, in
 * reverse dependency order, then ensuring what is wanted, in order. */
#ifndef VXC_ENGINE_H
#define VXC_ENGINE_H

#include "changes.h"
#include "ctx.h"
#include "diag.h"
#include "loader.h"
#include "nodeconf.h"
#include "plan.h"

struct vxc_driver {
	const struct vxc_plugin *desc;
	vxc_ctx ctx;
	void *priv;
	int previous; /* served a role in the last apply, replaced since */
};

/* What a long-running agent asks of a pass (core/agent*.c): which objects to
 * visit, and what came of each. Without a scope (the CLI) every object is
 * visited and the walk stops at the first failure; with one, a failed
 * object is reported to done() and the walk goes on to the next. */
struct vxc_engine_scope {
	int (*wants)(void *arg, enum vxc_kind kind, const char *name); /* 0: skip it */
	void (*done)(void *arg, enum vxc_kind kind, const char *name, int rc, const char *error,
		     size_t n_changes);
	void *arg;
	int ensure_only; /* a pass on drift: no list of owned objects, no removals */
};

struct vxc_engine {
	const struct vxc_nodeconf *nc;
	struct vxc_registry reg;
	struct vxc_driver *role[VXC_ROLE_COUNT]; /* NULL: no driver for the role */
	struct vxc_driver *drivers[2 * VXC_ROLE_COUNT];
	size_t n_drivers;
	struct vxc_changes *changes;             /* where reports go */
	struct vxc_changes *notes;               /* where notes go (status), or NULL */
	char *error;                             /* the failed operation */
	const struct vxc_engine_scope *scope;    /* NULL: the whole host */
};

/* Loads and opens the configured drivers (and those they replaced since the
 * last apply, so their objects can be removed). Problems go to diag. */
int vxc_engine_open(struct vxc_engine *e, const struct vxc_nodeconf *nc,
		    struct vxc_changes *changes, struct vxc_diag *diag);
void vxc_engine_close(struct vxc_engine *e);

/* Refuses (diag) a plan needing a role that has no driver here. */
int vxc_engine_check_plan(const struct vxc_engine *e, const struct vxc_plan *plan,
			  struct vxc_diag *diag);

/* plan NULL = destroy: remove everything vxcloud owns here. flags may hold
 * VXC_F_DRY_RUN. On failure, e->error says which operation failed and why. */
int vxc_engine_reconcile(struct vxc_engine *e, const struct vxc_plan *plan, unsigned flags);

/* Per-object desired vs actual. */
enum vxc_obj_state {
	VXC_STATE_OK,
	VXC_STATE_DIFFERS,
	VXC_STATE_STALE, /* owned, not wanted: apply removes it */
};

struct vxc_status_row {
	enum vxc_kind kind;
	char *name;
	char *driver;
	enum vxc_obj_state state;
	struct vxc_changes details;
	struct vxc_changes info; /* what the driver reports running (lb_status) */
	struct vxc_changes notes; /* facts that are no difference (a console log) */
};

struct vxc_status {
	struct vxc_status_row *v;
	size_t n, cap;
};

int vxc_engine_status(struct vxc_engine *e, const struct vxc_plan *plan, struct vxc_status *st);
void vxc_status_free(struct vxc_status *st);

const char *vxc_kind_name(enum vxc_kind k);

/* Remembers which driver served each role, for the next run. */
int vxc_engine_save_roles(const struct vxc_engine *e);
int vxc_engine_forget_roles(const struct vxc_engine *e);

#endif
