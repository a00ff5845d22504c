/* nat/iptables: a router's SNAT and floating IPs as three chains of
 * vxcloud's own in the legacy iptables nat table of the router's namespace
 * (see ipt.h), changed through libiptc with one commit per apply: the
 * kernel swaps the whole table at once, so a refused commit changes
 * nothing. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ipt.h"

#define XT_LOCK_DEFAULT "/run/xtables.lock"
#define XT_LOCK_WAIT_MS 10000

struct ipt_drv {
	vxc_ctx *ctx;
	const struct vxc_services *svc;
	int retries;
};

static const struct vxc_option options[] = {
	{ "retries", VXC_OPT_INT, "3", 0, 20,
	  "times a transaction is re-read and retried when the table changed meanwhile" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

/* What our chains hold now. */
struct ipt_cur {
	int chains;    /* how many of our chains exist */
	int jumps[IPT_NCHAINS]; /* our jump rules found in each built-in */
	int differs[IPT_NCHAINS];
	struct nat_pair *dnat; /* from vxc-pre */
	size_t n_dnat;
	char (*desc)[NAT_DESC_LEN]; /* per-network rules of vxc-post */
	size_t n_desc;
};

static void cur_free(struct ipt_cur *c)
{
	free(c->dnat);
	free(c->desc);
	memset(c, 0, sizeof(*c));
}

/* ---- the xtables lock, shared with the iptables commands ------------ */

