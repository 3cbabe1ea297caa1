/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sector map: an in-memory buffer of 512-byte sectors keyed by sector number.
 *
 * Sectors are grouped in chunks of CB_CHUNK_SECTORS (one 4 KiB page) so that
 * a lookup costs one hash probe per page, while each sector is stored on its
 * own: a 512-byte write buffers 512 bytes, not a page. A present sector
 * without a buffer reads as zeroes (discard / write-zeroes).
 */
#ifndef COLO_BLK_SECTORMAP_H
#define COLO_BLK_SECTORMAP_H

#include "cb_compat.h"

#define CB_CHUNK_SHIFT 3
#define CB_CHUNK_SECTORS (1U << CB_CHUNK_SHIFT)

struct cb_chunk {
	struct cb_chunk *next;
	u64 index;			/* sector >> CB_CHUNK_SHIFT */
	u8 present;			/* bit i: sector i of the chunk is buffered */
	void *data[CB_CHUNK_SECTORS];	/* NULL with the bit set: zeroes */
	/*
	 * A write covering the whole chunk gets one 4 KiB buffer instead of
	 * eight: data[i] then points into it.
	 */
	void *page;
};

struct cb_map {
	struct cb_chunk **buckets;
	u32 nr_buckets;			/* power of two */
	u64 nr_chunks;
	u64 nr_sectors;			/* buffered sectors, zero ones included */
	u64 nr_data;			/* sectors holding a 512-byte buffer */
};

int cb_map_init(struct cb_map *m);
void cb_map_destroy(struct cb_map *m);
void cb_map_clear(struct cb_map *m);
/*
 * Moves everything src holds into dst (not initialised; destroy it later)
 * and leaves src empty with a fresh bucket array, in O(1): a checkpoint can
 * drop a large buffer under its lock and free it afterwards. -ENOMEM leaves
 * both as they were.
 */
int cb_map_move(struct cb_map *dst, struct cb_map *src);

/* true when any sector of [sector, sector + nr) is buffered */
bool cb_map_overlaps(const struct cb_map *m, u64 sector, u64 nr);
/* number of sectors of [sector, sector + nr) that are not buffered */
u64 cb_map_count_absent(const struct cb_map *m, u64 sector, u64 nr);

/*
 * Look one sector up: returns true if buffered; *data is its buffer or NULL
 * for a zero sector.
 */
bool cb_map_get(const struct cb_map *m, u64 sector, const void **data);

/*
 * Buffer one sector: copy CB_SECTOR_SIZE bytes from src, or record zeroes
 * when src is NULL. With replace false an already buffered sector is kept
 * (first pre-image wins). Returns 1 if the sector was added, 0 if it was
 * already there, -ENOMEM.
 */
int cb_map_put(struct cb_map *m, u64 sector, const void *src, bool replace);

/*
 * Writable buffer for one sector, which is buffered from now on (replacing
 * its content or a zero sector): the caller fills all CB_SECTOR_SIZE bytes
 * before anyone reads the map. *added tells whether the sector is new.
 * NULL on allocation failure (the map is unchanged but for an empty chunk).
 */
void *cb_map_slot(struct cb_map *m, u64 sector, int *added);

/*
 * Writable 4 KiB buffer for a whole chunk (sectors index * CB_CHUNK_SECTORS
 * on), all of whose sectors are buffered from now on; same contract as
 * cb_map_slot. *added is the number of sectors that were not buffered.
 */
void *cb_map_chunk_slot(struct cb_map *m, u64 index, int *added);

/*
 * Hands a 4 KiB buffer from cb_page_alloc(), already filled with the content
 * of chunk `index`, over to the map, which frees it from now on: no copy.
 * Only an empty chunk takes it. Returns CB_CHUNK_SECTORS when the page was
 * taken, 0 when the chunk holds sectors already (the caller keeps the page),
 * -ENOMEM.
 */
int cb_map_chunk_adopt(struct cb_map *m, u64 index, void *page);

/* true if no sector of chunk `index` is buffered */
bool cb_map_chunk_empty(const struct cb_map *m, u64 index);

/*
 * Walk the union of two maps chunk by chunk in ascending sector order,
 * calling fn for each run of consecutive buffered sectors within a chunk with
 * their content: a sector of top wins over the same sector of bottom. buf is
 * CB_CHUNK_SECTORS sectors of scratch the caller provides; fn gets a pointer
 * into it. Stops at the first non-zero return of fn and returns it; -ENOMEM
 * if the sort array cannot be allocated.
 */
typedef int (*cb_run_fn)(void *ctx, u64 sector, u32 nr, const void *data);
int cb_map_merge_runs(const struct cb_map *top, const struct cb_map *bottom,
		      void *buf, cb_run_fn fn, void *ctx);

#endif
