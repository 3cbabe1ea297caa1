#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Automatic failover tests: colod_lib.sh's pair, each host namespace with
# its own corosync (two nodes on the link between the hosts), the colods
# joined to it ([cluster] corosync = yes) and the secondary's fence hook:
#
#   pri: corosync node 1, 192.168.77.1 ==== s-t 192.168.77.2, node 2 :sec
#        colod primary (in corosync's           colod secondary, fence hook
#        mount namespace)                       $W/fence (does $W/fence.action)
#
# Each corosync runs in a mount namespace of its own (its /etc/corosync,
# /var/lib/corosync, /run and /dev/shm, where libqb's IPC lives), and the
# host's colod is started in that namespace to reach it.
. "$(dirname "${BASH_SOURCE[0]}")/colod_lib.sh"

# corosync_conf: the two-node cluster on the hosts' link. The token is 3 s
# (a host that is gone is noticed within about 7 s): nested emulation on a
# loaded machine starves corosync long enough to lose a 1 s token, and a
# membership that splits and heals looks like a failure.
corosync_conf()
{
	cat <<EOF
totem {
	version: 2
	cluster_name: colo
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 3000
}
nodelist {
	node {
		ring0_addr: 192.168.77.1
		name: pri
		nodeid: 1
	}
	node {
		ring0_addr: 192.168.77.2
		name: sec
		nodeid: 2
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
logging {
	to_stderr: yes
	to_syslog: no
}
EOF
}

# corosync_start NS: corosync for the host namespace NS, its pid in
# $W/corosync-NS.pid, its output in $W/corosync-NS.log.
corosync_start()
{
	local dir=$W/corosync-$1
	mkdir -p "$dir"
	corosync_conf > "$dir/corosync.conf"
	ip netns exec "$1" unshare -m --propagation private sh -c "
		mount --bind '$dir' /etc/corosync && mount -t tmpfs none /var/lib/corosync &&
		mount -t tmpfs none /run && mount -t tmpfs none /dev/shm &&
		exec corosync -f" > "$W/corosync-$1.log" 2>&1 &
	echo $! > "$W/corosync-$1.pid"
	# corosync takes a while to leave on SIGTERM: wait for it, so that it
	# does not outlive the test (the test's own timeout bounds the wait)
	on_exit "kill $!; wait $!"
}

# in_host NS COMMAND...: COMMAND in the namespaces of NS's corosync, and
# under its root (-r: entering a mount namespace resets the root to the
# namespace's, which is not the test VM's chroot); host_exec: the same in
# place of the calling (sub)shell, for colod_start, so that the pid it
# records is colod's.
in_host() { nsenter -t "$(cat "$W/corosync-$1.pid")" -m -n -r -w -- "${@:2}"; }
host_exec() { exec nsenter -t "$(cat "$W/corosync-$1.pid")" -m -n -r -w -- "${@:2}"; }
quorate() { in_host "$1" corosync-quorumtool -s 2> /dev/null | grep -Eq '^Quorate: +Yes'; }

# failover_setup FENCE_ACTION: the pair's configuration with the cluster
# section, the fence hook, both corosyncs up and quorate. FENCE_ACTION is
# what the hook does: "ok" (exit 0: the peer is known to be down), "fail"
# (exit 1) or "kill-primary" (end the primary's agent and VM, as a power
# switch would, then exit 0).
failover_setup()
{
	local role
	colod_setup || return 1
	for role in primary secondary; do
		printf '[cluster]\ncorosync = yes\n' >> "$W/$role.conf"
	done
	cat > "$W/fence" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >> "$W/fence.calls"
case "\$(cat "$W/fence.action")" in
ok) exit 0 ;;
kill-primary) kill -9 "\$(cat "$W/primary.pid")" 2> /dev/null; exit 0 ;;
*) exit 1 ;;
esac
EOF
	chmod 0755 "$W/fence"
	echo "$1" > "$W/fence.action"
	# the secondary starts its QEMUs through a wrapper that waits while
	# $W/qemu.hold exists: a test holds the next replica back with it
	printf '#!/bin/sh\nwhile [ -e "%s" ]; do sleep 0.1; done\nexec %s "$@"\n' \
		"$W/qemu.hold" "$(command -v qemu-system-x86_64)" > "$W/qemu-held"
	chmod 0755 "$W/qemu-held"
	sed -i "s|^binary = .*|binary = $W/qemu-held|" "$W/secondary.conf"
	printf 'fence = %s\nfence_timeout = 30s\n' "$W/fence" >> "$W/secondary.conf"
	corosync_start pri
	corosync_start sec
	wait_for 60 quorate pri && wait_for 60 quorate sec
}

