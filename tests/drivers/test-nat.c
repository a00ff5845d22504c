/* Conformance suite for the NAT vtable, run unchanged against every NAT
 * driver: the only difference between runs is the plugin given as argv[1].
 * Root-only (exit 77 otherwise). Everything happens in namespaces this
 * test makes under its own netns directory (/run/$PREFIX-nat-DRIVER):
 *
 *   client (203.0.113.100) --- gw0 [router vxr-$Pr1] t-net --- switch bridge
 *        external 203.0.113.2, floating IPs as /32 on gw0      |       |
 *                                                      inst1 10.0.0.5  inst2 10.0.0.6
 *
 * The driver's work is checked three ways: the change reports, the state
 * read back from the kernel independently of the driver's code (libnftnl
 * dumps or libiptc), and UDP traffic through the mappings with conntrack
 * read through ctnetlink. Foreign nft tables and iptables rules are made
 * first and must come out untouched. */
#include "config.h"

#include <netinet/in.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "nattest.h"
#include "netns.h"
#include "tap.h"

#define EXT "203.0.113.2"
#define CLIENT "203.0.113.100"
#define F1 "203.0.113.10"
#define F2 "203.0.113.11"
#define I1 "10.0.0.5"
#define I2 "10.0.0.6"

static char prefix[16], top[PATH_MAX], nsdir[PATH_MAX + 8], statedir[PATH_MAX + 8];
static char ns_r[64], ns_c[64], ns_sw[64], ns_i1[64], ns_i2[64], rname[32];

/* ------------------------------------------------------------------ */
/* the driver under test                                                */

struct drv {
	void *dl;
	const struct vxc_plugin *p;
	const struct vxc_nat_ops *ops;
	void *priv;
	vxc_ctx ctx;
	config_t cfg;
};

static struct drv D, O; /* the driver under test, and the other one (swap) */
static char dname[32]; /* outlives the plugin */

#define MAXCH 64
static char changes[MAXCH][256];
static int n_changes;
static int (*on_change_hook)(void);

static void on_change(void *arg, const char *driver, const char *what)
{
	if (n_changes < MAXCH)
		snprintf(changes[n_changes], sizeof(changes[0]), "%s", what);
	n_changes++;
	printf("#   %s: %s\n", driver, what);
	if (on_change_hook) {
		int (*h)(void) = on_change_hook;

		on_change_hook = NULL; /* once per arming */
		h();
	}
}

static int changed(const char *needle)
{
	for (int i = 0; i < n_changes && i < MAXCH; i++)
		if (strstr(changes[i], needle))
			return 1;
	return 0;
}

