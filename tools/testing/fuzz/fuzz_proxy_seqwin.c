// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the tunnel sequence window against a plain model. Input: a base
 * number (4 bytes), then operations of 2 bytes each: 0xffff is a timer
 * expiry, anything else the arrival of number base + (value & 0xfff). The
 * model keeps one state per number (arrived, missing, counted lost) and
 * applies the rules of seqwin.h literally; after every operation the lost
 * count and the late flag must agree with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_proxy/seqwin.h"

enum { SPAN = 0x1000, WIN = 64 };
enum { ARRIVED, MISSING, LOST };

struct model {
	uint8_t st[SPAN];
	int valid;
	uint32_t newest, mark;	/* offsets; mark: newest + 1 at the last expiry */
};

static uint32_t model_rx(struct model *m, uint32_t n, int *late)
{
	uint32_t lost = 0, i;

	*late = 0;
	if (!m->valid) {
		/* Numbers before the first count as arrived. */
		memset(m->st, ARRIVED, sizeof(m->st));
		m->valid = 1;
		m->newest = n;
		m->mark = n + 1;
		return 0;
	}
	if (n > m->newest) {
		for (i = m->newest + 1; i < n; i++)
			m->st[i] = MISSING;
		m->st[n] = ARRIVED;
		m->newest = n;
		for (i = 0; i + WIN <= n; i++)
			if (m->st[i] == MISSING) {
				m->st[i] = LOST;
				lost++;
			}
	} else if (n + WIN > m->newest) {
		/* Counted lost by a timer while in the window: not again. */
		if (m->st[n] == MISSING) {
			m->st[n] = ARRIVED;
			*late = 1;
		}
	} else {
		*late = 1;
	}
	return lost;
}

static uint32_t model_expire(struct model *m)
{
	uint32_t lost = 0, i;

	if (!m->valid)
		return 0;
	for (i = 0; i < m->mark && i < SPAN; i++)
		if (m->st[i] == MISSING) {
			m->st[i] = LOST;
			lost++;
		}
	m->mark = m->newest + 1;
	return lost;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct cp_seqwin w = { 0 };
	uint32_t base;
	size_t i;

	if (size < 4 || size > 4 + 2 * 4096)
		return 0;
	memcpy(&base, data, 4);
	memset(&m, 0, sizeof(m));
	for (i = 4; i + 1 < size; i += 2) {
		uint16_t v = (uint16_t)(data[i] << 8 | data[i + 1]);
		uint32_t got, want;
		bool late;
		int mlate;

		if (v == 0xffff) {
			got = cp_seqwin_expire(&w);
			want = model_expire(&m);
			if (got != want)
				abort();
			continue;
		}
		v &= SPAN - 1;
		/* The first number is the model's offset 0. */
		if (!m.valid)
			v = 0;
		got = cp_seqwin_rx(&w, base + v, &late);
		want = model_rx(&m, v, &mlate);
		if (got != want || late != mlate)
			abort();
	}
	return 0;
}
