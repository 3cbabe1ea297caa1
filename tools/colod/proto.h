/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colod agent-to-agent protocol, version 1: the codec and the receiver's
 * state machine, in plain C without I/O so both can be fuzzed
 * (tools/testing/fuzz/fuzz_colod_proto.c).
 *
 * The primary's agent and the secondary's agent share one TCP connection per
 * replicated VM. The primary sends each checkpoint (dirty RAM pages and the
 * device state), the secondary acknowledges it once applied.
 *
 * Header
 * ------
 * Every message is a 12-byte header followed by its body. All integers are
 * big-endian and nothing is aligned:
 *
 *   offset  size  field
 *        0     4  magic 0x434f4c4f ("COLO")
 *        4     2  version, COLO_PROTO_VERSION (1); any other is refused
 *        6     2  type, enum colo_msg_type
 *        8     4  body length in bytes
 *
 * Each type bounds its body length (below). A header outside those bounds is
 * refused on its own, before any of the body is read, so a receiver never
 * buffers more than COLO_HDR_SIZE + COLO_MSG_MAX_BODY bytes.
 *
 * Bodies (offsets within the body)
 * --------------------------------
 *  1 HELLO, both ways, first, 85 bytes:
 *      0  name[64]        VM name, 1..63 of [A-Za-z0-9_.-], NUL-padded to 64
 *     64  role u8         the sender's: 1 primary, 2 secondary
 *     65  ram_bytes u64   guest RAM, a non-zero multiple of page_size
 *     73  disk_bytes u64  replicated disk, a multiple of 512 (0: none)
 *     81  page_size u32   a power of two, COLO_PAGE_SIZE_MIN..COLO_PAGE_SIZE_MAX
 *  2 CKPT_BEGIN, primary to secondary, 28 bytes:
 *      0  ckpt_id u64     not 0, greater than every earlier checkpoint's
 *      8  reason u32      enum colo_ckpt_reason
 *     12  pages u64       pages the PAGES messages of this checkpoint carry
 *     20  devstate_bytes  u64, bytes the DEVSTATE messages carry, at most
 *                         COLO_DEVSTATE_MAX
 *  3 PAGES, primary to secondary, 12 + count * (8 + page_size) bytes:
 *      0  ckpt_id u64
 *      8  count u32       1..COLO_PAGES_MAX
 *     12  count u64 page indices, in units of page_size, below the RAM size
 *         and strictly ascending across the whole checkpoint
 *         then count pages of page_size bytes, in index order
 *  4 DEVSTATE, primary to secondary, 9..8 + COLO_DEVSTATE_CHUNK bytes:
 *      0  ckpt_id u64
 *      8  the next 1..COLO_DEVSTATE_CHUNK bytes of the device state
 *  5 CKPT_END, primary to secondary, 8 bytes: ckpt_id u64
 *  6 ACK, secondary to primary, 20 bytes:
 *      0  ckpt_id u64
 *      8  status i32      0 (applied) or a positive errno (not applied)
 *     12  apply_ns u64    how long the secondary took to apply it
 *  7 PING, both ways, 8 bytes: the sender's monotonic time in ns, u64
 *  8 PONG, both ways, 8 bytes: the time of the PING it answers, echoed
 *  9 ERROR, both ways, 1..COLO_ERROR_MAX bytes: printable ASCII (0x20..0x7e)
 *      saying why the sender gives up; no terminating NUL. The connection
 *      ends after it.
 * 10 REQUEST, secondary to primary, 4 bytes: reason u32, COLO_CKPT_DISK (the
 *      secondary's disk buffer passed its threshold or refused a write);
 *      any other reason is refused. The primary checkpoints soon after.
 * 11 HANDOVER, primary to secondary, 8 bytes: ckpt_id u64, the last
 *      checkpoint, acknowledged: the secondary takes over from it (a planned
 *      failover; the primary's VM stays paused after that checkpoint). Only
 *      ERROR may follow, from either side.
 * 12 REPLICA, secondary to primary, 8 bytes: ckpt_id u64, an acknowledged
 *      checkpoint (at most the last ACK's) greater than any earlier REPLICA's:
 *      the secondary's replica VM now runs from it. Every checkpoint replaces
 *      the replica, which compares no output until this message says it runs
 *      again; the primary stops holding output for it meanwhile (colod.rst,
 *      "The replica under emulation").
 *
 * Order (what struct colo_session enforces on the receiving side)
 * ---------------------------------------------------------------
 * Each agent sends HELLO first, once; the two must describe the same VM
 * (name, RAM, disk, page size) from opposite roles. Then the primary sends
 * checkpoints, each as CKPT_BEGIN, PAGES and DEVSTATE messages in any
 * interleaving that add up to exactly what CKPT_BEGIN announced, and
 * CKPT_END; the secondary answers each with an ACK, and the primary starts
 * the next checkpoint only after that ACK. PING and PONG may come at any
 * time after HELLO, and so may the secondary's REQUEST and REPLICA; ERROR at
 * any time.
 * HANDOVER comes between checkpoints and ends the session.
 */
#ifndef COLOD_PROTO_H
#define COLOD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLO_PROTO_MAGIC	0x434f4c4fU	/* "COLO" */
#define COLO_PROTO_VERSION	1
#define COLO_HDR_SIZE		12

#define COLO_NAME_SIZE		64		/* VM name field, NUL included */
#define COLO_PAGE_SIZE_MIN	1024U
#define COLO_PAGE_SIZE_MAX	4096U		/* larger would need a larger COLO_MSG_MAX_BODY */
#define COLO_DISK_SECTOR	512U
#define COLO_PAGES_MAX		256U		/* pages in one PAGES message */
#define COLO_DEVSTATE_CHUNK	(1U << 20)	/* bytes in one DEVSTATE message */
#define COLO_DEVSTATE_MAX	(64ULL << 20)	/* device state of one checkpoint */
#define COLO_ERROR_MAX		200U		/* ERROR text bytes */
#define COLO_ACK_STATUS_MAX	4095		/* largest errno an ACK carries */

/* Body of a PAGES message of @count pages of @page_size bytes. */
#define COLO_PAGES_BODY(count, page_size) (12 + (size_t)(count) * (8 + (size_t)(page_size)))
/* The largest body of any type: a full PAGES batch of the largest pages. */
#define COLO_MSG_MAX_BODY	COLO_PAGES_BODY(COLO_PAGES_MAX, COLO_PAGE_SIZE_MAX)
/* The most the encoders write: a PAGES head of a full batch. */
#define COLO_ENCODE_MAX		(COLO_HDR_SIZE + 12 + 8 * COLO_PAGES_MAX)

enum colo_msg_type {
	COLO_MSG_HELLO = 1,
	COLO_MSG_CKPT_BEGIN = 2,
	COLO_MSG_PAGES = 3,
	COLO_MSG_DEVSTATE = 4,
	COLO_MSG_CKPT_END = 5,
	COLO_MSG_ACK = 6,
	COLO_MSG_PING = 7,
	COLO_MSG_PONG = 8,
	COLO_MSG_ERROR = 9,
	COLO_MSG_REQUEST = 10,
	COLO_MSG_HANDOVER = 11,
	COLO_MSG_REPLICA = 12,
};
#define COLO_MSG_TYPE_MAX COLO_MSG_REPLICA

enum colo_role {
	COLO_ROLE_PRIMARY = 1,
	COLO_ROLE_SECONDARY = 2,
};

/* Why the primary took a checkpoint. */
enum colo_ckpt_reason {
	COLO_CKPT_TIMER = 1,		/* the periodic checkpoint interval passed */
	COLO_CKPT_PROXY = 2,		/* colo_proxy asked (outputs differ, queue full) */
	COLO_CKPT_DIRTY = 3,		/* too many dirty pages */
	COLO_CKPT_DISK = 4,		/* colo_blk's buffer is filling */
	COLO_CKPT_MANUAL = 5,		/* an operator asked */
	COLO_CKPT_FIRST_SYNC = 6,	/* the initial full copy of the VM */
	COLO_CKPT_FREEZE = 7,		/* an operator asked, and both VMs stay paused after it */
};
#define COLO_CKPT_REASON_MAX COLO_CKPT_FREEZE

struct colo_hdr {
	enum colo_msg_type type;
	uint32_t body_len;
};

struct colo_hello {
	char name[COLO_NAME_SIZE];	/* NUL-terminated */
	enum colo_role role;
	uint64_t ram_bytes;
	uint64_t disk_bytes;
	uint32_t page_size;
};

struct colo_ckpt_begin {
	uint64_t ckpt_id;
	enum colo_ckpt_reason reason;
	uint64_t pages;
	uint64_t devstate_bytes;
};

/*
 * A decoded PAGES batch points into the parsed buffer (nothing is copied):
 * read index i with colo_pages_index(), its page at colo_pages_page().
 */
struct colo_pages {
	uint64_t ckpt_id;
	uint32_t count;
	uint32_t page_size;
	const unsigned char *indices;	/* count big-endian u64, unaligned */
	const unsigned char *data;	/* count * page_size bytes */
};

/* A decoded DEVSTATE points into the parsed buffer too. */
struct colo_devstate {
	uint64_t ckpt_id;
	uint32_t len;
	const unsigned char *data;
};

struct colo_ack {
	uint64_t ckpt_id;
	int32_t status;
	uint64_t apply_ns;
};

struct colo_msg {
	enum colo_msg_type type;
	union {
		struct colo_hello hello;
		struct colo_ckpt_begin begin;
		struct colo_pages pages;
		struct colo_devstate devstate;
		uint64_t end_ckpt_id;			/* CKPT_END */
		struct colo_ack ack;
		uint64_t time_ns;			/* PING, PONG */
		char error[COLO_ERROR_MAX + 1];		/* ERROR, NUL-terminated */
		enum colo_ckpt_reason request_reason;	/* REQUEST */
		uint64_t handover_ckpt_id;		/* HANDOVER */
		uint64_t replica_ckpt_id;		/* REPLICA */
	};
};

/*
 * Error reasons (*why) are static strings or formatted into a per-thread
 * buffer that the next failing call on the same thread overwrites, except
 * colo_session_accept()'s, which stay in the session; why may be NULL.
 */

/*
 * Reads the header at the start of @buf. Returns 1 with @h filled, 0 when
 * fewer than COLO_HDR_SIZE bytes are there (and those agree with the magic
 * so far), or -EPROTO (bad magic, version or type, body too short for its
 * type) or -EMSGSIZE (body too long for its type).
 */
int colo_msg_hdr_parse(const void *buf, size_t len, struct colo_hdr *h, const char **why);

/*
 * Decodes the message at the start of @buf, where PAGES carry pages of
 * @page_size bytes (this agent's, which HELLO makes the peer's too).
 * Returns 1 when a whole message is there, with @m filled and *consumed set
 * to its size; 0 when more bytes are needed (*consumed = 0); or a negative
 * errno with *why set: colo_msg_hdr_parse()'s, -EBADMSG when the body is
 * inconsistent, -EINVAL when @page_size is not one this protocol carries.
 * @m may point into @buf (PAGES, DEVSTATE): keep @buf until done with it.
 */
int colo_msg_parse(const void *buf, size_t len, uint32_t page_size, struct colo_msg *m,
		   size_t *consumed, const char **why);

/*
 * Writes @m into @buf (@size bytes) and returns the number of bytes written,
 * -EINVAL when a field is out of range, or -ENOSPC when @buf is too small.
 * COLO_ENCODE_MAX bytes are always enough. DEVSTATE: writes the header and
 * ckpt id only; the caller sends the m->devstate.len bytes of state right
 * after (m->devstate.data is not read). PAGES: use colo_pages_encode_head().
 */
int colo_msg_encode(void *buf, size_t size, const struct colo_msg *m, const char **why);

/*
 * Writes the header, ckpt id, count and @count indices (host order in
 * @indices) of a PAGES message into @buf; the caller sends the @count pages
 * of @page_size bytes right after, in the same order (writev from guest RAM).
 * Returns the bytes written, -EINVAL or -ENOSPC. Ordering and range of the
 * indices are the receiver's to check.
 */
int colo_pages_encode_head(void *buf, size_t size, uint64_t ckpt_id, const uint64_t *indices,
			   uint32_t count, uint32_t page_size, const char **why);

/* Page index @i (< p->count) of a decoded batch, in host order. */
uint64_t colo_pages_index(const struct colo_pages *p, uint32_t i);
/* The data of page @i (< p->count) of a decoded batch. */
const unsigned char *colo_pages_page(const struct colo_pages *p, uint32_t i);

/* "HELLO", "CKPT_BEGIN", ... or "unknown". */
const char *colo_msg_type_name(unsigned int type);
/* "timer", "proxy", "dirty", "disk", "manual", "first-sync", "freeze" or
 * "unknown". */
const char *colo_ckpt_reason_name(unsigned int reason);

enum colo_session_state {
	COLO_SESSION_HELLO,		/* waiting for the peer's HELLO */
	COLO_SESSION_IDLE,		/* no checkpoint in flight */
	COLO_SESSION_CKPT_OPEN,		/* secondary: between CKPT_BEGIN and CKPT_END */
	COLO_SESSION_ACK_WAIT,		/* primary: a checkpoint sent, its ACK not yet seen */
	COLO_SESSION_CLOSED,		/* the peer sent ERROR or HANDOVER */
	COLO_SESSION_FAILED,		/* the peer broke the protocol */
};

/*
 * What one agent has received from its peer on one connection, checked
 * against the order above. Read the fields, change them only through the
 * functions below.
 */
struct colo_session {
	struct colo_hello local;	/* what this agent sent in its HELLO */
	struct colo_hello peer;		/* valid from COLO_SESSION_IDLE on */
	uint64_t ram_pages;		/* local.ram_bytes / local.page_size */
	enum colo_session_state state;
	/* Open (secondary) or awaited (primary) checkpoint. */
	uint64_t ckpt_id;
	/* The last one completed (secondary) or acknowledged (primary), 0: none. */
	uint64_t last_ckpt_id;
	/* Primary: the checkpoint the last REPLICA named, 0: none yet. */
	uint64_t replica_ckpt_id;
	/* Secondary: what the open checkpoint announced and what came so far. */
	uint64_t pages_announced;
	uint64_t pages_received;
	uint64_t devstate_announced;
	uint64_t devstate_received;
	uint64_t next_index;		/* the lowest page index still allowed */
	char why[160];			/* the reason of the last refusal */
};

/* Starts a session for an agent that sent @local. 0 or -EINVAL. */
int colo_session_init(struct colo_session *s, const struct colo_hello *local, const char **why);

/*
 * Checks that @m (as colo_msg_parse() decoded it) may come now from the peer,
 * and records it. Returns 0, or -EPROTO with *why (pointing into s->why) set
 * to the reason; from then on every message is refused with the same reason.
 * An accepted ERROR closes the session: whatever follows is refused.
 */
int colo_session_accept(struct colo_session *s, const struct colo_msg *m, const char **why);

/*
 * Primary: records that checkpoint @ckpt_id was sent in full, so its ACK is
 * the next one allowed. 0, or -EINVAL when this session is not the
 * primary's, has not seen the peer's HELLO, still waits for an ACK, or
 * @ckpt_id is not greater than the last acknowledged one.
 */
int colo_session_expect_ack(struct colo_session *s, uint64_t ckpt_id, const char **why);

#endif
