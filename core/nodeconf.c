#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgread.h"
#include "nodeconf.h"
#include "syspath.h"
#include "util.h"

static const char *const role_names[VXC_ROLE_COUNT] = {
	[VXC_ROLE_NETWORK] = "network",
	[VXC_ROLE_NAT] = "nat",
	[VXC_ROLE_LB] = "lb",
	[VXC_ROLE_CONTAINER] = "container",
	[VXC_ROLE_VM] = "vm",
};

static const char *const level_names[] = { "error", "warning", "info", "debug" };

const char *vxc_role_name(enum vxc_role role)
{
	return role < VXC_ROLE_COUNT ? role_names[role] : "?";
}

enum vxc_concern vxc_role_concern(enum vxc_role role)
{
	switch (role) {
	case VXC_ROLE_NETWORK:
		return VXC_CONCERN_NETWORK;
	case VXC_ROLE_NAT:
		return VXC_CONCERN_NAT;
	case VXC_ROLE_LB:
		return VXC_CONCERN_LB;
	default:
		return VXC_CONCERN_COMPUTE;
	}
}

void vxc_nodeconf_init(struct vxc_nodeconf *nc)
{
	char name[HOST_NAME_MAX + 1] = "localhost";

	memset(nc, 0, sizeof(*nc));
	gethostname(name, sizeof(name) - 1);
	nc->host = vxc_xstrdup(name);
	nc->spec = VXC_DEFAULT_SPEC;
	nc->plugin_dir = VXC_PLUGINDIR;
	nc->state_dir = VXC_DEFAULT_STATE_DIR;
	nc->netns_dir = VXC_DEFAULT_NETNS_DIR;
	nc->log_level = VXC_LOG_WARN;
}

void vxc_nodeconf_free(struct vxc_nodeconf *nc)
{
	if (nc->have_cfg)
		config_destroy(&nc->cfg);
	free(nc->host);
	free(nc->path);
	vxc_etcd_conf_free((struct vxc_etcd_conf *)nc->etcd);
	memset(nc, 0, sizeof(*nc));
}

static const char *const top_keys[] = {
	"host", "spec", "plugin_dir", "state_dir", "netns_dir", "log_level", "settings",
	"network", "nat", "lb", "container", "vm", "etcd",
};

static int known_top_key(const char *name)
{
	for (size_t i = 0; i < VXC_ARRAY_SIZE(top_keys); i++)
		if (!strcmp(top_keys[i], name))
			return 1;
	return 0;
}

/* A string setting; absent keeps *out. */
static void get_string(struct vxc_nodeconf *nc, const char *key, const char **out,
		       struct vxc_diag *d)
{
	config_setting_t *s = config_lookup(&nc->cfg, key);

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		vxc_diag_add(d, nc->path, config_setting_source_line(s), key,
			     "must be a string in double quotes");
		return;
	}
	*out = config_setting_get_string(s);
}

static void check_path(struct vxc_nodeconf *nc, const char *key, const char *value,
		       struct vxc_diag *d)
{
	config_setting_t *s = config_lookup(&nc->cfg, key);

	const char *why;

	if (s && value && value[0] != '/')
		vxc_diag_add(d, nc->path, config_setting_source_line(s), key,
			     "'%s' is not an absolute path", value);
	else if (s && value && strcmp(key, "plugin_dir") && (why = vxc_system_path(value)))
		vxc_diag_add(d, nc->path, config_setting_source_line(s), key,
			     "'%s' is %s; vxcloud makes files and mounts there: give a directory "
			     "of its own, e.g. %s", value, why,
			     !strcmp(key, "netns_dir") ? VXC_DEFAULT_NETNS_DIR
						       : VXC_DEFAULT_STATE_DIR);
}

int vxc_driver_name_valid(const char *s)
{
	if (!*s || strlen(s) > 32)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return 0;
	return 1;
}

static void load_roles(struct vxc_nodeconf *nc, struct vxc_diag *d)
{
	for (int r = 0; r < VXC_ROLE_COUNT; r++) {
		config_setting_t *s = config_lookup(&nc->cfg, role_names[r]);
		const char *v = NULL;

		get_string(nc, role_names[r], &v, d);
		if (!s || !v)
			continue;
		nc->driver_line[r] = config_setting_source_line(s);
		if (!*v)
			continue; /* "" = no driver for this role */
		if (!vxc_driver_name_valid(v)) {
			vxc_diag_add(d, nc->path, nc->driver_line[r], role_names[r],
				     "'%s' is not a driver name (lower-case letters, digits, '-', '_')",
				     v);
			continue;
		}
		nc->driver[r] = v;
	}
}

static void load_log_level(struct vxc_nodeconf *nc, struct vxc_diag *d)
{
	const char *v = NULL;
	config_setting_t *s;

	get_string(nc, "log_level", &v, d);
	if (!v)
		return;
	for (size_t i = 0; i < VXC_ARRAY_SIZE(level_names); i++)
		if (!strcmp(v, level_names[i])) {
			nc->log_level = (int)i;
			return;
		}
	s = config_lookup(&nc->cfg, "log_level");
	vxc_diag_add(d, nc->path, config_setting_source_line(s), "log_level",
		     "'%s' is not one of error, warning, info, debug", v);
}

