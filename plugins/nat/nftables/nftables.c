/* nat/nftables: a router's SNAT and floating IPs as one nftables table of
 * vxcloud's own in the router's namespace, changed by one batch per apply
 * (see nft.h for the layout). Talks to the kernel through libnftnl and
 * libmnl only. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "nft.h"

struct nft_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	char *table;
	int retries;
	struct nft_cache *cache;
};

/* One attempt of router_ensure inside the router's namespace. */
struct attempt {
	struct nft_drv *d;
	const struct nat_want *w;
	unsigned flags;
	struct nft_sock *s;
	struct nft_cache *c; /* NULL when out of memory */
	uint32_t genid;
	uint64_t cookie;
	int append_only; /* the change is floating IPs appended to c's list */
	struct nft_cur fresh;
	const struct nft_cur *cur;
	struct nft_want_rules rules[NFT_NCHAINS];
	int chain_differs[NFT_NCHAINS];
	struct nat_diff dnat, snat;
	uint32_t old_external;
};

static const struct vxc_option options[] = {
	{ "table", VXC_OPT_STRING, "vxcloud", 0, 0,
	  "name of the ip-family table vxcloud owns in each router namespace" },
	{ "retries", VXC_OPT_INT, "3", 0, 20,
	  "times a transaction is re-read and retried when the ruleset changed meanwhile" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* ---- cache (nftcache.c): what we last committed ---------------------- */

/* The kernel now holds *cur (taken over) and the list of w. */
static void cache_set(struct attempt *a, uint32_t genid, struct nft_cur *cur)
{
	struct nft_cache *c = a->c;

	if (!c || !a->cookie || nat_index_commit(&c->index, (struct nat_want *)a->w) < 0) {
		nft_cache_invalidate(c);
		nft_cur_free(cur);
		return;
	}
	if (cur != &c->cur) {
		nft_cur_free(&c->cur);
		c->cur = *cur;
		memset(cur, 0, sizeof(*cur));
	}
	c->dirty |= !c->valid || c->cookie != a->cookie || c->genid != genid ||
		    !a->w->extends_prev || a->w->same_prefix != a->w->n_fips;
	c->cookie = a->cookie;
	c->genid = genid;
	c->valid = 1;
}

static void *dup_pairs(const struct nat_pair *p, size_t n)
{
	void *q = malloc((n ? n : 1) * sizeof(*p));

	if (q)
		memcpy(q, p, n * sizeof(*p));
	return q;
}

/* The state our commit left: the desired one. */
static int cur_from_want(struct attempt *a, struct nft_cur *c)
{
	memset(c, 0, sizeof(*c));
	c->table = c->sane = 1;
	c->external = a->w->external;
	for (int i = 0; i < NFT_NCHAINS; i++) {
		c->chain[i].rules = calloc(a->rules[i].n + 1, sizeof(*c->chain[i].rules));
		if (!c->chain[i].rules)
			goto fail;
		for (size_t j = 0; j < a->rules[i].n; j++) {
			struct nft_rule_cur *r = &c->chain[i].rules[j];

			r->text = strdup(a->rules[i].r[j].text);
			r->comment = strdup(a->rules[i].r[j].comment);
			c->chain[i].n++;
			if (!r->text || !r->comment)
				goto fail;
		}
	}
	c->dnat = dup_pairs(a->w->dnat, a->w->n_fips);
	c->snat = dup_pairs(a->w->snat_map, a->w->n_fips);
	c->n_dnat = c->n_snat = a->w->n_fips;
	if (!c->dnat || !c->snat)
		goto fail;
	return 0;
fail:
	nft_cur_free(c);
	return -ENOMEM;
}

/* ---- reading -------------------------------------------------------- */

/* The current state, consistent with a.genid: from the cache when nothing
 * committed since, else read and checked not to have moved meanwhile. */
static int load(struct attempt *a)
{
	struct nft_cache *c = a->c;
	uint32_t after;
	int err;

	a->cookie = nft_netns_cookie(a->s);
	for (int tries = 0; tries < 5; tries++) {
		err = nft_genid(a->s, &a->genid);
		if (err)
			return err;
		if (c && c->valid && c->cookie == a->cookie && c->genid == a->genid) {
			a->cur = &c->cur;
			return 0;
		}
		nft_cur_free(&a->fresh);
		err = nft_read(a->s, a->d->table, &a->fresh);
		if (err)
			return err;
		err = nft_genid(a->s, &after);
		if (err)
			return err;
		if (after == a->genid) {
			a->cur = &a->fresh;
			return 0;
		}
	}
	return -ERESTART;
}

/* ---- planning ------------------------------------------------------- */

static int same_rules(const struct nft_chain_cur *c, const struct nft_want_rules *w)
{
	if (c->n != w->n)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->rules[i].text, w->r[i].text) ||
		    strcmp(c->rules[i].comment, w->r[i].comment))
			return 0;
	return 1;
}

