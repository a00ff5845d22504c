/* The per-instance copy-on-write overlay over the base image, made by
 * qemu-img (fork + execve with an argument vector, never a shell) and
 * removed with the instance. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"

/* qcow2 images start with "QFI\xfb"; anything else is taken as raw. */
const char *lv_image_format(const char *path)
{
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	return n == 4 && !memcmp(magic, "QFI\xfb", 4) ? "qcow2" : "raw";
}

/* Runs argv, waits for it; its stderr (first line) goes to err. */
static int run(const char *const *argv, char *err, size_t errsz)
{
	int pfd[2], status = 0;
	pid_t pid;
	ssize_t n;

	err[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "cannot execute %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], err, errsz - 1);
	err[n > 0 ? n : 0] = '\0';
	err[strcspn(err, "\n")] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int lv_overlay_create(struct lv_drv *d, const struct lv_want *w, unsigned flags)
{
	const char *argv[] = { d->qemu_img, "create", "-q", "-f", "qcow2", "-F",
			       w->image_format, "-b", w->image, w->overlay, NULL };
	char err[512];
	int r;

	d->svc->change(d->ctx, "instance %s: create overlay %s over %s", w->name, w->overlay,
		       w->image);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	unlink(w->overlay); /* a half-made one from a run that was killed */
	r = run(argv, err, sizeof(err));
	if (r < 0)
		return d->svc->error(d->ctx, r, "instance %s: %s create %s failed: %s", w->name,
				     d->qemu_img, w->overlay, err[0] ? err : strerror(-r));
	return 0;
}

int lv_overlay_remove(struct lv_drv *d, const char *who, const char *path, unsigned flags)
{
	struct stat st;

	if (!path || !path[0] || lstat(path, &st) < 0)
		return 0;
	d->svc->change(d->ctx, "%s: remove overlay %s", who, path);
	if (!(flags & VXC_F_DRY_RUN) && unlink(path) < 0 && errno != ENOENT)
		return d->svc->error(d->ctx, -errno, "%s: remove %s: %s", who, path,
				     strerror(errno));
	return 0;
}
