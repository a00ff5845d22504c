/* The planner: which networks, fdb entries, routers, instances and load
 * balancers each host gets, for the seed and for a three-host cloud with
 * several networks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tap.h"
#include "util.h"

static void show(const struct vxc_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		printf("#   %s\n", d->msgs[i]);
}

static struct vxc_plan *plan_for(const struct vxc_spec *s, const char *host)
{
	struct vxc_plan *p;
	struct vxc_diag d;

	vxc_diag_init(&d);
	ok(vxc_plan_build(s, host, &p, &d) == 0 && p && p->self == vxc_spec_host(s, host),
	   "plan for %s", host);
	show(&d);
	vxc_diag_free(&d);
	return p;
}

static const struct vxc_plan_network *plan_net(const struct vxc_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_networks; i++)
		if (!strcmp(p->networks[i].net->name, name))
			return &p->networks[i];
	return NULL;
}

/* "n1,n2" against the plan's networks, in order. */
static void expect_networks(const struct vxc_plan *p, const char *want)
{
	char got[256] = "";

	for (size_t i = 0; i < p->n_networks; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 p->networks[i].net->name);
	is_str(got, want, "%s holds networks %s", p->self->name, want);
}

static void expect_names(const char *what, const struct vxc_plan *p, const char *got,
			 const char *want)
{
	is_str(got, want, "%s has %s %s", p->self->name, what, want);
}

static const char *join_objs(char *buf, size_t n, const void *const *objs, size_t count,
			     const char *(*name)(const void *))
{
	buf[0] = '\0';
	for (size_t i = 0; i < count; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? "," : "", name(objs[i]));
	return buf;
}

static const char *router_name(const void *o)
{
	return ((const struct vxc_router *)o)->name;
}

static const char *inst_name(const void *o)
{
	return ((const struct vxc_instance *)o)->name;
}

static const char *lb_name(const void *o)
{
	return ((const struct vxc_lb *)o)->name;
}

static void expect_objects(const struct vxc_plan *p, const char *routers, const char *insts,
			   const char *lbs)
{
	char buf[256];

	expect_names("routers", p, join_objs(buf, sizeof(buf), (const void *const *)p->routers,
					      p->n_routers, router_name), routers);
	expect_names("instances", p, join_objs(buf, sizeof(buf), (const void *const *)p->instances,
						p->n_instances, inst_name), insts);
	expect_names("load balancers", p, join_objs(buf, sizeof(buf), (const void *const *)p->lbs,
						     p->n_lbs, lb_name), lbs);
}

/* The port of owner on network net. */
static const struct vxc_port *port_of(const struct vxc_spec *s, const char *owner,
				      const char *net)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (!strcmp(s->ports[i].owner, owner) && !strcmp(s->ports[i].network->name, net))
			return &s->ports[i];
	return NULL;
}

static bool fdb_eq(const struct vxc_fdb_entry *a, const struct vxc_fdb_entry *b)
{
	return !memcmp(&a->mac, &b->mac, sizeof(a->mac)) && a->remote.s_addr == b->remote.s_addr &&
	       a->addr.s_addr == b->addr.s_addr;
}

static bool fdb_less(const struct vxc_fdb_entry *a, const struct vxc_fdb_entry *b)
{
	int c = memcmp(&a->mac, &b->mac, sizeof(a->mac));

	if (c)
		return c < 0;
	if (a->remote.s_addr != b->remote.s_addr)
		return ntohl(a->remote.s_addr) < ntohl(b->remote.s_addr);
	return ntohl(a->addr.s_addr) < ntohl(b->addr.s_addr);
}

/* want: space-separated "flood:HOST" (flood toward that host's tunnel) and
 * "OWNER" (unicast entry for OWNER's port on this network). The fdb must
 * hold exactly these, sorted, flood entries first, no duplicates. */
