/* The spec through etcd (bench-etcd.sh starts the cluster and runs this in
 * its client namespace; the ETCD_* variables name it). N watchers, one per
 * simulated host, each its own process and handle as each host's agent
 * would be, watch the spec key; the spec (INSTANCES instances) changes by
 * one object REPS times. Measured per change: the time from the start of
 * the put to the last (and the median) watcher having the new revision,
 * against the put's own round trip; the bytes each watcher read for it,
 * against the spec's size and against a get of the spec.
 *   bench-etcd [N [INSTANCES [REPS]]]      defaults 20 1000 10 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"

#define KEY_READY "bench/ready"
#define KEY_SPEC "bench/spec"
#define WAIT_MS 60000

struct record {
	int64_t t_ns;       /* when the watcher had the change (CLOCK_MONOTONIC) */
	uint64_t bytes;     /* what its handle read for it */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct vxc_etcd *open_from_env(void)
{
	struct vxc_etcd_conf c = { .timeout_ms = 5000 };
	char *eps = strdup(getenv("ETCD_ENDPOINTS") ? getenv("ETCD_ENDPOINTS") : "");
	struct vxc_etcd *e;

	for (char *t = strtok(eps, ","); t; t = strtok(NULL, ",")) {
		c.endpoints = realloc(c.endpoints, (c.n_endpoints + 1) * sizeof(char *));
		c.endpoints[c.n_endpoints++] = t;
	}
	c.prefix = getenv("ETCD_PREFIX");
	c.ca = getenv("ETCD_CA");
	c.cert = getenv("ETCD_CERT");
	c.key = getenv("ETCD_KEY");
	c.user = getenv("ETCD_USER");
	c.password = getenv("ETCD_PASSWORD");
	if (vxc_etcd_open(&e, &c) < 0) {
		fprintf(stderr, "bench-etcd: no endpoints (ETCD_ENDPOINTS)\n");
		exit(2);
	}
	free(c.endpoints);
	free(eps);
	return e;
}

/* A spec of `instances` instances over `hosts` hosts; `gen` moves one
 * instance's address: a one-object change. */
static char *make_spec(int hosts, int instances, int gen, size_t *len)
{
	size_t cap = 256 + (size_t)hosts * 64 + (size_t)instances * 160;
	char *s = malloc(cap);
	size_t n = 0;

	n += (size_t)snprintf(s + n, cap - n, "hosts = (\n");
	for (int h = 0; h < hosts; h++)
		n += (size_t)snprintf(s + n, cap - n, "  { name = \"h%d\"; tunnel = \"10.60.0.%d\"; }%s\n",
				      h + 1, h + 1, h + 1 < hosts ? "," : "");
	n += (size_t)snprintf(s + n, cap - n, ");\nnetworks = ( { name = \"blue\"; vni = 60; "
			      "cidr = \"10.61.0.0/16\"; gateway = \"10.61.0.1\"; } );\ninstances = (\n");
	for (int i = 0; i < instances; i++) {
		int a = i + 2 + (i == 0 ? gen % 1000 + instances : 0);
		n += (size_t)snprintf(s + n, cap - n,
				      "  { name = \"i%d\"; kind = \"container\"; host = \"h%d\"; "
				      "network = \"blue\"; address = \"10.61.%d.%d\"; }%s\n",
				      i, i % hosts + 1, a / 250, a % 250 + 2,
				      i + 1 < instances ? "," : "");
	}
	n += (size_t)snprintf(s + n, cap - n, ");\n");
	*len = n;
	return s;
}

struct watcher {
	int ready_fd, result_fd, want, seen, ready;
	uint64_t mark;
	struct vxc_etcd *e;
};

static int on_event(const struct vxc_etcd_event *ev, void *arg)
{
	struct watcher *w = arg;

	if (!strcmp(ev->kv.key, KEY_READY) && !w->ready) {
		w->ready = 1;
		w->mark = vxc_etcd_rx_bytes(w->e);
		return write(w->ready_fd, "r", 1) == 1 ? 0 : -EIO;
	}
	if (strcmp(ev->kv.key, KEY_SPEC) || !w->ready)
		return 0;
	struct record r = { .t_ns = now_ns(), .bytes = vxc_etcd_rx_bytes(w->e) - w->mark };
	w->mark = vxc_etcd_rx_bytes(w->e);
	if (write(w->result_fd, &r, sizeof(r)) != sizeof(r))
		return -EIO;
	return ++w->seen >= w->want;
}

static void watcher_main(int ready_fd, int result_fd, int reps, int64_t from)
{
	struct watcher w = { .ready_fd = ready_fd, .result_fd = result_fd, .want = reps };

	w.e = open_from_env();
	int rc = vxc_etcd_watch(w.e, "bench/", 1, from, on_event, &w, -1, NULL);
	if (rc != 1)
		fprintf(stderr, "bench-etcd: watcher %d: %d: %s\n", getpid(), rc,
			vxc_etcd_error(w.e));
	vxc_etcd_free(w.e);
	_exit(rc == 1 ? 0 : 1);
}

