// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of colod's agent-to-agent protocol: every message type through
 * encode and parse, the refusals of malformed headers and bodies, and the
 * receiver's session refusing every message that comes out of order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colod/proto.h"

#define PS 4096U			/* page size of the tests */
#define RAM_PAGES 16U

static unsigned char buf[COLO_HDR_SIZE + COLO_MSG_MAX_BODY + 1];

static struct colo_hello hello_of(enum colo_role role)
{
	struct colo_hello h = {
		.name = "web-1",
		.role = role,
		.ram_bytes = RAM_PAGES * PS,
		.disk_bytes = 1 << 20,
		.page_size = PS,
	};

	return h;
}

/* Writes a raw header, as a broken or hostile peer may. */
static void put_hdr(unsigned char *p, uint32_t magic, uint16_t version, uint16_t type,
		    uint32_t body_len)
{
	p[0] = magic >> 24;
	p[1] = magic >> 16;
	p[2] = magic >> 8;
	p[3] = magic;
	p[4] = version >> 8;
	p[5] = version;
	p[6] = type >> 8;
	p[7] = type;
	p[8] = body_len >> 24;
	p[9] = body_len >> 16;
	p[10] = body_len >> 8;
	p[11] = body_len;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, v >> 32);
	put_u32(p + 4, v);
}

static size_t encode(const struct colo_msg *m)
{
	const char *why = NULL;
	int n = colo_msg_encode(buf, sizeof(buf), m, &why);

	if (n < 0) {
		tap_check(0, "encode %s: %s", colo_msg_type_name(m->type), why);
		exit(tap_done());
	}
	return n;
}

/* Encodes a PAGES message whose page i is filled with byte i + 1. */
static size_t encode_pages(uint64_t id, const uint64_t *idx, uint32_t count)
{
	int n = colo_pages_encode_head(buf, sizeof(buf), id, idx, count, PS, NULL);
	uint32_t i;

	if (n < 0) {
		tap_check(0, "encode PAGES head");
		exit(tap_done());
	}
	for (i = 0; i < count; i++)
		memset(buf + n + (size_t)i * PS, i + 1, PS);
	return n + (size_t)count * PS;
}

static int parse(size_t len, struct colo_msg *m, size_t *consumed, const char **why)
{
	*why = NULL;
	return colo_msg_parse(buf, len, PS, m, consumed, why);
}

static void bad(size_t len, int want_err, const char *want_why, const char *what)
{
	struct colo_msg m;
	size_t consumed = 1;
	const char *why;
	int ret = parse(len, &m, &consumed, &why);

	tap_check(ret == want_err && !consumed && why && strstr(why, want_why),
		  "%s refused: %d %s", what, ret, why ? why : "(accepted)");
}

