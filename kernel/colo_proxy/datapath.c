// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy data path: netfilter netdev hooks on the host side of the
 * guest's interface. Ingress sees what the guest sends, egress what it is
 * about to receive.
 *
 *   primary   egress:  mirror the frame to the secondary, let it pass
 *             ingress: hold the PVM's frame until the SVM's output for the
 *                      same connection and range compared equal; a copy
 *                      of the PVM's SYNs goes to the secondary
 *             tunnel:  SVM frames feed the compare engine
 *   secondary egress:  only frames injected from the tunnel reach the SVM
 *                      (after failover: everything, ack-rewritten)
 *             ingress: rewrite seq/TSval, send the frame to the primary
 *                      (after failover: let it out to the network); ARP/ND
 *                      stay, requests are answered from the bindings
 *                      learned from mirrored ARP/ND
 *             tunnel:  mirrored frames get ack/SACK/TSecr rewritten and are
 *                      transmitted to the SVM, or wait while they start
 *                      beyond the SVM's receive window
 *
 * Frames the proxy itself sends back into a hooked path (released PVM
 * frames, injected mirror frames) must not be processed twice: they are
 * marked by a per-CPU pointer for the duration of the call that runs the
 * hook. Both calls run it synchronously on this CPU: dev_queue_xmit() runs
 * egress hooks before any queueing, and netif_receive_skb_core() bypasses
 * RPS, which would otherwise hand the frame to another CPU's backlog.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/netfilter_netdev.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

#include "proxy.h"

static DEFINE_PER_CPU(struct sk_buff *, cp_own_skb);

struct cp_held {
	struct cp_seg seg;
	struct sk_buff *skb;
	u32 pl_start;		/* payload offset from skb->data */
};

/* skb->cb of a mirrored segment waiting for the SVM's receive window. */
struct cp_hold_cb {
	u32 seq;
	u32 len;		/* sequence numbers it occupies */
};

/* skb->cb of a sealed PVM frame: what it counts in the instance's hold. */
struct cp_sealed_cb {
	u32 wire_len;
};

struct cp_cb_ctx {
	struct cp_instance *inst;
	struct sk_buff_head *release;
	struct sk_buff *self;		/* frame being hooked right now */
	bool self_released;
	bool drop_all;			/* instance/connection going away */
	bool sealing;			/* SEAL: released frames stay held */
};

static void cp_cb_release(void *ctx, struct cp_seg *seg)
{
	struct cp_held *h = container_of(seg, struct cp_held, seg);
	struct cp_cb_ctx *c = ctx;

	if (c->sealing) {
		((struct cp_sealed_cb *)h->skb->cb)->wire_len = seg->wire_len;
		__skb_queue_tail(c->release, h->skb);
		kfree(h);
		return;
	}
	cp_hold_give(c->inst, seg->wire_len);
	if (c->drop_all) {
		kfree_skb(h->skb);
	} else {
		cp_stat_inc(c->inst, COLO_PROXY_STAT_RELEASED);
		if (h->skb == c->self)
			c->self_released = true;
		else
			__skb_queue_tail(c->release, h->skb);
	}
	kfree(h);
}

static void cp_cb_drop(void *ctx, struct cp_seg *seg)
{
	struct cp_held *h = container_of(seg, struct cp_held, seg);
	struct cp_cb_ctx *c = ctx;

	cp_hold_give(c->inst, seg->wire_len);
	consume_skb(h->skb);
	kfree(h);
}

/*
 * Payload compare straight from the skbs' fragments: held frames are GSO
 * super-frames whose payload sits in pages, and linearising them would
 * copy every byte once more.
 */
static bool cp_cb_equal(const struct cp_seg *a, u32 a_off,
			const struct cp_seg *b, u32 b_off, u32 len)
{
	const struct cp_held *ha = container_of(a, struct cp_held, seg);
	const struct cp_held *hb = container_of(b, struct cp_held, seg);
	u32 from_a = ha->pl_start + a_off, from_b = hb->pl_start + b_off;
	struct skb_seq_state sa, sb;
	unsigned int na = 0, nb = 0, n, pos = 0;
	const u8 *pa = NULL, *pb = NULL;
	bool same = true;

	skb_prepare_seq_read(ha->skb, from_a, from_a + len, &sa);
	skb_prepare_seq_read(hb->skb, from_b, from_b + len, &sb);
	while (pos < len) {
		if (!na)
			na = skb_seq_read(pos, &pa, &sa);
		if (!nb)
			nb = skb_seq_read(pos, &pb, &sb);
		if (!na || !nb) {
			same = false;
			break;
		}
		n = min3(na, nb, len - pos);
		if (memcmp(pa, pb, n)) {
			same = false;
			break;
		}
		pa += n;
		pb += n;
		na -= n;
		nb -= n;
		pos += n;
	}
	skb_abort_seq_read(&sb);
	skb_abort_seq_read(&sa);
	return same;
}

static const struct cp_cmp_ops cp_ops = {
	.release = cp_cb_release,
	.drop = cp_cb_drop,
	.equal = cp_cb_equal,
};

