/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest workload and the test clients agree on: the deterministic
 * stream's bytes and the disk records' layout. Included by colo-guestd (in
 * the guest) and by the test tools (outside), so both compute the same bytes.
 */
#ifndef COLO_GUEST_PATTERN_H
#define COLO_GUEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GUEST_PORT_STREAM 7001	/* "SEED LEN\n" -> LEN pattern bytes */
#define GUEST_PORT_ECHO 7002	/* every byte back */
#define GUEST_PORT_RANDOM 7003	/* "SEED LEN\n" -> LEN random bytes */

/* splitmix64: a cheap, well-mixed function of (seed, position). */
static inline uint64_t guest_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Fills buf with the stream bytes [off, off + len) of seed. */
static inline void guest_pattern(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t word = guest_mix64(seed * 0x100000001b3ULL ^ ((off + i) >> 3));
		unsigned int b = (off + i) & 7;

		for (; b < 8 && i < len; b++, i++)
			buf[i] = (uint8_t)(word >> (b * 8));
	}
}

/*
 * Disk records: one per 4 KiB slot, record n in slot n % slots. The writer
 * counts a record acknowledged only after its O_DIRECT|O_DSYNC write
 * returned, so every acknowledged record must be on the disk that survives.
 */
#define GUEST_RECORD_SIZE 4096
#define GUEST_RECORD_MAGIC 0x434f4c4f52454331ULL /* "COLOREC1" */

struct guest_record {
	uint64_t magic;
	uint64_t seq;		/* record number, from 0 */
	uint64_t tick;		/* the workload's tick when written */
	uint64_t sum;		/* FNV-1a of the whole record with sum = 0 */
	uint8_t fill[GUEST_RECORD_SIZE - 32];
};

static inline uint64_t guest_fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static inline void guest_record_fill(struct guest_record *r, uint64_t seq, uint64_t tick)
{
	r->magic = GUEST_RECORD_MAGIC;
	r->seq = seq;
	r->tick = tick;
	r->sum = 0;
	guest_pattern(seq, 0, r->fill, sizeof(r->fill));
	r->sum = guest_fnv1a(r, sizeof(*r));
}

/* 1 if r is an intact record number seq. */
static inline int guest_record_valid(const struct guest_record *r, uint64_t seq)
{
	struct guest_record copy;

	if (r->magic != GUEST_RECORD_MAGIC || r->seq != seq)
		return 0;
	memcpy(&copy, r, sizeof(copy));
	copy.sum = 0;
	return guest_fnv1a(&copy, sizeof(copy)) == r->sum;
}

#endif /* COLO_GUEST_PATTERN_H */
