// SPDX-License-Identifier: GPL-2.0
/*
 * Sector map: chained hash of 4 KiB chunks, each holding up to eight
 * individually allocated 512-byte sectors. Plain C: built into colo_blk.ko
 * and into the userspace unit tests and fuzzers.
 */
#include "sectormap.h"

#define CB_MIN_BUCKETS 64U

static u32 cb_hash(u64 index, u32 nr_buckets)
{
	/* multiplicative hashing; nr_buckets is a power of two */
	return (u32)((index * 0x9E3779B97F4A7C15ULL) >> 32) & (nr_buckets - 1);
}

int cb_map_init(struct cb_map *m)
{
	memset(m, 0, sizeof(*m));
	m->buckets = cb_zalloc(CB_MIN_BUCKETS * sizeof(*m->buckets));
	if (!m->buckets)
		return -ENOMEM;
	m->nr_buckets = CB_MIN_BUCKETS;
	return 0;
}

static void cb_chunk_release(struct cb_chunk *c)
{
	unsigned int i;

	for (i = 0; i < CB_CHUNK_SECTORS; i++)
		if (c->data[i])
			cb_sector_free(c->data[i]);
	cb_chunk_free(c);
}

/* Frees every chunk; the bucket array is kept (its size is the high mark). */
void cb_map_clear(struct cb_map *m)
{
	u32 b;

	for (b = 0; b < m->nr_buckets; b++) {
		struct cb_chunk *c = m->buckets[b];

		while (c) {
			struct cb_chunk *next = c->next;

			cb_chunk_release(c);
			c = next;
		}
		m->buckets[b] = NULL;
	}
	m->nr_chunks = 0;
	m->nr_sectors = 0;
	m->nr_data = 0;
}

void cb_map_destroy(struct cb_map *m)
{
	if (!m->buckets)
		return;
	cb_map_clear(m);
	cb_free(m->buckets);
	m->buckets = NULL;
	m->nr_buckets = 0;
}

static struct cb_chunk *cb_find(const struct cb_map *m, u64 index)
{
	struct cb_chunk *c = m->buckets[cb_hash(index, m->nr_buckets)];

	while (c && c->index != index)
		c = c->next;
	return c;
}

/* Mask of the sectors of chunk `index` that fall in [start, end). */
static u8 cb_range_mask(u64 index, u64 start, u64 end)
{
	u64 first = index << CB_CHUNK_SHIFT;
	u64 lo = start > first ? start - first : 0;
	u64 hi = end - first < CB_CHUNK_SECTORS ? end - first : CB_CHUNK_SECTORS;

	return (u8)(((1U << hi) - 1) & ~((1U << lo) - 1));
}

bool cb_map_overlaps(const struct cb_map *m, u64 sector, u64 nr)
{
	u64 end = sector + nr, index;

	if (!nr || end < sector || !m->nr_chunks)
		return false;
	for (index = sector >> CB_CHUNK_SHIFT;
	     index <= (end - 1) >> CB_CHUNK_SHIFT; index++) {
		const struct cb_chunk *c = cb_find(m, index);

		if (c && (c->present & cb_range_mask(index, sector, end)))
			return true;
	}
	return false;
}

static unsigned int cb_popcount8(u8 v)
{
	unsigned int n = 0;

	while (v) {
		v &= v - 1;
		n++;
	}
	return n;
}

u64 cb_map_count_absent(const struct cb_map *m, u64 sector, u64 nr)
{
	u64 end = sector + nr, index, present = 0;

	if (!nr || end < sector)
		return 0;
	if (!m->nr_chunks)
		return nr;
	for (index = sector >> CB_CHUNK_SHIFT;
	     index <= (end - 1) >> CB_CHUNK_SHIFT; index++) {
		const struct cb_chunk *c = cb_find(m, index);

		if (c)
			present += cb_popcount8(c->present &
						cb_range_mask(index, sector, end));
	}
	return nr - present;
}

bool cb_map_get(const struct cb_map *m, u64 sector, const void **data)
{
	const struct cb_chunk *c = cb_find(m, sector >> CB_CHUNK_SHIFT);
	unsigned int i = sector & (CB_CHUNK_SECTORS - 1);

	if (!c || !(c->present & (1U << i)))
		return false;
	*data = c->data[i];
	return true;
}

/*
 * Doubles the bucket array once chains get long. A failed allocation is not an
 * error: the map keeps working with longer chains.
 */
static void cb_maybe_grow(struct cb_map *m)
{
	struct cb_chunk **nb;
	u32 n, b;

	if (m->nr_chunks < 2ULL * m->nr_buckets || m->nr_buckets >= (1U << 30))
		return;
	n = m->nr_buckets * 2;
	nb = cb_zalloc((size_t)n * sizeof(*nb));
	if (!nb)
		return;
	for (b = 0; b < m->nr_buckets; b++) {
		struct cb_chunk *c = m->buckets[b];

		while (c) {
			struct cb_chunk *next = c->next;
			u32 h = cb_hash(c->index, n);

			c->next = nb[h];
			nb[h] = c;
			c = next;
		}
	}
	cb_free(m->buckets);
	m->buckets = nb;
	m->nr_buckets = n;
}

