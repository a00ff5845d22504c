/* A record per instance, <state_dir>/instances/<name>, written before the
 * overlay is made and removed after the domain is undefined: a run killed
 * in between (an overlay without its domain) still names what to remove. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

static char *rec_path(struct lv_drv *d, const char *name, int create)
{
	const char *state = d->svc->state_dir(d->ctx);
	char *dir = NULL, *path = NULL;

	if (!state || asprintf(&dir, "%s/instances", state) < 0)
		return NULL;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		free(dir);
		return NULL;
	}
	if (!name)
		return dir;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	free(dir);
	return path;
}

int lv_record_write(struct lv_drv *d, const struct lv_want *w)
{
	char *path = rec_path(d, w->name, 1);
	FILE *f = path ? fopen(path, "we") : NULL;
	int r = 0;

	if (!f || fprintf(f, "%s\n%s\n", w->overlay, w->console) < 0 || fclose(f) != 0)
		r = d->svc->error(d->ctx, -errno, "instance %s: cannot write its record %s: %s",
				  w->name, path ? path : "(no state directory)", strerror(errno));
	free(path);
	return r;
}

/* The files a record names; 1 when there is one, 0 when none. */
static int record_read(struct lv_drv *d, const char *name, char *overlay, char *console,
		       size_t sz)
{
	char *path = rec_path(d, name, 0);
	FILE *f = path ? fopen(path, "re") : NULL;

	free(path);
	if (!f)
		return 0;
	overlay[0] = console[0] = '\0';
	if (fgets(overlay, (int)sz, f))
		overlay[strcspn(overlay, "\n")] = '\0';
	if (fgets(console, (int)sz, f))
		console[strcspn(console, "\n")] = '\0';
	fclose(f);
	return 1;
}

int lv_record_remove(struct lv_drv *d, const char *name)
{
	char *path = rec_path(d, name, 0);

	if (path)
		unlink(path);
	free(path);
	return 0;
}

/* No domain: what its record names goes (the overlay, the console log). */
int lv_record_cleanup(struct lv_drv *d, const char *who, const char *name, unsigned flags)
{
	char overlay[4096], console[4096];
	int r;

	if (!record_read(d, name, overlay, console, sizeof(overlay)))
		return 0;
	r = lv_overlay_remove(d, who, overlay, flags);
	if (r < 0 || (flags & VXC_F_DRY_RUN))
		return r;
	if (console[0])
		unlink(console);
	return lv_record_remove(d, name);
}

size_t lv_record_count(struct lv_drv *d)
{
	char *dir = rec_path(d, NULL, 0);
	struct dirent *de;
	DIR *dh = dir ? opendir(dir) : NULL;
	size_t n = 0;

	free(dir);
	if (!dh)
		return 0;
	while ((de = readdir(dh)))
		n += de->d_name[0] != '.';
	closedir(dh);
	return n;
}

int lv_record_list(struct lv_drv *d, vxc_owned_cb cb, void *arg)
{
	char *dir = rec_path(d, NULL, 0);
	struct dirent *de;
	DIR *dh = dir ? opendir(dir) : NULL;

	free(dir);
	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		struct vxc_owned obj = { VXC_KIND_INSTANCE, de->d_name, NULL };

		if (de->d_name[0] != '.')
			cb(arg, &obj);
	}
	closedir(dh);
	return 0;
}