static int drv_load(struct drv *d, const char *path)
{
	d->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!d->dl) {
		printf("# dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	d->p = dlsym(d->dl, VXC_PLUGIN_SYMBOL_NAME);
	d->ops = d->p ? d->p->ops : NULL;
	return d->p && d->ops ? 0 : -1;
}

/* (Re)opens an instance with the given settings block ("" for defaults). */
static int drv_open(struct drv *d, const char *settings)
{
	int err;

	if (d->priv) {
		d->p->close(d->priv);
		d->priv = NULL;
		vxc_ctx_fini(&d->ctx);
		config_destroy(&d->cfg);
	}
	config_init(&d->cfg);
	if (!config_read_string(&d->cfg, settings))
		return -EINVAL;
	vxc_ctx_init(&d->ctx, d->p, "testhost", nsdir, statedir);
	d->ctx.settings = config_root_setting(&d->cfg);
	d->ctx.sink.report = on_change;
	err = d->p->open(&d->ctx, vxc_services(), &d->priv);
	return err;
}

static void drv_close(struct drv *d)
{
	if (d->priv)
		d->p->close(d->priv);
	if (d->p) {
		vxc_ctx_fini(&d->ctx);
		config_destroy(&d->cfg);
	}
	if (d->dl)
		dlclose(d->dl);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------------ */
/* the model                                                            */

#define MAXFIP 1100
static struct vxc_host host = { .name = "testhost" };
static struct vxc_provider prov;
static struct vxc_network net;
static struct vxc_port port;
static const struct vxc_port *ports[1] = { &port };
static struct vxc_router router;
static struct vxc_fip fipv[MAXFIP];
static const struct vxc_fip *fipp[MAXFIP];

static void model_init(void)
{
	snprintf(prov.bridge, sizeof(prov.bridge), "%.8sprov", prefix);
	prov.cidr.addr.s_addr = nt_ip("203.0.113.0");
	prov.cidr.len = 24;
	net.name = "net";
	net.cidr.addr.s_addr = nt_ip("10.0.0.0");
	net.cidr.len = 24;
	net.gateway.s_addr = nt_ip("10.0.0.1");
	net.router = &router;
	port.owner = rname;
	port.owner_kind = VXC_PORT_ROUTER;
	port.network = &net;
	port.host = &host;
	port.addr = net.gateway;
	router.name = rname;
	router.host = &host;
	router.provider = &prov;
	router.external.s_addr = nt_ip(EXT);
	router.snat = 1;
	snprintf(router.netns, sizeof(router.netns), "%s", ns_r);
	snprintf(router.gw_if, sizeof(router.gw_if), "gw0");
	router.ports = ports;
	router.n_ports = 1;
	router.fips = fipp;
}

/* fips as "F=T" strings, NULL-terminated. */
static void set_fips(const char *const *spec)
{
	size_t n = 0;

	for (; spec && spec[n]; n++) {
		char f[32];
		const char *eq = strchr(spec[n], '=');

		snprintf(f, sizeof(f), "%.*s", (int)(eq - spec[n]), spec[n]);
		fipv[n].address.s_addr = nt_ip(f);
		fipv[n].target_addr.s_addr = nt_ip(eq + 1);
		fipv[n].target = "inst";
		fipv[n].target_kind = VXC_TARGET_INSTANCE;
		fipv[n].router = &router;
		fipp[n] = &fipv[n];
	}
	router.n_fips = n;
}

static uint32_t many_fip(size_t i)
{
	return htonl(0x64400000u + (uint32_t)i + 1); /* 100.64.0.x */
}

static uint32_t many_target(size_t i)
{
	return htonl(0x0a010000u + (uint32_t)(i / 250) * 256 + (uint32_t)(i % 250) + 1);
}

static void set_many(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fipv[i].address.s_addr = many_fip(i);
		fipv[i].target_addr.s_addr = many_target(i);
		fipv[i].target = "inst";
		fipv[i].target_kind = VXC_TARGET_INSTANCE;
		fipv[i].router = &router;
		fipp[i] = &fipv[i];
	}
	router.n_fips = n;
}

static int apply_with(struct drv *d, unsigned flags)
{
	int rc;

	n_changes = 0;
	rc = d->ops->router_ensure(d->priv, &router, flags);
	if (rc)
		printf("#   -> %d (%s): %s\n", rc, strerror(-rc),
		       d->ctx.errmsg ? d->ctx.errmsg : "(no message)");
	return rc;
}

static int apply(unsigned flags)
{
	return apply_with(&D, flags);
}

/* The kernel's fip -> target pairs equal the model's. */
static int state_is_model(void)
{
	struct nt_pair *p;
	size_t n;
	int err = nt_read_fips(dname, ns_r, &p, &n), ok = !err && n == router.n_fips;

	for (size_t i = 0; ok && i < router.n_fips; i++) {
		int found = 0;

		for (size_t j = 0; j < n && !found; j++)
			found = p[j].key == fipp[i]->address.s_addr &&
				p[j].val == fipp[i]->target_addr.s_addr;
		ok = found;
	}
	if (!ok)
		printf("#   kernel holds %zu pairs (err %d), model %zu\n", n, err, router.n_fips);
	free(p);
	return ok;
}

/* ------------------------------------------------------------------ */
/* traffic                                                              */

static int s_i1, s_i2, s_cl, s_clflow, s_i1c, s_i2c, s_i2c2, s_i2c3, s_r;

/* Sends a fresh token from sfd to dst:port and waits for it on rfd;
 * from/from_port receive its source as rfd saw it. */
static int probe(int sfd, const char *dst, uint16_t dport, int rfd, char from[16],
		 uint16_t *from_port)
{
	static int seq;
	char msg[32], buf[64];
	int n;

	snprintf(msg, sizeof(msg), "probe-%d", ++seq);
	nt_udp_drain(rfd);
	if (nt_udp_send(sfd, dst, dport, msg) < 0)
		return -EIO;
	do
		n = nt_udp_recv(rfd, buf, sizeof(buf), from, from_port, 2000);
	while (n > 0 && strcmp(buf, msg));
	return n < 0 ? n : 0;
}

/* A request from sfd to dst:dport received on rfd, answered back to its
 * source from rfd, received on sfd: *seen is the source the server saw,
 * *reply_from the source of the answer. */
static int exchange(int sfd, const char *dst, uint16_t dport, int rfd, char seen[16],
		    char reply_from[16])
{
	uint16_t sport;

	if (probe(sfd, dst, dport, rfd, seen, &sport))
		return -1;
	return probe(rfd, seen, sport, sfd, reply_from, NULL);
}

/* ------------------------------------------------------------------ */
/* setup and cleanup                                                    */

/* The drivers' state directories (statedir/DRIVER) and their files. */
static void remove_state(void)
{
	DIR *d = opendir(statedir), *sub;
	struct dirent *de, *f;
	static char p[2 * PATH_MAX], q[3 * PATH_MAX];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", statedir, de->d_name);
		sub = opendir(p);
		while (sub && (f = readdir(sub)))
			if (f->d_name[0] != '.') {
				snprintf(q, sizeof(q), "%s/%s", p, f->d_name);
				unlink(q);
			}
		if (sub)
			closedir(sub);
		rmdir(p);
	}
	if (d)
		closedir(d);
}