/* Caller holds inst->lock. */
void cp_conn_flush(struct cp_instance *inst, struct cp_conn *conn,
		   struct sk_buff_head *release, bool drop_all)
{
	struct cp_cb_ctx ctx = {
		.inst = inst, .release = release, .drop_all = drop_all,
	};

	cp_cmp_flush(&conn->cmp, &cp_ops, &ctx);
}

/*
 * Caller holds inst->lock. SEAL: the connection's held PVM frames go to
 * @sealed in order, still counted in the hold; the SVM's are dropped, and
 * comparing starts afresh with the next frames.
 */
void cp_conn_seal(struct cp_instance *inst, struct cp_conn *conn,
		  struct sk_buff_head *sealed)
{
	struct cp_cb_ctx ctx = { .inst = inst, .release = sealed, .sealing = true };

	cp_cmp_flush(&conn->cmp, &cp_ops, &ctx);
}

/* Caller holds inst->lock: the sealed frames move to @q, out of the hold. */
void cp_sealed_take(struct cp_instance *inst, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&inst->sealed_out))) {
		cp_hold_give(inst, ((struct cp_sealed_cb *)skb->cb)->wire_len);
		cp_stat_inc(inst, COLO_PROXY_STAT_RELEASED);
		__skb_queue_tail(q, skb);
	}
}

/* Hand released PVM frames to the stack, in order, past our own hook. */
void cp_deliver_released(struct cp_instance *inst, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(q))) {
		local_bh_disable();
		this_cpu_write(cp_own_skb, skb);
		netif_receive_skb_core(skb);
		this_cpu_write(cp_own_skb, NULL);
		local_bh_enable();
	}
}

static bool cp_is_own(const struct sk_buff *skb)
{
	return this_cpu_read(cp_own_skb) == skb;
}

/*
 * Linear bytes the parser gets first: Ethernet with two VLAN tags, IPv4 with
 * options or IPv6 with a few extension headers, TCP with options. Frames
 * whose headers go further are linearised whole and parsed again.
 */
#define CP_PARSE_HEAD 256

/*
 * Parse the frame of @skb that starts at its MAC header, with only the
 * headers made linear. *mac_off is how far skb->data is past the MAC header
 * (frame offsets minus *mac_off are skb->data offsets). Returns false (and
 * counts a bad frame) when the frame cannot be parsed.
 */
static bool cp_skb_parse(struct cp_instance *inst, struct sk_buff *skb,
			 struct cp_pkt *pkt, u32 *mac_off)
{
	u32 len, want;
	int off;

	if (!skb_mac_header_was_set(skb))
		goto bad;
	off = skb->data - skb_mac_header(skb);
	if (off < 0 || off >= CP_PARSE_HEAD)
		goto bad;
	*mac_off = off;
	len = skb->len + off;
	want = min_t(u32, skb->len, CP_PARSE_HEAD - off);
	if (!pskb_may_pull(skb, want))
		goto bad;
	if (!cp_parse_head(skb_mac_header(skb), skb_headlen(skb) + off, len, pkt))
		return true;
	if (skb_headlen(skb) < skb->len && !skb_linearize(skb) &&
	    !cp_parse_head(skb_mac_header(skb), len, len, pkt))
		return true;

bad:
	cp_stat_inc(inst, COLO_PROXY_STAT_BAD_FRAMES);
	return false;
}

/*
 * Make the headers of a parsed frame (everything before the payload)
 * private and writable; returns the frame or NULL. ARP and non-IP frames
 * are parsed no further than their link header and have no payload offset.
 */
static u8 *cp_skb_writable_headers(struct sk_buff *skb, const struct cp_pkt *pkt,
				   u32 mac_off)
{
	u32 end = pkt->pl_off ? pkt->pl_off : pkt->l3_off;

	if (skb_ensure_writable(skb, end - mac_off))
		return NULL;
	return skb_mac_header(skb);
}

static bool cp_comparable(const struct cp_pkt *pkt)
{
	return pkt->kind != CP_KIND_NON_IP && pkt->kind != CP_KIND_ARP &&
	       pkt->kind != CP_KIND_ND;
}

static struct cp_held *cp_held_new(struct sk_buff *skb, const struct cp_pkt *pkt,
				   u32 mac_off)
{
	struct cp_held *h = kmalloc(sizeof(*h), GFP_ATOMIC);

	if (!h)
		return NULL;
	h->skb = skb;
	h->pl_start = pkt->pl_off - mac_off;
	h->seg.seq = pkt->seq;
	h->seg.len = pkt->pl_len;
	h->seg.wire_len = skb->len;
	/*
	 * Jiffies, not a clocksource read: under emulation (and on hosts
	 * whose TSC is unusable) the clocksource is an HPET whose every read
	 * traps, and timeouts are in milliseconds anyway.
	 */
	h->seg.stamp = get_jiffies_64();
	h->seg.flags = 0;
	if (pkt->kind == CP_KIND_TCP) {
		if (pkt->tcp_flags & CP_TCP_SYN)
			h->seg.flags |= CP_SEG_SYN;
		if (pkt->tcp_flags & CP_TCP_FIN)
			h->seg.flags |= CP_SEG_FIN;
		if (pkt->tcp_flags & CP_TCP_RST)
			h->seg.flags |= CP_SEG_RST;
	}
	return h;
}

