/* One supervised keepalived per HA copy (see keepalived.h): the generated
 * configuration, the record "<pid> <start>" written by spawn_recorded's
 * callback before keepalived runs, reload by SIGHUP, stop by (PID, start).
 * keepalived runs with -n (no daemon: the recorded PID is its parent, whose
 * VRRP child has PR_SET_PDEATHSIG, so even a SIGKILL of the parent makes
 * the child drop the addresses, send priority 0 and run the notify). */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keepalived.h"

#define KA_STOP_MS 5000
#define KA_PRIO_TOP 250
#define KA_PRIO_STEP 10

int vxc_ka_rank(const struct vxc_ha *ha, const char *host)
{
	for (size_t i = 0; ha && host && i < ha->n_hosts; i++)
		if (ha->hosts[i] && ha->hosts[i]->name && !strcmp(ha->hosts[i]->name, host))
			return (int)i;
	return -1;
}

unsigned vxc_ka_priority(int rank)
{
	return KA_PRIO_TOP - KA_PRIO_STEP * (unsigned)(rank < 0 ? 0 : rank);
}

struct in_addr vxc_ka_src_addr(const struct vxc_ha *ha, int rank)
{
	struct in_addr a = { htonl(0xa9fe0000u | (ha->vrid & 0xff) << 8 | (unsigned)(rank + 1)) };

	return a;
}

/* ---- configuration text ----------------------------------------------- */

struct text {
	char *s;
	size_t n, cap;
	int err;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->err = -EINVAL;
			return;
		}
		if (t->s && t->n + (size_t)n < t->cap) {
			t->n += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *s = realloc(t->s, cap);

		if (!s) {
			t->err = -ENOMEM;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
}

static void add_vip(struct text *t, const struct vxc_ka_vip *v)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &v->addr, ip, sizeof(ip));
	add(t, "\t\t%s/%u dev %s\n", ip, v->plen, v->ifname);
}

char *vxc_ka_render(const struct vxc_ka_spec *ks, const char *host)
{
	struct text t = { 0 };
	int rank = vxc_ka_rank(ks->ha, host);
	char gw[INET_ADDRSTRLEN];

	add(&t, "# written by vxcloud for %s %s, copy on host %s; rewritten on every apply\n",
	    ks->kind, ks->name, host);
	add(&t, "global_defs {\n\trouter_id %s-%s\n\tvrrp_version 3\n"
	    "\tscript_user root\n\tenable_script_security\n"
	    "\tvrrp_garp_master_delay 1\n\tvrrp_garp_master_repeat 3\n}\n", ks->tag, ks->name);
	add(&t, "vrrp_instance %s {\n\tstate BACKUP\n\tinterface %s\n", ks->name, ks->vrrp_if);
	add(&t, "\tvirtual_router_id %u\n\tpriority %u\n\tadvert_int %u.%02u\n", ks->ha->vrid,
	    vxc_ka_priority(rank), ks->ha->advert_ms / 1000, ks->ha->advert_ms % 1000 / 10);
	if (!ks->ha->preempt)
		add(&t, "\tnopreempt\n");
	/* the first address in the adverts, the rest managed alike but left out */
	add(&t, "\tvirtual_ipaddress {\n");
	if (ks->n_vips)
		add_vip(&t, &ks->vips[0]);
	add(&t, "\t}\n");
	if (ks->n_vips > 1) {
		add(&t, "\tvirtual_ipaddress_excluded {\n");
		for (size_t i = 1; i < ks->n_vips; i++)
			add_vip(&t, &ks->vips[i]);
		add(&t, "\t}\n");
	}
	if (ks->route_gw.s_addr) {
		inet_ntop(AF_INET, &ks->route_gw, gw, sizeof(gw));
		add(&t, "\tvirtual_routes {\n\t\t0.0.0.0/0 via %s dev %s\n\t}\n", gw, ks->route_if);
	}
	add(&t, "\tnotify %s\n}\n", ks->notify);
	if (t.err) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* ---- files -------------------------------------------------------------- */

struct ka_paths {
	char conf[512], rec[512], log[512], kpid[512], vpid[512];
	char owner[VXC_KA_NAME_MAX + 32];
};

static int paths(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag, const char *name,
		 struct ka_paths *p)
{
	const char *dir = svc->state_dir(ctx);

	if (!dir)
		return -ENOENT;
	snprintf(p->conf, sizeof(p->conf), "%s/ka-%s-%s.conf", dir, tag, name);
	snprintf(p->rec, sizeof(p->rec), "%s/ka-%s-%s.pid", dir, tag, name);
	snprintf(p->log, sizeof(p->log), "%s/ka-%s-%s.log", dir, tag, name);
	snprintf(p->kpid, sizeof(p->kpid), "%s/ka-%s-%s.kpid", dir, tag, name);
	snprintf(p->vpid, sizeof(p->vpid), "%s/ka-%s-%s.vpid", dir, tag, name);
	snprintf(p->owner, sizeof(p->owner), "keepalived:%s:%s", tag, name);
	return 0;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *s = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *ns = realloc(s, cap = n + 8192);

			if (!ns) {
				free(s);
				fclose(f);
				return NULL;
			}
			s = ns;
		}
		got = fread(s + n, 1, 4096, f);
		n += got;
	} while (got == 4096);
	fclose(f);
	s[n] = '\0';
	return s;
}

