/* NAT benchmark: N floating IPs on one router, through each NAT driver and
 * through the command-line tools, in namespaces of its own. Prints times and
 * ratios measured in the same run; nothing here passes or fails.
 *
 *   bench-nat [--no-seed | --seed N] [N...]     (default: 1000 10000; seed N 1000)
 *
 * For each N (median of FULL_REPEAT runs each): programming all N floating
 * IPs into an empty namespace through nat/nftables and nat/iptables, the
 * same ruleset through one `nft -f` and one `iptables-legacy-restore`; then
 * the time to add one floating IP when N already exist (warm driver
 * instance, as a daemon holds it; cold, a fresh instance that reads the
 * ruleset first, as a `vxcloud apply` process does; and `nft -f` adding the
 * same map element, mostly process start). The seed's way, measured at the
 * N it is reported for (no extrapolation): its commands for a floating IP
 * as the seed writes them -- `iptables -t nat -A PREROUTING -d FIP -j DNAT`,
 * the same in OUTPUT, `-A POSTROUTING -s TARGET -j SNAT` -- one
 * iptables-legacy process each, started in the namespace directly (the
 * seed's `ip netns exec` would add a process per rule: a lower bound),
 * against both drivers programming the same N. The whole `vxcloud apply`
 * around them is measured by bench-cli.sh. */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "nattest.h"
#include "netns.h"

#define EXT "203.0.113.2"
#define ADD_REPEAT 41 /* adds measured per point; the median is printed */
#define FULL_REPEAT 5 /* full programmings per point; the median is printed */

static char prefix[16], top[PATH_MAX], nsdir[PATH_MAX + 8], statedir[PATH_MAX + 8];
static char rname[32];
static int ns_seq;

struct drv {
	void *dl;
	const struct vxc_plugin *p;
	const struct vxc_nat_ops *ops;
	void *priv;
	vxc_ctx ctx;
};

static struct drv drvs[2]; /* nftables, iptables */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_change(void *arg, const char *driver, const char *what)
{
}

static int drv_load(struct drv *d, const char *path)
{
	d->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	d->p = d->dl ? dlsym(d->dl, VXC_PLUGIN_SYMBOL_NAME) : NULL;
	if (!d->p) {
		fprintf(stderr, "bench-nat: cannot load %s: %s\n", path, dlerror());
		return -1;
	}
	d->ops = d->p->ops;
	return 0;
}

static int drv_open(struct drv *d)
{
	if (d->priv) {
		d->p->close(d->priv);
		vxc_ctx_fini(&d->ctx);
	}
	vxc_ctx_init(&d->ctx, d->p, "benchhost", nsdir, statedir);
	d->ctx.sink.report = on_change;
	return d->p->open(&d->ctx, vxc_services(), &d->priv);
}

/* ---- the model: one router, one /16 network, N floating IPs --------- */

static struct vxc_host host = { .name = "benchhost" };
static struct vxc_provider prov;
static struct vxc_network net;
static struct vxc_port port;
static const struct vxc_port *ports[1] = { &port };
static struct vxc_router router;
static struct vxc_fip *fipv;
static const struct vxc_fip **fipp;

static uint32_t fip_addr(size_t i)
{
	return htonl(0x64400000u + (uint32_t)i + 1); /* 100.64.x.y */
}

static uint32_t target_addr(size_t i)
{
	return htonl(0x0a000000u + (uint32_t)i + 2); /* 10.0.x.y */
}

