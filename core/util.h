/* Small helpers: allocation that aborts on exhaustion (the core has no
 * sensible way to go on without memory), address and MAC formatting. */
#ifndef VXC_UTIL_H
#define VXC_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <vxcloud/model.h>

void *vxc_xmalloc(size_t n);
void *vxc_xcalloc(size_t n, size_t size);
void *vxc_xrealloc(void *p, size_t n);
char *vxc_xstrdup(const char *s);
char *vxc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define VXC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Into caller buffers of at least these sizes. */
#define VXC_IPSTR 16
#define VXC_MACSTR 18
const char *vxc_ip_str(struct in_addr a, char buf[VXC_IPSTR]);
const char *vxc_mac_str(const struct vxc_mac *m, char buf[VXC_MACSTR]);
int vxc_mac_parse(const char *s, struct vxc_mac *out);
/* "a.b.c.d/len"; host bits set are an error (-EINVAL). */
int vxc_prefix_parse(const char *s, struct vxc_prefix *out);
int vxc_ip_parse(const char *s, struct in_addr *out);
int vxc_prefix_contains(const struct vxc_prefix *p, struct in_addr a);
int vxc_prefix_overlap(const struct vxc_prefix *a, const struct vxc_prefix *b);

/* mkdir -p; 0 or -errno. */
int vxc_mkdir_p(const char *path, mode_t mode);

/* A fresh file for writing at path: whatever had that name (a temporary
 * file left by a crash, a symlink planted there) is unlinked first, and the
 * new one is made O_EXCL | O_NOFOLLOW. NULL and errno on failure. */
FILE *vxc_fcreate_nofollow(const char *path);

#endif