/* Caller holds inst->lock (the queue maxima are not per-CPU sums). */
static void cp_check_limits(struct cp_instance *inst, struct cp_conn *conn)
{
	inst->hwm_packets = max_t(u64, inst->hwm_packets, conn->cmp.pri_pkts);
	inst->hwm_bytes = max_t(u64, inst->hwm_bytes, conn->cmp.pri_bytes);
	if (conn->cmp.pri_pkts > inst->queue_packets)
		cp_request_checkpoint(inst, conn, COLO_PROXY_REASON_QUEUE_PACKETS);
	else if (conn->cmp.pri_bytes > inst->queue_bytes)
		cp_request_checkpoint(inst, conn, COLO_PROXY_REASON_QUEUE_BYTES);
}

/* What becomes of a guest's frame fed to the compare. */
enum cp_fate {
	CP_FATE_PASS,		/* the caller keeps it: PVM's goes out, SVM's is freed */
	CP_FATE_HELD,		/* the engine has it */
	CP_FATE_DROP,		/* the caller drops it: no entry for its connection,
				 * or the instance holds all it may */
};

/*
 * Primary: feed one guest's frame (@pvm: the PVM's, else the SVM's) to its
 * connection's compare engine, and count. Unless CP_FATE_HELD the caller
 * keeps @h; PVM frames the engine released are in ctx->release.
 *
 * A frame that cannot be compared never passes: without a connection entry
 * (the table is full) or beyond the instance's hold limit it is dropped,
 * and the guest's TCP sends it again. Only frames that are never held (TCP
 * pure ACKs) pass on regardless, so that the client's uploads still get
 * their acknowledgments.
 */
static enum cp_fate cp_compare(struct cp_instance *inst, struct cp_held *h,
			       const struct cp_pkt *pkt, bool pvm,
			       struct cp_cb_ctx *ctx)
{
	enum cp_fate fate = CP_FATE_PASS;
	enum cp_cmp_result res;
	struct cp_conn *conn;
	bool counted;
	u64 matched;

	cp_stat_inc(inst, pvm ? COLO_PROXY_STAT_PVM_FRAMES : COLO_PROXY_STAT_SVM_FRAMES);
	cp_stat_add(inst, pvm ? COLO_PROXY_STAT_PVM_BYTES : COLO_PROXY_STAT_SVM_BYTES,
		    h->skb->len);
	spin_lock_bh(&inst->lock);
	conn = cp_conn_of(inst, pkt, true);
	if (!conn) {
		fate = CP_FATE_DROP;
		goto out;
	}
	if (conn->client_reset)
		goto out;
	if (pvm && pkt->kind == CP_KIND_TCP && (pkt->tcp_flags & CP_TCP_ACK)) {
		conn->pvm_ack = pkt->ack;
		conn->pvm_ack_valid = true;
	}
	/* Counted from here; the engine's callbacks uncount what it hands back. */
	counted = cp_cmp_may_hold(&conn->cmp, &h->seg);
	if (counted && !cp_hold_take(inst, h->seg.wire_len)) {
		fate = CP_FATE_DROP;
		goto out;
	}
	matched = conn->cmp.matched_bytes;
	res = pvm ? cp_cmp_primary(&conn->cmp, &h->seg, &cp_ops, ctx) :
		    cp_cmp_secondary(&conn->cmp, &h->seg, &cp_ops, ctx);
	if (res == CP_CMP_PASS && counted)
		cp_hold_give(inst, h->seg.wire_len);
	else if (res != CP_CMP_PASS)
		fate = CP_FATE_HELD;
	cp_stat_add(inst, COLO_PROXY_STAT_COMPARED_BYTES, conn->cmp.matched_bytes - matched);
	if (res == CP_CMP_MISMATCH) {
		cp_stat_inc(inst, COLO_PROXY_STAT_MISMATCHES);
		cp_request_checkpoint(inst, conn, COLO_PROXY_REASON_MISMATCH);
	}
	if (pvm) {
		cp_stat_inc(inst, res == CP_CMP_PASS ? COLO_PROXY_STAT_PASSED :
						      COLO_PROXY_STAT_HELD);
		if (res != CP_CMP_PASS)
			cp_check_limits(inst, conn);
	}
out:
	spin_unlock_bh(&inst->lock);
	return fate;
}

/*
 * Primary: send a copy of @skb, whose frame starts @mac_off bytes before
 * skb->data, to the secondary. The tunnel pushes its headers onto a private
 * head; the data is shared.
 */
static void cp_send_copy(struct cp_instance *inst, u8 type, struct sk_buff *skb,
			 u32 mac_off)
{
	struct sk_buff *copy = skb_clone(skb, GFP_ATOMIC);

	if (!copy) {
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_ERRORS);
		return;
	}
	skb_push(copy, mac_off);
	cp_tunnel_send(inst, type, copy);
}

