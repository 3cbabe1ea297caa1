// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy compare engine: differently segmented streams, retransmissions,
 * pure ACKs, SYN/FIN/RST agreement, out-of-order segments, sequence
 * wraparound, datagram compare and checkpoint flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_proxy/compare.h"

struct tseg {
	struct cp_seg seg;
	const uint8_t *data;
	int id;
	int pri;
};

struct rec {
	int released[256], nrel;
	int dropped[256], ndrop;
};

static void rec_release(void *ctx, struct cp_seg *s)
{
	struct rec *r = ctx;
	struct tseg *t = cp_container_of(s, struct tseg, seg);

	r->released[r->nrel++] = t->id;
	free(t);
}

static void rec_drop(void *ctx, struct cp_seg *s)
{
	struct rec *r = ctx;
	struct tseg *t = cp_container_of(s, struct tseg, seg);

	r->dropped[r->ndrop++] = t->id;
	free(t);
}

static bool equal(const struct cp_seg *a, uint32_t a_off,
		  const struct cp_seg *b, uint32_t b_off, uint32_t len)
{
	const struct tseg *ta = cp_container_of(a, struct tseg, seg);
	const struct tseg *tb = cp_container_of(b, struct tseg, seg);

	return !memcmp(ta->data + a_off, tb->data + b_off, len);
}

static const struct cp_cmp_ops ops = { rec_release, rec_drop, equal };
static const char stream[] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static struct tseg *mk(int id, uint32_t base, uint32_t off, uint32_t len,
		       uint8_t flags, const char *src)
{
	struct tseg *t = calloc(1, sizeof(*t));

	t->id = id;
	t->seg.seq = base + off;
	t->seg.len = len;
	t->seg.flags = flags;
	t->data = (const uint8_t *)src + off;
	t->seg.wire_len = 54 + len;
	t->seg.stamp = id;
	return t;
}

/*
 * Feed helper: the engine owns held segments; PASS hands ownership back,
 * which the test records like a release (primary) or drop (secondary).
 */
static enum cp_cmp_result feed(struct cp_cmp *c, struct rec *r, int pri,
			       struct tseg *t)
{
	enum cp_cmp_result res;

	res = pri ? cp_cmp_primary(c, &t->seg, &ops, r) :
		    cp_cmp_secondary(c, &t->seg, &ops, r);
	if (res == CP_CMP_PASS) {
		if (pri)
			rec_release(r, &t->seg);
		else
			rec_drop(r, &t->seg);
	}
	return res;
}

static void open_conn(struct cp_cmp *c, struct rec *r, uint32_t pisn, uint32_t sisn)
{
	cp_cmp_init(c, true);
	feed(c, r, 1, mk(100, pisn, 0, 0, CP_SEG_SYN, stream));
	feed(c, r, 0, mk(200, sisn, 0, 0, CP_SEG_SYN, stream));
}

