/* Step 1 of loading a spec: libconfig settings -> raw objects.
 *
 * Each object's settings are checked against a table of known keys (so a
 * typo is an error, with a suggestion), their types, and the syntax of each
 * value (addresses, CIDRs, MACs, names, ranges). A value that fails is
 * reported and left marked invalid, so the later steps skip the checks that
 * depend on it instead of piling up follow-on messages. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

enum sp_type { SP_STR, SP_INT, SP_BOOL, SP_STRS, SP_GROUP, SP_LIST };

struct sp_key {
	const char *name;
	enum sp_type type;
	bool required;
	const char *example; /* shown when a required key is missing */
};

static bool type_ok(const config_setting_t *s, enum sp_type t)
{
	int ty = config_setting_type(s);

	switch (t) {
	case SP_STR:
		return ty == CONFIG_TYPE_STRING;
	case SP_INT:
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case SP_BOOL:
		return ty == CONFIG_TYPE_BOOL;
	case SP_STRS:
		return ty == CONFIG_TYPE_ARRAY || ty == CONFIG_TYPE_LIST;
	case SP_GROUP:
		return ty == CONFIG_TYPE_GROUP;
	case SP_LIST:
		/* "[]" is how many people write an empty list */
		return ty == CONFIG_TYPE_LIST ||
		       (ty == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0);
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

static const char *have_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* Paths are at most a few dozen characters; a cut one only shortens a
 * message, which the return value check makes explicit. */
static void path_set(char *dst, const char *parent, const char *key, long idx)
{
	int r;

	if (idx < 0)
		r = snprintf(dst, SP_PATHSZ, "%s%s%s", parent, parent[0] ? "." : "", key);
	else
		r = snprintf(dst, SP_PATHSZ, "%s%s%s[%ld]", parent, parent[0] ? "." : "", key, idx);
	if (r >= SP_PATHSZ)
		strcpy(dst + SP_PATHSZ - 4, "...");
}

static void child_obj(struct sp_obj *c, const struct sp_obj *o, const config_setting_t *cs,
		      const char *key)
{
	memset(c, 0, sizeof(*c));
	c->cs = cs;
	path_set(c->path, o->path, key, -1);
}

static void elem_obj(struct sp_obj *c, const struct sp_obj *o, const config_setting_t *cs,
		     const char *key, size_t i)
{
	memset(c, 0, sizeof(*c));
	c->cs = cs;
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

/* Unknown keys, wrong types, missing required keys. */
static void check_keys(struct sp *sp, const struct sp_obj *o, const char *what,
		       const struct sp_key *keys)
{
	int n = config_setting_length(o->cs);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(o->cs, (unsigned)i);
		const char *name = config_setting_name(m);
		const struct sp_key *k = keys;

		while (k->name && strcmp(k->name, name))
			k++;
		if (!k->name)
			unknown_key(sp, o, what, name, keys);
		else if (!type_ok(m, k->type))
			sp_err(sp, o, name, "must be %s, not %s", want_name(k->type), have_name(m));
	}
	for (const struct sp_key *k = keys; k->name; k++)
		if (k->required && !config_setting_get_member(o->cs, k->name))
			sp_err(sp, o, k->name, "missing: every %s needs \"%s\"; add e.g. %s", what,
			       k->name, k->example);
}

/* A member of the wanted type, or NULL (absent or wrong type: check_keys
 * has reported the latter). */
static const config_setting_t *member(const struct sp_obj *o, const char *key, enum sp_type t)
{
	const config_setting_t *m = config_setting_get_member(o->cs, key);

	return m && type_ok(m, t) ? m : NULL;
}

static const char *get_str(const struct sp_obj *o, const char *key)
{
	const config_setting_t *m = member(o, key, SP_STR);

	return m ? config_setting_get_string(m) : NULL;
}

/* *out = def when absent; false when present but out of range. */
static bool get_uint(struct sp *sp, const struct sp_obj *o, const char *key, long long min,
		     long long max, unsigned def, unsigned *out)
{
	const config_setting_t *m = member(o, key, SP_INT);
	long long v;

	*out = def;
	if (!m)
		return !config_setting_get_member(o->cs, key);
	v = config_setting_get_int64(m);
	if (v < min || v > max) {
		sp_err(sp, o, key, "%lld is out of range; use %lld..%lld", v, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool get_bool(const struct sp_obj *o, const char *key, bool def)
{
	const config_setting_t *m = member(o, key, SP_BOOL);

	return m ? config_setting_get_bool(m) : def;
}

/* A unicast IPv4 address: not 0.0.0.0, not multicast or class E. */
static bool parse_addr(struct sp *sp, const struct sp_obj *o, const char *key, const char *text,
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

static bool get_addr(struct sp *sp, const struct sp_obj *o, const char *key, struct in_addr *out)
{
	const char *s = get_str(o, key);

	return s && parse_addr(sp, o, key, s, out);
}

/* A CIDR with room for a gateway and ports (/30 or shorter). */
static bool get_prefix(struct sp *sp, const struct sp_obj *o, const char *key,
		       struct vxc_prefix *out)
{
	const char *s = get_str(o, key);
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
static bool get_mac(struct sp *sp, const struct sp_obj *o, const char *key, struct vxc_mac *out)
{
	static const struct vxc_mac zero;
	const char *s = get_str(o, key);
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
static bool get_ifname(struct sp *sp, const struct sp_obj *o, const char *key, const char **out)
{
	const char *s = get_str(o, key);

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

/* How a kind's name turns into its longest kernel name. */
struct name_rule {
	const char *kind;
	const char *prefix;  /* of the derived interface name */
	const char *derived; /* what that interface is */
};

static const struct name_rule net_rule = { "network", "vb-", "bridge" };
static const struct name_rule router_rule = { "router", "rg-", "gateway veth" };
static const struct name_rule inst_rule = { "instance", "vi-", "NIC" };
static const struct name_rule lb_rule = { "load balancer", "vl-", "VIP port" };

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
static void get_name(struct sp *sp, struct sp_obj *o, const struct name_rule *r)
{
	const char *s = get_str(o, "name");

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
static void get_host_name(struct sp *sp, struct sp_obj *o)
{
	const char *s = get_str(o, "name");
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

static void get_ref(const struct sp_obj *o, const char *key, struct sp_ref *ref)
{
	child_obj(&ref->at, o, config_setting_get_member(o->cs, key), key);
	if (!ref->at.cs)
		ref->at.cs = o->cs;
	ref->at.name = get_str(o, key);
	ref->idx = -1;
}

/* One of a fixed set of words, e.g. protocol "tcp" | "http". */
static int get_enum(struct sp *sp, const struct sp_obj *o, const char *key,
		    const char *const *words, size_t n, int def)
{
	const char *s = get_str(o, key);
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
static void *parse_list(struct sp *sp, const struct sp_obj *parent, const char *key,
			size_t elsize, size_t *n, void (*fn)(struct sp *, void *))
{
	const config_setting_t *l = member(parent, key, SP_LIST);
	char *arr;

	*n = l ? (size_t)config_setting_length(l) : 0;
	if (!*n)
		return NULL;
	arr = vxc_xcalloc(*n, elsize);
	for (size_t i = 0; i < *n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		struct sp_obj *o = (struct sp_obj *)(void *)(arr + i * elsize);

		elem_obj(o, parent, e, key, i);
		o->parsed = config_setting_is_group(e);
		if (o->parsed)
			fn(sp, o);
		else
			sp_err(sp, o, NULL, "must be a group { ... }, not %s", have_name(e));
	}
	return arr;
}

/* ---- hosts ---------------------------------------------------------- */

static const struct sp_key host_keys[] = {
	{ "name", SP_STR, true, "name = \"compute1\";" },
	{ "tunnel", SP_STR, true, "tunnel = \"10.0.0.1\";" },
	{ "underlay_mtu", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_host(struct sp *sp, void *p)
{
	struct sp_host *h = p;

	check_keys(sp, &h->o, "host", host_keys);
	get_host_name(sp, &h->o);
	h->tunnel_ok = get_addr(sp, &h->o, "tunnel", &h->tunnel);
	get_uint(sp, &h->o, "underlay_mtu", SP_MTU_MIN, SP_MTU_MAX, 1500, &h->underlay_mtu);
}

/* ---- provider ------------------------------------------------------- */

static const struct sp_key provider_keys[] = {
	{ "bridge", SP_STR, true, "bridge = \"br-provider\";" },
	{ "uplink", SP_STR, false, NULL },
	{ "cidr", SP_STR, true, "cidr = \"203.0.113.0/24\";" },
	{ "gateway", SP_STR, true, "gateway = \"203.0.113.1\";" },
	{ "range", SP_STRS, false, NULL },
	{ "mtu", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_range(struct sp *sp, struct sp_provider *pv)
{
	const config_setting_t *r = member(&pv->o, "range", SP_STRS);
	struct sp_obj e[2];
	bool ok = true;

	if (!r) {
		/* no range: every host address of the CIDR */
		if (pv->cidr_ok) {
			pv->first.s_addr = htonl(ntohl(sp_net_addr(&pv->cidr).s_addr) + 1);
			pv->last.s_addr = htonl(ntohl(sp_bcast_addr(&pv->cidr).s_addr) - 1);
			pv->range_ok = !config_setting_get_member(pv->o.cs, "range");
		}
		return;
	}
	if (config_setting_length(r) != 2) {
		sp_err(sp, &pv->o, "range", "must hold exactly two addresses, the first and the "
		       "last: range = [ \"203.0.113.10\", \"203.0.113.99\" ]");
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		const config_setting_t *s = config_setting_get_elem(r, i);

		elem_obj(&e[i], &pv->o, s, "range", i);
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			sp_err(sp, &e[i], NULL, "must be a string, not %s", have_name(s));
			ok = false;
		} else if (!parse_addr(sp, &e[i], NULL, config_setting_get_string(s),
				       i ? &pv->last : &pv->first)) {
			ok = false;
		}
	}
	pv->range_ok = ok;
}

static void parse_provider(struct sp *sp, const struct sp_obj *root)
{
	const config_setting_t *cs = member(root, "provider", SP_GROUP);
	struct sp_provider *pv;

	if (!cs)
		return;
	pv = sp->prov = vxc_xcalloc(1, sizeof(*sp->prov));
	child_obj(&pv->o, root, cs, "provider");
	pv->o.parsed = true;
	check_keys(sp, &pv->o, "the provider", provider_keys);
	pv->bridge_ok = get_ifname(sp, &pv->o, "bridge", &pv->bridge);
	get_ifname(sp, &pv->o, "uplink", &pv->uplink);
	pv->cidr_ok = get_prefix(sp, &pv->o, "cidr", &pv->cidr);
	pv->gateway_ok = get_addr(sp, &pv->o, "gateway", &pv->gateway);
	parse_range(sp, pv);
	get_uint(sp, &pv->o, "mtu", SP_MTU_MIN, SP_MTU_MAX, 1500, &pv->mtu);
}

/* ---- networks ------------------------------------------------------- */

static const struct sp_key network_keys[] = {
	{ "name", SP_STR, true, "name = \"private\";" },
	{ "vni", SP_INT, true, "vni = 100;" },
	{ "cidr", SP_STR, true, "cidr = \"192.168.100.0/24\";" },
	{ "gateway", SP_STR, false, NULL },
	{ "mtu", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_network(struct sp *sp, void *p)
{
	struct sp_network *n = p;
	unsigned vni;

	check_keys(sp, &n->o, "network", network_keys);
	get_name(sp, &n->o, &net_rule);
	n->router = -1;
	n->vni_ok = get_uint(sp, &n->o, "vni", 1, SP_VNI_MAX, 0, &vni) && vni;
	n->vni = vni;
	n->cidr_ok = get_prefix(sp, &n->o, "cidr", &n->cidr);
	if (config_setting_get_member(n->o.cs, "gateway")) {
		n->gateway_ok = get_addr(sp, &n->o, "gateway", &n->gateway);
	} else if (n->cidr_ok) {
		/* the usual convention: the first host address */
		n->gateway.s_addr = htonl(ntohl(n->cidr.addr.s_addr) + 1);
		n->gateway_ok = true;
	}
	n->mtu_given = config_setting_get_member(n->o.cs, "mtu") != NULL;
	get_uint(sp, &n->o, "mtu", SP_MTU_MIN, SP_MTU_MAX, 0, &n->mtu);
}

/* ---- routers -------------------------------------------------------- */

static const struct sp_key router_keys[] = {
	{ "name", SP_STR, true, "name = \"r1\";" },
	{ "host", SP_STR, true, "host = \"net1\";" },
	{ "external", SP_STR, true, "external = \"203.0.113.4\";" },
	{ "networks", SP_STRS, false, NULL },
	{ "snat", SP_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_router_nets(struct sp *sp, struct sp_router *r)
{
	const config_setting_t *l = member(&r->o, "networks", SP_STRS);

	r->n_nets = l ? (size_t)config_setting_length(l) : 0;
	if (!r->n_nets)
		return;
	r->nets = vxc_xcalloc(r->n_nets, sizeof(*r->nets));
	for (size_t i = 0; i < r->n_nets; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		struct sp_ref *ref = &r->nets[i];

		elem_obj(&ref->at, &r->o, e, "networks", i);
		ref->idx = -1;
		if (config_setting_type(e) == CONFIG_TYPE_STRING)
			ref->at.name = config_setting_get_string(e);
		else
			sp_err(sp, &ref->at, NULL, "must be a network name in quotes, not %s",
			       have_name(e));
	}
}

static void parse_router(struct sp *sp, void *p)
{
	struct sp_router *r = p;

	check_keys(sp, &r->o, "router", router_keys);
	get_name(sp, &r->o, &router_rule);
	get_ref(&r->o, "host", &r->host);
	r->external_ok = get_addr(sp, &r->o, "external", &r->external);
	parse_router_nets(sp, r);
	r->snat = get_bool(&r->o, "snat", true);
}

/* ---- instances ------------------------------------------------------ */

static const struct sp_key instance_keys[] = {
	{ "name", SP_STR, true, "name = \"web1\";" },
	{ "kind", SP_STR, true, "kind = \"container\";" },
	{ "host", SP_STR, true, "host = \"compute1\";" },
	{ "network", SP_STR, true, "network = \"private\";" },
	{ "address", SP_STR, true, "address = \"192.168.100.6\";" },
	{ "image", SP_STR, false, NULL },
	{ "command", SP_STRS, false, NULL },
	{ "cpus", SP_INT, false, NULL },
	{ "memory", SP_INT, false, NULL },
	{ "mac", SP_STR, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_command(struct sp *sp, struct sp_instance *in)
{
	const config_setting_t *l = member(&in->o, "command", SP_STRS);
	size_t n = l ? (size_t)config_setting_length(l) : 0;
	bool ok = true;

	if (!l)
		return;
	if (!n) {
		sp_err(sp, &in->o, "command", "is empty; leave it out to run the image's default");
		return;
	}
	in->command = vxc_xcalloc(n + 1, sizeof(*in->command));
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		struct sp_obj eo;

		if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			in->command[i] = config_setting_get_string(e);
			continue;
		}
		elem_obj(&eo, &in->o, e, "command", i);
		sp_err(sp, &eo, NULL, "must be a string, not %s", have_name(e));
		ok = false;
	}
	if (!ok) {
		free(in->command);
		in->command = NULL;
	}
}

/* An image reference goes to a container engine or a VM definition: no
 * blanks or control characters. */
static void get_image(struct sp *sp, struct sp_instance *in)
{
	const char *s = get_str(&in->o, "image");
	bool good = s && *s;

	for (const char *c = s; good && *c; c++)
		good = isgraph((unsigned char)*c);
	if (s && !good)
		sp_err(sp, &in->o, "image", "\"%s\" is not an image reference: it must be non-empty "
		       "without blanks or control characters", s);
	in->image = good ? s : NULL;
}

static void parse_instance(struct sp *sp, void *p)
{
	static const char *const kinds[] = {
		[VXC_INSTANCE_CONTAINER] = "container",
		[VXC_INSTANCE_VM] = "vm",
	};
	struct sp_instance *in = p;

	check_keys(sp, &in->o, "instance", instance_keys);
	get_name(sp, &in->o, &inst_rule);
	in->kind = get_enum(sp, &in->o, "kind", kinds, VXC_ARRAY_SIZE(kinds), 0);
	get_ref(&in->o, "host", &in->host);
	get_ref(&in->o, "network", &in->net);
	in->addr_ok = get_addr(sp, &in->o, "address", &in->addr);
	get_image(sp, in);
	parse_command(sp, in);
	get_uint(sp, &in->o, "cpus", 1, 1024, 0, &in->cpus);
	get_uint(sp, &in->o, "memory", 16, 16 * 1024 * 1024, 0, &in->memory_mb);
	in->mac_given = config_setting_get_member(in->o.cs, "mac") != NULL;
	in->mac_ok = get_mac(sp, &in->o, "mac", &in->mac);
}

/* ---- load balancers ------------------------------------------------- */

static const struct sp_key member_keys[] = {
	{ "address", SP_STR, true, "address = \"192.168.100.6\";" },
	{ "port", SP_INT, true, "port = 8080;" },
	{ "weight", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_member(struct sp *sp, void *p)
{
	struct sp_member *m = p;
	unsigned port;
	bool ok;

	check_keys(sp, &m->o, "member", member_keys);
	ok = get_addr(sp, &m->o, "address", &m->m.addr);
	ok = get_uint(sp, &m->o, "port", 1, 65535, 0, &port) && port && ok;
	m->m.port = (uint16_t)port;
	get_uint(sp, &m->o, "weight", 0, 256, 1, &m->m.weight);
	m->ok = ok;
}

static const struct sp_key timeout_keys[] = {
	{ "connect", SP_INT, false, NULL },
	{ "client", SP_INT, false, NULL },
	{ "server", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

static const struct sp_key health_keys[] = {
	{ "interval", SP_INT, false, NULL },
	{ "timeout", SP_INT, false, NULL },
	{ "rise", SP_INT, false, NULL },
	{ "fall", SP_INT, false, NULL },
	{ "http_path", SP_STR, false, NULL },
	{ NULL, 0, false, NULL },
};

#define SP_MS_MAX (24LL * 3600 * 1000)

static void parse_timeouts(struct sp *sp, struct sp_listener *ls)
{
	struct vxc_lb_listener *l = &ls->l;
	struct sp_obj t;

	l->timeout_connect_ms = 5000;
	l->timeout_client_ms = l->timeout_server_ms = 50000;
	child_obj(&t, &ls->o, member(&ls->o, "timeouts", SP_GROUP), "timeouts");
	if (!t.cs)
		return;
	check_keys(sp, &t, "timeouts", timeout_keys);
	get_uint(sp, &t, "connect", 1, SP_MS_MAX, 5000, &l->timeout_connect_ms);
	get_uint(sp, &t, "client", 1, SP_MS_MAX, 50000, &l->timeout_client_ms);
	get_uint(sp, &t, "server", 1, SP_MS_MAX, 50000, &l->timeout_server_ms);
}

/* The path goes into the LB's own configuration file: one printable token. */
static void get_http_path(struct sp *sp, const struct sp_obj *h, struct vxc_lb_health *hl)
{
	const char *s = get_str(h, "http_path");
	bool good = s && s[0] == '/' && strlen(s) < 256;

	for (const char *c = s; good && *c; c++)
		good = isgraph((unsigned char)*c);
	if (s && !good)
		sp_err(sp, h, "http_path", "\"%s\" is not a usable HTTP path: it must start with "
		       "'/' and hold no blanks or control characters", s);
	hl->http_path = good ? s : NULL;
}

static void parse_health(struct sp *sp, struct sp_listener *ls)
{
	struct vxc_lb_health *hl = &ls->l.health;
	struct sp_obj h;

	hl->interval_ms = 2000;
	hl->timeout_ms = 1000;
	hl->rise = 2;
	hl->fall = 3;
	child_obj(&h, &ls->o, member(&ls->o, "health", SP_GROUP), "health");
	if (!h.cs)
		return;
	hl->enabled = 1;
	check_keys(sp, &h, "health", health_keys);
	get_uint(sp, &h, "interval", 100, 3600000, 2000, &hl->interval_ms);
	get_uint(sp, &h, "timeout", 1, 3600000, 1000, &hl->timeout_ms);
	get_uint(sp, &h, "rise", 1, 100, 2, &hl->rise);
	get_uint(sp, &h, "fall", 1, 100, 3, &hl->fall);
	get_http_path(sp, &h, hl);
}

static const struct sp_key listener_keys[] = {
	{ "protocol", SP_STR, false, NULL },
	{ "port", SP_INT, true, "port = 80;" },
	{ "algorithm", SP_STR, false, NULL },
	{ "maxconn", SP_INT, false, NULL },
	{ "retries", SP_INT, false, NULL },
	{ "timeouts", SP_GROUP, false, NULL },
	{ "health", SP_GROUP, false, NULL },
	{ "members", SP_LIST, true, "members = ( { address = \"192.168.100.6\"; port = 80; } );" },
	{ NULL, 0, false, NULL },
};

static void parse_listener(struct sp *sp, void *p)
{
	static const char *const protocols[] = {
		[VXC_LB_TCP] = "tcp",
		[VXC_LB_HTTP] = "http",
	};
	static const char *const algorithms[] = {
		[VXC_LB_ROUNDROBIN] = "roundrobin",
		[VXC_LB_LEASTCONN] = "leastconn",
		[VXC_LB_SOURCE] = "source",
	};
	struct sp_listener *ls = p;
	struct vxc_lb_listener *l = &ls->l;
	unsigned port;

	check_keys(sp, &ls->o, "listener", listener_keys);
	l->protocol = get_enum(sp, &ls->o, "protocol", protocols, VXC_ARRAY_SIZE(protocols),
			       VXC_LB_TCP);
	ls->port_ok = get_uint(sp, &ls->o, "port", 1, 65535, 0, &port) && port;
	l->port = (uint16_t)port;
	l->algorithm = get_enum(sp, &ls->o, "algorithm", algorithms, VXC_ARRAY_SIZE(algorithms),
				VXC_LB_ROUNDROBIN);
	get_uint(sp, &ls->o, "maxconn", 1, 1000000, 2000, &l->maxconn);
	get_uint(sp, &ls->o, "retries", 0, 100, 3, &l->retries);
	parse_timeouts(sp, ls);
	parse_health(sp, ls);
	ls->members = parse_list(sp, &ls->o, "members", sizeof(*ls->members), &ls->n_members,
				 parse_member);
}

static const struct sp_key lb_keys[] = {
	{ "name", SP_STR, true, "name = \"web\";" },
	{ "host", SP_STR, true, "host = \"net1\";" },
	{ "network", SP_STR, true, "network = \"private\";" },
	{ "vip", SP_STR, true, "vip = \"192.168.100.8\";" },
	{ "floating_ip", SP_STR, false, NULL },
	{ "listeners", SP_LIST, true, "listeners = ( { port = 80; members = ( ... ); } );" },
	{ NULL, 0, false, NULL },
};

static void parse_lb(struct sp *sp, void *p)
{
	struct sp_lb *lb = p;

	check_keys(sp, &lb->o, "load balancer", lb_keys);
	get_name(sp, &lb->o, &lb_rule);
	get_ref(&lb->o, "host", &lb->host);
	get_ref(&lb->o, "network", &lb->net);
	lb->vip_ok = get_addr(sp, &lb->o, "vip", &lb->vip);
	lb->has_fip = config_setting_get_member(lb->o.cs, "floating_ip") != NULL;
	lb->ls = parse_list(sp, &lb->o, "listeners", sizeof(*lb->ls), &lb->n_ls, parse_listener);
	if (!lb->n_ls && member(&lb->o, "listeners", SP_LIST))
		sp_err(sp, &lb->o, "listeners", "load balancer \"%s\" has no listener; add one, "
		       "e.g. ( { port = 80; members = ( ... ); } )", lb->o.name ? lb->o.name : "");
}

/* ---- floating IPs --------------------------------------------------- */

static const struct sp_key fip_keys[] = {
	{ "address", SP_STR, true, "address = \"203.0.113.10\";" },
	{ "router", SP_STR, false, NULL },
	{ "target", SP_STR, true, "target = \"web1\";" },
	{ NULL, 0, false, NULL },
};

static void parse_fip(struct sp *sp, void *p)
{
	struct sp_fip *f = p;

	check_keys(sp, &f->o, "floating IP", fip_keys);
	f->addr_key = "address";
	f->addr_ok = get_addr(sp, &f->o, "address", &f->addr);
	get_ref(&f->o, "router", &f->router);
	get_ref(&f->o, "target", &f->target);
	f->lb = -1;
}

/* A load balancer's floating_ip becomes one more floating IP, bound to the
 * router of the load balancer's network (found by validation). */
static void add_lb_fips(struct sp *sp)
{
	size_t n = 0;

	for (size_t i = 0; i < sp->n_lbs; i++)
		n += sp->lbs[i].has_fip;
	if (!n)
		return;
	sp->fips = vxc_xrealloc(sp->fips, (sp->n_fips + n) * sizeof(*sp->fips));
	for (size_t i = 0; i < sp->n_lbs; i++) {
		struct sp_lb *lb = &sp->lbs[i];
		struct sp_fip *f;

		if (!lb->has_fip)
			continue;
		f = &sp->fips[sp->n_fips++];
		memset(f, 0, sizeof(*f));
		f->o = lb->o;
		f->o.name = NULL;
		f->addr_key = "floating_ip";
		f->addr_ok = get_addr(sp, &lb->o, "floating_ip", &f->addr);
		get_ref(&lb->o, "floating_ip", &f->router);
		f->router.at.name = NULL;
		f->target.at = lb->o;
		f->target.idx = (int)i;
		f->target_kind = VXC_TARGET_LB;
		f->lb = (int)i;
	}
}

/* ---- the whole spec ------------------------------------------------- */

static const struct sp_key root_keys[] = {
	{ "hosts", SP_LIST, true, "hosts = ( { name = \"compute1\"; tunnel = \"10.0.0.1\"; } );" },
	{ "provider", SP_GROUP, false, NULL },
	{ "networks", SP_LIST, false, NULL },
	{ "routers", SP_LIST, false, NULL },
	{ "instances", SP_LIST, false, NULL },
	{ "load_balancers", SP_LIST, false, NULL },
	{ "floating_ips", SP_LIST, false, NULL },
	{ NULL, 0, false, NULL },
};

void sp_parse(struct sp *sp, const config_setting_t *root)
{
	struct sp_obj r = { .cs = root };

	check_keys(sp, &r, "spec", root_keys);
	sp->hosts = parse_list(sp, &r, "hosts", sizeof(*sp->hosts), &sp->n_hosts, parse_host);
	if (!sp->n_hosts && member(&r, "hosts", SP_LIST))
		sp_err(sp, &r, "hosts", "the spec has no host; add at least one");
	parse_provider(sp, &r);
	sp->nets = parse_list(sp, &r, "networks", sizeof(*sp->nets), &sp->n_nets, parse_network);
	sp->routers = parse_list(sp, &r, "routers", sizeof(*sp->routers), &sp->n_routers,
				 parse_router);
	sp->insts = parse_list(sp, &r, "instances", sizeof(*sp->insts), &sp->n_insts,
			       parse_instance);
	sp->lbs = parse_list(sp, &r, "load_balancers", sizeof(*sp->lbs), &sp->n_lbs, parse_lb);
	sp->fips = parse_list(sp, &r, "floating_ips", sizeof(*sp->fips), &sp->n_fips, parse_fip);
	add_lb_fips(sp);
}
