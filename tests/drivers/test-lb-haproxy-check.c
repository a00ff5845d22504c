/* The lb/haproxy plugin's own validation, loaded with dlopen like the core
 * loads it and given hand-made models that the spec parser would never let
 * through: whatever fills the model, no name, path or number that could
 * inject configuration reaches haproxy's file, and a refusal changes
 * nothing (no namespace, no state directory). Runs as any user: every call
 * is a dry run, and validation comes before anything else. */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vxcloud/lb.h>

#include "ctx.h"
#include "tap.h"

static char top[PATH_MAX], nsdir[PATH_MAX + 16], statedir[PATH_MAX + 16];

static const struct vxc_plugin *load(void **handle)
{
	const char *b = getenv("VXC_TOP_BUILDDIR");
	char path[PATH_MAX];
	const struct vxc_plugin *pl;

	snprintf(path, sizeof(path), "%s/plugins/lb/haproxy/.libs/haproxy.so", b ? b : "../..");
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ok(*handle != NULL, "dlopen %s", path);
	if (!*handle)
		return NULL;
	pl = dlsym(*handle, VXC_PLUGIN_SYMBOL_NAME);
	ok(pl && pl->concern == VXC_CONCERN_LB && !strcmp(pl->name, "haproxy") &&
		   pl->abi_major == VXC_ABI_MAJOR,
	   "an lb driver named haproxy, ABI %u.%u", pl ? pl->abi_major : 0,
	   pl ? pl->abi_minor : 0);
	ok(pl && (pl->caps & VXC_CAP_HEALTHCHECK) && (pl->caps & VXC_CAP_L7),
	   "capabilities healthcheck and l7");
	return pl;
}

struct model {
	struct vxc_network net;
	struct vxc_host host;
	struct vxc_port port;
	struct vxc_lb_member members[2];
	uint8_t enabled[2];
	struct vxc_lb_listener_ext ext;
	struct vxc_lb_listener ls[2];
	struct vxc_lb lb;
};

static void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->net = (struct vxc_network){ .name = "blue", .vni = 7, .mtu = 1450,
				       .cidr = { .len = 24 } };
	inet_pton(AF_INET, "10.9.0.0", &m->net.cidr.addr);
	inet_pton(AF_INET, "10.9.0.1", &m->net.gateway);
	m->host.name = "h1";
	m->port = (struct vxc_port){ .owner = "web", .owner_kind = VXC_PORT_LB,
				     .network = &m->net, .host = &m->host };
	inet_pton(AF_INET, "10.9.0.8", &m->port.addr);
	snprintf(m->port.host_if, sizeof(m->port.host_if), "vl-vxcheck");
	for (int i = 0; i < 2; i++) {
		inet_pton(AF_INET, i ? "10.9.0.12" : "10.9.0.11", &m->members[i].addr);
		m->members[i].port = 8080;
		m->members[i].weight = 10;
		m->enabled[i] = 1;
	}
	m->ext = (struct vxc_lb_listener_ext){ .size = sizeof(m->ext),
					       .member_enabled = m->enabled };
	for (int i = 0; i < 2; i++)
		m->ls[i] = (struct vxc_lb_listener){
			.protocol = VXC_LB_HTTP, .port = (uint16_t)(80 + i),
			.algorithm = VXC_LB_ROUNDROBIN, .maxconn = 100,
			.timeout_connect_ms = 5000, .timeout_client_ms = 50000,
			.timeout_server_ms = 50000, .retries = 3, .members = m->members,
			.n_members = 2, .ext = &m->ext,
			.health = { .enabled = 1, .interval_ms = 2000, .timeout_ms = 1000,
				    .rise = 2, .fall = 3, .http_path = "/" },
		};
	m->lb = (struct vxc_lb){ .name = "vxcheck", .host = &m->host, .port = &m->port,
				 .listeners = m->ls, .n_listeners = 2 };
	snprintf(m->lb.netns, sizeof(m->lb.netns), "vxlb-vxcheck");
}

