/* A minimal well-formed network driver for the loader tests. */
#include <errno.h>
#include <stdlib.h>
#include <vxcloud/network.h>

static int good_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	*priv = NULL;
	return 0;
}

static const struct vxc_option good_options[] = {
	{ .name = "port", .type = VXC_OPT_INT, .def = "4789", .min = 1, .max = 65535 },
	{ .name = "learning", .type = VXC_OPT_BOOL, .def = "false" },
	{ .name = NULL },
};

static const struct vxc_network_ops good_ops = { .size = sizeof(good_ops) };

#ifndef GOOD_NAME
#define GOOD_NAME "good"
#endif

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NETWORK,
	.name = GOOD_NAME,
	.description = "loader test plugin",
	.options = good_options,
	.open = good_open,
	.ops = &good_ops,
};