static void test_resegmented(uint32_t isn)
{
	struct cp_cmp c;
	struct rec r = { 0 };
	uint32_t b = isn + 1;
	int bad = 0;

	open_conn(&c, &r, isn, 77);
	tap_check(r.nrel == 1 && r.released[0] == 100, "isn %#x: SYN released once both sides sent one", isn);
	/* Primary 10+20+30, secondary 25+5+30: same 60 bytes. */
	bad |= feed(&c, &r, 1, mk(1, b, 0, 10, 0, stream)) != CP_CMP_HELD;
	bad |= feed(&c, &r, 1, mk(2, b, 10, 20, 0, stream)) != CP_CMP_HELD;
	bad |= feed(&c, &r, 0, mk(11, b, 0, 25, 0, stream)) != CP_CMP_HELD;
	tap_check(!bad && r.nrel == 2 && r.released[1] == 1,
		  "isn %#x: first primary segment released when covered", isn);
	bad |= feed(&c, &r, 0, mk(12, b, 25, 5, 0, stream)) != CP_CMP_HELD;
	tap_check(!bad && r.nrel == 3 && r.released[2] == 2 && r.ndrop == 3,
		  "isn %#x: second released after the rest arrived", isn);
	bad |= feed(&c, &r, 0, mk(13, b, 30, 30, 0, stream)) != CP_CMP_HELD;
	bad |= feed(&c, &r, 1, mk(3, b, 30, 30, CP_SEG_FIN, stream)) != CP_CMP_HELD;
	tap_check(!bad && r.nrel == 3 && c.pri_pkts == 1,
		  "isn %#x: FIN held until the secondary's FIN", isn);
	bad |= feed(&c, &r, 0, mk(14, b, 60, 0, CP_SEG_FIN, stream)) != CP_CMP_HELD;
	tap_check(!bad && r.nrel == 4 && r.released[3] == 3 && !c.sec_pkts &&
		  c.matched_bytes == 60, "isn %#x: FIN released, nothing left held", isn);
	/* Retransmission of a compared range passes immediately. */
	tap_check(feed(&c, &r, 1, mk(4, b, 10, 20, 0, stream)) == CP_CMP_PASS,
		  "isn %#x: retransmission of compared range passes", isn);
	tap_check(feed(&c, &r, 0, mk(15, b, 0, 30, 0, stream)) == CP_CMP_PASS,
		  "isn %#x: secondary retransmission dropped at once", isn);
	cp_cmp_flush(&c, &ops, &r);
}

static void test_mismatch(void)
{
	static const char other[] = "0123456789abcdefghijXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
	struct cp_cmp c;
	struct rec r = { 0 };
	uint32_t b = 1001;

	open_conn(&c, &r, 1000, 5);
	feed(&c, &r, 1, mk(1, b, 0, 10, 0, stream));
	feed(&c, &r, 1, mk(2, b, 10, 30, 0, stream));
	feed(&c, &r, 0, mk(11, b, 0, 15, 0, other));
	tap_check(r.nrel == 2, "common prefix released");
	tap_check(feed(&c, &r, 0, mk(12, b, 15, 25, 0, other)) == CP_CMP_MISMATCH,
		  "difference inside a segment reported");
	tap_check(r.nrel == 2 && c.pri_pkts == 1, "segment with differing bytes held");
	tap_check(feed(&c, &r, 1, mk(3, b, 40, 5, 0, stream)) == CP_CMP_HELD &&
		  c.pri_pkts == 2, "later primary segments held after divergence");
	cp_cmp_flush(&c, &ops, &r);
	tap_check(r.nrel == 4 && r.released[2] == 2 && r.released[3] == 3 &&
		  c.pri_pkts == 0 && c.sec_pkts == 0, "checkpoint flush releases in order");
	/* After the flush the next data restarts comparing. */
	feed(&c, &r, 1, mk(4, b, 45, 5, 0, stream));
	tap_check(feed(&c, &r, 0, mk(13, b, 45, 5, 0, stream)) == CP_CMP_HELD &&
		  r.nrel == 5, "compare restarts after checkpoint");
	cp_cmp_flush(&c, &ops, &r);
}

