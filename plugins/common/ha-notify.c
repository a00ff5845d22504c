/* vxcloud-ha-notify: what keepalived runs on each VRRP state change of a
 * copy (keepalived's `notify`, appending TYPE NAME STATE PRIORITY). Opens
 * the copy's gate (forwarding, ARP answers) in MASTER, closes it in every
 * other state. A program of fixed argv, run by keepalived without a shell,
 * in the copy's namespace; it trusts nothing but the state word.
 *
 * keepalived does not wait for its notify programs, so two of them can run
 * at once and out of order, and a copy that preempts another becomes
 * MASTER before the other has heard its advert. Hence: runs in one
 * namespace take turns (a lock); MASTER first waits SETTLE_MS, so the
 * copy it preempted has dropped its addresses, then opens the gate only if
 * keepalived still holds this copy's addresses — a later BACKUP has
 * removed them before its own notify, which then closes the gate. */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "keepalived.h"

#define SETTLE_MS 20
#define LOCK_WAIT_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* An abstract unix socket name is per network namespace and is released
 * when the process ends, however it ends: a lock with no file to leave
 * behind. Returns the held socket, or -errno. */
static int lock_namespace(void)
{
	static const char name[] = "vxcloud-ha-gate";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + sizeof(name) - 1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
	for (int waited = 0; bind(fd, (struct sockaddr *)&sa, len) < 0; waited++) {
		if (errno != EADDRINUSE || waited >= LOCK_WAIT_MS) {
			int err = -errno;

			close(fd);
			return err;
		}
		sleep_ms(1);
	}
	return fd;
}

/* keepalived adds the copy's shared addresses only while it is MASTER; a
 * standby holds loopback and its own 169.254.0.0/16 VRRP source alone. */
static int holds_shared_address(void)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && !found; i = i->ifa_next) {
		uint32_t a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		found = (a >> 24) != 127 && (a >> 16) != 0xa9fe;
	}
	freeifaddrs(ifa);
	return found;
}

int main(int argc, char **argv)
{
	int active, err, lock;

	if (argc < 4) {
		fprintf(stderr, "usage: %s TYPE NAME STATE [PRIORITY] (run by keepalived)\n",
			argc ? argv[0] : "vxcloud-ha-notify");
		return 2;
	}
	active = !strcmp(argv[3], "MASTER");
	if (active)
		sleep_ms(SETTLE_MS);
	lock = lock_namespace();
	if (lock < 0)
		fprintf(stderr, "vxcloud-ha-notify: %s %s: %s: no lock (%s); going on\n", argv[1],
			argv[2], argv[3], strerror(-lock));
	if (active && holds_shared_address() == 0) {
		fprintf(stderr, "vxcloud-ha-notify: %s %s: MASTER, but keepalived holds none of "
			"its addresses any more: a later state change wins; gate left as is\n",
			argv[1], argv[2]);
		return 0;
	}
	err = vxc_ha_gate(active);
	if (err < 0) {
		fprintf(stderr, "vxcloud-ha-notify: %s %s: %s: cannot %s the gate: %s\n", argv[1],
			argv[2], argv[3], active ? "open" : "close", strerror(-err));
		return 1;
	}
	return 0;
}
