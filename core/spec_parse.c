/* Step 1 of loading a spec: settings (cfgtree.h) -> raw objects.
 *
 * Each object's settings are checked against a table of known keys (so a
 * typo is an error, with a suggestion), their types, and the syntax of each
 * value (addresses, CIDRs, MACs, names, ranges). A value that fails is
 * reported and left marked invalid, so the later steps skip the checks that
 * depend on it instead of piling up follow-on messages. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

static const struct sp_name_rule net_rule = { "network", "vb-", "bridge" };
static const struct sp_name_rule router_rule = { "router", "rg-", "gateway veth" };
static const struct sp_name_rule inst_rule = { "instance", "vi-", "NIC" };
static const struct sp_name_rule lb_rule = { "load balancer", "vl-", "VIP port" };

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

	sp_check_keys(sp, &h->o, "host", host_keys);
	sp_get_host_name(sp, &h->o);
	h->tunnel_ok = sp_get_addr(sp, &h->o, "tunnel", &h->tunnel);
	sp_get_uint(sp, &h->o, "underlay_mtu", SP_MTU_MIN, SP_MTU_MAX, 1500, &h->underlay_mtu);
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
	const struct vxc_cfg_node *r = sp_member(&pv->o, "range", SP_STRS);
	struct sp_obj e[2];
	bool ok = true;

	if (!r) {
		/* no range: every host address of the CIDR */
		if (pv->cidr_ok) {
			pv->first.s_addr = htonl(ntohl(sp_net_addr(&pv->cidr).s_addr) + 1);
			pv->last.s_addr = htonl(ntohl(sp_bcast_addr(&pv->cidr).s_addr) - 1);
			pv->range_ok = !sp_setting(&pv->o, "range");
		}
		return;
	}
	if (vxc_cfg_length(r) != 2) {
		sp_err(sp, &pv->o, "range", "must hold exactly two addresses, the first and the "
		       "last: range = [ \"203.0.113.10\", \"203.0.113.99\" ]");
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		const struct vxc_cfg_node *s = vxc_cfg_elem(r, i);

		sp_elem_obj(&e[i], &pv->o, s, "range", i);
		if (vxc_cfg_type(s) != VXC_CFG_STRING) {
			sp_err(sp, &e[i], NULL, "must be a string, not %s", sp_have_name(s));
			ok = false;
		} else if (!sp_parse_addr(sp, &e[i], NULL, vxc_cfg_string(s),
				       i ? &pv->last : &pv->first)) {
			ok = false;
		}
	}
	pv->range_ok = ok;
}

static void parse_provider(struct sp *sp, const struct sp_obj *root)
{
	const struct vxc_cfg_node *cs = sp_member(root, "provider", SP_GROUP);
	struct sp_provider *pv;

	if (!cs)
		return;
	pv = sp->prov = vxc_xcalloc(1, sizeof(*sp->prov));
	sp_child_obj(&pv->o, root, cs, "provider");
	pv->o.parsed = true;
	sp_check_keys(sp, &pv->o, "the provider", provider_keys);
	pv->bridge_ok = sp_get_ifname(sp, &pv->o, "bridge", &pv->bridge);
	sp_get_ifname(sp, &pv->o, "uplink", &pv->uplink);
	pv->cidr_ok = sp_get_prefix(sp, &pv->o, "cidr", &pv->cidr);
	pv->gateway_ok = sp_get_addr(sp, &pv->o, "gateway", &pv->gateway);
	parse_range(sp, pv);
	sp_get_uint(sp, &pv->o, "mtu", SP_MTU_MIN, SP_MTU_MAX, 1500, &pv->mtu);
}

/* ---- networks ------------------------------------------------------- */

