/* The node config's `etcd` group: where the spec lives when it is not a
 * file. Checked like every other setting: each problem names the file,
 * the line and the field (etcd.KEY), and nothing half-read is kept. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etcd.h"
#include "nodeconf.h"
#include "util.h"

#define MAX_ENDPOINTS 16
#define MAX_PASSWORD 1024

static const char *const etcd_keys[] = {
	"endpoints", "prefix", "ca", "cert", "key", "user", "password", "password_file",
	"timeout_ms", "lease_ttl_s",
};

struct etcd_reader {
	struct vxc_nodeconf *nc;
	const config_setting_t *group;
	struct vxc_diag *d;
	struct vxc_etcd_conf *conf;
};

static void etcd_err(struct etcd_reader *r, const config_setting_t *s, const char *key,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void etcd_err(struct etcd_reader *r, const config_setting_t *s, const char *key,
		     const char *fmt, ...)
{
	char field[64], msg[512];
	va_list ap;

	snprintf(field, sizeof(field), "etcd.%s", key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vxc_diag_add(r->d, r->nc->path, config_setting_source_line(s ? s : r->group), field, "%s",
		     msg);
}

static void check_keys(struct etcd_reader *r)
{
	for (int i = 0; i < config_setting_length(r->group); i++) {
		const config_setting_t *s = config_setting_get_elem(r->group, (unsigned)i);
		size_t k;
		for (k = 0; k < VXC_ARRAY_SIZE(etcd_keys); k++)
			if (!strcmp(etcd_keys[k], config_setting_name(s)))
				break;
		if (k == VXC_ARRAY_SIZE(etcd_keys))
			etcd_err(r, s, config_setting_name(s),
				 "unknown setting (known: endpoints, prefix, ca, cert, key, user, "
				 "password, password_file, timeout_ms, lease_ttl_s)");
	}
}

/* A string member, or NULL (absent or wrong type: reported). */
static const char *get_str(struct etcd_reader *r, const char *key)
{
	const config_setting_t *s = config_setting_get_member(r->group, key);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		etcd_err(r, s, key, "must be a string in double quotes");
		return NULL;
	}
	return config_setting_get_string(s);
}

static unsigned get_uint(struct etcd_reader *r, const char *key, unsigned dflt, unsigned min,
			 unsigned max)
{
	const config_setting_t *s = config_setting_get_member(r->group, key);

	if (!s)
		return dflt;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		etcd_err(r, s, key, "must be an integer");
		return dflt;
	}
	long long v = config_setting_get_int64(s);
	if (v < min || v > max) {
		etcd_err(r, s, key, "%lld is out of range %u..%u", v, min, max);
		return dflt;
	}
	return (unsigned)v;
}

/* host: a name of letters, digits, '-' and '.', or a [bracketed] IPv6
 * address; then an optional :port. What `s` points at is after "://". */
static int authority_valid(const char *s)
{
	const char *p = s;

	if (*p == '[') {
		size_t n = strspn(++p, "0123456789abcdefABCDEF:.");
		if (n < 2 || p[n] != ']')
			return 0;
		p += n + 1;
	} else {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789-.");
		if (n == 0 || n > 253)
			return 0;
		p += n;
	}
	if (*p == '\0')
		return 1;
	if (*p++ != ':' || !*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5)
		return 0;
	long port = strtol(p, NULL, 10);
	return port >= 1 && port <= 65535;
}

/* "http://HOST[:PORT]" or "https://HOST[:PORT]": 1 https, 0 http, -1 bad. */
static int endpoint_scheme(const char *url)
{
	if (!strncmp(url, "https://", 8))
		return authority_valid(url + 8) ? 1 : -1;
	if (!strncmp(url, "http://", 7))
		return authority_valid(url + 7) ? 0 : -1;
	return -1;
}

