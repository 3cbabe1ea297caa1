// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the neighbour table and answers. Input: a sequence of records
 * [kind:1][len:1][frame:len]; kind bit 0: a mirrored frame to learn from
 * (else a frame of the SVM to answer), bit 1: checksum not final. Each frame
 * is copied to an exactly sized buffer (ASan sees any overread).
 * Invariants: no two bindings for one address, no multicast or zero MAC
 * bound; an answer is a 42-byte ARP reply or an 86-byte NA that the frame
 * parser reads back as such, with a valid ICMPv6 checksum, from the bound
 * MAC address for the address asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_proxy/neigh.h"
#include "colo_proxy/parse.h"

static void check_table(const struct cp_neigh_table *t)
{
	int i, j;

	for (i = 0; i < CP_NEIGH_MAX; i++) {
		const struct cp_neigh_entry *a = &t->e[i];

		if (!a->family)
			continue;
		if ((a->family != 4 && a->family != 6) || (a->mac[0] & 1))
			abort();
		for (j = i + 1; j < CP_NEIGH_MAX; j++)
			if (t->e[j].family == a->family &&
			    !memcmp(t->e[j].addr, a->addr, a->family == 4 ? 4 : 16))
				abort();
	}
}

static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static void check_answer(const struct cp_neigh_table *t, const uint8_t *out, int n)
{
	const struct cp_neigh_entry *e;
	struct cp_pkt p;
	uint32_t sum;

	if (n == 42) {
		if (cp_parse_frame(out, n, &p) || p.kind != CP_KIND_ARP ||
		    cp_get16(out + 20) != 2)
			abort();
		e = cp_neigh_lookup(t, 4, out + 28);
		if (!e || memcmp(e->mac, out + 22, 6) || memcmp(e->mac, out + 6, 6))
			abort();
		return;
	}
	if (n != 86 || cp_parse_frame(out, n, &p) || p.kind != CP_KIND_ND ||
	    p.family != 6 || out[54] != 136 || out[21] != 255)
		abort();
	sum = sum16(out + 22, 32, 0) + 32 + 58;
	sum = sum16(out + 54, 32, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		abort();
	e = cp_neigh_lookup(t, 6, out + 62);
	if (!e || memcmp(e->mac, out + 80, 6) || memcmp(e->mac, out + 6, 6) ||
	    memcmp(out + 22, out + 62, 16) || !!(out[58] & 0x80) != e->router)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cp_neigh_table t;
	uint8_t out[CP_NEIGH_ANSWER_MAX];
	uint64_t now = 0;
	size_t off = 0;

	cp_neigh_init(&t);
	while (off + 2 <= size) {
		uint8_t kind = data[off], len = data[off + 1];
		uint8_t *f;
		int n;

		off += 2;
		if (len > size - off)
			len = size - off;
		f = malloc(len ? len : 1);
		memcpy(f, data + off, len);
		off += len;
		if (kind & 1) {
			cp_neigh_learn(&t, f, len, kind & 2, now++);
			check_table(&t);
		} else {
			memset(out, 0xa5, sizeof(out));
			n = cp_neigh_answer(&t, f, len, kind & 2, out);
			if (n > 0)
				check_answer(&t, out, n);
			else if (n < -1)
				abort();
		}
		free(f);
	}
	return 0;
}
