#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The full colo disk path on one machine: primary dm device -> nbd-client ->
# nbd-server (127.0.0.1) -> replica face -> secondary base. Checks that
# checkpoint makes all disks byte-identical (checksums) after mixed and
# random overlapping writes, that the SVM keeps its pre-checkpoint view until
# then, the sent-bytes event, that a FUA write is forwarded as such, and that
# a checkpoint with a timeout gives up on a stalled secondary, and that
# losing the secondary degrades the primary without failing guest writes.
. "$(dirname "$0")/blk_lib.sh"

PORT=10899
blk_pair_start 32 64m $PORT
t_check "primary created over local + nbd" \
	blk_create pri "0 $S colo primary $LOCAL /dev/nbd0 6 max_inflight 16 queue_bytes 4m event_bytes 1m"
PRI=/dev/mapper/pri SEC=/dev/mapper/sec REP=/dev/mapper/rep
pre_sum=$(blk_sum $SEC)

ev=$(blk_events pri)
mixed()
{
	"$BLK_IO" fill $PRI 0 2048 2 &&		# 1 MiB
	"$BLK_IO" fill $PRI 5000 1 3 &&		# single sectors
	"$BLK_IO" fill $PRI 5002 1 4 &&
	"$BLK_IO" fill $PRI 9001 77 5 &&		# odd size, odd start
	"$BLK_IO" fill $PRI 100 8 6 &&		# rewrite of the first run
	"$BLK_IO" verify $PRI 100 8 6 &&
	blkdiscard -o $((12000 * 512)) -l $((64 * 512)) $PRI &&
	"$BLK_IO" verify "$LOCAL" 12000 64 0
}
t_check "guest writes on the primary (1 MiB + odd sizes + rewrites + discard)" mixed
t_check "primary checkpoint returns once the secondary acknowledged" dmsetup message pri 0 checkpoint
t_check "primary status: nothing pending, no errors" eval \
	"test \"\$(blk_state pri) \$(blk_field pri pending) \$(blk_field pri errors)\" = 'active 0 0'"
t_check "sent-bytes event raised past event_bytes" test "$(blk_events pri)" -gt "$ev"
t_check "secondary base equals the primary's disk" test "$(blk_sum "$BASE")" = "$(blk_sum "$LOCAL")"
t_check "rewrite arrived in order" "$BLK_IO" verify "$BASE" 100 8 6
t_check "discard reached the secondary's base" "$BLK_IO" verify "$BASE" 12000 64 0
t_check "SVM still sees the last checkpoint" test "$(blk_sum $SEC)" = "$pre_sum"
t_check "SVM writes meanwhile" "$BLK_IO" fill $SEC 20000 64 7
t_check "secondary checkpoint" dmsetup message sec 0 checkpoint
t_check "after checkpoint on both: SVM disk == PVM disk" \
	test "$(blk_sum $SEC)" = "$(blk_sum "$LOCAL")"

fio_rand()
{
	fio --name=pri --filename=$PRI --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=512-64k --size=8m --io_size=8m --fdatasync=32 \
		--randseed="$1" --output="$BLK_DIR/fio.out" > /dev/null
}
intervals()
{
	local r
	for r in 1 2 3; do
		fio_rand $r || return 1
		"$BLK_IO" fill $SEC $((r * 9000)) 100 $((70 + r)) || return 1
		dmsetup message pri 0 checkpoint || return 1
		dmsetup message sec 0 checkpoint || return 1
		[ "$(blk_sum $SEC)" = "$(blk_sum "$LOCAL")" ] || { echo "interval $r: SVM != PVM"; return 1; }
		[ "$(blk_sum "$BASE")" = "$(blk_sum "$LOCAL")" ] || { echo "interval $r: base != PVM"; return 1; }
	done
}
t_check "three intervals of random overlapping writes (fio, 512 B-64 KiB, QD 8, flushes): equal after each checkpoint" intervals
t_check "forwarded bytes counted" test "$(blk_field pri total_bytes)" -gt $((24 << 20))

