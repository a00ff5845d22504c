/* vxcloud: make this host match the cloud spec. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_client.h"
#include "cfgread.h"
#include "cloud_status.h"
#include "engine.h"
#include "json.h"
#include "lock.h"
#include "nodeconf.h"
#include "plan.h"
#include "spec.h"
#include "spec_store.h"
#include "util.h"

/* Exit codes, documented in vxcloud(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,  /* a driver operation failed */
	EXIT_USAGE = 2,
	EXIT_INVALID = 3, /* node config, spec or drivers refused; nothing changed */
	EXIT_LOCKED = 5,  /* --no-wait and another run holds the lock */
	EXIT_STALE = 5,   /* push: the store holds a revision newer than the one seen */
	EXIT_DIFFERS = 6, /* plan/status: the host does not match the spec */
};

struct options {
	const char *config;
	const char *spec;
	const char *host;
	int json;
	int cloud; /* status --cloud */
	int nowait;
	int verbose;
	int force;          /* push: no compare */
	int64_t revision;   /* push --revision N; -1: the one recorded */
	const char *output; /* pull -o FILE */
	char **args;        /* the command's own arguments */
	int n_args;
};

struct run {
	struct options opt;
	struct vxc_nodeconf nc;
	struct vxc_diag diag;
	struct vxc_changes changes;
	struct vxc_engine engine;
	int engine_open;
	struct vxc_spec *spec;
	struct vxc_plan *plan;
	int lock;
	char *spec_text;    /* the spec read as text: push's FILE, or etcd's */
	char *spec_name;    /* what messages call it */
};

static void usage(FILE *f)
{
	fputs("usage: vxcloud [--config FILE] [--spec FILE] [--host NAME] [--json] [--no-wait]\n"
	      "               [-v] COMMAND\n"
	      "       vxcloud [--config FILE] push [--force] [--revision N] FILE\n"
	      "       vxcloud [--config FILE] pull [-o FILE]\n"
	      "commands:\n"
	      "  validate  check the node config, drivers and spec; change nothing\n"
	      "  plan      show what apply would change; change nothing\n"
	      "  apply     make this host match the spec\n"
	      "  destroy   remove everything vxcloud owns on this host, nothing else\n"
	      "  status    desired vs actual, per object (--cloud: every host, from etcd)\n"
	      "  plugins   drivers found in the plugin directory\n"
	      "  push      validate FILE and store it as the spec in etcd\n"
	      "  pull      print the spec stored in etcd\n"
	      "see vxcloud(8)\n",
	      f);
}

static int report_diag(struct run *r, const char *what)
{
	fprintf(stderr, "vxcloud: %s:\n", what);
	for (size_t i = 0; i < r->diag.n; i++)
		fprintf(stderr, "  %s\n", r->diag.msgs[i]);
	fprintf(stderr, "vxcloud: nothing was changed\n");
	return EXIT_INVALID;
}

static int load_nodeconf(struct run *r)
{
	const char *path = r->opt.config;

	if (!path && access(VXC_DEFAULT_CONFIG, F_OK) == 0)
		path = VXC_DEFAULT_CONFIG;
	if (path) {
		if (vxc_nodeconf_load(&r->nc, path, &r->diag) < 0)
			return report_diag(r, "invalid node config");
	} else {
		vxc_nodeconf_init(&r->nc);
		r->nc.path = vxc_xstrdup(VXC_DEFAULT_CONFIG " (absent: defaults)");
	}
	if (r->opt.host) {
		free(r->nc.host);
		r->nc.host = vxc_xstrdup(r->opt.host);
	}
	if (r->opt.spec)
		r->nc.spec = r->opt.spec;
	if (r->opt.verbose)
		r->nc.log_level = VXC_LOG_INFO + (r->opt.verbose > 1);
	return EXIT_OK;
}

static int open_engine(struct run *r)
{
	if (vxc_engine_open(&r->engine, &r->nc, &r->changes, &r->diag) < 0) {
		vxc_engine_close(&r->engine);
		return report_diag(r, "cannot use the configured drivers");
	}
	r->engine_open = 1;
	return EXIT_OK;
}

/* The spec of this run: push's FILE as read, else etcd's when the node
 * config names it (and no --spec), else the file. */
static int load_spec(struct run *r)
{
	if (!r->spec_text && r->nc.etcd && !r->opt.spec) {
		int64_t rev;
		if (vxc_spec_fetch(&r->nc, &r->spec_text, &rev) < 0)
			return -EIO;
		r->spec_name = vxc_xasprintf("etcd:%s%s@%" PRId64, r->nc.etcd->prefix, VXC_SPEC_KEY,
					     rev);
		r->nc.spec = r->spec_name;
	}
	if (r->spec_text)
		return vxc_spec_load_buffer(r->spec_text, r->spec_name, &r->spec, &r->diag);
	return vxc_spec_load_file(r->nc.spec, &r->spec, &r->diag);
}

