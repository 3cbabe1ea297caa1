/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Neighbour answers for the SVM (secondary, before failover). The SVM's own
 * ARP requests and neighbour solicitations never leave the secondary, so
 * when its neighbour cache lacks an entry the PVM's cache still holds, it
 * could not resolve the address at all. The secondary keeps the bindings
 * the network announced to the PVM (IPv4 address -> MAC from mirrored ARP,
 * IPv6 address -> MAC and router flag from mirrored NA, NS and RA) in a
 * small bounded table, and answers the SVM's requests from it with the ARP
 * reply or NA the network would send.
 *
 * The frames are untrusted (the network's and the guest's): every length is
 * checked against the frame, and nothing is read past @len.
 */
#ifndef COLO_PROXY_NEIGH_H
#define COLO_PROXY_NEIGH_H

#include "cp_compat.h"

/* Bindings per instance. */
#define CP_NEIGH_MAX 64

/* The longest answer (NA with a target link-layer address option). */
#define CP_NEIGH_ANSWER_MAX 86

struct cp_neigh_entry {
	u8 family;		/* 4 or 6, 0: a free slot */
	u8 router;		/* IPv6: the neighbour said it is a router */
	u8 mac[6];
	u8 addr[16];		/* IPv4 in the first 4 bytes */
	u64 stamp;		/* the caller's clock when last announced */
};

struct cp_neigh_table {
	struct cp_neigh_entry e[CP_NEIGH_MAX];
	u64 clock;		/* the latest stamp given, see cp_neigh_learn() */
};

enum cp_neigh_learned {
	CP_NEIGH_NOTHING,	/* not an ARP/ND frame with a usable binding */
	CP_NEIGH_LEARNED,	/* a binding was added or confirmed */
	CP_NEIGH_REPLACED,	/* added in place of the least recently
				 * announced one: the table was full */
};

void cp_neigh_init(struct cp_neigh_table *t);

/*
 * A frame the network sent the PVM (mirrored to the secondary): learn the
 * binding it announces, if any. @csum_unchecked: the ICMPv6 checksum is not
 * final yet (CHECKSUM_PARTIAL) and is not verified. @now orders the bindings
 * for replacement when the table is full; announcements within one tick of
 * the caller's clock are still ordered as they came.
 */
enum cp_neigh_learned cp_neigh_learn(struct cp_neigh_table *t, const u8 *frame,
				     u32 len, bool csum_unchecked, u64 now);

/*
 * A frame the SVM sent: if it is an ARP request or a neighbour solicitation
 * that a binding of the table answers, write the answer for the SVM into
 * @out (CP_NEIGH_ANSWER_MAX bytes) and return its length. Returns 0 when the
 * frame is not a request this answers (gratuitous ARP, ARP probe, duplicate
 * address detection, malformed), -1 for a request whose address the table
 * does not hold. @csum_unchecked as for cp_neigh_learn().
 */
int cp_neigh_answer(const struct cp_neigh_table *t, const u8 *frame, u32 len,
		    bool csum_unchecked, u8 *out);

/* The binding for @addr (4 or 16 bytes by @family), or NULL. */
const struct cp_neigh_entry *cp_neigh_lookup(const struct cp_neigh_table *t,
					     u8 family, const u8 *addr);

#endif /* COLO_PROXY_NEIGH_H */
