# SPDX-License-Identifier: GPL-2.0
# colo_blk core: table/message parser, sector map and region map against
# models; the NBD wire codec against the protocol.
FUZZERS += fuzz_blk_table fuzz_blk_sectormap
fuzz_blk_table_SRCS := fuzz/fuzz_blk_table.c ../../kernel/colo_blk/table.c
fuzz_blk_sectormap_SRCS := fuzz/fuzz_blk_sectormap.c ../../kernel/colo_blk/sectormap.c
FUZZERS += fuzz_blk_regions
fuzz_blk_regions_SRCS := fuzz/fuzz_blk_regions.c ../../kernel/colo_blk/regions.c ../../kernel/colo_blk/sectormap.c
FUZZERS += fuzz_blk_nbd_proto
fuzz_blk_nbd_proto_SRCS := fuzz/fuzz_blk_nbd_proto.c ../../kernel/colo_blk/nbd-proto.c
