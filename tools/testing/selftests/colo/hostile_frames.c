// SPDX-License-Identifier: GPL-2.0
/*
 * Write random and malformed Ethernet frames onto one interface through a
 * packet socket: truncated headers, bad IHL and TCP data offsets, IPv4
 * fragments, IPv6 extension-header chains, VLAN and QinQ tags, zero-length
 * and lying UDP lengths, TCP with every flag combination, ARP, and frames cut
 * at any byte. Addresses stay inside the test's own subnets (the addresses
 * given, varied in their last byte), so nothing is aimed anywhere else.
 *
 * Usage: hostile_frames IFNAME COUNT SEED IPV4_A IPV4_B IPV6_A IPV6_B
 * Prints "sent=N refused=N distinct=N" (distinct among the frames sent).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.h"

#define FRAME_MAX 2048

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

static void put8(struct frame *f, uint8_t v)
{
	if (f->len < FRAME_MAX)
		f->b[f->len++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void put_bytes(struct frame *f, const void *p, size_t n)
{
	while (n-- && f->len < FRAME_MAX)
		f->b[f->len++] = *(const uint8_t *)p++;
}

static void put_random(struct frame *f, size_t n)
{
	while (n--)
		put8(f, rnd());
}

static struct in_addr v4[2];
static struct in6_addr v6[2];

static void put_v4_addr(struct frame *f, int which)
{
	struct in_addr a = v4[which];

	if (rnd_below(4) == 0)	/* another host of the same /24 */
		((uint8_t *)&a)[3] = rnd();
	put_bytes(f, &a, 4);
}

static void put_v6_addr(struct frame *f, int which)
{
	struct in6_addr a = v6[which];

	if (rnd_below(4) == 0)
		a.s6_addr[15] = rnd();
	put_bytes(f, &a, 16);
}

/* Echo, unreachable, time exceeded (v4 and v6), neighbour solicit/advert. */
static const uint8_t icmp_types[] = { 0, 3, 8, 11, 1, 3, 128, 129, 135, 136 };

/* Transport header and payload for protocol proto. */
static void put_l4(struct frame *f, uint8_t proto)
{
	size_t payload = rnd_below(4) ? rnd_below(64) : rnd_below(1400);

	switch (proto) {
	case IPPROTO_TCP: {
		uint8_t doff = rnd_below(3) ? 5 + rnd_below(11) : rnd_below(16);

		put16(f, rnd_below(2) ? 7000 + rnd_below(4) : rnd());
		put16(f, rnd_below(2) ? 7000 + rnd_below(4) : rnd());
		put16(f, rnd());
		put16(f, rnd());	/* seq */
		put16(f, rnd());
		put16(f, rnd());	/* ack */
		put8(f, doff << 4);
		put8(f, rnd());		/* every flag combination over time */
		put16(f, rnd());	/* window */
		put16(f, rnd());	/* checksum */
		put16(f, rnd());	/* urgent */
		if (doff > 5) {
			/* options: timestamps, SACK, junk kinds and lengths */
			size_t i, n = (doff - 5) * 4;

			for (i = 0; i < n; i++) {
				static const uint8_t kinds[] = { 0, 1, 2, 3, 4, 5, 8, 10, 255 };

				put8(f, rnd_below(3) ? kinds[rnd_below(sizeof(kinds))] : rnd());
			}
		}
		break;
	}
	case IPPROTO_UDP:
		put16(f, rnd_below(2) ? 7000 + rnd_below(4) : rnd());
		put16(f, rnd_below(2) ? 7000 + rnd_below(4) : rnd());
		switch (rnd_below(4)) {
		case 0:
			put16(f, 0);
			break;
		case 1:
			put16(f, rnd_below(8));
			break;
		case 2:
			put16(f, rnd());
			break;
		default:
			put16(f, 8 + payload);
		}
		put16(f, rnd_below(2) ? 0 : rnd());
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put8(f, rnd_below(2) ? icmp_types[rnd_below(sizeof(icmp_types))] : rnd());
		put8(f, rnd_below(4));
		put16(f, rnd());
		put16(f, rnd());
		put16(f, rnd());
		break;
	}
	put_random(f, payload);
}

static uint8_t pick_l4(void)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
					  IPPROTO_ICMPV6, IPPROTO_GRE, 0, 255 };

	return protos[rnd_below(sizeof(protos))];
}

static void put_ipv4(struct frame *f)
{
	size_t start = f->len;
	uint8_t ihl = rnd_below(4) ? 5 + rnd_below(2) * rnd_below(11) : rnd_below(16);
	uint8_t proto = pick_l4();
	size_t i;

	put8(f, (rnd_below(16) ? 4 : rnd_below(16)) << 4 | ihl);
	put8(f, rnd());
	put16(f, 0);		/* total length, set below */
	put16(f, rnd());
	switch (rnd_below(4)) {	/* fragments: first, middle, last, none */
	case 0:
		put16(f, 0x2000);
		break;
	case 1:
		put16(f, 0x2000 | rnd_below(0x1fff));
		break;
	case 2:
		put16(f, rnd_below(0x1fff));
		break;
	default:
		put16(f, rnd_below(2) ? 0x4000 : 0);
	}
	put8(f, 1 + rnd_below(64));
	put8(f, proto);
	put16(f, rnd());
	put_v4_addr(f, rnd_below(2));
	put_v4_addr(f, rnd_below(2));
	for (i = 20; i < (size_t)ihl * 4; i++)
		put8(f, rnd_below(2) ? 1 : rnd());	/* NOPs and junk options */
	put_l4(f, proto);
	{
		uint16_t tot = rnd_below(4) ? f->len - start : rnd();

		f->b[start + 2] = tot >> 8;
		f->b[start + 3] = tot & 0xff;
	}
}

