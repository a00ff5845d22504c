/* Hostile input to the spec and the node config (issue 7 items 9-13):
 * integers libconfig would wrap, non-regular files, the documented limits
 * (each answered at once, never by a quadratic walk), program names that
 * apply would refuse, and system directories as state or netns dirs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfgread.h"
#include "nodeconf.h"
#include "spec.h"
#include "syspath.h"
#include "tap.h"
#include "util.h"

#define HOSTS "hosts = ( { name = \"h1\"; tunnel = \"10.0.0.1\"; } );\n"
#define NETS "networks = ( { name = \"n1\"; vni = 7; cidr = \"10.1.0.0/16\"; } );\n"

static char dir[] = "/tmp/vxc-limits-XXXXXX";

static bool has(const struct vxc_diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], want))
			return true;
	printf("#   no message contains '%s'; got %zu:\n", want, d->n);
	for (size_t i = 0; i < d->n && i < 8; i++)
		printf("#     %s\n", d->msgs[i]);
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Loads text as a spec; true when refused with a message holding each want. */
static bool refused(const char *text, const char *want, const char *want2)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	bool r;

	vxc_diag_init(&d);
	r = vxc_spec_load_buffer(text, "t.conf", &s, &d) == -EINVAL && !s && has(&d, want) &&
	    (!want2 || has(&d, want2));
	vxc_spec_free(s);
	vxc_diag_free(&d);
	return r;
}

static char *file_with(const char *name, const char *text)
{
	char *path = vxc_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

/* ---- 9: integers beyond 32 bits ------------------------------------ */

static void test_integers(void)
{
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = 4294967397; cidr = \"10.1.0.0/16\"; } );\n",
		   "t.conf:2: networks[0].vni: 4294967397 is out of range; use 1..16777215", NULL),
	   "vni = 4294967397 (wraps to 101 in libconfig) is refused as written");
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = 99999999999999999999; cidr = \"10.1.0.0/16\"; } );\n",
		   "networks[0].vni: 99999999999999999999 is out of range", NULL),
	   "a huge literal is printed as written, not as -1");
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = 0x100000065; cidr = \"10.1.0.0/16\"; } );\n",
		   "networks[0].vni: 0x100000065 is out of range", NULL),
	   "a hex literal beyond 32 bits is refused");
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = 99999999999999999999L; cidr = \"10.1.0.0/16\"; } );\n",
		   "networks[0].vni: 99999999999999999999L is out of range", NULL),
	   "a 64-bit literal beyond 64 bits is refused, not clamped");
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = -4294967295; cidr = \"10.1.0.0/16\"; } );\n",
		   "networks[0].vni: -4294967295 is out of range", NULL),
	   "a negative literal beyond 32 bits (wraps to 1) is refused");
	ok(refused(HOSTS "networks = ( { name = \"n1\"; vni = -5; cidr = \"10.1.0.0/16\"; } );\n",
		   "networks[0].vni: -5 is out of range; use 1..16777215", NULL),
	   "a negative VNI is refused");
	ok(refused(HOSTS NETS "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; "
		   "vip = \"10.1.0.9\"; listeners = ( { port = 4294967376; members = ( { address = "
		   "\"10.1.0.5\"; port = 4294967376; } ); } ); } );\n",
		   "load_balancers[0].listeners[0].port: 4294967376 is out of range; use 1..65535",
		   "load_balancers[0].listeners[0].members[0].port: 4294967376 is out of range"),
	   "ports beyond 32 bits (would be 80) are refused in listeners and members");
	ok(refused(HOSTS NETS "instances = ( { name = \"i1\"; kind = \"vm\"; host = \"h1\"; "
		   "network = \"n1\"; address = \"10.1.0.5\"; cpus = 0x7fffffffffffffffff; } );\n",
		   "t.conf:3: instances[0].cpus: 0x7fffffffffffffffff is out of range; use 1..1024",
		   NULL),
	   "a literal beyond 64 bits is refused as written");
}

