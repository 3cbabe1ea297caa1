// SPDX-License-Identifier: GPL-2.0
/*
 * Sequence and timestamp rewriting for colo_proxy, see rewrite.h.
 */
#include "rewrite.h"

/* One's complement sum helpers (RFC 1071), incremental update per RFC 1624. */
static u32 csum_add16(u32 sum, u16 v)
{
	sum += v;
	return (sum & 0xffff) + (sum >> 16);
}

void cp_csum_replace4(u8 *csum, u32 from, u32 to)
{
	u32 sum = (u16)~cp_get16(csum);

	/* HC' = ~(~HC + ~m + m') */
	sum = csum_add16(sum, (u16)~(from >> 16));
	sum = csum_add16(sum, (u16)~(from & 0xffff));
	sum = csum_add16(sum, to >> 16);
	sum = csum_add16(sum, to & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	cp_put16(csum, (u16)~sum);
}

/*
 * The sum is made of 16-bit words counted from the start of the TCP header.
 * A field at an odd offset (TCP options need no alignment, and a guest or a
 * client can send them unaligned) straddles those words: its bytes enter the
 * sum swapped within each half (RFC 1071, "byte order independence").
 */
static u32 swap_bytes_in_halves(u32 v)
{
	return (v & 0x00ff00ff) << 8 | (v >> 8 & 0x00ff00ff);
}

static void set32(u8 *frame, u32 off, u32 val, const struct cp_pkt *pkt,
		  bool csum_partial)
{
	u32 old = cp_get32(frame + off);

	if (old == val)
		return;
	cp_put32(frame + off, val);
	if (csum_partial)
		return;
	if ((off - pkt->l4_off) & 1)
		cp_csum_replace4(frame + pkt->csum_off, swap_bytes_in_halves(old),
				 swap_bytes_in_halves(val));
	else
		cp_csum_replace4(frame + pkt->csum_off, old, val);
}

/*
 * Window scaling is on only if both SYNs offered it (RFC 7323); a SYN's own
 * window is never scaled.
 */
static void note_svm_window(struct cp_rw *rw, const u8 *frame,
			    const struct cp_pkt *pkt)
{
	u8 shift;

	if (pkt->tcp_flags & CP_TCP_SYN) {
		rw->svm_wscale = pkt->wscale_off ? frame[pkt->wscale_off] : 0;
		rw->state |= CP_RW_SVM_SYN;
		return;
	}
	if (!(pkt->tcp_flags & CP_TCP_ACK) || (pkt->tcp_flags & CP_TCP_RST) ||
	    !(rw->state & CP_RW_SVM_SYN))
		return;
	/* RFC 7323: a larger shift than 14 is taken as 14. */
	shift = rw->svm_wscale > 14 ? 14 : rw->svm_wscale;
	if (!(rw->state & CP_RW_PEER_WS))
		shift = 0;
	rw->svm_rcv_edge = pkt->ack + ((u32)pkt->window << shift);
	rw->state |= CP_RW_HAVE_EDGE;
}

bool cp_rw_svm_can_take(const struct cp_rw *rw, u32 seq, u32 len)
{
	return !len || !(rw->state & CP_RW_HAVE_EDGE) ||
	       cp_seq_before(seq, rw->svm_rcv_edge);
}

/* Both ISNs known: the sequence offset is exact. */
static void learn_seq_off(struct cp_rw *rw)
{
	if ((rw->state & (CP_RW_HAVE_ISN | CP_RW_PVM_ISN | CP_RW_HAVE_OFF)) !=
	    (CP_RW_HAVE_ISN | CP_RW_PVM_ISN))
		return;
	rw->seq_off = rw->pvm_isn - rw->svm_isn;
	rw->state |= CP_RW_HAVE_OFF;
}

void cp_rw_pvm_isn(struct cp_rw *rw, u32 isn)
{
	if (rw->state & CP_RW_HAVE_OFF)
		return;
	rw->pvm_isn = isn;
	rw->state |= CP_RW_PVM_ISN;
	learn_seq_off(rw);
}

void cp_rw_svm_out(struct cp_rw *rw, u8 *frame, const struct cp_pkt *pkt,
		   bool csum_partial)
{
	note_svm_window(rw, frame, pkt);
	if ((pkt->tcp_flags & CP_TCP_SYN) && !(rw->state & CP_RW_HAVE_OFF)) {
		rw->svm_isn = pkt->seq;
		rw->state |= CP_RW_HAVE_ISN;
		if (pkt->ts_off) {
			rw->svm_syn_tsval = pkt->tsval;
			rw->state |= CP_RW_SYN_TS;
		}
		learn_seq_off(rw);
	}
	if (rw->state & CP_RW_HAVE_OFF)
		set32(frame, pkt->l4_off + 4, pkt->seq + rw->seq_off, pkt,
		      csum_partial);
	if (pkt->ts_off && (rw->state & CP_RW_HAVE_TS)) {
		u32 tsval = pkt->tsval + rw->ts_off;

		/*
		 * Never go below a TSval the client has already seen from the
		 * PVM: after failover the client would drop the segment as an
		 * old duplicate (PAWS). Raising the offset keeps TSval
		 * monotonic because the SVM's own clock is monotonic.
		 */
		if ((rw->state & CP_RW_PEER_TS) &&
		    cp_seq_before(tsval, rw->peer_tsecr)) {
			rw->ts_off += rw->peer_tsecr - tsval;
			tsval = rw->peer_tsecr;
		}
		set32(frame, pkt->ts_off, tsval, pkt, csum_partial);
	}
}

void cp_rw_svm_in(struct cp_rw *rw, u8 *frame, const struct cp_pkt *pkt,
		  bool csum_partial)
{
	bool ack = pkt->tcp_flags & CP_TCP_ACK;
	u8 i;

	if (pkt->tcp_flags & CP_TCP_SYN) {
		rw->state &= ~CP_RW_PEER_WS;
		if (pkt->wscale_off)
			rw->state |= CP_RW_PEER_WS;
	}

	if (ack && !(pkt->tcp_flags & CP_TCP_RST) && (rw->state & CP_RW_HAVE_ISN)) {
		if (!(rw->state & CP_RW_HAVE_OFF)) {
			/* The peer acknowledges the PVM's ISN + 1. */
			rw->seq_off = pkt->ack - 1 - rw->svm_isn;
			rw->state |= CP_RW_HAVE_OFF;
		}
		/* ... and echoes the TSval of the PVM's SYN. */
		if (!(rw->state & CP_RW_HAVE_TS) && pkt->ts_off &&
		    (rw->state & CP_RW_SYN_TS)) {
			rw->ts_off = pkt->tsecr - rw->svm_syn_tsval;
			rw->state |= CP_RW_HAVE_TS;
		}
	}
	if (pkt->ts_off && pkt->tsecr &&
	    (!(rw->state & CP_RW_PEER_TS) ||
	     cp_seq_after(pkt->tsecr, rw->peer_tsecr))) {
		rw->peer_tsecr = pkt->tsecr;
		rw->state |= CP_RW_PEER_TS;
	}
	if (!(rw->state & CP_RW_HAVE_OFF))
		return;
	if (ack)
		set32(frame, pkt->l4_off + 8, pkt->ack - rw->seq_off, pkt,
		      csum_partial);
	for (i = 0; i < pkt->sack_blocks; i++) {
		u32 off = pkt->sack_off + i * 8u;

		set32(frame, off, cp_get32(frame + off) - rw->seq_off, pkt,
		      csum_partial);
		set32(frame, off + 4, cp_get32(frame + off + 4) - rw->seq_off,
		      pkt, csum_partial);
	}
	if (pkt->ts_off && (rw->state & CP_RW_HAVE_TS) && pkt->tsecr)
		set32(frame, pkt->ts_off + 4, pkt->tsecr - rw->ts_off, pkt,
		      csum_partial);
}

void cp_rw_reset(struct cp_rw *rw)
{
	/*
	 * The guests' stacks are identical after a checkpoint: both offsets
	 * are zero from now on. Keep learning disabled for this connection
	 * (HAVE_OFF/HAVE_TS set with zero offsets); keep the newest peer
	 * TSecr so the TSval floor survives, and the window scaling the
	 * handshake agreed on. The SVM's window edge is learned again from
	 * its next ACK.
	 */
	rw->seq_off = 0;
	rw->ts_off = 0;
	rw->state = (rw->state & (CP_RW_PEER_TS | CP_RW_SVM_SYN | CP_RW_PEER_WS)) |
		    CP_RW_HAVE_OFF | CP_RW_HAVE_TS;
}