static void test_round_trips(void)
{
	struct colo_msg in, out;
	const char *why;
	size_t n, consumed;
	uint64_t idx[3] = { 3, 9, 0x0102030405060708ULL };
	unsigned char state[100];

	memset(&in, 0, sizeof(in));
	in.type = COLO_MSG_HELLO;
	in.hello = hello_of(COLO_ROLE_PRIMARY);
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 85 && parse(n, &out, &consumed, &why) == 1 &&
		  consumed == n && out.type == COLO_MSG_HELLO &&
		  !strcmp(out.hello.name, "web-1") && out.hello.role == COLO_ROLE_PRIMARY &&
		  out.hello.ram_bytes == RAM_PAGES * PS && out.hello.disk_bytes == 1 << 20 &&
		  out.hello.page_size == PS, "HELLO round trip");
	tap_check(!memcmp(buf, "COLO\0\1\0\1\0\0\0\x55web-1\0", 18),
		  "HELLO wire bytes: magic, version, type, length, padded name");

	in.type = COLO_MSG_CKPT_BEGIN;
	in.begin = (struct colo_ckpt_begin){ .ckpt_id = 1ULL << 40, .reason = COLO_CKPT_DISK,
					     .pages = 12345, .devstate_bytes = COLO_DEVSTATE_MAX };
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 28 && parse(n, &out, &consumed, &why) == 1 &&
		  consumed == n && out.type == COLO_MSG_CKPT_BEGIN &&
		  out.begin.ckpt_id == 1ULL << 40 && out.begin.reason == COLO_CKPT_DISK &&
		  out.begin.pages == 12345 && out.begin.devstate_bytes == COLO_DEVSTATE_MAX,
		  "CKPT_BEGIN round trip");

	n = encode_pages(7, idx, 3);
	tap_check(parse(n, &out, &consumed, &why) == 1 && consumed == n &&
		  out.type == COLO_MSG_PAGES && out.pages.ckpt_id == 7 && out.pages.count == 3 &&
		  out.pages.page_size == PS && colo_pages_index(&out.pages, 0) == 3 &&
		  colo_pages_index(&out.pages, 1) == 9 &&
		  colo_pages_index(&out.pages, 2) == 0x0102030405060708ULL,
		  "PAGES round trip: ids, count, indices in host order");
	tap_check(out.pages.indices == buf + 24 && out.pages.data == buf + 48 &&
		  colo_pages_page(&out.pages, 2) == buf + 48 + 2 * PS &&
		  colo_pages_page(&out.pages, 2)[PS - 1] == 3,
		  "PAGES decoding points into the buffer");
	/* The indices at an odd address: the accessor must not assume alignment. */
	memmove(buf + 1, buf, n);
	tap_check(colo_msg_parse(buf + 1, n, PS, &out, &consumed, &why) == 1 &&
		  colo_pages_index(&out.pages, 2) == 0x0102030405060708ULL,
		  "PAGES indices read unaligned");

	memset(state, 0xab, sizeof(state));
	in.type = COLO_MSG_DEVSTATE;
	in.devstate = (struct colo_devstate){ .ckpt_id = 7, .len = sizeof(state) };
	n = encode(&in);
	memcpy(buf + n, state, sizeof(state));
	tap_check(n == COLO_HDR_SIZE + 8 &&
		  parse(n + sizeof(state), &out, &consumed, &why) == 1 &&
		  consumed == n + sizeof(state) && out.devstate.ckpt_id == 7 &&
		  out.devstate.len == sizeof(state) && out.devstate.data == buf + n,
		  "DEVSTATE round trip, head encoded apart from the state");

	in.type = COLO_MSG_CKPT_END;
	in.end_ckpt_id = 7;
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 8 && parse(n, &out, &consumed, &why) == 1 &&
		  out.type == COLO_MSG_CKPT_END && out.end_ckpt_id == 7, "CKPT_END round trip");

	in.type = COLO_MSG_ACK;
	in.ack = (struct colo_ack){ .ckpt_id = 7, .status = EIO, .apply_ns = 123456789 };
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 20 && parse(n, &out, &consumed, &why) == 1 &&
		  out.type == COLO_MSG_ACK && out.ack.ckpt_id == 7 && out.ack.status == EIO &&
		  out.ack.apply_ns == 123456789, "ACK round trip");

	in.type = COLO_MSG_PING;
	in.time_ns = 0xfedcba9876543210ULL;
	n = encode(&in);
	tap_check(parse(n, &out, &consumed, &why) == 1 && out.type == COLO_MSG_PING &&
		  out.time_ns == 0xfedcba9876543210ULL, "PING round trip");
	in.type = COLO_MSG_PONG;
	n = encode(&in);
	tap_check(parse(n, &out, &consumed, &why) == 1 && out.type == COLO_MSG_PONG &&
		  out.time_ns == 0xfedcba9876543210ULL, "PONG round trip");

	in.type = COLO_MSG_REQUEST;
	in.request_reason = COLO_CKPT_DISK;
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 4 && parse(n, &out, &consumed, &why) == 1 &&
		  out.type == COLO_MSG_REQUEST && out.request_reason == COLO_CKPT_DISK,
		  "REQUEST round trip");

	in.type = COLO_MSG_HANDOVER;
	in.handover_ckpt_id = 99;
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 8 && parse(n, &out, &consumed, &why) == 1 &&
		  out.type == COLO_MSG_HANDOVER && out.handover_ckpt_id == 99,
		  "HANDOVER round trip");

	in.type = COLO_MSG_REPLICA;
	in.replica_ckpt_id = 1ULL << 33;
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + 8 && parse(n, &out, &consumed, &why) == 1 &&
		  out.type == COLO_MSG_REPLICA && out.replica_ckpt_id == 1ULL << 33 &&
		  !memcmp(buf, "COLO\0\1\0\x0c\0\0\0\x08\0\0\0\x02", 16),
		  "REPLICA round trip and wire bytes");

	in.type = COLO_MSG_ERROR;
	strcpy(in.error, "disk size differs: 10 GiB here, 20 GiB there");
	n = encode(&in);
	tap_check(n == COLO_HDR_SIZE + strlen(in.error) &&
		  parse(n, &out, &consumed, &why) == 1 && out.type == COLO_MSG_ERROR &&
		  !strcmp(out.error, in.error), "ERROR round trip");
	memset(in.error, 'x', COLO_ERROR_MAX);
	in.error[COLO_ERROR_MAX] = '\0';
	n = encode(&in);
	tap_check(parse(n, &out, &consumed, &why) == 1 && strlen(out.error) == COLO_ERROR_MAX,
		  "ERROR of the longest text");
}

