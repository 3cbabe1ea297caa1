/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * colo_proxy generic netlink family: the contract between colo_proxy.ko and
 * its users (coloctl, the COLO agent). See
 * Documentation/admin-guide/colo-proxy.rst and
 * Documentation/netlink/specs/colo_proxy.yaml.
 *
 * An instance protects one VM. It is bound to the host side of the guest's
 * interface (a tap, or a veth in tests) in the caller's network namespace,
 * has a role (primary or secondary) and a UDP tunnel endpoint pair to its
 * peer proxy. It is identified by that interface (COLO_PROXY_A_IFINDEX).
 *
 * Every command, and joining the "events" group, needs CAP_NET_ADMIN in the
 * user namespace that owns the network namespace. Rejections carry an
 * extended ack message naming the offending attribute.
 */
#ifndef _UAPI_LINUX_COLO_PROXY_H
#define _UAPI_LINUX_COLO_PROXY_H

#define COLO_PROXY_GENL_NAME "colo_proxy"
#define COLO_PROXY_GENL_VERSION 1
#define COLO_PROXY_MCGRP_EVENTS "events"

enum colo_proxy_cmd {
	COLO_PROXY_CMD_UNSPEC,
	/*
	 * Create an instance. Needs IFINDEX, ROLE, LOCAL_ADDR, LOCAL_PORT,
	 * PEER_ADDR, PEER_PORT; TIMEOUT_MS, QUEUE_PACKETS, QUEUE_BYTES,
	 * CONN_MAX, HOLD_PACKETS and HOLD_BYTES default to the module
	 * parameters of the same names.
	 */
	COLO_PROXY_CMD_NEW,
	COLO_PROXY_CMD_DEL,		/* IFINDEX; held frames are released */
	/* IFINDEX: one instance; dump (NLM_F_DUMP): all in the namespace. */
	COLO_PROXY_CMD_GET,
	/*
	 * IFINDEX. Primary: release every held PVM frame, drop the SVM's,
	 * then release the input (RELEASE_INPUT), and tell the secondary.
	 * Both roles: reset the per-connection sequence/timestamp offsets.
	 * Secondary with AWAIT_PEER: keep the SVM's frames until the
	 * primary's checkpoint has been told (or TIMEOUT_MS has passed).
	 */
	COLO_PROXY_CMD_CHECKPOINT,
	/*
	 * IFINDEX. Primary: release everything (held input unmirrored), stop
	 * holding and mirroring.
	 * Secondary: the SVM's frames go to the real network from now on.
	 */
	COLO_PROXY_CMD_FAILOVER,
	/* Multicast on "events": IFINDEX, REASON, optionally CONN. */
	COLO_PROXY_CMD_CHECKPOINT_REQUEST,
	/*
	 * IFINDEX, primary only. Frames to the PVM are kept, in order,
	 * neither delivered nor mirrored, until RELEASE_INPUT, CHECKPOINT or
	 * FAILOVER: the agent holds input while it takes the PVM's state, so
	 * that a frame arriving meanwhile reaches both the PVM and the SVM
	 * that will start from that state, not the SVM being replaced.
	 */
	COLO_PROXY_CMD_HOLD_INPUT,
	/* IFINDEX, primary only: mirror and deliver what HOLD_INPUT kept. */
	COLO_PROXY_CMD_RELEASE_INPUT,
	/*
	 * IFINDEX, primary only: the PVM has stopped for a checkpoint. Every
	 * PVM frame held now is that checkpoint's output and leaves at the
	 * next CHECKPOINT (or FAILOVER) whatever the SVM sends; input is held
	 * as by HOLD_INPUT. The PVM may then run before the secondary has the
	 * state: its new frames are held and compared afresh with the SVM's
	 * that come after CHECKPOINT, SVM frames arriving before it are
	 * dropped (SVM_STALE), and CHECKPOINT releases only the sealed frames.
	 * EBUSY when already sealed.
	 */
	COLO_PROXY_CMD_SEAL,
	/*
	 * IFINDEX and at least one of TIMEOUT_MS, QUEUE_PACKETS, QUEUE_BYTES
	 * (no other attribute): those given replace the instance's, the
	 * others stay. Either role. Nothing held is released or dropped;
	 * frames already held are measured against the new TIMEOUT_MS (a
	 * frame older than it is requested for within a quarter of it), the
	 * QUEUE_* limits apply from the connection's next held frame.
	 */
	COLO_PROXY_CMD_SET,
	__COLO_PROXY_CMD_MAX
};
#define COLO_PROXY_CMD_MAX (__COLO_PROXY_CMD_MAX - 1)

