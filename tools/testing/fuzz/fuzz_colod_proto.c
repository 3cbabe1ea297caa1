// SPDX-License-Identifier: GPL-2.0
/*
 * colod's protocol as a receiver sees it: a byte stream arriving in reads of
 * some size, parsed message by message and fed to the session. Input: one
 * byte of setup (bit 0: this agent is the secondary; bits 1-2: page size
 * 1024 << (n % 3); bits 3-7: RAM pages - 1), one byte of read size - 1, then
 * the stream. Checked on every step:
 *   - parse never consumes more than it was given, consumes nothing when it
 *     asks for more, and asks for more only while the message is incomplete;
 *   - a parsed message re-encodes to exactly the bytes it came from, and its
 *     bulk data points at the right place in them;
 *   - the session accepts a message exactly when a plain model of the
 *     protocol order says it may come, its counters never exceed what
 *     CKPT_BEGIN announced, and once it refuses it refuses everything.
 * The primary's side expects an ACK for checkpoint 1, 2, ... in turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "colod/proto.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* What the protocol allows, written out the simple way. */
struct model {
	bool hello, closed, open, ack_wait;
	uint64_t ckpt_id, last_ckpt_id, replica_ckpt_id;
	uint64_t pages, devstate_bytes, got_pages, got_devstate, next_index;
};

static bool model_allows(const struct model *md, const struct colo_session *s,
			 const struct colo_msg *m)
{
	bool secondary = s->local.role == COLO_ROLE_SECONDARY;
	uint64_t next = md->next_index, idx;
	uint32_t i;

	if (md->closed)
		return false;
	if (m->type == COLO_MSG_ERROR)
		return true;
	if (m->type == COLO_MSG_HELLO)
		return !md->hello && m->hello.role != s->local.role &&
		       !strcmp(m->hello.name, s->local.name) &&
		       m->hello.page_size == s->local.page_size &&
		       m->hello.ram_bytes == s->local.ram_bytes &&
		       m->hello.disk_bytes == s->local.disk_bytes;
	if (!md->hello)
		return false;
	switch (m->type) {
	case COLO_MSG_PING:
	case COLO_MSG_PONG:
		return true;
	case COLO_MSG_CKPT_BEGIN:
		return secondary && !md->open && m->begin.ckpt_id > md->last_ckpt_id &&
		       m->begin.pages <= s->ram_pages;
	case COLO_MSG_PAGES:
		if (!secondary || !md->open || m->pages.ckpt_id != md->ckpt_id ||
		    md->got_pages + m->pages.count > md->pages)
			return false;
		for (i = 0; i < m->pages.count; i++) {
			idx = colo_pages_index(&m->pages, i);
			if (idx < next || idx >= s->ram_pages)
				return false;
			next = idx + 1;
		}
		return true;
	case COLO_MSG_DEVSTATE:
		return secondary && md->open && m->devstate.ckpt_id == md->ckpt_id &&
		       md->got_devstate + m->devstate.len <= md->devstate_bytes;
	case COLO_MSG_CKPT_END:
		return secondary && md->open && m->end_ckpt_id == md->ckpt_id &&
		       md->got_pages == md->pages && md->got_devstate == md->devstate_bytes;
	case COLO_MSG_ACK:
		return !secondary && md->ack_wait && m->ack.ckpt_id == md->ckpt_id;
	case COLO_MSG_REQUEST:
		return !secondary;
	case COLO_MSG_REPLICA:
		return !secondary && m->replica_ckpt_id > md->replica_ckpt_id &&
		       m->replica_ckpt_id <= md->last_ckpt_id;
	case COLO_MSG_HANDOVER:
		return secondary && !md->open && md->last_ckpt_id &&
		       m->handover_ckpt_id == md->last_ckpt_id;
	default:
		return false;
	}
}

static void model_apply(struct model *md, const struct colo_msg *m)
{
	switch (m->type) {
	case COLO_MSG_ERROR:
	case COLO_MSG_HANDOVER:
		md->closed = true;
		break;
	case COLO_MSG_HELLO:
		md->hello = true;
		break;
	case COLO_MSG_CKPT_BEGIN:
		md->open = true;
		md->ckpt_id = m->begin.ckpt_id;
		md->pages = m->begin.pages;
		md->devstate_bytes = m->begin.devstate_bytes;
		md->got_pages = md->got_devstate = md->next_index = 0;
		break;
	case COLO_MSG_PAGES:
		md->got_pages += m->pages.count;
		md->next_index = colo_pages_index(&m->pages, m->pages.count - 1) + 1;
		break;
	case COLO_MSG_DEVSTATE:
		md->got_devstate += m->devstate.len;
		break;
	case COLO_MSG_CKPT_END:
		md->open = false;
		md->last_ckpt_id = m->end_ckpt_id;
		break;
	case COLO_MSG_ACK:
		md->ack_wait = false;
		md->last_ckpt_id = m->ack.ckpt_id;
		break;
	case COLO_MSG_REPLICA:
		md->replica_ckpt_id = m->replica_ckpt_id;
		break;
	default:
		break;
	}
}

