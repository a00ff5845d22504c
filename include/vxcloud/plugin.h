/* vxcloud plugin ABI: the descriptor every driver .so exports and the
 * host services the core hands to it.
 *
 * ABI history (VXC_ABI_MAJOR.VXC_ABI_MINOR):
 *   1.0  first public ABI.
 *   1.1  services: spawn_recorded, proc_running, proc_find, proc_stop_exact --
 *        processes known by (PID, start time) and an owner mark, recorded
 *        before they run their program.
 *   1.2  lb: protocol udp (VXC_LB_UDP), algorithms rr and lc (unweighted),
 *        caps VXC_CAP_UDP and VXC_CAP_UNWEIGHTED; the core refuses a spec
 *        item the lb driver's caps do not cover.
 *   1.3  lb: vxc_lb_listener.ext (member `enabled`, health `http_status`),
 *        vxc_lb_ops.lb_status (process, listeners, member health).
 *   1.4  struct vxc_instance: environment (in its first reserved slot).
 *   1.5  model: vxc_network grows dhcp, dns, ports; vxc_instance grows
 *        kernel, initrd, cmdline, allow_restart (VMs). A driver that reads
 *        them needs a core of ABI 1.5 or later: vxc_services.abi_minor.
 *        Services: abi_minor, note.
 *   1.6  compute: events_open, events_read -- a pollable stream of what the
 *        engine reports (containers started, restarted, removed), so a
 *        long-running agent re-checks the instances concerned.
 *   1.7  model: struct vxc_ha; vxc_router grows ha (copies on several hosts
 *        sharing addresses by VRRP, their virtual router ID and advert
 *        interval). Check vxc_services.abi_minor >= 7 before reading it.
 *        network_ensure: an fdb entry with a MAC and remote 0.0.0.0 is a
 *        neighbour only (an HA router's port, reached by flooding).
 *   1.8  model: vxc_lb grows ha (a balancer's copies sharing its VIP by
 *        VRRP; vrid from the same cloud-wide space as routers'). Check
 *        vxc_services.abi_minor >= 8 before reading it. veth_ensure: flag
 *        VXC_F_VETH_HA leaves the peer's other addresses and its default
 *        route to keepalived (the core of 1.7 refuses the bit).
 * Structs only ever grow at the end; each carries its size so the core can
 * tell which slots a plugin knows. A NULL slot means "not supported". */
#ifndef VXCLOUD_PLUGIN_H
#define VXCLOUD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <vxcloud/model.h>

#define VXC_ABI_MAJOR 1
#define VXC_ABI_MINOR 8

/* The one symbol a plugin exports. */
#define VXC_PLUGIN_SYMBOL vxc_plugin_descriptor
#define VXC_PLUGIN_SYMBOL_NAME "vxc_plugin_descriptor"

#if defined(__GNUC__)
#define VXC_EXPORT __attribute__((visibility("default")))
#define VXC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VXC_EXPORT
#define VXC_PRINTF(f, a)
#endif

/* Defines the descriptor: VXC_PLUGIN_DEFINE = { .abi_major = VXC_ABI_MAJOR, ... }; */
#define VXC_PLUGIN_DEFINE VXC_EXPORT const struct vxc_plugin VXC_PLUGIN_SYMBOL

enum vxc_concern {
	VXC_CONCERN_NETWORK = 1,
	VXC_CONCERN_NAT = 2,
	VXC_CONCERN_LB = 3,
	VXC_CONCERN_COMPUTE = 4,
};

/* Flags word taken by every operation; drivers reject unknown bits. */
#define VXC_F_DRY_RUN 0x1u  /* report what would change, change nothing */
#define VXC_F_KNOWN (VXC_F_DRY_RUN)
/* veth_ensure only (ABI 1.8): the peer is an HA copy's port. The given
 * address is added when missing but no other address is removed, and the
 * default route is neither added nor removed: keepalived holds the shared
 * address and the route on the active copy. */
#define VXC_F_VETH_HA 0x100u

