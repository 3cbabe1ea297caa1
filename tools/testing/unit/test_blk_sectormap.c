// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the colo sector map against a flat model: random puts over
 * a small disk (so chunks fill, sectors get replaced and zeroed, and the hash
 * grows), overlap and absence counts for random ranges, merge of two maps.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_blk/sectormap.h"

#define DISK 4096	/* sectors in the model */

/* model: 0 absent, 1 zeroes, otherwise the byte every data byte holds */
static unsigned char model_a[DISK], model_b[DISK];

static int check_map(const struct cb_map *m, const unsigned char *model)
{
	u64 s, sectors = 0, data = 0;

	for (s = 0; s < DISK; s++) {
		const void *p = NULL;
		bool present = cb_map_get(m, s, &p);
		unsigned char want = model[s];

		if (present != !!want)
			return 0;
		if (want)
			sectors++;
		if (want > 1) {
			data++;
			if (!p || ((const unsigned char *)p)[0] != want ||
			    ((const unsigned char *)p)[CB_SECTOR_SIZE - 1] != want)
				return 0;
		} else if (want == 1 && p) {
			return 0;
		}
	}
	return m->nr_sectors == sectors && m->nr_data == data;
}

static void random_puts(struct cb_map *m, unsigned char *model, unsigned int n,
			bool replace, unsigned int *seed)
{
	unsigned char buf[CB_SECTOR_SIZE];
	unsigned int i;

	for (i = 0; i < n; i++) {
		u64 s = rand_r(seed) % DISK;
		unsigned char v = 1 + rand_r(seed) % 200;
		int ret;

		memset(buf, v, sizeof(buf));
		ret = cb_map_put(m, s, v == 1 ? NULL : buf, replace);
		if (ret < 0)
			abort();
		if (ret != !model[s])
			abort();
		if (replace || !model[s])
			model[s] = v;
	}
}

static int check_ranges(const struct cb_map *m, const unsigned char *model,
			unsigned int *seed)
{
	unsigned int i;

	for (i = 0; i < 2000; i++) {
		u64 s = rand_r(seed) % DISK, nr = 1 + rand_r(seed) % 40, k, absent = 0;

		if (s + nr > DISK)
			nr = DISK - s;
		for (k = 0; k < nr; k++)
			absent += !model[s + k];
		if (cb_map_count_absent(m, s, nr) != absent)
			return 0;
		if (cb_map_overlaps(m, s, nr) != (absent != nr))
			return 0;
	}
	return 1;
}

struct merged {
	unsigned char seen[DISK];
	u64 last;
	int ok;
};

static int merge_fn(void *ctx, u64 sector, u32 nr, const void *data)
{
	struct merged *mg = ctx;
	const unsigned char *p = data;
	u32 i;

	if (mg->last != ~0ULL && sector <= mg->last)
		mg->ok = 0;
	mg->last = sector + nr - 1;
	if (!nr || nr > CB_CHUNK_SECTORS ||
	    (sector >> CB_CHUNK_SHIFT) != ((sector + nr - 1) >> CB_CHUNK_SHIFT))
		mg->ok = 0;
	for (i = 0; i < nr; i++) {
		u64 s = sector + i;
		unsigned char want = model_a[s] ? model_a[s] : model_b[s];
		unsigned char got = p[i * CB_SECTOR_SIZE];

		if (s >= DISK || mg->seen[s] || !want ||
		    got != (want == 1 ? 0 : want))
			mg->ok = 0;
		mg->seen[s] = 1;
	}
	return 0;
}

static int stop_fn(void *ctx, u64 sector, u32 nr, const void *data)
{
	return -5;
}

