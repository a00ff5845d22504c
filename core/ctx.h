/* The per-driver-instance context behind the opaque vxc_ctx of the ABI,
 * and the host services the core hands to plugins. */
#ifndef VXC_CTX_H
#define VXC_CTX_H

#include <libconfig.h>
#include <vxcloud/plugin.h>

struct nl_sock;

/* Receives change reports: plan/apply/status print or collect them. */
struct vxc_change_sink {
	void (*report)(void *arg, const char *driver, const char *what);
	void (*note)(void *arg, const char *driver, const char *what); /* or NULL */
	void *arg;
};

struct vxc_ctx {
	const struct vxc_plugin *plugin;
	const char *host_name;
	const char *netns_dir;        /* where named namespaces are kept */
	char *state_dir;              /* <node state dir>/<driver>, made lazily */
	const char *node_state_dir;
	const config_setting_t *settings; /* the driver's own block, or NULL */
	char *errmsg;                 /* last error() of the current operation */
	int log_level;
	struct vxc_change_sink sink;
	unsigned n_changes;           /* changes reported since last reset */
	struct nl_sock *host_nl;      /* the host namespace's netlink socket, made on
				       * first use and kept for the run (vxc_nl_host) */
	/* Told of every process the driver starts (the agent supervises it). */
	void (*on_spawn)(void *arg, pid_t pid, int netns_fd);
	void *on_spawn_arg;
};

/* Fills a context; strings are borrowed and must outlive it. */
void vxc_ctx_init(vxc_ctx *ctx, const struct vxc_plugin *plugin, const char *host_name,
		  const char *netns_dir, const char *node_state_dir);
void vxc_ctx_fini(vxc_ctx *ctx);
void vxc_ctx_reset(vxc_ctx *ctx); /* clears errmsg and n_changes */

const struct vxc_services *vxc_services(void);

/* The service functions, also used by the core itself. */
void vxc_ctx_log(vxc_ctx *ctx, int level, const char *fmt, ...) VXC_PRINTF(3, 4);
int vxc_ctx_error(vxc_ctx *ctx, int err, const char *fmt, ...) VXC_PRINTF(3, 4);
void vxc_ctx_change(vxc_ctx *ctx, const char *fmt, ...) VXC_PRINTF(2, 3);
void vxc_ctx_note(vxc_ctx *ctx, const char *fmt, ...) VXC_PRINTF(2, 3);

#endif
