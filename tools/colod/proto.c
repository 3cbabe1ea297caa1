// SPDX-License-Identifier: GPL-2.0
/*
 * colod protocol codec and receiver state machine (wire format in proto.h).
 * Everything read from the peer is bounded before use: the header alone
 * decides whether the body may be buffered, every count is checked against
 * the body length, and the session checks every id, index and total against
 * what the peer announced before recording anything.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

#define HELLO_BODY	(COLO_NAME_SIZE + 1 + 8 + 8 + 4)
#define BEGIN_BODY	(8 + 4 + 8 + 8)
#define ACK_BODY	(8 + 4 + 8)
#define DEVSTATE_HEAD	8
#define PAGES_HEAD	12

static const struct {
	const char *name;
	uint32_t min_body;
	uint32_t max_body;
} msg_types[COLO_MSG_TYPE_MAX + 1] = {
	[COLO_MSG_HELLO] = { "HELLO", HELLO_BODY, HELLO_BODY },
	[COLO_MSG_CKPT_BEGIN] = { "CKPT_BEGIN", BEGIN_BODY, BEGIN_BODY },
	[COLO_MSG_PAGES] = { "PAGES", COLO_PAGES_BODY(1, COLO_PAGE_SIZE_MIN), COLO_MSG_MAX_BODY },
	[COLO_MSG_DEVSTATE] = { "DEVSTATE", DEVSTATE_HEAD + 1,
				DEVSTATE_HEAD + COLO_DEVSTATE_CHUNK },
	[COLO_MSG_CKPT_END] = { "CKPT_END", 8, 8 },
	[COLO_MSG_ACK] = { "ACK", ACK_BODY, ACK_BODY },
	[COLO_MSG_PING] = { "PING", 8, 8 },
	[COLO_MSG_PONG] = { "PONG", 8, 8 },
	[COLO_MSG_ERROR] = { "ERROR", 1, COLO_ERROR_MAX },
	[COLO_MSG_REQUEST] = { "REQUEST", 4, 4 },
	[COLO_MSG_HANDOVER] = { "HANDOVER", 8, 8 },
	[COLO_MSG_REPLICA] = { "REPLICA", 8, 8 },
};

static const char *const reason_names[COLO_CKPT_REASON_MAX + 1] = {
	[COLO_CKPT_TIMER] = "timer",
	[COLO_CKPT_PROXY] = "proxy",
	[COLO_CKPT_DIRTY] = "dirty",
	[COLO_CKPT_DISK] = "disk",
	[COLO_CKPT_MANUAL] = "manual",
	[COLO_CKPT_FIRST_SYNC] = "first-sync",
	[COLO_CKPT_FREEZE] = "freeze",
};

/* Reasons with numbers in them; see proto.h for how long they live. */
static _Thread_local char why_buf[160];

static const char *fmt_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

const char *colo_msg_type_name(unsigned int type)
{
	return type && type <= COLO_MSG_TYPE_MAX ? msg_types[type].name : "unknown";
}

const char *colo_ckpt_reason_name(unsigned int reason)
{
	return reason && reason <= COLO_CKPT_REASON_MAX ? reason_names[reason] : "unknown";
}

