/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the hostile_* generators: a seeded random source, so a failing
 * run can be repeated from the seed it printed, and a set of input hashes,
 * so the tests can report how many distinct inputs they really tried.
 */
#ifndef COLO_HOSTILE_H
#define COLO_HOSTILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define HOSTILE_SEEN_SLOTS (1u << 20)

static uint64_t hostile_rng_state;
static uint64_t *hostile_seen;

static inline void hostile_seed(uint64_t seed)
{
	hostile_rng_state = seed | 1;
}

/* xorshift64*: fast, and the same sequence for the same seed everywhere */
static inline uint64_t rnd(void)
{
	hostile_rng_state ^= hostile_rng_state >> 12;
	hostile_rng_state ^= hostile_rng_state << 25;
	hostile_rng_state ^= hostile_rng_state >> 27;
	return hostile_rng_state * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rnd_below(uint64_t n)
{
	return n ? (rnd() >> 11) % n : 0;
}

/*
 * The hash set lives in shared anonymous memory, so children forked to run
 * batches add to the parent's count. Returns 0, or -1 when out of memory.
 */
static inline int hostile_seen_init(void)
{
	void *p = mmap(NULL, HOSTILE_SEEN_SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	hostile_seen = p;
	return 0;
}

/* Remember an input (its bytes plus a salt such as a command number);
 * returns 1 the first time it is seen, 0 after. FNV-1a, open addressing.
 */
static inline int hostile_remember(const void *data, size_t len, uint64_t salt)
{
	const unsigned char *c = data;
	uint64_t h = 1469598103934665603ULL ^ salt;
	uint32_t slot;

	while (len--) {
		h ^= *c++;
		h *= 1099511628211ULL;
	}
	h |= 1;		/* 0 marks an empty slot */
	for (slot = h & (HOSTILE_SEEN_SLOTS - 1); hostile_seen[slot];
	     slot = (slot + 1) & (HOSTILE_SEEN_SLOTS - 1))
		if (hostile_seen[slot] == h)
			return 0;
	hostile_seen[slot] = h;
	return 1;
}

#endif
