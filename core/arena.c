#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"

/* Each piece is its own allocation so valgrind and ASan see exact bounds. */
struct vxc_arena {
	struct vxc_arena *next;
	max_align_t data[];
};

void *vxc_arena_alloc(struct vxc_arena **a, size_t n)
{
	struct vxc_arena *c;

	if (n > SIZE_MAX - sizeof(*c))
		abort();
	c = vxc_xcalloc(1, sizeof(*c) + n);
	c->next = *a;
	*a = c;
	return c->data;
}

void *vxc_arena_calloc(struct vxc_arena **a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		abort();
	return vxc_arena_alloc(a, n * size);
}

char *vxc_arena_strdup(struct vxc_arena **a, const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	return memcpy(vxc_arena_alloc(a, n), s, n);
}

void vxc_arena_free(struct vxc_arena *a)
{
	while (a) {
		struct vxc_arena *next = a->next;
		free(a);
		a = next;
	}
}
