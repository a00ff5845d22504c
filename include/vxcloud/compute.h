/* Compute driver vtable: containers and VMs plugged into tenant networks. */
#ifndef VXCLOUD_COMPUTE_H
#define VXCLOUD_COMPUTE_H

#include <vxcloud/plugin.h>

/* Called once per event read from an engine's stream (ABI 1.6): the
 * instance (its name in the spec) the event concerns and what happened, in
 * words for a log ("container web1: start"). */
typedef void (*vxc_compute_event_cb)(void *arg, const char *instance, const char *what);

struct vxc_compute_ops {
	uint32_t size;

	/* The instance exists, runs, and has its NIC: MAC, address, MTU and
	 * default route via the network gateway. The host end of the NIC is
	 * named inst->port->host_if; the network driver attaches it after this
	 * returns. */
	int (*instance_ensure)(void *priv, const struct vxc_instance *inst, unsigned flags);

	int (*list)(void *priv, vxc_owned_cb cb, void *arg);
	int (*remove)(void *priv, const struct vxc_owned *obj, unsigned flags);

	/* ABI 1.6, optional (NULL: the engine reports nothing). A stream of
	 * the engine's events about the instances vxcloud owns on this host
	 * that can leave one without its NIC (started anew, removed).
	 * events_open returns a non-blocking descriptor the caller polls for
	 * reading and closes, or -errno (the engine is down: try later). One
	 * stream per driver instance: opening another forgets the first.
	 * events_read, when the descriptor is readable, consumes what arrived
	 * and calls cb for every event about an owned instance; it returns 0
	 * while the stream goes on, -errno when it ended (the engine stopped
	 * or restarted): the caller closes it and opens a new one, and should
	 * re-check every instance, since events may have been missed. */
	int (*events_open)(void *priv);
	int (*events_read)(void *priv, int fd, vxc_compute_event_cb cb, void *arg);
};

#endif