/* The texts of the per-network SNAT rules, current and desired. */
static int rule_texts(struct attempt *a, const char ***cur, size_t *n_cur, const char ***want,
		      size_t *n_want)
{
	const struct nft_chain_cur *cc = &a->cur->chain[NFT_NCHAINS - 1];
	const struct nft_want_rules *wc = &a->rules[NFT_NCHAINS - 1];

	*cur = calloc(cc->n + 1, sizeof(**cur));
	*want = calloc(wc->n + 1, sizeof(**want));
	if (!*cur || !*want)
		return -ENOMEM;
	*n_cur = *n_want = 0;
	for (size_t i = 0; i < cc->n; i++)
		(*cur)[(*n_cur)++] = cc->rules[i].comment;
	for (size_t i = 0; i < wc->n; i++)
		(*want)[(*n_want)++] = wc->r[i].comment;
	return 0;
}

/* Computes and reports the changes; returns how many there are. */
static int plan(struct attempt *a)
{
	const struct vxc_services *svc = a->d->svc;
	vxc_ctx *ctx = a->d->ctx;
	const char *name = a->w->router, **cur_t = NULL, **want_t = NULL;
	size_t n_cur_t, n_want_t, n_rules;
	int err, n = 0;

	err = nft_rules_build(a->d->table, a->w, a->rules);
	/* The maps hold the list last checked and the new one only appends
	 * to it: the new entries are the difference, no need to hash all. */
	a->append_only = a->c && a->cur == &a->c->cur && a->cur->sane && a->w->extends_prev &&
			 a->w->same_prefix == a->c->index.n && a->c->index.n == a->cur->n_dnat &&
			 a->cur->n_snat == a->cur->n_dnat;
	if (!err && a->append_only) {
		err = nat_diff_append(a->w->dnat, a->w->same_prefix, a->w->n_fips, &a->dnat);
		if (!err)
			err = nat_diff_append(a->w->snat_map, a->w->same_prefix, a->w->n_fips,
					      &a->snat);
	} else if (!err) {
		err = nat_diff_pairs(a->cur->dnat, a->cur->n_dnat, a->w->dnat, a->w->n_fips,
				     &a->dnat);
		if (!err)
			err = nat_diff_pairs(a->cur->sane ? a->cur->snat : NULL,
					     a->cur->sane ? a->cur->n_snat : 0, a->w->snat_map,
					     a->w->n_fips, &a->snat);
	}
	if (!err)
		err = rule_texts(a, &cur_t, &n_cur_t, &want_t, &n_want_t);
	if (err)
		goto out;
	if (!a->cur->table) {
		svc->change(ctx, "router %s: create NAT table ip %s", name, a->d->table);
		n++;
	} else if (!a->cur->sane) {
		svc->change(ctx, "router %s: rebuild NAT table ip %s (its chains or maps were "
			    "changed outside vxcloud)", name, a->d->table);
		n++;
	}
	n_rules = nat_report_rules(svc, ctx, name, cur_t, n_cur_t, want_t, n_want_t,
				   a->w->external, &a->old_external);
	n += (int)n_rules;
	for (int i = 0; i < NFT_NCHAINS; i++) {
		a->chain_differs[i] = !a->cur->sane || !same_rules(&a->cur->chain[i], &a->rules[i]);
		if (a->cur->sane && a->chain_differs[i] && (!n_rules || i < NFT_NCHAINS - 1)) {
			svc->change(ctx, "router %s: repair NAT chain %s", name,
				    nft_chains[i].name);
			n++;
		}
	}
	nat_report_fips(svc, ctx, name, &a->dnat);
	n += (int)nat_diff_size(&a->dnat);
	if (a->cur->sane && nat_diff_size(&a->snat) != nat_diff_size(&a->dnat)) {
		svc->change(ctx, "router %s: repair floating IP SNAT map (%zu entries)", name,
			    nat_diff_size(&a->snat));
		n++;
	}
	n += (int)nat_diff_size(&a->snat);
	err = n;
out:
	free(cur_t);
	free(want_t);
	return err;
}