/* Reads exactly len bytes, waiting at most WAIT_MS in all. */
static int read_all(int fd, void *buf, size_t len)
{
	int64_t deadline = now_ns() + (int64_t)WAIT_MS * 1000000;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - now_ns()) / 1000000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double median_ms(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return v[n / 2] / 1e6;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20, instances = argc > 2 ? atoi(argv[2]) : 1000;
	int reps = argc > 3 ? atoi(argv[3]) : 10, ready_p[2], result_p[2], failed = 0;
	size_t len;
	int64_t rev;

	if (n < 1 || instances < 1 || reps < 1 || pipe(ready_p) || pipe(result_p))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct vxc_etcd *e = open_from_env();
	char *spec = make_spec(n, instances, 0, &len);
	if (vxc_etcd_put(e, KEY_SPEC, spec, len, VXC_ETCD_ANY, 0, &rev) < 0) {
		fprintf(stderr, "bench-etcd: put: %s\n", vxc_etcd_error(e));
		return 1;
	}
	free(spec);
	pid_t *pids = calloc((size_t)n, sizeof(pid_t));
	for (int i = 0; i < n; i++)
		if ((pids[i] = fork()) == 0)
			watcher_main(ready_p[1], result_p[1], reps, rev + 1);

	/* Every watch streams once each has seen this key. */
	char *ready = malloc((size_t)n);
	if (vxc_etcd_put(e, KEY_READY, "1", 1, VXC_ETCD_ANY, 0, NULL) < 0 ||
	    read_all(ready_p[0], ready, (size_t)n) < 0) {
		fprintf(stderr, "bench-etcd: the watchers did not start\n");
		return 1;
	}
	free(ready);

	int64_t *put_ns = calloc((size_t)reps, sizeof(int64_t));
	int64_t *last_ns = calloc((size_t)reps, sizeof(int64_t));
	int64_t *mid_ns = calloc((size_t)reps, sizeof(int64_t));
	int64_t *lat = calloc((size_t)n, sizeof(int64_t));
	uint64_t bytes_sum = 0, bytes_max = 0;
	for (int r = 0; r < reps && !failed; r++) {
		spec = make_spec(n, instances, r + 1, &len);
		int64_t t0 = now_ns();
		if (vxc_etcd_put(e, KEY_SPEC, spec, len, VXC_ETCD_ANY, 0, NULL) < 0) {
			fprintf(stderr, "bench-etcd: put: %s\n", vxc_etcd_error(e));
			failed = 1;
		}
		put_ns[r] = now_ns() - t0;
		free(spec);
		for (int i = 0; i < n && !failed; i++) {
			struct record rec;
			if (read_all(result_p[0], &rec, sizeof(rec)) < 0) {
				fprintf(stderr, "bench-etcd: change %d did not reach every watcher\n",
					r + 1);
				failed = 1;
				break;
			}
			lat[i] = rec.t_ns - t0;
			bytes_sum += rec.bytes;
			bytes_max = rec.bytes > bytes_max ? rec.bytes : bytes_max;
		}
		if (!failed) {
			qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
			last_ns[r] = lat[n - 1];
			mid_ns[r] = lat[n / 2];
		}
	}

	/* The other way a host could learn the change: get the spec again. */
	struct vxc_etcd_kv kv;
	uint64_t before = vxc_etcd_rx_bytes(e);
	int64_t tg = now_ns();
	int grc = vxc_etcd_get(e, KEY_SPEC, &kv, NULL);
	int64_t get_ns = now_ns() - tg;
	uint64_t get_bytes = vxc_etcd_rx_bytes(e) - before;
	if (grc == 0)
		vxc_etcd_kv_clear(&kv);

	for (int i = 0; i < n; i++) {
		int st;
		if (failed)
			kill(pids[i], SIGTERM);
		waitpid(pids[i], &st, 0);
	}
	if (failed)
		return 1;
	double put = median_ms(put_ns, reps), last = median_ms(last_ns, reps);
	double mid = median_ms(mid_ns, reps);
	double per = (double)bytes_sum / ((double)n * reps);
	printf("spec: %d instances on %d hosts, %zu bytes; %d one-object changes, medians\n",
	       instances, n, len, reps);
	printf("  put (what push stores with)          %8.1f ms\n", put);
	printf("  change seen by the median watcher    %8.1f ms   %.2fx the put\n", mid, mid / put);
	printf("  change seen by all %3d watchers      %8.1f ms   %.2fx the put\n", n, last,
	       last / put);
	printf("  read per watcher per change          %8.0f bytes %.2fx the spec (max %" PRIu64
	       ")\n", per, per / (double)len, bytes_max);
	printf("  a get of the spec instead            %8.0f bytes %.2fx the spec, %.1f ms\n",
	       (double)get_bytes, (double)get_bytes / (double)len, get_ns / 1e6);
	printf("  etcd traffic per change, all hosts   %8.0f bytes\n", per * n);
	vxc_etcd_free(e);
	curl_global_cleanup();
	return 0;
}
