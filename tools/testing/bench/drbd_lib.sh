#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DRBD 8.4 (Debian's kernel module, driven by drbd-utils' drbdsetup-84) as the
# baseline for the colo primary's forwarded writes: both nodes of one DRBD
# pair in this VM, a primary and a secondary resource on their own loop
# devices over tmpfs, connected over 127.0.0.1 on two ports, the way
# blk.sh's colo primary reaches its replica through nbd-server on
# 127.0.0.1. DRBD's defaults are kept (as an administrator would run it)
# except for the replication protocol, which drbd_protocol switches on the
# live connection so that A and C alternate with the other devices in one
# run. Sourced by blk.sh after blk_lib.sh.

DRBDSETUP=/usr/lib/drbd/drbdsetup-84
DRBD_DEV=/dev/drbd0
DRBD_PORT=${DRBD_PORT:-7788}

# drbd_fail MESSAGE: say why the pair is not there (stderr) and fail
drbd_fail()
{
	echo "drbd: $*" >&2
	return 1
}

# drbd_up MIB: a connected pair whose primary, $DRBD_DEV, holds at least MIB
# MiB (internal metadata takes the extra room), UpToDate on both nodes
# without an initial sync (both disks start as zeroes, so the bitmap is
# cleared instead). Fails with the reason on stderr; drbd_down undoes what
# was done either way.
drbd_up()
{
	local mb=$(( $1 + 4 )) d
	[ -x "$DRBDSETUP" ] || { drbd_fail "$DRBDSETUP missing (install drbd-utils)"; return 1; }
	modprobe loop && modprobe drbd || { drbd_fail "modprobe loop/drbd failed"; return 1; }
	grep -q '^version: 8\.4' /proc/drbd ||
		{ drbd_fail "kernel DRBD is not 8.4: $(head -1 /proc/drbd)"; return 1; }
	DRBD_DIR=$(mktemp -d /tmp/colo-drbd.XXXXXX) || return 1
	mount -t tmpfs -o size=$((2 * mb + 8))m colo-drbd "$DRBD_DIR" || return 1
	for d in p s; do
		truncate -s ${mb}M "$DRBD_DIR/$d.img" || return 1
		losetup -f --show "$DRBD_DIR/$d.img" > "$DRBD_DIR/$d.loop" || return 1
	done
	DRBD_P_LOOP=$(cat "$DRBD_DIR/p.loop") DRBD_S_LOOP=$(cat "$DRBD_DIR/s.loop")
	# allocate the tmpfs pages now, as blk.sh does for its devices
	for d in "$DRBD_P_LOOP" "$DRBD_S_LOOP"; do
		dd if=/dev/zero of="$d" bs=1M count=$mb oflag=direct status=none || return 1
	done
	$DRBDSETUP new-resource colo-p && $DRBDSETUP new-minor colo-p 0 0 &&
		$DRBDSETUP new-resource colo-s && $DRBDSETUP new-minor colo-s 1 0 ||
		{ drbd_fail "creating the resources failed"; return 1; }
	# drbdmeta locks the minor in /var/lock, which is /run/lock: not there in the test VM
	mkdir -p "$(readlink -f /var/lock)" || return 1
	drbdmeta --force 0 v08 "$DRBD_P_LOOP" internal create-md > /dev/null &&
		drbdmeta --force 1 v08 "$DRBD_S_LOOP" internal create-md > /dev/null ||
		{ drbd_fail "drbdmeta create-md failed"; return 1; }
	$DRBDSETUP attach 0 "$DRBD_P_LOOP" "$DRBD_P_LOOP" internal &&
		$DRBDSETUP attach 1 "$DRBD_S_LOOP" "$DRBD_S_LOOP" internal ||
		{ drbd_fail "attach failed"; return 1; }
	$DRBDSETUP connect colo-p ipv4:127.0.0.1:$DRBD_PORT ipv4:127.0.0.1:$((DRBD_PORT + 1)) --protocol=C &&
		$DRBDSETUP connect colo-s ipv4:127.0.0.1:$((DRBD_PORT + 1)) ipv4:127.0.0.1:$DRBD_PORT --protocol=C ||
		{ drbd_fail "connect failed"; return 1; }
	wait_for 30 drbd_is 0 cs:Connected ||
		{ drbd_fail "not connected after 30 s: $(drbd_line 0)"; return 1; }
	$DRBDSETUP new-current-uuid 0 --clear-bitmap ||
		{ drbd_fail "new-current-uuid --clear-bitmap failed"; return 1; }
	$DRBDSETUP primary 0 || { drbd_fail "primary failed: $(drbd_line 0)"; return 1; }
	wait_for 30 drbd_is 0 ds:UpToDate/UpToDate ||
		{ drbd_fail "not UpToDate after 30 s: $(drbd_line 0)"; return 1; }
	[ "$(blockdev --getsize64 $DRBD_DEV)" -ge $(( $1 << 20 )) ] ||
		{ drbd_fail "$DRBD_DEV is smaller than $1 MiB"; return 1; }
}

