/* Daemons started by fork + execve with an argument vector (never a shell),
 * optionally inside a network namespace, and supervised by PID.
 *
 * spawn double-forks: the daemon is re-parented to init (no zombie of the
 * short-lived vxcloud process) and leads its own session. A close-on-exec
 * pipe carries the daemon's PID and, when execve fails, the errno back, so
 * spawn returns -errno instead of leaving a silent child death behind. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const default_env[] = { "PATH=" DEFAULT_PATH, NULL };

enum step { STEP_PID = 1, STEP_SETNS, STEP_FORK, STEP_CHDIR, STEP_EXEC };

static const char *const step_names[] = {
	[STEP_SETNS] = "enter the namespace",
	[STEP_FORK] = "fork",
	[STEP_CHDIR] = "change directory",
	[STEP_EXEC] = "execute",
};

struct spawn_msg {
	int step; /* STEP_PID: val is the daemon's PID; otherwise val is an errno */
	int val;
};

static void send_msg(int fd, int step, int val)
{
	struct spawn_msg m = { step, val };
	ssize_t n;

	do
		n = write(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
}

/* PATH from the environment the program will get, so the same name means
 * the same binary whatever vxcloud's own environment holds. */
static const char *env_path(const char *const *envp)
{
	for (; *envp; envp++)
		if (!strncmp(*envp, "PATH=", 5))
			return *envp + 5;
	return DEFAULT_PATH;
}

static int resolve(const char *name, const char *path, char out[PATH_MAX])
{
	const char *p = path, *end;
	int err = -ENOENT;
	struct stat st;

	if (strchr(name, '/')) {
		if (snprintf(out, PATH_MAX, "%s", name) >= PATH_MAX)
			return -ENAMETOOLONG;
		return 0;
	}
	for (; p; p = *end ? end + 1 : NULL) {
		int len;

		end = strchrnul(p, ':');
		len = (int)(end - p);
		if (snprintf(out, PATH_MAX, "%.*s/%s", len, len ? p : ".", name) >= PATH_MAX)
			continue;
		if (stat(out, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (access(out, X_OK) == 0)
			return 0;
		err = -EACCES;
	}
	return err;
}

/* Everything above stderr is closed on exec; the report pipe already is. */
static void cloexec_all_fds(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = 3; fd < 4096; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
}

struct spawn_fds {
	int null_fd, log_fd, report_fd;
};

/* The daemon. Only async-signal-safe calls between fork and execve. */
static void __attribute__((noreturn)) run_daemon(const struct vxc_spawn *sp, const char *path,
						 const char *const *envp,
						 const struct spawn_fds *fds)
{
	setsid();
	reset_signals();
	if (chdir(sp->cwd ? sp->cwd : "/") < 0) {
		send_msg(fds->report_fd, STEP_CHDIR, errno);
		_exit(127);
	}
	if (dup2(fds->null_fd, 0) < 0 || dup2(fds->log_fd, 1) < 0 || dup2(fds->log_fd, 2) < 0)
		_exit(127);
	cloexec_all_fds();
	execve(path, (char *const *)sp->argv, (char *const *)envp);
	send_msg(fds->report_fd, STEP_EXEC, errno);
	_exit(127);
}

/* The intermediate child: enters the namespace, forks the daemon, reports
 * its PID and exits, so the daemon's parent becomes init. */
static void __attribute__((noreturn)) run_middle(const struct vxc_spawn *sp, const char *path,
						 const char *const *envp,
						 const struct spawn_fds *fds)
{
	pid_t pid;

	if (sp->netns_fd >= 0 && setns(sp->netns_fd, CLONE_NEWNET) < 0) {
		send_msg(fds->report_fd, STEP_SETNS, errno);
		_exit(1);
	}
	pid = fork();
	if (pid < 0) {
		send_msg(fds->report_fd, STEP_FORK, errno);
		_exit(1);
	}
	if (pid == 0)
		run_daemon(sp, path, envp, fds);
	send_msg(fds->report_fd, STEP_PID, pid);
	_exit(0);
}

/* Reads reports until every write end is closed: the middle child exited
 * and the daemon either exec'd (close-on-exec) or exited. */
static int collect(vxc_ctx *ctx, const char *name, int rfd, pid_t *pid)
{
	struct spawn_msg m;
	int err = 0, step = 0;
	ssize_t n;

	*pid = 0;
	for (;;) {
		n = read(rfd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			break;
		if (m.step == STEP_PID)
			*pid = m.val;
		else if (!err && m.step > STEP_PID && m.step <= STEP_EXEC) {
			err = m.val;
			step = m.step;
		}
	}
	if (err)
		return vxc_ctx_error(ctx, -err, "spawn %s: %s: %s", name, step_names[step],
				     strerror(err));
	if (*pid <= 0)
		return vxc_ctx_error(ctx, -ECHILD, "spawn %s: the helper process died", name);
	return 0;
}

static int open_fds(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *name,
		    struct spawn_fds *fds)
{
	fds->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fds->null_fd < 0)
		return vxc_ctx_error(ctx, -errno, "spawn %s: open /dev/null: %s", name,
				     strerror(errno));
	fds->log_fd = fds->null_fd;
	if (sp->log_path) {
		fds->log_fd = open(sp->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fds->log_fd < 0) {
			int e = errno;

			close(fds->null_fd);
			return vxc_ctx_error(ctx, -e, "spawn %s: open log %s: %s", name,
					     sp->log_path, strerror(e));
		}
	}
	return 0;
}

static void close_fds(struct spawn_fds *fds)
{
	if (fds->log_fd != fds->null_fd)
		close(fds->log_fd);
	close(fds->null_fd);
}

int vxc_spawn(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid)
{
	const char *const *envp;
	struct spawn_fds fds = { -1, -1, -1 };
	char path[PATH_MAX];
	int pfd[2], r, status;
	pid_t mid;

	if (!sp || !sp->argv || !sp->argv[0] || !*sp->argv[0])
		return vxc_ctx_error(ctx, -EINVAL, "spawn: empty command");
	envp = sp->envp ? sp->envp : default_env;
	r = resolve(sp->argv[0], env_path(envp), path);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "spawn %s: %s in PATH %s", sp->argv[0],
				     r == -ENOENT ? "not found" : strerror(-r), env_path(envp));
	r = open_fds(ctx, sp, sp->argv[0], &fds);
	if (r < 0)
		return r;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close_fds(&fds);
		return vxc_ctx_error(ctx, -errno, "spawn %s: pipe: %s", sp->argv[0],
				     strerror(errno));
	}
	fds.report_fd = pfd[1];
	mid = fork();
	if (mid == 0)
		run_middle(sp, path, envp, &fds);
	r = mid < 0 ? -errno : 0;
	close(pfd[1]);
	close_fds(&fds);
	if (r == 0) {
		r = collect(ctx, sp->argv[0], pfd[0], pid);
		while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
			;
	} else {
		r = vxc_ctx_error(ctx, r, "spawn %s: fork: %s", sp->argv[0], strerror(-r));
	}
	close(pfd[0]);
	return r;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The start of /proc/PID/FILE, NUL-terminated; 0 when unreadable or empty. */
static ssize_t read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return n;
}

/* 'Z' (zombie) and 'X' (dead) no longer run anything. */
static int running(pid_t pid)
{
	char buf[512], *paren;

	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return 0;
	paren = strrchr(buf, ')'); /* the command name may hold ')' */
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2] != 'Z' && paren[2] != 'X';
}

