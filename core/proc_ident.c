/* Processes known by identity: (PID, start time) from /proc/PID/stat, and
 * the owner mark (VXCLOUD_OWNER in the environment) that spawn_recorded
 * gives every process it starts. A PID alone names whatever runs under it
 * now; the start time (clock ticks since boot, field 22) tells a reused PID
 * apart, and survives execve, so `sh -c "exec prog"` stays the same
 * process. The mark survives a lost or damaged record. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "util.h"

/* Environments beyond this are not searched for the mark (the kernel caps
 * a process's strings far above any environment vxcloud gives). */
#define ENVIRON_MAX (256 * 1024)

ssize_t vxc_proc_read_file(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while ((size_t)got < size - 1) {
		n = read(fd, buf + got, size - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

int vxc_proc_read_stat(pid_t pid, struct vxc_proc_stat *st)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	int ppid = 0;

	if (pid <= 0 || !vxc_proc_read_file(pid, "stat", buf, sizeof(buf)))
		return -ESRCH;
	p = strrchr(buf, ')'); /* the command name may hold ')' and blanks */
	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice threads itrealvalue start */
	if (sscanf(p + 2, "%c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		   "%*s %*s %llu", &st->state, &ppid, &start) != 3)
		return -EIO;
	st->ppid = ppid;
	st->start = start;
	return 0;
}

static int is_running_state(char state)
{
	return state != 'Z' && state != 'X' && state != 'x';
}

int vxc_proc_running(vxc_ctx *ctx, pid_t pid, unsigned long long start)
{
	struct vxc_proc_stat st;

	(void)ctx;
	return vxc_proc_read_stat(pid, &st) == 0 && st.start == start &&
	       is_running_state(st.state);
}

char *vxc_proc_owner_env(vxc_ctx *ctx, const char *owner)
{
	return vxc_xasprintf("VXCLOUD_OWNER=%s/%s/%s", ctx->node_state_dir,
			     ctx->plugin ? ctx->plugin->name : "core", owner);
}

static int environ_has(pid_t pid, const char *mark, char *buf, size_t size)
{
	ssize_t n = vxc_proc_read_file(pid, "environ", buf, size);
	size_t mlen = strlen(mark);

	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strlen(p) == mlen && !memcmp(p, mark, mlen))
			return 1;
	return 0;
}

static pid_t pid_of(const char *name)
{
	long v;
	char *end;

	if (!isdigit((unsigned char)name[0]))
		return 0;
	v = strtol(name, &end, 10);
	return *end || v <= 0 || v > 0x3fffffff ? 0 : (pid_t)v;
}

int vxc_proc_find(vxc_ctx *ctx, const char *owner, vxc_proc_found_fn found, void *arg)
{
	char *mark, *buf;
	struct dirent *de;
	DIR *d;

	if (!owner || !*owner || !found)
		return vxc_ctx_error(ctx, -EINVAL, "find processes: no owner");
	d = opendir("/proc");
	if (!d)
		return vxc_ctx_error(ctx, -errno, "find processes of %s: /proc: %s", owner,
				     strerror(errno));
	mark = vxc_proc_owner_env(ctx, owner);
	buf = vxc_xmalloc(ENVIRON_MAX);
	while ((de = readdir(d))) {
		struct vxc_proc_stat st;
		pid_t pid = pid_of(de->d_name);

		if (!pid || pid == getpid() || !environ_has(pid, mark, buf, ENVIRON_MAX))
			continue;
		if (vxc_proc_read_stat(pid, &st) == 0 && is_running_state(st.state))
			found(arg, pid, st.start, st.ppid);
	}
	closedir(d);
	free(buf);
	free(mark);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Polls until (pid, start) no longer runs; reaps it when it happens to be
 * our own child (harmless ECHILD otherwise). */
static int wait_gone(pid_t pid, unsigned long long start, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (;;) {
		waitpid(pid, NULL, WNOHANG);
		if (!vxc_proc_running(NULL, pid, start))
			return 1;
		if (now_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
}

/* The signal goes only to (pid, start): checked right before sending, so
 * the window for a reuse is the few instructions in between. */
static int signal_exact(pid_t pid, unsigned long long start, int sig)
{
	if (!vxc_proc_running(NULL, pid, start))
		return 0;
	return kill(pid, sig) < 0 && errno != ESRCH ? -errno : 0;
}

int vxc_proc_stop_exact(vxc_ctx *ctx, pid_t pid, unsigned long long start, unsigned timeout_ms)
{
	int r;

	if (pid <= 0)
		return vxc_ctx_error(ctx, -EINVAL, "stop: invalid PID %d", (int)pid);
	r = signal_exact(pid, start, SIGTERM);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "stop PID %d: %s", (int)pid, strerror(-r));
	if (wait_gone(pid, start, timeout_ms))
		return 0;
	vxc_ctx_log(ctx, VXC_LOG_WARN, "PID %d ignored SIGTERM for %u ms; sending SIGKILL",
		    (int)pid, timeout_ms);
	r = signal_exact(pid, start, SIGKILL);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "stop PID %d: %s", (int)pid, strerror(-r));
	if (wait_gone(pid, start, 5000))
		return 0;
	return vxc_ctx_error(ctx, -ETIMEDOUT, "stop PID %d: still running after SIGKILL",
			     (int)pid);
}