static void cleanup(void)
{
	const char *ns[] = { ns_r, ns_c, ns_sw, ns_i1, ns_i2 };
	char p[PATH_MAX + 80];

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		vxc_netns_delete(&nt_ctx, ns[i]);
	snprintf(p, sizeof(p), "%s/vxr-%snone", nsdir, prefix);
	unlink(p);
	while (umount2(nsdir, MNT_DETACH) == 0)
		;
	rmdir(nsdir);
	remove_state();
	rmdir(statedir);
	rmdir(top);
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

static int topology(void)
{
	const char *ports_sw[] = { "p0", "p1", "p2", NULL };
	const char *ns[] = { ns_r, ns_c, ns_sw, ns_i1, ns_i2 };
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(ns) / sizeof(ns[0]); i++)
		err = nt_ns_create(ns[i]);
	if (!err)
		err = nt_veth(ns_r, "gw0", ns_c, "eth0");
	if (!err)
		err = nt_veth(ns_r, "t-net", ns_sw, "p0");
	if (!err)
		err = nt_veth(ns_i1, "eth0", ns_sw, "p1");
	if (!err)
		err = nt_veth(ns_i2, "eth0", ns_sw, "p2");
	if (!err)
		err = nt_bridge(ns_sw, "br0", ports_sw);
	if (!err)
		err = nt_addr(ns_r, "gw0", EXT "/24");
	if (!err)
		err = nt_addr(ns_r, "t-net", "10.0.0.1/24");
	if (!err)
		err = nt_addr(ns_c, "eth0", CLIENT "/24");
	if (!err)
		err = nt_addr(ns_i1, "eth0", I1 "/24");
	if (!err)
		err = nt_addr(ns_i2, "eth0", I2 "/24");
	if (!err)
		err = nt_default_route(ns_i1, "10.0.0.1");
	if (!err)
		err = nt_default_route(ns_i2, "10.0.0.1");
	if (!err)
		err = nt_sysctl(ns_r, "/proc/sys/net/ipv4/ip_forward", "1");
	return err;
}

static int sockets(void)
{
	s_i1 = nt_udp_open(ns_i1, NULL, 7000);
	s_i2 = nt_udp_open(ns_i2, NULL, 7000);
	s_cl = nt_udp_open(ns_c, NULL, 7001);
	s_clflow = nt_udp_open(ns_c, NULL, 7100);
	s_i1c = nt_udp_open(ns_i1, NULL, 7200);
	s_i2c = nt_udp_open(ns_i2, NULL, 7200);
	s_i2c2 = nt_udp_open(ns_i2, NULL, 7201);
	s_i2c3 = nt_udp_open(ns_i2, NULL, 7202);
	s_r = nt_udp_open(ns_r, NULL, 7300);
	return s_i1 < 0 || s_i2 < 0 || s_cl < 0 || s_clflow < 0 || s_i1c < 0 || s_i2c < 0 ||
	       s_i2c2 < 0 || s_i2c3 < 0 || s_r < 0;
}

/* ------------------------------------------------------------------ */
/* the suite                                                            */

static char *foreign0;

static void check_foreign(const char *when)
{
	char *now = nt_foreign_fingerprint(ns_r);

	ok(!strcmp(now, foreign0), "foreign nft table and iptables rules intact %s", when);
	if (strcmp(now, foreign0))
		printf("# before:\n%s# now:\n%s", foreign0, now);
	free(now);
}

