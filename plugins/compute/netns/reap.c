/* Host ends that go with their namespace.
 *
 * Deleting a veth end by RTM_DELLINK costs the kernel an RCU grace period
 * per request (17-50 ms each here: destroying 100 instances took 10x as
 * long as creating them). Deleting an instance's namespace takes its veth
 * pair along, and the kernel tears down every dying namespace of a moment
 * in one batch. So remove() only deletes the namespace and notes the host
 * end; close() waits, once for all of them, until those ends are gone, and
 * deletes by request the ones whose namespace someone else keeps alive. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

#define REAP_WAIT_MS 5000
#define REAP_POLL_MS 2

int reap_note(struct netns_drv *d, const char *host_if)
{
	if (d->n_reap == d->cap_reap) {
		size_t cap = d->cap_reap ? 2 * d->cap_reap : 16;
		char (*v)[IF_NAMESIZE] = realloc(d->reap, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->reap = v;
		d->cap_reap = cap;
	}
	strncpy(d->reap[d->n_reap], host_if, IF_NAMESIZE - 1);
	d->reap[d->n_reap++][IF_NAMESIZE - 1] = '\0';
	return 0;
}

int reap_noted(const struct netns_drv *d, const char *host_if)
{
	for (size_t i = 0; i < d->n_reap; i++)
		if (!strncmp(d->reap[i], host_if, IF_NAMESIZE))
			return 1;
	return 0;
}

static int link_exists(int fd, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IF_NAMESIZE - 1);
	return ioctl(fd, SIOCGIFINDEX, &ifr) == 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void reap_wait(struct netns_drv *d)
{
	long long deadline = now_ms() + REAP_WAIT_MS;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;
	size_t i = 0;

	if (fd < 0)
		i = d->n_reap; /* cannot look: delete each below */
	/* One pass over the list: each end is checked again only while it is
	 * the first one still there. */
	while (i < d->n_reap && now_ms() < deadline) {
		if (!link_exists(fd, d->reap[i]))
			i++;
		else
			usleep(REAP_POLL_MS * 1000);
	}
	for (; i < d->n_reap; i++) {
		if (fd >= 0 && !link_exists(fd, d->reap[i]))
			continue;
		r = d->svc->link_delete(d->ctx, d->reap[i]);
		if (r < 0)
			d->svc->log(d->ctx, VXC_LOG_ERR, "veth %s outlived its instance's namespace "
				    "and cannot be deleted: %s", d->reap[i], strerror(-r));
	}
	if (fd >= 0)
		close(fd);
	d->n_reap = 0;
}
