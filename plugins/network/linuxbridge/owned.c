/* What this driver owns on the host, and removing it: links by their
 * ownership mark, router namespaces by their "vxr-" prefix, the provider
 * also by its records (record.h: an adopted bridge, an enslaved uplink).
 * Nothing without our mark is ever deleted. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbr.h"
#include "links.h"
#include "record.h"

#define ROUTER_NS_PREFIX "vxr-"

/* Each object once, even when several links carry its mark. */
struct seen {
	struct vxc_owned *v;
	size_t n, cap;
};

static int seen_add(struct seen *s, enum vxc_kind kind, const char *name, const char *netns)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && !strcmp(s->v[i].name, name))
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct vxc_owned *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].kind = kind;
	s->v[s->n].name = strdup(name);
	s->v[s->n].netns = netns ? strdup(netns) : NULL;
	if (!s->v[s->n].name || (netns && !s->v[s->n].netns))
		return -ENOMEM;
	s->n++;
	return 0;
}

static void seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free((char *)s->v[i].name);
		free((char *)s->v[i].netns);
	}
	free(s->v);
}

static int kind_of(const char *kind, enum vxc_kind *out)
{
	if (!strcmp(kind, "provider"))
		*out = VXC_KIND_PROVIDER;
	else if (!strcmp(kind, "network"))
		*out = VXC_KIND_NETWORK;
	else if (!strcmp(kind, "router"))
		*out = VXC_KIND_ROUTER;
	else
		return -ENOENT; /* another driver's mark */
	return 0;
}

static int list_link(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache, void *arg)
{
	char kind[LBR_KIND_MAX], name[LBR_NAME_MAX], ns[LBR_NAME_MAX + 8];
	enum vxc_kind k;

	(void)cache;
	if (lbr_link_owner_any(p, l, kind, name) < 0 || kind_of(kind, &k) < 0)
		return 0;
	if (k == VXC_KIND_PROVIDER)
		return seen_add(arg, k, "provider", NULL);
	snprintf(ns, sizeof(ns), ROUTER_NS_PREFIX "%s", name);
	return seen_add(arg, k, name, k == VXC_KIND_ROUTER ? ns : NULL);
}

struct ns_arg {
	struct seen *s;
	int err;
};

static void list_ns(void *arg, const char *netns)
{
	struct ns_arg *a = arg;
	const char *name = netns;
	int err;

	if (!strncmp(name, ROUTER_NS_PREFIX, strlen(ROUTER_NS_PREFIX)))
		name += strlen(ROUTER_NS_PREFIX);
	if (!*name)
		return;
	err = seen_add(a->s, VXC_KIND_ROUTER, name, netns);
	if (err && !a->err)
		a->err = err;
}

/* An adopted bridge carries no mark: the records say the provider is ours. */
static int list_records(struct lbr *p, struct seen *s)
{
	struct lbr_uplink_rec r;
	char br[VXC_IFNAMSIZ];
	int err = lbr_uplink_rec_read(p, &r);

	if (err == 0)
		err = lbr_adopted_read(p, br);
	return err > 0 ? seen_add(s, VXC_KIND_PROVIDER, "provider", NULL) : err;
}

/* A DHCP or keepalived record whose namespace is gone (a crash, a hand
 * deletion) still names a router whose removal stops its process. */
static void list_dhcp(void *arg, const char *router)
{
	struct ns_arg *a = arg;
	char ns[VXC_NETNS_NAMSIZ];
	int err;

	snprintf(ns, sizeof(ns), ROUTER_NS_PREFIX "%s", router);
	err = seen_add(a->s, VXC_KIND_ROUTER, router, ns);
	if (err && !a->err)
		a->err = err;
}

int lbr_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct lbr *p = priv;
	struct seen s = { 0 };
	struct ns_arg na = { .s = &s };
	size_t i;
	int err;

	err = lbr_links_foreach(p, p->sk, list_link, &s);
	if (!err)
		err = list_records(p, &s);
	if (!err) {
		err = p->svc->netns_list(p->ctx, ROUTER_NS_PREFIX, list_ns, &na);
		if (err < 0)
			err = lbr_error(p, err, "cannot list router namespaces: %s", strerror(-err));
		else
			err = na.err;
	}
	if (!err)
		err = lbr_dhcp_list(p, list_dhcp, &na);
	if (!err)
		err = lbr_rha_list(p, list_dhcp, &na);
	if (!err)
		err = na.err;
	if (!err)
		for (i = 0; i < s.n; i++)
			cb(arg, &s.v[i]);
	seen_free(&s);
	return err;
}

/* ---- remove ---------------------------------------------------------- */

struct rm_arg {
	const char *kind;
	const char *name; /* NULL: any name of that kind */
	const char *who;
	unsigned flags;
	int skip; /* the uplink, released on its own */
	int found;
};

