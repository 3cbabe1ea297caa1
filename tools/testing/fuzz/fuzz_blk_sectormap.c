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
static u64 origin;

static int merge_check(void *ctx, u64 sector, u32 nr, const void *data)
{
	const u8 *p = data;
	u32 i;

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
		default:		/* merge */
			memset(seen, 0, sizeof(seen));
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