/* ---- 11: non-regular files ----------------------------------------- */

static void test_fifos(void)
{
	char *fifo = vxc_xasprintf("%s/fifo.conf", dir), *inc;
	struct vxc_spec *s;
	struct vxc_nodeconf nc;
	struct vxc_diag d;

	ok(mkfifo(fifo, 0644) == 0, "make a FIFO");
	alarm(20); /* a blocking open would hang here: fail instead */
	vxc_diag_init(&d);
	ok(vxc_spec_load_file(fifo, &s, &d) < 0 && has(&d, "the spec is not a regular file (a FIFO)"),
	   "a FIFO as the spec is refused without blocking");
	vxc_diag_free(&d);
	vxc_diag_init(&d);
	ok(vxc_nodeconf_load(&nc, fifo, &d) < 0 &&
		   has(&d, "the node config is not a regular file (a FIFO)"),
	   "a FIFO as the node config is refused without blocking");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);
	inc = file_with("inc.conf", "@include \"fifo.conf\"\n" HOSTS);
	vxc_diag_init(&d);
	ok(vxc_spec_load_file(inc, &s, &d) < 0 &&
		   has(&d, "the included file is not a regular file (a FIFO)"),
	   "a FIFO named by @include is refused without blocking");
	vxc_diag_free(&d);
	vxc_diag_init(&d);
	ok(vxc_spec_load_file(dir, &s, &d) < 0 && has(&d, "is not a regular file (a directory)"),
	   "a directory as the spec is refused");
	vxc_diag_free(&d);
	alarm(0);
	free(fifo);
	free(inc);
}

/* ---- 12: limits, each answered quickly ----------------------------- */

/* A text of n copies of fmt (given the index twice), between head and tail;
 * fmt is one of this file's literals. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static char *repeat(const char *head, const char *fmt, size_t n, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + n * (strlen(fmt) + 24) + 1, len;
	char *t = vxc_xmalloc(cap);

	len = (size_t)sprintf(t, "%s", head);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, fmt, i + 1, i + 1);
	strcpy(t + len, tail);
	return t;
}
#pragma GCC diagnostic pop

static void timed_refusal(char *text, const char *want, const char *what)
{
	double t0 = now_s();
	bool r = refused(text, want, NULL);

	ok(r, "%s (%.2f s)", what, now_s() - t0);
	free(text);
}

static void test_limits(void)
{
	char *t;
	struct vxc_spec *s;
	struct vxc_diag d;
	double t0;

	timed_refusal(repeat(HOSTS, "k%zu = %zu;\n", 100000, ""),
		      "more than 64 settings in one group",
		      "100,000 unknown top-level keys: refused before libconfig sees them");
	t = vxc_xmalloc(4u << 20 | 64);
	strcpy(t, HOSTS "x = \"");
	memset(t + strlen(t), 'a', 4u << 20);
	strcpy(t + strlen(HOSTS "x = \"") + (4u << 20), "\";\n");
	timed_refusal(t, "x: a string of more than 4096 bytes", "a 4 MB string literal is refused");
	timed_refusal(repeat(HOSTS "x = \"a\" ", "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" ",
			     200, ";\n"),
		      "x: a string of more than 4096 bytes",
		      "adjacent literals are joined before they are measured");
	timed_refusal(repeat(HOSTS "a = [ 0", ", %zu", 1000000, " ];\n"),
		      "a: has more than 1000000 elements",
		      "an array of 1,000,001 elements is refused");
	timed_refusal(repeat(HOSTS "deep = ", "(", 40, ""),
		      "nested deeper than 32 levels", "40 levels of nesting are refused");

	/* 100,000 LB members: valid, and checked by sorting */
	t = repeat(HOSTS NETS "load_balancers = ( { name = \"lb\"; host = \"h1\"; network = \"n1\"; "
		   "vip = \"10.1.0.9\"; listeners = ( { port = 80; members = ( { address = \"10.1.0.5\"; "
		   "port = 1; }\n", ", { address = \"10.1.0.5\"; port = %zu; }\n", 65000,
		   ", { address = \"10.1.0.6\"; port = 80; } ); } ); } );\n");
	vxc_diag_init(&d);
	t0 = now_s();
	ok(vxc_spec_load_buffer(t, "t.conf", &s, &d) == -EINVAL && d.n == 1 &&
		   has(&d, "t.conf:4: load_balancers[0].listeners[0].members[1]: load balancer "
		       "\"lb\": member 10.1.0.5:1 is listed twice (first at line 3)"),
	   "65,000 members: the one duplicate found by sorting (%.2f s)", now_s() - t0);
	vxc_diag_free(&d);
	free(t);
}

