/* Root-only conformance test of the linuxbridge network driver, called
 * through its descriptor like the core does, with model objects built by
 * hand. The test moves itself into a new network namespace (and a private
 * mount namespace for the router namespaces' nsfs mounts), so nothing it
 * does is seen outside; kernel state is read back through libnl. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "ctx.h"
#include "tap.h"
#include "util.h"

#include <vxcloud/vxcloud.h>

static char prefix[9], tmpdir[PATH_MAX], nsdir[PATH_MAX + 8], statedir[PATH_MAX + 8];
static const struct vxc_plugin *plugin;
static const struct vxc_network_ops *ops;
static const struct vxc_services *svc;
static struct nl_sock *sk;

/* ---- one driver instance and the changes it reports ----------------- */

struct inst {
	vxc_ctx ctx;
	void *priv;
	config_t cfg;
	char log[64][160];
	unsigned n_log;
};

static void sink(void *arg, const char *driver, const char *what)
{
	struct inst *in = arg;

	(void)driver;
	if (in->n_log < 64)
		snprintf(in->log[in->n_log++], sizeof(in->log[0]), "%s", what);
}

static void inst_reset(struct inst *in)
{
	vxc_ctx_reset(&in->ctx);
	in->n_log = 0;
}

/* Any reported change containing text. */
static int saw(const struct inst *in, const char *text)
{
	for (unsigned i = 0; i < in->n_log; i++)
		if (strstr(in->log[i], text))
			return 1;
	return 0;
}

static void show(const struct inst *in)
{
	for (unsigned i = 0; i < in->n_log; i++)
		printf("#   change: %s\n", in->log[i]);
	if (in->ctx.errmsg)
		printf("#   error: %s\n", in->ctx.errmsg);
}

static int inst_open(struct inst *in, const char *settings)
{
	memset(in, 0, sizeof(*in));
	vxc_ctx_init(&in->ctx, plugin, "h1", nsdir, statedir);
	in->ctx.sink.report = sink;
	in->ctx.sink.arg = in;
	config_init(&in->cfg);
	if (settings) {
		if (config_read_string(&in->cfg, settings) != CONFIG_TRUE)
			return -EINVAL;
		in->ctx.settings = config_lookup(&in->cfg, "linuxbridge");
	}
	return plugin->open(&in->ctx, svc, &in->priv);
}

static void inst_close(struct inst *in)
{
	plugin->close(in->priv);
	vxc_ctx_fini(&in->ctx);
	config_destroy(&in->cfg);
}

/* ---- the model --------------------------------------------------------- */

static struct vxc_host self = { .name = "h1", .underlay_mtu = 1500 };
static struct vxc_provider prov;
static struct vxc_network net;

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	vxc_ip_parse(s, &a);
	return a;
}

static struct vxc_fdb_entry fdb(const char *mac, const char *remote, const char *addr)
{
	struct vxc_fdb_entry e = { .remote = ip(remote) };

	vxc_mac_parse(mac, &e.mac);
	if (addr)
		e.addr = ip(addr);
	return e;
}

static void model_init(void)
{
	self.tunnel = ip("10.99.0.1");
	snprintf(prov.bridge, sizeof(prov.bridge), "%spbr", prefix);
	prov.uplink = NULL;
	vxc_prefix_parse("198.51.100.0/24", &prov.cidr);
	prov.gateway = ip("198.51.100.1");
	prov.range_first = ip("198.51.100.10");
	prov.range_last = ip("198.51.100.99");
	prov.mtu = 1500;
	net.name = "t1";
	net.vni = 4242;
	vxc_prefix_parse("192.168.50.0/24", &net.cidr);
	net.gateway = ip("192.168.50.1");
	net.mtu = 1450;
	snprintf(net.bridge_if, sizeof(net.bridge_if), "%sb-t1", prefix);
	snprintf(net.vxlan_if, sizeof(net.vxlan_if), "%sx-t1", prefix);
}

/* ---- reading the kernel back ------------------------------------------ */

static struct rtnl_link *link_get_in(struct nl_sock *s, const char *name)
{
	struct rtnl_link *l = NULL;

	return rtnl_link_get_kernel(s, 0, name, &l) < 0 ? NULL : l;
}

static struct rtnl_link *link_get(const char *name)
{
	return link_get_in(sk, name);
}

static int link_exists(const char *name)
{
	struct rtnl_link *l = link_get(name);

	if (l)
		rtnl_link_put(l);
	return l != NULL;
}

static int ifindex_of(const char *name)
{
	struct rtnl_link *l = link_get(name);
	int i = l ? rtnl_link_get_ifindex(l) : 0;

	if (l)
		rtnl_link_put(l);
	return i;
}

/* "kind mtu up master=NAME alias" of a link, for one-line comparisons. */
static const char *link_desc(struct nl_sock *s, const char *name, char *buf, size_t sz)
{
	struct rtnl_link *l = link_get_in(s, name);
	char master[IFNAMSIZ] = "-";
	const char *alias;

	if (!l) {
		snprintf(buf, sz, "absent");
		return buf;
	}
	if (rtnl_link_get_master(l)) {
		struct rtnl_link *m = NULL;

		if (rtnl_link_get_kernel(s, rtnl_link_get_master(l), NULL, &m) == 0) {
			snprintf(master, sizeof(master), "%s", rtnl_link_get_name(m));
			rtnl_link_put(m);
		}
	}
	alias = rtnl_link_get_ifalias(l);
	snprintf(buf, sz, "%s mtu=%u %s master=%s alias=%s",
		 rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "?", rtnl_link_get_mtu(l),
		 (rtnl_link_get_flags(l) & IFF_UP) ? "up" : "down", master, alias ? alias : "-");
	rtnl_link_put(l);
	return buf;
}

struct strs {
	char v[12000][40];
	size_t n;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void strs_sort(struct strs *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), str_cmp);
}

/* The VXLAN device's own fdb entries ("mac>remote"), through libnl's
 * neighbour parser. */
struct fdb_read {
	int ifindex;
	struct strs *out;
};

