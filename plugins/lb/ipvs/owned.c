/* What the driver finds on the host (list) and takes away (remove): a
 * balancer is its namespace; the IPVS services, connections and the snat
 * table live and die with it. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

/* Names the spec can give a balancer (and nothing that could inject). */
int ipvs_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 12)
		return 0;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return 0;
	return 1;
}

struct list_ctx {
	vxc_owned_cb cb;
	void *arg;
	struct ipvs_drv *d;
};

static void add_netns(void *arg, const char *nsname)
{
	struct list_ctx *l = arg;
	const char *name = nsname + strlen(NETNS_PREFIX);
	struct vxc_owned obj = { VXC_KIND_LB, name, NULL };

	if (ipvs_name_ok(name))
		l->cb(l->arg, &obj);
}

/* A keepalived record whose namespace is gone (a crash): listed too, so
 * remove stops what is left. Its namespace, if any, lists it as well. */
static void add_ka(void *arg, const char *name)
{
	struct list_ctx *l = arg;
	struct vxc_owned obj = { VXC_KIND_LB, name, NULL };
	char nsname[VXC_NETNS_NAMSIZ];
	int fd;

	if (!ipvs_name_ok(name))
		return;
	snprintf(nsname, sizeof(nsname), NETNS_PREFIX "%s", name);
	fd = l->d->svc->netns_open(l->d->ctx, nsname);
	if (fd >= 0)
		close(fd);
	else
		l->cb(l->arg, &obj);
}

int ipvs_lb_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct ipvs_drv *d = priv;
	struct list_ctx l = { cb, arg, d };
	int r = d->svc->netns_list(d->ctx, NETNS_PREFIX, add_netns, &l);

	return r < 0 ? r : lb_ha_list(d->ctx, d->svc, add_ka, &l);
}

int ipvs_lb_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct ipvs_drv *d = priv;
	char nsname[VXC_NETNS_NAMSIZ], host_if[IF_NAMESIZE];
	int fd, r = 0;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "remove: unknown flags 0x%x", flags);
	if (!obj || obj->kind != VXC_KIND_LB || !obj->name || !ipvs_name_ok(obj->name))
		return d->svc->error(d->ctx, -EINVAL, "remove: not a load balancer of this driver");
	/* keepalived first (the other copies take the VIP at once), then the
	 * checker: a process in the namespace would keep it alive */
	r = lb_ha_remove(d->ctx, d->svc, obj->name, flags);
	if (r == 0)
		r = ipvs_checker_stop(d, obj->name, flags);
	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: stop health checker: %s",
				     obj->name, strerror(-r));
	snprintf(nsname, sizeof(nsname), NETNS_PREFIX "%s", obj->name);
	snprintf(host_if, sizeof(host_if), "vl-%s", obj->name);
	if (if_nametoindex(host_if)) {
		d->svc->change(d->ctx, "load balancer %s: delete veth %s", obj->name, host_if);
		if (!(flags & VXC_F_DRY_RUN))
			r = d->svc->link_delete(d->ctx, host_if);
	}
	if (r < 0)
		return r;
	fd = d->svc->netns_open(d->ctx, nsname);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	d->svc->change(d->ctx, "load balancer %s: delete netns %s (its IPVS services and "
		       "connections go with it)", obj->name, nsname);
	return (flags & VXC_F_DRY_RUN) ? 0 : d->svc->netns_delete(d->ctx, nsname);
}
