/* Reading and writing keys: range, compare-and-put (one txn), delete. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"
#include "util.h"

static int range(struct vxc_etcd *e, const char *key, int prefix, json_t **reply)
{
	char *k = etcd_key_b64(e, key);
	json_t *body = json_pack("{s:s}", "key", k);

	free(k);
	if (prefix) {
		char *end = etcd_range_end_b64(e, key);
		json_object_set_new(body, "range_end", json_string(end));
		free(end);
	}
	return etcd_call(e, "/v3/kv/range", body, reply);
}

/* The kvs of a range reply into a fresh array. */
static int decode_kvs(struct vxc_etcd *e, const json_t *kvs, struct vxc_etcd_kv **out,
		      size_t *n)
{
	size_t count = json_array_size(kvs);
	struct vxc_etcd_kv *arr = count ? vxc_xcalloc(count, sizeof(*arr)) : NULL;

	for (size_t i = 0; i < count; i++) {
		int rc = etcd_kv_decode(e, json_array_get(kvs, i), &arr[i]);
		if (rc < 0) {
			vxc_etcd_kv_free(arr, i);
			return rc;
		}
	}
	*out = arr;
	*n = count;
	return 0;
}

int vxc_etcd_get(struct vxc_etcd *e, const char *key, struct vxc_etcd_kv *out,
		 int64_t *store_rev)
{
	json_t *reply;
	int rc = range(e, key, 0, &reply);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	if (store_rev)
		*store_rev = etcd_header_revision(reply);
	const json_t *kvs = json_object_get(reply, "kvs");
	if (json_array_size(kvs) == 0)
		rc = -ENOENT;
	else
		rc = etcd_kv_decode(e, json_array_get(kvs, 0), out);
	json_decref(reply);
	return rc;
}

int vxc_etcd_list(struct vxc_etcd *e, const char *key_prefix, struct vxc_etcd_kv **out,
		  size_t *n, int64_t *store_rev)
{
	json_t *reply;
	int rc = range(e, key_prefix, 1, &reply);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	if (store_rev)
		*store_rev = etcd_header_revision(reply);
	rc = decode_kvs(e, json_object_get(reply, "kvs"), out, n);
	json_decref(reply);
	return rc;
}

static json_t *put_request(struct vxc_etcd *e, const char *key, const void *val, size_t len,
			   int64_t lease)
{
	char *k = etcd_key_b64(e, key), *v = vxc_base64_encode(val, len);
	json_t *req = json_pack("{s:s, s:s}", "key", k, "value", v);

	free(k);
	free(v);
	if (lease)
		json_object_set_new(req, "lease", json_sprintf("%" PRId64, lease));
	return req;
}

static int put_plain(struct vxc_etcd *e, json_t *req, int64_t *rev)
{
	json_t *reply;
	int rc = etcd_call(e, "/v3/kv/put", req, &reply);

	if (rc < 0)
		return rc;
	if (rev)
		*rev = etcd_header_revision(reply);
	json_decref(reply);
	return 0;
}

/* The mod_revision the failure branch read back (0: the key is absent). */
static int64_t txn_current_revision(const json_t *reply)
{
	const json_t *resp = json_array_get(json_object_get(reply, "responses"), 0);
	const json_t *kvs = json_object_get(json_object_get(resp, "response_range"), "kvs");

	return etcd_json_int64(json_array_get(kvs, 0), "mod_revision");
}

/* One txn: if mod_revision(key) == expect then put else read it back. An
 * absent key's mod_revision compares as 0. */
static int put_compare(struct vxc_etcd *e, const char *key, json_t *req, int64_t expect,
		       int64_t *rev)
{
	char *k = etcd_key_b64(e, key);
	json_t *body = json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[{s:o}], s:[{s:{s:s}}]}",
				 "compare", "key", k, "target", "MOD", "result", "EQUAL",
				 "mod_revision", "0",
				 "success", "request_put", req,
				 "failure", "request_range", "key", k);
	json_t *reply;
	int rc;

	free(k);
	json_object_set_new(json_array_get(json_object_get(body, "compare"), 0), "mod_revision",
			    json_sprintf("%" PRId64, expect));
	rc = etcd_call(e, "/v3/kv/txn", body, &reply);
	if (rc < 0)
		return rc;
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		if (rev)
			*rev = etcd_header_revision(reply);
	} else {
		if (rev)
			*rev = txn_current_revision(reply);
		rc = -ESTALE;
	}
	json_decref(reply);
	return rc;
}

int vxc_etcd_put(struct vxc_etcd *e, const char *key, const void *val, size_t len,
		 int64_t expect, int64_t lease, int64_t *rev)
{
	json_t *req = put_request(e, key, val, len, lease);

	if (expect == VXC_ETCD_ANY)
		return put_plain(e, req, rev);
	if (expect < 0) {
		json_decref(req);
		return -EINVAL;
	}
	return put_compare(e, key, req, expect, rev);
}

int vxc_etcd_delete(struct vxc_etcd *e, const char *key)
{
	char *k = etcd_key_b64(e, key);
	json_t *reply;
	int rc = etcd_call(e, "/v3/kv/deleterange", json_pack("{s:s}", "key", k), &reply);

	free(k);
	if (rc == 0)
		json_decref(reply);
	return rc;
}
