#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo secondary/replica semantics, the checks QEMU's replication test does,
# with distinct patterns per writer: primary writes (replica face) reach the
# base while the SVM keeps reading the pre-image; SVM writes stay in the SVM;
# 512-byte writes work; checkpoint makes the SVM read the primary's data;
# several checkpoints in a row; discard/write-zeroes; the buffer threshold
# event and the over-limit error; failover leaves in the base what the SVM saw;
# a large write-zeroes on the SVM face does not hold up other I/O.
. "$(dirname "$0")/blk_lib.sh"

if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 16) || { t_fail "loop device"; t_done; }
S=$(blk_sectors "$BASE")
t_check "base filled with pattern 1" "$BLK_IO" fill "$BASE" 0 "$S" 1
t_check "secondary and replica created" eval \
	"blk_create sec '0 $S colo secondary disk0 $BASE 2m 2 event_percent 50' &&
	 blk_create rep '0 $S colo replica disk0 $BASE'"
SEC=/dev/mapper/sec REP=/dev/mapper/rep

# primary write, 32 KiB
t_check "primary writes pattern 2 through the replica" "$BLK_IO" fill $REP 0 64 2
t_check "base holds the primary's data" "$BLK_IO" verify "$BASE" 0 64 2
t_check "SVM still reads the pre-image" "$BLK_IO" verify $SEC 0 64 1
# SVM write
t_check "SVM writes pattern 3" "$BLK_IO" fill $SEC 100 64 3
t_check "SVM reads its own write" "$BLK_IO" verify $SEC 100 64 3
t_check "base does not see the SVM write" "$BLK_IO" verify "$BASE" 100 64 1
t_check "replica does not see the SVM write" "$BLK_IO" verify $REP 100 64 1
# single 512-byte sectors next to each other
t_check "primary writes one sector (201)" "$BLK_IO" fill $REP 201 1 4
t_check "SVM writes one sector (202)" "$BLK_IO" fill $SEC 202 1 5
t_check "SVM sectors 200-203 read 1 1 5 1" eval \
	"$BLK_IO verify $SEC 200 2 1 && $BLK_IO verify $SEC 202 1 5 && $BLK_IO verify $SEC 203 1 1"
t_check "base sectors 200-203 read 1 4 1 1" eval \
	"$BLK_IO verify $BASE 200 1 1 && $BLK_IO verify $BASE 201 1 4 && $BLK_IO verify $BASE 202 2 1"
# SVM overwrites part of what the primary wrote
t_check "SVM writes pattern 6 over sectors 10-11" "$BLK_IO" fill $SEC 10 2 6
t_check "SVM reads 1 / 6 / 1 around it" eval \
	"$BLK_IO verify $SEC 0 10 1 && $BLK_IO verify $SEC 10 2 6 && $BLK_IO verify $SEC 12 52 1"
t_check "status counts 67 SVM and 65 pre-image sectors" \
	test "$(blk_field sec svm_sectors) $(blk_field sec pre_sectors)" = "67 65"

t_check "checkpoint" dmsetup message sec 0 checkpoint
t_check "after checkpoint the SVM reads exactly the base" \
	test "$(blk_sum $SEC)" = "$(blk_sum "$BASE")"
t_check "after checkpoint the SVM reads the primary's data" "$BLK_IO" verify $SEC 0 64 2
t_check "buffers empty after checkpoint" test "$(blk_field sec buffered_bytes)" = 0

rounds()
{
	local r p q
	for r in 1 2 3; do
		p=$((20 + r)) q=$((30 + r))
		"$BLK_IO" fill $REP $((r * 1000)) 40 $p || return 1
		"$BLK_IO" fill $SEC $((r * 1000 + 20)) 40 $q || return 1
		"$BLK_IO" verify $SEC $((r * 1000)) 20 1 || return 1
		"$BLK_IO" verify $SEC $((r * 1000 + 20)) 40 $q || return 1
		"$BLK_IO" verify "$BASE" $((r * 1000)) 40 $p || return 1
		dmsetup message sec 0 checkpoint || return 1
		"$BLK_IO" verify $SEC $((r * 1000)) 40 $p || return 1
		[ "$(blk_sum $SEC)" = "$(blk_sum "$BASE")" ] || return 1
	done
}
t_check "three more intervals: each checkpoint gives the primary's disk" rounds

t_check "SVM discard reads as zeroes" eval \
	"blkdiscard -o $((5000 * 512)) -l $((64 * 512)) $SEC && $BLK_IO verify $SEC 5000 64 0"
t_check "SVM write-zeroes reads as zeroes" eval \
	"blkdiscard -z -o $((5100 * 512)) -l $((8 * 512)) $SEC && $BLK_IO verify $SEC 5100 8 0"
t_check "base untouched by SVM discards" "$BLK_IO" verify "$BASE" 5000 200 1
t_check "checkpoint" dmsetup message sec 0 checkpoint

