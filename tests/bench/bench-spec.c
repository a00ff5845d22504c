/* Benchmark: the cost of reading a spec, at 1,000, 10,000 and 100,000
 * objects (N instances, each with a floating IP, on one router), against a
 * baseline measured in the same run: libconfig alone reading the same file
 * (config_read_file; the spec was read with it before vxcloud's own reader,
 * cfgtree.c). Steps timed, each the median of RUNS runs:
 *   libconfig   config_read_file only (the baseline)
 *   load        vxc_spec_load_file: read, scan, parse, validate, build
 *   validate    `vxcloud validate` as an operator runs it (whole process,
 *               a node config whose host is not in the spec: no drivers)
 * Printed: milliseconds, load / libconfig, and the growth from one N to
 * the next (10.0 would be linear for 10x the objects). The issue 8 target
 * is validate <= 50 ms at 10,000 instances + 10,000 floating IPs.
 * Not root; not part of `make check`: `make -C tests/bench bench`. */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "spec.h"

#define RUNS 5

static char dir[] = "/tmp/vxc-bench-spec-XXXXXX";
static const char *vxcloud;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

/* N instances on one /8 network and N floating IPs in a /10 provider range:
 * every address, name and MAC distinct, so the spec is valid. */
static void write_spec(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs("hosts = ( { name = \"h1\"; tunnel = \"10.255.0.1\"; } );\n"
	      "provider = { bridge = \"brp\"; cidr = \"100.64.0.0/10\"; gateway = \"100.64.0.1\"; };\n"
	      "networks = ( { name = \"net\"; vni = 10; cidr = \"10.0.0.0/8\"; } );\n"
	      "routers = ( { name = \"r\"; host = \"h1\"; external = \"100.64.0.2\"; "
	      "networks = [ \"net\" ]; } );\ninstances = (\n", f);
	for (unsigned i = 0; i < n; i++) {
		unsigned a = i + 10;

		fprintf(f, "%s{ name = \"i%u\"; kind = \"container\"; host = \"h1\"; network = \"net\"; "
			"address = \"10.%u.%u.%u\"; command = [ \"httpd\", \"-f\" ]; }\n", i ? "," : "", i,
			(a >> 16) & 255, (a >> 8) & 255, a & 255);
	}
	fputs(");\nfloating_ips = (\n", f);
	for (unsigned i = 0; i < n; i++) {
		unsigned a = i + 10;

		fprintf(f, "%s{ address = \"100.%u.%u.%u\"; target = \"i%u\"; }\n", i ? "," : "",
			64 + (a >> 16), (a >> 8) & 255, a & 255, i);
	}
	fputs(");\n", f);
	fclose(f);
}

static double time_libconfig(const char *path)
{
	config_t cfg;
	double t0 = now_ms();

	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		fprintf(stderr, "bench-spec: libconfig: %s\n", config_error_text(&cfg));
		exit(1);
	}
	config_destroy(&cfg);
	return now_ms() - t0;
}

static double time_load(const char *path)
{
	struct vxc_spec *s;
	struct vxc_diag d;
	double t0 = now_ms(), t;

	vxc_diag_init(&d);
	if (vxc_spec_load_file(path, &s, &d) < 0) {
		vxc_diag_print(&d, stderr);
		exit(1);
	}
	t = now_ms() - t0;
	vxc_spec_free(s);
	vxc_diag_free(&d);
	return t;
}

static double time_validate(const char *node, const char *spec)
{
	double t0 = now_ms();
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		execl(vxcloud, vxcloud, "--config", node, "--spec", spec, "validate", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench-spec: vxcloud validate exited %d\n", WEXITSTATUS(st));
		exit(1);
	}
	return now_ms() - t0;
}

struct row {
	unsigned n;
	double lib, load, validate;
};

static void measure(struct row *r, const char *node)
{
	char *spec;
	double lib[RUNS], load[RUNS], val[RUNS];

	if (asprintf(&spec, "%s/spec-%u.conf", dir, r->n) < 0)
		exit(1);
	write_spec(spec, r->n);
	for (int i = 0; i < RUNS; i++) {
		lib[i] = time_libconfig(spec);
		load[i] = time_load(spec);
		val[i] = vxcloud ? time_validate(node, spec) : 0;
	}
	r->lib = median(lib);
	r->load = median(load);
	r->validate = median(val);
	unlink(spec);
	free(spec);
}

int main(int argc, char **argv)
{
	struct row rows[] = { { .n = 1000 }, { .n = 10000 }, { .n = 100000 } };
	const char *build = getenv("VXC_TOP_BUILDDIR");
	char *node = NULL, *bin = NULL;
	FILE *f;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (build && asprintf(&bin, "%s/core/vxcloud", build) > 0 && access(bin, X_OK) == 0)
		vxcloud = bin;
	if (asprintf(&node, "%s/node.conf", dir) < 0 || !(f = fopen(node, "w")))
		return 1;
	fprintf(f, "host = \"elsewhere\";\nstate_dir = \"%s/state\";\n", dir);
	fclose(f);
	printf("spec: N instances + N floating IPs; median of %d runs; ratios against libconfig "
	       "reading the same file\n", RUNS);
	printf("%8s %12s %10s %9s %13s %10s %10s\n", "N", "libconfig ms", "load ms", "load/lib",
	       "validate ms", "load xN", "lib xN");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct row *r = &rows[i];

		measure(r, node);
		printf("%8u %12.2f %10.2f %9.2f %13.2f", r->n, r->lib, r->load, r->load / r->lib,
		       r->validate);
		if (i)
			printf(" %10.2f %10.2f\n", r->load / rows[i - 1].load,
			       r->lib / rows[i - 1].lib);
		else
			printf(" %10s %10s\n", "-", "-");
	}
	if (!vxcloud)
		printf("(validate not timed: VXC_TOP_BUILDDIR/core/vxcloud not found)\n");
	unlink(node);
	rmdir(dir);
	free(node);
	free(bin);
	(void)argc;
	(void)argv;
	return 0;
}
