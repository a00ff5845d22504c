/* Change reports for floating IPs: one line per change while there are few,
 * one summary line per kind for large batches (10,000 floating IPs must not
 * print 10,000 lines). */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <stdlib.h>
#include <string.h>

#include "natcommon.h"

#define NAT_REPORT_MAX 8 /* individual lines per kind before summarising */

/* Splits the diff of the fip -> target map into binds, unbinds and moves.
 * A moved key appears in both del[] and add[]. */
struct fip_changes {
	struct nat_pair *bind, *unbind;
	struct { uint32_t fip, from, to; } *move;
	size_t n_bind, n_unbind, n_move;
};

static int split(const struct nat_diff *d, struct fip_changes *c)
{
	struct nat_hash added;

	c->bind = malloc((d->n_add + 1) * sizeof(*c->bind));
	c->unbind = malloc((d->n_del + 1) * sizeof(*c->unbind));
	c->move = malloc((d->n_move + 1) * sizeof(*c->move));
	c->n_bind = c->n_unbind = c->n_move = 0;
	if (!c->bind || !c->unbind || !c->move || nat_hash_init(&added, d->n_add) < 0)
		return -1;
	for (size_t i = 0; i < d->n_add; i++)
		nat_hash_put(&added, d->add[i].key, d->add[i].val);
	for (size_t i = 0; i < d->n_del; i++) {
		long s = nat_hash_find(&added, d->del[i].key);

		if (s < 0) {
			c->unbind[c->n_unbind++] = d->del[i];
			continue;
		}
		c->move[c->n_move].fip = d->del[i].key;
		c->move[c->n_move].from = d->del[i].val;
		c->move[c->n_move++].to = added.vals[s];
		added.vals[s] = 0; /* marks a move */
	}
	for (size_t i = 0; i < d->n_add; i++) {
		long s = nat_hash_find(&added, d->add[i].key);

		if (s >= 0 && added.vals[s])
			c->bind[c->n_bind++] = d->add[i];
	}
	nat_hash_free(&added);
	return 0;
}

void nat_report_fips(const struct vxc_services *svc, vxc_ctx *ctx, const char *router,
		     const struct nat_diff *d)
{
	struct fip_changes c = { 0 };
	char a[NAT_IPSTR], b[NAT_IPSTR], e[NAT_IPSTR];

	if (!nat_diff_size(d))
		return;
	if (split(d, &c) < 0) {
		svc->change(ctx, "router %s: change %zu floating IP map entries", router,
			    nat_diff_size(d));
		goto out;
	}
	for (size_t i = 0; i < c.n_unbind && (c.n_unbind <= NAT_REPORT_MAX); i++)
		svc->change(ctx, "router %s: unbind floating IP %s (was -> %s)", router,
			    nat_ip(c.unbind[i].key, a), nat_ip(c.unbind[i].val, b));
	if (c.n_unbind > NAT_REPORT_MAX)
		svc->change(ctx, "router %s: unbind %zu floating IPs (%s -> %s, ...)", router,
			    c.n_unbind, nat_ip(c.unbind[0].key, a), nat_ip(c.unbind[0].val, b));
	for (size_t i = 0; i < c.n_move && (c.n_move <= NAT_REPORT_MAX); i++)
		svc->change(ctx, "router %s: move floating IP %s from %s to %s", router,
			    nat_ip(c.move[i].fip, a), nat_ip(c.move[i].from, b),
			    nat_ip(c.move[i].to, e));
	if (c.n_move > NAT_REPORT_MAX)
		svc->change(ctx, "router %s: move %zu floating IPs (%s from %s to %s, ...)", router,
			    c.n_move, nat_ip(c.move[0].fip, a), nat_ip(c.move[0].from, b),
			    nat_ip(c.move[0].to, e));
	for (size_t i = 0; i < c.n_bind && (c.n_bind <= NAT_REPORT_MAX); i++)
		svc->change(ctx, "router %s: bind floating IP %s -> %s", router,
			    nat_ip(c.bind[i].key, a), nat_ip(c.bind[i].val, b));
	if (c.n_bind > NAT_REPORT_MAX)
		svc->change(ctx, "router %s: bind %zu floating IPs (%s -> %s, ...)", router,
			    c.n_bind, nat_ip(c.bind[0].key, a), nat_ip(c.bind[0].val, b));
out:
	free(c.bind);
	free(c.unbind);
	free(c.move);
}

static int in(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return 1;
	return 0;
}

size_t nat_report_rules(const struct vxc_services *svc, vxc_ctx *ctx, const char *router,
			const char *const *cur, size_t n_cur, const char *const *want,
			size_t n_want, uint32_t new_external, uint32_t *old_external)
{
	size_t n = 0;

	*old_external = 0;
	for (size_t i = 0; i < n_cur; i++) {
		uint32_t ext;

		if (!nat_desc_semantic(cur[i]) || in(cur[i], want, n_want))
			continue;
		svc->change(ctx, "router %s: remove %s", router, cur[i]);
		n++;
		ext = nat_desc_external(cur[i]);
		if (ext && ext != new_external)
			*old_external = ext;
	}
	for (size_t i = 0; i < n_want; i++) {
		if (!nat_desc_semantic(want[i]) || in(want[i], cur, n_cur))
			continue;
		svc->change(ctx, "router %s: add %s", router, want[i]);
		n++;
	}
	return n;
}
