/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NBD wire protocol as the replica's in-kernel server speaks it (see
 * the protocol document of the NBD project): the fixed-newstyle handshake
 * with the options NBD_OPT_EXPORT_NAME, NBD_OPT_INFO, NBD_OPT_GO and
 * NBD_OPT_ABORT, then simple replies to READ, WRITE, FLUSH, TRIM,
 * WRITE_ZEROES and DISC. And the client's side the primary speaks
 * (nbd-client.c): the handshake with NBD_OPT_EXPORT_NAME, then WRITE,
 * FLUSH and TRIM. Plain C, so that the unit tests and the fuzzer run the
 * code that parses what a peer sends; everything on the wire is
 * big-endian.
 */
#ifndef COLO_BLK_NBD_PROTO_H
#define COLO_BLK_NBD_PROTO_H

#include "cb_compat.h"

#define CB_NBD_GREETING_SIZE	18	/* NBDMAGIC, IHAVEOPT, handshake flags */
#define CB_NBD_OPT_HDR_SIZE	16	/* IHAVEOPT, option, length */
#define CB_NBD_OPT_REPLY_SIZE	20	/* magic, option, type, length */
#define CB_NBD_INFO_EXPORT_SIZE	12	/* NBD_INFO_EXPORT: type, size, flags */
#define CB_NBD_EXPORT_NAME_REPLY_SIZE 10 /* size, flags (no zero padding) */
#define CB_NBD_REQUEST_SIZE	28
#define CB_NBD_REPLY_SIZE	16
/* what a server that does not take NO_ZEROES sends after the export's flags */
#define CB_NBD_EXPORT_ZEROES_SIZE 124

/* Longest option data a client may send: a name and a few info requests. */
#define CB_NBD_MAX_OPT_LEN	4096U
/* Options a client may send before transmission. */
#define CB_NBD_MAX_OPTIONS	32U
/* Longest request: what the kernel's nbd driver sends at most (32 MiB). */
#define CB_NBD_MAX_REQUEST	(32U << 20)

/* handshake flags (server) and client flags */
#define CB_NBD_FLAG_FIXED_NEWSTYLE	(1U << 0)
#define CB_NBD_FLAG_NO_ZEROES		(1U << 1)

enum cb_nbd_opt {
	CB_NBD_OPT_EXPORT_NAME = 1,
	CB_NBD_OPT_ABORT = 2,
	CB_NBD_OPT_INFO = 6,
	CB_NBD_OPT_GO = 7,
};

#define CB_NBD_REP_ACK		1U
#define CB_NBD_REP_INFO		3U
#define CB_NBD_REP_ERR_UNSUP	((1U << 31) + 1)
#define CB_NBD_REP_ERR_INVALID	((1U << 31) + 3)
#define CB_NBD_REP_ERR_UNKNOWN	((1U << 31) + 6)

/* transmission flags */
#define CB_NBD_FLAG_HAS_FLAGS		(1U << 0)
#define CB_NBD_FLAG_SEND_FLUSH		(1U << 2)
#define CB_NBD_FLAG_SEND_FUA		(1U << 3)
#define CB_NBD_FLAG_SEND_TRIM		(1U << 5)
#define CB_NBD_FLAG_SEND_WRITE_ZEROES	(1U << 6)
#define CB_NBD_FLAG_CAN_MULTI_CONN	(1U << 8)

enum cb_nbd_cmd {
	CB_NBD_CMD_READ = 0,
	CB_NBD_CMD_WRITE = 1,
	CB_NBD_CMD_DISC = 2,
	CB_NBD_CMD_FLUSH = 3,
	CB_NBD_CMD_TRIM = 4,
	CB_NBD_CMD_WRITE_ZEROES = 6,
};

/* command flags */
#define CB_NBD_CMD_FLAG_FUA	(1U << 0)
#define CB_NBD_CMD_FLAG_NO_HOLE	(1U << 1)

/* errors in replies (the protocol's values, which are Linux's errnos) */
#define CB_NBD_EIO	5U
#define CB_NBD_ENOMEM	12U
#define CB_NBD_EINVAL	22U
#define CB_NBD_ENOSPC	28U
#define CB_NBD_ENOTSUP	95U

struct cb_nbd_option {
	u32 option;
	u32 len;		/* of the data that follows, <= CB_NBD_MAX_OPT_LEN */
};

/* An NBD_OPT_GO or NBD_OPT_INFO request: the export name it asks for. */
struct cb_nbd_go {
	const char *name;	/* points into the option data, not terminated */
	u32 name_len;
};

struct cb_nbd_request {
	u16 flags;
	u16 type;
	u64 handle;
	u64 offset;
	u32 len;
	/*
	 * 0, or the error to answer with while keeping the connection: a
	 * request of a known shape the export cannot serve (beyond its end,
	 * not sector-aligned, an unknown command or flag). A WRITE's data
	 * still follows and is read and dropped.
	 */
	u32 error;
};

void cb_nbd_greeting(u8 *buf);
/* 0, or -EPROTO with *why for flags the server does not know. */
int cb_nbd_parse_client_flags(const u8 *buf, u32 *flags, const char **why);
int cb_nbd_parse_option(const u8 *buf, struct cb_nbd_option *o, const char **why);
int cb_nbd_parse_go(const u8 *data, u32 len, struct cb_nbd_go *go, const char **why);
void cb_nbd_option_reply(u8 *buf, u32 option, u32 type, u32 len);
void cb_nbd_info_export(u8 *buf, u64 size, u16 flags);
void cb_nbd_export_name_reply(u8 *buf, u64 size, u16 flags);
/*
 * A request header for an export of `size` bytes. -EPROTO (with *why) when
 * the stream cannot go on: a bad magic, or a WRITE longer than
 * CB_NBD_MAX_REQUEST whose data could not be skipped safely. Otherwise 0,
 * with r->error set for a request to refuse.
 */
int cb_nbd_parse_request(const u8 *buf, u64 size, struct cb_nbd_request *r,
			 const char **why);
void cb_nbd_reply(u8 *buf, u32 error, u64 handle);

/* The client's side. */

/* A server's greeting: 0 with its handshake flags, or -EPROTO with *why. */
int cb_nbd_parse_greeting(const u8 *buf, u16 *flags, const char **why);
void cb_nbd_client_flags(u8 *buf, u32 flags);
/* The header of NBD_OPT_EXPORT_NAME; the name follows, unterminated. */
void cb_nbd_export_name_option(u8 *buf, u32 name_len);
/* The answer to NBD_OPT_EXPORT_NAME: 0, or -EPROTO with *why. */
int cb_nbd_parse_export_name_reply(const u8 *buf, u64 *size, u16 *flags,
				   const char **why);
void cb_nbd_request(u8 *buf, u16 flags, u16 type, u64 handle, u64 offset, u32 len);
/* A simple reply: 0, or -EPROTO with *why (a bad magic: the stream is lost). */
int cb_nbd_parse_reply(const u8 *buf, u32 *error, u64 *handle, const char **why);

#endif
