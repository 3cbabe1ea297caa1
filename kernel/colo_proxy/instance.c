// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy instances: one per protected VM, bound to the host side of the
 * guest's interface. Lifetime (netlink, device removal, namespace exit),
 * the per-instance connection table, checkpoint and failover.
 */
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

#include "proxy.h"

struct cp_instance *cp_instance_find(struct net *net, int ifindex)
{
	struct cp_instance *inst;

	lockdep_assert_held(&cp_net_lock);
	list_for_each_entry(inst, &cp_pernet(net)->instances, list)
		if (inst->dev->ifindex == ifindex)
			return inst;
	return NULL;
}

static void cp_conn_key_from_pkt(struct cp_conn_key *key, const struct cp_pkt *pkt,
				 bool guest_is_src)
{
	memset(key, 0, sizeof(*key));
	key->family = pkt->family;
	key->proto = pkt->proto;
	memcpy(key->guest_addr, guest_is_src ? pkt->saddr : pkt->daddr, 16);
	memcpy(key->peer_addr, guest_is_src ? pkt->daddr : pkt->saddr, 16);
	if (pkt->kind == CP_KIND_TCP || pkt->kind == CP_KIND_UDP) {
		key->guest_port = htons(guest_is_src ? pkt->sport : pkt->dport);
		key->peer_port = htons(guest_is_src ? pkt->dport : pkt->sport);
	}
}

static u32 conn_hash(const struct cp_instance *inst, const struct cp_conn_key *key)
{
	return jhash(key, sizeof(*key), inst->hash_seed) & inst->conn_mask;
}

/* Caller holds inst->lock. */
static struct cp_conn *cp_conn_lookup(struct cp_instance *inst,
				      const struct cp_conn_key *key)
{
	struct cp_conn *conn;

	hlist_for_each_entry(conn, &inst->conns[conn_hash(inst, key)], node)
		if (!memcmp(&conn->key, key, sizeof(*key))) {
			conn->last_used = jiffies;
			return conn;
		}
	return NULL;
}

static void conn_free(struct cp_instance *inst, struct cp_conn *conn,
		      struct sk_buff_head *release, bool drop_all);

static bool conn_evictable(const struct cp_conn *conn)
{
	struct cp_conn_state st = {
		.held = conn->cmp.pri_pkts || conn->cmp.sec_pkts ||
			!skb_queue_empty(&conn->svm_hold),
		.tcp = conn->cmp.tcp,
		.assured = conn->assured,
		.closed = conn->guest_closed,
	};

	return cp_conn_evictable(&st);
}

/*
 * The table is full: forget the least recently used entry that costs
 * nothing to forget among the first few from @bucket on (limits.h). With
 * the random seed nobody can fill those buckets on purpose. Caller holds
 * inst->lock. False if there was none.
 */
static bool conn_early_drop(struct cp_instance *inst, u32 bucket)
{
	struct cp_conn *conn, *victim = NULL;
	struct sk_buff_head none;
	unsigned int seen = 0, i;

	for (i = 0; i < CP_CONN_EVICT_SCAN && seen < CP_CONN_EVICT_SCAN; i++) {
		hlist_for_each_entry(conn, &inst->conns[(bucket + i) & inst->conn_mask],
				     node) {
			if (conn_evictable(conn) &&
			    (!victim || time_before(conn->last_used, victim->last_used)))
				victim = conn;
			if (++seen == CP_CONN_EVICT_SCAN)
				break;
		}
	}
	if (!victim)
		return false;
	/* Nothing held: nothing to release or drop. */
	__skb_queue_head_init(&none);
	conn_free(inst, victim, &none, true);
	cp_stat_inc(inst, COLO_PROXY_STAT_CONN_EVICTED);
	return true;
}

/*
 * Caller holds inst->lock. Returns NULL when the table is full of entries
 * that cannot be forgotten (counted: conn_refused) or out of memory.
 */