static void fdb_obj(struct nl_object *o, void *arg)
{
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;
	struct fdb_read *r = arg;
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n), *dst = rtnl_neigh_get_dst(n);
	char a[32], b[32];

	if (rtnl_neigh_get_ifindex(n) != r->ifindex || !(rtnl_neigh_get_flags(n) & NTF_SELF) ||
	    !ll || !dst || r->out->n >= 12000)
		return;
	snprintf(r->out->v[r->out->n++], 40, "%s>%s", nl_addr2str(ll, a, sizeof(a)),
		 nl_addr2str(dst, b, sizeof(b)));
}

static int fdb_valid(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, fdb_obj, arg);
	return NL_OK;
}

static void fdb_read(const char *vx, struct strs *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex_of(vx) };
	struct fdb_read r = { .ifindex = ifi.ifi_index, .out = out };

	out->n = 0;
	if (!r.ifindex)
		return;
	nl_send_simple(sk, RTM_GETNEIGH, NLM_F_DUMP, &ifi, sizeof(ifi));
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, fdb_valid, &r);
	nl_recvmsgs_default(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	strs_sort(out);
}

static void fdb_expect(const struct vxc_fdb_entry *e, size_t n, struct strs *out)
{
	char m[VXC_MACSTR], r[VXC_IPSTR];

	out->n = 0;
	for (size_t i = 0; i < n; i++)
		snprintf(out->v[out->n++], 40, "%s>%s", vxc_mac_str(&e[i].mac, m),
			 vxc_ip_str(e[i].remote, r));
	strs_sort(out);
}

static int strs_equal(const struct strs *a, const struct strs *b)
{
	if (a->n != b->n) {
		printf("#   %zu entries, want %zu\n", a->n, b->n);
		return 0;
	}
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i])) {
			printf("#   entry %zu: %s, want %s\n", i, a->v[i], b->v[i]);
			return 0;
		}
	return 1;
}

static struct strs got, want;

static int fdb_is(const struct vxc_fdb_entry *e, size_t n)
{
	fdb_read(net.vxlan_if, &got);
	fdb_expect(e, n, &want);
	return strs_equal(&got, &want);
}

/* Permanent neighbour entries on a device: "ip>mac", sorted, joined. */
static const char *neigh_desc(const char *dev, char *buf, size_t sz)
{
	struct nl_cache *cache = NULL;
	int ifindex = ifindex_of(dev);
	struct strs *s = calloc(1, sizeof(*s));

	buf[0] = '\0';
	if (!s || rtnl_neigh_alloc_cache(sk, &cache) < 0) {
		free(s);
		return buf;
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *n = (struct rtnl_neigh *)o;
		char a[32], b[32];

		if (rtnl_neigh_get_ifindex(n) != ifindex || rtnl_neigh_get_family(n) != AF_INET ||
		    !(rtnl_neigh_get_state(n) & NUD_PERMANENT) || s->n >= 64)
			continue;
		snprintf(s->v[s->n++], 40, "%s>%s", nl_addr2str(rtnl_neigh_get_dst(n), a, 32),
			 nl_addr2str(rtnl_neigh_get_lladdr(n), b, 32));
	}
	strs_sort(s);
	for (size_t i = 0; i < s->n; i++)
		snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s", i ? " " : "", s->v[i]);
	nl_cache_free(cache);
	free(s);
	return buf;
}

static void vxlan_props(const char *name, uint32_t *vni, uint32_t *port, int *learning,
			int *proxy, char local[32])
{
	struct rtnl_link *l = link_get(name);
	struct nl_addr *a = NULL;

	*vni = *port = 0;
	*learning = *proxy = -1;
	local[0] = '\0';
	if (!l || !rtnl_link_is_vxlan(l)) {
		if (l)
			rtnl_link_put(l);
		return;
	}
	rtnl_link_vxlan_get_id(l, vni);
	rtnl_link_vxlan_get_port(l, port);
	*learning = rtnl_link_vxlan_get_learning(l);
	*proxy = rtnl_link_vxlan_get_proxy(l);
	if (rtnl_link_vxlan_get_local(l, &a) == 0) {
		nl_addr2str(a, local, 32);
		nl_addr_put(a);
	}
	rtnl_link_put(l);
}

static int veth_pair(const char *a, const char *b)
{
	return rtnl_link_veth_add(sk, a, b, getpid()) == 0;
}

static int bridge_add(const char *name, const char *alias)
{
	struct rtnl_link *l = rtnl_link_alloc(), *made;
	int err;

	rtnl_link_set_name(l, name);
	rtnl_link_set_type(l, "bridge");
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (err < 0 || !alias)
		return err;
	made = link_get(name);
	l = rtnl_link_alloc();
	rtnl_link_set_ifalias(l, alias);
	err = rtnl_link_change(sk, made, l, 0);
	rtnl_link_put(l);
	rtnl_link_put(made);
	return err;
}

/* ---- owned objects ------------------------------------------------------ */

static void collect_owned(void *arg, const struct vxc_owned *o)
{
	char *buf = arg;
	static const char *const kinds[] = { "?", "provider", "network", "router", "nat",
					     "instance", "lb" };

	snprintf(buf + strlen(buf), 256 - strlen(buf), "%s%s:%s", *buf ? " " : "",
		 o->kind <= VXC_KIND_LB ? kinds[o->kind] : "?", o->name);
}

static const char *owned_desc(struct inst *in, char buf[256])
{
	buf[0] = '\0';
	if (ops->list(in->priv, collect_owned, buf) < 0)
		snprintf(buf, 256, "list failed");
	return buf;
}

/* ---- the tests ---------------------------------------------------------- */

static void lbr_test_set_mac(struct rtnl_link *l, const uint8_t *mac)
{
	struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

	rtnl_link_set_addr(l, a);
	nl_addr_put(a);
}

/* A link of ours left by a run killed between creating it and setting its
 * alias: it carries the creation MAC (vxc_link_birth_mac) and no alias. */
static int newborn_bridge_add(const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct vxc_mac birth;
	struct nl_addr *a;
	int err;

	vxc_link_birth_mac("h1", name, &birth);
	a = nl_addr_build(AF_LLC, birth.b, 6);
	rtnl_link_set_name(l, name);
	rtnl_link_set_type(l, "bridge");
	rtnl_link_set_addr(l, a);
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	nl_addr_put(a);
	rtnl_link_put(l);
	return err;
}

