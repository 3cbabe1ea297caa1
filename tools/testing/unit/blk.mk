# SPDX-License-Identifier: GPL-2.0
# colo_blk core: table/message parsing and the sector map.
UNIT_TESTS += test_blk_table test_blk_sectormap
test_blk_table_SRCS := unit/test_blk_table.c ../../kernel/colo_blk/table.c
test_blk_sectormap_SRCS := unit/test_blk_sectormap.c ../../kernel/colo_blk/sectormap.c
