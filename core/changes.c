#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "util.h"

void vxc_changes_add(struct vxc_changes *c, const char *driver, const char *what)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->v = vxc_xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].driver = vxc_xstrdup(driver);
	c->v[c->n].what = vxc_xstrdup(what);
	c->n++;
	/* No flush per line (a write() each, thousands per run): stdout is
	 * line-buffered on a terminal, and whoever writes to stderr flushes
	 * stdout first so both keep their order in one file. */
	if (c->echo)
		printf("  %s: %s\n", driver, what);
}

void vxc_changes_free(struct vxc_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].driver);
		free(c->v[i].what);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void vxc_changes_sink(void *arg, const char *driver, const char *what)
{
	vxc_changes_add(arg, driver, what);
}
