/* An out-of-tree vxcloud driver plugin, built only against the installed
 * headers (pkg-config vxcloud). It is a compute driver whose "instances"
 * are records in its state directory: no processes, no namespaces. Real
 * drivers do real work in the same places; see vxcloud-plugin(7). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <vxcloud/compute.h>

struct example {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	const char *dir;
	int verbose;
};

static int example_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct example *ex = calloc(1, sizeof(*ex));

	if (!ex)
		return -ENOMEM;
	ex->ctx = ctx;
	ex->svc = svc;
	ex->dir = svc->state_dir(ctx);
	svc->opt_bool(ctx, "verbose", &ex->verbose);
	if (!ex->dir) {
		free(ex);
		return svc->error(ctx, -EIO, "no state directory");
	}
	*priv = ex;
	return 0;
}

static void example_close(void *priv)
{
	free(priv);
}

/* The record says what the instance should look like: one line, which is
 * also the text of the change reported when the record is (re)written. */
static void describe(const struct vxc_instance *in, char *buf, size_t len)
{
	char addr[16];
	const uint8_t *m = in->port->mac.b;

	inet_ntop(AF_INET, &in->port->addr, addr, sizeof(addr));
	snprintf(buf, len, "address %s mac %02x:%02x:%02x:%02x:%02x:%02x network %s", addr,
		 m[0], m[1], m[2], m[3], m[4], m[5], in->port->network->name);
}

static int example_ensure(void *priv, const struct vxc_instance *in, unsigned flags)
{
	struct example *ex = priv;
	char want[256], have[256] = "", path[4096];
	FILE *f;
	int failed;

	if (flags & ~VXC_F_KNOWN)
		return -EINVAL;
	describe(in, want, sizeof(want));
	snprintf(path, sizeof(path), "%s/%s", ex->dir, in->name);
	if ((f = fopen(path, "r"))) {
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		have[strcspn(have, "\n")] = '\0';
		fclose(f);
	}
	if (!strcmp(want, have))
		return 0;
	ex->svc->change(ex->ctx, "instance %s: record %s", in->name, want);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	if (!(f = fopen(path, "w")))
		return ex->svc->error(ex->ctx, -errno, "instance %s: cannot create %s: %s",
				      in->name, path, strerror(errno));
	failed = fprintf(f, "%s\n", want) < 0;
	failed = fclose(f) != 0 || failed;
	if (failed)
		return ex->svc->error(ex->ctx, -errno, "instance %s: cannot write %s: %s",
				      in->name, path, strerror(errno));
	if (ex->verbose)
		ex->svc->log(ex->ctx, VXC_LOG_INFO, "wrote %s", path);
	return 0;
}

static int example_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct example *ex = priv;
	struct dirent *de;
	DIR *d = opendir(ex->dir);

	if (!d)
		return ex->svc->error(ex->ctx, -errno, "cannot read %s", ex->dir);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			struct vxc_owned o = { .kind = VXC_KIND_INSTANCE, .name = de->d_name };
			cb(arg, &o);
		}
	closedir(d);
	return 0;
}

static int example_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct example *ex = priv;
	char path[4096];

	if (flags & ~VXC_F_KNOWN)
		return -EINVAL;
	ex->svc->change(ex->ctx, "instance %s: remove record", obj->name);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", ex->dir, obj->name);
	if (unlink(path) < 0 && errno != ENOENT)
		return ex->svc->error(ex->ctx, -errno, "cannot remove %s", path);
	return 0;
}

static const struct vxc_compute_ops example_ops = {
	.size = sizeof(example_ops),
	.instance_ensure = example_ensure,
	.list = example_list,
	.remove = example_remove,
};

static const struct vxc_option example_options[] = {
	{ .name = "verbose", .type = VXC_OPT_BOOL, .def = "false", .help = "log each write" },
	{ .name = NULL },
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_COMPUTE,
	.name = "example",
	.description = "out-of-tree example: instances are records in the state directory",
	.caps = VXC_CAP_CONTAINER,
	.options = example_options,
	.open = example_open,
	.close = example_close,
	.ops = &example_ops,
};