# 2 MiB limit, event at 50%: 1.25 MiB of SVM writes raises one event
ev=$(blk_events sec)
t_check "SVM writes 1.25 MiB" "$BLK_IO" fill $SEC 4096 2560 40
t_check "threshold event raised" test "$(blk_events sec)" -gt "$ev"
ev=$(blk_events sec)
t_check "primary writes up to the limit fail on the replica" \
	eval "! $BLK_IO fill $REP 8192 2048 41"
t_check "the overflow raised an event" test "$(blk_events sec)" -gt "$ev"
t_check "status shows the overflow" eval \
	"test \"\$(blk_state sec)\" = overflow && test \"\$(blk_field sec overflows)\" -ge 1"
t_check "the failed primary write left the SVM's view intact" "$BLK_IO" verify $SEC 8192 2048 1
t_check "SVM write over the limit fails" eval "! $BLK_IO fill $SEC 12288 2048 42"
t_check "checkpoint clears the overflow" eval \
	"dmsetup message sec 0 checkpoint && test \"\$(blk_state sec)\" = active"

# failover: primary wrote [300,400), SVM wrote [350,450)
t_check "primary writes pattern 50 over 300-399" "$BLK_IO" fill $REP 300 100 50
t_check "SVM writes pattern 51 over 350-449" "$BLK_IO" fill $SEC 350 100 51
svm_view=$(blk_sum $SEC)
t_check "failover" dmsetup message sec 0 failover
t_check "status: failed_over, commit complete" eval \
	"test \"\$(blk_state sec)\" = failed_over && test \"\$(blk_field sec commit)\" = 150/150"
t_check "base equals what the SVM saw" test "$(blk_sum "$BASE")" = "$svm_view"
t_check "pre-images restored, SVM writes kept" eval \
	"$BLK_IO verify $BASE 300 50 1 && $BLK_IO verify $BASE 350 100 51"
t_check "after failover SVM writes go to the base" eval \
	"$BLK_IO fill $SEC 500 8 52 && $BLK_IO verify $BASE 500 8 52"
t_check "replica writes are refused after failover" eval "! $BLK_IO fill $REP 600 8 53"
t_check "checkpoint refused after failover" eval "! dmsetup message sec 0 checkpoint"

# A 2 GiB write-zeroes on the SVM face of a 4 GiB secondary: the face
# advertises at most 1 MiB per write-zeroes, so the block layer splits it
# and a small SVM write issued meanwhile gets the secondary's lock between
# two pieces instead of after the whole zeroout. The limit is what is
# checked; how long the small write waited against what remained of the
# zeroout is printed (a time, on a shared emulated machine, is not asserted).
BIG=$(blk_loop big 4096) || t_fail "4 GiB sparse loop device"
BS=$(blk_sectors "$BIG")
BIGSEC=/dev/mapper/bigsec
t_check "4 GiB secondary with a 4 GiB limit" blk_create bigsec "0 $BS colo secondary big $BIG 4g"
wz_max=$(cat "/sys/dev/block/$(dmsetup info -c --noheadings -o major,minor --separator : bigsec | tr -d ' ')/queue/write_zeroes_max_bytes")
t_check "the SVM face takes write-zeroes of at most 1 MiB ($wz_max)" \
	eval "[ $wz_max -gt 0 ] && [ $wz_max -le 1048576 ]"
big_zeroout()
{
	local t0 ts t1 t2 zp
	t0=$(date +%s%N)
	blkdiscard -z -o 0 -l $((2048 << 20)) $BIGSEC &
	zp=$!
	sleep 0.5
	if ! kill -0 $zp 2> /dev/null; then
		echo "zeroout over within 0.5 s: nothing to compare" > "$BLK_DIR/zeroout"
		wait $zp
		return
	fi
	ts=$(date +%s%N)
	"$BLK_IO" fill $BIGSEC $((BS - 8)) 8 60 || return 1
	t1=$(date +%s%N)
	wait $zp || return 1
	t2=$(date +%s%N)
	echo "zeroout: $(( (t2 - t0) / 1000000 )) ms; the small write issued at $(( (ts - t0) / 1000000 )) ms took $(( (t1 - ts) / 1000000 )) ms" \
		> "$BLK_DIR/zeroout"
}
t_check "a small SVM write during a 2 GiB write-zeroes on the same face: both complete" big_zeroout
t_note "$(cat "$BLK_DIR/zeroout" 2> /dev/null)"
t_check "the zeroed range reads as zeroes, the small write as written" eval \
	"$BLK_IO verify $BIGSEC 0 64 0 && $BLK_IO verify $BIGSEC $((4 * 1024 * 1024 - 64)) 64 0 &&
	 $BLK_IO verify $BIGSEC $((BS - 8)) 8 60"
t_check "2 GiB and 8 sectors buffered" test "$(blk_field bigsec buffered_bytes)" = $(( (2 << 30) + 4096 ))
t_check "checkpoint drops them" eval \
	"dmsetup message bigsec 0 checkpoint && test \"\$(blk_field bigsec buffered_bytes)\" = 0"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
