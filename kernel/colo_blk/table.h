/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constructor lines and messages of the "colo" target, parsed in plain C:
 *
 *   secondary <name> <base_dev> <buffer_limit> [<#opt_args> [event_percent <p>]]
 *   replica   <name> <base_dev> [4 nbd_listen <addr>:<port> nbd_peer <addr>]
 *   primary   <local_dev> <forward_dev>|nbd://<addr>:<port>/<export>
 *                                   [<#opt_args> [max_inflight <n>]
 *                                   [queue_bytes <n>] [event_bytes <n>]
 *                                   [region_size <n>] [drain_ms <ms>]
 *                                   [sync_from <n>] [nbd_timeout <ms>]
 *                                   [nbd_source <addr>]]
 *
 * Messages: "checkpoint", "failover", "written [<from_sector>]",
 * "clear_written [<sector> <nr_sectors>]".
 */
#ifndef COLO_BLK_TABLE_H
#define COLO_BLK_TABLE_H

#include "cb_compat.h"
#include "drain.h"

#define CB_NAME_MAX 32			/* including the terminating NUL */
#define CB_ADDR_MAX 48			/* "[IPv6]:port", with the NUL */
#define CB_MIN_LIMIT (64ULL << 10)
#define CB_MAX_LIMIT (1ULL << 40)
#define CB_DEF_EVENT_PERCENT 75U
#define CB_DEF_MAX_INFLIGHT 64U
#define CB_MAX_INFLIGHT 4096U
#define CB_DEF_QUEUE_BYTES (64ULL << 20)
#define CB_DEF_REGION_SIZE (64ULL << 10)
#define CB_MIN_REGION_SIZE (4ULL << 10)
#define CB_MAX_REGION_SIZE (1ULL << 30)
#define CB_MAX_SYNC_FROM (32ULL << 20)
#define CB_MIN_NBD_TIMEOUT_MS 1000U
#define CB_DEF_NBD_TIMEOUT_MS 30000U
#define CB_MAX_NBD_TIMEOUT_MS 3600000U

enum cb_mode {
	CB_SECONDARY,
	CB_REPLICA,
	CB_PRIMARY,
};

struct cb_table {
	enum cb_mode mode;
	char name[CB_NAME_MAX];		/* secondary, replica; primary: the NBD export */
	const char *dev[2];		/* base; or local, forward (points into argv) */
	char nbd_connect[CB_ADDR_MAX];	/* primary: the NBD server, when not a device */
	u64 limit;			/* secondary: buffer limit in bytes */
	u32 event_percent;		/* secondary: event when buffers pass this share */
	u32 max_inflight;		/* primary: forwarded writes in flight */
	u64 queue_bytes;		/* primary: copies held before the guest waits */
	u64 event_bytes;		/* primary: event when forwarded bytes pass this */
	u64 region_size;		/* primary: bytes per region of the written record */
	u32 drain_ms;			/* primary: checkpoint drain bound, 0 = off */
	u32 sync_from;			/* primary: writes this large forwarded uncopied, 0 = off */
	u32 nbd_timeout_ms;		/* primary, nbd://: bound on a send and on silence */
	char nbd_source[CB_ADDR_MAX];	/* primary, nbd://: the client's own address */
	char nbd_listen[CB_ADDR_MAX];	/* replica: its NBD server's address */
	char nbd_peer[CB_ADDR_MAX];	/* replica: the one client address let in */
	u32 opt_given;			/* CB_OPT_* given on the line (TABLE status) */
};

#define CB_OPT_EVENT_PERCENT	(1U << 0)
#define CB_OPT_MAX_INFLIGHT	(1U << 1)
#define CB_OPT_EVENT_BYTES	(1U << 2)
#define CB_OPT_QUEUE_BYTES	(1U << 3)
#define CB_OPT_REGION_SIZE	(1U << 4)
#define CB_OPT_DRAIN_MS		(1U << 5)
#define CB_OPT_NBD		(1U << 6)
#define CB_OPT_SYNC_FROM	(1U << 7)
#define CB_OPT_NBD_TIMEOUT	(1U << 8)
#define CB_OPT_NBD_SOURCE	(1U << 9)

enum cb_msg {
	CB_MSG_CHECKPOINT,		/* timeout_ms: how long a primary waits (0: no bound) */
	CB_MSG_FAILOVER,
	CB_MSG_WRITTEN,			/* sector: where to start */
	CB_MSG_CLEAR_WRITTEN,		/* sector, nr: the range (default: all) */
	CB_MSG_HOLD,			/* keep new copies back until RELEASE */
	CB_MSG_RELEASE,
};

struct cb_message {
	enum cb_msg msg;
	u64 sector;
	u64 nr;
	u64 timeout_ms;
};

/* Longest bound a checkpoint message may set on its wait: ten minutes. */
#define CB_MAX_CHECKPOINT_TIMEOUT_MS 600000

/* Both return 0 or -EINVAL with *error set to a static message. */
int cb_parse_table(unsigned int argc, char **argv, struct cb_table *t,
		   const char **error);
int cb_parse_message(unsigned int argc, char **argv, struct cb_message *m,
		     const char **error);

/* Parses "<digits>[k|m|g]" into bytes; 0 or -EINVAL. */
int cb_parse_size(const char *s, u64 *out);

const char *cb_mode_name(enum cb_mode mode);

#endif
