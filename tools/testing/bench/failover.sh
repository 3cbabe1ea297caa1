#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Failover: detection and takeover times over repeated failovers of the
# end-to-end guest replicated by two colods, each host namespace with its
# corosync (the topology and cluster of selftests/colo/failover_lib.sh).
# FAILOVER_BENCH_ROUNDS rounds of each kind, alternating:
#
#   host   the primary host dies: its colod (and QEMU), its corosync and
#          its links; corosync notices after its token and consensus
#   agent  only the primary's colod is killed (its QEMU dies with it);
#          corosync reports the process gone at once
#
# while a client downloads over one TCP connection. Per round: detection
# (kill to the secondary's "the peer left the cluster group"), takeover
# (colod's takeover_ms: from that report to the replica serving), the
# client's gap (kill to the first byte from the survivor; "<ckpt" when a
# checkpoint's pause before the kill stalled the download longer than the
# failover did) and whether the download completed byte-exact. Each round starts the pair afresh on
# zeroed disks; the primary's colod removes what the killed one left. The
# reference is corosync's configured detection bound (token + consensus).
. "$(dirname "$0")/../selftests/colo/failover_lib.sh"

ROUNDS=${FAILOVER_BENCH_ROUNDS:-3}
STREAM_BYTES=$((4 << 20))
fail() { echo "failover benchmark: $*"; show_all; exit 1; }

guest_check_images || exit 1
[ -x "$COLOD" ] || { echo "colod is not built (make tools)"; exit 1; }
failover_setup ok || fail "setting up the pair and corosync failed"

# round KIND N: one failover; appends a line to $W/rounds
round()
{
	local kind=$1 n=$2 disk first_byte kill_at detect_at gap_end takeover ok=no port=$((60 + $2))
	failover_start || fail "round $n: the pair did not start replicating"
	wait_for 60 peers_present || fail "round $n: the agents do not see each other"
	download_start $port $STREAM_BYTES
	wait_for 120 streamed_at_least || fail "round $n: the download does not start"
	kill_at=$EPOCHREALTIME
	if [ "$kind" = host ]; then
		host_down pri primary
	else
		kill -9 "$(cat "$W/primary.pid")"
	fi
	wait_state secondary took-over 120 || fail "round $n: no takeover"
	wait "$DOWNLOAD" && ok=yes
	detect_at=$(grep -m1 'the peer left the cluster group' "$W/secondary.log" | cut -d' ' -f1)
	gap_end=$(sed -n 's/.*ended at \([0-9.]*\).*/\1/p' "$W/stream.out")
	takeover=$(field secondary "['takeover_ms']")
	# the download's longest gap may be a checkpoint's pause before the kill:
	# then the failover stalled it less than that ("<ckpt")
	first_byte=$(echo "${gap_end:-0} - $kill_at" | bc)
	[ "$(echo "$first_byte > 0" | bc)" = 1 ] && first_byte=$(printf '%.1f' "$first_byte") ||
		first_byte='<ckpt'
	printf '%-6s %5s %10.1f %12.0f %12s %s\n' "$kind" "$n" \
		"$(echo "${detect_at:-0} - $kill_at" | bc)" "$takeover" "$first_byte" "$ok" |
		tee -a "$W/rounds"

	vm secondary stop > /dev/null
	wait_for 120 agent_gone secondary || fail "round $n: the secondary's colod does not stop"
	if [ "$kind" = host ]; then
		ip -n pri link set p-t up
		ip -n pri link set p-up up
		corosync_start pri
		wait_for 60 quorate pri && wait_for 60 quorate sec ||
			fail "round $n: corosync does not come back"
	fi
	for disk in "$PDISK" "$SDISK"; do
		dd if=/dev/zero of="$disk" bs=1M count="$GUEST_DISK_MB" oflag=direct status=none ||
			fail "round $n: cannot zero $disk"
	done
}

printf '%-6s %5s %10s %12s %12s %s\n' kind round detect_s takeover_ms first_byte_s byte-exact
: > "$W/rounds"
for n in $(seq 1 "$ROUNDS"); do
	round host $((2 * n - 1))
	round agent $((2 * n))
done

echo
token_ms=$(corosync_conf | awk '$1 == "token:" { print $2 }')
echo "reference: corosync's detection bound, token + consensus (1.2 x token) =" \
	"$(echo "scale=1; $token_ms * 2.2 / 1000" | bc) s (token $token_ms ms, failover_lib.sh)"
printf '%-6s %8s %8s %8s   (median of %d rounds)\n' kind detect_s takeover first_byte "$ROUNDS"
for kind in host agent; do
	med() { awk -v k="$kind" -v c="$1" '$1 == k && $c != "<ckpt" { print $c }' "$W/rounds" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
	printf '%-6s %8s %8s %8s\n' "$kind" "$(med 3)" "$(med 4)" "$(med 5)"
done
bad=$(awk '$6 != "yes"' "$W/rounds" | wc -l)
echo "downloads broken by a failover: $bad of $((2 * ROUNDS))"
