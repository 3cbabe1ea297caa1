// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's drain bound (see drain.h): a bandwidth estimate and the
 * admission rule built on it. Plain C so that the unit tests run this code.
 */
#include "drain.h"

static void cb_drain_update_limit(struct cb_drain *d)
{
	u64 limit;

	if (!d->drain_ms) {
		d->limit = d->queue_bytes;
		return;
	}
	/* bw <= 2^40 and drain_ms < 2^16: the product fits */
	limit = cb_div64(d->bw * d->drain_ms, 1000);
	if (limit < CB_DRAIN_FLOOR)
		limit = CB_DRAIN_FLOOR;
	d->limit = limit < d->queue_bytes ? limit : d->queue_bytes;
}

void cb_drain_init(struct cb_drain *d, u32 drain_ms, u64 queue_bytes)
{
	memset(d, 0, sizeof(*d));
	d->drain_ms = drain_ms;
	d->queue_bytes = queue_bytes;
	d->bw = CB_DRAIN_START_BW;
	cb_drain_update_limit(d);
}

void cb_drain_sample(struct cb_drain *d, u64 bytes, u64 ns)
{
	u64 rate, us;

	d->acc_bytes += bytes < CB_DRAIN_MAX_BW ? bytes : CB_DRAIN_MAX_BW;
	d->acc_ns += ns;
	if (d->acc_ns < CB_DRAIN_MIN_SAMPLE_NS)
		return;
	/* at most 2^40 bytes times 10^6 (< 2^20): within 64 bits */
	if (d->acc_bytes > CB_DRAIN_MAX_BW)
		d->acc_bytes = CB_DRAIN_MAX_BW;
	us = cb_div64(d->acc_ns, 1000);
	rate = cb_div64(d->acc_bytes * 1000000, us);
	if (rate > CB_DRAIN_MAX_BW)
		rate = CB_DRAIN_MAX_BW;
	d->acc_bytes = 0;
	d->acc_ns = 0;
	/*
	 * The start value was a guess; then a quarter of each measurement:
	 * flush to flush, the rate is noisy, and averaging it both ways
	 * tracks the mean rather than a low or a high quantile.
	 */
	if (!d->samples++)
		d->bw = rate;
	else if (rate < d->bw)
		d->bw -= (d->bw - rate) / 4;
	else
		d->bw += (rate - d->bw) / 4;
	cb_drain_update_limit(d);
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
	return queued + unflushed + bytes <= d->limit;
}

bool cb_drain_flush_due(const struct cb_drain *d, u64 unflushed)
{
	/*
	 * Half the bound: the other half takes new copies while the flush
	 * runs, so a sustained writer does not wait for every flush.
	 */
	return d->drain_ms && unflushed >= d->limit / 2;
}
