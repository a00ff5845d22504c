/* The node config's etcd group: a full one loads, every mistake is named
 * with file, line and field, and a refused group leaves nc->etcd NULL. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodeconf.h"
#include "tap.h"

static char dir[] = "/tmp/vxc-nodeconf-etcd-XXXXXX";
static char path[128], pwfile[128], ca[128];

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
}

static int load(struct vxc_nodeconf *nc, struct vxc_diag *d, const char *text)
{
	write_file(path, text);
	vxc_diag_init(d);
	return vxc_nodeconf_load(nc, path, d);
}

static int has(const struct vxc_diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], want))
			return 1;
	printf("#   no message contains '%s'; got:\n", want);
	for (size_t i = 0; i < d->n; i++)
		printf("#     %s\n", d->msgs[i]);
	return 0;
}

static void done(struct vxc_nodeconf *nc, struct vxc_diag *d)
{
	vxc_nodeconf_free(nc);
	vxc_diag_free(d);
}

/* One bad group: refused, the message at LINE naming FIELD. */
static void refused(const char *text, int line, const char *field_msg, const char *what)
{
	struct vxc_nodeconf nc;
	struct vxc_diag d;
	char want[4096];

	ok(load(&nc, &d, text) < 0 && !nc.etcd, "%s: refused", what);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, field_msg);
	ok(has(&d, want), "%s: message names file, line and field", what);
	done(&nc, &d);
}

static void test_valid(void)
{
	struct vxc_nodeconf nc;
	struct vxc_diag d;
	char text[4096];

	snprintf(text, sizeof(text),
		 "host = \"h1\";\n"
		 "etcd = {\n"
		 "  endpoints = [ \"https://10.0.0.1:2379\", \"https://etcd-2.example:2379\",\n"
		 "                \"http://[fd00::1]:2379\" ];\n"
		 "  prefix = \"/cloud-a/\";\n"
		 "  ca = \"%s\"; cert = \"%s\"; key = \"%s\";\n"
		 "  user = \"vxcloud\"; password_file = \"%s\";\n"
		 "  timeout_ms = 500; lease_ttl_s = 4;\n"
		 "};\n", ca, ca, ca, pwfile);
	ok(load(&nc, &d, text) == 0 && nc.etcd, "a full etcd group loads");
	for (size_t i = 0; i < d.n; i++)
		printf("#   %s\n", d.msgs[i]);
	if (nc.etcd) {
		ok(nc.etcd->n_endpoints == 3 && !strcmp(nc.etcd->endpoints[1],
							"https://etcd-2.example:2379"),
		   "endpoints kept in order");
		is_str(nc.etcd->prefix, "/cloud-a/", "prefix");
		is_str(nc.etcd->user, "vxcloud", "user");
		is_str(nc.etcd->password, "s3cret", "password: the file's first line, no newline");
		ok(nc.etcd->timeout_ms == 500 && nc.etcd->lease_ttl_s == 4, "timeout and lease TTL");
		is_str(nc.etcd->ca, ca, "CA file");
	}
	done(&nc, &d);

	ok(load(&nc, &d, "etcd = { endpoints = [ \"http://127.0.0.1:2379\" ]; };\n") == 0 &&
	   nc.etcd && !strcmp(nc.etcd->prefix, "/vxcloud/") && nc.etcd->timeout_ms == 2000 &&
	   nc.etcd->lease_ttl_s == 10 && !nc.etcd->user,
	   "defaults: prefix /vxcloud/, 2000 ms, 10 s, no user");
	done(&nc, &d);
	ok(load(&nc, &d, "host = \"h\";\n") == 0 && !nc.etcd, "no etcd group: the spec is a file");
	done(&nc, &d);
}

