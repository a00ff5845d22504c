/* The files of a balancer under <state_dir>/<name>/, read and written
 * whole; a write goes to a temporary file renamed into place, so haproxy
 * never reads half a configuration. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver.h"

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

static int put(struct hap_drv *d, char *buf, size_t len, const char *dir, const char *file)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, file) >= len)
		return d->svc->error(d->ctx, -ENAMETOOLONG, "state path %s/%s is too long", dir,
				     file);
	return 0;
}

int hap_paths(struct hap_drv *d, const char *name, struct hap_paths *p)
{
	const char *base = d->svc->state_dir(d->ctx);
	int r;

	if (!base)
		return d->svc->error(d->ctx, -EIO, "load balancer %s: no state directory", name);
	if ((r = put(d, p->dir, sizeof(p->dir), base, name)) < 0 ||
	    (r = put(d, p->cfg, sizeof(p->cfg), p->dir, "haproxy.cfg")) < 0 ||
	    (r = put(d, p->next, sizeof(p->next), p->dir, "haproxy.cfg.next")) < 0 ||
	    (r = put(d, p->master, sizeof(p->master), p->dir, "master.sock")) < 0 ||
	    (r = put(d, p->stats, sizeof(p->stats), p->dir, "stats.sock")) < 0 ||
	    (r = put(d, p->pid, sizeof(p->pid), p->dir, "master.pid")) < 0 ||
	    (r = put(d, p->log, sizeof(p->log), p->dir, "haproxy.log")) < 0)
		return r;
	if (strlen(p->master) >= SUN_PATH_MAX)
		return d->svc->error(d->ctx, -ENAMETOOLONG, "load balancer %s: socket path %s is "
				     "longer than %zu characters; choose a shorter state_dir",
				     name, p->master, SUN_PATH_MAX - 1);
	return 0;
}

int hap_read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	*out = NULL;
	if (!f)
		return -errno;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = 2 * cap + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int hap_write_file(const char *path, const char *text)
{
	char tmp[400];
	size_t len = strlen(text);
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = -errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}
