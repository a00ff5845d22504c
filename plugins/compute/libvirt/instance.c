/* instance_ensure: the domain is defined as the spec says and running.
 *
 * A changed boot setting (image, kernel, initrd, command line, NIC) is a
 * new definition: the domain is stopped, redefined (a new overlay when the
 * image changed) and started, and plan shows it first. A changed vCPU count
 * or memory size goes into the persistent definition at once but never
 * restarts the guest unless the instance says allow_restart = true: until
 * the domain is restarted (by apply with that flag, or by anyone: a cold
 * start takes the persistent definition), plan and status report a
 * pending restart. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

static int check_instance(struct lv_drv *d, const struct vxc_instance *inst)
{
	const struct vxc_port *port = inst ? inst->port : NULL;

	if (!inst || !inst->name || !*inst->name)
		return d->svc->error(d->ctx, -EINVAL, "instance without a name");
	if (inst->kind != VXC_INSTANCE_VM)
		return d->svc->error(d->ctx, -EOPNOTSUPP, "instance %s: the libvirt driver serves "
				     "kind vm only", inst->name);
	if (!port || !port->network || !*port->host_if)
		return d->svc->error(d->ctx, -EINVAL, "instance %s: no port on a network",
				     inst->name);
	if (!inst->image && !inst->kernel)
		return d->svc->error(d->ctx, -EINVAL, "instance %s: a VM boots from a base disk "
				     "image (image = \"/path/base.qcow2\";) or a kernel (kernel = "
				     "\"/path/vmlinuz\";); the spec gives neither", inst->name);
	return 0;
}

/* A file the domain reads at start: there, and a regular file. */
static int check_file(struct lv_drv *d, const char *who, const char *what, const char *path)
{
	struct stat st;

	if (!path)
		return 0;
	if (path[0] != '/')
		return d->svc->error(d->ctx, -EINVAL, "%s: %s \"%s\" must be an absolute path",
				     who, what, path);
	if (stat(path, &st) < 0)
		return d->svc->error(d->ctx, -errno, "%s: %s %s: %s", who, what, path,
				     strerror(errno));
	if (!S_ISREG(st.st_mode))
		return d->svc->error(d->ctx, -EINVAL, "%s: %s %s is not a regular file", who, what,
				     path);
	return 0;
}

static int build_want(struct lv_drv *d, const struct vxc_instance *inst, const char *who,
		      struct lv_want *w)
{
	const struct vxc_port *port = inst->port;
	const uint8_t *m = port->mac.b;
	int r;