static struct cp_conn *cp_conn_get(struct cp_instance *inst,
				   const struct cp_conn_key *key, bool tcp)
{
	struct cp_conn *conn = cp_conn_lookup(inst, key);
	u32 bucket;

	if (conn)
		return conn;
	bucket = conn_hash(inst, key);
	if (inst->nconns >= inst->conn_max && !conn_early_drop(inst, bucket))
		goto refuse;
	conn = kzalloc(sizeof(*conn), GFP_ATOMIC);
	if (!conn)
		goto refuse;
	conn->key = *key;
	cp_cmp_init(&conn->cmp, tcp);
	__skb_queue_head_init(&conn->svm_hold);
	conn->last_used = jiffies;
	hlist_add_head(&conn->node, &inst->conns[bucket]);
	inst->nconns++;
	return conn;

refuse:
	cp_stat_inc(inst, COLO_PROXY_STAT_CONN_REFUSED);
	return NULL;
}

/*
 * A new connection on the 4-tuple of a closed one (a client reusing its
 * port): start over. What the old one still held is dropped, it belongs
 * to a connection that is gone.
 */
static void conn_renew(struct cp_instance *inst, struct cp_conn *conn)
{
	struct sk_buff_head old;

	__skb_queue_head_init(&old);
	cp_conn_flush(inst, conn, &old, true);
	cp_svm_hold_drain(inst, conn, NULL);
	cp_cmp_init(&conn->cmp, true);
	memset(&conn->rw, 0, sizeof(conn->rw));
	conn->guest_closed = false;
	conn->client_reset = false;
	conn->pvm_ack_valid = false;
	conn->requested = false;
	conn->assured = false;
}

/* The connection of @pkt if it is known. Caller holds inst->lock. */
struct cp_conn *cp_conn_find(struct cp_instance *inst, const struct cp_pkt *pkt,
			     bool from_guest)
{
	struct cp_conn_key key;

	cp_conn_key_from_pkt(&key, pkt, from_guest);
	return cp_conn_lookup(inst, &key);
}

/*
 * The connection of @pkt, created if new; @from_guest: the guest sent it.
 * Caller holds inst->lock. Returns NULL when the table cannot take a new
 * connection (see cp_conn_get()).
 */
struct cp_conn *cp_conn_of(struct cp_instance *inst, const struct cp_pkt *pkt,
			   bool from_guest)
{
	struct cp_conn_key key;
	struct cp_conn *conn;

	cp_conn_key_from_pkt(&key, pkt, from_guest);
	conn = cp_conn_get(inst, &key, pkt->kind == CP_KIND_TCP);
	if (!conn || pkt->kind != CP_KIND_TCP)
		return conn;
	if ((pkt->tcp_flags & CP_TCP_SYN) && conn->guest_closed)
		conn_renew(inst, conn);
	else if (from_guest && (pkt->tcp_flags & (CP_TCP_FIN | CP_TCP_RST)))
		conn->guest_closed = true;
	/* Past the handshake: no longer one of a SYN flood's (limits.h). */
	if (from_guest && !(pkt->tcp_flags & CP_TCP_SYN))
		conn->assured = true;
	return conn;
}

static void conn_free(struct cp_instance *inst, struct cp_conn *conn,
		      struct sk_buff_head *release, bool drop_all)
{
	cp_conn_flush(inst, conn, release, drop_all);
	cp_svm_hold_drain(inst, conn, NULL);
	hlist_del(&conn->node);
	inst->nconns--;
	kfree(conn);
}

/* Caller holds inst->lock. Rate: one request per connection per checkpoint. */
void cp_request_checkpoint(struct cp_instance *inst, struct cp_conn *conn,
			   u32 reason)
{
	if (conn) {
		if (conn->requested)
			return;
		conn->requested = true;
	}
	cp_stat_inc(inst, COLO_PROXY_STAT_REQ_MISMATCH + reason - 1);
	cp_genl_event(inst, conn ? &conn->key : NULL, reason);
}

