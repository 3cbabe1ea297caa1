// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy tunnel sequence window: losses found when numbers leave the
 * window and when they stay missing across a timer period, reordering,
 * repeats from software-segmented GSO, the 2^32 wrap, and a random run
 * checked against a plain model (every number sent either arrives or is
 * counted lost, exactly once).
 */
#include <stdlib.h>

#include "tap.h"
#include "colo_proxy/seqwin.h"

static u32 feed(struct cp_seqwin *w, u32 seq, bool *late)
{
	bool l;
	u32 lost = cp_seqwin_rx(w, seq, &l);

	if (late)
		*late = l;
	return lost;
}

static void test_in_order(u32 base)
{
	struct cp_seqwin w = { 0 };
	u32 lost = 0, i;
	bool late, any_late = false;

	for (i = 0; i < 1000; i++) {
		lost += feed(&w, base + i, &late);
		any_late |= late;
	}
	lost += cp_seqwin_expire(&w);
	lost += cp_seqwin_expire(&w);
	tap_check(!lost && !any_late, "in order from %#x: nothing lost or late", base);
}

static void test_gap_leaves_window(u32 base)
{
	struct cp_seqwin w = { 0 };
	u32 lost = 0, i;

	for (i = 0; i < 10; i++)
		lost += feed(&w, base + i, NULL);
	/* base + 10 never comes. */
	for (i = 11; i < 11 + 63; i++)
		lost += feed(&w, base + i, NULL);
	tap_check(!lost, "from %#x: a gap inside the window is not yet a loss", base);
	lost += feed(&w, base + 74, NULL);
	tap_check(lost == 1, "... one when it leaves the window (%u)", lost);
	lost = feed(&w, base + 74 + 1000, NULL);
	tap_check(lost == 999 - 63, "a jump of 1000: the skipped left behind the window are lost (%u)",
		  lost);
	lost = cp_seqwin_expire(&w) + cp_seqwin_expire(&w);
	tap_check(lost == 63, "... the 63 still inside it at the second expiry (%u)", lost);
}

static void test_reorder(void)
{
	struct cp_seqwin w = { 0 };
	u32 lost = 0;
	bool late;

	feed(&w, 100, NULL);
	feed(&w, 102, NULL);
	feed(&w, 103, NULL);
	lost += feed(&w, 101, &late);
	tap_check(late && !lost, "a number after a higher one is late, not lost");
	lost += cp_seqwin_expire(&w);
	lost += cp_seqwin_expire(&w);
	tap_check(!lost, "... and nothing expires after it came");
	feed(&w, 101, &late);
	tap_check(!late, "a repeated number (software GSO segments) is not late");
	feed(&w, 103 - 70, &late);
	tap_check(late, "a number older than the window is late");
}

static void test_expire(void)
{
	struct cp_seqwin w = { 0 };
	u32 lost;

	feed(&w, 5, NULL);
	feed(&w, 7, NULL);	/* 6 missing */
	lost = cp_seqwin_expire(&w);
	tap_check(lost == 0, "a number missing at the first expiry is not lost yet");
	feed(&w, 8, NULL);
	lost = cp_seqwin_expire(&w);
	tap_check(lost == 1, "... it is at the second (%u)", lost);
	lost = cp_seqwin_expire(&w) + feed(&w, 200, NULL);
	lost += cp_seqwin_expire(&w) + cp_seqwin_expire(&w);
	tap_check(lost == 191, "counted once: later only 9..199 are lost (%u)", lost);
	feed(&w, 6, NULL);
	tap_check(cp_seqwin_expire(&w) == 0, "a number arriving after it was counted lost changes nothing");
	w = (struct cp_seqwin){ 0 };
	tap_check(cp_seqwin_expire(&w) == 0, "an empty window loses nothing");
}

/* Numbers 0..n-1 from @base, a few dropped, reordered within a distance. */
static void test_random(u32 base, unsigned int seed)
{
	enum { N = 20000 };
	static u32 order[N];
	static bool dropped[N];
	struct cp_seqwin w = { 0 };
	u32 i, lost = 0, want = 0;

	srand(seed);
	for (i = 0; i < N; i++) {
		order[i] = i;
		dropped[i] = i > 0 && rand() % 50 == 0;
		want += dropped[i];
	}
	/*
	 * Frames crossing on two CPUs: disjoint pairs up to 40 apart swap
	 * places, so none arrives more than 40 numbers late.
	 */
	for (i = 1; i + 40 < N; i++) {
		if (rand() % 8 == 0) {
			u32 j = i + 1 + rand() % 40, t = order[i];

			order[i] = order[j];
			order[j] = t;
			i = j;
		}
	}
	for (i = 0; i < N; i++) {
		if (!dropped[order[i]])
			lost += feed(&w, base + order[i], NULL);
		if (i % 500 == 499)
			lost += cp_seqwin_expire(&w);
	}
	/* The last number is sent again so every gap is behind it. */
	feed(&w, base + N, NULL);
	lost += cp_seqwin_expire(&w);
	lost += cp_seqwin_expire(&w);
	tap_check(lost == want, "random run from %#x: %u dropped, %u counted lost",
		  base, want, lost);
}

int main(void)
{
	test_in_order(0);
	test_in_order(0xfffffe00);
	test_gap_leaves_window(1000);
	test_gap_leaves_window(0xffffffe0);
	test_reorder();
	test_expire();
	test_random(0, 1);
	test_random(0xffffd000, 2);
	return tap_done();
}
