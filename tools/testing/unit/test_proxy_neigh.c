// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy neighbour answers: bindings learned from mirrored ARP and
 * neighbour discovery, answers to the SVM's ARP requests and neighbour
 * solicitations (fields, checksum), what is never answered (duplicate
 * address detection, ARP probes, gratuitous ARP), the bounded table, and
 * malformed or truncated frames read without overrun (ASan checks that).
 */
#include <stdio.h>

#include "tap.h"
#include "test_proxy_frames.h"
#include "colo_proxy/neigh.h"

static const uint8_t GMAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t CMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t RMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t G4[4] = { 10, 0, 0, 2 }, C4[4] = { 10, 0, 0, 1 };
static const uint8_t G6[16] = { 0xfd, [15] = 2 }, C6[16] = { 0xfd, [15] = 1 };
static const uint8_t LL6[16] = { 0xfe, 0x80, [15] = 0x99 };
static const uint8_t ZERO6[16];

static uint32_t arp(uint8_t *f, uint16_t op, const uint8_t *ethdst, const uint8_t *sha,
		    const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	memset(f, 0, 64);
	memcpy(f, ethdst, 6);
	memcpy(f + 6, sha, 6);
	cp_put16(f + 12, 0x0806);
	cp_put16(f + 14, 1);
	cp_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	cp_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
	return 60;		/* padded, as on the wire */
}

struct nd {
	uint8_t type, flags, hop;
	const uint8_t *src, *dst, *target;
	uint8_t opt;		/* option type, 0 for none */
	uint8_t optlen;		/* in units of 8 bytes (1 for Ethernet) */
	const uint8_t *mac;
};

static uint32_t nd(uint8_t *f, const struct nd *n)
{
	uint32_t body = n->type == 134 ? 16 : 24, mlen, sum;
	uint8_t *ip = f + 14, *m = f + 54;

	memset(f, 0, 256);
	memcpy(f, GMAC, 6);
	memcpy(f + 6, n->mac ? n->mac : CMAC, 6);
	cp_put16(f + 12, 0x86dd);
	ip[0] = 0x60;
	ip[6] = 58;
	ip[7] = n->hop ? n->hop : 255;
	memcpy(ip + 8, n->src, 16);
	memcpy(ip + 24, n->dst, 16);
	m[0] = n->type;
	m[4] = n->flags;
	if (n->target)
		memcpy(m + 8, n->target, 16);
	mlen = body;
	if (n->opt) {
		m[mlen] = n->opt;
		m[mlen + 1] = n->optlen;
		if (n->mac && n->optlen)
			memcpy(m + mlen + 2, n->mac, 6);
		mlen += n->optlen ? n->optlen * 8u : 8;
	}
	cp_put16(ip + 4, mlen);
	sum = tb_sum(ip + 8, 32, 0) + mlen + 58;
	cp_put16(m + 2, tb_fold(tb_sum(m, mlen, sum)));
	return 54 + mlen;
}

static enum cp_neigh_learned learn(struct cp_neigh_table *t, const uint8_t *f,
				   uint32_t len, bool partial, uint64_t now)
{
	uint8_t *c = tb_exact(f, len);
	enum cp_neigh_learned r = cp_neigh_learn(t, c, len, partial, now);

	free(c);
	return r;
}

static int answer(const struct cp_neigh_table *t, const uint8_t *f, uint32_t len,
		  uint8_t *out)
{
	uint8_t *c = tb_exact(f, len);
	int r = cp_neigh_answer(t, c, len, false, out);

	free(c);
	return r;
}

