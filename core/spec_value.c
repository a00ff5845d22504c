/* Reading values of the spec: known keys and their types, and the syntax
 * of each kind of value (addresses, CIDRs, MACs, names, interface names,
 * words from a fixed set). Each reader reports what is wrong with the
 * value it reads and tells its caller whether the value can be used. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

static bool type_ok(const struct vxc_cfg_node *s, enum sp_type t)
{
	int ty = vxc_cfg_type(s);

	switch (t) {
	case SP_STR:
		return ty == VXC_CFG_STRING;
	case SP_INT:
		return ty == VXC_CFG_INT || ty == VXC_CFG_INT64;
	case SP_BOOL:
		return ty == VXC_CFG_BOOL;
	case SP_STRS:
		return ty == VXC_CFG_ARRAY || ty == VXC_CFG_LIST;
	case SP_GROUP:
		return ty == VXC_CFG_GROUP;
	case SP_LIST:
		/* "[]" is how many people write an empty list */
		return ty == VXC_CFG_LIST ||
		       (ty == VXC_CFG_ARRAY && vxc_cfg_length(s) == 0);
	}
	return false;
}

static const char *want_name(enum sp_type t)
{
	static const char *const names[] = {
		[SP_STR] = "a string in quotes",
		[SP_INT] = "an integer",
		[SP_BOOL] = "true or false",
		[SP_STRS] = "an array of strings [ \"a\", \"b\" ]",
		[SP_GROUP] = "a group { ... }",
		[SP_LIST] = "a list ( { ... }, { ... } )",
	};
	return names[t];
}

const char *sp_have_name(const struct vxc_cfg_node *s)
{
	switch (vxc_cfg_type(s)) {
	case VXC_CFG_GROUP:
		return "a group";
	case VXC_CFG_INT:
	case VXC_CFG_INT64:
		return "an integer";
	case VXC_CFG_FLOAT:
		return "a floating-point number";
	case VXC_CFG_STRING:
		return "a string";
	case VXC_CFG_BOOL:
		return "a boolean";
	case VXC_CFG_ARRAY:
		return "an array";
	case VXC_CFG_LIST:
		return "a list";
	case VXC_CFG_NONE:
		break;
	}
	return "nothing";
}

/* The deepest object path at VXC_CFG_MAX_ELEMS elements per list fits. */
_Static_assert(sizeof("load_balancers[999999].listeners[999999].members[999999]") <= SP_PATHSZ,
	       "SP_PATHSZ holds every path the spec's shape allows");

/* Appends n bytes of src at *at, never past the path's end. */
static void path_put(char *dst, size_t *at, const char *src, size_t n)
{
	if (n > SP_PATHSZ - 1 - *at)
		n = SP_PATHSZ - 1 - *at;
	memcpy(dst + *at, src, n);
	*at += n;
}

/* Paths are at most a few dozen characters; a cut one only shortens a
 * message, and ends in "...". Built by hand: snprintf was a tenth of the
 * time of loading a spec with 10,000 instances. */
static void path_set(char *dst, const char *parent, const char *key, long idx)
{
	size_t at = 0, plen = strlen(parent), klen = strlen(key);
	char num[24], *p = num + sizeof(num);

	path_put(dst, &at, parent, plen);
	if (plen)
		path_put(dst, &at, ".", 1);
	path_put(dst, &at, key, klen);
	if (idx >= 0) {
		*--p = ']';
		do
			*--p = (char)('0' + idx % 10);
		while ((idx /= 10));
		*--p = '[';
		path_put(dst, &at, p, (size_t)(num + sizeof(num) - p));
	}
	dst[at] = '\0';
	if (at == SP_PATHSZ - 1)
		strcpy(dst + SP_PATHSZ - 4, "...");
}

/* Every field but the member cache, which is read only once keys is set:
 * clearing whole objects was a tenth of parsing. */
static void obj_init(struct sp_obj *c, const struct vxc_cfg_node *cs)
{
	c->cs = cs;
	c->keys = NULL;
	c->name = NULL;
	c->parsed = false;
	c->dup = false;
}

void sp_child_obj(struct sp_obj *c, const struct sp_obj *o, const struct vxc_cfg_node *cs,
		      const char *key)
{
	obj_init(c, cs);
	path_set(c->path, o->path, key, -1);
}

