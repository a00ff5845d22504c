/* Benchmark: programming N remote ports' fdb entries on one VXLAN device,
 * through the linuxbridge driver (network_ensure: one dump, a sorted diff,
 * batched netlink), against one `bridge -batch FILE` process and (N = 1,000
 * only, the seed's way) one `bridge fdb append` process per entry. Every
 * method starts from a freshly made VXLAN device; each figure is the median
 * of RUNS runs. Also: re-applying the unchanged set through the driver.
 *
 * Root only; runs in a network namespace of its own (unshare), so the
 * `bridge` processes it starts see only its devices. Not part of `make
 * check` (timings are not pass/fail): run it with `make -C tests/bench
 * bench` after building. Prints times and ratios. */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include <vxcloud/vxcloud.h>

/* Medians damp the noise of a shared machine; one run of the
 * process-per-entry baseline is enough (it is orders of magnitude off). */
#define RUNS 5

static const struct vxc_plugin *plugin;
static const struct vxc_network_ops *ops;
static void *priv;
static char bridge_bin[PATH_MAX] = "bridge";
static char prefix[9];
static struct vxc_network net;
static struct vxc_host self = { .name = "bench", .underlay_mtu = 1500 };
static struct nl_sock *sk;

/* ---- a minimal host services table: the benchmark needs no core ------ */

struct vxc_ctx {
	unsigned n_changes;
	char err[512];
};

static void svc_log(vxc_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > VXC_LOG_WARN)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int svc_error(vxc_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EIO;
}

static void svc_change(vxc_ctx *ctx, const char *fmt, ...)
{
	ctx->n_changes++;
}

static int svc_opt_int(vxc_ctx *ctx, const char *name, long long *out)
{
	*out = 4789;
	return 0;
}

static int svc_opt_bool(vxc_ctx *ctx, const char *name, int *out)
{
	*out = 0;
	return 0;
}

static const struct vxc_services svc = {
	.size = sizeof(struct vxc_services),
	.log = svc_log,
	.error = svc_error,
	.change = svc_change,
	.opt_int = svc_opt_int,
	.opt_bool = svc_opt_bool,
};

static vxc_ctx ctx;

/* ---- helpers --------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dbl_cmp);
	return v[n / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench-fdb: %s%s%s\n", what, ctx.err[0] ? ": " : "", ctx.err);
	exit(1);
}

/* Count of the VXLAN device's own fdb entries (to check each method). */
static int count_cb(struct nl_msg *msg, void *arg)
{
	struct ndmsg *ndm = nlmsg_data(nlmsg_hdr(msg));

	if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWNEIGH && (ndm->ndm_flags & NTF_SELF))
		(*(size_t *)arg)++;
	return NL_OK;
}

static size_t fdb_count(void)
{
	struct rtnl_link *l = NULL;
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
	size_t n = 0;

	if (rtnl_link_get_kernel(sk, 0, net.vxlan_if, &l) < 0)
		return 0;
	ifi.ifi_index = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	nl_send_simple(sk, RTM_GETNEIGH, NLM_F_DUMP, &ifi, sizeof(ifi));
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, count_cb, &n);
	nl_recvmsgs_default(sk);
	return n;
}

/* A new, empty VXLAN device (and bridge), made through the driver. */
static void fresh_device(void)
{
	struct vxc_owned o = { .kind = VXC_KIND_NETWORK, .name = net.name };

	if (ops->remove(priv, &o, 0) < 0 || ops->network_ensure(priv, &net, &self, NULL, 0, 0) < 0)
		die("cannot reset the VXLAN device");
}

static struct vxc_fdb_entry *make_entries(size_t n)
{
	struct vxc_fdb_entry *e = calloc(n, sizeof(*e));