static int load_plan(struct run *r)
{
	int rc = load_spec(r);

	if (rc == -EIO)
		return EXIT_FAILED;
	if (rc < 0)
		return report_diag(r, "invalid spec");
	if (vxc_plan_build(r->spec, r->nc.host, &r->plan, &r->diag) < 0)
		return report_diag(r, "cannot plan this host");
	if (vxc_engine_check_plan(&r->engine, r->plan, &r->diag) < 0)
		return report_diag(r, "the spec needs drivers this host does not have");
	return EXIT_OK;
}

static int take_lock(struct run *r)
{
	r->lock = vxc_lock_acquire(r->nc.state_dir, r->opt.nowait);
	if (r->lock == -EWOULDBLOCK)
		return EXIT_LOCKED;
	if (r->lock < 0) {
		fprintf(stderr, "vxcloud: cannot lock state directory %s: %s\n",
			r->nc.state_dir, strerror(-r->lock));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static void print_changes_json(const struct run *r, const char *cmd)
{
	printf("{\"command\":\"%s\",\"host\":", cmd);
	vxc_json_str(stdout, r->nc.host);
	/* plan: would the host change; apply: did it. */
	printf(",\"changed\":%s,\"changes\":[", r->changes.n ? "true" : "false");
	for (size_t i = 0; i < r->changes.n; i++) {
		printf("%s{\"driver\":", i ? "," : "");
		vxc_json_str(stdout, r->changes.v[i].driver);
		printf(",\"change\":");
		vxc_json_str(stdout, r->changes.v[i].what);
		printf("}");
	}
	printf("]}\n");
}

static int driver_failed(struct run *r, const char *cmd)
{
	fflush(stdout); /* after the changes made */
	fprintf(stderr, "vxcloud: %s failed: %s\n", cmd,
		r->engine.error ? r->engine.error : "unknown error");
	if (r->changes.n)
		fprintf(stderr, "vxcloud: %zu change%s made before the failure; "
				"run `vxcloud status` to see the host\n",
			r->changes.n, r->changes.n == 1 ? " was" : "s were");
	return EXIT_FAILED;
}

/* What validate checks, and push before it stores anything. */
static int check_spec(struct run *r)
{
	int rc = open_engine(r);

	if (rc)
		return rc;
	rc = load_spec(r);
	if (rc == -EIO)
		return EXIT_FAILED;
	if (rc < 0)
		return report_diag(r, "invalid spec");
	if (vxc_spec_host(r->spec, r->nc.host)) {
		if (vxc_plan_build(r->spec, r->nc.host, &r->plan, &r->diag) < 0 ||
		    vxc_engine_check_plan(&r->engine, r->plan, &r->diag) < 0)
			return report_diag(r, "cannot serve this host's part of the spec");
	}
	return EXIT_OK;
}

static int cmd_validate(struct run *r)
{
	int rc = check_spec(r);

	if (rc)
		return rc;
	printf("%s: valid: hosts %zu, networks %zu, routers %zu, instances %zu, "
	       "floating IPs %zu, load balancers %zu\n",
	       r->spec->path, r->spec->n_hosts, r->spec->n_networks, r->spec->n_routers,
	       r->spec->n_instances, r->spec->n_fips, r->spec->n_lbs);
	if (!r->plan)
		printf("note: host %s is not in the spec\n", r->nc.host);
	return EXIT_OK;
}

/* plan and apply: the same walk, with or without VXC_F_DRY_RUN. */
static int cmd_reconcile(struct run *r, int dry_run)
{
	const char *cmd = dry_run ? "plan" : "apply";
	int rc;

	if ((rc = open_engine(r)) || (rc = load_plan(r)) || (rc = take_lock(r)))
		return rc;
	r->changes.echo = !r->opt.json;
	if (!r->opt.json)
		printf("%s for host %s (spec %s):\n", dry_run ? "plan" : "applying", r->nc.host,
		       r->nc.spec);
	if (vxc_engine_reconcile(&r->engine, r->plan, dry_run ? VXC_F_DRY_RUN : 0) < 0)
		return driver_failed(r, cmd);
	if (!dry_run)
		vxc_engine_save_roles(&r->engine);
	if (r->opt.json)
		print_changes_json(r, cmd);
	else if (!r->changes.n)
		printf("no changes: host %s matches the spec\n", r->nc.host);
	else
		printf("%zu change%s %s\n", r->changes.n, r->changes.n == 1 ? "" : "s",
		       dry_run ? "to make (run `vxcloud apply`)" : "made");
	return dry_run && r->changes.n ? EXIT_DIFFERS : EXIT_OK;
}

static int cmd_destroy(struct run *r)
{
	int rc;

	/* The agent would build everything again right away. */
	if (vxc_agent_running(r->nc.state_dir)) {
		fprintf(stderr, "vxcloud: destroy: the agent vxcloudd runs on host %s (%s/agent.sock) "
				"and would rebuild it; stop it first (systemctl stop vxcloudd); "
				"nothing was changed\n",
			r->nc.host, r->nc.state_dir);
		return EXIT_LOCKED;
	}

	if ((rc = open_engine(r)) || (rc = take_lock(r)))
		return rc;
	r->changes.echo = 1;
	printf("destroying everything vxcloud owns on host %s:\n", r->nc.host);
	if (vxc_engine_reconcile(&r->engine, NULL, 0) < 0)
		return driver_failed(r, "destroy");
	vxc_engine_forget_roles(&r->engine);
	printf("%zu change%s made; nothing of vxcloud's is left on host %s\n", r->changes.n,
	       r->changes.n == 1 ? "" : "s", r->nc.host);
	return EXIT_OK;
}

static const char *const state_names[] = { "ok", "differs", "stale" };

static void print_status_json(const struct run *r, const struct vxc_status *st, int in_sync)
{
	printf("{\"host\":");
	vxc_json_str(stdout, r->nc.host);
	printf(",\"in_sync\":%s,\"objects\":[", in_sync ? "true" : "false");
	for (size_t i = 0; i < st->n; i++) {
		const struct vxc_status_row *row = &st->v[i];
		printf("%s{\"kind\":\"%s\",\"name\":", i ? "," : "", vxc_kind_name(row->kind));
		vxc_json_str(stdout, row->name);
		printf(",\"driver\":");
		vxc_json_str(stdout, row->driver);
		printf(",\"state\":\"%s\",\"differences\":[", state_names[row->state]);
		for (size_t j = 0; j < row->details.n; j++) {
			printf("%s", j ? "," : "");
			vxc_json_str(stdout, row->details.v[j].what);
		}
		printf("],\"running\":[");
		for (size_t j = 0; j < row->info.n; j++) {
			printf("%s", j ? "," : "");
			vxc_json_str(stdout, row->info.v[j].what);
		}
		printf("],\"notes\":[");
		for (size_t j = 0; j < row->notes.n; j++) {
			printf("%s", j ? "," : "");
			vxc_json_str(stdout, row->notes.v[j].what);
		}
		printf("]}");
	}
	printf("]}\n");
}

static int cmd_status(struct run *r)
{
	struct vxc_status st;
	int rc, in_sync = 1;

	if (r->opt.cloud) {
		if (!r->nc.etcd) {
			fprintf(stderr, "vxcloud: status --cloud: the node config %s has no etcd "
					"group; the cloud's status lives in etcd\n", r->nc.path);
			return EXIT_USAGE;
		}
		return vxc_cloud_status(r->nc.etcd, r->opt.json, stdout);
	}
	/* A running agent knows more (repairs, errors, the last pass) and
	 * answers without touching the host; asked only about its own spec. */
	rc = r->opt.spec ? -ENOENT : vxc_agent_status(r->nc.state_dir, r->opt.json, stdout);
	if (rc != -ENOENT) {
		if (rc >= 0)
			return rc;
		fprintf(stderr, "vxcloud: the agent on %s/agent.sock did not answer: %s; "
				"checking the host here\n", r->nc.state_dir, strerror(-rc));
	}
	if ((rc = open_engine(r)) || (rc = load_plan(r)) || (rc = take_lock(r)))
		return rc;
	if (vxc_engine_status(&r->engine, r->plan, &st) < 0) {
		vxc_status_free(&st);
		return driver_failed(r, "status");
	}
	for (size_t i = 0; i < st.n; i++)
		in_sync &= st.v[i].state == VXC_STATE_OK;
	if (r->opt.json) {
		print_status_json(r, &st, in_sync);
	} else {
		printf("%-9s %-20s %-12s %s\n", "KIND", "NAME", "DRIVER", "STATE");
		for (size_t i = 0; i < st.n; i++) {
			const struct vxc_status_row *row = &st.v[i];
			printf("%-9s %-20s %-12s %s\n", vxc_kind_name(row->kind), row->name,
			       row->driver, state_names[row->state]);
			for (size_t j = 0; j < row->details.n; j++)
				printf("            - %s\n", row->details.v[j].what);
			for (size_t j = 0; j < row->info.n; j++)
				printf("            | %s\n", row->info.v[j].what);
			for (size_t j = 0; j < row->notes.n; j++)
				printf("            = %s\n", row->notes.v[j].what);
		}
		printf("host %s %s the spec\n", r->nc.host, in_sync ? "matches" : "does not match");
	}
	vxc_status_free(&st);
	return in_sync ? EXIT_OK : EXIT_DIFFERS;
}

static void caps_text(uint64_t caps, char *buf, size_t len)
{
	static const char *const names[] = { "neigh-proxy", "atomic",      "ct-flush", "healthcheck",
					     "l7",          "container", "vm",       "udp",
					     "unweighted" };
	buf[0] = '\0';
	for (size_t i = 0; i < VXC_ARRAY_SIZE(names); i++)
		if (caps & (1ull << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
				 names[i]);
	if (!buf[0])
		snprintf(buf, len, "-");
}

static int cmd_plugins(struct run *r)
{
	struct vxc_registry reg;
	char caps[128];
	int refused = 0;

	vxc_registry_scan(&reg, r->nc.plugin_dir);
	if (r->opt.json) {
		printf("{\"plugin_dir\":");
		vxc_json_str(stdout, reg.dir);
		printf(",\"error\":");
		if (reg.dir_error)
			vxc_json_str(stdout, reg.dir_error);
		else
			printf("null");
		printf(",\"plugins\":[");
	} else {
		printf("plugin directory %s\n", reg.dir);
		if (reg.dir_error)
			printf("  refused: %s\n", reg.dir_error);
		printf("%-12s %-8s %-5s %-28s %s\n", "DRIVER", "CONCERN", "ABI", "CAPABILITIES",
		       "FILE");
	}
	for (size_t i = 0; i < reg.n; i++) {
		const struct vxc_loaded *lp = &reg.v[i];
		const struct vxc_plugin *p = lp->desc;
		refused += !p;
		if (p)
			caps_text(p->caps, caps, sizeof(caps));
		if (r->opt.json) {
			printf("%s{\"file\":", i ? "," : "");
			vxc_json_str(stdout, lp->path);
			if (p) {
				printf(",\"driver\":");
				vxc_json_str(stdout, p->name);
				printf(",\"concern\":\"%s\",\"abi\":\"%u.%u\",\"capabilities\":",
				       vxc_concern_name((enum vxc_concern)p->concern), p->abi_major,
				       p->abi_minor);
				vxc_json_str(stdout, caps);
				printf(",\"description\":");
				vxc_json_str(stdout, p->description);
				printf(",\"error\":null}");
			} else {
				printf(",\"error\":");
				vxc_json_str(stdout, lp->error);
				printf("}");
			}
		} else if (p) {
			printf("%-12s %-8s %u.%-3u %-28s %s\n", p->name,
			       vxc_concern_name((enum vxc_concern)p->concern), p->abi_major,
			       p->abi_minor, caps, lp->path);
		} else {
			printf("%-12s %-8s %-5s %-28s %s\n  refused: %s\n", "?", "?", "?", "-",
			       lp->path, lp->error);
		}
	}
	if (r->opt.json)
		printf("]}\n");
	refused += reg.dir_error != NULL;
	vxc_registry_free(&reg);
	return refused ? EXIT_INVALID : EXIT_OK;
}

/* The file read once (regular file, size and string limits, no NUL): what
 * is validated is what is stored. */
static int read_push_file(struct run *r, const char *path)
{
	struct vxc_cfg_text t;
	int rc = vxc_cfg_read(path, "spec", &t, &r->diag);

	if (rc == 0) {
		r->spec_text = t.text;
		t.text = NULL;
		r->spec_name = vxc_xstrdup(path);
		r->nc.spec = r->spec_name;
	}
	vxc_cfg_text_free(&t);
	return rc < 0 ? report_diag(r, "invalid spec") : EXIT_OK;
}

static int cmd_push(struct run *r)
{
	int64_t expect = r->opt.revision;
	int rc;

	if (!r->nc.etcd) {
		fprintf(stderr, "vxcloud: push: node config %s has no etcd group to push to\n",
			r->nc.path);
		return EXIT_INVALID;
	}
	if ((rc = read_push_file(r, r->opt.args[0])) || (rc = check_spec(r)))
		return rc;
	if (r->opt.force)
		expect = VXC_ETCD_ANY;
	else if (expect < 0 && vxc_spec_revision_read(r->nc.state_dir, &expect) < 0)
		expect = 0; /* never seen the store: the spec must not exist yet */
	rc = vxc_spec_push(&r->nc, r->spec_text, strlen(r->spec_text), expect);
	return rc == -ESTALE ? EXIT_STALE : rc < 0 ? EXIT_FAILED : EXIT_OK;
}

static int cmd_pull(struct run *r)
{
	if (!r->nc.etcd) {
		fprintf(stderr, "vxcloud: pull: node config %s has no etcd group to pull from\n",
			r->nc.path);
		return EXIT_INVALID;
	}
	return vxc_spec_pull(&r->nc, r->opt.output) < 0 ? EXIT_FAILED : EXIT_OK;
}

/* "push --revision N": a revision is a positive 64-bit integer, 0 = absent. */
static int parse_revision(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "vxcloud: --revision '%s': not a revision (0, 1, 2, ...)\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* push takes FILE, the rest nothing; push's and pull's options only there. */
static int check_command_args(const struct options *o, const char *cmd)
{
	int push = !strcmp(cmd, "push"), pull = !strcmp(cmd, "pull");
	const char *misplaced = (o->force || o->revision >= 0) && !push ? "--force and --revision"
				: o->output && !pull ? "-o" : NULL;

	if (misplaced) {
		fprintf(stderr, "vxcloud: %s go%s with %s only\n", misplaced,
			o->output && !pull ? "es" : "", o->output && !pull ? "pull" : "push");
		return -1;
	}
	if (push && o->force && o->revision >= 0) {
		fprintf(stderr, "vxcloud: push: --force or --revision, not both\n");
		return -1;
	}
	if (o->n_args != push) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o, const char **cmd)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "spec", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },   { "json", no_argument, NULL, 'j' },
		{ "no-wait", no_argument, NULL, 'n' },      { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ "force", no_argument, NULL, 'f' },        { "revision", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' }, { "cloud", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->revision = -1;
	while ((c = getopt_long(argc, argv, "c:s:H:jnvhVfr:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->spec = optarg; break;
		case 'H': o->host = optarg; break;
		case 'j': o->json = 1; break;
		case 'C': o->cloud = 1; break;
		case 'n': o->nowait = 1; break;
		case 'v': o->verbose++; break;
		case 'f': o->force = 1; break;
		case 'r': if (parse_revision(optarg, &o->revision) < 0) return -1; break;
		case 'o': o->output = optarg; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': puts("vxcloud " PACKAGE_VERSION); exit(EXIT_OK);
		default: usage(stderr); return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	*cmd = argv[optind];
	o->args = argv + optind + 1;
	o->n_args = argc - optind - 1;
	return check_command_args(o, *cmd);
}

static void run_free(struct run *r)
{
	vxc_lock_release(r->lock);
	vxc_plan_free(r->plan);
	vxc_spec_free(r->spec);
	if (r->engine_open)
		vxc_engine_close(&r->engine);
	vxc_changes_free(&r->changes);
	vxc_diag_free(&r->diag);
	vxc_nodeconf_free(&r->nc);
	free(r->spec_text);
	free(r->spec_name);
}

int main(int argc, char **argv)
{
	struct run r = { .lock = -1 };
	const char *cmd;
	int rc;

	if (parse_args(argc, argv, &r.opt, &cmd) < 0)
		return EXIT_USAGE;
	vxc_diag_init(&r.diag);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread: etcd's client */
	rc = load_nodeconf(&r);
	if (rc == EXIT_OK) {
		if (!strcmp(cmd, "validate"))
			rc = cmd_validate(&r);
		else if (!strcmp(cmd, "plan"))
			rc = cmd_reconcile(&r, 1);
		else if (!strcmp(cmd, "apply"))
			rc = cmd_reconcile(&r, 0);
		else if (!strcmp(cmd, "destroy"))
			rc = cmd_destroy(&r);
		else if (!strcmp(cmd, "status"))
			rc = cmd_status(&r);
		else if (!strcmp(cmd, "plugins"))
			rc = cmd_plugins(&r);
		else if (!strcmp(cmd, "push"))
			rc = cmd_push(&r);
		else if (!strcmp(cmd, "pull"))
			rc = cmd_pull(&r);
		else {
			fprintf(stderr, "vxcloud: unknown command '%s'\n", cmd);
			usage(stderr);
			rc = EXIT_USAGE;
		}
	}
	run_free(&r);
	curl_global_cleanup();
	return rc;
}
