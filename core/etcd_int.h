/* What the etcd client's files share: the handle and the request path. */
#ifndef VXC_ETCD_INT_H
#define VXC_ETCD_INT_H

#include <curl/curl.h>
#include <jansson.h>

#include "etcd.h"

struct vxc_etcd {
	struct vxc_etcd_conf conf;   /* a deep copy */
	CURL *curl;                  /* unary requests; keeps its connection */
	size_t current;              /* the endpoint that answered last */
	char *token;                 /* NULL until authenticated */
	char curl_err[CURL_ERROR_SIZE]; /* curl's detail of the last transfer */
	uint64_t rx_bytes;           /* reply bytes read, vxc_etcd_rx_bytes() */
	char err[512];
};

/* Records the last failure; returns rc for `return etcd_fail(...)`. */
int etcd_fail(struct vxc_etcd *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The common curl options of a request to endpoint ep (TLS files, timeouts,
 * headers with the token); *hdrs to free with curl_slist_free_all. */
void etcd_setup(struct vxc_etcd *e, CURL *c, size_t ep, const char *path,
		struct curl_slist **hdrs, int streaming);
/* A transport failure as -errno (detail: curl's error buffer); and which
 * ones move on to another endpoint. */
int etcd_curl_errno(CURLcode cc, const char *detail);
/* Records a transfer's failure, naming the endpoint; returns -errno. */
int etcd_fail_curl(struct vxc_etcd *e, size_t ep, const char *what, CURLcode cc,
		   const char *detail);
int etcd_failover_errno(int rc);

/* POSTs body (consumed) to path, failing over between endpoints and
 * authenticating when needed; *reply the parsed JSON object on 0. */
int etcd_call(struct vxc_etcd *e, const char *path, json_t *body, json_t **reply);
int etcd_authenticate(struct vxc_etcd *e);

/* The prefixed key, base64-encoded; and the end of the range of keys under it. */
char *etcd_key_b64(const struct vxc_etcd *e, const char *key);
char *etcd_range_end_b64(const struct vxc_etcd *e, const char *key);
/* A protobuf int64 in JSON: a string, a number or absent (0). */
int64_t etcd_json_int64(const json_t *obj, const char *name);
/* One "kv" object into out, its key relative to the prefix. */
int etcd_kv_decode(struct vxc_etcd *e, const json_t *kv, struct vxc_etcd_kv *out);
int64_t etcd_header_revision(const json_t *reply);

#endif
