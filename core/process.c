/* Daemons started by fork + execve with an argument vector (never a shell),
 * optionally inside a network namespace, and supervised by PID.
 *
 * spawn double-forks: the daemon is re-parented to init (no zombie of the
 * short-lived vxcloud process) and leads its own session. A close-on-exec
 * pipe carries the daemon's PID and, when execve fails, the errno back, so
 * spawn returns -errno instead of leaving a silent child death behind.
 *
 * The daemon then waits on a socket for a go-ahead before it execs: the
 * caller records (PID, start time) first. If vxcloud dies before the
 * go-ahead, the daemon reads end-of-file and exits without running the
 * program -- a killed run leaves no unrecorded process behind. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "util.h"

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
	int go_fd, go_peer; /* the daemon waits on go_fd; vxcloud writes go_peer */
};

/* One byte: run the program. End-of-file: vxcloud is gone or refused. */
static int wait_go(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 && c == 'g';
}

/* The daemon. Only async-signal-safe calls between fork and execve. */
static void __attribute__((noreturn)) run_daemon(const struct vxc_spawn *sp, const char *path,
						 const char *const *envp,
						 const struct spawn_fds *fds)
{
	setsid();
	reset_signals();
	if (!wait_go(fds->go_fd))
		_exit(0);
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

	close(fds->go_peer); /* only vxcloud may hold it: its death is the daemon's EOF */
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

struct recorder {
	vxc_proc_record_fn fn; /* NULL: plain spawn, no record */
	void *arg;
	int err;
};

/* The daemon's PID arrived: record its identity, then let it exec. */
static void go_ahead(vxc_ctx *ctx, const char *name, pid_t pid, struct recorder *rec,
		     int *go_peer)
{
	struct vxc_proc_stat st;

	if (rec->fn) {
		if (vxc_proc_read_stat(pid, &st) < 0)
			rec->err = vxc_ctx_error(ctx, -ECHILD, "spawn %s: PID %d vanished before "
						 "it was recorded", name, (int)pid);
		else
			rec->err = rec->fn(rec->arg, pid, st.start);
	}
	if (!rec->err && send(*go_peer, "g", 1, MSG_NOSIGNAL) != 1)
		rec->err = vxc_ctx_error(ctx, -ECHILD, "spawn %s: PID %d died before it ran "
					 "the program", name, (int)pid);
	close(*go_peer); /* refused: the daemon reads EOF and exits */
	*go_peer = -1;
}

/* Reads reports until every write end is closed: the middle child exited
 * and the daemon either exec'd (close-on-exec) or exited. */
static int collect(vxc_ctx *ctx, const char *name, int rfd, int *go_peer, struct recorder *rec,
		   pid_t *pid)
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
		if (m.step == STEP_PID && *go_peer >= 0) {
			*pid = m.val;
			go_ahead(ctx, name, *pid, rec, go_peer);
		} else if (!err && m.step > STEP_PID && m.step <= STEP_EXEC) {
			err = m.val;
			step = m.step;
		}
	}
	if (rec->err)
		return rec->err;
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
		/* O_NOFOLLOW: a symlink planted as the log never redirects it. */
		fds->log_fd = open(sp->log_path,
				   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
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

/* The environment the program gets: the caller's (or the default) plus
 * the owner mark. Built before fork: no allocation in the children. */
static const char **build_env(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *owner,
			      char **mark)
{
	const char *const *src = sp->envp ? sp->envp : default_env;
	const char **env;
	size_t n = 0;

	*mark = NULL;
	while (src[n])
		n++;
	env = vxc_xcalloc(n + 2, sizeof(*env));
	memcpy(env, src, n * sizeof(*env));
	if (owner) {
		*mark = vxc_proc_owner_env(ctx, owner);
		env[n] = *mark;
	}
	return env;
}

static int start(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *path,
		 const char *const *envp, struct recorder *rec, pid_t *pid)
{
	struct spawn_fds fds = { -1, -1, -1, -1, -1 };
	int pfd[2], go[2], r, status;
	pid_t mid;

	r = open_fds(ctx, sp, sp->argv[0], &fds);
	if (r < 0)
		return r;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close_fds(&fds);
		return vxc_ctx_error(ctx, -errno, "spawn %s: pipe: %s", sp->argv[0],
				     strerror(errno));
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		close_fds(&fds);
		return vxc_ctx_error(ctx, r, "spawn %s: socketpair: %s", sp->argv[0],
				     strerror(-r));
	}
	fds.report_fd = pfd[1];
	fds.go_fd = go[0];
	fds.go_peer = go[1];
	mid = fork();
	if (mid == 0)
		run_middle(sp, path, envp, &fds);
	r = mid < 0 ? -errno : 0;
	close(pfd[1]);
	close(go[0]);
	close_fds(&fds);
	if (r == 0) {
		r = collect(ctx, sp->argv[0], pfd[0], &go[1], rec, pid);
		while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
			;
	} else {
		r = vxc_ctx_error(ctx, r, "spawn %s: fork: %s", sp->argv[0], strerror(-r));
	}
	if (go[1] >= 0)
		close(go[1]);
	close(pfd[0]);
	return r;
}

int vxc_spawn_recorded(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *owner,
		       vxc_proc_record_fn record, void *arg, pid_t *pid)
{
	struct recorder rec = { record, arg, 0 };
	const char **envp;
	char path[PATH_MAX], *mark;
	int r;

	if (!sp || !sp->argv || !sp->argv[0] || !*sp->argv[0])
		return vxc_ctx_error(ctx, -EINVAL, "spawn: empty command");
	if (owner && (!*owner || strchr(owner, '\n')))
		return vxc_ctx_error(ctx, -EINVAL, "spawn %s: invalid owner '%s'", sp->argv[0],
				     owner);
	envp = build_env(ctx, sp, owner, &mark);
	r = resolve(sp->argv[0], env_path(envp), path);
	if (r < 0)
		r = vxc_ctx_error(ctx, r, "spawn %s: %s in PATH %s", sp->argv[0],
				  r == -ENOENT ? "not found" : strerror(-r), env_path(envp));
	else
		r = start(ctx, sp, path, envp, &rec, pid);
	free(envp);
	free(mark);
	return r;
}

int vxc_spawn(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid)
{
	return vxc_spawn_recorded(ctx, sp, NULL, NULL, NULL, pid);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* 'Z' (zombie) and 'X' (dead) no longer run anything. */
static int running(pid_t pid)
{
	struct vxc_proc_stat st;

	return vxc_proc_read_stat(pid, &st) == 0 && st.state != 'Z' && st.state != 'X';
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
	return vxc_proc_read_file(pid, "cmdline", buf, sizeof(buf)) && !strcmp(base_name(buf), want);
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