/* To a temporary file, then renamed: keepalived never reads half. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[600];
	size_t len = strlen(text);
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

struct rec {
	pid_t pid;
	unsigned long long start;
};

static int rec_read(const char *path, struct rec *r)
{
	FILE *f = fopen(path, "re");
	int pid = 0, n;

	r->pid = 0;
	r->start = 0;
	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	n = fscanf(f, "%d %llu", &pid, &r->start);
	fclose(f);
	if (n != 2 || pid <= 0 || !r->start)
		return -EBADMSG;
	r->pid = pid;
	return 0;
}

static int record_cb(void *arg, pid_t pid, unsigned long long start)
{
	const char *path = arg;
	char text[64];

	snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	return write_atomic(path, text);
}

/* ---- the process ---------------------------------------------------------- */

static int recorded_running(const struct vxc_services *svc, vxc_ctx *ctx,
			    const struct ka_paths *p, struct rec *r)
{
	return rec_read(p->rec, r) == 0 && svc->proc_running(ctx, r->pid, r->start) == 1;
}

int vxc_ka_running(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		   const char *name)
{
	struct ka_paths p;
	struct rec r;

	if (paths(svc, ctx, tag, name, &p) < 0)
		return 0;
	return recorded_running(svc, ctx, &p, &r);
}

int vxc_ka_recorded(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		    const char *name)
{
	struct ka_paths p;

	return paths(svc, ctx, tag, name, &p) == 0 && access(p.rec, F_OK) == 0;
}

#define SWEEP_MAX 64

struct found {
	pid_t pid, ppid;
	unsigned long long start;
	int keep;
};

struct sweep {
	struct rec keep;
	struct found v[SWEEP_MAX];
	size_t n;
};

static void sweep_found(void *arg, pid_t pid, unsigned long long start, pid_t ppid)
{
	struct sweep *s = arg;

	if (s->n < SWEEP_MAX)
		s->v[s->n++] = (struct found){ pid, ppid, start,
					       pid == s->keep.pid && start == s->keep.start };
}

/* The recorded keepalived's descendants (its VRRP child, their notify
 * runs) carry the mark too and are its own: kept. */
static void keep_descendants(struct sweep *s)
{
	int grew = 1;

	while (grew) {
		grew = 0;
		for (size_t i = 0; i < s->n; i++)
			for (size_t j = 0; j < s->n && !s->v[i].keep; j++)
				if (s->v[j].keep && s->v[i].ppid == s->v[j].pid)
					s->v[i].keep = grew = 1;
	}
}

/* Processes with the object's mark that are neither the recorded one nor
 * its descendants: what a lost record or a crash left behind. */
