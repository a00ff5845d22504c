/* Drives core/etcd.c against a real etcd (tests/e2e/etcd-client.sh starts
 * it): the endpoints and credentials come from the ETCD_* variables of
 * tests/lib/etcd.sh. Modes:
 *   api                       every call of the client API, checked
 *   errno NAME                a get must fail with -NAME (EACCES, ...)
 *   compacted KEY REV         a watch of KEY from REV must say -ERANGE
 *   failover KEY              put KEY, read it back, print the endpoint used
 *   reauth PROG               log in, run PROG (it invalidates every token),
 *                             then get and watch must log in again by themselves
 *   put KEY VALUE             one unconditional put
 *   follow KEY COUNT          watch KEY as an agent would: reconnect after every
 *                             failure, resume after the last revision seen; prints
 *                             "ready", "event VALUE via ENDPOINT", "error ..."
 * Prints TAP-like lines; exits 0 when every check passed. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etcd.h"

static int failed, n_checks;

static void check(int ok, const char *what, const struct vxc_etcd *e)
{
	n_checks++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n_checks, what);
	if (!ok) {
		failed++;
		if (e)
			printf("#   etcd error: %s\n", vxc_etcd_error(e));
	}
}

static char *env_or_null(const char *name)
{
	char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* ETCD_ENDPOINTS is comma separated. */
static void conf_from_env(struct vxc_etcd_conf *c)
{
	char *eps = strdup(getenv("ETCD_ENDPOINTS") ? getenv("ETCD_ENDPOINTS") : "");

	memset(c, 0, sizeof(*c));
	for (char *tok = strtok(eps, ","); tok; tok = strtok(NULL, ",")) {
		c->endpoints = realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(char *));
		c->endpoints[c->n_endpoints++] = strdup(tok);
	}
	free(eps);
	c->prefix = env_or_null("ETCD_PREFIX");
	c->ca = env_or_null("ETCD_CA");
	c->cert = env_or_null("ETCD_CERT");
	c->key = env_or_null("ETCD_KEY");
	c->user = env_or_null("ETCD_USER");
	c->password = env_or_null("ETCD_PASSWORD");
	c->timeout_ms = 2000;
}

static struct vxc_etcd *open_from_env(void)
{
	struct vxc_etcd_conf c;
	struct vxc_etcd *e;

	conf_from_env(&c);
	if (vxc_etcd_open(&e, &c) < 0) {
		fprintf(stderr, "cannot open an etcd handle (ETCD_ENDPOINTS?)\n");
		exit(2);
	}
	for (size_t i = 0; i < c.n_endpoints; i++)
		free(c.endpoints[i]);
	free(c.endpoints);
	return e;
}

static void test_kv(struct vxc_etcd *e)
{
	static const char bin[] = "a\0b\n\xff";
	struct vxc_etcd_kv kv;
	int64_t rev = 0, rev2 = 0, store = 0;

	vxc_etcd_delete(e, "t/k");
	check(vxc_etcd_get(e, "t/k", &kv, &store) == -ENOENT && store > 0,
	      "get of an absent key: -ENOENT, store revision set", e);
	check(vxc_etcd_put(e, "t/k", bin, sizeof(bin), VXC_ETCD_ANY, 0, &rev) == 0 && rev > 0,
	      "unconditional put gives a revision", e);
	check(vxc_etcd_get(e, "t/k", &kv, &store) == 0 && kv.value_len == sizeof(bin) &&
	      !memcmp(kv.value, bin, sizeof(bin)) && !strcmp(kv.key, "t/k") &&
	      kv.mod_revision == rev && store >= rev,
	      "get returns the binary value, relative key and mod_revision", e);
	vxc_etcd_kv_clear(&kv);

	check(vxc_etcd_put(e, "t/k", "x", 1, 0, 0, &rev2) == -ESTALE && rev2 == rev,
	      "put expecting absence of a present key: -ESTALE, its revision", e);
	check(vxc_etcd_put(e, "t/k", "x", 1, rev - 1, 0, &rev2) == -ESTALE && rev2 == rev,
	      "put expecting an old revision: -ESTALE", e);
	check(vxc_etcd_put(e, "t/k", "y", 1, rev, 0, &rev2) == 0 && rev2 > rev,
	      "put expecting the current revision succeeds", e);
	check(vxc_etcd_get(e, "t/k", &kv, NULL) == 0 && !strcmp(kv.value, "y"),
	      "the compare-and-put stored its value", e);
	vxc_etcd_kv_clear(&kv);
	vxc_etcd_delete(e, "t/new");
	check(vxc_etcd_put(e, "t/new", "n", 1, 0, 0, &rev) == 0,
	      "put expecting absence of an absent key succeeds", e);
	check(vxc_etcd_delete(e, "t/new") == 0 && vxc_etcd_get(e, "t/new", &kv, NULL) == -ENOENT,
	      "delete removes the key", e);
	check(vxc_etcd_delete(e, "t/new") == 0, "delete of an absent key is fine", e);
}