static void test_refusals(void)
{
	char text[4096];

	refused("spec = \"/etc/vxcloud/cloud.conf\";\n"
		"etcd = { endpoints = [ \"http://10.0.0.1:2379\" ]; };\n", 2,
		"etcd: both spec (line 1) and etcd (line 2)", "spec and etcd together");
	refused("etcd = \"http://10.0.0.1:2379\";\n", 1, "etcd: must be a group", "not a group");
	refused("etcd = {\n  prefix = \"/x/\";\n};\n", 1, "etcd.endpoints: missing",
		"no endpoints");
	refused("etcd = {\n  endpoints = [ ];\n};\n", 2, "etcd.endpoints: must be a list",
		"empty endpoints");
	refused("etcd = {\n  endpoints = [ \"10.0.0.1:2379\" ];\n};\n", 2,
		"etcd.endpoints: '10.0.0.1:2379' is not http://HOST[:PORT]", "no scheme");
	refused("etcd = {\n  endpoints = [ \"http://10.0.0.1:2379/v3\" ];\n};\n", 2,
		"etcd.endpoints: 'http://10.0.0.1:2379/v3'", "a path");
	refused("etcd = {\n  endpoints = [ \"http://h:99999\" ];\n};\n", 2,
		"etcd.endpoints: 'http://h:99999'", "port out of range");
	refused("etcd = {\n  endpoints = [ \"http://u:p@h:1\" ];\n};\n", 2,
		"etcd.endpoints: 'http://u:p@h:1'", "credentials in the URL");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  prefix = \"vxcloud\";\n};\n", 3,
		"etcd.prefix: 'vxcloud' must start and end with '/'", "prefix without slashes");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  endpoint = \"x\";\n};\n", 3,
		"etcd.endpoint: unknown setting (known: endpoints,", "unknown key");
	refused("etcd = {\n  endpoints = [ \"https://h:1\" ];\n  ca = \"/nonexistent/ca.pem\";\n};\n",
		3, "etcd.ca: cannot read '/nonexistent/ca.pem'", "unreadable CA");
	refused("etcd = {\n  endpoints = [ \"https://h:1\" ];\n  ca = \"ca.pem\";\n};\n", 3,
		"etcd.ca: 'ca.pem' is not an absolute path", "relative CA path");
	snprintf(text, sizeof(text),
		 "etcd = {\n  endpoints = [ \"http://h:1\" ];\n  ca = \"%s\";\n};\n", ca);
	refused(text, 3, "etcd.ca: TLS files need https:// endpoints", "TLS over http");
	snprintf(text, sizeof(text),
		 "etcd = {\n  endpoints = [ \"https://h:1\" ];\n  cert = \"%s\";\n};\n", ca);
	refused(text, 3, "etcd.cert: cert and key go together", "cert without key");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  user = \"vxcloud\";\n};\n", 3,
		"etcd.user: needs password_file", "user without password");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  password = \"x\";\n};\n", 3,
		"etcd.password: a password needs a user", "password without user");
	snprintf(text, sizeof(text),
		 "etcd = {\n  endpoints = [ \"http://h:1\" ];\n  user = \"u\";\n  password = \"x\";\n"
		 "  password_file = \"%s\";\n};\n", pwfile);
	refused(text, 5, "etcd.password_file: both password (line 4) and password_file (line 5)",
		"password and password_file");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  user = \"u\";\n"
		"  password_file = \"/nonexistent/pw\";\n};\n", 4,
		"etcd.password_file: '/nonexistent/pw' No such file", "missing password file");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  user = \"u\";\n"
		"  password_file = \"/dev/null\";\n};\n", 4,
		"etcd.password_file: '/dev/null' is not a regular file", "password file not a file");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  timeout_ms = 5;\n};\n", 3,
		"etcd.timeout_ms: 5 is out of range 100..60000", "timeout too small");
	refused("etcd = {\n  endpoints = [ \"http://h:1\" ];\n  lease_ttl_s = \"10\";\n};\n", 3,
		"etcd.lease_ttl_s: must be an integer", "lease TTL of the wrong type");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/vxcloud.conf", dir);
	snprintf(pwfile, sizeof(pwfile), "%s/password", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	write_file(pwfile, "s3cret\nsecond line ignored\n");
	write_file(ca, "not checked here: curl reads it\n");

	test_valid();
	test_refusals();

	unlink(path);
	unlink(pwfile);
	unlink(ca);
	rmdir(dir);
	return tap_done();
}
