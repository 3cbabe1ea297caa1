// SPDX-License-Identifier: GPL-2.0
/*
 * Neighbour bindings learned from what the network sent the PVM, and the
 * answers built from them for the SVM's ARP requests and neighbour
 * solicitations. Only untagged Ethernet frames are handled; a frame is
 * read only within @len, and every header and option length is checked
 * against the frame and against the lengths the headers claim.
 */
#include "neigh.h"

#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ARP_LEN 28
#define IP6_HLEN 40
#define ICMP6_OFF (ETH_HLEN_ + IP6_HLEN)
#define IPPROTO_ICMPV6_ 58

enum {
	ND_RA = 134, ND_NS = 135, ND_NA = 136,
};

#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define NA_ROUTER 0x80
#define NA_SOLICITED 0x40
#define NA_OVERRIDE 0x20

void cp_neigh_init(struct cp_neigh_table *t)
{
	memset(t, 0, sizeof(*t));
}

static bool mac_usable(const u8 *mac)
{
	static const u8 zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6);
}

static bool ip4_usable(const u8 *a)
{
	static const u8 zero[4];

	/* Not 0.0.0.0, loopback, multicast, reserved or broadcast. */
	return memcmp(a, zero, 4) && a[0] != 127 && a[0] < 224;
}

static bool ip6_unspecified(const u8 *a)
{
	static const u8 zero[16];

	return !memcmp(a, zero, 16);
}

static bool ip6_usable(const u8 *a)
{
	return !ip6_unspecified(a) && a[0] != 0xff;
}

const struct cp_neigh_entry *cp_neigh_lookup(const struct cp_neigh_table *t,
					     u8 family, const u8 *addr)
{
	u32 alen = family == 4 ? 4 : 16, i;

	for (i = 0; i < CP_NEIGH_MAX; i++)
		if (t->e[i].family == family && !memcmp(t->e[i].addr, addr, alen))
			return &t->e[i];
	return NULL;
}

/*
 * Add or update the binding @addr -> @mac. @router: 0 or 1 sets the router
 * flag, -1 keeps it (0 for a new binding). @override: a binding to another
 * MAC address is replaced (an NA without the override flag only confirms).
 */
static enum cp_neigh_learned neigh_put(struct cp_neigh_table *t, u8 family,
				       const u8 *addr, const u8 *mac, int router,
				       bool override, u64 now)
{
	struct cp_neigh_entry *e = (struct cp_neigh_entry *)
		cp_neigh_lookup(t, family, addr);
	enum cp_neigh_learned res = CP_NEIGH_LEARNED;
	u32 i;

	if (e) {
		if (memcmp(e->mac, mac, 6)) {
			if (!override)
				return CP_NEIGH_NOTHING;
			memcpy(e->mac, mac, 6);
		}
		if (router >= 0)
			e->router = router;
		e->stamp = now;
		return CP_NEIGH_LEARNED;
	}
	for (i = 0; i < CP_NEIGH_MAX && t->e[i].family; i++)
		;
	if (i == CP_NEIGH_MAX) {
		/* Full: the binding announced longest ago makes room. */
		u32 old = 0;

		for (i = 1; i < CP_NEIGH_MAX; i++)
			if (t->e[i].stamp < t->e[old].stamp)
				old = i;
		i = old;
		res = CP_NEIGH_REPLACED;
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == 4 ? 4 : 16);
	memcpy(e->mac, mac, 6);
	e->router = router > 0;
	e->stamp = now;
	return res;
}

/* The ARP payload of an untagged Ethernet/IPv4 ARP frame, or NULL. */
static const u8 *arp_payload(const u8 *f, u32 len)
{
	const u8 *a = f + ETH_HLEN_;

	if (len < ETH_HLEN_ + ARP_LEN || cp_get16(f + 12) != ETHERTYPE_ARP)
		return NULL;
	if (cp_get16(a) != 1 || cp_get16(a + 2) != ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4)
		return NULL;
	return a;
}

static u32 sum16(const u8 *p, u32 n, u32 sum)
{
	u32 i;

	for (i = 0; i + 1 < n; i += 2)
		sum += cp_get16(p + i);
	if (n & 1)
		sum += (u32)p[n - 1] << 8;
	return sum;
}

static u16 fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

/* ICMPv6 checksum sum of the message at ICMP6_OFF, @mlen bytes long. */
static u16 icmp6_sum(const u8 *f, u32 mlen)
{
	u32 sum = sum16(f + ETH_HLEN_ + 8, 32, 0);

	sum += mlen >> 16;
	sum += mlen & 0xffff;
	sum += IPPROTO_ICMPV6_;
	return fold(sum16(f + ICMP6_OFF, mlen, sum));
}

