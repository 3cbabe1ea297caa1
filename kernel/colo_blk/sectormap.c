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

/* Whether sector buffer p is a piece of the chunk's page. */
static bool cb_in_page(const struct cb_chunk *c, const void *p)
{
	const char *page = c->page;

	return page && (const char *)p >= page &&
	       (const char *)p < page + (CB_CHUNK_SECTORS << CB_SECTOR_SHIFT);
}

static void cb_free_sector(struct cb_chunk *c, unsigned int i)
{
	if (!cb_in_page(c, c->data[i]))
		cb_sector_free(c->data[i]);
	c->data[i] = NULL;
}

static void cb_chunk_release(struct cb_chunk *c)
{
	unsigned int i;

	for (i = 0; i < CB_CHUNK_SECTORS; i++)
		if (c->data[i])
			cb_free_sector(c, i);
	if (c->page)
		cb_page_free(c->page);
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

int cb_map_move(struct cb_map *dst, struct cb_map *src)
{
	struct cb_chunk **buckets = cb_zalloc(CB_MIN_BUCKETS * sizeof(*buckets));

	if (!buckets)
		return -ENOMEM;
	*dst = *src;
	memset(src, 0, sizeof(*src));
	src->buckets = buckets;
	src->nr_buckets = CB_MIN_BUCKETS;
	return 0;
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

/* The chunk holding `index`, created empty if absent; NULL on -ENOMEM. */
static struct cb_chunk *cb_get_chunk(struct cb_map *m, u64 index)
{
	struct cb_chunk *c = cb_find(m, index);
	u32 h;

	if (c)
		return c;
	c = cb_chunk_alloc();
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->index = index;
	h = cb_hash(index, m->nr_buckets);
	c->next = m->buckets[h];
	m->buckets[h] = c;
	m->nr_chunks++;
	cb_maybe_grow(m);
	return c;
}

void *cb_map_slot(struct cb_map *m, u64 sector, int *added)
{
	struct cb_chunk *c = cb_get_chunk(m, sector >> CB_CHUNK_SHIFT);
	unsigned int i = sector & (CB_CHUNK_SECTORS - 1);

	/*
	 * On failure an empty chunk may stay behind: it holds no sector, and
	 * the next clear frees it.
	 */
	if (!c)
		return NULL;
	if (!c->data[i]) {
		c->data[i] = cb_sector_alloc();
		if (!c->data[i])
			return NULL;
		m->nr_data++;
	}
	*added = !(c->present & (1U << i));
	c->present |= 1U << i;
	m->nr_sectors += *added;
	return c->data[i];
}

void *cb_map_chunk_slot(struct cb_map *m, u64 index, int *added)
{
	struct cb_chunk *c = cb_get_chunk(m, index);
	unsigned int i, n = 0;
	char *page;

	if (!c)
		return NULL;
	/* a page the chunk already has is reused, else a fresh one */
	page = c->page;
	if (!page) {
		page = cb_page_alloc();
		if (!page)
			return NULL;
	}
	for (i = 0; i < CB_CHUNK_SECTORS; i++) {
		void *want = page + (i << CB_SECTOR_SHIFT);

		if (c->data[i] == want)
			continue;
		if (c->data[i])
			cb_free_sector(c, i);
		else
			m->nr_data++;
		c->data[i] = want;
	}
	c->page = page;
	for (i = 0; i < CB_CHUNK_SECTORS; i++)
		n += !(c->present & (1U << i));
	c->present = (u8)((1U << CB_CHUNK_SECTORS) - 1);
	m->nr_sectors += n;
	*added = (int)n;
	return page;
}

int cb_map_chunk_adopt(struct cb_map *m, u64 index, void *page)
{
	struct cb_chunk *c = cb_get_chunk(m, index);
	unsigned int i;

	if (!c)
		return -ENOMEM;
	/* an empty chunk has neither sector buffers nor a page */
	if (c->present)
		return 0;
	c->page = page;
	for (i = 0; i < CB_CHUNK_SECTORS; i++)
		c->data[i] = (char *)page + (i << CB_SECTOR_SHIFT);
	c->present = (u8)((1U << CB_CHUNK_SECTORS) - 1);
	m->nr_sectors += CB_CHUNK_SECTORS;
	m->nr_data += CB_CHUNK_SECTORS;
	return CB_CHUNK_SECTORS;
}

bool cb_map_chunk_empty(const struct cb_map *m, u64 index)
{
	const struct cb_chunk *c = m->nr_chunks ? cb_find(m, index) : NULL;

	return !c || !c->present;
}

int cb_map_put(struct cb_map *m, u64 sector, const void *src, bool replace)
{
	unsigned int i = sector & (CB_CHUNK_SECTORS - 1);
	struct cb_chunk *c = cb_find(m, sector >> CB_CHUNK_SHIFT);
	int added;

	if (c && (c->present & (1U << i)) && !replace)
		return 0;
	if (src) {
		void *buf = cb_map_slot(m, sector, &added);

		if (!buf)
			return -ENOMEM;
		memcpy(buf, src, CB_SECTOR_SIZE);
		return added;
	}
	c = cb_get_chunk(m, sector >> CB_CHUNK_SHIFT);
	if (!c)
		return -ENOMEM;
	if (c->data[i]) {
		cb_free_sector(c, i);
		m->nr_data--;
	}
	added = !(c->present & (1U << i));
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

static int cb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

int cb_map_merge_runs(const struct cb_map *top, const struct cb_map *bottom,
		      void *buf, cb_run_fn fn, void *ctx)
{
	u64 n = 0, i, *order;
	u32 b;
	int ret = 0;

	if (!top->nr_chunks && !bottom->nr_chunks)
		return 0;
	/* chunk indexes of the union, sorted: the caller can write sequentially */
	order = cb_zalloc((size_t)(top->nr_chunks + bottom->nr_chunks) *
			  sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (b = 0; b < top->nr_buckets; b++) {
		const struct cb_chunk *c;

		for (c = top->buckets[b]; c; c = c->next)
			order[n++] = c->index;
	}
	for (b = 0; b < bottom->nr_buckets; b++) {
		const struct cb_chunk *c;

		for (c = bottom->buckets[b]; c; c = c->next)
			if (!top->nr_chunks || !cb_find(top, c->index))
				order[n++] = c->index;
	}
	cb_sort(order, n, sizeof(*order), cb_cmp_u64);
	for (i = 0; i < n && !ret; i++) {
		const struct cb_chunk *t = top->nr_chunks ? cb_find(top, order[i]) : NULL;
		const struct cb_chunk *u = bottom->nr_chunks ?
					   cb_find(bottom, order[i]) : NULL;

		ret = cb_emit_runs(order[i], cb_merge_chunk(t, u, buf), buf, fn, ctx);
	}
	cb_free(order);
	return ret;
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

void *cb_page_alloc(void)
{
	return malloc(CB_CHUNK_SECTORS << CB_SECTOR_SHIFT);
}

void cb_sort(void *base, size_t num, size_t size,
	     int (*cmp)(const void *, const void *))
{
	qsort(base, num, size, cmp);
}

void cb_page_free(void *p)
{
	free(p);
}

void cb_chunk_free(void *p)
{
	free(p);
}
#endif
