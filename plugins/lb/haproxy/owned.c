/* What the driver finds on the host (list) and takes away (remove): a
 * balancer is known by its namespace or by its state directory, so a run
 * killed between the two still leaves something to clean up. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

struct names {
	char **v;
	size_t n, cap;
	int oom;
};

static void names_add(struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->oom = 1;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(name)))
		s->oom = 1;
	else
		s->n++;
}

/* Only names the driver could have made: anything else is not its own. */
static void add_netns(void *arg, const char *nsname)
{
	if (hap_name_ok(nsname + strlen(NETNS_PREFIX)))
		names_add(arg, nsname + strlen(NETNS_PREFIX));
}

/* A keepalived record left without namespace or state directory. */
static void add_ka(void *arg, const char *name)
{
	if (hap_name_ok(name))
		names_add(arg, name);
}

static void add_state_dirs(struct hap_drv *d, struct names *s)
{
	const char *dir = d->svc->state_dir(d->ctx);
	struct dirent *de;
	DIR *dh;

	if (!dir || !(dh = opendir(dir)))
		return;
	while ((de = readdir(dh)))
		if (de->d_type == DT_DIR && hap_name_ok(de->d_name))
			names_add(s, de->d_name);
	closedir(dh);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hap_lb_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct hap_drv *d = priv;
	struct names s = { 0 };
	int r;

	r = d->svc->netns_list(d->ctx, NETNS_PREFIX, add_netns, &s);
	if (r == 0)
		add_state_dirs(d, &s);
	if (r == 0)
		r = lb_ha_list(d->ctx, d->svc, add_ka, &s);
	if (r == 0 && s.oom)
		r = d->svc->error(d->ctx, -ENOMEM, "list: out of memory");
	if (r == 0) {
		if (s.n)
			qsort(s.v, s.n, sizeof(*s.v), cmp_name);
		for (size_t i = 0; i < s.n; i++) {
			struct vxc_owned obj = { VXC_KIND_LB, s.v[i], NULL };

			cb(arg, &obj);
		}
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return r;
}

static int remove_files(struct hap_drv *d, const char *lb, const struct hap_paths *p,
			unsigned flags)
{
	const char *files[] = { p->cfg, p->next, p->master, p->stats, p->pid, p->log };
	char tmp[400];

	if (access(p->dir, F_OK) < 0)
		return 0;
	d->svc->change(d->ctx, "load balancer %s: remove %s", lb, p->dir);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unlink(files[i]);
		snprintf(tmp, sizeof(tmp), "%s.tmp", files[i]);
		unlink(tmp);
	}
	if (rmdir(p->dir) < 0 && errno != ENOENT)
		return d->svc->error(d->ctx, -errno, "load balancer %s: rmdir %s: %s", lb, p->dir,
				     strerror(errno));
	return 0;
}

static int remove_netns(struct hap_drv *d, const char *lb, const char *nsname, unsigned flags)
{
	int fd = d->svc->netns_open(d->ctx, nsname);

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	d->svc->change(d->ctx, "load balancer %s: delete netns %s", lb, nsname);
	return (flags & VXC_F_DRY_RUN) ? 0 : d->svc->netns_delete(d->ctx, nsname);
}

int hap_lb_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct hap_drv *d = priv;
	char nsname[VXC_NETNS_NAMSIZ], host_if[IF_NAMESIZE];
	struct hap_paths p;
	int r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "remove: unknown flags 0x%x", flags);
	if (!obj || obj->kind != VXC_KIND_LB)
		return d->svc->error(d->ctx, -EINVAL, "remove: not a load balancer");
	r = hap_check_name(d, obj->name);
	if (r == 0 && ((size_t)snprintf(nsname, sizeof(nsname), NETNS_PREFIX "%s", obj->name) >=
			       sizeof(nsname) ||
		       (size_t)snprintf(host_if, sizeof(host_if), "vl-%s", obj->name) >=
			       sizeof(host_if)))
		r = d->svc->error(d->ctx, -EINVAL, "load balancer %s: name too long", obj->name);
	if (r == 0)
		r = hap_paths(d, obj->name, &p);
	/* keepalived first: the other copies take the VIP at once */
	if (r == 0)
		r = lb_ha_remove(d->ctx, d->svc, obj->name, flags);
	if (r == 0)
		r = hap_stop(d, obj->name, &p, flags);
	if (r == 0)
		r = hap_sweep(d, obj->name, nsname, flags);
	if (r == 0 && if_nametoindex(host_if)) {
		d->svc->change(d->ctx, "load balancer %s: delete veth %s", obj->name, host_if);
		if (!(flags & VXC_F_DRY_RUN))
			r = d->svc->link_delete(d->ctx, host_if);
	}
	if (r == 0)
		r = remove_netns(d, obj->name, nsname, flags);
	return r < 0 ? r : remove_files(d, obj->name, &p, flags);
}
