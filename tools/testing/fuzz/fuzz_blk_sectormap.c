// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the colo sector map: the input is a list of operations on two maps
 * (SVM-like "top" and pre-image-like "bottom") over a small window of
 * sectors placed anywhere in the 64-bit sector space; every answer is
 * checked against a flat model, and the merge must yield each buffered
 * sector once with the top map winning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_blk/sectormap.h"

#define WINDOW 512

static u8 model[2][WINDOW];	/* 0 absent, 1 zeroes, else the data byte */
static u8 seen[WINDOW];
static u64 origin, last;

static int merge_check(void *ctx, u64 sector, u32 nr, const void *data)
{
	const u8 *p = data;
	u32 i;

	if (last != ~0ULL && sector <= last)
		abort();	/* runs come in ascending order */
	last = sector + nr - 1;
	for (i = 0; i < nr; i++) {
		u64 s = sector + i - origin;
		u8 want;

		if (s >= WINDOW || seen[s])
			abort();
		seen[s] = 1;
		want = model[0][s] ? model[0][s] : model[1][s];
		if (!want || p[i * CB_SECTOR_SIZE] != (want == 1 ? 0 : want))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 buf[CB_SECTOR_SIZE * CB_CHUNK_SECTORS];
	struct cb_map m[2];
	size_t pos = 8;
	u64 s, k;

	if (size < 8)
		return 0;
	memcpy(&origin, data, 8);
	if (origin > ~0ULL - WINDOW)
		origin = ~0ULL - WINDOW;
	memset(model, 0, sizeof(model));
	if (cb_map_init(&m[0]) || cb_map_init(&m[1]))
		abort();

	while (pos + 4 <= size) {
		u8 op = data[pos] & 7, which = (data[pos] >> 3) & 1;
		u64 at = ((u64)data[pos + 1] << 8 | data[pos + 2]) % WINDOW;
		u8 val = data[pos + 3];
		u64 nr = 1 + val % 40, absent = 0;
		int ret;

		pos += 4;
		switch (op) {
		case 0: case 1: case 2:	/* put: replace, keep, zeroes */
			memset(buf, val < 2 ? 2 : val, CB_SECTOR_SIZE);
			ret = cb_map_put(&m[which], origin + at, op == 2 ? NULL : buf,
					 op != 1);
			if (ret < 0 || ret != !model[which][at])
				abort();
			if (op != 1 || !model[which][at])
				model[which][at] = op == 2 ? 1 : (val < 2 ? 2 : val);
			break;
		case 3:			/* range queries */
			if (at + nr > WINDOW)
				nr = WINDOW - at;
			for (k = 0; k < nr; k++)
				absent += !model[which][at + k];
			if (cb_map_count_absent(&m[which], origin + at, nr) != absent ||
			    cb_map_overlaps(&m[which], origin + at, nr) != (absent != nr))
				abort();
			break;
		case 4:			/* point lookup */
		{
			const void *p = NULL;
			bool present = cb_map_get(&m[which], origin + at, &p);

			if (present != !!model[which][at] ||
			    (present && (model[which][at] == 1) != !p) ||
			    (p && *(const u8 *)p != model[which][at]))
				abort();
			break;
		}
		case 5:			/* checkpoint-like clear */
			if (val & 1) {
				cb_map_clear(&m[which]);
				memset(model[which], 0, WINDOW);
			}
			break;
		case 6:			/* write through a slot */
		{
			int added;
			u8 *p = cb_map_slot(&m[which], origin + at, &added);

			if (!p || added != !model[which][at])
				abort();
			memset(p, val < 2 ? 2 : val, CB_SECTOR_SIZE);
			model[which][at] = val < 2 ? 2 : val;
			break;
		}
		case 7:			/* whole-chunk write (half the time) */
			if (val & 1) {
				int added, want = 0;
				u64 first = ((origin + at) & ~(u64)(CB_CHUNK_SECTORS - 1)) - origin;
				u8 *p;

				if (first + CB_CHUNK_SECTORS > WINDOW || first > WINDOW)
					break;
				for (k = 0; k < CB_CHUNK_SECTORS; k++)
					want += !model[which][first + k];
				if (cb_map_chunk_empty(&m[which], (origin + first) >> CB_CHUNK_SHIFT) !=
				    (want == CB_CHUNK_SECTORS))
					abort();
				if (val & 2) {
					/* a pre-image read into its own page */
					p = cb_page_alloc();
					if (!p)
						abort();
					memset(p, val < 2 ? 2 : val,
					       CB_SECTOR_SIZE * CB_CHUNK_SECTORS);
					added = cb_map_chunk_adopt(&m[which],
								   (origin + first) >> CB_CHUNK_SHIFT, p);
					if (added != (want == CB_CHUNK_SECTORS ? want : 0))
						abort();
					if (!added) {
						cb_page_free(p);
						break;
					}
				} else {
					p = cb_map_chunk_slot(&m[which],
							      (origin + first) >> CB_CHUNK_SHIFT,
							      &added);
					if (!p || added != want)
						abort();
					memset(p, val < 2 ? 2 : val,
					       CB_SECTOR_SIZE * CB_CHUNK_SECTORS);
				}
				memset(&model[which][first], val < 2 ? 2 : val, CB_CHUNK_SECTORS);
				break;
			}
			/* fall through */
		default:		/* merge */
			memset(seen, 0, sizeof(seen));
			last = ~0ULL;
			cb_map_merge_runs(&m[0], &m[1], buf, merge_check, NULL);
			for (s = 0; s < WINDOW; s++)
				if (seen[s] != !!(model[0][s] || model[1][s]))
					abort();
			break;
		}
	}
	for (k = 0; k < 2; k++) {
		u64 n = 0;

		for (s = 0; s < WINDOW; s++)
			n += !!model[k][s];
		if (m[k].nr_sectors != n)
			abort();
		cb_map_destroy(&m[k]);
	}
	return 0;
}
