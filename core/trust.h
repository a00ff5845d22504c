/* Opening what root will trust: plugin code, and the directories that hold
 * it. Every directory from / down to the file is opened without following
 * symbolic links and checked on its descriptor (owned by root or by the
 * user running vxcloud, not writable by group or others; a sticky bit does
 * not excuse that), and the caller then uses that very descriptor, so
 * nothing can be swapped between the check and the use. */
#ifndef VXC_TRUST_H
#define VXC_TRUST_H

#include <sys/types.h>

/* An O_PATH descriptor of path after the checks above; type is S_IFREG or
 * S_IFDIR, what names the object in messages ("plugin file"). A symbolic
 * link in path is resolved once and the resolved path checked. Returns the
 * descriptor, or -errno with *why set to a message naming the path and what
 * to do (free it). Never blocks, whatever the file is (FIFO, device). */
int vxc_trusted_open(const char *path, mode_t type, const char *what, char **why);

/* "/proc/self/fd/N": a path through which dlopen() and openat() reach
 * exactly the file behind fd. */
#define VXC_FD_PATHSZ 32
const char *vxc_fd_path(int fd, char buf[VXC_FD_PATHSZ]);

#endif
