/* Opening what root will trust; see trust.h. The same rules as sudo and
 * OpenSSH apply to their trusted paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"
#include "util.h"

const char *vxc_fd_path(int fd, char buf[VXC_FD_PATHSZ])
{
	snprintf(buf, VXC_FD_PATHSZ, "/proc/self/fd/%d", fd);
	return buf;
}

static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "of unknown type";
}

/* "plugin file /a/b.so" or, for a directory above it, "directory /a, which
 * holds plugin file /a/b.so". */
static char *describe(const char *at, const char *what, const char *path, int is_target)
{
	if (is_target)
		return vxc_xasprintf("%s %s", what, path);
	return vxc_xasprintf("directory %s, which holds %s %s,", at, what, path);
}

static int refuse(char **why, int err, char *msg)
{
	*why = msg;
	return err;
}

/* Owner and mode of one step of the walk, checked on its descriptor. */
static int check_step(int fd, const char *at, const char *what, const char *path,
		      int is_target, char **why)
{
	struct stat st;
	char *who;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return refuse(why, -errno, vxc_xasprintf("cannot stat %s: %s", at, strerror(errno)));
	who = describe(at, what, path, is_target);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		r = refuse(why, -EACCES, vxc_xasprintf("%s is owned by uid %u, not root: chown root %s",
						       who, (unsigned)st.st_uid, at));
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		r = refuse(why, -EACCES, vxc_xasprintf("%s is writable by group or others (mode "
						       "%04o): chmod go-w %s", who,
						       (unsigned)(st.st_mode & 07777), at));
	free(who);
	return r;
}

static int check_type(int fd, const char *what, const char *path, mode_t type, char **why)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return refuse(why, -errno, vxc_xasprintf("cannot stat %s %s: %s", what, path,
							 strerror(errno)));
	if ((st.st_mode & S_IFMT) == type)
		return 0;
	return refuse(why, type == S_IFDIR ? -ENOTDIR : -EINVAL,
		      vxc_xasprintf("%s %s is %s, not %s", what, path, kind_of(st.st_mode),
				    type == S_IFDIR ? "a directory" : "a regular file"));
}

/* Opens the next component below dir, never through a symbolic link. */
static int step(int dir, const char *name, const char *at, const char *what, const char *path,
		char **why)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		return refuse(why, -ELOOP, vxc_xasprintf("%s changed while it was checked: %s is "
							 "now a symbolic link", path, at));
	return refuse(why, -errno, vxc_xasprintf("cannot open %s (for %s %s): %s", at, what, path,
						 strerror(errno)));
}

/* Walks the resolved path real from / down, checking each step. */
static int walk(const char *real, mode_t type, const char *what, const char *path, char **why)
{
	char *at = vxc_xstrdup(real), *end;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return refuse(why, -errno, vxc_xasprintf("cannot open /: %s", strerror(errno)));
	r = check_step(fd, "/", what, path, !real[1], why);
	for (char *name = at + 1; !r && *name; name = end + 1) {
		bool last;
		int next;

		end = strchrnul(name, '/');
		last = !*end;
		*end = '\0';
		next = step(fd, name, at, what, path, why);
		close(fd);
		fd = next;
		if (fd < 0) {
			r = fd;
			break;
		}
		if (!last || type == S_IFDIR)
			r = check_type(fd, last ? what : "directory", at, S_IFDIR, why);
		if (!r)
			r = check_step(fd, at, what, path, last, why);
		if (last)
			break;
		*end = '/';
	}
	free(at);
	if (!r)
		r = check_type(fd, what, path, type, why);
	if (r && fd >= 0)
		close(fd);
	return r ? r : fd;
}

int vxc_trusted_open(const char *path, mode_t type, const char *what, char **why)
{
	char *real = realpath(path, NULL);
	int fd;

	*why = NULL;
	if (!real)
		return refuse(why, -errno, vxc_xasprintf("cannot resolve %s %s: %s", what, path,
							 strerror(errno)));
	fd = walk(real, type, what, path, why);
	free(real);
	return fd;
}
