#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The primary host dies (its colod and with it its QEMU, its corosync, its
# links) while a client downloads over one long-lived TCP connection, with
# TCP timestamps on in the guest, and the guest writes to its disk.
# Corosync tells the secondary; its fence hook runs (and makes sure the
# primary is down, as a power switch would); it takes over: the download completes byte-exact over the same
# connection, and every disk record the surviving guest acknowledged is on
# the surviving disk. Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

failover_test_start kill-primary
t_check "the guest writes to its disk" pvm "disk 20"
ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 21 $((6 << 20)) > "$W/stream.out" 2>&1 &
stream=$!
t_check "the guest's connections use TCP timestamps" guest_uses_timestamps
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least
pstats=$(pvm stats)
echo "# primary before the kill: $pstats"
acked=$(sed 's/.*acked=\([0-9]*\).*/\1/' <<< "$pstats")

kill_at=$EPOCHREALTIME
host_down pri primary
t_check "the secondary takes over" wait_state secondary took-over 120 || show_all
t_check "... after its fence hook ran" test -s "$W/fence.calls"
wait "$stream"
t_check "the download completes byte-exact over the same connection" test $? = 0 || {
	ip netns exec sec "$COLOCTL" proxy stats tap0 | tr '\n' ' ' | sed 's/^/# /'; echo
	show_all
}
sed 's/^/# /' "$W/stream.out"
gap_end=$(sed -n 's/.*ended at \([0-9.]*\).*/\1/p' "$W/stream.out")
[ -n "$gap_end" ] && echo "# kill to the first byte from the survivor: $(echo "$gap_end - $kill_at" | bc) s"
echo "# takeover: $(field secondary "['takeover_ms']") ms from the primary leaving the cluster group"

# The survivor continues from the last checkpoint: the records the primary
# wrote after it are undone on the disk (the replica's view wins) and the
# replica, whose writer goes on from its own count, writes them again.
records_on_disk() { "$GUEST_CTL" records "$SDISK" "$acked" > "$W/records.out" 2>&1; }
t_check "every record the guest acknowledged before the kill ($acked) is on the survivor's disk" \
	wait_for 120 records_on_disk
sed 's/^/# /' "$W/records.out"
t_check "the survivor serves new connections" \
	ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 22 65536
vm secondary status | sed 's/^/# /'

t_check "secondary colod stops" vm secondary stop
t_check "the dead primary's leftovers are removed as the guide says" leftovers_remove primary
t_done
