/* compute/netns: an instance is a named network namespace plus, when the
 * spec gives one, a command run inside it (on the host's filesystem) and
 * supervised by PID. Reaches the core only through the services table. */
#ifndef VXC_NETNS_DRIVER_H
#define VXC_NETNS_DRIVER_H

#include <net/if.h>
#include <sys/types.h>
#include <vxcloud/compute.h>

#define NETNS_PREFIX "vxi-"  /* namespace of instance I: vxi-I */
#define HOST_IF_PREFIX "vi-" /* host end of its NIC: vi-I */
#define PEER_IF "eth0"

struct netns_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	unsigned stop_timeout_ms;
	char (*reap)[IF_NAMESIZE]; /* host ends going with their namespace */
	size_t n_reap, cap_reap;
	/* Names with a PID record when the run began, sorted (read once, so
	 * an instance without a command costs no failed open); off (stale)
	 * once this run writes a record not listed. */
	char **recs;
	size_t n_recs;
	int recs_state; /* 0 not read, 1 valid, -1 stale or unreadable */
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
void proc_recs_free(struct netns_drv *d);
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

/* reap.c: host_if goes away with its (deleted) namespace; reap_wait waits
 * for all of them at once and deletes the ones still there by request. */
int reap_note(struct netns_drv *d, const char *host_if);
int reap_noted(const struct netns_drv *d, const char *host_if);
void reap_wait(struct netns_drv *d);

int instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags);
int instance_list(void *priv, vxc_owned_cb cb, void *arg);
int instance_remove(void *priv, const struct vxc_owned *obj, unsigned flags);

#endif
