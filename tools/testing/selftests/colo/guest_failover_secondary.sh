#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The secondary host dies (its colod and with it its QEMU, its corosync, its
# links) while a client downloads over one long-lived TCP connection: the
# primary goes on alone when corosync says the secondary left, the
# download completes byte-exact, and its longest stall stays within
# corosync's detection time and a checkpoint (far below the 120 s ACK
# timeout that would bound it without corosync). Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

failover_test_start fail
download_start 31 $((4 << 20))
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least

kill_at=$EPOCHREALTIME
host_down sec secondary
t_check "the primary goes on alone" wait_state primary peer-lost 120 || show_all
t_check "... because corosync said the secondary left" \
	log_has primary 'the peer left the cluster group'
wait "$DOWNLOAD"
t_check "the download completes byte-exact over the same connection" test $? = 0
download_report "$kill_at"
t_check "the client's longest stall (${GAP:-?} s) is far below the ACK timeout (30 s at most)" \
	test "$(echo "${GAP:-999} < 30" | bc)" = 1
t_check "the primary serves new connections" \
	ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 32 65536
vm primary status | sed 's/^/# /'

t_check "primary colod stops" vm primary stop
t_check "the dead secondary's leftovers are removed as the guide says" leftovers_remove secondary
t_done