static int rm_link(struct lbr *p, struct rtnl_link *l, struct nl_cache *cache, void *arg)
{
	struct rm_arg *r = arg;
	char kind[LBR_KIND_MAX], name[LBR_NAME_MAX];
	int err = 0;

	(void)cache;
	if (lbr_link_owner_any(p, l, kind, name) < 0 || strcmp(kind, r->kind) ||
	    (r->name && strcmp(name, r->name)))
		return 0;
	r->found++;
	/* The uplink leaves the provider bridge; it is not ours to delete. */
	if (!strcmp(r->kind, "provider"))
		err = lbr_bridge_release_ports(p, r->who, rtnl_link_get_ifindex(l), r->skip,
					       r->flags);
	if (!err)
		err = lbr_link_remove(p, r->who, l, r->flags);
	return err;
}

static int remove_router_ns(struct lbr *p, const struct vxc_owned *obj, const char *who,
			    unsigned flags)
{
	char ns[VXC_NETNS_NAMSIZ];
	int fd, err;

	if (obj->netns && obj->netns[0])
		snprintf(ns, sizeof(ns), "%s", obj->netns);
	else
		snprintf(ns, sizeof(ns), ROUTER_NS_PREFIX "%s", obj->name);
	if (strncmp(ns, ROUTER_NS_PREFIX, strlen(ROUTER_NS_PREFIX)))
		return lbr_error(p, -EINVAL, "%s: namespace %s is not a router namespace", who, ns);
	fd = p->svc->netns_open(p->ctx, ns);
	if (fd < 0 && fd != -ENOENT)
		return lbr_error(p, fd, "%s: cannot open namespace %s: %s", who, ns, strerror(-fd));
	if (fd >= 0) {
		close(fd);
		lbr_change(p, "%s: delete namespace %s", who, ns);
	}
	/* Also without a namespace: an empty file a killed run left goes
	 * (netns_delete reports it). */
	if (lbr_dry(flags))
		return 0;
	err = p->svc->netns_delete(p->ctx, ns);
	if (err < 0)
		return lbr_error(p, err, "%s: cannot delete namespace %s: %s", who, ns,
				 strerror(-err));
	return 0;
}

/* The provider: first what vxcloud put into the bridge, then its links; a
 * bridge it adopted stays as the operator made it. */
static int remove_provider(struct lbr *p, struct rm_arg *r)
{
	char br[VXC_IFNAMSIZ];
	int err = lbr_uplink_release(p, r->flags, &r->skip);

	if (!err)
		err = lbr_links_foreach(p, p->sk, rm_link, r);
	if (!err && !lbr_dry(r->flags))
		err = lbr_doomed_flush(p); /* the last removal of a destroy */
	if (!err)
		err = lbr_adopted_read(p, br);
	if (err <= 0)
		return err;
	lbr_change(p, "provider: keep bridge %s (not created by vxcloud)", br);
	return lbr_dry(r->flags) ? 0 : lbr_adopted_forget(p);
}

int lbr_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct lbr *p = priv;
	struct rm_arg r = { .flags = flags };
	char who[LBR_WHO_MAX];
	int err;

	if (flags & ~VXC_F_KNOWN)
		return lbr_error(p, -EINVAL, "remove: unknown flags %#x", flags);
	if (!obj || !obj->name)
		return lbr_error(p, -EINVAL, "remove: no object");
	switch (obj->kind) {
	case VXC_KIND_PROVIDER:
		r.kind = "provider";
		snprintf(who, sizeof(who), "provider");
		break;
	case VXC_KIND_NETWORK:
		r.kind = "network";
		r.name = obj->name;
		snprintf(who, sizeof(who), "network %s", obj->name);
		break;
	case VXC_KIND_ROUTER:
		r.kind = "router";
		r.name = obj->name;
		snprintf(who, sizeof(who), "router %s", obj->name);
		break;
	default:
		return lbr_error(p, -EOPNOTSUPP, "remove: %s: objects of kind %d are not the "
				 "network driver's", obj->name, (int)obj->kind);
	}
	r.who = who;
	if (obj->kind == VXC_KIND_PROVIDER)
		return remove_provider(p, &r);
	/* dnsmasq and keepalived first: they would keep the namespace alive */
	err = obj->kind == VXC_KIND_ROUTER ? lbr_dhcp_remove(p, obj->name, flags) : 0;
	if (!err && obj->kind == VXC_KIND_ROUTER)
		err = lbr_rha_remove(p, obj->name, flags);
	if (!err)
		err = lbr_links_foreach(p, p->sk, rm_link, &r);
	if (!err && obj->kind == VXC_KIND_ROUTER)
		err = remove_router_ns(p, obj, who, flags);
	return err;
}
