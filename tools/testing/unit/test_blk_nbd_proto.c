// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the NBD wire codec of the replica's in-kernel server: the
 * bytes it sends, checked byte for byte against the protocol, and what it
 * makes of what a client sends. The client's side is written out here with
 * a big-endian helper of its own, so that the codec's byte order is checked
 * rather than assumed. The primary's client side (what it sends, what it
 * makes of a server's answers) is checked the same way, and against the
 * server's own parser.
 */
#include <string.h>

#include "tap.h"
#include "colo_blk/nbd-proto.h"

#define HANDLE	0x1122334455667788ULL
#define MiB	(1ULL << 20)

static void be(u8 *p, u64 v, unsigned int bytes)
{
	while (bytes--) {
		p[bytes] = v;
		v >>= 8;
	}
}

static int has(const char *why, const char *want)
{
	return why && strstr(why, want);
}

static void client_flags(u32 flags, int want, const char *want_why)
{
	u8 buf[4];
	u32 got = ~0U;
	const char *why = NULL;
	int ret;

	be(buf, flags, 4);
	ret = cb_nbd_parse_client_flags(buf, &got, &why);
	if (!want)
		tap_check(!ret && got == flags, "client flags %#x accepted", flags);
	else
		tap_check(ret == want && has(why, want_why),
			  "client flags %#x refused: %s", flags, why ? why : "(accepted)");
}

static int option(u64 magic, u32 opt, u32 len, struct cb_nbd_option *o, const char **why)
{
	u8 buf[CB_NBD_OPT_HDR_SIZE];

	be(buf, magic, 8);
	be(buf + 8, opt, 4);
	be(buf + 12, len, 4);
	*why = NULL;
	return cb_nbd_parse_option(buf, o, why);
}

/*
 * NBD_OPT_GO data: a name length (which may lie), the name, an info count
 * and the info requests, then `extra` bytes beyond what the count covers.
 * Returns the length of the data.
 */
static u32 go_data(u8 *buf, u32 name_len, const char *name, u16 nr_info,
		   const u16 *info, u32 extra)
{
	u32 n = strlen(name), i;

	be(buf, name_len, 4);
	memcpy(buf + 4, name, n);
	be(buf + 4 + n, nr_info, 2);
	for (i = 0; i < nr_info; i++)
		be(buf + 6 + n + 2 * i, info[i], 2);
	memset(buf + 6 + n + 2 * nr_info, 0xa5, extra);
	return 6 + n + 2 * nr_info + extra;
}

static void go_refused(const char *what, const u8 *data, u32 len, const char *want)
{
	struct cb_nbd_go go;
	const char *why = NULL;
	int ret = cb_nbd_parse_go(data, len, &go, &why);

	tap_check(ret == -EINVAL && has(why, want), "NBD_OPT_GO refused, %s: %s",
		  what, why ? why : "(accepted)");
}

static int request(u32 magic, u16 flags, u16 type, u64 offset, u32 len, u64 size,
		   struct cb_nbd_request *r, const char **why)
{
	u8 buf[CB_NBD_REQUEST_SIZE];

	be(buf, magic, 4);
	be(buf + 4, flags, 2);
	be(buf + 6, type, 2);
	be(buf + 8, HANDLE, 8);
	be(buf + 16, offset, 8);
	be(buf + 24, len, 4);
	*why = NULL;
	return cb_nbd_parse_request(buf, size, r, why);
}

/* A request the server serves: all fields decoded, no error. */
static void served(const char *what, u16 flags, u16 type, u64 offset, u32 len, u64 size)
{
	struct cb_nbd_request r;
	const char *why;
	int ret = request(0x25609513, flags, type, offset, len, size, &r, &why);

	tap_check(!ret && !r.error && r.flags == flags && r.type == type &&
		  r.handle == HANDLE && r.offset == offset && r.len == len,
		  "%s served", what);
}

/* A request answered with `error` while the connection goes on. */
static void refused(const char *what, u16 flags, u16 type, u64 offset, u32 len,
		    u64 size, u32 error)
{
	struct cb_nbd_request r;
	const char *why;
	int ret = request(0x25609513, flags, type, offset, len, size, &r, &why);

	tap_check(!ret && r.error == error && r.type == type && r.handle == HANDLE &&
		  r.len == len, "%s answered with error %u (got %d, %u)",
		  what, error, ret, r.error);
}

