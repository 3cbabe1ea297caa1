// SPDX-License-Identifier: GPL-2.0
/*
 * Frame parsing for colo_proxy. The input is an untrusted Ethernet frame
 * straight from a guest, so every access is bounds-checked against the frame
 * length and against the length fields of the headers themselves (a header
 * that claims more than the frame holds makes the frame malformed).
 *
 * Only the first @head bytes of the frame are read (the kernel keeps just
 * the headers of a large frame linear, the payload stays in page fragments);
 * a header reaching past @head fails the parse like a truncated one, and the
 * caller may retry with more of the frame linear.
 */
#include "parse.h"

#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define CP_MAX_VLAN 2
#define CP_MAX_EXTHDR 8

enum {
	IPP_HOPOPTS = 0, IPP_ICMP = 1, IPP_IGMP = 2, IPP_TCP = 6, IPP_UDP = 17,
	IPP_ROUTING = 43, IPP_FRAGMENT = 44, IPP_AH = 51, IPP_ICMPV6 = 58,
	IPP_NONE = 59, IPP_DSTOPTS = 60, IPP_UDPLITE = 136,
};

static int parse_tcp_options(const u8 *f, u32 opt, u32 end, struct cp_pkt *p)
{
	while (opt < end) {
		u8 kind = f[opt], olen;

		if (kind == 0)		/* end of option list */
			break;
		if (kind == 1) {	/* no-op */
			opt++;
			continue;
		}
		if (opt + 2 > end)
			return -1;
		olen = f[opt + 1];
		if (olen < 2 || opt + olen > end)
			return -1;
		if (kind == 3 && olen == 3) {
			p->wscale_off = opt + 2;
		} else if (kind == 8 && olen == 10) {
			p->ts_off = opt + 2;
			p->tsval = cp_get32(f + opt + 2);
			p->tsecr = cp_get32(f + opt + 6);
		} else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			p->sack_off = opt + 2;
			p->sack_blocks = (olen - 2) / 8;
			if (p->sack_blocks > CP_SACK_MAX)
				return -1;
		}
		opt += olen;
	}
	return 0;
}

static int parse_l4(const u8 *f, u32 off, u32 end, u32 head, struct cp_pkt *p)
{
	u32 hl;

	p->l4_off = off;
	switch (p->proto) {
	case IPP_TCP:
		if (off + 20 > end || off + 20 > head)
			return -1;
		hl = (f[off + 12] >> 4) * 4u;
		if (hl < 20 || off + hl > end || off + hl > head)
			return -1;
		p->kind = CP_KIND_TCP;
		p->sport = cp_get16(f + off);
		p->dport = cp_get16(f + off + 2);
		p->seq = cp_get32(f + off + 4);
		p->ack = cp_get32(f + off + 8);
		p->tcp_flags = f[off + 13];
		p->window = cp_get16(f + off + 14);
		p->csum_off = off + 16;
		p->pl_off = off + hl;
		p->pl_len = end - (off + hl);
		return parse_tcp_options(f, off + 20, off + hl, p);
	case IPP_UDP:
	case IPP_UDPLITE:
		if (off + 8 > end || off + 8 > head)
			return -1;
		p->kind = CP_KIND_UDP;
		p->sport = cp_get16(f + off);
		p->dport = cp_get16(f + off + 2);
		p->pl_off = off + 8;
		p->pl_len = end - (off + 8);
		return 0;
	case IPP_ICMP:
	case IPP_ICMPV6:
		if (off + 4 > end || off + 4 > head)
			return -1;
		p->kind = CP_KIND_ICMP;
		/* Router/neighbour discovery (133-137) and MLD (130-132, 143). */
		if (p->proto == IPP_ICMPV6 &&
		    ((f[off] >= 130 && f[off] <= 137) || f[off] == 143))
			p->kind = CP_KIND_ND;
		p->pl_off = off;
		p->pl_len = end - off;
		return 0;
	case IPP_IGMP:
		p->kind = CP_KIND_ND;
		p->pl_off = off;
		p->pl_len = end - off;
		return 0;
	default:
		p->kind = CP_KIND_OTHER;
		p->pl_off = off;
		p->pl_len = end - off;
		return 0;
	}
}

