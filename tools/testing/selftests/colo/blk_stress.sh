#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Concurrency: random overlapping reads and writes of odd sizes (1-23
# sectors) on the SVM face and the replica face at once, every read checked
# against a model of its face (blk_io stress): the SVM never sees a primary
# write, the primary never an SVM write. Then checkpoint must give the SVM
# the replica's model, and failover must leave the SVM's model in the base.
. "$(dirname "$0")/blk_lib.sh"

N=8192	# sectors under test (4 MiB)
if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 16) || { t_fail "loop device"; t_done; }
S=$(blk_sectors "$BASE")
t_check "base filled with pattern 1" "$BLK_IO" fill "$BASE" 0 "$S" 1
t_check "secondary and replica created" eval \
	"blk_create sec '0 $S colo secondary disk0 $BASE 64m' &&
	 blk_create rep '0 $S colo replica disk0 $BASE'"
SEC=/dev/mapper/sec REP=/dev/mapper/rep

# head DEV: the first N sectors, read around the page cache
head_sum()
{
	dd if="$1" iflag=direct bs=512 count=$N status=none | md5sum | cut -d' ' -f1
}
file_sum()
{
	md5sum < "$1" | cut -d' ' -f1
}

t_check "round 1: 4+4 workers, 1500 ops each, both faces against their models" \
	"$BLK_IO" stress $SEC $REP $N 4 1500 1 "$BLK_DIR/svm1" "$BLK_DIR/rep1"
t_check "round 1: SVM face holds the SVM model" test "$(head_sum $SEC)" = "$(file_sum "$BLK_DIR/svm1")"
t_check "round 1: base holds the replica model" test "$(head_sum "$BASE")" = "$(file_sum "$BLK_DIR/rep1")"
t_check "round 1: checkpoint" dmsetup message sec 0 checkpoint
t_check "round 1: SVM reads the replica model after checkpoint" \
	test "$(head_sum $SEC)" = "$(file_sum "$BLK_DIR/rep1")"

t_check "reset both faces to pattern 1" eval \
	"$BLK_IO fill $REP 0 $N 1 && dmsetup message sec 0 checkpoint && $BLK_IO verify $SEC 0 $N 1"
t_check "round 2: 4+4 workers, 1500 ops each, other seed" \
	"$BLK_IO" stress $SEC $REP $N 4 1500 2 "$BLK_DIR/svm2" "$BLK_DIR/rep2"
t_check "round 2: failover" dmsetup message sec 0 failover
t_check "round 2: base holds the SVM model after failover" \
	test "$(head_sum "$BASE")" = "$(file_sum "$BLK_DIR/svm2")"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
