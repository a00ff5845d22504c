/* instance_ensure: namespace, NIC, command, in that order (the command
 * starts with its NIC in place). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

static int check_instance(struct netns_drv *d, const struct vxc_instance *inst)
{
	const struct vxc_port *port = inst ? inst->port : NULL;

	if (!inst || !inst->name || !*inst->name)
		return d->svc->error(d->ctx, -EINVAL, "instance without a name");
	if (inst->kind != VXC_INSTANCE_CONTAINER)
		return d->svc->error(d->ctx, -EOPNOTSUPP, "instance %s: the netns driver serves "
				     "kind container only", inst->name);
	if (!*inst->netns)
		return d->svc->error(d->ctx, -EINVAL, "instance %s: no namespace name",
				     inst->name);
	if (!port || !port->network || !*port->host_if)
		return d->svc->error(d->ctx, -EINVAL, "instance %s: no port on a network",
				     inst->name);
	return 0;
}

/* The namespace exists; returns its fd, or -1 under dry run when it is
 * still to be made. */
static int ensure_netns(struct netns_drv *d, const struct vxc_instance *inst, unsigned flags,
			int *fd)
{
	int r;

	*fd = d->svc->netns_open(d->ctx, inst->netns);
	if (*fd >= 0)
		return 0;
	if (*fd != -ENOENT)
		return *fd;
	*fd = -1;
	d->svc->change(d->ctx, "instance %s: create netns %s", inst->name, inst->netns);
	if (flags & VXC_F_DRY_RUN)
		return 0;
	r = d->svc->netns_create(d->ctx, inst->netns);
	if (r < 0)
		return r;
	*fd = d->svc->netns_open(d->ctx, inst->netns);
	if (*fd < 0)
		return d->svc->error(d->ctx, *fd, "instance %s: netns %s: cannot open it after "
				     "creating it", inst->name, inst->netns);
	return 0;
}

static int ensure_nic(struct netns_drv *d, const struct vxc_instance *inst, int fd,
		      unsigned flags)
{
	const struct vxc_port *port = inst->port;
	const struct vxc_network *net = port->network;
	char alias[128];
	struct vxc_veth v = {
		.host_if = port->host_if,
		.alias = alias,
		.netns_fd = fd,
		.peer_if = PEER_IF,
		.mac = port->mac,
		.addr = port->addr,
		.prefixlen = net->cidr.len,
		.gateway = net->gateway,
		.mtu = net->mtu,
	};

	snprintf(alias, sizeof(alias), "%sinstance:%s", VXC_OWNER_MARK, inst->name);
	return d->svc->veth_ensure(d->ctx, &v, flags);
}

int instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags)
{
	struct netns_drv *d = priv;
	int fd = -1, r;

	if (flags & ~VXC_F_KNOWN)
		return d->svc->error(d->ctx, -EINVAL, "instance_ensure: unknown flags 0x%x",
				     flags);
	r = check_instance(d, inst);
	if (r < 0)
		return r;
	if (inst->image)
		d->svc->log(d->ctx, VXC_LOG_INFO, "instance %s: image %s is ignored: the netns "
			    "driver runs the command on the host's filesystem", inst->name,
			    inst->image);
	r = ensure_netns(d, inst, flags, &fd);
	if (r == 0)
		r = ensure_nic(d, inst, fd, flags);
	if (r == 0)
		r = command_ensure(d, inst, fd, flags);
	if (fd >= 0)
		close(fd);
	return r;
}