/* A request after which the stream cannot be followed. */
static void fatal(const char *what, u32 magic, u16 type, u32 len, const char *want)
{
	struct cb_nbd_request r;
	const char *why;
	int ret = request(magic, 0, type, 0, len, 1ULL << 40, &r, &why);

	tap_check(ret == -EPROTO && has(why, want), "%s ends the connection: %s",
		  what, why ? why : "(accepted)");
}

static void client_side(void)
{
	static const u8 export_name_opt[] = {
		'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0, 0, 0, 1, 0, 0, 1, 2,
	};
	static const u8 write_req[] = {
		0x25, 0x60, 0x95, 0x13, 0, 1, 0, 1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0,
	};
	u8 buf[64], greeting[CB_NBD_GREETING_SIZE], flags_buf[4];
	struct cb_nbd_request r;
	const char *why = NULL;
	u32 error, cflags = 0;
	u64 handle, size;
	u16 flags;
	int ret;

	cb_nbd_greeting(greeting);
	ret = cb_nbd_parse_greeting(greeting, &flags, &why);
	tap_check(!ret && flags == (CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES),
		  "client: the server's own greeting parses, with its flags");
	greeting[0] ^= 1;
	why = NULL;
	tap_check(cb_nbd_parse_greeting(greeting, &flags, &why) == -EPROTO &&
		  has(why, "not a newstyle"), "client: a greeting with a bad magic is refused");
	cb_nbd_greeting(greeting);
	be(greeting + 8, 0x0000420281861253ULL, 8);
	why = NULL;
	tap_check(cb_nbd_parse_greeting(greeting, &flags, &why) == -EPROTO &&
		  has(why, "not a newstyle"), "client: an oldstyle greeting is refused");
	cb_nbd_greeting(greeting);
	be(greeting + 16, CB_NBD_FLAG_NO_ZEROES, 2);
	why = NULL;
	tap_check(cb_nbd_parse_greeting(greeting, &flags, &why) == -EPROTO &&
		  has(why, "fixed newstyle"), "client: a server without fixed newstyle is refused");

	cb_nbd_client_flags(flags_buf, CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES);
	why = NULL;
	tap_check(!cb_nbd_parse_client_flags(flags_buf, &cflags, &why) &&
		  cflags == (CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES),
		  "client: its flags parse on the server's side");

	memset(buf, 0xee, sizeof(buf));
	cb_nbd_export_name_option(buf, 0x102);
	tap_check(!memcmp(buf, export_name_opt, sizeof(export_name_opt)) &&
		  buf[sizeof(export_name_opt)] == 0xee,
		  "client: NBD_OPT_EXPORT_NAME header: IHAVEOPT, option 1, name length");

	cb_nbd_export_name_reply(buf, 0x0102030405060708ULL,
				 CB_NBD_FLAG_HAS_FLAGS | CB_NBD_FLAG_SEND_FLUSH);
	why = NULL;
	ret = cb_nbd_parse_export_name_reply(buf, &size, &flags, &why);
	tap_check(!ret && size == 0x0102030405060708ULL &&
		  flags == (CB_NBD_FLAG_HAS_FLAGS | CB_NBD_FLAG_SEND_FLUSH),
		  "client: the server's export reply gives back size and flags");
	cb_nbd_export_name_reply(buf, 1 << 20, CB_NBD_FLAG_SEND_FLUSH);
	why = NULL;
	tap_check(cb_nbd_parse_export_name_reply(buf, &size, &flags, &why) == -EPROTO &&
		  has(why, "HAS_FLAGS"), "client: export flags without HAS_FLAGS are refused");

	memset(buf, 0xee, sizeof(buf));
	cb_nbd_request(buf, CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_WRITE, HANDLE, 1ULL << 32, 1 << 20);
	tap_check(!memcmp(buf, write_req, sizeof(write_req)) && buf[sizeof(write_req)] == 0xee,
		  "client: WRITE request: magic, flags, type, handle, offset, length");
	why = NULL;
	ret = cb_nbd_parse_request(buf, 8ULL << 30, &r, &why);
	tap_check(!ret && !r.error && r.type == CB_NBD_CMD_WRITE && r.flags == CB_NBD_CMD_FLAG_FUA &&
		  r.handle == HANDLE && r.offset == 1ULL << 32 && r.len == 1 << 20,
		  "client: its WRITE request is served by the server's parser as sent");
	cb_nbd_request(buf, 0, CB_NBD_CMD_FLUSH, 7, 0, 0);
	why = NULL;
	ret = cb_nbd_parse_request(buf, 1 << 20, &r, &why);
	tap_check(!ret && !r.error && r.type == CB_NBD_CMD_FLUSH && r.handle == 7,
		  "client: its FLUSH request is served");

	cb_nbd_reply(buf, CB_NBD_ENOSPC, HANDLE);
	why = NULL;
	ret = cb_nbd_parse_reply(buf, &error, &handle, &why);
	tap_check(!ret && error == CB_NBD_ENOSPC && handle == HANDLE,
		  "client: the server's reply gives back error and handle");
	be(buf, 0x668e33efU, 4);	/* the structured reply magic, never negotiated */
	why = NULL;
	tap_check(cb_nbd_parse_reply(buf, &error, &handle, &why) == -EPROTO &&
		  has(why, "bad reply magic"), "client: a structured reply is refused");
}

