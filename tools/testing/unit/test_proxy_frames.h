/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frame builders shared by the colo_proxy unit tests: Ethernet + IPv4/IPv6 +
 * TCP/UDP with a correct checksum, so rewriting can be checked against a full
 * recomputation.
 */
#ifndef TEST_PROXY_FRAMES_H
#define TEST_PROXY_FRAMES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_proxy/cp_compat.h"

struct tb_tcp {
	int family;		/* 4 or 6 */
	uint32_t seq, ack;
	uint8_t flags;
	int ts;			/* add a timestamp option */
	int ts_odd;		/* ... at an odd offset (one NOP before it, not two) */
	uint32_t tsval, tsecr;
	int sack;		/* number of SACK blocks */
	uint32_t sack_edges[8];
	int wscale;		/* window scale option: shift + 1, 0 for none */
	uint16_t window;	/* window field */
	const void *data;
	uint32_t len;
};

static inline uint32_t tb_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t tb_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Checksum over pseudo-header + L4 segment; 0 means the frame is valid. */
static inline uint16_t tb_l4_verify(const uint8_t *f, int family, uint32_t l3, uint32_t l4,
			     uint32_t end, uint8_t proto)
{
	uint32_t sum = 0;

	if (family == 4)
		sum = tb_sum(f + l3 + 12, 8, 0);
	else
		sum = tb_sum(f + l3 + 8, 32, 0);
	sum += proto + (end - l4);
	sum = tb_sum(f + l4, end - l4, sum);
	return tb_fold(sum);
}

/* Builds into @f (at least 2048 bytes); returns the frame length. */
static inline uint32_t tb_build_tcp(uint8_t *f, const struct tb_tcp *t)
{
	uint32_t l3 = 14, l4, opt, hl, end;
	int i;

	memset(f, 0, 2048);
	memcpy(f, "\x52\x54\x00\x00\x00\x01\x52\x54\x00\x00\x00\x02", 12);
	l4 = l3 + (t->family == 4 ? 20 : 40);
	opt = l4 + 20;
	if (t->ts && t->ts_odd) {
		memcpy(f + opt, "\x01\x08\x0a", 3);
		cp_put32(f + opt + 3, t->tsval);
		cp_put32(f + opt + 7, t->tsecr);
		opt += 12;
	} else if (t->ts) {
		memcpy(f + opt, "\x01\x01\x08\x0a", 4);
		cp_put32(f + opt + 4, t->tsval);
		cp_put32(f + opt + 8, t->tsecr);
		opt += 12;
	}
	if (t->wscale) {
		memcpy(f + opt, "\x01\x03\x03", 3);
		f[opt + 3] = t->wscale - 1;
		opt += 4;
	}
	if (t->sack) {
		f[opt] = 1;
		f[opt + 1] = 1;
		f[opt + 2] = 5;
		f[opt + 3] = 2 + 8 * t->sack;
		for (i = 0; i < 2 * t->sack; i++)
			cp_put32(f + opt + 4 + 4 * i, t->sack_edges[i]);
		opt += 4 + 8 * t->sack;
	}
	hl = opt - l4;
	end = opt + t->len;
	if (t->len)
		memcpy(f + opt, t->data, t->len);
	if (t->family == 4) {
		cp_put16(f + 12, 0x0800);
		f[l3] = 0x45;
		cp_put16(f + l3 + 2, end - l3);
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		memcpy(f + l3 + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
		cp_put16(f + l3 + 10, tb_fold(tb_sum(f + l3, 20, 0)));
	} else {
		cp_put16(f + 12, 0x86dd);
		f[l3] = 0x60;
		cp_put16(f + l3 + 4, end - l4);
		f[l3 + 6] = 6;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfd;
		f[l3 + 23] = 2;
		f[l3 + 24] = 0xfd;
		f[l3 + 39] = 1;
	}
	cp_put16(f + l4, 8080);
	cp_put16(f + l4 + 2, 40000);
	cp_put32(f + l4 + 4, t->seq);
	cp_put32(f + l4 + 8, t->ack);
	f[l4 + 12] = (hl / 4) << 4;
	f[l4 + 13] = t->flags;
	cp_put16(f + l4 + 14, t->window);
	cp_put16(f + l4 + 16, tb_l4_verify(f, t->family, l3, l4, end, 6));
	return end;
}

/* Copy to an exactly sized heap buffer so ASan catches any overread. */
static inline uint8_t *tb_exact(const uint8_t *f, uint32_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	memcpy(p, f, len);
	return p;
}

#endif