static void test_newborn(struct inst *in)
{
	struct vxc_network nb = net;
	struct vxc_provider pv = prov;
	struct vxc_owned o = { .kind = VXC_KIND_NETWORK, .name = "nb" };
	char buf[256], d[256], other[IFNAMSIZ];
	int r;

	nb.name = "nb";
	nb.vni = 4244;
	snprintf(nb.bridge_if, sizeof(nb.bridge_if), "vb-nb");
	snprintf(nb.vxlan_if, sizeof(nb.vxlan_if), "vx-nb");
	ok(newborn_bridge_add("vb-nb") == 0, "newborn: a bridge made by a killed run (no alias)");
	is_str(owned_desc(in, buf), "network:nb", "newborn: list finds it by its creation MAC");
	inst_reset(in);
	r = ops->network_ensure(in->priv, &nb, &self, NULL, 0, 0);
	ok(r == 0, "newborn: the next ensure claims it instead of refusing it (%d)", r);
	show(in);
	ok(strstr(link_desc(sk, "vb-nb", d, sizeof(d)), "alias=vxcloud:network:nb") != NULL,
	   "newborn: ... and marks it (%s)", d);
	r = ops->remove(in->priv, &o, 0);
	owned_desc(in, buf); /* removed links go in one batch by the next call */
	ok(r == 0 && !link_exists("vb-nb") && !link_exists("vx-nb"), "newborn: remove deletes it");

	/* The same name without the creation MAC is still someone else's. */
	ok(bridge_add("vb-nb", NULL) == 0, "newborn: a same-named bridge with another MAC");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &nb, &self, NULL, 0, 0) == -EEXIST,
	   "newborn: ... is refused");
	is_str(owned_desc(in, buf), "", "newborn: ... and not listed");
	rtnl_link_delete(sk, link_get("vb-nb"));

	/* A provider bridge of ours without its alias is not the operator's. */
	snprintf(other, sizeof(other), "%spnb", prefix);
	snprintf(pv.bridge, sizeof(pv.bridge), "%s", other);
	pv.uplink = NULL;
	ok(newborn_bridge_add(other) == 0, "newborn: a provider bridge made by a killed run");
	inst_reset(in);
	r = ops->provider_ensure(in->priv, &pv, 0);
	ok(r == 0 && !saw(in, "not created by vxcloud") &&
		   strstr(link_desc(sk, other, d, sizeof(d)), "alias=vxcloud:provider:"),
	   "newborn: provider ensure claims and marks it, not adopts it (%s)", d);
	show(in);
	o = (struct vxc_owned){ .kind = VXC_KIND_PROVIDER, .name = "provider" };
	ok(ops->remove(in->priv, &o, 0) == 0 && !link_exists(other),
	   "newborn: destroy deletes the provider bridge");
}

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int ok = f && fgets(buf, (int)size, f);

	if (f)
		fclose(f);
	if (!ok)
		buf[0] = '\0';
	return ok;
}

static void write_state(const char *file, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/linuxbridge/%s", statedir, file);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A damaged provider.uplink is rebuilt from the kernel, never a dead end;
 * a symlink planted for its temporary file is not followed. */
static void test_damaged_record(struct inst *in, const char *uplink)
{
	struct vxc_owned o = { .kind = VXC_KIND_PROVIDER, .name = "provider" };
	char d[256], w[256], path[PATH_MAX + 64], outside[PATH_MAX + 64];
	struct stat st;
	int r;

	prov.uplink = uplink;
	inst_reset(in);
	ok(ops->provider_ensure(in->priv, &prov, 0) == 0, "damaged: provider with its uplink");
	write_state("provider.uplink", "");
	inst_reset(in);
	r = ops->provider_ensure(in->priv, &prov, 0);
	snprintf(path, sizeof(path), "%s/linuxbridge/provider.uplink", statedir);
	ok(r == 0 && read_line(path, d, sizeof(d)) && !strncmp(d, uplink, strlen(uplink)),
	   "damaged: an empty provider.uplink is rebuilt from the kernel (%d: %s)", r, d);
	show(in);
	write_state("provider.uplink", "\xff\x01 garbage\n");
	snprintf(path, sizeof(path), "%s/linuxbridge/provider.uplink.new", statedir);
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	fclose(fopen(outside, "w"));
	ok(symlink(outside, path) == 0, "damaged: a symlink planted as the record's temporary file");
	inst_reset(in);
	r = ops->remove(in->priv, &o, 0);
	ok(r == 0 && !link_exists(prov.bridge), "damaged: destroy works from a garbled record (%d)",
	   r);
	show(in);
	snprintf(w, sizeof(w), "veth mtu=1500 up master=- alias=-");
	is_str(link_desc(sk, uplink, d, sizeof(d)), w, "damaged: ... and releases the uplink");
	ok(stat(outside, &st) == 0 && st.st_size == 0, "damaged: nothing written through the symlink");
	unlink(outside);
	unlink(path);
}

static struct vxc_fdb_entry entries[12000];
static size_t n_entries;

static void test_descriptor(void)
{
	const struct vxc_option *o;
	int port = 0, proxy = 0;

	ok(plugin->abi_major == VXC_ABI_MAJOR, "descriptor: ABI major %u", plugin->abi_major);
	ok(plugin->concern == VXC_CONCERN_NETWORK, "descriptor: a network driver");
	is_str(plugin->name, "linuxbridge", "descriptor: name");
	ok(plugin->caps & VXC_CAP_NEIGH_PROXY, "descriptor: capability neigh_proxy");
	ok(ops && ops->size >= sizeof(*ops) && ops->provider_ensure && ops->network_ensure &&
		   ops->router_ensure && ops->port_attach && ops->list && ops->remove,
	   "descriptor: every slot of the network vtable is filled");
	for (o = plugin->options; o && o->name; o++) {
		if (!strcmp(o->name, "vxlan_port"))
			port = o->type == VXC_OPT_INT && !strcmp(o->def, "4789") && o->min == 1 &&
			       o->max == 65535;
		if (!strcmp(o->name, "neigh_proxy"))
			proxy = o->type == VXC_OPT_BOOL && !strcmp(o->def, "false");
	}
	ok(port && proxy, "options: vxlan_port (int, 4789, 1..65535), neigh_proxy (bool, false)");
}

static void test_flags(struct inst *in)
{
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, NULL, 0, 0x80) == -EINVAL,
	   "unknown flag bits: -EINVAL");
	ok(in->n_log == 0 && !link_exists(net.bridge_if), "... and nothing done");
}

