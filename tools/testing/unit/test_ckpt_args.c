// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl argument checks and set conversions (kernel/colo_ckpt/args.c):
 * names, sizes, set descriptors, lists, bitmaps and list unions, with the
 * errno each bad input must produce.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_ckpt/core.h"

static int name(const char *s)
{
	char n[COLO_CKPT_NAME_MAX];

	memset(n, 0, sizeof(n));
	memcpy(n, s, strlen(s) < sizeof(n) ? strlen(s) : sizeof(n));
	return ckpt_name_check(n);
}

static void test_names(void)
{
	char n[COLO_CKPT_NAME_MAX];

	tap_check(name("vm0-ram_1.a") == 0, "name of the allowed alphabet");
	tap_check(name("0123456789012345678901234567890") == 0, "31-character name");
	tap_check(name("01234567890123456789012345678901") == -EINVAL, "32 characters: no NUL");
	tap_check(name("") == -EINVAL, "empty name");
	tap_check(name(".hidden") == -EINVAL && name("..") == -EINVAL, "leading dot");
	tap_check(name("a/b") == -EINVAL && name("a b") == -EINVAL && name("a\n") == -EINVAL,
		  "slash, space, newline");
	tap_check(name("\xc3\xa9") == -EINVAL, "non-ASCII");
	memset(n, 0, sizeof(n));
	n[0] = 'a';
	n[5] = 'b';
	tap_check(ckpt_name_check(n) == -EINVAL, "garbage after the terminator");
}

static void test_sizes(void)
{
	tap_check(ckpt_size_check(4096, 4096, 10) == 0, "one page");
	tap_check(ckpt_size_check(0, 4096, 10) == -EINVAL, "size 0");
	tap_check(ckpt_size_check(4097, 4096, 10) == -EINVAL, "unaligned size");
	tap_check(ckpt_size_check(11 * 4096, 4096, 10) == -E2BIG, "above the maximum");
	tap_check(ckpt_size_check(~0ULL & ~4095ULL, 4096, 1ULL << 28) == -E2BIG, "huge size");
}

static void test_sets(void)
{
	struct colo_ckpt_set s = { .ptr = 8, .len = 10, .format = COLO_CKPT_SET_LIST };

	tap_check(ckpt_set_check(&s, 10) == 0, "list as long as the object");
	s.len = 11;
	tap_check(ckpt_set_check(&s, 10) == -E2BIG, "list longer than the object");
	s.format = COLO_CKPT_SET_BITMAP;
	tap_check(ckpt_set_check(&s, 10) == -ERANGE, "bitmap longer than the object");
	s.len = 10;
	tap_check(ckpt_set_check(&s, 10) == 0, "bitmap as long as the object");
	s.format = 2;
	tap_check(ckpt_set_check(&s, 10) == -EINVAL, "unknown format");
	s.format = 0;
	s.reserved = 1;
	tap_check(ckpt_set_check(&s, 10) == -EINVAL, "reserved field set");
	s.reserved = 0;
	s.ptr = 0;
	tap_check(ckpt_set_check(&s, 10) == -EINVAL, "NULL pointer with a length");
	s.len = 0;
	tap_check(ckpt_set_check(&s, 10) == 0, "empty set without a pointer");
}

static void test_lists(void)
{
	u64 ok[] = { 0, 1, 5, 9 }, dup[] = { 1, 1 }, desc[] = { 3, 2 }, out[] = { 2, 10 };

	tap_check(ckpt_list_check(ok, 4, 10) == 0, "ascending list in range");
	tap_check(ckpt_list_check(dup, 2, 10) == -EINVAL, "duplicate");
	tap_check(ckpt_list_check(desc, 2, 10) == -EINVAL, "descending");
	tap_check(ckpt_list_check(out, 2, 10) == -ERANGE, "index == npages");
	tap_check(ckpt_list_check(NULL, 0, 10) == 0, "empty list");
}

static void test_bitmaps(void)
{
	u64 bm[2] = { 0x8000000000000001ULL, 0x5 }, list[70];

	tap_check(ckpt_bitmap_check(bm, 67, 100) == 0, "67-bit bitmap, bits below 67");
	tap_check(ckpt_bitmap_check(bm, 66, 100) == -EINVAL, "bit 66 set in a 66-bit bitmap");
	tap_check(ckpt_bitmap_check(bm, 101, 100) == -ERANGE, "bitmap longer than the object");
	tap_check(ckpt_bitmap_check(bm, 64, 100) == 0, "whole-word length ignores the next word");
	tap_check(ckpt_bitmap_weight(bm, 67) == 4, "weight");
	tap_check(ckpt_bitmap_to_list(bm, 67, list) == 4 && list[0] == 0 && list[1] == 63 &&
		  list[2] == 64 && list[3] == 66, "bitmap to ascending list");
}

static void test_union(void)
{
	u64 a[] = { 1, 3, 5, 7 }, b[] = { 0, 3, 4, 7, 100 }, out[9];
	u64 want[] = { 0, 1, 3, 4, 5, 7, 100 };
	u64 n = ckpt_list_union(a, 4, b, 5, out);

	tap_check(n == 7 && !memcmp(out, want, sizeof(want)), "union of overlapping lists");
	tap_check(ckpt_list_union(a, 4, NULL, 0, out) == 4 && out[3] == 7, "union with empty");
	tap_check(ckpt_list_union(NULL, 0, NULL, 0, out) == 0, "union of two empty lists");
}

int main(void)
{
	test_names();
	test_sizes();
	test_sets();
	test_lists();
	test_bitmaps();
	test_union();
	return tap_done();
}
