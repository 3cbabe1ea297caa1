#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two guests started from the same snapshot, each behind its own tap in its
# own namespace, with the same address: the basis of zero-checkpoint
# replication is that they serve byte-identical deterministic streams; their
# nondeterministic server must differ (that is what forces checkpoints).
#
#   a: [br0 10.0.0.1, tap0] -- guest A 10.0.0.2
#   b: [br0 10.0.0.1, tap0] -- guest B 10.0.0.2
. "$(dirname "$0")/guest_lib.sh"

guest_require
# not through t_check, which runs in a subshell: GUEST_WORK must stay set
if guest_setup; then t_ok "modules and work directory"; else t_fail "modules and work directory"; t_done; fi
for g in a b; do
	t_check "namespace $g with tap0 and a bridge" guest_net "$g" tap0 || t_done
	disk=$(guest_loop "$g")
	on_exit "losetup -d $disk"
	truncate -s "${GUEST_RAM_MB}M" "$GUEST_WORK/$g.ram"
	guest_start "$g" "$g" tap0 "$GUEST_WORK/$g.ram" "$disk"
done
for g in a b; do
	t_check "guest $g up from the snapshot" guest_wait_up "$g" || t_done
	echo "# guest $g: up $(cat "$GUEST_WORK/$g/up_ms") ms after start (both starting at once)"
	t_check "guest $g reachable" \
		wait_for 60 ip netns exec "$g" "$GUEST_CTL" stream 10.0.0.2 1 16
done

for g in a b; do
	ip netns exec "$g" "$GUEST_CTL" fetch 10.0.0.2 7001 7 262144 > "$GUEST_WORK/$g.stream"
	ip netns exec "$g" "$GUEST_CTL" fetch 10.0.0.2 7003 7 65536 > "$GUEST_WORK/$g.random"
done
t_check "deterministic streams: 256 KiB each" \
	test "$(stat -c %s "$GUEST_WORK/a.stream")" = 262144 -a \
	"$(stat -c %s "$GUEST_WORK/b.stream")" = 262144
t_check "deterministic streams are byte-identical" cmp "$GUEST_WORK/a.stream" "$GUEST_WORK/b.stream"
t_check "nondeterministic replies: 64 KiB each" \
	test "$(stat -c %s "$GUEST_WORK/a.random")" = 65536 -a \
	"$(stat -c %s "$GUEST_WORK/b.random")" = 65536
t_check "nondeterministic replies differ" \
	fails_with "differ" cmp "$GUEST_WORK/a.random" "$GUEST_WORK/b.random"
t_done
