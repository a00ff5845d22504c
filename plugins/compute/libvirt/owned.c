/* What the driver finds (list) and takes away (remove): domains carrying
 * the ownership element only; the instance name is the element's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

/* Records of instances whose domain is gone (a run killed between the
 * overlay and the definition); instances with a domain are listed once. */
struct rec_filter {
	char **names;
	int n;
	vxc_owned_cb cb;
	void *arg;
};

static void rec_unless_domain(void *arg, const struct vxc_owned *obj)
{
	struct rec_filter *f = arg;

	for (int i = 0; i < f->n; i++)
		if (f->names[i] && !strcmp(f->names[i], obj->name))
			return;
	f->cb(f->arg, obj);
}

int lv_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct lv_drv *d = priv;
	struct rec_filter f = { .cb = cb, .arg = arg };
	virDomainPtr *doms = NULL;
	int n, r;

	if ((r = lv_connect(d, "compute/libvirt: listing the VMs")) < 0) {
		if (lv_record_count(d))
			return r;
		/* Nothing of vxcloud's was ever made through it here: a host whose
		 * libvirtd is down or gone still applies and destroys the rest. */
		d->svc->log(d->ctx, VXC_LOG_WARN, "compute/libvirt: libvirtd unreachable at %s "
			    "(%s); no VM of vxcloud's is recorded on this host, so none is "
			    "listed", d->uri, lv_last_error());
		return 0;
	}
	n = virConnectListAllDomains(d->conn, &doms, 0);
	if (n < 0)
		return d->svc->error(d->ctx, -EIO, "list: libvirt cannot list domains: %s",
				     lv_last_error());
	f.names = calloc((size_t)n + 1, sizeof(*f.names));
	if (!f.names)
		r = d->svc->error(d->ctx, -ENOMEM, "list: out of memory");
	for (int i = 0; i < n; i++) {
		char *name = NULL;

		if (!r && lv_meta_get(doms[i], "name", &name) > 0 && name[0]) {
			struct vxc_owned obj = { VXC_KIND_INSTANCE, name, NULL };

			cb(arg, &obj);
			f.names[f.n++] = name;
		} else {
			free(name);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!r)
		r = lv_record_list(d, rec_unless_domain, &f);
	for (int i = 0; i < f.n; i++)
		free(f.names[i]);
	free(f.names);
	return r;
}

static int remove_domain(struct lv_drv *d, const char *who, virDomainPtr dom, unsigned flags)
{
	char *overlay = NULL, *console = NULL, *owner = NULL;
	int r = lv_meta_get(dom, "name", &owner);

	if (r <= 0 || strcmp(owner, who + strlen("instance "))) {
		free(owner);
		return d->svc->error(d->ctx, -EPERM, "%s: the domain of that name is not vxcloud's; "
				     "refusing to remove it", who);
	}
	free(owner);
	lv_meta_get(dom, "overlay", &overlay);
	lv_meta_get(dom, "console", &console);
	d->svc->change(d->ctx, "%s: stop and undefine domain", who);
	if (!(flags & VXC_F_DRY_RUN)) {
		r = lv_domain_stop(d, who, dom);
		if (r == 0 && virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
							  VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
							  VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
			r = d->svc->error(d->ctx, -EIO, "%s: libvirt cannot undefine the domain: %s",
					  who, lv_last_error());
	}
	if (r == 0)
		r = lv_overlay_remove(d, who, overlay, flags);
	if (r == 0 && console && console[0] && !(flags & VXC_F_DRY_RUN))
		unlink(console);
	if (r == 0 && !(flags & VXC_F_DRY_RUN))
		lv_record_remove(d, who + strlen("instance "));
	free(overlay);
	free(console);
	return r;
}

int lv_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct lv_drv *d = priv;
	virDomainPtr dom;
	char who[64];
	int r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "remove: unknown flags 0x%x", flags);
	if (!obj || obj->kind != VXC_KIND_INSTANCE || !obj->name || !*obj->name)
		return d->svc->error(d->ctx, -EINVAL, "remove: not an instance");
	snprintf(who, sizeof(who), "instance %s", obj->name);
	if ((r = lv_connect(d, who)) < 0)
		return r;
	dom = virDomainLookupByName(d->conn, obj->name);
	if (!dom) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN)
			return lv_record_cleanup(d, who, obj->name, flags);
		return d->svc->error(d->ctx, -EIO, "%s: libvirt: %s", who, lv_last_error());
	}
	r = remove_domain(d, who, dom, flags);
	virDomainFree(dom);
	return r;
}
