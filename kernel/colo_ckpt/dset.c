// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty set: a page bitmap with a summary bitmap on top (see core.h).
 */
#include "core.h"

void ckpt_dset_init(struct ckpt_dset *d, u64 *bits, u64 *summary, u64 npages)
{
	d->bits = bits;
	d->summary = summary;
	d->npages = npages;
	d->count = 0;
}

bool ckpt_dset_test(const struct ckpt_dset *d, u64 idx)
{
	if (idx >= d->npages)
		return false;
	return (d->bits[idx / 64] >> (idx % 64)) & 1;
}

/* Returns true if idx was not in the set before. */
bool ckpt_dset_add(struct ckpt_dset *d, u64 idx)
{
	u64 w = idx / 64, bit = 1ULL << (idx % 64);

	if (idx >= d->npages || (d->bits[w] & bit))
		return false;
	d->bits[w] |= bit;
	d->summary[w / 64] |= 1ULL << (w % 64);
	d->count++;
	return true;
}

/* Returns true if idx was in the set. */
bool ckpt_dset_del(struct ckpt_dset *d, u64 idx)
{
	u64 w = idx / 64, bit = 1ULL << (idx % 64);

	if (idx >= d->npages || !(d->bits[w] & bit))
		return false;
	d->bits[w] &= ~bit;
	if (!d->bits[w])
		d->summary[w / 64] &= ~(1ULL << (w % 64));
	d->count--;
	return true;
}

/*
 * Writes up to max members, ascending, to out; returns how many. The set
 * itself is unchanged: the caller removes members once it has re-armed
 * tracking for them.
 */
u64 ckpt_dset_snapshot(const struct ckpt_dset *d, u64 *out, u64 max)
{
	u64 nsum = ckpt_dset_summary_words(d->npages);
	u64 n = 0, s;

	for (s = 0; s < nsum && n < max; s++) {
		u64 sw = d->summary[s];

		while (sw && n < max) {
			u64 w = s * 64 + ckpt_ctz64(sw);
			u64 bw = d->bits[w];

			sw &= sw - 1;
			while (bw && n < max) {
				out[n++] = w * 64 + ckpt_ctz64(bw);
				bw &= bw - 1;
			}
		}
	}
	return n;
}
