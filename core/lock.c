/* One run at a time per state directory. The lock lives outside the state
 * directory, in VXC_LOCK_DIR, under a name derived from the directory's
 * canonical path: deleting the state directory under a running run (or
 * replacing it) does not hand a second run a fresh, unheld lock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

#ifndef VXC_LOCK_DIR
#define VXC_LOCK_DIR "/run/lock/vxcloud"
#endif

/* FNV-1a: the lock name only has to tell state directories apart. */
static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

char *vxc_lock_path(const char *state_dir)
{
	char canon[PATH_MAX];
	int r = vxc_mkdir_p(state_dir, 0755);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (!realpath(state_dir, canon))
		return NULL;
	return vxc_xasprintf("%s/%016llx.lock", VXC_LOCK_DIR,
			     (unsigned long long)path_hash(canon));
}

/* "PID STATE_DIR": who holds it, and for which directory (an operator or a
 * test finds the lock of a state directory by its content). */
static void write_holder(int fd, const char *state_dir)
{
	char buf[PATH_MAX + 32];
	int n = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), state_dir);

	if (n > 0 && (size_t)n < sizeof(buf) && ftruncate(fd, 0) == 0 &&
	    pwrite(fd, buf, (size_t)n, 0) != n)
		(void)0; /* the content is only a hint for the operator */
}

static long holder_pid(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return 0;
	return strtol(buf, NULL, 10);
}

/* O_NOFOLLOW: a symlink planted where the lock goes is refused. */
static int open_lock_at(const char *path)
{
	int r = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	return r < 0 ? -errno : r;
}

static int open_lock(const char *path)
{
	int r = vxc_mkdir_p(VXC_LOCK_DIR, 0755);

	return r < 0 ? r : open_lock_at(path);
}

int vxc_lock_acquire(const char *state_dir, int nowait)
{
	char *path = vxc_lock_path(state_dir);
	int fd, r;

	if (!path)
		return -errno;
	fd = open_lock(path);
	if (fd == -EACCES || fd == -EPERM || fd == -EROFS) {
		/* Not root (a test, a dry run by hand): the lock directory is not
		 * ours to write; the state directory is. */
		free(path);
		path = vxc_xasprintf("%s/lock", state_dir);
		fd = open_lock_at(path);
	}
	if (fd < 0) {
		fprintf(stderr, "vxcloud: cannot open lock %s: %s\n", path, strerror(-fd));
		free(path);
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r != -EWOULDBLOCK)
			goto fail;
		fprintf(stderr, "vxcloud: another run (pid %ld) holds the lock of %s (%s)%s\n",
			holder_pid(fd), state_dir, path, nowait ? "" : "; waiting for it");
		if (nowait || flock(fd, LOCK_EX) < 0) {
			r = -EWOULDBLOCK;
			goto fail;
		}
	}
	free(path);
	write_holder(fd, state_dir);
	return fd;
fail:
	free(path);
	close(fd);
	return r;
}

void vxc_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