static const struct sp_key network_keys[] = {
	{ "name", SP_STR, true, "name = \"private\";" },
	{ "vni", SP_INT, true, "vni = 100;" },
	{ "cidr", SP_STR, true, "cidr = \"192.168.100.0/24\";" },
	{ "gateway", SP_STR, false, NULL },
	{ "mtu", SP_INT, false, NULL },
	{ "dhcp", SP_BOOL, false, NULL },
	{ "dns", SP_STRS, false, NULL },
	{ NULL, 0, false, NULL },
};

/* DNS servers handed to DHCP clients: an array of IPv4 addresses. */
static void parse_dns(struct sp *sp, struct sp_network *n)
{
	const struct vxc_cfg_node *l = sp_member(&n->o, "dns", SP_STRS);

	n->n_dns = l ? (size_t)vxc_cfg_length(l) : 0;
	if (!n->n_dns)
		return;
	n->dns = vxc_xcalloc(n->n_dns, sizeof(*n->dns));
	for (size_t i = 0; i < n->n_dns; i++) {
		const struct vxc_cfg_node *e = vxc_cfg_elem(l, (unsigned)i);
		struct sp_obj eo;

		sp_elem_obj(&eo, &n->o, e, "dns", i);
		if (vxc_cfg_type(e) != VXC_CFG_STRING)
			sp_err(sp, &eo, NULL, "must be an IPv4 address in quotes, not %s",
			       sp_have_name(e));
		else
			sp_parse_addr(sp, &eo, NULL, vxc_cfg_string(e), &n->dns[i]);
	}
}

static void parse_network(struct sp *sp, void *p)
{
	struct sp_network *n = p;
	unsigned vni;

	sp_check_keys(sp, &n->o, "network", network_keys);
	sp_get_name(sp, &n->o, &net_rule);
	n->router = -1;
	n->vni_ok = sp_get_uint(sp, &n->o, "vni", 1, SP_VNI_MAX, 0, &vni) && vni;
	n->vni = vni;
	n->cidr_ok = sp_get_prefix(sp, &n->o, "cidr", &n->cidr);
	if (sp_setting(&n->o, "gateway")) {
		n->gateway_ok = sp_get_addr(sp, &n->o, "gateway", &n->gateway);
	} else if (n->cidr_ok) {
		/* the usual convention: the first host address */
		n->gateway.s_addr = htonl(ntohl(n->cidr.addr.s_addr) + 1);
		n->gateway_ok = true;
	}
	n->mtu_given = sp_setting(&n->o, "mtu") != NULL;
	sp_get_uint(sp, &n->o, "mtu", SP_MTU_MIN, SP_MTU_MAX, 0, &n->mtu);
	n->dhcp = sp_get_bool(&n->o, "dhcp", false);
	parse_dns(sp, n);
}

/* ---- routers -------------------------------------------------------- */