/* ---- committing ----------------------------------------------------- */

static int fill_batch(struct attempt *a, struct nft_batch *b)
{
	const char *t = a->d->table;
	int err = 0;

	if (!a->cur->sane) {
		/* Absent or not as we make it: (re)create all of it. */
		if (a->cur->table)
			err = nft_put_del_table(b, t);
		if (!err)
			err = nft_put_skeleton(b, t);
		for (int i = 0; !err && i < NFT_NCHAINS; i++)
			for (size_t j = 0; !err && j < a->rules[i].n; j++)
				err = nft_put_rule(b, a->rules[i].r[j].rule);
		if (!err)
			err = nft_put_elems(b, t, NFT_MAP_DNAT, 1, a->w->dnat, a->w->n_fips);
		if (!err)
			err = nft_put_elems(b, t, NFT_MAP_SNAT, 1, a->w->snat_map, a->w->n_fips);
		return err;
	}
	for (int i = 0; !err && i < NFT_NCHAINS; i++) {
		if (!a->chain_differs[i])
			continue;
		err = nft_put_flush_chain(b, t, nft_chains[i].name);
		for (size_t j = 0; !err && j < a->rules[i].n; j++)
			err = nft_put_rule(b, a->rules[i].r[j].rule);
	}
	/* Deletions first: a moved key is deleted, then added again. */
	if (!err)
		err = nft_put_elems(b, t, NFT_MAP_DNAT, 0, a->dnat.del, a->dnat.n_del);
	if (!err)
		err = nft_put_elems(b, t, NFT_MAP_SNAT, 0, a->snat.del, a->snat.n_del);
	if (!err)
		err = nft_put_elems(b, t, NFT_MAP_DNAT, 1, a->dnat.add, a->dnat.n_add);
	if (!err)
		err = nft_put_elems(b, t, NFT_MAP_SNAT, 1, a->snat.add, a->snat.n_add);
	return err;
}

static void flush_conntrack(struct attempt *a)
{
	uint32_t *addrs;
	size_t n;
	int err;

	if (nat_flush_addrs(&a->dnat, a->old_external, &addrs, &n) < 0)
		return;
	err = nat_ct_flush(addrs, n);
	if (err < 0)
		a->d->svc->log(a->d->ctx, VXC_LOG_WARN,
			       "router %s: could not flush conntrack entries of old mappings: %s",
			       a->w->router, strerror(-err));
	free(addrs);
}

/* The cached state plus the appended floating IPs. */
static int append_cached(struct attempt *a)
{
	struct nft_cur *c = &a->c->cur;
	size_t n = a->w->n_fips;
	void *d = realloc(c->dnat, (n ? n : 1) * sizeof(*c->dnat));

	if (d)
		c->dnat = d;
	d = d ? realloc(c->snat, (n ? n : 1) * sizeof(*c->snat)) : NULL;
	if (!d)
		return -ENOMEM;
	c->snat = d;
	memcpy(c->dnat + c->n_dnat, a->dnat.add, a->dnat.n_add * sizeof(*c->dnat));
	memcpy(c->snat + c->n_snat, a->snat.add, a->snat.n_add * sizeof(*c->snat));
	c->n_dnat += a->dnat.n_add;
	c->n_snat += a->snat.n_add;
	return 0;
}