/* Capability bits, shown by `vxcloud plugins`. */
#define VXC_CAP_NEIGH_PROXY   (1ull << 0) /* network: permanent neighbour entries */
#define VXC_CAP_ATOMIC        (1ull << 1) /* nat: one transaction per router */
#define VXC_CAP_CT_FLUSH      (1ull << 2) /* nat: flushes conntrack on unbind */
#define VXC_CAP_HEALTHCHECK   (1ull << 3) /* lb: member health checks */
#define VXC_CAP_L7            (1ull << 4) /* lb: HTTP listeners */
#define VXC_CAP_CONTAINER     (1ull << 5) /* compute: serves kind container */
#define VXC_CAP_VM            (1ull << 6) /* compute: serves kind vm */
#define VXC_CAP_UDP           (1ull << 7) /* lb: UDP listeners (ABI 1.2) */
#define VXC_CAP_UNWEIGHTED    (1ull << 8) /* lb: algorithms rr and lc (ABI 1.2) */

enum vxc_log_level {
	VXC_LOG_ERR = 0,
	VXC_LOG_WARN = 1,
	VXC_LOG_INFO = 2,
	VXC_LOG_DEBUG = 3,
};

/* One setting of a driver's own config block. The core checks the block
 * against this schema (unknown keys, types, ranges) before the driver opens. */
enum vxc_opt_type {
	VXC_OPT_INT = 1,
	VXC_OPT_BOOL = 2,
	VXC_OPT_STRING = 3,
};

struct vxc_option {
	const char *name;     /* NULL ends the table */
	enum vxc_opt_type type;
	const char *def;      /* default, as text: "4789", "true", "/usr/sbin/haproxy" */
	long long min, max;   /* VXC_OPT_INT range, inclusive */
	const char *help;
};

/* Opaque per-driver-instance handle owned by the core. */
typedef struct vxc_ctx vxc_ctx;

/* A veth pair: one end stays in the current namespace (it joins a bridge),
 * the other is created in netns_fd and configured there. */
struct vxc_veth {
	const char *host_if;     /* end left here */
	const char *alias;       /* ownership mark set on host_if */
	int netns_fd;            /* namespace that receives the peer */
	const char *peer_if;     /* e.g. "eth0" */
	struct vxc_mac mac;      /* MAC of the peer */
	struct in_addr addr;     /* address of the peer */
	uint8_t prefixlen;
	struct in_addr gateway;  /* default route in the namespace; 0 = none */
	unsigned mtu;            /* both ends */
};

/* Called by spawn_recorded once the new process's identity is known and
 * before it runs its program: the driver writes its record here. A
 * negative return keeps the program from ever running (the process exits).
 * start is the process's start time, /proc/PID/stat field 22. */
typedef int (*vxc_proc_record_fn)(void *arg, pid_t pid, unsigned long long start);
/* One process found by proc_find: its identity and its parent's PID. */
typedef void (*vxc_proc_found_fn)(void *arg, pid_t pid, unsigned long long start, pid_t ppid);

/* A process started by execve (never a shell) inside a namespace. */
struct vxc_spawn {
	const char *const *argv; /* argv[0] is searched in PATH when it has no '/' */
	const char *const *envp; /* NULL = a minimal PATH-only environment */
	int netns_fd;            /* -1 = stay in the current namespace */
	const char *log_path;    /* stdout and stderr go here; NULL = /dev/null */
	const char *cwd;         /* NULL = "/" */
};

struct vxc_services {
	uint32_t size; /* sizeof(struct vxc_services) of the core */

	/* Messages. error() records the message for the current operation and
	 * returns err (a negative errno) so a driver can `return svc->error(...)`.
	 * change() reports one change made, or one that would be made under
	 * VXC_F_DRY_RUN: plan, apply and status are built from these. */
	void (*log)(vxc_ctx *ctx, int level, const char *fmt, ...) VXC_PRINTF(3, 4);
	int (*error)(vxc_ctx *ctx, int err, const char *fmt, ...) VXC_PRINTF(3, 4);
	void (*change)(vxc_ctx *ctx, const char *fmt, ...) VXC_PRINTF(2, 3);

	/* Typed access to the driver's own settings block; defaults from the
	 * schema apply. Return 0, or -ENOENT for a name not in the schema. */
	int (*opt_int)(vxc_ctx *ctx, const char *name, long long *out);
	int (*opt_bool)(vxc_ctx *ctx, const char *name, int *out);
	int (*opt_string)(vxc_ctx *ctx, const char *name, const char **out);

	const char *(*host_name)(vxc_ctx *ctx);
	/* A directory of this driver's own under the node's state directory,
	 * created on first use. */
	const char *(*state_dir)(vxc_ctx *ctx);