static void model(size_t max)
{
	fipv = calloc(max + 1, sizeof(*fipv));
	fipp = calloc(max + 1, sizeof(*fipp));
	prov.cidr.addr.s_addr = nt_ip("203.0.113.0");
	prov.cidr.len = 24;
	net.name = "net";
	net.cidr.addr.s_addr = nt_ip("10.0.0.0");
	net.cidr.len = 16;
	port.network = &net;
	port.owner = rname;
	port.owner_kind = VXC_PORT_ROUTER;
	router.name = rname;
	router.host = &host;
	router.provider = &prov;
	router.external.s_addr = nt_ip(EXT);
	router.snat = 1;
	snprintf(router.gw_if, sizeof(router.gw_if), "gw0");
	router.ports = ports;
	router.n_ports = 1;
	router.fips = fipp;
	for (size_t i = 0; i <= max; i++) {
		fipv[i].address.s_addr = fip_addr(i);
		fipv[i].target_addr.s_addr = target_addr(i);
		fipv[i].target = "inst";
		fipv[i].target_kind = VXC_TARGET_INSTANCE;
		fipv[i].router = &router;
		fipp[i] = &fipv[i];
	}
}

/* A fresh router namespace for each measurement. */
static const char *fresh_router(void)
{
	static char ns[64];

	if (ns_seq)
		vxc_netns_delete(&nt_ctx, router.netns);
	snprintf(rname, sizeof(rname), "%sb%d", prefix, ++ns_seq);
	snprintf(ns, sizeof(ns), "vxr-%s", rname);
	snprintf(router.netns, sizeof(router.netns), "%s", ns);
	if (nt_ns_create(ns) < 0) {
		fprintf(stderr, "bench-nat: cannot create namespace %s\n", ns);
		exit(1);
	}
	return ns;
}

static double ensure(struct drv *d, size_t n)
{
	double t0;
	int rc;

	router.n_fips = n;
	t0 = now_s();
	rc = d->ops->router_ensure(d->priv, &router, 0);
	t0 = now_s() - t0;
	if (rc) {
		fprintf(stderr, "bench-nat: %s: %s\n", d->p->name,
			d->ctx.errmsg ? d->ctx.errmsg : strerror(-rc));
		exit(1);
	}
	return t0;
}

/* ---- the command-line tools, for comparison ------------------------- */

/* Runs argv inside ns with stdin from in_path (or /dev/null); seconds. */
static double run_in(const char *ns, const char *const *argv, const char *in_path)
{
	int saved, status;
	double t0;
	pid_t pid;

	if (nt_enter(ns, &saved) < 0)
		exit(1);
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		int null = open("/dev/null", O_WRONLY);

		dup2(in, 0);
		dup2(null, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	t0 = now_s() - t0;
	nt_leave(saved);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench-nat: %s failed (status %d)\n", argv[0], status);
		exit(1);
	}
	return t0;
}

static const char *ip(uint32_t a)
{
	static char buf[4][16];
	static int k;

	return nt_ipstr(a, buf[k++ & 3]);
}

static void write_nft(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");

	fprintf(f, "table ip vxcloud {\n");
	for (int m = 0; m < 2; m++) {
		fprintf(f, "\tmap %s {\n\t\ttype ipv4_addr : ipv4_addr\n",
			m ? "fip_snat" : "fip_dnat");
		if (n) {
			fprintf(f, "\t\telements = {");
			for (size_t i = 0; i < n; i++)
				fprintf(f, "%s %s : %s", i ? "," : "",
					ip(m ? target_addr(i) : fip_addr(i)),
					ip(m ? fip_addr(i) : target_addr(i)));
			fprintf(f, " }\n");
		}
		fprintf(f, "\t}\n");
	}
	fprintf(f, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
		   "policy accept;\n\t\tdnat to ip daddr map @fip_dnat\n\t}\n");
	fprintf(f, "\tchain output {\n\t\ttype nat hook output priority -100; "
		   "policy accept;\n\t\tdnat to ip daddr map @fip_dnat\n\t}\n");
	fprintf(f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; "
		   "policy accept;\n"
		   "\t\toifname != \"gw0\" ct status & dnat == 0 accept\n"
		   "\t\tsnat to ip saddr map @fip_snat\n"
		   "\t\tip saddr 10.0.0.0/16 oifname \"gw0\" snat to " EXT "\n"
		   "\t\tip saddr 10.0.0.0/16 ct status dnat snat to " EXT "\n\t}\n}\n");
	fclose(f);
}

