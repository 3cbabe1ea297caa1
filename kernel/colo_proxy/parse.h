/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ethernet frame parser: classifies a frame and locates the fields the
 * compare engine and the TCP rewriter need. Never reads past @len.
 */
#ifndef COLO_PROXY_PARSE_H
#define COLO_PROXY_PARSE_H

#include "cp_compat.h"

enum cp_kind {
	CP_KIND_NON_IP,		/* not IPv4/IPv6/ARP: passes, never compared */
	CP_KIND_ARP,		/* ARP: passes, never compared (see docs) */
	CP_KIND_ND,		/* ICMPv6 ND/MLD, IGMP: like ARP */
	CP_KIND_TCP,
	CP_KIND_UDP,
	CP_KIND_ICMP,		/* ICMP or ICMPv6 (not ND) */
	CP_KIND_OTHER,		/* other IP protocol, or an IP fragment */
};

#define CP_TCP_FIN 0x01
#define CP_TCP_SYN 0x02
#define CP_TCP_RST 0x04
#define CP_TCP_PSH 0x08
#define CP_TCP_ACK 0x10

#define CP_SACK_MAX 4

struct cp_pkt {
	u8 kind;
	u8 family;		/* 4 or 6, 0 for non-IP */
	u8 proto;		/* IP protocol of the transport header */
	u8 tcp_flags;
	u8 saddr[16], daddr[16];	/* IPv4 in the first 4 bytes */
	u16 sport, dport;	/* 0 unless TCP/UDP */
	u16 l3_off;		/* offsets from the start of the frame */
	u16 l4_off;
	u16 csum_off;		/* TCP checksum field, 0 if not TCP */
	u16 ts_off;		/* TCP timestamp option value (TSval), 0 if none */
	u16 wscale_off;		/* TCP window scale option value, 0 if none */
	u16 window;		/* TCP window field, unscaled */
	u16 sack_off;		/* first SACK block, 0 if none */
	u8 sack_blocks;
	u32 pl_off;		/* payload to compare */
	u32 pl_len;
	u32 seq, ack;		/* TCP */
	u32 tsval, tsecr;	/* valid when ts_off != 0 */
};

/*
 * Parse a frame of @len bytes of which only the first @head are readable
 * (the headers; payload offsets may point beyond). Returns 0 on success, -1
 * if the frame is truncated or malformed or a header reaches past @head.
 */
int cp_parse_head(const u8 *frame, u32 head, u32 len, struct cp_pkt *pkt);

/* The same, for a frame that is readable as a whole. */
int cp_parse_frame(const u8 *frame, u32 len, struct cp_pkt *pkt);

#endif /* COLO_PROXY_PARSE_H */