static const struct sp_key router_keys[] = {
	{ "name", SP_STR, true, "name = \"r1\";" },
	{ "host", SP_STR, false, NULL },
	{ "hosts", SP_STRS, false, NULL },
	{ "ha", SP_GROUP, false, NULL },
	{ "external", SP_STR, true, "external = \"203.0.113.4\";" },
	{ "networks", SP_STRS, false, NULL },
	{ "snat", SP_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_router_nets(struct sp *sp, struct sp_router *r)
{
	const struct vxc_cfg_node *l = sp_member(&r->o, "networks", SP_STRS);

	r->n_nets = l ? (size_t)vxc_cfg_length(l) : 0;
	if (!r->n_nets)
		return;
	r->nets = vxc_xcalloc(r->n_nets, sizeof(*r->nets));
	for (size_t i = 0; i < r->n_nets; i++) {
		const struct vxc_cfg_node *e = vxc_cfg_elem(l, (unsigned)i);
		struct sp_ref *ref = &r->nets[i];

		sp_elem_obj(&ref->at, &r->o, e, "networks", i);
		ref->idx = -1;
		if (vxc_cfg_type(e) == VXC_CFG_STRING)
			ref->at.name = vxc_cfg_string(e);
		else
			sp_err(sp, &ref->at, NULL, "must be a network name in quotes, not %s",
			       sp_have_name(e));
	}
}

static void parse_router(struct sp *sp, void *p)
{
	struct sp_router *r = p;

	sp_check_keys(sp, &r->o, "router", router_keys);
	sp_get_name(sp, &r->o, &router_rule);
	sp_parse_placement(sp, &r->o, "router", &r->host, &r->ha);
	r->external_ok = sp_get_addr(sp, &r->o, "external", &r->external);
	parse_router_nets(sp, r);
	r->snat = sp_get_bool(&r->o, "snat", true);
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
	{ "environment", SP_STRS, false, NULL },
	{ "cpus", SP_INT, false, NULL },
	{ "memory", SP_INT, false, NULL },
	{ "mac", SP_STR, false, NULL },
	{ "kernel", SP_STR, false, NULL },
	{ "initrd", SP_STR, false, NULL },
	{ "cmdline", SP_STR, false, NULL },
	{ "allow_restart", SP_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

/* What every compute driver can run and record: see VXC_PROGRAM_MAX. */
static bool program_name_ok(struct sp *sp, const struct sp_obj *eo, const char *s)
{
	size_t n = strlen(s);

	if (!n) {
		sp_err(sp, eo, NULL, "the program name is empty; give the program to run, e.g. "
		       "command = [ \"httpd\", \"-f\" ]");
		return false;
	}
	if (n > VXC_PROGRAM_MAX) {
		sp_err(sp, eo, NULL, "the program name is %zu bytes; at most %d", n,
		       VXC_PROGRAM_MAX);
		return false;
	}
	for (const char *c = s; *c; c++)
		if (!isgraph((unsigned char)*c)) {
			sp_err(sp, eo, NULL, "the program name holds a %s at byte %zu; put "
			       "arguments in the next elements: [ \"prog\", \"arg\" ]",
			       *c == ' ' ? "blank" : "control character", (size_t)(c - s) + 1);
			return false;
		}
	return true;
}

/* A list of strings (command, environment) as a NULL-terminated array;
 * NULL when absent or when an element is not a string. */
static const char **parse_strings(struct sp *sp, struct sp_instance *in, const char *key,
				  const char *empty_hint)
{
	const struct vxc_cfg_node *l = sp_member(&in->o, key, SP_STRS);
	size_t n = l ? (size_t)vxc_cfg_length(l) : 0;
	const char **v;
	bool ok = true;

	if (!l)
		return NULL;
	if (!n) {
		sp_err(sp, &in->o, key, "is empty; %s", empty_hint);
		return NULL;
	}
	v = vxc_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct vxc_cfg_node *e = vxc_cfg_elem(l, (unsigned)i);
		struct sp_obj eo;

		if (vxc_cfg_type(e) == VXC_CFG_STRING) {
			v[i] = vxc_cfg_string(e);
			continue;
		}
		sp_elem_obj(&eo, &in->o, e, key, i);
		sp_err(sp, &eo, NULL, "must be a string, not %s", sp_have_name(e));
		ok = false;
	}
	if (!ok) {
		free(v);
		v = NULL;
	}
	return v;
}

/* The length of NAME in "NAME=value" when NAME is a portable variable
 * name ([A-Za-z_][A-Za-z0-9_]*), 0 otherwise. */
static size_t env_name_len(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

	return n && !isdigit((unsigned char)s[0]) && s[n] == '=' ? n : 0;
}

struct env_name {
	const char *s;
	size_t len, idx;
};

static int cmp_env_name(const void *a, const void *b)
{
	const struct env_name *x = a, *y = b;
	int c = strncmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* environment = [ "NAME=value", ... ]: names valid and each given once
 * (duplicates found by sorting: the check stays linear-logarithmic). */
static void parse_environment(struct sp *sp, struct sp_instance *in)
{
	const struct vxc_cfg_node *l = sp_member(&in->o, "environment", SP_STRS);
	struct env_name *names = NULL;
	size_t n_names = 0, cnt = 0;
	bool ok = true;

	in->environment = parse_strings(sp, in, "environment",
					"leave it out for the image's own environment");
	while (in->environment && in->environment[cnt])
		cnt++;
	if (cnt)
		names = vxc_xcalloc(cnt, sizeof(*names));
	for (size_t i = 0; i < cnt; i++) {
		const char *e = in->environment[i];
		size_t n = env_name_len(e);
		struct sp_obj eo;

		if (n) {
			names[n_names++] = (struct env_name){ e, n, i };
			continue;
		}
		sp_elem_obj(&eo, &in->o, vxc_cfg_elem(l, (unsigned)i), "environment", i);
		sp_err(sp, &eo, NULL, "\"%s\" is not NAME=value with NAME of letters, digits "
		       "and '_', not starting with a digit", e);
		ok = false;
	}
	if (n_names > 1)
		qsort(names, n_names, sizeof(*names), cmp_env_name);
	for (size_t i = 1; i < n_names; i++) {
		const struct env_name *a = &names[i - 1], *b = &names[i];
		struct sp_obj eo;

		if (a->len != b->len || strncmp(a->s, b->s, a->len))
			continue;
		sp_elem_obj(&eo, &in->o, vxc_cfg_elem(l, (unsigned)b->idx), "environment", b->idx);
		sp_err(sp, &eo, NULL, "%.*s is set twice (also environment[%zu])", (int)b->len,
		       b->s, a->idx);
		ok = false;
	}
	free(names);
	if (!ok) {
		free(in->environment);
		in->environment = NULL;
	}
}

/* An image reference goes to a container engine or a VM definition: no
 * blanks or control characters. */
static void get_image(struct sp *sp, struct sp_instance *in)
{
	const char *s = sp_get_str(&in->o, "image");
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

	sp_check_keys(sp, &in->o, "instance", instance_keys);
	sp_get_name(sp, &in->o, &inst_rule);
	in->kind = sp_get_enum(sp, &in->o, "kind", kinds, VXC_ARRAY_SIZE(kinds), 0);
	sp_get_ref(&in->o, "host", &in->host);
	sp_get_ref(&in->o, "network", &in->net);
	in->addr_ok = sp_get_addr(sp, &in->o, "address", &in->addr);
	get_image(sp, in);
	in->command = parse_strings(sp, in, "command",
				    "leave it out to run the image's default");
	if (in->command) {
		struct sp_obj eo;

		sp_elem_obj(&eo, &in->o, vxc_cfg_elem(sp_setting(&in->o, "command"), 0), "command",
			    0);
		if (!program_name_ok(sp, &eo, in->command[0])) {
			free(in->command);
			in->command = NULL;
		}
	}
	parse_environment(sp, in);
	sp_get_uint(sp, &in->o, "cpus", 1, 1024, 0, &in->cpus);
	sp_get_uint(sp, &in->o, "memory", 16, 16 * 1024 * 1024, 0, &in->memory_mb);
	in->mac_given = sp_setting(&in->o, "mac") != NULL;
	in->mac_ok = sp_get_mac(sp, &in->o, "mac", &in->mac);
	in->kernel = sp_get_str(&in->o, "kernel");
	in->initrd = sp_get_str(&in->o, "initrd");
	in->cmdline = sp_get_str(&in->o, "cmdline");
	in->allow_restart = sp_get_bool(&in->o, "allow_restart", false);
}

/* ---- load balancers ------------------------------------------------- */

static const struct sp_key member_keys[] = {
	{ "address", SP_STR, true, "address = \"192.168.100.6\";" },
	{ "port", SP_INT, true, "port = 8080;" },
	{ "weight", SP_INT, false, NULL },
	{ "enabled", SP_BOOL, false, NULL },
	{ NULL, 0, false, NULL },
};

static void parse_member(struct sp *sp, void *p)
{
	struct sp_member *m = p;
	unsigned port;
	bool ok;

	sp_check_keys(sp, &m->o, "member", member_keys);
	ok = sp_get_addr(sp, &m->o, "address", &m->m.addr);
	ok = sp_get_uint(sp, &m->o, "port", 1, 65535, 0, &port) && port && ok;
	m->m.port = (uint16_t)port;
	sp_get_uint(sp, &m->o, "weight", 0, 256, 1, &m->m.weight);
	m->enabled = sp_get_bool(&m->o, "enabled", true);
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
	{ "http_status", SP_INT, false, NULL },
	{ NULL, 0, false, NULL },
};

#define SP_MS_MAX (24LL * 3600 * 1000)

static void parse_timeouts(struct sp *sp, struct sp_listener *ls)
{
	struct vxc_lb_listener *l = &ls->l;
	struct sp_obj t;

	l->timeout_connect_ms = 5000;
	l->timeout_client_ms = l->timeout_server_ms = 50000;
	sp_child_obj(&t, &ls->o, sp_member(&ls->o, "timeouts", SP_GROUP), "timeouts");
	if (!t.cs)
		return;
	sp_check_keys(sp, &t, "timeouts", timeout_keys);
	sp_get_uint(sp, &t, "connect", 1, SP_MS_MAX, 5000, &l->timeout_connect_ms);
	sp_get_uint(sp, &t, "client", 1, SP_MS_MAX, 50000, &l->timeout_client_ms);
	sp_get_uint(sp, &t, "server", 1, SP_MS_MAX, 50000, &l->timeout_server_ms);
}

/* The path goes into the LB's own configuration file: one printable token
 * that cannot start a comment, quote or escape there. */
static void get_http_path(struct sp *sp, const struct sp_obj *h, struct vxc_lb_health *hl)
{
	const char *s = sp_get_str(h, "http_path");
	bool good = s && s[0] == '/' && strlen(s) < 256;

	for (const char *c = s; good && *c; c++)
		good = isgraph((unsigned char)*c) && !strchr("#\"'\\", *c);
	if (s && !good)
		sp_err(sp, h, "http_path", "\"%s\" is not a usable HTTP path: it must start with "
		       "'/' and hold no blanks, control characters, '#', quotes or '\\'", s);
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
	sp_child_obj(&h, &ls->o, sp_member(&ls->o, "health", SP_GROUP), "health");
	if (!h.cs)
		return;
	hl->enabled = 1;
	sp_check_keys(sp, &h, "health", health_keys);
	sp_get_uint(sp, &h, "interval", 100, 3600000, 2000, &hl->interval_ms);
	sp_get_uint(sp, &h, "timeout", 1, 3600000, 1000, &hl->timeout_ms);
	sp_get_uint(sp, &h, "rise", 1, 100, 2, &hl->rise);
	sp_get_uint(sp, &h, "fall", 1, 100, 3, &hl->fall);
	get_http_path(sp, &h, hl);
	sp_get_uint(sp, &h, "http_status", 100, 599, 0, &ls->http_status);
	if (ls->http_status && !sp_get_str(&h, "http_path"))
		sp_err(sp, &h, "http_status", "http_status is the answer an HTTP check expects: "
		       "give http_path too, e.g. http_path = \"/\";");
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
		[VXC_LB_UDP] = "udp",
	};
	static const char *const algorithms[] = {
		[VXC_LB_ROUNDROBIN] = "roundrobin",
		[VXC_LB_LEASTCONN] = "leastconn",
		[VXC_LB_SOURCE] = "source",
		[VXC_LB_RR] = "rr",
		[VXC_LB_LC] = "lc",
	};
	struct sp_listener *ls = p;
	struct vxc_lb_listener *l = &ls->l;
	unsigned port;

	sp_check_keys(sp, &ls->o, "listener", listener_keys);
	l->protocol = sp_get_enum(sp, &ls->o, "protocol", protocols, VXC_ARRAY_SIZE(protocols),
			       VXC_LB_TCP);
	ls->port_ok = sp_get_uint(sp, &ls->o, "port", 1, 65535, 0, &port) && port;
	l->port = (uint16_t)port;
	l->algorithm = sp_get_enum(sp, &ls->o, "algorithm", algorithms, VXC_ARRAY_SIZE(algorithms),
				VXC_LB_ROUNDROBIN);
	sp_get_uint(sp, &ls->o, "maxconn", 1, 1000000, 2000, &l->maxconn);
	sp_get_uint(sp, &ls->o, "retries", 0, 100, 3, &l->retries);
	parse_timeouts(sp, ls);
	parse_health(sp, ls);
	ls->members = sp_parse_list(sp, &ls->o, "members", sizeof(*ls->members), &ls->n_members,
				 parse_member);
}

static const struct sp_key lb_keys[] = {
	{ "name", SP_STR, true, "name = \"web\";" },
	{ "host", SP_STR, false, NULL },
	{ "hosts", SP_STRS, false, NULL },
	{ "ha", SP_GROUP, false, NULL },
	{ "network", SP_STR, true, "network = \"private\";" },
	{ "vip", SP_STR, true, "vip = \"192.168.100.8\";" },
	{ "floating_ip", SP_STR, false, NULL },
	{ "listeners", SP_LIST, true, "listeners = ( { port = 80; members = ( ... ); } );" },
	{ NULL, 0, false, NULL },
};

static void parse_lb(struct sp *sp, void *p)
{
	struct sp_lb *lb = p;

	sp_check_keys(sp, &lb->o, "load balancer", lb_keys);
	sp_get_name(sp, &lb->o, &lb_rule);
	sp_parse_placement(sp, &lb->o, "load balancer", &lb->host, &lb->ha);
	sp_get_ref(&lb->o, "network", &lb->net);
	lb->vip_ok = sp_get_addr(sp, &lb->o, "vip", &lb->vip);
	lb->has_fip = sp_setting(&lb->o, "floating_ip") != NULL;
	lb->ls = sp_parse_list(sp, &lb->o, "listeners", sizeof(*lb->ls), &lb->n_ls, parse_listener);
	if (!lb->n_ls && sp_member(&lb->o, "listeners", SP_LIST))
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

	sp_check_keys(sp, &f->o, "floating IP", fip_keys);
	f->addr_key = "address";
	f->addr_ok = sp_get_addr(sp, &f->o, "address", &f->addr);
	sp_get_ref(&f->o, "router", &f->router);
	sp_get_ref(&f->o, "target", &f->target);
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
		f->addr_ok = sp_get_addr(sp, &lb->o, "floating_ip", &f->addr);
		sp_get_ref(&lb->o, "floating_ip", &f->router);
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

void sp_parse(struct sp *sp, const struct vxc_cfg_node *root)
{
	struct sp_obj r = { .cs = root };

	sp_check_keys(sp, &r, "spec", root_keys);
	sp->hosts = sp_parse_list(sp, &r, "hosts", sizeof(*sp->hosts), &sp->n_hosts, parse_host);
	if (!sp->n_hosts && sp_member(&r, "hosts", SP_LIST))
		sp_err(sp, &r, "hosts", "the spec has no host; add at least one");
	parse_provider(sp, &r);
	sp->nets = sp_parse_list(sp, &r, "networks", sizeof(*sp->nets), &sp->n_nets, parse_network);
	sp->routers = sp_parse_list(sp, &r, "routers", sizeof(*sp->routers), &sp->n_routers,
				 parse_router);
	sp->insts = sp_parse_list(sp, &r, "instances", sizeof(*sp->insts), &sp->n_insts,
			       parse_instance);
	sp->lbs = sp_parse_list(sp, &r, "load_balancers", sizeof(*sp->lbs), &sp->n_lbs, parse_lb);
	sp->fips = sp_parse_list(sp, &r, "floating_ips", sizeof(*sp->fips), &sp->n_fips, parse_fip);
	add_lb_fips(sp);
}
