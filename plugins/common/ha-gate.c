/* The gate of an HA copy: an inactive copy (VRRP backup, fault, stopped)
 * neither forwards nor answers ARP, so frames the tenant VTEPs replicate to
 * every copy, and provider frames flooded to it, go no further than the
 * active copy. Written through /proc/sys/net, which is the namespace of
 * the writing thread. Shared by vxcloud-ha-notify and the drivers (which
 * close the gate of a copy before its keepalived first runs). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "keepalived.h"

#define FORWARD "/proc/sys/net/ipv4/ip_forward"
#define ARP_IGNORE "/proc/sys/net/ipv4/conf/all/arp_ignore"
#define NO_IPV6_ALL "/proc/sys/net/ipv6/conf/all/disable_ipv6"
#define NO_IPV6_DEF "/proc/sys/net/ipv6/conf/default/disable_ipv6"
#define IGMP_LL "/proc/sys/net/ipv4/igmp_link_local_mcast_reports"

static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

int vxc_ha_gate(int active)
{
	int err;

	/* closing: stop forwarding first; opening: answer ARP first */
	if (active) {
		err = put(ARP_IGNORE, "0\n");
		return err ? err : put(FORWARD, "1\n");
	}
	err = put(FORWARD, "0\n");
	return err ? err : put(ARP_IGNORE, "8\n");
}

int vxc_ha_quiet(void)
{
	int err = put(NO_IPV6_DEF, "1\n");

	if (!err)
		err = put(NO_IPV6_ALL, "1\n");
	/* keepalived joins 224.0.0.18 on every copy: no IGMP report for it */
	return err ? err : put(IGMP_LL, "0\n");
}
