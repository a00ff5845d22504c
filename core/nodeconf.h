/* The node config: who this host is, where plugins, state and named
 * namespaces live, and which driver serves each role. */
#ifndef VXC_NODECONF_H
#define VXC_NODECONF_H

#include <libconfig.h>
#include <vxcloud/plugin.h>
#include "diag.h"
#include "etcd.h"

/* A role is a concern, except compute, which has one role per instance kind. */
enum vxc_role {
	VXC_ROLE_NETWORK,
	VXC_ROLE_NAT,
	VXC_ROLE_LB,
	VXC_ROLE_CONTAINER,
	VXC_ROLE_VM,
	VXC_ROLE_COUNT,
};

struct vxc_nodeconf {
	config_t cfg;          /* owns every string below that points into it */
	int have_cfg;
	char *path;
	char *host;
	const char *spec;
	const char *plugin_dir;
	const char *state_dir;
	const char *netns_dir;
	int log_level;
	const char *driver[VXC_ROLE_COUNT]; /* NULL: no driver for that role */
	int driver_line[VXC_ROLE_COUNT];
	const config_setting_t *settings;   /* the `settings` group, or NULL */
	const struct vxc_etcd_conf *etcd;   /* the `etcd` group; NULL: the spec is a file */
};

#define VXC_DEFAULT_CONFIG VXC_SYSCONFDIR "/vxcloud.conf"
#define VXC_DEFAULT_SPEC VXC_SYSCONFDIR "/cloud.conf"
#define VXC_DEFAULT_STATE_DIR VXC_LOCALSTATEDIR "/lib/vxcloud"
#define VXC_DEFAULT_NETNS_DIR "/run/netns"

const char *vxc_role_name(enum vxc_role role);
/* Lower-case letters, digits, '-' and '_', 1 to 32 of them. */
int vxc_driver_name_valid(const char *name);
enum vxc_concern vxc_role_concern(enum vxc_role role);

/* Defaults only (no file). */
void vxc_nodeconf_init(struct vxc_nodeconf *nc);
/* Reads path; every problem goes to diag; -EINVAL or -errno on failure. */
int vxc_nodeconf_load(struct vxc_nodeconf *nc, const char *path, struct vxc_diag *diag);
void vxc_nodeconf_free(struct vxc_nodeconf *nc);

/* The `etcd` group (core/nodeconf_etcd.c), into nc->etcd; 0 when absent. */
int vxc_nodeconf_load_etcd(struct vxc_nodeconf *nc, struct vxc_diag *diag);
void vxc_etcd_conf_free(struct vxc_etcd_conf *conf);
/* Every setting equal (the password too): 1, else 0. */
int vxc_etcd_conf_same(const struct vxc_etcd_conf *a, const struct vxc_etcd_conf *b);

/* The settings block of driver `name`, or NULL. */
const config_setting_t *vxc_nodeconf_settings(const struct vxc_nodeconf *nc, const char *name);
/* Checks a driver's block against its schema: unknown keys, types, ranges. */
int vxc_nodeconf_check_settings(const struct vxc_nodeconf *nc, const char *name,
				const struct vxc_option *schema, struct vxc_diag *diag);

#endif
