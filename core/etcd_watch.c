/* The watch: one streaming POST to /v3/watch, whose reply is a sequence of
 * newline-separated {"result":{...}} messages (created, events, compaction,
 * cancellation), read through curl's multi interface so that a stop fd can
 * end it at any time. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"
#include "util.h"

#define WATCH_PATH "/v3/watch"
#define POLL_MS 1000

struct watch {
	struct vxc_etcd *e;
	size_t ep;
	char *buf;            /* the part of the stream not yet split into messages */
	size_t len;
	int (*cb)(const struct vxc_etcd_event *ev, void *arg);
	void *arg;
	int64_t *compact_rev;
	int created;          /* etcd accepted the watch: no more failover */
	int done;             /* stop reading; result says why */
	int result;
	int auth_refused;     /* etcd said no to our token: log in again once */
	char curl_err[CURL_ERROR_SIZE];
};

static void watch_stop(struct watch *w, int result)
{
	w->done = 1;
	w->result = result;
}

/* {"error":{"grpc_code":N,"message":..}} in the stream, or a plain gateway
 * error reply {"error":"..","code":N} before it began. */
static void watch_error(struct watch *w, const json_t *msg)
{
	const json_t *err = json_object_get(msg, "error");
	const json_t *where = json_is_object(err) ? err : msg;
	const char *text = json_string_value(json_object_get(where, "message"));
	json_int_t code = json_integer_value(json_object_get(where, "grpc_code"));

	if (!code)
		code = json_integer_value(json_object_get(where, "code"));
	if (code == 16 || code == 7) {
		w->auth_refused = 1;
		watch_stop(w, -EACCES);
	} else {
		watch_stop(w, -ECONNRESET);
	}
	etcd_fail(w->e, w->result, "etcd %s: watch: %s", w->e->conf.endpoints[w->ep],
		  text ? text : "stream error");
}

static void watch_cancelled(struct watch *w, const json_t *res)
{
	const char *why = json_string_value(json_object_get(res, "cancel_reason"));

	/* etcd 3.4 cancels a watch whose token it does not know (expired)
	 * with "code = Unauthenticated ... invalid auth token" */
	if (why && (strstr(why, "permission denied") || strstr(why, "Unauthenticated") ||
		    strstr(why, "auth token"))) {
		w->auth_refused = 1;
		watch_stop(w, -EACCES);
	} else {
		watch_stop(w, -ECONNRESET);
	}
	etcd_fail(w->e, w->result, "etcd %s: watch cancelled: %s", w->e->conf.endpoints[w->ep],
		  why ? why : "no reason given");
}

static void watch_events(struct watch *w, const json_t *events)
{
	for (size_t i = 0; i < json_array_size(events) && !w->done; i++) {
		const json_t *ev = json_array_get(events, i);
		const char *type = json_string_value(json_object_get(ev, "type"));
		struct vxc_etcd_event event = {
			.type = type && !strcmp(type, "DELETE") ? VXC_ETCD_DELETE : VXC_ETCD_PUT,
		};
		int rc = etcd_kv_decode(w->e, json_object_get(ev, "kv"), &event.kv);
		if (rc < 0) {
			watch_stop(w, rc);
			return;
		}
		rc = w->cb(&event, w->arg);
		vxc_etcd_kv_clear(&event.kv);
		if (rc)
			watch_stop(w, rc);
	}
}

static void watch_message(struct watch *w, const char *line, size_t len)
{
	json_t *msg = json_loadb(line, len, 0, NULL);
	const json_t *res = json_object_get(msg, "result");

	if (!json_is_object(msg)) {
		watch_stop(w, etcd_fail(w->e, -EPROTO, "etcd %s: watch: a message that is not JSON",
					w->e->conf.endpoints[w->ep]));
	} else if (json_object_get(msg, "error")) {
		watch_error(w, msg);
	} else if (etcd_json_int64(res, "compact_revision") > 0) {
		*w->compact_rev = etcd_json_int64(res, "compact_revision");
		watch_stop(w, etcd_fail(w->e, -ERANGE, "etcd %s: watch: revisions up to %" PRId64
					" were compacted", w->e->conf.endpoints[w->ep],
					*w->compact_rev));
	} else if (json_is_true(json_object_get(res, "canceled"))) {
		watch_cancelled(w, res);
	} else {
		if (json_is_true(json_object_get(res, "created"))) {
			w->created = 1;
			w->e->current = w->ep; /* vxc_etcd_endpoint() in the callbacks */
		}
		watch_events(w, json_object_get(res, "events"));
	}
	json_decref(msg);
}

