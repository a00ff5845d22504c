/* The spec's own reader (cfgtree.c) against libconfig: for every spec the
 * project ships and for snippets of each construct, both must accept or
 * both refuse, and accepted texts must give the same tree (types, names,
 * values, lines). Where they differ on purpose: integers beyond 32 bits,
 * which libconfig wraps and cfgtree keeps. */
#include "config.h"

#include <dirent.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"
#include "tap.h"
#include "util.h"

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
	else if (a != config_root_setting(a->config) &&
		 (int)config_setting_source_line(a) != b->line)
		snprintf(why, n, "line of %s: %u / %d", an ? an : "element",
			 config_setting_source_line(a), b->line);
	else if (b->type == VXC_CFG_STRING && strcmp(config_setting_get_string(a), b->v.s))
		snprintf(why, n, "string \"%s\" / \"%s\"", config_setting_get_string(a), b->v.s);
	else if ((b->type == VXC_CFG_INT || b->type == VXC_CFG_INT64) &&
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
static void compare(const char *text, const char *what, int want_ok)
{
	config_t cfg;
	struct vxc_cfg_tree tree;
	char why[256] = "";
	bool lc_ok, ct_ok;

	config_init(&cfg);
	lc_ok = config_read_string(&cfg, text);
	ct_ok = vxc_cfg_parse(text, strlen(text), NULL, &tree) == 0;
	if (lc_ok && ct_ok)
		differ(config_root_setting(&cfg), tree.root, why, sizeof(why));
	else if (!lc_ok && !ct_ok && config_error_line(&cfg) != tree.err_line)
		snprintf(why, sizeof(why), "error lines %d / %d", config_error_line(&cfg),
			 tree.err_line);
	ok(lc_ok == ct_ok && (want_ok < 0 || lc_ok == want_ok) && !why[0], "%s: %s%s", what,
	   ct_ok ? "accepted" : tree.err, why[0] ? "" : ", as libconfig");
	if (why[0] || lc_ok != ct_ok)
		printf("#   libconfig %s (%s), cfgtree %s: %s\n", lc_ok ? "accepts" : "refuses",
		       lc_ok ? "" : config_error_text(&cfg), ct_ok ? "accepts" : "refuses", why);
	vxc_cfg_tree_free(&tree);
	config_destroy(&cfg);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = vxc_xmalloc((size_t)n + 1);
	buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

static void compare_dir(const char *dir, int want_ok)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *path, *text;

		if (!strstr(de->d_name, ".conf"))
			continue;
		path = vxc_xasprintf("%s/%s", dir, de->d_name);
		text = slurp(path);
		if (text)
			compare(text, path, want_ok);
		free(text);
		free(path);
	}
	if (d)
		closedir(d);
}

static const struct {
	const char *what, *text;
	int ok;
} snippets[] = {
	{ "settings with = and :, ; , or nothing", "a = 1; b : 2, c = 3\nd = 4;", true },
	{ "comments of three kinds", "# x\na = 1; // y\n/* z\n w */ b = \"/* no */\";", true },
	{ "nested groups, lists, arrays", "g = { l = ( { a = [ 1, 2 ]; }, ( 3, \"x\" ), [ ] ); };",
	  true },
	{ "empty group, list, array", "g = { }; l = ( ); a = [ ];", true },
	{ "escapes and joined strings", "s = \"a\\n\\t\\\"\\\\\\x41\" \"b\"\n \"c\";", true },
	{ "an unknown escape keeps its backslash", "s = \"a\\qb\";", true },
	{ "strings joined across a comment", "s = \"a\" # c\n /* d */ \"b\";", true },
	{ "\\x00 is dropped", "s = \"a\\x00b\\x41\";", true },
	{ "a float of a lone dot, 1e as 1 then a name", "a = .; b = 1e = 2;", true },
	{ "hex only without a sign: -0x is -0 then a name", "a = 0x1F; b = -0x = 1;", true },
	{ "a string over lines", "s = \"a\nb\";\nt = 1;", true },
	{ "integers: signs, hex, L", "a = -5; b = +7; c = 0x1F; d = 12L; e = 0x10L; f = 0;", true },
	{ "floats", "a = 1.5; b = -0.25; c = 1e3; d = .5; e = 5.; f = 2.5e-3;", true },
	{ "booleans in any case", "a = true; b = FALSE; c = True;", true },
	{ "names with - _ *", "a-b = 1; c_d = 2; e* = 3;", true },
	{ "missing value", "a = ;", false },
	{ "missing =", "a 1;", false },
	{ "unterminated group", "g = { a = 1;", false },
	{ "unterminated list", "l = ( 1, 2", false },
	{ "trailing comma in a list", "l = ( 1, 2, );", false },
	{ "duplicate name", "a = 1;\na = 2;", false },
	{ "duplicate name in a group", "g = { a = 1; b = 2;\n a = 3; };", false },
	{ "a group in an array", "a = [ { b = 1; } ];", false },
	{ "mixed types in an array", "a = [ \"x\", 5 ];", false },
	{ "int and 64-bit int in an array", "a = [ 1, 2L ];", false },
	{ "garbage", "a = 1; %", false },
	{ "a value without a name", "\"x\";", false },
	{ "an unterminated string", "a = \"x;\n", false },
};

int main(void)
{
	compare_dir(VXC_EXAMPLES, 1);
	compare_dir(TEST_SRCDIR "/../fuzz/corpus", -1); /* errors.conf is meant to fail */
	compare_dir(TEST_SRCDIR "/../../contrib/demo", 1);
	for (size_t i = 0; i < VXC_ARRAY_SIZE(snippets); i++)
		compare(snippets[i].text, snippets[i].what, snippets[i].ok);
	return tap_done();
}
