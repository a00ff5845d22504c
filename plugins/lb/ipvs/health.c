/* Member health, the driver's side: the checker process of a balancer
 * (vxcloud-ipvs-check, health.h) started in its namespace when a listener
 * has `health`, restarted when the targets change, stopped when none is
 * left and before the balancer is removed; and the members it holds down,
 * read from its down file so that sync keeps them at weight 0.
 *
 * Files in the driver's state directory: NAME.check (the checker's record:
 * "PID START" then its arguments, one a line, written before it runs),
 * NAME.down (its findings), NAME.log (its output). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#include "driver.h"

#define STOP_MS 2000

static void path_of(struct ipvs_drv *d, const char *lb, const char *ext, char *buf,
		    size_t size)
{
	snprintf(buf, size, "%s/%s.%s", d->svc->state_dir(d->ctx), lb, ext);
}

/* ---- the targets: one per enabled member of a listener with health --- */

static int member_enabled(const struct vxc_lb_listener *l, size_t j)
{
	const struct vxc_lb_listener_ext *x = l->ext;

	return !x || x->size < sizeof(*x) || !x->member_enabled || x->member_enabled[j];
}

int ipvs_health_targets(const struct vxc_lb *lb, struct ipvs_targets *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < lb->n_listeners; i++) {
		const struct vxc_lb_listener *l = &lb->listeners[i];

		for (size_t j = 0; l->health.enabled && j < l->n_members; j++) {
			struct ipvs_target *t, *v;

			if (!member_enabled(l, j))
				continue;
			v = realloc(out->v, (out->n + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			out->v = v;
			t = &v[out->n++];
			memset(t, 0, sizeof(*t));
			t->protocol = IPPROTO_TCP;
			t->vip = lb->port->addr;
			t->vport = l->port;
			t->addr = l->members[j].addr;
			t->port = l->members[j].port;
			t->weight = l->members[j].weight;
			t->interval_ms = l->health.interval_ms ? l->health.interval_ms : 2000;
			t->timeout_ms = l->health.timeout_ms ? l->health.timeout_ms : 1000;
			t->rise = l->health.rise ? l->health.rise : 2;
			t->fall = l->health.fall ? l->health.fall : 3;
		}
	}
	return 0;
}

void ipvs_targets_free(struct ipvs_targets *t)
{
	free(t->v);
	free(t->down);
	memset(t, 0, sizeof(*t));
}

/* The down file's findings for these targets (others are stale lines). */
int ipvs_health_read_down(struct ipvs_drv *d, const char *lb, struct ipvs_targets *t)
{
	char path[PATH_MAX], line[128], key[96];
	FILE *f;

	free(t->down);
	t->down = t->n ? calloc(t->n, 1) : NULL;
	if (t->n && !t->down)
		return -ENOMEM;
	path_of(d, lb, "down", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (size_t i = 0; i < t->n; i++) {
			ipvs_target_key(&t->v[i], key, sizeof(key));
			if (!strcmp(key, line))
				t->down[i] = 1;
		}
	}
	fclose(f);
	return 0;
}

int ipvs_health_is_down(const struct ipvs_targets *t, struct in_addr vip, uint16_t vport,
			struct in_addr addr, uint16_t port)
{
	for (size_t i = 0; t && t->down && i < t->n; i++)
		if (t->down[i] && t->v[i].vip.s_addr == vip.s_addr && t->v[i].vport == vport &&
		    t->v[i].addr.s_addr == addr.s_addr && t->v[i].port == port)
			return 1;
	return 0;
}

/* ---- the record ------------------------------------------------------- */

struct record {
	pid_t pid;
	unsigned long long start;
	char *args; /* the arguments after DOWNFILE, one a line */
};

static char *args_text(const struct ipvs_targets *t)
{
	size_t size = t->n * IPVS_TARGET_MAX + 1, off = 0;
	char *s = calloc(1, size);

	for (size_t i = 0; s && i < t->n; i++) {
		ipvs_target_format(&t->v[i], s + off, size - off - 1);
		off += strlen(s + off);
		s[off++] = '\n';
	}
	return s;
}

static int read_record(struct ipvs_drv *d, const char *lb, struct record *rec)
{
	char path[PATH_MAX];
	FILE *f;
	size_t cap = 0;
	long len;
	int pid = 0;

	memset(rec, 0, sizeof(*rec));
	path_of(d, lb, "check", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fscanf(f, "%d %llu\n", &pid, &rec->start) != 2 || pid <= 0) {
		fclose(f);
		return -EINVAL; /* damaged: the owner mark finds the process */
	}
	rec->pid = pid;
	len = getdelim(&rec->args, &cap, '\0', f);
	if (len < 0) {
		free(rec->args);
		rec->args = strdup("");
	}
	fclose(f);
	return rec->args ? 0 : -ENOMEM;
}

struct spawn_rec {
	const char *path;
	const char *args;
};

/* Written before the checker runs (spawn_recorded): killed at any point,
 * an apply leaves no checker or a recorded one. */
static int write_record(void *arg, pid_t pid, unsigned long long start)
{
	const struct spawn_rec *sr = arg;
	char tmp[PATH_MAX];
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", sr->path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d %llu\n%s", (int)pid, start, sr->args);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, sr->path) != 0)
		r = -errno;
	return r;
}