int cb_map_put(struct cb_map *m, u64 sector, const void *src, bool replace)
{
	u64 index = sector >> CB_CHUNK_SHIFT;
	unsigned int i = sector & (CB_CHUNK_SECTORS - 1);
	struct cb_chunk *c = cb_find(m, index);
	void *buf = NULL;
	int added;

	if (c && (c->present & (1U << i)) && !replace)
		return 0;
	if (src) {
		/* reuse the buffer the sector already has, if any */
		buf = c ? c->data[i] : NULL;
		if (!buf) {
			buf = cb_sector_alloc();
			if (!buf)
				return -ENOMEM;
		}
		memcpy(buf, src, CB_SECTOR_SIZE);
	}
	if (!c) {
		u32 h;

		c = cb_chunk_alloc();
		if (!c) {
			if (buf)
				cb_sector_free(buf);
			return -ENOMEM;
		}
		memset(c, 0, sizeof(*c));
		c->index = index;
		h = cb_hash(index, m->nr_buckets);
		c->next = m->buckets[h];
		m->buckets[h] = c;
		m->nr_chunks++;
		cb_maybe_grow(m);
	}
	added = !(c->present & (1U << i));
	if (c->data[i] && !buf) {
		cb_sector_free(c->data[i]);
		m->nr_data--;
	} else if (!c->data[i] && buf) {
		m->nr_data++;
	}
	c->data[i] = buf;
	c->present |= 1U << i;
	m->nr_sectors += added;
	return added;
}

/* Fills buf with the merged content of chunk `index`, returns the mask. */
static u8 cb_merge_chunk(const struct cb_chunk *t, const struct cb_chunk *b,
			 u8 *buf)
{
	u8 mask = 0;
	unsigned int i;

	for (i = 0; i < CB_CHUNK_SECTORS; i++) {
		const struct cb_chunk *src = NULL;
		u8 *dst = buf + (i << CB_SECTOR_SHIFT);

		if (t && (t->present & (1U << i)))
			src = t;
		else if (b && (b->present & (1U << i)))
			src = b;
		if (!src)
			continue;
		if (src->data[i])
			memcpy(dst, src->data[i], CB_SECTOR_SIZE);
		else
			memset(dst, 0, CB_SECTOR_SIZE);
		mask |= 1U << i;
	}
	return mask;
}

static int cb_emit_runs(u64 index, u8 mask, const u8 *buf, cb_run_fn fn,
			void *ctx)
{
	unsigned int i = 0;

	while (i < CB_CHUNK_SECTORS) {
		unsigned int j;
		int ret;

		if (!(mask & (1U << i))) {
			i++;
			continue;
		}
		for (j = i; j < CB_CHUNK_SECTORS && (mask & (1U << j)); j++)
			;
		ret = fn(ctx, (index << CB_CHUNK_SHIFT) + i, j - i,
			 buf + (i << CB_SECTOR_SHIFT));
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

int cb_map_merge_runs(const struct cb_map *top, const struct cb_map *bottom,
		      void *buf, cb_run_fn fn, void *ctx)
{
	u32 b;
	int ret;

	/* chunks of top, merged with the same chunk of bottom */
	for (b = 0; b < top->nr_buckets; b++) {
		const struct cb_chunk *c;

		for (c = top->buckets[b]; c; c = c->next) {
			const struct cb_chunk *under = cb_find(bottom, c->index);

			ret = cb_emit_runs(c->index, cb_merge_chunk(c, under, buf),
					   buf, fn, ctx);
			if (ret)
				return ret;
		}
	}
	/* chunks only bottom has */
	for (b = 0; b < bottom->nr_buckets; b++) {
		const struct cb_chunk *c;

		for (c = bottom->buckets[b]; c; c = c->next) {
			if (top->nr_chunks && cb_find(top, c->index))
				continue;
			ret = cb_emit_runs(c->index, cb_merge_chunk(NULL, c, buf),
					   buf, fn, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

#ifndef __KERNEL__
#include <stdlib.h>

void *cb_zalloc(size_t size)
{
	return calloc(1, size);
}

void cb_free(void *p)
{
	free(p);
}

void *cb_sector_alloc(void)
{
	return malloc(CB_SECTOR_SIZE);
}

void cb_sector_free(void *p)
{
	free(p);
}

void *cb_chunk_alloc(void)
{
	return malloc(sizeof(struct cb_chunk));
}

void cb_chunk_free(void *p)
{
	free(p);
}
#endif
