/* inotify on the spec's directory (an editor's or a deployer's
 * rename-over-write replaces the file, so the directory is watched, not the
 * file) and on the node's netns directory (a namespace vxcloud made was
 * deleted: its sockets are closed at once, so the namespace can die). */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent.h"
#include "util.h"

#define SPEC_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE)
#define NETNS_EVENTS (IN_DELETE | IN_MOVED_FROM)

int agent_inotify_init(struct agent *a)
{
	a->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inofd < 0)
		return -errno;
	a->spec_wd = a->netns_wd = -1;
	a->ino.type = SRC_INOTIFY;
	a->ino.fd = a->inofd;
	return agent_watch_fd(a, &a->ino);
}

static char *dir_of(const char *path)
{
	char *copy = vxc_xstrdup(path), *dir = vxc_xstrdup(dirname(copy));

	free(copy);
	return dir;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Both watches follow the node config (a reload may move them). */
void agent_inotify_sync(struct agent *a)
{
	char *dir = agent_spec_in_store(a) ? NULL : dir_of(a->spec_path);
	int wd;

	/* A spec in etcd comes by the store's watch (agent_store.c). */
	if (dir) {
		wd = inotify_add_watch(a->inofd, dir, SPEC_EVENTS);
		if (wd < 0)
			agent_log("error: cannot watch %s for spec changes: %s", dir,
				  strerror(errno));
		else if (a->spec_wd >= 0 && a->spec_wd != wd && a->spec_wd != a->netns_wd)
			inotify_rm_watch(a->inofd, a->spec_wd);
		a->spec_wd = wd;
		free(dir);
	}
	/* The netns directory appears with the first namespace vxcloud makes. */
	wd = inotify_add_watch(a->inofd, a->nc->netns_dir, NETNS_EVENTS);
	if (wd >= 0)
		a->netns_wd = wd;
}

static void on_netns_gone(struct agent *a, const char *ns)
{
	enum vxc_kind kind;
	const char *name;
	char why[128];

	agent_watch_forget_ns(a, ns);
	if (!agent_ns_owner(a, ns, &kind, &name))
		return;
	snprintf(why, sizeof(why), "namespace %s deleted", ns);
	agent_mark(a, kind, name, why);
	/* The router's NAT lived in that namespace. */
	if (kind == VXC_KIND_ROUTER)
		agent_mark(a, VXC_KIND_NAT, name, why);
}

static void on_event(struct agent *a, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		a->spec_dirty = 1;
		agent_mark_full(a, CAUSE_DRIFT, "inotify events were lost");
		return;
	}
	if (!ev->len)
		return;
	if (ev->wd == a->spec_wd && a->spec_wd >= 0 && !strcmp(ev->name, base_of(a->spec_path))) {
		/* A file renamed over the spec or closed after writing is whole:
		 * read at once. Otherwise let the writer finish. */
		a->spec_dirty = 1;
		agent_schedule(a, agent_now_ms() + (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)
							    ? 0
							    : AGENT_SPEC_SETTLE_MS));
	}
	if (ev->wd == a->netns_wd && (ev->mask & NETNS_EVENTS))
		on_netns_gone(a, ev->name);
}

void agent_inotify_read(struct agent *a)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(a->inofd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			on_event(a, ev);
			p += sizeof(*ev) + ev->len;
		}
}

void agent_inotify_fini(struct agent *a)
{
	if (a->inofd >= 0) {
		agent_unwatch(a, &a->ino);
		a->inofd = -1;
	}
}
