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
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "keepalived.h"

#define FORWARD "/proc/sys/net/ipv4/ip_forward"
#define ARP_IGNORE "/proc/sys/net/ipv4/conf/all/arp_ignore"
#define NO_IPV6_ALL "/proc/sys/net/ipv6/conf/all/disable_ipv6"
#define NO_IPV6_DEF "/proc/sys/net/ipv6/conf/default/disable_ipv6"
#define IGMP_LL "/proc/sys/net/ipv4/igmp_link_local_mcast_reports"

int vxc_ha_sysctl(const char *path, const char *text)
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
		err = vxc_ha_sysctl(ARP_IGNORE, "0\n");
		return err ? err : vxc_ha_sysctl(FORWARD, "1\n");
	}
	err = vxc_ha_sysctl(FORWARD, "0\n");
	return err ? err : vxc_ha_sysctl(ARP_IGNORE, "8\n");
}

int vxc_ha_quiet(void)
{
	int err = vxc_ha_sysctl(NO_IPV6_DEF, "1\n");

	if (!err)
		err = vxc_ha_sysctl(NO_IPV6_ALL, "1\n");
	/* keepalived joins 224.0.0.18 on every copy: no IGMP report for it */
	return err ? err : vxc_ha_sysctl(IGMP_LL, "0\n");
}

/* A gratuitous ARP request ("who-has A tell A") from ifname's MAC, to the
 * broadcast address: bridges on the way learn where the MAC is now, hosts
 * refresh their entry for A. */
int vxc_ha_announce(const char *ifname, struct in_addr addr)
{
	struct {
		struct ether_header eth;
		struct ether_arp arp;
	} __attribute__((packed)) f;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_halen = ETH_ALEN };
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0 || (to.sll_ifindex = ifr.ifr_ifindex,
						  ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	memset(&f, 0, sizeof(f));
	memset(f.eth.ether_dhost, 0xff, ETH_ALEN);
	memcpy(f.eth.ether_shost, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	f.eth.ether_type = htons(ETHERTYPE_ARP);
	f.arp.arp_hrd = htons(ARPHRD_ETHER);
	f.arp.arp_pro = htons(ETHERTYPE_IP);
	f.arp.arp_hln = ETH_ALEN;
	f.arp.arp_pln = 4;
	f.arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(f.arp.arp_sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(f.arp.arp_spa, &addr, 4);
	memcpy(f.arp.arp_tpa, &addr, 4);
	memset(to.sll_addr, 0xff, ETH_ALEN);
	if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		err = -errno;
	close(fd);
	return err;
}
