/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The primary's drain bound: how much forwarded data may be on its way to
 * the secondary's disk so that a checkpoint, which waits until all of it is
 * there, lasts about drain_ms.
 *
 * A checkpoint first waits for the copies queued or in flight to be
 * acknowledged, then sends a flush that makes everything acknowledged
 * durable: the copies it waited for and those acknowledged before but not
 * yet flushed ("unflushed"). The two steps run at different rates, measured
 * apart: copies at the rate the forward device acknowledges them while any
 * is in flight (send), and flushes at the bytes each one covered over its
 * duration (flush). nbd-server acknowledges a write once it is in its page
 * cache, so there the flush does most of the work; the replica's own
 * server acknowledges a write once it is on the replica, and its flush
 * costs little. So the estimate of a checkpoint's drain is
 *
 *     queued / send  +  (queued + unflushed) / flush
 *
 * and a copy is admitted while that stays within three quarters of
 * drain_ms: the rates are averages and a checkpoint's drain is one sample,
 * so the last quarter is room for their noise. Plain C: built
 * into colo_blk.ko and into the userspace unit tests. No locking: the
 * caller serialises.
 */
#ifndef COLO_BLK_DRAIN_H
#define COLO_BLK_DRAIN_H

#include "cb_compat.h"

#define CB_DEF_DRAIN_MS 100U
#define CB_MAX_DRAIN_MS 60000U
/*
 * Undrained data below this is always admitted, so that a slow or
 * mismeasured path does not starve the guest: 64 copies of 4 KiB
 * (max_inflight's default). A larger copy (up to 1 MiB) still goes into an
 * empty queue.
 */
#define CB_DRAIN_FLOOR (256ULL << 10)
/* Assumed for both rates before the first measurement: a modest disk over a network. */
#define CB_DRAIN_START_BW (16ULL << 20)
/*
 * Shorter measurements are added to the next one: a flush that completes
 * right after another says little about a rate.
 */
#define CB_DRAIN_MIN_SAMPLE_NS 20000000ULL
/*
 * Rates are clamped to 1 B/s..1 TiB/s and byte counts to 1 TiB, keeping
 * the arithmetic within 64 bits.
 */
#define CB_DRAIN_MAX_BW (1ULL << 40)
#define CB_DRAIN_MAX_BYTES (1ULL << 40)

/* A rate in bytes per second, smoothed over measurements. */
struct cb_drain_rate {
	u64 bw;
	u64 acc_bytes;			/* measurement not yet taken in */
	u64 acc_ns;
	u64 samples;			/* measurements taken in */
};

struct cb_drain {
	u32 drain_ms;			/* 0: off, queue_bytes alone bounds */
	u64 queue_bytes;		/* the limit of queued copies */
	struct cb_drain_rate send;	/* copies acknowledged */
	struct cb_drain_rate flush;	/* acknowledged data made durable */
	u64 limit;			/* what send carries in the target */
};

void cb_drain_init(struct cb_drain *d, u32 drain_ms, u64 queue_bytes);

/* `bytes` were acknowledged over `ns` nanoseconds with copies in flight. */
void cb_drain_sent(struct cb_drain *d, u64 bytes, u64 ns);

/* A flush of `ns` nanoseconds made `bytes` of acknowledged data durable. */
void cb_drain_flushed(struct cb_drain *d, u64 bytes, u64 ns);

/* What the estimate is kept within, in microseconds: 3/4 of drain_ms. */
u64 cb_drain_target_us(const struct cb_drain *d);

/*
 * The estimated drain, in microseconds, of `queued` bytes of copies and
 * `unflushed` acknowledged bytes: the formula above.
 */
u64 cb_drain_estimate_us(const struct cb_drain *d, u64 queued, u64 unflushed);

/*
 * May a copy of `bytes` be queued, with `queued` bytes of copies held
 * (nr_pending of them) and `unflushed` acknowledged and not yet durable?
 * queue_bytes bounds the queue, the target the estimate. An empty queue
 * always takes a copy unless a flush is due: then one is in flight or
 * about to be, and its completion makes room.
 */
bool cb_drain_room(const struct cb_drain *d, u64 queued, u64 unflushed,
		   unsigned int nr_pending, u64 bytes);

/*
 * Should a flush be sent to make acknowledged data durable? Once flushing
 * it would take half of the target, so that copies have the other half
 * while it runs; and, however cheap flushes are, once a limit's worth of data is
 * unflushed, so that the flush rate is never applied to much more data
 * than it was measured on.
 */
bool cb_drain_flush_due(const struct cb_drain *d, u64 unflushed);

#endif
