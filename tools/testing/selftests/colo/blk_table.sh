#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo dm target: tables are parsed strictly (each bad table fails with its
# own ti->error and leaves nothing behind), status TABLE echoes the line,
# bad messages are refused with a reason, and creating and removing tables
# over and over leaks nothing (own slab caches are destroyed at rmmod).
. "$(dirname "$0")/blk_lib.sh"

if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 16) && OTHER=$(blk_loop other 16) && SMALL=$(blk_loop small 8) ||
	{ t_fail "loop devices"; t_done; }
S=$(blk_sectors "$BASE")
BASE_ID=$(lsblk -dno MAJ:MIN "$BASE" | tr -d ' ')

# bad_table DESC EXPECTED_ERROR TABLE: create must fail with the reason
bad_table()
{
	t_check "rejects $1: $2" blk_refused bad "$3" "colo: $2"
}

bad_table "no mode" "Missing mode" "0 $S colo"
bad_table "unknown mode" "Unknown mode" "0 $S colo tertiary x $BASE 1m"
bad_table "secondary without limit" "Not enough arguments" "0 $S colo secondary s $BASE"
bad_table "bad limit" "Invalid buffer limit" "0 $S colo secondary s $BASE lots"
bad_table "tiny limit" "Invalid buffer limit" "0 $S colo secondary s $BASE 512"
bad_table "optional count mismatch" "Invalid number of optional secondary arguments" "0 $S colo secondary s $BASE 1m 3 event_percent 50"
bad_table "event_percent 0" "Invalid event_percent" "0 $S colo secondary s $BASE 1m 2 event_percent 0"
bad_table "unknown option" "Unrecognised optional secondary" "0 $S colo secondary s $BASE 1m 2 colour 50"
bad_table "bad name" "Invalid name" "0 $S colo secondary a/b $BASE 1m"
bad_table "missing base device" "Cannot open base device" "0 $S colo secondary s /dev/nonexistent 1m"
bad_table "size mismatch" "Device is smaller than the target" "0 $((S * 2)) colo secondary s $BASE 1m"
bad_table "replica of a non-existent secondary" "No secondary with this name" "0 $S colo replica nosuch $BASE"
bad_table "replica argument count" "Wrong number of arguments" "0 $S colo replica s"
bad_table "primary without forward device" "Not enough arguments" "0 $S colo primary $BASE"
bad_table "primary max_inflight 0" "Invalid max_inflight" "0 $S colo primary $BASE $OTHER 2 max_inflight 0"
bad_table "primary queue_bytes too small" "Invalid queue_bytes" "0 $S colo primary $BASE $OTHER 2 queue_bytes 512"
bad_table "primary duplicate option" "max_inflight given twice" "0 $S colo primary $BASE $OTHER 4 max_inflight 2 max_inflight 3"
bad_table "primary drain_ms too long" "Invalid drain_ms" "0 $S colo primary $BASE $OTHER 2 drain_ms 60001"
bad_table "primary drain_ms not a number" "Invalid drain_ms" "0 $S colo primary $BASE $OTHER 2 drain_ms 100ms"
bad_table "primary drain_ms twice" "drain_ms given twice" "0 $S colo primary $BASE $OTHER 4 drain_ms 1 drain_ms 2"
bad_table "primary with eight options and one more" "Invalid number of optional primary arguments" "0 $S colo primary $BASE $OTHER 18 max_inflight 8 queue_bytes 2m event_bytes 1m region_size 4k drain_ms 5 sync_from 1m nbd_timeout 1000 nbd_source 127.0.0.1 drain_ms 6"
bad_table "primary nbd_timeout over a forward device" "nbd_timeout needs an nbd:// forward" "0 $S colo primary $BASE $OTHER 2 nbd_timeout 1000"
bad_table "primary nbd_source over a forward device" "nbd_source needs an nbd:// forward" "0 $S colo primary $BASE $OTHER 2 nbd_source 127.0.0.1"
bad_table "primary nbd_source twice" "nbd_source given twice" "0 $S colo primary $BASE nbd://127.0.0.1:1/e 4 nbd_source 127.0.0.1 nbd_source 127.0.0.2"
bad_table "primary nbd_timeout too short" "Invalid nbd_timeout" "0 $S colo primary $BASE nbd://127.0.0.1:1/e 2 nbd_timeout 999"
bad_table "primary sync_from too large" "Invalid sync_from" "0 $S colo primary $BASE $OTHER 2 sync_from 64m"
bad_table "primary sync_from twice" "sync_from given twice" "0 $S colo primary $BASE $OTHER 4 sync_from 1m sync_from 2m"
bad_table "primary local = forward" "Local and forward devices must differ" "0 $S colo primary $BASE $BASE"
bad_table "primary forward too small" "Device is smaller than the target" "0 $S colo primary $BASE $SMALL"

t_check "secondary created" blk_create sec "0 $S colo secondary disk0 $BASE 1m 2 event_percent 50"
t_check "status TABLE echoes the secondary line" \
	test "$(dmsetup table sec)" = "0 $S colo secondary disk0 $BASE_ID 1048576 2 event_percent 50"
