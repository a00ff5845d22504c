/* The supervised command: a record per instance in the driver's state
 * directory, "<pid> <start> <program> <argv hash>", written before the
 * command runs its program (the core's spawn_recorded waits for it). A
 * process is the recorded one only when its PID and start time both match;
 * every process the driver starts also carries the owner mark
 * "instance:<name>", so a lost or damaged record is rebuilt from the
 * processes found with it, and stopping an instance leaves none behind. */
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

static int parse_rec(FILE *f, struct proc_rec *rec)
{
	char line[512], extra;
	int pid = 0;

	if (!fgets(line, sizeof(line), f) || !strchr(line, '\n'))
		return -EBADMSG;
	memset(rec, 0, sizeof(*rec));
	if (sscanf(line, "%d %llu %255s %llx %c", &pid, &rec->start, rec->exe, &rec->argv_hash,
		   &extra) != 4 || pid <= 0 || !rec->start)
		return -EBADMSG; /* also a record of an older build: "<pid> <exe> <hash>" */
	rec->pid = pid;
	return 0;
}

int proc_rec_read(struct netns_drv *d, const char *name, struct proc_rec *rec)
{
	char *path;
	int fd, r;
	FILE *f;

	if (!d->recs_state)
		recs_read(d);
	if (d->recs_state == 1 && !rec_listed(d, name))
		return -ENOENT;
	path = state_file(d, name, "pid");
	if (!path)
		return -ENOMEM;
	/* O_NOFOLLOW: a record is a file vxcloud wrote, never a planted symlink. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = errno == ENOENT ? -ENOENT : -EBADMSG;
	} else if (!(f = fdopen(fd, "r"))) {
		close(fd);
		r = -EBADMSG;
	} else {
		r = parse_rec(f, rec);
		fclose(f);
	}
	if (r == -EBADMSG)
		d->svc->log(d->ctx, VXC_LOG_WARN, "instance %s: record %s is damaged; looking for "
			    "the instance's processes by their owner mark", name, path);
	free(path);
	return r;
}

/* Written to a fresh temporary file (O_EXCL | O_NOFOLLOW: never through a
 * planted symlink) and renamed: never half a record. */
int proc_rec_write(struct netns_drv *d, const char *name, const struct proc_rec *rec)
{
	char *path = state_file(d, name, "pid"), *tmp = NULL;
	int fd, r = 0;
	FILE *f = NULL;

	if (d->recs_state == 1 && !rec_listed(d, name))
		d->recs_state = -1; /* the list no longer tells every record */
	if (!path || asprintf(&tmp, "%s.tmp", path) < 0) {
		free(path);
		return d->svc->error(d->ctx, -ENOMEM, "instance %s: out of memory", name);
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0 && !(f = fdopen(fd, "w")))
		close(fd);
	if (!f || fprintf(f, "%d %llu %s %llx\n", (int)rec->pid, rec->start, rec->exe,
			  rec->argv_hash) < 0 || fflush(f) || fsync(fileno(f)) ||
	    fclose(f) != 0 || (f = NULL, rename(tmp, path) < 0)) {
		r = d->svc->error(d->ctx, -errno, "instance %s: write %s: %s", name, path,
				  strerror(errno));
		if (f)
			fclose(f);
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

static void owner_of(const char *name, char owner[OWNER_MAX])
{
	snprintf(owner, OWNER_MAX, "instance:%s", name);
}

/* ---- processes carrying the instance's owner mark ------------------- */

struct marked {
	struct proc_id { pid_t pid, ppid; unsigned long long start; } *v;
	size_t n, cap;
	int oom;
};

static void marked_add(void *arg, pid_t pid, unsigned long long start, pid_t ppid)
{
	struct marked *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct proc_id *v = realloc(m->v, cap * sizeof(*v));

		if (!v) {
			m->oom = 1;
			return;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct proc_id){ pid, ppid, start };
}

static int find_marked(struct netns_drv *d, const char *name, struct marked *m)
{
	char owner[OWNER_MAX];
	int r;

	memset(m, 0, sizeof(*m));
	owner_of(name, owner);
	r = d->svc->proc_find(d->ctx, owner, marked_add, m);
	if (!r && m->oom)
		r = d->svc->error(d->ctx, -ENOMEM, "instance %s: out of memory", name);
	return r;
}

/* A process the command started itself (its parent carries the mark too)
 * is not a copy of the command. */
static int is_root(const struct marked *m, size_t i)
{
	for (size_t j = 0; j < m->n; j++)
		if (m->v[j].pid == m->v[i].ppid)
			return 0;
	return 1;
}

static int stop_one(struct netns_drv *d, const char *name, pid_t pid, unsigned long long start,
		    const char *what, unsigned flags)
{
	if (!d->svc->proc_running(d->ctx, pid, start))
		return 0;
	d->svc->change(d->ctx, "instance %s: stop %s (PID %d)", name, what, (int)pid);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	return d->svc->proc_stop_exact(d->ctx, pid, start, d->stop_timeout_ms);
}

/* Every marked process goes: copies, children, ones a lost record hid.
 * The recorded one (stopped already, or only in a plan) is skipped. */
static int stop_marked(struct netns_drv *d, const char *name, const struct proc_rec *rec,
		       unsigned flags)
{
	struct marked m;
	int r = find_marked(d, name, &m);

	for (size_t i = 0; !r && i < m.n; i++)
		if (!rec || m.v[i].pid != rec->pid || m.v[i].start != rec->start)
			r = stop_one(d, name, m.v[i].pid, m.v[i].start, "a process it left", flags);
	free(m.v);
	return r;
}

int command_stop(struct netns_drv *d, const char *name, unsigned flags)
{
	struct proc_rec rec;
	int r, have;

	r = proc_rec_read(d, name, &rec);
	if (r < 0 && r != -ENOENT && r != -EBADMSG)
		return r;
	have = r == 0;
	r = have ? stop_one(d, name, rec.pid, rec.start, base_name(rec.exe), flags) : 0;
	if (!r)
		r = stop_marked(d, name, have ? &rec : NULL, flags);
	if (r < 0 || (flags & VXC_F_DRY_RUN))
		return r;
	return proc_rec_remove(d, name);
}

/* ---- starting -------------------------------------------------------- */

struct start_arg {
	struct netns_drv *d;
	const struct vxc_instance *inst;
};

/* Called by the core between fork and execve. */
static int record_started(void *arg, pid_t pid, unsigned long long start)
{
	struct start_arg *a = arg;
	struct proc_rec rec = { .pid = pid, .start = start };

	snprintf(rec.exe, sizeof(rec.exe), "%s", a->inst->command[0]);
	rec.argv_hash = proc_argv_hash(a->inst->command);
	return proc_rec_write(a->d, a->inst->name, &rec);
}

static int start(struct netns_drv *d, const struct vxc_instance *inst, int netns_fd,
		 const char *why, unsigned flags)
{
	struct vxc_spawn sp = { .argv = inst->command, .netns_fd = netns_fd };
	struct start_arg a = { d, inst };
	char owner[OWNER_MAX];
	pid_t pid;
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
	owner_of(inst->name, owner);
	r = d->svc->spawn_recorded(d->ctx, &sp, owner, record_started, &a, &pid);
	free(log);
	return r;
}

/* No usable record: the command's processes are found by their mark. One
 * is adopted (its record rewritten), further copies are stopped; none
 * found, the command starts. */
static int recover(struct netns_drv *d, const struct vxc_instance *inst, int netns_fd,
		   const char *why, unsigned flags)
{
	struct proc_rec rec = { 0 };
	struct marked m;
	size_t i, adopted = (size_t)-1;
	int r = find_marked(d, inst->name, &m);

	for (i = 0; !r && i < m.n; i++) {
		if (!is_root(&m, i))
			continue;
		if (adopted == (size_t)-1) {
			adopted = i;
			continue;
		}
		r = stop_one(d, inst->name, m.v[i].pid, m.v[i].start, "a second copy", flags);
	}
	if (!r && adopted == (size_t)-1)
		r = start(d, inst, netns_fd, why, flags);
	else if (!r) {
		rec.pid = m.v[adopted].pid;
		rec.start = m.v[adopted].start;
		snprintf(rec.exe, sizeof(rec.exe), "%s", inst->command[0]);
		rec.argv_hash = proc_argv_hash(inst->command);
		d->svc->log(d->ctx, VXC_LOG_WARN, "instance %s: its command runs as PID %d "
			    "(found by its owner mark); %s", inst->name, (int)rec.pid,
			    flags & VXC_F_DRY_RUN ? "apply rewrites its record"
						  : "record rewritten");
		if (!(flags & VXC_F_DRY_RUN))
			r = proc_rec_write(d, inst->name, &rec);
	}
	free(m.v);
	return r;
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
		return recover(d, inst, netns_fd, "not started yet", flags);
	if (r == -EBADMSG)
		return recover(d, inst, netns_fd, "its record was damaged", flags);
	if (r < 0)
		return r;
	if (!d->svc->proc_running(d->ctx, rec.pid, rec.start))
		return recover(d, inst, netns_fd, "no longer running", flags);
	if (rec.argv_hash == proc_argv_hash(inst->command))
		return 0;
	r = command_stop(d, inst->name, flags);
	return r < 0 ? r : start(d, inst, netns_fd, "command changed", flags);
}
