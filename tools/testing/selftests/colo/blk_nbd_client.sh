#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The primary's own NBD client (forward nbd://<addr>:<port>/<export>), on
# 127.0.0.1:
#
#   dd/blk_io --> primary pri --(own client, one TCP connection)-->
#                 replica's server (nbd_listen) --> replica rep --> base
#
# Checks that a wrong forward is refused with the reason (bad address, no
# server, unknown export, an export too small, a server that is not newstyle
# or takes no flushes, a bad nbd_source), that nbd_source picks the address
# the replica sees, the table line and status, the disk path end to end
# (a large write on the replica's face when it completes, small copied
# writes, discard; both disks equal after a checkpoint), that failover fails
# what waits on a silent server at once, and that a server breaking the
# protocol (an unknown handle, a bad magic) or going away costs the
# connection and degrades the primary, never an error to the guest; and
# that a write the replica fails after its server answered it fails the
# next flush, and so the primary's checkpoint.
# nbd_server_fake.py plays the misbehaving servers.
. "$(dirname "$0")/blk_lib.sh"

PORT=10902
FAKE_PORT=10903
FAKE="python3 $(dirname "$0")/nbd_server_fake.py 127.0.0.1 $FAKE_PORT"
blk_disks 64
t_check "both disks start equal (pattern 1)" eval \
	"$BLK_IO fill $BASE 0 $S 1 && $BLK_IO fill $LOCAL 0 $S 1"
t_check "secondary and replica with its server created" eval \
	"blk_create sec '0 $S colo secondary disk0 $BASE 64m' &&
	 blk_create rep '0 $S colo replica disk0 $BASE 4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0.1'"

# bad_primary DESC EXPECTED FORWARD [SECTORS]: a primary line that must be
# refused with the reason
bad_primary()
{
	t_check "refuses $1: $2" blk_refused pri "0 ${4:-$S} colo primary $LOCAL $3" "$2"
}
bad_primary "a forward without an export name" "without an export name" \
	"nbd://127.0.0.1:$PORT"
bad_primary "a forward address without a port" "Invalid NBD server address" \
	"nbd://127.0.0.1/disk0"
bad_primary "a port nobody listens on" "refused the connection" "nbd://127.0.0.1:$FAKE_PORT/disk0"
bad_primary "an export the server does not have" "is there an export of that name?" \
	"nbd://127.0.0.1:$PORT/disk1"
bad_primary "a target larger than the export" "smaller than the target" \
	"nbd://127.0.0.1:$PORT/disk0" $((S + 8))

# fake CASE: the misbehaving server, listening once this returns
fake()
{
	coproc FAKE_SRV { exec $FAKE "$1" $((S * 512)); }
	read -r -t 30 line <&"${FAKE_SRV[0]}" && [ "$line" = listening ]
}
fake greeting
bad_primary "a server that is not fixed newstyle" "not a newstyle NBD server" \
	"nbd://127.0.0.1:$FAKE_PORT/disk0"
wait $FAKE_SRV_PID
fake noflush
bad_primary "an export that takes no flushes" "takes no flushes" \
	"nbd://127.0.0.1:$FAKE_PORT/disk0"
wait $FAKE_SRV_PID
t_check "the replica's server has no connection left" \
	wait_for 30 eval "dmsetup status rep | grep -q ' conns=0 '"

FWD="nbd://127.0.0.1:$PORT/disk0"
t_check "primary created over its own client, sync_from 64k" \
	blk_create pri "0 $S colo primary $LOCAL $FWD 4 sync_from 64k drain_ms 0"
PRI=/dev/mapper/pri
t_check "the table line echoes the forward" eval \
	"[[ \"\$(dmsetup table pri)\" == *\" $FWD 4 drain_ms 0 sync_from 65536\" ]]"
t_check "status: nbd=connected" test "$(blk_field pri nbd)" = connected
t_check "the replica's server counts one connection" \
	eval "dmsetup status rep | grep -q ' conns=1 '"

head -c 1048576 /dev/urandom > "$BLK_DIR/big.bin"
head -c 4096 /dev/urandom > "$BLK_DIR/small.bin"
# write_at FILE SECTOR [DEV]: FILE onto DEV (the primary) at SECTOR, one direct write
write_at()
{
	dd if="$1" of="${3:-$PRI}" bs="$(stat -c %s "$1")" seek="$(($2 * 512))" \
		oflag=direct,seek_bytes conv=notrunc status=none
}
t_check "a 1 MiB write is on the replica's face once it completes" eval \
	"write_at $BLK_DIR/big.bin 2048 && blk_holds $BLK_DIR/big.bin 2048 /dev/mapper/rep"
