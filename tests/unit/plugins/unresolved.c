/* Needs a symbol nothing provides: dlopen(RTLD_NOW) must refuse it. */
#include <vxcloud/network.h>

int vxc_symbol_nobody_defines(void);

static int open_(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	return vxc_symbol_nobody_defines();
}
static const struct vxc_network_ops ops = { .size = sizeof(ops) };

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NETWORK,
	.name = "unresolved",
	.open = open_,
	.ops = &ops,
};