/* The message re-encodes to the @len bytes at @raw it was parsed from. */
static void check_round_trip(const unsigned char *raw, size_t len, const struct colo_msg *m)
{
	static unsigned char out[COLO_ENCODE_MAX];
	uint64_t idx[COLO_PAGES_MAX];
	const struct colo_pages *pg = &m->pages;
	uint32_t i;
	int n;

	if (m->type == COLO_MSG_PAGES) {
		for (i = 0; i < pg->count; i++)
			idx[i] = colo_pages_index(pg, i);
		n = colo_pages_encode_head(out, sizeof(out), pg->ckpt_id, idx, pg->count,
					   pg->page_size, NULL);
		if (n < 0 || n + (size_t)pg->count * pg->page_size != len ||
		    pg->data != raw + n || colo_pages_page(pg, pg->count - 1) + pg->page_size !=
		    raw + len)
			abort();
	} else {
		n = colo_msg_encode(out, sizeof(out), m, NULL);
		if (n < 0)
			abort();
		if (m->type == COLO_MSG_DEVSTATE) {
			if (n + (size_t)m->devstate.len != len || m->devstate.data != raw + n)
				abort();
		} else if ((size_t)n != len) {
			abort();
		}
	}
	if (memcmp(out, raw, n))
		abort();
}

static void check_counters(const struct colo_session *s)
{
	if (s->pages_received > s->pages_announced || s->pages_announced > s->ram_pages ||
	    s->devstate_received > s->devstate_announced ||
	    s->devstate_announced > COLO_DEVSTATE_MAX)
		abort();
}

/* Records one parsed message; false when the session refused it. */
static bool receive(struct colo_session *s, struct model *md, const struct colo_msg *m)
{
	bool allowed = model_allows(md, s, m);
	const char *why = NULL;
	int ret = colo_session_accept(s, m, &why);

	check_counters(s);
	if (ret) {
		if (allowed || ret != -EPROTO || !why || !*why ||
		    s->state != COLO_SESSION_FAILED ||
		    colo_session_accept(s, m, &why) != -EPROTO)
			abort();
		return false;
	}
	if (!allowed)
		abort();
	model_apply(md, m);
	if (s->pages_received != md->got_pages || s->devstate_received != md->got_devstate ||
	    (s->state == COLO_SESSION_CKPT_OPEN) != (md->open && !md->closed))
		abort();
	/* The primary sends the next checkpoint as soon as the last is acknowledged. */
	if (s->local.role == COLO_ROLE_PRIMARY && s->state == COLO_SESSION_IDLE) {
		if (colo_session_expect_ack(s, md->last_ckpt_id + 1, &why))
			abort();
		md->ack_wait = true;
		md->ckpt_id = md->last_ckpt_id + 1;
		if (colo_session_expect_ack(s, md->ckpt_id + 1, &why) != -EINVAL)
			abort();
	}
	return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct colo_hello local = { .name = "vm0", .disk_bytes = 1 << 20 };
	struct colo_session s;
	struct model md = { 0 };
	struct colo_msg m, prefix;
	struct colo_hdr h;
	size_t chunk, off = 0, avail = 0, consumed, prefix_consumed, left;
	const char *why;
	int ret;

	if (size < 2)
		return 0;
	local.role = data[0] & 1 ? COLO_ROLE_SECONDARY : COLO_ROLE_PRIMARY;
	local.page_size = COLO_PAGE_SIZE_MIN << ((data[0] >> 1 & 3) % 3);
	local.ram_bytes = (uint64_t)(1 + (data[0] >> 3)) * local.page_size;
	chunk = 1 + data[1];
	data += 2;
	size -= 2;
	if (colo_session_init(&s, &local, &why))
		abort();

	for (;;) {
		left = avail - off;
		why = NULL;
		consumed = 1;
		ret = colo_msg_parse(data + off, left, local.page_size, &m, &consumed, &why);
		if (ret < 0) {
			if (consumed || !why || !*why ||
			    (ret != -EPROTO && ret != -EMSGSIZE && ret != -EBADMSG))
				abort();
			break;
		}
		if (ret == 0) {
			/* Waiting is right only while the header or the body is incomplete. */
			if (consumed || (left >= COLO_HDR_SIZE &&
					 (colo_msg_hdr_parse(data + off, left, &h, &why) != 1 ||
					  COLO_HDR_SIZE + (size_t)h.body_len <= left)))
				abort();
			if (avail == size)
				break;
			avail = avail + chunk < size ? avail + chunk : size;
			continue;
		}
		if (consumed > left || colo_msg_hdr_parse(data + off, left, &h, &why) != 1 ||
		    h.type != m.type || consumed != COLO_HDR_SIZE + (size_t)h.body_len ||
		    colo_msg_parse(data + off, consumed - 1, local.page_size, &prefix,
				   &prefix_consumed, &why) != 0)
			abort();
		check_round_trip(data + off, consumed, &m);
		if (!receive(&s, &md, &m))
			break;
		off += consumed;
	}
	return 0;
}