static void test_arp(void)
{
	struct cp_neigh_table t;
	uint8_t f[256], out[CP_NEIGH_ANSWER_MAX];
	uint32_t len;
	int n;

	cp_neigh_init(&t);
	/* The SVM asks before anything is known: no answer, counted. */
	len = arp(f, 1, BCAST, GMAC, G4, ZERO6, C4);
	tap_check(answer(&t, f, len, out) == -1, "arp: request for an unknown address: -1");
	/* The client's reply to the PVM's request, mirrored. */
	len = arp(f, 2, GMAC, CMAC, C4, GMAC, G4);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_LEARNED, "arp: reply learned");
	tap_check(cp_neigh_lookup(&t, 4, C4) && !memcmp(cp_neigh_lookup(&t, 4, C4)->mac, CMAC, 6),
		  "arp: binding holds the sender's address");
	len = arp(f, 1, BCAST, GMAC, G4, ZERO6, C4);
	n = answer(&t, f, len, out);
	tap_check(n == 42, "arp: the SVM's request answered (%d bytes)", n);
	tap_check(!memcmp(out, GMAC, 6) && !memcmp(out + 6, CMAC, 6) &&
		  cp_get16(out + 12) == 0x0806, "arp answer: to the requester, from the neighbour");
	tap_check(cp_get16(out + 14) == 1 && cp_get16(out + 16) == 0x0800 && out[18] == 6 &&
		  out[19] == 4 && cp_get16(out + 20) == 2, "arp answer: an Ethernet/IPv4 reply");
	tap_check(!memcmp(out + 22, CMAC, 6) && !memcmp(out + 28, C4, 4) &&
		  !memcmp(out + 32, GMAC, 6) && !memcmp(out + 38, G4, 4),
		  "arp answer: sender is the neighbour, target the requester");
	/* A unicast re-probe (the SVM's entry in PROBE state) too. */
	len = arp(f, 1, CMAC, GMAC, G4, ZERO6, C4);
	tap_check(answer(&t, f, len, out) == 42, "arp: unicast probe answered");
	/* Never answered: ARP probe (sender 0.0.0.0), gratuitous, replies. */
	len = arp(f, 1, BCAST, GMAC, (const uint8_t *)"\0\0\0\0", ZERO6, C4);
	tap_check(answer(&t, f, len, out) == 0, "arp: address probe not answered");
	len = arp(f, 1, BCAST, GMAC, C4, ZERO6, C4);
	tap_check(answer(&t, f, len, out) == 0, "arp: gratuitous request not answered");
	len = arp(f, 2, BCAST, GMAC, G4, ZERO6, C4);
	tap_check(answer(&t, f, len, out) == 0, "arp: a reply from the SVM not answered");
	len = arp(f, 1, BCAST, BCAST, G4, ZERO6, C4);
	tap_check(answer(&t, f, len, out) == 0, "arp: multicast sender not answered");
	/* A request from the network also binds its sender. */
	len = arp(f, 1, BCAST, RMAC, (const uint8_t *)"\x0a\0\0\x09", ZERO6, G4);
	tap_check(learn(&t, f, len, false, 2) == CP_NEIGH_LEARNED &&
		  cp_neigh_lookup(&t, 4, (const uint8_t *)"\x0a\0\0\x09"),
		  "arp: request's sender learned");
	/* A newer reply moves the binding. */
	len = arp(f, 2, GMAC, RMAC, C4, GMAC, G4);
	learn(&t, f, len, false, 3);
	tap_check(!memcmp(cp_neigh_lookup(&t, 4, C4)->mac, RMAC, 6), "arp: newer reply moves it");
	/* Not learned: multicast or zero MAC, unusable addresses, odd types. */
	cp_neigh_init(&t);
	len = arp(f, 2, GMAC, BCAST, C4, GMAC, G4);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_NOTHING, "arp: multicast sender MAC ignored");
	len = arp(f, 2, GMAC, CMAC, (const uint8_t *)"\xe0\0\0\x01", GMAC, G4);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_NOTHING, "arp: multicast sender address ignored");
	len = arp(f, 2, GMAC, CMAC, (const uint8_t *)"\x7f\0\0\x01", GMAC, G4);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_NOTHING, "arp: loopback sender ignored");
	len = arp(f, 3, GMAC, CMAC, C4, GMAC, G4);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_NOTHING, "arp: other opcodes ignored");
	len = arp(f, 2, GMAC, CMAC, C4, GMAC, G4);
	f[18] = 8;
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_NOTHING, "arp: other hardware size ignored");
	/* VLAN-tagged: neither learned nor answered. */
	len = arp(f, 2, GMAC, CMAC, C4, GMAC, G4);
	memmove(f + 16, f + 12, len - 12);
	cp_put16(f + 12, 0x8100);
	cp_put16(f + 14, 5);
	tap_check(learn(&t, f, len + 4, false, 1) == CP_NEIGH_NOTHING, "arp: tagged frame ignored");
	tap_check(!cp_neigh_lookup(&t, 4, C4), "arp: nothing learned from the rejects");
}

