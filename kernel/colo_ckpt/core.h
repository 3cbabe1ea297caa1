/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colo_ckpt core: the dirty set and the validation of ioctl arguments.
 * Plain C shared by the module and the userspace tests.
 */
#ifndef COLO_CKPT_CORE_H
#define COLO_CKPT_CORE_H

#include "compat.h"
#include <uapi/linux/colo_ckpt.h>

/*
 * A dirty set over npages pages: one bit per page plus a summary bit per
 * 64-bit word of page bits. Walking the set reads the summary (npages/4096
 * words: 256 words for 4 GiB of 4 KiB pages) and then only non-empty
 * words, so collecting costs O(dirty pages) plus a small constant, not
 * O(object size). The caller provides zeroed storage and the locking.
 */
struct ckpt_dset {
	u64 *bits;
	u64 *summary;
	u64 npages;
	u64 count;
};

static inline u64 ckpt_dset_bits_words(u64 npages)
{
	return (npages + 63) / 64;
}

static inline u64 ckpt_dset_summary_words(u64 npages)
{
	return (ckpt_dset_bits_words(npages) + 63) / 64;
}

void ckpt_dset_init(struct ckpt_dset *d, u64 *bits, u64 *summary, u64 npages);
bool ckpt_dset_test(const struct ckpt_dset *d, u64 idx);
bool ckpt_dset_add(struct ckpt_dset *d, u64 idx);
bool ckpt_dset_del(struct ckpt_dset *d, u64 idx);
u64 ckpt_dset_snapshot(const struct ckpt_dset *d, u64 *out, u64 max);

/* Argument checks: 0 or a negative errno (see the uapi header). */
int ckpt_name_check(const char name[COLO_CKPT_NAME_MAX]);
int ckpt_size_check(u64 size, u64 page_size, u64 max_pages);
int ckpt_set_check(const struct colo_ckpt_set *set, u64 npages);
int ckpt_list_check(const u64 *list, u64 n, u64 npages);
int ckpt_bitmap_check(const u64 *bitmap, u64 nbits, u64 npages);
u64 ckpt_bitmap_weight(const u64 *bitmap, u64 nbits);
u64 ckpt_bitmap_to_list(const u64 *bitmap, u64 nbits, u64 *out);
u64 ckpt_list_union(const u64 *a, u64 na, const u64 *b, u64 nb, u64 *out);

#endif
