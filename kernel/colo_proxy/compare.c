// SPDX-License-Identifier: GPL-2.0
/*
 * Compare engine for colo_proxy, see compare.h for the contract.
 *
 * TCP model: each side's byte stream is the union of its held segments. A
 * FIN occupies the sequence number after its payload, as in TCP itself, so
 * "both sides closed at the same point" is checked by the same walk that
 * compares bytes. SYNs only have to exist on both sides: their sequence
 * numbers are each guest's own ISN and differ by design (the secondary's
 * rewriter learns the difference from the handshake). RSTs must agree too.
 * Payload in a SYN (TCP Fast Open) is compared like data: it occupies the
 * PVM's ISN + 1 onwards, whichever guest's SYN carries it, since the SVM's
 * SYN may leave before its sequence numbers can be moved.
 * cmp_seq walks forward while both sides cover it with equal content; a
 * primary segment whose whole range lies before cmp_seq is released.
 */
#include "compare.h"

#define seg_of(n) cp_container_of(n, struct cp_seg, node)

void cp_cmp_init(struct cp_cmp *c, bool tcp)
{
	memset(c, 0, sizeof(*c));
	cp_list_init(&c->pri);
	cp_list_init(&c->sec);
	c->tcp = tcp;
}

static void enqueue(struct cp_cmp *c, struct cp_seg *seg, bool pri)
{
	if (pri) {
		cp_list_add_tail(&seg->node, &c->pri);
		c->pri_pkts++;
		c->pri_bytes += seg->wire_len;
	} else {
		cp_list_add_tail(&seg->node, &c->sec);
		c->sec_pkts++;
		c->sec_bytes += seg->wire_len;
	}
}

static void dequeue(struct cp_cmp *c, struct cp_seg *seg, bool pri)
{
	cp_list_del(&seg->node);
	if (pri) {
		c->pri_pkts--;
		c->pri_bytes -= seg->wire_len;
	} else {
		c->sec_pkts--;
		c->sec_bytes -= seg->wire_len;
	}
}

/* End of the sequence range a data/FIN segment occupies. */
static u32 seg_end(const struct cp_seg *s)
{
	return s->seq + s->len + ((s->flags & CP_SEG_FIN) ? 1 : 0);
}

static bool seg_covers(const struct cp_seg *s, u32 seq)
{
	if ((s->flags & CP_SEG_RST) ||
	    (s->flags & (CP_SEG_SYN | CP_SEG_SYN_DATA)) == CP_SEG_SYN)
		return false;
	return cp_seq_before_eq(s->seq, seq) && cp_seq_before(seq, seg_end(s));
}

static struct cp_seg *find_cover(struct cp_list *q, u32 seq)
{
	struct cp_list *n;

	for (n = q->next; n != q; n = n->next)
		if (seg_covers(seg_of(n), seq))
			return seg_of(n);
	return NULL;
}

/* Walk cmp_seq forward; returns false on a difference. */
static bool tcp_advance(struct cp_cmp *c, const struct cp_cmp_ops *ops)
{
	struct cp_seg *p, *s;

	if (!(c->state & CP_ST_HAVE_CMP))
		return true;
	for (;;) {
		u32 pd, sd, n;

		p = find_cover(&c->pri, c->cmp_seq);
		s = find_cover(&c->sec, c->cmp_seq);
		if (!p || !s)
			return true;
		pd = p->seq + p->len;	/* end of payload (FIN excluded) */
		sd = s->seq + s->len;
		if (c->cmp_seq == pd || c->cmp_seq == sd) {
			/* At least one side is at its FIN: both must be. */
			if (c->cmp_seq != pd || c->cmp_seq != sd)
				return false;
			c->cmp_seq++;
			continue;
		}
		n = (cp_seq_before(pd, sd) ? pd : sd) - c->cmp_seq;
		if (!ops->equal(p, c->cmp_seq - p->seq, s, c->cmp_seq - s->seq, n))
			return false;
		c->cmp_seq += n;
		c->matched_bytes += n;
	}
}

