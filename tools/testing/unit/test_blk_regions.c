// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the colo region map (the primary's written record): edge
 * cases of geometry and ranges, then random sets, clears and walks against
 * a flat model of one flag per region on a device whose length is not a
 * multiple of the region size.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_blk/regions.h"

#define DEV 10007	/* sectors: the last region is partial */
#define SHIFT 4		/* 16 sectors per region */
#define NR ((DEV + (1 << SHIFT) - 1) >> SHIFT)

static unsigned char model[NR];

/* Every run the walk yields from sector 0, compared with the model. */
static int check_walk(const struct cb_regions *r)
{
	u64 from = 0, start, nr, i = 0, count = 0;

	while (cb_regions_next_run(r, from, &start, &nr)) {
		while (i < NR && !model[i])
			i++;
		if (i >= NR || start != i << SHIFT)
			return 0;
		while (i < NR && model[i]) {
			i++;
			count++;
		}
		if (start + nr != (i >= NR ? DEV : i << SHIFT))
			return 0;
		from = start + nr;
	}
	while (i < NR && !model[i])
		i++;
	return i == NR && count == r->nr_set;
}

static int random_ops(struct cb_regions *r, unsigned int *seed)
{
	unsigned int k;

	for (k = 0; k < 20000; k++) {
		u64 s = rand_r(seed) % (DEV + 40), n = rand_r(seed) % 200, i, want = 0, end;
		bool set = rand_r(seed) % 3;

		end = s + n < DEV ? s + n : DEV;
		for (i = 0; i < NR && n && s < DEV; i++) {
			u64 rs = i << SHIFT, re = (i + 1) << SHIFT;

			if (re > DEV)
				re = DEV;
			if (set && rs < end && re > s && !model[i]) {
				model[i] = 1;
				want++;
			} else if (!set && rs >= s && re <= end && model[i]) {
				model[i] = 0;
				want++;
			}
		}
		if ((set ? cb_regions_set(r, s, n) : cb_regions_clear(r, s, n)) != want)
			return 0;
		if (k % 500 == 0 && !check_walk(r))
			return 0;
	}
	return check_walk(r);
}

int main(void)
{
	struct cb_regions r, o;
	unsigned int seed = 42;
	u64 start, nr;

	tap_check(cb_regions_init(&r, 0, 4) == -EINVAL, "an empty device is refused");
	tap_check(cb_regions_init(&r, 100, 64) == -EINVAL, "a shift of 64 is refused");
	tap_check(cb_regions_init(&r, CB_REGIONS_MAX_BYTES * 8 * 8 + 1, 3) == -E2BIG,
		  "a bitmap over the limit is refused");
	tap_check(!cb_regions_init(&r, CB_REGIONS_MAX_BYTES * 8 * 8, 3) &&
		  r.nr == CB_REGIONS_MAX_BYTES * 8, "a bitmap at the limit is allocated");
	cb_regions_destroy(&r);

	tap_check(!cb_regions_init(&r, DEV, SHIFT) && r.nr == NR && !r.nr_set,
		  "map of %u regions, none set", NR);
	tap_check(!cb_regions_next_run(&r, 0, &start, &nr), "an empty map has no run");
	tap_check(cb_regions_set(&r, 15, 2) == 2 && cb_regions_test(&r, 0) &&
		  cb_regions_test(&r, 1) && r.nr_set == 2,
		  "two sectors across a boundary set two regions");
	tap_check(cb_regions_set(&r, 0, 32) == 0, "setting them again sets nothing");
	tap_check(cb_regions_next_run(&r, 0, &start, &nr) && start == 0 && nr == 32,
		  "the run is 0+32");
	tap_check(cb_regions_next_run(&r, 20, &start, &nr) && start == 16 && nr == 16,
		  "a walk from inside a run starts at its region");
	tap_check(!cb_regions_next_run(&r, 32, &start, &nr), "nothing after the run");
	tap_check(cb_regions_clear(&r, 1, 31) == 1 && cb_regions_test(&r, 0) &&
		  !cb_regions_test(&r, 1), "a clear only takes whole regions");
	tap_check(cb_regions_clear(&r, 0, 15) == 0 && r.nr_set == 1,
		  "a clear short of a region's end takes nothing");
	tap_check(cb_regions_set(&r, DEV - 1, 1000) == 1 &&
		  cb_regions_test(&r, NR - 1) && !cb_regions_test(&r, NR),
		  "a range past the end is clipped");
	tap_check(cb_regions_next_run(&r, 16, &start, &nr) &&
		  start == (u64)(NR - 1) << SHIFT && start + nr == DEV,
		  "the last run ends at the end of the device");
	tap_check(cb_regions_clear(&r, (u64)(NR - 1) << SHIFT, ~0ULL) == 1,
		  "the partial last region clears with a range to the end");
	tap_check(cb_regions_set(&r, DEV, 5) == 0 && cb_regions_set(&r, 5, 0) == 0 &&
		  cb_regions_clear(&r, DEV + 1, 5) == 0,
		  "ranges outside the device or empty do nothing");
	tap_check(!cb_regions_next_run(&r, DEV, &start, &nr), "no walk from past the end");
	tap_check(cb_regions_set(&r, 0, ~0ULL) == NR - 1 && r.nr_set == NR &&
		  cb_regions_next_run(&r, 0, &start, &nr) && start == 0 && nr == DEV,
		  "the whole device is one run");
	cb_regions_clear_all(&r);
	tap_check(!r.nr_set && !cb_regions_test(&r, 0) && !cb_regions_test(&r, NR - 1),
		  "clear_all empties the map");

	tap_check(!cb_regions_init(&o, DEV, SHIFT), "second map");
	cb_regions_set(&r, 0, 64);
	cb_regions_set(&o, 48, 64);
	cb_regions_or(&r, &o);
	tap_check(r.nr_set == 7 && cb_regions_next_run(&r, 0, &start, &nr) &&
		  start == 0 && nr == 112, "or merges and counts the union");
	cb_regions_destroy(&o);
	cb_regions_clear_all(&r);

	tap_check(random_ops(&r, &seed), "20000 random sets and clears match the model");
	cb_regions_destroy(&r);

	tap_check(!cb_regions_init(&r, ~0ULL, 62) && r.nr == 4 &&
		  cb_regions_set(&r, ~0ULL - 2, 1) == 1 && cb_regions_test(&r, 3) &&
		  cb_regions_next_run(&r, 0, &start, &nr) && start == 3ULL << 62 &&
		  start + nr == ~0ULL, "a device of 2^64 - 1 sectors in four regions");
	cb_regions_destroy(&r);
	return tap_done();
}
