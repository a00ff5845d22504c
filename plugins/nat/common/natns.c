/* Entering a router's namespace through the host services: the netlink
 * and libiptc handles a driver opens afterwards belong to that namespace. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "natcommon.h"

int nat_ns_enter(const struct vxc_services *svc, vxc_ctx *ctx, const char *netns, int *saved)
{
	int fd = svc->netns_open(ctx, netns);
	int err;

	if (fd < 0)
		return fd;
	err = svc->netns_enter(ctx, fd, saved);
	close(fd);
	return err;
}

int nat_ns_leave(const struct vxc_services *svc, vxc_ctx *ctx, int saved)
{
	return svc->netns_leave(ctx, saved);
}

struct strv {
	char **v;
	size_t n, cap;
	int err;
};

static void collect(void *arg, const char *name)
{
	struct strv *s = arg;
	char *dup;

	if (s->err)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *p = realloc(s->v, cap * sizeof(*s->v));

		if (!p) {
			s->err = -ENOMEM;
			return;
		}
		s->v = p;
		s->cap = cap;
	}
	dup = strdup(name);
	if (!dup) {
		s->err = -ENOMEM;
		return;
	}
	s->v[s->n++] = dup;
}

int nat_ns_collect(const struct vxc_services *svc, vxc_ctx *ctx, char ***names, size_t *n)
{
	struct strv s = { 0 };
	int err = svc->netns_list(ctx, NAT_ROUTER_NS_PREFIX, collect, &s);

	if (!err)
		err = s.err;
	if (err) {
		nat_strv_free(s.v, s.n);
		return err;
	}
	*names = s.v;
	*n = s.n;
	return 0;
}

void nat_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
