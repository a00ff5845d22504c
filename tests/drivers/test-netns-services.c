/* Root-only: the core's namespace, veth and process services, checked
 * against the kernel through libnl. Everything happens inside namespaces
 * this test makes under its own netns directory; the root namespace is
 * never touched. Namespaces and links are named with $VXC_TEST_PREFIX. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "netns.h"
#include "nl.h"
#include "nltest.h"
#include "tap.h"
#include "util.h"

static char prefix[16], top[256], nsdir[512], statedir[512];
static char ns_host[64], ns_inst[64], if_host[IFNAMSIZ], if_foreign[IFNAMSIZ];
static vxc_ctx ctx;
static pid_t sleeper;

/* ------------------------------------------------------------------ */
/* cleanup: also for leftovers of an interrupted earlier run            */

/* The sleeper's PID is kept in a file, so a run killed with SIGKILL has
 * its daemon ended (by that PID, when it still runs sleep) by the next. */
static void kill_recorded_sleeper(void)
{
	char p[PATH_MAX];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/sleep.pid", top);
	f = fopen(p, "r");
	if (f && fscanf(f, "%d", &pid) == 1 && pid > 0 && vxc_proc_alive(&ctx, pid, "sleep"))
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	unlink(p);
}

static void record_sleeper(pid_t pid)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/sleep.pid", top);
	f = fopen(p, "w");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

static void remove_tree_mounts(void)
{
	char p[PATH_MAX + 300];
	const char *names[] = { ns_host, ns_inst };

	kill_recorded_sleeper();

	for (size_t i = 0; i < VXC_ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", nsdir, names[i]);
		while (umount2(p, MNT_DETACH) == 0)
			;
		unlink(p);
	}
	while (umount2(nsdir, MNT_DETACH) == 0)
		;
	rmdir(nsdir);
	snprintf(p, sizeof(p), "%s/sleep.log", top);
	unlink(p);
	snprintf(p, sizeof(p), "%s/hello.log", top);
	unlink(p);
	snprintf(p, sizeof(p), "%s/not-executable", top);
	unlink(p);
	rmdir(statedir);
	rmdir(top);
}

