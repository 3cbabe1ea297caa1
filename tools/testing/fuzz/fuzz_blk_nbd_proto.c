// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the NBD wire codec of the replica's server with what a client could
 * send. Input: [client flags:4][export size:8][options:1], then that many
 * options, each a 16-byte header followed, when the header is accepted, by
 * its data, then 28-byte request headers to the end. Every option's data
 * goes through the NBD_OPT_GO parser whatever the option, copied to an
 * exactly sized buffer (ASan sees any overread). Each parser's verdict is
 * checked against the protocol worked out here from the raw bytes, in
 * 64- and 128-bit arithmetic so that no wraparound can hide; whatever is
 * accepted must be within the export, aligned and bounded, and whatever is
 * well formed must be accepted. The replies must carry what they were given.
 * The same bytes are also read as a server's, by the primary's client
 * parsers (greeting, export reply, simple replies), whose verdicts are
 * checked the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_blk/nbd-proto.h"

typedef unsigned __int128 u128;

static u64 be(const u8 *p, unsigned int bytes)
{
	u64 v = 0;

	while (bytes--)
		v = v << 8 | *p++;
	return v;
}

static void check_client_flags(const u8 *buf)
{
	u32 flags, raw = be(buf, 4);
	const char *why = NULL;
	int ret = cb_nbd_parse_client_flags(buf, &flags, &why);
	int good = raw == CB_NBD_FLAG_FIXED_NEWSTYLE ||
		   raw == (CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES);

	if (good ? ret || flags != raw : ret != -EPROTO || !why)
		abort();
}

/* 0 with the option header in *o, or -1 when it is refused. */
static int check_option(const u8 *buf, struct cb_nbd_option *o)
{
	const char *why = NULL;
	int ret = cb_nbd_parse_option(buf, o, &why);
	int good = be(buf, 8) == 0x49484156454f5054ULL &&
		   be(buf + 12, 4) <= CB_NBD_MAX_OPT_LEN;

	if (!good) {
		if (ret != -EPROTO || !why)
			abort();
		return -1;
	}
	if (ret || o->option != be(buf + 8, 4) || o->len != be(buf + 12, 4))
		abort();
	return 0;
}

static void check_go(const u8 *in, u32 len)
{
	u8 *data = malloc(len ? len : 1);
	struct cb_nbd_go go;
	const char *why = NULL;
	u64 name_len = len >= 4 ? be(in, 4) : 0;
	int ret, good;

	memcpy(data, in, len);
	good = len >= 6 && 6 + name_len <= len &&
	       6 + name_len + 2 * be(in + 4 + name_len, 2) == len &&
	       !memchr(in + 4, '\0', name_len);
	ret = cb_nbd_parse_go(data, len, &go, &why);
	if (!good) {
		if (ret != -EINVAL || !why)
			abort();
	} else if (ret || go.name_len != name_len || 6 + (u64)go.name_len > len ||
		   go.name != (const char *)data + 4) {
		abort();
	}
	free(data);
}

static int is_range(u16 type)
{
	return type == CB_NBD_CMD_READ || type == CB_NBD_CMD_WRITE ||
	       type == CB_NBD_CMD_TRIM || type == CB_NBD_CMD_WRITE_ZEROES;
}

static int known_type(u16 type)
{
	return is_range(type) || type == CB_NBD_CMD_FLUSH || type == CB_NBD_CMD_DISC;
}

static int flags_ok(u16 type, u16 flags)
{
	u16 allowed = CB_NBD_CMD_FLAG_FUA;

	if (type == CB_NBD_CMD_WRITE_ZEROES)
		allowed |= CB_NBD_CMD_FLAG_NO_HOLE;
	return !(flags & ~allowed);
}