void sp_elem_obj(struct sp_obj *c, const struct sp_obj *o, const struct vxc_cfg_node *cs,
		     const char *key, size_t i)
{
	obj_init(c, cs);
	path_set(c->path, o->path, key, (long)i);
}

static void unknown_key(struct sp *sp, const struct sp_obj *o, const char *what,
			const char *name, const struct sp_key *keys)
{
	const char *cands[16], *sug;
	char known[256] = "";
	size_t n = 0;

	for (const struct sp_key *k = keys; k->name && n < VXC_ARRAY_SIZE(cands); k++) {
		cands[n++] = k->name;
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			 known[0] ? ", " : "", k->name);
	}
	sug = sp_suggest(name, cands, n);
	if (sug)
		sp_err(sp, o, name, "unknown setting \"%s\" in %s; did you mean \"%s\"?", name, what,
		       sug);
	else
		sp_err(sp, o, name, "unknown setting \"%s\" in %s; known settings: %s", name, what,
		       known);
}

/* Unknown keys, wrong types, missing required keys; remembers each known
 * member for sp_setting. */
void sp_check_keys(struct sp *sp, struct sp_obj *o, const char *what,
		       const struct sp_key *keys)
{
	int n = vxc_cfg_length(o->cs);

	memset(o->by_key, 0, sizeof(o->by_key));
	/* positions fit a byte: groups hold at most VXC_CFG_MAX_KEYS settings */
	o->keys = n < 255 ? keys : NULL;
	for (int i = 0; i < n; i++) {
		const struct vxc_cfg_node *m = vxc_cfg_elem(o->cs, (unsigned)i);
		const char *name = vxc_cfg_name(m);
		const struct sp_key *k = keys;

		while (k->name && strcmp(k->name, name))
			k++;
		if (!k->name) {
			unknown_key(sp, o, what, name, keys);
			continue;
		}
		if (k - keys < SP_KEYS_MAX && o->keys)
			o->by_key[k - keys] = (unsigned char)(i + 1);
		if (!type_ok(m, k->type))
			sp_err(sp, o, name, "must be %s, not %s", want_name(k->type), sp_have_name(m));
	}
	for (const struct sp_key *k = keys; k->name; k++)
		if (k->required && !sp_setting(o, k->name))
			sp_err(sp, o, k->name, "missing: every %s needs \"%s\"; add e.g. %s", what,
			       k->name, k->example);
}

static const struct vxc_cfg_node *member_at(const struct sp_obj *o, size_t k)
{
	return o->by_key[k] ? vxc_cfg_elem(o->cs, o->by_key[k] - 1u) : NULL;
}

const struct vxc_cfg_node *sp_setting(const struct sp_obj *o, const char *key)
{
	if (o->keys) {
		/* the same literal is mostly the same pointer: try that first */
		for (size_t i = 0; i < SP_KEYS_MAX && o->keys[i].name; i++)
			if (o->keys[i].name == key)
				return member_at(o, i);
		for (size_t i = 0; i < SP_KEYS_MAX && o->keys[i].name; i++)
			if (!strcmp(o->keys[i].name, key))
				return member_at(o, i);
	}
	return o->cs ? vxc_cfg_member(o->cs, key) : NULL;
}

/* A member of the wanted type, or NULL (absent or wrong type: check_keys
 * has reported the latter). */
const struct vxc_cfg_node *sp_member(const struct sp_obj *o, const char *key, enum sp_type t)
{
	const struct vxc_cfg_node *m = sp_setting(o, key);

	return m && type_ok(m, t) ? m : NULL;
}

const char *sp_get_str(const struct sp_obj *o, const char *key)
{
	const struct vxc_cfg_node *m = sp_member(o, key, SP_STR);

	return m ? vxc_cfg_string(m) : NULL;
}

/* *out = def when absent; false when present but out of range. */
bool sp_get_uint(struct sp *sp, const struct sp_obj *o, const char *key, long long min,
		     long long max, unsigned def, unsigned *out)
{
	const struct vxc_cfg_node *m = sp_member(o, key, SP_INT);

	*out = def;
	if (!m)
		return !sp_setting(o, key);
	/* the value as written: 0x10, or beyond 64 bits */
	if (m->too_big || m->v.i < min || m->v.i > max) {
		sp_err(sp, o, key, "%s is out of range; use %lld..%lld", m->text, min, max);
		return false;
	}
	*out = (unsigned)m->v.i;
	return true;
}

