#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo primary under suspend, table reload and resume: suspend waits for
# the forwarded copies, so the old table has nothing left to forward (or to
# drop) when the new one starts. Writes keep coming during three
# suspend/reload/resume cycles over a slow forward path; after a checkpoint
# the SVM's disk must equal the PVM's. A suspend killed while it waits
# leaves the primary degraded.
. "$(dirname "$0")/blk_lib.sh"

N=4096	# sectors written by the load (2 MiB)
if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
t_check "dm-delay loads" modprobe dm-delay
BASE=$(blk_loop base 16) && LOCAL=$(blk_loop local 16) || { t_fail "loop devices"; t_done; }
S=$(blk_sectors "$BASE")
t_check "base and local disk filled with pattern 1" eval \
	"$BLK_IO fill $BASE 0 $S 1 && $BLK_IO fill $LOCAL 0 $S 1"
t_check "secondary and replica created" eval \
	"blk_create sec '0 $S colo secondary disk0 $BASE 64m' &&
	 blk_create rep '0 $S colo replica disk0 $BASE'"
SEC=/dev/mapper/sec REP=/dev/mapper/rep PRI=/dev/mapper/pri

# The forward path: the replica behind dm-delay, 100 ms per write. With
# one copy in flight and 1 MiB of queue the primary always holds a backlog
# while the load runs.
fwd_table()
{
	echo "0 $S delay $REP 0 0 $REP 0 $1"
}
t_check "slow forward device" blk_create fwd "$(fwd_table 100)"
BLK_TEARDOWN_HOOK="dmsetup remove fwd"
PRI_TABLE="0 $S colo primary $LOCAL /dev/mapper/fwd 4 max_inflight 1 queue_bytes 1m"
t_check "primary created" blk_create pri "$PRI_TABLE"
t_check "random data for the load" \
	dd if=/dev/urandom of="$BLK_DIR/random" bs=1M count=4 status=none

# load STOPFILE: 256 KiB runs of random data (64 KiB writes) copied from
# changing places to changing, overlapping places, until STOPFILE exists.
load()
{
	local k=0
	while [ ! -e "$1" ]; do
		dd if="$BLK_DIR/random" of=$PRI bs=64k count=4 skip=$(( k * 7 % 60 )) \
			seek=$(( k * 5 % (N / 128 - 4) )) oflag=direct conv=notrunc status=none ||
			return 1
		k=$((k + 1))
	done
}

# cycles: suspend, note the copies still pending, reload the same table,
# resume.
cycles()
{
	local i
	for i in 1 2 3; do
		sleep 1
		dmsetup suspend pri || return 1
		blk_field pri pending >> "$BLK_DIR/pending"
		dmsetup reload pri --table "$PRI_TABLE" || return 1
		dmsetup resume pri || return 1
	done
}

rm -f "$BLK_DIR/stop"
load "$BLK_DIR/stop" &
load_pid=$!
t_check "three suspend/reload/resume cycles under write load" cycles
t_check "no copy pending after any suspend (pending: $(echo $(cat "$BLK_DIR/pending")))" \
	test "$(sort -u "$BLK_DIR/pending")" = 0
sleep 1
touch "$BLK_DIR/stop"
wait $load_pid
load_rc=$?
t_check "the write load ran without an error" test $load_rc = 0
t_check "primary still active" test "$(blk_state pri)" = active
t_check "primary checkpoint" dmsetup message pri 0 checkpoint
t_check "secondary checkpoint" dmsetup message sec 0 checkpoint
t_check "the SVM's disk equals the PVM's" test "$(blk_sum $SEC)" = "$(blk_sum $PRI)"
t_check "and the base equals the local disk" test "$(blk_sum "$BASE")" = "$(blk_sum "$LOCAL")"

# A forward device that holds writes for a minute: a suspend waiting for
# the copies is killed; it completes, degraded.
t_check "forward device stalled" eval \
	"dmsetup suspend fwd && dmsetup reload fwd --table '$(fwd_table 60000)' && dmsetup resume fwd"
t_check "a write queues a copy" "$BLK_IO" fill $PRI 0 8 90
t_check "killed suspend returns" eval "! timeout -s KILL 3 dmsetup suspend pri"
t_check "the primary is suspended and degraded" eval \
	"wait_for 10 eval 'dmsetup info pri | grep -q SUSPENDED' && test \"\$(blk_state pri)\" = degraded"
t_check "kernel log says why" eval "dmesg | grep -q 'suspend interrupted before the forwarded writes'"
t_check "primary resumes" dmsetup resume pri
t_check "forward device unstalled" eval \
	"dmsetup suspend --noflush fwd && dmsetup reload fwd --table '$(fwd_table 0)' && dmsetup resume fwd"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