static bool compared(const struct cp_cmp *c, const struct cp_seg *s)
{
	return (c->state & CP_ST_HAVE_CMP) &&
	       cp_seq_before_eq(seg_end(s), c->cmp_seq);
}

static bool pri_done(const struct cp_cmp *c, const struct cp_seg *s)
{
	if (s->flags & CP_SEG_RST)
		return c->state & CP_ST_SEC_RST;
	if (s->flags & CP_SEG_SYN)
		return (c->state & CP_ST_SEC_SYN) && (!s->len || compared(c, s));
	return compared(c, s);
}

static bool sec_done(const struct cp_cmp *c, const struct cp_seg *s)
{
	if (s->flags & CP_SEG_RST)
		return true;
	if (s->flags & CP_SEG_SYN)
		return !s->len || ((s->flags & CP_SEG_SYN_DATA) && compared(c, s));
	return compared(c, s);
}

/* Once the PVM's ISN is known, a SYN's payload starts after it. */
static void place_syn_data(const struct cp_cmp *c, struct cp_seg *s)
{
	if ((s->flags & (CP_SEG_SYN | CP_SEG_SYN_DATA)) != CP_SEG_SYN || !s->len ||
	    !(c->state & CP_ST_PRI_SYN))
		return;
	s->seq = c->pri_isn + 1;
	s->flags |= CP_SEG_SYN_DATA;
}

static void tcp_collect(struct cp_cmp *c, const struct cp_cmp_ops *ops,
			void *ctx)
{
	/* Primary frames leave strictly in the order the PVM sent them. */
	while (!cp_list_empty(&c->pri) && pri_done(c, seg_of(c->pri.next))) {
		struct cp_seg *s = seg_of(c->pri.next);

		dequeue(c, s, true);
		ops->release(ctx, s);
	}
	/*
	 * The secondary's segments are dropped from the front only: a done
	 * one behind a pending one cannot cover cmp_seq any more and goes
	 * later (or at the checkpoint), and the queue is not walked whole on
	 * every segment, which would make a long queue quadratic.
	 */
	while (!cp_list_empty(&c->sec) && sec_done(c, seg_of(c->sec.next))) {
		struct cp_seg *s = seg_of(c->sec.next);

		dequeue(c, s, false);
		ops->drop(ctx, s);
	}
}

static void tcp_note_flags(struct cp_cmp *c, const struct cp_seg *seg, bool pri)
{
	if (seg->flags & CP_SEG_RST)
		c->state |= pri ? CP_ST_PRI_RST : CP_ST_SEC_RST;
	if (seg->flags & CP_SEG_SYN) {
		if (pri && !(c->state & CP_ST_PRI_SYN)) {
			struct cp_list *n;

			c->state |= CP_ST_PRI_SYN;
			c->pri_isn = seg->seq;
			/* The SVM's SYN came first: its payload has a place now. */
			for (n = c->sec.next; n != &c->sec; n = n->next)
				place_syn_data(c, seg_of(n));
		} else if (!pri && !(c->state & CP_ST_SEC_SYN)) {
			c->state |= CP_ST_SEC_SYN;
			c->sec_isn = seg->seq;
		}
		if ((c->state & CP_ST_PRI_SYN) && (c->state & CP_ST_SEC_SYN) &&
		    !(c->state & CP_ST_HAVE_CMP)) {
			c->cmp_seq = c->pri_isn + 1;
			c->state |= CP_ST_HAVE_CMP;
		}
	} else if (!(seg->flags & CP_SEG_RST) && !(c->state & CP_ST_HAVE_CMP) &&
		   (seg->len || (seg->flags & CP_SEG_FIN))) {
		/*
		 * Connection seen first after a checkpoint (or after module
		 * load): both guests are in the same state, so the first data
		 * from either side marks where comparing starts.
		 */
		c->cmp_seq = seg->seq;
		c->state |= CP_ST_HAVE_CMP;
	}
}

