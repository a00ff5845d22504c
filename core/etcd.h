/* A small blocking etcd v3 client over etcd's JSON gateway (libcurl +
 * jansson): get, list, compare-and-put, delete, leases and a streaming
 * watch, with failover between endpoints and password authentication.
 * One handle per thread; curl_global_init() once in main. Keys are relative
 * to the configured prefix, in and out. Calls return 0 or -errno:
 * -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH when no endpoint answered, -EACCES
 * when etcd refused the credentials (auth or TLS), -EPROTO for a reply that
 * does not parse; vxc_etcd_error() then says what, naming the endpoint. */
#ifndef VXC_ETCD_H
#define VXC_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct vxc_etcd_conf {
	char **endpoints;         /* "http://host:port" or "https://host:port" */
	size_t n_endpoints;
	char *prefix;             /* starts and ends with '/' */
	char *ca, *cert, *key;    /* NULL: system CAs, no client certificate */
	char *user, *password;    /* NULL user: no authentication */
	unsigned timeout_ms, lease_ttl_s;
};

#define VXC_ETCD_DEFAULT_PREFIX "/vxcloud/"
#define VXC_ETCD_DEFAULT_TIMEOUT_MS 2000
#define VXC_ETCD_DEFAULT_LEASE_TTL_S 10

struct vxc_etcd;

/* Copies conf; does no I/O. */
int vxc_etcd_open(struct vxc_etcd **e, const struct vxc_etcd_conf *conf);
void vxc_etcd_free(struct vxc_etcd *e);
/* The last failure, naming the endpoint; "" when none. */
const char *vxc_etcd_error(const struct vxc_etcd *e);
/* The endpoint the handle uses now (the last one that answered). */
const char *vxc_etcd_endpoint(const struct vxc_etcd *e);
/* Bytes of replies this handle has read (bodies: JSON, streams included),
 * for status and benchmarks: what a host costs etcd per change. */
uint64_t vxc_etcd_rx_bytes(const struct vxc_etcd *e);

struct vxc_etcd_kv {
	char *key;                /* relative to the prefix */
	char *value;              /* value_len bytes, NUL-terminated too */
	size_t value_len;
	int64_t mod_revision, lease;
};

/* Frees the contents of n entries and the array itself. */
void vxc_etcd_kv_free(struct vxc_etcd_kv *kv, size_t n);
/* Frees the contents of one entry, not the entry. */
void vxc_etcd_kv_clear(struct vxc_etcd_kv *kv);

/* -ENOENT when absent; *store_rev (may be NULL) = the store's revision. */
int vxc_etcd_get(struct vxc_etcd *e, const char *key, struct vxc_etcd_kv *out,
		 int64_t *store_rev);
/* Every key starting with key_prefix, sorted by key; *out NULL when none. */
int vxc_etcd_list(struct vxc_etcd *e, const char *key_prefix, struct vxc_etcd_kv **out,
		  size_t *n, int64_t *store_rev);

#define VXC_ETCD_ANY (-1)
/* expect: VXC_ETCD_ANY unconditional, 0 key must be absent, N its
 * mod_revision must be N. -ESTALE when the compare fails (*rev = the key's
 * current mod_revision, 0 if absent); else *rev = the new revision. rev may
 * be NULL. lease 0 = none. */
int vxc_etcd_put(struct vxc_etcd *e, const char *key, const void *val, size_t len,
		 int64_t expect, int64_t lease, int64_t *rev);
/* 0 whether or not the key existed. */
int vxc_etcd_delete(struct vxc_etcd *e, const char *key);

int vxc_etcd_lease_grant(struct vxc_etcd *e, unsigned ttl_s, int64_t *lease);
/* -ENOENT: the lease expired (or never was). */
int vxc_etcd_lease_keepalive(struct vxc_etcd *e, int64_t lease);
/* Drops the lease and every key attached to it; 0 if it was already gone. */
int vxc_etcd_lease_revoke(struct vxc_etcd *e, int64_t lease);

enum vxc_etcd_ev { VXC_ETCD_PUT, VXC_ETCD_DELETE };
struct vxc_etcd_event {
	enum vxc_etcd_ev type;
	struct vxc_etcd_kv kv;    /* a DELETE has key and mod_revision only */
};

/* Streams events for key (or every key under it when prefix != 0) from
 * start_rev on (0: from now), calling cb for each (kv valid only during the
 * call), until cb returns nonzero (returned), stop_fd becomes readable
 * (returns 0; -1 = none), or the stream fails: -ECONNRESET etc. with
 * vxc_etcd_error set, -ERANGE when start_rev was compacted (*compact_rev set;
 * re-read with get and watch from its header revision + 1). The caller
 * reconnects (it owns the backoff). */
int vxc_etcd_watch(struct vxc_etcd *e, const char *key, int prefix, int64_t start_rev,
		   int (*cb)(const struct vxc_etcd_event *ev, void *arg), void *arg,
		   int stop_fd, int64_t *compact_rev);

/* Standard base64 with padding (etcd's JSON bytes). The decoder returns a
 * NUL-terminated buffer and its length, or NULL on bad input. */
char *vxc_base64_encode(const void *data, size_t len);
char *vxc_base64_decode(const char *s, size_t *len);

#endif
