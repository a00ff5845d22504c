/* The spec's reader; see cfgtree.h. A recursive descent over the text:
 * one function per construct, each returning NULL after the first error
 * (kept in the tree) so the parse unwinds. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgread.h"
#include "cfgtree.h"
#include "util.h"

#define BLOCK_SIZE (64 * 1024)
#define MAX_INCLUDE_DEPTH 10

/* ---- storage: a few large blocks, freed together -------------------- */

struct vxc_cfg_block {
	struct vxc_cfg_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

static void *tree_alloc(struct vxc_cfg_tree *t, size_t n)
{
	struct vxc_cfg_block *b = t->blocks;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n) {
		size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;

		b = vxc_xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		/* a large piece gets its own block, behind the current one */
		if (size != BLOCK_SIZE && t->blocks) {
			b->next = t->blocks->next;
			t->blocks->next = b;
		} else {
			b->next = t->blocks;
			t->blocks = b;
		}
	}
	b->used += n;
	return b->data + b->used - n;
}

void vxc_cfg_tree_free(struct vxc_cfg_tree *t)
{
	while (t->blocks) {
		struct vxc_cfg_block *next = t->blocks->next;

		free(t->blocks);
		t->blocks = next;
	}
	for (size_t i = 0; i < t->n_files; i++)
		free(t->files[i]);
	free(t->files);
	t->files = NULL;
	t->n_files = 0;
	t->root = NULL;
}

/* ---- the parser ----------------------------------------------------- */

struct parser {
	struct vxc_cfg_tree *tree;
	const char *text, *file, *inc_dir;
	size_t len, i;
	int line, depth, inc_depth;
	/* members and elements being gathered, for every open level */
	struct vxc_cfg_node **stack;
	size_t n_stack, cap_stack;
	char *str; /* the string literal being read */
	size_t n_str, cap_str;
};

static void *fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void *fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->tree->err[0])
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p->tree->err, sizeof(p->tree->err), fmt, ap);
	va_end(ap);
	p->tree->err_file = p->file;
	p->tree->err_line = p->line;
	return NULL;
}

static char peek(const struct parser *p)
{
	return p->i < p->len ? p->text[p->i] : '\0';
}

static char peek2(const struct parser *p)
{
	return p->i + 1 < p->len ? p->text[p->i + 1] : '\0';
}

/* Blanks, newlines and comments. */
static void skip(struct parser *p)
{
	while (p->i < p->len) {
		char c = p->text[p->i];

		if (c == '\n') {
			p->line++;
			p->i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') { /* not \v: libconfig */
			p->i++;
		} else if (c == '#' || (c == '/' && peek2(p) == '/')) {
			while (p->i < p->len && p->text[p->i] != '\n')
				p->i++;
		} else if (c == '/' && peek2(p) == '*') {
			p->i += 2;
			while (p->i < p->len && !(p->text[p->i] == '*' && peek2(p) == '/'))
				p->line += p->text[p->i++] == '\n';
			p->i = p->i + 2 < p->len ? p->i + 2 : p->len; /* unterminated: the end */
		} else {
			return;
		}
	}
}