/* Splits what arrived into lines, one message each. */
static void watch_drain(struct watch *w, int final)
{
	char *nl;

	while (!w->done && (nl = memchr(w->buf, '\n', w->len))) {
		size_t n = (size_t)(nl - w->buf);
		if (n > 0)
			watch_message(w, w->buf, n);
		memmove(w->buf, nl + 1, w->len - n - 1);
		w->len -= n + 1;
	}
	if (final && !w->done && w->len > 0 && strspn(w->buf, " \r\t") < w->len) {
		watch_message(w, w->buf, w->len);
		w->len = 0;
	}
}

static size_t watch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct watch *w = arg;
	size_t n = size * nmemb;

	w->buf = vxc_xrealloc(w->buf, w->len + n + 1);
	memcpy(w->buf + w->len, ptr, n);
	w->len += n;
	w->buf[w->len] = '\0';
	w->e->rx_bytes += n;
	watch_drain(w, 0);
	return w->done ? 0 : n; /* 0 ends the transfer */
}

/* How a transfer that curl finished ended: the stream closed by the
 * server, or a transport failure. */
static void watch_finished(struct watch *w, CURLM *m)
{
	CURLMsg *msg;
	int left;
	CURLcode cc = CURLE_OK;

	while ((msg = curl_multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	watch_drain(w, 1);
	if (w->done)
		return;
	if (cc == CURLE_OK)
		watch_stop(w, etcd_fail(w->e, -ECONNRESET, "etcd %s: watch: the stream ended",
					w->e->conf.endpoints[w->ep]));
	else
		watch_stop(w, etcd_fail_curl(w->e, w->ep, "watch: ", cc, w->curl_err));
}

/* Runs the stream of one endpoint until it ends or stop_fd is readable. */
static int watch_once(struct watch *w, const char *body, int stop_fd)
{
	CURL *c = curl_easy_init();
	CURLM *m = curl_multi_init();
	struct curl_slist *hdrs;
	int stopped = 0;

	if (!c || !m) {
		curl_easy_cleanup(c);
		curl_multi_cleanup(m);
		return -ENOMEM;
	}
	etcd_setup(w->e, c, w->ep, WATCH_PATH, &hdrs, 1);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->curl_err);
	curl_multi_add_handle(m, c);
	while (!w->done && !stopped) {
		int running = 0;
		struct curl_waitfd wfd = { .fd = stop_fd, .events = CURL_WAIT_POLLIN };

		curl_multi_perform(m, &running);
		if (w->done)
			break;
		if (!running) {
			watch_finished(w, m);
			break;
		}
		curl_multi_wait(m, stop_fd >= 0 ? &wfd : NULL, stop_fd >= 0, POLL_MS, NULL);
		stopped = stop_fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN);
	}
	curl_multi_remove_handle(m, c);
	curl_easy_cleanup(c);
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
	return stopped && !w->done ? 0 : w->result;
}

static char *watch_body(struct vxc_etcd *e, const char *key, int prefix, int64_t start_rev)
{
	char *k = etcd_key_b64(e, key);
	json_t *req = json_pack("{s:s}", "key", k);
	free(k);
	if (prefix) {
		char *end = etcd_range_end_b64(e, key);
		json_object_set_new(req, "range_end", json_string(end));
		free(end);
	}
	if (start_rev > 0)
		json_object_set_new(req, "start_revision", json_sprintf("%" PRId64, start_rev));
	json_t *body = json_pack("{s:o}", "create_request", req);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

int vxc_etcd_watch(struct vxc_etcd *e, const char *key, int prefix, int64_t start_rev,
		   int (*cb)(const struct vxc_etcd_event *ev, void *arg), void *arg,
		   int stop_fd, int64_t *compact_rev)
{
	int64_t unused_compact;
	char *body = watch_body(e, key, prefix, start_rev);
	int rc = -ECONNREFUSED, relogged = 0;

	e->err[0] = '\0';
	if (e->conf.user && !e->token && (rc = etcd_authenticate(e)) < 0)
		goto out;
	for (size_t i = 0; i < e->conf.n_endpoints; i++) {
		struct watch w = { .e = e, .ep = (e->current + i) % e->conf.n_endpoints, .cb = cb,
				   .arg = arg,
				   .compact_rev = compact_rev ? compact_rev : &unused_compact };
		rc = watch_once(&w, body, stop_fd);
		if (rc == -EACCES && w.auth_refused && e->conf.user && !relogged) {
			relogged = 1; /* the token expired: log in, same endpoint again */
			rc = etcd_authenticate(e);
			if (rc < 0)
				break;
			i--;
			continue;
		}
		if (w.created || rc == 0 || !(etcd_failover_errno(rc) || rc == -EACCES)) {
			e->current = w.ep;
			break;
		}
	}
out:
	free(body);
	return rc;
}
