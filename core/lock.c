#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

static void write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
		(void)0; /* the PID is only a hint for the operator */
}

static long holder_pid(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return 0;
	return strtol(buf, NULL, 10);
}

int vxc_lock_acquire(const char *state_dir, int nowait)
{
	char *path;
	int fd, r;

	r = vxc_mkdir_p(state_dir, 0755);
	if (r < 0)
		return r;
	path = vxc_xasprintf("%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			r = -errno;
			close(fd);
			return r;
		}
		fprintf(stderr, "vxcloud: another run (pid %ld) holds %s/lock%s\n", holder_pid(fd),
			state_dir, nowait ? "" : "; waiting for it");
		if (nowait || flock(fd, LOCK_EX) < 0) {
			close(fd);
			return -EWOULDBLOCK;
		}
	}
	write_pid(fd);
	return fd;
}

void vxc_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
