/* lb/haproxy: a load balancer is a namespace vxlb-NAME on the tenant
 * network (a veth holding the VIP, default route via the gateway) running
 * haproxy in master-worker mode from a configuration rendered into the
 * driver's state directory. Weights and draining go through the runtime
 * API; other changes reload seamlessly over the master CLI. Reaches the
 * core only through the services table. */
#ifndef VXC_HAPROXY_DRIVER_H
#define VXC_HAPROXY_DRIVER_H

#include <stddef.h>
#include <sys/types.h>
#include <vxcloud/lb.h>

#include "lbha.h"
#include "lbport.h"

#define NETNS_PREFIX "vxlb-" /* namespace of balancer B: vxlb-B */
#define PEER_IF LB_VIP_IF
#define NAME_MAX_LEN 48
#define MAX_LISTENERS 64
#define MAX_MEMBERS 1024

struct hap_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	const char *haproxy;      /* the program: a name searched in PATH, or a path */
	unsigned stop_timeout_ms;
	unsigned reload_timeout_ms;
	struct lb_ha_cfg ha;      /* copies on several hosts: keepalived, its notify */
};

/* The files of one balancer, under <state_dir>/<name>/. */
struct hap_paths {
	char dir[256];
	char cfg[300];    /* the configuration haproxy runs */
	char next[300];   /* a candidate, checked by `haproxy -c` before it replaces cfg */
	char master[300]; /* master CLI socket */
	char stats[300];  /* runtime (stats) socket of the worker */
	char pid[300];    /* PID record of the master */
	char log[300];    /* haproxy's stdout and stderr */
};

/* check.c: every value that reaches the configuration, by type and range;
 * names restricted so they cannot inject configuration. */
int hap_name_ok(const char *name);
int hap_check_name(struct hap_drv *d, const char *name);
int hap_check_lb(struct hap_drv *d, const struct vxc_lb *lb);

/* files.c */
int hap_paths(struct hap_drv *d, const char *name, struct hap_paths *p);

/* render.c: the configuration text of lb (malloc'd) in *out. */
int hap_render(struct hap_drv *d, const struct vxc_lb *lb, const struct hap_paths *p,
	       char **out);
/* The server name of a member: stable whatever the member's position. */
void hap_server_name(const struct vxc_lb_member *m, char *buf, size_t len);

/* cfgdiff.c: what separates two rendered configurations. */
struct hap_srv_state {
	char backend[32];
	char server[48];
	unsigned weight;
	int enabled;
};
struct hap_diff {
	int structural;              /* anything beyond weights and enabled flags */
	struct hap_srv_state *srv;   /* servers whose weight or flag differ (new values) */
	size_t n_srv;
};
int hap_diff(const char *old_cfg, const char *new_cfg, struct hap_diff *diff);
void hap_diff_free(struct hap_diff *diff);

/* runtime.c: one command over a CLI socket; the answer (malloc'd) in *out. */
int hap_cli(struct hap_drv *d, const char *sock, const char *cmd, char **out);
/* The current worker's PID from the master CLI's `show proc`. */
int hap_worker_pid(struct hap_drv *d, const struct hap_paths *p, pid_t *pid);
/* One server's weight and state through the runtime API (no reload). */
int hap_set_server(struct hap_drv *d, const char *lb, const struct hap_paths *p,
		   const struct hap_srv_state *s);

/* Every server's weight and enabled state as the running worker holds them
 * (`show servers state`), one cb per server. */
int hap_runtime_servers(struct hap_drv *d, const struct hap_paths *p,
			int (*cb)(void *arg, const struct hap_srv_state *s), void *arg);
/* cfgdiff.c: the servers of a rendered configuration. */
int hap_cfg_servers(const char *cfg, int (*cb)(void *arg, const struct hap_srv_state *s),
		    void *arg);

/* process.c: the supervised master process. */
int hap_master_pid(struct hap_drv *d, const struct hap_paths *p, pid_t *pid); /* 0/-ENOENT */
int hap_start(struct hap_drv *d, const char *lb, int netns_fd, const struct hap_paths *p);
int hap_reload(struct hap_drv *d, const char *lb, const struct hap_paths *p);
int hap_stop(struct hap_drv *d, const char *lb, const struct hap_paths *p, unsigned flags);
/* Ends haproxy processes left in namespace nsname (a lost PID record). */
int hap_sweep(struct hap_drv *d, const char *lb, const char *nsname, unsigned flags);
/* `haproxy -c -f file`: 0, or an error holding haproxy's own words. */
int hap_validate_file(struct hap_drv *d, const char *lb, const char *file);

/* files.c */
int hap_read_file(const char *path, char **out);  /* -ENOENT when absent */
int hap_write_file(const char *path, const char *text);

int hap_lb_ensure(void *priv, const struct vxc_lb *lb, unsigned flags);
int hap_lb_list(void *priv, vxc_owned_cb cb, void *arg);
int hap_lb_remove(void *priv, const struct vxc_owned *obj, unsigned flags);
int hap_lb_status(void *priv, const struct vxc_lb *lb, void (*cb)(void *arg, const char *line),
		  void *arg);

#endif
