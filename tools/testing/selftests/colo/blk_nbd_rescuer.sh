#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Linux 6.1's nbd driver reads each connection's replies in a work item on
# a WQ_MEM_RECLAIM workqueue. When the kernel is slow to start a worker,
# the workqueue's rescuer thread ("nbd0-recv") takes both readers and runs
# them one after the other: the first one only returns at disconnect, so
# the second connection's replies go unread until nbd's timeout, and the
# driver then drops that connection. colod and the tests watch the rescuer
# after connecting and connect again when it holds a reader
# (blk_nbd_readers_rescued and blk_nbd_connect here, tools/colod/host.c).
#
#   CPU hogs (nice -20) on every CPU while nbd-client -C 2 connects, and
#   for a second after: /dev/nbd0 == TCP ==> replica's own NBD server
#
# The load makes starting a worker slow; in the runs made here the rescuer
# took the readers nearly every time at the first connection after loading
# nbd, but that is a race, and it may take one reader only while a worker
# runs the other (then nothing stalls). So the test notes what happened (a
# read from a CPU that gets nothing in 3 s, nbd's timeout being 20 s, shows
# its connection's reader not running) and checks what must hold
# either way: blk_nbd_connect connects without the rescuer holding a
# reader, then a read issued from each CPU (each CPU maps to its own
# hardware queue, so to its own connection) completes within 5 s and no
# request on that connection timed out.
. "$(dirname "$0")/blk_lib.sh"

PORT=10895
if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 32) || { t_fail "loop device"; t_done; }
S=$(blk_sectors "$BASE")
t_check "secondary created" blk_create sec "0 $S colo secondary disk0 $BASE 64m"
t_check "replica serving on 127.0.0.1:$PORT" blk_create rep \
	"0 $S colo replica disk0 $BASE 4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0.1"
modprobe nbd nbds_max=2
BLK_TEARDOWN_HOOK="nbd-client -d /dev/nbd0 > /dev/null 2>&1"
CPUS=$(nproc)
MARK=$(dmesg | wc -l)

hogs=()
for ((c = 0; c < CPUS; c++)); do
	taskset -c $c nice -n -20 sh -c 'while :; do :; done' &
	hogs+=($!)
done
on_exit "kill ${hogs[*]} 2> /dev/null"
t_check "nbd-client connects twice (-C 2) with every CPU busy" \
	nbd-client 127.0.0.1 $PORT /dev/nbd0 -N disk0 -b 512 -t 20 -C 2
# the load's length, not a wait for a condition
sleep 1
kill "${hogs[@]}"
wait "${hogs[@]}" 2> /dev/null

# read_from_cpu CPU SECONDS [BLOCK]: one direct 4 KiB read of nbd0 issued
# from CPU (at BLOCK, or a random one), bounded by SECONDS (0: no bound)
read_from_cpu()
{
	timeout "$2" taskset -c "$1" dd if=/dev/nbd0 of=/dev/null iflag=direct bs=4k count=1 \
		skip="${3:-$((RANDOM % (S / 8)))}" status=none
}
# reads_pending PID...: some of those processes still run
reads_pending()
{
	local p
	for p in "$@"; do
		kill -0 "$p" 2> /dev/null && return 0
	done
	return 1
}
if blk_nbd_readers_rescued /dev/nbd0; then
	# It holds both readers, or one while a worker runs the other. A read
	# from each CPU (each its own connection) tells which: one that gets
	# nothing in 3 s waits for a reader that does not run. They fail once
	# the device disconnects.
	pids=() stalled=
	for ((c = 0; c < CPUS; c++)); do
		read_from_cpu $c 0 $((7 + c)) 2> /dev/null &
		pids+=($!)
	done
	if ! wait_for 3 eval "! reads_pending ${pids[*]}"; then
		for ((c = 0; c < CPUS; c++)); do
			kill -0 "${pids[c]}" 2> /dev/null && stalled="$stalled $c"
		done
	fi
	t_note "the rescuer runs a reader; reads stalled from CPU(s):${stalled:- none}"
	nbd-client -d /dev/nbd0 > /dev/null 2>&1
	t_check "the reads have ended once disconnected" \
		wait_for 60 eval "! reads_pending ${pids[*]}"
	# what that connection's stalled requests logged is not the new one's
	MARK=$(dmesg | wc -l)
	t_check "blk_nbd_connect connects again" \
		blk_nbd_connect /dev/nbd0 127.0.0.1 $PORT -N disk0 -b 512 -t 20 -C 2
else
	t_note "the rescuer did not take the readers this time"
fi
t_check "the rescuer holds no reader now" eval "! blk_nbd_readers_rescued /dev/nbd0"

for ((c = 0; c < CPUS; c++)); do
	t_check "a read issued from CPU $c completes within 5 s" read_from_cpu $c 5
done
t_check "no request on the connection in use timed out" eval "! dmesg | tail -n +$((MARK + 1)) | grep -q 'nbd0: Connection timed out'"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
