/* One run at a time per host: an flock() on VXC_LOCK_DIR/<hash>.lock, the
 * hash of the state directory's canonical path (see lock.c). */
#ifndef VXC_LOCK_H
#define VXC_LOCK_H

/* Returns an fd holding the lock, or -errno. When another run holds it,
 * waits (saying so on stderr) unless nowait, then -EWOULDBLOCK. */
int vxc_lock_acquire(const char *state_dir, int nowait);
void vxc_lock_release(int fd);
/* The lock file of state_dir (created if missing), to free; NULL, errno. */
char *vxc_lock_path(const char *state_dir);

#endif
