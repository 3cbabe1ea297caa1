// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's drain bound (see drain.h): two measured rates and the
 * admission rule built on them. Plain C so that the unit tests run this
 * code.
 */
#include "drain.h"

static u64 cb_drain_clamp(u64 v, u64 max)
{
	return v < max ? v : max;
}

static void cb_drain_rate_init(struct cb_drain_rate *r)
{
	memset(r, 0, sizeof(*r));
	r->bw = CB_DRAIN_START_BW;
}

/* Takes a measurement into the rate; false while it is still too short. */
static bool cb_drain_rate_sample(struct cb_drain_rate *r, u64 bytes, u64 ns)
{
	u64 rate, us;

	r->acc_bytes = cb_drain_clamp(r->acc_bytes + cb_drain_clamp(bytes, CB_DRAIN_MAX_BW),
				      CB_DRAIN_MAX_BW);
	r->acc_ns += cb_drain_clamp(ns, ~0ULL - r->acc_ns);
	if (r->acc_ns < CB_DRAIN_MIN_SAMPLE_NS)
		return false;
	/* at most 2^40 bytes times 10^6 (< 2^20): within 64 bits */
	us = cb_div64(r->acc_ns, 1000);
	rate = cb_drain_clamp(cb_div64(r->acc_bytes * 1000000, us), CB_DRAIN_MAX_BW);
	if (!rate)
		rate = 1;
	r->acc_bytes = 0;
	r->acc_ns = 0;
	/*
	 * The start value was a guess; then a quarter of each measurement:
	 * the rate is noisy, and averaging it both ways tracks the mean
	 * rather than a low or a high quantile.
	 */
	if (!r->samples++)
		r->bw = rate;
	else if (rate < r->bw)
		r->bw -= (r->bw - rate) / 4;
	else
		r->bw += (rate - r->bw) / 4;
	return true;
}

u64 cb_drain_target_us(const struct cb_drain *d)
{
	return (u64)d->drain_ms * 3000 / 4;
}

static void cb_drain_update_limit(struct cb_drain *d)
{
	u64 limit;

	if (!d->drain_ms) {
		d->limit = d->queue_bytes;
		return;
	}
	/* 3/4 of drain_ms: bw <= 2^40, drain_ms < 2^16, the product fits */
	limit = cb_div64(d->send.bw * d->drain_ms * 3, 4000);
	if (limit < CB_DRAIN_FLOOR)
		limit = CB_DRAIN_FLOOR;
	d->limit = cb_drain_clamp(limit, d->queue_bytes);
}

void cb_drain_init(struct cb_drain *d, u32 drain_ms, u64 queue_bytes)
{
	memset(d, 0, sizeof(*d));
	d->drain_ms = drain_ms;
	d->queue_bytes = queue_bytes;
	cb_drain_rate_init(&d->send);
	cb_drain_rate_init(&d->flush);
	cb_drain_update_limit(d);
}

void cb_drain_sent(struct cb_drain *d, u64 bytes, u64 ns)
{
	if (cb_drain_rate_sample(&d->send, bytes, ns))
		cb_drain_update_limit(d);
}

void cb_drain_flushed(struct cb_drain *d, u64 bytes, u64 ns)
{
	cb_drain_rate_sample(&d->flush, bytes, ns);
}

/* Microseconds to carry `bytes` at rate r (bw >= 1). */
static u64 cb_drain_us(const struct cb_drain_rate *r, u64 bytes)
{
	/* at most 2^41 bytes times 10^6 (< 2^20): within 64 bits */
	return cb_div64(cb_drain_clamp(bytes, 2 * CB_DRAIN_MAX_BYTES) * 1000000, r->bw);
}

u64 cb_drain_estimate_us(const struct cb_drain *d, u64 queued, u64 unflushed)
{
	queued = cb_drain_clamp(queued, CB_DRAIN_MAX_BYTES);
	unflushed = cb_drain_clamp(unflushed, CB_DRAIN_MAX_BYTES);
	return cb_drain_us(&d->send, queued) + cb_drain_us(&d->flush, queued + unflushed);
}

bool cb_drain_room(const struct cb_drain *d, u64 queued, u64 unflushed,
		   unsigned int nr_pending, u64 bytes)
{
	if (nr_pending && queued + bytes > d->queue_bytes)
		return false;
	if (!d->drain_ms)
		return true;
	if (!nr_pending && !cb_drain_flush_due(d, unflushed))
		return true;
	if (queued + unflushed + bytes <= CB_DRAIN_FLOOR)
		return true;
	return cb_drain_estimate_us(d, queued + bytes, unflushed) <= cb_drain_target_us(d);
}

bool cb_drain_flush_due(const struct cb_drain *d, u64 unflushed)
{
	if (!d->drain_ms || !unflushed)
		return false;
	return unflushed >= d->limit ||
	       cb_drain_us(&d->flush, cb_drain_clamp(unflushed, CB_DRAIN_MAX_BYTES)) >=
	       cb_drain_target_us(d) / 2;
}
