/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Region map: one bit per fixed-size region of a device (a power of two of
 * sectors), with a count of the bits set. The primary records in it which
 * regions the secondary may be missing. Plain C: built into colo_blk.ko and
 * into the userspace unit tests and fuzzers. No locking: the caller
 * serialises changes.
 */
#ifndef COLO_BLK_REGIONS_H
#define COLO_BLK_REGIONS_H

#include "cb_compat.h"

/* Largest bitmap a map may take (bytes): bounds the memory of one target. */
#define CB_REGIONS_MAX_BYTES (32ULL << 20)

struct cb_regions {
	u64 *bits;
	u64 nr;				/* regions */
	u64 nr_set;			/* bits set */
	u64 dev_sectors;		/* device length */
	u32 shift;			/* log2 of the sectors per region */
};

/*
 * A map of the regions of a device of dev_sectors sectors (> 0), 1 << shift
 * sectors each (shift < 64), all clear. -E2BIG when the bitmap would take
 * more than CB_REGIONS_MAX_BYTES, -ENOMEM.
 */
int cb_regions_init(struct cb_regions *r, u64 dev_sectors, u32 shift);
void cb_regions_destroy(struct cb_regions *r);

/*
 * Marks every region that [sector, sector + nr) touches; the range is
 * clipped to the device. Returns the number of regions newly set.
 */
u64 cb_regions_set(struct cb_regions *r, u64 sector, u64 nr);

/*
 * Clears the regions that lie wholly inside [sector, sector + nr) (the last
 * region of the device counts as whole when the range reaches the end of the
 * device); regions only partly covered stay set. Returns the number cleared.
 */
u64 cb_regions_clear(struct cb_regions *r, u64 sector, u64 nr);
void cb_regions_clear_all(struct cb_regions *r);

/* Sets in dst every region set in src (same geometry). */
void cb_regions_or(struct cb_regions *dst, const struct cb_regions *src);

bool cb_regions_test(const struct cb_regions *r, u64 region);

/*
 * The run of set regions that begins at the first set region at or after
 * the one holding sector `from` and ends at the next clear region, in
 * sectors: *start is region aligned (so below `from` when `from` is not),
 * *nr is clipped to the end of the device. false when there is none.
 */
bool cb_regions_next_run(const struct cb_regions *r, u64 from, u64 *start,
			 u64 *nr);

#endif
