#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the colo_blk tests (blk_*.sh source this file). Run on
# its own, it only checks that the helpers it needs are installed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BLK_IO="$SELFTESTS/blk_io"
# no udev in the test VM: dmsetup makes the /dev/mapper nodes itself
export DM_DISABLE_UDEV=1

# blk_setup: load dm, loop and colo_blk, make a tmpfs for the backing files
# in $BLK_DIR, and arrange for blk_teardown at exit. Call it directly (not
# through t_check: that runs in a subshell).
blk_setup()
{
	modprobe loop || return 1
	modprobe dm-mod || return 1
	load_module colo_blk || return 1
	BLK_DIR=$(mktemp -d /tmp/colo-blk.XXXXXX) || return 1
	mount -t tmpfs -o size=768m colo-blk "$BLK_DIR" || return 1
	on_exit "blk_teardown"
}

# blk_loop NAME MIB: a loop device over a tmpfs file; prints /dev/loopN.
blk_loop()
{
	local dev
	truncate -s "${2}M" "$BLK_DIR/$1.img" || return 1
	dev=$(losetup -f --show "$BLK_DIR/$1.img") || return 1
	# a file, not a variable: callers run this in a subshell
	echo "$dev" >> "$BLK_DIR/loops"
	echo "$dev"
}

blk_create()
{
	dmsetup create "$1" --table "$2"
}

blk_mode()
{
	dmsetup table "$1" 2> /dev/null | awk '{ print $4 }'
}

# blk_teardown: remove every colo device (primaries, then whatever
# $BLK_TEARDOWN_HOOK stops, e.g. NBD, then replicas, then secondaries), the
# loop devices and the tmpfs, then unload colo_blk. Fails if any step does:
# tests call it as their last check; it also runs at exit.
blk_teardown()
{
	local mode name dev rc=0
	for mode in primary hook replica secondary; do
		if [ $mode = hook ]; then
			[ -n "${BLK_TEARDOWN_HOOK:-}" ] && { eval "$BLK_TEARDOWN_HOOK" || rc=1; }
			BLK_TEARDOWN_HOOK=
			continue
		fi
		for name in $(dmsetup ls --target colo 2> /dev/null | awk '{ print $1 }'); do
			[ "$(blk_mode "$name")" = $mode ] || continue
			dmsetup remove "$name" || rc=1
		done
	done
	if [ -n "${BLK_DIR:-}" ] && [ -d "$BLK_DIR" ]; then
		for dev in $(cat "$BLK_DIR/loops" 2> /dev/null); do
			losetup -d "$dev" || rc=1
		done
		umount "$BLK_DIR" && rmdir "$BLK_DIR" || rc=1
		BLK_DIR=
	fi
	if module_loaded colo_blk; then
		unload_module colo_blk || rc=1
	fi
	return $rc
}