	/* Named network namespaces, kept in the node's netns directory. */
	int (*netns_open)(vxc_ctx *ctx, const char *name);   /* fd, or -ENOENT */
	int (*netns_create)(vxc_ctx *ctx, const char *name); /* idempotent */
	int (*netns_delete)(vxc_ctx *ctx, const char *name); /* 0 when absent */
	int (*netns_list)(vxc_ctx *ctx, const char *prefix,
			  void (*cb)(void *arg, const char *name), void *arg);
	/* Switch the calling thread to netns_fd; *saved receives a handle to
	 * come back with netns_leave(). */
	int (*netns_enter)(vxc_ctx *ctx, int netns_fd, int *saved);
	int (*netns_leave)(vxc_ctx *ctx, int saved);

	/* Idempotent: creates or corrects the pair; reports changes. */
	int (*veth_ensure)(vxc_ctx *ctx, const struct vxc_veth *veth, unsigned flags);
	int (*link_delete)(vxc_ctx *ctx, const char *ifname); /* 0 when absent */

	/* Processes: spawn returns the PID; alive tells whether pid still runs
	 * the same program (guards against PID reuse); stop sends SIGTERM, waits
	 * up to timeout_ms, then SIGKILL. */
	int (*spawn)(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid);
	int (*proc_alive)(vxc_ctx *ctx, pid_t pid, const char *exe);
	int (*proc_stop)(vxc_ctx *ctx, pid_t pid, unsigned timeout_ms);

	/* ABI 1.1. A process is known by (PID, start time): a PID reused by
	 * another process never matches, a program that execs another
	 * (sh -c "exec prog") still does. spawn_recorded starts sp like spawn,
	 * with the environment variable VXCLOUD_OWNER naming this node's state
	 * directory, the driver and owner (e.g. "instance:web1"), and calls
	 * record before the process runs its program: killed at any point, a
	 * run leaves either no process or a recorded one. proc_running is 1
	 * when (pid, start) runs (not a zombie), else 0. proc_find calls found
	 * for every running process carrying owner's mark (children inherit it),
	 * so a damaged record is recovered and nothing is left behind.
	 * proc_stop_exact stops (pid, start) and never another process. */
	int (*spawn_recorded)(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *owner,
			      vxc_proc_record_fn record, void *arg, pid_t *pid);
	int (*proc_running)(vxc_ctx *ctx, pid_t pid, unsigned long long start);
	int (*proc_find)(vxc_ctx *ctx, const char *owner, vxc_proc_found_fn found, void *arg);
	int (*proc_stop_exact)(vxc_ctx *ctx, pid_t pid, unsigned long long start,
			       unsigned timeout_ms);
	/* ABI 1.5: the core's VXC_ABI_MINOR, so a driver knows which model
	 * fields the core fills (absent, i.e. size too small: 0). */
	uint32_t abi_minor;
	/* ABI 1.5: a fact about the object being ensured that is not a change
	 * (e.g. where its console log is): `status` shows it under the object. */
	void (*note)(vxc_ctx *ctx, const char *fmt, ...) VXC_PRINTF(2, 3);
};

/* The descriptor. Every plugin exports exactly one, const. */
struct vxc_plugin {
	uint32_t abi_major;  /* VXC_ABI_MAJOR the plugin was built against */
	uint32_t abi_minor;
	uint32_t size;       /* sizeof(struct vxc_plugin) as built */
	uint32_t concern;    /* enum vxc_concern */
	const char *name;    /* driver name chosen in the node config */
	const char *description;
	uint64_t caps;       /* VXC_CAP_* */
	const struct vxc_option *options; /* settings schema, or NULL */

	/* Make one driver instance. All state lives in *priv: plugins keep no
	 * globals, so two instances can coexist. */
	int (*open)(vxc_ctx *ctx, const struct vxc_services *svc, void **priv);
	void (*close)(void *priv);

	/* struct vxc_network_ops, vxc_nat_ops, vxc_lb_ops or vxc_compute_ops. */
	const void *ops;

	void *reserved[4];
};

/* The oldest descriptor layout the loader accepts: ABI 1.0, through ops. */
#define VXC_PLUGIN_MIN_SIZE (offsetof(struct vxc_plugin, ops) + sizeof(const void *))

#endif