bool sp_get_bool(const struct sp_obj *o, const char *key, bool def)
{
	const struct vxc_cfg_node *m = sp_member(o, key, SP_BOOL);

	return m ? vxc_cfg_bool(m) : def;
}

/* A unicast IPv4 address: not 0.0.0.0, not multicast or class E. */
bool sp_parse_addr(struct sp *sp, const struct sp_obj *o, const char *key, const char *text,
		       struct in_addr *out)
{
	uint32_t h;

	if (vxc_ip_parse(text, out) < 0) {
		sp_err(sp, o, key, "\"%s\" is not an IPv4 address; write it as a.b.c.d", text);
		return false;
	}
	h = ntohl(out->s_addr);
	if (h == 0 || h >= 0xe0000000u) {
		sp_err(sp, o, key, "%s is not a unicast address; use a host address", text);
		return false;
	}
	return true;
}

bool sp_get_addr(struct sp *sp, const struct sp_obj *o, const char *key, struct in_addr *out)
{
	const char *s = sp_get_str(o, key);

	return s && sp_parse_addr(sp, o, key, s, out);
}

/* A CIDR with room for a gateway and ports (/30 or shorter). */
bool sp_get_prefix(struct sp *sp, const struct sp_obj *o, const char *key,
		       struct vxc_prefix *out)
{
	const char *s = sp_get_str(o, key);
	char buf[32];

	if (!s)
		return false;
	if (vxc_prefix_parse(s, out) == 0) {
		if (out->len > 30) {
			sp_err(sp, o, key, "%s is too small: a network needs a gateway, ports, a "
			       "network and a broadcast address; use /30 or shorter", s);
			return false;
		}
		return true;
	}
	/* Tell a host-bits mistake apart from text that is no CIDR at all. */
	if (strlen(s) < sizeof(buf) && strchr(s, '/')) {
		struct vxc_prefix p;
		char *slash, *end, net[VXC_IPSTR];
		unsigned long len;

		strcpy(buf, s);
		slash = strchr(buf, '/');
		*slash = '\0';
		len = strtoul(slash + 1, &end, 10);
		if (isdigit((unsigned char)slash[1]) && !*end && len <= 32 &&
		    vxc_ip_parse(buf, &p.addr) == 0) {
			p.addr.s_addr &= len ? htonl(~0u << (32 - len)) : 0;
			sp_err(sp, o, key, "\"%s\" has host bits set; did you mean %s/%lu?", s,
			       vxc_ip_str(p.addr, net), len);
			return false;
		}
	}
	sp_err(sp, o, key, "\"%s\" is not a CIDR; write it as a.b.c.d/len, e.g. 10.0.0.0/24", s);
	return false;
}

/* Strict "xx:xx:xx:xx:xx:xx"; a port MAC must be unicast and not zero. */
bool sp_get_mac(struct sp *sp, const struct sp_obj *o, const char *key, struct vxc_mac *out)
{
	static const struct vxc_mac zero;
	const char *s = sp_get_str(o, key);
	bool form = s && strlen(s) == 17;

	if (!s)
		return false;
	for (int i = 0; form && i < 17; i++)
		form = i % 3 == 2 ? s[i] == ':' : isxdigit((unsigned char)s[i]);
	if (!form || vxc_mac_parse(s, out) < 0) {
		sp_err(sp, o, key, "\"%s\" is not a MAC address; write it as 02:xx:xx:xx:xx:xx", s);
		return false;
	}
	if (!memcmp(out, &zero, sizeof(zero))) {
		sp_err(sp, o, key, "%s is the all-zero MAC; give a unicast MAC or leave it out to "
		       "derive one", s);
		return false;
	}
	if (out->b[0] & 1) {
		sp_err(sp, o, key, "%s is a multicast MAC (first octet odd); use a unicast one such "
		       "as 02:xx:xx:xx:xx:xx", s);
		return false;
	}
	return true;
}