static void test_partial(void)
{
	struct colo_msg m;
	const char *why;
	size_t n, k, consumed;
	uint64_t idx[2] = { 1, 2 };
	int all_zero = 1;

	memset(&m, 0, sizeof(m));
	m.type = COLO_MSG_HELLO;
	m.hello = hello_of(COLO_ROLE_SECONDARY);
	n = encode(&m);
	for (k = 0; k < n; k++) {
		consumed = 1;
		if (colo_msg_parse(buf, k, PS, &m, &consumed, &why) != 0 || consumed)
			all_zero = 0;
	}
	tap_check(all_zero && parse(n, &m, &consumed, &why) == 1 && consumed == n,
		  "HELLO split at every byte: 0 until complete, then 1");

	n = encode_pages(1, idx, 2);
	all_zero = 1;
	for (k = 0; k < n; k++) {
		consumed = 1;
		if (colo_msg_parse(buf, k, PS, &m, &consumed, &why) != 0 || consumed)
			all_zero = 0;
	}
	tap_check(all_zero && parse(n, &m, &consumed, &why) == 1 && consumed == n,
		  "PAGES split at every byte: 0 until complete, then 1");

	/* Two messages back to back: the first is consumed alone. */
	m.type = COLO_MSG_PING;
	m.time_ns = 5;
	n = encode(&m);
	memcpy(buf + n, buf, n);
	tap_check(parse(2 * n, &m, &consumed, &why) == 1 && consumed == n,
		  "a message followed by another consumes only itself");
}

static void test_header_refusals(void)
{
	struct colo_hdr h;
	struct colo_msg m;
	size_t consumed;
	const char *why = NULL;

	memcpy(buf, "GET / HTTP/1.1\r\n", 16);
	bad(16, -EPROTO, "bad magic", "an HTTP request");
	bad(1, -EPROTO, "bad magic", "a first byte that is not the magic's");
	put_hdr(buf, COLO_PROTO_MAGIC, 2, COLO_MSG_PING, 8);
	bad(12, -EPROTO, "version 2 not supported (this agent speaks 1)", "version 2");
	put_hdr(buf, COLO_PROTO_MAGIC, 0, COLO_MSG_PING, 8);
	bad(12, -EPROTO, "version 0 not supported", "version 0");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, 0, 8);
	bad(12, -EPROTO, "unknown message type 0", "type 0");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_TYPE_MAX + 1, 8);
	bad(12, -EPROTO, "unknown message type 13", "type 13");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PAGES, COLO_MSG_MAX_BODY + 1);
	bad(12, -EMSGSIZE, "PAGES body of 1050637 bytes, more than 1050636",
	    "PAGES over the largest body, from the header alone");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PAGES, 0xffffffff);
	bad(12, -EMSGSIZE, "more than", "a 4 GiB body");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_DEVSTATE, 8 + COLO_DEVSTATE_CHUNK + 1);
	bad(12, -EMSGSIZE, "DEVSTATE body", "DEVSTATE over one chunk");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_HELLO, 86);
	bad(12, -EMSGSIZE, "HELLO body of 86 bytes", "HELLO one byte too long");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_ERROR, COLO_ERROR_MAX + 1);
	bad(12, -EMSGSIZE, "ERROR body of 201 bytes", "ERROR text too long");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_HELLO, 84);
	bad(12, -EPROTO, "HELLO body of 84 bytes, less than 85", "HELLO one byte short");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_ACK, 8);
	bad(12, -EPROTO, "ACK body of 8 bytes, less than 20", "ACK truncated");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_DEVSTATE, 8);
	bad(12, -EPROTO, "DEVSTATE body of 8 bytes, less than 9", "DEVSTATE without state");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_ERROR, 0);
	bad(12, -EPROTO, "ERROR body of 0 bytes", "ERROR without text");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PAGES, 12);
	bad(12, -EPROTO, "PAGES body of 12 bytes", "PAGES without a page");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_REQUEST, 8);
	bad(12, -EMSGSIZE, "REQUEST body of 8 bytes", "REQUEST too long");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_REPLICA, 4);
	bad(12, -EPROTO, "REPLICA body of 4 bytes, less than 8", "REPLICA truncated");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_DEVSTATE, 8 + COLO_DEVSTATE_CHUNK);
	tap_check(colo_msg_hdr_parse(buf, 12, &h, &why) == 1 && h.type == COLO_MSG_DEVSTATE &&
		  h.body_len == 8 + COLO_DEVSTATE_CHUNK, "header of the largest DEVSTATE");
	tap_check(colo_msg_hdr_parse(buf, 11, &h, &why) == 0, "header of 11 bytes: needs more");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PING, 8);
	tap_check(colo_msg_parse(buf, 20, 0, &m, &consumed, &why) == -EINVAL &&
		  strstr(why, "page size 0"), "parse with page size 0: %s", why);
}

/* A HELLO body at buf + 12 to break in place. */
static void raw_hello(void)
{
	struct colo_msg m = { .type = COLO_MSG_HELLO, .hello = hello_of(COLO_ROLE_PRIMARY) };

	encode(&m);
}

