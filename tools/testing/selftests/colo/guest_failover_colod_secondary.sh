#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The secondary's colod alone is killed (SIGKILL; its host, its corosync and
# its links stay) while a client downloads over one long-lived TCP
# connection: the replica's QEMU dies with it, corosync reports that the
# agent's process ended, and the primary goes on alone; the download
# completes byte-exact with no stall longer than detection and a
# checkpoint. A colod started again on the secondary (as systemd's Restart=
# would) removes what the killed one left (the dm devices, the replica's
# NBD server with them, the proxy instance) and waits; the primary goes on alone until both are
# restarted (resynchronising is not automatic). Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

failover_test_start fail
t_check "the replica's QEMU runs" qemu_of secondary
download_start 51 $((4 << 20))
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least

kill_at=$EPOCHREALTIME
kill -9 "$(cat "$W/secondary.pid")"
t_check "the replica's QEMU dies with its agent" wait_for 60 no_qemu_of secondary
t_check "the primary goes on alone" wait_state primary peer-lost 120 || show_all
t_check "... because corosync said the secondary's agent ended" \
	log_has primary "the peer left the cluster group: its agent's process ended"
wait "$DOWNLOAD"
t_check "the download completes byte-exact over the same connection" test $? = 0 || show_all
download_report "$kill_at"
t_check "the client's longest stall (${GAP:-?} s) is far below the ACK timeout (30 s at most)" \
	test "$(echo "${GAP:-999} < 30" | bc)" = 1

mv "$W/secondary.log" "$W/secondary-killed.log"
colod_start secondary sec
t_check "a colod started again on the secondary removes what the killed one left" \
	wait_for 120 log_has secondary \
	"removed what an earlier colod of this VM left: the proxy instance, colo-vm0-replica, colo-vm0-svm$"
t_check "... and waits for a primary" wait_state secondary waiting-for-peer 120 || show_all
t_check "the primary still serves alone" state_is primary peer-lost
t_check "... new connections too" ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 52 65536
vm primary status | sed 's/^/# /'

t_check "the new secondary colod stops" vm secondary stop
t_check "... and exits" wait_for 120 agent_gone secondary
t_check "... and leaves no dm device" \
	sh -c '! dmsetup info colo-vm0-svm > /dev/null 2>&1 && ! dmsetup info colo-vm0-replica > /dev/null 2>&1'
t_check "primary colod stops" vm primary stop
t_done
