// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the TCP rewriter. Input: [dir/flags:1][rewriter state:24][frame].
 * The frame is parsed; if it is TCP, it is rewritten in the SVM's output
 * or input direction from a fuzzer-chosen state. Invariants: the rewritten
 * frame still parses to the same layout, and a frame whose checksum was valid
 * before still has a valid one (unless CHECKSUM_PARTIAL was requested).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_proxy/parse.h"
#include "colo_proxy/rewrite.h"

static uint32_t l4_sum(const uint8_t *f, const struct cp_pkt *p, uint32_t end)
{
	uint32_t sum = 0, i, l4 = p->l4_off;

	if (p->family == 4)
		for (i = 0; i < 8; i += 2)
			sum += f[p->l3_off + 12 + i] << 8 | f[p->l3_off + 13 + i];
	else
		for (i = 0; i < 32; i += 2)
			sum += f[p->l3_off + 8 + i] << 8 | f[p->l3_off + 9 + i];
	sum += 6 + (end - l4);
	for (i = l4; i + 1 < end; i += 2)
		sum += f[i] << 8 | f[i + 1];
	if ((end - l4) & 1)
		sum += f[end - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint32_t l4_end(const uint8_t *f, const struct cp_pkt *p)
{
	if (p->family == 4)
		return p->l3_off + cp_get16(f + p->l3_off + 2);
	return p->l3_off + 40 + cp_get16(f + p->l3_off + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_pkt a, b;
	struct cp_rw rw;
	uint8_t *f;
	uint32_t len, end;
	bool partial, valid;
	uint8_t mode;

	if (size < 25)
		return 0;
	mode = data[0];
	/* The first 24 bytes of state come from the input, the rest (the
	 * SVM's window edge and the PVM's ISN) starts at zero. */
	memset(&rw, 0, sizeof(rw));
	memcpy(&rw, data + 1, sizeof(rw) < 24 ? sizeof(rw) : 24);
	len = size - 25;
	f = malloc(len ? len : 1);
	memcpy(f, data + 25, len);
	if (cp_parse_frame(f, len, &a) || a.kind != CP_KIND_TCP) {
		free(f);
		return 0;
	}
	partial = mode & 2;
	end = l4_end(f, &a);
	valid = l4_sum(f, &a, end) == 0xffff;
	if (mode & 4)
		cp_rw_pvm_isn(&rw, a.seq ^ 0x5a5a5a5a);
	if (mode & 1)
		cp_rw_svm_in(&rw, f, &a, partial);
	else
		cp_rw_svm_out(&rw, f, &a, partial);
	/* A segment starting before the edge always fits, one at it never. */
	if ((rw.state & CP_RW_HAVE_EDGE) &&
	    (!cp_rw_svm_can_take(&rw, rw.svm_rcv_edge - 1, 1) ||
	     cp_rw_svm_can_take(&rw, rw.svm_rcv_edge, 1)))
		abort();
	if (cp_parse_frame(f, len, &b) || b.l4_off != a.l4_off ||
	    b.pl_off != a.pl_off || b.ts_off != a.ts_off ||
	    b.sack_blocks != a.sack_blocks || b.tcp_flags != a.tcp_flags)
		abort();
	if (valid && !partial && l4_sum(f, &b, end) != 0xffff)
		abort();
	free(f);
	return 0;
}
