/* Host services for namespaces, veth pairs and processes (see the matching
 * slots of struct vxc_services in include/vxcloud/plugin.h). Links are made
 * through libnl-route-3; processes by fork + execve, never a shell.
 *
 * Who reports changes: veth_ensure reports each change itself (it alone
 * knows them), prefixed with the owner taken from the alias
 * ("vxcloud:instance:web1" -> "instance web1: ..."). netns_create,
 * netns_delete and link_delete take no flags and report nothing: the
 * caller checks (netns_open == -ENOENT), reports, and skips the call under
 * VXC_F_DRY_RUN. Errors set the message through vxc_ctx_error. */
#ifndef VXC_NETNS_H
#define VXC_NETNS_H

#include <vxcloud/plugin.h>

/* Namespaces are files NAME in ctx->netns_dir (default /run/netns) with
 * nsfs bind-mounted on them, like `ip netns add`; the directory is made a
 * shared mount point (bind-mounted onto itself when it is not one).
 * open: O_RDONLY|O_CLOEXEC fd, or -ENOENT (also for an empty file left by
 * a crash). create: idempotent, brings lo up. delete: unmount + unlink, 0
 * when absent. list: names with the prefix, sorted. */
int vxc_netns_open(vxc_ctx *ctx, const char *name);
int vxc_netns_create(vxc_ctx *ctx, const char *name);
int vxc_netns_delete(vxc_ctx *ctx, const char *name);
int vxc_netns_list(vxc_ctx *ctx, const char *prefix, void (*cb)(void *arg, const char *name),
		   void *arg);
/* setns(CLONE_NEWNET) of the calling thread; *saved is an fd of the
 * namespace it was in, which leave() returns to and closes. */
int vxc_netns_enter(vxc_ctx *ctx, int netns_fd, int *saved);
int vxc_netns_leave(vxc_ctx *ctx, int saved);

/* Creates the pair (peer made directly in netns_fd) or corrects it: alias
 * on the host end, MTU on both ends (0 = leave as is), peer MAC, exactly
 * one IPv4 address on the peer, default route via gateway (removed when
 * gateway is 0), both ends up. Refuses (-EEXIST) a host end that is not a
 * veth carrying VXC_OWNER_MARK, unless it carries no alias and the birth MAC
 * (vxc_link_birth_mac) the host end gets when it is created: then a killed
 * run left it, and it is claimed. Under VXC_F_DRY_RUN netns_fd may be -1
 * (the namespace is still to be made): the creation is reported. */
int vxc_veth_ensure(vxc_ctx *ctx, const struct vxc_veth *veth, unsigned flags);
/* Deletes the link of that name in the calling thread's namespace (a veth
 * takes its peer along); 0 when absent. The caller checks ownership. */
int vxc_link_delete(vxc_ctx *ctx, const char *ifname);

/* Double fork: *pid is the daemon, a child of init, leader of its own
 * session, stdin /dev/null, stdout+stderr appended to log_path. argv[0]
 * without '/' is looked up in the PATH of envp (default PATH only). Any
 * failure up to and including execve comes back as -errno. */
int vxc_spawn(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid);
/* 1 when pid exists, is not a zombie and (exe != NULL) the basename of
 * /proc/PID/exe or of its argv[0] is exe's basename; else 0. */
int vxc_proc_alive(vxc_ctx *ctx, pid_t pid, const char *exe);
/* SIGTERM, poll up to timeout_ms, then SIGKILL. 0 also when already gone. */
int vxc_proc_stop(vxc_ctx *ctx, pid_t pid, unsigned timeout_ms);

/* proc_ident.c: processes by (PID, start time) and by owner mark; the
 * services of the same names (plugin.h, ABI 1.1). */
struct vxc_proc_stat {
	char state;               /* R, S, D, Z, ... */
	pid_t ppid;
	unsigned long long start; /* field 22: clock ticks after boot */
};
int vxc_proc_read_stat(pid_t pid, struct vxc_proc_stat *st); /* -ESRCH when gone */
/* The start of /proc/PID/FILE, NUL-terminated; 0 when unreadable or empty. */
ssize_t vxc_proc_read_file(pid_t pid, const char *file, char *buf, size_t size);
/* "VXCLOUD_OWNER=<node state dir>/<driver>/<owner>", to free. */
char *vxc_proc_owner_env(vxc_ctx *ctx, const char *owner);
int vxc_spawn_recorded(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *owner,
		       vxc_proc_record_fn record, void *arg, pid_t *pid);
int vxc_proc_running(vxc_ctx *ctx, pid_t pid, unsigned long long start);
int vxc_proc_find(vxc_ctx *ctx, const char *owner, vxc_proc_found_fn found, void *arg);
int vxc_proc_stop_exact(vxc_ctx *ctx, pid_t pid, unsigned long long start,
			unsigned timeout_ms);

#endif