	for (size_t i = 0; e && i < n; i++) {
		/* 100 remote hosts 10.200.0.1..100, MACs 02:bb:00:xx:xx:xx */
		e[i].mac.b[0] = 0x02;
		e[i].mac.b[1] = 0xbb;
		e[i].mac.b[3] = (uint8_t)(i >> 16);
		e[i].mac.b[4] = (uint8_t)(i >> 8);
		e[i].mac.b[5] = (uint8_t)i;
		e[i].remote.s_addr = htonl(0x0ac80000u | (uint32_t)(1 + i % 100));
	}
	return e;
}

static void entry_args(const struct vxc_fdb_entry *e, char mac[18], char dst[16])
{
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", e->mac.b[0], e->mac.b[1], e->mac.b[2],
		 e->mac.b[3], e->mac.b[4], e->mac.b[5]);
	inet_ntop(AF_INET, &e->remote, dst, 16);
}

/* A measurement: wall-clock time, and CPU time (user + system, the
 * kernel's work on our behalf included) of this process or the baseline's
 * child processes. CPU time is the fairer figure on a loaded machine, where
 * a process that waits for every answer also waits for the scheduler. */
struct cost {
	double wall, cpu;
};

static double tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static double self_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
}

/* fork + execve of an argv, waited for; adds the child's CPU time. */
static int run(char *const argv[], double *cpu)
{
	struct rusage ru;
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0)
		return -errno;
	*cpu += tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* ---- the methods ------------------------------------------------------- */

static struct cost time_driver(const struct vxc_fdb_entry *e, size_t n, struct cost *reapply)
{
	struct cost c;
	double w0 = now_ms(), c0 = self_cpu_ms(), w1, c1;

	ctx.n_changes = 0;
	if (ops->network_ensure(priv, &net, &self, e, n, 0) < 0)
		die("driver: network_ensure");
	w1 = now_ms();
	c1 = self_cpu_ms();
	c = (struct cost){ w1 - w0, c1 - c0 };
	ctx.n_changes = 0;
	if (ops->network_ensure(priv, &net, &self, e, n, 0) < 0 || ctx.n_changes)
		die("driver: re-apply was not a no-op");
	*reapply = (struct cost){ now_ms() - w1, self_cpu_ms() - c1 };
	return c;
}

static struct cost time_batch(const struct vxc_fdb_entry *e, size_t n, const char *file)
{
	char mac[18], dst[16];
	char *argv[] = { bridge_bin, "-batch", (char *)file, NULL };
	FILE *f = fopen(file, "w");
	struct cost c = { 0, 0 };
	double t0;

	if (!f)
		die("cannot write the batch file");
	for (size_t i = 0; i < n; i++) {
		entry_args(&e[i], mac, dst);
		fprintf(f, "fdb append %s dev %s dst %s self permanent\n", mac, net.vxlan_if, dst);
	}
	fclose(f);
	t0 = now_ms();
	if (run(argv, &c.cpu) < 0)
		die("bridge -batch failed");
	c.wall = now_ms() - t0;
	return c;
}

static struct cost time_per_entry(const struct vxc_fdb_entry *e, size_t n)
{
	char mac[18], dst[16];
	char *argv[] = { bridge_bin, "fdb", "append", mac, "dev", net.vxlan_if, "dst", dst,
			 "self", "permanent", NULL };
	struct cost c = { 0, 0 };
	double t0 = now_ms();

	for (size_t i = 0; i < n; i++) {
		entry_args(&e[i], mac, dst);
		if (run(argv, &c.cpu) < 0)
			die("bridge fdb append failed");
	}
	c.wall = now_ms() - t0;
	return c;
}

static void check(size_t n, const char *method)
{
	size_t got = fdb_count();

	if (got != n) {
		fprintf(stderr, "bench-fdb: %s left %zu entries, want %zu\n", method, got, n);
		exit(1);
	}
}

static struct cost median_cost(struct cost *v, int n)
{
	double w[RUNS], c[RUNS];