# blk_nbd_export DEV PORT [CONNECTIONS]: export DEV (a replica face) as
# "disk0" with nbd-server on 127.0.0.1:PORT and connect /dev/nbd0 to it, the
# way the primary host reaches the secondary. Flush must be on: the
# primary's checkpoint flush is what pushes nbd-server's writes through to
# the target. splice moves written data from the socket to the export
# without a copy through nbd-server's memory for requests under 1 MiB (an
# nbd-server option). With one connection (the default) nbd-server runs in
# the foreground serving it, and NBD_PID is the process that serves: killing
# it drops the connection. With CONNECTIONS > 1 (nbd-client -C: the nbd
# driver gives each its own hardware queue, and nbd-server a process each,
# so the forwarded writes are served in parallel) nbd-server must run as
# the daemon that forks a process per connection; NBD_PID is then that
# daemon, the leader of its own process group. Sets the teardown hook.
# nbd-client's request timeout is BLK_NBD_TIMEOUT seconds (default 10).
# Call it directly (not via t_check).
blk_nbd_export()
{
	local conns=${3:-1}
	modprobe nbd nbds_max=2 || return 1
	cat > "$BLK_DIR/nbd.conf" <<EOC
[generic]
	listenaddr = 127.0.0.1
	port = $2
	allowlist = false
[disk0]
	exportname = $1
	flush = true
	fua = true
	trim = true
	splice = true
EOC
	BLK_TEARDOWN_HOOK=blk_nbd_stop
	if [ "$conns" = 1 ]; then
		nbd-server -d -C "$BLK_DIR/nbd.conf" > "$BLK_DIR/nbd-server.log" 2>&1 &
		NBD_PID=$!
		NBD_GROUP=
	else
		rm -f "$BLK_DIR/nbd-server.pid"
		nbd-server -C "$BLK_DIR/nbd.conf" -p "$BLK_DIR/nbd-server.pid" \
			> "$BLK_DIR/nbd-server.log" 2>&1 || return 1
		wait_for 20 test -s "$BLK_DIR/nbd-server.pid" || return 1
		NBD_PID=$(cat "$BLK_DIR/nbd-server.pid")
		NBD_GROUP=1
	fi
	wait_for 20 eval "ss -ltn | grep -q '127.0.0.1:$2 '" || return 1
	if [ "$conns" = 1 ]; then
		nbd-client 127.0.0.1 "$2" /dev/nbd0 -N disk0 -b 512 -t "${BLK_NBD_TIMEOUT:-10}"
	else
		blk_nbd_connect /dev/nbd0 127.0.0.1 "$2" -N disk0 -b 512 -t "${BLK_NBD_TIMEOUT:-10}" \
			-C "$conns"
	fi
}

# blk_nbd_readers_rescued DEV: whether Linux 6.1's nbd driver reads DEV's
# replies on its workqueue's rescuer thread ("nbdN-recv"), watched for 1 s
# after connecting. That thread runs the connections' readers one after the
# other, so with -C 2 the second connection's replies go unread until nbd's
# timeout (colod checks the same after connecting: tools/colod/host.c).
# The watch has no end condition to wait for: a rescue happens, if at all,
# while a worker is being started, well within the second.
blk_nbd_readers_rescued()
{
	local pid n
	# named "nbdN-recv", then "nbdN-recv+nbdN-recv" while it runs a work
	# item and "nbdN-recv-nbdN-recv" once it has run one
	pid=$(pgrep -x "$(basename "$1")-recv([-+].*)?" | head -1)
	[ -n "$pid" ] || return 1
	for n in $(seq 50); do
		grep -qs recv_work "/proc/$pid/stack" && return 0
		sleep 0.02
	done
	return 1
}

# blk_nbd_connect DEV NBD-CLIENT-ARGS...: nbd-client with those arguments
# onto DEV, connected again while its replies are read on the rescuer (at
# most 3 times, as colod does)
blk_nbd_connect()
{
	local dev=$1 n
	shift
	for n in 1 2 3 4; do
		nbd-client "$@" "$dev" || return 1
		[ $n = 4 ] && return 0
		blk_nbd_readers_rescued "$dev" || return 0
		echo "# $dev: the nbd driver reads its replies on the workqueue rescuer: connecting again" >&2
		nbd-client -d "$dev" > /dev/null 2>&1
	done
}

blk_nbd_stop()
{
	nbd-client -d /dev/nbd0 > /dev/null 2>&1
	if [ -n "${NBD_GROUP:-}" ]; then
		kill -- "-$NBD_PID" 2> /dev/null
		wait_for 10 eval "! kill -0 -- -$NBD_PID 2> /dev/null"
	elif [ -n "${NBD_PID:-}" ]; then
		kill "$NBD_PID" 2> /dev/null && wait "$NBD_PID" 2> /dev/null
	fi
	NBD_PID= NBD_GROUP=
	return 0
}

