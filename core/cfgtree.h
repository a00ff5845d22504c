/* The spec's reader: libconfig's file format, parsed by vxcloud itself in
 * one pass into a tree that is freed in a few calls.
 *
 * libconfig 1.5 was most of the cost of loading a large spec (a malloc per
 * setting and per name, each name checked character by character and
 * compared with every earlier member of its group, all freed one by one),
 * and it wraps integers beyond 32 bits. This reader keeps every integer
 * exactly, with its text as written; it takes the text that
 * vxc_cfg_read/vxc_cfg_scan (cfgread.h) have already measured against the
 * limits. The node config, small and read through the drivers' settings,
 * stays with libconfig.
 *
 * The language: settings `name = value;` (or `:`; the `;` may be `,` or
 * left out), groups { }, lists ( ) of any values, arrays [ ] of scalars,
 * strings with \n \r \t \f \\ \" \xHH escapes (adjacent ones joined),
 * integers (decimal, 0x hex, L for 64 bits), floats, true/false (any case),
 * # and // and C comments, and `@include "file"` at the start of a line
 * among settings. */
#ifndef VXC_CFGTREE_H
#define VXC_CFGTREE_H

#include <stdbool.h>
#include <stddef.h>

enum vxc_cfg_type {
	VXC_CFG_NONE,
	VXC_CFG_GROUP,
	VXC_CFG_INT,
	VXC_CFG_INT64, /* written with L */
	VXC_CFG_FLOAT,
	VXC_CFG_STRING,
	VXC_CFG_BOOL,
	VXC_CFG_ARRAY,
	VXC_CFG_LIST,
};

struct vxc_cfg_node {
	enum vxc_cfg_type type;
	int line;
	const char *name;  /* a group's member; NULL for an element */
	const char *file;  /* the file it is in; NULL for the top text */
	const char *text;  /* an integer or float as written */
	bool too_big;      /* an integer beyond 64 bits (value then 0) */
	union {
		long long i;
		double f;
		const char *s;
		bool b;
	} v;
	struct vxc_cfg_node **kids; /* members or elements, in file order */
	size_t n;
};

struct vxc_cfg_block;

struct vxc_cfg_tree {
	struct vxc_cfg_node *root; /* a group */
	struct vxc_cfg_block *blocks;
	char **files;              /* names of included files */
	size_t n_files;
	/* the first syntax error */
	char err[256];
	const char *err_file;      /* NULL for the top text */
	int err_line;
};

/* Parses text (NUL-terminated, len bytes); @include files are looked for
 * in include_dir (NULL: @include is an error). 0, or -EINVAL with err,
 * err_file and err_line set. Free the tree with vxc_cfg_tree_free either
 * way. */
int vxc_cfg_parse(const char *text, size_t len, const char *include_dir,
		  struct vxc_cfg_tree *tree);
void vxc_cfg_tree_free(struct vxc_cfg_tree *tree);

/* A group's member by name, or NULL. */
const struct vxc_cfg_node *vxc_cfg_member(const struct vxc_cfg_node *g, const char *name);

static inline bool vxc_cfg_is_group(const struct vxc_cfg_node *n)
{
	return n->type == VXC_CFG_GROUP;
}

static inline const struct vxc_cfg_node *vxc_cfg_elem(const struct vxc_cfg_node *n, size_t i)
{
	return i < n->n ? n->kids[i] : NULL;
}

/* Accessors named as libconfig's, for code that reads both. */
static inline enum vxc_cfg_type vxc_cfg_type(const struct vxc_cfg_node *n)
{
	return n->type;
}

static inline int vxc_cfg_length(const struct vxc_cfg_node *n)
{
	return (int)n->n;
}

static inline const char *vxc_cfg_name(const struct vxc_cfg_node *n)
{
	return n->name;
}

static inline unsigned vxc_cfg_line(const struct vxc_cfg_node *n)
{
	return (unsigned)n->line;
}

static inline const char *vxc_cfg_file(const struct vxc_cfg_node *n)
{
	return n->file;
}

static inline const char *vxc_cfg_string(const struct vxc_cfg_node *n)
{
	return n->type == VXC_CFG_STRING ? n->v.s : NULL;
}

static inline bool vxc_cfg_bool(const struct vxc_cfg_node *n)
{
	return n->type == VXC_CFG_BOOL && n->v.b;
}

#endif
