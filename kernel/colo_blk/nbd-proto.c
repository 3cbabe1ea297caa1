// SPDX-License-Identifier: GPL-2.0
/*
 * NBD wire format for the replica's in-kernel server and the primary's
 * client (nbd-proto.h). Every length a client sends is checked here before
 * the server trusts it; every reply a server sends, before the client does.
 */
#include "nbd-proto.h"

#define CB_NBD_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define CB_NBD_IHAVEOPT		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define CB_NBD_REP_MAGIC	0x0003e889045565a9ULL
#define CB_NBD_REQUEST_MAGIC	0x25609513U
#define CB_NBD_REPLY_MAGIC	0x67446698U
#define CB_NBD_INFO_EXPORT	0U

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(u8 *p, u64 v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)get16(p) << 16 | get16(p + 2);
}

static u64 get64(const u8 *p)
{
	return (u64)get32(p) << 32 | get32(p + 4);
}

void cb_nbd_greeting(u8 *buf)
{
	put64(buf, CB_NBD_MAGIC);
	put64(buf + 8, CB_NBD_IHAVEOPT);
	put16(buf + 16, CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES);
}

int cb_nbd_parse_client_flags(const u8 *buf, u32 *flags, const char **why)
{
	*flags = get32(buf);
	if (*flags & ~(CB_NBD_FLAG_FIXED_NEWSTYLE | CB_NBD_FLAG_NO_ZEROES)) {
		*why = "unknown client flags";
		return -EPROTO;
	}
	if (!(*flags & CB_NBD_FLAG_FIXED_NEWSTYLE)) {
		*why = "the client does not speak fixed newstyle";
		return -EPROTO;
	}
	return 0;
}

int cb_nbd_parse_option(const u8 *buf, struct cb_nbd_option *o, const char **why)
{
	if (get64(buf) != CB_NBD_IHAVEOPT) {
		*why = "bad option magic";
		return -EPROTO;
	}
	o->option = get32(buf + 8);
	o->len = get32(buf + 12);
	if (o->len > CB_NBD_MAX_OPT_LEN) {
		*why = "option data too long";
		return -EPROTO;
	}
	return 0;
}

/* u32 name length, the name, u16 count of info requests, u16 each */
int cb_nbd_parse_go(const u8 *data, u32 len, struct cb_nbd_go *go, const char **why)
{
	u32 name_len, nr_info;

	if (len < 6) {
		*why = "option data shorter than a name length and an info count";
		return -EINVAL;
	}
	name_len = get32(data);
	if (name_len > len - 6) {
		*why = "export name longer than the option data";
		return -EINVAL;
	}
	nr_info = get16(data + 4 + name_len);
	if (len != 6 + name_len + 2 * nr_info) {
		*why = "info requests do not fill the option data";
		return -EINVAL;
	}
	if (memchr(data + 4, '\0', name_len)) {
		*why = "export name with a NUL";
		return -EINVAL;
	}
	go->name = (const char *)data + 4;
	go->name_len = name_len;
	return 0;
}

void cb_nbd_option_reply(u8 *buf, u32 option, u32 type, u32 len)
{
	put64(buf, CB_NBD_REP_MAGIC);
	put32(buf + 8, option);
	put32(buf + 12, type);
	put32(buf + 16, len);
}

void cb_nbd_info_export(u8 *buf, u64 size, u16 flags)
{
	put16(buf, CB_NBD_INFO_EXPORT);
	put64(buf + 2, size);
	put16(buf + 10, flags);
}

void cb_nbd_export_name_reply(u8 *buf, u64 size, u16 flags)
{
	put64(buf, size);
	put16(buf + 8, flags);
}

