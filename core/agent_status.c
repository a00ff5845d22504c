/* The agent's control socket, <state_dir>/agent.sock (mode 0600, peers
 * other than root refused): `vxcloud status` sends one request line,
 * "status" or "status json", and reads "exit N" then the report. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "agent_client.h"
#include "json.h"
#include "util.h"

#define REQUEST_TIMEOUT_MS 1000

static const char *const state_names[] = {
	[OBJ_PENDING] = "pending", [OBJ_OK] = "ok", [OBJ_RETRYING] = "retrying",
	[OBJ_GAVE_UP] = "failed",
};

/* The host matches the plan it has (whatever a newer spec says). */
int agent_plan_done(const struct agent *a)
{
	for (size_t i = 0; i < a->n_objs; i++)
		if (a->objs[i].state != OBJ_OK || a->objs[i].dirty)
			return 0;
	return a->plan && !a->full_dirty;
}

/* ... and that plan is from the newest spec. */
int agent_in_sync(const struct agent *a)
{
	return agent_plan_done(a) && !a->spec_error;
}

/* The spec's source: a file, or etcd and how the agent sees it. */
static void text_store(const struct agent *a, FILE *f)
{
	char *state = agent_store_state(a);
	struct agent_store_traffic t;

	if (!state)
		return;
	agent_store_traffic(a, &t);
	fprintf(f, "store: %s; spec revision seen %lld, applied %lld; %u spec text%s read, "
		   "%llu bytes, %llu bytes from etcd\n",
		state, (long long)a->store_rev_seen, (long long)a->store_rev_applied,
		t.spec_reads, t.spec_reads == 1 ? "" : "s", (unsigned long long)t.spec_bytes,
		(unsigned long long)t.rx_bytes);
	free(state);
}

static void json_store(const struct agent *a, FILE *f)
{
	char *state = agent_store_state(a);
	struct agent_store_traffic t;

	if (!state)
		return;
	agent_store_traffic(a, &t);
	fputs(",\"store\":{\"state\":", f);
	vxc_json_str(f, state);
	fprintf(f, ",\"spec_revision_seen\":%lld,\"spec_revision_applied\":%lld,"
		   "\"spec_reads\":%u,\"spec_bytes\":%llu,\"rx_bytes\":%llu}",
		(long long)a->store_rev_seen, (long long)a->store_rev_applied, t.spec_reads,
		(unsigned long long)t.spec_bytes, (unsigned long long)t.rx_bytes);
	free(state);
}

static void text_report(const struct agent *a, FILE *f)
{
	int64_t now = agent_now_ms();

	fprintf(f, "agent: pid %ld, host %s, up %.1f s\n", (long)getpid(), a->nc->host,
		(double)(now - a->started_ms) / 1000.0);
	fprintf(f, "spec: %s, generation %u\n", a->spec_path, a->spec_generation);
	fprintf(f, "spec read, validated and planned in %.1f ms\n",
		(double)a->spec_load_us / 1000.0);
	text_store(a, f);
	if (a->spec_error)
		fprintf(f, "spec refused (the host keeps generation %u): %s\n",
			a->spec_generation, a->spec_error);
	if (a->passes)
		fprintf(f, "last pass: #%u %.1f s ago, cause %s (%s), %s%u objects, %u changes, "
			   "%.1f ms%s%s\n",
			a->passes, (double)(now - a->last.at_ms) / 1000.0,
			agent_cause_name(a->last.cause), a->last.why, a->last.full ? "full, " : "",
			a->last.objects, a->last.changes, (double)a->last.duration_us / 1000.0,
			a->last.error ? ", failed: " : "", a->last.error ? a->last.error : "");
	fprintf(f, "totals: passes %u, changes %u, repairs %u, errors %u\n", a->passes,
		a->total_changes, a->total_repairs, a->total_errors);
	for (size_t i = 0; i < a->n_engines; i++)
		fprintf(f, "events: %s: %s\n", a->engines[i]->drv->desc->name,
			a->engines[i]->fd >= 0 ? "following the engine's events"
					       : "not connected; trying again");
	fprintf(f, "%-9s %-20s %-12s %-9s %7s %7s %s\n", "KIND", "NAME", "DRIVER", "STATE",
		"CHANGES", "REPAIRS", "ERROR");
	for (size_t i = 0; i < a->n_objs; i++) {
		const struct agent_obj *o = &a->objs[i];

		fprintf(f, "%-9s %-20s %-12s %-9s %7u %7u %s\n", vxc_kind_name(o->kind), o->name,
			o->driver, state_names[o->state], o->changes, o->repairs,
			o->error ? o->error : "-");
	}
	fprintf(f, "host %s %s the spec\n", a->nc->host,
		agent_in_sync(a) ? "matches" : "does not match");
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		vxc_json_str(f, s);
	else
		fputs("null", f);
}