static void load_settings(struct vxc_nodeconf *nc, struct vxc_diag *d)
{
	config_setting_t *s = config_lookup(&nc->cfg, "settings");

	if (!s)
		return;
	if (!config_setting_is_group(s)) {
		vxc_diag_add(d, nc->path, config_setting_source_line(s), "settings",
			     "must be a group: settings = { DRIVER = { ... }; };");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *b = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(b))
			vxc_diag_add(d, nc->path, config_setting_source_line(b), "settings",
				     "'%s' must be a group of that driver's settings",
				     config_setting_name(b));
	}
	nc->settings = s;
}

int vxc_nodeconf_load(struct vxc_nodeconf *nc, const char *path, struct vxc_diag *d)
{
	config_setting_t *root;
	const char *host = NULL;
	size_t before = d->n;

	struct vxc_cfg_text text;
	char *dir;
	int r;

	vxc_nodeconf_init(nc);
	nc->path = vxc_xstrdup(path);
	/* a regular file only, read once: what is scanned is what is parsed */
	r = vxc_cfg_read(path, "node config", &text, d);
	if (r < 0) {
		vxc_cfg_text_free(&text);
		return r;
	}
	/* no setting of a node config takes a number libconfig would wrap */
	vxc_cfg_report_bad_ints(&text, path, d);
	config_init(&nc->cfg);
	nc->have_cfg = 1;
	dir = vxc_xstrdup(path);
	config_set_include_dir(&nc->cfg, dirname(dir)); /* next to the file, as scanned */
	free(dir);
	r = config_read_string(&nc->cfg, text.text);
	vxc_cfg_text_free(&text);
	if (!r) {
		vxc_diag_add(d, config_error_file(&nc->cfg) ? config_error_file(&nc->cfg) : path,
			     config_error_line(&nc->cfg), NULL, "%s", config_error_text(&nc->cfg));
		return -EINVAL;
	}
	root = config_root_setting(&nc->cfg);
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		if (!known_top_key(config_setting_name(s)))
			vxc_diag_add(d, nc->path, config_setting_source_line(s),
				     config_setting_name(s), "unknown setting");
	}
	get_string(nc, "host", &host, d);
	if (host) {
		free(nc->host);
		nc->host = vxc_xstrdup(host);
	}
	get_string(nc, "spec", &nc->spec, d);
	get_string(nc, "plugin_dir", &nc->plugin_dir, d);
	get_string(nc, "state_dir", &nc->state_dir, d);
	get_string(nc, "netns_dir", &nc->netns_dir, d);
	check_path(nc, "plugin_dir", nc->plugin_dir, d);
	check_path(nc, "state_dir", nc->state_dir, d);
	check_path(nc, "netns_dir", nc->netns_dir, d);
	load_log_level(nc, d);
	load_roles(nc, d);
	load_settings(nc, d);
	vxc_nodeconf_load_etcd(nc, d);
	return d->n > before ? -EINVAL : 0;
}

const config_setting_t *vxc_nodeconf_settings(const struct vxc_nodeconf *nc, const char *name)
{
	return nc->settings ? config_setting_get_member(nc->settings, name) : NULL;
}

static const char *type_name(enum vxc_opt_type t)
{
	return t == VXC_OPT_INT ? "an integer" : t == VXC_OPT_BOOL ? "true or false" : "a string";
}

static int type_matches(const config_setting_t *s, enum vxc_opt_type t)
{
	int ct = config_setting_type(s);

	switch (t) {
	case VXC_OPT_INT:
		return ct == CONFIG_TYPE_INT || ct == CONFIG_TYPE_INT64;
	case VXC_OPT_BOOL:
		return ct == CONFIG_TYPE_BOOL;
	case VXC_OPT_STRING:
		return ct == CONFIG_TYPE_STRING;
	}
	return 0;
}

static void check_one(const struct vxc_nodeconf *nc, const char *driver,
		      const config_setting_t *s, const struct vxc_option *schema,
		      struct vxc_diag *d)
{
	const char *key = config_setting_name(s);
	int line = config_setting_source_line(s);
	char field[256];
	const struct vxc_option *o;

	snprintf(field, sizeof(field), "settings.%s.%s", driver, key);
	for (o = schema; o && o->name; o++)
		if (!strcmp(o->name, key))
			break;
	if (!o || !o->name) {
		char known[512] = "";
		for (o = schema; o && o->name; o++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 known[0] ? ", " : "", o->name);
		vxc_diag_add(d, nc->path, line, field, "driver %s has no such setting (known: %s)",
			     driver, known[0] ? known : "none");
		return;
	}
	if (!type_matches(s, o->type)) {
		vxc_diag_add(d, nc->path, line, field, "must be %s", type_name(o->type));
		return;
	}
	if (o->type == VXC_OPT_INT && (o->min || o->max)) {
		long long v = config_setting_get_int64(s);
		if (v < o->min || v > o->max)
			vxc_diag_add(d, nc->path, line, field, "%lld is out of range %lld..%lld", v,
				     o->min, o->max);
	}
}

int vxc_nodeconf_check_settings(const struct vxc_nodeconf *nc, const char *name,
				const struct vxc_option *schema, struct vxc_diag *d)
{
	const config_setting_t *block = vxc_nodeconf_settings(nc, name);
	size_t before = d->n;

	if (!block || !config_setting_is_group(block))
		return 0;
	for (int i = 0; i < config_setting_length(block); i++)
		check_one(nc, name, config_setting_get_elem(block, (unsigned)i), schema, d);
	return d->n > before ? -EINVAL : 0;
}
