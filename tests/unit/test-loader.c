/* Loader refusals, each with a plugin built for the purpose. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader.h"
#include "trust.h"
#include "tap.h"
#include "util.h"

/* The loader refuses plugin directories anywhere below a directory others
 * can write, such as /tmp: as root the test works in /run, otherwise in
 * the build tree (skipped when that is below such a directory). */
static char top_root[] = "/run/vxc-loader-XXXXXX";
static char top_build[] = TEST_TRUSTED_DIR "/vxc-loader-XXXXXX";
static char *top;
static int n_dirs;

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	close(out);
	return chmod(to, mode);
}

/* A fresh plugin directory holding the named test plugins. */
static char *plugin_dir(const char *const *plugins)
{
	char *dir = vxc_xasprintf("%s/d%d", top, n_dirs++);

	mkdir(dir, 0755);
	chmod(dir, 0755);
	for (; *plugins; plugins++) {
		const char *src = *plugins, *dst = strchr(src, '=');
		char *from, *to;

		from = vxc_xasprintf("%s/%.*s.so", TEST_PLUGIN_LIBS, (int)(dst ? dst - src : (long)strlen(src)), src);
		to = vxc_xasprintf("%s/%s.so", dir, dst ? dst + 1 : src);
		if (copy_file(from, to, 0755) < 0)
			printf("# cannot copy %s to %s\n", from, to);
		free(from);
		free(to);
	}
	return dir;
}

static const char *error_of(const struct vxc_registry *reg, const char *file)
{
	for (size_t i = 0; i < reg->n; i++)
		if (strstr(reg->v[i].path, file))
			return reg->v[i].error;
	return NULL;
}

static int contains(const char *s, const char *want)
{
	if (s && strstr(s, want))
		return 1;
	printf("#   '%s' does not contain '%s'\n", s ? s : "(null)", want);
	return 0;
}

static void test_good(void)
{
	struct vxc_registry reg;
	const struct vxc_loaded *lp;
	char *dir = plugin_dir((const char *[]){ "good", NULL }), *why;

	ok(vxc_registry_scan(&reg, dir) == 0, "scan a directory with one good plugin");
	ok(reg.n == 1 && reg.v[0].desc && !reg.v[0].error, "the good plugin is accepted");
	lp = vxc_registry_get(&reg, "good", VXC_CONCERN_NETWORK, &why);
	ok(lp && !why, "good is found as a network driver");
	lp = vxc_registry_get(&reg, "good", VXC_CONCERN_NAT, &why);
	ok(!lp && contains(why, "is a network driver, not a nat driver"),
	   "a driver of the wrong concern is refused");
	free(why);
	lp = vxc_registry_get(&reg, "nftables", VXC_CONCERN_NAT, &why);
	ok(!lp && contains(why, "no plugin provides driver 'nftables'") &&
		   contains(why, "nftables.so"),
	   "a missing plugin file is refused with the path it was expected at");
	free(why);
	vxc_registry_free(&reg);
	free(dir);
}

static void test_refusal(const char *plugin, const char *want, const char *what)
{
	struct vxc_registry reg;
	char *dir = plugin_dir((const char *[]){ plugin, NULL }), *why;
	char file[64];

	snprintf(file, sizeof(file), "/%s.so", plugin);
	vxc_registry_scan(&reg, dir);
	ok(reg.n == 1 && !reg.v[0].desc && contains(error_of(&reg, file), want), "%s", what);
	ok(!vxc_registry_get(&reg, plugin, VXC_CONCERN_NETWORK, &why), "%s: not usable", plugin);
	free(why);
	vxc_registry_free(&reg);
	free(dir);
}

static void test_duplicate(void)
{
	struct vxc_registry reg;
	char *dir = plugin_dir((const char *[]){ "good", "good=good-copy", NULL }), *why;

	vxc_registry_scan(&reg, dir);
	ok(contains(error_of(&reg, "/good.so"), "declares driver 'good', already provided by"),
	   "a second plugin with the same driver name is refused");
	ok(!vxc_registry_get(&reg, "good", VXC_CONCERN_NETWORK, &why) &&
		   contains(why, "ambiguous"),
	   "a duplicated driver name is not used at all");
	free(why);
	vxc_registry_free(&reg);
	free(dir);
}

