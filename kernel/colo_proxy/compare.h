/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-connection compare engine.
 *
 * The primary's frames (from the PVM) are held as segments; the secondary's
 * frames (from the SVM, already moved into the PVM's sequence space by the
 * secondary's rewriter) are kept until compared. TCP payload is compared by
 * sequence range, so the two guests may segment the same byte stream
 * differently; other protocols are compared packet by packet, in order.
 *
 * The engine owns no memory and never touches payload itself: segments are
 * embedded in the caller's objects (skbs in the kernel, whose payload may sit
 * in page fragments) and the caller's equal callback compares their bytes;
 * they are handed back through the release/drop callbacks.
 */
#ifndef COLO_PROXY_COMPARE_H
#define COLO_PROXY_COMPARE_H

#include "cp_compat.h"

#define CP_SEG_SYN 0x01
#define CP_SEG_FIN 0x02
#define CP_SEG_RST 0x04
/* The engine's own: a SYN's payload (TCP Fast Open) placed at ISN + 1 */
#define CP_SEG_SYN_DATA 0x08

struct cp_seg {
	struct cp_list node;
	u32 seq;		/* TCP: first payload byte; unused otherwise */
	u32 len;		/* payload length */
	u8 flags;		/* CP_SEG_* */
	u32 wire_len;		/* frame size, for queue accounting */
	u64 stamp;		/* arrival time, caller's clock */
};

enum cp_cmp_result {
	CP_CMP_HELD,		/* the engine keeps the segment */
	CP_CMP_PASS,		/* primary: send now; secondary: free now */
	CP_CMP_MISMATCH,	/* segment held; the streams differ */
};

struct cp_cmp_ops {
	/* A held primary segment may go to the network (called in order). */
	void (*release)(void *ctx, struct cp_seg *seg);
	/* A held secondary segment is no longer needed. */
	void (*drop)(void *ctx, struct cp_seg *seg);
	/* Whether @len payload bytes of @a from @a_off equal those of @b from @b_off. */
	bool (*equal)(const struct cp_seg *a, u32 a_off, const struct cp_seg *b,
		      u32 b_off, u32 len);
};

struct cp_cmp {
	struct cp_list pri, sec;
	u32 pri_pkts, pri_bytes;
	u32 sec_pkts, sec_bytes;
	u32 cmp_seq;		/* TCP: all bytes before it compared equal */
	u32 pri_isn, sec_isn;
	u16 state;		/* CP_ST_* */
	bool tcp;
	u64 matched_bytes;	/* bytes compared equal (statistics) */
};

#define CP_ST_HAVE_CMP	0x01
#define CP_ST_PRI_SYN	0x02
#define CP_ST_SEC_SYN	0x04
#define CP_ST_PRI_RST	0x08
#define CP_ST_SEC_RST	0x10
#define CP_ST_DIVERGED	0x20

void cp_cmp_init(struct cp_cmp *c, bool tcp);

/*
 * Feed one segment. With CP_CMP_HELD or CP_CMP_MISMATCH the engine owns
 * @seg and hands it back later through ops->release (primary) or ops->drop
 * (secondary), possibly already during this call. With CP_CMP_PASS the
 * caller keeps @seg: a primary segment goes out at once (pure ACK, window
 * update, retransmission of a compared range), a secondary one is freed.
 * Callbacks run in the caller's context, with the caller's locks held.
 */
enum cp_cmp_result cp_cmp_primary(struct cp_cmp *c, struct cp_seg *seg,
				  const struct cp_cmp_ops *ops, void *ctx);
enum cp_cmp_result cp_cmp_secondary(struct cp_cmp *c, struct cp_seg *seg,
				    const struct cp_cmp_ops *ops, void *ctx);

/*
 * Whether the engine may keep @seg at all: a TCP pure ACK or window update
 * always passes. The caller bounds what the engine holds with this.
 */
bool cp_cmp_may_hold(const struct cp_cmp *c, const struct cp_seg *seg);

/*
 * Checkpoint: release every held primary segment in order, drop every
 * secondary one, forget the learned sequence state (both guests now share
 * their state, the next segments set it again).
 */
void cp_cmp_flush(struct cp_cmp *c, const struct cp_cmp_ops *ops, void *ctx);

/* Arrival stamp of the oldest held primary segment; false if none. */
bool cp_cmp_oldest(const struct cp_cmp *c, u64 *stamp);

#endif /* COLO_PROXY_COMPARE_H */
