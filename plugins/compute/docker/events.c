/* The engine's event stream (compute ops events_open/events_read, ABI 1.6):
 * GET /events filtered to container events of the containers this host
 * owns, on its own unix-socket connection, read without blocking. libcurl
 * cannot hand out one stable descriptor to poll for a transfer that never
 * ends, so this is a plain HTTP/1.1 request and its chunked reply decoded
 * here: a status line, headers, then chunks holding one JSON object per
 * line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver.h"

#define HEAD_MAX 16384        /* a longer status line and headers: not an engine */
#define LINE_MAX_BYTES 1048576 /* one event; a longer one is refused */

/* What runs a container in a new network namespace without its NIC
 * (start: restart policy, `docker restart`, a restarted dockerd), or takes
 * it away (destroy). A stop is left alone: the engine's own restart follows
 * its "die" and a pass racing it would fight the engine. Nor "restart":
 * podman sends it before the stop, and a start follows it anyway. */
static const char *const actions[] = { "start", "destroy", NULL };

static void reset(struct docker_events *ev)
{
	free(ev->in);
	free(ev->line);
	memset(ev, 0, sizeof(*ev));
}

void events_free(struct docker_drv *d)
{
	reset(&d->ev);
}

static char *filters(struct docker_drv *d)
{
	json_t *f = json_pack("{s:[s], s:[s, s], s:[]}", "type", "container", "label",
			      LABEL_OWNER "=vxcloud", "", "event");
	char host[512], *text, *q;

	snprintf(host, sizeof(host), "%s=%s", LABEL_HOST, d->svc->host_name(d->ctx));
	if (!f)
		return NULL;
	json_array_set_new(json_object_get(f, "label"), 1, json_string(host));
	for (int i = 0; actions[i]; i++)
		json_array_append_new(json_object_get(f, "event"), json_string(actions[i]));
	text = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	q = text ? api_escape(d, text) : NULL;
	free(text);
	return q;
}

static int connect_socket(struct docker_drv *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(d->socket) >= sizeof(sa.sun_path))
		return d->svc->error(d->ctx, -ENAMETOOLONG, "socket %s: path too long", d->socket);
	strcpy(sa.sun_path, d->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return d->svc->error(d->ctx, r, "events: socket %s: %s", d->socket, strerror(-r));
	}
	return fd;
}

/* Sends the whole request on a blocking socket (it is short), then makes
 * the socket non-blocking for the reads. */
static int send_request(int fd, const char *req)
{
	size_t len = strlen(req), off = 0;

	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0;
}

int events_open(void *priv)
{
	struct docker_drv *d = priv;
	char *q, *req;
	int fd, r;

	reset(&d->ev);
	if ((r = api_ready(d)) < 0)
		return r;
	if (!(q = filters(d)))
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	req = NULL;
	r = asprintf(&req, "GET /%s/events?filters=%s HTTP/1.1\r\nHost: docker\r\n"
			   "User-Agent: vxcloud\r\nAccept: application/json\r\n\r\n",
		     d->api, q);
	free(q);
	if (r < 0)
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	fd = connect_socket(d);
	if (fd >= 0 && (r = send_request(fd, req)) < 0) {
		close(fd);
		fd = d->svc->error(d->ctx, r, "events: socket %s: %s", d->socket, strerror(-r));
	}
	free(req);
	return fd;
}

/* ---- decoding ------------------------------------------------------- */

static void consume(struct docker_events *ev, size_t n)
{
	memmove(ev->in, ev->in + n, ev->len - n);
	ev->len -= n;
}

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *b;

		while (c < *len + n + 1)
			c *= 2;
		if (!(b = realloc(*buf, c)))
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* The status line and headers: 1 when read, 0 when more must come. */
static int read_head(struct docker_drv *d, struct docker_events *ev)
{
	char *end = ev->len ? memmem(ev->in, ev->len, "\r\n\r\n", 4) : NULL;
	int status = 0;

	if (!end)
		return ev->len > HEAD_MAX
			       ? d->svc->error(d->ctx, -EPROTO, "events: no end of headers")
			       : 0;
	*end = '\0';
	if (sscanf(ev->in, "HTTP/1.%*d %d", &status) != 1 || status != 200)
		return d->svc->error(d->ctx, -EPROTO, "events: GET /events: \"%.100s\"", ev->in);
	ev->chunked = strcasestr(ev->in, "\r\ntransfer-encoding: chunked") != NULL;
	consume(ev, (size_t)(end + 4 - ev->in));
	ev->body = 1;
	return 1;
}