static void test_body_refusals(void)
{
	unsigned char *body = buf + COLO_HDR_SIZE;
	const size_t hello_len = COLO_HDR_SIZE + 85;
	uint64_t idx[2] = { 1, 2 };
	size_t n;

	raw_hello();
	body[0] = '\0';
	bad(hello_len, -EBADMSG, "VM name is empty", "empty name");
	raw_hello();
	body[2] = '/';
	bad(hello_len, -EBADMSG, "VM name has byte 0x2f", "name with '/'");
	raw_hello();
	body[3] = 0xc3;
	bad(hello_len, -EBADMSG, "VM name has byte 0xc3", "name with a non-ASCII byte");
	raw_hello();
	memset(body, 'a', 64);
	bad(hello_len, -EBADMSG, "longer than 63", "64-byte name without NUL");
	raw_hello();
	body[40] = 'x';
	bad(hello_len, -EBADMSG, "not NUL-padded", "junk after the name's NUL");
	raw_hello();
	body[64] = 3;
	bad(hello_len, -EBADMSG, "role 3 is neither", "role 3");
	raw_hello();
	put_u32(body + 81, 3000);
	bad(hello_len, -EBADMSG, "page size 3000 is not a power of two", "page size 3000");
	raw_hello();
	put_u32(body + 81, 8192);
	bad(hello_len, -EBADMSG, "page size 8192", "page size 8192");
	raw_hello();
	put_u64(body + 65, 4097);
	bad(hello_len, -EBADMSG, "RAM size 4097 is not", "RAM not a multiple of pages");
	raw_hello();
	put_u64(body + 65, 0);
	bad(hello_len, -EBADMSG, "RAM size 0 is not", "no RAM");
	raw_hello();
	put_u64(body + 73, 1000);
	bad(hello_len, -EBADMSG, "disk size 1000", "disk not in sectors");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_CKPT_BEGIN, 28);
	memset(body, 0, 28);
	put_u32(body + 8, COLO_CKPT_TIMER);
	bad(40, -EBADMSG, "checkpoint id 0", "CKPT_BEGIN id 0");
	put_u64(body, 1);
	put_u32(body + 8, 8);
	bad(40, -EBADMSG, "unknown reason 8", "CKPT_BEGIN reason 8");
	put_u32(body + 8, 0);
	bad(40, -EBADMSG, "unknown reason 0", "CKPT_BEGIN reason 0");
	put_u32(body + 8, COLO_CKPT_FIRST_SYNC);
	put_u64(body + 20, COLO_DEVSTATE_MAX + 1);
	bad(40, -EBADMSG, "67108865 bytes of device state", "CKPT_BEGIN over 64 MiB of state");

	n = encode_pages(1, idx, 2);
	put_u32(body + 8, 1);
	bad(n, -EBADMSG, "count 1 of 4096-byte pages needs a body of 4116 bytes, not 8220",
	    "PAGES count 1 with 2 pages");
	put_u32(body + 8, 3);
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PAGES, COLO_PAGES_BODY(3, PS) - 1);
	bad(n + PS + 7, -EBADMSG,
	    "count 3 of 4096-byte pages needs a body of 12324 bytes, not 12323",
	    "PAGES one byte short of its count");
	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_PAGES, COLO_PAGES_BODY(2, PS));
	put_u32(body + 8, 0);
	bad(n, -EBADMSG, "count 0 is not 1..256", "PAGES count 0");
	put_u32(body + 8, 257);
	bad(n, -EBADMSG, "count 257", "PAGES count 257");
	put_u32(body + 8, 0x80000001);
	bad(n, -EBADMSG, "count 2147483649", "PAGES count overflowing a 32-bit product");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_ACK, 20);
	memset(body, 0, 20);
	put_u32(body + 8, 0xffffffff);
	bad(32, -EBADMSG, "status -1", "ACK status -1");
	put_u32(body + 8, 4096);
	bad(32, -EBADMSG, "status 4096", "ACK status 4096");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_REQUEST, 4);
	put_u32(body, COLO_CKPT_TIMER);
	bad(16, -EBADMSG, "REQUEST: reason 1 is not one a secondary asks for",
	    "REQUEST for a timer checkpoint");

	put_hdr(buf, COLO_PROTO_MAGIC, 1, COLO_MSG_ERROR, 5);
	memcpy(body, "bad\ncat", 5);
	bad(17, -EBADMSG, "non-printable byte 0x0a at 3", "ERROR with a newline");
	memcpy(body, "ab\0cd", 5);
	bad(17, -EBADMSG, "non-printable byte 0x00 at 2", "ERROR with a NUL");
	memcpy(body, "caf\xc3\xa9", 5);
	bad(17, -EBADMSG, "non-printable byte 0xc3", "ERROR with UTF-8");
}