static bool tcp_pure_ack(const struct cp_seg *seg)
{
	return !seg->len && !seg->flags;
}

static enum cp_cmp_result tcp_feed(struct cp_cmp *c, struct cp_seg *seg,
				   bool pri, const struct cp_cmp_ops *ops,
				   void *ctx)
{
	/* ACKs and window updates carry nothing to compare. */
	if (tcp_pure_ack(seg))
		return CP_CMP_PASS;
	if (c->state & CP_ST_DIVERGED) {
		if (!pri)
			return CP_CMP_PASS;
		enqueue(c, seg, pri);
		return CP_CMP_HELD;
	}
	tcp_note_flags(c, seg, pri);
	place_syn_data(c, seg);
	/* Retransmission of a range both sides already agreed on. */
	if (pri ? pri_done(c, seg) : sec_done(c, seg)) {
		tcp_collect(c, ops, ctx);
		return CP_CMP_PASS;
	}
	enqueue(c, seg, pri);
	if (!tcp_advance(c, ops)) {
		c->state |= CP_ST_DIVERGED;
		return CP_CMP_MISMATCH;
	}
	tcp_collect(c, ops, ctx);
	return CP_CMP_HELD;
}

/* Other protocols: whole payloads, first against first. */
static enum cp_cmp_result dgram_feed(struct cp_cmp *c, struct cp_seg *seg,
				     bool pri, const struct cp_cmp_ops *ops,
				     void *ctx)
{
	if ((c->state & CP_ST_DIVERGED) && !pri)
		return CP_CMP_PASS;
	enqueue(c, seg, pri);
	if (c->state & CP_ST_DIVERGED)
		return CP_CMP_HELD;
	while (!cp_list_empty(&c->pri) && !cp_list_empty(&c->sec)) {
		struct cp_seg *p = seg_of(c->pri.next);
		struct cp_seg *s = seg_of(c->sec.next);

		if (p->len != s->len || !ops->equal(p, 0, s, 0, p->len)) {
			c->state |= CP_ST_DIVERGED;
			return CP_CMP_MISMATCH;
		}
		c->matched_bytes += p->len;
		dequeue(c, s, false);
		dequeue(c, p, true);
		ops->drop(ctx, s);
		ops->release(ctx, p);
	}
	return CP_CMP_HELD;
}

bool cp_cmp_may_hold(const struct cp_cmp *c, const struct cp_seg *seg)
{
	return !c->tcp || !tcp_pure_ack(seg);
}

enum cp_cmp_result cp_cmp_primary(struct cp_cmp *c, struct cp_seg *seg,
				  const struct cp_cmp_ops *ops, void *ctx)
{
	cp_list_init(&seg->node);
	if (c->tcp)
		return tcp_feed(c, seg, true, ops, ctx);
	return dgram_feed(c, seg, true, ops, ctx);
}

enum cp_cmp_result cp_cmp_secondary(struct cp_cmp *c, struct cp_seg *seg,
				    const struct cp_cmp_ops *ops, void *ctx)
{
	cp_list_init(&seg->node);
	if (c->tcp)
		return tcp_feed(c, seg, false, ops, ctx);
	return dgram_feed(c, seg, false, ops, ctx);
}

void cp_cmp_flush(struct cp_cmp *c, const struct cp_cmp_ops *ops, void *ctx)
{
	while (!cp_list_empty(&c->pri)) {
		struct cp_seg *s = seg_of(c->pri.next);

		dequeue(c, s, true);
		ops->release(ctx, s);
	}
	while (!cp_list_empty(&c->sec)) {
		struct cp_seg *s = seg_of(c->sec.next);

		dequeue(c, s, false);
		ops->drop(ctx, s);
	}
	c->state = 0;
}

bool cp_cmp_oldest(const struct cp_cmp *c, u64 *stamp)
{
	if (cp_list_empty(&c->pri))
		return false;
	*stamp = seg_of(c->pri.next)->stamp;
	return true;
}