static void check_request(const u8 *buf, u64 size)
{
	u16 flags = be(buf + 4, 2), type = be(buf + 6, 2);
	u64 handle = be(buf + 8, 8), offset = be(buf + 16, 8);
	u32 len = be(buf + 24, 4);
	int data = type == CB_NBD_CMD_READ || type == CB_NBD_CMD_WRITE;
	int aligned = len && !(offset % CB_SECTOR_SIZE) && !(len % CB_SECTOR_SIZE);
	int inside = (u128)offset + len <= size;
	struct cb_nbd_request r;
	const char *why = NULL;
	u8 reply[CB_NBD_REPLY_SIZE];
	int ret;

	ret = cb_nbd_parse_request(buf, size, &r, &why);
	if (be(buf, 4) != 0x25609513 ||
	    (type == CB_NBD_CMD_WRITE && len > CB_NBD_MAX_REQUEST)) {
		if (ret != -EPROTO || !why)
			abort();
		return;
	}
	if (ret || r.flags != flags || r.type != type || r.handle != handle ||
	    r.offset != offset || r.len != len)
		abort();

	switch (r.error) {
	case 0:
		/* what the server goes on to do I/O for */
		if (!known_type(type) || !flags_ok(type, flags))
			abort();
		if (is_range(type) && (!aligned || !inside))
			abort();
		if (data && len > CB_NBD_MAX_REQUEST)
			abort();
		break;
	case CB_NBD_ENOSPC:
		/* no space is the answer to writing past the end alone */
		if ((type != CB_NBD_CMD_WRITE && type != CB_NBD_CMD_WRITE_ZEROES) ||
		    !flags_ok(type, flags) || !aligned || inside)
			abort();
		break;
	case CB_NBD_EINVAL:
		/* a valid request must not be refused */
		if (known_type(type) && flags_ok(type, flags) &&
		    (!is_range(type) ||
		     (aligned && inside && (!data || len <= CB_NBD_MAX_REQUEST))))
			abort();
		break;
	default:
		abort();
	}

	cb_nbd_reply(reply, r.error, r.handle);
	if (be(reply, 4) != 0x67446698 || be(reply + 4, 4) != r.error ||
	    be(reply + 8, 8) != handle)
		abort();
}

/* The server's replies to the handshake, from the client's values. */
static void check_replies(const struct cb_nbd_option *o, u64 size, u16 tflags)
{
	u8 buf[CB_NBD_OPT_REPLY_SIZE];

	cb_nbd_option_reply(buf, o->option, CB_NBD_REP_INFO, o->len);
	if (be(buf, 8) != 0x0003e889045565a9ULL || be(buf + 8, 4) != o->option ||
	    be(buf + 12, 4) != CB_NBD_REP_INFO || be(buf + 16, 4) != o->len)
		abort();
	cb_nbd_info_export(buf, size, tflags);
	if (be(buf, 2) || be(buf + 2, 8) != size || be(buf + 10, 2) != tflags)
		abort();
	cb_nbd_export_name_reply(buf, size, tflags);
	if (be(buf, 8) != size || be(buf + 8, 2) != tflags)
		abort();
}

/* The client's side: what it makes of a server's greeting, export reply, reply. */
static void check_greeting(const u8 *buf)
{
	u16 flags = 0, raw = be(buf + 16, 2);
	const char *why = NULL;
	int ret = cb_nbd_parse_greeting(buf, &flags, &why);
	int good = be(buf, 8) == 0x4e42444d41474943ULL && be(buf + 8, 8) == 0x49484156454f5054ULL &&
		   (raw & CB_NBD_FLAG_FIXED_NEWSTYLE);

	if (good ? ret || flags != raw : ret != -EPROTO || !why)
		abort();
}

static void check_export_reply(const u8 *buf)
{
	u16 flags = 0, raw = be(buf + 8, 2);
	const char *why = NULL;
	u64 size = 0;
	int ret = cb_nbd_parse_export_name_reply(buf, &size, &flags, &why);

	if (raw & CB_NBD_FLAG_HAS_FLAGS ? ret || size != be(buf, 8) || flags != raw :
	    ret != -EPROTO || !why)
		abort();
}

static void check_server_reply(const u8 *buf)
{
	const char *why = NULL;
	u64 handle = 0;
	u32 error = 0;
	int ret = cb_nbd_parse_reply(buf, &error, &handle, &why);

	if (be(buf, 4) == 0x67446698U ? ret || error != be(buf + 4, 4) || handle != be(buf + 8, 8) :
	    ret != -EPROTO || !why)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t left)
{
	struct cb_nbd_option o;
	u64 size;
	unsigned int nr_opts;

	if (left < 13 || left > 1 << 16)
		return 0;
	if (left >= CB_NBD_GREETING_SIZE)
		check_greeting(data);
	check_export_reply(data);
	check_client_flags(data);
	size = be(data + 4, 8);
	nr_opts = data[12] % (CB_NBD_MAX_OPTIONS + 1);
	data += 13;
	left -= 13;

	for (; nr_opts && left >= CB_NBD_OPT_HDR_SIZE; nr_opts--) {
		int ret = check_option(data, &o);

		data += CB_NBD_OPT_HDR_SIZE;
		left -= CB_NBD_OPT_HDR_SIZE;
		if (ret)
			continue;
		/* the server would wait for the rest: the stream ends here */
		if (o.len > left)
			return 0;
		check_go(data, o.len);
		check_replies(&o, size, o.len);
		data += o.len;
		left -= o.len;
	}

	for (; left >= CB_NBD_REQUEST_SIZE; left -= CB_NBD_REQUEST_SIZE) {
		check_request(data, size);
		check_server_reply(data);
		data += CB_NBD_REQUEST_SIZE;
	}
	return 0;
}