static void test_encode_refusals(void)
{
	struct colo_msg m = { .type = COLO_MSG_HELLO, .hello = hello_of(COLO_ROLE_PRIMARY) };
	uint64_t idx[1] = { 0 };
	const char *why = NULL;

	tap_check(colo_msg_encode(buf, 96, &m, &why) == -ENOSPC && strstr(why, "needs 97"),
		  "encode into a short buffer: %s", why);
	strcpy(m.hello.name, "a b");
	tap_check(colo_msg_encode(buf, sizeof(buf), &m, &why) == -EINVAL &&
		  strstr(why, "0x20"), "encode an invalid HELLO: %s", why);
	m.type = COLO_MSG_ERROR;
	strcpy(m.error, "tab\there");
	tap_check(colo_msg_encode(buf, sizeof(buf), &m, &why) == -EINVAL &&
		  strstr(why, "non-printable"), "encode a non-printable ERROR: %s", why);
	m.type = COLO_MSG_DEVSTATE;
	m.devstate.len = 0;
	tap_check(colo_msg_encode(buf, sizeof(buf), &m, &why) == -EINVAL,
		  "encode an empty DEVSTATE: %s", why);
	m.type = COLO_MSG_ACK;
	m.ack.status = -EIO;
	tap_check(colo_msg_encode(buf, sizeof(buf), &m, &why) == -EINVAL,
		  "encode an ACK with a negative status: %s", why);
	m.type = COLO_MSG_PAGES;
	tap_check(colo_msg_encode(buf, sizeof(buf), &m, &why) == -EINVAL &&
		  strstr(why, "colo_pages_encode_head"), "PAGES through colo_msg_encode: %s", why);
	tap_check(colo_pages_encode_head(buf, sizeof(buf), 1, idx, 0, PS, &why) == -EINVAL &&
		  colo_pages_encode_head(buf, sizeof(buf), 1, idx, 257, PS, &why) == -EINVAL &&
		  colo_pages_encode_head(buf, sizeof(buf), 1, idx, 1, 100, &why) == -EINVAL &&
		  colo_pages_encode_head(buf, 31, 1, idx, 1, PS, &why) == -ENOSPC,
		  "PAGES head with a bad count, page size or buffer");
	tap_check(!strcmp(colo_msg_type_name(COLO_MSG_CKPT_BEGIN), "CKPT_BEGIN") &&
		  !strcmp(colo_msg_type_name(0), "unknown") &&
		  !strcmp(colo_ckpt_reason_name(COLO_CKPT_FIRST_SYNC), "first-sync") &&
		  !strcmp(colo_ckpt_reason_name(99), "unknown"), "type and reason names");
}

/* Session helpers: messages are built by encoding and parsing them. */
static struct colo_session sess;
static struct colo_msg msg;

static int start(enum colo_role role)
{
	struct colo_hello local = hello_of(role);

	return colo_session_init(&sess, &local, NULL);
}

static int give(void)
{
	const char *why;
	size_t consumed;

	if (parse(sizeof(buf), &msg, &consumed, &why) != 1) {
		tap_check(0, "test message does not parse: %s", why);
		exit(tap_done());
	}
	return colo_session_accept(&sess, &msg, NULL);
}

static int hello(enum colo_role role)
{
	msg.type = COLO_MSG_HELLO;
	msg.hello = hello_of(role);
	encode(&msg);
	return give();
}

static int begin(uint64_t id, uint64_t pages, uint64_t devstate_bytes)
{
	msg.type = COLO_MSG_CKPT_BEGIN;
	msg.begin = (struct colo_ckpt_begin){ .ckpt_id = id, .reason = COLO_CKPT_TIMER,
					      .pages = pages, .devstate_bytes = devstate_bytes };
	encode(&msg);
	return give();
}

static int pages(uint64_t id, const uint64_t *idx, uint32_t count)
{
	encode_pages(id, idx, count);
	return give();
}

static int devstate(uint64_t id, uint32_t len)
{
	msg.type = COLO_MSG_DEVSTATE;
	msg.devstate = (struct colo_devstate){ .ckpt_id = id, .len = len };
	encode(&msg);
	return give();
}

static int simple(enum colo_msg_type type, uint64_t value)
{
	msg.type = type;
	if (type == COLO_MSG_CKPT_END)
		msg.end_ckpt_id = value;
	else
		msg.time_ns = value;
	encode(&msg);
	return give();
}

static int ack(uint64_t id, int32_t status)
{
	msg.type = COLO_MSG_ACK;
	msg.ack = (struct colo_ack){ .ckpt_id = id, .status = status, .apply_ns = 1000 };
	encode(&msg);
	return give();
}

static int request(void)
{
	msg.type = COLO_MSG_REQUEST;
	msg.request_reason = COLO_CKPT_DISK;
	encode(&msg);
	return give();
}

static int handover(uint64_t id)
{
	msg.type = COLO_MSG_HANDOVER;
	msg.handover_ckpt_id = id;
	encode(&msg);
	return give();
}

static int replica(uint64_t id)
{
	msg.type = COLO_MSG_REPLICA;
	msg.replica_ckpt_id = id;
	encode(&msg);
	return give();
}

static int error_msg(void)
{
	msg.type = COLO_MSG_ERROR;
	strcpy(msg.error, "stopping");
	encode(&msg);
	return give();
}