static void test_nd(void)
{
	struct cp_neigh_table t;
	uint8_t f[256], out[CP_NEIGH_ANSWER_MAX];
	const struct cp_neigh_entry *e;
	struct nd na = { .type = 136, .flags = 0x60, .src = C6, .dst = G6, .target = C6,
			 .opt = 2, .optlen = 1, .mac = CMAC };
	struct nd ns = { .type = 135, .src = G6, .dst = C6, .target = C6,
			 .opt = 1, .optlen = 1, .mac = GMAC };
	uint32_t len;
	int n;

	cp_neigh_init(&t);
	len = nd(f, &ns);
	tap_check(answer(&t, f, len, out) == -1, "nd: solicitation for an unknown address: -1");
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 1) == CP_NEIGH_LEARNED, "nd: advertisement learned");
	e = cp_neigh_lookup(&t, 6, C6);
	tap_check(e && !memcmp(e->mac, CMAC, 6) && !e->router, "nd: binding from the target option");
	len = nd(f, &ns);
	n = answer(&t, f, len, out);
	tap_check(n == 86, "nd: the SVM's solicitation answered (%d bytes)", n);
	tap_check(!memcmp(out, GMAC, 6) && !memcmp(out + 6, CMAC, 6) &&
		  cp_get16(out + 12) == 0x86dd, "na answer: to the requester, from the neighbour");
	tap_check(out[14] == 0x60 && cp_get16(out + 18) == 32 && out[20] == 58 && out[21] == 255,
		  "na answer: IPv6 header, hop limit 255");
	tap_check(!memcmp(out + 22, C6, 16) && !memcmp(out + 38, G6, 16),
		  "na answer: from the target to the solicitor");
	tap_check(out[54] == 136 && out[55] == 0 && out[58] == 0x60 && !memcmp(out + 62, C6, 16),
		  "na answer: solicited, override, not a router, the target");
	tap_check(out[78] == 2 && out[79] == 1 && !memcmp(out + 80, CMAC, 6),
		  "na answer: target link-layer address option");
	tap_check(tb_l4_verify(out, 6, 14, 54, 86, 58) == 0, "na answer: checksum valid");
	/* A NUD probe has no source option and a unicast destination. */
	ns.opt = 0;
	len = nd(f, &ns);
	tap_check(answer(&t, f, len, out) == 86, "nd: unicast probe without option answered");
	/* Duplicate address detection is never answered. */
	ns.src = ZERO6;
	ns.target = C6;
	len = nd(f, &ns);
	tap_check(answer(&t, f, len, out) == 0, "nd: solicitation from :: (DAD) not answered");
	ns.src = G6;
	/* A bad checksum from the SVM: not answered. */
	len = nd(f, &ns);
	f[70] ^= 1;
	tap_check(answer(&t, f, len, out) == 0, "nd: solicitation with a bad checksum not answered");
	len = nd(f, &ns);
	f[21] = 64;
	tap_check(answer(&t, f, len, out) == 0, "nd: hop limit below 255 not answered");

	/* Router flag: from the NA, kept by the answer. */
	na.flags = 0xe0;
	len = nd(f, &na);
	learn(&t, f, len, false, 2);
	len = nd(f, &ns);
	tap_check(answer(&t, f, len, out) == 86 && out[58] == 0xe0 &&
		  tb_l4_verify(out, 6, 14, 54, 86, 58) == 0, "nd: router flag carried into the answer");
	/* An NA without the override flag does not move a binding. */
	na.flags = 0x40;
	na.mac = RMAC;
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 3) == CP_NEIGH_NOTHING &&
		  !memcmp(cp_neigh_lookup(&t, 6, C6)->mac, CMAC, 6), "nd: no override, binding kept");
	/* An NA without an address confirms the binding and its flags. */
	na.flags = 0x40;
	na.mac = CMAC;
	na.opt = 0;
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 4) == CP_NEIGH_LEARNED &&
		  cp_neigh_lookup(&t, 6, C6)->stamp == 4 && !cp_neigh_lookup(&t, 6, C6)->router,
		  "nd: NA without an address confirms, router flag cleared");
	/* Bad checksum, wrong hop limit, zero-length option: ignored. */
	na.opt = 2;
	na.target = LL6;
	len = nd(f, &na);
	f[60] ^= 0x10;
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: bad checksum ignored");
	tap_check(learn(&t, f, len, true, 5) == CP_NEIGH_LEARNED,
		  "nd: ... unless the checksum is not final (CHECKSUM_PARTIAL)");
	cp_neigh_init(&t);
	na.hop = 64;
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: hop limit 64 ignored");
	na.hop = 0;
	na.optlen = 0;
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: zero-length option ignored");
	na.optlen = 2;
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: 16-byte link-layer option ignored");
	na.optlen = 1;
	na.flags = 0x60;
	na.dst = (const uint8_t *)"\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01";
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: solicited NA to multicast ignored");
	na.dst = G6;
	na.target = (const uint8_t *)"\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01";
	len = nd(f, &na);
	tap_check(learn(&t, f, len, false, 5) == CP_NEIGH_NOTHING, "nd: multicast target ignored");

	/* Solicitations bind their source; router advertisements the router. */
	{
		struct nd nns = { .type = 135, .src = C6, .dst = G6, .target = G6,
				  .opt = 1, .optlen = 1, .mac = CMAC };
		struct nd ra = { .type = 134, .src = LL6, .dst = G6, .opt = 1, .optlen = 1,
				 .mac = RMAC };

		len = nd(f, &nns);
		tap_check(learn(&t, f, len, false, 6) == CP_NEIGH_LEARNED &&
			  !memcmp(cp_neigh_lookup(&t, 6, C6)->mac, CMAC, 6),
			  "nd: solicitation's source learned");
		len = nd(f, &ra);
		tap_check(learn(&t, f, len, false, 7) == CP_NEIGH_LEARNED &&
			  cp_neigh_lookup(&t, 6, LL6)->router, "nd: router advertisement learned, a router");
		nns.src = ZERO6;
		nns.target = LL6;
		len = nd(f, &nns);
		tap_check(learn(&t, f, len, false, 8) == CP_NEIGH_NOTHING, "nd: DAD solicitation binds nothing");
		ra.src = C6;
		ra.mac = GMAC;
		len = nd(f, &ra);
		tap_check(learn(&t, f, len, false, 8) == CP_NEIGH_NOTHING,
			  "nd: advertisement from a global address ignored");
		ns.target = LL6;
		ns.opt = 1;
		len = nd(f, &ns);
		tap_check(answer(&t, f, len, out) == 86 && out[58] == 0xe0 && !memcmp(out + 80, RMAC, 6),
			  "nd: the router is answered as a router");
	}
}

