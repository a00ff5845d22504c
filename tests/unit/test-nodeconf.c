/* The node config: defaults, errors with file/line/field, driver settings
 * checked against a driver's schema. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodeconf.h"
#include "tap.h"

static char path[] = "/tmp/vxc-nodeconf-XXXXXX";

static int load(struct vxc_nodeconf *nc, struct vxc_diag *d, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
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

static const struct vxc_option schema[] = {
	{ .name = "vxlan_port", .type = VXC_OPT_INT, .def = "4789", .min = 1, .max = 65535 },
	{ .name = "neigh_proxy", .type = VXC_OPT_BOOL, .def = "false" },
	{ .name = "table", .type = VXC_OPT_STRING, .def = "vxcloud" },
	{ .name = NULL },
};

int main(void)
{
	struct vxc_nodeconf nc;
	struct vxc_diag d;
	char where[256];
	int fd = mkstemp(path);

	close(fd);

	ok(load(&nc, &d, "host = \"compute1\";\n"
			 "plugin_dir = \"/opt/p\";\n"
			 "network = \"linuxbridge\";\n"
			 "nat = \"nftables\";\n"
			 "vm = \"\";\n"
			 "settings = { linuxbridge = { vxlan_port = 8472; }; };\n") == 0,
	   "a valid node config loads");
	is_str(nc.host, "compute1", "host name");
	is_str(nc.plugin_dir, "/opt/p", "plugin directory");
	is_str(nc.netns_dir, "/run/netns", "netns directory defaults to /run/netns");
	is_str(nc.driver[VXC_ROLE_NETWORK], "linuxbridge", "network driver");
	is_str(nc.driver[VXC_ROLE_NAT], "nftables", "nat driver");
	ok(!nc.driver[VXC_ROLE_VM] && !nc.driver[VXC_ROLE_LB], "empty and absent roles have no driver");
	ok(vxc_nodeconf_check_settings(&nc, "linuxbridge", schema, &d) == 0,
	   "settings that match the schema pass");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);

	ok(load(&nc, &d, "host = \"a\";\n"
			 "natt = \"nftables\";\n"
			 "log_level = \"loud\";\n"
			 "state_dir = \"relative\";\n"
			 "network = 4;\n"
			 "nat = \"Bad Name\";\n") < 0,
	   "a bad node config is refused");
	snprintf(where, sizeof(where), "%s:2: natt: unknown setting", path);
	ok(has(&d, where), "unknown key named with file and line");
	snprintf(where, sizeof(where), "%s:3: log_level: 'loud' is not one of", path);
	ok(has(&d, where), "bad log level");
	snprintf(where, sizeof(where), "%s:4: state_dir: 'relative' is not an absolute path", path);
	ok(has(&d, where), "relative path");
	snprintf(where, sizeof(where), "%s:5: network: must be a string", path);
	ok(has(&d, where), "driver name of the wrong type");
	snprintf(where, sizeof(where), "%s:6: nat: 'Bad Name' is not a driver name", path);
	ok(has(&d, where), "unsafe driver name");
	ok(d.n == 5, "every problem is reported in one run (%zu)", d.n);
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);

	ok(load(&nc, &d, "network = \"linuxbridge\";\n"
			 "settings = {\n"
			 "  linuxbridge = {\n"
			 "    vxlan_prot = 1;\n"
			 "    vxlan_port = 70000;\n"
			 "    neigh_proxy = 1;\n"
			 "    table = true;\n"
			 "  };\n"
			 "};\n") == 0,
	   "settings are checked against the driver's schema, not at load");
	ok(vxc_nodeconf_check_settings(&nc, "linuxbridge", schema, &d) < 0, "bad settings refused");
	snprintf(where, sizeof(where),
		 "%s:4: settings.linuxbridge.vxlan_prot: driver linuxbridge has no such setting "
		 "(known: vxlan_port, neigh_proxy, table)",
		 path);
	ok(has(&d, where), "unknown driver setting lists the known ones");
	snprintf(where, sizeof(where),
		 "%s:5: settings.linuxbridge.vxlan_port: 70000 is out of range 1..65535", path);
	ok(has(&d, where), "out of range");
	snprintf(where, sizeof(where), "%s:6: settings.linuxbridge.neigh_proxy: must be true or false",
		 path);
	ok(has(&d, where), "wrong type: bool");
	snprintf(where, sizeof(where), "%s:7: settings.linuxbridge.table: must be a string", path);
	ok(has(&d, where), "wrong type: string");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);

	ok(load(&nc, &d, "host = \"a\"\nnetwork = ;\n") < 0, "a syntax error is refused");
	snprintf(where, sizeof(where), "%s:2: syntax error", path);
	ok(has(&d, where), "syntax error with its line");
	vxc_nodeconf_free(&nc);
	vxc_diag_free(&d);

	unlink(path);
	return tap_done();
}
