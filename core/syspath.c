/* Refusing system directories as vxcloud's own; see syspath.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "syspath.h"
#include "util.h"

/* Exactly these: their subdirectories are fine (/run/netns, /var/lib/x). */
static const char *const system_dirs[] = {
	"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/media", "/mnt", "/opt", "/proc", "/root", "/run", "/run/lock", "/run/user", "/sbin",
	"/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/sbin", "/var",
	"/var/lib", "/var/log", "/var/run", "/var/tmp",
};

/* Nothing below these is a place for files of vxcloud's. */
static const char *const system_trees[] = { "/proc", "/sys", "/dev" };

/* Kernel filesystems that are views of the kernel, not storage. */
static const long kernel_fs[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEVPTS_SUPER_MAGIC, CGROUP_SUPER_MAGIC,
	CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC, BPF_FS_MAGIC,
	NSFS_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC,
};

/* path with "//", "/./", "/../" and a trailing "/" taken out (lexically). */
static char *normalize(const char *path)
{
	char *out = vxc_xmalloc(strlen(path) + 2);
	size_t n = 0;

	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);

		if (len == 2 && !strncmp(p, "..", 2)) {
			while (n && out[n - 1] != '/')
				n--;
			if (n)
				n--;
		} else if (len && !(len == 1 && *p == '.')) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = *end ? end + 1 : end;
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

/* The existing part of path resolved (symbolic links), the rest appended. */
static char *resolve(const char *path)
{
	char *norm = normalize(path), *cut = norm + strlen(norm), *real = NULL, *out;

	for (;;) {
		char save = *cut;

		*cut = '\0';
		real = realpath(norm[0] ? norm : "/", NULL);
		*cut = save;
		if (real || cut == norm)
			break;
		while (cut > norm && *--cut != '/')
			;
	}
	if (!real) {
		return norm;
	}
	out = vxc_xasprintf("%s%s", strcmp(real, "/") ? real : "", *cut ? cut : "");
	free(real);
	free(norm);
	if (!out[0]) {
		free(out);
		out = vxc_xstrdup("/");
	}
	return out;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

static const char *kernel_fs_of(const char *path)
{
	char *p = vxc_xstrdup(path);
	struct statfs st;
	const char *why = NULL;

	/* the deepest part that exists: that is where it would be made */
	while (statfs(p, &st) < 0 && strcmp(p, "/")) {
		char *slash = strrchr(p, '/');

		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	for (size_t i = 0; i < VXC_ARRAY_SIZE(kernel_fs); i++)
		if ((long)st.f_type == kernel_fs[i])
			why = "on a kernel filesystem (proc, sysfs, cgroup, ...)";
	free(p);
	return why;
}

const char *vxc_system_path(const char *path)
{
	char *real = resolve(path);
	const char *why = NULL;

	for (size_t i = 0; !why && i < VXC_ARRAY_SIZE(system_dirs); i++)
		if (!strcmp(real, system_dirs[i]))
			why = "a system directory";
	for (size_t i = 0; !why && i < VXC_ARRAY_SIZE(system_trees); i++)
		if (under(real, system_trees[i]))
			why = "inside /proc, /sys or /dev";
	if (!why)
		why = kernel_fs_of(real);
	free(real);
	return why;
}