static void test_full(void)
{
	struct cp_neigh_table t;
	uint8_t f[256], out[CP_NEIGH_ANSWER_MAX], ip[4] = { 10, 1, 0, 0 };
	uint32_t len, i, replaced = 0, learned = 0;

	cp_neigh_init(&t);
	for (i = 0; i < CP_NEIGH_MAX + 10; i++) {
		enum cp_neigh_learned r;

		ip[2] = i >> 8;
		ip[3] = i & 0xff;
		len = arp(f, 2, GMAC, CMAC, ip, GMAC, G4);
		r = learn(&t, f, len, false, 100 + i);
		learned += r != CP_NEIGH_NOTHING;
		replaced += r == CP_NEIGH_REPLACED;
	}
	tap_check(learned == CP_NEIGH_MAX + 10 && replaced == 10,
		  "full table: %u learned, the last %u each replaced one", learned, replaced);
	ip[2] = 0;
	ip[3] = 9;
	tap_check(!cp_neigh_lookup(&t, 4, ip), "full table: the oldest bindings went");
	ip[3] = 10;
	tap_check(cp_neigh_lookup(&t, 4, ip) != NULL, "full table: ... only those");
	/* A binding confirmed again is young again and stays. */
	len = arp(f, 2, GMAC, CMAC, ip, GMAC, G4);
	learn(&t, f, len, false, 1000);
	ip[3] = 200;
	len = arp(f, 2, GMAC, CMAC, ip, GMAC, G4);
	tap_check(learn(&t, f, len, false, 1001) == CP_NEIGH_REPLACED, "full table: one more replaces");
	ip[3] = 10;
	tap_check(cp_neigh_lookup(&t, 4, ip) != NULL, "full table: the confirmed binding stayed");
	ip[3] = 11;
	tap_check(!cp_neigh_lookup(&t, 4, ip), "full table: the next oldest went instead");
	len = arp(f, 1, BCAST, GMAC, G4, ZERO6, ip);
	tap_check(answer(&t, f, len, out) == -1, "full table: a replaced binding is not answered");
	ip[3] = 200;
	len = arp(f, 1, BCAST, GMAC, G4, ZERO6, ip);
	tap_check(answer(&t, f, len, out) == 42, "full table: the newest is");
}

