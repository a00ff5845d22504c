/* The plugin loader: finds driver .so files in the plugin directory,
 * dlopen()s them and checks their descriptor. A refused plugin is kept in
 * the registry with the reason, so `vxcloud plugins` can show it. */
#ifndef VXC_LOADER_H
#define VXC_LOADER_H

#include <vxcloud/plugin.h>

struct vxc_loaded {
	char *path;
	void *dl;                       /* NULL when refused */
	const struct vxc_plugin *desc;  /* NULL when refused */
	char *error;                    /* why it was refused, or NULL */
	char *dup_name;                 /* refused as a second provider of this name */
	int fd;                         /* the checked file, open while loaded; or -1 */
};

struct vxc_registry {
	char *dir;
	char *dir_error;                /* the directory itself was refused */
	struct vxc_loaded *v;
	size_t n;
};

const char *vxc_concern_name(enum vxc_concern c);

/* Examines every *.so in dir. Returns 0 even when some plugins are refused;
 * -errno when the directory cannot be read or is refused (reg->dir_error). */
int vxc_registry_scan(struct vxc_registry *reg, const char *dir);
void vxc_registry_free(struct vxc_registry *reg);

/* The usable plugin serving `name` for `concern`, or NULL with *why set to a
 * message saying what is wrong and what to do (free it). */
const struct vxc_loaded *vxc_registry_get(const struct vxc_registry *reg, const char *name,
					  enum vxc_concern concern, char **why);

#endif
