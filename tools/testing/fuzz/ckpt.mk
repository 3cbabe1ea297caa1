# SPDX-License-Identifier: GPL-2.0
# colo_ckpt core: dirty set operations, set validation and conversions.
FUZZ_CKPT_CORE := ../../kernel/colo_ckpt/dset.c ../../kernel/colo_ckpt/args.c
FUZZERS += fuzz_ckpt_dset fuzz_ckpt_sets
fuzz_ckpt_dset_SRCS := fuzz/fuzz_ckpt_dset.c $(FUZZ_CKPT_CORE)
fuzz_ckpt_sets_SRCS := fuzz/fuzz_ckpt_sets.c $(FUZZ_CKPT_CORE)
