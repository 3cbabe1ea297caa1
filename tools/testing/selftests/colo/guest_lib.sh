#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers of the guest tier (guest_*.sh): a real Linux guest with the
# colo-guestd workload (tools/testing/guest/), started from its warm-start
# snapshot inside the test VM. The images are built on the host by
# "make guest"; the VM sees them read-only through its 9p root.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/testing/guest/guest.sh
. "$REPO/tools/testing/guest/guest.sh"

GUEST_CTL="$REPO/tools/testing/guest/build/colo-guest-ctl"
GUEST_QMP="$REPO/tools/testing/guest/qmp.py"
# A guest must answer on its control port this soon after QEMU starts; a
# nested start from the snapshot takes seconds, a loaded CI machine more.
GUEST_UP_TIMEOUT=${GUEST_UP_TIMEOUT:-180}

# guest_require: the images are there, or the test fails with why.
guest_require()
{
	t_check "guest images of the current sources are built" guest_check_images || t_done
	t_check "colo-guest-ctl is built" test -x "$GUEST_CTL" || t_done
}

# guest_net NS TAP [CLIENT_NS]: in the namespace NS (made here) a tap for
# the guest's NIC and a bridge; with CLIENT_NS, that namespace (made here
# too) is joined to the bridge over a veth and gets the client's address
# and MAC (GUEST_CLIENT_IP/MAC, which the guest knows), otherwise the bridge
# itself does. The guest is 10.0.0.2.
#
#   CLIENT_NS: c0 10.0.0.1 --veth-- NS: [br0: b0, TAP] --tap-- guest 10.0.0.2
guest_net()
{
	local ns=$1 tap=$2 cli=${3:-}
	netns_add "$ns" || return 1
	ip -n "$ns" link set lo up
	ip -n "$ns" tuntap add dev "$tap" mode tap || return 1
	ip -n "$ns" link add br0 type bridge || return 1
	ip -n "$ns" link set "$tap" master br0 up
	ip -n "$ns" link set br0 up
	if [ -n "$cli" ]; then
		netns_add "$cli" || return 1
		ip -n "$cli" link set lo up
		ip -n "$ns" link add b0 type veth peer name c0 netns "$cli" || return 1
		ip -n "$ns" link set b0 master br0 up
		ip -n "$cli" link set c0 address "$GUEST_CLIENT_MAC"
		ip -n "$cli" addr add "$GUEST_CLIENT_IP/24" dev c0
		ip -n "$cli" link set c0 up
	else
		ip -n "$ns" link set br0 address "$GUEST_CLIENT_MAC"
		ip -n "$ns" addr add "$GUEST_CLIENT_IP/24" dev br0
	fi
}

# guest_start NAME NS TAP RAM DISK [QEMU ARGS...]: start the guest from the
# snapshot (or the state file $GUEST_START_FROM) in namespace NS, its NIC on TAP, RAM on the file RAM (e.g.
# /dev/colo_ram/x), disk on DISK. Files go to $GUEST_WORK/NAME; the QEMU pid
# to $GUEST_WORK/NAME/pid. Extra arguments go to QEMU last.
guest_start()
{
	local name=$1 ns=$2 tap=$3 ram=$4 disk=$5 dir
	shift 5
	dir=$GUEST_WORK/$name
	mkdir -p "$dir"
	guest_qemu_args "$ram" "$disk" \
		"tap,id=net0,ifname=$tap,script=no,downscript=no,vnet_hdr=off" \
		"$dir/control.sock" "$dir/console.log" "$dir/qmp.sock"
	date +%s%N > "$dir/started"
	ip netns exec "$ns" qemu-system-x86_64 "${GUEST_QEMU_ARGS[@]}" \
		-incoming "exec:cat ${GUEST_START_FROM:-$GUEST_SNAPSHOT}" "$@" > "$dir/qemu.log" 2>&1 &
	echo $! > "$dir/pid"
	on_exit "guest_kill $name"
}

guest_kill()
{
	local pid
	pid=$(cat "$GUEST_WORK/$1/pid" 2> /dev/null) || return 0
	kill "$pid" 2> /dev/null
	wait_for 30 sh -c "! kill -0 $pid" || kill -9 "$pid" 2> /dev/null
}

# guest_show_logs NAME: the guest's console and QEMU's messages as TAP
# diagnostics, for a guest that failed.
guest_show_logs()
{
	local dir=$GUEST_WORK/$1
	echo "# --- $1: QEMU"
	tail -n 20 "$dir/qemu.log" 2> /dev/null | sed 's/^/# /'
	echo "# --- $1: console"
	tail -n 30 "$dir/console.log" 2> /dev/null | sed 's/^/# /'
}

# guest_wait_up NAME [TIMEOUT]: until the workload answers, or QEMU dies,
# or TIMEOUT seconds (default GUEST_UP_TIMEOUT). Prints the seconds from
# start; on failure shows the guest's logs.
guest_wait_up()
{
	local name=$1 limit=${2:-$GUEST_UP_TIMEOUT} dir start pid
	dir=$GUEST_WORK/$name
	start=$(cat "$dir/started")
	pid=$(cat "$dir/pid")
	while ! "$GUEST_CTL" ask "$dir/control.sock" ping 1 > /dev/null 2>&1; do
		if ! kill -0 "$pid" 2> /dev/null; then
			echo "guest $name: QEMU exited before the workload answered"
			guest_show_logs "$name"
			return 1
		fi
		if [ $(( ($(date +%s%N) - start) / 1000000000 )) -ge "$limit" ]; then
			echo "guest $name: no answer on the control port within ${limit}s"
			guest_show_logs "$name"
			return 1
		fi
		sleep 0.2
	done
	echo "$(( ($(date +%s%N) - start) / 1000000 ))" > "$dir/up_ms"
}

guest_ask()
{
	"$GUEST_CTL" ask "$GUEST_WORK/$1/control.sock" "$2" 30
}

# guest_stat NAME KEY: one counter of the workload's "stats" line.
guest_stat()
{
	guest_ask "$1" stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# guest_stat_at_least NAME KEY VALUE
guest_stat_at_least()
{
	local v
	v=$(guest_stat "$1" "$2") && [ -n "$v" ] && [ "$v" -ge "$3" ]
}

guest_qmp()
{
	local name=$1
	shift
	"$GUEST_QMP" "$GUEST_WORK/$name/qmp.sock" "$@"
}

# guest_setup: the work directory (tmpfs) for guests, and the loop and dm
# modules.
guest_setup()
{
	modprobe loop || return 1
	modprobe dm-mod || return 1
	modprobe tun 2> /dev/null
	modprobe bridge || return 1
	modprobe veth || return 1
	GUEST_WORK=$(mktemp -d /tmp/colo-guest.XXXXXX) || return 1
	mount -t tmpfs -o size=512m colo-guest "$GUEST_WORK" || return 1
	on_exit "umount -l '$GUEST_WORK'; rmdir '$GUEST_WORK'"
}

# guest_loop NAME: a loop device over a tmpfs file the size of the guest's
# disk; prints /dev/loopN and detaches it at exit.
guest_loop()
{
	local dev
	truncate -s "${GUEST_DISK_MB}M" "$GUEST_WORK/$1.img" || return 1
	dev=$(losetup -f --show "$GUEST_WORK/$1.img") || return 1
	echo "$dev"
}
