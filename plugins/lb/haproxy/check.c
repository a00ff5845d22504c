/* Validation of everything that reaches haproxy's configuration. The core
 * validates the spec already; the driver checks again, by type and range,
 * because the file is its own: a name with a newline, '#' or a blank must
 * never become configuration, whoever filled the model. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"

#define MS_MAX (24u * 3600 * 1000)

/* Letters, digits, '-', '_' and '.', not starting with '.' or '-': a token
 * in the configuration and a file name under the state directory. */
int hap_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	int good = len > 0 && len <= NAME_MAX_LEN && name[0] != '.' && name[0] != '-';

	for (size_t i = 0; good && i < len; i++)
		good = isalnum((unsigned char)name[i]) || strchr("-_.", name[i]);
	return good;
}

int hap_check_name(struct hap_drv *d, const char *name)
{
	char shown[NAME_MAX_LEN + 1];

	if (hap_name_ok(name))
		return 0;
	/* The message shows the name without its control characters. */
	snprintf(shown, sizeof(shown), "%s", name ? name : "(null)");
	for (char *c = shown; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	return d->svc->error(d->ctx, -EINVAL, "load balancer name \"%s\" is refused: use 1 to %d "
			     "letters, digits, '-', '_' or '.', not starting with '-' or '.'",
			     shown, NAME_MAX_LEN);
}

static int range(struct hap_drv *d, const char *lb, size_t li, const char *what,
		 unsigned long long v, unsigned long long min, unsigned long long max)
{
	if (v >= min && v <= max)
		return 0;
	return d->svc->error(d->ctx, -ERANGE, "load balancer %s: listener %zu: %s %llu is out "
			     "of range [%llu, %llu]", lb, li, what, v, min, max);
}

/* An HTTP path: '/' then printable characters that cannot start a comment,
 * a quote or an escape in the configuration. */
static int check_path(struct hap_drv *d, const char *lb, size_t li, const char *path)
{
	int good = path && path[0] == '/' && strlen(path) < 256;

	for (const char *c = path; good && *c; c++)
		good = isgraph((unsigned char)*c) && !strchr("#\"'\\", *c);
	if (!good)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: health "
				     "check path is refused: it must start with '/' and hold no "
				     "blanks, control characters, '#', quotes or '\\'", lb, li);
	return 0;
}

static int check_health(struct hap_drv *d, const char *lb, size_t li,
			const struct vxc_lb_listener *l)
{
	const struct vxc_lb_health *h = &l->health;
	unsigned status = l->ext && l->ext->size >= sizeof(*l->ext) ? l->ext->http_status : 0;
	int r = 0;

	if (!h->enabled)
		return 0;
	if (!r)
		r = range(d, lb, li, "health interval (ms)", h->interval_ms, 100, 3600000);
	if (!r)
		r = range(d, lb, li, "health timeout (ms)", h->timeout_ms, 1, 3600000);
	if (!r)
		r = range(d, lb, li, "health rise", h->rise, 1, 100);
	if (!r)
		r = range(d, lb, li, "health fall", h->fall, 1, 100);
	if (!r && h->http_path)
		r = check_path(d, lb, li, h->http_path);
	if (!r && status)
		r = range(d, lb, li, "health http_status", status, 100, 599);
	return r;
}

static int check_members(struct hap_drv *d, const char *lb, size_t li,
			 const struct vxc_lb_listener *l)
{
	int r = range(d, lb, li, "member count", l->n_members, 0, MAX_MEMBERS);

	if (!r && l->n_members && !l->members)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: no member "
				     "array", lb, li);
	for (size_t i = 0; !r && i < l->n_members; i++) {
		const struct vxc_lb_member *m = &l->members[i];

		if (!m->addr.s_addr)
			return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: "
					     "member %zu has no address", lb, li, i);
		r = range(d, lb, li, "member port", m->port, 1, 65535);
		if (!r)
			r = range(d, lb, li, "member weight", m->weight, 0, 256);
		for (size_t j = 0; !r && j < i; j++)
			if (l->members[j].addr.s_addr == m->addr.s_addr &&
			    l->members[j].port == m->port)
				return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener "
						     "%zu: member %zu is listed twice", lb, li, i);
	}
	return r;
}

static int check_listener(struct hap_drv *d, const struct vxc_lb *lb, size_t li)
{
	const struct vxc_lb_listener *l = &lb->listeners[li];
	int r = 0;

	if (l->protocol != VXC_LB_TCP && l->protocol != VXC_LB_HTTP)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: unknown "
				     "protocol %d", lb->name, li, (int)l->protocol);
	if (l->algorithm < VXC_LB_ROUNDROBIN || l->algorithm > VXC_LB_SOURCE)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: unknown "
				     "algorithm %d", lb->name, li, (int)l->algorithm);
	r = range(d, lb->name, li, "port", l->port, 1, 65535);
	if (!r)
		r = range(d, lb->name, li, "maxconn", l->maxconn, 1, 1000000);
	if (!r)
		r = range(d, lb->name, li, "retries", l->retries, 0, 100);
	if (!r)
		r = range(d, lb->name, li, "connect timeout (ms)", l->timeout_connect_ms, 1, MS_MAX);
	if (!r)
		r = range(d, lb->name, li, "client timeout (ms)", l->timeout_client_ms, 1, MS_MAX);
	if (!r)
		r = range(d, lb->name, li, "server timeout (ms)", l->timeout_server_ms, 1, MS_MAX);
	for (size_t j = 0; !r && j < li; j++)
		if (lb->listeners[j].port == l->port)
			return d->svc->error(d->ctx, -EINVAL, "load balancer %s: listener %zu: port "
					     "%u is also listener %zu's", lb->name, li, l->port, j);
	if (!r)
		r = check_health(d, lb->name, li, l);
	return r ? r : check_members(d, lb->name, li, l);
}

int hap_check_lb(struct hap_drv *d, const struct vxc_lb *lb)
{
	const struct vxc_port *port = lb ? lb->port : NULL;
	int r;

	if (!lb)
		return d->svc->error(d->ctx, -EINVAL, "no load balancer");
	r = hap_check_name(d, lb->name);
	if (r < 0)
		return r;
	if (strncmp(lb->netns, NETNS_PREFIX, strlen(NETNS_PREFIX)) ||
	    strcmp(lb->netns + strlen(NETNS_PREFIX), lb->name))
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: namespace \"%s\" is not "
				     NETNS_PREFIX "%s", lb->name, lb->netns, lb->name);
	if (!port || !port->network || !*port->host_if || !port->addr.s_addr)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: no VIP port on a network",
				     lb->name);
	if (!lb->n_listeners || lb->n_listeners > MAX_LISTENERS || !lb->listeners)
		return d->svc->error(d->ctx, -EINVAL, "load balancer %s: %zu listeners; 1 to %d "
				     "are served", lb->name, lb->n_listeners, MAX_LISTENERS);
	for (size_t i = 0; i < lb->n_listeners; i++)
		if ((r = check_listener(d, lb, i)) < 0)
			return r;
	return 0;
}
