/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The primary's drain bound: how much forwarded data may be on its way to
 * the secondary's disk so that a checkpoint, which waits until all of it is
 * there, lasts about drain_ms at the forward path's measured bandwidth.
 *
 * "Undrained" data is what a checkpoint would still wait for: copies queued
 * or in flight, plus copies the forward device acknowledged but has not yet
 * made durable (nbd-server acknowledges a write once it is in its page
 * cache; only a flush writes it through the replica). The bandwidth is that
 * of data becoming durable: bytes covered by a completed flush over the time
 * they took while data was waiting. Plain C: built into colo_blk.ko and into
 * the userspace unit tests. No locking: the caller serialises.
 */
#ifndef COLO_BLK_DRAIN_H
#define COLO_BLK_DRAIN_H

#include "cb_compat.h"

#define CB_DEF_DRAIN_MS 100U
#define CB_MAX_DRAIN_MS 60000U
/*
 * Smallest bound, so that a slow or mismeasured path does not starve the
 * guest: 64 copies of 4 KiB (max_inflight's default). A larger copy (up to
 * 1 MiB) still goes into an empty queue.
 */
#define CB_DRAIN_FLOOR (256ULL << 10)
/* Assumed before the first measurement: a modest disk over a network. */
#define CB_DRAIN_START_BW (16ULL << 20)
/*
 * Shorter measurements are added to the next one: a flush that completes
 * right after another says little about a rate.
 */
#define CB_DRAIN_MIN_SAMPLE_NS 20000000ULL
/* Larger rates are clamped, keeping the arithmetic within 64 bits. */
#define CB_DRAIN_MAX_BW (1ULL << 40)

struct cb_drain {
	u32 drain_ms;			/* 0: off, queue_bytes alone bounds */
	u64 queue_bytes;		/* the limit of queued copies */
	u64 bw;				/* bytes per second, smoothed */
	u64 limit;			/* bound on undrained bytes */
	u64 acc_bytes;			/* measurement not yet taken in */
	u64 acc_ns;
	u64 samples;			/* measurements taken in */
};

void cb_drain_init(struct cb_drain *d, u32 drain_ms, u64 queue_bytes);

/*
 * `bytes` became durable over `ns` nanoseconds of the forward path being
 * busy. Smooths them into the bandwidth and recomputes the limit.
 */
void cb_drain_sample(struct cb_drain *d, u64 bytes, u64 ns);

/*
 * May a copy of `bytes` be queued, with `queued` bytes of copies held
 * (nr_pending of them) and `unflushed` acknowledged and not yet durable?
 * queue_bytes bounds the queue, the limit bounds queue plus unflushed data.
 * An empty queue always takes a copy unless a flush is due: then one is in
 * flight or about to be, and its completion makes room.
 */
bool cb_drain_room(const struct cb_drain *d, u64 queued, u64 unflushed,
		   unsigned int nr_pending, u64 bytes);

/* Should a flush be sent to make acknowledged data durable? */
bool cb_drain_flush_due(const struct cb_drain *d, u64 unflushed);

#endif
