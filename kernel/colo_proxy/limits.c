// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy bounds: connection table sizing and early drop, held frame
 * accounting. See limits.h.
 */
#include "limits.h"

u32 cp_conn_buckets(u32 conn_max)
{
	u32 n = 1;

	/* Half as many buckets as entries: two per chain at the cap. */
	while (n < conn_max / 2 && n < CP_CONN_BUCKETS_MAX)
		n <<= 1;
	return n;
}

bool cp_conn_evictable(const struct cp_conn_state *st)
{
	if (st->held)
		return false;
	return !st->tcp || st->closed || !st->assured;
}

enum cp_hold_verdict cp_hold_admit(const struct cp_hold *h, u32 max_pkts,
				   u32 max_bytes, u32 len)
{
	if (h->pkts >= max_pkts)
		return CP_HOLD_FULL_PACKETS;
	if (h->bytes + len > max_bytes)
		return CP_HOLD_FULL_BYTES;
	return CP_HOLD_OK;
}

void cp_hold_add(struct cp_hold *h, u32 len)
{
	h->pkts++;
	h->bytes += len;
}

/* Never below zero: a miscount must not turn into a limit never reached. */
void cp_hold_sub(struct cp_hold *h, u32 len)
{
	h->pkts = h->pkts ? h->pkts - 1 : 0;
	h->bytes = h->bytes >= len ? h->bytes - len : 0;
}