static void test_list(struct vxc_etcd *e)
{
	struct vxc_etcd_kv *kvs;
	size_t n;

	vxc_etcd_put(e, "l/b", "2", 1, VXC_ETCD_ANY, 0, NULL);
	vxc_etcd_put(e, "l/a", "1", 1, VXC_ETCD_ANY, 0, NULL);
	vxc_etcd_put(e, "lz", "x", 1, VXC_ETCD_ANY, 0, NULL); /* not under "l/" */
	check(vxc_etcd_list(e, "l/", &kvs, &n, NULL) == 0 && n == 2 &&
	      !strcmp(kvs[0].key, "l/a") && !strcmp(kvs[1].key, "l/b") &&
	      !strcmp(kvs[1].value, "2"),
	      "list returns the keys under a prefix, sorted, relative", e);
	vxc_etcd_kv_free(kvs, n);
	check(vxc_etcd_list(e, "none/", &kvs, &n, NULL) == 0 && n == 0 && !kvs,
	      "list of an empty prefix: none", e);
	uint64_t before = vxc_etcd_rx_bytes(e);
	vxc_etcd_list(e, "l/", &kvs, &n, NULL);
	vxc_etcd_kv_free(kvs, n);
	check(vxc_etcd_rx_bytes(e) > before + 2 * 8, "the handle counts the bytes it read", e);
}

static void test_lease(struct vxc_etcd *e)
{
	struct vxc_etcd_kv kv;
	int64_t lease = 0;

	check(vxc_etcd_lease_grant(e, 5, &lease) == 0 && lease > 0, "lease grant", e);
	check(vxc_etcd_put(e, "alive/t", "{}", 2, VXC_ETCD_ANY, lease, NULL) == 0 &&
	      vxc_etcd_get(e, "alive/t", &kv, NULL) == 0 && kv.lease == lease,
	      "a key put with the lease carries it", e);
	vxc_etcd_kv_clear(&kv);
	check(vxc_etcd_lease_keepalive(e, lease) == 0, "keepalive of a live lease", e);
	check(vxc_etcd_lease_revoke(e, lease) == 0 &&
	      vxc_etcd_get(e, "alive/t", &kv, NULL) == -ENOENT,
	      "revoking the lease removes its key", e);
	check(vxc_etcd_lease_keepalive(e, lease) == -ENOENT, "keepalive of a gone lease: -ENOENT",
	      e);
}

struct seen {
	int n, want;
	char keys[8][32];
	enum vxc_etcd_ev types[8];
};

static int on_event(const struct vxc_etcd_event *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s=%s", ev->kv.key,
			 ev->type == VXC_ETCD_PUT ? ev->kv.value : "-");
		s->types[s->n] = ev->type;
	}
	return ++s->n >= s->want;
}

/* A child with its own handle writes after the watch was asked to start at
 * the revision after `from`: whenever its put lands, the watch sees it. */
