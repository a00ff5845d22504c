/* The descriptor: the one symbol this .so exports. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

static const struct vxc_option options[] = {
	{ "haproxy", VXC_OPT_STRING, "haproxy", 0, 0,
	  "the haproxy program: a name searched in /usr/sbin:/usr/bin:/sbin:/bin, or a path" },
	{ "stop_timeout_ms", VXC_OPT_INT, "5000", 0, 60000,
	  "how long to wait after SIGTERM before SIGKILL when stopping haproxy" },
	{ "reload_timeout_ms", VXC_OPT_INT, "10000", 100, 120000,
	  "how long a start or reload may take until the new worker serves" },
	{ "keepalived", VXC_OPT_STRING, "keepalived", 0, 0,
	  "keepalived program for balancers on several hosts (path, or name in PATH)" },
	{ "ha_notify", VXC_OPT_STRING, VXC_PKGLIBEXECDIR "/vxcloud-ha-notify", 0, 0,
	  "program keepalived runs on a VRRP state change (absolute path)" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* The last service slot this driver calls; an older core lacks it. */
#define NEEDED_SERVICES (offsetof(struct vxc_services, proc_stop) + sizeof(void *))

struct hap_priv {
	struct hap_drv d;
	char program[PATH_MAX];
};

/* An absolute path, so `haproxy -c` and the daemon run the same binary. */
static int find_program(const char *name, char out[PATH_MAX])
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	struct stat st;

	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, PATH_MAX, "%s/%s", dirs[i], name);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int drv_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct hap_priv *hp;
	const char *prog, *keepalived, *notify;
	long long stop, reload;
	int r;

	if (!svc || svc->size < NEEDED_SERVICES)
		return -ENOTSUP;
	if ((r = svc->opt_string(ctx, "haproxy", &prog)) < 0 ||
	    (r = svc->opt_int(ctx, "stop_timeout_ms", &stop)) < 0 ||
	    (r = svc->opt_int(ctx, "reload_timeout_ms", &reload)) < 0 ||
	    (r = svc->opt_string(ctx, "keepalived", &keepalived)) < 0 ||
	    (r = svc->opt_string(ctx, "ha_notify", &notify)) < 0)
		return svc->error(ctx, r, "lb/haproxy: options missing");
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return svc->error(ctx, -ENOMEM, "lb/haproxy: out of memory");
	r = find_program(prog, hp->program);
	if (r < 0) {
		free(hp);
		return svc->error(ctx, r, "lb/haproxy: program %s: %s (Debian package haproxy)",
				  prog, strerror(-r));
	}
	hp->d.ctx = ctx;
	hp->d.svc = svc;
	hp->d.haproxy = hp->program;
	hp->d.stop_timeout_ms = (unsigned)stop;
	hp->d.reload_timeout_ms = (unsigned)reload;
	hp->d.ha = (struct lb_ha_cfg){ keepalived, notify, 0 };
	*priv = &hp->d;
	return 0;
}

static void drv_close(void *priv)
{
	free(priv); /* d is the first member of struct hap_priv */
}

static const struct vxc_lb_ops ops = {
	.size = sizeof(struct vxc_lb_ops),
	.lb_ensure = hap_lb_ensure,
	.list = hap_lb_list,
	.remove = hap_lb_remove,
	.lb_status = hap_lb_status,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_LB,
	.name = "haproxy",
	.description = "load balancers as haproxy (master-worker) in a namespace on the tenant "
		       "network; runtime API for weights and draining, seamless reloads",
	.caps = VXC_CAP_HEALTHCHECK | VXC_CAP_L7,
	.options = options,
	.open = drv_open,
	.close = drv_close,
	.ops = &ops,
};