static void write_restore(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");

	fprintf(f, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
		   ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		   ":vxc-pre - [0:0]\n:vxc-out - [0:0]\n:vxc-post - [0:0]\n"
		   "-A PREROUTING -j vxc-pre\n-A OUTPUT -j vxc-out\n-A POSTROUTING -j vxc-post\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "-A vxc-pre -d %s/32 -j DNAT --to-destination %s\n", ip(fip_addr(i)),
			ip(target_addr(i)));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "-A vxc-out -d %s/32 -j DNAT --to-destination %s\n", ip(fip_addr(i)),
			ip(target_addr(i)));
	fprintf(f, "-A vxc-post ! -o gw0 -m conntrack ! --ctstate DNAT -j RETURN\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "-A vxc-post -s %s/32 -j SNAT --to-source %s\n", ip(target_addr(i)),
			ip(fip_addr(i)));
	fprintf(f, "-A vxc-post -s 10.0.0.0/16 -o gw0 -j SNAT --to-source " EXT "\n"
		   "-A vxc-post -s 10.0.0.0/16 -m conntrack --ctstate DNAT -j SNAT "
		   "--to-source " EXT "\nCOMMIT\n");
	fclose(f);
}

/* The seed's step 5 as it writes it: three iptables processes per
 * floating IP (DNAT in PREROUTING and OUTPUT, SNAT in POSTROUTING). */
static double seed_way(size_t n)
{
	const char *ns = fresh_router();
	double t = 0;

	for (size_t i = 0; i < n; i++) {
		char f[16], tg[16];
		const char *pre[] = { "iptables-legacy", "-t", "nat", "-A", "PREROUTING", "-d", f,
				      "-j", "DNAT", "--to-destination", tg, NULL };
		const char *out[] = { "iptables-legacy", "-t", "nat", "-A", "OUTPUT", "-d", f,
				      "-j", "DNAT", "--to-destination", tg, NULL };
		const char *post[] = { "iptables-legacy", "-t", "nat", "-A", "POSTROUTING", "-s",
				       tg, "-j", "SNAT", "--to-source", f, NULL };

		nt_ipstr(fip_addr(i), f);
		nt_ipstr(target_addr(i), tg);
		t += run_in(ns, pre, NULL) + run_in(ns, out, NULL) + run_in(ns, post, NULL);
	}
	return t;
}

/* ---- add one floating IP when n exist -------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* warm: the same driver instance all along (a daemon); cold: a new
 * instance for each add (a `vxcloud apply` process). Median seconds. */
static double add_one(struct drv *d, size_t n, int cold)
{
	double t[ADD_REPEAT];

	fresh_router();
	drv_open(d);
	ensure(d, n);
	for (int k = 0; k < ADD_REPEAT; k++) {
		/* Slot n takes a different floating IP each round. */
		fipv[n].address.s_addr = htonl(0x64800000u + (uint32_t)k + 1);
		if (cold)
			drv_open(d);
		t[k] = ensure(d, n + 1);
		ensure(d, n); /* and unbind it again */
	}
	fipv[n].address.s_addr = fip_addr(n);
	qsort(t, ADD_REPEAT, sizeof(t[0]), cmp_d);
	return t[ADD_REPEAT / 2];
}

/* Baseline: one `nft -f` process adding a DNAT map element to the table
 * nat/nftables made with n floating IPs (then removed, not timed). */
