/* Everything a plugin author needs. */
#ifndef VXCLOUD_VXCLOUD_H
#define VXCLOUD_VXCLOUD_H
#include <vxcloud/plugin.h>
#include <vxcloud/model.h>
#include <vxcloud/network.h>
#include <vxcloud/nat.h>
#include <vxcloud/lb.h>
#include <vxcloud/compute.h>
#endif
