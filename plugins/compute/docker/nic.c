/* The NIC: a veth whose peer goes into the namespace of the container's
 * first process. A restarted container has a new namespace and no NIC:
 * the host end goes with the old namespace, which is how it is noticed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

/* The container's network namespace, by the PID of its first process. */
static int open_netns(struct docker_drv *d, int pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return d->svc->error(d->ctx, -errno, "container network namespace %s: %s", path,
				     strerror(errno));
	return fd;
}

/* Plugged: the host end is here and its peer is inside the namespace the
 * container runs in now (an old namespace kept open elsewhere keeps the
 * old pair alive, so the host end alone proves nothing). */
int nic_plugged(struct docker_drv *d, const struct vxc_instance *inst, int pid)
{
	int fd, saved, in_ns = 0;

	if (!if_nametoindex(inst->port->host_if))
		return 0;
	if ((fd = open_netns(d, pid)) < 0)
		return fd;
	if (d->svc->netns_enter(d->ctx, fd, &saved) == 0) {
		in_ns = if_nametoindex(PEER_IF) != 0;
		d->svc->netns_leave(d->ctx, saved);
	}
	close(fd);
	return in_ns;
}

int nic_ensure(struct docker_drv *d, const struct vxc_instance *inst, int pid, unsigned flags)
{
	const struct vxc_port *port = inst->port;
	const struct vxc_network *net = port->network;
	char alias[128];
	struct vxc_veth v = {
		.host_if = port->host_if,
		.alias = alias,
		.netns_fd = -1,
		.peer_if = PEER_IF,
		.mac = port->mac,
		.addr = port->addr,
		.prefixlen = net->cidr.len,
		.gateway = net->gateway,
		.mtu = net->mtu,
	};
	int r;

	snprintf(alias, sizeof(alias), "%sinstance:%s", VXC_OWNER_MARK, inst->name);
	if (pid > 0) {
		if ((v.netns_fd = open_netns(d, pid)) < 0)
			return v.netns_fd;
	} else if (!(flags & VXC_F_DRY_RUN)) {
		return d->svc->error(d->ctx, -ESRCH, "the container runs no process to "
				     "plug into");
	}
	r = d->svc->veth_ensure(d->ctx, &v, flags);
	if (v.netns_fd >= 0)
		close(v.netns_fd);
	return r;
}

int nic_planned(struct docker_drv *d, const struct vxc_instance *inst, unsigned flags)
{
	/* A host end that is still there belongs to the namespace the old
	 * container had: the veth service cannot plan against a namespace that
	 * does not exist yet, so say what will happen. */
	if (if_nametoindex(inst->port->host_if)) {
		d->svc->change(d->ctx, "instance %s: plug %s into the new container", inst->name,
			       inst->port->host_if);
		return 0;
	}
	return nic_ensure(d, inst, 0, flags);
}