	for (int i = 0; i < n; i++) {
		w[i] = v[i].wall;
		c[i] = v[i].cpu;
	}
	return (struct cost){ median(w, n), median(c, n) };
}

static void row(const char *what, struct cost c, struct cost ref)
{
	printf("  %-28s %10.1f %10.1f", what, c.wall, c.cpu);
	if (ref.wall > 0)
		printf("   %8.2fx %8.2fx", c.wall / ref.wall, c.cpu / ref.cpu);
	printf("\n");
}

static void bench(size_t n, int per_entry, const char *batch_file)
{
	struct vxc_fdb_entry *e = make_entries(n);
	struct cost drv[RUNS], re[RUNS], bat[RUNS], one = { 0, 0 }, d, none = { 0, 0 };

	if (!e)
		die("out of memory");
	for (int i = 0; i < RUNS; i++) {
		fresh_device();
		drv[i] = time_driver(e, n, &re[i]);
		check(n, "the driver");
		fresh_device();
		bat[i] = time_batch(e, n, batch_file);
		check(n, "bridge -batch");
		if (per_entry && i == 0) {
			fresh_device();
			one = time_per_entry(e, n);
			check(n, "bridge per entry");
		}
	}
	d = median_cost(drv, RUNS);
	printf("N = %zu remote ports%*s %10s %10s   %9s %9s\n", n, n < 10000 ? 7 : 6, "",
	       "wall ms", "cpu ms", "wall/drv", "cpu/drv");
	row("driver (network_ensure)", d, none);
	row("driver re-apply, unchanged", median_cost(re, RUNS), d);
	row("one bridge -batch", median_cost(bat, RUNS), d);
	if (per_entry)
		row("one bridge process per entry", one, d);
	free(e);
}

static void find_bridge(void)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(bridge_bin, sizeof(bridge_bin), "%s/bridge", dirs[i]);
		if (access(bridge_bin, X_OK) == 0)
			return;
	}
	die("iproute2's bridge command not found (the baseline)");
}

int main(int argc, char **argv)
{
	const char *top = getenv("VXC_TOP_BUILDDIR"), *p = getenv("VXC_TEST_PREFIX");
	char so[PATH_MAX], batch_file[PATH_MAX];
	void *h;

	if (geteuid() != 0) {
		fprintf(stderr, "bench-fdb: needs root (skipped)\n");
		return 77;
	}
	snprintf(prefix, sizeof(prefix), "%s", p && *p ? p : "vxt");
	snprintf(so, sizeof(so), "%s/plugins/network/linuxbridge/.libs/linuxbridge.so",
		 top ? top : "../..");
	find_bridge();
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)");
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h || !(plugin = dlsym(h, VXC_PLUGIN_SYMBOL_NAME))) {
		fprintf(stderr, "bench-fdb: cannot load %s: %s\n", so, dlerror());
		return 1;
	}
	ops = plugin->ops;
	if (plugin->open(&ctx, &svc, &priv) < 0)
		die("open");
	sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0)
		die("netlink");
	net.name = "bench";
	net.vni = 777;
	net.mtu = 1450;
	snprintf(net.bridge_if, sizeof(net.bridge_if), "%sb-bench", prefix);
	snprintf(net.vxlan_if, sizeof(net.vxlan_if), "%sx-bench", prefix);
	self.tunnel.s_addr = htonl(0x0ac80063u);
	snprintf(batch_file, sizeof(batch_file), "/tmp/%s-bench-fdb.%d", prefix, (int)getpid());

	printf("fdb entries on one VXLAN device; median of %d runs (process per entry: one "
	       "run);\nratios against the driver's programming of the same N in this run\n\n",
	       RUNS);
	bench(1000, 1, batch_file);
	bench(10000, 0, batch_file);
	if (argc > 1 && !strcmp(argv[1], "--100k"))
		bench(100000, 0, batch_file);
	unlink(batch_file);
	plugin->close(priv);
	nl_socket_free(sk);
	return 0;
}