static void cleanup(void)
{
	if (sleeper > 0 && vxc_proc_alive(&ctx, sleeper, "sleep"))
		kill(sleeper, SIGKILL);
	sleeper = 0;
	remove_tree_mounts();
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

static void report(void *arg, const char *driver, const char *what)
{
	printf("# change: %s\n", what);
}

/* Namespace names -> their files, for the libnl read-back helpers. */
static const char *nsf(const char *ns)
{
	static char buf[2][PATH_MAX];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", nsdir, ns);
	return buf[i];
}

/* ------------------------------------------------------------------ */

static void collect_name(void *arg, const char *name)
{
	char *buf = arg;

	snprintf(buf + strlen(buf), 256 - strlen(buf), "%s%s", *buf ? " " : "", name);
}

static void test_netns(void)
{
	char listed[256] = "", path[PATH_MAX + 64];
	struct stat st;
	int fd;

	ok(vxc_netns_create(&ctx, ns_host) == 0, "create netns %s", ns_host);
	if (ctx.errmsg)
		printf("# %s\n", ctx.errmsg);
	snprintf(path, sizeof(path), "%s/%s", nsdir, ns_host);
	ok(stat(path, &st) == 0, "its file exists in the netns dir");
	ok(vxc_netns_create(&ctx, ns_host) == 0, "create again is a no-op");
	fd = vxc_netns_open(&ctx, ns_host);
	ok(fd >= 0, "open gives an fd");
	if (fd >= 0)
		close(fd);
	ok(nlt_link(nsf(ns_host), "lo").up, "lo is up in the new namespace");
	ok(vxc_netns_create(&ctx, ns_inst) == 0, "create netns %s", ns_inst);
	ok(vxc_netns_list(&ctx, prefix, collect_name, listed) == 0, "list by prefix");
	{
		char want[256];
		/* sorted: "<p>-host" < "<p>-inst" */
		snprintf(want, sizeof(want), "%s %s", ns_host, ns_inst);
		is_str(listed, want, "list shows both namespaces, sorted");
	}
	listed[0] = '\0';
	vxc_netns_list(&ctx, "no-such-prefix-", collect_name, listed);
	is_str(listed, "", "list with another prefix shows none");
	ok(vxc_netns_open(&ctx, "vxc-absent") == -ENOENT, "open of a missing namespace: -ENOENT");
	ok(vxc_netns_create(&ctx, "a/b") == -EINVAL, "a name with '/' is refused");
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
}

static struct vxc_veth make_veth(int fd)
{
	struct vxc_veth v = {
		.host_if = if_host,
		.alias = "vxcloud:instance:t1",
		.netns_fd = fd,
		.peer_if = "eth0",
		.prefixlen = 24,
		.mtu = 1450,
	};

	vxc_mac_parse("02:00:5e:99:00:05", &v.mac);
	vxc_ip_parse("10.99.0.5", &v.addr);
	vxc_ip_parse("10.99.0.1", &v.gateway);
	return v;
}

static void check_wanted(const char *when)
{
	struct nlt_link h = nlt_link(nsf(ns_host), if_host), p = nlt_link(nsf(ns_inst), "eth0");
	char addrs[256], gw[64];

	ok(h.exists && h.up && h.mtu == 1450, "%s: host end exists, up, MTU 1450", when);
	is_str(h.alias, "vxcloud:instance:t1", "%s: host end carries the alias", when);
	ok(p.exists && p.up && p.mtu == 1450, "%s: peer eth0 in the namespace, up, MTU 1450",
	   when);
	is_str(p.mac, "02:00:5e:99:00:05", "%s: peer MAC", when);
	nlt_addrs(nsf(ns_inst), "eth0", addrs, sizeof(addrs));
	is_str(addrs, "10.99.0.5/24", "%s: peer has exactly its address", when);
	nlt_default_gw(nsf(ns_inst), gw, sizeof(gw));
	is_str(gw, "10.99.0.1", "%s: default route via the gateway", when);
}

static void test_veth(void)
{
	int fd = vxc_netns_open(&ctx, ns_inst);
	struct vxc_veth v = make_veth(fd), nofd = make_veth(-1);
	char addrs[256];
	int r;

	ok(fd >= 0, "open the instance namespace");
	vxc_ctx_reset(&ctx);
	ok(vxc_veth_ensure(&ctx, &v, 0x80) == -EINVAL, "unknown flag bits: -EINVAL");

	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &nofd, VXC_F_DRY_RUN);
	ok(r == 0 && ctx.n_changes >= 1, "dry run without a namespace yet reports (%u changes)",
	   ctx.n_changes);
	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, VXC_F_DRY_RUN);
	ok(r == 0 && ctx.n_changes >= 1, "dry run reports the creation (%u changes)",
	   ctx.n_changes);
	ok(!nlt_link(nsf(ns_host), if_host).exists, "dry run created nothing");

	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == 0 && ctx.n_changes >= 1, "ensure creates the pair (%u changes)", ctx.n_changes);
	if (r < 0)
		printf("# %s\n", ctx.errmsg);
	check_wanted("created");

	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == 0 && ctx.n_changes == 0, "second ensure: no changes (%u)", ctx.n_changes);

	/* Tamper: MTU on both ends, an extra address, the default route. */
	ok(nlt_set_mtu(nsf(ns_inst), "eth0", 1400) == 0 &&
		   nlt_set_mtu(nsf(ns_host), if_host, 1500) == 0,
	   "tamper: MTUs changed behind vxcloud's back");
	ok(nlt_add_addr(nsf(ns_inst), "eth0", "10.99.0.77/24") == 0, "tamper: extra address added");
	ok(nlt_del_default_route(nsf(ns_inst)) == 0, "tamper: default route removed");

	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, VXC_F_DRY_RUN);
	ok(r == 0 && ctx.n_changes == 4, "dry run reports the 4 corrections (%u)", ctx.n_changes);
	ok(nlt_link(nsf(ns_inst), "eth0").mtu == 1400, "dry run left the MTU as it was");
	nlt_addrs(nsf(ns_inst), "eth0", addrs, sizeof(addrs));
	ok(strstr(addrs, "10.99.0.77/24") != NULL, "dry run left the extra address");

	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == 0 && ctx.n_changes == 4, "ensure corrects and reports 4 changes (%u)",
	   ctx.n_changes);
	check_wanted("corrected");

	/* A changed spec: new address and MAC. */
	vxc_ip_parse("10.99.0.6", &v.addr);
	vxc_mac_parse("02:00:5e:99:00:06", &v.mac);
	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	/* MAC, old address out, new one in, and the default route again: the
	 * kernel drops it with the last address of its subnet. */
	ok(r == 0 && ctx.n_changes == 4, "new address and MAC: 4 changes (%u)", ctx.n_changes);
	if (r < 0)
		printf("# %s\n", ctx.errmsg);
	nlt_addrs(nsf(ns_inst), "eth0", addrs, sizeof(addrs));
	is_str(addrs, "10.99.0.6/24", "address replaced");
	is_str(nlt_link(nsf(ns_inst), "eth0").mac, "02:00:5e:99:00:06", "MAC replaced");
	vxc_ctx_reset(&ctx);
	ok(vxc_veth_ensure(&ctx, &v, 0) == 0 && ctx.n_changes == 0, "then no changes again");

	/* Somebody else's interface under the same name is never taken over. */
	ok(nlt_add_plain_veth(nsf(ns_host), if_foreign) == 0, "a foreign veth %s exists",
	   if_foreign);
	v.host_if = if_foreign;
	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == -EEXIST && ctx.n_changes == 0, "ensure refuses a foreign interface (%d)", r);
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
	ok(ctx.errmsg && strstr(ctx.errmsg, if_foreign), "the message names the interface");
	ok(nlt_link(nsf(ns_host), if_foreign).alias[0] == '\0',
	   "the foreign interface is untouched");
	v.host_if = if_host;

	close(fd);
}

