/* compute/netns: an instance is a named network namespace plus, when the
 * spec gives one, a command run inside it (on the host's filesystem) and
 * supervised by PID. Reaches the core only through the services table. */
#ifndef VXC_NETNS_DRIVER_H
#define VXC_NETNS_DRIVER_H

#include <sys/types.h>
#include <vxcloud/compute.h>

#define NETNS_PREFIX "vxi-"  /* namespace of instance I: vxi-I */
#define HOST_IF_PREFIX "vi-" /* host end of its NIC: vi-I */
#define PEER_IF "eth0"

struct netns_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	unsigned stop_timeout_ms;
};

#define OWNER_MAX 128 /* "instance:<name>", the owner mark of its processes */

/* The supervised command of one instance, as recorded in
 * <state_dir>/<name>.pid: PID and start time (its identity), program
 * (argv[0]) and a hash of the argv so a changed command in the spec
 * restarts it. */
struct proc_rec {
	pid_t pid;
	unsigned long long start;
	char exe[256];
	unsigned long long argv_hash;
};

unsigned long long proc_argv_hash(const char *const *argv);
/* 0 and *rec filled, -ENOENT when there is no record, -EBADMSG (warned)
 * when it is damaged, other -errno. */
int proc_rec_read(struct netns_drv *d, const char *name, struct proc_rec *rec);
int proc_rec_write(struct netns_drv *d, const char *name, const struct proc_rec *rec);
int proc_rec_remove(struct netns_drv *d, const char *name);
/* Path of a per-instance state file ("pid", "log"); NULL without state dir. */
char *state_file(struct netns_drv *d, const char *name, const char *ext);

/* The command of inst runs (started, restarted when dead or changed). */
int command_ensure(struct netns_drv *d, const struct vxc_instance *inst, int netns_fd,
		   unsigned flags);
/* Neither the recorded command of instance name nor any process carrying
 * its owner mark runs any more; the record goes. */
int command_stop(struct netns_drv *d, const char *name, unsigned flags);

int instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags);
int instance_list(void *priv, vxc_owned_cb cb, void *arg);
int instance_remove(void *priv, const struct vxc_owned *obj, unsigned flags);

#endif