/* Checks that would grow with a product of two counts: suggestions for an
 * unknown reference among many names, and which host holds which network. */
static void test_products(void)
{
	char *hosts = repeat("hosts = ( { name = \"h0\"; tunnel = \"10.255.255.254\"; }\n",
			     ", { name = \"h%zu\"; tunnel = \"10.200.0.1\"; }\n", 20000, ");\n");
	char *insts = repeat("instances = ( { name = \"i0\"; kind = \"container\"; host = \"h0\"; "
			     "network = \"n0\"; address = \"10.0.0.5\"; }\n",
			     ", { name = \"i%zu\"; kind = \"container\"; host = \"x%zu\"; "
			     "network = \"n0\"; address = \"10.0.0.5\"; }\n", 20000, ");\n");
	char *nets = repeat("networks = ( { name = \"n0\"; vni = 1; cidr = \"10.0.0.0/24\"; }\n",
			    ", { name = \"n%zu\"; vni = %zu; cidr = \"10.0.0.0/24\"; }\n", 20000,
			    ");\n");
	char *text = vxc_xasprintf("%s%s%s", hosts, nets, insts);
	struct vxc_spec *s;
	struct vxc_diag d;
	double t0 = now_s();

	vxc_diag_init(&d);
	ok(vxc_spec_load_buffer(text, "t.conf", &s, &d) == -EINVAL &&
		   has(&d, "instances[20000].host: unknown host \"x20000\": none of the spec's "
		       "20001 hosts has that name"),
	   "20,000 unknown hosts among 20,001 hosts and 20,001 networks (%.2f s)", now_s() - t0);
	vxc_diag_free(&d);
	free(hosts);
	free(insts);
	free(nets);
	free(text);
}