/* Returns how many endpoints are https. */
static int read_endpoints(struct etcd_reader *r, int *n_https)
{
	const config_setting_t *s = config_setting_get_member(r->group, "endpoints");

	*n_https = 0;
	if (!s) {
		etcd_err(r, NULL, "endpoints", "missing: endpoints = [ \"https://HOST:2379\", ... ];");
		return -EINVAL;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) ||
	    config_setting_length(s) < 1 || config_setting_length(s) > MAX_ENDPOINTS) {
		etcd_err(r, s, "endpoints", "must be a list of 1 to %d strings: "
			 "[ \"https://HOST:2379\", ... ]", MAX_ENDPOINTS);
		return -EINVAL;
	}
	int n = config_setting_length(s), bad = 0;
	r->conf->endpoints = vxc_xcalloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *url = config_setting_get_string(e);
		int https = url ? endpoint_scheme(url) : -1;
		if (https < 0) {
			etcd_err(r, e, "endpoints", "'%s' is not http://HOST[:PORT] or "
				 "https://HOST[:PORT] (no path, no user)", url ? url : "(not a string)");
			bad = 1;
			continue;
		}
		*n_https += https;
		r->conf->endpoints[r->conf->n_endpoints++] = vxc_xstrdup(url);
	}
	return bad ? -EINVAL : 0;
}

static void read_prefix(struct etcd_reader *r)
{
	const char *p = get_str(r, "prefix");

	if (!p) {
		r->conf->prefix = vxc_xstrdup(VXC_ETCD_DEFAULT_PREFIX);
		return;
	}
	int printable = 1;
	for (const char *c = p; *c; c++)
		printable &= *c > ' ' && *c < 0x7f;
	if (p[0] != '/' || p[strlen(p) - 1] != '/' || !printable || strlen(p) > 256)
		etcd_err(r, config_setting_get_member(r->group, "prefix"), "prefix",
			 "'%s' must start and end with '/' (printable, no spaces, at most 256), "
			 "e.g. \"/vxcloud/\"", p);
	r->conf->prefix = vxc_xstrdup(p);
}

/* An absolute path this process can read; kept in *out. */
static void read_file_path(struct etcd_reader *r, const char *key, char **out)
{
	const char *p = get_str(r, key);
	const config_setting_t *s = config_setting_get_member(r->group, key);

	if (!p)
		return;
	if (p[0] != '/')
		etcd_err(r, s, key, "'%s' is not an absolute path", p);
	else if (access(p, R_OK) < 0)
		etcd_err(r, s, key, "cannot read '%s': %s", p, strerror(errno));
	*out = vxc_xstrdup(p);
}

/* The first line of password_file: a regular file, not a FIFO to block on. */
static char *read_password_file(struct etcd_reader *r, const char *path)
{
	const config_setting_t *s = config_setting_get_member(r->group, "password_file");
	char buf[MAX_PASSWORD + 2];
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		etcd_err(r, s, "password_file", "'%s' %s", path,
			 fd < 0 ? strerror(errno) : "is not a regular file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		etcd_err(r, s, "password_file", "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0] || strlen(buf) > MAX_PASSWORD) {
		etcd_err(r, s, "password_file", "'%s' must hold the password on its first line "
			 "(1 to %d characters)", path, MAX_PASSWORD);
		return NULL;
	}
	char *pw = vxc_xstrdup(buf);
	memset(buf, 0, sizeof(buf));
	return pw;
}

static void read_credentials(struct etcd_reader *r)
{
	const char *user = get_str(r, "user"), *pw = get_str(r, "password");
	const char *pwfile = get_str(r, "password_file");
	const config_setting_t *pws = config_setting_get_member(r->group, "password");
	const config_setting_t *pwfs = config_setting_get_member(r->group, "password_file");

	if (pw && pwfile) {
		etcd_err(r, pwfs, "password_file", "both password (line %d) and password_file "
			 "(line %d): give one", config_setting_source_line(pws),
			 config_setting_source_line(pwfs));
		return;
	}
	if (!user) {
		if (pws || pwfs)
			etcd_err(r, pws ? pws : pwfs, pws ? "password" : "password_file",
				 "a password needs a user (user = \"NAME\";)");
		return;
	}
	if (!*user || strlen(user) > 256) {
		etcd_err(r, config_setting_get_member(r->group, "user"), "user",
			 "must be 1 to 256 characters");
		return;
	}
	if (!pw && !pwfile) {
		etcd_err(r, config_setting_get_member(r->group, "user"), "user",
			 "needs password_file = \"FILE\"; (or password = \"...\";)");
		return;
	}
	if (pwfile && pwfile[0] != '/') {
		etcd_err(r, pwfs, "password_file", "'%s' is not an absolute path", pwfile);
		return;
	}
	r->conf->user = vxc_xstrdup(user);
	r->conf->password = pw ? vxc_xstrdup(pw) : read_password_file(r, pwfile);
}

