/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few types the core files need, so that dset.c and args.c build both
 * in the kernel and in userspace (unit tests, fuzzers).
 */
#ifndef COLO_CKPT_COMPAT_H
#define COLO_CKPT_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/bitops.h>
#define ckpt_popcount64(x) hweight64(x)
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
typedef uint64_t u64;
typedef uint32_t u32;
#define ckpt_popcount64(x) ((u64)__builtin_popcountll(x))
#endif

/* Index of the lowest set bit; x must not be 0. */
#define ckpt_ctz64(x) ((u64)__builtin_ctzll(x))

#endif