int main(void)
{
	static const u8 greeting[CB_NBD_GREETING_SIZE] = {
		'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',
		'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0x00, 0x03,
	};
	static const u8 opt_reply[CB_NBD_OPT_REPLY_SIZE] = {
		0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9,
		0x00, 0x00, 0x00, 0x07, 0x80, 0x00, 0x00, 0x06,
		0x00, 0x00, 0x01, 0x02,
	};
	static const u8 info_export[CB_NBD_INFO_EXPORT_SIZE] = {
		0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x80, 0xfe,
	};
	static const u8 export_name[CB_NBD_EXPORT_NAME_REPLY_SIZE] = {
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x6d,
	};
	static const u8 reply[CB_NBD_REPLY_SIZE] = {
		0x67, 0x44, 0x66, 0x98, 0x00, 0x00, 0x00, 0x1c,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	};
	static const u16 two_info[] = { 0, 3 };
	/* the transmission flags a server with flush, FUA, trim and zeroes sends */
	const u16 tflags = CB_NBD_FLAG_HAS_FLAGS | CB_NBD_FLAG_SEND_FLUSH |
			   CB_NBD_FLAG_SEND_FUA | CB_NBD_FLAG_SEND_TRIM |
			   CB_NBD_FLAG_SEND_WRITE_ZEROES | CB_NBD_FLAG_CAN_MULTI_CONN;
	const u64 size = 64 * MiB;
	struct cb_nbd_option o;
	struct cb_nbd_request r;
	struct cb_nbd_go go;
	const char *why;
	u8 buf[CB_NBD_MAX_OPT_LEN + 64];
	u32 len;
	int ret;

	memset(buf, 0xee, sizeof(buf));
	cb_nbd_greeting(buf);
	tap_check(!memcmp(buf, greeting, sizeof(greeting)) && buf[sizeof(greeting)] == 0xee,
		  "greeting: NBDMAGIC, IHAVEOPT, fixed newstyle and no zeroes, 18 bytes");

	client_flags(CB_NBD_FLAG_FIXED_NEWSTYLE, 0, NULL);
	client_flags(CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES, 0, NULL);
	client_flags(0, -EPROTO, "does not speak fixed newstyle");
	client_flags(CB_NBD_FLAG_NO_ZEROES, -EPROTO, "does not speak fixed newstyle");
	client_flags(4, -EPROTO, "unknown client flags");
	client_flags(0x80000001, -EPROTO, "unknown client flags");

	ret = option(0x49484156454f5054ULL, CB_NBD_OPT_GO, 11, &o, &why);
	tap_check(!ret && o.option == CB_NBD_OPT_GO && o.len == 11, "option header decoded");
	ret = option(0x49484156454f5055ULL, CB_NBD_OPT_GO, 11, &o, &why);
	tap_check(ret == -EPROTO && has(why, "bad option magic"), "option with a bad magic refused");
	ret = option(0x49484156454f5054ULL, 0xdeadbeef, CB_NBD_MAX_OPT_LEN, &o, &why);
	tap_check(!ret && o.option == 0xdeadbeef && o.len == 4096,
		  "unknown option with 4096 bytes of data decoded (the server skips it)");
	ret = option(0x49484156454f5054ULL, CB_NBD_OPT_INFO, CB_NBD_MAX_OPT_LEN + 1, &o, &why);
	tap_check(ret == -EPROTO && has(why, "too long"), "option with 4097 bytes of data refused");
	ret = option(0x49484156454f5054ULL, CB_NBD_OPT_INFO, ~0U, &o, &why);
	tap_check(ret == -EPROTO && has(why, "too long"), "option with 2^32-1 bytes of data refused");

	len = go_data(buf, 5, "disk0", 0, NULL, 0);
	ret = cb_nbd_parse_go(buf, len, &go, &why);
	tap_check(!ret && len == 11 && go.name_len == 5 && go.name == (char *)buf + 4 &&
		  !memcmp(go.name, "disk0", 5), "NBD_OPT_GO for disk0, no info requests");
	len = go_data(buf, 5, "disk0", 0, NULL, 0);
	buf[4 + 3] = '\0';
	go_refused("a NUL in the export name", buf, len, "NUL");
	len = go_data(buf, 5, "disk0", 2, two_info, 0);
	ret = cb_nbd_parse_go(buf, len, &go, &why);
	tap_check(!ret && len == 15 && go.name_len == 5 && !memcmp(go.name, "disk0", 5),
		  "NBD_OPT_GO for disk0 with two info requests");
	len = go_data(buf, 0, "", 0, NULL, 0);
	ret = cb_nbd_parse_go(buf, len, &go, &why);
	tap_check(!ret && len == 6 && !go.name_len, "NBD_OPT_GO for the default (empty) name");
	len = go_data(buf, 6, "disk0", 0, NULL, 0);
	go_refused("name length one past the data", buf, len, "longer than the option data");
	len = go_data(buf, ~0U, "disk0", 0, NULL, 0);
	go_refused("name length 2^32-1", buf, len, "longer than the option data");
	len = go_data(buf, 5, "disk0", 0, NULL, 1);
	go_refused("a trailing byte", buf, len, "do not fill");
	len = go_data(buf, 5, "disk0", 2, two_info, 2);
	go_refused("a third info request the count does not cover", buf, len, "do not fill");
	len = go_data(buf, 5, "disk0", 0, NULL, 0);
	buf[4 + 3] = '\0';
	go_refused("a NUL in the export name", buf, len, "NUL");
	len = go_data(buf, 5, "disk0", 2, two_info, 0);
	go_refused("an info count of two with one info request", buf, len - 2, "do not fill");
	go_refused("5 bytes of data", buf, 5, "shorter than");
	go_refused("no data", buf, 0, "shorter than");

	memset(buf, 0xee, sizeof(buf));
	cb_nbd_option_reply(buf, CB_NBD_OPT_GO, CB_NBD_REP_ERR_UNKNOWN, 0x102);
	tap_check(!memcmp(buf, opt_reply, sizeof(opt_reply)) && buf[sizeof(opt_reply)] == 0xee,
		  "option reply: magic, option, type, length, big-endian");
	memset(buf, 0xee, sizeof(buf));
	/* bit 0 clear and bit 15 set, so that a bit added or lost shows */
	cb_nbd_info_export(buf, 0x0102030405060708ULL, 0x80fe);
	tap_check(!memcmp(buf, info_export, sizeof(info_export)) &&
		  buf[sizeof(info_export)] == 0xee,
		  "NBD_INFO_EXPORT: type 0, size, transmission flags");
	memset(buf, 0xee, sizeof(buf));
	cb_nbd_export_name_reply(buf, 1ULL << 34, tflags);
	tap_check(!memcmp(buf, export_name, sizeof(export_name)) &&
		  buf[sizeof(export_name)] == 0xee,
		  "NBD_OPT_EXPORT_NAME reply: size and flags, 10 bytes");
	memset(buf, 0xee, sizeof(buf));
	cb_nbd_reply(buf, CB_NBD_ENOSPC, HANDLE);
	tap_check(!memcmp(buf, reply, sizeof(reply)) && buf[sizeof(reply)] == 0xee,
		  "simple reply: magic, error, handle");

	served("WRITE with FUA", CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_WRITE, 4096, 8192, size);
	served("READ of a sector", 0, CB_NBD_CMD_READ, 0, 512, size);
	served("READ with FUA (a no-op, but allowed)", CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_READ,
	       512, 512, size);
	served("FLUSH", 0, CB_NBD_CMD_FLUSH, 0, 0, size);
	served("FLUSH with FUA", CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_FLUSH, 0, 0, size);
	served("TRIM", 0, CB_NBD_CMD_TRIM, MiB, MiB, size);
	served("WRITE_ZEROES with NO_HOLE and FUA",
	       CB_NBD_CMD_FLAG_NO_HOLE | CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_WRITE_ZEROES,
	       0, 4096, size);
	served("DISC", 0, CB_NBD_CMD_DISC, 0, 0, size);
	served("WRITE of exactly 32 MiB", 0, CB_NBD_CMD_WRITE, 0, CB_NBD_MAX_REQUEST, size);
	served("READ of exactly 32 MiB", 0, CB_NBD_CMD_READ, 32 * MiB, CB_NBD_MAX_REQUEST, size);
	/* no data follows a TRIM or WRITE_ZEROES: only the export bounds it */
	served("TRIM of the whole 4 GiB export", 0, CB_NBD_CMD_TRIM, 0, 0xfffffe00U, 4ULL << 30);
	served("WRITE_ZEROES up to the end", 0, CB_NBD_CMD_WRITE_ZEROES, size - 4096, 4096, size);
	served("WRITE of the last sector", 0, CB_NBD_CMD_WRITE, size - 512, 512, size);
	served("READ of the last full sector of a 1000-byte export", 0, CB_NBD_CMD_READ,
	       0, 512, 1000);

	fatal("bad request magic", 0x25609514, CB_NBD_CMD_READ, 512, "bad request magic");
	fatal("reply magic as a request", 0x67446698, CB_NBD_CMD_READ, 512, "bad request magic");
	fatal("WRITE of 32 MiB + 512", 0x25609513, CB_NBD_CMD_WRITE, CB_NBD_MAX_REQUEST + 512,
	      "longer than 32 MiB");
	fatal("WRITE of 4 GiB - 512", 0x25609513, CB_NBD_CMD_WRITE, 0xfffffe00U,
	      "longer than 32 MiB");
	ret = request(0x12345678, CB_NBD_CMD_FLAG_FUA, CB_NBD_CMD_WRITE, 512, 512, size, &r, &why);
	tap_check(ret == -EPROTO && !r.flags && !r.type && !r.handle && !r.len && !r.error,
		  "a request with a bad magic leaves nothing decoded");

	/* no data follows a READ, so an oversized one is refused, not fatal */
	refused("READ of 32 MiB + 512", 0, CB_NBD_CMD_READ, 0, CB_NBD_MAX_REQUEST + 512,
		1ULL << 30, CB_NBD_EINVAL);
	refused("command 5 (CACHE, not offered)", 0, 5, 0, 512, size, CB_NBD_EINVAL);
	refused("command 7 (BLOCK_STATUS, not offered)", 0, 7, 0, 512, size, CB_NBD_EINVAL);
	refused("command 0xffff", 0, 0xffff, 0, 512, size, CB_NBD_EINVAL);
	refused("READ with flag bit 2 (DF, not offered)", 1U << 2, CB_NBD_CMD_READ,
		0, 512, size, CB_NBD_EINVAL);
	refused("WRITE with flag bit 15", 1U << 15, CB_NBD_CMD_WRITE, 0, 512, size,
		CB_NBD_EINVAL);
	refused("FLUSH with flag bit 4 (FAST_ZERO)", 1U << 4, CB_NBD_CMD_FLUSH, 0, 0, size,
		CB_NBD_EINVAL);
	refused("DISC with NO_HOLE", CB_NBD_CMD_FLAG_NO_HOLE, CB_NBD_CMD_DISC, 0, 0, size,
		CB_NBD_EINVAL);
	refused("WRITE with NO_HOLE", CB_NBD_CMD_FLAG_NO_HOLE, CB_NBD_CMD_WRITE, 0, 512, size,
		CB_NBD_EINVAL);
	refused("READ with NO_HOLE", CB_NBD_CMD_FLAG_NO_HOLE, CB_NBD_CMD_READ, 0, 512, size,
		CB_NBD_EINVAL);
	refused("WRITE_ZEROES with flag bit 2", 1U << 2, CB_NBD_CMD_WRITE_ZEROES, 0, 512, size,
		CB_NBD_EINVAL);
	refused("TRIM with NO_HOLE", CB_NBD_CMD_FLAG_NO_HOLE, CB_NBD_CMD_TRIM, 0, 512, size,
		CB_NBD_EINVAL);
	refused("WRITE at offset 100", 0, CB_NBD_CMD_WRITE, 100, 512, size, CB_NBD_EINVAL);
	refused("WRITE of 513 bytes", 0, CB_NBD_CMD_WRITE, 0, 513, size, CB_NBD_EINVAL);
	refused("TRIM of 100 bytes", 0, CB_NBD_CMD_TRIM, 512, 100, size, CB_NBD_EINVAL);
	refused("READ of 0 bytes", 0, CB_NBD_CMD_READ, 0, 0, size, CB_NBD_EINVAL);
	refused("WRITE_ZEROES of 0 bytes", 0, CB_NBD_CMD_WRITE_ZEROES, 0, 0, size, CB_NBD_EINVAL);
	/* misaligned is not "beyond the end": alignment is checked first */
	refused("misaligned WRITE beyond the end", 0, CB_NBD_CMD_WRITE, size + 1, 512, size,
		CB_NBD_EINVAL);

	refused("WRITE across the end", 0, CB_NBD_CMD_WRITE, size - 512, 1024, size,
		CB_NBD_ENOSPC);
	refused("WRITE at the end", 0, CB_NBD_CMD_WRITE, size, 512, size, CB_NBD_ENOSPC);
	refused("WRITE past the end", 0, CB_NBD_CMD_WRITE, size + 512, 512, size, CB_NBD_ENOSPC);
	refused("WRITE whose end wraps around 2^64", 0, CB_NBD_CMD_WRITE, ~0ULL - 511, 1024,
		size, CB_NBD_ENOSPC);
	refused("WRITE_ZEROES across the end", 0, CB_NBD_CMD_WRITE_ZEROES, size - 512, 4096,
		size, CB_NBD_ENOSPC);
	refused("WRITE_ZEROES whose end wraps around 2^64", 0, CB_NBD_CMD_WRITE_ZEROES,
		~0ULL - 511, 1024, size, CB_NBD_ENOSPC);
	refused("WRITE to an empty export", 0, CB_NBD_CMD_WRITE, 0, 512, 0, CB_NBD_ENOSPC);
	/* the protocol's answer to a read or trim past the end is EINVAL */
	refused("READ of the partial last sector of a 1000-byte export", 0, CB_NBD_CMD_READ,
		512, 512, 1000, CB_NBD_EINVAL);
	refused("READ whose end wraps around 2^64", 0, CB_NBD_CMD_READ, ~0ULL - 511, 1024,
		size, CB_NBD_EINVAL);
	refused("TRIM at the end", 0, CB_NBD_CMD_TRIM, size, 512, size, CB_NBD_EINVAL);
	/* too long is what it is, whatever else is wrong with it */
	refused("READ of 32 MiB + 512 from a 1 MiB export", 0, CB_NBD_CMD_READ, 0,
		CB_NBD_MAX_REQUEST + 512, MiB, CB_NBD_EINVAL);

	client_side();
	return tap_done();
}
