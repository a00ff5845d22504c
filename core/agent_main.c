/* vxcloudd: the per-host agent (see agent.h and vxcloudd(8)). One thread,
 * one epoll loop: signals, inotify, netlink sockets, pidfds, the control
 * socket, compute engines' event streams; the next due pass sets the
 * loop's timeout. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"

#define DEFAULT_INTERVAL_S 60

int64_t agent_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t agent_now_ms(void)
{
	return agent_now_us() / 1000;
}

void agent_log(const char *fmt, ...)
{
	va_list ap;

	fputs("vxcloudd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int agent_watch_fd(struct agent *a, struct agent_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

void agent_unwatch(struct agent *a, struct agent_src *src)
{
	if (src->fd < 0)
		return;
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	close(src->fd);
	src->fd = -1;
}

/* systemd's readiness protocol (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET. */
static void sd_notify_(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		(void)0; /* systemd gone: nothing to tell */
	close(fd);
}

static int open_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sigdelset(&set, SIGPIPE);
	a->sig.type = SRC_SIGNAL;
	a->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sig.fd < 0 ? -errno : agent_watch_fd(a, &a->sig);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			agent_log("SIGHUP: reloading the node config");
			sd_notify_("RELOADING=1");
			a->reload_dirty = 1;
			agent_schedule(a, agent_now_ms());
		} else {
			/* Stopping is not destroying: the host stays as it is. */
			agent_log("%s: stopping; the host is left as it is",
				  si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			a->stop = 1;
		}
	}
}

static void dispatch(struct agent *a, struct agent_src *src)
{
	switch (src->type) {
	case SRC_SIGNAL:
		on_signal(a);
		break;
	case SRC_INOTIFY:
		agent_inotify_read(a);
		break;
	case SRC_CONTROL:
		agent_control_accept(a);
		break;
	case SRC_RTNL:
	case SRC_NFT:
		agent_watch_read(a, src);
		break;
	case SRC_PIDFD:
		agent_procs_exited(a, src);
		break;
	case SRC_ENGINE:
		agent_engines_read(a, src);
		break;
	case SRC_STORE:
		agent_store_read(a);
		break;
	}
}

static int timeout_ms(const struct agent *a)
{
	int64_t now = agent_now_ms(), next = a->due_ms;

	if (a->periodic_at_ms && (!next || a->periodic_at_ms < next))
		next = a->periodic_at_ms;
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now < 3600000 ? next - now : 3600000);
}

static void loop(struct agent *a)
{
	struct epoll_event evs[32];
	int reloading = 0;

	while (!a->stop) {
		int n = epoll_wait(a->epfd, evs, VXC_ARRAY_SIZE(evs), timeout_ms(a));

		if (n < 0 && errno != EINTR) {
			agent_log("fatal: epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n && !a->stop; i++)
			dispatch(a, evs[i].data.ptr);
		if (a->stop)
			return;
		reloading = a->reload_dirty;
		agent_run_due(a);
		agent_engines_sync(a);
		agent_store_publish(a);
		if (reloading && !a->reload_dirty)
			sd_notify_("READY=1");
	}
}

static void usage(FILE *f)
{
	fputs("usage: vxcloudd [--config FILE] [--spec FILE] [--host NAME] [--interval SECONDS]\n"
	      "                [--socket PATH] [-v]\n"
	      "keeps this host matching the cloud spec; see vxcloudd(8)\n",
	      f);
}

static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "spec", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "interval", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	o->interval_s = DEFAULT_INTERVAL_S;
	while ((c = getopt_long(argc, argv, "c:s:H:i:S:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->spec = optarg; break;
		case 'H': o->host = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		case 'V': puts("vxcloudd " PACKAGE_VERSION); exit(0);
		case 'i':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 86400) {
				fprintf(stderr, "vxcloudd: --interval: '%s' is not a number of "
						"seconds from 1 to 86400\n",
					optarg);
				return -1;
			}
			o->interval_s = (unsigned)v;
			break;
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Two descriptors per namespace and one per process watched: a host with
 * a thousand instances needs more than the usual soft limit of 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int start(struct agent *a)
{
	int r;

	raise_fd_limit();
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return -errno;
	if ((r = open_signals(a)) < 0 || (r = agent_inotify_init(a)) < 0) {
		agent_log("fatal: %s", strerror(-r));
		return r;
	}
	if (agent_open(a) < 0)
		return -EINVAL;
	r = agent_control_open(a);
	if (r == -EADDRINUSE) {
		agent_log("fatal: another agent answers on %s/agent.sock", a->nc->state_dir);
		return r;
	}
	if (r < 0) {
		agent_log("fatal: control socket: %s", strerror(-r));
		return r;
	}
	agent_inotify_sync(a);
	if (agent_spec_in_store(a)) {
		/* The first spec comes from the watch thread (SRC_STORE). */
		if ((r = agent_store_start(a)) < 0)
			return r;
	} else {
		agent_load_spec(a);
	}
	agent_run_due(a);
	agent_watch_sync(a);
	agent_engines_sync(a);
	return 0;
}

int main(int argc, char **argv)
{
	struct agent a = { .epfd = -1, .inofd = -1, .spec_wd = -1, .netns_wd = -1 };
	int r;

	a.sig.fd = a.ctl.fd = a.store_src.fd = -1;
	if (parse_args(argc, argv, &a.opt) < 0)
		return 2;
	setvbuf(stderr, NULL, _IOLBF, 0);
	/* Before any thread: the etcd client's handles (agent_store.c). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	a.started_ms = agent_now_ms();
	r = start(&a);
	if (r == 0) {
		sd_notify_("READY=1");
		loop(&a);
		sd_notify_("STOPPING=1");
	}
	agent_store_stop(&a);
	agent_procs_fini(&a);
	agent_engines_fini(&a);
	agent_watch_fini(&a);
	agent_inotify_fini(&a);
	agent_control_close(&a);
	agent_unwatch(&a, &a.sig);
	if (a.nc)
		agent_close(&a);
	if (a.epfd >= 0)
		close(a.epfd);
	curl_global_cleanup();
	return r == 0 ? 0 : r == -EINVAL ? 3 : 1;
}
