/* Host services for namespaces, veth pairs and processes (see the matching
 * slots of struct vxc_services in include/vxcloud/plugin.h). Links are made
 * through libnl-route-3; processes by fork + execve, never a shell. */
#ifndef VXC_NETNS_H
#define VXC_NETNS_H

#include <vxcloud/plugin.h>

int vxc_netns_open(vxc_ctx *ctx, const char *name);
int vxc_netns_create(vxc_ctx *ctx, const char *name);
int vxc_netns_delete(vxc_ctx *ctx, const char *name);
int vxc_netns_list(vxc_ctx *ctx, const char *prefix, void (*cb)(void *arg, const char *name),
		   void *arg);
int vxc_netns_enter(vxc_ctx *ctx, int netns_fd, int *saved);
int vxc_netns_leave(vxc_ctx *ctx, int saved);

int vxc_veth_ensure(vxc_ctx *ctx, const struct vxc_veth *veth, unsigned flags);
int vxc_link_delete(vxc_ctx *ctx, const char *ifname);

int vxc_spawn(vxc_ctx *ctx, const struct vxc_spawn *sp, pid_t *pid);
int vxc_proc_alive(vxc_ctx *ctx, pid_t pid, const char *exe);
int vxc_proc_stop(vxc_ctx *ctx, pid_t pid, unsigned timeout_ms);

#endif