# blk_replicated_pair BUFFER PORT: the checks a test of a primary over NBD
# starts with: $BASE and $LOCAL ($S sectors) both hold pattern 1; secondary
# "sec" (buffer limit BUFFER) and replica "rep" on $BASE; the replica face
# exported on PORT and connected as /dev/nbd0 (blk_nbd_export). The
# primary's own table is the test's. Call it directly (not via t_check).
blk_replicated_pair()
{
	t_check "both disks start equal (pattern 1)" eval \
		"$BLK_IO fill $BASE 0 $S 1 && $BLK_IO fill $LOCAL 0 $S 1"
	t_check "secondary and replica created" eval \
		"blk_create sec '0 $S colo secondary disk0 $BASE $1' &&
		 blk_create rep '0 $S colo replica disk0 $BASE'"
	if blk_nbd_export /dev/mapper/rep "$2"; then
		t_ok "replica face exported by nbd-server on 127.0.0.1:$2, /dev/nbd0 connected"
	else
		t_fail "replica face exported by nbd-server on 127.0.0.1:$2, /dev/nbd0 connected"
	fi
}

# blk_refused NAME TABLE EXPECTED: creating NAME with TABLE fails, the
# kernel log carries EXPECTED (the target's reason), and no device is left
blk_refused()
{
	local mark
	mark=$(dmesg | wc -l)
	if dmsetup create "$1" --table "$2" > /dev/null 2>&1; then
		dmsetup remove "$1"
		echo "the table was taken"
		return 1
	fi
	if ! dmesg | tail -n +$((mark + 1)) | grep -qF "$3"; then
		echo "no '$3' in the kernel log:"
		dmesg | tail -n +$((mark + 1))
		return 1
	fi
	if dmsetup info "$1" > /dev/null 2>&1; then
		echo "device left behind"
		return 1
	fi
}

# blk_disks MIB: how a test of both hosts' disks starts: blk_setup, then
# $BASE and $LOCAL of MIB MiB ($S sectors). Call it directly (not via
# t_check): it ends the test when it fails.
blk_disks()
{
	if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
	BASE=$(blk_loop base "$1") && LOCAL=$(blk_loop local "$1") ||
		{ t_fail "loop devices"; t_done; }
	S=$(blk_sectors "$BASE")
}

# blk_pair_start MIB BUFFER PORT: how a test of a primary over NBD starts:
# blk_disks MIB, then blk_replicated_pair BUFFER PORT. Call it directly.
blk_pair_start()
{
	blk_disks "$1"
	blk_replicated_pair "$2" "$3"
}

# blk_holds FILE SECTOR DEV: DEV holds FILE's bytes from SECTOR on (read
# around the page cache)
blk_holds()
{
	dd if="$3" bs="$(stat -c %s "$1")" skip="$(($2 * 512))" count=1 \
		iflag=direct,skip_bytes status=none | cmp -s - "$1"
}

# blk_fua_reaches_base PRIMARY BASE: a FUA write (O_DSYNC) of 64 KiB of
# random data at sector 24576 on PRIMARY is on BASE within 10 s, without a
# checkpoint.
blk_fua_reaches_base()
{
	head -c 65536 /dev/urandom > "$BLK_DIR/fua.bin" &&
	dd if="$BLK_DIR/fua.bin" of="$1" bs=64k seek=192 oflag=direct,dsync conv=notrunc status=none &&
	wait_for 10 blk_holds "$BLK_DIR/fua.bin" 24576 "$2"
}

# blk_field DM_NAME KEY: value of KEY=value in the target's status line.
blk_field()
{
	dmsetup status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# blk_state DM_NAME: the state word of the status line.
blk_state()
{
	dmsetup status "$1" | awk '{ print $5 }'
}

blk_events()
{
	dmsetup info -c --noheadings -o events "$1" | tr -d ' '
}

blk_sectors()
{
	blockdev --getsz "$1"
}

# blk_sum DEV: checksum of the whole device, read around the page cache.
blk_sum()
{
	dd if="$1" iflag=direct bs=1M status=none | md5sum | cut -d' ' -f1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	for tool in dmsetup losetup blockdev dd md5sum; do
		t_check "blk helpers: $tool is installed" command -v "$tool"
	done
	t_check "blk helpers: blk_io is built" test -x "$BLK_IO"
	t_done
fi
