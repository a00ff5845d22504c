/* Reading a libconfig file before libconfig does; see cfgread.h. The scan
 * knows just enough of libconfig's lexical rules (comments, strings, names,
 * numbers, brackets, @include) to count and measure; syntax is left to
 * libconfig, which then parses exactly the text scanned. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgread.h"
#include "util.h"

#define MAX_INCLUDE_DEPTH 10
#define MAX_SCAN_ERRORS 20 /* then one line says how many more */

struct level {
	char kind;           /* '{' a group (also the top), '(' a list, '[' an array */
	unsigned long items; /* settings of a group, elements of a list */
	bool expect;         /* a list waits for its next element */
	bool reported;
	char name[64];       /* the setting whose value it is, or "" */
};

struct scan {
	struct vxc_cfg_text *t;
	struct vxc_diag *d;
	const char *inc_dir;
	size_t bytes;        /* of every file read, includes too */
	unsigned errors;
	int inc_depth;
};

/* One file's pass. */
struct pass {
	struct scan *sc;
	const char *text, *msg_name, *rec_file;
	size_t len, i;
	int line;
	struct level lv[VXC_CFG_MAX_DEPTH + 1];
	unsigned depth;
	char ident[64], setting[64];
	size_t str_len;       /* joined length of adjacent string literals */
	int str_line;
	bool in_string_run, str_reported;
};