static void put_ipv6(struct frame *f)
{
	size_t start = f->len, nexthdr_at;
	int hops = rnd_below(4) ? rnd_below(3) : rnd_below(12);
	uint8_t proto = pick_l4();

	put8(f, (rnd_below(16) ? 6 : rnd_below(16)) << 4);
	put_random(f, 3);
	put16(f, 0);		/* payload length, set below */
	nexthdr_at = f->len;
	put8(f, 0);
	put8(f, 64);
	put_v6_addr(f, rnd_below(2));
	put_v6_addr(f, rnd_below(2));
	while (hops--) {
		static const uint8_t ext[] = { 0, 43, 44, 60, 51, 59, 135 };
		uint8_t type = ext[rnd_below(sizeof(ext))];
		uint8_t hdrlen = rnd_below(4) ? rnd_below(3) : rnd();

		f->b[nexthdr_at] = type;
		nexthdr_at = f->len;
		put8(f, 0);
		if (type == 44) {	/* fragment header: fixed 8 bytes */
			put8(f, 0);
			put16(f, rnd());
			put_random(f, 4);
		} else {
			put8(f, hdrlen);
			put_random(f, 6 + rnd_below(2) * (size_t)hdrlen * 8);
		}
	}
	f->b[nexthdr_at] = proto;
	put_l4(f, proto);
	{
		uint16_t plen = rnd_below(4) ? f->len - start - 40 : rnd();

		f->b[start + 4] = plen >> 8;
		f->b[start + 5] = plen & 0xff;
	}
}

static void build(struct frame *f, const uint8_t *dst_mac, const uint8_t *src_mac)
{
	int tags = rnd_below(4) ? 0 : 1 + rnd_below(2);
	uint32_t kind = rnd_below(10);

	f->len = 0;
	put_bytes(f, dst_mac, 6);
	if (rnd_below(8) == 0)
		f->b[0] = 0xff;	/* broadcast-ish */
	put_bytes(f, src_mac, 6);
	while (tags--) {
		put16(f, rnd_below(2) ? 0x8100 : 0x88a8);
		put16(f, rnd_below(4096));
	}
	if (kind < 4) {
		put16(f, ETHERTYPE_IP);
		put_ipv4(f);
	} else if (kind < 8) {
		put16(f, ETHERTYPE_IPV6);
		put_ipv6(f);
	} else if (kind < 9) {
		put16(f, ETHERTYPE_ARP);
		put16(f, 1);
		put16(f, ETHERTYPE_IP);
		put8(f, 6);
		put8(f, 4);
		put16(f, 1 + rnd_below(2));
		put_bytes(f, src_mac, 6);
		put_v4_addr(f, 0);
		put_random(f, 6);
		put_v4_addr(f, 1);
	} else {
		put16(f, rnd());
		put_random(f, rnd_below(200));
	}
	if (rnd_below(4) == 0)		/* cut anywhere */
		f->len = 1 + rnd_below(f->len);
}

int main(int argc, char **argv)
{
	static const uint8_t mac_a[6] = { 0x02, 0xc0, 0x10, 0, 0, 1 };
	static const uint8_t mac_b[6] = { 0x02, 0xc0, 0x10, 0, 0, 2 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned long count, i, sent = 0, refused = 0, distinct = 0;
	struct pollfd pfd = { .events = POLLOUT };
	struct frame f;
	int fd;

	if (argc != 8 || inet_pton(AF_INET, argv[4], &v4[0]) != 1 ||
	    inet_pton(AF_INET, argv[5], &v4[1]) != 1 || inet_pton(AF_INET6, argv[6], &v6[0]) != 1 ||
	    inet_pton(AF_INET6, argv[7], &v6[1]) != 1) {
		fprintf(stderr, "usage: %s IFNAME COUNT SEED IPV4_A IPV4_B IPV6_A IPV6_B\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[2], NULL, 0);
	hostile_seed(strtoull(argv[3], NULL, 0));
	ll.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	pfd.fd = fd;
	if (!ll.sll_ifindex || fd < 0 || hostile_seen_init()) {
		fprintf(stderr, "hostile_frames: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < count; i++) {
		build(&f, rnd_below(2) ? mac_a : mac_b, rnd_below(2) ? mac_b : mac_a);
		/* Never block: a proxy rightly holds the guest's frames (and so
		 * their socket memory) until the next checkpoint. Wait a little
		 * for room once, then count the frame as refused.
		 */
		if (sendto(fd, f.b, f.len, MSG_DONTWAIT, (struct sockaddr *)&ll, sizeof(ll)) < 0 &&
		    (errno != EAGAIN || poll(&pfd, 1, 100) <= 0 ||
		     sendto(fd, f.b, f.len, MSG_DONTWAIT, (struct sockaddr *)&ll, sizeof(ll)) < 0)) {
			refused++;	/* too short for the device, or no room */
			continue;
		}
		sent++;
		distinct += hostile_remember(f.b, f.len, 0);
	}
	printf("sent=%lu refused=%lu distinct=%lu\n", sent, refused, distinct);
	close(fd);
	return 0;
}
