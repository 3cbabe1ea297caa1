#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two colods replicating the end-to-end guest, namespaces as the hosts; used
# by guest_colod.sh and the demonstration (demo/40-colod.sh):
#
#   cli: brc 10.0.0.1 [c-p, c-s] (a hub: learning off)
#          |                      |
#   pri: br0 [p-up, tap0]    sec: br0 [s-up, tap0]
#          |   PVM (colod)          |   SVM (colod, a fresh QEMU per checkpoint)
#        p-t 192.168.77.1 ====== s-t 192.168.77.2   agent link, proxy tunnel, NBD
#        (and 192.168.77.3, a stranger)
#
# colod_setup loads the modules, makes the work directory W, the topology,
# the two disks (PDISK, SDISK) and both configurations.
. "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"

COLOD="$REPO/tools/colod/colod"
COLOCTL="$REPO/tools/coloctl/coloctl"

colod_topology()
{
	local ns d
	for ns in cli pri sec; do
		netns_add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	ip -n cli link add brc type bridge
	ip -n cli link add c-p type veth peer name p-up netns pri
	ip -n cli link add c-s type veth peer name s-up netns sec
	for d in c-p c-s; do
		ip -n cli link set "$d" master brc
		ip -n cli link set "$d" type bridge_slave learning off
	done
	ip -n cli link set brc address "$GUEST_CLIENT_MAC"
	ip -n cli addr add "$GUEST_CLIENT_IP/24" dev brc
	ip -n cli neigh add 10.0.0.2 lladdr "$GUEST_MAC" dev brc nud permanent
	ip -n pri link add p-t type veth peer name s-t netns sec
	ip -n pri addr add 192.168.77.1/24 dev p-t
	ip -n pri addr add 192.168.77.3/24 dev p-t
	ip -n sec addr add 192.168.77.2/24 dev s-t
	for ns in pri sec; do
		d=${ns:0:1}
		ip -n "$ns" tuntap add dev tap0 mode tap
		ip -n "$ns" link add br0 type bridge
		ip -n "$ns" link set "$d-up" master br0
		ip -n "$ns" link set "$d-up" type bridge_slave learning off
		ip -n "$ns" link set tap0 master br0
		ip -n "$ns" link set "$d-t" mtu 1600
		for dev in br0 "$d-up" tap0 "$d-t"; do ip -n "$ns" link set "$dev" up; done
	done
	ip -n pri neigh add 192.168.77.2 lladdr "$(ip -n sec -br link show s-t | awk '{print $3}')" dev p-t nud permanent
	ip -n sec neigh add 192.168.77.1 lladdr "$(ip -n pri -br link show p-t | awk '{print $3}')" dev s-t nud permanent
	for d in brc c-p c-s; do ip -n cli link set "$d" up; done
}

# colod_write_config ROLE LOCAL PEER DISK: the VM's configuration on one
# host; COLOD_DISK_BUFFER and COLOD_DISK_PERCENT set the secondary's disk
# buffer and its event threshold, COLOD_NBD_TIMEOUT and COLOD_DRAIN_TIMEOUT
# the primary's nbd_timeout and drain_timeout (60 s here: an emulated host
# sharing two CPUs stalls a drain for seconds at times, which is no lost
# link). The proxy's hold timeout is below the
# checkpoint interval: a nondeterministic answer asks for a checkpoint, by
# mismatch or, when the replica (emulated twice over) is slower than that,
# by timeout, before the timer would take one anyway.
colod_write_config()
{
	local role=$1 dir=$W/$1
	mkdir -p "$dir"
	guest_device_args "$dir/control.sock" "$dir/console.log"
	cat > "$W/$role.conf" <<EOF
[vm]
name = vm0
role = $role
ram = ${GUEST_RAM_MB}M
[peer]
address = $3
port = 7100
local = $2
[qemu]
binary = $(command -v qemu-system-x86_64)
args = $(printf '%q\n\t' "${GUEST_DEVICE_ARGS[@]}")
$([ "$role" = primary ] && echo "start_from = $GUEST_SNAPSHOT")
run_dir = $dir/run
[disk]
device = $4
$([ "$role" = secondary ] && echo "buffer = ${COLOD_DISK_BUFFER:-32M}")
$([ "$role" = primary ] && [ -n "${COLOD_NBD_TIMEOUT:-}" ] && echo "nbd_timeout = $COLOD_NBD_TIMEOUT")
$([ "$role" = primary ] && echo "drain_timeout = ${COLOD_DRAIN_TIMEOUT:-60s}")
[net]
tap = tap0
mac = $GUEST_MAC
[checkpoint]
max_interval = 8s
proxy_timeout = 3s
$([ "$role" = secondary ] && echo "disk_buffer_percent = ${COLOD_DISK_PERCENT:-75}")
[control]
socket = $dir/colod.sock
EOF
}

