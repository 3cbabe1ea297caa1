// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy TCP rewriting: offsets learned from guest-accepted and
 * guest-opened handshakes, large offsets across the 2^32 wrap, ack/SACK/
 * TSval/TSecr rewriting with the checksum kept valid (verified by full
 * recomputation), CHECKSUM_PARTIAL frames, and the TSval floor that keeps
 * timestamps monotonic for the client across failover.
 */
#include <stdio.h>

#include "tap.h"
#include "test_proxy_frames.h"
#include "colo_proxy/parse.h"
#include "colo_proxy/rewrite.h"

static uint8_t frame[2048];
static struct cp_pkt pkt;

static uint32_t build(struct tb_tcp *t)
{
	uint32_t len = tb_build_tcp(frame, t);

	if (cp_parse_frame(frame, len, &pkt))
		abort();
	return len;
}

static int csum_ok(int family, uint32_t len)
{
	return tb_l4_verify(frame, family, 14, pkt.l4_off, len, 6) == 0;
}

static void reparse(uint32_t len)
{
	if (cp_parse_frame(frame, len, &pkt))
		abort();
}

static void test_accepted(int family, uint32_t P, uint32_t S, uint32_t PV, uint32_t SV)
{
	struct cp_rw rw = { 0 };
	struct tb_tcp t = { .family = family, .ts = 1 };
	uint32_t C = 0x12345678, len;

	/* SVM answers the mirrored SYN with its SYN-ACK. */
	t.seq = S; t.ack = C + 1; t.flags = CP_TCP_SYN | CP_TCP_ACK;
	t.tsval = SV; t.tsecr = 1000;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.seq == S && (rw.state & CP_RW_HAVE_ISN) && csum_ok(family, len),
		  "v%d %#x/%#x: SYN-ACK learns the SVM's ISN, left as is", family, P, S);
	/* Client's ACK of the PVM's SYN-ACK, mirrored to the SVM. */
	t.seq = C + 1; t.ack = P + 1; t.flags = CP_TCP_ACK;
	t.tsval = 1001; t.tsecr = PV;
	len = build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(rw.seq_off == P - S && rw.ts_off == PV - SV,
		  "v%d %#x/%#x: offsets learned from the handshake ACK", family, P, S);
	tap_check(pkt.ack == S + 1 && pkt.tsecr == SV && pkt.tsval == 1001 &&
		  pkt.seq == C + 1 && csum_ok(family, len),
		  "v%d %#x/%#x: ack and TSecr moved into the SVM's space", family, P, S);
	/* SVM data goes out in the PVM's space. */
	t.seq = S + 1; t.ack = C + 1; t.flags = CP_TCP_ACK | CP_TCP_PSH;
	t.tsval = SV + 5; t.tsecr = 1001; t.data = "data"; t.len = 4;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.seq == P + 1 && pkt.tsval == PV + 5 && pkt.ack == C + 1 &&
		  pkt.tsecr == 1001 && csum_ok(family, len),
		  "v%d %#x/%#x: seq and TSval moved into the PVM's space", family, P, S);
	/* Client SACKs PVM data. */
	t.seq = C + 1; t.ack = P + 1; t.flags = CP_TCP_ACK; t.len = 0;
	t.tsval = 1002; t.tsecr = PV + 5; t.sack = 2;
	t.sack_edges[0] = P + 100; t.sack_edges[1] = P + 200;
	t.sack_edges[2] = P + 0x7ffffff0; t.sack_edges[3] = P + 0x80000010;
	len = build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(cp_get32(frame + pkt.sack_off) == S + 100 &&
		  cp_get32(frame + pkt.sack_off + 4) == S + 200 &&
		  cp_get32(frame + pkt.sack_off + 12) == S + 0x80000010 &&
		  csum_ok(family, len), "v%d %#x/%#x: SACK edges rewritten", family, P, S);
}

static void test_opened(void)
{
	struct cp_rw rw = { 0 };
	struct tb_tcp t = { .family = 4, .ts = 1 };
	uint32_t len;

	t.seq = 0x80000000; t.flags = CP_TCP_SYN; t.tsval = 7;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	/* The server's SYN-ACK to the PVM's SYN (ISN 5). */
	t.seq = 999; t.ack = 6; t.flags = CP_TCP_SYN | CP_TCP_ACK;
	t.tsval = 50; t.tsecr = 0xfffffff0;
	len = build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(rw.seq_off == 5 - 0x80000000 && pkt.ack == 0x80000001 &&
		  pkt.seq == 999 && csum_ok(4, len),
		  "guest-opened: offset learned from the peer's SYN-ACK");
	tap_check(rw.ts_off == 0xfffffff0 - 7 && pkt.tsecr == 7,
		  "guest-opened: TS offset learned, wraps");
	/* SVM's final handshake ACK, with its TSval past the wrap. */
	t.seq = 0x80000001; t.ack = 1000; t.flags = CP_TCP_ACK;
	t.tsval = 40; t.tsecr = 50;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.seq == 6 && pkt.tsval == 0xfffffff0 + 33 && csum_ok(4, len),
		  "guest-opened: SVM ACK rewritten");
}

