/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims that let the pure-C parts of dm-colo (table/message parsing and the
 * sector map) build both in the kernel and in userspace, where the unit tests
 * and fuzzers run them under ASan/UBSan.
 */
#ifndef COLO_BLK_COMPAT_H
#define COLO_BLK_COMPAT_H

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/bitops.h>
#include <linux/math64.h>
#define cb_popcount64(x) hweight64(x)
#define cb_div64(a, b) div64_u64(a, b)
#define cb_ctz64(x) __ffs64(x)		/* x != 0 */
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define cb_popcount64(x) ((u64)__builtin_popcountll(x))
#define cb_ctz64(x) ((u64)__builtin_ctzll(x))	/* x != 0 */
#define cb_div64(a, b) ((u64)(a) / (u64)(b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define CB_SECTOR_SHIFT 9
#define CB_SECTOR_SIZE (1U << CB_SECTOR_SHIFT)

/*
 * Allocation hooks. The kernel glue backs sector buffers and chunk nodes with
 * kmem_caches of its own (so a leak shows up when the cache is destroyed) and
 * allocates in a no-I/O scope; userspace uses malloc.
 */
void *cb_zalloc(size_t size);
void cb_free(void *p);
void *cb_sector_alloc(void);
void cb_sector_free(void *p);
void *cb_chunk_alloc(void);
void cb_chunk_free(void *p);
void *cb_page_alloc(void);		/* 4 KiB, for a whole chunk */
void cb_page_free(void *p);
void cb_sort(void *base, size_t num, size_t size,
	     int (*cmp)(const void *, const void *));

#endif