static void expect_fdb(const struct vxc_spec *s, const struct vxc_plan *p, const char *net,
		       const char *want)
{
	const struct vxc_plan_network *pn = plan_net(p, net);
	struct vxc_fdb_entry exp[32];
	char *list = vxc_xstrdup(want), *save = NULL;
	size_t n = 0, found = 0;
	bool sorted = true, flood_first = true, seen_unicast = false;
	static const struct vxc_mac zero;

	for (char *t = strtok_r(list, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save)) {
		struct vxc_fdb_entry *e = &exp[n++];

		memset(e, 0, sizeof(*e));
		if (!strncmp(t, "flood:", 6)) {
			e->remote = vxc_spec_host(s, t + 6)->tunnel;
		} else {
			char *nb = strstr(t, "@none"); /* a neighbour only */
			const struct vxc_port *port;

			if (nb)
				*nb = '\0';
			port = port_of(s, t, net);
			e->mac = port->mac;
			e->remote = nb ? (struct in_addr){ 0 } : port->host->tunnel;
			e->addr = port->addr;
		}
	}
	free(list);
	if (!pn) {
		ok(0, "%s: no network %s in the plan", p->self->name, net);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < pn->n_fdb; j++)
			if (fdb_eq(&exp[i], &pn->fdb[j])) {
				found++;
				break;
			}
	for (size_t j = 0; j < pn->n_fdb; j++) {
		bool flood = !memcmp(&pn->fdb[j].mac, &zero, sizeof(zero));

		if (j && !fdb_less(&pn->fdb[j - 1], &pn->fdb[j]))
			sorted = false;
		if (flood && seen_unicast)
			flood_first = false;
		seen_unicast |= !flood;
		if (flood && pn->fdb[j].addr.s_addr)
			flood_first = false;
	}
	ok(found == n && pn->n_fdb == n && sorted && flood_first,
	   "%s: fdb of %s is exactly [%s], sorted, flood first", p->self->name, net, want);
	if (found != n || pn->n_fdb != n)
		for (size_t j = 0; j < pn->n_fdb; j++) {
			char mac[VXC_MACSTR], r[VXC_IPSTR], a[VXC_IPSTR];

			printf("#   got %s %s %s\n", vxc_mac_str(&pn->fdb[j].mac, mac),
			       vxc_ip_str(pn->fdb[j].remote, r), vxc_ip_str(pn->fdb[j].addr, a));
		}
}

static struct vxc_spec *load(const char *path_or_text, bool file)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	int r;

	vxc_diag_init(&d);
	r = file ? vxc_spec_load_file(path_or_text, &s, &d)
		 : vxc_spec_load_buffer(path_or_text, "three.conf", &s, &d);
	ok(r == 0, "spec %s loads", file ? path_or_text : "three.conf");
	show(&d);
	vxc_diag_free(&d);
	return s;
}

static void test_seed(void)
{
	struct vxc_spec *s = load(VXC_EXAMPLES "/seed.conf", true);
	struct vxc_plan *p;

	if (!s)
		return;
	p = plan_for(s, "net127");
	ok(p->provider == s->provider, "net127 gets the provider");
	expect_networks(p, "private");
	expect_fdb(s, p, "private", "flood:compute1 flood:compute2 web1 web2");
	expect_objects(p, "router", "", "web");
	vxc_plan_free(p);

	p = plan_for(s, "compute1");
	ok(p->provider == s->provider, "compute1 gets the provider");
	expect_networks(p, "private");
	expect_fdb(s, p, "private", "flood:net127 flood:compute2 web2 web router");
	expect_objects(p, "", "web1", "");
	vxc_plan_free(p);

	p = plan_for(s, "compute2");
	expect_networks(p, "private");
	expect_fdb(s, p, "private", "flood:net127 flood:compute1 web1 web router");
	expect_objects(p, "", "web2", "");
	vxc_plan_free(p);
	vxc_spec_free(s);
}

/* a, b, c; x spans all three, y is on b (instance), a (LB) and c (router),
 * z only on a, w nowhere. */