static int commit(struct attempt *a)
{
	struct nft_batch b;
	struct nft_cur now;
	const char *what = "build";
	int err;

	err = nft_batch_init(&b, a->s, a->genid);
	if (!err)
		err = fill_batch(a, &b);
	if (!err)
		err = nft_batch_commit(&b, a->s, &what);
	nft_batch_free(&b);
	if (err == -ERESTART)
		return err;
	if (err)
		return a->d->svc->error(a->d->ctx, err,
					"router %s: the kernel refused the NAT transaction (%s: "
					"%s); nothing was changed", a->w->router, what,
					strerror(-err));
	flush_conntrack(a);
	/* A commit moves the generation on by one. */
	if (a->append_only && append_cached(a) == 0)
		cache_set(a, a->genid + 1, &a->c->cur);
	else if (cur_from_want(a, &now) == 0)
		cache_set(a, a->genid + 1, &now);
	else
		nft_cache_invalidate(a->c);
	return 0;
}

static void attempt_free(struct attempt *a)
{
	nft_rules_free(a->rules);
	nat_diff_free(&a->dnat);
	nat_diff_free(&a->snat);
	nft_cur_free(&a->fresh);
}

static int ensure_once(struct nft_drv *d, const struct nat_want *w, unsigned flags,
		       struct nft_sock *s, struct nft_cache *c)
{
	struct attempt a = { .d = d, .w = w, .flags = flags, .s = s, .c = c };
	int n, err;

	err = load(&a);
	if (err)
		goto out;
	n = plan(&a);
	if (n < 0) {
		err = n;
		goto out;
	}
	if (!n) {
		/* Nothing to do; remember what we saw for the next apply. */
		if (!(flags & VXC_F_DRY_RUN))
			cache_set(&a, a.genid, a.cur == &a.fresh ? &a.fresh : &c->cur);
		goto out;
	}
	if (!(flags & VXC_F_DRY_RUN))
		err = commit(&a);
out:
	attempt_free(&a);
	return err;
}

/* The router's namespace does not exist yet (a plan before its first
 * apply): everything would be created. */
static int plan_absent(struct nft_drv *d, const struct nat_want *w)
{
	struct attempt a = { .d = d, .w = w, .flags = VXC_F_DRY_RUN };
	int n;

	a.cur = &a.fresh;
	n = plan(&a);
	attempt_free(&a);
	return n < 0 ? n : 0;
}

/* ---- operations ----------------------------------------------------- */

static int marked_here(struct nft_drv *d, char ***names, size_t *n);
static int remove_renamed(struct nft_drv *d, const char *router, unsigned flags);

/* The state file is a cache: damaged, it is dropped (said once) and the
 * kernel is read instead. */
static void load_cache(struct nft_drv *d, struct nft_cache *c)
{
	const char *dir = d->svc->state_dir(d->ctx);

	if (nft_cache_load(c, dir, d->table) != -EBADMSG)
		return;
	d->svc->log(d->ctx, VXC_LOG_WARN, "router %s: state file %s/router-%s.state is damaged; "
		    "reading the kernel instead", c->router, dir ? dir : "?", c->router);
	nft_cache_forget(dir, c->router);
}