static void test_partial(void)
{
	struct cp_rw rw = { .seq_off = 0x1000, .ts_off = 3,
			    .state = CP_RW_HAVE_ISN | CP_RW_HAVE_OFF | CP_RW_HAVE_TS };
	struct tb_tcp t = { .family = 6, .seq = 1, .ack = 2, .ts = 1, .tsval = 10,
			    .flags = CP_TCP_ACK };
	uint32_t len = build(&t);
	uint16_t before = cp_get16(frame + pkt.csum_off);

	cp_rw_svm_out(&rw, frame, &pkt, true);
	reparse(len);
	tap_check(pkt.seq == 0x1001 && pkt.tsval == 13 &&
		  cp_get16(frame + pkt.csum_off) == before,
		  "CHECKSUM_PARTIAL: fields rewritten, checksum field untouched");
}

static void test_ts_floor(void)
{
	struct cp_rw rw = { 0 };
	struct tb_tcp t = { .family = 4, .ts = 1 };
	uint32_t len, prev;

	t.seq = 100; t.flags = CP_TCP_SYN | CP_TCP_ACK; t.tsval = 1000;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	t.seq = 1; t.ack = 201; t.flags = CP_TCP_ACK; t.tsval = 1; t.tsecr = 5000;
	build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	/* The PVM's clock ran ahead: the client echoes 5500 already. */
	t.tsecr = 5500;
	build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	t.seq = 101; t.ack = 1; t.tsval = 1010; t.tsecr = 1;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.tsval == 5500 && csum_ok(4, len),
		  "TSval raised to the newest value the client echoed");
	prev = pkt.tsval;
	t.tsval = 1011;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.tsval == prev + 1, "TSval stays monotonic after the raise");
	cp_rw_reset(&rw);
	t.seq = 200; t.tsval = 6000;
	len = build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.seq == 200 && pkt.tsval == 6000 && rw.seq_off == 0,
		  "checkpoint resets the offsets");
	t.seq = 300; t.flags = CP_TCP_SYN;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(!(rw.state & CP_RW_HAVE_ISN) || rw.seq_off == 0,
		  "no relearning on a connection reset at a checkpoint");
}

static void test_csum_random(void)
{
	uint32_t i, x = 12345, len, off;
	int bad = 0;

	for (i = 0; i < 20000; i++) {
		struct tb_tcp t = { .family = (i & 1) ? 4 : 6, .ts = 1 };
		uint32_t v;

		x = x * 1103515245 + 12345;
		t.seq = x;
		t.ack = x * 7;
		t.tsval = x ^ 0xdeadbeef;
		t.data = "abcdefg";
		t.len = x % 8;
		len = build(&t);
		off = (x >> 8) % 3 == 0 ? pkt.l4_off + 4 :
		      (x >> 8) % 3 == 1 ? pkt.l4_off + 8 : pkt.ts_off;
		v = x * 2654435761u;
		if (i % 7 == 0)
			v = 0;
		cp_csum_replace4(frame + pkt.csum_off, cp_get32(frame + off), v);
		cp_put32(frame + off, v);
		if (!csum_ok(t.family, len))
			bad++;
	}
	tap_check(bad == 0, "incremental checksum equals recomputation (20000 random edits)");
}

/*
 * A timestamp option at an odd offset (one NOP before it): legal, and what a
 * hostile client or guest may send. Rewriting TSval and TSecr there keeps the
 * checksum valid in both directions.
 */
static void test_ts_unaligned(int family)
{
	struct cp_rw rw = { .seq_off = 0x01020304, .ts_off = 0x00ff00ff,
			    .state = CP_RW_HAVE_ISN | CP_RW_HAVE_OFF | CP_RW_HAVE_TS };
	struct tb_tcp t = { .family = family, .seq = 7, .ack = 0x8000fffe, .ts = 1,
			    .ts_odd = 1, .tsval = 0xfffffff9, .tsecr = 0x10,
			    .flags = CP_TCP_ACK };
	uint32_t len = build(&t);

	tap_check((pkt.ts_off - pkt.l4_off) & 1, "v%d: the timestamp option sits at an odd offset",
		  family);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.tsval == 0xfffffff9 + 0x00ff00ff && csum_ok(family, len),
		  "v%d: unaligned TSval rewritten, checksum valid", family);
	len = build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	reparse(len);
	tap_check(pkt.tsecr == (uint32_t)(0x10 - 0x00ff00ff) && csum_ok(family, len),
		  "v%d: unaligned TSecr rewritten, checksum valid", family);
}

