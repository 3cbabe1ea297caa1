/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loss and reordering of tunnel datagrams. Each direction numbers what it
 * sends. Frames sent on different CPUs may cross on the way, so a missing
 * number is not a loss at once: it becomes one when it falls out of a
 * 64-number window behind the newest number seen (an anti-replay style
 * bitmap), or when it is still missing a whole period of the receiver's
 * timer after a later number arrived. The second rule finds a loss at the
 * end of a burst, when no 64 later frames follow to push it out.
 *
 * A number seen again (a GSO datagram the sender's stack segmented repeats
 * its header in every segment) is neither late nor lost.
 */
#ifndef COLO_PROXY_SEQWIN_H
#define COLO_PROXY_SEQWIN_H

#include "cp_compat.h"

struct cp_seqwin {
	u32 next;	/* newest number seen + 1 */
	u64 seen;	/* bit i set: number next - 1 - i arrived (or was counted lost) */
	u32 mark;	/* next at the previous cp_seqwin_expire() */
	bool valid;	/* a first number was seen */
};

/*
 * Number @seq arrived. Returns how many numbers this made lost (they left
 * the window missing); *late is set when @seq itself arrived after a higher
 * one (reordering), including one already counted lost.
 */
u32 cp_seqwin_rx(struct cp_seqwin *w, u32 seq, bool *late);

/*
 * Called periodically: numbers that were already behind the newest at the
 * previous call and are still missing are lost. Returns how many; they are
 * counted once.
 */
u32 cp_seqwin_expire(struct cp_seqwin *w);

#endif
