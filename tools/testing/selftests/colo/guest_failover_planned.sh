#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A planned failover (coloctl vm failover on the primary) while a client
# downloads over one long-lived TCP connection and the guest writes to its
# disk: a freeze checkpoint, HANDOVER, the secondary takes over and the
# primary's VM ends. The download completes byte-exact over the same
# connection and every record the guest acknowledged before the handover
# is on the secondary's disk. No corosync is needed for it.
# Topology: colod_lib.sh.
. "$(dirname "$0")/colod_lib.sh"

guest_require
t_check "colod is built" test -x "$COLOD" || t_done
# not through t_check, which runs in a subshell: the variables must stay set
if colod_setup; then t_ok "modules, namespaces, disks, configurations"; else t_fail "modules, namespaces, disks, configurations"; t_done; fi
colod_start secondary sec
t_check "secondary colod waits for its primary" wait_state secondary waiting-for-peer 120 || { show_logs; t_done; }
colod_start primary pri
t_check "both replicate" both_replicating || { show_logs; t_done; }

pvm() { "$GUEST_CTL" ask "$W/primary/control.sock" "$1" 60; }
t_check "the guest writes to its disk" pvm "disk 20"
streamed_at_least() { pvm stats | grep -Eq "streamed=([0-9]{6,})"; }
ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 51 $((2 << 20)) > "$W/stream.out" 2>&1 &
stream=$!
t_check "the download is under way" wait_for 120 streamed_at_least

out=$(vm primary failover 2>&1)
t_check "coloctl vm failover" test $? = 0
printf '%s\n' "$out" | sed 's/^/# /'
t_check "the primary handed over" state_is primary handed-over
t_check "the secondary took over" wait_state secondary took-over 60
t_check "the primary's QEMU has ended" test "$(field primary "['qemu_pid']")" = 0
wait "$stream"
t_check "the download completes byte-exact over the same connection" test $? = 0
sed 's/^/# /' "$W/stream.out"

svm_stats()
{
	"$GUEST_CTL" ask "$W/secondary/control.sock" stats 5 > "$W/sstats" &&
		grep -q '^tick=' "$W/sstats"
}
t_check "the VM answers on the secondary host" wait_for 60 svm_stats
acked=$(sed 's/.*acked=\([0-9]*\).*/\1/' "$W/sstats")
out=$("$GUEST_CTL" records "$SDISK" "$acked" 2>&1)
t_check "every record the VM acknowledged ($acked) is on the secondary's disk" test $? = 0
t_check "new connections are served" ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 52 65536
vm secondary status | sed 's/^/# /'

t_check "primary colod stops" vm primary stop
t_check "secondary colod stops" vm secondary stop
t_done