static int xt_lock(void)
{
	const char *path = getenv("XTABLES_LOCKFILE");
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd;

	fd = open(path && *path ? path : XT_LOCK_DEFAULT, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (errno != EWOULDBLOCK || waited >= XT_LOCK_WAIT_MS) {
			int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

			close(fd);
			return err;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

static void xt_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- reading -------------------------------------------------------- */

static int push_pair(struct nat_pair **v, size_t *n, struct nat_pair p)
{
	if (!(*n & (*n - 1)) || !*n) {
		void *q = realloc(*v, (*n ? *n * 2 : 16) * sizeof(**v));

		if (!q)
			return -ENOMEM;
		*v = q;
	}
	(*v)[(*n)++] = p;
	return 0;
}

static int read_chain(struct xtc_handle *h, int ch, const struct ipt_rules *want,
		      struct ipt_cur *c)
{
	const char *name = ipt_chains[ch].name;
	const struct ipt_entry *e;
	size_t i = 0;

	for (e = iptc_first_rule(name, h); e; e = iptc_next_rule(e, h), i++) {
		struct nat_pair p;
		char desc[NAT_DESC_LEN];
		enum ipt_kind k = ipt_entry_decode(e, h, &p, desc, sizeof(desc));

		if (i >= want->n || !ipt_entry_same(e, h, &want->r[i]))
			c->differs[ch] = 1;
		if (ch == 0 && k == IPT_FIP && push_pair(&c->dnat, &c->n_dnat, p) < 0)
			return -ENOMEM;
		if (ch == IPT_NCHAINS - 1 && k == IPT_NET) {
			void *q = realloc(c->desc, (c->n_desc + 1) * sizeof(*c->desc));

			if (!q)
				return -ENOMEM;
			c->desc = q;
			snprintf(c->desc[c->n_desc++], NAT_DESC_LEN, "%s", desc);
		}
	}
	if (i != want->n)
		c->differs[ch] = 1;
	return 0;
}

static int read_cur(struct xtc_handle *h, const struct ipt_rules want[IPT_NCHAINS],
		    struct ipt_cur *c)
{
	memset(c, 0, sizeof(*c));
	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		const struct ipt_entry *e;
		int err;

		for (e = iptc_first_rule(ipt_chains[ch].builtin, h); e; e = iptc_next_rule(e, h))
			if (ipt_entry_is_jump(e, h, ipt_chains[ch].name))
				c->jumps[ch]++;
		if (!iptc_is_chain(ipt_chains[ch].name, h)) {
			c->differs[ch] = 1;
			continue;
		}
		c->chains++;
		err = read_chain(h, ch, want ? &want[ch] : &(struct ipt_rules){ 0 }, c);
		if (err)
			return err;
	}
	return 0;
}

/* ---- planning ------------------------------------------------------- */

struct attempt {
	struct ipt_drv *d;
	const struct nat_want *w;
	struct xtc_handle *h;
	struct ipt_rules rules[IPT_NCHAINS];
	struct ipt_cur cur;
	struct nat_diff dnat;
	uint32_t old_external;
};

static int plan(struct attempt *a)
{
	const struct vxc_services *svc = a->d->svc;
	vxc_ctx *ctx = a->d->ctx;
	const char *name = a->w->router;
	const char **cur_t, **want_t;
	const struct ipt_rules *post = &a->rules[IPT_NCHAINS - 1];
	size_t n_want_t = 0, n_rules;
	int err, n = 0;

	err = nat_diff_pairs(a->cur.dnat, a->cur.n_dnat, a->w->dnat, a->w->n_fips, &a->dnat);
	if (err)
		return err;
	cur_t = calloc(a->cur.n_desc + 1, sizeof(*cur_t));
	want_t = calloc(post->n + 1, sizeof(*want_t));
	if (!cur_t || !want_t) {
		free(cur_t);
		free(want_t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->cur.n_desc; i++)
		cur_t[i] = a->cur.desc[i];
	for (size_t i = 0; i < post->n; i++)
		want_t[n_want_t++] = post->r[i].desc;
	if (a->cur.chains < IPT_NCHAINS) {
		svc->change(ctx, "router %s: create NAT chains %s, %s, %s", name,
			    ipt_chains[0].name, ipt_chains[1].name, ipt_chains[2].name);
		n++;
	}
	n_rules = nat_report_rules(svc, ctx, name, cur_t, a->cur.n_desc, want_t, n_want_t,
				   a->w->external, &a->old_external);
	n += (int)n_rules;
	nat_report_fips(svc, ctx, name, &a->dnat);
	n += (int)nat_diff_size(&a->dnat);
	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		int exists = iptc_is_chain(ipt_chains[ch].name, a->h);

		if (a->cur.jumps[ch] != 1 && a->cur.chains == IPT_NCHAINS) {
			svc->change(ctx, "router %s: %s the jump from %s to %s", name,
				    a->cur.jumps[ch] ? "deduplicate" : "restore",
				    ipt_chains[ch].builtin, ipt_chains[ch].name);
			n++;
		}
		/* Differences the reports above do not explain. */
		if (exists && a->cur.differs[ch] && !n && !nat_diff_size(&a->dnat)) {
			svc->change(ctx, "router %s: repair NAT chain %s", name,
				    ipt_chains[ch].name);
			n++;
		} else if (a->cur.differs[ch] || a->cur.jumps[ch] != 1) {
			n += !n; /* counted as part of the changes reported */
		}
	}
	free(cur_t);
	free(want_t);
	return n;
}

/* ---- committing ----------------------------------------------------- */

static int fix_jumps(struct xtc_handle *h, int ch, int have)
{
	const char *builtin = ipt_chains[ch].builtin, *chain = ipt_chains[ch].name;
	const struct ipt_entry *e;
	unsigned num = 0;
	int seen = 0;

	if (have == 0) {
		struct ipt_entry *j = ipt_jump_entry(chain);
		int ok;

		if (!j)
			return -ENOMEM;
		/* First, so foreign NAT rules after it do not shadow ours. */
		ok = iptc_insert_entry(builtin, j, 0, h);
		free(j);
		return ok ? 0 : -errno;
	}
	/* More than one: keep the first. */
	for (e = iptc_first_rule(builtin, h); e;) {
		if (ipt_entry_is_jump(e, h, chain) && seen++) {
			if (!iptc_delete_num_entry(builtin, num, h))
				return -errno;
			e = iptc_first_rule(builtin, h);
			num = 0;
			seen = 0;
			continue;
		}
		e = iptc_next_rule(e, h);
		num++;
	}
	return 0;
}

static int apply(struct attempt *a)
{
	struct xtc_handle *h = a->h;

	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		const char *name = ipt_chains[ch].name;

		if (!iptc_is_chain(name, h) && !iptc_create_chain(name, h))
			return -errno;
		if (a->cur.differs[ch]) {
			if (!iptc_flush_entries(name, h))
				return -errno;
			for (size_t i = 0; i < a->rules[ch].n; i++)
				if (!iptc_append_entry(name, a->rules[ch].r[i].e, h))
					return -errno;
		}
	}
	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		if (a->cur.jumps[ch] != 1) {
			int err = fix_jumps(h, ch, a->cur.jumps[ch]);

			if (err)
				return err;
		}
	}
	if (!iptc_commit(h))
		return -errno;
	return 0;
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

static int ensure_once(struct ipt_drv *d, const struct nat_want *w, unsigned flags)
{
	struct attempt a = { .d = d, .w = w };
	int lock = -1, n, err;

	if (!(flags & VXC_F_DRY_RUN)) {
		lock = xt_lock();
		if (lock < 0)
			return d->svc->error(d->ctx, lock, "router %s: cannot take the xtables "
					     "lock: %s", w->router, strerror(-lock));
	}
	a.h = iptc_init("nat");
	if (!a.h) {
		err = d->svc->error(d->ctx, -errno, "router %s: cannot read table nat: %s",
				    w->router, iptc_strerror(errno));
		goto out;
	}
	err = ipt_rules_build(w, a.rules);
	if (!err)
		err = read_cur(a.h, a.rules, &a.cur);
	if (err)
		goto out;
	n = plan(&a);
	if (n <= 0 || (flags & VXC_F_DRY_RUN)) {
		err = n < 0 ? n : 0;
		goto out;
	}
	err = apply(&a);
	if (err == -EAGAIN)
		goto out; /* the table changed since iptc_init: retried */
	if (err) {
		err = d->svc->error(d->ctx, err, "router %s: the kernel refused the nat table "
				    "(%s); nothing was changed", w->router, iptc_strerror(-err));
		goto out;
	}
	flush_conntrack(&a);
out:
	if (a.h)
		iptc_free(a.h);
	xt_unlock(lock);
	ipt_rules_free(a.rules);
	cur_free(&a.cur);
	nat_diff_free(&a.dnat);
	return err;
}

/* The router's namespace does not exist yet: everything would be made. */
static int plan_absent(struct ipt_drv *d, const struct nat_want *w)
{
	struct attempt a = { .d = d, .w = w };
	int n = ipt_rules_build(w, a.rules);

	if (!n) {
		for (int ch = 0; ch < IPT_NCHAINS; ch++)
			a.cur.differs[ch] = 1;
		a.h = NULL;
		n = nat_diff_pairs(NULL, 0, w->dnat, w->n_fips, &a.dnat);
	}
	if (!n) {
		const char **want_t = calloc(a.rules[2].n + 1, sizeof(*want_t));
		uint32_t old;

		d->svc->change(d->ctx, "router %s: create NAT chains %s, %s, %s", w->router,
			       ipt_chains[0].name, ipt_chains[1].name, ipt_chains[2].name);
		for (size_t i = 0; want_t && i < a.rules[2].n; i++)
			want_t[i] = a.rules[2].r[i].desc;
		if (want_t)
			nat_report_rules(d->svc, d->ctx, w->router, NULL, 0, want_t,
					 a.rules[2].n, w->external, &old);
		nat_report_fips(d->svc, d->ctx, w->router, &a.dnat);
		free(want_t);
	}
	ipt_rules_free(a.rules);
	nat_diff_free(&a.dnat);
	return n;
}

/* ---- operations ----------------------------------------------------- */

static int ipt_router_ensure(void *priv, const struct vxc_router *r, unsigned flags)
{
	struct ipt_drv *d = priv;
	struct nat_want w;
	int saved, err;

	if (flags & ~VXC_F_KNOWN)
		return -EINVAL;
	err = nat_want_build(d->svc, d->ctx, r, &w);
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
	for (int i = 0;; i++) {
		err = ensure_once(d, &w, flags);
		if (err != -EAGAIN)
			break;
		if (i >= d->retries) {
			err = d->svc->error(d->ctx, err,
					    "router %s: table nat changed while vxcloud was "
					    "changing it (%d attempts); nothing was changed",
					    w.router, i + 1);
			break;
		}
		d->svc->log(d->ctx, VXC_LOG_WARN,
			    "router %s: table nat changed meanwhile; reading it again", w.router);
	}
	nat_ns_leave(d->svc, d->ctx, saved);
out:
	nat_want_free(&w);
	return err;
}

/* Is the legacy nat table instantiated here? Asking libiptc would create
 * it (and register its hooks) in every namespace we look at. */
static int nat_table_exists(void)
{
	char line[64];
	FILE *f = fopen("/proc/thread-self/net/ip_tables_names", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "nat\n");
	fclose(f);
	return found;
}

static int has_ours(void)
{
	struct xtc_handle *h;
	int found = 0;

	if (!nat_table_exists())
		return 0;
	h = iptc_init("nat");
	if (!h)
		return -errno;
	for (int ch = 0; ch < IPT_NCHAINS; ch++)
		found |= iptc_is_chain(ipt_chains[ch].name, h);
	iptc_free(h);
	return found;
}

static int ipt_list(void *priv, vxc_owned_cb cb, void *arg)
{
	struct ipt_drv *d = priv;
	char **names;
	size_t n;
	int err = nat_ns_collect(d->svc, d->ctx, &names, &n);

	if (err)
		return d->svc->error(d->ctx, err, "cannot list router namespaces: %s",
				     strerror(-err));
	for (size_t i = 0; i < n; i++) {
		int saved, ours;

		if (nat_ns_enter(d->svc, d->ctx, names[i], &saved) < 0)
			continue;
		ours = has_ours();
		nat_ns_leave(d->svc, d->ctx, saved);
		if (ours < 0) {
			err = d->svc->error(d->ctx, ours, "namespace %s: cannot read table nat: %s",
					    names[i], iptc_strerror(-ours));
			break;
		}
		if (ours) {
			struct vxc_owned o = { VXC_KIND_NAT, names[i] + strlen(NAT_ROUTER_NS_PREFIX),
					       names[i] };
			cb(arg, &o);
		}
	}
	nat_strv_free(names, n);
	return err;
}

/* Deletes our jumps, then our chains; foreign rules stay. */
static int remove_chains(struct xtc_handle *h)
{
	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		const char *builtin = ipt_chains[ch].builtin;
		const struct ipt_entry *e;
		unsigned num = 0;

		for (e = iptc_first_rule(builtin, h); e;) {
			if (ipt_entry_is_jump(e, h, ipt_chains[ch].name)) {
				if (!iptc_delete_num_entry(builtin, num, h))
					return -errno;
				e = iptc_first_rule(builtin, h);
				num = 0;
				continue;
			}
			e = iptc_next_rule(e, h);
			num++;
		}
	}
	for (int ch = 0; ch < IPT_NCHAINS; ch++) {
		const char *name = ipt_chains[ch].name;

		if (!iptc_is_chain(name, h))
			continue;
		if (!iptc_flush_entries(name, h) || !iptc_delete_chain(name, h))
			return -errno;
	}
	return 0;
}

