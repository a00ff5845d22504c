/* The cloud spec: parsed from a libconfig file, validated as a whole, then
 * turned into the linked public model (include/vxcloud/model.h) with every
 * kernel name and MAC derived. Nothing here touches the system. */
#ifndef VXC_SPEC_H
#define VXC_SPEC_H

#include <vxcloud/model.h>
#include "diag.h"

struct vxc_spec_listener_lines {
	unsigned listener, protocol, algorithm, health; /* 0 when not given */
};

struct vxc_spec {
	char *path;
	struct vxc_host *hosts;
	size_t n_hosts;
	struct vxc_provider *provider; /* NULL when the spec has none */
	struct vxc_network *networks;
	size_t n_networks;
	struct vxc_router *routers;
	size_t n_routers;
	struct vxc_instance *instances;
	size_t n_instances;
	struct vxc_fip *fips;
	size_t n_fips;
	struct vxc_lb *lbs;
	size_t n_lbs;
	struct vxc_port *ports; /* every port of every network, all hosts */
	size_t n_ports;
	/* Where each listener's driver-dependent items are in the file, so a
	 * driver's refusal names the line: lb_lines[lb][listener]. */
	struct vxc_spec_listener_lines **lb_lines;
	void *arena;            /* storage owned by the implementation */
};

/* Parse and validate. On success 0 and *out set. On any problem -EINVAL,
 * *out NULL, and every problem found (not just the first) in diag, each with
 * file, line and field. -errno when the file cannot be read. */
int vxc_spec_load_file(const char *path, struct vxc_spec **out, struct vxc_diag *diag);
/* Same from memory; name stands for the file in messages. */
int vxc_spec_load_buffer(const char *text, const char *name, struct vxc_spec **out,
			 struct vxc_diag *diag);
void vxc_spec_free(struct vxc_spec *spec);

const struct vxc_host *vxc_spec_host(const struct vxc_spec *spec, const char *name);

#endif
