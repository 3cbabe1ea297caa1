# SPDX-License-Identifier: GPL-2.0
# colo_ckpt core: the dirty set and the ioctl argument checks.
CKPT_CORE := ../../kernel/colo_ckpt/dset.c ../../kernel/colo_ckpt/args.c
UNIT_TESTS += test_ckpt_dset test_ckpt_args
test_ckpt_dset_SRCS := unit/test_ckpt_dset.c $(CKPT_CORE)
test_ckpt_args_SRCS := unit/test_ckpt_args.c $(CKPT_CORE)
