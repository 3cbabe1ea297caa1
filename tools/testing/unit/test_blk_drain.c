// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the primary's drain bound (kernel/colo_blk/drain.c): the
 * send rate and the limit it gives (floor, queue_bytes, off), the flush
 * rate apart from it, the smoothing (first measurement replaces the guess,
 * moves by a quarter, short measurements add up, huge ones do not
 * overflow), the drain estimate, and the admission rule: never beyond the
 * bounds, and a writer that must wait with nothing queued always has a
 * flush due to wake it.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_blk/drain.h"

#define MS 1000000ULL
#define MIB (1ULL << 20)

/* Feeds `rate` bytes per second in 50 ms measurements, n times. */
static void feed(struct cb_drain *d, u64 rate, int n)
{
	while (n--)
		cb_drain_sent(d, rate / 20, 50 * MS);
}

static void feed_flush(struct cb_drain *d, u64 rate, int n)
{
	while (n--)
		cb_drain_flushed(d, rate / 20, 50 * MS);
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
		if (rand_r(seed) % 2)
			feed_flush(&d, (u64)rand_r(seed) * 256, 1 + rand_r(seed) % 3);
		queued = nr ? (u64)rand_r(seed) % (2 * queue) : 0;
		unflushed = (u64)rand_r(seed) % (4 * d.limit + 1);
		if (cb_drain_room(&d, queued, unflushed, nr, bytes)) {
			/* admitted: within the bounds, or into an empty queue */
			if (nr && queued + bytes > queue)
				return 0;
			if (d.drain_ms && (nr || cb_drain_flush_due(&d, unflushed)) &&
			    queued + unflushed + bytes > CB_DRAIN_FLOOR &&
			    cb_drain_estimate_us(&d, queued + bytes, unflushed) > cb_drain_target_us(&d))
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
	struct cb_drain_rate sent;
	struct cb_drain d;
	unsigned int seed = 7;

	cb_drain_init(&d, 100, 64 * MIB);
	tap_check(d.limit == CB_DRAIN_START_BW * 3 / 40 && d.send.bw == CB_DRAIN_START_BW &&
		  d.flush.bw == CB_DRAIN_START_BW && cb_drain_target_us(&d) == 75000,
		  "before any measurement: the start rate for both, the target 3/4 of 100 ms, 75 ms of sending (%llu)",
		  (unsigned long long)d.limit);
	feed(&d, 10 * MIB, 1);
	tap_check(d.send.bw == 10 * MIB && d.limit == 3 * MIB / 4,
		  "the first measurement replaces the guess: 10 MiB/s, 768 KiB for 75 ms");
	feed(&d, 100 * MIB, 1);
	tap_check(d.send.bw == 10 * MIB + 90 * MIB / 4, "rises by a quarter (%llu)",
		  (unsigned long long)d.send.bw);
	feed(&d, 100 * MIB, 40);
	tap_check(d.send.bw > 99 * MIB && d.send.bw <= 100 * MIB && d.limit > 7 * MIB &&
		  d.limit <= 15 * MIB / 2, "converges: 100 MiB/s, 7.5 MiB for 75 ms");
	feed(&d, 20 * MIB, 1);
	tap_check(d.send.bw < 81 * MIB && d.send.bw >= 79 * MIB, "falls by a quarter (%llu)",
		  (unsigned long long)d.send.bw);
	feed(&d, 1000, 30);
	tap_check(d.limit == CB_DRAIN_FLOOR, "a crawling path keeps the 256 KiB floor");
	feed(&d, 100ULL << 30, 30);
	tap_check(d.limit == 64 * MIB, "queue_bytes caps the limit");
	tap_check(d.flush.bw == CB_DRAIN_START_BW, "sends leave the flush rate alone");
	sent = d.send;
	feed_flush(&d, 5 * MIB, 1);
	tap_check(d.flush.bw == 5 * MIB && d.limit == 64 * MIB &&
		  !memcmp(&sent, &d.send, sizeof(sent)),
		  "flushes measure their own rate and leave the send rate and limit alone");

	cb_drain_init(&d, 100, 64 * MIB);
	cb_drain_sent(&d, MIB, 8 * MS);
	tap_check(d.send.samples == 0 && d.send.bw == CB_DRAIN_START_BW,
		  "an 8 ms measurement is kept for later");
	cb_drain_sent(&d, MIB, 12 * MS);
	tap_check(d.send.samples == 1 && d.send.bw == 100 * MIB,
		  "and added to the next: 2 MiB in 20 ms (%llu)", (unsigned long long)d.send.bw);
	cb_drain_flushed(&d, 0, 30 * MS);
	tap_check(d.flush.bw == 1, "a flush that made nothing durable in 30 ms: the rate's floor of 1 B/s");

	cb_drain_init(&d, CB_MAX_DRAIN_MS, ~0ULL);
	cb_drain_sent(&d, ~0ULL, 10 * MS);
	cb_drain_sent(&d, ~0ULL, 1);
	cb_drain_sent(&d, ~0ULL, ~0ULL / 2);
	cb_drain_flushed(&d, ~0ULL, ~0ULL);
	cb_drain_flushed(&d, ~0ULL, ~0ULL);
	tap_check(d.send.bw <= CB_DRAIN_MAX_BW && d.limit <= CB_DRAIN_MAX_BW * 60 &&
		  d.flush.bw >= 1 && cb_drain_estimate_us(&d, ~0ULL, ~0ULL) > 0,
		  "huge measurements and estimates and 60 s stay within 64 bits");

	cb_drain_init(&d, 0, 4 * MIB);
	feed(&d, MIB, 5);
	tap_check(d.limit == 4 * MIB && !cb_drain_flush_due(&d, ~0ULL),
		  "drain_ms 0: queue_bytes alone, no background flush");
	tap_check(cb_drain_room(&d, 3 * MIB, 100 * MIB, 5, MIB) &&
		  !cb_drain_room(&d, 3 * MIB + 1, 0, 5, MIB) &&
		  cb_drain_room(&d, 100 * MIB, 0, 0, MIB),
		  "drain_ms 0: the queue_bytes rule as before (an empty queue takes a copy)");

	cb_drain_init(&d, 100, 64 * MIB);
	feed(&d, 10 * MIB, 1);
	feed_flush(&d, 100 * MIB, 1);
	tap_check(cb_drain_estimate_us(&d, MIB, MIB) == 100000 + 20000,
		  "estimate: queued at the send rate, queued and unflushed at the flush rate");

	cb_drain_init(&d, 100, 64 * MIB);
	feed(&d, 20 * MIB, 1);		/* limit 2 MiB */
	feed_flush(&d, 200 * MIB, 1);
	tap_check(cb_drain_room(&d, MIB / 2, MIB, 3, MIB / 2) &&
		  !cb_drain_room(&d, 2 * MIB, 0, 3, MIB / 2),
		  "a cheap flush: unflushed data weigh little, the queue gets drain_ms of sending");
	cb_drain_init(&d, 100, 64 * MIB);
	feed(&d, 100 * MIB, 1);
	feed_flush(&d, 10 * MIB, 1);
	tap_check(cb_drain_room(&d, MIB / 2, MIB * 15 / 100, 3, 0) &&
		  !cb_drain_room(&d, MIB / 2, MIB * 3 / 10, 3, 0),
		  "an expensive flush (a page cache written back): the flush bounds queued and unflushed data");

	cb_drain_init(&d, 100, 64 * MIB);
	feed(&d, 20 * MIB, 1);
	feed_flush(&d, 20 * MIB, 1);
	tap_check(cb_drain_room(&d, 0, MIB / 2, 0, MIB) && !cb_drain_flush_due(&d, MIB / 2),
		  "an empty queue takes a copy while no flush is due");
	tap_check(!cb_drain_room(&d, 0, 3 * MIB / 2, 0, MIB) &&
		  cb_drain_flush_due(&d, 3 * MIB / 2) && cb_drain_flush_due(&d, 3 * MIB / 4) &&
		  !cb_drain_flush_due(&d, 3 * MIB / 4 - 1024),
		  "with a flush due (half the target to flush), the copy waits for it");
	tap_check(cb_drain_room(&d, 64 << 10, 64 << 10, 3, 128 << 10),
		  "undrained data under the 256 KiB floor are always admitted");
	feed_flush(&d, 100ULL << 30, 40);
	tap_check(!cb_drain_flush_due(&d, 3 * MIB / 2 - 1) && cb_drain_flush_due(&d, 3 * MIB / 2),
		  "however cheap the flush, one is due once a limit's worth is unflushed");
	tap_check(!cb_drain_flush_due(&d, 0), "nothing unflushed: no flush due");

	tap_check(liveness(&seed),
		  "random states: admitted within bounds; a waiter with nothing queued has a flush due");
	return tap_done();
}