static void scan_err(struct pass *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void scan_err(struct pass *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->sc->errors++ >= MAX_SCAN_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vxc_diag_add(p->sc->d, p->msg_name, line, NULL, "%s", msg);
}

static int read_regular(const char *path, const char *what, size_t budget, char **out,
			size_t *len, struct vxc_diag *d)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), err;
	struct stat st;
	size_t cap, n = 0;
	char *buf;

	if (fd < 0) {
		err = -errno;
		vxc_diag_add(d, path, 0, NULL, "cannot read the %s: %s", what, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		vxc_diag_add(d, path, 0, NULL, "cannot stat the %s: %s", what, strerror(-err));
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		vxc_diag_add(d, path, 0, NULL, "the %s is not a regular file (%s); give the path "
			     "of a file", what, S_ISFIFO(st.st_mode) ? "a FIFO" :
			     S_ISDIR(st.st_mode) ? "a directory" : "a device or socket");
		close(fd);
		return -EINVAL;
	}
	if ((unsigned long long)st.st_size > budget) {
		vxc_diag_add(d, path, 0, NULL, "the %s is %lld bytes; at most %u bytes (with its "
			     "@include files) are read", what, (long long)st.st_size,
			     VXC_CFG_MAX_BYTES);
		close(fd);
		return -EFBIG;
	}
	/* The file may grow while read: never past the budget. */
	cap = (size_t)st.st_size + 1;
	buf = vxc_xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			vxc_diag_add(d, path, 0, NULL, "cannot read the %s: %s", what,
				     strerror(-err));
			free(buf);
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > budget) {
			vxc_diag_add(d, path, 0, NULL, "the %s grew past %u bytes while it was "
				     "read", what, VXC_CFG_MAX_BYTES);
			free(buf);
			close(fd);
			return -EFBIG;
		}
		if (n == cap) {
			cap *= 2;
			buf = vxc_xrealloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* ---- the pass ------------------------------------------------------- */

static struct level *top(struct pass *p)
{
	return &p->lv[p->depth];
}

static void end_string_run(struct pass *p)
{
	p->in_string_run = false;
	p->str_len = 0;
	p->str_reported = false;
}

/* A value begins (a literal, or a group/list/array opening). */
static void value_starts(struct pass *p)
{
	struct level *l = top(p);

	if (l->kind == '{' || !l->expect)
		return;
	l->expect = false;
	if (++l->items > VXC_CFG_MAX_ELEMS && !l->reported) {
		l->reported = true;
		scan_err(p, p->line, "%s%shas more than %u elements; a list or array holds at "
			 "most %u", l->name, l->name[0] ? ": " : "", VXC_CFG_MAX_ELEMS,
			 VXC_CFG_MAX_ELEMS);
	}
}

static void setting_starts(struct pass *p)
{
	struct level *l = top(p);

	memcpy(p->setting, p->ident, sizeof(p->setting));
	if (l->kind != '{')
		return;
	if (++l->items > VXC_CFG_MAX_KEYS && !l->reported) {
		l->reported = true;
		scan_err(p, p->line, "%s: more than %u settings in one group; a group holds at "
			 "most %u", p->setting, VXC_CFG_MAX_KEYS, VXC_CFG_MAX_KEYS);
	}
}

static bool open_level(struct pass *p, char kind)
{
	value_starts(p);
	if (p->depth == VXC_CFG_MAX_DEPTH) {
		scan_err(p, p->line, "nested deeper than %u levels of groups, lists and arrays",
			 VXC_CFG_MAX_DEPTH);
		return false;
	}
	p->lv[++p->depth] = (struct level){ .kind = kind, .expect = kind != '{' };
	memcpy(p->lv[p->depth].name, p->setting, sizeof(p->setting));
	p->setting[0] = '\0';
	return true;
}

static void close_level(struct pass *p)
{
	if (p->depth)
		p->depth--;
	p->setting[0] = '\0';
}

static void skip_to_eol(struct pass *p)
{
	while (p->i < p->len && p->text[p->i] != '\n')
		p->i++;
}

static void skip_block_comment(struct pass *p)
{
	p->i += 2;
	while (p->i < p->len && !(p->text[p->i] == '*' && p->i + 1 < p->len &&
				  p->text[p->i + 1] == '/')) {
		p->line += p->text[p->i] == '\n';
		p->i++;
	}
	p->i = p->i + 2 < p->len ? p->i + 2 : p->len;
}

/* A string literal; adjacent ones are joined by libconfig, so measured
 * together. Returns its raw text span through *start and *n. */
static void string_literal(struct pass *p, size_t *start, size_t *n)
{
	int line = p->line;

	*start = ++p->i;
	while (p->i < p->len && p->text[p->i] != '"') {
		if (p->text[p->i] == '\\' && p->i + 1 < p->len)
			p->i++;
		p->line += p->text[p->i] == '\n';
		p->i++;
	}
	*n = p->i - *start;
	p->i++;
	if (!p->in_string_run) {
		value_starts(p);
		p->in_string_run = true;
		p->str_line = line;
	}
	p->str_len += *n;
	if (p->str_len > VXC_CFG_MAX_STRING && !p->str_reported) {
		p->str_reported = true;
		scan_err(p, p->str_line, "%s%sa string of more than %u bytes; strings are at most "
			 "%u bytes", p->setting, p->setting[0] ? ": " : "", VXC_CFG_MAX_STRING,
			 VXC_CFG_MAX_STRING);
	}
}

static void record_bad_int(struct pass *p, const char *tok, size_t n)
{
	struct vxc_cfg_text *t = p->sc->t;
	struct vxc_cfg_bad_int *b;

	t->n_bad_total++;
	if (t->n_bad == VXC_CFG_MAX_BAD_INTS)
		return;
	b = &t->bad[t->n_bad++];
	b->file = p->rec_file;
	b->line = p->line;
	snprintf(b->name, sizeof(b->name), "%s", top(p)->kind == '{' ? p->setting : "");
	if (n < sizeof(b->text))
		snprintf(b->text, sizeof(b->text), "%.*s", (int)n, tok);
	else
		snprintf(b->text, sizeof(b->text), "%.*s...", (int)sizeof(b->text) - 4, tok);
}

/* Whether integer literal tok (sign, digits or 0x digits, L or LL) is
 * stored as written: plain ones in 32 bits, L ones in 64. */
static bool int_fits(const char *tok, size_t n)
{
	bool neg = false, hex = false, wide = false;
	unsigned long long v = 0, limit;
	size_t i = 0;

	while (n && (tok[n - 1] == 'L' || tok[n - 1] == 'l')) {
		wide = true;
		n--;
	}
	if (tok[i] == '+' || tok[i] == '-')
		neg = tok[i++] == '-';
	if (n - i > 2 && tok[i] == '0' && (tok[i + 1] == 'x' || tok[i + 1] == 'X')) {
		hex = true;
		i += 2;
	}
	limit = wide ? (unsigned long long)INT64_MAX + neg : (unsigned long long)INT32_MAX + neg;
	for (; i < n; i++) {
		unsigned d = isdigit((unsigned char)tok[i]) ? (unsigned)(tok[i] - '0')
							    : (unsigned)(tolower(tok[i]) - 'a' + 10);
		unsigned base = hex ? 16 : 10;

		if (v > (limit - d) / base)
			return false;
		v = v * base + d;
	}
	return true;
}

static void number(struct pass *p)
{
	size_t s = p->i;
	bool is_float = false, hex = false;

	if (p->text[p->i] == '+' || p->text[p->i] == '-')
		p->i++;
	if (p->text[p->i] == '0' && (p->text[p->i + 1] == 'x' || p->text[p->i + 1] == 'X')) {
		hex = true;
		p->i += 2;
	}
	while (p->i < p->len) {
		char c = p->text[p->i];

		if (isdigit((unsigned char)c) || (hex && isxdigit((unsigned char)c))) {
			p->i++;
		} else if (!hex && (c == '.' || c == 'e' || c == 'E')) {
			is_float = true;
			p->i++;
			if ((c == 'e' || c == 'E') && (p->text[p->i] == '+' || p->text[p->i] == '-'))
				p->i++;
		} else {
			break;
		}
	}
	while (!is_float && p->i < p->len && p->text[p->i] == 'L')
		p->i++;
	value_starts(p);
	if (!is_float && !int_fits(p->text + s, p->i - s))
		record_bad_int(p, p->text + s, p->i - s);
}

static void scan_file(struct scan *sc, const char *text, size_t len, const char *msg_name,
		      const char *rec_file);

/* @include "file" at the start of a line: libconfig reads the file there,
 * named include_dir/file; it gets the same checks. */
static void include(struct pass *p)
{
	struct scan *sc = p->sc;
	size_t s, n;
	char *name, *path, *text;
	size_t len;

	p->i += strlen("@include");
	while (p->i < p->len && (p->text[p->i] == ' ' || p->text[p->i] == '\t'))
		p->i++;
	if (p->i >= p->len || p->text[p->i] != '"')
		return; /* libconfig reports the syntax */
	s = p->i + 1;
	string_literal(p, &s, &n);
	end_string_run(p);
	if (!sc->inc_dir) {
		scan_err(p, p->line, "@include is not followed in a spec given as text");
		return;
	}
	if (sc->inc_depth == MAX_INCLUDE_DEPTH) {
		scan_err(p, p->line, "@include nested deeper than %d files", MAX_INCLUDE_DEPTH);
		return;
	}
	name = vxc_xasprintf("%.*s", (int)n, p->text + s);
	path = vxc_xasprintf("%s/%s", sc->inc_dir, name);
	free(name);
	if (read_regular(path, "included file", VXC_CFG_MAX_BYTES - sc->bytes, &text, &len,
			 sc->d) < 0) {
		sc->errors++;
		free(path);
		return;
	}
	sc->t->files = vxc_xrealloc(sc->t->files, (sc->t->n_files + 1) * sizeof(char *));
	sc->t->files[sc->t->n_files++] = path;
	sc->inc_depth++;
	scan_file(sc, text, len, path, path);
	sc->inc_depth--;
	free(text);
}

static bool at_line_start(const struct pass *p)
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

static void identifier(struct pass *p)
{
	size_t s = p->i, n;

	while (p->i < p->len && (isalnum((unsigned char)p->text[p->i]) ||
				 strchr("-_*", p->text[p->i])))
		p->i++;
	n = p->i - s;
	if ((n == 4 && !strncasecmp(p->text + s, "true", 4)) ||
	    (n == 5 && !strncasecmp(p->text + s, "false", 5)))
		value_starts(p);
	if (n > sizeof(p->ident) - 1)
		n = sizeof(p->ident) - 1;
	memcpy(p->ident, p->text + s, n);
	p->ident[n] = '\0';
}

static bool is_number_start(const struct pass *p)
{
	char c = p->text[p->i], n = p->i + 1 < p->len ? p->text[p->i + 1] : '\0';

	return isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)n)) ||
	       ((c == '-' || c == '+') && (isdigit((unsigned char)n) || n == '.'));
}