/* ---- start and stop --------------------------------------------------- */

struct strays {
	struct ipvs_drv *d;
	pid_t keep;
	unsigned long long keep_start;
	int err;
};

static void stop_stray(void *arg, pid_t pid, unsigned long long start, pid_t ppid)
{
	struct strays *s = arg;
	int r;

	(void)ppid;
	if (pid == s->keep && start == s->keep_start)
		return;
	r = s->d->svc->proc_stop_exact(s->d->ctx, pid, start, STOP_MS);
	if (r < 0 && r != -ESRCH)
		s->err = r;
}

static void owner_of(const char *lb, char *buf, size_t size)
{
	snprintf(buf, size, "lb-health:%s", lb);
}

/* Every checker of lb but (keep, keep_start): a lost record's too. */
static int stop_others(struct ipvs_drv *d, const char *lb, pid_t keep,
		       unsigned long long keep_start)
{
	struct strays s = { d, keep, keep_start, 0 };
	char owner[64];
	int r;

	owner_of(lb, owner, sizeof(owner));
	r = d->svc->proc_find(d->ctx, owner, stop_stray, &s);
	return r < 0 ? r : s.err;
}

static int start(struct ipvs_drv *d, const struct vxc_lb *lb, int fd,
		 const struct ipvs_targets *t, const char *args)
{
	char down[PATH_MAX], rec[PATH_MAX], log[PATH_MAX], owner[64];
	const char **argv = calloc(t->n + 3, sizeof(*argv));
	char *copy = strdup(args), *save = NULL;
	struct spawn_rec sr;
	struct vxc_spawn sp = { .netns_fd = fd };
	size_t k = 0;
	pid_t pid;
	int r;

	if (!argv || !copy) {
		free(argv);
		free(copy);
		return -ENOMEM;
	}
	path_of(d, lb->name, "down", down, sizeof(down));
	path_of(d, lb->name, "check", rec, sizeof(rec));
	path_of(d, lb->name, "log", log, sizeof(log));
	argv[k++] = d->checker;
	argv[k++] = down;
	for (char *a = strtok_r(copy, "\n", &save); a; a = strtok_r(NULL, "\n", &save))
		argv[k++] = a;
	sp.argv = argv;
	sp.log_path = log;
	sr.path = rec;
	sr.args = args;
	owner_of(lb->name, owner, sizeof(owner));
	r = access(d->checker, X_OK) == 0 ? 0 : -errno;
	if (r < 0)
		r = d->svc->error(d->ctx, r, "load balancer %s: health checker %s: %s (setting "
				  "ipvs.checker)", lb->name, d->checker, strerror(-r));
	else
		r = d->svc->spawn_recorded(d->ctx, &sp, owner, write_record, &sr, &pid);
	free(argv);
	free(copy);
	return r;
}

