#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The colo primary's sync_from over real NBD: a write of sync_from bytes or
# more is forwarded from the guest's own pages, and completes only once the
# secondary has acknowledged it; smaller writes are copied and complete at
# once, and so are large ones while a hold is on. While nbd-server is
# stopped (SIGSTOP) a 1 MiB write waits and a 4 KiB one does not; after a
# checkpoint both disks are equal; when the forward path dies under a
# waiting write (nbd-server killed, nbd0 disconnected), that write completes
# on the primary's disk without an error and the primary is degraded, with
# the region in its record.
#
#   dd --> primary pri --(>= 64k: the guest's pages; smaller: a copy)-->
#          /dev/nbd0 --> nbd-server --> replica rep --> base
. "$(dirname "$0")/blk_lib.sh"

PORT=10894
# nbd's own timeout must not end the stopped server's wait first
BLK_NBD_TIMEOUT=120
blk_pair_start 16 64m $PORT
# Without the drain bound: a small write must not wait for room behind the
# large one that the stopped server holds (blk_drain.sh tests the bound).
TABLE="0 $S colo primary $LOCAL /dev/nbd0 4 sync_from 64k drain_ms 0"
t_check "primary created with sync_from 64k" blk_create pri "$TABLE"
PRI=/dev/mapper/pri
t_check "the table line echoes it" eval '[[ "$(dmsetup table pri)" == *" 4 drain_ms 0 sync_from 65536" ]]'

head -c 1048576 /dev/urandom > "$BLK_DIR/big.bin"
head -c 4096 /dev/urandom > "$BLK_DIR/small.bin"
# write_at FILE SECTOR: FILE onto the primary at SECTOR, one direct write
write_at()
{
	dd if="$1" of=$PRI bs="$(stat -c %s "$1")" seek="$(($2 * 512))" \
		oflag=direct,seek_bytes conv=notrunc status=none
}

t_check "a 1 MiB write is on the replica's face once it completes, before any checkpoint" eval \
	"write_at $BLK_DIR/big.bin 2048 && blk_holds $BLK_DIR/big.bin 2048 /dev/mapper/rep"
t_check "... forwarded uncopied: sync_writes=1" test "$(blk_field pri sync_writes)" = 1

kill -STOP "$NBD_PID"
write_at "$BLK_DIR/big.bin" 8192 &
dd_pid=$!
t_check "with nbd-server stopped, a 1 MiB write is sent" \
	wait_for 60 eval '[ "$(blk_field pri inflight)" -ge 1 ]'
t_check "... and waits for the secondary" kill -0 $dd_pid
t_check "... while a 4 KiB write completes (copied)" write_at "$BLK_DIR/small.bin" 100
t_check "... the 1 MiB write is still waiting" kill -0 $dd_pid
kill -CONT "$NBD_PID"
wait $dd_pid
t_check "nbd-server resumed: the 1 MiB write completes" test $? = 0
t_check "... it is on the replica's face" blk_holds "$BLK_DIR/big.bin" 8192 /dev/mapper/rep
t_check "... two writes went uncopied" test "$(blk_field pri sync_writes)" = 2

t_check "hold" dmsetup message pri 0 hold
t_check "while held, a 1 MiB write completes at once (copied, kept back)" eval \
	"write_at $BLK_DIR/big.bin 12288 && [ \"\$(blk_field pri pending)\" -ge 1 ] &&
	 [ \"\$(blk_field pri inflight)\" = 0 ] && [ \"\$(blk_field pri sync_writes)\" = 2 ]"
t_check "release, checkpoint: it is on the base" eval \
	"dmsetup message pri 0 release && dmsetup message pri 0 checkpoint &&
	 blk_holds $BLK_DIR/big.bin 12288 $BASE"

t_check "writes of both sizes, then a checkpoint" eval \
	"$BLK_IO fill $PRI 16384 4096 5 && write_at $BLK_DIR/small.bin 20000 &&
	 write_at $BLK_DIR/big.bin 24000 && dmsetup message pri 0 checkpoint"
t_check "... both disks are equal" eval '[ "$(blk_sum "$LOCAL")" = "$(blk_sum "$BASE")" ]'
t_check "... primary active, no errors" eval \
	"test \"\$(blk_state pri) \$(blk_field pri errors)\" = 'active 0'"

kill -STOP "$NBD_PID"
write_at "$BLK_DIR/big.bin" 28672 &
dd_pid=$!
t_check "with nbd-server stopped, another 1 MiB write is sent" \
	wait_for 60 eval '[ "$(blk_field pri inflight)" -ge 1 ]'
# A dead connection's requests wait for nbd's timeout; a disconnect fails
# them at once, as colo-blk.rst tells operators giving up on a secondary.
kill -KILL "$NBD_PID"
t_check "nbd-server killed, nbd0 disconnected" nbd-client -d /dev/nbd0
wait $dd_pid
t_check "... the waiting write completes without an error" test $? = 0
t_check "... it is on the primary's disk" blk_holds "$BLK_DIR/big.bin" 28672 "$LOCAL"
t_check "... the primary is degraded" wait_for 30 eval '[ "$(blk_state pri)" = degraded ]'
t_check "... and its record holds the region" eval \
	"dmsetup message pri 0 written | grep -q '^28672+'"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