static double nft_add_one(size_t n, const char *path)
{
	const char *argv[] = { "nft", "-f", path, NULL };
	const char *ns = fresh_router();
	double t[ADD_REPEAT];

	drv_open(&drvs[0]);
	ensure(&drvs[0], n);
	for (int k = 0; k < ADD_REPEAT; k++) {
		char a[16], b[16];
		FILE *f = fopen(path, "w");

		nt_ipstr(htonl(0x64800000u + (uint32_t)k + 1), a);
		nt_ipstr(target_addr(n), b);
		fprintf(f, "add element ip vxcloud fip_dnat { %s : %s }\n", a, b);
		fclose(f);
		t[k] = run_in(ns, argv, NULL);
		f = fopen(path, "w");
		fprintf(f, "delete element ip vxcloud fip_dnat { %s }\n", a);
		fclose(f);
		run_in(ns, argv, NULL);
	}
	qsort(t, ADD_REPEAT, sizeof(t[0]), cmp_d);
	return t[ADD_REPEAT / 2];
}

/* ---- full programming, median of FULL_REPEAT ------------------------- */

static double median_of(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), cmp_d);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double full_driver(struct drv *d, size_t n)
{
	double t[FULL_REPEAT];

	for (int k = 0; k < FULL_REPEAT; k++) {
		fresh_router();
		drv_open(d);
		t[k] = ensure(d, n);
	}
	return median_of(t, FULL_REPEAT);
}

static double full_tool(const char *const *argv, const char *in_path)
{
	double t[FULL_REPEAT];

	for (int k = 0; k < FULL_REPEAT; k++)
		t[k] = run_in(fresh_router(), argv, in_path);
	return median_of(t, FULL_REPEAT);
}

/* ---- main ------------------------------------------------------------ */