static void t_descriptor(void)
{
	ok(D.p->abi_major == VXC_ABI_MAJOR && D.p->size == sizeof(struct vxc_plugin),
	   "%s: ABI %u, descriptor size", dname, D.p->abi_major);
	ok(D.p->concern == VXC_CONCERN_NAT, "concern is NAT");
	ok((D.p->caps & (VXC_CAP_ATOMIC | VXC_CAP_CT_FLUSH)) ==
	   (VXC_CAP_ATOMIC | VXC_CAP_CT_FLUSH), "caps ATOMIC and CT_FLUSH");
	ok(D.ops->size == sizeof(struct vxc_nat_ops) && D.ops->router_ensure && D.ops->list &&
	   D.ops->remove, "all NAT ops present");
	ok(drv_open(&D, "") == 0, "opens with default settings");
	ok(apply(0x80) == -EINVAL, "unknown flag bits are refused");
	ok(D.ops->remove(D.priv, &(struct vxc_owned){ VXC_KIND_LB, rname, ns_r }, 0) == -EINVAL,
	   "remove refuses an object of another kind");
}

static void t_snat(void)
{
	char seen[16] = "", *rules;

	set_fips(NULL);
	ok(apply(VXC_F_DRY_RUN) == 0 && n_changes > 0 && nt_has_objects(dname, ns_r) == 0,
	   "plan (dry run) reports %d changes and creates nothing", n_changes);
	ok(apply(0) == 0, "apply SNAT only");
	ok(changed("SNAT 10.0.0.0/24 out gw0 to " EXT), "reports the SNAT rule");
	ok(nt_has_objects(dname, ns_r) == 1, "the driver's table/chains are there");
	rules = nt_read_rules(dname, ns_r);
	ok(strstr(rules, "SNAT 10.0.0.0/24 out gw0 to " EXT) &&
	   strstr(rules, "hairpin SNAT 10.0.0.0/24 to " EXT), "kernel holds SNAT and hairpin rules");
	free(rules);
	ok(apply(0) == 0 && n_changes == 0, "second apply: no changes reported");
	ok(probe(s_i2c, CLIENT, 7001, s_cl, seen, NULL) == 0 && !strcmp(seen, EXT),
	   "instance reaches the client through SNAT (source seen: %s)", seen);
	check_foreign("after SNAT");
}

static void t_bind(void)
{
	char seen[16] = "", back[16] = "";
	const char *f1[] = { F1 "=" I1, NULL };

	/* The network driver's part: the address on the gateway port. */
	nt_addr(ns_r, "gw0", F1 "/32");
	nt_addr(ns_r, "gw0", F2 "/32");
	set_fips(f1);
	ok(apply(VXC_F_DRY_RUN) == 0 && changed("bind floating IP " F1 " -> " I1) &&
	   state_is_model() == 0, "plan reports the bind and changes nothing");
	ok(apply(0) == 0 && changed("bind floating IP " F1 " -> " I1), "bind " F1 " -> " I1);
	ok(state_is_model(), "kernel holds exactly " F1 " -> " I1);
	ok(exchange(s_clflow, F1, 7000, s_i1, seen, back) == 0 && !strcmp(seen, CLIENT) &&
	   !strcmp(back, F1), "client -> " F1 " reaches inst1 (saw %s), answer from %s", seen,
	   back);
	ok(probe(s_i1c, CLIENT, 7001, s_cl, seen, NULL) == 0 && !strcmp(seen, F1),
	   "inst1 -> client leaves as its floating IP (%s)", seen);
	ok(exchange(s_r, F1, 7000, s_i1, seen, back) == 0 && !strcmp(back, F1),
	   "from the router itself (OUTPUT DNAT) " F1 " reaches inst1");
	ok(apply(0) == 0 && n_changes == 0, "re-bind, same state: no changes");
}

static void t_hairpin(void)
{
	char seen[16] = "", back[16] = "";
	const char *both[] = { F1 "=" I1, F2 "=" I2, NULL };

	ok(exchange(s_i2c, F1, 7000, s_i1, seen, back) == 0 && !strcmp(seen, EXT) &&
	   !strcmp(back, F1), "hairpin: inst2 -> " F1 " reaches inst1 (saw %s), answer from %s",
	   seen, back);
	set_fips(both);
	ok(apply(0) == 0 && n_changes == 1 && changed("bind floating IP " F2 " -> " I2),
	   "bind " F2 " -> " I2 ": one change");
	ok(exchange(s_i2c2, F1, 7000, s_i1, seen, back) == 0 && !strcmp(seen, F2) &&
	   !strcmp(back, F1), "hairpin from an instance with its own floating IP: seen as %s",
	   seen);
}