static void test_provider(struct inst *in, const char *uplink)
{
	char d[256], w[256];

	prov.uplink = uplink;
	inst_reset(in);
	ok(ops->provider_ensure(in->priv, &prov, 0) == 0, "provider: create");
	show(in);
	snprintf(w, sizeof(w), "bridge mtu=1500 up master=- alias=vxcloud:provider:%s",
		 prov.bridge);
	is_str(link_desc(sk, prov.bridge, d, sizeof(d)), w, "provider: bridge up, marked");
	snprintf(w, sizeof(w), "veth mtu=1500 up master=%s alias=-", prov.bridge);
	is_str(link_desc(sk, uplink, d, sizeof(d)), w, "provider: uplink enslaved, up");
	inst_reset(in);
	ok(ops->provider_ensure(in->priv, &prov, 0) == 0 && in->n_log == 0,
	   "provider: re-apply changes nothing");
	show(in);
}

static void test_create(struct inst *in)
{
	char d[256], w[256], local[32];
	uint32_t vni, port;
	int learning, proxy;

	n_entries = 0;
	entries[n_entries++] = fdb("00:00:00:00:00:00", "10.99.0.2", NULL);
	entries[n_entries++] = fdb("00:00:00:00:00:00", "10.99.0.3", NULL);
	entries[n_entries++] = fdb("02:00:00:00:00:11", "10.99.0.2", "192.168.50.11");
	entries[n_entries++] = fdb("02:00:00:00:00:12", "10.99.0.3", "192.168.50.12");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0,
	   "network: create");
	show(in);
	ok(saw(in, "network t1: add fdb 02:00:00:00:00:11 -> 10.99.0.2"),
	   "network: each fdb entry reported, named by network");
	snprintf(w, sizeof(w), "bridge mtu=1450 up master=- alias=vxcloud:network:t1");
	is_str(link_desc(sk, net.bridge_if, d, sizeof(d)), w, "network: bridge");
	snprintf(w, sizeof(w), "vxlan mtu=1450 up master=%s alias=vxcloud:network:t1",
		 net.bridge_if);
	is_str(link_desc(sk, net.vxlan_if, d, sizeof(d)), w, "network: vxlan enslaved, up");
	vxlan_props(net.vxlan_if, &vni, &port, &learning, &proxy, local);
	ok(vni == 4242 && port == 4789 && learning == 0 && proxy == 0,
	   "network: vni 4242, port 4789, learning off, proxy off (got %u %u %d %d)", vni, port,
	   learning, proxy);
	is_str(local, "10.99.0.1", "network: local = the host's tunnel address");
	ok(fdb_is(entries, n_entries), "network: fdb is exactly the wanted set");

	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0 &&
		   in->ctx.n_changes == 0,
	   "network: re-apply changes nothing");
	show(in);
}

static void test_change(struct inst *in)
{
	char d[256], w[256];

	net.mtu = 1400;
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0,
	   "change: MTU 1450 -> 1400");
	ok(saw(in, "mtu 1450 -> 1400"), "change: reported");
	snprintf(w, sizeof(w), "bridge mtu=1400 up master=- alias=vxcloud:network:t1");
	is_str(link_desc(sk, net.bridge_if, d, sizeof(d)), w, "change: bridge MTU");
	snprintf(w, sizeof(w), "vxlan mtu=1400 up master=%s alias=vxcloud:network:t1",
		 net.bridge_if);
	is_str(link_desc(sk, net.vxlan_if, d, sizeof(d)), w, "change: vxlan MTU");

	/* A new remote host with two ports. */
	entries[n_entries++] = fdb("00:00:00:00:00:00", "10.99.0.4", NULL);
	entries[n_entries++] = fdb("02:00:00:00:00:13", "10.99.0.4", "192.168.50.13");
	entries[n_entries++] = fdb("02:00:00:00:00:14", "10.99.0.4", "192.168.50.14");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0 &&
		   in->ctx.n_changes == 3,
	   "change: a new remote host adds exactly its 3 entries (%u)", in->ctx.n_changes);
	show(in);
	ok(fdb_is(entries, n_entries), "change: fdb has the new host's entries");

	/* Host 10.99.0.3 goes away: its flood entry and its port. */
	entries[1] = entries[--n_entries];
	entries[3] = entries[--n_entries];
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0 &&
		   in->ctx.n_changes == 2,
	   "change: a removed host removes exactly its 2 entries (%u)", in->ctx.n_changes);
	show(in);
	ok(fdb_is(entries, n_entries), "change: fdb without the removed host");

	/* A port moves to another host: replaced in place. */
	entries[2].remote = ip("10.99.0.4");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0 &&
		   in->ctx.n_changes == 1 && saw(in, "move fdb"),
	   "change: a port that moved host is one move");
	show(in);
	ok(fdb_is(entries, n_entries), "change: fdb follows the move");
}

static void test_dry_run(struct inst *in)
{
	struct vxc_network n2 = net;
	struct vxc_fdb_entry more[16];
	char before[256], after[256];
	size_t n = n_entries;

	memcpy(more, entries, n * sizeof(*more));
	more[n++] = fdb("02:00:00:00:00:99", "10.99.0.9", NULL);
	n2.mtu = 1300;
	link_desc(sk, net.vxlan_if, before, sizeof(before));
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &n2, &self, more, n, VXC_F_DRY_RUN) == 0 &&
		   in->ctx.n_changes == 3,
	   "dry run: reports the 3 differences (bridge MTU, vxlan MTU, one fdb entry): %u",
	   in->ctx.n_changes);
	show(in);
	is_str(link_desc(sk, net.vxlan_if, after, sizeof(after)), before,
	       "dry run: the device is unchanged");
	ok(fdb_is(entries, n_entries), "dry run: the fdb is unchanged");

	n2 = net;
	snprintf(n2.bridge_if, sizeof(n2.bridge_if), "%sb-t9", prefix);
	snprintf(n2.vxlan_if, sizeof(n2.vxlan_if), "%sx-t9", prefix);
	n2.name = "t9";
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &n2, &self, entries, n_entries, VXC_F_DRY_RUN) == 0 &&
		   saw(in, "create bridge") && saw(in, "create vxlan") &&
		   in->ctx.n_changes == 2 + n_entries,
	   "dry run: a new network plans bridge, vxlan and every entry (%u)", in->ctx.n_changes);
	ok(!link_exists(n2.bridge_if) && !link_exists(n2.vxlan_if),
	   "dry run: ... and creates nothing");
}

