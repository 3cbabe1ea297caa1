// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty set under arbitrary add/del/snapshot sequences, checked against a
 * bool-array model after every snapshot. Input: 2 bytes of size (pages),
 * then 3-byte operations (opcode, 16-bit page index).
 */
#include <stdlib.h>
#include <string.h>

#include "colo_ckpt/core.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct ckpt_dset d;
	u64 npages, i, n, j, count;
	bool *model;
	u64 *out;

	if (size < 2)
		return 0;
	npages = 1 + (data[0] | (u64)data[1] << 8) % 9000;
	data += 2;
	size -= 2;
	ckpt_dset_init(&d, calloc(ckpt_dset_bits_words(npages), 8),
		       calloc(ckpt_dset_summary_words(npages), 8), npages);
	model = calloc(npages, 1);
	out = calloc(npages, 8);

	for (; size >= 3; data += 3, size -= 3) {
		u64 idx = data[1] | (u64)data[2] << 8;
		bool in = idx < npages && model[idx];

		switch (data[0] % 4) {
		case 0:
		case 1:
			if (ckpt_dset_add(&d, idx) != (idx < npages && !in))
				abort();
			if (idx < npages)
				model[idx] = true;
			break;
		case 2:
			if (ckpt_dset_del(&d, idx) != in)
				abort();
			if (idx < npages)
				model[idx] = false;
			break;
		case 3:
			/* A bounded snapshot returns the smallest members. */
			n = ckpt_dset_snapshot(&d, out, idx);
			for (i = 0, j = 0, count = 0; i < npages; i++) {
				if (!model[i])
					continue;
				count++;
				if (j < n) {
					if (out[j] != i)
						abort();
					j++;
				}
			}
			if (count != d.count || n != (count < idx ? count : idx))
				abort();
			break;
		}
	}
	free(d.bits);
	free(d.summary);
	free(model);
	free(out);
	return 0;
}