int cb_nbd_parse_request(const u8 *buf, u64 size, struct cb_nbd_request *r,
			 const char **why)
{
	u16 known = CB_NBD_CMD_FLAG_FUA;

	memset(r, 0, sizeof(*r));
	if (get32(buf) != CB_NBD_REQUEST_MAGIC) {
		*why = "bad request magic";
		return -EPROTO;
	}
	r->flags = get16(buf + 4);
	r->type = get16(buf + 6);
	r->handle = get64(buf + 8);
	r->offset = get64(buf + 16);
	r->len = get32(buf + 24);
	if (r->type == CB_NBD_CMD_WRITE && r->len > CB_NBD_MAX_REQUEST) {
		*why = "write longer than 32 MiB";
		return -EPROTO;
	}
	switch (r->type) {
	case CB_NBD_CMD_READ:
	case CB_NBD_CMD_WRITE:
		if (r->len > CB_NBD_MAX_REQUEST)
			r->error = CB_NBD_EINVAL;
		break;
	case CB_NBD_CMD_WRITE_ZEROES:
		known |= CB_NBD_CMD_FLAG_NO_HOLE;
		break;
	case CB_NBD_CMD_TRIM:
		break;
	case CB_NBD_CMD_FLUSH:
	case CB_NBD_CMD_DISC:
		/* no range: nothing more to check */
		if (r->flags & ~known)
			r->error = CB_NBD_EINVAL;
		return 0;
	default:
		r->error = CB_NBD_EINVAL;
		return 0;
	}
	if (r->error)
		return 0;
	if (r->flags & ~known)
		r->error = CB_NBD_EINVAL;
	else if (!r->len || (r->offset | r->len) & (CB_SECTOR_SIZE - 1))
		r->error = CB_NBD_EINVAL;
	else if (r->offset > size || r->len > size - r->offset)
		/* the protocol's answers: no space to write, nothing to read or trim */
		r->error = r->type == CB_NBD_CMD_WRITE || r->type == CB_NBD_CMD_WRITE_ZEROES ?
			   CB_NBD_ENOSPC : CB_NBD_EINVAL;
	return 0;
}

void cb_nbd_reply(u8 *buf, u32 error, u64 handle)
{
	put32(buf, CB_NBD_REPLY_MAGIC);
	put32(buf + 4, error);
	put64(buf + 8, handle);
}

int cb_nbd_parse_greeting(const u8 *buf, u16 *flags, const char **why)
{
	if (get64(buf) != CB_NBD_MAGIC || get64(buf + 8) != CB_NBD_IHAVEOPT) {
		*why = "not a newstyle NBD server";
		return -EPROTO;
	}
	*flags = get16(buf + 16);
	if (!(*flags & CB_NBD_FLAG_FIXED_NEWSTYLE)) {
		*why = "the server does not speak fixed newstyle";
		return -EPROTO;
	}
	return 0;
}

void cb_nbd_client_flags(u8 *buf, u32 flags)
{
	put32(buf, flags);
}

void cb_nbd_export_name_option(u8 *buf, u32 name_len)
{
	put64(buf, CB_NBD_IHAVEOPT);
	put32(buf + 8, CB_NBD_OPT_EXPORT_NAME);
	put32(buf + 12, name_len);
}

int cb_nbd_parse_export_name_reply(const u8 *buf, u64 *size, u16 *flags,
				   const char **why)
{
	*size = get64(buf);
	*flags = get16(buf + 8);
	if (!(*flags & CB_NBD_FLAG_HAS_FLAGS)) {
		*why = "the export's flags are not valid (no NBD_FLAG_HAS_FLAGS)";
		return -EPROTO;
	}
	return 0;
}

void cb_nbd_request(u8 *buf, u16 flags, u16 type, u64 handle, u64 offset, u32 len)
{
	put32(buf, CB_NBD_REQUEST_MAGIC);
	put16(buf + 4, flags);
	put16(buf + 6, type);
	put64(buf + 8, handle);
	put64(buf + 16, offset);
	put32(buf + 24, len);
}

int cb_nbd_parse_reply(const u8 *buf, u32 *error, u64 *handle, const char **why)
{
	if (get32(buf) != CB_NBD_REPLY_MAGIC) {
		*why = "bad reply magic";
		return -EPROTO;
	}
	*error = get32(buf + 4);
	*handle = get64(buf + 8);
	return 0;
}