static void test_port_attach(struct inst *in)
{
	char port[IFNAMSIZ], peer[IFNAMSIZ], d[256], w[256];

	snprintf(port, sizeof(port), "%sp0", prefix);
	snprintf(peer, sizeof(peer), "%sp1", prefix);
	ok(veth_pair(port, peer), "port: a veth made by 'another driver'");
	inst_reset(in);
	ok(ops->port_attach(in->priv, &net, port, 0, VXC_F_DRY_RUN) == 0 && in->ctx.n_changes == 3,
	   "port: dry run reports join, MTU, up (%u)", in->ctx.n_changes);
	ok(ops->port_attach(in->priv, &net, port, 0, 0) == 0, "port: attach");
	snprintf(w, sizeof(w), "veth mtu=1400 up master=%s alias=-", net.bridge_if);
	is_str(link_desc(sk, port, d, sizeof(d)), w, "port: enslaved, network MTU, up");
	inst_reset(in);
	ok(ops->port_attach(in->priv, &net, port, 0, 0) == 0 && in->ctx.n_changes == 0,
	   "port: attach again changes nothing");
	inst_reset(in);
	ok(ops->port_attach(in->priv, &net, "nosuchif0", 0, 0) < 0 && in->ctx.errmsg &&
		   strstr(in->ctx.errmsg, "nosuchif0"),
	   "port: a missing interface is an error naming it");
	show(in);
	inst_reset(in);
	ok(ops->port_attach(in->priv, &net, "nosuchif0", 0, VXC_F_DRY_RUN) == 0 &&
		   in->ctx.n_changes == 1,
	   "port: ... but planned under dry run (another driver makes it first)");
}

static void test_large(struct inst *in)
{
	static struct vxc_fdb_entry big[2000 + 8];
	size_t n = n_entries;

	memcpy(big, entries, n * sizeof(*big));
	for (unsigned i = 0; i < 2000; i++) {
		big[n] = (struct vxc_fdb_entry){ .remote = ip(i % 2 ? "10.99.0.2" : "10.99.0.4") };
		big[n].mac.b[0] = 0x02;
		big[n].mac.b[1] = 0x42;
		big[n].mac.b[4] = (uint8_t)(i >> 8);
		big[n].mac.b[5] = (uint8_t)i;
		n++;
	}
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, big, n, 0) == 0 && in->n_log == 1 &&
		   saw(in, "network t1: add 2000 fdb entries"),
	   "large: 2000 new entries, one summary line");
	show(in);
	ok(fdb_is(big, n), "large: all 2000 programmed");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, big, n, 0) == 0 && in->ctx.n_changes == 0,
	   "large: re-apply changes nothing");
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &net, &self, entries, n_entries, 0) == 0 &&
		   saw(in, "network t1: remove 2000 fdb entries"),
	   "large: back to the small set removes 2000 in one summary");
	ok(fdb_is(entries, n_entries), "large: fdb is the small set again");
}

static void test_neigh_proxy(struct inst *plain)
{
	struct inst px;
	char local[32], d[256];
	uint32_t vni, port;
	int learning, proxy;

	ok(inst_open(&px, "linuxbridge = { vxlan_port = 4790; neigh_proxy = true; };") == 0,
	   "neigh_proxy: an instance with vxlan_port 4790, neigh_proxy on");
	ok(px.ctx.n_changes == 0, "neigh_proxy: opening changes nothing");
	ok(ops->network_ensure(px.priv, &net, &self, entries, n_entries, 0) == 0 &&
		   saw(&px, "replace vxlan"),
	   "neigh_proxy: the VXLAN device is replaced (port and proxy are fixed at creation)");
	show(&px);
	vxlan_props(net.vxlan_if, &vni, &port, &learning, &proxy, local);
	ok(port == 4790 && proxy == 1 && learning == 0, "neigh_proxy: port 4790, proxy on");
	ok(fdb_is(entries, n_entries), "neigh_proxy: fdb reprogrammed on the new device");
	is_str(neigh_desc(net.vxlan_if, d, sizeof(d)),
	       "192.168.50.11>02:00:00:00:00:11 192.168.50.13>02:00:00:00:00:13 "
	       "192.168.50.14>02:00:00:00:00:14",
	       "neigh_proxy: a permanent neighbour entry per remote port");
	inst_reset(&px);
	ok(ops->network_ensure(px.priv, &net, &self, entries, n_entries, 0) == 0 &&
		   px.ctx.n_changes == 0,
	   "neigh_proxy: re-apply changes nothing");
	show(&px);
	inst_close(&px);

	inst_reset(plain);
	ok(ops->network_ensure(plain->priv, &net, &self, entries, n_entries, 0) == 0,
	   "neigh_proxy: back to the defaults");
	vxlan_props(net.vxlan_if, &vni, &port, &learning, &proxy, local);
	ok(port == 4789 && proxy == 0, "neigh_proxy: port 4789, proxy off again");
	is_str(neigh_desc(net.vxlan_if, d, sizeof(d)), "", "neigh_proxy: no neighbour entries");
	ok(fdb_is(entries, n_entries), "neigh_proxy: fdb intact");
}

static void test_ownership(struct inst *in)
{
	struct vxc_network other = net;
	char d[256], foreign[IFNAMSIZ];

	snprintf(foreign, sizeof(foreign), "%sforeign", prefix);
	ok(bridge_add(foreign, NULL) == 0, "ownership: a bridge vxcloud did not make");
	other.name = "t2";
	other.vni = 4343;
	snprintf(other.bridge_if, sizeof(other.bridge_if), "%s", foreign);
	snprintf(other.vxlan_if, sizeof(other.vxlan_if), "%sx-t2", prefix);
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &other, &self, NULL, 0, 0) == -EEXIST && in->ctx.errmsg &&
		   strstr(in->ctx.errmsg, foreign),
	   "ownership: a network refuses a same-named link without our mark");
	show(in);
	is_str(link_desc(sk, foreign, d, sizeof(d)), "bridge mtu=1500 down master=- alias=-",
	       "ownership: ... and leaves it alone");
	other.mtu = 1500;
	self.underlay_mtu = 1500;
	other.bridge_if[0] = 'Z';
	inst_reset(in);
	ok(ops->network_ensure(in->priv, &other, &self, NULL, 0, 0) == -EINVAL,
	   "validation: MTU 1500 over a 1500 underlay does not fit VXLAN");
	show(in);
}