/*
 * An untagged Ethernet/IPv6 frame whose packet is an ICMPv6 neighbour
 * discovery message (no extension headers, hop limit 255, code 0, at least
 * @min bytes): the message length, or 0.
 */
static u32 nd_message(const u8 *f, u32 len, u8 type, u32 min, bool csum_unchecked)
{
	u32 mlen;

	if (len < ICMP6_OFF + 4 || cp_get16(f + 12) != ETHERTYPE_IPV6 ||
	    (f[ETH_HLEN_] >> 4) != 6)
		return 0;
	mlen = cp_get16(f + ETH_HLEN_ + 4);
	if (ICMP6_OFF + mlen > len || mlen < min ||
	    f[ETH_HLEN_ + 6] != IPPROTO_ICMPV6_ || f[ETH_HLEN_ + 7] != 255 ||
	    f[ICMP6_OFF] != type || f[ICMP6_OFF + 1] != 0)
		return 0;
	if (!csum_unchecked && icmp6_sum(f, mlen) != 0xffff)
		return 0;
	return mlen;
}

/*
 * The options from @off to @end of the message: the first link-layer
 * address option of @type in *mac (NULL if none). Returns false for
 * malformed options (the whole message is then ignored, as receivers do).
 */
static bool nd_lladdr(const u8 *f, u32 off, u32 end, u8 type, const u8 **mac)
{
	*mac = NULL;
	while (off < end) {
		u32 olen;

		if (end - off < 2)
			return false;
		olen = f[off + 1] * 8u;
		if (!olen || olen > end - off)
			return false;
		if (f[off] == type && !*mac) {
			/* Ethernet: type, length, 6 bytes of address. */
			if (olen != 8)
				return false;
			*mac = f + off + 2;
		}
		off += olen;
	}
	return true;
}

static enum cp_neigh_learned learn_arp(struct cp_neigh_table *t, const u8 *a, u64 now)
{
	u16 op = cp_get16(a + 6);

	/* Requests and replies both announce the sender's binding. */
	if ((op != 1 && op != 2) || !mac_usable(a + 8) || !ip4_usable(a + 14))
		return CP_NEIGH_NOTHING;
	return neigh_put(t, 4, a + 14, a + 8, -1, true, now);
}

static enum cp_neigh_learned learn_nd(struct cp_neigh_table *t, const u8 *f,
				      u32 len, bool csum_unchecked, u64 now)
{
	const u8 *src = f + ETH_HLEN_ + 8, *dst = f + ETH_HLEN_ + 24;
	const u8 *m = f + ICMP6_OFF, *target = m + 8, *mac;
	u32 mlen, end;

	if (len < ICMP6_OFF + 4)
		return CP_NEIGH_NOTHING;
	switch (m[0]) {
	case ND_NA:
		mlen = nd_message(f, len, ND_NA, 24, csum_unchecked);
		end = ICMP6_OFF + mlen;
		if (!mlen || !nd_lladdr(f, ICMP6_OFF + 24, end, ND_OPT_TLLA, &mac) ||
		    !ip6_usable(target) ||
		    (dst[0] == 0xff && (m[4] & NA_SOLICITED)))
			return CP_NEIGH_NOTHING;
		if (!mac) {
			/* No address: confirms a binding we hold. */
			struct cp_neigh_entry *e = (struct cp_neigh_entry *)
				cp_neigh_lookup(t, 6, target);

			if (!e)
				return CP_NEIGH_NOTHING;
			e->router = !!(m[4] & NA_ROUTER);
			e->stamp = now;
			return CP_NEIGH_LEARNED;
		}
		if (!mac_usable(mac))
			return CP_NEIGH_NOTHING;
		return neigh_put(t, 6, target, mac, !!(m[4] & NA_ROUTER),
				 m[4] & NA_OVERRIDE, now);
	case ND_NS:
		mlen = nd_message(f, len, ND_NS, 24, csum_unchecked);
		end = ICMP6_OFF + mlen;
		if (!mlen || !nd_lladdr(f, ICMP6_OFF + 24, end, ND_OPT_SLLA, &mac) ||
		    !mac || !mac_usable(mac) || !ip6_usable(src))
			return CP_NEIGH_NOTHING;
		return neigh_put(t, 6, src, mac, -1, true, now);
	case ND_RA:
		mlen = nd_message(f, len, ND_RA, 16, csum_unchecked);
		end = ICMP6_OFF + mlen;
		/* Routers advertise from their link-local address. */
		if (!mlen || !nd_lladdr(f, ICMP6_OFF + 16, end, ND_OPT_SLLA, &mac) ||
		    !mac || !mac_usable(mac) || src[0] != 0xfe || (src[1] & 0xc0) != 0x80)
			return CP_NEIGH_NOTHING;
		return neigh_put(t, 6, src, mac, 1, true, now);
	default:
		return CP_NEIGH_NOTHING;
	}
}