t_check "... forwarded uncopied: sync_writes=1" test "$(blk_field pri sync_writes)" = 1
t_check "random writes, a 4 KiB write, a discard, then a checkpoint" eval \
	"$BLK_IO fill $PRI 16384 8192 5 && write_at $BLK_DIR/small.bin 30000 &&
	 blkdiscard -o $((40000 * 512)) -l 1048576 $PRI && dmsetup message pri 0 checkpoint"
t_check "... both disks are equal" eval '[ "$(blk_sum "$LOCAL")" = "$(blk_sum "$BASE")" ]'
t_check "... primary active, no errors" eval \
	"test \"\$(blk_state pri) \$(blk_field pri errors)\" = 'active 0'"
t_check "... the replica's server wrote what was forwarded" eval \
	"[ \"\$(blk_field rep nbd_written_bytes)\" -ge $((1048576 + 8192 * 512 + 4096)) ]"

# The replica's server goes away under the primary: suspending the replica
# closes its connections.
t_check "the replica suspended: its server closes the connection" dmsetup suspend rep
t_check "... the primary sees it: nbd=closed" wait_for 30 eval '[ "$(blk_field pri nbd)" = closed ]'
t_check "... a 1 MiB write then completes without an error" write_at "$BLK_DIR/big.bin" 4096
t_check "... the primary is degraded, the region in its record" eval \
	"[ \"\$(blk_state pri)\" = degraded ] && dmsetup message pri 0 written | grep -q '^4096+'"
t_check "primary removed, replica resumed" eval "dmsetup remove pri && dmsetup resume rep"

# A silent server: the large write waits for it, a failover ends the wait.
fake silent
t_check "primary over a server that never answers" \
	blk_create pri "0 $S colo primary $LOCAL nbd://127.0.0.1:$FAKE_PORT/disk0 2 sync_from 64k"
write_at "$BLK_DIR/big.bin" 8192 &
dd_pid=$!
t_check "a 1 MiB write is sent and waits" \
	wait_for 60 eval '[ "$(blk_field pri inflight)" -ge 1 ] && kill -0 '$dd_pid
t_check "failover: the connection is shut" eval \
	"dmsetup message pri 0 failover && [ \"\$(blk_field pri nbd)\" = closed ]"
wait $dd_pid
t_check "... the waiting write completes without an error" test $? = 0
t_check "... it is on the primary's disk" blk_holds "$BLK_DIR/big.bin" 8192 "$LOCAL"
t_check "... primary stopped, the region in its record" eval \
	"[ \"\$(blk_state pri)\" = stopped ] && dmsetup message pri 0 written | grep -q '^8192+'"
t_check "primary removed" dmsetup remove pri
wait $FAKE_SRV_PID

# A silent server with a short nbd_timeout: the silence ends the connection.
fake silent
t_check "primary over a server that never answers, nbd_timeout 1000" \
	blk_create pri "0 $S colo primary $LOCAL nbd://127.0.0.1:$FAKE_PORT/disk0 4 sync_from 64k nbd_timeout 1000"
t_check "... the table line echoes nbd_timeout" eval \
	"[[ \"\$(dmsetup table pri)\" == *' 4 sync_from 65536 nbd_timeout 1000' ]]"
t_check "... a 1 MiB write waits for the silence to end the connection, then completes" \
	write_at "$BLK_DIR/big.bin" 12288
t_check "... nbd=closed, degraded, the region in its record" eval \
	"[ \"\$(blk_field pri nbd) \$(blk_state pri)\" = 'closed degraded' ] &&
	 dmsetup message pri 0 written | grep -q '^12288+'"
t_check "... the kernel log says why" \
	eval "dmesg | grep -q 'colo: .*: the NBD server answered nothing within the timeout'"
t_check "primary removed" dmsetup remove pri
wait $FAKE_SRV_PID