/* A new driver instance is what the next `vxcloud apply` process gets:
 * whatever it remembers from the last one must agree with the kernel, also
 * when someone changed the ruleset in between. */
static void t_reopen(void)
{
	const char *both[] = { F1 "=" I1, F2 "=" I2, NULL };
	const char *three[] = { F1 "=" I1, F2 "=" I2, "203.0.113.30=10.0.0.30", NULL };

	ok(drv_open(&D, "") == 0 && apply(0) == 0 && n_changes == 0,
	   "a new driver instance finds nothing to change");
	set_fips(three);
	ok(drv_open(&D, "") == 0 && apply(0) == 0 && n_changes == 1 &&
	   changed("bind floating IP 203.0.113.30 -> 10.0.0.30") && state_is_model(),
	   "a new instance appends one floating IP: one change");
	set_fips(both);
	ok(drv_open(&D, "") == 0 && nt_foreign_poke(ns_r) == 0 && apply(0) == 0 &&
	   n_changes == 1 && changed("unbind floating IP 203.0.113.30") && state_is_model(),
	   "after a foreign change between two instances: still exactly one change");
	free(foreign0);
	foreign0 = nt_foreign_fingerprint(ns_r);
}

static void t_move(void)
{
	char seen[16] = "", back[16] = "";
	const char *swapped[] = { F1 "=" I2, F2 "=" I1, NULL };

	ok(nt_ct_count(ns_r, F1) > 0, "conntrack holds flows through " F1 " (%d)",
	   nt_ct_count(ns_r, F1));
	set_fips(swapped);
	ok(apply(0) == 0 && changed("move floating IP " F1 " from " I1 " to " I2) &&
	   changed("move floating IP " F2 " from " I2 " to " I1), "swap both in one apply");
	ok(state_is_model(), "kernel holds the swapped mapping");
	ok(nt_ct_count(ns_r, F1) == 0 && nt_ct_count(ns_r, F2) == 0,
	   "conntrack entries of the old mappings flushed");
	ok(exchange(s_clflow, F1, 7000, s_i2, seen, back) == 0 && !strcmp(back, F1),
	   "the same client flow now reaches inst2: it does not keep the old mapping");
}

static void t_unbind(void)
{
	char seen[16] = "", back[16] = "";

	ok(exchange(s_clflow, F2, 7000, s_i1, seen, back) == 0, "client -> " F2 " -> inst1");
	/* A new flow: existing ones keep the NAT they started with. */
	ok(probe(s_i2c3, CLIENT, 7001, s_cl, seen, NULL) == 0 && !strcmp(seen, F1),
	   "inst2 -> client leaves as " F1);
	set_fips(NULL);
	ok(apply(0) == 0 && changed("unbind floating IP " F1 " (was -> " I2 ")") &&
	   changed("unbind floating IP " F2 " (was -> " I1 ")"), "unbind both");
	ok(state_is_model(), "kernel holds no floating IP");
	ok(nt_ct_count(ns_r, F1) == 0 && nt_ct_count(ns_r, F2) == 0,
	   "conntrack entries of both mappings (DNAT and SNAT side) flushed");
	ok(probe(s_clflow, F1, 7000, s_i2, seen, NULL) == -ETIMEDOUT &&
	   probe(s_clflow, F2, 7000, s_i1, seen, NULL) == -ETIMEDOUT,
	   "nothing reaches the old targets any more");
	ok(probe(s_i2c3, CLIENT, 7001, s_cl, seen, NULL) == 0 && !strcmp(seen, EXT),
	   "the same inst2 flow falls back to the router's SNAT address");
	nt_addr_del(ns_r, "gw0", F1 "/32");
	nt_addr_del(ns_r, "gw0", F2 "/32");
	ok(apply(0) == 0 && n_changes == 0, "no changes after unbinding");
}

static void t_many(void)
{
	set_many(1000);
	ok(apply(0) == 0 && n_changes <= 4, "bind 1000 floating IPs (%d report lines)",
	   n_changes);
	ok(changed("bind 1000 floating IPs"), "reported as one summary line");
	ok(state_is_model(), "kernel holds exactly the 1000 pairs");
	ok(apply(0) == 0 && n_changes == 0, "re-apply of 1000: no changes");
	/* Replace #500, move #10 to a free target. */
	fipv[500].address.s_addr = htonl(0x64410001u);
	fipv[10].target_addr.s_addr = htonl(0x0a020001u);
	ok(apply(0) == 0 && n_changes == 3 && changed("unbind floating IP 100.64.1.245") &&
	   changed("bind floating IP 100.65.0.1") && changed("move floating IP 100.64.0.11"),
	   "one unbind, one bind, one move among 1000: three changes");
	ok(state_is_model(), "kernel holds the 1000 pairs after the change");
	set_many(0);
	ok(apply(0) == 0 && changed("unbind 1000 floating IPs") && state_is_model(),
	   "unbind all 1000");
	check_foreign("after 1000 floating IPs");
}

