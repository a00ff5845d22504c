/* The etcd client handle: its copy of the settings, the last error, and the
 * helpers every request uses (prefixed keys, protobuf JSON numbers, kvs). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"
#include "util.h"

static char *strdup_or_null(const char *s)
{
	return s ? vxc_xstrdup(s) : NULL;
}

static void conf_copy(struct vxc_etcd_conf *dst, const struct vxc_etcd_conf *src)
{
	dst->n_endpoints = src->n_endpoints;
	dst->endpoints = vxc_xcalloc(src->n_endpoints, sizeof(char *));
	for (size_t i = 0; i < src->n_endpoints; i++)
		dst->endpoints[i] = vxc_xstrdup(src->endpoints[i]);
	dst->prefix = vxc_xstrdup(src->prefix ? src->prefix : VXC_ETCD_DEFAULT_PREFIX);
	dst->ca = strdup_or_null(src->ca);
	dst->cert = strdup_or_null(src->cert);
	dst->key = strdup_or_null(src->key);
	dst->user = strdup_or_null(src->user);
	dst->password = strdup_or_null(src->password);
	dst->timeout_ms = src->timeout_ms ? src->timeout_ms : VXC_ETCD_DEFAULT_TIMEOUT_MS;
	dst->lease_ttl_s = src->lease_ttl_s ? src->lease_ttl_s : VXC_ETCD_DEFAULT_LEASE_TTL_S;
}

int vxc_etcd_open(struct vxc_etcd **out, const struct vxc_etcd_conf *conf)
{
	*out = NULL;
	if (!conf->n_endpoints)
		return -EINVAL;
	struct vxc_etcd *e = vxc_xcalloc(1, sizeof(*e));
	conf_copy(&e->conf, conf);
	e->curl = curl_easy_init();
	if (!e->curl) {
		vxc_etcd_free(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

void vxc_etcd_free(struct vxc_etcd *e)
{
	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	for (size_t i = 0; i < e->conf.n_endpoints; i++)
		free(e->conf.endpoints[i]);
	free(e->conf.endpoints);
	free(e->conf.prefix);
	free(e->conf.ca);
	free(e->conf.cert);
	free(e->conf.key);
	free(e->conf.user);
	if (e->conf.password)
		memset(e->conf.password, 0, strlen(e->conf.password));
	free(e->conf.password);
	free(e->token);
	free(e);
}

const char *vxc_etcd_error(const struct vxc_etcd *e)
{
	return e->err;
}

const char *vxc_etcd_endpoint(const struct vxc_etcd *e)
{
	return e->conf.endpoints[e->current];
}

uint64_t vxc_etcd_rx_bytes(const struct vxc_etcd *e)
{
	return e->rx_bytes;
}

int etcd_fail(struct vxc_etcd *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
	return rc;
}

void vxc_etcd_kv_clear(struct vxc_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void vxc_etcd_kv_free(struct vxc_etcd_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++)
		vxc_etcd_kv_clear(&kv[i]);
	free(kv);
}

static char *prefixed(const struct vxc_etcd *e, const char *key)
{
	return vxc_xasprintf("%s%s", e->conf.prefix, key);
}

char *etcd_key_b64(const struct vxc_etcd *e, const char *key)
{
	char *full = prefixed(e, key);
	char *b64 = vxc_base64_encode(full, strlen(full));
	free(full);
	return b64;
}

/* The smallest key greater than every key starting with key: the last
 * byte below 0xff incremented, what follows it dropped. */
char *etcd_range_end_b64(const struct vxc_etcd *e, const char *key)
{
	char *full = prefixed(e, key);
	size_t n = strlen(full);
	char *b64;

	while (n > 0 && (unsigned char)full[n - 1] == 0xff)
		n--;
	if (n == 0) {
		b64 = vxc_xstrdup("AA==");	/* "\0": every key */
	} else {
		full[n - 1]++;
		b64 = vxc_base64_encode(full, n);
	}
	free(full);
	return b64;
}

int64_t etcd_json_int64(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

int64_t etcd_header_revision(const json_t *reply)
{
	return etcd_json_int64(json_object_get(reply, "header"), "revision");
}

static char *decode_field(const json_t *kv, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(kv, name));

	return vxc_base64_decode(s ? s : "", len);
}

int etcd_kv_decode(struct vxc_etcd *e, const json_t *kv, struct vxc_etcd_kv *out)
{
	size_t klen, plen = strlen(e->conf.prefix);
	char *key = decode_field(kv, "key", &klen);
	char *value = decode_field(kv, "value", &out->value_len);

	if (!key || !value || klen < plen || memcmp(key, e->conf.prefix, plen)) {
		free(key);
		free(value);
		return etcd_fail(e, -EPROTO, "etcd %s: a key or value that does not decode",
				 vxc_etcd_endpoint(e));
	}
	out->key = vxc_xstrdup(key + plen);
	free(key);
	out->value = value;
	out->mod_revision = etcd_json_int64(kv, "mod_revision");
	out->lease = etcd_json_int64(kv, "lease");
	return 0;
}