static int nft_router_ensure(void *priv, const struct vxc_router *r, unsigned flags)
{
	struct nft_drv *d = priv;
	struct nft_cache *c;
	struct nat_want w;
	struct nft_sock s;
	int saved, err;

	if (flags & ~VXC_F_KNOWN)
		return -EINVAL;
	if (!r || !r->name)
		return d->svc->error(d->ctx, -EINVAL, "router without a name");
	c = nft_cache_get(&d->cache, r->name);
	if (c && !c->valid && !c->index.dnat)
		load_cache(d, c);
	err = nat_want_build(d->svc, d->ctx, r, &w, c && c->index.by_fip.keys ? &c->index : NULL);
	if (err)
		return err;
	err = nat_ns_enter(d->svc, d->ctx, w.netns, &saved);
	if (err == -ENOENT && (flags & VXC_F_DRY_RUN)) {
		err = plan_absent(d, &w);
		goto out;
	}
	if (err) {
		err = d->svc->error(d->ctx, err, "router %s: cannot enter namespace %s: %s",
				    w.router, w.netns, strerror(-err));
		goto out;
	}
	err = nft_sock_open(&s);
	for (int i = 0; !err; i++) {
		err = ensure_once(d, &w, flags, &s, c);
		if (err != -ERESTART)
			break;
		if (i >= d->retries) {
			err = d->svc->error(d->ctx, err,
					    "router %s: the ruleset changed while vxcloud was "
					    "changing it (%d attempts); nothing was changed",
					    w.router, i + 1);
			break;
		}
		d->svc->log(d->ctx, VXC_LOG_WARN,
			    "router %s: the ruleset changed meanwhile; reading it again", w.router);
		err = 0;
	}
	nft_sock_close(&s);
	if (!err)
		err = remove_renamed(d, w.router, flags);
	nat_ns_leave(d->svc, d->ctx, saved);
	if (err) {
		/* Whatever the file said, the next run reads the kernel. */
		nft_cache_invalidate(c);
		nft_cache_forget(d->svc->state_dir(d->ctx), r->name);
	}
out:
	nat_want_free(&w);
	return err;
}

static int nft_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct nft_drv *d = priv;
	char **names;
	size_t n;
	int err = nat_ns_collect(d->svc, d->ctx, &names, &n);

	if (err)
		return d->svc->error(d->ctx, err, "cannot list router namespaces: %s",
				     strerror(-err));
	for (size_t i = 0; i < n; i++) {
		struct nft_sock s;
		int saved, exists = 0;

		/* A namespace that vanished meanwhile holds nothing of ours. */
		if (nat_ns_enter(d->svc, d->ctx, names[i], &saved) < 0)
			continue;
		err = nft_sock_open(&s);
		if (!err) {
			err = nft_read_table(&s, d->table, &exists);
			nft_sock_close(&s);
		}
		if (!err && !exists) {
			char **old;
			size_t n_old;

			err = marked_here(d, &old, &n_old);
			exists = n_old > 0;
			if (old)
				nat_strv_free(old, n_old);
		}
		nat_ns_leave(d->svc, d->ctx, saved);
		if (err) {
			err = d->svc->error(d->ctx, err, "namespace %s: cannot read table ip %s: %s",
					    names[i], d->table, strerror(-err));
			break;
		}
		if (exists) {
			struct vxc_owned o = { VXC_KIND_NAT, names[i] + strlen(NAT_ROUTER_NS_PREFIX),
					       names[i] };
			cb(arg, &o);
		}
	}
	nat_strv_free(names, n);
	return err;
}

static int remove_here(struct nft_drv *d, const char *router, const char *table,
		       const char *why, unsigned flags)
{
	struct nat_pair *fips = NULL;
	struct nft_sock s;
	struct nft_batch b;
	uint32_t genid;
	size_t n = 0;
	const char *what = "build";
	int err, exists;

	err = nft_sock_open(&s);
	if (err)
		return err;
	err = nft_genid(&s, &genid);
	if (!err)
		err = nft_read_table(&s, table, &exists);
	if (err || !exists)
		goto out;
	if (nft_read_map(&s, table, NFT_MAP_DNAT, &fips, &n) < 0)
		n = 0;
	d->svc->change(d->ctx, "router %s: remove NAT table ip %s (%zu floating IPs%s)", router,
		       table, n, why);
	if (flags & VXC_F_DRY_RUN)
		goto out;
	err = nft_batch_init(&b, &s, genid);
	if (!err)
		err = nft_put_del_table(&b, table);
	if (!err)
		err = nft_batch_commit(&b, &s, &what);
	nft_batch_free(&b);
	if (!err) {
		uint32_t *addrs = malloc((n + 1) * sizeof(*addrs));

		for (size_t i = 0; addrs && i < n; i++)
			addrs[i] = fips[i].key;
		if (addrs)
			nat_ct_flush(addrs, n);
		free(addrs);
	}
out:
	free(fips);
	nft_sock_close(&s);
	return err;
}