static const char three[] =
	"hosts = ( { name = \"a\"; tunnel = \"192.0.2.1\"; },\n"
	"  { name = \"b\"; tunnel = \"192.0.2.2\"; }, { name = \"c\"; tunnel = \"192.0.2.3\"; } );\n"
	"provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n"
	"networks = ( { name = \"x\"; vni = 1; cidr = \"10.1.0.0/24\"; },\n"
	"  { name = \"y\"; vni = 2; cidr = \"10.2.0.0/24\"; },\n"
	"  { name = \"z\"; vni = 3; cidr = \"10.3.0.0/24\"; },\n"
	"  { name = \"w\"; vni = 4; cidr = \"10.4.0.0/24\"; } );\n"
	"routers = ( { name = \"r\"; host = \"c\"; external = \"203.0.113.2\"; networks = [ \"x\", \"y\" ]; } );\n"
	"instances = (\n"
	"  { name = \"x1\"; kind = \"container\"; host = \"a\"; network = \"x\"; address = \"10.1.0.11\"; },\n"
	"  { name = \"x2\"; kind = \"container\"; host = \"b\"; network = \"x\"; address = \"10.1.0.12\"; },\n"
	"  { name = \"x3\"; kind = \"vm\"; host = \"b\"; network = \"x\"; address = \"10.1.0.13\"; },\n"
	"  { name = \"y1\"; kind = \"container\"; host = \"b\"; network = \"y\"; address = \"10.2.0.11\"; },\n"
	"  { name = \"z1\"; kind = \"container\"; host = \"a\"; network = \"z\"; address = \"10.3.0.11\"; },\n"
	"  { name = \"z2\"; kind = \"container\"; host = \"a\"; network = \"z\"; address = \"10.3.0.12\"; } );\n"
	"load_balancers = ( { name = \"lb\"; host = \"a\"; network = \"y\"; vip = \"10.2.0.8\";\n"
	"  listeners = ( { port = 80; members = ( { address = \"10.2.0.11\"; port = 80; } ); } ); } );\n";

static void test_three_hosts(void)
{
	struct vxc_spec *s = load(three, false);
	struct vxc_plan *p;
	struct vxc_diag d;

	if (!s)
		return;
	p = plan_for(s, "a");
	expect_networks(p, "x,y,z");
	expect_fdb(s, p, "x", "flood:b flood:c x2 x3 r");
	expect_fdb(s, p, "y", "flood:b flood:c y1 r");
	expect_fdb(s, p, "z", "");
	expect_objects(p, "", "x1,z1,z2", "lb");
	vxc_plan_free(p);

	p = plan_for(s, "b");
	expect_networks(p, "x,y");
	expect_fdb(s, p, "x", "flood:a flood:c x1 r");
	expect_fdb(s, p, "y", "flood:a flood:c lb r");
	expect_objects(p, "", "x2,x3,y1", "");
	vxc_plan_free(p);

	p = plan_for(s, "c");
	ok(p->provider == s->provider, "c gets the provider");
	expect_networks(p, "x,y");
	expect_fdb(s, p, "x", "flood:a flood:b x1 x2 x3");
	expect_fdb(s, p, "y", "flood:a flood:b y1 lb");
	expect_objects(p, "r", "", "");
	vxc_plan_free(p);

	vxc_diag_init(&d);
	p = (struct vxc_plan *)1;
	ok(vxc_plan_build(s, "d", &p, &d) == -ENOENT && !p && d.n == 1 &&
	   strstr(d.msgs[0], "host \"d\" is not in the spec"), "unknown host: -ENOENT with a message");
	show(&d);
	vxc_diag_free(&d);
	vxc_spec_free(s);
}

/* No provider: plans carry none. */
static void test_no_provider(void)
{
	struct vxc_spec *s = load("hosts = ( { name = \"a\"; tunnel = \"192.0.2.1\"; } );\n", false);
	struct vxc_plan *p = s ? plan_for(s, "a") : NULL;

	ok(p && !p->provider && !p->n_networks && !p->n_routers, "an empty host plan");
	vxc_plan_free(p);
	vxc_spec_free(s);
}

/* A router with copies on a and b, an instance on c: c's VTEP has no
 * forwarding entry for the router port's MAC (it floods it to both
 * copies), only its neighbour (remote 0.0.0.0); the copies hold the router
 * and need none for their own port. */
