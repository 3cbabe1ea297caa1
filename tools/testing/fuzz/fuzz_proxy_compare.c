// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the frame parser and the compare engine together. The input is a
 * sequence of records: [side:1][len:2 big endian][frame:len]. Each frame is
 * parsed (exactly sized copy, so ASan sees overreads); bit 0 of side picks
 * the secondary, bit 7 a checkpoint first, bits 1-6 a readable head shorter
 * than the frame (the rest is poisoned while the parser runs, as the kernel
 * keeps only the headers linear). Parsed frames become segments fed to one
 * TCP and one datagram engine as primary or secondary, under one small
 * hard hold limit for both, as the kernel's instance does (datapath.c:
 * cp_compare()): a segment the engine may hold is counted first and refused
 * when it does not fit; what the engine hands back or passes is uncounted.
 * Invariants: queue counters match the queues, every segment comes back
 * exactly once, the hold count equals what both engines hold and never
 * passes its limits, nothing leaks after the final flush.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "colo_proxy/parse.h"
#include "colo_proxy/compare.h"
#include "colo_proxy/limits.h"

struct fseg {
	struct cp_seg seg;
	uint8_t *frame;
	const uint8_t *payload;
};

/* Small enough for a few frames of an input to reach them. */
#define HOLD_PACKETS 6
#define HOLD_BYTES 3000

static long outstanding;
static struct cp_hold hold;

static void free_seg(struct fseg *f)
{
	free(f->frame);
	free(f);
	outstanding--;
}

/* The engine hands back a segment it held: uncount it, as the kernel's callbacks do. */
static void give_back(void *ctx, struct cp_seg *s)
{
	struct fseg *f = cp_container_of(s, struct fseg, seg);

	cp_hold_sub(&hold, s->wire_len);
	free_seg(f);
}


static bool equal(const struct cp_seg *a, uint32_t a_off,
		  const struct cp_seg *b, uint32_t b_off, uint32_t len)
{
	const struct fseg *fa = cp_container_of(a, struct fseg, seg);
	const struct fseg *fb = cp_container_of(b, struct fseg, seg);

	/* The engine must stay inside both segments. */
	if (a_off + len > a->len || b_off + len > b->len || a_off + len < a_off)
		abort();
	return !memcmp(fa->payload + a_off, fb->payload + b_off, len);
}

static const struct cp_cmp_ops ops = { give_back, give_back, equal };

static void check_counts(const struct cp_cmp *c)
{
	const struct cp_list *n;
	uint32_t p = 0, s = 0;

	for (n = c->pri.next; n != &c->pri; n = n->next)
		p++;
	for (n = c->sec.next; n != &c->sec; n = n->next)
		s++;
	if (p != c->pri_pkts || s != c->sec_pkts)
		abort();
}

static void check_hold(const struct cp_cmp *a, const struct cp_cmp *b)
{
	if (hold.pkts != a->pri_pkts + a->sec_pkts + b->pri_pkts + b->sec_pkts ||
	    hold.bytes != (u64)a->pri_bytes + a->sec_bytes + b->pri_bytes + b->sec_bytes ||
	    hold.pkts > HOLD_PACKETS || hold.bytes > HOLD_BYTES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_cmp tcp, dgram;
	size_t pos = 0;
	int n = 0;

	cp_cmp_init(&tcp, true);
	cp_cmp_init(&dgram, false);
	outstanding = 0;
	memset(&hold, 0, sizeof(hold));
	while (pos + 3 <= size && n++ < 256) {
		uint8_t side = data[pos];
		uint32_t len = (uint32_t)data[pos + 1] << 8 | data[pos + 2];
		uint32_t head;
		struct cp_pkt pkt;
		struct fseg *f;
		int bad;
		struct cp_cmp *c;
		enum cp_cmp_result r;
		bool counted;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		f = calloc(1, sizeof(*f));
		f->frame = malloc(len ? len : 1);
		memcpy(f->frame, data + pos, len);
		pos += len;
		outstanding++;
		head = (side & 0x7e) ? 14 + ((side >> 1) & 0x3f) * 4u : len;
		if (head > len)
			head = len;
		ASAN_POISON_MEMORY_REGION(f->frame + head, len - head);
		bad = cp_parse_head(f->frame, head, len, &pkt);
		ASAN_UNPOISON_MEMORY_REGION(f->frame + head, len - head);
		if (bad ||
		    pkt.kind == CP_KIND_ARP || pkt.kind == CP_KIND_NON_IP ||
		    pkt.kind == CP_KIND_ND) {
			free_seg(f);
			continue;
		}
		if (pkt.pl_off + pkt.pl_len > len)
			abort();
		f->payload = f->frame + pkt.pl_off;
		f->seg.len = pkt.pl_len;
		f->seg.wire_len = len;
		f->seg.seq = pkt.seq;
		if (pkt.tcp_flags & CP_TCP_SYN)
			f->seg.flags |= CP_SEG_SYN;
		if (pkt.tcp_flags & CP_TCP_FIN)
			f->seg.flags |= CP_SEG_FIN;
		if (pkt.tcp_flags & CP_TCP_RST)
			f->seg.flags |= CP_SEG_RST;
		c = pkt.kind == CP_KIND_TCP ? &tcp : &dgram;
		if (side & 0x80) {
			/* A checkpoint between frames. */
			cp_cmp_flush(c, &ops, NULL);
		}
		counted = cp_cmp_may_hold(c, &f->seg);
		if (counted) {
			if (cp_hold_admit(&hold, HOLD_PACKETS, HOLD_BYTES, f->seg.wire_len) !=
			    CP_HOLD_OK) {
				/* Refused: the kernel drops the frame. */
				free_seg(f);
				check_hold(&tcp, &dgram);
				continue;
			}
			cp_hold_add(&hold, f->seg.wire_len);
		}
		r = (side & 1) ? cp_cmp_secondary(c, &f->seg, &ops, NULL) :
				 cp_cmp_primary(c, &f->seg, &ops, NULL);
		if (r == CP_CMP_PASS) {
			if (counted)
				cp_hold_sub(&hold, f->seg.wire_len);
			free_seg(f);
		}
		check_counts(c);
		check_hold(&tcp, &dgram);
	}
	cp_cmp_flush(&tcp, &ops, NULL);
	cp_cmp_flush(&dgram, &ops, NULL);
	if (outstanding || tcp.pri_bytes || tcp.sec_bytes || dgram.pri_bytes ||
	    hold.pkts || hold.bytes)
		abort();
	return 0;
}
