// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnel sequence window, see seqwin.h. Builds in the kernel and in
 * userspace (unit tests, fuzzer).
 */
#include "seqwin.h"

u32 cp_seqwin_rx(struct cp_seqwin *w, u32 seq, bool *late)
{
	u32 ahead = seq - w->next, behind = w->next - seq;
	u32 lost = 0;

	*late = false;
	if (!w->valid) {
		w->next = seq + 1;
		w->mark = w->next;
		w->seen = ~0ULL;
		w->valid = true;
		return 0;
	}
	if (!cp_seq_before(seq, w->next)) {
		u32 shift = ahead + 1;

		/* The numbers pushed out of the window and never seen. */
		if (shift >= 64) {
			lost = 64 - cp_popcount64(w->seen) + (shift - 64);
			w->seen = 1;
		} else {
			lost = shift - cp_popcount64(w->seen >> (64 - shift));
			w->seen = w->seen << shift | 1;
		}
		w->next = seq + 1;
	} else if (behind <= 64) {
		u64 bit = 1ULL << (behind - 1);

		if (!(w->seen & bit)) {
			w->seen |= bit;
			*late = true;
		}
	} else {
		/* Older than the window: already counted lost. */
		*late = true;
	}
	return lost;
}

u32 cp_seqwin_expire(struct cp_seqwin *w)
{
	u32 advanced = w->next - w->mark;
	u64 old;
	u32 lost;

	if (!w->valid)
		return 0;
	/* Bits at and above @advanced are numbers below the previous mark. */
	old = advanced >= 64 ? 0 : ~0ULL << advanced;
	lost = cp_popcount64(~w->seen & old);
	w->seen |= old;
	w->mark = w->next;
	return lost;
}