/* One token (or blank); false when the pass must stop. */
static bool token(struct pass *p)
{
	char c = p->text[p->i], n = p->i + 1 < p->len ? p->text[p->i + 1] : '\0';
	size_t s, len;

	if (c != '"' && !isspace((unsigned char)c) && c != '#' && !(c == '/' && (n == '/' || n == '*')))
		end_string_run(p);
	switch (c) {
	case '\n':
		p->line++;
		/* fall through */
	case ' ': case '\t': case '\r': case '\f': case '\v':
		p->i++;
		return true;
	case '\0':
		scan_err(p, p->line, "a NUL byte; the file is not text");
		return false;
	case '#':
		skip_to_eol(p);
		return true;
	case '"':
		string_literal(p, &s, &len);
		return true;
	case '=': case ':':
		setting_starts(p);
		break;
	case '{': case '(': case '[':
		p->i++;
		return open_level(p, c);
	case '}': case ')': case ']':
		close_level(p);
		break;
	case ',':
		top(p)->expect = top(p)->kind != '{';
		break;
	case ';':
		p->setting[0] = '\0';
		break;
	case '/':
		if (n == '/') {
			skip_to_eol(p);
			return true;
		}
		if (n == '*') {
			skip_block_comment(p);
			return true;
		}
		break;
	case '@':
		if (!strncmp(p->text + p->i, "@include", 8) && at_line_start(p)) {
			include(p);
			return true;
		}
		break;
	default:
		if (is_number_start(p)) {
			number(p);
			return true;
		}
		if (isalpha((unsigned char)c) || c == '*') {
			identifier(p);
			return true;
		}
	}
	p->i++;
	return true;
}