/* What a run killed between creating the pair and setting the alias
 * leaves: the host end with vxcloud's creation MAC and no alias. */
static int add_newborn_veth(int inst_fd, int birth_mac)
{
	int hfd = vxc_netns_open(&ctx, ns_host), r = -1;
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer;
	struct nl_sock *sk = NULL;
	struct vxc_mac birth;
	struct nl_addr *a;

	if (hfd < 0 || !l || vxc_nl_open(&ctx, hfd, &sk) < 0)
		goto out;
	vxc_link_birth_mac("test", if_host, &birth);
	a = nl_addr_build(AF_LLC, birth.b, 6);
	rtnl_link_set_name(l, if_host);
	if (birth_mac)
		rtnl_link_set_addr(l, a);
	nl_addr_put(a);
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, inst_fd);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
out:
	if (l)
		rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
	if (hfd >= 0)
		close(hfd);
	return r;
}

static void test_veth_newborn(void)
{
	int fd = vxc_netns_open(&ctx, ns_inst);
	struct vxc_veth v = make_veth(fd);
	int r;

	ok(vxc_link_delete(&ctx, if_host) == 0 && add_newborn_veth(fd, 1) == 0,
	   "a veth left by a run killed before its alias");
	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == 0, "ensure claims it instead of refusing it (%d)", r);
	check_wanted("claimed newborn");
	ok(vxc_link_delete(&ctx, if_host) == 0 && add_newborn_veth(fd, 0) == 0,
	   "an unmarked veth (older build) whose peer is in the instance's namespace");
	vxc_ctx_reset(&ctx);
	r = vxc_veth_ensure(&ctx, &v, 0);
	ok(r == 0, "ensure claims it (%d)", r);
	check_wanted("claimed by its peer");
	close(fd);
}

static void test_link_delete(void)
{
	ok(vxc_link_delete(&ctx, if_host) == 0, "link_delete %s", if_host);
	ok(!nlt_link(nsf(ns_host), if_host).exists, "host end gone");
	ok(!nlt_link(nsf(ns_inst), "eth0").exists, "peer gone with it");
	ok(vxc_link_delete(&ctx, if_host) == 0, "link_delete of an absent link: 0");
}

static int ns_inode(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	*ino = st.st_ino;
	return 0;
}