/* Primary, frame from the PVM: hold it until the SVM agrees. */
static unsigned int cp_pri_from_guest(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	struct cp_instance *inst = priv;
	struct sk_buff_head release;
	struct cp_cb_ctx ctx = { .inst = inst, .release = &release, .self = skb };
	unsigned int verdict = NF_ACCEPT;
	struct cp_held *h;
	struct cp_pkt pkt;
	u32 mac_off;

	if (cp_is_own(skb) || cp_failed_over(inst))
		return NF_ACCEPT;
	/* A frame someone else still references cannot be held. */
	if (skb_shared(skb) || !cp_skb_parse(inst, skb, &pkt, &mac_off))
		return NF_ACCEPT;
	if (!cp_comparable(&pkt)) {
		cp_stat_inc(inst, COLO_PROXY_STAT_PASSED);
		return NF_ACCEPT;
	}
	/*
	 * The secondary's rewriter takes the PVM's ISN from a copy of its SYN
	 * (or SYN-ACK) rather than guessing it from the client's ack, which
	 * may or may not cover Fast Open data in the SYN.
	 */
	if (pkt.kind == CP_KIND_TCP && (pkt.tcp_flags & CP_TCP_SYN))
		cp_send_copy(inst, CP_TUN_PVM_SYN, skb, mac_off);
	/*
	 * The frame leaves its sender's accounting here, as it would when a
	 * NIC or a VM's virtio ring completes it. A veth keeps the sending
	 * socket's reference across namespaces, and TCP Small Queues would
	 * otherwise let a local sender have only a frame or two held at a
	 * time, which throttles it to one frame per SVM round trip.
	 */
	skb_orphan(skb);
	h = cp_held_new(skb, &pkt, mac_off);
	if (!h)
		return NF_ACCEPT;
	__skb_queue_head_init(&release);
	switch (cp_compare(inst, h, &pkt, true, &ctx)) {
	case CP_FATE_PASS:
		kfree(h);
		break;
	case CP_FATE_DROP:
		kfree(h);
		verdict = NF_DROP;
		break;
	case CP_FATE_HELD:
		if (!ctx.self_released)
			verdict = NF_STOLEN;
		break;
	}
	cp_deliver_released(inst, &release);
	return verdict;
}

/*
 * Primary: the client reset a connection. A client that closes a socket
 * with unread data resets it while both guests are still sending, and the
 * PVM may have sent more than the SVM ever will: that output would wait
 * for the timeout and a checkpoint request. Once the reset reaches the
 * guests, nothing either of them sent on the connection can matter to the
 * client, so what is held goes out and the rest passes. Only a reset the
 * PVM will itself accept counts (its sequence number is exactly the PVM's
 * latest ack, RFC 5961): anyone able to send that can end the connection
 * anyway.
 */
static void cp_client_reset(struct cp_instance *inst, const struct cp_pkt *pkt)
{
	struct sk_buff_head release;
	struct cp_conn *conn;

	__skb_queue_head_init(&release);
	spin_lock_bh(&inst->lock);
	conn = cp_conn_find(inst, pkt, false);
	if (conn && !conn->client_reset && conn->pvm_ack_valid &&
	    conn->pvm_ack == pkt->seq) {
		cp_stat_add(inst, COLO_PROXY_STAT_RESET_RELEASED, conn->cmp.pri_pkts);
		cp_conn_flush(inst, conn, &release, false);
		conn->client_reset = true;
		conn->guest_closed = true;
	}
	spin_unlock_bh(&inst->lock);
	cp_deliver_released(inst, &release);
}

/*
 * Primary: a copy of a frame to the PVM goes to the secondary. At egress
 * skb->data is at the MAC header.
 */
static void cp_pri_mirror(struct cp_instance *inst, struct sk_buff *skb)
{
	struct cp_pkt pkt;
	u32 mac_off;

	cp_send_copy(inst, CP_TUN_MIRROR, skb, 0);
	cp_stat_inc(inst, COLO_PROXY_STAT_MIRRORED);
	/*
	 * Only short frames can be a client's RST: parsing a long one would
	 * pull its payload into the head, a copy per frame of every upload.
	 * Pulling changes the skb, and may give it a new head, under the feet
	 * of anyone else who still references it (pktgen, for one): such a
	 * frame is not looked at.
	 */
	if (skb->len <= CP_PARSE_HEAD && !skb_shared(skb) &&
	    cp_skb_parse(inst, skb, &pkt, &mac_off) &&
	    pkt.kind == CP_KIND_TCP && (pkt.tcp_flags & CP_TCP_RST))
		cp_client_reset(inst, &pkt);
}

/*
 * Keep @skb if @gate is closed, counting it in @stat: NF_STOLEN. NF_DROP:
 * closed, but the instance is at its hold limits (the frame is lost as on
 * a congested link). NF_ACCEPT: open, the caller passes the frame on.
 */
static unsigned int cp_gate_keep(struct cp_instance *inst, struct cp_gate *gate,
				 struct sk_buff *skb, unsigned int stat)
{
	unsigned int verdict = NF_ACCEPT;

