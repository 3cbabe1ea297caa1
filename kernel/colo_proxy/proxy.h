/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colo_proxy internal interfaces between the kernel glue files:
 * main.c (module, pernet), netlink.c (control), instance.c (lifetime,
 * connection table), datapath.c (netfilter hooks), tunnel.c (UDP transport),
 * stats.c (per-CPU counters).
 * The protocol core they call (parse, compare, rewrite, seqwin, neigh) also
 * builds in userspace for the unit tests and fuzzers.
 */
#ifndef COLO_PROXY_H
#define COLO_PROXY_H

#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/in6.h>
#include <net/dst_cache.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <uapi/linux/colo_proxy.h>

#include "compare.h"
#include "limits.h"
#include "neigh.h"
#include "parse.h"
#include "rewrite.h"
#include "seqwin.h"

/* One end of the tunnel: an IPv4 or IPv6 address and a UDP port. */
struct cp_endpoint {
	sa_family_t family;
	union {
		__be32 ip;
		struct in6_addr ip6;
	};
	u16 port;
};

struct cp_net {
	struct list_head instances;	/* under cp_net_lock (a mutex) */
};

struct cp_conn_key {
	u8 family;
	u8 proto;
	__be16 guest_port;
	__be16 peer_port;
	u8 guest_addr[16];
	u8 peer_addr[16];
};

struct cp_conn {
	struct hlist_node node;
	struct cp_conn_key key;
	struct cp_cmp cmp;		/* primary */
	struct cp_rw rw;		/* secondary */
	struct sk_buff_head svm_hold;	/* secondary: mirrored, beyond the SVM's window */
	unsigned long last_used;	/* jiffies */
	bool requested;			/* checkpoint requested since the last one */
	bool assured;			/* TCP: the guest sent more than SYNs */
	bool guest_closed;		/* FIN or RST from the guest, RST from the client */
	bool client_reset;		/* primary: the client reset it, nothing is held */
	bool pvm_ack_valid;
	u32 pvm_ack;			/* primary: the PVM's latest ack */
};

/*
 * Frames kept back in order while the gate is closed (datapath.c), within
 * the instance's hold limits, until it opens. Under the instance's lock.
 */
struct cp_gate {
	bool closed;
	struct sk_buff_head kept;
};

/* One CPU's copy of an instance's counters (stats.c). */
struct cp_stats_pcpu {
	u64_stats_t v[COLO_PROXY_STAT_MAX + 1];
	struct u64_stats_sync syncp;
};

struct cp_instance {
	struct list_head list;		/* in cp_net.instances */
	struct net *net;
	struct net_device *dev;		/* holds a reference (dev_hold) */
	netdevice_tracker dev_tracker;
	u8 role;
	u8 state;
	struct cp_endpoint local, peer;
	/* Changed (cp_instance_set()) under cp_net_lock and lock: read under either. */
	u32 timeout_ms, queue_packets, queue_bytes;
	struct nf_hook_ops hooks[2];	/* ingress (from guest), egress (to guest) */
	bool hooks_on;
	struct socket *sock;		/* tunnel */
	struct dst_cache route;		/* to the peer, per CPU */
	u32 conn_max, hold_packets, hold_bytes;
	spinlock_t lock;		/* conns, hold, queue maxima, tunnel sequence */
	struct hlist_head *conns;	/* conn_mask + 1 buckets */
	u32 conn_mask;
	u32 hash_seed;			/* random, per instance */
	u32 nconns;
	struct cp_hold hold;		/* every frame the instance holds */
	struct cp_gate input;		/* primary: frames to the PVM, HOLD_INPUT */
	/*
	 * Primary, from SEAL to CHECKPOINT: the PVM frames held at the SEAL,
	 * in order, still counted in hold; SVM frames are stale meanwhile.
	 */
	bool sealing;
	struct sk_buff_head sealed_out;
	struct cp_gate svm_out;		/* secondary: SVM frames, AWAIT_PEER */
	unsigned long svm_out_closed;	/* ... closed at this checkpoint (jiffies) */
	bool hold_requested;		/* hold limit reported since the last checkpoint */
	atomic_t tx_seq;		/* next tunnel sequence number to send */
	struct cp_seqwin rx_win;	/* the peer's tunnel sequence numbers */
	bool loss_requested;		/* tunnel loss reported since the last checkpoint */
	struct timer_list timer;	/* hold timeouts, connection GC */
	struct cp_neigh_table neigh;	/* secondary: bindings the network told the PVM */
	struct cp_stats_pcpu __percpu *stats;
	u64 hwm_packets, hwm_bytes;	/* largest per-connection queue, under lock */
};