static void cleanup(void)
{
	char p[PATH_MAX + 64];

	if (ns_seq)
		vxc_netns_delete(&nt_ctx, router.netns);
	snprintf(p, sizeof(p), "%s/ruleset.nft", top);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ruleset.ipt", top);
	unlink(p);
	while (umount2(nsdir, MNT_DETACH) == 0)
		;
	rmdir(nsdir);
	for (int i = 1; i <= ns_seq; i++) { /* nat/nftables' state files */
		snprintf(p, sizeof(p), "%s/nftables/router-%sb%d.state", statedir, prefix, i);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/nftables", statedir);
	rmdir(p);
	rmdir(statedir);
	rmdir(top);
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

/* Leftovers of an interrupted run: every namespace of ours in nsdir. */
static void sweep(void)
{
	char cmd[64];

	for (int i = 1; i < 1024; i++) {
		snprintf(cmd, sizeof(cmd), "vxr-%sb%d", prefix, i);
		vxc_netns_delete(&nt_ctx, cmd);
	}
	cleanup();
}

int main(int argc, char **argv)
{
	const char *p = getenv("VXC_TOP_BUILDDIR"), *pre = getenv("VXC_TEST_PREFIX");
	size_t ns[8] = { 1000, 10000 }, n_ns = 2, max = 0, seed_n = 1000;
	char path[PATH_MAX], nftf[PATH_MAX + 16], iptf[PATH_MAX + 16];
	const char *nft_argv[] = { "nft", "-f", nftf, NULL };
	const char *rest_argv[] = { "iptables-legacy-restore", NULL };

	if (geteuid() != 0) {
		fprintf(stderr, "bench-nat: needs root\n");
		return 77;
	}
	if (argc > 1 && !strcmp(argv[1], "--no-seed")) {
		seed_n = 0;
		argc--;
		argv++;
	} else if (argc > 2 && !strcmp(argv[1], "--seed")) {
		seed_n = strtoul(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc > 1) {
		n_ns = 0;
		for (int i = 1; i < argc && n_ns < 8; i++)
			ns[n_ns++] = strtoul(argv[i], NULL, 10);
	}
	for (size_t i = 0; i < n_ns; i++)
		max = ns[i] > max ? ns[i] : max;
	max = seed_n > max ? seed_n : max;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(prefix, sizeof(prefix), "%s", pre && *pre ? pre : "vxt");
	snprintf(top, sizeof(top), "/run/%s-nat-bench", prefix);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", top);
	snprintf(statedir, sizeof(statedir), "%s/state", top);
	snprintf(nftf, sizeof(nftf), "%s/ruleset.nft", top);
	snprintf(iptf, sizeof(iptf), "%s/ruleset.ipt", top);
	vxc_ctx_init(&nt_ctx, NULL, "benchhost", nsdir, statedir);
	sweep();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);
	mkdir(top, 0700);
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "iptables" : "nftables";

		snprintf(path, sizeof(path), "%s/plugins/nat/%s/.libs/%s.so", p ? p : ".", name,
			 name);
		if (drv_load(&drvs[i], path) < 0)
			return 1;
	}
	model(max + 1);

	printf("NAT benchmark: one router, N floating IPs (DNAT prerouting + output, SNAT)\n");
	printf("kernel objects per N: nftables 2 map elements; iptables 3 rules\n\n");
	printf("programming N floating IPs into an empty namespace (median of %d)\n",
	       FULL_REPEAT);
	printf("%-7s %12s %12s %9s   %12s %12s %9s\n", "N", "nat/nftables", "nft -f", "drv/nft",
	       "nat/iptables", "ipt-restore", "drv/rest");
	for (size_t i = 0; i < n_ns; i++) {
		double t_nd, t_nf, t_id, t_ir;

		t_nd = full_driver(&drvs[0], ns[i]);
		write_nft(nftf, ns[i]);
		t_nf = full_tool(nft_argv, NULL);
		t_id = full_driver(&drvs[1], ns[i]);
		write_restore(iptf, ns[i]);
		t_ir = full_tool(rest_argv, iptf);
		printf("%-7zu %10.1fms %10.1fms %8.2fx   %10.1fms %10.1fms %8.2fx\n", ns[i],
		       t_nd * 1e3, t_nf * 1e3, t_nd / t_nf, t_id * 1e3, t_ir * 1e3, t_id / t_ir);
	}

	if (seed_n) {
		double seed, t_nd, t_id;

		printf("\nthe seed's way at N = %zu: its 3 iptables commands per floating IP, one "
		       "iptables-legacy process each (%zu processes, one run)\n", seed_n,
		       3 * seed_n);
		seed = seed_way(seed_n);
		t_nd = full_driver(&drvs[0], seed_n);
		t_id = full_driver(&drvs[1], seed_n);
		printf("  seed %.2f s; nat/nftables %.1f ms (%.0fx faster); nat/iptables %.1f ms "
		       "(%.0fx faster)\n", seed, t_nd * 1e3, seed / t_nd, t_id * 1e3, seed / t_id);
	}

	printf("\nadd one floating IP when N exist (median of %d)\n", ADD_REPEAT);
	printf("%-7s %12s %12s %12s %12s   %s\n", "N", "nft warm", "nft cold", "iptables",
	       "nft -f add", "cold/nft-f");
	{
		size_t pts[] = { 10, 1000, 10000, 100000 };
		double w10 = 0, c10 = 0;

		for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
			double w, c, t, f;

			if (pts[i] > max)
				continue;
			w = add_one(&drvs[0], pts[i], 0);
			c = add_one(&drvs[0], pts[i], 1);
			t = add_one(&drvs[1], pts[i], 0);
			f = nft_add_one(pts[i], nftf);
			if (pts[i] == 10) {
				w10 = w;
				c10 = c;
			}
			printf("%-7zu %10.3fms %10.3fms %10.3fms %10.3fms   %8.2fx", pts[i], w * 1e3,
			       c * 1e3, t * 1e3, f * 1e3, c / f);
			if (pts[i] > 10 && w10 > 0)
				printf("   nft warm %.2fx, cold %.2fx of N = 10", w / w10, c / c10);
			printf("\n");
		}
		printf("targets: nat/nftables adds one at N = 10000 in under 1 ms, within 2x of "
		       "N = 10\n");
	}
	for (int i = 0; i < 2; i++) {
		if (drvs[i].priv)
			drvs[i].p->close(drvs[i].priv);
	}
	return 0;
}
