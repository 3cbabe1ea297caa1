// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy frame parser: field extraction for IPv4/IPv6 (with extension
 * headers), VLAN tags, TCP options, and rejection of truncated or
 * inconsistent frames without reading past the end (ASan checks that).
 */
#include <stdio.h>

#include "tap.h"
#include "test_proxy_frames.h"
#include "colo_proxy/parse.h"

static int parse_exact(const uint8_t *f, uint32_t len, struct cp_pkt *p)
{
	uint8_t *c = tb_exact(f, len);
	int r = cp_parse_frame(c, len, p);

	free(c);
	return r;
}

static void test_ipv4_tcp(void)
{
	uint8_t f[2048];
	struct cp_pkt p;
	struct tb_tcp t = { .family = 4, .seq = 0xfffffff0, .ack = 7,
			    .flags = CP_TCP_ACK | CP_TCP_PSH, .ts = 1,
			    .tsval = 111, .tsecr = 222, .sack = 2,
			    .sack_edges = { 1, 2, 3, 4 }, .data = "hello",
			    .len = 5 };
	uint32_t len = tb_build_tcp(f, &t);

	tap_check(parse_exact(f, len, &p) == 0, "ipv4 tcp parses");
	tap_check(p.kind == CP_KIND_TCP && p.family == 4 && p.proto == 6,
		  "ipv4 tcp kind/family");
	tap_check(p.seq == 0xfffffff0 && p.ack == 7 &&
		  p.tcp_flags == (CP_TCP_ACK | CP_TCP_PSH), "tcp seq/ack/flags");
	tap_check(p.sport == 8080 && p.dport == 40000, "tcp ports");
	tap_check(p.ts_off && p.tsval == 111 && p.tsecr == 222, "timestamp option");
	tap_check(p.sack_blocks == 2 && cp_get32(f + p.sack_off + 12) == 4,
		  "sack blocks located");
	tap_check(p.pl_len == 5 && !memcmp(f + p.pl_off, "hello", 5), "payload located");
	tap_check(!memcmp(p.saddr, "\x0a\x00\x00\x02", 4), "source address");
	tap_check(tb_l4_verify(f, 4, 14, p.l4_off, len, 6) == 0, "builder checksum valid");
}

static void test_truncations(int family)
{
	uint8_t f[2048];
	struct cp_pkt p;
	struct tb_tcp t = { .family = family, .seq = 1, .ack = 2,
			    .flags = CP_TCP_ACK, .ts = 1, .sack = 1,
			    .data = "payload!", .len = 8 };
	uint32_t len = tb_build_tcp(f, &t), n;
	int bad = 0;

	/* Every proper prefix cuts into a header or the IP length. */
	for (n = 0; n < len; n++)
		if (parse_exact(f, n, &p) == 0)
			bad++;
	tap_check(bad == 0, "ipv%d: all %u truncations rejected", family, len);
	/* Ethernet padding after the IP packet is ignored. */
	tap_check(parse_exact(f, len + 20, &p) == 0 && p.pl_len == 8,
		  "ipv%d: trailing padding ignored", family);
}

static void test_bad_headers(void)
{
	uint8_t f[2048], g[2048];
	struct cp_pkt p;
	struct tb_tcp t = { .family = 4, .flags = CP_TCP_ACK, .ts = 1 };
	uint32_t len = tb_build_tcp(f, &t);

	memcpy(g, f, len);
	g[14] = 0x44;		/* IHL 16 bytes */
	tap_check(parse_exact(g, len, &p) < 0, "ipv4 ihl < 5 rejected");
	memcpy(g, f, len);
	cp_put16(g + 16, len);	/* tot_len beyond frame */
	tap_check(parse_exact(g, len, &p) < 0, "ipv4 tot_len > frame rejected");
	memcpy(g, f, len);
	g[34 + 12] = 0x40;	/* doff 4 */
	tap_check(parse_exact(g, len, &p) < 0, "tcp doff < 5 rejected");
	memcpy(g, f, len);
	g[34 + 12] = 0xf0;	/* doff 60 > available */
	tap_check(parse_exact(g, len, &p) < 0, "tcp doff beyond packet rejected");
	memcpy(g, f, len);
	g[34 + 20 + 3] = 40;	/* timestamp option length overflows */
	tap_check(parse_exact(g, len, &p) < 0, "tcp option length overflow rejected");
	memcpy(g, f, len);
	g[34 + 20 + 3] = 1;	/* option length < 2 */
	tap_check(parse_exact(g, len, &p) < 0, "tcp option length < 2 rejected");
	memcpy(g, f, len);
	g[14] = 0x65;		/* version 6 in an IPv4 frame */
	tap_check(parse_exact(g, len, &p) < 0, "ip version mismatch rejected");
}

static void test_vlan(void)
{
	uint8_t f[2048], g[2100];
	struct cp_pkt p;
	struct tb_tcp t = { .family = 6, .flags = CP_TCP_SYN, .seq = 5 };
	uint32_t len = tb_build_tcp(f, &t);

	memcpy(g, f, 12);
	memcpy(g + 12, "\x81\x00\x00\x05", 4);
	memcpy(g + 16, f + 12, len - 12);
	tap_check(parse_exact(g, len + 4, &p) == 0 && p.kind == CP_KIND_TCP &&
		  p.l3_off == 18 && p.seq == 5, "802.1Q tagged ipv6 tcp");
	memcpy(g + 12, "\x88\xa8\x00\x05\x81\x00\x00\x06", 8);
	memcpy(g + 20, f + 12, len - 12);
	tap_check(parse_exact(g, len + 8, &p) == 0 && p.l3_off == 22,
		  "802.1ad + 802.1Q stacked tags");
	memcpy(g + 12, "\x81\x00\x00\x05\x81\x00\x00\x06\x81\x00\x00\x07", 12);
	memcpy(g + 24, f + 12, len - 12);
	tap_check(parse_exact(g, len + 12, &p) < 0, "three tags rejected");
	tap_check(parse_exact(g, 17, &p) < 0, "tag cut short rejected");
}