/* TLS files make sense only with https; a certificate needs its key. */
static void check_tls(struct etcd_reader *r, int n_https)
{
	const config_setting_t *g = r->group;
	const char *tls_key = r->conf->ca ? "ca" : r->conf->cert ? "cert" : r->conf->key ? "key"
											  : NULL;

	if (tls_key && n_https == 0)
		etcd_err(r, config_setting_get_member(g, tls_key), tls_key,
			 "TLS files need https:// endpoints");
	if (!r->conf->cert != !r->conf->key)
		etcd_err(r, config_setting_get_member(g, r->conf->cert ? "cert" : "key"),
			 r->conf->cert ? "cert" : "key", "cert and key go together: give both");
}

void vxc_etcd_conf_free(struct vxc_etcd_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->prefix);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->user);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	free(c);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int vxc_etcd_conf_same(const struct vxc_etcd_conf *a, const struct vxc_etcd_conf *b)
{
	if (!a || !b)
		return a == b;
	if (a->n_endpoints != b->n_endpoints || a->timeout_ms != b->timeout_ms ||
	    a->lease_ttl_s != b->lease_ttl_s || !same_str(a->prefix, b->prefix) ||
	    !same_str(a->ca, b->ca) || !same_str(a->cert, b->cert) || !same_str(a->key, b->key) ||
	    !same_str(a->user, b->user) || !same_str(a->password, b->password))
		return 0;
	for (size_t i = 0; i < a->n_endpoints; i++)
		if (strcmp(a->endpoints[i], b->endpoints[i]))
			return 0;
	return 1;
}

int vxc_nodeconf_load_etcd(struct vxc_nodeconf *nc, struct vxc_diag *d)
{
	const config_setting_t *g = config_lookup(&nc->cfg, "etcd");
	const config_setting_t *spec = config_lookup(&nc->cfg, "spec");
	size_t before = d->n;
	int n_https;

	if (!g)
		return 0;
	if (spec) {
		vxc_diag_add(d, nc->path, config_setting_source_line(g), "etcd",
			     "both spec (line %d) and etcd (line %d): the spec comes from one "
			     "source, a file or etcd", config_setting_source_line(spec),
			     config_setting_source_line(g));
		return -EINVAL;
	}
	if (!config_setting_is_group(g)) {
		vxc_diag_add(d, nc->path, config_setting_source_line(g), "etcd",
			     "must be a group: etcd = { endpoints = [ ... ]; ... };");
		return -EINVAL;
	}
	struct vxc_etcd_conf *conf = vxc_xcalloc(1, sizeof(*conf));
	struct etcd_reader r = { .nc = nc, .group = g, .d = d, .conf = conf };
	check_keys(&r);
	read_endpoints(&r, &n_https);
	read_prefix(&r);
	read_file_path(&r, "ca", &conf->ca);
	read_file_path(&r, "cert", &conf->cert);
	read_file_path(&r, "key", &conf->key);
	check_tls(&r, n_https);
	read_credentials(&r);
	conf->timeout_ms = get_uint(&r, "timeout_ms", VXC_ETCD_DEFAULT_TIMEOUT_MS, 100, 60000);
	conf->lease_ttl_s = get_uint(&r, "lease_ttl_s", VXC_ETCD_DEFAULT_LEASE_TTL_S, 2, 3600);
	if (d->n > before) {
		vxc_etcd_conf_free(conf);
		return -EINVAL;
	}
	nc->etcd = conf;
	return 0;
}