/* One flipped byte in the nftables driver's state file: the file is not
 * trusted (a warning), the kernel is read, nothing moves. */
static void t_damaged_cache(void)
{
	char path[PATH_MAX * 2], *buf = NULL, *at;
	size_t len = 0;
	FILE *f;

	if (strcmp(dname, "nftables"))
		return;
	set_many(50);
	ok(apply(0) == 0 && state_is_model(), "cache: 50 floating IPs");
	ok(drv_open(&D, "") == 0, "cache: reopen (the state file is written at close)");
	snprintf(path, sizeof(path), "%s/nftables/router-%s.state", statedir, rname);
	f = fopen(path, "r+");
	if (f) {
		len = fread(buf = malloc(1 << 20), 1, 1 << 20, f);
		at = len ? memmem(buf, len, "\nfips ", 6) : NULL;
		at = at ? memchr(at + 1, '\n', len - (size_t)(at + 1 - buf)) : NULL;
		if (at && at + 13 < buf + len) {
			fseek(f, (long)(at + 13 - buf), SEEK_SET);
			fputc(at[13] ^ 0x04, f);
		}
		fclose(f);
	}
	ok(f && at, "cache: one byte of a floating IP flipped in %s", path);
	free(buf);
	ok(apply(VXC_F_DRY_RUN) == 0 && n_changes == 0,
	   "cache: plan reports nothing to change (%d)", n_changes);
	ok(drv_open(&D, "") == 0 && apply(0) == 0 && n_changes == 0 && state_is_model(),
	   "cache: apply succeeds and changes nothing (%d)", n_changes);
	set_many(0);
	ok(apply(0) == 0 && state_is_model(), "cache: back to no floating IP");
}

/* Renaming the table setting: the old table (found by its mark) goes, in
 * the plan too, so status does not report a match. */
static void t_table_rename(void)
{
	if (strcmp(dname, "nftables"))
		return;
	set_fips((const char *const[]){ F1 "=" I1, NULL });
	ok(drv_open(&D, "") == 0 && apply(0) == 0 && nt_nft_table_exists(ns_r, "vxcloud") == 1,
	   "rename: table ip vxcloud with a floating IP");
	ok(drv_open(&D, "table = \"vxcren\";") == 0, "rename: the table setting is now vxcren");
	ok(apply(VXC_F_DRY_RUN) == 0 && changed("remove NAT table ip vxcloud"),
	   "rename: plan (and so status) reports the old table's removal");
	ok(apply(0) == 0 && nt_nft_table_exists(ns_r, "vxcloud") == 0 &&
		   nt_nft_table_exists(ns_r, "vxcren") == 1,
	   "rename: apply removes the old table and makes the new one");
	ok(apply(VXC_F_DRY_RUN) == 0 && n_changes == 0, "rename: then nothing to change");
	ok(drv_open(&D, "") == 0 && apply(0) == 0 && nt_nft_table_exists(ns_r, "vxcren") == 0 &&
		   state_is_model(),
	   "rename: and back: vxcren removed, vxcloud holds the model");
	set_fips(NULL);
	ok(apply(0) == 0, "rename: no floating IP");
}

static void t_invalid(void)
{
	const char *dup[] = { F1 "=" I1, F1 "=" I2, NULL };
	const char *dupt[] = { F1 "=" I1, F2 "=" I1, NULL };
	const char *one[] = { F1 "=" I1, NULL };

	set_fips(one);
	apply(0);
	set_fips(dup);
	ok(apply(0) == -EINVAL && D.ctx.errmsg && strstr(D.ctx.errmsg, rname) &&
	   strstr(D.ctx.errmsg, F1), "a floating IP given twice is refused, naming it");
	set_fips(dupt);
	ok(apply(0) == -EINVAL && D.ctx.errmsg && strstr(D.ctx.errmsg, I1),
	   "two floating IPs for one target are refused");
	set_fips(one);
	ok(state_is_model() && apply(0) == 0 && n_changes == 0, "state unchanged by refusals");
}

static int poke(void)
{
	return nt_foreign_poke(ns_r);
}

