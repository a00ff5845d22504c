/* What the driver finds on the host (list) and takes away (remove): the
 * containers labelled for this host, found by label only, so a container
 * vxcloud does not own is never listed nor removed whatever its name. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

struct listed {
	struct docker_drv *d;
	vxc_owned_cb cb;
	void *arg;
};

static void report(void *arg, const char *id, const char *instance, const char *nic)
{
	struct listed *l = arg;
	struct vxc_owned obj = { VXC_KIND_INSTANCE, instance, NULL };

	l->cb(l->arg, &obj);
}

int instance_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct docker_drv *d = priv;
	struct listed l = { d, cb, arg };

	return container_list(d, NULL, report, &l);
}

/* The containers of one instance, copied out of the reply: normally one (a
 * recreate removes the old container before it makes the new one); any
 * beyond the first eight are listed again by the next run and removed then. */
struct found {
	char *id[8];
	char *nic[8];
	size_t n;
};

static void keep(void *arg, const char *id, const char *instance, const char *nic)
{
	struct found *f = arg;

	if (f->n < sizeof(f->id) / sizeof(*f->id)) {
		f->id[f->n] = strdup(id);
		f->nic[f->n] = nic ? strdup(nic) : NULL;
		f->n++;
	}
}

static int remove_one(struct docker_drv *d, const char *name, const char *id, const char *nic,
		      unsigned flags)
{
	int r;

	if (!id)
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	d->svc->change(d->ctx, "instance %s: remove container %.12s", name, id);
	if (!(flags & VXC_F_DRY_RUN) && (r = container_remove(d, id)) < 0)
		return r;
	/* The host end goes with the container's namespace; a crash can still
	 * leave one behind when the kernel tears the namespace down late. */
	if (nic && if_nametoindex(nic)) {
		d->svc->change(d->ctx, "instance %s: delete veth %s", name, nic);
		if (!(flags & VXC_F_DRY_RUN) && (r = d->svc->link_delete(d->ctx, nic)) < 0)
			return r;
	}
	return 0;
}

int instance_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct docker_drv *d = priv;
	struct found f = { 0 };
	int r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "remove: unknown flags 0x%x", flags);
	if (!obj || obj->kind != VXC_KIND_INSTANCE || !obj->name || !*obj->name)
		return d->svc->error(d->ctx, -EINVAL, "remove: not an instance");
	r = container_list(d, obj->name, keep, &f);
	for (size_t i = 0; r == 0 && i < f.n; i++)
		r = remove_one(d, obj->name, f.id[i], f.nic[i], flags);
	for (size_t i = 0; i < f.n; i++) {
		free(f.id[i]);
		free(f.nic[i]);
	}
	return r;
}