static struct vxc_cfg_node *new_node(struct parser *p, enum vxc_cfg_type type)
{
	struct vxc_cfg_node *n = tree_alloc(p->tree, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = p->line;
	n->file = p->file;
	return n;
}

static char *copy(struct parser *p, const char *s, size_t n)
{
	char *c = tree_alloc(p->tree, n + 1);

	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static void push(struct parser *p, struct vxc_cfg_node *n)
{
	if (p->n_stack == p->cap_stack) {
		p->cap_stack = p->cap_stack ? 2 * p->cap_stack : 256;
		p->stack = vxc_xrealloc(p->stack, p->cap_stack * sizeof(*p->stack));
	}
	p->stack[p->n_stack++] = n;
}

/* The nodes pushed since base become n's kids. */
static void take_kids(struct parser *p, struct vxc_cfg_node *n, size_t base)
{
	n->n = p->n_stack - base;
	n->kids = tree_alloc(p->tree, (n->n ? n->n : 1) * sizeof(*n->kids));
	if (n->n)
		memcpy(n->kids, p->stack + base, n->n * sizeof(*n->kids));
	p->n_stack = base;
}

/* ASCII letters and digits, as isalpha/isalnum in the C locale vxcloud
 * runs in, without a call per character. */
static bool is_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_start(char c)
{
	return is_ascii_alpha(c) || c == '*';
}

static bool is_name_char(char c)
{
	return is_ascii_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

/* Appends c to the parser's string buffer. */
static void put(struct parser *p, char c)
{
	if (p->n_str == p->cap_str) {
		p->cap_str = p->cap_str ? 2 * p->cap_str : 256;
		p->str = vxc_xrealloc(p->str, p->cap_str);
	}
	p->str[p->n_str++] = c;
}

/* A backslash at p->i: the escape's character(s), as libconfig reads them. */
static void escape(struct parser *p)
{
	char e = peek2(p);

	if ((e == 'x' || e == 'X') && p->i + 3 < p->len &&
	    isxdigit((unsigned char)p->text[p->i + 2]) &&
	    isxdigit((unsigned char)p->text[p->i + 3])) {
		char hex[3] = { p->text[p->i + 2], p->text[p->i + 3], 0 };
		char b = (char)strtol(hex, NULL, 16);

		if (b) /* \x00 would end the string: dropped, as libconfig */
			put(p, b);
		p->i += 4;
		return;
	}
	switch (e) {
	case 'n': put(p, '\n'); break;
	case 'r': put(p, '\r'); break;
	case 't': put(p, '\t'); break;
	case 'f': put(p, '\f'); break;
	case '\\': put(p, '\\'); break;
	case '"': put(p, '"'); break;
	default:
		/* not an escape: the backslash itself, then the character */
		put(p, '\\');
		p->i++;
		return;
	}
	p->i += 2;
}

/* Appends the plain characters from p->i on (up to a quote, backslash or
 * newline) at once: a character at a time was a tenth of parsing. */
static void put_plain(struct parser *p)
{
	size_t s = p->i, n;

	while (p->i < p->len && p->text[p->i] != '"' && p->text[p->i] != '\\' &&
	       p->text[p->i] != '\n')
		p->i++;
	n = p->i - s;
	if (p->cap_str - p->n_str < n) {
		while (p->cap_str - p->n_str < n)
			p->cap_str = p->cap_str ? 2 * p->cap_str : 256;
		p->str = vxc_xrealloc(p->str, p->cap_str);
	}
	memcpy(p->str + p->n_str, p->text + s, n);
	p->n_str += n;
}

/* One or more adjacent string literals, unescaped and joined. */
static struct vxc_cfg_node *string_value(struct parser *p)
{
	struct vxc_cfg_node *n = new_node(p, VXC_CFG_STRING);

	p->n_str = 0;
	while (peek(p) == '"') {
		p->i++;
		while (p->i < p->len && p->text[p->i] != '"') {
			char c = p->text[p->i];

			if (c == '\\' && p->i + 1 < p->len) {
				escape(p);
				continue;
			}
			if (c != '\\' && c != '\n') {
				put_plain(p);
				continue;
			}
			p->line += c == '\n';
			put(p, c);
			p->i++;
		}
		if (p->i >= p->len)
			return fail(p, "unterminated string");
		p->i++;
		skip(p);
	}
	n->v.s = copy(p, p->str ? p->str : "", p->n_str);
	return n;
}

/* "e5", "E-3": an exponent, or 0 when none starts here ("1e" is an integer
 * followed by a name, as libconfig lexes it). */
static size_t exponent_len(const struct parser *p)
{
	size_t j = p->i;

	if (peek(p) != 'e' && peek(p) != 'E')
		return 0;
	j++;
	if (j < p->len && (p->text[j] == '+' || p->text[j] == '-'))
		j++;
	if (j >= p->len || !isdigit((unsigned char)p->text[j]))
		return 0;
	while (j < p->len && isdigit((unsigned char)p->text[j]))
		j++;
	return j - p->i;
}

/* An integer (decimal or 0x hex, L for 64 bits) or a float. */
static struct vxc_cfg_node *number_value(struct parser *p)
{
	size_t s = p->i, digits;
	bool neg = false, hex = false, is_float = false, big = false;
	unsigned long long v = 0;
	struct vxc_cfg_node *n;

	bool sign = peek(p) == '+' || peek(p) == '-';

	if (sign)
		neg = p->text[p->i++] == '-';
	/* "0x" without a hex digit, or after a sign, is 0 followed by a name:
	 * libconfig's hex literals have neither */
	if (!sign && peek(p) == '0' && (peek2(p) == 'x' || peek2(p) == 'X') && p->i + 2 < p->len &&
	    isxdigit((unsigned char)p->text[p->i + 2])) {
		hex = true;
		p->i += 2;
	}
	digits = p->i;
	for (; p->i < p->len; p->i++) {
		char c = p->text[p->i];
		unsigned d, base = hex ? 16 : 10;

		if (!(hex ? isxdigit((unsigned char)c) : isdigit((unsigned char)c)))
			break;
		d = isdigit((unsigned char)c) ? (unsigned)(c - '0')
					      : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
		if (v > (ULLONG_MAX - d) / base)
			big = true;
		else
			v = v * base + d;
	}
	if (!hex && peek(p) == '.') {
		/* libconfig's floats: "1.5", ".5", "5.", even "." */
		is_float = true;
		for (p->i++; isdigit((unsigned char)peek(p)); p->i++)
			;
	}
	if (!hex && (is_float || p->i > digits) && exponent_len(p)) {
		is_float = true;
		p->i += exponent_len(p);
	}
	if (p->i == digits && !is_float)
		return fail(p, "a number without digits");
	n = new_node(p, is_float ? VXC_CFG_FLOAT : VXC_CFG_INT);
	if (!is_float && (peek(p) == 'L')) {
		n->type = VXC_CFG_INT64;
		p->i += peek2(p) == 'L' ? 2 : 1;
	}
	n->text = copy(p, p->text + s, p->i - s);
	if (is_float) {
		n->v.f = strtod(n->text, NULL);
		return n;
	}
	/* kept exactly: a reader compares it with its own range */
	n->too_big = big || v > (unsigned long long)INT64_MAX + neg;
	n->v.i = n->too_big ? 0 : neg ? (long long)(0 - v) : (long long)v;
	return n;
}

static struct vxc_cfg_node *value(struct parser *p);
static bool settings(struct parser *p, struct vxc_cfg_node *g, char end);

/* A list ( ... ) or an array [ ... ]: values separated by commas. */
static struct vxc_cfg_node *sequence(struct parser *p, enum vxc_cfg_type type, char end)
{
	struct vxc_cfg_node *n = new_node(p, type);
	size_t base = p->n_stack;

	p->i++;
	skip(p);
	while (peek(p) != end) {
		struct vxc_cfg_node *e = value(p);

		if (!e)
			return NULL;
		if (type == VXC_CFG_ARRAY && (e->type == VXC_CFG_GROUP || e->type == VXC_CFG_LIST ||
					      e->type == VXC_CFG_ARRAY))
			return fail(p, "an array holds only scalars; use a list ( ) for groups");
		/* as libconfig: an array's elements are all of the first one's type */
		if (type == VXC_CFG_ARRAY && p->n_stack > base && p->stack[base]->type != e->type)
			return fail(p, "mismatched element type in array");
		push(p, e);
		skip(p);
		if (peek(p) == ',') {
			p->i++;
			skip(p);
			if (peek(p) == end)
				return fail(p, "a comma before '%c'", end);
		} else if (peek(p) != end) {
			return fail(p, "expected ',' or '%c'", end);
		}
	}
	p->i++;
	take_kids(p, n, base);
	return n;
}

static struct vxc_cfg_node *group(struct parser *p)
{
	struct vxc_cfg_node *n = new_node(p, VXC_CFG_GROUP);

	p->i++;
	return settings(p, n, '}') ? (p->i++, n) : NULL;
}

static struct vxc_cfg_node *value(struct parser *p)
{
	char c = peek(p), d = peek2(p);

	if (p->depth > (int)VXC_CFG_MAX_DEPTH)
		return fail(p, "nested too deep");
	if (p->i >= p->len)
		return fail(p, "unexpected end of file");
	switch (c) {
	case '{': {
		struct vxc_cfg_node *n;

		p->depth++;
		n = group(p);
		p->depth--;
		return n;
	}
	case '(':
	case '[': {
		struct vxc_cfg_node *n;

		p->depth++;
		n = sequence(p, c == '(' ? VXC_CFG_LIST : VXC_CFG_ARRAY, c == '(' ? ')' : ']');
		p->depth--;
		return n;
	}
	case '"':
		return string_value(p);
	}
	if (isdigit((unsigned char)c) || c == '.' ||
	    ((c == '-' || c == '+') && (isdigit((unsigned char)d) || d == '.')))
		return number_value(p);
	if (!strncasecmp(p->text + p->i, "true", 4) && !is_name_char(p->text[p->i + 4])) {
		struct vxc_cfg_node *n = new_node(p, VXC_CFG_BOOL);

		n->v.b = true;
		p->i += 4;
		return n;
	}
	if (!strncasecmp(p->text + p->i, "false", 5) && !is_name_char(p->text[p->i + 5])) {
		p->i += 5;
		return new_node(p, VXC_CFG_BOOL);
	}
	return fail(p, "syntax error");
}

static int name_cmp(const void *a, const void *b)
{
	const struct vxc_cfg_node *x = *(const struct vxc_cfg_node *const *)a;
	const struct vxc_cfg_node *y = *(const struct vxc_cfg_node *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* As libconfig: a name may be given once per group. */
static bool unique_names(struct parser *p, const struct vxc_cfg_node *g)
{
	struct vxc_cfg_node **s;
	bool ok = true;

	if (g->n < 2)
		return true;
	/* most groups are a handful of settings: compare pairs (at most 64
	 * settings, enforced before parsing, keep this linear in the file) */
	if (g->n <= 8) {
		for (size_t i = 1; i < g->n; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(g->kids[i]->name, g->kids[j]->name)) {
					p->line = g->kids[i]->line;
					p->file = g->kids[i]->file;
					fail(p, "duplicate setting name \"%s\"", g->kids[i]->name);
					return false;
				}
		return true;
	}
	s = vxc_xmalloc(g->n * sizeof(*s));
	memcpy(s, g->kids, g->n * sizeof(*s));
	qsort(s, g->n, sizeof(*s), name_cmp);
	for (size_t i = 1; ok && i < g->n; i++)
		if (!strcmp(s[i - 1]->name, s[i]->name)) {
			p->line = s[i]->line;
			p->file = s[i]->file;
			fail(p, "duplicate setting name \"%s\"", s[i]->name);
			ok = false;
		}
	free(s);
	return ok;
}

static bool include(struct parser *p);

static bool at_line_start(const struct parser *p)
{
	for (size_t j = p->i; j > 0; j--) {
		char c = p->text[j - 1];

		if (c == '\n')
			return true;
		if (c != ' ' && c != '\t')
			return false;
	}
	return true;
}

/* name = value; ... up to end ('\0' for the end of the text). */
static bool settings(struct parser *p, struct vxc_cfg_node *g, char end)
{
	size_t base = p->n_stack;

	for (;;) {
		struct vxc_cfg_node *v;
		size_t s, name_len;
		int name_line;

		skip(p);
		if (peek(p) == end && (end || p->i >= p->len))
			break;
		if (peek(p) == '@' && !strncmp(p->text + p->i, "@include", 8) && at_line_start(p)) {
			if (!include(p))
				return false;
			continue;
		}
		if (!is_name_start(peek(p))) {
			fail(p, p->i >= p->len ? "unexpected end of file" : "syntax error");
			return false;
		}
		for (s = p->i; p->i < p->len && is_name_char(p->text[p->i]); p->i++)
			;
		name_len = p->i - s;
		name_line = p->line;
		/* true and false are values, never names (libconfig's lexer) */
		if ((name_len == 4 && !strncasecmp(p->text + s, "true", 4)) ||
		    (name_len == 5 && !strncasecmp(p->text + s, "false", 5))) {
			fail(p, "syntax error");
			return false;
		}
		skip(p);
		if (peek(p) != '=' && peek(p) != ':') {
			fail(p, "syntax error");
			return false;
		}
		p->i++;
		skip(p);
		v = value(p);
		if (!v)
			return false;
		v->name = copy(p, p->text + s, name_len);
		v->line = name_line; /* a setting is where its name is, as in libconfig */
		push(p, v);
		skip(p);
		if (peek(p) == ';' || peek(p) == ',')
			p->i++;
	}
	take_kids(p, g, base);
	return unique_names(p, g);
}

/* @include "file": its settings join the group being read, as libconfig
 * reads the file at that point (include_dir/file). */
static bool include(struct parser *p)
{
	struct vxc_cfg_node *s, holder = { .type = VXC_CFG_GROUP };
	struct vxc_cfg_text t;
	struct vxc_diag d;
	struct parser sub;
	char *path;
	bool ok;
	int r;

	p->i += 8;
	skip(p);
	if (peek(p) != '"')
		return fail(p, "@include needs a file name in quotes") != NULL;
	s = string_value(p);
	if (!s)
		return false;
	if (!p->inc_dir)
		return fail(p, "@include is not followed in a spec given as text") != NULL;
	if (p->inc_depth >= MAX_INCLUDE_DEPTH)
		return fail(p, "@include nested deeper than %d files", MAX_INCLUDE_DEPTH) != NULL;
	path = vxc_xasprintf("%s/%s", p->inc_dir, s->v.s);
	p->tree->files = vxc_xrealloc(p->tree->files, (p->tree->n_files + 1) * sizeof(char *));
	p->tree->files[p->tree->n_files++] = path;
	/* a regular file within the limits, as the top one */
	vxc_diag_init(&d);
	r = vxc_cfg_read(path, "included file", &t, &d);
	if (r < 0) {
		fail(p, "%s", d.n ? d.msgs[0] : "cannot read the included file");
		vxc_diag_free(&d);
		vxc_cfg_text_free(&t);
		return false;
	}
	vxc_diag_free(&d);
	sub = *p;
	sub.text = t.text;
	sub.len = t.len;
	sub.i = 0;
	sub.line = 1;
	sub.file = path;
	sub.inc_depth = p->inc_depth + 1;
	ok = settings(&sub, &holder, '\0');
	p->stack = sub.stack; /* the buffers the included file's parse may have grown */
	p->n_stack = sub.n_stack;
	p->cap_stack = sub.cap_stack;
	p->str = sub.str;
	p->cap_str = sub.cap_str;
	for (size_t i = 0; ok && i < holder.n; i++)
		push(p, holder.kids[i]);
	/* the nodes keep no pointer into the text: names and strings are copied */
	vxc_cfg_text_free(&t);
	return ok;
}

int vxc_cfg_parse(const char *text, size_t len, const char *include_dir,
		  struct vxc_cfg_tree *tree)
{
	struct parser p = { .tree = tree, .text = text, .len = len, .inc_dir = include_dir,
			    .line = 1 };
	bool ok;

	memset(tree, 0, sizeof(*tree));
	tree->root = new_node(&p, VXC_CFG_GROUP);
	tree->root->line = 0; /* the whole file: messages about it carry no line */
	ok = settings(&p, tree->root, '\0');
	free(p.stack);
	free(p.str);
	return ok ? 0 : -EINVAL;
}

const struct vxc_cfg_node *vxc_cfg_member(const struct vxc_cfg_node *g, const char *name)
{
	for (size_t i = 0; g && g->type == VXC_CFG_GROUP && i < g->n; i++)
		if (!strcmp(g->kids[i]->name, name))
			return g->kids[i];
	return NULL;
}
