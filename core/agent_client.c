#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_client.h"
#include "util.h"

/* An agent in the middle of a long pass answers after it. */
#define REPLY_TIMEOUT_MS 30000

static int connect_agent(const char *state_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/agent.sock", state_dir) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -ENOENT; /* none, or a socket left by a killed agent */
	}
	return fd;
}

static int read_reply(int fd, char **out, size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t cap = 4096;
	char *buf = vxc_xmalloc(cap);
	ssize_t n;

	*len = 0;
	for (;;) {
		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (*len + 1 >= cap)
			buf = vxc_xrealloc(buf, cap *= 2);
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	*out = buf;
	return n < 0 ? -errno : 0;
}

int vxc_agent_status(const char *state_dir, int json, FILE *out)
{
	const char *req = json ? "status json\n" : "status\n";
	char *reply = NULL, *body;
	size_t len;
	int fd, code, r;

	fd = connect_agent(state_dir);
	if (fd < 0)
		return fd;
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		r = -errno;
		close(fd);
		return r ? r : -EIO;
	}
	r = read_reply(fd, &reply, &len);
	close(fd);
	if (r < 0)
		return r;
	body = strchr(reply, '\n');
	if (sscanf(reply, "exit %d", &code) != 1 || !body) {
		free(reply);
		return -EPROTO;
	}
	fputs(body + 1, out);
	free(reply);
	return code;
}

int vxc_agent_running(const char *state_dir)
{
	int fd = connect_agent(state_dir);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