static void test_ipv6_ext(void)
{
	uint8_t f[2048], g[2100];
	struct cp_pkt p;
	struct tb_tcp t = { .family = 6, .flags = CP_TCP_ACK, .seq = 9,
			    .data = "xy", .len = 2 };
	uint32_t len = tb_build_tcp(f, &t);

	/* Insert hop-by-hop (8 bytes) then destination options (16 bytes). */
	memcpy(g, f, 54);
	g[20] = 0;		/* next header: hop-by-hop */
	memset(g + 54, 0, 24);
	g[54] = 60;		/* -> dstopts */
	g[55] = 0;
	g[62] = 6;		/* -> tcp */
	g[63] = 1;		/* 16 bytes */
	memcpy(g + 78, f + 54, len - 54);
	cp_put16(g + 18, cp_get16(f + 18) + 24);
	tap_check(parse_exact(g, len + 24, &p) == 0 && p.kind == CP_KIND_TCP &&
		  p.l4_off == 78 && p.seq == 9 && p.pl_len == 2,
		  "ipv6 hop-by-hop + dstopts skipped");
	g[63] = 200;		/* dstopts claims more than the packet */
	tap_check(parse_exact(g, len + 24, &p) < 0, "ipv6 ext header overflow rejected");
	/* Fragment header with offset: opaque payload. */
	memcpy(g, f, 54);
	g[20] = 44;
	memset(g + 54, 0, 8);
	g[54] = 6;
	cp_put16(g + 56, 0x0009);	/* offset 1, M */
	memcpy(g + 62, f + 54, len - 54);
	cp_put16(g + 18, cp_get16(f + 18) + 8);
	tap_check(parse_exact(g, len + 8, &p) == 0 && p.kind == CP_KIND_OTHER,
		  "ipv6 fragment is opaque payload");
	/* Neighbour solicitation. */
	memcpy(g, f, 54);
	g[20] = 58;
	g[54] = 135;
	cp_put16(g + 18, 24);
	memset(g + 55, 0, 23);
	tap_check(parse_exact(g, 78, &p) == 0 && p.kind == CP_KIND_ND,
		  "icmpv6 neighbour solicitation classified ND");
	g[54] = 128;
	tap_check(parse_exact(g, 78, &p) == 0 && p.kind == CP_KIND_ICMP,
		  "icmpv6 echo classified ICMP");
}

static void test_other(void)
{
	uint8_t f[2048];
	struct cp_pkt p;
	struct tb_tcp t = { .family = 4, .flags = CP_TCP_ACK };
	uint32_t len = tb_build_tcp(f, &t);

	cp_put16(f + 20, 0x2000);	/* MF */
	tap_check(parse_exact(f, len, &p) == 0 && p.kind == CP_KIND_OTHER &&
		  p.pl_len == len - 34, "ipv4 first fragment is opaque payload");
	cp_put16(f + 12, 0x0806);
	tap_check(parse_exact(f, 42, &p) == 0 && p.kind == CP_KIND_ARP, "arp");
	cp_put16(f + 12, 0x88cc);
	tap_check(parse_exact(f, 60, &p) == 0 && p.kind == CP_KIND_NON_IP, "lldp is non-ip");
	tap_check(parse_exact(f, 13, &p) < 0, "runt frame rejected");
}

/*
 * Only the headers readable (the kernel keeps a GSO frame's payload in
 * pages): the parse succeeds exactly when the head holds every header, and
 * then locates the payload beyond the head. The copy is cut at the head, so
 * ASan sees any read past it.
 */
static void test_head(int family)
{
	uint8_t f[2048];
	struct cp_pkt p, whole;
	struct tb_tcp t = { .family = family, .seq = 9, .ack = 2,
			    .flags = CP_TCP_ACK, .ts = 1, .sack = 1,
			    .data = "payload beyond the head", .len = 23 };
	uint32_t len = tb_build_tcp(f, &t), head;
	int wrong = 0;

	cp_parse_frame(f, len, &whole);
	for (head = 0; head <= len; head++) {
		uint8_t *c = tb_exact(f, head);
		int r = cp_parse_head(c, head, len, &p);

		if (head < whole.pl_off ? r == 0 :
		    r != 0 || p.pl_off != whole.pl_off || p.pl_len != 23 ||
		    p.seq != 9 || p.tsval != whole.tsval)
			wrong++;
		free(c);
	}
	tap_check(wrong == 0, "ipv%d: parse with only the first N bytes readable, N = 0..%u",
		  family, len);
	tap_check(cp_parse_head(f, len + 1, len, &p) < 0, "ipv%d: head longer than the frame rejected",
		  family);
}

int main(void)
{
	test_ipv4_tcp();
	test_truncations(4);
	test_truncations(6);
	test_bad_headers();
	test_vlan();
	test_ipv6_ext();
	test_other();
	test_head(4);
	test_head(6);
	return tap_done();
}