	spin_lock_bh(&inst->lock);
	if (gate->closed) {
		if (cp_hold_admit(&inst->hold, inst->hold_packets, inst->hold_bytes,
				  skb->len) == CP_HOLD_OK) {
			cp_hold_add(&inst->hold, skb->len);
			__skb_queue_tail(&gate->kept, skb);
			cp_stat_inc(inst, stat);
			verdict = NF_STOLEN;
		} else {
			cp_stat_inc(inst, COLO_PROXY_STAT_HOLD_FULL);
			verdict = NF_DROP;
		}
	}
	spin_unlock_bh(&inst->lock);
	return verdict;
}

/*
 * Opening @gate: the next kept frame, in order, or NULL when none is left,
 * and the gate is then open. Frames arriving meanwhile are kept behind the
 * others, so none overtakes a kept one.
 */
static struct sk_buff *cp_gate_next(struct cp_instance *inst, struct cp_gate *gate)
{
	struct sk_buff *skb;

	spin_lock_bh(&inst->lock);
	skb = __skb_dequeue(&gate->kept);
	if (skb)
		cp_hold_give(inst, skb->len);
	else
		gate->closed = false;
	spin_unlock_bh(&inst->lock);
	return skb;
}

void cp_gate_close(struct cp_instance *inst, struct cp_gate *gate)
{
	spin_lock_bh(&inst->lock);
	gate->closed = true;
	spin_unlock_bh(&inst->lock);
}

/* Open @gate, dropping what it kept. */
void cp_gate_purge(struct cp_instance *inst, struct cp_gate *gate)
{
	struct sk_buff *skb;

	while ((skb = cp_gate_next(inst, gate)))
		kfree_skb(skb);
}

/* Primary: hand @skb to the PVM, past our own egress hook. */
static void cp_pvm_xmit(struct sk_buff *skb)
{
	local_bh_disable();
	this_cpu_write(cp_own_skb, skb);
	dev_queue_xmit(skb);
	this_cpu_write(cp_own_skb, NULL);
	local_bh_enable();
}

/*
 * Primary: end the input hold. The kept frames go to the PVM in the order
 * they came, each mirrored first (@mirror) or not (failover: there is no
 * SVM any more).
 */
void cp_input_release(struct cp_instance *inst, bool mirror)
{
	struct sk_buff *skb;

	while ((skb = cp_gate_next(inst, &inst->input))) {
		if (mirror)
			cp_pri_mirror(inst, skb);
		cp_pvm_xmit(skb);
	}
}

/* Primary, frame to the PVM: a copy goes to the secondary. */
static unsigned int cp_pri_to_guest(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct cp_instance *inst = priv;

	if (cp_failed_over(inst) || cp_is_own(skb))
		return NF_ACCEPT;
	/*
	 * Primary, while the input is held (colo-proxy.rst, "Input during a
	 * checkpoint"): the frame may be kept past this RCU section, so a
	 * routed frame's route is pinned (or dropped if it is going away, as
	 * a qdisc does; the device needs none), and it leaves its sender's
	 * TSQ budget as the compare's held frames do.
	 */
	if (READ_ONCE(inst->input.closed)) {
		unsigned int verdict;

		skb_dst_force(skb);
		skb_orphan(skb);
		verdict = cp_gate_keep(inst, &inst->input, skb, COLO_PROXY_STAT_INPUT_HELD);
		if (verdict != NF_ACCEPT)
			return verdict;
	}
	cp_pri_mirror(inst, skb);
	return NF_ACCEPT;
}

/*
 * Secondary, inst->lock held: keep a mirrored segment the SVM cannot take
 * yet. Beyond the connection's queue_packets or the instance's hold limits
 * it goes to the SVM anyway, which drops it: the SVM then misses input the
 * PVM took, and the compare on the primary times out into a checkpoint.
 */
static bool cp_svm_hold(struct cp_instance *inst, struct cp_conn *conn,
			const struct cp_pkt *pkt, struct sk_buff *skb)
{
	struct cp_hold_cb *cb = (struct cp_hold_cb *)skb->cb;
	u32 len = pkt->pl_len + !!(pkt->tcp_flags & CP_TCP_FIN);

	BUILD_BUG_ON(sizeof(*cb) > sizeof(skb->cb));
	/* Behind a waiting segment everything waits, to keep the order. */
	if (skb_queue_empty(&conn->svm_hold) &&
	    cp_rw_svm_can_take(&conn->rw, pkt->seq, len))
		return false;
	if (skb_queue_len(&conn->svm_hold) >= inst->queue_packets ||
	    !cp_hold_take(inst, skb->len))
		return false;
	cb->seq = pkt->seq;
	cb->len = len;
	__skb_queue_tail(&conn->svm_hold, skb);
	cp_stat_inc(inst, COLO_PROXY_STAT_WINDOW_HELD);
	return true;
}

/* Secondary, inst->lock held: move what now fits the SVM's window to @q. */
static void cp_svm_window_opened(struct cp_instance *inst, struct cp_conn *conn,
				 struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_peek(&conn->svm_hold))) {
		const struct cp_hold_cb *cb = (const struct cp_hold_cb *)skb->cb;

		if (!cp_rw_svm_can_take(&conn->rw, cb->seq, cb->len))
			break;
		__skb_unlink(skb, &conn->svm_hold);
		cp_hold_give(inst, skb->len);
		__skb_queue_tail(q, skb);
	}
}