# failover_start: both colods, in their hosts' corosync namespaces,
# replicating, and the guest answering the client through the pair.
failover_start()
{
	COLOD_LAUNCH=host_exec
	colod_start secondary sec
	wait_state secondary waiting-for-peer 120 || return 1
	colod_start primary pri
	both_replicating &&
		wait_for 120 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 1 16
}

# guest_uses_timestamps: a connection from the client to the guest (its
# echo port) negotiates TCP timestamps (TCP_INFO's tcpi_options; ss does
# not print them here).
guest_uses_timestamps()
{
	ip netns exec cli python3 -c "
import socket, sys
c = socket.create_connection(('10.0.0.2', 7002), 30)
c.sendall(b'ts')
c.recv(2)
sys.exit(0 if c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[5] & 1 else 1)"
}

peer_present() { [ "$(field "$1" "['cluster']['peer_present']")" = True ]; }
peers_present() { peer_present primary && peer_present secondary; }

# host_down NS ROLE: the host NS dies: its colod (and with it its QEMU), its
# corosync, and its links.
host_down()
{
	local side=${1:0:1} corosync_pid
	corosync_pid=$(cat "$W/corosync-$1.pid")
	kill -9 "$(cat "$W/$2.pid")" "$corosync_pid"
	# reaped here, quietly: the shell would print the killed job's line
	wait "$corosync_pid" 2> /dev/null
	ip -n "$1" link set "$side-t" down
	ip -n "$1" link set "$side-up" down
}

# leftovers_remove ROLE: what a killed colod leaves on its host, removed as
# colod.rst ("Starting over") says.
leftovers_remove()
{
	if [ "$1" = primary ]; then
		# its NBD connection goes with it
		dmsetup remove colo-vm0
		"$COLOCTL" ram destroy vm0
	else
		dmsetup remove colo-vm0-replica
		dmsetup remove colo-vm0-svm
		"$COLOCTL" ram destroy vm0-svm
		"$COLOCTL" ram destroy vm0-cache
	fi
}

show_all() { show_logs; tail -n 5 "$W"/corosync-*.log | sed 's/^/# /'; }
pvm() { "$GUEST_CTL" ask "$W/primary/control.sock" "$1" 60; }
streamed_at_least() { pvm stats | grep -Eq "streamed=([0-9]{7,})"; }
# qemu_of ROLE: a QEMU of ROLE's agent runs (its arguments name ROLE's directory)
qemu_of() { pgrep -f "qemu-system.*$W/$1/" > /dev/null; }
no_qemu_of() { ! qemu_of "$1"; }
agent_gone() { ! kill -0 "$(cat "$W/$1.pid")" 2> /dev/null; }

# download_start PORT BYTES: the client downloads BYTES from the guest over
# one connection, in the background (its pid in DOWNLOAD, its report in
# $W/stream.out). Called directly, not through t_check (a subshell).
download_start()
{
	ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 "$1" "$2" \
		> "$W/stream.out" 2>&1 &
	DOWNLOAD=$!
}

# download_report KILL_AT: the download's report, and the time from KILL_AT
# (an $EPOCHREALTIME) to the end of its longest gap; the gap in GAP.
download_report()
{
	local gap_end
	sed 's/^/# /' "$W/stream.out"
	GAP=$(sed -n 's/.*longest gap \([0-9.]*\) s.*/\1/p' "$W/stream.out")
	gap_end=$(sed -n 's/.*ended at \([0-9.]*\).*/\1/p' "$W/stream.out")
	[ -z "$gap_end" ] && return
	if [ "$(echo "$gap_end > $1" | bc)" = 1 ]; then
		echo "# kill to the first byte after it: $(echo "$gap_end - $1" | bc) s"
	else
		echo "# the longest gap ended before the kill"
	fi
}

# failover_test_start FENCE_ACTION: the common start of the failover tests,
# as TAP lines: the pair set up and replicating, each agent seeing the
# other in the cluster group; ends the test when that fails. Called
# directly, not through t_check (a subshell): the variables must stay set.
failover_test_start()
{
	guest_require
	t_check "colod is built" test -x "$COLOD" || t_done
	if failover_setup "$1"; then
		t_ok "pair configured, corosync quorate on both hosts"
	else
		t_fail "pair configured, corosync quorate on both hosts"
		show_all
		t_done
	fi
	if failover_start; then
		t_ok "both agents replicate"
	else
		t_fail "both agents replicate"
		show_all
		t_done
	fi
	t_check "each agent sees the other in the cluster group" wait_for 60 peers_present
}
