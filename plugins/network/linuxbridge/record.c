/* The provider's records (see record.h): one line per file, replaced
 * atomically, so a crash leaves the old record or the new one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lbr.h"
#include "record.h"

#define UPLINK_FILE "provider.uplink"
#define BRIDGE_FILE "provider.bridge"

static int rec_path(struct lbr *p, const char *file, char path[PATH_MAX])
{
	const char *dir = p->svc->state_dir(p->ctx);

	if (!dir)
		return lbr_error(p, -EIO, "provider: no state directory for the driver's records");
	if ((size_t)snprintf(path, PATH_MAX, "%s/%s", dir, file) >= PATH_MAX)
		return lbr_error(p, -ENAMETOOLONG, "provider: state directory path too long");
	return 0;
}

/* Records are files vxcloud wrote: a symlink planted in the state
 * directory is never followed, for reading or writing. */
static FILE *fopen_nofollow(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "r")))
		close(fd);
	return f;
}

/* A fresh file: whatever had the temporary name goes first. */
static FILE *fcreate_nofollow(const char *path)
{
	int fd;
	FILE *f;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "w")))
		close(fd);
	return f;
}

/* 1 and the first line in buf, 0 when the file does not exist. */
static int rec_read(struct lbr *p, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	int err = rec_path(p, file, path);

	if (err < 0)
		return err;
	f = fopen_nofollow(path);
	if (!f && errno == ENOENT)
		return 0;
	if (!f)
		return lbr_error(p, -errno, "provider: cannot read %s: %s", path, strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	return 1;
}

static int rec_write(struct lbr *p, const char *file, const char *line)
{
	char path[PATH_MAX], tmp[PATH_MAX + 4];
	FILE *f;
	int err = rec_path(p, file, path);

	if (err < 0)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fcreate_nofollow(tmp);
	if (!f)
		return lbr_error(p, -errno, "provider: cannot write %s: %s", tmp, strerror(errno));
	err = fputs(line, f) < 0 || fflush(f) || fsync(fileno(f)) ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err < 0) {
		unlink(tmp);
		return lbr_error(p, err, "provider: cannot write %s: %s", path, strerror(-err));
	}
	return 0;
}

static int rec_forget(struct lbr *p, const char *file)
{
	char path[PATH_MAX];
	int err = rec_path(p, file, path);

	if (err < 0)
		return err;
	if (unlink(path) < 0 && errno != ENOENT)
		return lbr_error(p, -errno, "provider: cannot remove %s: %s", path,
				 strerror(errno));
	return 0;
}

int lbr_uplink_rec_read(struct lbr *p, struct lbr_uplink_rec *r)
{
	char line[128];
	int err = rec_read(p, UPLINK_FILE, line, sizeof(line));

	if (err <= 0)
		return err;
	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%15s %u %15s %d", r->name, &r->mtu, r->bridge, &r->joined) != 4 ||
	    !r->mtu || r->mtu > 65535 || (r->joined != 0 && r->joined != 1)) {
		char why[96];

		line[strcspn(line, "\n")] = '\0';
		for (char *c = line; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = '?'; /* the message stays one printable line */
		snprintf(why, sizeof(why), "'%.60s'", line);
		return lbr_uplink_rec_rebuild(p, why, r);
	}
	return 1;
}

int lbr_uplink_rec_write(struct lbr *p, const struct lbr_uplink_rec *r)
{
	char line[128];

	snprintf(line, sizeof(line), "%s %u %s %d\n", r->name, r->mtu, r->bridge, r->joined);
	return rec_write(p, UPLINK_FILE, line);
}

int lbr_uplink_rec_forget(struct lbr *p)
{
	return rec_forget(p, UPLINK_FILE);
}

int lbr_adopted_read(struct lbr *p, char bridge[VXC_IFNAMSIZ])
{
	char line[64];
	int err = rec_read(p, BRIDGE_FILE, line, sizeof(line));

	if (err <= 0)
		return err;
	if (sscanf(line, "%15s", bridge) != 1) {
		/* Only tells destroy to keep a bridge it would not delete anyway
		 * (an adopted bridge carries no mark). */
		lbr_log(p, VXC_LOG_WARN, "provider: record %s is damaged; forgetting it",
			BRIDGE_FILE);
		err = lbr_adopted_forget(p);
		return err < 0 ? err : 0;
	}
	return 1;
}

int lbr_adopted_write(struct lbr *p, const char *bridge)
{
	char line[64];

	snprintf(line, sizeof(line), "%s\n", bridge);
	return rec_write(p, BRIDGE_FILE, line);
}

int lbr_adopted_forget(struct lbr *p)
{
	return rec_forget(p, BRIDGE_FILE);
}