static uint16_t get_be16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static unsigned char *put_be16(unsigned char *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static unsigned char *put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static unsigned char *put_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static unsigned char *put_hdr(unsigned char *p, enum colo_msg_type type, uint32_t body_len)
{
	p = put_be32(p, COLO_PROTO_MAGIC);
	p = put_be16(p, COLO_PROTO_VERSION);
	p = put_be16(p, type);
	return put_be32(p, body_len);
}

static bool page_size_ok(uint32_t page_size)
{
	return page_size >= COLO_PAGE_SIZE_MIN && page_size <= COLO_PAGE_SIZE_MAX &&
	       !(page_size & (page_size - 1));
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* The checks HELLO's fields get wherever they come from. */
static bool hello_ok(const struct colo_hello *h, const char **why)
{
	size_t len = strnlen(h->name, COLO_NAME_SIZE), i;

	if (!len) {
		*why = "HELLO: the VM name is empty";
		return false;
	}
	if (len == COLO_NAME_SIZE) {
		*why = "HELLO: the VM name is longer than 63 bytes";
		return false;
	}
	for (i = 0; i < len; i++) {
		if (!name_char_ok(h->name[i])) {
			*why = fmt_why("HELLO: the VM name has byte 0x%02x, not in [A-Za-z0-9_.-]",
				       (unsigned char)h->name[i]);
			return false;
		}
	}
	if (h->role != COLO_ROLE_PRIMARY && h->role != COLO_ROLE_SECONDARY) {
		*why = fmt_why("HELLO: role %u is neither primary (1) nor secondary (2)",
			       (unsigned int)h->role);
		return false;
	}
	if (!page_size_ok(h->page_size)) {
		*why = fmt_why("HELLO: page size %" PRIu32 " is not a power of two in %u..%u",
			       h->page_size, COLO_PAGE_SIZE_MIN, COLO_PAGE_SIZE_MAX);
		return false;
	}
	if (!h->ram_bytes || h->ram_bytes % h->page_size) {
		*why = fmt_why("HELLO: RAM size %" PRIu64
			       " is not a non-zero multiple of the page size %" PRIu32,
			       h->ram_bytes, h->page_size);
		return false;
	}
	if (h->disk_bytes % COLO_DISK_SECTOR) {
		*why = fmt_why("HELLO: disk size %" PRIu64 " is not a multiple of %u",
			       h->disk_bytes, COLO_DISK_SECTOR);
		return false;
	}
	return true;
}

static bool begin_ok(const struct colo_ckpt_begin *b, const char **why)
{
	if (!b->ckpt_id) {
		*why = "CKPT_BEGIN: checkpoint id 0 (ids start at 1)";
		return false;
	}
	if (!b->reason || b->reason > COLO_CKPT_REASON_MAX) {
		*why = fmt_why("CKPT_BEGIN: unknown reason %u", (unsigned int)b->reason);
		return false;
	}
	if (b->devstate_bytes > COLO_DEVSTATE_MAX) {
		*why = fmt_why("CKPT_BEGIN: %" PRIu64 " bytes of device state, more than %llu",
			       b->devstate_bytes, COLO_DEVSTATE_MAX);
		return false;
	}
	return true;
}

static bool ack_ok(const struct colo_ack *a, const char **why)
{
	if (a->status < 0 || a->status > COLO_ACK_STATUS_MAX) {
		*why = fmt_why("ACK: status %" PRId32 " is neither 0 nor an errno", a->status);
		return false;
	}
	return true;
}

/* A secondary asks for a checkpoint for its disk buffer, for nothing else. */
static bool request_ok(uint32_t reason, const char **why)
{
	if (reason != COLO_CKPT_DISK) {
		*why = fmt_why("REQUEST: reason %" PRIu32 " is not one a secondary asks for "
			       "(disk, %u)", reason, COLO_CKPT_DISK);
		return false;
	}
	return true;
}

/* ERROR text: @len bytes (no NUL among them). */
static bool error_text_ok(const char *text, size_t len, const char **why)
{
	size_t i;

	if (!len || len > COLO_ERROR_MAX) {
		*why = fmt_why("ERROR: text of %zu bytes, not 1..%u", len, COLO_ERROR_MAX);
		return false;
	}
	for (i = 0; i < len; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			*why = fmt_why("ERROR: text has non-printable byte 0x%02x at %zu",
				       (unsigned char)text[i], i);
			return false;
		}
	}
	return true;
}

int colo_msg_hdr_parse(const void *buf, size_t len, struct colo_hdr *h, const char **why)
{
	const unsigned char *p = buf;
	unsigned char magic[4];
	uint32_t type, body_len;
	uint16_t version;
	const char *ignored;

	if (!why)
		why = &ignored;
	put_be32(magic, COLO_PROTO_MAGIC);
	/* Refuse a stranger (an HTTP probe, say) without waiting for 12 bytes. */
	if (len && memcmp(p, magic, len < sizeof(magic) ? len : sizeof(magic))) {
		*why = "bad magic: the peer is not a colod agent";
		return -EPROTO;
	}
	if (len < COLO_HDR_SIZE)
		return 0;
	version = get_be16(p + 4);
	if (version != COLO_PROTO_VERSION) {
		*why = fmt_why("version %u not supported (this agent speaks %u)",
			       version, COLO_PROTO_VERSION);
		return -EPROTO;
	}
	type = get_be16(p + 6);
	if (!type || type > COLO_MSG_TYPE_MAX) {
		*why = fmt_why("unknown message type %" PRIu32, type);
		return -EPROTO;
	}
	body_len = get_be32(p + 8);
	if (body_len > msg_types[type].max_body) {
		*why = fmt_why("%s body of %" PRIu32 " bytes, more than %" PRIu32,
			       msg_types[type].name, body_len, msg_types[type].max_body);
		return -EMSGSIZE;
	}
	if (body_len < msg_types[type].min_body) {
		*why = fmt_why("%s body of %" PRIu32 " bytes, less than %" PRIu32,
			       msg_types[type].name, body_len, msg_types[type].min_body);
		return -EPROTO;
	}
	h->type = type;
	h->body_len = body_len;
	return 1;
}

static int parse_hello(const unsigned char *p, struct colo_hello *h, const char **why)
{
	size_t i;

	memcpy(h->name, p, COLO_NAME_SIZE);
	h->role = p[COLO_NAME_SIZE];
	h->ram_bytes = get_be64(p + COLO_NAME_SIZE + 1);
	h->disk_bytes = get_be64(p + COLO_NAME_SIZE + 9);
	h->page_size = get_be32(p + COLO_NAME_SIZE + 17);
	if (!hello_ok(h, why))
		return -EBADMSG;
	/* Garbage after the name would be lost when re-encoding: refuse it. */
	for (i = strlen(h->name); i < COLO_NAME_SIZE; i++) {
		if (h->name[i]) {
			*why = "HELLO: the VM name is not NUL-padded";
			return -EBADMSG;
		}
	}
	return 0;
}

static int parse_pages(const unsigned char *p, uint32_t body_len, uint32_t page_size,
		       struct colo_pages *pg, const char **why)
{
	pg->ckpt_id = get_be64(p);
	pg->count = get_be32(p + 8);
	pg->page_size = page_size;
	if (!pg->count || pg->count > COLO_PAGES_MAX) {
		*why = fmt_why("PAGES: count %" PRIu32 " is not 1..%u", pg->count, COLO_PAGES_MAX);
		return -EBADMSG;
	}
	if (body_len != COLO_PAGES_BODY(pg->count, page_size)) {
		*why = fmt_why("PAGES: count %" PRIu32 " of %" PRIu32
			       "-byte pages needs a body of %zu bytes, not %" PRIu32, pg->count,
			       page_size, COLO_PAGES_BODY(pg->count, page_size), body_len);
		return -EBADMSG;
	}
	pg->indices = p + PAGES_HEAD;
	pg->data = pg->indices + 8 * (size_t)pg->count;
	return 0;
}

static int parse_body(const unsigned char *p, const struct colo_hdr *h, uint32_t page_size,
		      struct colo_msg *m, const char **why)
{
	switch (h->type) {
	case COLO_MSG_HELLO:
		return parse_hello(p, &m->hello, why);
	case COLO_MSG_CKPT_BEGIN:
		m->begin.ckpt_id = get_be64(p);
		m->begin.reason = get_be32(p + 8);
		m->begin.pages = get_be64(p + 12);
		m->begin.devstate_bytes = get_be64(p + 20);
		return begin_ok(&m->begin, why) ? 0 : -EBADMSG;
	case COLO_MSG_PAGES:
		return parse_pages(p, h->body_len, page_size, &m->pages, why);
	case COLO_MSG_DEVSTATE:
		m->devstate.ckpt_id = get_be64(p);
		m->devstate.len = h->body_len - DEVSTATE_HEAD;
		m->devstate.data = p + DEVSTATE_HEAD;
		return 0;
	case COLO_MSG_CKPT_END:
		m->end_ckpt_id = get_be64(p);
		return 0;
	case COLO_MSG_HANDOVER:
		m->handover_ckpt_id = get_be64(p);
		return 0;
	case COLO_MSG_REPLICA:
		m->replica_ckpt_id = get_be64(p);
		return 0;
	case COLO_MSG_ACK:
		m->ack.ckpt_id = get_be64(p);
		m->ack.status = (int32_t)get_be32(p + 8);
		m->ack.apply_ns = get_be64(p + 12);
		return ack_ok(&m->ack, why) ? 0 : -EBADMSG;
	case COLO_MSG_PING:
	case COLO_MSG_PONG:
		m->time_ns = get_be64(p);
		return 0;
	case COLO_MSG_ERROR:
		if (!error_text_ok((const char *)p, h->body_len, why))
			return -EBADMSG;
		memcpy(m->error, p, h->body_len);
		m->error[h->body_len] = '\0';
		return 0;
	case COLO_MSG_REQUEST:
		m->request_reason = get_be32(p);
		return request_ok(m->request_reason, why) ? 0 : -EBADMSG;
	}
	*why = "unknown message type";
	return -EPROTO;
}

int colo_msg_parse(const void *buf, size_t len, uint32_t page_size, struct colo_msg *m,
		   size_t *consumed, const char **why)
{
	const unsigned char *p = buf;
	struct colo_hdr h;
	const char *ignored;
	int ret;

	if (!why)
		why = &ignored;
	*consumed = 0;
	if (!page_size_ok(page_size)) {
		*why = fmt_why("page size %" PRIu32 " is not a power of two in %u..%u",
			       page_size, COLO_PAGE_SIZE_MIN, COLO_PAGE_SIZE_MAX);
		return -EINVAL;
	}
	ret = colo_msg_hdr_parse(p, len, &h, why);
	if (ret <= 0)
		return ret;
	if (len - COLO_HDR_SIZE < h.body_len)
		return 0;
	m->type = h.type;
	ret = parse_body(p + COLO_HDR_SIZE, &h, page_size, m, why);
	if (ret)
		return ret;
	*consumed = COLO_HDR_SIZE + (size_t)h.body_len;
	return 1;
}

static int no_space(size_t need, size_t size, const char **why)
{
	*why = fmt_why("encoding needs %zu bytes, the buffer holds %zu", need, size);
	return -ENOSPC;
}

int colo_msg_encode(void *buf, size_t size, const struct colo_msg *m, const char **why)
{
	unsigned char *start = buf, *p = buf;
	const char *ignored;
	size_t text_len;

	if (!why)
		why = &ignored;
	switch (m->type) {
	case COLO_MSG_HELLO:
		if (!hello_ok(&m->hello, why))
			return -EINVAL;
		if (size < COLO_HDR_SIZE + HELLO_BODY)
			return no_space(COLO_HDR_SIZE + HELLO_BODY, size, why);
		p = put_hdr(p, m->type, HELLO_BODY);
		/* strncpy's zero fill is the NUL padding the wire format wants. */
		strncpy((char *)p, m->hello.name, COLO_NAME_SIZE);
		p += COLO_NAME_SIZE;
		*p++ = m->hello.role;
		p = put_be64(p, m->hello.ram_bytes);
		p = put_be64(p, m->hello.disk_bytes);
		p = put_be32(p, m->hello.page_size);
		break;
	case COLO_MSG_CKPT_BEGIN:
		if (!begin_ok(&m->begin, why))
			return -EINVAL;
		if (size < COLO_HDR_SIZE + BEGIN_BODY)
			return no_space(COLO_HDR_SIZE + BEGIN_BODY, size, why);
		p = put_hdr(p, m->type, BEGIN_BODY);
		p = put_be64(p, m->begin.ckpt_id);
		p = put_be32(p, m->begin.reason);
		p = put_be64(p, m->begin.pages);
		p = put_be64(p, m->begin.devstate_bytes);
		break;
	case COLO_MSG_DEVSTATE:
		if (!m->devstate.len || m->devstate.len > COLO_DEVSTATE_CHUNK) {
			*why = fmt_why("DEVSTATE: %" PRIu32 " bytes, not 1..%u",
				       m->devstate.len, COLO_DEVSTATE_CHUNK);
			return -EINVAL;
		}
		if (size < COLO_HDR_SIZE + DEVSTATE_HEAD)
			return no_space(COLO_HDR_SIZE + DEVSTATE_HEAD, size, why);
		p = put_hdr(p, m->type, DEVSTATE_HEAD + m->devstate.len);
		p = put_be64(p, m->devstate.ckpt_id);
		break;
	case COLO_MSG_CKPT_END:
	case COLO_MSG_PING:
	case COLO_MSG_PONG:
	case COLO_MSG_HANDOVER:
	case COLO_MSG_REPLICA:
		if (size < COLO_HDR_SIZE + 8)
			return no_space(COLO_HDR_SIZE + 8, size, why);
		p = put_hdr(p, m->type, 8);
		p = put_be64(p, m->type == COLO_MSG_CKPT_END ? m->end_ckpt_id :
				m->type == COLO_MSG_HANDOVER ? m->handover_ckpt_id :
				m->type == COLO_MSG_REPLICA ? m->replica_ckpt_id : m->time_ns);
		break;
	case COLO_MSG_ACK:
		if (!ack_ok(&m->ack, why))
			return -EINVAL;
		if (size < COLO_HDR_SIZE + ACK_BODY)
			return no_space(COLO_HDR_SIZE + ACK_BODY, size, why);
		p = put_hdr(p, m->type, ACK_BODY);
		p = put_be64(p, m->ack.ckpt_id);
		p = put_be32(p, (uint32_t)m->ack.status);
		p = put_be64(p, m->ack.apply_ns);
		break;
	case COLO_MSG_ERROR:
		text_len = strnlen(m->error, sizeof(m->error));
		if (!error_text_ok(m->error, text_len, why))
			return -EINVAL;
		if (size < COLO_HDR_SIZE + text_len)
			return no_space(COLO_HDR_SIZE + text_len, size, why);
		p = put_hdr(p, m->type, text_len);
		memcpy(p, m->error, text_len);
		p += text_len;
		break;
	case COLO_MSG_REQUEST:
		if (!request_ok(m->request_reason, why))
			return -EINVAL;
		if (size < COLO_HDR_SIZE + 4)
			return no_space(COLO_HDR_SIZE + 4, size, why);
		p = put_hdr(p, m->type, 4);
		p = put_be32(p, m->request_reason);
		break;
	case COLO_MSG_PAGES:
		*why = "PAGES are encoded by colo_pages_encode_head()";
		return -EINVAL;
	default:
		*why = fmt_why("unknown message type %u", (unsigned int)m->type);
		return -EINVAL;
	}
	return p - start;
}

int colo_pages_encode_head(void *buf, size_t size, uint64_t ckpt_id, const uint64_t *indices,
			   uint32_t count, uint32_t page_size, const char **why)
{
	unsigned char *start = buf, *p = buf;
	size_t need = COLO_HDR_SIZE + PAGES_HEAD + 8 * (size_t)count;
	const char *ignored;
	uint32_t i;

	if (!why)
		why = &ignored;
	if (!count || count > COLO_PAGES_MAX) {
		*why = fmt_why("PAGES: count %" PRIu32 " is not 1..%u", count, COLO_PAGES_MAX);
		return -EINVAL;
	}
	if (!page_size_ok(page_size)) {
		*why = fmt_why("PAGES: page size %" PRIu32 " is not a power of two in %u..%u",
			       page_size, COLO_PAGE_SIZE_MIN, COLO_PAGE_SIZE_MAX);
		return -EINVAL;
	}
	if (size < need)
		return no_space(need, size, why);
	p = put_hdr(p, COLO_MSG_PAGES, COLO_PAGES_BODY(count, page_size));
	p = put_be64(p, ckpt_id);
	p = put_be32(p, count);
	for (i = 0; i < count; i++)
		p = put_be64(p, indices[i]);
	return p - start;
}

uint64_t colo_pages_index(const struct colo_pages *p, uint32_t i)
{
	return get_be64(p->indices + 8 * (size_t)i);
}

const unsigned char *colo_pages_page(const struct colo_pages *p, uint32_t i)
{
	return p->data + (size_t)i * p->page_size;
}

int colo_session_init(struct colo_session *s, const struct colo_hello *local, const char **why)
{
	const char *ignored;

	if (!why)
		why = &ignored;
	memset(s, 0, sizeof(*s));
	if (!hello_ok(local, why))
		return -EINVAL;
	/* Copied by name, so the padding compares equal whatever followed the NUL. */
	strcpy(s->local.name, local->name);
	s->local.role = local->role;
	s->local.ram_bytes = local->ram_bytes;
	s->local.disk_bytes = local->disk_bytes;
	s->local.page_size = local->page_size;
	s->ram_pages = local->ram_bytes / local->page_size;
	s->state = COLO_SESSION_HELLO;
	return 0;
}

/* Refuses the message, and every later one, for the reason given. */
static int refuse(struct colo_session *s, const char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct colo_session *s, const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->state = COLO_SESSION_FAILED;
	*why = s->why;
	return -EPROTO;
}

static int accept_hello(struct colo_session *s, const struct colo_hello *h, const char **why)
{
	const struct colo_hello *l = &s->local;

	if (h->role == l->role)
		return refuse(s, why, "HELLO: the peer is %s too",
			      l->role == COLO_ROLE_PRIMARY ? "primary" : "secondary");
	if (strcmp(h->name, l->name))
		return refuse(s, why, "HELLO: the peer replicates VM '%s', this agent '%s'",
			      h->name, l->name);
	if (h->page_size != l->page_size)
		return refuse(s, why, "HELLO: the peer's page size is %" PRIu32 ", this agent's %"
			      PRIu32, h->page_size, l->page_size);
	if (h->ram_bytes != l->ram_bytes)
		return refuse(s, why, "HELLO: the peer's VM has %" PRIu64
			      " bytes of RAM, this one %" PRIu64, h->ram_bytes, l->ram_bytes);
	if (h->disk_bytes != l->disk_bytes)
		return refuse(s, why, "HELLO: the peer's disk has %" PRIu64 " bytes, this one %"
			      PRIu64, h->disk_bytes, l->disk_bytes);
	s->peer = *h;
	s->state = COLO_SESSION_IDLE;
	return 0;
}

/* PAGES, DEVSTATE and CKPT_END must name the open checkpoint. */
static int check_open(struct colo_session *s, enum colo_msg_type type, uint64_t ckpt_id,
		      const char **why)
{
	if (s->state != COLO_SESSION_CKPT_OPEN)
		return refuse(s, why, "%s for checkpoint %" PRIu64 " while none is open",
			      colo_msg_type_name(type), ckpt_id);
	if (ckpt_id != s->ckpt_id)
		return refuse(s, why, "%s for checkpoint %" PRIu64 " while %" PRIu64 " is open",
			      colo_msg_type_name(type), ckpt_id, s->ckpt_id);
	return 0;
}

static int accept_begin(struct colo_session *s, const struct colo_ckpt_begin *b, const char **why)
{
	if (s->state == COLO_SESSION_CKPT_OPEN)
		return refuse(s, why, "CKPT_BEGIN %" PRIu64 " while %" PRIu64 " is open",
			      b->ckpt_id, s->ckpt_id);
	if (b->ckpt_id <= s->last_ckpt_id)
		return refuse(s, why, "CKPT_BEGIN %" PRIu64 " after checkpoint %" PRIu64
			      ": ids must increase", b->ckpt_id, s->last_ckpt_id);
	if (b->pages > s->ram_pages)
		return refuse(s, why, "CKPT_BEGIN %" PRIu64 " announces %" PRIu64
			      " pages, the VM has %" PRIu64, b->ckpt_id, b->pages, s->ram_pages);
	s->state = COLO_SESSION_CKPT_OPEN;
	s->ckpt_id = b->ckpt_id;
	s->pages_announced = b->pages;
	s->pages_received = 0;
	s->devstate_announced = b->devstate_bytes;
	s->devstate_received = 0;
	s->next_index = 0;
	return 0;
}

static int accept_pages(struct colo_session *s, const struct colo_pages *pg, const char **why)
{
	uint64_t next = s->next_index, idx;
	uint32_t i;
	int ret;

	ret = check_open(s, COLO_MSG_PAGES, pg->ckpt_id, why);
	if (ret)
		return ret;
	if (pg->count > s->pages_announced - s->pages_received)
		return refuse(s, why, "PAGES bring checkpoint %" PRIu64 " to %" PRIu64
			      " pages, %" PRIu64 " announced", s->ckpt_id,
			      s->pages_received + pg->count, s->pages_announced);
	for (i = 0; i < pg->count; i++) {
		idx = colo_pages_index(pg, i);
		if (idx >= s->ram_pages)
			return refuse(s, why, "page index %" PRIu64 " beyond the VM's %" PRIu64
				      " pages", idx, s->ram_pages);
		if (idx < next)
			return refuse(s, why, "page index %" PRIu64 " after %" PRIu64
				      ": indices must ascend", idx, next - 1);
		next = idx + 1;
	}
	s->pages_received += pg->count;
	s->next_index = next;
	return 0;
}

static int accept_devstate(struct colo_session *s, const struct colo_devstate *d,
			   const char **why)
{
	int ret;

	ret = check_open(s, COLO_MSG_DEVSTATE, d->ckpt_id, why);
	if (ret)
		return ret;
	if (d->len > s->devstate_announced - s->devstate_received)
		return refuse(s, why, "DEVSTATE brings checkpoint %" PRIu64 " to %" PRIu64
			      " bytes, %" PRIu64 " announced", s->ckpt_id,
			      s->devstate_received + d->len, s->devstate_announced);
	s->devstate_received += d->len;
	return 0;
}

static int accept_end(struct colo_session *s, uint64_t ckpt_id, const char **why)
{
	int ret;

	ret = check_open(s, COLO_MSG_CKPT_END, ckpt_id, why);
	if (ret)
		return ret;
	if (s->pages_received != s->pages_announced ||
	    s->devstate_received != s->devstate_announced)
		return refuse(s, why, "CKPT_END %" PRIu64 " after %" PRIu64 " of %" PRIu64
			      " pages and %" PRIu64 " of %" PRIu64 " device state bytes",
			      ckpt_id, s->pages_received, s->pages_announced,
			      s->devstate_received, s->devstate_announced);
	s->state = COLO_SESSION_IDLE;
	s->last_ckpt_id = ckpt_id;
	return 0;
}

static int accept_handover(struct colo_session *s, uint64_t ckpt_id, const char **why)
{
	if (s->state != COLO_SESSION_IDLE)
		return refuse(s, why, "HANDOVER in the middle of checkpoint %" PRIu64, s->ckpt_id);
	if (!s->last_ckpt_id || ckpt_id != s->last_ckpt_id)
		return refuse(s, why, "HANDOVER from checkpoint %" PRIu64 ", the last one is %" PRIu64,
			      ckpt_id, s->last_ckpt_id);
	s->state = COLO_SESSION_CLOSED;
	return 0;
}

static int accept_replica(struct colo_session *s, uint64_t ckpt_id, const char **why)
{
	if (!ckpt_id || ckpt_id > s->last_ckpt_id)
		return refuse(s, why, "REPLICA from checkpoint %" PRIu64 ", the last acknowledged "
			      "is %" PRIu64, ckpt_id, s->last_ckpt_id);
	if (ckpt_id <= s->replica_ckpt_id)
		return refuse(s, why, "REPLICA from checkpoint %" PRIu64 " after one from %" PRIu64,
			      ckpt_id, s->replica_ckpt_id);
	s->replica_ckpt_id = ckpt_id;
	return 0;
}

static int accept_ack(struct colo_session *s, const struct colo_ack *a, const char **why)
{
	if (s->state != COLO_SESSION_ACK_WAIT)
		return refuse(s, why, "ACK for checkpoint %" PRIu64 " while none is awaited",
			      a->ckpt_id);
	if (a->ckpt_id != s->ckpt_id)
		return refuse(s, why, "ACK for checkpoint %" PRIu64 " while %" PRIu64
			      " is awaited", a->ckpt_id, s->ckpt_id);
	s->state = COLO_SESSION_IDLE;
	s->last_ckpt_id = a->ckpt_id;
	return 0;
}

int colo_session_accept(struct colo_session *s, const struct colo_msg *m, const char **why)
{
	const char *name = colo_msg_type_name(m->type);
	bool to_secondary;
	const char *ignored;

	if (!why)
		why = &ignored;
	if (s->state == COLO_SESSION_FAILED) {
		*why = s->why;
		return -EPROTO;
	}
	if (s->state == COLO_SESSION_CLOSED)
		return refuse(s, why, "%s after the peer's ERROR or HANDOVER", name);
	switch (m->type) {
	case COLO_MSG_ERROR:
		s->state = COLO_SESSION_CLOSED;
		return 0;
	case COLO_MSG_HELLO:
		if (s->state != COLO_SESSION_HELLO)
			return refuse(s, why, "second HELLO");
		return accept_hello(s, &m->hello, why);
	case COLO_MSG_CKPT_BEGIN:
	case COLO_MSG_PAGES:
	case COLO_MSG_DEVSTATE:
	case COLO_MSG_CKPT_END:
	case COLO_MSG_ACK:
	case COLO_MSG_PING:
	case COLO_MSG_PONG:
	case COLO_MSG_REQUEST:
	case COLO_MSG_HANDOVER:
	case COLO_MSG_REPLICA:
		break;
	default:
		return refuse(s, why, "unknown message type %u", (unsigned int)m->type);
	}
	if (s->state == COLO_SESSION_HELLO)
		return refuse(s, why, "%s before HELLO", name);
	if (m->type == COLO_MSG_PING || m->type == COLO_MSG_PONG)
		return 0;
	to_secondary = m->type != COLO_MSG_ACK && m->type != COLO_MSG_REQUEST &&
		       m->type != COLO_MSG_REPLICA;
	if (to_secondary != (s->local.role == COLO_ROLE_SECONDARY))
		return refuse(s, why, "%s sent to the %s", name,
			      to_secondary ? "primary" : "secondary");
	switch (m->type) {
	case COLO_MSG_CKPT_BEGIN:
		return accept_begin(s, &m->begin, why);
	case COLO_MSG_PAGES:
		return accept_pages(s, &m->pages, why);
	case COLO_MSG_DEVSTATE:
		return accept_devstate(s, &m->devstate, why);
	case COLO_MSG_CKPT_END:
		return accept_end(s, m->end_ckpt_id, why);
	case COLO_MSG_HANDOVER:
		return accept_handover(s, m->handover_ckpt_id, why);
	case COLO_MSG_REQUEST:
		return 0;
	case COLO_MSG_REPLICA:
		return accept_replica(s, m->replica_ckpt_id, why);
	default:	/* COLO_MSG_ACK, the only type left */
		return accept_ack(s, &m->ack, why);
	}
}

int colo_session_expect_ack(struct colo_session *s, uint64_t ckpt_id, const char **why)
{
	const char *ignored;

	if (!why)
		why = &ignored;
	if (s->local.role != COLO_ROLE_PRIMARY) {
		*why = "only the primary waits for ACKs";
		return -EINVAL;
	}
	if (s->state != COLO_SESSION_IDLE) {
		*why = fmt_why("checkpoint %" PRIu64 " sent %s", ckpt_id,
			       s->state == COLO_SESSION_HELLO ? "before the peer's HELLO" :
			       s->state == COLO_SESSION_ACK_WAIT ? "while an ACK is awaited" :
			       "on a session that has ended");
		return -EINVAL;
	}
	if (ckpt_id <= s->last_ckpt_id) {
		*why = fmt_why("checkpoint %" PRIu64 " sent after %" PRIu64 ": ids must increase",
			       ckpt_id, s->last_ckpt_id);
		return -EINVAL;
	}
	s->state = COLO_SESSION_ACK_WAIT;
	s->ckpt_id = ckpt_id;
	return 0;
}