t_check "status INFO of the secondary" \
	test "$(blk_state sec) $(blk_field sec buffered_bytes) $(blk_field sec replica)" = "active 0 none"
bad_table "duplicate secondary name" "A secondary with this name already exists" "0 $S colo secondary disk0 $OTHER 1m"
bad_table "replica over another base" "Base device differs" "0 $S colo replica disk0 $OTHER"
bad_table "replica of another length" "Length differs" "0 $((S / 2)) colo replica disk0 $BASE"
t_check "replica created" blk_create rep "0 $S colo replica disk0 $BASE"
t_check "status TABLE echoes the replica line" \
	test "$(dmsetup table rep)" = "0 $S colo replica disk0 $BASE_ID"
t_check "secondary reports its replica" test "$(blk_field sec replica)" = bound
bad_table "second replica" "The secondary already has a replica" "0 $S colo replica disk0 $BASE"
t_check "primary created" blk_create pri "0 $S colo primary $OTHER $BASE 6 event_bytes 1m max_inflight 8 queue_bytes 2m"
t_check "status TABLE echoes the primary line" \
	test "$(dmsetup table pri)" = "0 $S colo primary $(lsblk -dno MAJ:MIN "$OTHER" | tr -d ' ') $BASE_ID 6 max_inflight 8 queue_bytes 2097152 event_bytes 1048576"
t_check "drain bound before any measurement: 16 MiB/s for both rates, 75 ms of it (3/4 of the default 100), nothing drained yet" \
	test "$(blk_field pri drain_limit) $(blk_field pri drain_bw) $(blk_field pri drain_flush_bw) $(blk_field pri unflushed_bytes) $(blk_field pri drain_estimate_us) $(blk_field pri last_drain_us)" = "1258291 16777216 16777216 0 0 0"
t_check "primary with all six options created" blk_create pri2 \
	"0 $S colo primary $OTHER $BASE 12 drain_ms 0 sync_from 128k region_size 4k max_inflight 8 queue_bytes 2m event_bytes 1m"
t_check "status TABLE echoes drain_ms and sync_from" \
	test "$(dmsetup table pri2)" = "0 $S colo primary $(lsblk -dno MAJ:MIN "$OTHER" | tr -d ' ') $BASE_ID 12 max_inflight 8 queue_bytes 2097152 event_bytes 1048576 region_size 4096 drain_ms 0 sync_from 131072"
t_check "drain_ms 0: queue_bytes alone bounds the queue" test "$(blk_field pri2 drain_limit)" = 2097152
t_check "primary with drain_ms removed" dmsetup remove pri2

# bad_message DEV DESC EXPECTED MESSAGE...
bad_message()
{
	local dev=$1 desc=$2 want=$3 mark
	shift 3
	mark=$(dmesg | wc -l)
	if dmsetup message "$dev" 0 "$@" > /dev/null 2>&1; then
		t_fail "$dev refuses $desc"
	elif dmesg | tail -n +$((mark + 1)) | grep -qF "$want"; then
		t_ok "$dev refuses $desc: $want"
	else
		t_fail "$dev refuses $desc with '$want'"
	fi
}
bad_message sec "an unknown message" "Unknown message" rollback
bad_message sec "extra arguments" "failover, hold and release take no arguments" failover now
bad_message sec "a checkpoint timeout that is no number" "Invalid checkpoint timeout" checkpoint now
bad_message pri "a checkpoint timeout of 0" "Invalid checkpoint timeout" checkpoint 0
bad_message pri "a checkpoint timeout over ten minutes" "Invalid checkpoint timeout" checkpoint 600001
bad_message sec "a checkpoint timeout" "the secondary's takes no timeout" checkpoint 500
bad_message rep "messages" "The replica takes no messages" checkpoint
t_check "secondary takes checkpoint" dmsetup message sec 0 checkpoint
t_check "checkpoint counted" test "$(blk_field sec checkpoints)" = 1
t_check "primary takes checkpoint" dmsetup message pri 0 checkpoint
t_check "primary takes checkpoint with a timeout" dmsetup message pri 0 checkpoint 60000
t_check "devices removed" dmsetup remove pri rep sec

# Many create/write/remove cycles: slab objects must come back.
before=$(slab_active_objects)
cycle()
{
	local i
	for i in $(seq 12); do
		dmsetup create sec --table "0 $S colo secondary disk0 $BASE 1m" || return 1
		dmsetup create rep --table "0 $S colo replica disk0 $BASE" || return 1
		dmsetup create pri --table "0 $S colo primary $OTHER /dev/mapper/rep" || return 1
		"$BLK_IO" fill /dev/mapper/sec $((i * 3)) 5 7 || return 1
		"$BLK_IO" fill /dev/mapper/pri $((i * 5)) 9 8 || return 1
		"$BLK_IO" verify /dev/mapper/sec $((i * 3)) 5 7 || return 1
		dmsetup message pri 0 checkpoint || return 1
		dmsetup remove pri rep sec || return 1
	done
}
t_check "12 create/write/remove cycles" cycle
t_check "slab objects settle after the cycles" slab_settled "$before"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
