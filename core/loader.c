#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "nodeconf.h"
#include "trust.h"
#include "util.h"

static const char *const concern_names[] = {
	[VXC_CONCERN_NETWORK] = "network",
	[VXC_CONCERN_NAT] = "nat",
	[VXC_CONCERN_LB] = "lb",
	[VXC_CONCERN_COMPUTE] = "compute",
};

const char *vxc_concern_name(enum vxc_concern c)
{
	return c >= VXC_CONCERN_NETWORK && c <= VXC_CONCERN_COMPUTE ? concern_names[c] : NULL;
}

static char *check_descriptor(const struct vxc_plugin *p, const char *path)
{
	if (p->abi_major != VXC_ABI_MAJOR)
		return vxc_xasprintf("%s was built for plugin ABI %u, this vxcloud speaks ABI %u: "
				     "rebuild it against the installed vxcloud headers",
				     path, p->abi_major, VXC_ABI_MAJOR);
	if (p->size < VXC_PLUGIN_MIN_SIZE)
		return vxc_xasprintf("%s has a descriptor of %u bytes, older than the oldest "
				     "supported (%zu): rebuild it against the installed headers",
				     path, p->size, VXC_PLUGIN_MIN_SIZE);
	if (!vxc_concern_name((enum vxc_concern)p->concern))
		return vxc_xasprintf("%s declares unknown concern %u", path, p->concern);
	if (!p->name || !vxc_driver_name_valid(p->name))
		return vxc_xasprintf("%s declares driver name '%s', which no node config can "
				     "choose (lower-case letters, digits, '-', '_'; at most 32)",
				     path, p->name ? p->name : "");
	if (!p->open || !p->ops)
		return vxc_xasprintf("%s (driver %s) has no open function or no operations table",
				     path, p->name);
	return NULL;
}

static const struct vxc_loaded *find_name(const struct vxc_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (reg->v[i].desc && !strcmp(reg->v[i].desc->name, name))
			return &reg->v[i];
	return NULL;
}

static void load_one(struct vxc_registry *reg, struct vxc_loaded *lp)
{
	const struct vxc_plugin *p;
	const struct vxc_loaded *dup;
	void *dl;

	char fdpath[VXC_FD_PATHSZ];

	/* Code that runs as root must come from files only root can change (an
	 * unprivileged user running vxcloud may also load their own files);
	 * the file checked is the file loaded, through its descriptor. That
	 * stays open while the plugin is loaded: the dynamic loader knows a
	 * library by its name, so no other plugin may get the same one. */
	lp->fd = vxc_trusted_open(lp->path, S_IFREG, "plugin file", &lp->error);
	if (lp->fd < 0)
		return;
	/* RTLD_LOCAL: one plugin's libraries never satisfy another's symbols. */
	dl = dlopen(vxc_fd_path(lp->fd, fdpath), RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		lp->error = vxc_xasprintf("cannot load %s: %s", lp->path, dlerror());
		close(lp->fd);
		lp->fd = -1;
		return;
	}
	p = dlsym(dl, VXC_PLUGIN_SYMBOL_NAME);
	if (!p) {
		lp->error = vxc_xasprintf("%s exports no " VXC_PLUGIN_SYMBOL_NAME
					  ": it is not a vxcloud plugin (see vxcloud-plugin(7))",
					  lp->path);
	} else if (!(lp->error = check_descriptor(p, lp->path)) &&
		   (dup = find_name(reg, p->name))) {
		lp->error = vxc_xasprintf("%s declares driver '%s', already provided by %s: "
					  "remove one of them",
					  lp->path, p->name, dup->path);
		lp->dup_name = vxc_xstrdup(p->name);
	}
	if (lp->error) {
		dlclose(dl);
		close(lp->fd);
		lp->fd = -1;
		return;
	}
	lp->dl = dl;
	lp->desc = p;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted so that which of two duplicates is reported as the second one does
 * not depend on readdir; neither is then used (see vxc_registry_get). */
static int list_plugin_files(int dirfd, char ***out, size_t *n)
{
	char **names = NULL;
	struct dirent *de;
	size_t cap = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

	*n = 0;
	if (!dir) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".so"))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			names = vxc_xrealloc(names, cap * sizeof(*names));
		}
		names[(*n)++] = vxc_xstrdup(de->d_name);
	}
	closedir(dir);
	qsort(names, *n, sizeof(*names), by_name);
	*out = names;
	return 0;
}

int vxc_registry_scan(struct vxc_registry *reg, const char *dir)
{
	char **names = NULL;
	size_t n;
	int fd, r;

	memset(reg, 0, sizeof(*reg));
	reg->dir = vxc_xstrdup(dir);
	fd = vxc_trusted_open(dir, S_IFDIR, "plugin directory", &reg->dir_error);
	if (fd < 0)
		return fd;
	r = list_plugin_files(fd, &names, &n);
	close(fd);
	if (r < 0) {
		reg->dir_error = vxc_xasprintf("cannot read plugin directory %s: %s", dir,
					       strerror(-r));
		return r;
	}
	reg->v = vxc_xcalloc(n, sizeof(*reg->v));
	for (size_t i = 0; i < n; i++) {
		struct vxc_loaded *lp = &reg->v[reg->n++];
		lp->fd = -1;
		lp->path = vxc_xasprintf("%s/%s", dir, names[i]);
		load_one(reg, lp);
		free(names[i]);
	}
	free(names);
	return 0;
}

void vxc_registry_free(struct vxc_registry *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		if (reg->v[i].dl)
			dlclose(reg->v[i].dl);
		if (reg->v[i].fd >= 0)
			close(reg->v[i].fd);
		free(reg->v[i].path);
		free(reg->v[i].error);
		free(reg->v[i].dup_name);
	}
	free(reg->v);
	free(reg->dir);
	free(reg->dir_error);
	memset(reg, 0, sizeof(*reg));
}

const struct vxc_loaded *vxc_registry_get(const struct vxc_registry *reg, const char *name,
					  enum vxc_concern concern, char **why)
{
	const struct vxc_loaded *lp = find_name(reg, name);
	char *path;

	*why = NULL;
	if (reg->dir_error) {
		*why = vxc_xasprintf("%s", reg->dir_error);
		return NULL;
	}
	if (!lp) {
		/* A refused file of the expected name explains more than "missing". */
		path = vxc_xasprintf("%s/%s.so", reg->dir, name);
		for (size_t i = 0; i < reg->n; i++)
			if (!strcmp(reg->v[i].path, path) && reg->v[i].error) {
				*why = vxc_xasprintf("driver %s refused: %s", name, reg->v[i].error);
				free(path);
				return NULL;
			}
		*why = vxc_xasprintf("no plugin provides driver '%s' in %s (expected %s): install "
				     "it, or choose another driver (`vxcloud plugins` lists them)",
				     name, reg->dir, path);
		free(path);
		return NULL;
	}
	for (size_t i = 0; i < reg->n; i++)
		if (reg->v[i].dup_name && !strcmp(reg->v[i].dup_name, name)) {
			*why = vxc_xasprintf("driver %s is ambiguous: %s", name, reg->v[i].error);
			return NULL;
		}
	if (lp->desc->concern != (uint32_t)concern) {
		*why = vxc_xasprintf("driver %s (%s) is a %s driver, not a %s driver", name,
				     lp->path, vxc_concern_name((enum vxc_concern)lp->desc->concern),
				     vxc_concern_name(concern));
		return NULL;
	}
	return lp;
}