/* Kernel interface name rules (dev_valid_name). */
bool sp_get_ifname(struct sp *sp, const struct sp_obj *o, const char *key, const char **out)
{
	const char *s = sp_get_str(o, key);

	*out = s;
	if (!s)
		return false;
	if (!*s || strlen(s) >= VXC_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, "..") ||
	    strpbrk(s, "/: \t\n\r\v\f")) {
		sp_err(sp, o, key, "\"%s\" is not a valid interface name: it needs 1..%d "
		       "characters without '/', ':' or spaces", s, VXC_IFNAMSIZ - 1);
		*out = NULL;
		return false;
	}
	return true;
}

static bool safe_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* Sets o->name whenever it is a string, even a bad one, so references to it
 * resolve and do not add "unknown" messages on top. */
void sp_get_name(struct sp *sp, struct sp_obj *o, const struct sp_name_rule *r)
{
	const char *s = sp_get_str(o, "name");

	o->name = s;
	if (!s)
		return;
	if (!safe_name(s)) {
		sp_err(sp, o, "name", "%s name \"%s\" is not allowed: use lowercase letters, digits "
		       "and '-' (not first or last), e.g. \"web-1\"", r->kind, s);
	} else if (strlen(s) > SP_NAME_MAX) {
		sp_err(sp, o, "name", "%s name \"%s\" is %zu characters: the derived %s \"%s%s\" "
		       "would exceed %d characters; %s names are at most %d characters", r->kind, s,
		       strlen(s), r->derived, r->prefix, s, VXC_IFNAMSIZ - 1, r->kind, SP_NAME_MAX);
	}
}

/* Host names come from gethostname(), so they follow hostname rules
 * instead; no kernel name is derived from them. */
void sp_get_host_name(struct sp *sp, struct sp_obj *o)
{
	const char *s = sp_get_str(o, "name");
	bool good;

	o->name = s;
	if (!s)
		return;
	good = *s && strlen(s) <= 64 && isalnum((unsigned char)s[0]);
	for (const char *p = s; good && *p; p++)
		good = isalnum((unsigned char)*p) || strchr("-._", *p);
	if (!good)
		sp_err(sp, o, "name", "host name \"%s\" is not a host name: use 1..64 letters, "
		       "digits, '-', '.' or '_', starting with a letter or digit", s);
}

void sp_get_ref(const struct sp_obj *o, const char *key, struct sp_ref *ref)
{
	sp_child_obj(&ref->at, o, sp_setting(o, key), key);
	if (!ref->at.cs)
		ref->at.cs = o->cs;
	ref->at.name = sp_get_str(o, key);
	ref->idx = -1;
}

/* One of a fixed set of words, e.g. protocol "tcp" | "http". */
int sp_get_enum(struct sp *sp, const struct sp_obj *o, const char *key,
		    const char *const *words, size_t n, int def)
{
	const char *s = sp_get_str(o, key);
	char list[128] = "";

	if (!s)
		return def;
	for (size_t i = 0; i < n; i++) {
		if (words[i] && !strcmp(words[i], s))
			return (int)i;
		if (words[i])
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
				 list[0] ? " or " : "", words[i]);
	}
	sp_err(sp, o, key, "unknown %s \"%s\"; use %s", key, s, list);
	return 0;
}

/* Each element of a list of groups gets an sp_obj (the first member of
 * every raw struct) with its path, and is parsed by fn. */
void *sp_parse_list(struct sp *sp, const struct sp_obj *parent, const char *key,
			size_t elsize, size_t *n, void (*fn)(struct sp *, void *))
{
	const struct vxc_cfg_node *l = sp_member(parent, key, SP_LIST);
	char *arr;

	*n = l ? (size_t)vxc_cfg_length(l) : 0;
	if (!*n)
		return NULL;
	arr = vxc_xcalloc(*n, elsize);
	for (size_t i = 0; i < *n; i++) {
		const struct vxc_cfg_node *e = vxc_cfg_elem(l, (unsigned)i);
		struct sp_obj *o = (struct sp_obj *)(void *)(arr + i * elsize);

		sp_elem_obj(o, parent, e, key, i);
		o->parsed = vxc_cfg_is_group(e);
		if (o->parsed)
			fn(sp, o);
		else
			sp_err(sp, o, NULL, "must be a group { ... }, not %s", sp_have_name(e));
	}
	return arr;
}

