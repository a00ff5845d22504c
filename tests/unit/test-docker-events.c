/* compute/docker: decoding of the engine's event stream (events.c), fed
 * through a socketpair as dockerd sends it (HTTP/1.1, chunked, one JSON
 * object per line), whole and one byte at a time, so every split of a
 * status line, chunk size, chunk end and event is crossed. The stream
 * against a real dockerd is tests/e2e/agent-docker.sh. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../plugins/compute/docker/driver.h"
#include "ctx.h"
#include "tap.h"

#define EV(host, inst, name, action)                                                      \
	"{\"Type\":\"container\",\"Action\":\"" action "\",\"Actor\":{\"ID\":\"abc\","    \
	"\"Attributes\":{\"vxcloud.owner\":\"vxcloud\",\"vxcloud.host\":\"" host "\","   \
	"\"vxcloud.instance\":\"" inst "\",\"name\":\"" name "\"}}}\n"

static const struct vxc_plugin desc = { .name = "docker", .concern = VXC_CONCERN_COMPUTE };

struct seen {
	char text[1024];
	int n;
};

static void on_event(void *arg, const char *instance, const char *what)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s=%s;", instance, what);
	s->n++;
}

static char *chunk(const char *data)
{
	char *out = NULL;

	if (asprintf(&out, "%zx\r\n%s\r\n", strlen(data), data) < 0)
		abort();
	return out;
}

/* Feeds reply to a fresh driver in pieces of step bytes (0: whole); the
 * last return of events_read, the events in s. close_after: then closes
 * the engine's end. */
static int feed(const char *reply, size_t step, int close_after, struct seen *s)
{
	struct docker_drv d = { .svc = vxc_services() };
	vxc_ctx ctx;
	size_t len = strlen(reply), off = 0;
	int sv[2], r = 0;

	vxc_ctx_init(&ctx, &desc, "cmp", "/nonexistent", "/nonexistent");
	d.ctx = &ctx;
	memset(s, 0, sizeof(*s));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	while (off < len && r == 0) {
		size_t n = step && step < len - off ? step : len - off;

		if (write(sv[1], reply + off, n) != (ssize_t)n)
			abort();
		off += n;
		r = events_read(&d, sv[0], on_event, s);
	}
	if (r == 0 && close_after) {
		close(sv[1]);
		sv[1] = -1;
		r = events_read(&d, sv[0], on_event, s);
	}
	if (sv[1] >= 0)
		close(sv[1]);
	close(sv[0]);
	events_free(&d);
	vxc_ctx_fini(&ctx);
	return r;
}

#define HEAD "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n" \
	     "Transfer-Encoding: chunked\r\n\r\n"

static void chunked_stream(void)
{
	const char *two = EV("cmp", "web1", "web1", "start") EV("cmp", "web2", "p-web2", "restart");
	const char *split = EV("cmp", "web3", "web3", "destroy");
	size_t half = strlen(split) / 2;
	char *c1 = chunk(two), *c2, *c3, *c4, *c5, *reply;
	char first[512], second[512];
	const char *want = "web1=docker: container web1: start;"
			   "web2=docker: container p-web2: restart;"
			   "web3=docker: container web3: destroy;";
	size_t steps[] = { 0, 1, 2, 7 };

	snprintf(first, sizeof(first), "%.*s", (int)half, split);
	snprintf(second, sizeof(second), "%s", split + half);
	c2 = chunk(first);
	c3 = chunk(second);
	/* another host's container, and a line that is no JSON: nothing */
	c4 = chunk(EV("elsewhere", "web1", "web1", "start") "garbage\n");
	c5 = chunk("");
	if (asprintf(&reply, HEAD "%s%s%s%s", c1, c2, c3, c4) < 0)
		abort();
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct seen s;
		int r = feed(reply, steps[i], 0, &s);

		ok(r == 0, "chunked, %zu bytes at a time: the stream goes on (%d)", steps[i], r);
		is_str(s.text, want, "chunked, %zu bytes at a time: three events, in order, "
				     "only this host's", steps[i]);
	}
	free(reply);
	/* a chunk-size extension, then the last chunk: the stream ended */
	if (asprintf(&reply, HEAD "%zx;ext=1\r\n%s\r\n%s", strlen(two), two, c5) < 0)
		abort();
	{
		struct seen s;
		int r = feed(reply, 1, 0, &s);

		ok(r == -ECONNRESET, "the last chunk ends the stream: -ECONNRESET (%d)", r);
		ok(s.n == 2, "events before the last chunk are all reported (%d)", s.n);
	}
	free(reply);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	free(c5);
}

static void other_replies(void)
{
	struct seen s;
	int r;

	r = feed(HEAD, 0, 1, &s);
	ok(r == -ECONNRESET, "the engine closing the connection ends the stream (%d)", r);
	r = feed("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
		 EV("cmp", "web1", "web1", "start"), 3, 1, &s);
	ok(r == -ECONNRESET && s.n == 1,
	   "a body without chunks (HTTP/1.0): events until the close (%d, %d)", r, s.n);
	r = feed("HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}", 0, 0, &s);
	ok(r == -EPROTO && !s.n, "an HTTP error status is refused: -EPROTO (%d)", r);
	r = feed(HEAD "zz\r\n", 0, 0, &s);
	ok(r == -EPROTO, "a chunk size that is no number: -EPROTO (%d)", r);
	r = feed(HEAD "3\r\nabcXY", 0, 0, &s);
	ok(r == -EPROTO, "chunk data not followed by CRLF: -EPROTO (%d)", r);
	r = feed(HEAD "1\r\n{", 1, 1, &s);
	ok(r == -ECONNRESET && !s.n, "an event cut by the close is not reported (%d)", r);
}

int main(void)
{
	chunked_stream();
	other_replies();
	return tap_done();
}
