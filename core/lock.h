/* One run at a time per host: an flock() on <state_dir>/lock. */
#ifndef VXC_LOCK_H
#define VXC_LOCK_H

/* Returns an fd holding the lock, or -errno. When another run holds it,
 * waits (saying so on stderr) unless nowait, then -EWOULDBLOCK. */
int vxc_lock_acquire(const char *state_dir, int nowait);
void vxc_lock_release(int fd);

#endif