enum colo_proxy_role {
	COLO_PROXY_ROLE_PRIMARY = 1,
	COLO_PROXY_ROLE_SECONDARY = 2,
};

enum colo_proxy_state {
	COLO_PROXY_STATE_REPLICATING = 1,
	COLO_PROXY_STATE_FAILED_OVER = 2,
};

/* Why a checkpoint is requested. */
enum colo_proxy_reason {
	COLO_PROXY_REASON_MISMATCH = 1,	/* the guests' outputs differ */
	COLO_PROXY_REASON_TIMEOUT = 2,	/* a PVM frame held > TIMEOUT_MS */
	/* connection over QUEUE_PACKETS; without CONN: instance at HOLD_PACKETS */
	COLO_PROXY_REASON_QUEUE_PACKETS = 3,
	/* connection over QUEUE_BYTES; without CONN: instance at HOLD_BYTES */
	COLO_PROXY_REASON_QUEUE_BYTES = 4,
	COLO_PROXY_REASON_TUNNEL_LOSS = 5,	/* a tunnel frame went missing */
	__COLO_PROXY_REASON_MAX
};
#define COLO_PROXY_REASON_MAX (__COLO_PROXY_REASON_MAX - 1)

enum colo_proxy_attr {
	COLO_PROXY_A_UNSPEC,
	COLO_PROXY_A_PAD,
	COLO_PROXY_A_IFINDEX,		/* u32: the guest's host-side device */
	COLO_PROXY_A_IFNAME,		/* string, reply only */
	COLO_PROXY_A_ROLE,		/* u8: enum colo_proxy_role */
	COLO_PROXY_A_STATE,		/* u8: enum colo_proxy_state, reply only */
	COLO_PROXY_A_LOCAL_ADDR,	/* be32: IPv4 tunnel address (or LOCAL_ADDR6) */
	COLO_PROXY_A_LOCAL_PORT,	/* u16 (host order): tunnel UDP port */
	COLO_PROXY_A_PEER_ADDR,		/* be32 (or PEER_ADDR6, same family as local) */
	COLO_PROXY_A_PEER_PORT,		/* u16 */
	COLO_PROXY_A_TIMEOUT_MS,	/* u32: longest a PVM frame is held */
	COLO_PROXY_A_QUEUE_PACKETS,	/* u32: per-connection held frames */
	COLO_PROXY_A_QUEUE_BYTES,	/* u32: per-connection held bytes */
	COLO_PROXY_A_STATS,		/* nest: COLO_PROXY_STAT_* (u64 each) */
	COLO_PROXY_A_REASON,		/* u32: enum colo_proxy_reason */
	COLO_PROXY_A_CONN,		/* nest: COLO_PROXY_CONN_* */
	COLO_PROXY_A_LOCAL_ADDR6,	/* 16 bytes: IPv6 tunnel address */
	COLO_PROXY_A_PEER_ADDR6,	/* 16 bytes */
	COLO_PROXY_A_CONN_MAX,		/* u32: connections tracked at most */
	COLO_PROXY_A_HOLD_PACKETS,	/* u32: frames held at most, per instance */
	COLO_PROXY_A_HOLD_BYTES,	/* u32: bytes held at most, per instance */
	COLO_PROXY_A_AWAIT_PEER,	/* flag: CHECKPOINT of a secondary, see there */
	__COLO_PROXY_A_MAX
};
#define COLO_PROXY_A_MAX (__COLO_PROXY_A_MAX - 1)

/* A connection as seen from the guest. */
enum colo_proxy_conn_attr {
	COLO_PROXY_CONN_UNSPEC,
	COLO_PROXY_CONN_FAMILY,		/* u8: AF_INET or AF_INET6 */
	COLO_PROXY_CONN_PROTO,		/* u8: IP protocol */
	COLO_PROXY_CONN_GUEST_ADDR,	/* 4 or 16 bytes */
	COLO_PROXY_CONN_GUEST_PORT,	/* u16 */
	COLO_PROXY_CONN_PEER_ADDR,	/* 4 or 16 bytes: the remote end */
	COLO_PROXY_CONN_PEER_PORT,	/* u16 */
	__COLO_PROXY_CONN_MAX
};
#define COLO_PROXY_CONN_MAX (__COLO_PROXY_CONN_MAX - 1)