	memset(w, 0, sizeof(*w));
	w->name = inst->name;
	r = lv_domain_type(d, who, &w->type);
	if (r < 0)
		return r;
	w->cpus = inst->cpus ? inst->cpus : d->default_cpus;
	w->memory_mb = inst->memory_mb ? inst->memory_mb : d->default_memory_mb;
	r = check_file(d, who, "base image", inst->image);
	if (r == 0)
		r = check_file(d, who, "kernel", inst->kernel);
	if (r == 0)
		r = check_file(d, who, "initrd", inst->initrd);
	if (r < 0)
		return r;
	if (inst->image) {
		w->image = inst->image;
		w->image_format = lv_image_format(inst->image);
		if (snprintf(w->overlay, sizeof(w->overlay), "%s/%s.qcow2", d->disk_dir,
			     inst->name) >= (int)sizeof(w->overlay))
			return d->svc->error(d->ctx, -ENAMETOOLONG, "%s: disk_dir is too long", who);
	}
	w->kernel = inst->kernel;
	w->initrd = inst->initrd;
	w->cmdline = inst->cmdline;
	snprintf(w->mac, sizeof(w->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	w->bridge = port->network->bridge_if;
	w->tap = port->host_if;
	w->mtu = port->network->mtu;
	if (snprintf(w->console, sizeof(w->console), "%s/%s.log", d->console_dir, inst->name) >=
	    (int)sizeof(w->console))
		return d->svc->error(d->ctx, -ENAMETOOLONG, "%s: console_dir is too long", who);
	return 0;
}

static int make_dirs(struct lv_drv *d, const char *who, unsigned flags)
{
	const char *dirs[] = { d->disk_dir, d->console_dir };

	if (flags & VXC_F_DRY_RUN)
		return 0;
	for (size_t i = 0; i < 2; i++)
		if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST)
			return d->svc->error(d->ctx, -errno, "%s: mkdir %s: %s", who, dirs[i],
					     strerror(errno));
	return 0;
}

static int define(struct lv_drv *d, const char *who, const struct lv_want *w)
{
	char *xml = lv_domain_xml(w);
	virDomainPtr dom;

	if (!xml)
		return d->svc->error(d->ctx, -ENOMEM, "%s: out of memory", who);
	dom = virDomainDefineXML(d->conn, xml);
	free(xml);
	if (!dom)
		return d->svc->error(d->ctx, -EIO, "%s: libvirt refused the definition: %s", who,
				     lv_last_error());
	virDomainFree(dom);
	return 0;
}

static int start(struct lv_drv *d, const char *who, virDomainPtr dom)
{
	if (virDomainCreate(dom) < 0)
		return d->svc->error(d->ctx, -EIO, "%s: libvirt cannot start the domain: %s", who,
				     lv_last_error());
	return 0;
}

static int with_domain(struct lv_drv *d, const char *who, const char *name,
		       int (*fn)(struct lv_drv *, const char *, virDomainPtr))
{
	virDomainPtr dom = virDomainLookupByName(d->conn, name);
	int r;

	if (!dom)
		return d->svc->error(d->ctx, -ENOENT, "%s: domain vanished: %s", who,
				     lv_last_error());
	r = fn(d, who, dom);
	virDomainFree(dom);
	return r;
}

static int create(struct lv_drv *d, const char *who, const struct lv_want *w, unsigned flags)
{
	int r = flags & VXC_F_DRY_RUN ? 0 : lv_record_write(d, w);

	if (r == 0 && w->overlay[0])
		r = lv_overlay_create(d, w, flags);
	if (r < 0)
		return r;
	d->svc->change(d->ctx, "%s: define domain %s (%s, %u vCPU, %u MiB) and start it", who,
		       w->name, w->type, w->cpus, w->memory_mb);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = define(d, who, w);
	return r < 0 ? r : with_domain(d, who, w->name, start);
}

/* ---- an existing domain ---------------------------------------------- */

/* The boot attributes recorded in the ownership element that differ from
 * w, as "kernel, cmdline"; "" when none. */
static int boot_diff(virDomainPtr dom, const struct lv_want *w, char *out, size_t outsz)
{
	char num[16];
	const struct {
		const char *attr, *want;
	} keys[] = {
		{ "type", w->type },	 { "image", w->image ? w->image : "" },
		{ "overlay", w->overlay }, { "kernel", w->kernel ? w->kernel : "" },
		{ "initrd", w->initrd ? w->initrd : "" },
		{ "cmdline", w->cmdline ? w->cmdline : "" },
		{ "mac", w->mac },	 { "bridge", w->bridge },
		{ "mtu", num },		 { "console", w->console },
	};

	snprintf(num, sizeof(num), "%u", w->mtu);
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *have;
		int r = lv_meta_get(dom, keys[i].attr, &have);

		if (r < 0)
			return r;
		if (strcmp(have, keys[i].want)) {
			size_t len = strlen(out);

			snprintf(out + len, outsz - len, "%s%s", len ? ", " : "", keys[i].attr);
		}
		free(have);
	}
	return 0;
}

static unsigned meta_uint(virDomainPtr dom, const char *attr)
{
	char *v = NULL;
	unsigned n = 0;

	if (lv_meta_get(dom, attr, &v) > 0)
		n = (unsigned)strtoul(v, NULL, 10);
	free(v);
	return n;
}