/*
 * Caller holds inst->lock. Count a frame of @len bytes as held if the
 * instance's hard limits allow it; else count the refusal (hold_full) and,
 * on the primary, request a checkpoint once until the next one: only that
 * releases what the PVM's side holds.
 */
bool cp_hold_take(struct cp_instance *inst, u32 len)
{
	enum cp_hold_verdict v;

	v = cp_hold_admit(&inst->hold, inst->hold_packets, inst->hold_bytes, len);
	if (v == CP_HOLD_OK) {
		cp_hold_add(&inst->hold, len);
		return true;
	}
	cp_stat_inc(inst, COLO_PROXY_STAT_HOLD_FULL);
	if (inst->role == COLO_PROXY_ROLE_PRIMARY && !inst->hold_requested) {
		inst->hold_requested = true;
		cp_request_checkpoint(inst, NULL, v == CP_HOLD_FULL_PACKETS ?
				      COLO_PROXY_REASON_QUEUE_PACKETS :
				      COLO_PROXY_REASON_QUEUE_BYTES);
	}
	return false;
}

/* Caller holds inst->lock: a frame of @len bytes counted by cp_hold_take() went. */
void cp_hold_give(struct cp_instance *inst, u32 len)
{
	cp_hold_sub(&inst->hold, len);
}

/* Holds are checked every quarter of the timeout: a request comes late by at most that. */
static unsigned long cp_timer_period(u32 timeout_ms)
{
	return max(1UL, msecs_to_jiffies(timeout_ms / 4));
}

/*
 * Periodic work: request a checkpoint for connections whose oldest held
 * frame waited too long, and forget idle connections with nothing held:
 * soon once the guest has closed them, so that a guest serving many short
 * connections does not fill the table, late otherwise.
 */
static void cp_timer_fn(struct timer_list *t)
{
	struct cp_instance *inst = from_timer(inst, t, timer);
	unsigned long idle = READ_ONCE(cp_param_conn_idle_s) * HZ;
	unsigned long closed = READ_ONCE(cp_param_conn_closed_s) * HZ;
	u64 now = get_jiffies_64(), oldest;
	struct sk_buff_head release;
	unsigned long timeout;
	struct hlist_node *tmp;
	bool awaited_too_long;
	struct cp_conn *conn;
	int i;

	__skb_queue_head_init(&release);
	spin_lock_bh(&inst->lock);
	timeout = msecs_to_jiffies(inst->timeout_ms);
	cp_tunnel_expire(inst);
	for (i = 0; i <= inst->conn_mask; i++) {
		hlist_for_each_entry_safe(conn, tmp, &inst->conns[i], node) {
			if (cp_cmp_oldest(&conn->cmp, &oldest)) {
				if (now - oldest > timeout)
					cp_request_checkpoint(inst, conn,
							      COLO_PROXY_REASON_TIMEOUT);
			} else if (time_after(jiffies, conn->last_used +
					      (conn->guest_closed ? closed : idle))) {
				conn_free(inst, conn, &release, true);
			}
		}
	}
	awaited_too_long = inst->svm_out.closed &&
			   time_after(jiffies, inst->svm_out_closed + timeout);
	/*
	 * Re-armed under the lock, with the timeout read under it: else a
	 * cp_instance_set() between the read and the re-arm would have its
	 * pulled-in expiry pushed out again by the old period.
	 */
	mod_timer(&inst->timer, jiffies + cp_timer_period(inst->timeout_ms));
	spin_unlock_bh(&inst->lock);
	__skb_queue_purge(&release);
	/* The primary's word got lost, or it never checkpointed: stop waiting. */
	if (awaited_too_long)
		cp_svm_out_release(inst);
}

int cp_instance_create(struct net *net, const struct cp_instance_cfg *cfg,
		       struct netlink_ext_ack *extack)
{
	struct cp_instance *inst;
	int err, i;