static void test_flags(void)
{
	struct cp_cmp c;
	struct rec r = { 0 };

	open_conn(&c, &r, 50, 60);
	tap_check(feed(&c, &r, 1, mk(1, 51, 0, 0, 0, stream)) == CP_CMP_PASS,
		  "pure ACK passes");
	feed(&c, &r, 1, mk(2, 51, 0, 5, 0, stream));
	tap_check(feed(&c, &r, 1, mk(3, 51, 0, 0, 0, stream)) == CP_CMP_PASS,
		  "window update passes while data is held");
	tap_check(feed(&c, &r, 0, mk(11, 51, 0, 4, CP_SEG_FIN, stream)) == CP_CMP_MISMATCH,
		  "FIN against data is a mismatch");
	cp_cmp_flush(&c, &ops, &r);

	open_conn(&c, &r, 50, 60);
	feed(&c, &r, 1, mk(4, 51, 0, 0, CP_SEG_RST, stream));
	tap_check(c.pri_pkts == 1, "RST held until the secondary resets too");
	feed(&c, &r, 0, mk(12, 51, 0, 0, CP_SEG_RST, stream));
	tap_check(c.pri_pkts == 0 && r.released[r.nrel - 1] == 4, "RST released on agreement");
	cp_cmp_flush(&c, &ops, &r);

	cp_cmp_init(&c, true);
	feed(&c, &r, 1, mk(5, 70, 0, 0, CP_SEG_SYN, stream));
	feed(&c, &r, 1, mk(6, 70, 0, 0, CP_SEG_SYN, stream));
	tap_check(c.pri_pkts == 2, "SYN and its retransmission held");
	feed(&c, &r, 0, mk(13, 999, 0, 0, CP_SEG_SYN, stream));
	tap_check(c.pri_pkts == 0 && c.cmp_seq == 71, "SYNs agree whatever the ISNs");
	cp_cmp_flush(&c, &ops, &r);
}

static void test_reorder(void)
{
	struct cp_cmp c;
	struct rec r = { 0 };
	uint32_t b = 0xffffffe0;	/* the stream wraps at 2^32 */

	open_conn(&c, &r, b - 1, 1);
	r.nrel = 0;
	feed(&c, &r, 1, mk(1, b, 0, 20, 0, stream));
	feed(&c, &r, 1, mk(3, b, 40, 20, 0, stream));
	feed(&c, &r, 1, mk(2, b, 20, 20, 0, stream));	/* out of order */
	feed(&c, &r, 0, mk(13, b, 40, 20, 0, stream));
	feed(&c, &r, 0, mk(12, b, 20, 20, 0, stream));
	tap_check(r.nrel == 0, "nothing released while the secondary's head is missing");
	feed(&c, &r, 0, mk(11, b, 0, 20, 0, stream));
	tap_check(r.nrel == 3 && r.released[0] == 1 && r.released[1] == 3 &&
		  r.released[2] == 2 && c.cmp_seq == b + 60,
		  "released in arrival order across the wrap");
	tap_check(c.sec_pkts == 0, "secondary segments freed");
	cp_cmp_flush(&c, &ops, &r);
}

static void test_dgram(void)
{
	struct cp_cmp c;
	struct rec r = { 0 };

	cp_cmp_init(&c, false);
	tap_check(feed(&c, &r, 1, mk(1, 0, 0, 8, 0, stream)) == CP_CMP_HELD,
		  "datagram held until the secondary's");
	tap_check(feed(&c, &r, 0, mk(11, 0, 0, 8, 0, stream)) == CP_CMP_HELD &&
		  r.nrel == 1 && r.released[0] == 1, "equal datagram released");
	feed(&c, &r, 0, mk(12, 0, 0, 8, 0, stream));
	tap_check(feed(&c, &r, 1, mk(2, 0, 0, 8, 0, stream)) == CP_CMP_HELD &&
		  r.released[r.nrel - 1] == 2, "secondary first: primary released on arrival");
	feed(&c, &r, 1, mk(3, 0, 0, 8, 0, stream));
	tap_check(feed(&c, &r, 0, mk(13, 0, 0, 9, 0, stream)) == CP_CMP_MISMATCH,
		  "different length is a mismatch");
	cp_cmp_flush(&c, &ops, &r);
	tap_check(r.released[r.nrel - 1] == 3 && !c.pri_pkts, "flush releases datagram");
}

static void test_queue_accounting(void)
{
	struct cp_cmp c;
	struct rec r = { 0 };
	uint64_t st;
	int i;

	open_conn(&c, &r, 0, 0);
	for (i = 0; i < 50; i++)
		feed(&c, &r, 1, mk(i, 1, i, 1, 0, stream));
	tap_check(c.pri_pkts == 50 && c.pri_bytes == 50 * 55, "queue counts packets and bytes");
	tap_check(cp_cmp_oldest(&c, &st) && st == 0, "oldest held stamp");
	cp_cmp_flush(&c, &ops, &r);
	tap_check(!cp_cmp_oldest(&c, &st) && c.pri_bytes == 0, "empty after flush");
}

