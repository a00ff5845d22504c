/* The descriptor: the one symbol this .so exports. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static const struct vxc_option options[] = {
	{ "uri", VXC_OPT_STRING, "qemu:///system", 0, 0, "libvirt connection URI" },
	{ "domain_type", VXC_OPT_STRING, "auto", 0, 0,
	  "auto (kvm when the CPU offers vmx/svm and libvirt can run KVM, else qemu), kvm or "
	  "qemu (TCG)" },
	{ "disk_dir", VXC_OPT_STRING, "", 0, 0,
	  "directory of the per-instance overlays; empty: <state_dir>/libvirt/disks" },
	{ "console_dir", VXC_OPT_STRING, "", 0, 0,
	  "directory of the console logs; empty: <state_dir>/libvirt/console" },
	{ "qemu_img", VXC_OPT_STRING, "qemu-img", 0, 0, "qemu-img program making overlays" },
	{ "default_cpus", VXC_OPT_INT, "1", 1, 1024, "vCPUs of a VM whose spec gives none" },
	{ "default_memory_mb", VXC_OPT_INT, "256", 16, 16777216,
	  "memory of a VM whose spec gives none" },
	{ "shutdown_timeout_ms", VXC_OPT_INT, "5000", 0, 600000,
	  "allow_restart: how long an ACPI shutdown may take before a hard stop" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* The core must hand out the ABI 1.5 model fields (kernel, initrd, ...)
 * and the note service. */
#define NEEDED_SERVICES (offsetof(struct vxc_services, note) + sizeof(void *))

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err; /* errors are quoted in the driver's own messages */
}

static int opt_dir(struct lv_drv *d, const char *opt, const char *sub, const char **out,
		   char **own)
{
	const char *v = NULL, *state;

	d->svc->opt_string(d->ctx, opt, &v);
	if (v && *v) {
		*out = v;
		return 0;
	}
	state = d->svc->state_dir(d->ctx);
	if (!state || asprintf(own, "%s/%s", state, sub) < 0)
		return d->svc->error(d->ctx, -EIO, "compute/libvirt: no state directory for %s",
				     opt);
	*out = *own;
	return 0;
}

struct lv_priv {
	struct lv_drv d;
	char *disk_dir, *console_dir;
};

static int read_settings(struct lv_priv *p)
{
	struct lv_drv *d = &p->d;
	const char *type = NULL;
	long long n;
	int r;

	d->svc->opt_string(d->ctx, "uri", &d->uri);
	d->svc->opt_string(d->ctx, "qemu_img", &d->qemu_img);
	d->svc->opt_string(d->ctx, "domain_type", &type);
	if (!strcmp(type, "auto"))
		d->want_type = LV_TYPE_AUTO;
	else if (!strcmp(type, "kvm"))
		d->want_type = LV_TYPE_KVM;
	else if (!strcmp(type, "qemu"))
		d->want_type = LV_TYPE_QEMU;
	else
		return d->svc->error(d->ctx, -EINVAL, "compute/libvirt: domain_type \"%s\": "
				     "use auto, kvm or qemu", type);
	d->svc->opt_int(d->ctx, "default_cpus", &n);
	d->default_cpus = (unsigned)n;
	d->svc->opt_int(d->ctx, "default_memory_mb", &n);
	d->default_memory_mb = (unsigned)n;
	d->svc->opt_int(d->ctx, "shutdown_timeout_ms", &n);
	d->shutdown_timeout_ms = (unsigned)n;
	r = opt_dir(d, "disk_dir", "disks", &d->disk_dir, &p->disk_dir);
	return r < 0 ? r : opt_dir(d, "console_dir", "console", &d->console_dir, &p->console_dir);
}

static int drv_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct lv_priv *p;
	int r;

	if (!svc || svc->size < NEEDED_SERVICES || svc->abi_minor < 5)
		return -ENOTSUP;
	p = calloc(1, sizeof(*p));
	if (!p)
		return svc->error(ctx, -ENOMEM, "compute/libvirt: out of memory");
	p->d.ctx = ctx;
	p->d.svc = svc;
	r = read_settings(p);
	if (r < 0) {
		free(p->disk_dir);
		free(p->console_dir);
		free(p);
		return r;
	}
	virSetErrorFunc(NULL, quiet);
	*priv = p;
	return 0;
}

static void drv_close(void *priv)
{
	struct lv_priv *p = priv;

	if (p->d.conn)
		virConnectClose(p->d.conn);
	free(p->disk_dir);
	free(p->console_dir);
	free(p);
}

static const struct vxc_compute_ops ops = {
	.size = sizeof(struct vxc_compute_ops),
	.instance_ensure = lv_instance_ensure,
	.list = lv_list,
	.remove = lv_remove,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_COMPUTE,
	.name = "libvirt",
	.description = "virtual machines as libvirt domains (KVM or QEMU/TCG) through the "
		       "libvirt C API",
	.caps = VXC_CAP_VM,
	.options = options,
	.open = drv_open,
	.close = drv_close,
	.ops = &ops,
};