int main(void)
{
	struct cb_map a, b;
	unsigned int seed = 1;
	unsigned char buf[CB_SECTOR_SIZE * CB_CHUNK_SECTORS];
	struct merged mg = { .ok = 1, .last = ~0ULL };
	u64 s;

	tap_check(!cb_map_init(&a) && !cb_map_init(&b), "init");
	tap_check(!cb_map_overlaps(&a, 0, ~0ULL) && cb_map_count_absent(&a, 5, 9) == 9,
		  "empty map has nothing");

	memset(buf, 7, CB_SECTOR_SIZE);
	tap_check(cb_map_put(&a, 7, buf, true) == 1 && cb_map_put(&a, 7, buf, true) == 0 &&
		  a.nr_sectors == 1, "put one 512-byte sector, replace it");
	tap_check(cb_map_overlaps(&a, 7, 1) && !cb_map_overlaps(&a, 0, 7) &&
		  !cb_map_overlaps(&a, 8, 100) && cb_map_overlaps(&a, 0, 8),
		  "overlap is exact to the sector");
	tap_check(!cb_map_overlaps(&a, ~0ULL - 3, 10) &&
		  cb_map_count_absent(&a, ~0ULL - 3, 10) == 0,
		  "wrapping range is empty");
	memset(buf, 9, CB_SECTOR_SIZE);
	tap_check(cb_map_put(&a, 7, buf, false) == 0, "put without replace keeps the first");
	{
		const void *p;

		tap_check(cb_map_get(&a, 7, &p) && ((const unsigned char *)p)[0] == 7,
			  "first content kept");
		tap_check(cb_map_put(&a, 7, NULL, true) == 0 && cb_map_get(&a, 7, &p) &&
			  !p && a.nr_data == 0, "zeroing a sector frees its buffer");
	}
	{
		const void *p;
		int added = -1;
		unsigned char *slot = cb_map_slot(&a, 7, &added);

		tap_check(slot && added == 0 && a.nr_data == 1,
			  "slot over a zero sector gives it a buffer");
		memset(slot, 0x5a, CB_SECTOR_SIZE);
		slot = cb_map_slot(&a, 9, &added);
		tap_check(slot && added == 1 && a.nr_sectors == 2,
			  "slot adds an absent sector");
		memset(slot, 0x5b, CB_SECTOR_SIZE);
		tap_check(cb_map_get(&a, 7, &p) && ((const unsigned char *)p)[511] == 0x5a &&
			  cb_map_get(&a, 9, &p) && ((const unsigned char *)p)[0] == 0x5b,
			  "slot content is what the caller wrote");
	}
	{
		const void *p;
		int added = -1;
		unsigned char *page;

		/* chunk 1 (sectors 8-15) holds sector 9 from above */
		tap_check(!cb_map_chunk_empty(&a, 1) && cb_map_chunk_empty(&a, 2),
			  "chunk_empty");
		page = cb_map_chunk_slot(&a, 1, &added);
		tap_check(page && added == 7 && a.nr_sectors == 9 && a.nr_data == 9,
			  "chunk slot over a partly buffered chunk");
		memset(page, 0x61, CB_SECTOR_SIZE * CB_CHUNK_SECTORS);
		tap_check(cb_map_put(&a, 12, NULL, true) == 0 && a.nr_data == 8 &&
			  cb_map_get(&a, 12, &p) && !p, "zeroing a sector of a page chunk");
		memset(buf, 0x62, CB_SECTOR_SIZE);
		tap_check(cb_map_put(&a, 12, buf, true) == 0 && cb_map_get(&a, 12, &p) &&
			  ((const unsigned char *)p)[0] == 0x62 && a.nr_data == 9,
			  "rewriting it gives it a buffer of its own");
		page = cb_map_chunk_slot(&a, 1, &added);
		tap_check(page && added == 0 && a.nr_data == 9 && cb_map_get(&a, 12, &p) &&
			  p == page + 4 * CB_SECTOR_SIZE, "chunk slot again reuses the page");
		memset(page, 0x63, CB_SECTOR_SIZE * CB_CHUNK_SECTORS);
		tap_check(cb_map_get(&a, 15, &p) && ((const unsigned char *)p)[0] == 0x63,
			  "page content readable per sector");
	}
	{
		const void *p;
		unsigned char *page = cb_page_alloc();

		memset(page, 0x64, CB_SECTOR_SIZE * CB_CHUNK_SECTORS);
		tap_check(cb_map_chunk_adopt(&a, 1, page) == 0,
			  "adopt refuses a chunk that holds sectors");
		tap_check(cb_map_chunk_adopt(&a, 40, page) == CB_CHUNK_SECTORS &&
			  a.nr_sectors == 17 && a.nr_data == 17 &&
			  cb_map_get(&a, 323, &p) && p == page + 3 * CB_SECTOR_SIZE &&
			  ((const unsigned char *)p)[0] == 0x64,
			  "adopt takes the page of an empty chunk, no copy");
		tap_check(cb_map_put(&a, 323, NULL, true) == 0 && a.nr_data == 16 &&
			  cb_map_get(&a, 323, &p) && !p,
			  "zeroing a sector of an adopted page");
	}
	cb_map_clear(&a);
	tap_check(!a.nr_sectors && !a.nr_chunks && !cb_map_overlaps(&a, 0, 100),
		  "clear empties the map");

	random_puts(&a, model_a, 20000, true, &seed);
	tap_check(check_map(&a, model_a), "random puts with replace match the model");
	tap_check(a.nr_buckets > 64, "hash grew (%u buckets for %llu chunks)",
		  a.nr_buckets, (unsigned long long)a.nr_chunks);
	tap_check(check_ranges(&a, model_a, &seed), "overlap/absent counts on random ranges");

	memset(model_b, 0, sizeof(model_b));
	random_puts(&b, model_b, 1500, false, &seed);
	tap_check(check_map(&b, model_b), "random puts without replace match the model");

	/* merge: sparse top over bottom */
	cb_map_clear(&a);
	memset(model_a, 0, sizeof(model_a));
	random_puts(&a, model_a, 700, true, &seed);
	cb_map_merge_runs(&a, &b, buf, merge_fn, &mg);
	for (s = 0; s < DISK; s++)
		if (!!mg.seen[s] != !!(model_a[s] || model_b[s]))
			mg.ok = 0;
	tap_check(mg.ok, "merge yields every sector once, ascending, top winning");
	tap_check(cb_map_merge_runs(&a, &b, buf, stop_fn, NULL) == -5,
		  "merge stops at the first error");

	{
		struct cb_map old;
		u64 chunks = a.nr_chunks, sectors = a.nr_sectors;

		tap_check(!cb_map_move(&old, &a) && !a.nr_sectors && !a.nr_chunks &&
			  !cb_map_overlaps(&a, 0, DISK) && old.nr_chunks == chunks &&
			  old.nr_sectors == sectors && check_map(&old, model_a),
			  "move leaves the map empty, the content in the other");
		memset(model_b, 0, sizeof(model_b));
		random_puts(&a, model_b, 300, true, &seed);
		tap_check(a.nr_sectors > 0, "the emptied map takes new sectors");
		cb_map_destroy(&old);
	}
	cb_map_destroy(&a);
	cb_map_destroy(&b);
	cb_map_destroy(&b);
	tap_check(1, "destroy (twice) frees everything (ASan checks leaks)");
	return tap_done();
}