/* Waits for a file to hold text; generous bound, not a timing assertion. */
static int file_has(const char *path, const char *text)
{
	char buf[256];

	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		if (strstr(buf, text))
			return 1;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return 0;
}

static void test_process(void)
{
	const char *sleep_argv[] = { "sleep", "30", NULL };
	const char *missing_argv[] = { "vxc-no-such-program", NULL };
	const char *printf_argv[] = { "printf", "hello from %s\\n", "vxcloud", NULL };
	char log[PATH_MAX + 32], path[PATH_MAX + 64], nsfile[PATH_MAX + 64];
	const char *abs_argv[] = { path, NULL };
	int fd = vxc_netns_open(&ctx, ns_inst);
	struct vxc_spawn sp = { .argv = sleep_argv, .netns_fd = fd, .log_path = log };
	ino_t want, got;
	pid_t pid = 0;
	int r;

	snprintf(log, sizeof(log), "%s/sleep.log", top);
	r = vxc_spawn(&ctx, &sp, &pid);
	ok(r == 0 && pid > 0, "spawn sleep 30 in the namespace (pid %d)", (int)pid);
	if (r < 0)
		printf("# %s\n", ctx.errmsg);
	sleeper = pid;
	record_sleeper(pid);
	ok(vxc_proc_alive(&ctx, pid, "sleep") == 1, "proc_alive(pid, sleep)");
	ok(vxc_proc_alive(&ctx, pid, "/usr/bin/sleep") == 1, "proc_alive matches by basename");
	ok(vxc_proc_alive(&ctx, pid, "haproxy") == 0, "proc_alive with another program: no");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	snprintf(nsfile, sizeof(nsfile), "%s/%s", nsdir, ns_inst);
	ok(ns_inode(path, &got) == 0 && ns_inode(nsfile, &want) == 0 && got == want,
	   "the process runs in the instance namespace");
	{
		char stat_path[64], buf[512];
		FILE *f;
		int ppid = -1;

		snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)pid);
		f = fopen(stat_path, "r");
		if (f && fgets(buf, sizeof(buf), f))
			sscanf(strrchr(buf, ')') + 2, "%*c %d", &ppid);
		if (f)
			fclose(f);
		ok(ppid != getpid(), "the daemon is not our child (ppid %d)", ppid);
	}
	ok(vxc_proc_stop(&ctx, pid, 3000) == 0, "proc_stop");
	ok(vxc_proc_alive(&ctx, pid, "sleep") == 0, "no longer alive");
	sleeper = 0;
	ok(vxc_proc_stop(&ctx, pid, 100) == 0, "stop of a gone PID: 0");

	sp.argv = missing_argv;
	r = vxc_spawn(&ctx, &sp, &pid);
	ok(r == -ENOENT, "spawn of a missing program: -ENOENT (%d)", r);
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");

	/* Failures only the child sees come back through the pipe. */
	snprintf(path, sizeof(path), "%s/not-executable", top);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	sp.argv = abs_argv;
	r = vxc_spawn(&ctx, &sp, &pid);
	ok(r == -EACCES, "execve failure in the child comes back: -EACCES (%d)", r);
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
	sp.argv = sleep_argv;
	sp.cwd = "/nonexistent-vxc-dir";
	r = vxc_spawn(&ctx, &sp, &pid);
	ok(r == -ENOENT, "chdir failure in the child comes back: -ENOENT (%d)", r);
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
	sp.cwd = NULL;

	snprintf(log, sizeof(log), "%s/hello.log", top);
	sp.argv = printf_argv;
	r = vxc_spawn(&ctx, &sp, &pid);
	ok(r == 0 && file_has(log, "hello from vxcloud"), "stdout goes to the log file");
	close(fd);
}

