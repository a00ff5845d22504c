/* compute/libvirt: an instance of kind vm is a libvirt domain named after
 * it, defined and started through the libvirt C API. Its XML is built with
 * libxml2's tree API (every spec string escaped by it) and carries an
 * ownership element in <metadata>; list and remove go by that element
 * only. The NIC is <interface type='bridge'> on the tenant network's bridge
 * with the tap named inst->port->host_if: libvirt makes and enslaves that
 * tap whenever it starts the domain, so the NIC is on the network after a
 * guest reboot (same QEMU, same tap) and after a restart of the domain by
 * anyone (libvirt plugs the new tap in). Reaches the core only through the
 * services table. */
#ifndef VXC_LIBVIRT_DRIVER_H
#define VXC_LIBVIRT_DRIVER_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <vxcloud/compute.h>

/* Namespace of the ownership element <vxc:instance> in <metadata>. */
#define LV_META_URI "http://vxcloud.dev/xmlns/libvirt-instance/1"
#define LV_META_PREFIX "vxc"

enum lv_domain_type { LV_TYPE_AUTO, LV_TYPE_KVM, LV_TYPE_QEMU };

struct lv_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	virConnectPtr conn;           /* opened on first use */
	const char *uri;
	enum lv_domain_type want_type;
	const char *resolved_type;    /* "kvm" or "qemu", once known */
	const char *disk_dir;         /* overlays: <disk_dir>/<name>.qcow2 */
	const char *console_dir;      /* console logs: <console_dir>/<name>.log */
	const char *qemu_img;
	const char *emulator;         /* "" = libvirt's default */
	unsigned default_cpus, default_memory_mb, shutdown_timeout_ms;
};

/* What a domain should be, and what its ownership element records of the
 * definition vxcloud made (the attributes compared on every apply). */
struct lv_want {
	const char *name;
	char uuid[VIR_UUID_STRING_BUFLEN]; /* of the existing domain, or "" */
	const char *type;        /* "kvm" or "qemu" */
	unsigned cpus, memory_mb;
	const char *image;       /* base image, or NULL */
	const char *image_format; /* "qcow2" or "raw" */
	char overlay[4096];      /* per-instance overlay, or "" */
	const char *kernel, *initrd, *cmdline;
	char mac[18];
	const char *bridge;
	const char *tap;
	unsigned mtu;
	char console[4096];
};

/* conn.c */
int lv_connect(struct lv_drv *d, const char *who);
/* The libvirt error of the last call, for messages: never NULL. */
const char *lv_last_error(void);
int lv_domain_type(struct lv_drv *d, const char *who, const char **type);

/* domxml.c: the domain XML (caller frees) and the ownership element. */
char *lv_domain_xml(const struct lv_want *w);
/* Attribute `attr` of the ownership element of dom's persistent
 * definition: 1 and *val (caller frees) set, 0 when dom is not vxcloud's
 * (no element), -errno on failure. */
int lv_meta_get(virDomainPtr dom, const char *attr, char **val);

/* disk.c */
int lv_overlay_create(struct lv_drv *d, const struct lv_want *w, unsigned flags);
int lv_overlay_remove(struct lv_drv *d, const char *who, const char *path, unsigned flags);
const char *lv_image_format(const char *path);

/* record.c: what a killed run leaves behind stays findable. */
int lv_record_write(struct lv_drv *d, const struct lv_want *w);
int lv_record_remove(struct lv_drv *d, const char *name);
int lv_record_cleanup(struct lv_drv *d, const char *who, const char *name, unsigned flags);
/* cb for each recorded instance (some may also be domains: the core
 * takes each owned object once per name). */
int lv_record_list(struct lv_drv *d, vxc_owned_cb cb, void *arg);
size_t lv_record_count(struct lv_drv *d);

/* instance.c and owned.c: the vtable. */
int lv_instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags);
int lv_list(void *priv, vxc_owned_cb cb, void *arg);
int lv_remove(void *priv, const struct vxc_owned *obj, unsigned flags);
/* Stops dom now (destroy), ignoring "not running". */
int lv_domain_stop(struct lv_drv *d, const char *who, virDomainPtr dom);

#endif