static void test_nul(void)
{
	char *path = vxc_xasprintf("%s/nul.conf", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct vxc_spec *s;
	struct vxc_diag d;

	ok(write(fd, HOSTS "#\0hidden = 1;\n", sizeof(HOSTS "#\0hidden = 1;\n") - 1) > 0,
	   "write a spec with a NUL byte");
	close(fd);
	vxc_diag_init(&d);
	ok(vxc_spec_load_file(path, &s, &d) < 0 && has(&d, ":2: a NUL byte; the file is not text"),
	   "a NUL byte (libconfig would stop reading there) is refused");
	vxc_diag_free(&d);
	free(path);
}

/* ---- 10: what apply refuses, validate refuses first ---------------- */

#define INST(cmd) HOSTS NETS "instances = ( { name = \"i1\"; kind = \"container\"; host = \"h1\"; " \
	"network = \"n1\"; address = \"10.1.0.5\"; command = [ " cmd " ]; } );\n"

static void test_commands(void)
{
	char big[400], *text;

	ok(refused(INST("\"\""), "t.conf:3: instances[0].command[0]: the program name is empty",
		   NULL), "command [\"\"] is refused");
	ok(refused(INST("\"/bin/sh -c\", \"exit\""), "command[0]: the program name holds a blank "
		   "at byte 8", NULL), "a program name with a blank is refused");
	ok(refused(INST("\"prog\\n\""), "command[0]: the program name holds a control character "
		   "at byte 5", NULL), "a program name with a newline is refused");
	memset(big, 'x', 256);
	big[256] = '\0';
	text = vxc_xasprintf(INST("\"%s\""), big);
	ok(refused(text, "command[0]: the program name is 256 bytes; at most 255", NULL),
	   "a program name over 255 bytes is refused");
	free(text);
	big[255] = '\0';
	text = vxc_xasprintf(INST("\"%s\", \"a b\\nc\""), big);
	{
		struct vxc_spec *s;
		struct vxc_diag d;

		vxc_diag_init(&d);
		ok(vxc_spec_load_buffer(text, "t.conf", &s, &d) == 0,
		   "255 bytes and arguments with blanks and newlines are fine");
		vxc_spec_free(s);
		vxc_diag_free(&d);
	}
	free(text);
}

/* ---- 13: system directories as state_dir / netns_dir --------------- */

static void test_system_dirs(void)
{
	static const char *const bad[] = { "/proc", "/", "/run", "/var/run", "/sys/fs/cgroup/x",
					   "/dev/shm/vxc", "/run/../proc", "//run/", "/tmp", "/etc" };
	static const char *const good[] = { "/run/netns", "/var/lib/vxcloud", "/tmp/vxc-x/netns" };
	char *conf;
	struct vxc_nodeconf nc;
	struct vxc_diag d;

	for (size_t i = 0; i < VXC_ARRAY_SIZE(bad); i++)
		ok(vxc_system_path(bad[i]) != NULL, "%s is refused: %s", bad[i],
		   vxc_system_path(bad[i]) ? vxc_system_path(bad[i]) : "accepted");
	for (size_t i = 0; i < VXC_ARRAY_SIZE(good); i++)
		ok(!vxc_system_path(good[i]), "%s may be used", good[i]);
	conf = file_with("node.conf", "netns_dir = \"/proc\";\nstate_dir = \"/run\";\n");
	vxc_diag_init(&d);
	ok(vxc_nodeconf_load(&nc, conf, &d) < 0 &&
		   has(&d, ":1: netns_dir: '/proc' is a system directory") &&
		   has(&d, ":2: state_dir: '/run' is a system directory"),
	   "the node config refuses them with file, line and field");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);
	free(conf);
	conf = file_with("node.conf", "settings = { linuxbridge = { vxlan_port = 4294967396; }; };\n");
	vxc_diag_init(&d);
	ok(vxc_nodeconf_load(&nc, conf, &d) < 0 &&
		   has(&d, ":1: vxlan_port: 4294967396 does not fit in 32 bits"),
	   "vxlan_port = 4294967396 (would be port 100) is refused as written");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);
	free(conf);
}

/* A proc filesystem mounted somewhere harmless is refused by its type. */
static void test_kernel_fs(void)
{
	char *mnt = vxc_xasprintf("%s/procmnt", dir);
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		printf("ok %d # SKIP mounting proc needs root\n", ++tap_n);
		free(mnt);
		return;
	}
	mkdir(mnt, 0755);
	pid = fork();
	if (pid == 0) {
		/* a mount namespace of its own: nothing is seen outside */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("proc", mnt, "proc", 0, NULL) < 0)
			_exit(2);
		_exit(vxc_system_path(mnt) && strstr(vxc_system_path(mnt), "kernel filesystem") &&
		      !vxc_system_path(dir) ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a directory on a proc mount is refused (%d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	rmdir(mnt);
	free(mnt);
}

static void remove_tree(void)
{
	char *cmd[] = { "rm", "-rf", dir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_integers();
	test_fifos();
	test_limits();
	test_products();
	test_nul();
	test_commands();
	test_system_dirs();
	test_kernel_fs();
	remove_tree();
	return tap_done();
}
