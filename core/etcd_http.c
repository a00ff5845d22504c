/* One etcd request: a JSON POST to the gateway of one endpoint, moving on
 * to the next endpoint when one does not answer, and logging in (and again
 * when the token expired) when a user is configured. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "etcd_int.h"
#include "util.h"

#define AUTH_PATH "/v3/auth/authenticate"
/* gRPC status codes etcd's gateway puts in its error replies. */
enum { GRPC_INVALID_ARGUMENT = 3, GRPC_DEADLINE = 4, GRPC_PERMISSION = 7,
       GRPC_PRECONDITION = 9, GRPC_UNAVAILABLE = 14, GRPC_UNAUTHENTICATED = 16 };

struct buf {
	char *data;
	size_t len;
	uint64_t *rx_bytes;
};

static size_t buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	b->data = vxc_xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	*b->rx_bytes += n;
	return n;
}

/* A stream stays idle while nothing changes: TCP keepalives find a peer
 * that vanished (cut cable, frozen host) within a few seconds. */
static int keepalive_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	const struct vxc_etcd *e = arg;
	int on = 1, idle = 2, intvl = 1, cnt = 3;
	unsigned user_timeout = e->conf.timeout_ms + 5000;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	return CURL_SOCKOPT_OK;
}

void etcd_setup(struct vxc_etcd *e, CURL *c, size_t ep, const char *path,
		struct curl_slist **hdrs, int streaming)
{
	char *url = vxc_xasprintf("%s%s", e->conf.endpoints[ep], path);

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->conf.timeout_ms);
	if (!streaming)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->conf.timeout_ms);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, keepalive_sockopt);
	curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, e);
	if (e->conf.ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->conf.ca);
	if (e->conf.cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->conf.cert);
	if (e->conf.key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->conf.key);

	*hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (streaming) /* etcd ends the stream when its member loses the leader */
		*hdrs = curl_slist_append(*hdrs, "Grpc-Metadata-hasleader: true");
	if (e->token && strcmp(path, AUTH_PATH)) {
		char *h = vxc_xasprintf("Authorization: %s", e->token);
		*hdrs = curl_slist_append(*hdrs, h);
		free(h);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
}

/* TLS 1.3 servers refuse a client certificate after the handshake: an
 * alert that curl reports as a failed read or write. */
static int tls_alert(const char *detail)
{
	return detail && strstr(detail, " alert ");
}