/*
 * Secondary, inst->lock held: everything @conn holds for the SVM goes to
 * @q, or is dropped without @q.
 */
void cp_svm_hold_drain(struct cp_instance *inst, struct cp_conn *conn,
		       struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&conn->svm_hold))) {
		cp_hold_give(inst, skb->len);
		if (q)
			__skb_queue_tail(q, skb);
		else
			kfree_skb(skb);
	}
}

/* Secondary: hand @skb to the SVM, past our own egress hook. */
static void cp_svm_xmit(struct sk_buff *skb)
{
	local_bh_disable();
	this_cpu_write(cp_own_skb, skb);
	dev_queue_xmit(skb);
	this_cpu_write(cp_own_skb, NULL);
	local_bh_enable();
}

/* Secondary: give mirrored frames to the SVM. */
void cp_svm_inject(struct cp_instance *inst, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(q))) {
		cp_stat_inc(inst, COLO_PROXY_STAT_INJECTED);
		cp_svm_xmit(skb);
	}
}

/*
 * Secondary, before failover: the SVM's ARP request or neighbour
 * solicitation, which never leaves. Answer it from the bindings the network
 * gave the PVM, so that the SVM resolves what the PVM already knows and does
 * not have to wait until the PVM happens to ask too. The answer goes to the
 * SVM alone. Its frame starts @mac_off bytes before skb->data.
 */
static void cp_svm_neigh_answer(struct cp_instance *inst, struct sk_buff *skb,
				u32 mac_off)
{
	u8 buf[CP_NEIGH_ANSWER_MAX];
	struct sk_buff *ans;
	int n;

	spin_lock_bh(&inst->lock);
	n = cp_neigh_answer(&inst->neigh, skb_mac_header(skb),
			    skb_headlen(skb) + mac_off,
			    skb->ip_summed == CHECKSUM_PARTIAL, buf);
	spin_unlock_bh(&inst->lock);
	if (n > 0)
		cp_stat_inc(inst, COLO_PROXY_STAT_NEIGH_ANSWERED);
	else if (n < 0)
		cp_stat_inc(inst, COLO_PROXY_STAT_NEIGH_UNKNOWN);
	if (n <= 0)
		return;
	ans = netdev_alloc_skb(inst->dev, n);
	if (!ans)
		return;
	skb_put_data(ans, buf, n);
	skb_reset_mac_header(ans);
	ans->protocol = eth_hdr(ans)->h_proto;
	skb_set_network_header(ans, ETH_HLEN);
	cp_svm_xmit(ans);
}

/*
 * Secondary: the primary has checkpointed (or the wait timed out): the SVM
 * frames kept since AWAIT_PEER go to it, in order.
 */
void cp_svm_out_release(struct cp_instance *inst)
{
	struct sk_buff *skb;

	while ((skb = cp_gate_next(inst, &inst->svm_out)))
		cp_tunnel_send(inst, CP_TUN_SVM_OUT, skb);
}

/* Secondary, frame from the SVM: into the PVM's spaces, then to the primary. */
static unsigned int cp_sec_from_guest(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	struct cp_instance *inst = priv;
	bool failed_over = cp_failed_over(inst);
	struct sk_buff_head opened;
	struct cp_conn *conn = NULL;
	struct cp_pkt pkt;
	u32 mac_off;
	u8 *frame;

	if (skb_shared(skb) || !cp_skb_parse(inst, skb, &pkt, &mac_off))
		return failed_over ? NF_ACCEPT : NF_DROP;
	/*
	 * The SVM's ARP/ND never leave (below): the SVM learns from mirrored
	 * replies, and its requests are answered from what the network told
	 * the PVM.
	 */
	if (!failed_over && (pkt.kind == CP_KIND_ARP || pkt.kind == CP_KIND_ND))
		cp_svm_neigh_answer(inst, skb, mac_off);
	frame = cp_skb_writable_headers(skb, &pkt, mac_off);
	if (!frame)
		return failed_over ? NF_ACCEPT : NF_DROP;
	__skb_queue_head_init(&opened);
	cp_stat_inc(inst, COLO_PROXY_STAT_SVM_FRAMES);
	cp_stat_add(inst, COLO_PROXY_STAT_SVM_BYTES, skb->len);
	spin_lock_bh(&inst->lock);
	if (pkt.kind == CP_KIND_TCP) {
		conn = cp_conn_of(inst, &pkt, true);
		if (conn) {
			cp_rw_svm_out(&conn->rw, frame, &pkt,
				      skb->ip_summed == CHECKSUM_PARTIAL);
			cp_stat_inc(inst, COLO_PROXY_STAT_REWRITTEN);
			cp_svm_window_opened(inst, conn, &opened);
		}
		/* The rewrite invalidated a receive-side full checksum. */
		if (skb->ip_summed == CHECKSUM_COMPLETE)
			skb->ip_summed = CHECKSUM_NONE;
	}
	spin_unlock_bh(&inst->lock);
	cp_svm_inject(inst, &opened);
	if (failed_over)
		return NF_ACCEPT;
	/*
	 * A TCP frame of a connection the table could not take cannot be
	 * moved into the PVM's spaces: it would only mismatch. The PVM's
	 * output on it waits for the SVM's retransmission or its timeout.
	 */
	if (pkt.kind == CP_KIND_TCP && !conn)
		return NF_DROP;
	/* The SVM's ARP/ND and non-IP frames never leave. */
	if (!cp_comparable(&pkt)) {
		consume_skb(skb);
		return NF_STOLEN;
	}
	skb_push(skb, mac_off);
	/*
	 * Between a checkpoint with AWAIT_PEER and the primary's word that it
	 * has checkpointed too, the new SVM's frames wait: the primary may
	 * still hold the compare state of the interval before, whose
	 * checkpoint would drop them with the old SVM's, and the PVM's
	 * matching output would then wait for its timeout. Beyond the hold
	 * limits a frame is dropped; the SVM's TCP sends it again.
	 */
	if (READ_ONCE(inst->svm_out.closed)) {
		unsigned int verdict = cp_gate_keep(inst, &inst->svm_out, skb,
						    COLO_PROXY_STAT_SVM_AWAITED);

		if (verdict != NF_ACCEPT)
			return verdict;
	}
	cp_tunnel_send(inst, CP_TUN_SVM_OUT, skb);
	return NF_STOLEN;
}

