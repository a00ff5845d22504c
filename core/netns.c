/* Named network namespaces kept as bind mounts of nsfs files in the node's
 * netns directory, the way iproute2 keeps /run/netns: other tools (ip netns,
 * nsenter --net=FILE) see and enter them. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "nl.h"
#include "util.h"

#define DEFAULT_NETNS_DIR "/run/netns"

static const char *netns_dir(const vxc_ctx *ctx)
{
	return ctx->netns_dir ? ctx->netns_dir : DEFAULT_NETNS_DIR;
}

/* A name becomes a file in netns_dir: keep it to one path component. */
static int check_name(vxc_ctx *ctx, const char *name)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) >= VXC_NETNS_NAMSIZ)
		return vxc_ctx_error(ctx, -EINVAL, "netns '%s': invalid name (1 to %d characters, "
				     "no '/')", name ? name : "", VXC_NETNS_NAMSIZ - 1);
	return 0;
}

static int ns_path(vxc_ctx *ctx, const char *name, char path[PATH_MAX])
{
	int r = check_name(ctx, name);

	if (r < 0)
		return r;
	if (snprintf(path, PATH_MAX, "%s/%s", netns_dir(ctx), name) >= PATH_MAX)
		return vxc_ctx_error(ctx, -ENAMETOOLONG, "netns %s: path too long", name);
	return 0;
}

/* A file with nsfs mounted on it; an empty file left by a crash is not,
 * nor a symlink planted in the directory (never followed). */
static int is_nsfs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct statfs st;
	int yes;

	if (fd < 0)
		return 0;
	yes = fstatfs(fd, &st) == 0 && st.f_type == NSFS_MAGIC;
	close(fd);
	return yes;
}

int vxc_netns_open(vxc_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	struct statfs st;
	int fd, r;

	r = ns_path(ctx, name, path);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return r;
		if (r == -ELOOP)
			return vxc_ctx_error(ctx, r, "netns %s: %s is a symlink; refusing to follow "
					     "it (remove it)", name, path);
		return vxc_ctx_error(ctx, r, "netns %s: open %s: %s", name, path, strerror(-r));
	}
	if (fstatfs(fd, &st) < 0 || st.f_type != NSFS_MAGIC) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* Make the directory a shared mount point (as iproute2 does), so that a
 * namespace mounted here shows up in, and an unmount here propagates to,
 * mount namespaces cloned later (ip netns exec, daemons with PrivateTmp). */
static int make_dir_shared(vxc_ctx *ctx, const char *dir)
{
	int bound = 0;

	while (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0) {
		int e = errno;

		if (e != EINVAL || bound)
			return vxc_ctx_error(ctx, -e, "netns dir %s: make shared mount: %s", dir,
					     strerror(e));
		if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
			return vxc_ctx_error(ctx, -errno, "netns dir %s: bind mount onto "
					     "itself: %s", dir, strerror(errno));
		bound = 1;
	}
	return 0;
}

enum { STEP_UNSHARE = 1, STEP_MOUNT = 2 };

struct child_fail {
	int step, err;
};

/* Runs in a forked child, so the caller's namespace never changes; only
 * async-signal-safe calls here. */
static void __attribute__((noreturn)) make_ns_child(const char *target, int report_fd)
{
	struct child_fail f = { 0, 0 };

	if (unshare(CLONE_NEWNET) < 0)
		f = (struct child_fail){ STEP_UNSHARE, errno };
	else if (mount("/proc/self/ns/net", target, "none", MS_BIND, NULL) < 0)
		f = (struct child_fail){ STEP_MOUNT, errno };
	if (f.step && write(report_fd, &f, sizeof(f)) != sizeof(f))
		_exit(2);
	_exit(f.step ? 1 : 0);
}

/* Mounts onto the very file opened (file_fd, O_NOFOLLOW) through its
 * /proc/self/fd link: a symlink swapped in meanwhile is never a target. */
