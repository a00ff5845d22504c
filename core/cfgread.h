/* Reading a file in libconfig's format (the spec, the node config) before
 * it is parsed: one linear pass that enforces the documented limits and
 * finds what libconfig would get wrong without a word.
 *
 *   - only a regular file is read, opened without blocking (a FIFO or a
 *     device is refused, never waited on);
 *   - limits: VXC_CFG_MAX_BYTES per file, VXC_CFG_MAX_STRING per string
 *     (adjacent literals joined), VXC_CFG_MAX_KEYS settings per group,
 *     VXC_CFG_MAX_ELEMS elements per list or array, VXC_CFG_MAX_DEPTH
 *     levels of nesting, no NUL byte; so that nothing later can grow worse
 *     than linearly;
 *   - integer literals libconfig cannot hold: it wraps a plain one beyond
 *     32 bits (4294967397 becomes 101, 99999999999999999999 becomes -1) and
 *     clamps one with L beyond 64 bits. They are kept, as written, for the
 *     node config to refuse (the spec's own reader keeps every integer).
 * Files named by @include are read with the same rules. */
#ifndef VXC_CFGREAD_H
#define VXC_CFGREAD_H

#include <stddef.h>

#include "diag.h"

#define VXC_CFG_MAX_BYTES (32u << 20)
#define VXC_CFG_MAX_STRING 4096u
#define VXC_CFG_MAX_KEYS 64u
#define VXC_CFG_MAX_ELEMS 1000000u
#define VXC_CFG_MAX_DEPTH 32u
#define VXC_CFG_MAX_BAD_INTS 64u /* kept; more are counted only */

/* An integer literal libconfig stores wrongly: where, and as written. */
struct vxc_cfg_bad_int {
	const char *file; /* NULL for the top file read from memory */
	int line;
	char name[64];    /* the setting it is the value of, "" for an element */
	char text[32];    /* the literal, cut with "..." when longer */
};

struct vxc_cfg_text {
	char *text;       /* the top file, NUL-terminated */
	size_t len;
	struct vxc_cfg_bad_int bad[VXC_CFG_MAX_BAD_INTS];
	size_t n_bad, n_bad_total;
	char **files;     /* names of included files, owned */
	size_t n_files;
};

/* Reads and scans path; what ("spec", "node config") names it in
 * messages. 0, or -EINVAL with every problem in diag, or -errno when it
 * cannot be read (also in diag). Free t with vxc_cfg_text_free either way. */
int vxc_cfg_read(const char *path, const char *what, struct vxc_cfg_text *t,
		 struct vxc_diag *diag);
/* The same for text already in memory (name for messages); includes are
 * looked for in include_dir, or not followed when it is NULL. */
int vxc_cfg_scan(const char *text, size_t len, const char *name, const char *include_dir,
		 struct vxc_cfg_text *t, struct vxc_diag *diag);
void vxc_cfg_text_free(struct vxc_cfg_text *t);

/* Reports every integer libconfig would not store as written (the node
 * config is read by libconfig; the spec by cfgtree.h, which keeps them). */
void vxc_cfg_report_bad_ints(struct vxc_cfg_text *t, const char *name, struct vxc_diag *diag);

#endif
