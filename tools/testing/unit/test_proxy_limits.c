// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy bounds: the connection table's size from its cap, which
 * entries the early drop may forget, the hard hold limits (a random run
 * against a plain model: never more held than the limits allow, every frame
 * refused only when it would not fit), and which segments the compare may
 * hold at all.
 */
#include <stdlib.h>

#include "tap.h"
#include "colo_proxy/compare.h"
#include "colo_proxy/limits.h"

static bool pow2(u32 n)
{
	return n && !(n & (n - 1));
}

static void test_buckets(void)
{
	u32 caps[] = { CP_CONN_MAX_MIN, 17, 1000, 16384, 65535, CP_CONN_MAX_MAX };
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		u32 n = cp_conn_buckets(caps[i]);

		/* a power of two, under four entries per chain at the cap */
		ok &= pow2(n) && n <= CP_CONN_BUCKETS_MAX &&
		      (n == CP_CONN_BUCKETS_MAX || n * 4 > caps[i]) && n <= caps[i];
	}
	tap_check(ok, "buckets: a power of two, fewer than four entries per chain at the cap");
	tap_check(cp_conn_buckets(16384) == 8192, "16384 connections: 8192 buckets (%u)",
		  cp_conn_buckets(16384));
	tap_check(cp_conn_buckets(CP_CONN_MAX_MAX) == CP_CONN_BUCKETS_MAX,
		  "the largest cap: the largest bucket array (%u)", cp_conn_buckets(CP_CONN_MAX_MAX));
}

static void test_evictable(void)
{
	struct cp_conn_state st;
	int held, tcp, assured, closed;
	bool ok = true;

	for (held = 0; held < 2; held++)
		for (tcp = 0; tcp < 2; tcp++)
			for (assured = 0; assured < 2; assured++)
				for (closed = 0; closed < 2; closed++) {
					bool want = !held && (!tcp || closed || !assured);

					st = (struct cp_conn_state){ held, tcp, assured, closed };
					ok &= cp_conn_evictable(&st) == want;
				}
	tap_check(ok, "early drop: never an entry that holds frames, nor an open TCP "
		  "connection past its handshake");
	st = (struct cp_conn_state){ .tcp = true };
	tap_check(cp_conn_evictable(&st), "a SYN flood's entry (only SYNs from the guest) may go");
	st = (struct cp_conn_state){ .tcp = true, .assured = true };
	tap_check(!cp_conn_evictable(&st), "an established connection holding nothing stays");
}

static void test_hold_edges(void)
{
	struct cp_hold h = { 0 };
	int i;

	for (i = 0; i < 3; i++) {
		if (cp_hold_admit(&h, 3, 1000, 100) != CP_HOLD_OK)
			break;
		cp_hold_add(&h, 100);
	}
	tap_check(i == 3 && cp_hold_admit(&h, 3, 1000, 1) == CP_HOLD_FULL_PACKETS,
		  "frame limit 3: three frames held, the fourth refused");
	cp_hold_sub(&h, 100);
	tap_check(cp_hold_admit(&h, 3, 1000, 100) == CP_HOLD_OK, "one gone: room for one more");
	tap_check(cp_hold_admit(&h, 3, 1000, 801) == CP_HOLD_FULL_BYTES &&
		  cp_hold_admit(&h, 3, 1000, 800) == CP_HOLD_OK,
		  "byte limit 1000 with 200 held: 800 bytes fit, 801 do not");
	cp_hold_sub(&h, 100);
	cp_hold_sub(&h, 100);
	tap_check(!h.pkts && !h.bytes, "all gone: nothing counted");
	cp_hold_sub(&h, 100);
	tap_check(!h.pkts && !h.bytes, "a miscount never goes below zero");
}

/* Random takes and gives against a model; the limits are never passed. */
static void test_hold_model(void)
{
	u32 max_pkts = 50, max_bytes = 20000, lens[200], n = 0;
	u64 bytes = 0;
	struct cp_hold h = { 0 };
	bool ok = true;
	int i;

	srand(1);
	for (i = 0; i < 100000 && ok; i++) {
		if (rand() % 3 && n < 200) {
			u32 len = rand() % 3000;
			bool fits = n < max_pkts && bytes + len <= max_bytes;
			enum cp_hold_verdict v = cp_hold_admit(&h, max_pkts, max_bytes, len);

			ok &= (v == CP_HOLD_OK) == fits;
			if (v == CP_HOLD_OK) {
				cp_hold_add(&h, len);
				lens[n++] = len;
				bytes += len;
			}
		} else if (n) {
			u32 k = rand() % n;

			cp_hold_sub(&h, lens[k]);
			bytes -= lens[k];
			lens[k] = lens[--n];
		}
		ok &= h.pkts == n && h.bytes == bytes && n <= max_pkts && bytes <= max_bytes;
	}
	tap_check(ok, "100000 random takes and gives: counts exact, limits never passed");
}

static void test_may_hold(void)
{
	struct cp_seg ack = { .len = 0, .flags = 0 }, data = { .len = 10 },
		      fin = { .flags = CP_SEG_FIN };
	struct cp_cmp tcp, udp;

	cp_cmp_init(&tcp, true);
	cp_cmp_init(&udp, false);
	tap_check(!cp_cmp_may_hold(&tcp, &ack), "a TCP pure ACK is never held (not counted)");
	tap_check(cp_cmp_may_hold(&tcp, &data) && cp_cmp_may_hold(&tcp, &fin),
		  "TCP payload and FIN may be held");
	tap_check(cp_cmp_may_hold(&udp, &ack), "an empty datagram may be held");
}

int main(void)
{
	test_buckets();
	test_evictable();
	test_hold_edges();
	test_hold_model();
	test_may_hold();
	return tap_done();
}