static void test_permissions(void)
{
	struct vxc_registry reg;
	char *dir = plugin_dir((const char *[]){ "good", NULL }), *file;

	file = vxc_xasprintf("%s/good.so", dir);
	chmod(file, 0666);
	vxc_registry_scan(&reg, dir);
	ok(contains(error_of(&reg, "/good.so"), "writable by group or others"),
	   "a world-writable plugin file is refused");
	vxc_registry_free(&reg);
	chmod(file, 0755);

	chmod(dir, 0777);
	ok(vxc_registry_scan(&reg, dir) < 0 && contains(reg.dir_error, "plugin directory") &&
		   contains(reg.dir_error, "writable by group or others"),
	   "a world-writable plugin directory is refused");
	vxc_registry_free(&reg);
	chmod(dir, 0755);

	if (geteuid() == 0) {
		ok(chown(file, 65534, 65534) == 0, "give the plugin to another user");
		vxc_registry_scan(&reg, dir);
		ok(contains(error_of(&reg, "/good.so"), "owned by uid 65534, not root"),
		   "a plugin owned by another user is refused");
		vxc_registry_free(&reg);
		ok(chown(dir, 65534, 65534) == 0 && vxc_registry_scan(&reg, dir) < 0 &&
			   contains(reg.dir_error, "owned by uid 65534"),
		   "a plugin directory owned by another user is refused");
		vxc_registry_free(&reg);
	} else {
		printf("ok %d # SKIP ownership checks need root\n", ++tap_n);
	}
	free(file);
	free(dir);
}

/* A FIFO named like a plugin is refused without opening it blocking (an
 * open for reading would wait for a writer forever). */
static void test_fifo(void)
{
	struct vxc_registry reg;
	char *dir = plugin_dir((const char *[]){ "good", NULL });
	char *fifo = vxc_xasprintf("%s/fifo.so", dir);

	ok(mkfifo(fifo, 0644) == 0, "make a FIFO named fifo.so");
	alarm(20);
	vxc_registry_scan(&reg, dir);
	alarm(0);
	ok(contains(error_of(&reg, "/fifo.so"), "is a FIFO, not a regular file"),
	   "a FIFO in the plugin directory is refused without blocking");
	ok(reg.n == 2 && contains(reg.v[1].path, "/good.so") && reg.v[1].desc,
	   "the good plugin beside it loads");
	vxc_registry_free(&reg);
	free(fifo);
	free(dir);
}

/* What is loaded is checked all the way up: a symbolic link into a
 * directory others can write, or a plugin directory below one, is refused
 * (someone could swap the file between a check and the load). */
static void test_chain(void)
{
	struct vxc_registry reg;
	char *dir = plugin_dir((const char *[]){ "good", NULL });
	char *open_dir = vxc_xasprintf("%s/world-writable", top);
	char *inner = vxc_xasprintf("%s/plugins", open_dir);
	char *link = vxc_xasprintf("%s/linked.so", dir), *target, *good;

	mkdir(open_dir, 0777);
	chmod(open_dir, 01777);
	target = vxc_xasprintf("%s/good.so", open_dir);
	good = vxc_xasprintf("%s/good.so", dir);
	rename(good, target);
	ok(symlink(target, link) == 0, "link a plugin in a world-writable directory");
	vxc_registry_scan(&reg, dir);
	ok(contains(error_of(&reg, "/linked.so"), "which holds plugin file") &&
		   contains(error_of(&reg, "/linked.so"), "writable by group or others (mode 1777)"),
	   "a link to a plugin in a world-writable (even sticky) directory is refused");
	vxc_registry_free(&reg);

	unlink(link);
	rename(target, good);
	ok(symlink(good, link) == 0, "link a plugin in the trusted directory");
	vxc_registry_scan(&reg, dir);
	ok(!error_of(&reg, "/good.so") && contains(error_of(&reg, "/linked.so"), "already provided"),
	   "a link inside trusted directories is followed (and is the same driver)");
	vxc_registry_free(&reg);

	mkdir(inner, 0755);
	chmod(inner, 0755);
	ok(vxc_registry_scan(&reg, inner) < 0 &&
		   contains(reg.dir_error, "which holds plugin directory") &&
		   contains(reg.dir_error, "chmod go-w"),
	   "a plugin directory inside a world-writable directory is refused");
	vxc_registry_free(&reg);
	free(dir);
	free(open_dir);
	free(inner);
	free(link);
	free(target);
	free(good);
}

static void remove_tree(void)
{
	char *cmd[] = { "rm", "-rf", top, NULL };
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
	char *why;
	int fd;

	top = geteuid() == 0 ? top_root : top_build;
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(top, 0755);
	fd = vxc_trusted_open(top, S_IFDIR, "test directory", &why);
	if (fd < 0) {
		printf("1..0 # SKIP %s\n", why);
		free(why);
		remove_tree();
		return 77;
	}
	close(fd);
	chmod(top, 0755);
	test_good();
	test_refusal("nodesc", "exports no vxc_plugin_descriptor",
		     "a plugin without a descriptor is refused");
	test_refusal("badabi", "built for plugin ABI 2, this vxcloud speaks ABI 1",
		     "an ABI major mismatch is refused");
	test_refusal("small", "descriptor of 16 bytes, older than the oldest supported",
		     "a descriptor smaller than the oldest supported is refused");
	test_refusal("unresolved", "undefined symbol: vxc_symbol_nobody_defines",
		     "a plugin with unresolved symbols is refused at load");
	test_duplicate();
	test_permissions();
	test_fifo();
	test_chain();
	remove_tree();
	return tap_done();
}