/* Leftovers and planted files in the netns directory. */
static void test_netns_leftovers(void)
{
	char empty[64], link[64], path[PATH_MAX + 64], outside[PATH_MAX + 64];
	struct statfs sfs;
	int fd;

	snprintf(empty, sizeof(empty), "%s-empty", prefix);
	snprintf(path, sizeof(path), "%s/%s", nsdir, empty);
	fd = open(path, O_WRONLY | O_CREAT, 0);
	if (fd >= 0)
		close(fd);
	vxc_ctx_reset(&ctx);
	ok(vxc_netns_delete(&ctx, empty) == 0 && ctx.n_changes == 1 && access(path, F_OK) < 0,
	   "delete removes and reports the empty file a killed destroy left (%u)",
	   ctx.n_changes);

	snprintf(link, sizeof(link), "%s-planted", prefix);
	snprintf(path, sizeof(path), "%s/%s", nsdir, link);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	fd = open(outside, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	ok(symlink(outside, path) == 0, "a symlink planted in the netns dir");
	ok(vxc_netns_create(&ctx, link) < 0, "create refuses to follow it");
	printf("# %s\n", ctx.errmsg ? ctx.errmsg : "(no message)");
	ok(statfs(outside, &sfs) == 0 && sfs.f_type != NSFS_MAGIC,
	   "nothing is mounted onto the file outside");
	unlink(path);
	ok(symlink("/proc/self/ns/net", path) == 0, "a symlink to a namespace file");
	fd = vxc_netns_open(&ctx, link);
	ok(fd < 0, "open refuses to follow it (%d)", fd);
	if (fd >= 0)
		close(fd);
	vxc_ctx_reset(&ctx);
	ok(vxc_netns_delete(&ctx, link) == 0 && access(path, F_OK) < 0 &&
		   access("/proc/self/ns/net", F_OK) == 0,
	   "delete removes the symlink itself");
	unlink(outside);
}

static void test_delete(void)
{
	char listed[256] = "";

	ok(vxc_netns_delete(&ctx, ns_inst) == 0, "delete %s", ns_inst);
	ok(vxc_netns_open(&ctx, ns_inst) == -ENOENT, "it is gone");
	ok(vxc_netns_delete(&ctx, ns_inst) == 0, "delete again: 0");
	vxc_netns_list(&ctx, prefix, collect_name, listed);
	is_str(listed, ns_host, "only the host namespace is left");
}

int main(void)
{
	const char *p = getenv("VXC_TEST_PREFIX");
	int saved = -1, fd;

	if (geteuid() != 0) {
		puts("1..0 # SKIP needs root");
		return 77;
	}
	p = p && *p ? p : "vxt";
	if (strlen(p) > 12) {
		printf("Bail out! VXC_TEST_PREFIX '%s' is longer than 12 characters\n", p);
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "%s", p);
	snprintf(top, sizeof(top), "/tmp/%s-netns-services", prefix);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", top);
	snprintf(statedir, sizeof(statedir), "%s/state", top);
	snprintf(ns_host, sizeof(ns_host), "%s-host", prefix);
	snprintf(ns_inst, sizeof(ns_inst), "%s-inst", prefix);
	snprintf(if_host, sizeof(if_host), "%.12s-v1", prefix);
	snprintf(if_foreign, sizeof(if_foreign), "%.12s-f1", prefix);

	setvbuf(stdout, NULL, _IOLBF, 0);
	vxc_ctx_init(&ctx, NULL, "test", nsdir, statedir);
	ctx.sink.report = report;
	remove_tree_mounts(); /* an earlier interrupted run */
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (vxc_mkdir_p(statedir, 0755) < 0) {
		printf("Bail out! cannot create %s\n", statedir);
		return 1;
	}

	test_netns();
	/* The veth host ends live in a namespace standing in for the host. */
	fd = vxc_netns_open(&ctx, ns_host);
	ok(fd >= 0 && vxc_netns_enter(&ctx, fd, &saved) == 0, "enter %s", ns_host);
	if (fd >= 0)
		close(fd);
	if (saved < 0) {
		printf("Bail out! cannot enter the host namespace\n");
		return 1;
	}
	test_veth();
	test_veth_newborn();
	test_link_delete();
	test_process();
	ok(vxc_netns_leave(&ctx, saved) == 0, "leave %s", ns_host);
	test_netns_leftovers();
	test_delete();
	ok(vxc_netns_delete(&ctx, ns_host) == 0, "delete %s", ns_host);
	vxc_ctx_fini(&ctx);
	return tap_done();
}