static void test_watch(struct vxc_etcd *e)
{
	struct seen s = { .want = 3 };
	int64_t from = 0;
	int stop[2];

	vxc_etcd_put(e, "w/a", "1", 1, VXC_ETCD_ANY, 0, &from);
	pid_t pid = fork();
	if (pid == 0) {
		struct vxc_etcd *c = open_from_env();
		int rc = vxc_etcd_put(c, "w/b", "2", 1, VXC_ETCD_ANY, 0, NULL);
		rc = rc ?: vxc_etcd_delete(c, "w/a");
		rc = rc ?: vxc_etcd_put(c, "w/other", "3", 1, VXC_ETCD_ANY, 0, NULL);
		vxc_etcd_free(c);
		_exit(rc ? 1 : 0);
	}
	int rc = vxc_etcd_watch(e, "w/", 1, from, on_event, &s, -1, NULL);
	int status = 0;
	waitpid(pid, &status, 0);
	check(rc == 1 && s.n == 3, "watch from a revision streams puts and deletes", e);
	check(!strcmp(s.keys[0], "w/a=1") && !strcmp(s.keys[1], "w/b=2") &&
	      s.types[2] == VXC_ETCD_DELETE && !strcmp(s.keys[2], "w/a=-"),
	      "watch events in order, with values and types", NULL);

	struct seen one = { .want = 1 };
	vxc_etcd_put(e, "w/k", "z", 1, VXC_ETCD_ANY, 0, &from);
	check(vxc_etcd_watch(e, "w/k", 0, from, on_event, &one, -1, NULL) == 1 &&
	      !strcmp(one.keys[0], "w/k=z"), "watch of one key", e);

	/* stop_fd readable: the watch ends with 0 without any event */
	struct seen none = { .want = 1 };
	if (pipe(stop) == 0) {
		write(stop[1], "x", 1);
		check(vxc_etcd_watch(e, "w/nothing", 0, 0, on_event, &none, stop[0], NULL) == 0 &&
		      none.n == 0, "a readable stop fd ends the watch with 0", e);
		close(stop[0]);
		close(stop[1]);
	}
}

static int mode_api(void)
{
	struct vxc_etcd *e = open_from_env();

	test_kv(e);
	test_list(e);
	test_lease(e);
	test_watch(e);
	vxc_etcd_free(e);
	printf("1..%d\n", n_checks);
	return failed ? 1 : 0;
}

static int errno_by_name(const char *name)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EACCES", EACCES }, { "ECONNREFUSED", ECONNREFUSED },
		{ "ETIMEDOUT", ETIMEDOUT }, { "EHOSTUNREACH", EHOSTUNREACH },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name))
			return names[i].err;
	return 0;
}

static int mode_errno(const char *name)
{
	struct vxc_etcd *e = open_from_env();
	struct vxc_etcd_kv kv;
	int rc = vxc_etcd_get(e, "spec", &kv, NULL);

	if (rc == 0)
		vxc_etcd_kv_clear(&kv);
	printf("get: %d (%s): %s\n", rc, rc < 0 ? strerror(-rc) : "ok", vxc_etcd_error(e));
	vxc_etcd_free(e);
	return rc == -errno_by_name(name) ? 0 : 1;
}

static int never(const struct vxc_etcd_event *ev, void *arg)
{
	return 1;
}

static int mode_compacted(const char *key, int64_t rev)
{
	struct vxc_etcd *e = open_from_env();
	int64_t compact = 0;
	int rc = vxc_etcd_watch(e, key, 0, rev, never, NULL, -1, &compact);

	printf("watch from %" PRId64 ": %d, compact revision %" PRId64 ": %s\n", rev, rc,
	       compact, vxc_etcd_error(e));
	vxc_etcd_free(e);
	return rc == -ERANGE && compact > rev ? 0 : 1;
}

static int mode_put(const char *key, const char *value)
{
	struct vxc_etcd *e = open_from_env();
	int rc = vxc_etcd_put(e, key, value, strlen(value), VXC_ETCD_ANY, 0, NULL);

	if (rc < 0)
		fprintf(stderr, "put: %d: %s\n", rc, vxc_etcd_error(e));
	vxc_etcd_free(e);
	return rc ? 1 : 0;
}

