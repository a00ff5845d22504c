/* A small hash of IPv4 addresses and the difference between two address
 * maps: what the kernel holds and what the router wants. Linear in the
 * number of entries, so a change to one floating IP among thousands costs
 * a pass over the list and one small transaction. */
#include "config.h"

#include <netinet/in.h> /* before any linux/ header */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "natcommon.h"

int nat_hash_init(struct nat_hash *h, size_t expect)
{
	size_t cap = 16;

	while (cap < expect * 2)
		cap <<= 1;
	h->keys = calloc(cap, sizeof(*h->keys));
	h->vals = malloc(cap * sizeof(*h->vals));
	h->mask = cap - 1;
	h->n = 0;
	if (!h->keys || !h->vals) {
		nat_hash_free(h);
		return -ENOMEM;
	}
	return 0;
}

void nat_hash_free(struct nat_hash *h)
{
	free(h->keys);
	free(h->vals);
	h->keys = h->vals = NULL;
	h->n = 0;
}

static size_t slot_of(uint32_t key, size_t mask)
{
	/* murmur3's finaliser: every bit of the address (stored in network
	 * byte order, so neighbours differ in the high bits) reaches the
	 * low bits used as the slot. */
	key ^= key >> 16;
	key *= 0x85ebca6bu;
	key ^= key >> 13;
	key *= 0xc2b2ae35u;
	key ^= key >> 16;
	return (size_t)key & mask;
}

static int grow(struct nat_hash *h)
{
	struct nat_hash big;

	if (nat_hash_init(&big, (h->mask + 1)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i <= h->mask; i++)
		if (h->keys[i])
			nat_hash_put(&big, h->keys[i], h->vals[i]);
	nat_hash_free(h);
	*h = big;
	return 0;
}

int nat_hash_put(struct nat_hash *h, uint32_t key, uint32_t val)
{
	size_t i;

	if ((h->n + 1) * 2 > h->mask + 1 && grow(h) < 0)
		return -ENOMEM;
	for (i = slot_of(key, h->mask); h->keys[i]; i = (i + 1) & h->mask)
		if (h->keys[i] == key)
			return -EEXIST;
	h->keys[i] = key;
	h->vals[i] = val;
	h->n++;
	return 0;
}

long nat_hash_find(const struct nat_hash *h, uint32_t key)
{
	for (size_t i = slot_of(key, h->mask); h->keys[i]; i = (i + 1) & h->mask)
		if (h->keys[i] == key)
			return (long)i;
	return -1;
}

void nat_diff_free(struct nat_diff *d)
{
	free(d->del);
	free(d->add);
	memset(d, 0, sizeof(*d));
}

int nat_diff_pairs(const struct nat_pair *cur, size_t n_cur, const struct nat_pair *want,
		   size_t n_want, struct nat_diff *d)
{
	struct nat_hash h;
	uint8_t *seen;
	int err = -ENOMEM;

	memset(d, 0, sizeof(*d));
	/* Fast path: the same list in the same order (a second apply). */
	if (n_cur == n_want && !memcmp(cur, want, n_cur * sizeof(*cur)))
		return 0;
	d->del = malloc((n_cur ? n_cur : 1) * sizeof(*d->del));
	d->add = malloc((n_want ? n_want : 1) * sizeof(*d->add));
	seen = calloc(n_cur ? n_cur : 1, 1);
	if (!d->del || !d->add || !seen || nat_hash_init(&h, n_cur) < 0)
		goto fail;
	/* The value of the hash is the index into cur[]. */
	for (size_t i = 0; i < n_cur; i++)
		if (nat_hash_put(&h, cur[i].key, (uint32_t)i) == -ENOMEM)
			goto fail_hash;
	for (size_t i = 0; i < n_want; i++) {
		long s = nat_hash_find(&h, want[i].key);
		uint32_t ci;

		if (s < 0) {
			d->add[d->n_add++] = want[i];
			continue;
		}
		ci = h.vals[s];
		seen[ci] = 1;
		if (cur[ci].val != want[i].val) {
			d->del[d->n_del++] = cur[ci];
			d->add[d->n_add++] = want[i];
			d->n_move++;
		}
	}
	for (size_t i = 0; i < n_cur; i++)
		if (!seen[i])
			d->del[d->n_del++] = cur[i];
	err = 0;
fail_hash:
	nat_hash_free(&h);
fail:
	free(seen);
	if (err)
		nat_diff_free(d);
	return err;
}

int nat_flush_addrs(const struct nat_diff *dnat, uint32_t old_external, uint32_t **out,
		    size_t *n)
{
	/* Every deleted key of the floating IP map is an unbound or moved
	 * floating IP. */
	*n = 0;
	*out = malloc((dnat->n_del + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < dnat->n_del; i++)
		(*out)[(*n)++] = dnat->del[i].key;
	if (old_external)
		(*out)[(*n)++] = old_external;
	return 0;
}
