#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/socket.h>
#include <sys/stat.h>

#include "ctx.h"
#include "netns.h"
#include "util.h"

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void vxc_ctx_init(vxc_ctx *ctx, const struct vxc_plugin *plugin, const char *host_name,
		  const char *netns_dir, const char *node_state_dir)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->plugin = plugin;
	ctx->host_name = host_name;
	ctx->netns_dir = netns_dir;
	ctx->node_state_dir = node_state_dir;
	ctx->log_level = VXC_LOG_WARN;
}

void vxc_ctx_fini(vxc_ctx *ctx)
{
	free(ctx->errmsg);
	free(ctx->state_dir);
	ctx->errmsg = ctx->state_dir = NULL;
	if (ctx->host_nl)
		nl_socket_free(ctx->host_nl);
	ctx->host_nl = NULL;
}

void vxc_ctx_reset(vxc_ctx *ctx)
{
	free(ctx->errmsg);
	ctx->errmsg = NULL;
	ctx->n_changes = 0;
}

static const char *driver_name(const vxc_ctx *ctx)
{
	return ctx->plugin ? ctx->plugin->name : "core";
}

void vxc_ctx_log(vxc_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > ctx->log_level)
		return;
	if (level < 0 || level > VXC_LOG_DEBUG)
		level = VXC_LOG_DEBUG;
	fflush(stdout); /* the changes printed so far come first (see changes.c) */
	fprintf(stderr, "vxcloud: %s: %s: ", driver_name(ctx), level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int vxc_ctx_error(vxc_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(ctx->errmsg);
	ctx->errmsg = msg;
	return err < 0 ? err : -EIO;
}

void vxc_ctx_change(vxc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	ctx->n_changes++;
	if (msg && ctx->sink.report)
		ctx->sink.report(ctx->sink.arg, driver_name(ctx), msg);
	free(msg);
}

void vxc_ctx_note(vxc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!ctx->sink.note)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		ctx->sink.note(ctx->sink.arg, driver_name(ctx), msg);
	free(msg);
}

static const struct vxc_option *find_option(const vxc_ctx *ctx, const char *name,
					    enum vxc_opt_type type)
{
	const struct vxc_option *o = ctx->plugin ? ctx->plugin->options : NULL;

	for (; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o->type == type ? o : NULL;
	return NULL;
}

/* The node config was validated against the schema before the driver
 * opened, so values found here have the declared type and range. */
static const config_setting_t *find_value(const vxc_ctx *ctx, const char *name)
{
	return ctx->settings ? config_setting_get_member(ctx->settings, name) : NULL;
}

static int opt_int(vxc_ctx *ctx, const char *name, long long *out)
{
	const struct vxc_option *o = find_option(ctx, name, VXC_OPT_INT);
	const config_setting_t *v;

	if (!o)
		return -ENOENT;
	v = find_value(ctx, name);
	*out = v ? config_setting_get_int64(v) : (o->def ? strtoll(o->def, NULL, 0) : 0);
	return 0;
}

static int opt_bool(vxc_ctx *ctx, const char *name, int *out)
{
	const struct vxc_option *o = find_option(ctx, name, VXC_OPT_BOOL);
	const config_setting_t *v;

	if (!o)
		return -ENOENT;
	v = find_value(ctx, name);
	*out = v ? config_setting_get_bool(v) : (o->def && !strcmp(o->def, "true"));
	return 0;
}

static int opt_string(vxc_ctx *ctx, const char *name, const char **out)
{
	const struct vxc_option *o = find_option(ctx, name, VXC_OPT_STRING);
	const config_setting_t *v;

	if (!o)
		return -ENOENT;
	v = find_value(ctx, name);
	*out = v ? config_setting_get_string(v) : o->def;
	return 0;
}

static const char *host_name(vxc_ctx *ctx)
{
	return ctx->host_name;
}

static const char *state_dir(vxc_ctx *ctx)
{
	if (!ctx->state_dir) {
		char *dir = vxc_xasprintf("%s/%s", ctx->node_state_dir, driver_name(ctx));
		struct stat st;
		int r = vxc_mkdir_p(dir, 0755);

		/* A symlink planted here would send the driver's records
		 * elsewhere: the directory must be a directory. */
		if (r == 0 && (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
			r = -ENOTDIR;
		if (r < 0) {
			vxc_ctx_log(ctx, VXC_LOG_ERR, "cannot use state directory %s: %s", dir,
				    r == -ENOTDIR ? "not a directory (a symlink?)" : strerror(-r));
			free(dir);
			return NULL;
		}
		ctx->state_dir = dir;
	}
	return ctx->state_dir;
}

static int spawn(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid)
{
	int r = vxc_spawn(ctx, sp, pid);

	if (r == 0 && ctx->on_spawn)
		ctx->on_spawn(ctx->on_spawn_arg, *pid, sp->netns_fd);
	return r;
}

static int spawn_recorded(vxc_ctx *ctx, const struct vxc_spawn *sp, const char *owner,
			  vxc_proc_record_fn record, void *arg, pid_t *pid)
{
	int r = vxc_spawn_recorded(ctx, sp, owner, record, arg, pid);

	if (r == 0 && ctx->on_spawn)
		ctx->on_spawn(ctx->on_spawn_arg, *pid, sp->netns_fd);
	return r;
}

static const struct vxc_services services = {
	.size = sizeof(struct vxc_services),
	.log = vxc_ctx_log,
	.error = vxc_ctx_error,
	.change = vxc_ctx_change,
	.opt_int = opt_int,
	.opt_bool = opt_bool,
	.opt_string = opt_string,
	.host_name = host_name,
	.state_dir = state_dir,
	.netns_open = vxc_netns_open,
	.netns_create = vxc_netns_create,
	.netns_delete = vxc_netns_delete,
	.netns_list = vxc_netns_list,
	.netns_enter = vxc_netns_enter,
	.netns_leave = vxc_netns_leave,
	.veth_ensure = vxc_veth_ensure,
	.link_delete = vxc_link_delete,
	.spawn = spawn,
	.proc_alive = vxc_proc_alive,
	.proc_stop = vxc_proc_stop,
	.spawn_recorded = spawn_recorded,
	.proc_running = vxc_proc_running,
	.proc_find = vxc_proc_find,
	.proc_stop_exact = vxc_proc_stop_exact,
	.abi_minor = VXC_ABI_MINOR,
	.note = vxc_ctx_note,
};

const struct vxc_services *vxc_services(void)
{
	return &services;
}