static int state_is_empty(void)
{
	char p[PATH_MAX + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/haproxy/vxcheck", statedir);
	return stat(p, &st) < 0 && stat(nsdir, &st) < 0;
}

typedef void (*mutate_fn)(struct model *m);

static void name_newline(struct model *m) { m->lb.name = "web\nglobal"; }
static void name_hash(struct model *m) { m->lb.name = "web#x"; }
static void name_space(struct model *m) { m->lb.name = "web x"; }
static void name_slash(struct model *m) { m->lb.name = "../etc"; }
static void name_empty(struct model *m) { m->lb.name = ""; }
static void netns_other(struct model *m) { snprintf(m->lb.netns, sizeof(m->lb.netns), "vxr-x"); }
static void path_newline(struct model *m) { m->ls[0].health.http_path = "/a\nb"; }
static void path_hash(struct model *m) { m->ls[0].health.http_path = "/#"; }
static void path_space(struct model *m) { m->ls[0].health.http_path = "/ a"; }
static void path_quote(struct model *m) { m->ls[0].health.http_path = "/\"a"; }
static void path_relative(struct model *m) { m->ls[0].health.http_path = "a"; }
static void weight_high(struct model *m) { m->members[1].weight = 257; }
static void port_zero(struct model *m) { m->members[0].port = 0; }
static void listener_port_zero(struct model *m) { m->ls[1].port = 0; }
static void listener_port_dup(struct model *m) { m->ls[1].port = 80; }
static void maxconn_zero(struct model *m) { m->ls[0].maxconn = 0; }
static void timeout_zero(struct model *m) { m->ls[0].timeout_server_ms = 0; }
static void retries_high(struct model *m) { m->ls[0].retries = 101; }
static void protocol_bad(struct model *m) { m->ls[0].protocol = 9; }
static void algorithm_bad(struct model *m) { m->ls[0].algorithm = 0; }
static void interval_low(struct model *m) { m->ls[0].health.interval_ms = 10; }
static void rise_zero(struct model *m) { m->ls[0].health.rise = 0; }
static void status_bad(struct model *m) { m->ext.http_status = 1000; }
static void member_dup(struct model *m) { m->members[1] = m->members[0]; }
static void member_noaddr(struct model *m) { m->members[1].addr.s_addr = 0; }
static void no_listeners(struct model *m) { m->lb.n_listeners = 0; }

static const struct {
	const char *what;
	mutate_fn fn;
	int err;
} cases[] = {
	{ "a name with a newline", name_newline, -EINVAL },
	{ "a name with '#'", name_hash, -EINVAL },
	{ "a name with a space", name_space, -EINVAL },
	{ "a name with a path", name_slash, -EINVAL },
	{ "an empty name", name_empty, -EINVAL },
	{ "a namespace not vxlb-NAME", netns_other, -EINVAL },
	{ "a health path with a newline", path_newline, -EINVAL },
	{ "a health path with '#'", path_hash, -EINVAL },
	{ "a health path with a space", path_space, -EINVAL },
	{ "a health path with a quote", path_quote, -EINVAL },
	{ "a health path not starting with '/'", path_relative, -EINVAL },
	{ "a weight of 257", weight_high, -ERANGE },
	{ "a member port 0", port_zero, -ERANGE },
	{ "a listener port 0", listener_port_zero, -ERANGE },
	{ "two listeners on one port", listener_port_dup, -EINVAL },
	{ "maxconn 0", maxconn_zero, -ERANGE },
	{ "a server timeout of 0 ms", timeout_zero, -ERANGE },
	{ "101 retries", retries_high, -ERANGE },
	{ "an unknown protocol", protocol_bad, -EINVAL },
	{ "an unknown algorithm", algorithm_bad, -EINVAL },
	{ "a check interval of 10 ms", interval_low, -ERANGE },
	{ "rise 0", rise_zero, -ERANGE },
	{ "an expected status of 1000", status_bad, -ERANGE },
	{ "a member listed twice", member_dup, -EINVAL },
	{ "a member without address", member_noaddr, -EINVAL },
	{ "no listeners", no_listeners, -EINVAL },
};

int main(void)
{
	const char *p = getenv("VXC_TEST_PREFIX");
	const struct vxc_lb_ops *ops;
	const struct vxc_plugin *pl;
	void *handle = NULL, *priv = NULL;
	struct model m;
	vxc_ctx ctx;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(top, sizeof(top), "/tmp/%s-lbcheck.%d", p && *p ? p : "vxt", (int)getpid());
	snprintf(nsdir, sizeof(nsdir), "%s/netns", top);
	snprintf(statedir, sizeof(statedir), "%s/state", top);
	if (access("/usr/sbin/haproxy", X_OK) != 0) {
		puts("1..0 # SKIP /usr/sbin/haproxy not installed");
		return 77;
	}
	pl = load(&handle);
	if (!pl)
		return tap_done();
	ops = pl->ops;
	mkdir(top, 0700);
	vxc_ctx_init(&ctx, pl, "h1", nsdir, statedir);
	r = pl->open(&ctx, vxc_services(), &priv);
	ok(r == 0, "open with the default settings (%d)", r);
	if (r < 0)
		return tap_done();
	ok(ops->size >= offsetof(struct vxc_lb_ops, lb_status) + sizeof(void *) && ops->lb_status,
	   "the ABI 1.1 lb_status slot is filled");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		model_init(&m);
		cases[i].fn(&m);
		vxc_ctx_reset(&ctx);
		r = ops->lb_ensure(priv, &m.lb, VXC_F_DRY_RUN);
		ok(r == cases[i].err && ctx.errmsg && ctx.n_changes == 0 && state_is_empty(),
		   "refused: %s (%d), nothing planned or made", cases[i].what, r);
		printf("#   %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
		r = ops->lb_ensure(priv, &m.lb, 0);
		ok(r == cases[i].err && state_is_empty(), "refused without dry run too: %s",
		   cases[i].what);
	}
	model_init(&m);
	vxc_ctx_reset(&ctx);
	ok(ops->lb_ensure(priv, &m.lb, 0x100) == -EINVAL, "unknown flag bits: -EINVAL");
	vxc_ctx_reset(&ctx);
	r = ops->lb_ensure(priv, &m.lb, VXC_F_DRY_RUN);
	ok(r == 0 && ctx.n_changes >= 2 && state_is_empty(),
	   "the unmutated model passes: a plan of %u changes, nothing made (%d %s)",
	   ctx.n_changes, r, ctx.errmsg ? ctx.errmsg : "");
	pl->close(priv);
	vxc_ctx_fini(&ctx);
	{
		char drv[PATH_MAX + 32];

		snprintf(drv, sizeof(drv), "%s/haproxy", statedir);
		rmdir(drv); /* made by the state_dir service */
	}
	rmdir(statedir);
	rmdir(top);
	ok(access(top, F_OK) < 0, "nothing of the test is left in %s", top);
	dlclose(handle);
	return tap_done();
}
