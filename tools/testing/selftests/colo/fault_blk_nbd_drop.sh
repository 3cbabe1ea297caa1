#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the NBD connection to the secondary drops while the primary is in
# the middle of forwarding writes (nbd-server killed with SIGKILL under fio).
# The guest's writes must all succeed and read back from the local disk; the
# primary must report itself degraded (status and a dm event); teardown must
# be clean with no kernel warning.
#
#   fio -> dm colo primary -> local loop
#                          -> /dev/nbd0 -> nbd-server (killed) -> replica -> base
. "$(dirname "$0")/blk_lib.sh"

PORT=10901
if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 64) && LOCAL=$(blk_loop local 64) || { t_fail "loop devices"; t_done; }
S=$(blk_sectors "$BASE")
t_check "secondary and replica created" eval \
	"blk_create sec '0 $S colo secondary d0 $BASE 128m' && blk_create rep '0 $S colo replica d0 $BASE'"
if blk_nbd_export /dev/mapper/rep $PORT; then
	t_ok "replica face exported over NBD, /dev/nbd0 connected"
else
	t_fail "replica face exported over NBD, /dev/nbd0 connected"
fi
t_check "primary created" blk_create pri "0 $S colo primary $LOCAL /dev/nbd0 2 max_inflight 32"
events=$(blk_events pri)

fio --name=guest --filename=/dev/mapper/pri --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bsrange=512-64k --size=48m --io_size=96m --randseed=7 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output="$BLK_DIR/fio.out" > /dev/null 2>&1 &
fio=$!
t_check "writes are being forwarded" wait_for 60 eval "test \"\$(blk_field pri total_bytes)\" -gt $((4 << 20))"
kill -9 $NBD_PID
wait $NBD_PID 2> /dev/null
wait $fio
fio_rc=$?
t_check "guest writes (and fio's read-back verification) all succeed with the secondary gone" \
	test $fio_rc = 0
grep -E 'err=|WRITE:' "$BLK_DIR/fio.out" | sed 's/^/# /'
t_check "primary reports degraded" wait_for 30 eval "test \"\$(blk_state pri)\" = degraded"
t_check "forward errors counted in status" test "$(blk_field pri errors)" -ge 1
t_check "a dm event told the agent" test "$(blk_events pri)" -gt "$events"
dmsetup status pri | sed 's/^/# status: /'
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