static void t_failure(void)
{
	const char *before[] = { F1 "=" I1, F2 "=" I2, "203.0.113.20=10.0.0.20",
				 "203.0.113.21=10.0.0.21", NULL };
	const char *after[] = { F1 "=" I2, F2 "=" I1, "203.0.113.22=10.0.0.22",
				"203.0.113.21=10.0.0.21", NULL };
	char *fp;

	set_fips(before);
	ok(apply(0) == 0, "state S: four floating IPs");
	/* An administrator changes the ruleset (an nft commit and an iptables
	 * commit) between the driver's read and its commit: the kernel refuses
	 * the stale transaction, so none of its changes may be applied. */
	ok(drv_open(&D, "retries = 0;") == 0, "reopen with retries = 0");
	set_fips(after);
	on_change_hook = poke;
	ok(apply(0) < 0 && D.ctx.errmsg && strstr(D.ctx.errmsg, "nothing was changed"),
	   "the transaction (2 moves, 1 unbind, 1 bind) fails as a whole");
	set_fips(before);
	ok(state_is_model(), "kernel still holds S exactly");
	fp = nt_foreign_fingerprint(ns_r);
	ok(strcmp(fp, foreign0) && strstr(fp, "table foreign: 1"),
	   "the foreign change made meanwhile is kept");
	free(foreign0);
	foreign0 = fp;
	ok(drv_open(&D, "retries = 2;") == 0, "reopen with retries = 2");
	set_fips(after);
	on_change_hook = poke;
	ok(apply(0) == 0 && state_is_model(),
	   "with retries the same change goes through after re-reading");
	free(foreign0);
	foreign0 = nt_foreign_fingerprint(ns_r);
	ok(drv_open(&D, "") == 0, "reopen with defaults");
	set_fips(NULL);
	ok(apply(0) == 0 && state_is_model(), "back to no floating IP");
}

struct listed {
	int n, mine;
};

static void list_cb(void *arg, const struct vxc_owned *o)
{
	struct listed *l = arg;

	l->n++;
	l->mine += o->kind == VXC_KIND_NAT && !strcmp(o->name, rname) && o->netns &&
		   !strcmp(o->netns, ns_r);
}

static struct listed list_of(struct drv *d)
{
	struct listed l = { 0, 0 };

	d->ops->list(d->priv, list_cb, &l);
	return l;
}

static void t_list_remove(void)
{
	struct vxc_owned o = { VXC_KIND_NAT, rname, ns_r };
	const char *one[] = { F1 "=" I1, NULL };
	struct listed l;

	set_fips(one);
	nt_addr(ns_r, "gw0", F1 "/32");
	apply(0);
	probe(s_clflow, F1, 7000, s_i1, (char[16]){ 0 }, NULL);
	l = list_of(&D);
	ok(l.n == 1 && l.mine == 1, "list reports {NAT, %s, %s}", rname, ns_r);
	n_changes = 0;
	ok(D.ops->remove(D.priv, &o, VXC_F_DRY_RUN) == 0 && n_changes == 1 &&
	   nt_has_objects(dname, ns_r) == 1, "remove under dry run reports and keeps");
	n_changes = 0;
	ok(D.ops->remove(D.priv, &o, 0) == 0 && n_changes == 1 &&
	   nt_has_objects(dname, ns_r) == 0, "remove deletes the driver's objects");
	ok(nt_ct_count(ns_r, F1) == 0, "and flushes the conntrack entries of its mappings");
	l = list_of(&D);
	ok(l.n == 0, "list reports nothing after remove");
	n_changes = 0;
	ok(D.ops->remove(D.priv, &o, 0) == 0 && n_changes == 0, "remove again: nothing to do");
	check_foreign("after remove");
}

