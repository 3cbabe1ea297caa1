/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small compatibility layer so that the protocol core (frame parsing, sequence
 * arithmetic, compare engine, rewriting) builds unchanged in the kernel and in
 * userspace, where the unit tests and fuzzers run it under ASan/UBSan.
 *
 * All packet fields are read and written byte by byte in network order, so
 * the core never depends on alignment or host endianness.
 */
#ifndef COLO_PROXY_COMPAT_H
#define COLO_PROXY_COMPAT_H

#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/types.h>
#include <linux/string.h>
#include <linux/stddef.h>

static inline unsigned int cp_popcount64(u64 v)
{
	return hweight64(v);
}
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;

static inline unsigned int cp_popcount64(u64 v)
{
	return (unsigned int)__builtin_popcountll(v);
}
#endif

static inline u16 cp_get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 cp_get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void cp_put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void cp_put32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* TCP sequence space (RFC 1982 serial arithmetic, 32 bits). */
static inline bool cp_seq_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static inline bool cp_seq_after(u32 a, u32 b)
{
	return cp_seq_before(b, a);
}

static inline bool cp_seq_before_eq(u32 a, u32 b)
{
	return !cp_seq_after(a, b);
}

/*
 * Minimal intrusive doubly linked list. The kernel's list.h is not usable
 * from userspace, and the core only needs these few operations.
 */
struct cp_list {
	struct cp_list *next, *prev;
};

static inline void cp_list_init(struct cp_list *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool cp_list_empty(const struct cp_list *h)
{
	return h->next == h;
}

static inline void cp_list_add_tail(struct cp_list *n, struct cp_list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void cp_list_del(struct cp_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

#define cp_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif /* COLO_PROXY_COMPAT_H */