static void test_ha_router(void)
{
	struct vxc_spec *s = load(
		"hosts = ( { name = \"a\"; tunnel = \"192.0.2.1\"; },\n"
		"  { name = \"b\"; tunnel = \"192.0.2.2\"; }, { name = \"c\"; tunnel = \"192.0.2.3\"; } );\n"
		"provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n"
		"networks = ( { name = \"x\"; vni = 1; cidr = \"10.1.0.0/24\"; } );\n"
		"routers = ( { name = \"r\"; hosts = [ \"a\", \"b\" ]; external = \"203.0.113.2\";\n"
		"  networks = [ \"x\" ]; } );\n"
		"instances = ( { name = \"x1\"; kind = \"container\"; host = \"c\"; network = \"x\";\n"
		"  address = \"10.1.0.11\"; } );\n", false);
	struct vxc_plan *p;

	if (!s)
		return;
	ok(s->routers[0].ha && s->routers[0].ha->n_hosts == 2 && s->routers[0].ha->vrid == 1 &&
	   s->routers[0].host == vxc_spec_host(s, "a"), "r: two copies, vrid 1, host a");
	p = plan_for(s, "a");
	expect_networks(p, "x");
	expect_fdb(s, p, "x", "flood:b flood:c x1");
	expect_objects(p, "r", "", "");
	vxc_plan_free(p);
	p = plan_for(s, "b");
	expect_networks(p, "x");
	expect_fdb(s, p, "x", "flood:a flood:c x1");
	expect_objects(p, "r", "", "");
	vxc_plan_free(p);
	p = plan_for(s, "c");
	expect_fdb(s, p, "x", "flood:a flood:b r@none");
	expect_objects(p, "", "x1", "");
	vxc_plan_free(p);
	vxc_spec_free(s);
}

/* A balancer with copies on a and b, its router and members on c: both
 * copies hold the balancer and the network; c floods the VIP port's MAC to
 * both (a neighbour only, no fdb entry); a and b have the router's and the
 * members' entries but none for their own shared VIP port. */
static void test_ha_lb(void)
{
	struct vxc_spec *s = load(
		"hosts = ( { name = \"a\"; tunnel = \"192.0.2.1\"; },\n"
		"  { name = \"b\"; tunnel = \"192.0.2.2\"; }, { name = \"c\"; tunnel = \"192.0.2.3\"; } );\n"
		"provider = { bridge = \"brp\"; cidr = \"203.0.113.0/24\"; gateway = \"203.0.113.1\"; };\n"
		"networks = ( { name = \"x\"; vni = 1; cidr = \"10.1.0.0/24\"; } );\n"
		"routers = ( { name = \"r\"; host = \"c\"; external = \"203.0.113.2\";\n"
		"  networks = [ \"x\" ]; } );\n"
		"instances = ( { name = \"x1\"; kind = \"container\"; host = \"c\"; network = \"x\";\n"
		"  address = \"10.1.0.11\"; } );\n"
		"load_balancers = ( { name = \"lb\"; hosts = [ \"b\", \"a\" ]; network = \"x\";\n"
		"  vip = \"10.1.0.8\"; listeners = ( { port = 80; members = (\n"
		"  { address = \"10.1.0.11\"; port = 8080; } ); } ); } );\n", false);
	struct vxc_plan *p;

	if (!s)
		return;
	ok(s->lbs[0].ha && s->lbs[0].ha->n_hosts == 2 && s->lbs[0].ha->vrid == 1 &&
	   s->lbs[0].host == vxc_spec_host(s, "b"), "lb: two copies, vrid 1, host b");
	p = plan_for(s, "a");
	expect_networks(p, "x");
	expect_fdb(s, p, "x", "flood:b flood:c r x1");
	expect_objects(p, "", "", "lb");
	vxc_plan_free(p);
	p = plan_for(s, "b");
	expect_fdb(s, p, "x", "flood:a flood:c r x1");
	expect_objects(p, "", "", "lb");
	vxc_plan_free(p);
	p = plan_for(s, "c");
	expect_fdb(s, p, "x", "flood:a flood:b lb@none");
	expect_objects(p, "r", "x1", "");
	vxc_plan_free(p);
	vxc_spec_free(s);
}

int main(void)
{
	test_seed();
	test_three_hosts();
	test_no_provider();
	test_ha_router();
	test_ha_lb();
	return tap_done();
}
