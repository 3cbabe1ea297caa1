#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The replica's own NBD server (replica option nbd_listen), which Debian's
# nbd-client connects to as to nbd-server, on 127.0.0.1:
#
#   primary dm -> /dev/nbd0 (nbd-client -C 2) == TCP ==> replica's server
#                                                         -> replica face
#                                                         -> secondary base
#
# Checks the table line and its errors, the disk path end to end (every
# disk equal after a checkpoint, FUA, discard, reading back), that writes
# answered before they reach the replica keep their order and are what a
# read sees, that only
# nbd_peer may connect and no more than 16 at once, that a client breaking
# the protocol loses its connection and nothing else (nbd_client.py plays
# it), the status counters, and that the server stops while the device is
# suspended and serves again once it resumes.
. "$(dirname "$0")/blk_lib.sh"

PORT=10900
NBDC="python3 $(dirname "$0")/nbd_client.py 127.0.0.1 $PORT"
blk_disks 32
t_check "both disks start equal (pattern 1)" eval \
	"$BLK_IO fill $BASE 0 $S 1 && $BLK_IO fill $LOCAL 0 $S 1"
t_check "secondary created" blk_create sec "0 $S colo secondary disk0 $BASE 64m"

# bad_replica DESC EXPECTED OPTIONS: a replica line that must be refused
bad_replica()
{
	t_check "refuses $1: $2" blk_refused rep "0 $S colo replica disk0 $BASE $3" "$2"
}
bad_replica "nbd_listen without a port" "Invalid nbd_listen" \
	"4 nbd_listen 127.0.0.1 nbd_peer 127.0.0.1"
bad_replica "port 0" "Invalid nbd_listen" "4 nbd_listen 127.0.0.1:0 nbd_peer 127.0.0.1"
bad_replica "a port beyond 65535" "Invalid nbd_listen" \
	"4 nbd_listen 127.0.0.1:65536 nbd_peer 127.0.0.1"
bad_replica "an IPv6 address without brackets" "Invalid nbd_listen" \
	"4 nbd_listen ::1:$PORT nbd_peer ::1"
bad_replica "a bad peer address" "Invalid nbd_peer" "4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0"
bad_replica "IPv6 listen, IPv4 peer" "not both IPv4 or both IPv6" \
	"4 nbd_listen [::1]:$PORT nbd_peer 127.0.0.1"
bad_replica "nbd_listen without nbd_peer" "Wrong number of arguments" \
	"2 nbd_listen 127.0.0.1:$PORT"
bad_replica "an unknown option" "Optional replica arguments" \
	"4 nbd_listen 127.0.0.1:$PORT nbd_allow 127.0.0.1"

LINE="4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0.1"
# the port is taken: the table loads, its resume fails with the reason
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $PORT)); s.listen(); time.sleep(120)" &
holder=$!
port_taken()
{
	local mark
	mark=$(dmesg | wc -l)
	wait_for 10 eval "ss -ltn | grep -q '127.0.0.1:$PORT '" || return 1
	! dmsetup create rep --table "0 $S colo replica disk0 $BASE $LINE" > /dev/null 2>&1 &&
		dmesg | tail -n +$((mark + 1)) | grep -qF "cannot serve on 127.0.0.1:$PORT: bind failed"
}
t_check "a port in use: the replica does not resume, and the log says why" port_taken
kill $holder; wait $holder 2> /dev/null
dmsetup remove rep > /dev/null 2>&1
t_check "replica with its NBD server created" blk_create rep "0 $S colo replica disk0 $BASE $LINE"
t_check "table echoes the line" test "$(dmsetup table rep)" = \
	"0 $S colo replica disk0 $(lsblk -dno MAJ:MIN "$BASE" | tr -d ' ') $LINE"
t_check "status: serving, no connection yet" eval \
	"dmsetup status rep | grep -q 'nbd=serving conns=0 accepted=0 refused=0'"
listening() { ss -ltn | grep -q "127.0.0.1:$PORT "; }
t_check "listening on 127.0.0.1:$PORT" listening

modprobe nbd nbds_max=2
BLK_TEARDOWN_HOOK="nbd-client -d /dev/nbd0 > /dev/null 2>&1"
t_check "nbd-client connects twice (-C 2) and negotiates the export" \
	blk_nbd_connect /dev/nbd0 127.0.0.1 $PORT -N disk0 -b 512 -t 10 -C 2
# accepted: 2, or 2 more per reconnect of blk_nbd_connect
t_check "status: two connections open, none refused" eval \
	"dmsetup status rep | grep -Eq 'conns=2 accepted=(2|4|6|8) refused=0'"
t_check "the export has the replica's size" test "$(blk_sectors /dev/nbd0)" = "$S"
t_check "primary created over local + nbd" \
	blk_create pri "0 $S colo primary $LOCAL /dev/nbd0 4 max_inflight 16 queue_bytes 4m"
