#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest tier's own failure modes must be quick and clear: a missing or
# stale snapshot is reported (never a hang), a guest that cannot load its
# snapshot or never comes up fails within a bounded time with its logs.
. "$(dirname "$0")/guest_lib.sh"

guest_require
# not through t_check, which runs in a subshell: GUEST_WORK must stay set
if guest_setup; then t_ok "modules and work directory"; else t_fail "modules and work directory"; t_done; fi

t_check "an empty cache is reported with what to run" \
	fails_with "run 'make guest' on the host" env COLO_GUEST_CACHE="$GUEST_WORK/nocache" \
	bash -c ". '$REPO/tools/testing/guest/guest.sh'; guest_check_images"
t_check "a changed source is a stale snapshot, named as such" \
	fails_with "missing or stale" bash -c "
	. '$REPO/tools/testing/guest/guest.sh'
	guest_snapshot_key() { echo changed; }
	guest_check_images"

t_check "namespace n with tap0" guest_net n tap0 || t_done
disk=$(guest_loop bad)
on_exit "losetup -d $disk"
truncate -s "${GUEST_RAM_MB}M" "$GUEST_WORK/bad.ram"

# A snapshot cut short: QEMU gives up, and the helper says so at once.
guest_paths
head -c 1048576 "$GUEST_SNAPSHOT" > "$GUEST_WORK/cut.state"
GUEST_START_FROM="$GUEST_WORK/cut.state" guest_start cut n tap0 "$GUEST_WORK/bad.ram" "$disk"
t0=$(date +%s)
out=$(guest_wait_up cut 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
t_check "a cut snapshot fails the start, with QEMU's reason shown" \
	test $rc != 0 -a -n "$(grep -F 'QEMU exited before the workload answered' <<< "$out")" \
	-a -n "$(grep -F 'load of migration failed' <<< "$out")"
t_check "... within 120 s" test $(( $(date +%s) - t0 )) -le 120

# A guest that never runs (-S keeps it paused after loading): bounded wait,
# then the console is shown.
truncate -s 0 "$GUEST_WORK/bad.ram"
truncate -s "${GUEST_RAM_MB}M" "$GUEST_WORK/bad.ram"
guest_start stuck n tap0 "$GUEST_WORK/bad.ram" "$disk" -S
t0=$(date +%s)
out=$(guest_wait_up stuck 20 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
t_check "a guest that does not come up fails its wait, logs shown" \
	test $rc != 0 -a -n "$(grep -F 'no answer on the control port within 20s' <<< "$out")" \
	-a -n "$(grep -F -- '--- stuck: console' <<< "$out")"
t_check "... after its 20 s bound, not much later" test $(( $(date +%s) - t0 )) -le 60
t_done