static void test_list(struct inst *in, int with_router)
{
	char buf[256], w[256];

	snprintf(w, sizeof(w), "provider:provider network:t1%s", with_router ? " router:vxlr1" : "");
	is_str(owned_desc(in, buf), w, "list: provider, network%s", with_router ? ", router" : "");
}

/* In the core's garbage-collection order: routers, networks, provider. */
static void test_remove(struct inst *in, const char *uplink)
{
	char buf[256], d[256], w[256], foreign[IFNAMSIZ];
	struct vxc_owned o;

	snprintf(foreign, sizeof(foreign), "%sforeign", prefix);
	o = (struct vxc_owned){ .kind = VXC_KIND_NETWORK, .name = "t1" };
	inst_reset(in);
	ok(ops->remove(in->priv, &o, VXC_F_DRY_RUN) == 0 && in->ctx.n_changes == 2 &&
		   link_exists(net.bridge_if) && link_exists(net.vxlan_if),
	   "remove: dry run reports 2 deletions, deletes nothing");
	inst_reset(in);
	ok(ops->remove(in->priv, &o, 0) == 0 && in->ctx.n_changes == 2,
	   "remove network: bridge and vxlan reported");
	/* Removed links go in one batch before the driver lists or makes
	 * anything (and when it closes). */
	owned_desc(in, buf);
	ok(!link_exists(net.bridge_if) && !link_exists(net.vxlan_if),
	   "remove network: bridge and vxlan gone by the next call");
	inst_reset(in);
	ok(ops->remove(in->priv, &o, 0) == 0 && in->ctx.n_changes == 0,
	   "remove network again: nothing to do");

	o = (struct vxc_owned){ .kind = VXC_KIND_PROVIDER, .name = "provider" };
	inst_reset(in);
	ok(ops->remove(in->priv, &o, 0) == 0 && !link_exists(prov.bridge),
	   "remove provider: its bridge is gone");
	show(in);
	snprintf(w, sizeof(w), "veth mtu=1500 up master=- alias=-");
	is_str(link_desc(sk, uplink, d, sizeof(d)), w, "remove provider: the uplink is released, kept");
	ok(link_exists(foreign), "remove: the foreign bridge is still there");
	is_str(owned_desc(in, buf), "", "list: nothing owned is left");
	o = (struct vxc_owned){ .kind = VXC_KIND_INSTANCE, .name = "x" };
	ok(ops->remove(in->priv, &o, 0) == -EOPNOTSUPP, "remove: another concern's kind is refused");
}

/* A provider bridge the operator made and an uplink at its own MTU: used,
 * and given back with only what vxcloud changed undone. */
static void test_adopt(struct inst *in, const char *uplink)
{
	struct vxc_owned o = { .kind = VXC_KIND_PROVIDER, .name = "provider" };
	struct rtnl_link *l = link_get(uplink), *c = rtnl_link_alloc();
	char buf[256], d[256], w[256];

	rtnl_link_set_mtu(c, 1400);
	ok(l && rtnl_link_change(sk, l, c, 0) == 0, "adopt: the uplink at MTU 1400");
	rtnl_link_put(c);
	if (l)
		rtnl_link_put(l);
	ok(bridge_add(prov.bridge, NULL) == 0, "adopt: a provider bridge the operator made");
	prov.uplink = uplink;
	inst_reset(in);
	ok(ops->provider_ensure(in->priv, &prov, 0) == 0 &&
		   saw(in, "use existing bridge") && saw(in, "it will be kept"),
	   "adopt: the adoption is reported");
	show(in);
	snprintf(w, sizeof(w), "veth mtu=1500 up master=%s alias=-", prov.bridge);
	is_str(link_desc(sk, uplink, d, sizeof(d)), w, "adopt: uplink enslaved at the provider MTU");
	is_str(link_desc(sk, prov.bridge, d, sizeof(d)), "bridge mtu=1500 up master=- alias=-",
	       "adopt: the bridge stays unmarked");
	inst_reset(in);
	ok(ops->provider_ensure(in->priv, &prov, 0) == 0 && in->n_log == 0,
	   "adopt: said once, re-apply changes nothing");
	is_str(owned_desc(in, buf), "provider:provider", "adopt: list reports the provider");
	inst_reset(in);
	ok(ops->remove(in->priv, &o, VXC_F_DRY_RUN) == 0 && in->n_log == 3,
	   "adopt: dry-run remove reports leave, MTU, keep");
	show(in);
	is_str(link_desc(sk, uplink, d, sizeof(d)), w, "adopt: ... and changes nothing");
	inst_reset(in);
	ok(ops->remove(in->priv, &o, 0) == 0 && link_exists(prov.bridge),
	   "adopt: remove keeps the bridge");
	is_str(link_desc(sk, uplink, d, sizeof(d)), "veth mtu=1400 up master=- alias=-",
	       "adopt: the uplink released at its own MTU");
	is_str(owned_desc(in, buf), "", "adopt: nothing owned is left");
	l = link_get(prov.bridge);
	if (l) {
		rtnl_link_delete(sk, l);
		rtnl_link_put(l);
	}
}

/* ---- routers (need the core's namespace services) ----------------------- */

static struct vxc_router rt;
static struct vxc_port rport;
static const struct vxc_port *rports[1];
static struct vxc_fip fips[3];
static const struct vxc_fip *fipp[3];

static void router_model(void)
{
	rt.name = "vxlr1";
	rt.host = &self;
	rt.provider = &prov;
	rt.external = ip("198.51.100.10");
	rt.snat = 1;
	snprintf(rt.netns, sizeof(rt.netns), "vxr-%s", rt.name);
	snprintf(rt.gw_host_if, sizeof(rt.gw_host_if), "rg-%s", rt.name);
	snprintf(rt.gw_if, sizeof(rt.gw_if), "gw0");
	vxc_mac_parse("02:00:00:00:aa:01", &rt.gw_mac);
	rport.owner = rt.name;
	rport.owner_kind = VXC_PORT_ROUTER;
	rport.network = &net;
	rport.host = &self;
	rport.addr = net.gateway;
	vxc_mac_parse("02:00:00:00:aa:02", &rport.mac);
	snprintf(rport.host_if, sizeof(rport.host_if), "rp-t1");
	rports[0] = &rport;
	rt.ports = rports;
	rt.n_ports = 1;
	for (int i = 0; i < 3; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", 20 + i);
		fips[i].address = ip(a);
		fips[i].router = &rt;
		fipp[i] = &fips[i];
	}
	rt.fips = fipp;
	rt.n_fips = 3;
}