static void scan_file(struct scan *sc, const char *text, size_t len, const char *msg_name,
		      const char *rec_file)
{
	struct pass *p = vxc_xcalloc(1, sizeof(*p));

	p->sc = sc;
	p->text = text;
	p->len = len;
	p->msg_name = msg_name;
	p->rec_file = rec_file;
	p->line = 1;
	p->lv[0].kind = '{';
	sc->bytes += len;
	/* libconfig would stop reading at a NUL and take the rest as missing */
	if (memchr(text, '\0', len)) {
		const char *nul = memchr(text, '\0', len);

		for (const char *c = text; c < nul; c++)
			p->line += *c == '\n';
		scan_err(p, p->line, "a NUL byte; the file is not text");
		free(p);
		return;
	}
	while (p->i < p->len && token(p))
		;
	free(p);
}

static int finish(struct scan *sc, const char *name)
{
	if (sc->errors > MAX_SCAN_ERRORS)
		vxc_diag_add(sc->d, name, 0, NULL, "%u more problems of size or count like the "
			     "above", sc->errors - MAX_SCAN_ERRORS);
	return sc->errors ? -EINVAL : 0;
}

int vxc_cfg_scan(const char *text, size_t len, const char *name, const char *include_dir,
		 struct vxc_cfg_text *t, struct vxc_diag *diag)
{
	struct scan sc = { .t = t, .d = diag, .inc_dir = include_dir };

	if (len > VXC_CFG_MAX_BYTES) {
		vxc_diag_add(diag, name, 0, NULL, "%zu bytes; at most %u are read", len,
			     VXC_CFG_MAX_BYTES);
		return -EFBIG;
	}
	scan_file(&sc, text, len, name, NULL);
	return finish(&sc, name);
}

int vxc_cfg_read(const char *path, const char *what, struct vxc_cfg_text *t,
		 struct vxc_diag *diag)
{
	char *dir = vxc_xstrdup(path), *slash = strrchr(dir, '/');
	int r;

	memset(t, 0, sizeof(*t));
	r = read_regular(path, what, VXC_CFG_MAX_BYTES, &t->text, &t->len, diag);
	if (!r) {
		/* @include "x.conf" means next to the file, not the cwd */
		if (slash)
			*slash = '\0';
		r = vxc_cfg_scan(t->text, t->len, path, slash ? (dir[0] ? dir : "/") : ".", t,
				 diag);
	}
	free(dir);
	return r;
}

void vxc_cfg_text_free(struct vxc_cfg_text *t)
{
	free(t->text);
	for (size_t i = 0; i < t->n_files; i++)
		free(t->files[i]);
	free(t->files);
	memset(t, 0, sizeof(*t));
}

void vxc_cfg_report_bad_ints(struct vxc_cfg_text *t, const char *name, struct vxc_diag *diag)
{
	for (size_t i = 0; i < t->n_bad; i++) {
		const struct vxc_cfg_bad_int *b = &t->bad[i];

		vxc_diag_add(diag, b->file ? b->file : name, b->line, b->name[0] ? b->name : NULL,
			     "%s does not fit in %s; no setting takes a number that large", b->text,
			     strchr(b->text, 'L') ? "64 bits" : "32 bits");
	}
	if (t->n_bad_total > t->n_bad)
		vxc_diag_add(diag, name, 0, NULL, "%zu more integers too large to hold",
			     t->n_bad_total - t->n_bad);
}
