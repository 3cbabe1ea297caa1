// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of ioctl arguments and the set conversions the data path
 * needs. Every check returns 0 or the negative errno documented in
 * include/uapi/linux/colo_ckpt.h.
 */
#include "core.h"

static bool ckpt_name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* The name becomes a device node name: keep it to a safe alphabet. */
int ckpt_name_check(const char name[COLO_CKPT_NAME_MAX])
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < COLO_CKPT_NAME_MAX; i++) {
		if (name[i] == '\0')
			break;
		if (!ckpt_name_char_ok(name[i]))
			return -EINVAL;
	}
	if (i == COLO_CKPT_NAME_MAX)
		return -EINVAL;
	/* Nothing may follow the terminator: the struct is compared whole. */
	for (; i < COLO_CKPT_NAME_MAX; i++)
		if (name[i] != '\0')
			return -EINVAL;
	return 0;
}

int ckpt_size_check(u64 size, u64 page_size, u64 max_pages)
{
	if (!size || size % page_size)
		return -EINVAL;
	if (size / page_size > max_pages)
		return -E2BIG;
	return 0;
}

int ckpt_set_check(const struct colo_ckpt_set *set, u64 npages)
{
	if (set->reserved)
		return -EINVAL;
	switch (set->format) {
	case COLO_CKPT_SET_LIST:
		if (set->len > npages)
			return -E2BIG;
		break;
	case COLO_CKPT_SET_BITMAP:
		if (set->len > npages)
			return -ERANGE;
		break;
	default:
		return -EINVAL;
	}
	if (set->len && !set->ptr)
		return -EINVAL;
	return 0;
}

int ckpt_list_check(const u64 *list, u64 n, u64 npages)
{
	u64 i;

	for (i = 0; i < n; i++) {
		if (list[i] >= npages)
			return -ERANGE;
		if (i && list[i] <= list[i - 1])
			return -EINVAL;
	}
	return 0;
}

int ckpt_bitmap_check(const u64 *bitmap, u64 nbits, u64 npages)
{
	if (nbits > npages)
		return -ERANGE;
	if (nbits % 64 && (bitmap[nbits / 64] >> (nbits % 64)))
		return -EINVAL;
	return 0;
}

u64 ckpt_bitmap_weight(const u64 *bitmap, u64 nbits)
{
	u64 i, n = 0;

	for (i = 0; i < (nbits + 63) / 64; i++)
		n += ckpt_popcount64(bitmap[i]);
	return n;
}

/* out must hold ckpt_bitmap_weight() entries; the bitmap was checked. */
u64 ckpt_bitmap_to_list(const u64 *bitmap, u64 nbits, u64 *out)
{
	u64 i, n = 0;

	for (i = 0; i < (nbits + 63) / 64; i++) {
		u64 w = bitmap[i];

		while (w) {
			out[n++] = i * 64 + ckpt_ctz64(w);
			w &= w - 1;
		}
	}
	return n;
}

/* Union of two ascending lists into out (room for na + nb), ascending. */
u64 ckpt_list_union(const u64 *a, u64 na, const u64 *b, u64 nb, u64 *out)
{
	u64 i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			out[n++] = a[i++];
		else if (i == na || b[j] < a[i])
			out[n++] = b[j++];
		else {
			out[n++] = a[i++];
			j++;
		}
	}
	return n;
}