int etcd_curl_errno(CURLcode cc, const char *detail)
{
	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CLIENTCERT:
		return -EACCES;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return tls_alert(detail) ? -EACCES : -ECONNRESET;
	case CURLE_HTTP2:          /* the same, seen through HTTP/2 framing */
	case CURLE_HTTP2_STREAM:
		return tls_alert(detail) ? -EACCES : -ECONNRESET;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

int etcd_fail_curl(struct vxc_etcd *e, size_t ep, const char *what, CURLcode cc,
		   const char *detail)
{
	return etcd_fail(e, etcd_curl_errno(cc, detail), "etcd %s: %s%s", e->conf.endpoints[ep],
			 what, detail && *detail ? detail : curl_easy_strerror(cc));
}

/* Failures of one endpoint that another may not have. */
int etcd_failover_errno(int rc)
{
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
	       rc == -ECONNRESET || rc == -EAGAIN;
}

/* An error reply of the gateway ({"error":..,"code":N,"message":..}) as -errno. */
static int grpc_errno(struct vxc_etcd *e, size_t ep, long http, const json_t *reply)
{
	const char *msg = json_string_value(json_object_get(reply, "message"));
	long code = (long)json_integer_value(json_object_get(reply, "code"));
	int rc = -EIO;

	if (!msg)
		msg = json_string_value(json_object_get(reply, "error"));
	if (code == GRPC_UNAUTHENTICATED || code == GRPC_PERMISSION || code == GRPC_PRECONDITION ||
	    (code == GRPC_INVALID_ARGUMENT && msg && (strstr(msg, "authentication failed") ||
						      strstr(msg, "user name is empty"))))
		rc = -EACCES;
	else if (code == GRPC_UNAVAILABLE || code == GRPC_DEADLINE || http == 503)
		rc = -EAGAIN;
	return etcd_fail(e, rc, "etcd %s: HTTP %ld: %s", e->conf.endpoints[ep], http,
			 msg ? msg : "no message");
}

/* One POST to one endpoint; *reply on 0. */
static int post_once(struct vxc_etcd *e, size_t ep, const char *path, const char *body,
		     json_t **reply, int *unauthenticated, int *answered, int tls12)
{
	struct curl_slist *hdrs;
	struct buf b = { .rx_bytes = &e->rx_bytes };
	long http = 0;
	int rc;

	etcd_setup(e, e->curl, ep, path, &hdrs, 0);
	e->curl_err[0] = '\0';
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->curl_err);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
	if (tls12)
		curl_easy_setopt(e->curl, CURLOPT_SSLVERSION,
				 (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
	CURLcode cc = curl_easy_perform(e->curl);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &http);
	if (cc != CURLE_OK) {
		free(b.data);
		return etcd_fail_curl(e, ep, "", cc, e->curl_err);
	}
	*answered = 1;
	json_error_t jerr;
	json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
	free(b.data);
	if (!json_is_object(j)) {
		json_decref(j);
		return etcd_fail(e, -EPROTO, "etcd %s%s: HTTP %ld, a reply that is not JSON",
				 e->conf.endpoints[ep], path, http);
	}
	if (http != 200) {
		*unauthenticated = json_integer_value(json_object_get(j, "code")) ==
				   GRPC_UNAUTHENTICATED;
		rc = grpc_errno(e, ep, http, j);
		json_decref(j);
		return rc;
	}
	*reply = j;
	return 0;
}

/* Tries every endpoint once, from the one that answered last. A TLS
 * refusal moves on too (that member may lack our CA) but is what we tell when
 * no other endpoint answers either; a member that answered "no leader" makes
 * the whole call -EAGAIN (worth asking again once the election is over). */
static int post_failover(struct vxc_etcd *e, const char *path, const char *body,
			 json_t **reply, int *unauthenticated)
{
	char tls_err[sizeof(e->err)] = "", again_err[sizeof(e->err)] = "";
	int rc = -ECONNREFUSED;

	for (size_t i = 0; i < e->conf.n_endpoints; i++) {
		size_t ep = (e->current + i) % e->conf.n_endpoints;
		int answered = 0;

		rc = post_once(e, ep, path, body, reply, unauthenticated, &answered, 0);
		/* A TLS 1.3 server refuses a missing or foreign client
		 * certificate after the handshake, and the alert is often lost
		 * in the reset; TLS 1.2 refuses in the handshake, plainly: on a
		 * reset, ask once more so. */
		if (rc == -ECONNRESET && !strncmp(e->conf.endpoints[ep], "https:", 6))
			rc = post_once(e, ep, path, body, reply, unauthenticated, &answered, 1);
		if (rc == -EACCES && !answered) {
			memcpy(tls_err, e->err, sizeof(tls_err));
			continue;
		}
		if (rc == -EAGAIN)
			memcpy(again_err, e->err, sizeof(again_err));
		if (etcd_failover_errno(rc))
			continue;
		e->current = ep;
		return rc;
	}
	if (again_err[0]) {
		memcpy(e->err, again_err, sizeof(again_err));
		return -EAGAIN;
	}
	if (tls_err[0]) {
		memcpy(e->err, tls_err, sizeof(tls_err));
		return -EACCES;
	}
	return rc;
}

/* While the cluster elects a leader (a member died, a partition healed),
 * members answer "no leader" or "leader changed": wait and ask again, for
 * a bounded time. Not when nothing answers: the caller decides then. */
static int post_retrying(struct vxc_etcd *e, const char *path, const char *body,
			 json_t **reply, int *unauthenticated)
{
	unsigned budget_ms = 3 * e->conf.timeout_ms, waited_ms = 0, delay_ms = 50;
	int rc;

	while ((rc = post_failover(e, path, body, reply, unauthenticated)) == -EAGAIN &&
	       waited_ms < budget_ms) {
		usleep(delay_ms * 1000);
		waited_ms += delay_ms;
		delay_ms = delay_ms * 2 > 500 ? 500 : delay_ms * 2;
	}
	return rc == -EAGAIN ? -ETIMEDOUT : rc;
}

int etcd_authenticate(struct vxc_etcd *e)
{
	json_t *reply = NULL;
	int rc;

	free(e->token);
	e->token = NULL;
	rc = etcd_call(e, AUTH_PATH, json_pack("{s:s, s:s}", "name", e->conf.user,
					       "password", e->conf.password ? e->conf.password : ""),
		       &reply);
	if (rc < 0)
		return rc;
	const char *token = json_string_value(json_object_get(reply, "token"));
	if (token)
		e->token = vxc_xstrdup(token);
	json_decref(reply);
	if (!token)
		return etcd_fail(e, -EPROTO, "etcd %s: authentication gave no token",
				 vxc_etcd_endpoint(e));
	return 0;
}

int etcd_call(struct vxc_etcd *e, const char *path, json_t *body, json_t **reply)
{
	int is_auth = !strcmp(path, AUTH_PATH), unauthenticated = 0, rc;
	char *text = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	*reply = NULL;
	e->err[0] = '\0';
	if (e->conf.user && !e->token && !is_auth && (rc = etcd_authenticate(e)) < 0)
		goto out;
	rc = post_retrying(e, path, text, reply, &unauthenticated);
	/* The token expired (etcd's simple tokens live 5 minutes idle): once more. */
	if (rc == -EACCES && unauthenticated && e->conf.user && !is_auth) {
		rc = etcd_authenticate(e);
		if (rc == 0)
			rc = post_retrying(e, path, text, reply, &unauthenticated);
	}
out:
	free(text);
	return rc;
}