static void t_swap(const char *other)
{
	struct vxc_owned o = { VXC_KIND_NAT, rname, ns_r };
	const char *one[] = { F1 "=" I1, NULL };
	char seen[16] = "", back[16] = "";

	if (!other || drv_load(&O, other) < 0 || drv_open(&O, "") < 0) {
		printf("# no other NAT plugin to swap with\n");
		return;
	}
	ok(strcmp(O.p->name, D.p->name), "both NAT plugins loaded in one process (%s, %s)",
	   D.p->name, O.p->name);
	set_fips(one);
	ok(apply(0) == 0 && state_is_model(), "%s holds " F1, dname);
	/* The reconciler's order: the new driver ensures, the old one's
	 * objects are then listed and removed. */
	ok(apply_with(&O, 0) == 0 && n_changes > 0, "%s applies the same state", O.p->name);
	ok(list_of(&D).mine == 1 && list_of(&O).mine == 1, "both list the router meanwhile");
	ok(D.ops->remove(D.priv, &o, 0) == 0 && nt_has_objects(dname, ns_r) == 0,
	   "%s's objects removed", dname);
	ok(nt_has_objects(O.p->name, ns_r) == 1 && list_of(&D).n == 0,
	   "%s's objects stay", O.p->name);
	ok(exchange(s_clflow, F1, 7000, s_i1, seen, back) == 0 && !strcmp(back, F1),
	   "traffic through " F1 " works after the swap");
	ok(apply(0) == 0 && nt_has_objects(dname, ns_r) == 1, "and back: %s applies", dname);
	ok(O.ops->remove(O.priv, &o, 0) == 0 && nt_has_objects(O.p->name, ns_r) == 0,
	   "%s removed", O.p->name);
	ok(exchange(s_clflow, F1, 7000, s_i1, seen, back) == 0 && !strcmp(back, F1),
	   "traffic through " F1 " works after swapping back");
	ok(D.ops->remove(D.priv, &o, 0) == 0, "cleaned up");
	check_foreign("after the swaps");
	drv_close(&O);
}

static void t_absent(void)
{
	char saved[VXC_NETNS_NAMSIZ];

	snprintf(saved, sizeof(saved), "%s", router.netns);
	snprintf(router.netns, sizeof(router.netns), "vxr-%snone", prefix);
	set_fips(NULL);
	ok(apply(VXC_F_DRY_RUN) == 0 && n_changes > 0,
	   "plan for a router whose namespace is still to be made reports the creation");
	ok(apply(0) < 0 && D.ctx.errmsg && strstr(D.ctx.errmsg, rname),
	   "apply without the namespace fails naming the router");
	snprintf(router.netns, sizeof(router.netns), "%s", saved);
}

/* ------------------------------------------------------------------ */

static const char *other_plugin(const char *self)
{
	static char path[PATH_MAX];
	const char *b = getenv("VXC_TOP_BUILDDIR");
	const char *other = strstr(self, "nftables") ? "iptables" : "nftables";

	if (!b)
		return NULL;
	snprintf(path, sizeof(path), "%s/plugins/nat/%s/.libs/%s.so", b, other, other);
	return access(path, R_OK) == 0 ? path : NULL;
}

int main(int argc, char **argv)
{
	const char *p = getenv("VXC_TEST_PREFIX");

	if (argc < 2) {
		fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(prefix, sizeof(prefix), "%s", p && *p ? p : "vxt");
	if (drv_load(&D, argv[1]) < 0) {
		printf("Bail out! cannot load %s\n", argv[1]);
		return 1;
	}
	snprintf(dname, sizeof(dname), "%s", D.p->name);
	snprintf(top, sizeof(top), "/run/%s-nat-%s", prefix, dname);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", top);
	snprintf(statedir, sizeof(statedir), "%s/state", top);
	snprintf(rname, sizeof(rname), "%sr1", prefix);
	snprintf(ns_r, sizeof(ns_r), "vxr-%s", rname);
	snprintf(ns_c, sizeof(ns_c), "%scl", prefix);
	snprintf(ns_sw, sizeof(ns_sw), "%ssw", prefix);
	snprintf(ns_i1, sizeof(ns_i1), "%si1", prefix);
	snprintf(ns_i2, sizeof(ns_i2), "%si2", prefix);
	vxc_ctx_init(&nt_ctx, NULL, "testhost", nsdir, statedir);
	cleanup(); /* leftovers of an interrupted run */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);
	mkdir(top, 0700);
	if (topology() || sockets()) {
		printf("Bail out! cannot build the test topology: %s\n",
		       nt_ctx.errmsg ? nt_ctx.errmsg : "libnl");
		return 1;
	}
	ok(nt_foreign_create(ns_r) == 0, "foreign nft table and iptables rules made");
	foreign0 = nt_foreign_fingerprint(ns_r);
	model_init();

	t_descriptor();
	t_snat();
	t_bind();
	t_hairpin();
	t_reopen();
	t_move();
	t_unbind();
	t_many();
	t_damaged_cache();
	t_table_rename();
	t_invalid();
	t_failure();
	t_list_remove();
	t_swap(other_plugin(argv[1]));
	t_absent();
	check_foreign("at the end");

	drv_close(&D);
	free(foreign0);
	return tap_done();
}