static int remove_here(struct ipt_drv *d, const char *router, unsigned flags)
{
	struct ipt_cur cur = { 0 };
	struct xtc_handle *h = NULL;
	int lock = -1, err = 0;

	if (!nat_table_exists())
		return 0;
	if (!(flags & VXC_F_DRY_RUN)) {
		lock = xt_lock();
		if (lock < 0)
			return lock;
	}
	h = iptc_init("nat");
	if (!h) {
		err = -errno;
		goto out;
	}
	err = read_cur(h, NULL, &cur);
	if (err || !cur.chains)
		goto out;
	d->svc->change(d->ctx, "router %s: remove NAT chains %s, %s, %s (%zu floating IPs)",
		       router, ipt_chains[0].name, ipt_chains[1].name, ipt_chains[2].name,
		       cur.n_dnat);
	if (flags & VXC_F_DRY_RUN)
		goto out;
	err = remove_chains(h);
	if (!err && !iptc_commit(h))
		err = -errno;
	if (!err) {
		uint32_t *addrs = malloc((cur.n_dnat + 1) * sizeof(*addrs));

		for (size_t i = 0; addrs && i < cur.n_dnat; i++)
			addrs[i] = cur.dnat[i].key;
		if (addrs)
			nat_ct_flush(addrs, cur.n_dnat);
		free(addrs);
	}
out:
	if (h)
		iptc_free(h);
	xt_unlock(lock);
	cur_free(&cur);
	return err;
}

