/* Loading a spec: read, measured and parsed (cfgread.h, cfgtree.h), then
 * the three steps of spec_int.h, and the
 * message and lookup helpers they share. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cfgread.h"
#include "spec_int.h"
#include "util.h"

void sp_err(struct sp *sp, const struct sp_obj *o, const char *key, const char *fmt, ...)
{
	const struct vxc_cfg_node *at = o->cs;
	struct sp_msg *m;
	char field[SP_PATHSZ + 64], what[1024];
	va_list ap;

	if (sp->n_err == sp->cap_msgs) {
		sp->cap_msgs = sp->cap_msgs ? 2 * sp->cap_msgs : 16;
		sp->msgs = vxc_xrealloc(sp->msgs, sp->cap_msgs * sizeof(*sp->msgs));
	}
	m = &sp->msgs[sp->n_err];
	m->seq = sp->n_err++;
	m->file = sp->file;
	m->line = 0;
	if (key && at && vxc_cfg_is_group(at) && vxc_cfg_member(at, key))
		at = vxc_cfg_member(at, key);
	if (at) {
		m->line = (int)vxc_cfg_line(at);
		if (vxc_cfg_file(at))
			m->file = vxc_cfg_file(at);
	}
	if (key)
		snprintf(field, sizeof(field), "%s%s%s", o->path, o->path[0] ? "." : "", key);
	else
		snprintf(field, sizeof(field), "%s", o->path);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	m->text = vxc_xasprintf("%s%s%s", field, field[0] ? ": " : "", what);
}

static int msg_cmp(const void *pa, const void *pb)
{
	const struct sp_msg *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void sp_flush(struct sp *sp, struct vxc_diag *diag)
{
	if (!sp->n_err)
		return;
	qsort(sp->msgs, sp->n_err, sizeof(*sp->msgs), msg_cmp);
	for (size_t i = 0; i < sp->n_err; i++)
		vxc_diag_add(diag, sp->msgs[i].file, sp->msgs[i].line, NULL, "%s",
			     sp->msgs[i].text);
}

const char *sp_nm(const struct sp_obj *o)
{
	return o->name ? o->name : "(unnamed)";
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[33], cur[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *sp_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!cands[i])
			continue;
		d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

struct in_addr sp_net_addr(const struct vxc_prefix *p)
{
	return p->addr;
}

struct in_addr sp_bcast_addr(const struct vxc_prefix *p)
{
	uint32_t host = p->len >= 32 ? 0 : ~0u >> p->len;

	return (struct in_addr){ .s_addr = p->addr.s_addr | htonl(host) };
}

const char *sp_special_addr(const struct vxc_prefix *p, struct in_addr a)
{
	if (p->len >= 31)
		return NULL;
	if (a.s_addr == sp_net_addr(p).s_addr)
		return "network address";
	if (a.s_addr == sp_bcast_addr(p).s_addr)
		return "broadcast address";
	return NULL;
}

void sp_fini(struct sp *sp)
{
	for (size_t i = 0; i < sp->n_routers; i++) {
		free(sp->routers[i].nets);
		free(sp->routers[i].ha.hosts);
	}
	for (size_t i = 0; i < sp->n_insts; i++) {
		free(sp->insts[i].command);
		free(sp->insts[i].environment);
	}
	for (size_t i = 0; i < sp->n_nets; i++)
		free(sp->nets[i].dns);
	for (size_t i = 0; i < sp->n_lbs; i++) {
		for (size_t j = 0; j < sp->lbs[i].n_ls; j++)
			free(sp->lbs[i].ls[j].members);
		free(sp->lbs[i].ls);
		free(sp->lbs[i].ha.hosts);
	}
	free(sp->hosts);
	free(sp->prov);
	free(sp->nets);
	free(sp->routers);
	free(sp->insts);
	free(sp->lbs);
	free(sp->fips);
	free(sp->ports);
	for (size_t i = 0; i < sp->n_err; i++)
		free(sp->msgs[i].text);
	free(sp->msgs);
	memset(sp, 0, sizeof(*sp));
}

/* Runs the steps over a parsed tree; the model is built only from a spec
 * without a single problem. */
static int load_tree(const struct vxc_cfg_tree *tree, const char *name, struct vxc_spec **out,
		     struct vxc_diag *diag)
{
	struct sp sp = { .file = name };
	int r = -EINVAL;

	/* validation skips values that failed to parse, so both always run
	 * and one pass reports everything */
	sp_parse(&sp, tree->root);
	sp_validate(&sp);
	sp_flush(&sp, diag);
	if (!sp.n_err) {
		*out = sp_build(&sp, name);
		r = 0;
	}
	sp_fini(&sp);
	return r;
}

/* Parses the measured text; @include files are looked for in include_dir. */
static int load_text(struct vxc_cfg_text *t, const char *name, const char *include_dir,
		     struct vxc_spec **out, struct vxc_diag *diag)
{
	struct vxc_cfg_tree tree;
	int r = vxc_cfg_parse(t->text, t->len, include_dir, &tree);

	if (r < 0)
		vxc_diag_add(diag, tree.err_file ? tree.err_file : name, tree.err_line, NULL,
			     "cannot parse the spec: %s; fix its libconfig syntax (settings end "
			     "with ';', strings are quoted, groups use { }, lists ( ), arrays [ ])",
			     tree.err);
	else
		r = load_tree(&tree, name, out, diag);
	vxc_cfg_tree_free(&tree);
	return r;
}

int vxc_spec_load_buffer(const char *text, const char *name, struct vxc_spec **out,
			 struct vxc_diag *diag)
{
	struct vxc_cfg_text t = { .text = (char *)text, .len = strlen(text) };
	int r;

	*out = NULL;
	if (!name)
		name = "<spec>";
	r = vxc_cfg_scan(text, t.len, name, NULL, &t, diag);
	if (!r)
		r = load_text(&t, name, NULL, out, diag);
	t.text = NULL;
	vxc_cfg_text_free(&t);
	return r;
}

int vxc_spec_load_file(const char *path, struct vxc_spec **out, struct vxc_diag *diag)
{
	struct vxc_cfg_text t;
	char *dir;
	int r;

	*out = NULL;
	/* a regular file only, read once: what is scanned is what is parsed */
	r = vxc_cfg_read(path, "spec", &t, diag);
	if (!r) {
		/* @include "x.conf" in a spec means next to the spec, not the cwd. */
		dir = vxc_xstrdup(path);
		r = load_text(&t, path, dirname(dir), out, diag);
		free(dir);
	}
	vxc_cfg_text_free(&t);
	return r;
}

void vxc_spec_free(struct vxc_spec *spec)
{
	if (spec)
		vxc_arena_free(spec->arena);
}

const struct vxc_host *vxc_spec_host(const struct vxc_spec *spec, const char *name)
{
	for (size_t i = 0; name && i < spec->n_hosts; i++)
		if (!strcmp(spec->hosts[i].name, name))
			return &spec->hosts[i];
	return NULL;
}
