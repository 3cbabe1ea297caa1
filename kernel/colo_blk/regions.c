// SPDX-License-Identifier: GPL-2.0
/*
 * Region map: a flat bitmap of fixed-size regions and a running count of
 * the bits set, kept exact by counting the bits each word operation
 * changes. Plain C: built into colo_blk.ko and into the userspace unit
 * tests and fuzzers.
 */
#include "regions.h"

static u64 cb_words(u64 nr)
{
	return nr / 64 + !!(nr % 64);
}

int cb_regions_init(struct cb_regions *r, u64 dev_sectors, u32 shift)
{
	u64 nr;

	memset(r, 0, sizeof(*r));
	if (!dev_sectors || shift >= 64)
		return -EINVAL;
	nr = ((dev_sectors - 1) >> shift) + 1;
	if (nr > CB_REGIONS_MAX_BYTES * 8)
		return -E2BIG;
	r->bits = cb_zalloc((size_t)cb_words(nr) * sizeof(*r->bits));
	if (!r->bits)
		return -ENOMEM;
	r->nr = nr;
	r->dev_sectors = dev_sectors;
	r->shift = shift;
	return 0;
}

void cb_regions_destroy(struct cb_regions *r)
{
	cb_free(r->bits);
	r->bits = NULL;
	r->nr = 0;
	r->nr_set = 0;
}

/* Sets or clears regions [first, last]; returns how many bits changed. */
static u64 cb_regions_fill(struct cb_regions *r, u64 first, u64 last, bool set)
{
	u64 w, changed = 0;

	for (w = first / 64; w <= last / 64; w++) {
		u64 mask = ~0ULL, old = r->bits[w];

		if (w == first / 64)
			mask &= ~0ULL << (first % 64);
		if (w == last / 64)
			mask &= ~0ULL >> (63 - last % 64);
		if (set) {
			changed += cb_popcount64(~old & mask);
			r->bits[w] = old | mask;
		} else {
			changed += cb_popcount64(old & mask);
			r->bits[w] = old & ~mask;
		}
	}
	if (set)
		r->nr_set += changed;
	else
		r->nr_set -= changed;
	return changed;
}

/* End of [sector, sector + nr) clipped to the device, without overflow. */
static u64 cb_regions_end(const struct cb_regions *r, u64 sector, u64 nr)
{
	return nr >= r->dev_sectors - sector ? r->dev_sectors : sector + nr;
}

u64 cb_regions_set(struct cb_regions *r, u64 sector, u64 nr)
{
	u64 end;

	if (!nr || sector >= r->dev_sectors)
		return 0;
	end = cb_regions_end(r, sector, nr);
	return cb_regions_fill(r, sector >> r->shift, (end - 1) >> r->shift, true);
}

u64 cb_regions_clear(struct cb_regions *r, u64 sector, u64 nr)
{
	u64 first, stop, end;

	if (!nr || sector >= r->dev_sectors)
		return 0;
	end = cb_regions_end(r, sector, nr);
	/* only whole regions: round the start up and the end down */
	first = (sector >> r->shift) + !!(sector & ((1ULL << r->shift) - 1));
	stop = end == r->dev_sectors ? r->nr : end >> r->shift;
	if (first >= stop)
		return 0;
	return cb_regions_fill(r, first, stop - 1, false);
}

void cb_regions_clear_all(struct cb_regions *r)
{
	memset(r->bits, 0, (size_t)cb_words(r->nr) * sizeof(*r->bits));
	r->nr_set = 0;
}

void cb_regions_or(struct cb_regions *dst, const struct cb_regions *src)
{
	u64 w, words = cb_words(dst->nr);

	if (!src->nr_set)
		return;
	for (w = 0; w < words; w++) {
		dst->nr_set += cb_popcount64(src->bits[w] & ~dst->bits[w]);
		dst->bits[w] |= src->bits[w];
	}
}

bool cb_regions_test(const struct cb_regions *r, u64 region)
{
	return region < r->nr && (r->bits[region / 64] >> (region % 64) & 1);
}

/* The first region at or after i whose bit is `set`, or r->nr. */
static u64 cb_regions_find(const struct cb_regions *r, u64 i, bool set)
{
	u64 w = i / 64, words = cb_words(r->nr), x;

	if (i >= r->nr)
		return r->nr;
	x = (set ? r->bits[w] : ~r->bits[w]) & (~0ULL << (i % 64));
	while (!x) {
		if (++w >= words)
			return r->nr;
		x = set ? r->bits[w] : ~r->bits[w];
	}
	i = w * 64 + cb_ctz64(x);
	return i < r->nr ? i : r->nr;
}

bool cb_regions_next_run(const struct cb_regions *r, u64 from, u64 *start,
			 u64 *nr)
{
	u64 first, stop, end;

	if (from >= r->dev_sectors || !r->nr_set)
		return false;
	first = cb_regions_find(r, from >> r->shift, true);
	if (first >= r->nr)
		return false;
	stop = cb_regions_find(r, first, false);
	end = stop >= r->nr ? r->dev_sectors : stop << r->shift;
	*start = first << r->shift;
	*nr = end - *start;
	return true;
}