/* Reads inside the router namespace through a socket made there. */
static struct nl_sock *ns_sock(struct inst *in, int *fwd)
{
	struct nl_sock *s = NULL;
	int fd = svc->netns_open(&in->ctx, rt.netns), saved;
	char buf[4] = "";

	*fwd = -1;
	if (fd < 0 || svc->netns_enter(&in->ctx, fd, &saved) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	s = nl_socket_alloc();
	nl_connect(s, NETLINK_ROUTE);
	int f = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
	if (f >= 0 && read(f, buf, 1) == 1)
		*fwd = buf[0] - '0';
	if (f >= 0)
		close(f);
	svc->netns_leave(&in->ctx, saved);
	close(fd);
	return s;
}

static const char *addrs_desc(struct nl_sock *s, const char *dev, char *buf, size_t sz)
{
	struct nl_cache *cache = NULL;
	struct rtnl_link *l = link_get_in(s, dev);
	struct strs *v = calloc(1, sizeof(*v));

	buf[0] = '\0';
	if (l && v && rtnl_addr_alloc_cache(s, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;
			char t[20];

			if (rtnl_addr_get_ifindex(a) != rtnl_link_get_ifindex(l) ||
			    rtnl_addr_get_family(a) != AF_INET || v->n >= 64)
				continue;
			nl_addr2str(rtnl_addr_get_local(a), t, sizeof(t));
			t[strcspn(t, "/")] = '\0'; /* libnl adds a prefix length */
			snprintf(v->v[v->n++], 40, "%s/%d", t, rtnl_addr_get_prefixlen(a));
		}
		nl_cache_free(cache);
		strs_sort(v);
		for (size_t i = 0; i < v->n; i++)
			snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s", i ? " " : "", v->v[i]);
	}
	if (l)
		rtnl_link_put(l);
	free(v);
	return buf;
}

/* The floating IPs: local routes (protocol 0x76, vxcloud's) through dev. */
static const char *fip_routes(struct nl_sock *s, const char *dev, char *buf, size_t sz)
{
	struct nl_cache *cache = NULL;
	struct rtnl_link *l = link_get_in(s, dev);
	struct strs *v = calloc(1, sizeof(*v));

	buf[0] = '\0';
	if (l && v && rtnl_route_alloc_cache(s, AF_INET, 0, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
			char t[40];

			if (rtnl_route_get_table(r) != RT_TABLE_LOCAL ||
			    rtnl_route_get_type(r) != RTN_LOCAL || rtnl_route_get_protocol(r) != 0x76 ||
			    !nh || rtnl_route_nh_get_ifindex(nh) != rtnl_link_get_ifindex(l) ||
			    v->n >= 64)
				continue;
			nl_addr2str(rtnl_route_get_dst(r), t, sizeof(t));
			snprintf(v->v[v->n++], 40, "%s", t);
		}
		nl_cache_free(cache);
		strs_sort(v);
		for (size_t i = 0; i < v->n; i++)
			snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s", i ? " " : "", v->v[i]);
	}
	if (l)
		rtnl_link_put(l);
	free(v);
	return buf;
}

static const char *default_route(struct nl_sock *s, char *buf, size_t sz)
{
	struct nl_cache *cache = NULL;

	snprintf(buf, sz, "none");
	if (rtnl_route_alloc_cache(s, AF_INET, 0, &cache) < 0)
		return buf;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(r);
		struct rtnl_nexthop *nh;

		if (rtnl_route_get_table(r) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst)))
			continue;
		nh = rtnl_route_nexthop_n(r, 0);
		if (nh && rtnl_route_nh_get_gateway(nh))
			nl_addr2str(rtnl_route_nh_get_gateway(nh), buf, sz);
	}
	nl_cache_free(cache);
	return buf;
}

static void check_router(struct inst *in, const char *when, const char *want_fips)
{
	char d[256], w[256];
	struct nl_sock *s;
	int fwd;

	s = ns_sock(in, &fwd);
	ok(s != NULL, "%s: namespace %s exists", when, rt.netns);
	if (!s)
		return;
	snprintf(w, sizeof(w), "veth mtu=1500 up master=%s alias=vxcloud:router:%s", prov.bridge,
		 rt.name);
	is_str(link_desc(sk, rt.gw_host_if, d, sizeof(d)), w,
	       "%s: gateway port on the provider bridge", when);
	snprintf(w, sizeof(w), "veth mtu=%u up master=%s alias=vxcloud:router:%s", net.mtu,
		 net.bridge_if, rt.name);
	is_str(link_desc(sk, rport.host_if, d, sizeof(d)), w, "%s: network port on its bridge", when);
	is_str(addrs_desc(s, "gw0", d, sizeof(d)), "198.51.100.10/24",
	       "%s: gw0 holds the external address, only it", when);
	is_str(fip_routes(s, "gw0", d, sizeof(d)), want_fips,
	       "%s: a local route through gw0 per floating IP", when);
	is_str(addrs_desc(s, "t-t1", d, sizeof(d)), "192.168.50.1/24",
	       "%s: t-t1 holds the gateway", when);
	is_str(default_route(s, d, sizeof(d)), "198.51.100.1",
	       "%s: default route via the provider gateway", when);
	ok(fwd == 1, "%s: forwarding on", when);
	nl_socket_free(s);
}

