#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy connection table under a SYN flood (proxy_data.sh's topology):
# SYNs from fifteen thousand source ports of an address nobody answers for,
# towards the guests' listening port, with a cap of 2000 connections per
# instance, while a real client downloads. The table stays within the cap
# on both hosts (flood entries are forgotten early for new ones), the slab
# grows by no more than the cap allows, the client's transfer completes
# byte-exact, the kernel logs no soft lockup or RCU stall, and everything
# is freed when the instances go.
#
#   cli (flood from 10.0.0.77, client 10.0.0.1) --> pri / sec --> pvm / svm
source "$(dirname "$0")/proxy_data.sh"

CAP=2000
FLOOD=${SYNFLOOD_COUNT:-15000}
RATE=${SYNFLOOD_RATE:-2000}
FLOODER="$SELFTESTS/syn_flood"
[ -x "$FLOODER" ] || { echo "build the test helpers first (make test-helpers)" >&2; exit 1; }

t_check "load colo_proxy" load_module colo_proxy
# Count from after a first round of the topology (one-time allocations).
t_check "warm-up round of the topology" topology_warm_up
slab_before=$(slab_active_objects)
started=$(date +%s)
echo $CAP > /sys/module/colo_proxy/parameters/conn_max
t_check "topology and instances with conn_max $CAP" setup || t_done
no_module_autoload
t_check "show prints the cap" bash -c "ip netns exec pri $COLOCTL proxy show p-g | grep -q 'conn-max $CAP '"
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
	# The flood's source exists nowhere: the guests' SYN-ACKs to it reach
	# the client's bridge, which drops them (not its address), so no RST.
	ip -n "$ns" neigh add 10.0.0.77 lladdr "$(ip -n cli -br link show brc | awk '{print $3}')" \
		dev eth0 nud permanent
done
t_check "servers listen" wait_for 30 eval "listening pvm 8080 && listening svm 8080"
# The agent's part: a checkpoint for every request (held SYN-ACKs whose
# twin the loaded secondary lost time out into one now and then).
bg pri "$COLOCTL" proxy monitor > "$T/events"
checkpoint_agent

most_seen pri p-g connections "$T/most-pri"
most_seen sec s-g connections "$T/most-sec"

slab_flood=$(slab_active_objects)
start=$(date +%s)
nsx cli "$FLOODER" 10.0.0.77 10.0.0.2 8080 20000 "$FLOOD" "$RATE" > "$T/flood.out" 2>&1 &
flood=$!
t_check "the flood fills the secondary's table to the cap" \
	wait_for 120 eval "[ \"\$(stat sec s-g connections)\" -ge $CAP ]"
t_check "a real client's downloads complete byte-exact during the flood" \
	nsx cli $PY clients 10.0.0.2 8080 4 100000
wait "$flood"
t_check "the flood ends" test $? = 0
t_note "flood: $(cat "$T/flood.out") in $(($(date +%s) - start)) s"
slab_after=$(slab_active_objects)
for side in "pri p-g" "sec s-g"; do
	set -- $side
	t_note "$1: connections $(stat "$1" "$2" connections), at most $(cat "$T/most-$1")," \
		"evicted $(stat "$1" "$2" conn_evicted), refused $(stat "$1" "$2" conn_refused)"
	t_check "$1: never more than $CAP connections" \
		test "$(cat "$T/most-$1")" -le $CAP -a "$(stat "$1" "$2" connections)" -le $CAP
	t_check "$1: flood entries forgotten early for new connections" stat_gt "$1" "$2" conn_evicted 0
done
t_note "requests on the primary: $(requests)"
# One table entry per connection and host, both hosts at the cap: about
# 2 x $CAP objects, where the flood without a cap makes 2 x $FLOOD.
t_check "slab growth under the flood bounded by the cap ($((slab_after - slab_flood)) objects)" \
	test $((slab_after - slab_flood)) -le $((2 * CAP + 3000))
# (The harness checks the whole kernel log too; this says it here.)
t_check "kernel log: no soft-lockup or stall report" \
	bash -c "! dmesg | grep -Ei 'soft lockup|rcu.*stall|hard lockup'"

t_note "$(($(date +%s) - started)) s from the first count to here"
leak_check_done
