/* The supervised command: a record per instance in the driver's state
 * directory, so a later vxcloud run knows the PID to check or stop. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

char *state_file(struct netns_drv *d, const char *name, const char *ext)
{
	const char *dir = d->svc->state_dir(d->ctx);
	char *p;

	if (!dir || asprintf(&p, "%s/%s.%s", dir, name, ext) < 0)
		return NULL;
	return p;
}

/* FNV-1a over the arguments and their terminating NULs. */
unsigned long long proc_argv_hash(const char *const *argv)
{
	unsigned long long h = 1469598103934665603ULL;

	for (; argv && *argv; argv++)
		for (const unsigned char *c = (const unsigned char *)*argv;; c++) {
			h = (h ^ *c) * 1099511628211ULL;
			if (!*c)
				break;
		}
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int recs_push(struct netns_drv *d, const char *name, size_t *cap)
{
	if (d->n_recs == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		char **v = realloc(d->recs, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->recs = v;
		*cap = c;
	}
	if (!(d->recs[d->n_recs] = strdup(name)))
		return -ENOMEM;
	d->n_recs++;
	return 0;
}

/* The names with a .pid record in the state directory, sorted. */
static void recs_read(struct netns_drv *d)
{
	const char *dir = d->svc->state_dir(d->ctx);
	struct dirent *de;
	size_t cap = 0;
	DIR *dh;

	d->recs_state = -1;
	if (!dir || !(dh = opendir(dir)))
		return;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 4 || strcmp(de->d_name + len - 4, ".pid"))
			continue;
		de->d_name[len - 4] = '\0';
		if (recs_push(d, de->d_name, &cap) < 0) {
			closedir(dh);
			proc_recs_free(d);
			d->recs_state = -1;
			return;
		}
	}
	closedir(dh);
	qsort(d->recs, d->n_recs, sizeof(*d->recs), cmp_str);
	d->recs_state = 1;
}

static int rec_listed(const struct netns_drv *d, const char *name)
{
	return bsearch(&name, d->recs, d->n_recs, sizeof(*d->recs), cmp_str) != NULL;
}

void proc_recs_free(struct netns_drv *d)
{
	for (size_t i = 0; i < d->n_recs; i++)
		free(d->recs[i]);
	free(d->recs);
	d->recs = NULL;
	d->n_recs = 0;
}

int proc_rec_read(struct netns_drv *d, const char *name, struct proc_rec *rec)
{
	char *path;
	int pid = 0, r = -ENOENT;
	FILE *f;

	if (!d->recs_state)
		recs_read(d);
	if (d->recs_state == 1 && !rec_listed(d, name))
		return -ENOENT;
	path = state_file(d, name, "pid");
	if (!path)
		return -ENOMEM;
	f = fopen(path, "re");
	if (f) {
		memset(rec, 0, sizeof(*rec));
		if (fscanf(f, "%d %255s %llx", &pid, rec->exe, &rec->argv_hash) == 3 && pid > 0) {
			rec->pid = pid;
			r = 0;
		} else {
			d->svc->log(d->ctx, VXC_LOG_WARN, "ignoring malformed %s", path);
		}
		fclose(f);
	} else if (errno != ENOENT) {
		r = d->svc->error(d->ctx, -errno, "read %s: %s", path, strerror(errno));
	}
	free(path);
	return r;
}

/* Written to a temporary file and renamed: never half a record. */
int proc_rec_write(struct netns_drv *d, const char *name, const struct proc_rec *rec)
{
	char *path = state_file(d, name, "pid"), *tmp = NULL;
	int r = 0;
	FILE *f;

	if (d->recs_state == 1 && !rec_listed(d, name))
		d->recs_state = -1; /* the list no longer tells every record */

	if (!path || asprintf(&tmp, "%s.tmp", path) < 0) {
		free(path);
		return d->svc->error(d->ctx, -ENOMEM, "instance %s: out of memory", name);
	}
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d %s %llx\n", (int)rec->pid, rec->exe, rec->argv_hash) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) < 0) {
		r = d->svc->error(d->ctx, -errno, "instance %s: write %s: %s", name, path,
				  strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(path);
	return r;
}

int proc_rec_remove(struct netns_drv *d, const char *name)
{
	char *path = state_file(d, name, "pid");
	int r = 0;

	if (!path)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		r = d->svc->error(d->ctx, -errno, "instance %s: remove %s: %s", name, path,
				  strerror(errno));
	free(path);
	return r;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The record names a process that still runs its program. */
static int rec_alive(struct netns_drv *d, const struct proc_rec *rec)
{
	return d->svc->proc_alive(d->ctx, rec->pid, rec->exe) == 1;
}

int command_stop(struct netns_drv *d, const char *name, unsigned flags)
{
	struct proc_rec rec;
	int r;

	r = proc_rec_read(d, name, &rec);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (rec_alive(d, &rec)) {
		d->svc->change(d->ctx, "instance %s: stop %s (PID %d)", name, base_name(rec.exe),
			       (int)rec.pid);
		if (flags & VXC_F_DRY_RUN)
			return 0;
		r = d->svc->proc_stop(d->ctx, rec.pid, d->stop_timeout_ms);
		if (r < 0)
			return r;
	}
	return (flags & VXC_F_DRY_RUN) ? 0 : proc_rec_remove(d, name);
}

static int start(struct netns_drv *d, const struct vxc_instance *inst, int netns_fd,
		 const char *why, unsigned flags)
{
	struct vxc_spawn sp = { .argv = inst->command, .netns_fd = netns_fd };
	struct proc_rec rec = { 0 };
	char *log;
	int r;

	d->svc->change(d->ctx, "instance %s: start %s (%s)", inst->name,
		       base_name(inst->command[0]), why);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	log = state_file(d, inst->name, "log");
	if (!log)
		return d->svc->error(d->ctx, -EIO, "instance %s: no state directory", inst->name);
	sp.log_path = log;
	r = d->svc->spawn(d->ctx, &sp, &rec.pid);
	free(log);
	if (r < 0)
		return r;
	snprintf(rec.exe, sizeof(rec.exe), "%s", inst->command[0]);
	rec.argv_hash = proc_argv_hash(inst->command);
	return proc_rec_write(d, inst->name, &rec);
}

int command_ensure(struct netns_drv *d, const struct vxc_instance *inst, int netns_fd,
		   unsigned flags)
{
	struct proc_rec rec;
	int r;

	if (!inst->command || !inst->command[0])
		return command_stop(d, inst->name, flags); /* the spec dropped it */
	if (strlen(inst->command[0]) >= sizeof(rec.exe) || strpbrk(inst->command[0], " \t\n"))
		return d->svc->error(d->ctx, -EINVAL, "instance %s: program name '%s' must be "
				     "under %zu characters without blanks", inst->name,
				     inst->command[0], sizeof(rec.exe));
	r = proc_rec_read(d, inst->name, &rec);
	if (r == -ENOENT)
		return start(d, inst, netns_fd, "not started yet", flags);
	if (r < 0)
		return r;
	if (!rec_alive(d, &rec))
		return start(d, inst, netns_fd, "no longer running", flags);
	if (rec.argv_hash == proc_argv_hash(inst->command))
		return 0;
	r = command_stop(d, inst->name, flags);
	return r < 0 ? r : start(d, inst, netns_fd, "command changed", flags);
}