	lockdep_assert_held(&cp_net_lock);
	if (cp_instance_find(net, cfg->dev->ifindex)) {
		NL_SET_ERR_MSG(extack, "device already has a colo_proxy instance");
		return -EEXIST;
	}
	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return -ENOMEM;
	err = cp_stats_init(inst);
	if (err)
		goto err_free;
	inst->conn_mask = cp_conn_buckets(cfg->conn_max) - 1;
	inst->conns = kvcalloc(inst->conn_mask + 1, sizeof(*inst->conns), GFP_KERNEL);
	if (!inst->conns) {
		err = -ENOMEM;
		goto err_stats;
	}
	inst->hash_seed = get_random_u32();
	inst->net = net;
	inst->dev = cfg->dev;
	netdev_hold(inst->dev, &inst->dev_tracker, GFP_KERNEL);
	inst->role = cfg->role;
	inst->state = COLO_PROXY_STATE_REPLICATING;
	inst->local = cfg->local;
	inst->peer = cfg->peer;
	inst->timeout_ms = cfg->timeout_ms;
	inst->queue_packets = cfg->queue_packets;
	inst->queue_bytes = cfg->queue_bytes;
	inst->conn_max = cfg->conn_max;
	inst->hold_packets = cfg->hold_packets;
	inst->hold_bytes = cfg->hold_bytes;
	spin_lock_init(&inst->lock);
	__skb_queue_head_init(&inst->input.kept);
	__skb_queue_head_init(&inst->sealed_out);
	__skb_queue_head_init(&inst->svm_out.kept);
	for (i = 0; i <= inst->conn_mask; i++)
		INIT_HLIST_HEAD(&inst->conns[i]);
	cp_neigh_init(&inst->neigh);
	timer_setup(&inst->timer, cp_timer_fn, 0);

	err = cp_tunnel_open(inst, extack);
	if (err)
		goto err_dev;
	err = cp_datapath_start(inst);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register the netfilter hooks on the device");
		goto err_tunnel;
	}
	mod_timer(&inst->timer, jiffies + msecs_to_jiffies(100));
	list_add_tail(&inst->list, &cp_pernet(net)->instances);
	return 0;

err_tunnel:
	cp_tunnel_close(inst);
err_dev:
	netdev_put(inst->dev, &inst->dev_tracker);
	kvfree(inst->conns);
err_stats:
	cp_stats_uninit(inst);
err_free:
	kfree(inst);
	return err;
}

static void flush_all(struct cp_instance *inst, bool release, bool forget)
{
	struct sk_buff_head q;
	struct hlist_node *tmp;
	struct cp_conn *conn;
	int i;

	__skb_queue_head_init(&q);
	spin_lock_bh(&inst->lock);
	/* A SEAL's frames come before anything held after it. */
	cp_sealed_take(inst, &q);
	WRITE_ONCE(inst->sealing, false);
	for (i = 0; i <= inst->conn_mask; i++)
		hlist_for_each_entry_safe(conn, tmp, &inst->conns[i], node) {
			if (forget) {
				conn_free(inst, conn, &q, !release);
			} else {
				cp_conn_flush(inst, conn, &q, false);
				/* The SVM takes the PVM's state, which has these. */
				cp_svm_hold_drain(inst, conn, NULL);
				cp_rw_reset(&conn->rw);
				conn->requested = false;
			}
		}
	spin_unlock_bh(&inst->lock);
	if (release)
		cp_deliver_released(inst, &q);
	else
		__skb_queue_purge(&q);
}

/*
 * @release: hand held PVM frames to the network first (netlink delete);
 * without it they are dropped (the device or namespace is going away).
 */