int lv_domain_stop(struct lv_drv *d, const char *who, virDomainPtr dom)
{
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
		return d->svc->error(d->ctx, -EIO, "%s: libvirt cannot stop the domain: %s", who,
				     lv_last_error());
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ACPI shutdown, waited for up to shutdown_timeout_ms, then a hard stop,
 * then a cold start (which takes the persistent definition). */
static int restart(struct lv_drv *d, const char *who, virDomainPtr dom)
{
	long long end = now_ms() + d->shutdown_timeout_ms;

	if (d->shutdown_timeout_ms && virDomainShutdown(dom) == 0)
		while (virDomainIsActive(dom) == 1 && now_ms() < end)
			usleep(100 * 1000);
	if (lv_domain_stop(d, who, dom) < 0)
		return -EIO;
	return start(d, who, dom);
}

/* A new base image or overlay path means a new overlay. */
static int disk_changed(const char *what)
{
	return strstr(what, "image") || strstr(what, "overlay");
}

static int redefine_boot(struct lv_drv *d, const char *who, virDomainPtr dom,
			 const struct lv_want *w, const char *what, unsigned flags)
{
	char *old_overlay = NULL;
	int r;

	d->svc->change(d->ctx, "%s: boot settings changed (%s): stop, redefine and start the "
		       "domain", who, what);
	if (flags & VXC_F_DRY_RUN)
		return w->overlay[0] && disk_changed(what) ? lv_overlay_create(d, w, flags) : 0;
	r = lv_domain_stop(d, who, dom);
	if (r == 0 && disk_changed(what) && lv_meta_get(dom, "overlay", &old_overlay) > 0)
		r = lv_overlay_remove(d, who, old_overlay, flags);
	free(old_overlay);
	if (r == 0)
		r = lv_record_write(d, w);
	if (r == 0 && w->overlay[0] && (disk_changed(what) || access(w->overlay, F_OK)))
		r = lv_overlay_create(d, w, flags);
	if (r == 0)
		r = define(d, who, w);
	return r < 0 ? r : start(d, who, dom);
}

/* vCPUs and memory: the definition follows the spec at once; the running
 * guest only on a restart. */
static int ensure_size(struct lv_drv *d, const char *who, virDomainPtr dom,
		       const struct lv_want *w, int allow_restart, unsigned flags)
{
	unsigned def_cpus = meta_uint(dom, "cpus"), def_mem = meta_uint(dom, "memory");
	virDomainInfo info;
	int r = 0;

	if (def_cpus != w->cpus || def_mem != w->memory_mb) {
		d->svc->change(d->ctx, "%s: definition: %u vCPU, %u MiB (was %u vCPU, %u MiB)", who,
			       w->cpus, w->memory_mb, def_cpus, def_mem);
		if (!(flags & VXC_F_DRY_RUN) && (r = define(d, who, w)) < 0)
			return r;
	}
	if (virDomainIsActive(dom) != 1) {
		d->svc->change(d->ctx, "%s: start domain %s (it is shut off)", who, w->name);
		return flags & VXC_F_DRY_RUN ? 0 : start(d, who, dom);
	}
	if (virDomainGetInfo(dom, &info) < 0)
		return d->svc->error(d->ctx, -EIO, "%s: libvirt: %s", who, lv_last_error());
	if (info.nrVirtCpu == w->cpus && info.maxMem == w->memory_mb * 1024ULL)
		return 0;
	if (!allow_restart) {
		d->svc->change(d->ctx, "%s: restart pending: the guest runs %u vCPU, %lu MiB, the "
			       "spec wants %u vCPU, %u MiB; restart the domain or set "
			       "allow_restart = true on the instance", who, info.nrVirtCpu,
			       info.maxMem / 1024, w->cpus, w->memory_mb);
		return 0;
	}
	d->svc->change(d->ctx, "%s: restart the domain for %u vCPU, %u MiB (allow_restart)", who,
		       w->cpus, w->memory_mb);
	return flags & VXC_F_DRY_RUN ? 0 : restart(d, who, dom);
}

static int ensure_existing(struct lv_drv *d, const char *who, virDomainPtr dom,
			   const struct vxc_instance *inst, struct lv_want *w, unsigned flags)
{
	char *owner = NULL, what[256];
	int r = lv_meta_get(dom, "name", &owner);

	if (r < 0)
		return d->svc->error(d->ctx, -EIO, "%s: cannot read the domain's metadata: %s",
				     who, lv_last_error());
	if (r == 0 || strcmp(owner, inst->name)) {
		free(owner);
		return d->svc->error(d->ctx, -EEXIST, "%s: a domain named %s exists and is not "
				     "vxcloud's (no vxcloud ownership metadata); refusing to touch "
				     "it: rename or remove it, or rename the instance", who,
				     inst->name);
	}
	free(owner);
	if (virDomainGetUUIDString(dom, w->uuid) < 0)
		return d->svc->error(d->ctx, -EIO, "%s: libvirt: %s", who, lv_last_error());
	r = boot_diff(dom, w, what, sizeof(what));
	if (r < 0)
		return d->svc->error(d->ctx, r, "%s: cannot read the domain's metadata: %s", who,
				     lv_last_error());
	if (what[0])
		return redefine_boot(d, who, dom, w, what, flags);
	return ensure_size(d, who, dom, w, inst->allow_restart, flags);
}

int lv_instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags)
{
	struct lv_drv *d = priv;
	struct lv_want w;
	virDomainPtr dom;
	char who[64];
	int r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "instance_ensure: unknown flags 0x%x",
				     flags);
	r = check_instance(d, inst);
	if (r < 0)
		return r;
	snprintf(who, sizeof(who), "instance %s", inst->name);
	if ((r = lv_connect(d, who)) < 0 || (r = build_want(d, inst, who, &w)) < 0 ||
	    (r = make_dirs(d, who, flags)) < 0)
		return r;
	d->svc->note(d->ctx, "%s: console log %s", who, w.console);
	dom = virDomainLookupByName(d->conn, inst->name);
	if (!dom) {
		virErrorPtr e = virGetLastError();

		if (!e || e->code != VIR_ERR_NO_DOMAIN)
			return d->svc->error(d->ctx, -EIO, "%s: libvirt: %s", who, lv_last_error());
		return create(d, who, &w, flags);
	}
	r = ensure_existing(d, who, dom, inst, &w, flags);
	virDomainFree(dom);
	return r;
}
