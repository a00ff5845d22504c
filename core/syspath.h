/* Directories vxcloud must never take for its own: state_dir and netns_dir
 * get files, bind mounts and a shared mount made in them, so a system
 * directory there (/proc, /run, /, ...) would change the host itself. */
#ifndef VXC_SYSPATH_H
#define VXC_SYSPATH_H

/* NULL when path (absolute) may be used, else why not: a static string
 * such as "a system directory" or "on a proc filesystem". Symbolic links
 * in the part of path that exists are resolved first (/var/run is /run). */
const char *vxc_system_path(const char *path);

#endif
