// SPDX-License-Identifier: GPL-2.0
/*
 * Set descriptors as userspace may pass them: a bitmap or list of arbitrary
 * words is validated; whatever passes must convert to an ascending list
 * inside the object, and the union of two valid lists must be their
 * ascending, duplicate-free merge. Input: 1 byte npages/64-ish, 1 byte
 * split point, then the words.
 */
#include <stdlib.h>
#include <string.h>

#include "colo_ckpt/core.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_ascending(const u64 *l, u64 n, u64 npages)
{
	u64 i;

	for (i = 0; i < n; i++)
		if (l[i] >= npages || (i && l[i] <= l[i - 1]))
			abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	u64 npages, nwords, nbits, split, *words, *list, *out, n, na, nb, i, j;
	struct colo_ckpt_set set;

	if (size < 2)
		return 0;
	npages = 1 + data[0] * 3;
	split = data[1];
	data += 2;
	size -= 2;
	nwords = size / 8;
	words = calloc(nwords + 1, 8);
	memcpy(words, data, nwords * 8);
	list = calloc(nwords * 64 + 1, 8);
	out = calloc(2 * nwords + 1, 8);

	/* As a bitmap of nbits bits. */
	nbits = nwords * 64 - (split % 64);
	if (nwords && nbits) {
		set.ptr = 1;
		set.len = nbits;
		set.format = COLO_CKPT_SET_BITMAP;
		set.reserved = 0;
		if (ckpt_set_check(&set, npages) == 0 && ckpt_bitmap_check(words, nbits, npages) == 0) {
			n = ckpt_bitmap_to_list(words, nbits, list);
			if (n != ckpt_bitmap_weight(words, nbits))
				abort();
			check_ascending(list, n, npages);
			for (i = 0; i < n; i++)
				if (!(words[list[i] / 64] >> (list[i] % 64) & 1))
					abort();
		}
	}

	/* As two lists of page indices, split at split % (nwords + 1). */
	na = split % (nwords + 1);
	nb = nwords - na;
	if (ckpt_list_check(words, na, npages) == 0 &&
	    ckpt_list_check(words + na, nb, npages) == 0) {
		n = ckpt_list_union(words, na, words + na, nb, out);
		check_ascending(out, n, npages);
		/* Every input member is in the union. */
		for (i = 0, j = 0; i < nwords; i++) {
			for (j = 0; j < n && out[j] != words[i]; j++)
				;
			if (j == n)
				abort();
		}
		if (n > na + nb)
			abort();
	}
	free(words);
	free(list);
	free(out);
	return 0;
}