/* The last call was refused with a reason containing @want. */
static void refused(int ret, const char *want, const char *what)
{
	tap_check(ret == -EPROTO && sess.state == COLO_SESSION_FAILED && strstr(sess.why, want),
		  "%s refused: %s", what, ret ? sess.why : "(accepted)");
}

/* A secondary that has accepted the primary's HELLO and CKPT_BEGIN @id. */
static void open_ckpt(uint64_t id, uint64_t npages, uint64_t devstate_bytes)
{
	if (start(COLO_ROLE_SECONDARY) || hello(COLO_ROLE_PRIMARY) ||
	    begin(id, npages, devstate_bytes)) {
		tap_check(0, "set up checkpoint %llu", (unsigned long long)id);
		exit(tap_done());
	}
}

static void test_session_good(void)
{
	uint64_t a[2] = { 0, 2 }, b[1] = { 3 }, c[2] = { 4, RAM_PAGES - 1 };
	const char *why;
	int ok;

	ok = !start(COLO_ROLE_SECONDARY) && sess.state == COLO_SESSION_HELLO &&
	     sess.ram_pages == RAM_PAGES && !hello(COLO_ROLE_PRIMARY) &&
	     sess.state == COLO_SESSION_IDLE && !strcmp(sess.peer.name, "web-1");
	tap_check(ok, "secondary accepts the primary's HELLO");
	ok = !begin(8, 5, 3000) && sess.state == COLO_SESSION_CKPT_OPEN && sess.ckpt_id == 8 &&
	     !pages(8, a, 2) && !devstate(8, 1000) && !pages(8, b, 1) &&
	     !simple(COLO_MSG_PING, 1) && !devstate(8, 2000) && !pages(8, c, 2) &&
	     sess.pages_received == 5 && sess.devstate_received == 3000 &&
	     !simple(COLO_MSG_CKPT_END, 8) && sess.state == COLO_SESSION_IDLE &&
	     sess.last_ckpt_id == 8;
	tap_check(ok, "a checkpoint with pages and device state interleaved");
	ok = !begin(9, 0, 0) && !simple(COLO_MSG_CKPT_END, 9) && !begin(20, 1, 0) &&
	     !pages(20, a, 1) && !simple(COLO_MSG_PONG, 2) && !simple(COLO_MSG_CKPT_END, 20);
	tap_check(ok, "an empty checkpoint, then ids with a gap");
	ok = !error_msg() && sess.state == COLO_SESSION_CLOSED;
	tap_check(ok, "ERROR closes the session");
	ok = !start(COLO_ROLE_SECONDARY) && !hello(COLO_ROLE_PRIMARY) && !begin(3, 0, 0) &&
	     !simple(COLO_MSG_CKPT_END, 3) && !handover(3) && sess.state == COLO_SESSION_CLOSED;
	tap_check(ok, "HANDOVER from the last checkpoint closes the session");
	refused(simple(COLO_MSG_PING, 4), "PING after the peer's ERROR or HANDOVER",
		"PING after HANDOVER");
	refused(simple(COLO_MSG_PING, 3), "PING after the peer's ERROR", "PING after ERROR");

	ok = !start(COLO_ROLE_PRIMARY) && !hello(COLO_ROLE_SECONDARY) &&
	     !colo_session_expect_ack(&sess, 1, &why) && sess.state == COLO_SESSION_ACK_WAIT &&
	     !simple(COLO_MSG_PING, 5) && !ack(1, 0) && sess.state == COLO_SESSION_IDLE &&
	     !colo_session_expect_ack(&sess, 2, &why) && !ack(2, EIO) &&
	     sess.last_ckpt_id == 2;
	tap_check(ok, "primary: ACKs for the checkpoints sent, a failed one included");
	ok = !start(COLO_ROLE_PRIMARY) && !hello(COLO_ROLE_SECONDARY) && !request() &&
	     !colo_session_expect_ack(&sess, 1, &why) && !request() && !ack(1, 0) &&
	     sess.state == COLO_SESSION_IDLE;
	tap_check(ok, "primary: the secondary's REQUEST between and during checkpoints");
	ok = !start(COLO_ROLE_PRIMARY) && !hello(COLO_ROLE_SECONDARY) &&
	     !colo_session_expect_ack(&sess, 1, &why) && !ack(1, 0) && !replica(1) &&
	     sess.replica_ckpt_id == 1 && !colo_session_expect_ack(&sess, 2, &why) &&
	     !ack(2, 0) && !colo_session_expect_ack(&sess, 5, &why) && !replica(2) &&
	     sess.state == COLO_SESSION_ACK_WAIT && !ack(5, 0) && !replica(5) &&
	     sess.replica_ckpt_id == 5;
	tap_check(ok, "primary: REPLICA after each ACK, one while the next checkpoint is awaited");
	ok = !start(COLO_ROLE_PRIMARY) && !error_msg() && sess.state == COLO_SESSION_CLOSED;
	tap_check(ok, "ERROR before HELLO (the peer refused ours)");
}