extern unsigned int cp_net_id;
extern struct mutex cp_net_lock;
extern unsigned int cp_param_timeout_ms;
extern unsigned int cp_param_queue_packets;
extern unsigned int cp_param_queue_bytes;
extern unsigned int cp_param_conn_idle_s;
extern unsigned int cp_param_conn_closed_s;
extern unsigned int cp_param_conn_max;
extern unsigned int cp_param_hold_packets;
extern unsigned int cp_param_hold_bytes;

static inline struct cp_net *cp_pernet(const struct net *net)
{
	return net_generic(net, cp_net_id);
}

static inline bool cp_failed_over(const struct cp_instance *inst)
{
	return READ_ONCE(inst->state) == COLO_PROXY_STATE_FAILED_OVER;
}

/* stats.c */
int cp_stats_init(struct cp_instance *inst);
void cp_stats_uninit(struct cp_instance *inst);
void cp_stat_add(struct cp_instance *inst, unsigned int stat, u64 n);
void cp_stats_sum(struct cp_instance *inst, u64 *out);

static inline void cp_stat_inc(struct cp_instance *inst, unsigned int stat)
{
	cp_stat_add(inst, stat, 1);
}

/* instance.c */
struct cp_instance_cfg {
	struct net_device *dev;
	u8 role;
	struct cp_endpoint local, peer;
	u32 timeout_ms, queue_packets, queue_bytes;
	u32 conn_max, hold_packets, hold_bytes;
};

struct cp_instance *cp_instance_find(struct net *net, int ifindex);
int cp_instance_create(struct net *net, const struct cp_instance_cfg *cfg,
		       struct netlink_ext_ack *extack);
void cp_instance_destroy(struct cp_instance *inst, bool release);
void cp_instance_checkpoint(struct cp_instance *inst, bool await_peer);
void cp_instance_failover(struct cp_instance *inst);
void cp_instance_set(struct cp_instance *inst, u32 timeout_ms, u32 queue_packets,
		     u32 queue_bytes);
int cp_instance_hold_input(struct cp_instance *inst, struct netlink_ext_ack *extack);
int cp_instance_seal(struct cp_instance *inst, struct netlink_ext_ack *extack);
void cp_instance_stats(struct cp_instance *inst, u64 *out);
struct cp_conn *cp_conn_find(struct cp_instance *inst, const struct cp_pkt *pkt,
			     bool from_guest);
struct cp_conn *cp_conn_of(struct cp_instance *inst, const struct cp_pkt *pkt,
			   bool from_guest);
void cp_request_checkpoint(struct cp_instance *inst, struct cp_conn *conn,
			   u32 reason);
bool cp_hold_take(struct cp_instance *inst, u32 len);
void cp_hold_give(struct cp_instance *inst, u32 len);

int cp_notifier_register(void);
void cp_notifier_unregister(void);

/* datapath.c */
int cp_datapath_start(struct cp_instance *inst);
void cp_datapath_stop(struct cp_instance *inst);
void cp_deliver_released(struct cp_instance *inst, struct sk_buff_head *q);
void cp_conn_flush(struct cp_instance *inst, struct cp_conn *conn,
		   struct sk_buff_head *release, bool drop_all);
void cp_conn_seal(struct cp_instance *inst, struct cp_conn *conn,
		  struct sk_buff_head *sealed);
void cp_sealed_take(struct cp_instance *inst, struct sk_buff_head *q);
void cp_tunnel_input(struct cp_instance *inst, u8 type, struct sk_buff *skb);
void cp_svm_inject(struct cp_instance *inst, struct sk_buff_head *q);
void cp_gate_close(struct cp_instance *inst, struct cp_gate *gate);
void cp_gate_purge(struct cp_instance *inst, struct cp_gate *gate);
void cp_input_release(struct cp_instance *inst, bool mirror);
void cp_svm_out_release(struct cp_instance *inst);
void cp_svm_hold_drain(struct cp_instance *inst, struct cp_conn *conn,
		       struct sk_buff_head *q);

/* tunnel.c */
#define CP_TUN_MIRROR	1	/* primary -> secondary: frame to the guest */
#define CP_TUN_SVM_OUT	2	/* secondary -> primary: frame from the SVM */
#define CP_TUN_PVM_SYN	3	/* primary -> secondary: the PVM's SYN, for its ISN */
#define CP_TUN_CKPT	4	/* primary -> secondary: checkpointed (an empty frame) */

int cp_tunnel_open(struct cp_instance *inst, struct netlink_ext_ack *extack);
void cp_tunnel_close(struct cp_instance *inst);
void cp_tunnel_send(struct cp_instance *inst, u8 type, struct sk_buff *skb);
void cp_tunnel_send_checkpointed(struct cp_instance *inst);
void cp_tunnel_expire(struct cp_instance *inst);

/* netlink.c */
int cp_genl_register(void);
void cp_genl_unregister(void);
void cp_genl_event(struct cp_instance *inst, const struct cp_conn_key *key,
		   u32 reason);

#endif /* COLO_PROXY_H */