static int ipt_remove(void *priv, const struct vxc_owned *obj, unsigned flags)
{
	struct ipt_drv *d = priv;
	char ns[VXC_NETNS_NAMSIZ];
	int saved, err;

	if (flags & ~VXC_F_KNOWN || !obj || obj->kind != VXC_KIND_NAT || !obj->name)
		return -EINVAL;
	if (obj->netns)
		snprintf(ns, sizeof(ns), "%s", obj->netns);
	else
		snprintf(ns, sizeof(ns), NAT_ROUTER_NS_PREFIX "%s", obj->name);
	err = nat_ns_enter(d->svc, d->ctx, ns, &saved);
	if (err == -ENOENT)
		return 0;
	if (err)
		return d->svc->error(d->ctx, err, "router %s: cannot enter namespace %s: %s",
				     obj->name, ns, strerror(-err));
	for (int i = 0;; i++) {
		err = remove_here(d, obj->name, flags);
		if (err != -EAGAIN || i >= d->retries)
			break;
	}
	nat_ns_leave(d->svc, d->ctx, saved);
	if (err)
		return d->svc->error(d->ctx, err, "router %s: cannot remove NAT chains: %s%s",
				     obj->name, iptc_strerror(-err),
				     err == -EMLINK || err == -EBUSY ?
				     " (a rule vxcloud did not make still jumps to them)" : "");
	return 0;
}