void cp_instance_destroy(struct cp_instance *inst, bool release)
{
	lockdep_assert_held(&cp_net_lock);
	list_del(&inst->list);
	/* After this no hook runs and no tunnel frame arrives. */
	cp_datapath_stop(inst);
	cp_tunnel_close(inst);
	del_timer_sync(&inst->timer);
	cp_gate_purge(inst, &inst->svm_out);
	if (release && inst->dev->reg_state == NETREG_REGISTERED) {
		cp_input_release(inst, false);
		flush_all(inst, true, true);
	} else {
		cp_gate_purge(inst, &inst->input);
		flush_all(inst, false, true);
	}
	netdev_put(inst->dev, &inst->dev_tracker);
	kvfree(inst->conns);
	cp_stats_uninit(inst);
	kfree(inst);
}

/*
 * @await_peer: secondary only, checked by the caller. After a SEAL only the
 * sealed frames go: what the PVM sent since is compared with the SVM that
 * starts from the sealed state.
 */
void cp_instance_checkpoint(struct cp_instance *inst, bool await_peer)
{
	struct sk_buff_head q;
	bool sealed;

	__skb_queue_head_init(&q);
	cp_stat_inc(inst, COLO_PROXY_STAT_CHECKPOINTS);
	spin_lock_bh(&inst->lock);
	inst->loss_requested = false;
	inst->hold_requested = false;
	if (await_peer) {
		inst->svm_out.closed = true;
		inst->svm_out_closed = jiffies;
	}
	sealed = inst->sealing;
	if (sealed) {
		cp_sealed_take(inst, &q);
		WRITE_ONCE(inst->sealing, false);
	}
	spin_unlock_bh(&inst->lock);
	if (sealed)
		cp_deliver_released(inst, &q);
	else
		flush_all(inst, true, false);
	if (inst->role == COLO_PROXY_ROLE_PRIMARY) {
		bool paired = !cp_failed_over(inst);

		/* The SVM now has the PVM's state: input may reach both again. */
		cp_input_release(inst, paired);
		if (paired)
			cp_tunnel_send_checkpointed(inst);
	}
}

/*
 * COLO_PROXY_CMD_SET: new limits for a live instance, 0 keeping a value (the
 * netlink policy refuses 0). What is held stays held and is measured
 * against the new limits: by the timer against the timeout, by the data
 * path against the queue limits at the connection's next held frame.
 */
void cp_instance_set(struct cp_instance *inst, u32 timeout_ms, u32 queue_packets,
		     u32 queue_bytes)
{
	lockdep_assert_held(&cp_net_lock);
	spin_lock_bh(&inst->lock);
	if (queue_packets)
		inst->queue_packets = queue_packets;
	if (queue_bytes)
		inst->queue_bytes = queue_bytes;
	if (timeout_ms) {
		/*
		 * The timer may be a quarter of the old timeout away, which
		 * can be longer than the whole new one: pull it in, so that a
		 * frame already older than the new timeout is reported within
		 * a quarter of it. The instance is still listed (cp_net_lock),
		 * so cp_instance_destroy() has not stopped the timer yet and
		 * will stop it after this.
		 */
		timer_reduce(&inst->timer, jiffies + cp_timer_period(timeout_ms));
		inst->timeout_ms = timeout_ms;
	}
	spin_unlock_bh(&inst->lock);
}

int cp_instance_hold_input(struct cp_instance *inst, struct netlink_ext_ack *extack)
{
	if (inst->role != COLO_PROXY_ROLE_PRIMARY) {
		NL_SET_ERR_MSG(extack, "only a primary instance holds input");
		return -EOPNOTSUPP;
	}
	if (cp_failed_over(inst)) {
		NL_SET_ERR_MSG(extack, "instance has failed over: nothing is mirrored any more");
		return -EINVAL;
	}
	cp_gate_close(inst, &inst->input);
	return 0;
}

/*
 * Primary: the PVM has stopped for a checkpoint. Everything it sent so far
 * is that checkpoint's output: held, it leaves at CHECKPOINT whatever the
 * SVM sends. The PVM may run again at once; its new output is compared
 * afresh with the SVM that starts from this state, whose frames only come
 * after CHECKPOINT. Input is held as by HOLD_INPUT.
 */