static int mode_failover(const char *key)
{
	struct vxc_etcd *e = open_from_env();
	struct vxc_etcd_kv kv;
	int64_t rev;
	int rc = vxc_etcd_put(e, key, "v", 1, VXC_ETCD_ANY, 0, &rev);

	rc = rc ?: vxc_etcd_get(e, key, &kv, NULL);
	if (rc == 0) {
		printf("%s\n", vxc_etcd_endpoint(e));
		vxc_etcd_kv_clear(&kv);
	} else {
		fprintf(stderr, "failover: %d: %s\n", rc, vxc_etcd_error(e));
	}
	vxc_etcd_free(e);
	return rc ? 1 : 0;
}

static int run(const char *prog)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	return status == 0 ? 0 : -1;
}

static int mode_reauth(const char *prog)
{
	struct vxc_etcd *e = open_from_env();
	struct vxc_etcd_kv kv;
	struct seen s = { .want = 1 };
	int64_t rev = 0;

	check(vxc_etcd_put(e, "r/k", "1", 1, VXC_ETCD_ANY, 0, &rev) == 0, "logged in, put", e);
	check(run(prog) == 0, "every token invalidated", NULL);
	check(vxc_etcd_watch(e, "r/k", 0, rev, on_event, &s, -1, NULL) == 1 && s.n == 1,
	      "a watch with a dead token logs in again and streams", e);
	int64_t lease = 0;
	check(vxc_etcd_lease_grant(e, 30, &lease) == 0, "a lease", e);
	check(run(prog) == 0, "every token invalidated", NULL);
	check(vxc_etcd_lease_keepalive(e, lease) == 0,
	      "a lease keepalive with a dead token logs in again", e);
	check(run(prog) == 0, "every token invalidated again", NULL);
	check(vxc_etcd_get(e, "r/k", &kv, NULL) == 0 && !strcmp(kv.value, "1"),
	      "a get with a dead token logs in again", e);
	vxc_etcd_kv_clear(&kv);
	vxc_etcd_free(e);
	printf("1..%d\n", n_checks);
	return failed ? 1 : 0;
}

struct follow {
	int left;
	int64_t next;
	struct vxc_etcd *e;
};

static int on_follow(const struct vxc_etcd_event *ev, void *arg)
{
	struct follow *f = arg;

	printf("event %s rev %" PRId64 " via %s\n", ev->type == VXC_ETCD_PUT ? ev->kv.value : "-",
	       ev->kv.mod_revision, vxc_etcd_endpoint(f->e));
	fflush(stdout);
	f->next = ev->kv.mod_revision + 1;
	return --f->left == 0;
}

static int mode_follow(const char *key, int count)
{
	struct follow f = { .left = count, .e = open_from_env() };
	struct vxc_etcd_kv kv;
	int64_t rev = 0, compact = 0;
	int rc;

	while ((rc = vxc_etcd_get(f.e, key, &kv, &rev)) < 0 && rc != -ENOENT)
		usleep(100000);
	if (rc == 0)
		vxc_etcd_kv_clear(&kv);
	f.next = rev + 1;
	printf("ready %" PRId64 "\n", rev);
	fflush(stdout);
	while ((rc = vxc_etcd_watch(f.e, key, 0, f.next, on_follow, &f, -1, &compact)) != 1) {
		printf("error %d %s\n", rc, vxc_etcd_error(f.e));
		fflush(stdout);
		if (rc == -ERANGE && vxc_etcd_get(f.e, key, &kv, &rev) == 0) {
			vxc_etcd_kv_clear(&kv);
			f.next = rev + 1;
		}
		usleep(200000); /* the caller's backoff */
	}
	vxc_etcd_free(f.e);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc == 2 && !strcmp(argv[1], "api"))
		rc = mode_api();
	else if (argc == 3 && !strcmp(argv[1], "errno"))
		rc = mode_errno(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "compacted"))
		rc = mode_compacted(argv[2], strtoll(argv[3], NULL, 10));
	else if (argc == 3 && !strcmp(argv[1], "failover"))
		rc = mode_failover(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "reauth"))
		rc = mode_reauth(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "put"))
		rc = mode_put(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "follow"))
		rc = mode_follow(argv[2], atoi(argv[3]));
	else
		fprintf(stderr, "usage: %s api | errno NAME | compacted KEY REV | failover KEY |\n"
				"       reauth PROG | put KEY VALUE | follow KEY N\n", argv[0]);
	curl_global_cleanup();
	return rc;
}