static int exe_matches(pid_t pid, const char *want)
{
	char path[64], buf[PATH_MAX];
	const char *deleted = " (deleted)";
	size_t dl = strlen(deleted);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if ((size_t)n > dl && !strcmp(buf + n - dl, deleted))
			buf[n - dl] = '\0'; /* upgraded underneath: still the same program */
		if (!strcmp(base_name(buf), want))
			return 1;
	}
	/* Multi-call binaries (busybox httpd) are known by argv[0]. */
	return read_proc(pid, "cmdline", buf, sizeof(buf)) && !strcmp(base_name(buf), want);
}

int vxc_proc_alive(vxc_ctx *ctx, pid_t pid, const char *exe)
{
	if (pid <= 0 || !running(pid))
		return 0;
	return exe ? exe_matches(pid, base_name(exe)) : 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Polls until pid no longer runs; reaps it when it happens to be our own
 * child (harmless ECHILD otherwise). */
static int wait_gone(pid_t pid, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (;;) {
		waitpid(pid, NULL, WNOHANG);
		if (!running(pid))
			return 1;
		if (now_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
}

int vxc_proc_stop(vxc_ctx *ctx, pid_t pid, unsigned timeout_ms)
{
	if (pid <= 0)
		return vxc_ctx_error(ctx, -EINVAL, "stop: invalid PID %d", (int)pid);
	if (kill(pid, SIGTERM) < 0)
		return errno == ESRCH ? 0
				      : vxc_ctx_error(ctx, -errno, "stop PID %d: %s", (int)pid,
						      strerror(errno));
	if (wait_gone(pid, timeout_ms))
		return 0;
	vxc_ctx_log(ctx, VXC_LOG_WARN, "PID %d ignored SIGTERM for %u ms; sending SIGKILL",
		    (int)pid, timeout_ms);
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return vxc_ctx_error(ctx, -errno, "stop PID %d: %s", (int)pid, strerror(errno));
	if (wait_gone(pid, 5000))
		return 0;
	return vxc_ctx_error(ctx, -ETIMEDOUT, "stop PID %d: still running after SIGKILL",
			     (int)pid);
}
