#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy hard hold limits (proxy_data.sh's topology), with an agent
# that checkpoints on every request, as colod does.
#
# Secondary: an SVM whose receive window stays shut (it never reads, with
# a tiny receive buffer) while the PVM takes a 1 MB upload: every mirrored
# segment waits for the SVM's window, and the instance's window queue hits
# hold-packets 16 / hold-bytes 64 KiB and stays there. Primary: the SVM's
# output 300 ms late on the tunnel makes the PVM's download wait in the
# compare queue against hold-packets 16 / hold-bytes 256 KiB: frames beyond
# are dropped, a checkpoint is requested, the download completes
# byte-exact. Neither side ever holds more than its limits, and nothing is
# left when the module goes.
source "$(dirname "$0")/proxy_data.sh"

PRI_ADD_OPTS="hold-packets 16 hold-bytes 262144"
# Below the hold limit, the PVM's download can leave by timeout requests
# only (the SVM's late output is stale after every checkpoint); two 30 s
# timeouts in a row outlast the client's 60 s wait for data (a CI
# pre-check saw that wait run out once), so 10 s, as in fault_proxy.
HOLD_TIMEOUT_MS=10000
SEC_ADD_OPTS="hold-packets 16 hold-bytes 65536"

t_check "load colo_proxy" load_module colo_proxy
# Before the first slab count, which fails on modules loaded after it.
t_check "load sch_netem" modprobe sch_netem
# Count from after a round of the topology with the same tools and traffic
# (one-time allocations: tc, the servers' and clients' files and modules).
warm_up()
{
	setup || return 1
	bg pvm $PY server 8080 det
	wait_for 30 listening pvm 8080 &&
	tc -n sec qdisc add dev s-t root netem delay 1ms &&
	tc -n sec qdisc del dev s-t root &&
	nsx cli $PY clients 10.0.0.2 8080 1 1000
	topology_stop
}
t_check "warm-up round of the topology and its traffic" warm_up
slab_before=$(slab_active_objects)
started=$(date +%s)
t_check "topology and instances with hold limits" setup || t_done
no_module_autoload
t_check "show prints the secondary's limits" bash -c \
	"ip netns exec sec $COLOCTL proxy show s-g | grep -q 'hold 16 packets 65536 bytes'"
t_check "show -j too" bash -c \
	"ip netns exec pri $COLOCTL proxy show p-g -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"hold_packets\"]==16 and d[\"hold_bytes\"]==262144, d'"
nsx svm sysctl -qw net.ipv4.tcp_rmem="4096 4096 4096"
bg pvm $PY server 8084 sink
bg svm $PY server 8084 idle
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
t_check "servers listen" wait_for 30 eval "listening pvm 8084 && listening svm 8084 &&
	listening pvm 8080 && listening svm 8080"
bg pri "$COLOCTL" proxy monitor -j > "$T/events"
checkpoint_agent

most_seen sec s-g holding_packets "$T/sec-pkts"
most_seen sec s-g holding_bytes "$T/sec-bytes"
t_check "a 1 MB upload the SVM never reads: the PVM's digest comes back" \
	nsx cli $PY upload 10.0.0.2 8084 1000000
t_note "secondary: window_held $(stat sec s-g window_held) hold_full $(stat sec s-g hold_full)" \
	"most held $(cat "$T/sec-pkts") frames, $(cat "$T/sec-bytes") bytes"
t_check "secondary: segments waited for the SVM's window" stat_gt sec s-g window_held 0
t_check "secondary: the hold limit was hit" stat_gt sec s-g hold_full 0
t_check "secondary: never more than 16 frames and 64 KiB held" \
	test "$(cat "$T/sec-pkts")" -le 16 -a "$(cat "$T/sec-bytes")" -le 65536
t_check "secondary: a checkpoint empties its hold" eval \
	"nsx pri $COLOCTL proxy checkpoint p-g && nsx sec $COLOCTL proxy checkpoint s-g &&
	[ \"\$(stat sec s-g holding_packets)\" = 0 ] && [ \"\$(stat sec s-g holding_bytes)\" = 0 ]"

most_seen pri p-g holding_packets "$T/pri-pkts"
most_seen pri p-g holding_bytes "$T/pri-bytes"
tc -n sec qdisc add dev s-t root netem delay 300ms
t_check "download with the SVM's output 300 ms late: byte-exact" \
	nsx cli $PY clients 10.0.0.2 8080 2 200000
tc -n sec qdisc del dev s-t root
t_note "primary: hold_full $(stat pri p-g hold_full) most held $(cat "$T/pri-pkts") frames," \
	"$(cat "$T/pri-bytes") bytes; requests queue_packets $(stat pri p-g requests_queue_packets)" \
	"queue_bytes $(stat pri p-g requests_queue_bytes)"
t_check "primary: the hold limit was hit" stat_gt pri p-g hold_full 0
t_check "primary: ... and requested a checkpoint without a connection" \
	grep -qE '"reason":"queue-(packets|bytes)"}' "$T/events"
t_check "primary: never more than 16 frames and 256 KiB held" \
	test "$(cat "$T/pri-pkts")" -le 16 -a "$(cat "$T/pri-bytes")" -le 262144

t_note "$(($(date +%s) - started)) s from the first count to here"
leak_check_done
