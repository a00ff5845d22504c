/* The supervised haproxy of one balancer: its master's PID in
 * <dir>/master.pid, started through the host's spawn service, reloaded over
 * the master CLI, stopped by PID. Kept in this one file so a change of the
 * core's process supervision touches only it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

#define POLL_MS 20

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int alive(struct hap_drv *d, pid_t pid)
{
	return d->svc->proc_alive(d->ctx, pid, d->haproxy) == 1;
}

int hap_master_pid(struct hap_drv *d, const struct hap_paths *p, pid_t *pid)
{
	FILE *f = fopen(p->pid, "re");
	int v = 0;

	*pid = 0;
	if (!f)
		return errno == ENOENT ? -ENOENT
				       : d->svc->error(d->ctx, -errno, "read %s: %s", p->pid,
						       strerror(errno));
	if (fscanf(f, "%d", &v) != 1 || v <= 0)
		v = 0;
	fclose(f);
	*pid = v;
	return v && alive(d, v) ? 0 : -ESRCH;
}

static int write_pid(struct hap_drv *d, const char *lb, const struct hap_paths *p, pid_t pid)
{
	char text[32];
	int r;

	snprintf(text, sizeof(text), "%d\n", (int)pid);
	r = hap_write_file(p->pid, text);
	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: write %s: %s", lb, p->pid,
				     strerror(-r));
	return 0;
}

/* Polls the master CLI until a worker other than `old` serves. */
static int wait_worker(struct hap_drv *d, const char *lb, const struct hap_paths *p,
		       pid_t master, pid_t old, pid_t *worker)
{
	long long deadline = now_ms() + d->reload_timeout_ms;

	for (;;) {
		if (hap_worker_pid(d, p, worker) == 0 && *worker != old)
			return 0;
		if (!alive(d, master))
			return d->svc->error(d->ctx, -ECHILD, "load balancer %s: haproxy (PID %d) "
					     "exited; see %s", lb, (int)master, p->log);
		if (now_ms() >= deadline)
			return d->svc->error(d->ctx, -ETIMEDOUT, "load balancer %s: no new haproxy "
					     "worker after %u ms; see %s", lb, d->reload_timeout_ms,
					     p->log);
		pause_ms(POLL_MS);
	}
}

int hap_start(struct hap_drv *d, const char *lb, int netns_fd, const struct hap_paths *p)
{
	char master[320];
	const char *argv[] = { d->haproxy, "-W", "-S", master, "-f", p->cfg, NULL };
	struct vxc_spawn sp = { .argv = argv, .netns_fd = netns_fd, .log_path = p->log,
				.cwd = p->dir };
	pid_t pid, worker;
	int r;

	snprintf(master, sizeof(master), "%s,mode,600", p->master);
	unlink(p->master);
	r = d->svc->spawn(d->ctx, &sp, &pid);
	if (r < 0)
		return r;
	r = write_pid(d, lb, p, pid);
	if (r == 0)
		r = wait_worker(d, lb, p, pid, 0, &worker);
	if (r < 0 && alive(d, pid))
		d->svc->proc_stop(d->ctx, pid, d->stop_timeout_ms);
	return r;
}

/* The master re-executes itself with the file now in place and hands the
 * listening sockets to the new worker; the old one finishes its
 * connections. */
int hap_reload(struct hap_drv *d, const char *lb, const struct hap_paths *p)
{
	pid_t master, old, worker;
	char *ans = NULL;
	int r;

	if (hap_master_pid(d, p, &master) < 0)
		return d->svc->error(d->ctx, -ESRCH, "load balancer %s: haproxy is not running",
				     lb);
	r = hap_worker_pid(d, p, &old);
	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: master CLI %s: %s", lb,
				     p->master, strerror(-r));
	r = hap_cli(d, p->master, "reload", &ans);
	free(ans);
	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: reload over %s: %s", lb,
				     p->master, strerror(-r));
	return wait_worker(d, lb, p, master, old, &worker);
}

int hap_stop(struct hap_drv *d, const char *lb, const struct hap_paths *p, unsigned flags)
{
	pid_t pid;
	int r = hap_master_pid(d, p, &pid);

	if (r == 0) {
		d->svc->change(d->ctx, "load balancer %s: stop haproxy (PID %d)", lb, (int)pid);
		if (flags & VXC_F_DRY_RUN)
			return 0;
		r = d->svc->proc_stop(d->ctx, pid, d->stop_timeout_ms);
		if (r < 0)
			return r;
	} else if (r != -ENOENT && r != -ESRCH) {
		return r;
	}
	if (!(flags & VXC_F_DRY_RUN))
		unlink(p->pid);
	return 0;
}

static int exe_is_haproxy(struct hap_drv *d, pid_t pid)
{
	return d->svc->proc_alive(d->ctx, pid, d->haproxy) == 1;
}

/* Every haproxy whose network namespace is nsname's: what a run killed
 * between spawn and its PID record, or a lost record, leaves behind. */
int hap_sweep(struct hap_drv *d, const char *lb, const char *nsname, unsigned flags)
{
	char want[64], path[64], link[64];
	struct stat st;
	struct dirent *de;
	DIR *proc;
	int fd = d->svc->netns_open(d->ctx, nsname), r = 0;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0 || !(proc = opendir("/proc")))
		return r;
	snprintf(want, sizeof(want), "net:[%llu]", (unsigned long long)st.st_ino);
	while (r == 0 && (de = readdir(proc))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		ssize_t n;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || (link[n] = '\0', strcmp(link, want)) || !exe_is_haproxy(d, pid))
			continue;
		d->svc->change(d->ctx, "load balancer %s: stop leftover haproxy (PID %d) in %s",
			       lb, (int)pid, nsname);
		if (!(flags & VXC_F_DRY_RUN))
			r = d->svc->proc_stop(d->ctx, pid, d->stop_timeout_ms);
	}
	closedir(proc);
	return r;
}

/* haproxy's alerts from its output, on one line; all of the output when it
 * has none. */
static void alerts_only(char *out, size_t size)
{
	char copy[2048], *save = NULL;
	size_t len = 0;

	snprintf(copy, sizeof(copy), "%s", out);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strstr(l, "[ALERT]") || len + 2 >= size)
			continue;
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", l);
		if (len >= size)
			len = size - 1;
	}
	if (len)
		return;
	for (char *c = out; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

/* `haproxy -c -f file` (not -q: that silences the alerts too) by fork +
 * execve; its words come back through a pipe so a refusal says what haproxy
 * found. */
int hap_validate_file(struct hap_drv *d, const char *lb, const char *file)
{
	const char *argv[] = { d->haproxy, "-c", "-f", file, NULL };
	static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char out[2048] = "", chunk[512];
	size_t len = 0;
	int pfd[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return d->svc->error(d->ctx, -errno, "load balancer %s: pipe: %s", lb,
				     strerror(errno));
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul < 0 || dup2(nul, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(pfd[1]);
	/* Read to the end, keeping the start: a full pipe would block haproxy. */
	while (pid > 0 && (n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		keep = (size_t)n < sizeof(out) - 1 - len ? (size_t)n : sizeof(out) - 1 - len;
		memcpy(out + len, chunk, keep);
		len += keep;
	}
	out[len] = '\0';
	close(pfd[0]);
	if (pid < 0)
		return d->svc->error(d->ctx, -errno, "load balancer %s: fork: %s", lb,
				     strerror(errno));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	alerts_only(out, sizeof(out));
	return d->svc->error(d->ctx, -EINVAL, "load balancer %s: haproxy -c refused the new "
			     "configuration (the running one is kept): %s",
			     lb, *out ? out : "no message");
}