static void json_objects(const struct agent *a, FILE *f)
{
	for (size_t i = 0; i < a->n_objs; i++) {
		const struct agent_obj *o = &a->objs[i];

		fprintf(f, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", vxc_kind_name(o->kind));
		vxc_json_str(f, o->name);
		fprintf(f, ",\"driver\":");
		vxc_json_str(f, o->driver);
		fprintf(f, ",\"state\":\"%s\",\"changes\":%u,\"repairs\":%u,\"failures\":%u,"
			   "\"error\":",
			state_names[o->state], o->changes, o->repairs, o->failures);
		json_str_or_null(f, o->error);
		fputc('}', f);
	}
}

static void json_report(const struct agent *a, FILE *f)
{
	fprintf(f, "{\"agent\":{\"pid\":%ld,\"uptime_ms\":%lld},\"host\":", (long)getpid(),
		(long long)(agent_now_ms() - a->started_ms));
	vxc_json_str(f, a->nc->host);
	fprintf(f, ",\"in_sync\":%s,\"spec\":{\"path\":", agent_in_sync(a) ? "true" : "false");
	vxc_json_str(f, a->spec_path);
	fprintf(f, ",\"generation\":%u,\"load_us\":%lld,\"error\":", a->spec_generation,
		(long long)a->spec_load_us);
	json_str_or_null(f, a->spec_error);
	fputc('}', f);
	json_store(a, f);
	fprintf(f, ",\"last_pass\":{\"number\":%u,\"cause\":\"%s\",\"why\":", a->passes,
		agent_cause_name(a->last.cause));
	json_str_or_null(f, a->last.why);
	fprintf(f, ",\"full\":%s,\"ago_ms\":%lld,\"duration_us\":%lld,\"objects\":%u,"
		   "\"changes\":%u,\"error\":",
		a->last.full ? "true" : "false",
		(long long)(a->passes ? agent_now_ms() - a->last.at_ms : 0),
		(long long)a->last.duration_us, a->last.objects, a->last.changes);
	json_str_or_null(f, a->last.error);
	fprintf(f, "},\"totals\":{\"passes\":%u,\"changes\":%u,\"repairs\":%u,\"errors\":%u},"
		   "\"objects\":[",
		a->passes, a->total_changes, a->total_repairs, a->total_errors);
	json_objects(a, f);
	fputs("],\"events\":[", f);
	for (size_t i = 0; i < a->n_engines; i++) {
		fprintf(f, "%s{\"driver\":", i ? "," : "");
		vxc_json_str(f, a->engines[i]->drv->desc->name);
		fprintf(f, ",\"following\":%s}", a->engines[i]->fd >= 0 ? "true" : "false");
	}
	fputs("]}\n", f);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int read_request(int fd, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < len - 1 && !memchr(buf, '\n', got)) {
		ssize_t n;

		if (poll(&pfd, 1, REQUEST_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void serve(struct agent *a, int fd)
{
	char req[64] = "", *out = NULL;
	size_t len = 0;
	FILE *f;

	if (read_request(fd, req, sizeof(req)) < 0)
		return;
	f = open_memstream(&out, &len);
	if (!f)
		return;
	if (!strcmp(req, "status") || !strcmp(req, "status json")) {
		fprintf(f, "exit %d\n", agent_in_sync(a) ? 0 : VXC_AGENT_EXIT_DIFFERS);
		if (req[6])
			json_report(a, f);
		else
			text_report(a, f);
	} else {
		fprintf(f, "exit 2\nunknown request '%s'\n", req);
	}
	fclose(f);
	write_all(fd, out, len);
	free(out);
}

static int root_peer(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.uid == 0;
}

void agent_control_accept(struct agent *a)
{
	int fd;

	while ((fd = accept4(a->ctl.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (root_peer(fd))
			serve(a, fd);
		close(fd);
	}
}

/* Refuses to start beside another agent of the same state directory. */
int agent_control_open(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *tmp;
	int fd, r;

	a->sock_path = a->opt.socket ? vxc_xstrdup(a->opt.socket)
				     : vxc_xasprintf("%s/agent.sock", a->nc->state_dir);
	if (strlen(a->sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, a->sock_path);
	if ((r = vxc_mkdir_p(a->nc->state_dir, 0755)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	/* Made under a temporary name and renamed into place once it listens:
	 * a client that finds the socket never finds it refusing (and falls
	 * back to its own dry run while the agent starts). This also replaces
	 * a socket left by an agent that was killed. */
	tmp = vxc_xasprintf("%s.new", a->sock_path);
	r = strlen(tmp) < sizeof(sa.sun_path) ? 0 : -ENAMETOOLONG;
	if (r == 0) {
		strcpy(sa.sun_path, tmp);
		unlink(tmp);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(tmp, 0600) < 0 ||
		    listen(fd, 16) < 0 || rename(tmp, a->sock_path) < 0)
			r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
		free(tmp);
		close(fd);
		return r;
	}
	free(tmp);
	a->ctl.type = SRC_CONTROL;
	a->ctl.fd = fd;
	return agent_watch_fd(a, &a->ctl);
}

void agent_control_close(struct agent *a)
{
	if (a->ctl.type == SRC_CONTROL && a->ctl.fd >= 0) {
		agent_unwatch(a, &a->ctl);
		unlink(a->sock_path);
	}
	free(a->sock_path);
}