static int make_ns(vxc_ctx *ctx, const char *name, const char *path, int file_fd)
{
	struct child_fail f = { 0, 0 };
	char target[64];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	snprintf(target, sizeof(target), "/proc/self/fd/%d", file_fd);

	if (pipe2(fds, O_CLOEXEC) < 0)
		return vxc_ctx_error(ctx, -errno, "netns %s: pipe: %s", name, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return vxc_ctx_error(ctx, -errno, "netns %s: fork: %s", name, strerror(errno));
	}
	if (pid == 0)
		make_ns_child(target, fds[1]);
	close(fds[1]);
	do
		n = read(fds[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (f.step == STEP_UNSHARE)
		return vxc_ctx_error(ctx, -f.err, "netns %s: unshare: %s", name, strerror(f.err));
	if (f.step == STEP_MOUNT)
		return vxc_ctx_error(ctx, -f.err, "netns %s: bind mount onto %s: %s", name, path,
				     strerror(f.err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return vxc_ctx_error(ctx, -ECHILD, "netns %s: helper process failed", name);
	return 0;
}

/* A new namespace has only a down loopback; everything in it expects lo. */
static int bring_lo_up(vxc_ctx *ctx, const char *name)
{
	struct nl_sock *sk;
	int fd, r;

	fd = vxc_netns_open(ctx, name);
	if (fd < 0)
		return fd == -ENOENT ? vxc_ctx_error(ctx, fd, "netns %s: vanished after creation",
						     name)
				     : fd;
	r = vxc_nl_open(ctx, fd, &sk);
	close(fd);
	if (r < 0)
		return r;
	r = vxc_nl_link_up(sk, "lo");
	nl_socket_free(sk);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "netns %s: bring lo up: %s", name, strerror(-r));
	return 0;
}

int vxc_netns_create(vxc_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd, r;

	r = ns_path(ctx, name, path);
	if (r < 0)
		return r;
	if (is_nsfs(path))
		return 0;
	r = vxc_mkdir_p(netns_dir(ctx), 0755);
	if (r < 0)
		return vxc_ctx_error(ctx, r, "netns %s: create directory %s: %s", name,
				     netns_dir(ctx), strerror(-r));
	r = make_dir_shared(ctx, netns_dir(ctx));
	if (r < 0)
		return r;
	/* An empty file left by an interrupted create is reused; a symlink
	 * planted in its place is refused (O_NOFOLLOW), never mounted onto. */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		return vxc_ctx_error(ctx, -errno, "netns %s: create %s: %s", name, path,
				     errno == ELOOP ? "it is a symlink; refusing to follow it"
						    : strerror(errno));
	r = make_ns(ctx, name, path, fd);
	close(fd);
	if (r == 0)
		r = bring_lo_up(ctx, name);
	if (r < 0) {
		char *msg = ctx->errmsg ? vxc_xstrdup(ctx->errmsg) : NULL;

		vxc_netns_delete(ctx, name);
		free(ctx->errmsg);
		ctx->errmsg = msg;
	}
	return r;
}

/* The file is a leftover of an interrupted create or delete (nothing is
 * mounted on it): not a namespace, but still a name vxcloud holds. */
static void report_leftover(vxc_ctx *ctx, const char *name, int was_ns, mode_t mode)
{
	if (!was_ns)
		vxc_ctx_change(ctx, "netns %s: remove %s", name,
			       S_ISLNK(mode) ? "the symlink planted in its place"
					     : "the empty file an interrupted run left");
}

int vxc_netns_delete(vxc_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int r, was_ns;

	r = ns_path(ctx, name, path);
	if (r < 0)
		return r;
	/* lstat: a symlink planted here is removed, never followed. */
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : vxc_ctx_error(ctx, -errno, "netns %s: %s: %s", name, path,
						       strerror(errno));
	was_ns = !S_ISLNK(st.st_mode) && is_nsfs(path);
	/* Racing creators can stack mounts; peel all of them. EINVAL: not
	 * (or no longer) a mount point. */
	for (int i = 0; i < 16; i++) {
		if (umount2(path, MNT_DETACH) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			break;
		return vxc_ctx_error(ctx, -errno, "netns %s: unmount %s: %s", name, path,
				     strerror(errno));
	}
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return vxc_ctx_error(ctx, -errno, "netns %s: remove %s: %s", name, path,
				     strerror(errno));
	}
	report_leftover(ctx, name, was_ns, st.st_mode);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, so plan output does not depend on directory order. */
int vxc_netns_list(vxc_ctx *ctx, const char *prefix, void (*cb)(void *arg, const char *name),
		   void *arg)
{
	size_t n = 0, cap = 0, plen = prefix ? strlen(prefix) : 0;
	char **names = NULL;
	struct dirent *de;
	DIR *d;

	d = opendir(netns_dir(ctx));
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return vxc_ctx_error(ctx, -errno, "netns dir %s: %s", netns_dir(ctx),
				     strerror(errno));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		if (plen && strncmp(de->d_name, prefix, plen))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = vxc_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = vxc_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		cb(arg, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

int vxc_netns_enter(vxc_ctx *ctx, int netns_fd, int *saved)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (cur < 0)
		return vxc_ctx_error(ctx, -errno, "netns: open the current namespace: %s",
				     strerror(errno));
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(cur);
		return vxc_ctx_error(ctx, -e, "netns: enter: %s", strerror(e));
	}
	*saved = cur;
	return 0;
}

int vxc_netns_leave(vxc_ctx *ctx, int saved)
{
	int r = 0;

	if (setns(saved, CLONE_NEWNET) < 0)
		r = vxc_ctx_error(ctx, -errno, "netns: return to the original namespace: %s",
				  strerror(errno));
	close(saved);
	return r;
}
