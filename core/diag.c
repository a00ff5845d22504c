#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

void vxc_diag_init(struct vxc_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void vxc_diag_free(struct vxc_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	vxc_diag_init(d);
}

void vxc_diag_add(struct vxc_diag *d, const char *file, int line, const char *field,
		  const char *fmt, ...)
{
	char where[512], what[1024];
	va_list ap;

	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", file ? file : "-", line);
	else
		snprintf(where, sizeof(where), "%s: ", file ? file : "-");
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->msgs = vxc_xrealloc(d->msgs, d->cap * sizeof(*d->msgs));
	}
	d->msgs[d->n++] = vxc_xasprintf("%s%s%s%s", where, field ? field : "", field ? ": " : "", what);
}

void vxc_diag_print(const struct vxc_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->msgs[i]);
}
