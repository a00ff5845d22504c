/* What the driver finds on the host (list) and takes away (remove). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netlink/route/link.h>

#include "driver.h"

/* Names of instances found on the host, sorted and without duplicates. */
struct names {
	char **v;
	size_t n, cap;
	int oom;
};

/* Duplicates (a namespace and its record) go after sorting: a search per
 * name would make listing N instances cost N^2. */
static void names_add(struct names *s, const char *name)
{
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

static void add_netns(void *arg, const char *nsname)
{
	names_add(arg, nsname + strlen(NETNS_PREFIX));
}

/* A command record without its namespace (a crash between the two, or
 * a namespace deleted by hand) still names an instance to clean up. */
static int add_records(struct netns_drv *d, struct names *s)
{
	const char *dir = d->svc->state_dir(d->ctx);
	struct dirent *de;
	DIR *dh;

	if (!dir || !(dh = opendir(dir)))
		return 0;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len > 4 && !strcmp(de->d_name + len - 4, ".pid")) {
			de->d_name[len - 4] = '\0';
			names_add(s, de->d_name);
		}
	}
	closedir(dh);
	return 0;
}

/* A host end carrying an instance's mark names it too: a run killed after
 * deleting the namespace, before the kernel took the veth along, leaves
 * only the veth behind. */
static int add_marked_veths(struct netns_drv *d, struct names *s)
{
	static const char mark[] = VXC_OWNER_MARK "instance:";
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int r;

	if (!sk)
		return d->svc->error(d->ctx, -ENOMEM, "list: out of memory");
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r == 0)
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0) {
		nl_socket_free(sk);
		return d->svc->error(d->ctx, -EIO, "list: link dump: %s", nl_geterror(r));
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l), *alias = rtnl_link_get_ifalias(l);

		if (name && alias && !strncmp(name, HOST_IF_PREFIX, strlen(HOST_IF_PREFIX)) &&
		    !strncmp(alias, mark, strlen(mark)) && alias[strlen(mark)])
			names_add(s, alias + strlen(mark));
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int instance_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct netns_drv *d = priv;
	struct names s = { 0 };
	int r;

	r = d->svc->netns_list(d->ctx, NETNS_PREFIX, add_netns, &s);
	if (r == 0)
		r = add_records(d, &s);
	if (r == 0)
		r = add_marked_veths(d, &s);
	if (r == 0 && s.oom)
		r = d->svc->error(d->ctx, -ENOMEM, "list: out of memory");
	if (r == 0) {
		if (s.n) /* qsort(NULL, 0, ...) is undefined */
			qsort(s.v, s.n, sizeof(*s.v), cmp_name);
		for (size_t i = 0; i < s.n; i++) {
			struct vxc_owned obj = { VXC_KIND_INSTANCE, s.v[i], NULL };

			if (!i || strcmp(s.v[i - 1], s.v[i]))
				cb(arg, &obj);
		}
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return r;
}

int instance_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct netns_drv *d = priv;
	char nsname[VXC_NETNS_NAMSIZ], host_if[IF_NAMESIZE];
	int fd, r, has_nic;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "remove: unknown flags 0x%x", flags);
	if (!obj || obj->kind != VXC_KIND_INSTANCE || !obj->name || !*obj->name)
		return d->svc->error(d->ctx, -EINVAL, "remove: not an instance");
	if (snprintf(nsname, sizeof(nsname), NETNS_PREFIX "%s", obj->name) >= (int)sizeof(nsname) ||
	    snprintf(host_if, sizeof(host_if), HOST_IF_PREFIX "%s", obj->name) >=
		    (int)sizeof(host_if))
		return d->svc->error(d->ctx, -EINVAL, "instance %s: name too long", obj->name);
	r = command_stop(d, obj->name, flags);
	if (r < 0)
		return r;
	fd = d->svc->netns_open(d->ctx, nsname);
	if (fd >= 0)
		close(fd);
	else if (fd != -ENOENT)
		return fd;
	/* An end noted for reaping is on its way out (a second remove). */
	has_nic = (fd >= 0 || !reap_noted(d, host_if)) && if_nametoindex(host_if) != 0;
	if (has_nic)
		d->svc->change(d->ctx, "instance %s: delete veth %s", obj->name, host_if);
	if (fd >= 0)
		d->svc->change(d->ctx, "instance %s: delete netns %s", obj->name, nsname);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	/* Also without a namespace: an empty file a killed run left goes
	 * (netns_delete reports it). */
	if ((r = d->svc->netns_delete(d->ctx, nsname)) < 0)
		return r;
	/* The namespace takes the veth pair along, in one batch with the other
	 * instances' (see reap.c); without a namespace the host end goes now. */
	if (has_nic && fd >= 0 && (r = reap_note(d, host_if)) < 0)
		return d->svc->error(d->ctx, r, "instance %s: out of memory", obj->name);
	if (has_nic && fd < 0 && (r = d->svc->link_delete(d->ctx, host_if)) < 0)
		return r;
	{
		char *log = state_file(d, obj->name, "log");

		if (log)
			unlink(log);
		free(log);
	}
	return 0;
}