/* Secondary, frame to the SVM: only mirrored input before failover. */
static unsigned int cp_sec_to_guest(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct cp_instance *inst = priv;
	struct cp_conn *conn;
	struct cp_pkt pkt;
	u32 mac_off;
	u8 *frame;

	if (cp_is_own(skb))
		return NF_ACCEPT;
	if (!cp_failed_over(inst))
		return NF_DROP;
	if (skb_shared(skb) || !cp_skb_parse(inst, skb, &pkt, &mac_off))
		return NF_ACCEPT;
	if (pkt.kind != CP_KIND_TCP)
		return NF_ACCEPT;
	frame = cp_skb_writable_headers(skb, &pkt, mac_off);
	if (!frame)
		return NF_ACCEPT;
	spin_lock_bh(&inst->lock);
	conn = cp_conn_of(inst, &pkt, false);
	if (conn) {
		cp_rw_svm_in(&conn->rw, frame, &pkt, skb->ip_summed == CHECKSUM_PARTIAL);
		cp_stat_inc(inst, COLO_PROXY_STAT_REWRITTEN);
	}
	spin_unlock_bh(&inst->lock);
	return NF_ACCEPT;
}

/* Primary: the SVM's frame, received from the secondary. */
static void cp_pri_tunnel_input(struct cp_instance *inst, struct sk_buff *skb)
{
	struct sk_buff_head release;
	struct cp_cb_ctx ctx = { .inst = inst, .release = &release };
	struct cp_held *h;
	struct cp_pkt pkt;
	u32 mac_off;

	/*
	 * From SEAL to CHECKPOINT the PVM's output is compared with the SVM
	 * that starts from the sealed state; what comes now is the old one's.
	 */
	if (READ_ONCE(inst->sealing)) {
		cp_stat_inc(inst, COLO_PROXY_STAT_SVM_STALE);
		consume_skb(skb);
		return;
	}
	skb_reset_mac_header(skb);
	if (!cp_skb_parse(inst, skb, &pkt, &mac_off) || !cp_comparable(&pkt))
		goto free;
	h = cp_held_new(skb, &pkt, mac_off);
	if (!h)
		goto free;
	__skb_queue_head_init(&release);
	if (cp_compare(inst, h, &pkt, false, &ctx) != CP_FATE_HELD) {
		kfree(h);
		consume_skb(skb);
	}
	cp_deliver_released(inst, &release);
	return;

free:
	kfree_skb(skb);
}

/*
 * Secondary: a mirrored ARP/ND frame (what the network said to the PVM)
 * may bind a neighbour's address; only its linear part is looked at (the
 * parse made up to CP_PARSE_HEAD bytes linear, far more than these need).
 */
static void cp_sec_neigh_learn(struct cp_instance *inst, struct sk_buff *skb,
			       u32 mac_off, bool partial)
{
	enum cp_neigh_learned res;

	spin_lock_bh(&inst->lock);
	res = cp_neigh_learn(&inst->neigh, skb_mac_header(skb),
			     skb_headlen(skb) + mac_off, partial, get_jiffies_64());
	spin_unlock_bh(&inst->lock);
	if (res != CP_NEIGH_NOTHING)
		cp_stat_inc(inst, COLO_PROXY_STAT_NEIGH_LEARNED);
	if (res == CP_NEIGH_REPLACED)
		cp_stat_inc(inst, COLO_PROXY_STAT_NEIGH_TABLE_FULL);
}