# hostile CASE DESC: a server that answers what it should not
hostile()
{
	fake "$1"
	t_check "primary over a server that $2" \
		blk_create pri "0 $S colo primary $LOCAL nbd://127.0.0.1:$FAKE_PORT/disk0"
	t_check "... a 4 KiB write completes without an error" write_at "$BLK_DIR/small.bin" 100
	t_check "... the connection is dropped: nbd=closed, degraded" wait_for 60 eval \
		"[ \"\$(blk_field pri nbd) \$(blk_state pri)\" = 'closed degraded' ]"
	t_check "... the kernel log says why" eval "dmesg | grep -q 'colo: .*: $3: the requests in flight fail'"
	t_check "... primary removed" dmsetup remove pri
	wait $FAKE_SRV_PID
}
hostile unknown "answers a request it was not sent" \
	"the NBD server answered a request it was not sent"
hostile badmagic "answers with a bad magic" "bad reply magic"

# The replica's server answers a plain write before it is on the replica
# (blk_nbd_server.sh checks the order); a write that then fails there makes
# the next flush fail, so the primary's checkpoint does not succeed over it.
t_check "replica and secondary removed" eval "dmsetup remove rep && dmsetup remove sec"
ERRBASE=$(blk_loop errbase 8)
ES=$(blk_sectors "$ERRBASE")
t_check "a base whose last 4 KiB fail (dm error), a replica on it" eval \
	"printf '0 %d linear %s 0\n%d 8 error\n' $((ES - 8)) $ERRBASE $((ES - 8)) |
	 dmsetup create errbase &&
	 blk_create sec '0 $ES colo secondary disk0 /dev/mapper/errbase 16m'"
# A replica admits its nbd_peer alone: a connection from 127.0.0.1 to 127.0.0.1
# comes from 127.0.0.1, which is not 127.0.0.2.
t_check "a replica for the client 127.0.0.2 alone" \
	blk_create rep "0 $ES colo replica disk0 /dev/mapper/errbase 4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0.2"
bad_primary "a replica whose nbd_peer is another address" "is this host's address its nbd_peer?" \
	"nbd://127.0.0.1:$PORT/disk0" "$ES"
t_check "... the replica counts the refusal" test "$(blk_field rep refused)" = 1
# nbd_source names the address the connection leaves from (all of 127/8 is
# this host's, on lo): from 127.0.0.2 the same replica lets the primary in.
bad_primary "an nbd_source that is not an address" "Invalid nbd_source" \
	"nbd://127.0.0.1:$PORT/disk0 2 nbd_source 127.0.0.256" "$ES"
bad_primary "an IPv6 nbd_source for an IPv4 server" "not both IPv4 or both IPv6" \
	"nbd://127.0.0.1:$PORT/disk0 2 nbd_source ::1" "$ES"
bad_primary "an nbd_source no interface has" "not an address of this host" \
	"nbd://127.0.0.1:$PORT/disk0 2 nbd_source 192.0.2.1" "$ES"
t_check "primary with nbd_source 127.0.0.2: admitted, its table echoes it" eval \
	"blk_create pri '0 $ES colo primary $LOCAL nbd://127.0.0.1:$PORT/disk0 2 nbd_source 127.0.0.2' &&
	 [[ \"\$(dmsetup table pri)\" == *' nbd://127.0.0.1:$PORT/disk0 2 nbd_source 127.0.0.2' ]] &&
	 [ \"\$(blk_field pri nbd)\" = connected ]"
t_check "... refused no more" test "$(blk_field rep refused)" = 1
t_check "... removed" dmsetup remove pri
t_check "the replica again, for 127.0.0.1" eval \
	"dmsetup remove rep &&
	 blk_create rep '0 $ES colo replica disk0 /dev/mapper/errbase 4 nbd_listen 127.0.0.1:$PORT nbd_peer 127.0.0.1'"
t_check "a write there is answered, the flush after it fails with EIO" \
	python3 "$(dirname "$0")/nbd_client.py" 127.0.0.1 $PORT flush-error $(((ES - 8) * 512))
t_check "primary over it: a 4 KiB write there completes" eval \
	"blk_create pri '0 $ES colo primary $LOCAL $FWD' &&
	 write_at $BLK_DIR/small.bin $((ES - 8))"
t_check "... its checkpoint fails: degraded" eval \
	"! dmsetup message pri 0 checkpoint 2> /dev/null && [ \"\$(blk_state pri)\" = degraded ]"
t_check "devices over the failing base removed" eval \
	"dmsetup remove pri && dmsetup remove rep && dmsetup remove sec && dmsetup remove errbase"

t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