static int parse_ipv4(const u8 *f, u32 off, u32 len, u32 head,
		      struct cp_pkt *p)
{
	u32 ihl, tot;
	u16 frag;

	if (off + 20 > head || (f[off] >> 4) != 4)
		return -1;
	ihl = (f[off] & 0x0f) * 4u;
	tot = cp_get16(f + off + 2);
	if (ihl < 20 || tot < ihl || off + tot > len || off + ihl > head)
		return -1;
	p->family = 4;
	p->proto = f[off + 9];
	memcpy(p->saddr, f + off + 12, 4);
	memcpy(p->daddr, f + off + 16, 4);
	frag = cp_get16(f + off + 6);
	if (frag & 0x3fff) {
		/* Any fragment: compared as opaque IP payload. */
		p->kind = CP_KIND_OTHER;
		p->l4_off = off + ihl;
		p->pl_off = off + ihl;
		p->pl_len = tot - ihl;
		return 0;
	}
	/* Bytes after tot (Ethernet padding) are not part of the packet. */
	return parse_l4(f, off + ihl, off + tot, head, p);
}

static int parse_ipv6(const u8 *f, u32 off, u32 len, u32 head,
		      struct cp_pkt *p)
{
	u32 end, nh_off;
	u8 nh;
	int n;

	if (off + 40 > head || (f[off] >> 4) != 6)
		return -1;
	end = off + 40 + cp_get16(f + off + 4);
	if (end > len)
		return -1;
	p->family = 6;
	memcpy(p->saddr, f + off + 8, 16);
	memcpy(p->daddr, f + off + 24, 16);
	nh = f[off + 6];
	nh_off = off + 40;
	for (n = 0; n < CP_MAX_EXTHDR; n++) {
		switch (nh) {
		case IPP_HOPOPTS:
		case IPP_ROUTING:
		case IPP_DSTOPTS:
			if (nh_off + 8 > end || nh_off + 8 > head)
				return -1;
			nh = f[nh_off];
			nh_off += (f[nh_off + 1] + 1) * 8u;
			break;
		case IPP_AH:
			if (nh_off + 8 > end || nh_off + 8 > head)
				return -1;
			nh = f[nh_off];
			nh_off += (f[nh_off + 1] + 2) * 4u;
			break;
		case IPP_FRAGMENT:
			if (nh_off + 8 > end || nh_off + 8 > head)
				return -1;
			p->proto = f[nh_off];
			/* A fragment (even the first): opaque payload. */
			if (cp_get16(f + nh_off + 2) & 0xfff9) {
				p->kind = CP_KIND_OTHER;
				p->l4_off = nh_off + 8;
				p->pl_off = nh_off + 8;
				p->pl_len = end - (nh_off + 8);
				return 0;
			}
			nh = f[nh_off];
			nh_off += 8;
			break;
		default:
			if (nh_off > end)
				return -1;
			p->proto = nh;
			if (nh == IPP_NONE) {
				p->kind = CP_KIND_OTHER;
				p->l4_off = nh_off;
				p->pl_off = nh_off;
				p->pl_len = end - nh_off;
				return 0;
			}
			return parse_l4(f, nh_off, end, head, p);
		}
		if (nh_off > end)
			return -1;
	}
	/* Longer extension header chains than any real stack sends. */
	return -1;
}

int cp_parse_head(const u8 *f, u32 head, u32 len, struct cp_pkt *p)
{
	u32 off = 12;
	u16 type;
	int vlans = 0;

	memset(p, 0, sizeof(*p));
	if (head > len || head < ETH_HLEN_)
		return -1;
	type = cp_get16(f + off);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
		if (++vlans > CP_MAX_VLAN || off + 6 > head)
			return -1;
		off += 4;
		type = cp_get16(f + off);
	}
	off += 2;
	p->l3_off = off;
	switch (type) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(f, off, len, head, p);
	case ETHERTYPE_IPV6:
		return parse_ipv6(f, off, len, head, p);
	case ETHERTYPE_ARP:
		p->kind = CP_KIND_ARP;
		return 0;
	default:
		p->kind = CP_KIND_NON_IP;
		return 0;
	}
}

int cp_parse_frame(const u8 *f, u32 len, struct cp_pkt *p)
{
	return cp_parse_head(f, len, len, p);
}
