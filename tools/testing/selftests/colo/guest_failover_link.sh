#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Only the link between the hosts fails (agent link, proxy tunnel, NBD and
# corosync all ran over it): each host sees the other leave, both stay
# quorate (two_node). The secondary's fence hook fails (it cannot reach the
# primary), so the secondary does not take over: exactly one VM serves,
# the primary, and the client's download completes byte-exact.
# The primary's NBD timeout is 600 s here: a checkpoint under way when
# the link goes must give up its disk drain after [disk] drain_timeout
# (20 s here), not wait for NBD, for the primary to go on alone in time.
# Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

COLOD_NBD_TIMEOUT=600s COLOD_DRAIN_TIMEOUT=20s
failover_test_start fail
ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 41 $((4 << 20)) > "$W/stream.out" 2>&1 &
stream=$!
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least

ip -n pri link set p-t down
t_check "the primary goes on alone" wait_state primary peer-lost 120 || show_all
t_check "the secondary ran its fence hook" wait_for 60 test -s "$W/fence.calls"
t_check "... which failed, so it does not take over" wait_state secondary peer-lost 60
says_why() { vm secondary status | grep -q 'not taking over'; }
t_check "... and says why" says_why
wait "$stream"
t_check "the download completes byte-exact over the same connection" test $? = 0
sed 's/^/# /' "$W/stream.out"
t_check "the primary serves new connections, byte-exact" \
	ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 42 65536
held_back() { ! vm secondary status | grep -q took-over; }
t_check "the secondary still holds its replica back (not took-over)" held_back
vm primary status | sed 's/^/# /'
vm secondary status | sed 's/^/# /'

t_check "primary colod stops" vm primary stop
t_check "secondary colod stops" vm secondary stop
t_done