static int ipt_open(vxc_ctx *ctx, const struct vxc_services *svc, void **priv)
{
	struct ipt_drv *d;
	long long retries = 3;

	if (!svc || svc->size < sizeof(struct vxc_services))
		return -EINVAL;
	if (svc->opt_int(ctx, "retries", &retries) < 0)
		retries = 3;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ctx = ctx;
	d->svc = svc;
	d->retries = (int)retries;
	*priv = d;
	return 0;
}

static void ipt_close(void *priv)
{
	free(priv);
}

static const struct vxc_nat_ops ops = {
	.size = sizeof(struct vxc_nat_ops),
	.router_ensure = ipt_router_ensure,
	.list = ipt_list,
	.remove = ipt_remove,
};

VXC_PLUGIN_DEFINE = {
	.abi_major = VXC_ABI_MAJOR,
	.abi_minor = VXC_ABI_MINOR,
	.size = sizeof(struct vxc_plugin),
	.concern = VXC_CONCERN_NAT,
	.name = "iptables",
	.description = "SNAT and floating IPs as vxc- chains in the legacy nat table (libiptc)",
	.caps = VXC_CAP_ATOMIC | VXC_CAP_CT_FLUSH,
	.options = options,
	.open = ipt_open,
	.close = ipt_close,
	.ops = &ops,
};
