/* Sorting the duplicate finder's items (spec_int.h): a byte-wise LSD radix
 * sort on (k1, k2, idx), the order dup_cmp gave through qsort.
 *
 * qsort with a comparison call per step was a tenth of validating 10,000
 * instances and 10,000 floating IPs. The keys are small integers
 * (addresses, indexes, MACs), so most of their 24 bytes are the same in
 * every item: one pass counts every byte position at once, and only the
 * positions that differ are scattered, each pass linear and stable. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "spec_int.h"
#include "util.h"

#define KEY_BYTES 24 /* idx, k2, k1: least significant first */

static unsigned key_byte(const struct dup_item *it, unsigned pos)
{
	uint64_t k = pos < 8 ? (uint64_t)it->idx : pos < 16 ? it->k2 : it->k1;

	return (unsigned)(k >> (8 * (pos % 8))) & 0xff;
}

/* Scatters src into dst by byte pos, keeping the order of equal bytes. */
static void scatter(const struct dup_item *src, struct dup_item *dst, size_t n,
		    const size_t count[256], unsigned pos)
{
	size_t at[256], sum = 0;

	for (unsigned b = 0; b < 256; b++) {
		at[b] = sum;
		sum += count[b];
	}
	for (size_t i = 0; i < n; i++)
		dst[at[key_byte(&src[i], pos)]++] = src[i];
}

void sp_sort_items(struct dup_item *it, size_t n)
{
	size_t (*count)[256];
	struct dup_item *tmp, *src = it, *dst;

	if (n < 2)
		return;
	count = vxc_xcalloc(KEY_BYTES, sizeof(*count));
	tmp = vxc_xcalloc(n, sizeof(*tmp));
	dst = tmp;
	for (size_t i = 0; i < n; i++)
		for (unsigned pos = 0; pos < KEY_BYTES; pos++)
			count[pos][key_byte(&it[i], pos)]++;
	for (unsigned pos = 0; pos < KEY_BYTES; pos++) {
		struct dup_item *t;

		/* a byte every item shares leaves the order as it is */
		if (count[pos][key_byte(&it[0], pos)] == n)
			continue;
		scatter(src, dst, n, count[pos], pos);
		t = src;
		src = dst;
		dst = t;
	}
	if (src != it)
		memcpy(it, src, n * sizeof(*it));
	free(tmp);
	free(count);
}