/*
 * TCP Fast Open from the guests: each SYN carries the first 6 bytes, at its
 * own ISN (the SVM's SYN leaves before the rewriter knows its offset). The
 * payload is compared from the PVM's ISN + 1 on, whichever SYN comes first.
 */
static void test_syn_data(int svm_first, uint32_t pisn)
{
	static const char other[] = "GET /y";
	struct cp_cmp c;
	struct rec r = { 0 };
	int bad = 0;

	cp_cmp_init(&c, true);
	if (svm_first) {
		bad |= feed(&c, &r, 0, mk(200, 0x5000, 0, 6, CP_SEG_SYN, "GET /x")) != CP_CMP_HELD;
		bad |= feed(&c, &r, 1, mk(100, pisn, 0, 6, CP_SEG_SYN, "GET /x")) != CP_CMP_HELD;
		tap_check(!bad && r.nrel == 1 && r.ndrop == 1 && c.matched_bytes == 6,
			  "tfo %#x: the SVM's SYN first: the PVM's released once its payload matched", pisn);
	} else {
		bad |= feed(&c, &r, 1, mk(100, pisn, 0, 6, CP_SEG_SYN, "GET /x")) != CP_CMP_HELD;
		tap_check(!bad && r.nrel == 0, "tfo %#x: the PVM's SYN with payload is held", pisn);
		bad |= feed(&c, &r, 0, mk(200, 0x5000, 0, 6, CP_SEG_SYN, "GET /x")) != CP_CMP_HELD;
		tap_check(!bad && r.nrel == 1 && r.ndrop == 1 && c.matched_bytes == 6,
			  "tfo %#x: released when the SVM's SYN carried the same", pisn);
	}
	bad |= feed(&c, &r, 1, mk(1, pisn + 7, 0, 3, 0, "abc")) != CP_CMP_HELD;
	bad |= feed(&c, &r, 0, mk(2, pisn + 7, 0, 3, 0, "abc")) != CP_CMP_HELD;
	tap_check(!bad && r.nrel == 2 && c.matched_bytes == 9,
		  "tfo %#x: the data after it continues at ISN + 7", pisn);
	tap_check(feed(&c, &r, 1, mk(3, pisn, 0, 6, CP_SEG_SYN, "GET /x")) == CP_CMP_PASS,
		  "tfo %#x: a retransmitted SYN passes", pisn);
	cp_cmp_flush(&c, &ops, &r);

	r = (struct rec){ 0 };
	cp_cmp_init(&c, true);
	feed(&c, &r, 1, mk(100, pisn, 0, 6, CP_SEG_SYN, "GET /x"));
	tap_check(feed(&c, &r, 0, mk(200, 0x5000, 0, 6, CP_SEG_SYN, other)) == CP_CMP_MISMATCH &&
		  r.nrel == 0, "tfo %#x: different SYN payloads are a mismatch", pisn);
	cp_cmp_flush(&c, &ops, &r);
}

int main(void)
{
	tap_check(cp_seq_before(0xfffffff0, 0x10) && cp_seq_after(0x10, 0xfffffff0),
		  "sequence order across wraparound");
	tap_check(cp_seq_before_eq(5, 5) && !cp_seq_before(5, 5), "sequence equality");
	tap_check(cp_seq_before(0, 0x7fffffff) && cp_seq_after(0, 0x80000001),
		  "half-space boundary");
	test_resegmented(1000);
	test_resegmented(0xffffffd0);
	test_mismatch();
	test_flags();
	test_reorder();
	test_dgram();
	test_queue_accounting();
	test_syn_data(0, 1000);
	test_syn_data(1, 0xfffffffd);
	return tap_done();
}