/* Secondary: a mirrored frame for the SVM. */
static void cp_sec_tunnel_input(struct cp_instance *inst, struct sk_buff *skb)
{
	struct sk_buff_head now;
	struct cp_conn *conn;
	struct cp_pkt pkt;
	bool partial;
	u32 mac_off;
	u8 *frame;

	skb_scrub_packet(skb, true);
	skb_reset_mac_header(skb);
	if (!cp_skb_parse(inst, skb, &pkt, &mac_off))
		goto free;
	/* A GSO frame keeps its pending checksum; others get verified. */
	partial = skb->ip_summed == CHECKSUM_PARTIAL;
	skb->dev = inst->dev;
	skb->protocol = eth_hdr(skb)->h_proto;
	skb_set_network_header(skb, pkt.l3_off);
	if (!partial)
		skb->ip_summed = CHECKSUM_NONE;
	if (pkt.kind == CP_KIND_ARP || pkt.kind == CP_KIND_ND)
		cp_sec_neigh_learn(inst, skb, mac_off, partial);
	if (pkt.kind == CP_KIND_TCP) {
		frame = cp_skb_writable_headers(skb, &pkt, mac_off);
		if (!frame)
			goto free;
		spin_lock_bh(&inst->lock);
		conn = cp_conn_of(inst, &pkt, false);
		/*
		 * The table could not take its connection: without an entry
		 * the SVM's answers cannot be rewritten, so it does not see
		 * the connection at all (the primary's compare times out).
		 */
		if (!conn) {
			spin_unlock_bh(&inst->lock);
			goto free;
		}
		cp_rw_svm_in(&conn->rw, frame, &pkt, partial);
		cp_stat_inc(inst, COLO_PROXY_STAT_REWRITTEN);
		if (cp_svm_hold(inst, conn, &pkt, skb)) {
			spin_unlock_bh(&inst->lock);
			return;
		}
		spin_unlock_bh(&inst->lock);
	}
	__skb_queue_head_init(&now);
	__skb_queue_tail(&now, skb);
	cp_svm_inject(inst, &now);
	return;

free:
	kfree_skb(skb);
}

/* Secondary: the PVM's SYN, sent along for its ISN. */
static void cp_sec_pvm_syn(struct cp_instance *inst, struct sk_buff *skb)
{
	struct cp_conn *conn;
	struct cp_pkt pkt;
	u32 mac_off;

	skb_reset_mac_header(skb);
	if (!cp_skb_parse(inst, skb, &pkt, &mac_off) || pkt.kind != CP_KIND_TCP ||
	    !(pkt.tcp_flags & CP_TCP_SYN))
		goto out;
	spin_lock_bh(&inst->lock);
	conn = cp_conn_of(inst, &pkt, true);
	if (conn)
		cp_rw_pvm_isn(&conn->rw, pkt.seq);
	spin_unlock_bh(&inst->lock);
out:
	consume_skb(skb);
}

/*
 * Called from the tunnel's receive path (softirq) for a datagram of the peer
 * while the pair replicates; consumes @skb.
 */
void cp_tunnel_input(struct cp_instance *inst, u8 type, struct sk_buff *skb)
{
	if (inst->role == COLO_PROXY_ROLE_PRIMARY && type == CP_TUN_SVM_OUT) {
		cp_pri_tunnel_input(inst, skb);
	} else if (inst->role == COLO_PROXY_ROLE_SECONDARY && type == CP_TUN_MIRROR) {
		cp_sec_tunnel_input(inst, skb);
	} else if (inst->role == COLO_PROXY_ROLE_SECONDARY && type == CP_TUN_PVM_SYN) {
		cp_sec_pvm_syn(inst, skb);
	} else if (inst->role == COLO_PROXY_ROLE_SECONDARY && type == CP_TUN_CKPT) {
		consume_skb(skb);
		cp_svm_out_release(inst);
	} else {
		cp_stat_inc(inst, COLO_PROXY_STAT_TUNNEL_ERRORS);
		kfree_skb(skb);
	}
}

int cp_datapath_start(struct cp_instance *inst)
{
	bool pri = inst->role == COLO_PROXY_ROLE_PRIMARY;
	int err;

	inst->hooks[0] = (struct nf_hook_ops) {
		.hook = pri ? cp_pri_from_guest : cp_sec_from_guest,
		.pf = NFPROTO_NETDEV,
		.hooknum = NF_NETDEV_INGRESS,
		.priority = 0,
		.dev = inst->dev,
		.priv = inst,
	};
	inst->hooks[1] = (struct nf_hook_ops) {
		.hook = pri ? cp_pri_to_guest : cp_sec_to_guest,
		.pf = NFPROTO_NETDEV,
		.hooknum = NF_NETDEV_EGRESS,
		.priority = 0,
		.dev = inst->dev,
		.priv = inst,
	};
	err = nf_register_net_hooks(inst->net, inst->hooks, ARRAY_SIZE(inst->hooks));
	if (!err)
		inst->hooks_on = true;
	return err;
}

void cp_datapath_stop(struct cp_instance *inst)
{
	if (inst->hooks_on)
		nf_unregister_net_hooks(inst->net, inst->hooks, ARRAY_SIZE(inst->hooks));
	inst->hooks_on = false;
}
