// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the primary's drain bound (kernel/colo_blk/drain.c): the
 * limit from the measured bandwidth (floor, queue_bytes, off), the smoothing
 * (first measurement replaces the guess, moves by a quarter, short
 * measurements add up, huge ones do not overflow), and the admission rule:
 * never beyond the bounds, and a writer that must wait with nothing queued
 * always has a flush due to wake it.
 */
#include <stdlib.h>

#include "tap.h"
#include "colo_blk/drain.h"

#define MS 1000000ULL
#define MIB (1ULL << 20)

/* Feeds `rate` bytes per second in 50 ms measurements, n times. */
static void feed(struct cb_drain *d, u64 rate, int n)
{
	while (n--)
		cb_drain_sample(d, rate / 20, 50 * MS);
}

static int liveness(unsigned int *seed)
{
	struct cb_drain d;
	int k;

	for (k = 0; k < 200000; k++) {
		u64 queue = (64ULL << 10) + (u64)rand_r(seed) * 1024;
		u64 queued, unflushed, bytes = 512 + rand_r(seed) % MIB;
		unsigned int nr = rand_r(seed) % 3;

		cb_drain_init(&d, rand_r(seed) % 4 ? rand_r(seed) % 300 : 0, queue);
		if (rand_r(seed) % 2)
			feed(&d, (u64)rand_r(seed) * 64, 1 + rand_r(seed) % 3);
		queued = nr ? (u64)rand_r(seed) % (2 * queue) : 0;
		unflushed = (u64)rand_r(seed) % (4 * d.limit + 1);
		if (cb_drain_room(&d, queued, unflushed, nr, bytes)) {
			/* admitted: within the bounds, or into an empty queue */
			if (nr && queued + bytes > queue)
				return 0;
			if (d.drain_ms && nr && queued + unflushed + bytes > d.limit)
				return 0;
			if (d.drain_ms && !nr && unflushed >= d.limit / 2 &&
			    unflushed + bytes > d.limit)
				return 0;
		} else if (!nr && !cb_drain_flush_due(&d, unflushed)) {
			/* nothing pending would wake this writer */
			return 0;
		}
	}
	return 1;
}

int main(void)
{
	struct cb_drain d;
	unsigned int seed = 7;

	cb_drain_init(&d, 100, 64 * MIB);
	tap_check(d.limit == CB_DRAIN_START_BW / 10,
		  "before any measurement: the start bandwidth for 100 ms (%llu)",
		  (unsigned long long)d.limit);
	feed(&d, 10 * MIB, 1);
	tap_check(d.bw == 10 * MIB && d.limit == MIB,
		  "the first measurement replaces the guess: 10 MiB/s, 1 MiB for 100 ms");
	feed(&d, 100 * MIB, 1);
	tap_check(d.bw == 10 * MIB + 90 * MIB / 4, "rises by a quarter (%llu)",
		  (unsigned long long)d.bw);
	feed(&d, 100 * MIB, 40);
	tap_check(d.bw > 99 * MIB && d.bw <= 100 * MIB && d.limit > 9 * MIB &&
		  d.limit <= 10 * MIB, "converges: 100 MiB/s, 10 MiB for 100 ms");
	feed(&d, 20 * MIB, 1);
	tap_check(d.bw < 81 * MIB && d.bw >= 79 * MIB, "falls by a quarter (%llu)", (unsigned long long)d.bw);
	feed(&d, 1000, 30);
	tap_check(d.limit == CB_DRAIN_FLOOR, "a crawling path keeps the 256 KiB floor");
	feed(&d, 100ULL << 30, 30);
	tap_check(d.limit == 64 * MIB, "queue_bytes caps the bound");

	cb_drain_init(&d, 100, 64 * MIB);
	cb_drain_sample(&d, MIB, 8 * MS);
	tap_check(d.samples == 0 && d.bw == CB_DRAIN_START_BW,
		  "an 8 ms measurement is kept for later");
	cb_drain_sample(&d, MIB, 12 * MS);
	tap_check(d.samples == 1 && d.bw == 100 * MIB,
		  "and added to the next: 2 MiB in 20 ms (%llu)", (unsigned long long)d.bw);

	cb_drain_init(&d, CB_MAX_DRAIN_MS, ~0ULL);
	cb_drain_sample(&d, ~0ULL, 10 * MS);
	cb_drain_sample(&d, ~0ULL, 1);
	cb_drain_sample(&d, ~0ULL, ~0ULL / 2);
	tap_check(d.bw <= CB_DRAIN_MAX_BW && d.limit <= CB_DRAIN_MAX_BW * 60,
		  "huge measurements and 60 s stay within 64 bits");

	cb_drain_init(&d, 0, 4 * MIB);
	feed(&d, MIB, 5);
	tap_check(d.limit == 4 * MIB && !cb_drain_flush_due(&d, ~0ULL),
		  "drain_ms 0: queue_bytes alone, no background flush");
	tap_check(cb_drain_room(&d, 3 * MIB, 100 * MIB, 5, MIB) &&
		  !cb_drain_room(&d, 3 * MIB + 1, 0, 5, MIB) &&
		  cb_drain_room(&d, 100 * MIB, 0, 0, MIB),
		  "drain_ms 0: the queue_bytes rule as before (an empty queue takes a copy)");

	cb_drain_init(&d, 100, 64 * MIB);
	feed(&d, 20 * MIB, 1);		/* limit 2 MiB */
	tap_check(cb_drain_room(&d, MIB / 2, MIB / 2, 3, MIB) &&
		  !cb_drain_room(&d, MIB / 2, MIB / 2 + 1, 3, MIB),
		  "queued + unflushed + the copy stay under the limit");
	tap_check(cb_drain_room(&d, 0, MIB - 1, 0, MIB) && !cb_drain_flush_due(&d, MIB - 1),
		  "an empty queue takes a copy while no flush is due");
	tap_check(!cb_drain_room(&d, 0, 3 * MIB / 2, 0, MIB) &&
		  cb_drain_flush_due(&d, 3 * MIB / 2),
		  "with a flush due, the copy waits for it");

	tap_check(liveness(&seed),
		  "random states: admitted within bounds; a waiter with nothing queued has a flush due");
	return tap_done();
}
