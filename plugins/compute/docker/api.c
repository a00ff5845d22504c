/* The Docker Engine API over its unix socket: libcurl with
 * CURLOPT_UNIX_SOCKET_PATH, one handle per driver instance so the
 * connection is reused, and the version negotiated from GET /version. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "driver.h"

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct api_reply *rep = arg;
	size_t add = size * n;
	char *body = realloc(rep->body, rep->len + add + 1);

	if (!body)
		return 0; /* libcurl fails the transfer: CURLE_WRITE_ERROR */
	memcpy(body + rep->len, data, add);
	rep->body = body;
	rep->len += add;
	body[rep->len] = '\0';
	return add;
}

void api_reply_free(struct api_reply *rep)
{
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
}

char *api_escape(struct docker_drv *d, const char *s)
{
	char *e = curl_easy_escape(d->curl, s, 0), *out;

	if (!e)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

/* Why the engine cannot be reached, in words a user can act on. */
static int unreachable(struct docker_drv *d, CURLcode c, const char *errbuf)
{
	struct stat st;

	if (stat(d->socket, &st) < 0)
		return d->svc->error(d->ctx, -ENOENT, "socket %s: %s (is dockerd "
				     "running? setting docker.socket)", d->socket,
				     strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return d->svc->error(d->ctx, -ENOTSOCK, "%s is not a socket",
				     d->socket);
	if (c == CURLE_WEIRD_SERVER_REPLY || c == CURLE_GOT_NOTHING ||
	    c == CURLE_UNSUPPORTED_PROTOCOL)
		return d->svc->error(d->ctx, -EPROTO, "%s is not a Docker Engine API (%s)",
				     d->socket, *errbuf ? errbuf : curl_easy_strerror(c));
	return d->svc->error(d->ctx, c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED,
			     "socket %s: %s", d->socket,
			     *errbuf ? errbuf : curl_easy_strerror(c));
}

static struct curl_slist *json_headers(void)
{
	return curl_slist_append(NULL, "Content-Type: application/json");
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static CURLcode timed_perform(struct docker_drv *d, CURL *c)
{
	unsigned long long t0 = now_ns();
	CURLcode rc = curl_easy_perform(c);

	d->engine_ns += now_ns() - t0;
	d->engine_calls++;
	return rc;
}

/* One request; path is used as given (versioned or not). */
static int request(struct docker_drv *d, const char *method, const char *path,
		   const char *body, unsigned timeout_ms, struct api_reply *rep)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	CURL *c = d->curl;
	CURLcode rc;

	memset(rep, 0, sizeof(*rep));
	if (snprintf(url, sizeof(url), "http://docker%s", path) >= (int)sizeof(url))
		return d->svc->error(d->ctx, -ENAMETOOLONG, "URL too long");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (!strcmp(method, "POST")) {
		hdr = json_headers();
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	}
	rc = timed_perform(d, c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		api_reply_free(rep);
		return unreachable(d, rc, errbuf);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rep->status);
	if (!rep->body && !(rep->body = calloc(1, 1)))
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	return 0;
}

int api_call(struct docker_drv *d, const char *method, const char *path, json_t *body,
	     unsigned timeout_ms, struct api_reply *rep)
{
	char vpath[2048];
	char *text = NULL;
	int r;

	if ((r = api_ready(d)) < 0)
		return r;
	if (snprintf(vpath, sizeof(vpath), "/%s%s", d->api, path) >= (int)sizeof(vpath))
		return d->svc->error(d->ctx, -ENAMETOOLONG, "path too long");
	if (body && !(text = json_dumps(body, JSON_COMPACT)))
		return d->svc->error(d->ctx, -ENOMEM, "out of memory");
	r = request(d, method, vpath, text, timeout_ms ? timeout_ms : d->api_timeout_ms, rep);
	free(text);
	return r;
}

json_t *api_json(struct docker_drv *d, const struct api_reply *rep, const char *what)
{
	json_error_t err;
	json_t *j = json_loadb(rep->body, rep->len, 0, &err);

	if (!j)
		d->svc->error(d->ctx, -EPROTO, "%s: reply is not JSON (%s)",
			      what, err.text);
	return j;
}

int api_fail(struct docker_drv *d, const struct api_reply *rep, const char *what, int err)
{
	json_t *j = json_loadb(rep->body, rep->len, 0, NULL);
	const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;

	if (!msg) { /* not the engine's error object: show the start of the body */
		d->svc->error(d->ctx, err, "%s: HTTP %ld: \"%.200s\"", what,
			      rep->status, rep->body ? rep->body : "");
	} else {
		d->svc->error(d->ctx, err, "%s: HTTP %ld: \"%s\"", what,
			      rep->status, msg);
	}
	json_decref(j);
	return err;
}

static int parse_version(const char *s, unsigned *maj, unsigned *min)
{
	return s && sscanf(s, "%u.%u", maj, min) == 2 ? 0 : -1;
}

static int version_cmp(unsigned a1, unsigned a2, unsigned b1, unsigned b2)
{
	return a1 != b1 ? (a1 < b1 ? -1 : 1) : a2 != b2 ? (a2 < b2 ? -1 : 1) : 0;
}

/* The highest version both sides speak: the engine's ApiVersion capped at
 * ours; refused under our minimum. */
static int negotiate(struct docker_drv *d, json_t *v)
{
	const char *have = json_string_value(json_object_get(v, "ApiVersion"));
	unsigned maj, min;

	if (parse_version(have, &maj, &min) < 0)
		return d->svc->error(d->ctx, -EPROTO, "%s does not speak the Docker "
				     "Engine API (GET /version has no ApiVersion)",
				     d->socket);
	if (version_cmp(maj, min, API_MIN_MAJOR, API_MIN_MINOR) < 0)
		return d->svc->error(d->ctx, -EPROTONOSUPPORT, "engine API %s is "
				     "older than %d.%d", have, API_MIN_MAJOR,
				     API_MIN_MINOR);
	if (version_cmp(maj, min, API_MAX_MAJOR, API_MAX_MINOR) > 0)
		maj = API_MAX_MAJOR, min = API_MAX_MINOR;
	snprintf(d->api, sizeof(d->api), "v%u.%u", maj, min);
	d->svc->log(d->ctx, VXC_LOG_DEBUG, "compute/docker: %s: %s %s, API %s", d->socket,
		    json_string_value(json_object_get(v, "Os")) ?: "engine",
		    json_string_value(json_object_get(v, "Version")) ?: "?", d->api);
	return 0;
}

int api_ready(struct docker_drv *d)
{
	struct api_reply rep;
	json_t *v;
	int r;

	if (*d->api)
		return 0;
	if (!d->curl && !(d->curl = curl_easy_init()))
		return d->svc->error(d->ctx, -ENOMEM, "cannot make a libcurl handle");
	r = request(d, "GET", "/version", NULL, d->api_timeout_ms, &rep);
	if (r < 0)
		return r;
	v = rep.status == 200 ? json_loadb(rep.body, rep.len, 0, NULL) : NULL;
	if (!v || !json_is_object(v))
		r = d->svc->error(d->ctx, -EPROTO, "%s is not a Docker Engine API "
				  "(GET /version: HTTP %ld)", d->socket, rep.status);
	else
		r = negotiate(d, v);
	json_decref(v);
	api_reply_free(&rep);
	return r;
}