int cp_instance_seal(struct cp_instance *inst, struct netlink_ext_ack *extack)
{
	struct cp_conn *conn;
	int i;

	if (inst->role != COLO_PROXY_ROLE_PRIMARY) {
		NL_SET_ERR_MSG(extack, "only a primary instance seals its output");
		return -EOPNOTSUPP;
	}
	if (cp_failed_over(inst)) {
		NL_SET_ERR_MSG(extack, "instance has failed over: nothing is held any more");
		return -EINVAL;
	}
	spin_lock_bh(&inst->lock);
	if (inst->sealing) {
		spin_unlock_bh(&inst->lock);
		NL_SET_ERR_MSG(extack, "output already sealed: CHECKPOINT releases it first");
		return -EBUSY;
	}
	inst->input.closed = true;
	for (i = 0; i <= inst->conn_mask; i++)
		hlist_for_each_entry(conn, &inst->conns[i], node) {
			cp_conn_seal(inst, conn, &inst->sealed_out);
			conn->requested = false;
		}
	inst->loss_requested = false;
	inst->hold_requested = false;
	WRITE_ONCE(inst->sealing, true);
	spin_unlock_bh(&inst->lock);
	cp_stat_inc(inst, COLO_PROXY_STAT_SEALS);
	return 0;
}

void cp_instance_failover(struct cp_instance *inst)
{
	struct sk_buff_head q;
	struct cp_conn *conn;
	int i;

	__skb_queue_head_init(&q);
	spin_lock_bh(&inst->lock);
	WRITE_ONCE(inst->state, COLO_PROXY_STATE_FAILED_OVER);
	/* The SVM takes over: it needs the client's data the PVM acknowledged. */
	for (i = 0; i <= inst->conn_mask; i++)
		hlist_for_each_entry(conn, &inst->conns[i], node)
			cp_svm_hold_drain(inst, conn, &q);
	spin_unlock_bh(&inst->lock);
	cp_svm_inject(inst, &q);
	/*
	 * Primary: nothing is held any more. Secondary: keep the connections,
	 * their rewriting goes on until they close.
	 */
	if (inst->role == COLO_PROXY_ROLE_PRIMARY) {
		cp_input_release(inst, false);
		flush_all(inst, true, true);
	} else {
		/* the SVM's TCP sends them again, to the network */
		cp_gate_purge(inst, &inst->svm_out);
	}
}

void cp_instance_stats(struct cp_instance *inst, u64 *out)
{
	cp_stats_sum(inst, out);
	spin_lock_bh(&inst->lock);
	out[COLO_PROXY_STAT_CONNECTIONS] = inst->nconns;
	out[COLO_PROXY_STAT_QUEUE_HWM_PACKETS] = inst->hwm_packets;
	out[COLO_PROXY_STAT_QUEUE_HWM_BYTES] = inst->hwm_bytes;
	out[COLO_PROXY_STAT_HOLDING_PACKETS] = inst->hold.pkts;
	out[COLO_PROXY_STAT_HOLDING_BYTES] = inst->hold.bytes;
	spin_unlock_bh(&inst->lock);
}

static int cp_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct cp_instance *inst;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	mutex_lock(&cp_net_lock);
	inst = cp_instance_find(dev_net(dev), dev->ifindex);
	if (inst && inst->dev == dev)
		cp_instance_destroy(inst, false);
	mutex_unlock(&cp_net_lock);
	return NOTIFY_DONE;
}

static struct notifier_block cp_netdev_notifier = {
	.notifier_call = cp_netdev_event,
};

int cp_notifier_register(void)
{
	return register_netdevice_notifier(&cp_netdev_notifier);
}

void cp_notifier_unregister(void)
{
	unregister_netdevice_notifier(&cp_netdev_notifier);
}
