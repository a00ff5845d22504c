/* `vxcloud status --cloud`: every host's agent as etcd knows it. */
#ifndef VXC_CLOUD_STATUS_H
#define VXC_CLOUD_STATUS_H

#include <stdio.h>

struct vxc_etcd_conf;

/* Prints one line (or one JSON object with json) per host; returns 0 when
 * every host is alive and converged to the stored spec's revision,
 * VXC_AGENT_EXIT_DIFFERS when one is not, 1 when etcd cannot be read. */
int vxc_cloud_status(const struct vxc_etcd_conf *conf, int json, FILE *out);

#endif