static int remove_table(struct nft_drv *d, const char *router, const char *table,
			const char *why, unsigned flags)
{
	int err;

	for (int i = 0;; i++) {
		err = remove_here(d, router, table, why, flags);
		if (err != -ERESTART || i >= d->retries)
			return err;
	}
}

/* Tables carrying our mark under another name: a former table setting. */
static int marked_here(struct nft_drv *d, char ***names, size_t *n)
{
	struct nft_sock s;
	int err = nft_sock_open(&s);

	*names = NULL;
	*n = 0;
	if (!err)
		err = nft_marked_tables(&s, d->table, names, n);
	nft_sock_close(&s);
	return err;
}

static int remove_renamed(struct nft_drv *d, const char *router, unsigned flags)
{
	char **names;
	size_t n;
	int err = marked_here(d, &names, &n);

	for (size_t i = 0; !err && i < n; i++)
		err = remove_table(d, router, names[i], "; vxcloud's, under a former table setting",
				   flags);
	if (names)
		nat_strv_free(names, n);
	return err;
}

static int nft_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct nft_drv *d = priv;
	char ns[VXC_NETNS_NAMSIZ];
	int saved, err;

	if (flags & ~VXC_F_KNOWN || !obj || obj->kind != VXC_KIND_NAT || !obj->name)
		return -EINVAL;
	if (obj->netns)
		snprintf(ns, sizeof(ns), "%s", obj->netns);
	else
		snprintf(ns, sizeof(ns), NAT_ROUTER_NS_PREFIX "%s", obj->name);
	nft_cache_drop(&d->cache, obj->name);
	nft_cache_forget(d->svc->state_dir(d->ctx), obj->name);
	err = nat_ns_enter(d->svc, d->ctx, ns, &saved);
	if (err == -ENOENT)
		return 0; /* the namespace, and our table with it, is gone */
	if (err)
		return d->svc->error(d->ctx, err, "router %s: cannot enter namespace %s: %s",
				     obj->name, ns, strerror(-err));
	err = remove_table(d, obj->name, d->table, "", flags);
	if (!err)
		err = remove_renamed(d, obj->name, flags);
	nat_ns_leave(d->svc, d->ctx, saved);
	if (err)
		return d->svc->error(d->ctx, err, "router %s: cannot remove table ip %s: %s",
				     obj->name, d->table, strerror(-err));
	return 0;
}

static int nft_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct nft_drv *d;
	const char *table = NULL;
	long long retries = 3;

	if (!svc || svc->size < sizeof(struct vxc_services))
		return -EINVAL;
	if (svc->opt_string(ctx, "table", &table) < 0 || !table)
		table = "vxcloud";
	if (svc->opt_int(ctx, "retries", &retries) < 0)
		retries = 3;
	if (!table[0] || strlen(table) >= 256 || strchr(table, ' '))
		return svc->error(ctx, -EINVAL, "setting table: \"%s\" is not a table name", table);
	d = calloc(1, sizeof(*d));
	if (!d || !(d->table = strdup(table))) {
		free(d);
		return -ENOMEM;
	}
	d->ctx = ctx;
	d->svc = svc;
	d->retries = (int)retries;
	*priv = d;
	return 0;
}

static void nft_close(void *priv)
{
	struct nft_drv *d = priv;

	if (!d)
		return;
	/* The next process (the next `vxcloud apply`) starts from here. */
	for (struct nft_cache *c = d->cache; c; c = c->next)
		if (c->valid && c->dirty)
			nft_cache_save(c, d->svc->state_dir(d->ctx), d->table);
	while (d->cache)
		nft_cache_drop(&d->cache, d->cache->router);
	free(d->table);
	free(d);
}

static const struct vxc_nat_ops ops = {
	.size = sizeof(struct vxc_nat_ops),
	.router_ensure = nft_router_ensure,
	.list = nft_list,
	.remove = nft_remove,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NAT,
	.name = "nftables",
	.description = "SNAT and floating IPs as an nftables table per router (libnftnl)",
	.caps = VXC_CAP_ATOMIC | VXC_CAP_CT_FLUSH,
	.options = options,
	.open = nft_open,
	.close = nft_close,
	.ops = &ops,
};
