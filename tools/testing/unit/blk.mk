# SPDX-License-Identifier: GPL-2.0
# colo_blk core: table/message parsing, the sector map, the region map and
# the NBD wire codec.
UNIT_TESTS += test_blk_table test_blk_sectormap
test_blk_table_SRCS := unit/test_blk_table.c ../../kernel/colo_blk/table.c
test_blk_sectormap_SRCS := unit/test_blk_sectormap.c ../../kernel/colo_blk/sectormap.c
UNIT_TESTS += test_blk_regions
test_blk_regions_SRCS := unit/test_blk_regions.c ../../kernel/colo_blk/regions.c ../../kernel/colo_blk/sectormap.c
UNIT_TESTS += test_blk_drain
test_blk_drain_SRCS := unit/test_blk_drain.c ../../kernel/colo_blk/drain.c
UNIT_TESTS += test_blk_nbd_proto
test_blk_nbd_proto_SRCS := unit/test_blk_nbd_proto.c ../../kernel/colo_blk/nbd-proto.c
