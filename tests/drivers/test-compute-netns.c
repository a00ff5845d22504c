/* Root-only: the compute/netns plugin, loaded with dlopen like the core
 * loads it, driven with a hand-made model and checked through libnl and
 * /proc. The instance's host end lives in a namespace standing in for the
 * host; every namespace sits in this test's own netns directory. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vxcloud/compute.h>

#include "ctx.h"
#include "netns.h"
#include "nltest.h"
#include "tap.h"
#include "util.h"

static char prefix[16], top[256], nsdir[512], statedir[512], drvstate[600];
static char ns_host[64], inst_name[32], inst_ns[64];
static vxc_ctx core;   /* the test's own calls into the core */
static vxc_ctx dctx;   /* the driver's context */

static const char *nsf(const char *ns)
{
	static char buf[2][PATH_MAX];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", nsdir, ns);
	return buf[i];
}

static pid_t recorded_pid(void)
{
	char p[PATH_MAX];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/%s.pid", drvstate, inst_name);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* Leftovers of this test (also of a run killed with SIGKILL): the command
 * it started, by its recorded PID, and its namespaces and files. */
static void cleanup(void)
{
	const char *names[] = { inst_ns, ns_host };
	char p[PATH_MAX + 300];
	pid_t pid = recorded_pid();

	if (pid > 0 && vxc_proc_alive(&core, pid, "sleep"))
		kill(pid, SIGKILL);
	for (size_t i = 0; i < VXC_ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", nsdir, names[i]);
		while (umount2(p, MNT_DETACH) == 0)
			;
		unlink(p);
	}
	while (umount2(nsdir, MNT_DETACH) == 0)
		;
	rmdir(nsdir);
	snprintf(p, sizeof(p), "%s/%s.pid", drvstate, inst_name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.log", drvstate, inst_name);
	unlink(p);
	rmdir(drvstate);
	rmdir(statedir);
	rmdir(top);
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

static void report(void *arg, const char *driver, const char *what)
{
	printf("# change (%s): %s\n", driver, what);
}

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	*ino = st.st_ino;
	return 0;
}

static int runs_in_instance_ns(pid_t pid)
{
	char p[64];
	ino_t a, b;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	return ns_ino(p, &a) == 0 && ns_ino(nsf(inst_ns), &b) == 0 && a == b;
}

/* Waits (generous bound, not a timing assertion) for pid to stop running. */
static int gone(pid_t pid)
{
	for (int i = 0; i < 1000; i++) {
		if (!vxc_proc_alive(&core, pid, NULL))
			return 1;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return 0;
}

static void count_found(void *arg, pid_t pid, unsigned long long start, pid_t ppid)
{
	(void)pid;
	(void)start;
	(void)ppid;
	++*(int *)arg;
}

/* Processes carrying the instance's owner mark. */
static int n_marked(const char *owner)
{
	int n = 0;

	vxc_proc_find(&dctx, owner, count_found, &n);
	return n;
}

static void write_record(const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s.pid", drvstate, inst_name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Dies the way a SIGKILLed vxcloud does: between spawn and its record. */
static int die_recording(void *arg, pid_t pid, unsigned long long start)
{
	(void)arg;
	(void)pid;
	(void)start;
	raise(SIGKILL);
	return 0;
}

/* A record damaged, lost, naming a reused PID, a command that execs
 * another program, and a run killed between spawn and record. */
static void identity_cases(const struct vxc_compute_ops *ops, void *priv,
			   struct vxc_instance *inst)
{
	const char *const exec_cmd[] = { "/bin/sh", "-c", "exec sleep 302", NULL };
	const char *const *old = inst->command;
	char owner[64], rec[PATH_MAX];
	pid_t pid = recorded_pid(), pid2, other, child;
	int r, n;

	snprintf(owner, sizeof(owner), "instance:%s", inst_name);
	ok(pid > 0 && n_marked(owner) == 1, "the command carries its owner mark (%d)",
	   n_marked(owner));

	write_record("1x7 garbage\n");
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && dctx.n_changes == 0 && recorded_pid() == pid && n_marked(owner) == 1,
	   "a damaged record: the running command is adopted, no second copy (%u changes, "
	   "%d marked)", dctx.n_changes, n_marked(owner));

	snprintf(rec, sizeof(rec), "%s/%s.pid", drvstate, inst_name);
	unlink(rec);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && dctx.n_changes == 0 && recorded_pid() == pid && n_marked(owner) == 1,
	   "a lost record: the running command is adopted, no second copy (%u changes)",
	   dctx.n_changes);

	/* sh -c "exec prog": the same process (PID and start time) after exec. */
	inst->command = exec_cmd;
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	pid2 = recorded_pid();
	ok(r == 0 && gone(pid) && pid2 > 0, "a command that execs another program starts");
	for (int i = 0; i < 200 && !vxc_proc_alive(&core, pid2, "sleep"); i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && dctx.n_changes == 0 && recorded_pid() == pid2 && n_marked(owner) == 1,
	   "after its exec it is still seen running: no restart (%u changes, %d marked)",
	   dctx.n_changes, n_marked(owner));
	inst->command = old;
	vxc_ctx_reset(&dctx);
	ops->instance_ensure(priv, inst, 0);
	pid = recorded_pid();

	/* A record (older build's format) naming another program's "sleep". */
	other = fork();
	if (other == 0) {
		execlp("sleep", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !vxc_proc_alive(&core, other, "sleep"); i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	ops->remove(priv, &(struct vxc_owned){ VXC_KIND_INSTANCE, inst_name, NULL }, 0);
	snprintf(rec, sizeof(rec), "%d sleep 0\n", (int)other);
	write_record(rec);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	pid = recorded_pid();
	ok(r == 0 && pid > 0 && pid != other && n_marked(owner) == 1,
	   "a reused PID running the same program is not taken for the command");
	ops->remove(priv, &(struct vxc_owned){ VXC_KIND_INSTANCE, inst_name, NULL }, 0);
	ok(vxc_proc_alive(&core, other, "sleep") && gone(pid),
	   "removing the instance leaves the other program's process alone");
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);

	/* Killed between spawn and record: the program never runs. */
	child = fork();
	if (child == 0) {
		const char *const argv[] = { "sleep", "303", NULL };
		struct vxc_spawn sp = { .argv = argv, .netns_fd = -1 };
		pid_t p;

		vxc_spawn_recorded(&dctx, &sp, owner, die_recording, NULL, &p);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	n = 1;
	for (int i = 0; i < 300 && (n = n_marked(owner)) > 0; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	ok(n == 0, "a run killed before the record leaves no process behind (%d)", n);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && recorded_pid() > 0 && n_marked(owner) == 1, "ensure starts it again");

	/* A symlink planted as the record's temporary file is not followed. */
	{
		char tmp[PATH_MAX + 8], outside[PATH_MAX];
		struct stat st;

		snprintf(tmp, sizeof(tmp), "%s/%s.pid.tmp", drvstate, inst_name);
		snprintf(outside, sizeof(outside), "%s/outside", top);
		fclose(fopen(outside, "w"));
		ok(symlink(outside, tmp) == 0, "a symlink planted as %s", tmp);
		pid = recorded_pid();
		kill(pid, SIGKILL);
		gone(pid);
		vxc_ctx_reset(&dctx);
		r = ops->instance_ensure(priv, inst, 0);
		ok(r == 0 && recorded_pid() > 0 && recorded_pid() != pid &&
			   stat(outside, &st) == 0 && st.st_size == 0,
		   "the record is written in place, nothing through the symlink");
		unlink(outside);
	}
}

struct seen {
	char names[256];
	int wrong_kind;
};

static void on_owned(void *arg, const struct vxc_owned *obj)
{
	struct seen *s = arg;

	if (obj->kind != VXC_KIND_INSTANCE)
		s->wrong_kind = 1;
	snprintf(s->names + strlen(s->names), sizeof(s->names) - strlen(s->names), "%s%s",
		 *s->names ? " " : "", obj->name);
}

static void check_nic(const struct vxc_instance *inst)
{
	struct nlt_link h = nlt_link(NULL, inst->port->host_if);
	struct nlt_link p = nlt_link(nsf(inst_ns), "eth0");
	char buf[256];

	ok(h.exists && h.up && h.mtu == 1450, "host end %s: up, MTU 1450", inst->port->host_if);
	snprintf(buf, sizeof(buf), "vxcloud:instance:%s", inst_name);
	is_str(h.alias, buf, "host end carries the ownership alias");
	ok(p.exists && p.up && p.mtu == 1450, "eth0 in %s: up, MTU 1450", inst_ns);
	is_str(p.mac, "02:00:5e:98:00:0a", "eth0 has the port's MAC");
	nlt_addrs(nsf(inst_ns), "eth0", buf, sizeof(buf));
	is_str(buf, "10.98.0.10/24", "eth0 has the port's address");
	nlt_default_gw(nsf(inst_ns), buf, sizeof(buf));
	is_str(buf, "10.98.0.1", "default route via the network gateway");
	ok(nlt_link(nsf(inst_ns), "lo").up, "lo is up in the instance namespace");
}

static void run(const struct vxc_plugin *pl, const struct vxc_compute_ops *ops, void *priv,
		struct vxc_instance *inst)
{
	struct vxc_owned obj = { VXC_KIND_INSTANCE, inst_name, NULL };
	struct seen seen = { "", 0 };
	pid_t pid, pid2;
	int r, fd;

	vxc_ctx_reset(&dctx);
	ok(ops->instance_ensure(priv, inst, 0x100) == -EINVAL, "unknown flag bits: -EINVAL");

	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, VXC_F_DRY_RUN);
	ok(r == 0 && dctx.n_changes >= 3, "plan: reports namespace, NIC, command (%u)",
	   dctx.n_changes);
	fd = vxc_netns_open(&core, inst_ns);
	ok(fd == -ENOENT && !nlt_link(NULL, inst->port->host_if).exists && recorded_pid() == 0,
	   "plan changed nothing");

	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && dctx.n_changes >= 3, "ensure creates the instance (%u changes)",
	   dctx.n_changes);
	if (r < 0)
		printf("# %s\n", dctx.errmsg ? dctx.errmsg : "(no message)");
	check_nic(inst);
	pid = recorded_pid();
	ok(pid > 0 && vxc_proc_alive(&core, pid, "sleep"), "the command runs (PID %d)",
	   (int)pid);
	ok(pid > 0 && runs_in_instance_ns(pid), "inside the instance namespace");

	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == 0 && dctx.n_changes == 0, "second ensure: no changes (%u)", dctx.n_changes);
	ok(recorded_pid() == pid, "the same process still");

	/* The command dies: ensure brings it back. */
	ok(kill(pid, SIGKILL) == 0 && gone(pid), "kill the command (PID %d)", (int)pid);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, VXC_F_DRY_RUN);
	ok(r == 0 && dctx.n_changes == 1 && recorded_pid() == pid,
	   "plan reports the restart only (%u)", dctx.n_changes);
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	pid2 = recorded_pid();
	ok(r == 0 && dctx.n_changes == 1, "ensure restarts it: 1 change (%u)", dctx.n_changes);
	ok(pid2 > 0 && pid2 != pid && vxc_proc_alive(&core, pid2, "sleep") &&
		   runs_in_instance_ns(pid2),
	   "a new process (PID %d) in the namespace", (int)pid2);

	/* A changed command in the spec replaces the process. */
	{
		const char *const cmd2[] = { "sleep", "301", NULL };
		const char *const *old = inst->command;

		inst->command = cmd2;
		vxc_ctx_reset(&dctx);
		r = ops->instance_ensure(priv, inst, 0);
		pid = recorded_pid();
		ok(r == 0 && dctx.n_changes == 2 && pid != pid2 && gone(pid2) &&
			   vxc_proc_alive(&core, pid, "sleep"),
		   "a changed command is restarted: stop + start (%u)", dctx.n_changes);
		inst->command = old;
		vxc_ctx_reset(&dctx);
		ops->instance_ensure(priv, inst, 0);
		pid2 = recorded_pid();
	}

	identity_cases(ops, priv, inst);
	pid2 = recorded_pid();

	ok(ops->list(priv, on_owned, &seen) == 0, "list");
	is_str(seen.names, inst_name, "list reports the instance by its name");
	ok(!seen.wrong_kind, "as VXC_KIND_INSTANCE");

	vxc_ctx_reset(&dctx);
	r = ops->remove(priv, &obj, VXC_F_DRY_RUN);
	ok(r == 0 && dctx.n_changes == 3, "plan of remove: stop, veth, netns (%u)",
	   dctx.n_changes);
	ok(vxc_proc_alive(&core, pid2, "sleep") && nlt_link(NULL, inst->port->host_if).exists,
	   "plan of remove changed nothing");

	vxc_ctx_reset(&dctx);
	r = ops->remove(priv, &obj, 0);
	ok(r == 0 && dctx.n_changes == 3, "remove (%u changes)", dctx.n_changes);
	if (r < 0)
		printf("# %s\n", dctx.errmsg ? dctx.errmsg : "(no message)");
	ok(!vxc_proc_alive(&core, pid2, "sleep"), "the process is gone");
	/* The host end goes with the namespace, torn down by the kernel in
	 * the background (the driver waits for it when closed). */
	for (int i = 0; i < 500 && nlt_link(NULL, inst->port->host_if).exists; i++)
		usleep(10000);
	ok(!nlt_link(NULL, inst->port->host_if).exists, "the host end goes with the namespace");
	fd = vxc_netns_open(&core, inst_ns);
	ok(fd == -ENOENT, "the namespace is gone");
	ok(recorded_pid() == 0, "the PID record is gone");
	seen.names[0] = '\0';
	ops->list(priv, on_owned, &seen);
	is_str(seen.names, "", "list is empty");
	vxc_ctx_reset(&dctx);
	ok(ops->remove(priv, &obj, 0) == 0 && dctx.n_changes == 0, "remove again: nothing to do");

	inst->kind = VXC_INSTANCE_VM;
	vxc_ctx_reset(&dctx);
	r = ops->instance_ensure(priv, inst, 0);
	ok(r == -EOPNOTSUPP, "a vm is refused (%d)", r);
	printf("# %s\n", dctx.errmsg ? dctx.errmsg : "(no message)");
	inst->kind = VXC_INSTANCE_CONTAINER;
	(void)pl;
}

