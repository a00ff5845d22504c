/* Supervised processes: every process running in an instance's namespace
 * (the netns driver's command, double-forked so vxcloud is not its parent)
 * is watched through a pidfd, which becomes readable when it exits. The
 * namespace, not a driver's records, says whose process it is: that also
 * covers an agent started after the processes were. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"

struct ns_ino {
	ino_t ino;
	const char *inst;
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int watched(const struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->n_procs; i++)
		if (a->procs[i]->pid == pid)
			return 1;
	return 0;
}

/* 0, or -ESRCH when the process is gone already. */
static int watch_pid(struct agent *a, pid_t pid, const char *inst)
{
	struct agent_src *s;
	int fd = pidfd_open_(pid);

	if (fd < 0)
		return -errno;
	s = vxc_xcalloc(1, sizeof(*s));
	s->type = SRC_PIDFD;
	s->fd = fd;
	s->pid = pid;
	s->inst = vxc_xstrdup(inst);
	if (agent_watch_fd(a, s) < 0) {
		close(fd);
		free(s->inst);
		free(s);
		return 0;
	}
	a->procs = vxc_xrealloc(a->procs, (a->n_procs + 1) * sizeof(*a->procs));
	a->procs[a->n_procs++] = s;
	return 0;
}

/* The network namespace inode of every instance namespace that exists. */
static size_t instance_inodes(const struct agent *a, struct ns_ino *v)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = 0;

	for (size_t i = 0; a->plan && i < a->plan->n_instances; i++) {
		const struct vxc_instance *in = a->plan->instances[i];

		snprintf(path, sizeof(path), "%s/%s", a->nc->netns_dir, in->netns);
		if (stat(path, &st) == 0)
			v[n++] = (struct ns_ino){ st.st_ino, in->name };
	}
	return n;
}

static const char *owner_of(const struct ns_ino *v, size_t n, ino_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ino == ino)
			return v[i].inst;
	return NULL;
}

/* A driver started a process (ctx on_spawn): watched after the pass. */
void agent_procs_spawned(void *arg, pid_t pid, int netns_fd)
{
	struct agent *a = arg;
	struct stat st;

	if (netns_fd < 0 || fstat(netns_fd, &st) < 0)
		return;
	a->spawned = vxc_xrealloc(a->spawned, (a->n_spawned + 1) * sizeof(*a->spawned));
	a->spawned[a->n_spawned++] = (struct agent_spawned){ pid, st.st_ino };
}

/* A process that exited before the pass ended (a command failing at once)
 * has no pidfd to wait on: its exit is an event already. */
static void watch_spawned(struct agent *a, const struct ns_ino *v, size_t n)
{
	char why[64];

	for (size_t i = 0; i < a->n_spawned; i++) {
		const char *inst = owner_of(v, n, a->spawned[i].ns_ino);
		pid_t pid = a->spawned[i].pid;

		if (!inst || watched(a, pid) || watch_pid(a, pid, inst) != -ESRCH)
			continue;
		snprintf(why, sizeof(why), "process %d exited", (int)pid);
		agent_mark(a, VXC_KIND_INSTANCE, inst, why);
	}
	a->n_spawned = 0;
}

/* After each pass: watch processes new in instance namespaces. */
void agent_procs_sync(struct agent *a)
{
	struct ns_ino *v;
	struct dirent *de;
	char path[64], link[64];
	size_t n;
	DIR *d;

	if (!a->plan || !a->plan->n_instances) {
		a->n_spawned = 0;
		return;
	}
	v = vxc_xcalloc(a->plan->n_instances, sizeof(*v));
	n = instance_inodes(a, v);
	watch_spawned(a, v, n);
	d = n ? opendir("/proc") : NULL;
	while (d && (de = readdir(d))) {
		unsigned long long ino;
		pid_t pid = (pid_t)atoi(de->d_name);
		const char *inst;
		ssize_t len;

		if (pid <= 0 || pid == getpid() || watched(a, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "net:[%llu]", &ino) == 1 &&
		    (inst = owner_of(v, n, (ino_t)ino)))
			watch_pid(a, pid, inst);
	}
	if (d)
		closedir(d);
	free(v);
}

static void drop(struct agent *a, size_t i)
{
	struct agent_src *s = a->procs[i];

	agent_unwatch(a, s);
	free(s->inst);
	free(s);
	a->procs[i] = a->procs[--a->n_procs];
}

void agent_procs_exited(struct agent *a, struct agent_src *src)
{
	char why[128];

	snprintf(why, sizeof(why), "process %d exited", (int)src->pid);
	agent_mark(a, VXC_KIND_INSTANCE, src->inst, why);
	for (size_t i = 0; i < a->n_procs; i++)
		if (a->procs[i] == src) {
			drop(a, i);
			break;
		}
}

void agent_procs_fini(struct agent *a)
{
	while (a->n_procs)
		drop(a, a->n_procs - 1);
	free(a->procs);
	free(a->spawned);
	a->procs = NULL;
	a->spawned = NULL;
}
