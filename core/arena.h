/* A tiny allocation arena: the model is built from many small pieces that
 * live and die together, so they are chained and freed in one call. */
#ifndef VXC_ARENA_H
#define VXC_ARENA_H

#include <stddef.h>

struct vxc_arena;

/* Zeroed storage that lives until vxc_arena_free(); aborts on exhaustion. */
void *vxc_arena_alloc(struct vxc_arena **a, size_t n);
void *vxc_arena_calloc(struct vxc_arena **a, size_t n, size_t size);
char *vxc_arena_strdup(struct vxc_arena **a, const char *s);
void vxc_arena_free(struct vxc_arena *a);

#endif