static const struct vxc_plugin *load(void **handle)
{
	const char *b = getenv("VXC_TOP_BUILDDIR");
	char path[PATH_MAX];
	const struct vxc_plugin *pl;

	snprintf(path, sizeof(path), "%s/plugins/compute/netns/.libs/netns.so", b ? b : "../..");
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ok(*handle != NULL, "dlopen %s (RTLD_NOW: no unresolved symbols)", path);
	if (!*handle) {
		printf("# %s\n", dlerror());
		return NULL;
	}
	pl = dlsym(*handle, VXC_PLUGIN_SYMBOL_NAME);
	ok(pl != NULL, "it exports " VXC_PLUGIN_SYMBOL_NAME);
	if (!pl)
		return NULL;
	ok(pl->abi_major == VXC_ABI_MAJOR && pl->size >= VXC_PLUGIN_MIN_SIZE, "ABI %u.%u",
	   pl->abi_major, pl->abi_minor);
	ok(pl->concern == VXC_CONCERN_COMPUTE && !strcmp(pl->name, "netns"),
	   "compute driver named netns");
	ok(pl->caps == VXC_CAP_CONTAINER, "serves kind container only");
	ok(pl->options && !strcmp(pl->options[0].name, "stop_timeout_ms") &&
		   pl->options[0].type == VXC_OPT_INT && !pl->options[1].name,
	   "option schema: stop_timeout_ms");
	ok(dlsym(*handle, "instance_ensure") == NULL && dlsym(*handle, "command_ensure") == NULL,
	   "internal functions are hidden");
	return pl;
}