vm() { local side=$1; shift; "$COLOCTL" vm "$1" --socket "$W/$side/colod.sock" "${@:2}"; }
field() { vm "$1" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$2"; }
state_is() { [ "$(field "$1" "['state']")" = "$2" ]; }
count_at_least() { [ "$(field "$1" "$2")" -ge "$3" ]; }
# compared_bytes: the primary proxy's count of payload bytes the compare
# found equal (each such PVM byte left on a match, not at a checkpoint).
compared_bytes() { ip netns exec pri "$COLOCTL" proxy stats tap0 | awk '$1 == "compared_bytes" {print $2}'; }
log_has() { grep -Eq "$2" "$W/$1.log"; }
# wait_state SIDE STATE SECONDS: polls, but gives up at once on a failed agent
wait_state()
{
	local deadline=$(( $(date +%s) + $3 )) s
	while [ "$(date +%s)" -lt $deadline ]; do
		s=$(field "$1" "['state']" 2> /dev/null)
		[ "$s" = "$2" ] && return 0
		if [ "$s" = failed ] && [ "$2" != failed ]; then
			echo "$1 failed: $(field "$1" "['reason']")"
			return 1
		fi
		sleep 0.2
	done
	echo "$1 is ${s:-unreachable}, not $2, after $3 s"
	return 1
}
both_replicating() { wait_state primary replicating 600 && wait_state secondary replicating 60; }

# colod_start ROLE NS: colod for ROLE in namespace NS (run by
# $COLOD_LAUNCH NS ..., default ip netns exec); its log lines in
# $W/ROLE.log, each after the time it was written ($EPOCHREALTIME), and
# last the signal that killed it, if one did.
colod_start()
{
	local launch=${COLOD_LAUNCH:-ip netns exec}
	{
		$launch "$2" "$COLOD" -c "$W/$1.conf" 2>&1 &
		echo $! > "$W/$1.pid"
		wait $! 2> /dev/null
		status=$?
		[ $status -gt 128 ] && echo "colod was killed by SIG$(kill -l $((status - 128)))"
	} | while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done \
		> "$W/$1.log" &
	wait_for 10 test -s "$W/$1.pid"
	on_exit "kill $(cat "$W/$1.pid"); wait_for 60 sh -c '! kill -0 $(cat "$W/$1.pid")'"
}

# colod_timeline SINCE: both agents' logs merged in time order, seconds
# from SINCE (an $EPOCHREALTIME).
colod_timeline()
{
	local role
	for role in primary secondary; do
		awk -v r="$role" -v t0="$1" '{ t = $1; $1 = ""; printf "%9.3f %-9s%s\n", t - t0, r, $0 }' \
			"$W/$role.log"
	done | grep -v 'Error: Socket failed' | sort -n
}
show_logs()
{
	local f
	for f in "$W"/primary.log "$W"/secondary.log; do
		echo "# --- $f"
		grep -v '^Error: Socket failed' "$f" | tail -n 40 | sed 's/^/# /'
	done
	for f in "$W"/*/run/qemu-*.log; do
		[ -s "$f" ] || continue
		echo "# --- $f"
		tail -n 10 "$f" | sed 's/^/# /'
	done
}

# colod_setup: everything before the colods start; fails with the reason.
colod_setup()
{
	local m
	guest_setup || return 1
	W=$GUEST_WORK
	for m in colo_ckpt colo_blk colo_proxy; do
		load_module $m || return 1
		on_exit "rmmod $m"
	done
	export DM_DISABLE_UDEV=1
	colod_topology || return 1
	PDISK=$(guest_loop pdisk) || return 1
	on_exit "losetup -d $PDISK"
	SDISK=$(guest_loop sdisk) || return 1
	on_exit "losetup -d $SDISK"
	colod_write_config primary 192.168.77.1 192.168.77.2 "$PDISK"
	colod_write_config secondary 192.168.77.2 192.168.77.1 "$SDISK"
}
