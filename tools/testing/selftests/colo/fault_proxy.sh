#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Faults under traffic for a pair of colo_proxy instances (proxy_data.sh's
# topology), each ending in a clear state and no kernel warning:
#  1. the secondary's guest device is deleted: its instance goes with it,
#     and for the primary the peer's UDP endpoint has disappeared: the
#     withheld answers raise a checkpoint request instead of vanishing;
#  2. the primary's namespace is deleted with its instance live and frames
#     held: everything is freed and the module unloads.
source "$(dirname "$0")/proxy_data.sh"
# The withheld answers must time out into a request within the 30 s wait.
HOLD_TIMEOUT_MS=10000

t_check "load colo_proxy" load_module colo_proxy
t_check "topology and instances" setup || t_done
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
bg pri "$COLOCTL" proxy monitor -j > "$T/events"
t_check "servers listen" wait_for 30 eval "listening pvm 8080 && listening svm 8080"
t_check "traffic flows before the faults" nsx cli $PY clients 10.0.0.2 8080 4 20000

# Long downloads keep frames in flight while the faults hit. Started
# without nsx: $! of a function in the background is its subshell, and
# killing that left the client running.
ip netns exec cli $PY clients 10.0.0.2 8080 6 20000000 > "$T/during.out" 2>&1 &
during=$!
t_check "the primary holds frames under traffic" wait_for 30 stat_gt pri p-g held 0

# 1. The secondary's device disappears under its instance.
ip -n sec link del s-g
t_check "the secondary's instance went with its device" \
	wait_for 10 eval "[ -z \"\$(nsx sec $COLOCTL proxy show)\" ]"
t_check "the primary asks for a checkpoint (its peer is gone)" \
	wait_for 30 eval "[ \$(requests) -gt 0 ]"
t_check "... with an event" wait_for 10 grep -q '"event":"checkpoint-request"' "$T/events"
grep -o '"reason":"[a-z-]*"' "$T/events" | sort | uniq -c | sed 's/^/# pri event /'
nsx pri "$COLOCTL" proxy stats p-g | grep -E '^(held|released|requests_|tunnel_)' | sed 's/^/# pri /'
t_check "the primary still reports its instance" nsx pri "$COLOCTL" proxy show p-g

# 2. The primary's namespace goes away with the instance live.
ip netns del pri
t_check "the primary's namespace is gone" wait_for 10 eval "! ip netns list | grep -qw pri"
kill $during 2> /dev/null
wait $during 2> /dev/null
for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
wait 2> /dev/null
pids=()
for ns in cli sec pvm svm; do ip netns del "$ns"; done
t_check "module reference count back to 0" \
	wait_for 30 sh -c 'test "$(cat /sys/module/colo_proxy/refcnt)" = 0'
t_check "colo_proxy unloads" unload_module colo_proxy
t_done
