/* Built for a future ABI major. */
#include <vxcloud/network.h>

static int open_(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	return 0;
}
static const struct vxc_network_ops ops = { .size = sizeof(ops) };

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR + 1,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NETWORK,
	.name = "badabi",
	.open = open_,
	.ops = &ops,
};