static void test_session_refusals(void)
{
	struct colo_hello h;
	uint64_t i0[1] = { 0 }, i1[1] = { 1 }, i2[1] = { 2 }, down[2] = { 5, 3 };
	uint64_t same[2] = { 3, 3 }, last[1] = { RAM_PAGES - 1 }, beyond[1] = { RAM_PAGES };
	uint64_t huge[1] = { UINT64_MAX }, three[3] = { 1, 2, 3 };
	const char *why = NULL;
	int ret;

	start(COLO_ROLE_SECONDARY);
	refused(simple(COLO_MSG_PING, 1), "PING before HELLO", "PING before HELLO");
	refused(hello(COLO_ROLE_PRIMARY), "PING before HELLO",
		"anything after a refusal, with the first reason");
	start(COLO_ROLE_SECONDARY);
	refused(begin(1, 0, 0), "CKPT_BEGIN before HELLO", "CKPT_BEGIN before HELLO");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(hello(COLO_ROLE_PRIMARY), "second HELLO", "second HELLO");
	start(COLO_ROLE_SECONDARY);
	refused(hello(COLO_ROLE_SECONDARY), "the peer is secondary too", "two secondaries");

	start(COLO_ROLE_SECONDARY);
	msg.type = COLO_MSG_HELLO;
	msg.hello = hello_of(COLO_ROLE_PRIMARY);
	strcpy(msg.hello.name, "db-2");
	encode(&msg);
	refused(give(), "the peer replicates VM 'db-2', this agent 'web-1'", "another VM");
	start(COLO_ROLE_SECONDARY);
	msg.hello = hello_of(COLO_ROLE_PRIMARY);
	msg.hello.ram_bytes *= 2;
	encode(&msg);
	refused(give(), "the peer's VM has 131072 bytes of RAM, this one 65536", "other RAM size");
	start(COLO_ROLE_SECONDARY);
	msg.hello = hello_of(COLO_ROLE_PRIMARY);
	msg.hello.page_size = 2048;
	encode(&msg);
	refused(give(), "page size is 2048, this agent's 4096", "other page size");
	start(COLO_ROLE_SECONDARY);
	msg.hello = hello_of(COLO_ROLE_PRIMARY);
	msg.hello.disk_bytes = 0;
	encode(&msg);
	refused(give(), "the peer's disk has 0 bytes", "other disk size");

	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(pages(1, i0, 1), "PAGES for checkpoint 1 while none is open", "PAGES before BEGIN");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(simple(COLO_MSG_CKPT_END, 1), "CKPT_END for checkpoint 1 while none is open",
		"CKPT_END before BEGIN");
	open_ckpt(8, 2, 10);
	refused(pages(7, i0, 1), "PAGES for checkpoint 7 while 8 is open", "PAGES for another id");
	open_ckpt(8, 2, 10);
	refused(devstate(9, 1), "DEVSTATE for checkpoint 9 while 8 is open",
		"DEVSTATE for another id");
	open_ckpt(8, 0, 0);
	refused(simple(COLO_MSG_CKPT_END, 7), "CKPT_END for checkpoint 7 while 8 is open",
		"CKPT_END for another id");
	open_ckpt(8, 2, 10);
	pages(8, i0, 1);
	refused(simple(COLO_MSG_CKPT_END, 8), "after 1 of 2 pages and 0 of 10 device state",
		"CKPT_END before the totals are met");
	open_ckpt(8, 2, 10);
	refused(pages(8, three, 3), "PAGES bring checkpoint 8 to 3 pages, 2 announced",
		"more pages than announced in one batch");
	open_ckpt(8, 2, 10);
	pages(8, i0, 1);
	pages(8, i1, 1);
	refused(pages(8, i2, 1), "to 3 pages, 2 announced", "more pages than announced");
	open_ckpt(8, 2, 10);
	devstate(8, 6);
	refused(devstate(8, 5), "DEVSTATE brings checkpoint 8 to 11 bytes, 10 announced",
		"more device state than announced");
	open_ckpt(8, 2, 0);
	refused(pages(8, down, 2), "page index 3 after 5: indices must ascend",
		"descending indices in a batch");
	open_ckpt(8, 2, 0);
	refused(pages(8, same, 2), "page index 3 after 3", "a page twice in a batch");
	open_ckpt(8, 2, 0);
	pages(8, i2, 1);
	refused(pages(8, i1, 1), "page index 1 after 2", "descending indices across batches");
	open_ckpt(8, 2, 0);
	pages(8, i2, 1);
	refused(pages(8, i2, 1), "page index 2 after 2", "a page twice across batches");
	open_ckpt(8, 1, 0);
	tap_check(!pages(8, last, 1), "the last page of RAM is accepted");
	open_ckpt(8, 1, 0);
	refused(pages(8, beyond, 1), "page index 16 beyond the VM's 16 pages",
		"index == RAM pages");
	open_ckpt(8, 1, 0);
	refused(pages(8, huge, 1), "page index 18446744073709551615 beyond", "index 2^64 - 1");
	open_ckpt(8, 0, 0);
	refused(begin(9, 0, 0), "CKPT_BEGIN 9 while 8 is open", "CKPT_BEGIN while one is open");
	open_ckpt(8, 0, 0);
	simple(COLO_MSG_CKPT_END, 8);
	refused(begin(8, 0, 0), "CKPT_BEGIN 8 after checkpoint 8: ids must increase", "id reused");
	open_ckpt(8, 0, 0);
	simple(COLO_MSG_CKPT_END, 8);
	refused(begin(7, 0, 0), "CKPT_BEGIN 7 after checkpoint 8", "id going back");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(begin(1, RAM_PAGES + 1, 0), "announces 17 pages, the VM has 16",
		"more pages announced than RAM has");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(ack(1, 0), "ACK sent to the secondary", "ACK to the secondary");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(request(), "REQUEST sent to the secondary", "REQUEST to the secondary");
	start(COLO_ROLE_PRIMARY);
	refused(request(), "REQUEST before HELLO", "REQUEST before HELLO");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(handover(0), "HANDOVER from checkpoint 0, the last one is 0",
		"HANDOVER before any checkpoint");
	open_ckpt(5, 0, 0);
	refused(handover(5), "HANDOVER in the middle of checkpoint 5", "HANDOVER mid-checkpoint");
	open_ckpt(5, 0, 0);
	simple(COLO_MSG_CKPT_END, 5);
	refused(handover(4), "HANDOVER from checkpoint 4, the last one is 5",
		"HANDOVER from an older checkpoint");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	refused(handover(0), "HANDOVER sent to the primary", "HANDOVER to the primary");
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	refused(replica(1), "REPLICA sent to the secondary", "REPLICA to the secondary");
	start(COLO_ROLE_PRIMARY);
	refused(replica(1), "REPLICA before HELLO", "REPLICA before HELLO");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	refused(replica(0), "REPLICA from checkpoint 0, the last acknowledged is 0",
		"REPLICA from checkpoint 0");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	colo_session_expect_ack(&sess, 4, NULL);
	refused(replica(4), "REPLICA from checkpoint 4, the last acknowledged is 0",
		"REPLICA from a checkpoint not yet acknowledged");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	colo_session_expect_ack(&sess, 4, NULL);
	ack(4, 0);
	replica(4);
	refused(replica(4), "REPLICA from checkpoint 4 after one from 4", "REPLICA repeated");

	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	refused(begin(1, 0, 0), "CKPT_BEGIN sent to the primary", "CKPT_BEGIN to the primary");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	refused(ack(1, 0), "ACK for checkpoint 1 while none is awaited", "ACK before any is due");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	colo_session_expect_ack(&sess, 4, NULL);
	refused(ack(3, 0), "ACK for checkpoint 3 while 4 is awaited", "ACK for the wrong id");
	start(COLO_ROLE_PRIMARY);
	hello(COLO_ROLE_SECONDARY);
	colo_session_expect_ack(&sess, 4, NULL);
	ack(4, 0);
	refused(ack(4, 0), "ACK for checkpoint 4 while none is awaited", "ACK twice");

	start(COLO_ROLE_PRIMARY);
	ret = colo_session_expect_ack(&sess, 1, &why);
	tap_check(ret == -EINVAL && strstr(why, "before the peer's HELLO"),
		  "expect_ack before HELLO: %s", why);
	hello(COLO_ROLE_SECONDARY);
	colo_session_expect_ack(&sess, 5, NULL);
	ret = colo_session_expect_ack(&sess, 6, &why);
	tap_check(ret == -EINVAL && strstr(why, "while an ACK is awaited") &&
		  sess.state == COLO_SESSION_ACK_WAIT && sess.ckpt_id == 5,
		  "expect_ack while one is awaited: %s", why);
	ack(5, 0);
	ret = colo_session_expect_ack(&sess, 5, &why);
	tap_check(ret == -EINVAL && strstr(why, "after 5: ids must increase"),
		  "expect_ack for an old id: %s", why);
	start(COLO_ROLE_SECONDARY);
	hello(COLO_ROLE_PRIMARY);
	ret = colo_session_expect_ack(&sess, 1, &why);
	tap_check(ret == -EINVAL && strstr(why, "only the primary"), "expect_ack on the secondary");

	h = hello_of(COLO_ROLE_PRIMARY);
	h.page_size = 4095;
	ret = colo_session_init(&sess, &h, &why);
	tap_check(ret == -EINVAL && strstr(why, "page size 4095"), "init with a bad local HELLO");
}

int main(void)
{
	test_round_trips();
	test_partial();
	test_header_refusals();
	test_body_refusals();
	test_encode_refusals();
	test_session_good();
	test_session_refusals();
	return tap_done();
}