/*
 * The SVM's receive window edge, in the client's sequence space: scaled only
 * when both SYNs offered scaling, learned again after a checkpoint.
 */
static void test_window(int peer_ws)
{
	struct cp_rw rw = { 0 };
	struct tb_tcp t = { .family = 4 };
	uint32_t C = 0xfffff000, S = 777, shift = peer_ws ? 7 : 0;

	t.seq = C; t.flags = CP_TCP_SYN; t.wscale = peer_ws ? 3 : 0;
	build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	tap_check(cp_rw_svm_can_take(&rw, C + 1, 100), "ws%d: no edge known yet: take", peer_ws);
	t.seq = S; t.ack = C + 1; t.flags = CP_TCP_SYN | CP_TCP_ACK; t.wscale = 8;
	t.window = 100;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(cp_rw_svm_can_take(&rw, C + 1, 100000),
		  "ws%d: a SYN-ACK's window sets no edge", peer_ws);
	t.seq = S + 1; t.ack = C + 1 + 3000; t.flags = CP_TCP_ACK; t.wscale = 0;
	t.window = 20;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(rw.svm_rcv_edge == C + 1 + 3000 + (20u << shift),
		  "ws%d: edge = ack + window << %u, across the wrap", peer_ws, shift);
	tap_check(cp_rw_svm_can_take(&rw, rw.svm_rcv_edge - 1, 60000) &&
		  !cp_rw_svm_can_take(&rw, rw.svm_rcv_edge, 1) &&
		  !cp_rw_svm_can_take(&rw, rw.svm_rcv_edge + 5, 1) &&
		  cp_rw_svm_can_take(&rw, rw.svm_rcv_edge + 5, 0),
		  "ws%d: data starting at or past the edge waits, pure ACKs never", peer_ws);
	t.ack = C + 1 + 3000; t.window = 0;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(!cp_rw_svm_can_take(&rw, C + 1 + 3000, 1), "ws%d: zero window: nothing fits", peer_ws);
	cp_rw_reset(&rw);
	tap_check(cp_rw_svm_can_take(&rw, C + 1 + 3000, 1),
		  "ws%d: checkpoint forgets the edge until the next ACK", peer_ws);
	t.window = 1;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(rw.svm_rcv_edge == C + 1 + 3000 + (1u << shift),
		  "ws%d: ... and keeps the scaling", peer_ws);
}

/*
 * A guest-opened connection with Fast Open data in the SYN: with the PVM's
 * ISN sent along, the offset is exact whether the server's SYN-ACK covers
 * the data or not (its ack alone cannot tell).
 */
static void test_pvm_isn(int server_took_data)
{
	struct cp_rw rw = { 0 };
	struct tb_tcp t = { .family = 4 };
	uint32_t P = 0x7000, S = 0xfffffffe, C = 999, acked = server_took_data ? 6 : 0;

	t.seq = S; t.flags = CP_TCP_SYN; t.data = "GET /x"; t.len = 6;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	cp_rw_pvm_isn(&rw, P);
	tap_check((rw.state & CP_RW_HAVE_OFF) && rw.seq_off == P - S,
		  "tfo%d: both ISNs give the offset before any ack", server_took_data);
	t.seq = C; t.ack = P + 1 + acked; t.flags = CP_TCP_SYN | CP_TCP_ACK;
	t.data = NULL; t.len = 0;
	build(&t);
	cp_rw_svm_in(&rw, frame, &pkt, false);
	tap_check(cp_get32(frame + pkt.l4_off + 8) == S + 1 + acked && rw.seq_off == P - S,
		  "tfo%d: the server's SYN-ACK acks %u bytes in the SVM's space", server_took_data,
		  acked);
	t.seq = S + 1 + 6; t.ack = C + 1; t.flags = CP_TCP_ACK;
	build(&t);
	cp_rw_svm_out(&rw, frame, &pkt, false);
	tap_check(cp_get32(frame + pkt.l4_off + 4) == P + 1 + 6,
		  "tfo%d: the SVM's next segment lands after the PVM's SYN data", server_took_data);
}

int main(void)
{
	test_accepted(4, 1000, 2000, 100, 200);
	test_accepted(4, 0xfffffff0, 0x10, 0xffffff00, 0x7fffffff);
	test_accepted(6, 0x10, 0xfffffff0, 5, 0xfffffffe);
	test_accepted(6, 0x80000000, 0, 0x80000000, 0);
	test_opened();
	test_partial();
	test_ts_floor();
	test_csum_random();
	test_ts_unaligned(4);
	test_ts_unaligned(6);
	test_window(1);
	test_window(0);
	test_pvm_isn(1);
	test_pvm_isn(0);
	return tap_done();
}
