/* compute/docker: an instance is a Docker container made through the Docker
 * Engine API (libcurl on the engine's unix socket, JSON by jansson), with
 * networking off, an init process and ownership labels; its NIC is a veth
 * whose peer the driver puts into the container's network namespace.
 * Reaches the core only through the services table. */
#ifndef VXC_DOCKER_DRIVER_H
#define VXC_DOCKER_DRIVER_H

#include <jansson.h>
#include <vxcloud/compute.h>

#define PEER_IF "eth0"

/* Labels on every container vxcloud makes; list and remove find
 * containers by these, never by name. */
#define LABEL_OWNER "vxcloud.owner"       /* "vxcloud" */
#define LABEL_INSTANCE "vxcloud.instance" /* instance name in the spec */
#define LABEL_HOST "vxcloud.host"         /* host that owns it */
#define LABEL_CONFIG "vxcloud.config"     /* config_hash() */
#define LABEL_NIC "vxcloud.nic"           /* host end of its veth */

/* API versions: the oldest engine API spoken, and the one asked for when
 * the engine offers more (Docker 20.10 and podman 4 serve 1.41). */
#define API_MIN_MAJOR 1
#define API_MIN_MINOR 25
#define API_MAX_MAJOR 1
#define API_MAX_MINOR 41

enum pull_policy {
	PULL_NEVER = 0,
	PULL_IF_MISSING = 1,
	PULL_ALWAYS = 2,
};

/* The event stream's decoding state (events.c). */
struct docker_events {
	char *in;            /* bytes received, not yet decoded */
	size_t len, cap;
	char *line;          /* body bytes: JSON objects, one per line */
	size_t line_len, line_cap;
	int body;            /* the status line and headers are read */
	int chunked;         /* Transfer-Encoding: chunked */
	size_t chunk_left;   /* bytes of the current chunk still to come */
	int need_crlf;       /* the CRLF after a chunk's data is next */
};

struct docker_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	const char *socket;
	const char *name_prefix;
	const char *restart;       /* restart policy name */
	enum pull_policy pull;
	unsigned stop_timeout_ms;
	unsigned api_timeout_ms;
	unsigned pull_timeout_ms;
	long long nofile, nproc;  /* HostConfig.Ulimits; 0 = the engine's */
	void *curl;               /* CURL *, one connection reused */
	char api[16];             /* negotiated "v1.41"; "" until then */
	/* Time spent waiting for the engine, for the benchmark's split of
	 * vxcloud's own time from the engine's (logged at close, debug). */
	unsigned long long engine_ns;
	unsigned engine_calls;
	const char *inst;         /* instance being ensured: change lines name it */
	struct docker_events ev;  /* the one event stream (events_open) */
};

/* ---- api.c: HTTP on the unix socket ---- */
struct api_reply {
	long status;   /* HTTP status */
	char *body;    /* NUL-terminated */
	size_t len;
};

/* Calls METHOD path (prefixed by the negotiated version) with an optional
 * JSON body. 0 with *rep filled (any HTTP status), or -errno with the error
 * recorded (engine unreachable). */
int api_call(struct docker_drv *d, const char *method, const char *path, json_t *body,
	     unsigned timeout_ms, struct api_reply *rep);
void api_reply_free(struct api_reply *rep);
/* The reply's JSON (caller unrefs), or NULL with the error recorded. */
json_t *api_json(struct docker_drv *d, const struct api_reply *rep, const char *what);
/* Records "WHAT: HTTP n: \"message\"" and returns err. (The core puts
 * "docker: instance NAME: " before every message of this driver.) */
int api_fail(struct docker_drv *d, const struct api_reply *rep, const char *what, int err);
/* Negotiates the API version once per driver instance (GET /version). */
int api_ready(struct docker_drv *d);
/* A path segment or query value escaped for a URL; caller frees. */
char *api_escape(struct docker_drv *d, const char *s);

/* ---- image.c ---- */
/* The image is on the engine (pulled per the pull policy); *id gets its
 * ID (caller frees) or NULL under dry run when it is still to be pulled. */
int image_ensure(struct docker_drv *d, const char *image, unsigned flags, char **id);
/* ID of a local image, NULL when absent; -errno on API errors. */
int image_id_of(struct docker_drv *d, const char *image, char **id);

/* ---- container.c ---- */
/* The hash label of an instance's configuration: one hex field per aspect
 * ("image.command.env.limits") so a difference names what changed. */
void config_hash(const struct docker_drv *d, const struct vxc_instance *inst, char *out,
		 size_t len);
/* What differs between two config_hash() values, "" when nothing. */
const char *config_diff(const char *have, const char *want, char *buf, size_t len);
/* Inspects a container by name or ID: 0 with *out (caller unrefs), -ENOENT
 * when there is none, other -errno. */
int container_inspect(struct docker_drv *d, const char *ref, json_t **out);
/* The same for the container of exactly this name (not an ID prefix). */
int container_by_name(struct docker_drv *d, const char *name, json_t **out);
int container_create(struct docker_drv *d, const struct vxc_instance *inst,
		     const char *name, char **id);
int container_start(struct docker_drv *d, const char *id);
/* Stops (stop_timeout_ms, then the engine kills) and removes it. */
int container_remove(struct docker_drv *d, const char *id);
/* IDs and instance names of the containers this host owns. */
typedef void (*container_cb)(void *arg, const char *id, const char *instance,
			     const char *nic);
int container_list(struct docker_drv *d, const char *instance, container_cb cb, void *arg);
/* A label's value in an inspect reply, NULL when absent. */
const char *container_label(json_t *c, const char *label);
int container_name(struct docker_drv *d, const char *instance, char *out, size_t len);

/* ---- nic.c ---- */
/* The instance's NIC is in the namespace of process pid (pid 0: the
 * container is still to be started, dry run only). */
int nic_ensure(struct docker_drv *d, const struct vxc_instance *inst, int pid, unsigned flags);
/* Dry run: what plugging a container still to be (re)made will change. */
int nic_planned(struct docker_drv *d, const struct vxc_instance *inst, unsigned flags);
/* 1 when the NIC joins this host to the namespace of process pid, 0 when
 * not, -errno when that namespace cannot be opened. */
int nic_plugged(struct docker_drv *d, const struct vxc_instance *inst, int pid);

/* ---- events.c: GET /events, streamed (compute ops, ABI 1.6) ---- */
int events_open(void *priv);
int events_read(void *priv, int fd, vxc_compute_event_cb cb, void *arg);
void events_free(struct docker_drv *d);

int instance_ensure(void *priv, const struct vxc_instance *inst, unsigned flags);
int instance_list(void *priv, vxc_owned_cb cb, void *arg);
int instance_remove(void *priv, const struct vxc_owned *obj, unsigned flags);

#endif