/*
 * A burst within one tick of the caller's clock (all at the same @now): the
 * bindings still go in the order they were announced, not the slot that was
 * filled last over and over.
 */
static void test_full_same_tick(void)
{
	struct cp_neigh_table t;
	uint8_t f[256], ip[4] = { 10, 1, 0, 0 };
	uint32_t len, i, gone = 0;

	cp_neigh_init(&t);
	for (i = 0; i < CP_NEIGH_MAX + 16; i++) {
		ip[3] = i;
		len = arp(f, 2, GMAC, CMAC, ip, GMAC, G4);
		learn(&t, f, len, false, 7);
	}
	for (i = 0; i < 16; i++) {
		ip[3] = i;
		gone += !cp_neigh_lookup(&t, 4, ip);
	}
	tap_check(gone == 16, "full table, one tick: the 16 announced first went (%u)", gone);
	ip[3] = 16;
	tap_check(cp_neigh_lookup(&t, 4, ip) != NULL, "full table, one tick: ... and only those");
}

/* Every prefix of valid frames, every byte flipped: no overrun, no crash. */
static void test_truncated(void)
{
	struct cp_neigh_table t;
	uint8_t f[256], g[256], out[CP_NEIGH_ANSWER_MAX];
	struct nd frames[] = {
		{ .type = 136, .flags = 0x60, .src = C6, .dst = G6, .target = C6, .opt = 2,
		  .optlen = 1, .mac = CMAC },
		{ .type = 135, .src = G6, .dst = C6, .target = C6, .opt = 1, .optlen = 1,
		  .mac = GMAC },
		{ .type = 134, .src = LL6, .dst = G6, .opt = 1, .optlen = 1, .mac = RMAC },
	};
	uint32_t len, l, i, k, wrong = 0;

	cp_neigh_init(&t);
	for (k = 0; k < 4; k++) {
		len = k < 3 ? nd(f, &frames[k]) : arp(f, 2, GMAC, CMAC, C4, GMAC, G4);
		for (l = 0; l < len; l++) {
			/* The IPv6 length claims more than there is. */
			uint8_t *c = tb_exact(f, l);

			wrong += cp_neigh_learn(&t, c, l, false, 1) != CP_NEIGH_NOTHING &&
				 (k < 3 || l < 42);
			cp_neigh_answer(&t, c, l, false, out);
			free(c);
		}
		for (i = 0; i < len * 8; i++) {
			uint8_t *c;

			memcpy(g, f, len);
			g[i / 8] ^= 1 << (i % 8);
			c = tb_exact(g, len);
			cp_neigh_learn(&t, c, len, i & 1, 2);
			cp_neigh_answer(&t, c, len, i & 1, out);
			free(c);
		}
	}
	tap_check(!wrong, "truncated frames: nothing learned from a cut message");
}

int main(void)
{
	test_arp();
	test_nd();
	test_full();
	test_full_same_tick();
	test_truncated();
	return tap_done();
}
