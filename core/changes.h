/* Collects the changes drivers report (made, or under dry run, wanted). */
#ifndef VXC_CHANGES_H
#define VXC_CHANGES_H

#include <stddef.h>

struct vxc_change {
	char *driver;
	char *what;
};

struct vxc_changes {
	struct vxc_change *v;
	size_t n, cap;
	int echo; /* print each change to stdout as it arrives */
};

void vxc_changes_add(struct vxc_changes *c, const char *driver, const char *what);
void vxc_changes_free(struct vxc_changes *c);
/* A vxc_change_sink report function for ctx->sink. */
void vxc_changes_sink(void *arg, const char *driver, const char *what);

#endif
