#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The secondary host dies (its colod and with it its QEMU, its corosync, its
# links) while a client downloads over one long-lived TCP connection: the
# primary goes on alone when corosync says the secondary left, the
# download completes byte-exact, and its longest stall stays within
# corosync's detection time and a checkpoint (far below the 120 s ACK
# timeout that would bound it without corosync). Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

guest_require
t_check "colod is built" test -x "$COLOD" || t_done
show_all() { show_logs; tail -n 5 "$W"/corosync-*.log | sed 's/^/# /'; }
# not through t_check, which runs in a subshell: the variables must stay set
if failover_setup fail; then
	t_ok "pair configured, corosync quorate on both hosts"
else
	t_fail "pair configured, corosync quorate on both hosts"
	show_all
	t_done
fi
if failover_start; then t_ok "both agents replicate"; else t_fail "both agents replicate"; show_all; t_done; fi
t_check "each agent sees the other in the cluster group" wait_for 60 peers_present

pvm() { "$GUEST_CTL" ask "$W/primary/control.sock" "$1" 60; }
streamed_at_least() { pvm stats | grep -Eq "streamed=([0-9]{7,})"; }
ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 31 $((4 << 20)) > "$W/stream.out" 2>&1 &
stream=$!
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least

kill_at=$EPOCHREALTIME
host_down sec secondary
t_check "the primary goes on alone" wait_state primary peer-lost 120 || show_all
t_check "... because corosync said the secondary left" \
	log_has primary 'the peer left the cluster group'
wait "$stream"
t_check "the download completes byte-exact over the same connection" test $? = 0
sed 's/^/# /' "$W/stream.out"
gap=$(sed -n 's/.*longest gap \([0-9.]*\) s.*/\1/p' "$W/stream.out")
gap_end=$(sed -n 's/.*ended at \([0-9.]*\).*/\1/p' "$W/stream.out")
[ -n "$gap_end" ] && echo "# kill to the first byte after it: $(echo "$gap_end - $kill_at" | bc) s"
t_check "the client's longest stall (${gap:-?} s) is far below the ACK timeout (30 s at most)" \
	test "$(echo "${gap:-999} < 30" | bc)" = 1
t_check "the primary serves new connections" \
	ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 32 65536
vm primary status | sed 's/^/# /'

t_check "primary colod stops" vm primary stop
t_check "the dead secondary's leftovers are removed as the guide says" leftovers_remove secondary
t_done