PRI=/dev/mapper/pri SEC=/dev/mapper/sec
pre_sum=$(blk_sum $SEC)

mixed()
{
	"$BLK_IO" fill $PRI 0 2048 2 &&		# 1 MiB
	"$BLK_IO" fill $PRI 5000 1 3 &&		# single sectors
	"$BLK_IO" fill $PRI 9001 77 5 &&		# odd size, odd start
	"$BLK_IO" fill $PRI 100 8 6 &&		# rewrite of the first run
	fio --name=pri --filename=$PRI --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bsrange=512-256k --size=16m --io_size=16m \
		--randseed=7 --output="$BLK_DIR/fio.out" > /dev/null
}
t_check "writes on the primary (mixed sizes, rewrites, fio random 512 B-256 KiB, QD 16)" mixed
t_check "primary checkpoint returns" dmsetup message pri 0 checkpoint
t_check "secondary base equals the primary's disk" test "$(blk_sum "$BASE")" = "$(blk_sum "$LOCAL")"
t_check "SVM still sees the last checkpoint" test "$(blk_sum $SEC)" = "$pre_sum"
t_check "secondary checkpoint, then SVM disk == PVM disk" eval \
	"dmsetup message sec 0 checkpoint && test \"\$(blk_sum $SEC)\" = \"\$(blk_sum $LOCAL)\""
t_check "nbd0 reads back what the base holds" test "$(blk_sum /dev/nbd0)" = "$(blk_sum "$BASE")"
t_check "written bytes counted" test "$(blk_field rep nbd_written_bytes)" -ge $((17 << 20))

t_check "FUA write on the primary reaches the base without a checkpoint" \
	blk_fua_reaches_base $PRI "$BASE"
discarded()
{
	blkdiscard -o $((12000 * 512)) -l $((64 * 512)) $PRI &&
	dmsetup message pri 0 checkpoint &&
	"$BLK_IO" verify "$BASE" 12000 64 0
}
t_check "a discard on the primary reaches the base" discarded

# Clients that break the protocol: each loses its connection, with the
# reason in the kernel log; the server and nbd-client's connections go on.
errors=$(blk_field rep nbd_errors)
hostile()
{
	local mark out
	mark=$(dmesg | wc -l)
	out=$($NBDC "$1" 2>&1) || { echo "$out"; return 1; }
	[ -z "$2" ] || dmesg | tail -n +$((mark + 1)) | grep -qF "$2" ||
		{ echo "no '$2' in the kernel log"; return 1; }
}
t_check "unknown client flags: closed" hostile bad-flags "unknown client flags"
t_check "bad option magic: closed" hostile bad-option "bad option magic"
t_check "option data over 4 KiB: closed" hostile long-option "option data too long"
t_check "an unknown export name: NBD_REP_ERR_UNKNOWN" hostile unknown-export ""
t_check "an unknown option: NBD_REP_ERR_UNSUP, then GO works" hostile unknown-option ""
t_check "33 options: closed" hostile many-options "too many options"
t_check "bad request magic: closed" hostile bad-request "bad request magic"
t_check "a write over 32 MiB: closed" hostile huge-write "write longer than 32 MiB"
t_check "a write past the end: ENOSPC, the connection goes on (a read works)" \
	hostile write-past-end ""
t_check "a misaligned write: EINVAL, its data skipped, the connection goes on" \
	hostile misaligned-write ""
t_check "two writes to a sector, each sent once the other was answered: a read sees the second (200 rounds)" \
	$NBDC write-order 200
t_check "refused requests counted" test "$(blk_field rep nbd_errors)" -ge $((errors + 2))
t_check "nbd-client's connections are still up" eval \
	"dmsetup status rep | grep -q ' conns=2 '"
t_check "and the primary still forwards" eval \
	"$BLK_IO fill $PRI 30000 64 9 && dmsetup message pri 0 checkpoint && $BLK_IO verify $BASE 30000 64 9"

refused=$(blk_field rep refused)
t_check "a connection from another address (127.0.0.2) is closed at once" \
	$NBDC from-other-address
t_check "... and counted as refused" test "$(blk_field rep refused)" = $((refused + 1))
t_check "at most 16 connections: of 20 more, the last 6 are closed" $NBDC many-connections 20 6

t_check "primary removed, nbd-client disconnected" eval \
	"dmsetup remove pri && nbd-client -d /dev/nbd0 > /dev/null"
t_check "status: no connection left" wait_for 30 eval "dmsetup status rep | grep -q ' conns=0 '"
t_check "suspend stops the server" eval "dmsetup suspend rep && ! listening"
t_check "status while suspended: stopped" eval "dmsetup status rep | grep -q 'nbd=stopped'"
t_check "resume serves again" eval "dmsetup resume rep && listening"
t_check "and a client can negotiate" $NBDC read-back
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