/* Moves chunk data to the line buffer: 1 when progress was made, 0 when
 * more must come, -errno at the stream's end or on garbage. */
static int read_chunk(struct docker_drv *d, struct docker_events *ev)
{
	size_t take;
	char *eol, *end;
	unsigned long size;

	if (!ev->chunked || ev->chunk_left) {
		take = ev->chunked && ev->chunk_left < ev->len ? ev->chunk_left : ev->len;
		if (!take)
			return 0;
		if (append(&ev->line, &ev->line_len, &ev->line_cap, ev->in, take) < 0)
			return -ENOMEM;
		consume(ev, take);
		if (ev->chunked && !(ev->chunk_left -= take))
			ev->need_crlf = 1;
		return 1;
	}
	if (ev->need_crlf) {
		if (ev->len < 2)
			return 0;
		if (memcmp(ev->in, "\r\n", 2))
			return d->svc->error(d->ctx, -EPROTO, "events: bad chunk end");
		consume(ev, 2);
		ev->need_crlf = 0;
	}
	eol = ev->len ? memmem(ev->in, ev->len, "\r\n", 2) : NULL;
	if (!eol)
		return ev->len > 64 ? d->svc->error(d->ctx, -EPROTO, "events: bad chunk size") : 0;
	*eol = '\0';
	size = strtoul(ev->in, &end, 16);
	if (end == ev->in || (*end && *end != ';'))
		return d->svc->error(d->ctx, -EPROTO, "events: bad chunk size");
	if (!size)
		return -ECONNRESET; /* the last chunk: the engine ended the stream */
	consume(ev, (size_t)(eol + 2 - ev->in));
	ev->chunk_left = size;
	return 1;
}

/* One event: the instance label of its container, and what happened. */
static void dispatch(struct docker_drv *d, const char *text, vxc_compute_event_cb cb, void *arg)
{
	json_t *e = json_loads(text, 0, NULL);
	json_t *attrs = json_object_get(json_object_get(e, "Actor"), "Attributes");
	const char *inst = json_string_value(json_object_get(attrs, LABEL_INSTANCE));
	const char *host = json_string_value(json_object_get(attrs, LABEL_HOST));
	const char *action = json_string_value(json_object_get(e, "Action"));
	const char *name = json_string_value(json_object_get(attrs, "name"));
	char what[256];

	/* The engine filtered by label already; a podman that ignores a
	 * filter must not make this host act on another's containers. */
	if (inst && host && !strcmp(host, d->svc->host_name(d->ctx))) {
		snprintf(what, sizeof(what), "docker: container %s: %s", name ? name : inst,
			 action ? action : "event");
		cb(arg, inst, what);
	} else if (!e) {
		d->svc->log(d->ctx, VXC_LOG_WARN, "compute/docker: events: not JSON: %.100s", text);
	}
	json_decref(e);
}

static int dispatch_lines(struct docker_drv *d, struct docker_events *ev,
			  vxc_compute_event_cb cb, void *arg)
{
	char *start = ev->line, *nl;

	while ((nl = memchr(start, '\n', ev->line_len - (size_t)(start - ev->line)))) {
		*nl = '\0';
		if (nl > start)
			dispatch(d, start, cb, arg);
		start = nl + 1;
	}
	ev->line_len -= (size_t)(start - ev->line);
	memmove(ev->line, start, ev->line_len);
	if (ev->line_len > LINE_MAX_BYTES)
		return d->svc->error(d->ctx, -EPROTO, "events: an event longer than %d bytes",
				     LINE_MAX_BYTES);
	return 0;
}

static int decode(struct docker_drv *d, vxc_compute_event_cb cb, void *arg)
{
	struct docker_events *ev = &d->ev;
	int r;

	if (!ev->body && (r = read_head(d, ev)) <= 0)
		return r;
	while ((r = read_chunk(d, ev)) > 0)
		;
	if (ev->line_len && dispatch_lines(d, ev, cb, arg) < 0)
		return -EPROTO;
	return r;
}

int events_read(void *priv, int fd, vxc_compute_event_cb cb, void *arg)
{
	struct docker_drv *d = priv;
	char buf[8192];
	ssize_t n;
	int r;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET; /* the engine closed it: stopped or restarted */
		if (append(&d->ev.in, &d->ev.len, &d->ev.cap, buf, (size_t)n) < 0)
			return -ENOMEM;
		if ((r = decode(d, cb, arg)) < 0)
			return r;
	}
}