# FUA travels with the copy: nbd-server (fua = true) writes such a request
# through the replica at once, where a plain write waits in its page cache
# for the checkpoint flush.
t_check "FUA write (O_DSYNC) on the primary reaches the secondary's base without a checkpoint" \
	blk_fua_reaches_base $PRI "$BASE"
t_check "FUA write left the SVM's view alone" "$BLK_IO" verify $SEC 24576 128 1

# The secondary stalls (nbd-server stopped, the connection up): a
# checkpoint with a timeout gives up, with the reason, before nbd-client's
# own request timeout (10 s) would degrade the primary, and changes
# nothing; once the secondary answers again the next checkpoint completes.
# stalled_checkpoint WHAT SECTOR REASON: 64 sectors of pattern 11 written
# at SECTOR, the secondary stalled before they are acknowledged
# (WHAT=writes) or after (WHAT=flush: only the flush that makes them
# durable is left); checkpoint 1000 must fail with "Timed out: the forward
# device has not REASON" and leave the primary as it was.
stalled_checkpoint()
{
	local why=$1 sector=$2 mark ckpts rc=0
	ckpts=$(blk_field pri checkpoints)
	if [ "$why" = flush ]; then
		"$BLK_IO" fill $PRI "$sector" 64 11 || return 1
		# acknowledged, not yet durable: only the flush is left
		wait_for 30 eval "test \$(blk_field pri pending) = 0 -a \$(blk_field pri unflushed_bytes) -gt 0" ||
			{ echo "not acknowledged: $(dmsetup status pri)"; return 1; }
		kill -STOP "$NBD_PID" || return 1
	else
		kill -STOP "$NBD_PID" || return 1
		"$BLK_IO" fill $PRI "$sector" 64 11 || rc=1
	fi
	mark=$(dmesg | wc -l)
	dmsetup message pri 0 checkpoint 1000 > /dev/null 2>&1 && { echo "checkpoint succeeded"; rc=1; }
	dmesg | tail -n +$((mark + 1)) | grep -q "Timed out: the forward device has not $3" ||
		{ echo "no 'Timed out ... $3' in the kernel log"; rc=1; }
	[ "$(blk_state pri) $(blk_field pri errors) $(blk_field pri checkpoints)" = "active 0 $ckpts" ] ||
		{ echo "changed: $(dmsetup status pri)"; rc=1; }
	kill -CONT "$NBD_PID" || return 1
	[ $rc = 0 ] || return 1
	dmsetup message pri 0 checkpoint || return 1
	"$BLK_IO" verify "$BASE" "$sector" 64 11 &&
		test "$(blk_field pri checkpoints)" = $((ckpts + 1))
}
t_check "a stalled secondary: checkpoint 1000 times out waiting for the writes, then completes" \
	stalled_checkpoint writes 40000 "acknowledged the writes"
t_check "a stalled secondary: checkpoint 1000 times out waiting for the flush, then completes" \
	stalled_checkpoint flush 40100 "completed the flush"
t_check "after both: the secondary base equals the primary's disk" \
	test "$(blk_sum "$BASE")" = "$(blk_sum "$LOCAL")"

# the secondary goes away
blk_nbd_stop
t_check "guest writes still succeed on the primary" eval \
	"$BLK_IO fill $PRI 30000 64 9 && $BLK_IO verify $PRI 30000 64 9 && $BLK_IO verify $LOCAL 30000 64 9"
t_check "primary reports degraded" wait_for 10 eval "test \"\$(blk_state pri)\" = degraded"
t_check "primary errors counted" test "$(blk_field pri errors)" -ge 1
mark=$(dmesg | wc -l)
t_check "checkpoint fails on a degraded primary" eval "! dmsetup message pri 0 checkpoint"
t_check "with the reason in the kernel log" eval \
	"dmesg | tail -n +$((mark + 1)) | grep -q 'Degraded: the forward device failed'"
t_check "failover stops forwarding" eval \
	"dmsetup message pri 0 failover && test \"\$(blk_state pri)\" = stopped"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
