/* Leases: what makes a key vanish by itself when its writer dies. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "etcd_int.h"

int vxc_etcd_lease_grant(struct vxc_etcd *e, unsigned ttl_s, int64_t *lease)
{
	json_t *reply;
	int rc = etcd_call(e, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t)ttl_s),
			   &reply);

	if (rc < 0)
		return rc;
	*lease = etcd_json_int64(reply, "ID");
	const char *why = json_string_value(json_object_get(reply, "error"));
	json_decref(reply);
	if (*lease == 0)
		return etcd_fail(e, -EPROTO, "etcd %s: lease grant refused: %s",
				 vxc_etcd_endpoint(e), why ? why : "no lease ID");
	return 0;
}

/* The gateway streams keepalive replies as {"result":{...}}; one request,
 * one reply, then the stream ends. A lease that expired answers TTL 0. */
static int keepalive_once(struct vxc_etcd *e, int64_t lease, int *unauthenticated)
{
	json_t *reply, *body = json_object();
	int rc;

	json_object_set_new(body, "ID", json_sprintf("%" PRId64, lease));
	rc = etcd_call(e, "/v3/lease/keepalive", body, &reply);
	if (rc < 0)
		return rc;
	const json_t *result = json_object_get(reply, "result");
	const json_t *err = json_object_get(reply, "error");
	int64_t ttl = etcd_json_int64(result, "TTL");
	if (!result) {
		/* a stream's error comes as {"error":{"grpc_code":N,"message":..}} */
		const char *msg = json_string_value(json_object_get(err, "message"));
		json_int_t code = json_integer_value(json_object_get(err, "grpc_code"));
		*unauthenticated = code == 16;
		rc = etcd_fail(e, code == 16 || code == 7 ? -EACCES : -EPROTO,
			       "etcd %s: lease keepalive: %s", vxc_etcd_endpoint(e),
			       msg ? msg : "no result");
		json_decref(reply);
		return rc;
	}
	json_decref(reply);
	if (ttl <= 0)
		return etcd_fail(e, -ENOENT, "etcd %s: lease %" PRId64 " expired",
				 vxc_etcd_endpoint(e), lease);
	return 0;
}

int vxc_etcd_lease_keepalive(struct vxc_etcd *e, int64_t lease)
{
	int unauthenticated = 0;
	int rc = keepalive_once(e, lease, &unauthenticated);

	/* the stream says Unauthenticated in its body, not with a 401 */
	if (rc == -EACCES && unauthenticated && e->conf.user && etcd_authenticate(e) == 0)
		rc = keepalive_once(e, lease, &unauthenticated);
	return rc;
}

int vxc_etcd_lease_revoke(struct vxc_etcd *e, int64_t lease)
{
	json_t *reply, *body = json_object();
	int rc;

	json_object_set_new(body, "ID", json_sprintf("%" PRId64, lease));
	rc = etcd_call(e, "/v3/lease/revoke", body, &reply);
	if (rc == 0)
		json_decref(reply);
	/* an unknown lease is "requested lease not found" (gRPC NotFound) */
	if (rc == -EIO && strstr(e->err, "lease not found"))
		rc = 0;
	return rc;
}
