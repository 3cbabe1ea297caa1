/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP rewriting on the secondary: moves the SVM's sequence and timestamp
 * spaces onto the PVM's, per connection.
 *
 * Both guests run their own TCP stacks, so for one connection the SVM picks
 * its own ISN and its own timestamp offset. The client only ever talks to
 * the PVM's numbers. The offsets are learned from the handshake, whichever
 * side opened it: the SVM's SYN (or SYN-ACK) gives its ISN and TSval, the
 * primary sends the PVM's SYN (or SYN-ACK) along for the PVM's ISN, and the
 * first mirrored client segment with ACK set echoes the PVM's TSval. Without
 * the PVM's SYN (lost on the way) that segment's ack, the PVM's ISN + 1,
 * stands in for it; it cannot when the guest's SYN carried Fast Open data,
 * which the ack may or may not cover.
 *
 *   SVM output (to primary / network): seq += seq_off, TSval += ts_off
 *   SVM input (mirrored client frames): ack -= seq_off, SACK edges -= seq_off,
 *                                       TSecr -= ts_off
 *
 * The client's own numbers (its seq, its TSval, the SACK blocks the guest
 * sends) are the same for both guests and are left alone.
 *
 * The secondary also follows the right edge of the SVM's receive window
 * (the SVM's ack plus its scaled window, in the client's sequence space).
 * The client only obeys the PVM's window; a mirrored segment starting at or
 * beyond the SVM's edge would be dropped by the SVM and never sent again,
 * so the caller holds it until the SVM's window opens.
 */
#ifndef COLO_PROXY_REWRITE_H
#define COLO_PROXY_REWRITE_H

#include "cp_compat.h"
#include "parse.h"

struct cp_rw {
	u32 svm_isn;
	u32 svm_syn_tsval;
	u32 seq_off;
	u32 ts_off;
	u32 peer_tsecr;		/* newest TSecr from the client: a PVM TSval */
	u16 state;		/* CP_RW_* */
	u8 svm_wscale;		/* shift the SVM's window field uses */
	u32 svm_rcv_edge;	/* SVM's ack + scaled window (client's seq space) */
	u32 pvm_isn;
};

#define CP_RW_HAVE_ISN	0x01	/* saw the SVM's SYN */
#define CP_RW_SYN_TS	0x02	/* ... and it carried a timestamp */
#define CP_RW_HAVE_OFF	0x04	/* seq_off learned */
#define CP_RW_HAVE_TS	0x08	/* ts_off learned */
#define CP_RW_PEER_TS	0x10	/* peer_tsecr valid */
#define CP_RW_SVM_SYN	0x20	/* saw the SVM's SYN: svm_wscale is known */
#define CP_RW_PEER_WS	0x40	/* the client's SYN offered window scaling */
#define CP_RW_HAVE_EDGE	0x80	/* svm_rcv_edge valid */
#define CP_RW_PVM_ISN	0x100	/* pvm_isn valid */

/*
 * Update the TCP checksum at @csum for a 32-bit field change. With
 * @csum_partial the checksum field only holds the pseudo-header sum (the
 * rest is computed at transmit time), so header fields need no update.
 */
void cp_csum_replace4(u8 *csum, u32 from, u32 to);

/* The PVM's SYN or SYN-ACK for this connection carried ISN @isn. */
void cp_rw_pvm_isn(struct cp_rw *rw, u32 isn);

/* Both take a parsed TCP frame and modify it in place. */
void cp_rw_svm_out(struct cp_rw *rw, u8 *frame, const struct cp_pkt *pkt,
		   bool csum_partial);
void cp_rw_svm_in(struct cp_rw *rw, u8 *frame, const struct cp_pkt *pkt,
		  bool csum_partial);

/*
 * Whether the SVM can take a mirrored client segment starting at @seq and
 * occupying @len sequence numbers (payload, plus one for a FIN) now: false
 * when it starts at or beyond the SVM's window edge.
 */
bool cp_rw_svm_can_take(const struct cp_rw *rw, u32 seq, u32 len);

/* Checkpoint: both guests share one state again, offsets are zero. */
void cp_rw_reset(struct cp_rw *rw);

#endif /* COLO_PROXY_REWRITE_H */
