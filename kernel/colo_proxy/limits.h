/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bounds of a colo_proxy instance: the size of its connection table and the
 * frames it may hold at once. The decisions are here, apart from the kernel
 * glue, so that the unit tests and the fuzzers run them.
 *
 * Connection table. Every connection costs an entry on both hosts, created
 * by the first frame either guest (or, on the secondary, the client) sends
 * on it. A SYN flood towards the guest makes one per SYN. The table has a
 * cap; its bucket array is sized from the cap so that chains stay short at
 * the cap, and the hash is seeded at random per instance so that nobody can
 * aim at one chain. When the table is full, a new connection takes the place
 * of one that costs nothing to forget (early drop, as nf_conntrack does):
 * nothing held, and either not TCP, or closed by the guest, or never past
 * the handshake (the guest sent nothing but SYNs on it). Forgetting such an
 * entry is what a checkpoint does to it anyway. Without one, the new
 * connection is refused.
 *
 * Held frames. Every frame an instance holds (the primary's compare queues
 * of both guests, the secondary's segments waiting for the SVM's window) is
 * counted against hard per-instance limits in frames and bytes; the
 * per-connection queue limits only request a checkpoint, which a slow agent
 * may be late to take.
 */
#ifndef COLO_PROXY_LIMITS_H
#define COLO_PROXY_LIMITS_H

#include "cp_compat.h"

/* Bounds of the parameters (netlink policy, module parameters). */
#define CP_CONN_MAX_MIN		16
#define CP_CONN_MAX_MAX		(1U << 20)
#define CP_HOLD_PACKETS_MIN	16
#define CP_HOLD_PACKETS_MAX	(1U << 20)
#define CP_HOLD_BYTES_MIN	(1U << 16)
#define CP_HOLD_BYTES_MAX	(1U << 31)

/* How many buckets the table of at most @conn_max connections gets. */
#define CP_CONN_BUCKETS_MAX	(1U << 17)
u32 cp_conn_buckets(u32 conn_max);

/* Entries looked at for early drop, from the new one's bucket on. */
#define CP_CONN_EVICT_SCAN	8

/* What the early drop needs to know about an entry. */
struct cp_conn_state {
	bool held;		/* holds frames (either guest's, or for the SVM) */
	bool tcp;
	bool assured;		/* TCP: the guest sent more than SYNs on it */
	bool closed;		/* TCP: the guest or the client closed it */
};

bool cp_conn_evictable(const struct cp_conn_state *st);

/* Frames and bytes an instance holds. */
struct cp_hold {
	u32 pkts;
	u64 bytes;
};

enum cp_hold_verdict {
	CP_HOLD_OK,
	CP_HOLD_FULL_PACKETS,	/* one more frame would pass the frame limit */
	CP_HOLD_FULL_BYTES,	/* ... the byte limit */
};

/* Whether a frame of @len bytes may be held on top of @h. */
enum cp_hold_verdict cp_hold_admit(const struct cp_hold *h, u32 max_pkts,
				   u32 max_bytes, u32 len);
void cp_hold_add(struct cp_hold *h, u32 len);
void cp_hold_sub(struct cp_hold *h, u32 len);

#endif /* COLO_PROXY_LIMITS_H */
