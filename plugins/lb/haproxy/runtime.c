/* haproxy's command sockets: the master CLI (processes, reload) and the
 * worker's runtime API (server weights and states, statistics). One
 * command per connection; the write side is shut after it so the master,
 * which otherwise waits for more commands, answers and closes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver.h"

#define CLI_TIMEOUT_S 5

static int cli_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { CLI_TIMEOUT_S, 0 };
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1024 + 1 > cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno == EAGAIN ? -ETIMEDOUT : -errno;

			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int hap_cli(struct hap_drv *d, const char *sock, const char *cmd, char **out)
{
	char line[512];
	int fd, r;

	*out = NULL;
	if ((size_t)snprintf(line, sizeof(line), "%s\n", cmd) >= sizeof(line))
		return -E2BIG;
	fd = cli_connect(sock);
	if (fd < 0)
		return fd;
	r = send_all(fd, line, strlen(line));
	if (r == 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (r == 0)
		r = recv_all(fd, out);
	close(fd);
	(void)d;
	return r;
}

/* `show proc`: the line after "# workers" starts with the current worker. */
int hap_worker_pid(struct hap_drv *d, const struct hap_paths *p, pid_t *pid)
{
	char *ans, *w;
	int r = hap_cli(d, p->master, "show proc", &ans), v = 0;

	*pid = 0;
	if (r < 0)
		return r;
	w = strstr(ans, "# workers\n");
	if (w && sscanf(w + 10, "%d worker", &v) == 1 && v > 0)
		*pid = v;
	free(ans);
	return *pid ? 0 : -ESRCH;
}

/* An empty answer means done; anything else is haproxy's complaint. */
static int runtime_cmd(struct hap_drv *d, const char *lb, const struct hap_paths *p,
		       const char *cmd)
{
	char *ans;
	int r = hap_cli(d, p->stats, cmd, &ans);

	if (r < 0)
		return d->svc->error(d->ctx, r, "load balancer %s: runtime API %s: %s", lb,
				     p->stats, strerror(-r));
	for (char *c = ans; *c; c++)
		if (*c != '\n' && *c != ' ') {
			ans[strcspn(ans, "\n")] = '\0';
			r = d->svc->error(d->ctx, -EPROTO, "load balancer %s: `%s` refused: %s", lb,
					  cmd, ans);
			break;
		}
	free(ans);
	return r;
}

int hap_set_server(struct hap_drv *d, const char *lb, const struct hap_paths *p,
		   const struct hap_srv_state *s)
{
	char weight[160], state[160];
	int r;

	snprintf(weight, sizeof(weight), "set server %s/%s weight %u", s->backend, s->server,
		 s->weight);
	snprintf(state, sizeof(state), "set server %s/%s state %s", s->backend, s->server,
		 s->enabled ? "ready" : "maint");
	/* Out of rotation first when disabling, weight first when enabling:
	 * a member never takes traffic it should not. */
	if (!s->enabled) {
		r = runtime_cmd(d, lb, p, state);
		return r < 0 ? r : runtime_cmd(d, lb, p, weight);
	}
	r = runtime_cmd(d, lb, p, weight);
	return r < 0 ? r : runtime_cmd(d, lb, p, state);
}

/* Admin state bits of `show servers state` meaning "in maintenance":
 * forced (runtime), inherited, configured (`disabled`), resolver, hostname. */
#define ADMIN_MAINT 0x67

/* Column numbers of the wanted names in the "# be_id be_name ..." header. */
static int server_columns(const char *header, int col[4])
{
	static const char *const names[4] = { "be_name", "srv_name", "srv_admin_state",
					      "srv_uweight" };
	char buf[1024], *save = NULL;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", header + 2);
	for (int k = 0; k < 4; k++)
		col[k] = -1;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save), i++)
		for (int k = 0; k < 4; k++)
			if (!strcmp(t, names[k]))
				col[k] = i;
	return col[0] >= 0 && col[1] >= 0 && col[2] >= 0 && col[3] >= 0 ? 0 : -EPROTO;
}

static void server_line(char *line, const int col[4], struct hap_srv_state *s)
{
	char *save = NULL;
	int i = 0;

	memset(s, 0, sizeof(*s));
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save), i++) {
		if (i == col[0])
			snprintf(s->backend, sizeof(s->backend), "%s", t);
		else if (i == col[1])
			snprintf(s->server, sizeof(s->server), "%s", t);
		else if (i == col[2])
			s->enabled = !(strtoul(t, NULL, 10) & ADMIN_MAINT);
		else if (i == col[3])
			s->weight = (unsigned)strtoul(t, NULL, 10);
	}
}

int hap_runtime_servers(struct hap_drv *d, const struct hap_paths *p,
			int (*cb)(void *arg, const struct hap_srv_state *s), void *arg)
{
	char *ans, *save = NULL;
	int col[4], r = hap_cli(d, p->stats, "show servers state", &ans), have = 0;

	if (r < 0)
		return r;
	for (char *l = strtok_r(ans, "\n", &save); r == 0 && l; l = strtok_r(NULL, "\n", &save)) {
		struct hap_srv_state s;

		if (!strncmp(l, "# ", 2)) {
			have = server_columns(l, col) == 0;
		} else if (have && *l != '#') {
			server_line(l, col, &s);
			if (*s.backend && *s.server)
				r = cb(arg, &s);
		}
	}
	free(ans);
	return have || r ? r : -EPROTO;
}