static void test_router(struct inst *in)
{
	router_model();
	inst_reset(in);
	ok(ops->router_ensure(in->priv, &rt, VXC_F_DRY_RUN) == 0 && saw(in, "create namespace") &&
		   svc->netns_open(&in->ctx, rt.netns) == -ENOENT,
	   "router: dry run plans, creates nothing");
	show(in);
	inst_reset(in);
	ok(ops->router_ensure(in->priv, &rt, 0) == 0, "router: create");
	show(in);
	check_router(in, "router", "198.51.100.20 198.51.100.21 198.51.100.22");
	inst_reset(in);
	ok(ops->router_ensure(in->priv, &rt, 0) == 0 && in->ctx.n_changes == 0,
	   "router: re-apply changes nothing");
	show(in);
	rt.n_fips = 2;
	inst_reset(in);
	ok(ops->router_ensure(in->priv, &rt, 0) == 0 && in->ctx.n_changes == 1 &&
		   saw(in, "remove floating IP 198.51.100.22"),
	   "router: a floating IP no longer listed is removed, only it");
	show(in);
	check_router(in, "router after", "198.51.100.20 198.51.100.21");

	/* A port as an older build left it: no alias, a MAC of the kernel's. */
	{
		struct rtnl_link *l = link_get(rport.host_if), *c = rtnl_link_alloc();
		uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
		char d[256];
		int r;

		rtnl_link_set_ifalias(c, "");
		lbr_test_set_mac(c, mac);
		ok(l && rtnl_link_change(sk, l, c, 0) == 0, "router: port %s unmarked, another MAC",
		   rport.host_if);
		rtnl_link_put(c);
		if (l)
			rtnl_link_put(l);
		inst_reset(in);
		r = ops->router_ensure(in->priv, &rt, 0);
		ok(r == 0 && strstr(link_desc(sk, rport.host_if, d, sizeof(d)), "alias=vxcloud:router:"),
		   "router: a port whose peer is in the router namespace is claimed (%d: %s)", r, d);
		show(in);
	}
}

static void test_router_remove(struct inst *in)
{
	char buf[256];
	struct vxc_owned o = { .kind = VXC_KIND_ROUTER, .name = rt.name, .netns = rt.netns };

	inst_reset(in);
	ok(ops->remove(in->priv, &o, 0) == 0, "remove router");
	show(in);
	ok(svc->netns_open(&in->ctx, rt.netns) == -ENOENT, "remove router: namespace gone");
	owned_desc(in, buf);
	ok(!link_exists(rt.gw_host_if) && !link_exists(rport.host_if),
	   "remove router: its host-side ends are gone by the next call");
}

/* ---- setup --------------------------------------------------------------- */

static int load_plugin(void)
{
	const char *top = getenv("VXC_TOP_BUILDDIR");
	char path[PATH_MAX];
	void *h;

	snprintf(path, sizeof(path), "%s/plugins/network/linuxbridge/.libs/linuxbridge.so",
		 top ? top : "../..");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("# dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	plugin = dlsym(h, VXC_PLUGIN_SYMBOL_NAME);
	if (!plugin)
		return -1;
	ops = plugin->ops;
	return 0;
}

/* A private network namespace for the links, and a private mount namespace
 * so the router namespaces' nsfs mounts vanish with this process. */
static int isolate(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		printf("# unshare: %s\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("# mount --make-rprivate /: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* The driver's state directory with the provider's records, if a failed
 * run left them. */
static void remove_statedir(const char *dir)
{
	static const char *const files[] = { "provider.uplink", "provider.bridge" };
	char path[PATH_MAX + 400];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/linuxbridge/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/linuxbridge", dir);
	rmdir(path);
	rmdir(dir);
}

/* Temporary directories of an interrupted earlier run, by our prefix. */
static void remove_leftovers(void)
{
	char pat[64], cmd_path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir("/tmp");

	snprintf(pat, sizeof(pat), "%s-lbtest-", prefix);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, pat, strlen(pat)))
			continue;
		snprintf(cmd_path, sizeof(cmd_path), "/tmp/%s/netns", de->d_name);
		rmdir(cmd_path);
		snprintf(cmd_path, sizeof(cmd_path), "/tmp/%s/state", de->d_name);
		remove_statedir(cmd_path);
		snprintf(cmd_path, sizeof(cmd_path), "/tmp/%s", de->d_name);
		rmdir(cmd_path);
	}
	if (d)
		closedir(d);
}

static void cleanup(void)
{
	/* The network namespace and the mounts die with the process; the
	 * namespace directory is still mounted onto itself until then. */
	while (umount2(nsdir, MNT_DETACH) == 0)
		;
	rmdir(nsdir);
	remove_statedir(statedir);
	rmdir(tmpdir);
}

int main(void)
{
	const char *p = getenv("VXC_TEST_PREFIX");
	char uplink[IFNAMSIZ], peer[IFNAMSIZ];
	struct inst in;
	int have_netns;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 77;
	}
	snprintf(prefix, sizeof(prefix), "%s", p && *p ? p : "vxt");
	remove_leftovers();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s-lbtest-XXXXXX", prefix);
	if (!mkdtemp(tmpdir) || isolate() < 0 || load_plugin() < 0) {
		printf("Bail out! setup failed\n");
		return 99;
	}
	atexit(cleanup);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", tmpdir);
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	svc = vxc_services();
	sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		printf("Bail out! netlink\n");
		return 99;
	}
	model_init();
	test_descriptor();
	if (inst_open(&in, NULL) != 0) {
		printf("Bail out! open: %s\n", in.ctx.errmsg ? in.ctx.errmsg : "?");
		return 99;
	}
	snprintf(uplink, sizeof(uplink), "%sup0", prefix);
	snprintf(peer, sizeof(peer), "%sup1", prefix);
	ok(veth_pair(uplink, peer), "an uplink interface (veth) for the provider bridge");
	test_flags(&in);
	test_provider(&in, uplink);
	test_create(&in);
	test_change(&in);
	test_dry_run(&in);
	test_port_attach(&in);
	test_large(&in);
	test_neigh_proxy(&in);
	test_ownership(&in);
	/* Routers need the core's namespace services. */
	have_netns = svc->netns_create(&in.ctx, "vxr-probe") == 0;
	if (have_netns) {
		svc->netns_delete(&in.ctx, "vxr-probe");
		test_router(&in);
	} else {
		printf("# no namespace services in this core: router tests skipped\n");
	}
	test_list(&in, have_netns);
	if (have_netns)
		test_router_remove(&in);
	test_remove(&in, uplink);
	test_adopt(&in, uplink);
	test_newborn(&in);
	test_damaged_record(&in, uplink);
	inst_close(&in);
	nl_socket_free(sk);
	return tap_done();
}
