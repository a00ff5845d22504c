/* Claims a descriptor smaller than the oldest supported. */
#include <vxcloud/network.h>

static int open_(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	return 0;
}
static const struct vxc_network_ops ops = { .size = sizeof(ops) };

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.size = 16,
	.concern = VXC_CONCERN_NETWORK,
	.name = "small",
	.open = open_,
	.ops = &ops,
};