enum cp_neigh_learned cp_neigh_learn(struct cp_neigh_table *t, const u8 *f,
				     u32 len, bool csum_unchecked, u64 now)
{
	const u8 *a;

	if (len < ETH_HLEN_)
		return CP_NEIGH_NOTHING;
	/*
	 * Stamps strictly increase: a burst within one tick of a coarse clock
	 * (jiffies) would otherwise tie, and the slot just filled, not the
	 * binding announced longest ago, would make room for the next one.
	 */
	now = now > t->clock ? now : t->clock + 1;
	t->clock = now;
	a = arp_payload(f, len);
	if (a)
		return learn_arp(t, a, now);
	return learn_nd(t, f, len, csum_unchecked, now);
}

static int answer_arp(const struct cp_neigh_table *t, const u8 *a, u8 *out)
{
	const struct cp_neigh_entry *e;
	u8 *r = out + ETH_HLEN_;

	/* A request from a usable address for another one (not a probe or
	 * a gratuitous ARP), answered to the sender's hardware address. */
	if (cp_get16(a + 6) != 1 || !mac_usable(a + 8) || !ip4_usable(a + 14) ||
	    !ip4_usable(a + 24) || !memcmp(a + 14, a + 24, 4))
		return 0;
	e = cp_neigh_lookup(t, 4, a + 24);
	if (!e)
		return -1;
	memcpy(out, a + 8, 6);
	memcpy(out + 6, e->mac, 6);
	cp_put16(out + 12, ETHERTYPE_ARP);
	memcpy(r, a, 6);		/* hardware/protocol types and sizes */
	cp_put16(r + 6, 2);
	memcpy(r + 8, e->mac, 6);
	memcpy(r + 14, e->addr, 4);
	memcpy(r + 18, a + 8, 10);	/* the requester's MAC and address */
	return ETH_HLEN_ + ARP_LEN;
}

static int answer_ns(const struct cp_neigh_table *t, const u8 *f, u32 len,
		     bool csum_unchecked, u8 *out)
{
	const u8 *src = f + ETH_HLEN_ + 8, *target = f + ICMP6_OFF + 8, *mac;
	const struct cp_neigh_entry *e;
	u8 *ip = out + ETH_HLEN_, *m = out + ICMP6_OFF;
	u32 mlen = nd_message(f, len, ND_NS, 24, csum_unchecked);

	/* Duplicate address detection (from ::) is not answered: an answer
	 * would tell the SVM that its address is in use. */
	if (!mlen || !nd_lladdr(f, ICMP6_OFF + 24, ICMP6_OFF + mlen, ND_OPT_SLLA, &mac) ||
	    !ip6_usable(src) || !ip6_usable(target) || !mac_usable(f + 6) ||
	    !memcmp(src, target, 16))
		return 0;
	e = cp_neigh_lookup(t, 6, target);
	if (!e)
		return -1;
	memset(out, 0, CP_NEIGH_ANSWER_MAX);
	memcpy(out, f + 6, 6);
	memcpy(out + 6, e->mac, 6);
	cp_put16(out + 12, ETHERTYPE_IPV6);
	ip[0] = 0x60;
	cp_put16(ip + 4, 32);
	ip[6] = IPPROTO_ICMPV6_;
	ip[7] = 255;
	memcpy(ip + 8, e->addr, 16);
	memcpy(ip + 24, src, 16);
	m[0] = ND_NA;
	m[4] = NA_SOLICITED | NA_OVERRIDE | (e->router ? NA_ROUTER : 0);
	memcpy(m + 8, e->addr, 16);
	m[24] = ND_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, e->mac, 6);
	cp_put16(m + 2, ~icmp6_sum(out, 32) & 0xffff);
	return ICMP6_OFF + 32;
}

int cp_neigh_answer(const struct cp_neigh_table *t, const u8 *f, u32 len,
		    bool csum_unchecked, u8 *out)
{
	const u8 *a;

	if (len < ETH_HLEN_)
		return 0;
	a = arp_payload(f, len);
	if (a)
		return answer_arp(t, a, out);
	if (len >= ICMP6_OFF + 4 && f[ICMP6_OFF] == ND_NS)
		return answer_ns(t, f, len, csum_unchecked, out);
	return 0;
}