int main(void)
{
	const char *p = getenv("VXC_TEST_PREFIX");
	const char *const cmd[] = { "sleep", "300", NULL };
	struct vxc_network net = { .name = "net1", .vni = 98, .mtu = 1450 };
	struct vxc_host host = { .name = "h1" };
	struct vxc_port port = { .owner_kind = VXC_PORT_INSTANCE, .network = &net, .host = &host };
	struct vxc_instance inst = { .kind = VXC_INSTANCE_CONTAINER, .host = &host, .port = &port,
				     .image = "busybox", .command = cmd };
	const struct vxc_plugin *pl;
	void *handle = NULL, *priv = NULL;
	int saved = -1, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		puts("1..0 # SKIP needs root");
		return 77;
	}
	p = p && *p ? p : "vxt";
	if (strlen(p) > 9) {
		printf("Bail out! VXC_TEST_PREFIX '%s' is longer than 9 characters\n", p);
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "%s", p);
	snprintf(top, sizeof(top), "/tmp/%s-compute-netns", prefix);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", top);
	snprintf(statedir, sizeof(statedir), "%s/state", top);
	snprintf(drvstate, sizeof(drvstate), "%s/netns", statedir);
	snprintf(ns_host, sizeof(ns_host), "%s-chost", prefix);
	/* vi-<name> must fit IFNAMSIZ: name up to 12 characters. */
	snprintf(inst_name, sizeof(inst_name), "%s-w1", prefix);
	snprintf(inst_ns, sizeof(inst_ns), "vxi-%s", inst_name);

	vxc_ctx_init(&core, NULL, "h1", nsdir, statedir);
	cleanup();
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	inst.name = inst_name;
	snprintf(inst.netns, sizeof(inst.netns), "%s", inst_ns);
	port.owner = inst_name;
	snprintf(port.host_if, sizeof(port.host_if), "vi-%.12s", inst_name);
	vxc_prefix_parse("10.98.0.0/24", &net.cidr);
	vxc_ip_parse("10.98.0.1", &net.gateway);
	vxc_ip_parse("10.98.0.10", &port.addr);
	vxc_mac_parse("02:00:5e:98:00:0a", &port.mac);

	pl = load(&handle);
	if (!pl)
		return 1;

	/* The host end of the NIC goes into a namespace standing in for the host. */
	ok(vxc_netns_create(&core, ns_host) == 0, "create %s", ns_host);
	fd = vxc_netns_open(&core, ns_host);
	ok(fd >= 0 && vxc_netns_enter(&core, fd, &saved) == 0, "enter %s", ns_host);
	if (fd >= 0)
		close(fd);
	if (saved < 0) {
		printf("Bail out! cannot enter %s: %s\n", ns_host, core.errmsg);
		return 1;
	}

	vxc_ctx_init(&dctx, pl, "h1", nsdir, statedir);
	dctx.settings = NULL; /* defaults from the schema */
	dctx.sink.report = report;
	dctx.log_level = VXC_LOG_INFO;
	ok(pl->open(&dctx, vxc_services(), &priv) == 0 && priv, "open the driver");
	if (priv) {
		run(pl, pl->ops, priv, &inst);
		pl->close(priv);
	}
	ok(vxc_netns_leave(&core, saved) == 0, "leave %s", ns_host);
	ok(vxc_netns_delete(&core, ns_host) == 0, "delete %s", ns_host);
	vxc_ctx_fini(&dctx);
	vxc_ctx_fini(&core);
	dlclose(handle);
	return tap_done();
}
