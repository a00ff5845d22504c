/* Diagnostics: every problem found in one run, each as
 * "FILE:LINE: FIELD: message", so the operator can fix them all at once. */
#ifndef VXC_DIAG_H
#define VXC_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct vxc_diag {
	char **msgs;
	size_t n, cap;
};

void vxc_diag_init(struct vxc_diag *d);
void vxc_diag_free(struct vxc_diag *d);
/* line <= 0 leaves the line out; field NULL leaves the field out. */
void vxc_diag_add(struct vxc_diag *d, const char *file, int line, const char *field,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vxc_diag_print(const struct vxc_diag *d, FILE *out);

#endif