static int sweep(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks,
		 const struct ka_paths *p, const struct rec *keep, unsigned flags)
{
	struct sweep s = { .keep = *keep };
	int err = svc->proc_find(ctx, p->owner, sweep_found, &s);

	if (err < 0)
		return err;
	keep_descendants(&s);
	for (size_t i = 0; i < s.n && !err; i++) {
		if (s.v[i].keep)
			continue;
		svc->change(ctx, "%s %s: stop leftover keepalived (PID %d)", ks->kind, ks->name,
			    (int)s.v[i].pid);
		if (!(flags & VXC_F_DRY_RUN))
			err = svc->proc_stop_exact(ctx, s.v[i].pid, s.v[i].start, KA_STOP_MS);
	}
	return err;
}

static int start(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks,
		 const struct ka_paths *p, int netns_fd)
{
	const char *argv[] = { ks->keepalived, "--dont-fork", "--log-console", "--vrrp",
			       "--use-file", p->conf, "--pid", p->kpid, "--vrrp_pid", p->vpid,
			       NULL };
	struct vxc_spawn sp = { .argv = argv, .netns_fd = netns_fd, .log_path = p->log };
	pid_t pid;
	int err;

	unlink(p->kpid);
	unlink(p->vpid);
	err = svc->spawn_recorded(ctx, &sp, p->owner, record_cb, (void *)p->rec, &pid);
	if (err < 0)
		return svc->error(ctx, err, "%s %s: cannot start keepalived: see %s", ks->kind,
				  ks->name, p->log);
	return 0;
}

static int reload(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks,
		  const struct rec *r)
{
	/* (pid, start) was checked just before: the PID is still keepalived's */
	if (kill(r->pid, SIGHUP) < 0)
		return svc->error(ctx, -errno, "%s %s: cannot signal keepalived (PID %d): %s",
				  ks->kind, ks->name, (int)r->pid, strerror(errno));
	return 0;
}

static int check_spec(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks)
{
	if (svc->size < offsetof(struct vxc_services, proc_stop_exact) + sizeof(void *))
		return svc->error(ctx, -EOPNOTSUPP, "%s %s: copies on several hosts need a core "
				  "of ABI 1.1 or later (process records)", ks->kind, ks->name);
	if (!ks->notify || ks->notify[0] != '/' || strpbrk(ks->notify, " \t\n\"'\\"))
		return svc->error(ctx, -EINVAL, "%s %s: the notify program \"%s\" must be an "
				  "absolute path without blanks or quotes", ks->kind, ks->name,
				  ks->notify ? ks->notify : "");
	if (access(ks->notify, X_OK) < 0)
		return svc->error(ctx, -errno, "%s %s: notify program %s: %s", ks->kind, ks->name,
				  ks->notify, strerror(errno));
	if (strlen(ks->name) > VXC_KA_NAME_MAX)
		return svc->error(ctx, -ENAMETOOLONG, "%s %s: name too long", ks->kind, ks->name);
	return 0;
}

