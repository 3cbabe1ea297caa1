// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty set (kernel/colo_ckpt/dset.c) against a plain bool-array model:
 * membership, count, summary bits and ascending snapshots, at sizes that
 * are and are not multiples of 64 and 4096 pages.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_ckpt/core.h"

struct fixture {
	struct ckpt_dset d;
	bool *model;
	u64 *out;
};

static void setup(struct fixture *f, u64 npages)
{
	ckpt_dset_init(&f->d, calloc(ckpt_dset_bits_words(npages) + 1, 8),
		       calloc(ckpt_dset_summary_words(npages) + 1, 8), npages);
	f->model = calloc(npages + 1, 1);
	f->out = calloc(npages + 1, 8);
}

static void teardown(struct fixture *f)
{
	free(f->d.bits);
	free(f->d.summary);
	free(f->model);
	free(f->out);
}

/* Snapshot equals the model's members, ascending; summary matches words. */
static int consistent(struct fixture *f)
{
	u64 n = ckpt_dset_snapshot(&f->d, f->out, f->d.npages), i, j = 0, count = 0;

	for (i = 0; i < f->d.npages; i++) {
		if (!f->model[i])
			continue;
		count++;
		if (j >= n || f->out[j] != i)
			return 0;
		j++;
	}
	if (j != n || count != f->d.count)
		return 0;
	for (i = 0; i < ckpt_dset_bits_words(f->d.npages); i++)
		if (!!f->d.bits[i] != !!(f->d.summary[i / 64] >> (i % 64) & 1))
			return 0;
	return 1;
}

static void random_ops(u64 npages, unsigned int seed, int ops)
{
	struct fixture f;
	int i, ok = 1, ret_ok = 1;

	setup(&f, npages);
	srand(seed);
	for (i = 0; i < ops; i++) {
		u64 idx = (u64)rand() % (npages + 2);	/* a few out of range */
		bool in = idx < npages && f.model[idx];

		if (rand() % 3) {
			ret_ok &= ckpt_dset_add(&f.d, idx) == (idx < npages && !in);
			if (idx < npages)
				f.model[idx] = true;
		} else {
			ret_ok &= ckpt_dset_del(&f.d, idx) == in;
			if (idx < npages)
				f.model[idx] = false;
		}
		ret_ok &= ckpt_dset_test(&f.d, idx) == (idx < npages && f.model[idx]);
		if (i % 97 == 0)
			ok &= consistent(&f);
	}
	ok &= consistent(&f);
	tap_check(ret_ok, "%llu pages: add/del/test return values follow the model",
		  (unsigned long long)npages);
	tap_check(ok, "%llu pages: snapshot, count and summary follow the model over %d ops",
		  (unsigned long long)npages, ops);
	teardown(&f);
}

int main(void)
{
	struct fixture f;
	u64 n, big = 1ULL << 20;	/* 4 GiB of 4 KiB pages */

	setup(&f, 200);
	tap_check(ckpt_dset_snapshot(&f.d, f.out, 200) == 0 && f.d.count == 0, "empty set");
	ckpt_dset_add(&f.d, 199);
	ckpt_dset_add(&f.d, 0);
	ckpt_dset_add(&f.d, 64);
	tap_check(!ckpt_dset_add(&f.d, 64) && f.d.count == 3, "adding twice counts once");
	n = ckpt_dset_snapshot(&f.d, f.out, 200);
	tap_check(n == 3 && f.out[0] == 0 && f.out[1] == 64 && f.out[2] == 199,
		  "snapshot is ascending: first, word boundary and last page");
	n = ckpt_dset_snapshot(&f.d, f.out, 2);
	tap_check(n == 2 && f.out[1] == 64 && f.d.count == 3, "snapshot stops at max, set unchanged");
	tap_check(!ckpt_dset_add(&f.d, 200) && !ckpt_dset_del(&f.d, 200) && !ckpt_dset_test(&f.d, 200),
		  "index == npages is out of range everywhere");
	ckpt_dset_del(&f.d, 64);
	tap_check(f.d.summary[0] == ((1ULL << 0) | (1ULL << 3)), "summary drops an emptied word");
	teardown(&f);

	setup(&f, big);
	ckpt_dset_add(&f.d, big - 1);
	ckpt_dset_add(&f.d, 123457);
	n = ckpt_dset_snapshot(&f.d, f.out, big);
	tap_check(n == 2 && f.out[0] == 123457 && f.out[1] == big - 1, "4 GiB worth of pages, 2 dirty");
	teardown(&f);

	random_ops(1, 1, 1000);
	random_ops(63, 2, 5000);
	random_ops(64, 3, 5000);
	random_ops(4095, 4, 20000);
	random_ops(4097, 5, 20000);
	random_ops(70000, 6, 50000);
	return tap_done();
}