static void remove_files(struct ipvs_drv *d, const char *lb)
{
	static const char *const ext[] = { "check", "down", "log" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		path_of(d, lb, ext[i], path, sizeof(path));
		unlink(path);
	}
}

/* Stops lb's checker. search: also look for checkers by the owner mark
 * when there is no record (removing the balancer: nothing may outlive it);
 * an apply without health looks only when a record exists, since
 * spawn_recorded never runs a checker without one. */
static int checker_stop(struct ipvs_drv *d, const char *lb, int search, unsigned flags)
{
	struct record rec;
	int r = read_record(d, lb, &rec), running;

	if (r == -ENOENT && !search) {
		if (!(flags & VXC_F_DRY_RUN))
			remove_files(d, lb);
		return 0;
	}
	running = r == 0 && d->svc->proc_running(d->ctx, rec.pid, rec.start) == 1;
	free(rec.args);
	if (running)
		d->svc->change(d->ctx, "load balancer %s: stop health checker PID %d", lb,
			       (int)rec.pid);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	if (running && (r = d->svc->proc_stop_exact(d->ctx, rec.pid, rec.start, STOP_MS)) < 0 &&
	    r != -ESRCH)
		return r;
	r = stop_others(d, lb, 0, 0);
	if (r == 0)
		remove_files(d, lb);
	return r;
}

int ipvs_checker_stop(struct ipvs_drv *d, const char *lb, unsigned flags)
{
	return checker_stop(d, lb, 1, flags);
}

/* The checker runs with exactly these targets: started, restarted when
 * they changed (a weight, a member, a check setting), stopped when none. */
int ipvs_checker_ensure(struct ipvs_drv *d, const struct vxc_lb *lb, int fd,
			const struct ipvs_targets *t, unsigned flags)
{
	struct record rec;
	char *args;
	int r, running;

	if (t->n == 0)
		return checker_stop(d, lb->name, 0, flags);
	args = args_text(t);
	if (!args)
		return -ENOMEM;
	r = read_record(d, lb->name, &rec);
	running = r == 0 && d->svc->proc_running(d->ctx, rec.pid, rec.start) == 1;
	if (running && !strcmp(rec.args, args)) {
		r = 0;
		goto out;
	}
	d->svc->change(d->ctx, "load balancer %s: %s health checker (%zu members, tcp connect)",
		       lb->name, running ? "restart" : "start", t->n);
	r = 0;
	if (flags & VXC_F_DRY_RUN || fd < 0)
		goto out;
	if (running && (r = d->svc->proc_stop_exact(d->ctx, rec.pid, rec.start, STOP_MS)) < 0 &&
	    r != -ESRCH)
		goto out;
	r = stop_others(d, lb->name, 0, 0); /* a lost or damaged record's checker */
	if (r == 0)
		r = start(d, lb, fd, t, args);
out:
	free(rec.args);
	free(args);
	return r;
}

/* For lb_status: the checker's PID and the members it holds down. */
void ipvs_checker_status(struct ipvs_drv *d, const struct vxc_lb *lb,
			 void (*cb)(void *arg, const char *line), void *arg)
{
	struct ipvs_targets t;
	struct record rec;
	char line[256], key[96];
	int r;

	if (ipvs_health_targets(lb, &t) < 0 || t.n == 0) {
		ipvs_targets_free(&t);
		return;
	}
	r = read_record(d, lb->name, &rec);
	if (r == 0 && d->svc->proc_running(d->ctx, rec.pid, rec.start) == 1)
		snprintf(line, sizeof(line), "health checker: PID %d, %zu members (tcp connect)",
			 (int)rec.pid, t.n);
	else
		snprintf(line, sizeof(line), "health checker: not running");
	free(rec.args);
	cb(arg, line);
	if (ipvs_health_read_down(d, lb->name, &t) == 0)
		for (size_t i = 0; i < t.n; i++)
			if (t.down[i]) {
				ipvs_target_key(&t.v[i], key, sizeof(key));
				snprintf(line, sizeof(line), "health: member down: %s", key);
				cb(arg, line);
			}
	ipvs_targets_free(&t);
}