int vxc_ka_ensure(const struct vxc_services *svc, vxc_ctx *ctx, const struct vxc_ka_spec *ks,
		  int netns_fd, unsigned flags)
{
	const char *host = svc->host_name(ctx);
	struct ka_paths p;
	struct rec r;
	char *want = NULL, *have = NULL;
	int err, running, changed;

	err = check_spec(svc, ctx, ks);
	if (!err && (err = paths(svc, ctx, ks->tag, ks->name, &p)) < 0)
		err = svc->error(ctx, err, "%s %s: no state directory", ks->kind, ks->name);
	if (err)
		return err;
	want = vxc_ka_render(ks, host);
	if (!want)
		return svc->error(ctx, -ENOMEM, "%s %s: out of memory", ks->kind, ks->name);
	have = read_all(p.conf);
	changed = !have || strcmp(have, want);
	running = recorded_running(svc, ctx, &p, &r);
	if (!running)
		r = (struct rec){ 0, 0 };
	err = sweep(svc, ctx, ks, &p, &r, flags);
	if (!err && changed) {
		svc->change(ctx, "%s %s: write keepalived configuration %s (VRID %u, priority %u)",
			    ks->kind, ks->name, p.conf, ks->ha->vrid,
			    vxc_ka_priority(vxc_ka_rank(ks->ha, host)));
		if (!(flags & VXC_F_DRY_RUN) && (err = write_atomic(p.conf, want)) < 0)
			err = svc->error(ctx, err, "%s %s: write %s: %s", ks->kind, ks->name,
					 p.conf, strerror(-err));
	}
	if (!err && !running) {
		svc->change(ctx, "%s %s: start keepalived", ks->kind, ks->name);
		if (!(flags & VXC_F_DRY_RUN))
			err = start(svc, ctx, ks, &p, netns_fd);
	} else if (!err && changed) {
		svc->change(ctx, "%s %s: keepalived (PID %d) re-reads its configuration", ks->kind,
			    ks->name, (int)r.pid);
		if (!(flags & VXC_F_DRY_RUN))
			err = reload(svc, ctx, ks, &r);
	}
	free(want);
	free(have);
	return err;
}

static void count_found(void *arg, pid_t pid, unsigned long long start, pid_t ppid)
{
	(void)pid;
	(void)start;
	(void)ppid;
	++*(int *)arg;
}

/* A stopping keepalived runs its notify (STOP: gate closed) in a process
 * of its own, which carries the owner mark: wait for it to finish, so that
 * what the caller does next (a single copy opening its gate) comes after. */
static void wait_marked_gone(const struct vxc_services *svc, vxc_ctx *ctx,
			     const struct ka_paths *p)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < KA_STOP_MS / 10; i++) {
		int n = 0;

		if (svc->proc_find(ctx, p->owner, count_found, &n) < 0 || !n)
			return;
		nanosleep(&tick, NULL);
	}
}

int vxc_ka_stop(const struct vxc_services *svc, vxc_ctx *ctx, const char *kind,
		const char *tag, const char *name, unsigned flags)
{
	struct vxc_ka_spec ks = { .kind = kind, .tag = tag, .name = name };
	const struct rec none = { 0, 0 };
	struct ka_paths p;
	struct rec r;
	int err;

	if (paths(svc, ctx, tag, name, &p) < 0)
		return 0;
	if (svc->size < offsetof(struct vxc_services, proc_stop_exact) + sizeof(void *))
		return 0; /* such a core never started one */
	if (recorded_running(svc, ctx, &p, &r)) {
		svc->change(ctx, "%s %s: stop keepalived (PID %d)", kind, name, (int)r.pid);
		if (!(flags & VXC_F_DRY_RUN) &&
		    (err = svc->proc_stop_exact(ctx, r.pid, r.start, KA_STOP_MS)) < 0)
			return err;
		if (!(flags & VXC_F_DRY_RUN))
			wait_marked_gone(svc, ctx, &p);
	}
	err = sweep(svc, ctx, &ks, &p, &none, flags);
	if (err < 0 || (flags & VXC_F_DRY_RUN))
		return err;
	unlink(p.rec);
	unlink(p.conf);
	unlink(p.kpid);
	unlink(p.vpid);
	return 0;
}

int vxc_ka_list(const struct vxc_services *svc, vxc_ctx *ctx, const char *tag,
		void (*cb)(void *arg, const char *name), void *arg)
{
	const char *dir = svc->state_dir(ctx);
	char prefix[64];
	size_t pl, len;
	struct dirent *de;
	DIR *dh;

	if (!dir || !(dh = opendir(dir)))
		return 0;
	pl = (size_t)snprintf(prefix, sizeof(prefix), "ka-%s-", tag);
	while ((de = readdir(dh))) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, pl) || len <= pl + 4 ||
		    strcmp(de->d_name + len - 4, ".pid"))
			continue;
		de->d_name[len - 4] = '\0';
		cb(arg, de->d_name + pl);
	}
	closedir(dh);
	return 0;
}
