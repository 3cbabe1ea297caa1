// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the colo region map (the primary's written record) against a model
 * of one flag per region whose ranges are worked out in 128-bit arithmetic:
 * a device of any length up to 2^64 - 1 sectors, regions of 2^0 to 2^63
 * sectors (at most 4096 of them), ranges around region boundaries and past
 * the end. Two maps, so that "or" is exercised. After every operation the
 * count must match the model; walks must yield the model's runs in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_blk/regions.h"

#define MAX_REGIONS 4096

typedef unsigned __int128 u128;

static u8 model[2][MAX_REGIONS];
static u64 dev, nr_regions;
static u128 rsize;

static u128 reg_start(u64 i)
{
	return (u128)i * rsize;
}

static u128 reg_end(u64 i)
{
	u128 e = (u128)(i + 1) * rsize;

	return e < dev ? e : dev;
}

static u128 range_end(u64 sector, u64 nr)
{
	u128 e = (u128)sector + nr;

	return e < dev ? e : dev;
}

static u64 model_count(int m)
{
	u64 i, n = 0;

	for (i = 0; i < nr_regions; i++)
		n += model[m][i];
	return n;
}

/* A sector near a region boundary, or past the end of the device. */
static u64 pick_sector(uint16_t a, u8 c)
{
	u128 s = reg_start(a % (nr_regions + 1));
	int delta = c & 0x3f;

	if (c & 0x40)
		s = s >= (u128)delta ? s - delta : 0;
	else
		s += delta;
	if (c & 0x80 && s < ~0ULL - 1000)
		s = dev + (c & 7);
	return s > ~0ULL ? ~0ULL : (u64)s;
}

static u64 pick_len(uint16_t b, u8 d)
{
	u128 n = (u128)(b % 70) * rsize;
	int delta = d & 0x3f;

	if (b >= 0xfff0)
		return ~0ULL - (b & 0xf);
	if (d & 0x40)
		n = n >= (u128)delta ? n - delta : 0;
	else
		n += delta;
	return n > ~0ULL ? ~0ULL : (u64)n;
}

static void check_walk(const struct cb_regions *r, int m, u64 from)
{
	u64 start, nr, i = from < dev ? from / rsize : nr_regions, walked = 0;

	while (cb_regions_next_run(r, from, &start, &nr)) {
		u64 first, j;

		while (i < nr_regions && !model[m][i])
			i++;
		if (i >= nr_regions || start != reg_start(i))
			abort();
		first = i;
		while (i < nr_regions && model[m][i])
			i++;
		if (!nr || (u128)start + nr != (i >= nr_regions ? (u128)dev : reg_start(i)))
			abort();
		for (j = first; j < i; j++)
			if (!cb_regions_test(r, j))
				abort();
		walked += i - first;
		from = start + nr;
		if (from >= dev)
			break;
	}
	while (i < nr_regions && !model[m][i])
		i++;
	if (i < nr_regions)
		abort();	/* a set region the walk missed */
	if (walked > r->nr_set)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cb_regions r[2];
	size_t pos = 9;
	u64 i, maxdev;
	u32 shift;

	if (size < 9)
		return 0;
	memcpy(&dev, data, 8);
	shift = data[8] % 64;
	maxdev = shift >= 52 ? ~0ULL : (u64)MAX_REGIONS << shift;
	dev %= maxdev;
	if (!dev)
		dev = 1;
	rsize = (u128)1 << shift;
	nr_regions = (u64)(((u128)dev + rsize - 1) / rsize);
	if (cb_regions_init(&r[0], dev, shift) || cb_regions_init(&r[1], dev, shift))
		abort();
	if (r[0].nr != nr_regions)
		abort();
	memset(model, 0, sizeof(model));

	while (pos + 6 <= size) {
		u8 op = data[pos] & 7, m = (data[pos] >> 3) & 1;
		uint16_t a = (uint16_t)(data[pos + 1] << 8 | data[pos + 2]);
		uint16_t b = (uint16_t)(data[pos + 3] << 8 | data[pos + 4]);
		u8 c = data[pos + 5], d = data[pos] >> 4;
		u64 sector = pick_sector(a, c), nr = pick_len(b, (u8)(d | (c & 0x40)));
		u128 end = range_end(sector, nr);
		u64 want = 0, got;

		pos += 6;
		switch (op) {
		case 0: case 1: case 2:		/* set */
			got = cb_regions_set(&r[m], sector, nr);
			for (i = 0; nr && sector < dev && i < nr_regions; i++) {
				if (reg_start(i) < end && reg_end(i) > sector && !model[m][i]) {
					model[m][i] = 1;
					want++;
				}
			}
			if (got != want)
				abort();
			break;
		case 3: case 4:			/* clear whole regions */
			got = cb_regions_clear(&r[m], sector, nr);
			for (i = 0; nr && sector < dev && i < nr_regions; i++) {
				if (reg_start(i) >= sector && reg_end(i) <= end && model[m][i]) {
					model[m][i] = 0;
					want++;
				}
			}
			if (got != want)
				abort();
			break;
		case 5:
			if (c & 1) {
				cb_regions_or(&r[m], &r[!m]);
				for (i = 0; i < nr_regions; i++)
					model[m][i] |= model[!m][i];
			} else if ((c & 0x0e) == 0) {
				cb_regions_clear_all(&r[m]);
				memset(model[m], 0, sizeof(model[m]));
			}
			break;
		default:			/* walk */
			check_walk(&r[m], m, sector);
			break;
		}
		if (r[0].nr_set != model_count(0) || r[1].nr_set != model_count(1))
			abort();
	}
	check_walk(&r[0], 0, 0);
	check_walk(&r[1], 1, 0);
	for (i = 0; i < nr_regions; i++)
		if (cb_regions_test(&r[0], i) != model[0][i])
			abort();
	cb_regions_destroy(&r[0]);
	cb_regions_destroy(&r[1]);
	return 0;
}