# drbd_line MINOR: the state line and the counters line of MINOR in /proc/drbd
drbd_line()
{
	awk -v m="$1:" '$1 == m { p = 2 } p-- > 0' /proc/drbd | tr -s ' \n' ' '
}

# drbd_is MINOR WORD: MINOR's /proc/drbd lines hold WORD
drbd_is()
{
	drbd_line "$1" | grep -q -- " $2 "
}

# drbd_protocol_is P: both minors' state lines in /proc/drbd show protocol P
drbd_protocol_is()
{
	[ "$(awk '/ cs:/ { print $5 }' /proc/drbd | sort -u)" = "$1" ]
}

# drbd_protocol A|C: switch the live connection's replication protocol (the
# peer takes it over through DRBD's protocol update)
drbd_protocol()
{
	$DRBDSETUP net-options ipv4:127.0.0.1:$DRBD_PORT ipv4:127.0.0.1:$((DRBD_PORT + 1)) \
		--protocol="$1" && wait_for 10 drbd_protocol_is "$1"
}

# drbd_settled: everything the primary sent has reached the secondary and
# been written there (its received count equals the primary's sent count,
# nothing pending either side). Protocol A completes a write before the
# peer has it; this is the point where the peer holds all of it. One awk
# over /proc/drbd: it is polled, and processes are slow under TCG.
drbd_settled()
{
	awk '$1 == "0:" || $1 == "1:" { m = $1 }
	     /ns:/ { for (i = 1; i <= NF; i++) { split($i, kv, ":"); c[m, kv[1]] = kv[2] } }
	     END { exit !(c["1:", "nr"] == c["0:", "ns"] && c["0:", "pe"] == 0 && c["0:", "ap"] == 0 &&
			  c["1:", "lo"] == 0 && c["1:", "ua"] == 0) }' /proc/drbd
}

# drbd_settle_ms: wait (up to 60 s) until drbd_settled; prints the
# milliseconds waited, 0 when it already was at the first look
drbd_settle_ms()
{
	local t0
	drbd_settled && { echo 0; return 0; }
	t0=$(date +%s%N)
	until drbd_settled; do
		[ $(( $(date +%s%N) - t0 )) -lt 60000000000 ] ||
			{ drbd_fail "the secondary did not catch up within 60 s: $(drbd_line 0) / $(drbd_line 1)"; return 1; }
		sleep 0.02
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# drbd_down: remove the pair, its loop devices and its tmpfs
drbd_down()
{
	local d
	[ -d /sys/module/drbd ] && {
		$DRBDSETUP down colo-p
		$DRBDSETUP down colo-s
	} > /dev/null 2>&1
	[ -n "${DRBD_DIR:-}" ] || return 0
	for d in p s; do
		[ -s "$DRBD_DIR/$d.loop" ] && losetup -d "$(cat "$DRBD_DIR/$d.loop")"
	done
	umount "$DRBD_DIR" && rmdir "$DRBD_DIR"
	DRBD_DIR=
	modprobe -r drbd 2> /dev/null
	return 0
}