/* Statistics, all u64, in COLO_PROXY_A_STATS. */
enum colo_proxy_stat {
	COLO_PROXY_STAT_UNSPEC,
	COLO_PROXY_STAT_PAD,
	COLO_PROXY_STAT_PVM_FRAMES,	/* frames from the PVM */
	COLO_PROXY_STAT_PVM_BYTES,
	COLO_PROXY_STAT_SVM_FRAMES,	/* SVM frames (primary: via tunnel) */
	COLO_PROXY_STAT_SVM_BYTES,
	COLO_PROXY_STAT_COMPARED_BYTES,	/* payload bytes compared equal */
	COLO_PROXY_STAT_HELD,		/* PVM frames held for compare */
	COLO_PROXY_STAT_RELEASED,	/* held PVM frames released */
	COLO_PROXY_STAT_PASSED,		/* PVM frames passed without holding */
	COLO_PROXY_STAT_MISMATCHES,
	COLO_PROXY_STAT_REQ_MISMATCH,	/* checkpoint requests by reason */
	COLO_PROXY_STAT_REQ_TIMEOUT,
	COLO_PROXY_STAT_REQ_QUEUE_PACKETS,
	COLO_PROXY_STAT_REQ_QUEUE_BYTES,
	COLO_PROXY_STAT_REQ_TUNNEL_LOSS,
	COLO_PROXY_STAT_CHECKPOINTS,	/* CHECKPOINT commands */
	COLO_PROXY_STAT_QUEUE_HWM_PACKETS,	/* largest per-connection queue */
	COLO_PROXY_STAT_QUEUE_HWM_BYTES,
	COLO_PROXY_STAT_MIRRORED,	/* frames to the PVM sent to the peer */
	COLO_PROXY_STAT_INJECTED,	/* mirrored frames given to the SVM */
	COLO_PROXY_STAT_REWRITTEN,	/* TCP frames rewritten (secondary) */
	COLO_PROXY_STAT_TUNNEL_TX,
	COLO_PROXY_STAT_TUNNEL_RX,
	COLO_PROXY_STAT_TUNNEL_LOST,	/* gaps in the peer's tunnel sequence */
	COLO_PROXY_STAT_TUNNEL_REORDERED,
	COLO_PROXY_STAT_TUNNEL_ERRORS,	/* bad tunnel frames, send failures */
	COLO_PROXY_STAT_BAD_FRAMES,	/* frames that failed to parse */
	COLO_PROXY_STAT_CONNECTIONS,	/* connections tracked now */
	COLO_PROXY_STAT_WINDOW_HELD,	/* mirrored frames waiting for the SVM's window */
	COLO_PROXY_STAT_RESET_RELEASED,	/* held PVM frames released by the client's RST */
	COLO_PROXY_STAT_NEIGH_LEARNED,	/* mirrored ARP/ND frames that gave a binding (secondary) */
	COLO_PROXY_STAT_NEIGH_TABLE_FULL,	/* ... that replaced the oldest one: table full */
	COLO_PROXY_STAT_NEIGH_ANSWERED,	/* SVM ARP requests/solicitations answered */
	COLO_PROXY_STAT_NEIGH_UNKNOWN,	/* ... for an address without a binding */
	COLO_PROXY_STAT_TUNNEL_FOREIGN,	/* tunnel datagrams not from the peer's endpoint */
	COLO_PROXY_STAT_TUNNEL_AFTER_FAILOVER,	/* ... from the peer, after failover */
	COLO_PROXY_STAT_CONN_REFUSED,	/* new connections the full table refused */
	COLO_PROXY_STAT_CONN_EVICTED,	/* entries forgotten early for new ones */
	COLO_PROXY_STAT_HOLD_FULL,	/* frames not held: instance at its hold limit */
	COLO_PROXY_STAT_HOLDING_PACKETS,	/* frames held now */
	COLO_PROXY_STAT_HOLDING_BYTES,	/* bytes held now */
	COLO_PROXY_STAT_INPUT_HELD,	/* frames to the PVM kept by HOLD_INPUT */
	COLO_PROXY_STAT_SVM_AWAITED,	/* SVM frames kept for the primary's checkpoint */
	COLO_PROXY_STAT_SEALS,		/* SEAL commands */
	COLO_PROXY_STAT_SVM_STALE,	/* SVM frames dropped between SEAL and CHECKPOINT */
	__COLO_PROXY_STAT_MAX
};
#define COLO_PROXY_STAT_MAX (__COLO_PROXY_STAT_MAX - 1)

#endif /* _UAPI_LINUX_COLO_PROXY_H */
