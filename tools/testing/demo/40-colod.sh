#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One VM protected end to end: two colods (network namespaces play the two
# hosts, each with its corosync) replicate the end-to-end test guest, a real
# Linux VM, while a client talks to it; then the primary host dies while
# the client downloads, and the secondary takes over with the client's
# connection intact. Ends with both agents' timeline.
. "$(dirname "$0")/../selftests/colo/failover_lib.sh"

step() { printf '\n%s\n' "$*"; }
show() { sed 's/^/   /'; }
fail() { echo "   FAILED: $*"; colod_timeline "$T0" | tail -20 | show; exit 1; }

guest_check_images || exit 1
failover_setup kill-primary || fail "setting up modules, namespaces, disks and corosync"
T0=$EPOCHREALTIME

step "1. Hosts pri and sec (namespaces), a client cli. Each host runs corosync and colod for VM vm0;"
echo "   the primary's configuration (colod.conf(5)):"
# [qemu] args continues on indented lines: shown joined
awk '/^\t/ { printf " %s", substr($0, 2); next } { if (NR > 1) print ""; printf "%s", $0 } END { print "" }' \
	"$W/primary.conf" | show
echo "   $ colod -c secondary.conf   (on sec);   colod -c primary.conf   (on pri)"
failover_start | show || fail "replication did not start"

step "2. The first sync copied the running VM to the secondary; both replicate:"
vm primary status | show
vm secondary status | show

step "3. The client downloads 4 x 256 KiB and echoes 128 KiB through the replicated pair:"
ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 7 262144 4 2>&1 | show
ip netns exec cli "$GUEST_CTL" echo 10.0.0.2 131072 2>&1 | show

step "4. A nondeterministic server: the two VMs answer differently, colo_proxy asks for a checkpoint,"
echo "   and the client gets the primary's answer whole:"
before=$(field primary "['reasons']['proxy']")
ip netns exec cli "$GUEST_CTL" fetch 10.0.0.2 7003 1 65536 | wc -c | sed 's/$/ bytes received/' | show
wait_for 120 count_at_least primary "['reasons']['proxy']" $((before + 1)) &&
	echo "   checkpoints asked for by colo_proxy: $(field primary "['reasons']['proxy']")" ||
	fail "no checkpoint request"

step "5. The guest writes to its disk and memory; a freeze checkpoint pauses both VMs right after it:"
"$GUEST_CTL" ask "$W/primary/control.sock" "disk 20" > /dev/null
"$GUEST_CTL" ask "$W/primary/control.sock" "mem 200" > /dev/null
wait_for 120 sh -c "'$GUEST_CTL' ask '$W/primary/control.sock' stats | grep -Eq 'acked=[1-9]'"
vm primary freeze > /dev/null || fail "freeze"
frozen() { [ "$(field secondary "['frozen']")" = True ]; }
wait_for 60 frozen || fail "the replica did not freeze"
python3 -c "
import hashlib, mmap, os, sys
for name in ('vm0', 'vm0-svm'):
    fd = os.open('/dev/colo_ram/' + name, os.O_RDONLY)
    m = mmap.mmap(fd, $GUEST_RAM_MB << 20, mmap.MAP_SHARED, mmap.PROT_READ)
    print('   RAM  %-26s sha256 %s' % ('/dev/colo_ram/' + name, hashlib.sha256(m).hexdigest()[:16]))"
SFACE=/dev/dm-$(dmsetup info -c --noheadings -o minor colo-vm0-svm | tr -d ' ')
for d in "$PDISK" "$SFACE"; do
	printf '   disk %-26s sha256 %s\n' "$d" "$(dd if="$d" bs=1M iflag=direct status=none | sha256sum | cut -c1-16)"
done
vm primary resume > /dev/null && vm secondary resume > /dev/null || fail "resume"

step "6. Checkpoints continue on the timer and on request:"
for i in 1 2 3; do vm primary checkpoint > /dev/null || fail "checkpoint"; done
vm primary status | show

step "7. The primary host dies (its colod, QEMU, corosync and links) while the client downloads 2 MiB:"
ip netns exec cli env COLO_GUEST_CTL_TIMEOUT=120 "$GUEST_CTL" stream 10.0.0.2 21 $((2 << 20)) > "$W/stream.out" 2>&1 &
download=$!
streamed() { "$GUEST_CTL" ask "$W/primary/control.sock" stats 60 | grep -Eq 'streamed=[0-9]{6,}'; }
wait_for 120 streamed || fail "the download did not start"
kill_at=$EPOCHREALTIME
host_down pri primary
wait_state secondary took-over 120 | show
echo "   secondary: $(field secondary "['state']"): $(field secondary "['reason']")"
wait "$download" || fail "the download broke: $(cat "$W/stream.out")"
show < "$W/stream.out"
gap_end=$(sed -n 's/.*ended at \([0-9.]*\).*/\1/p' "$W/stream.out")
echo "   the same connection, byte-exact; from the kill to the survivor's first byte: $(echo "$gap_end - $kill_at" | bc) s"
echo "   (corosync's detection: token 3 s plus consensus; takeover itself: $(field secondary "['takeover_ms']") ms)"

step "Timeline (seconds from the start; both agents' logs):"
colod_timeline "$T0" | grep -v 'QEMU [0-9]* started' | show
vm secondary stop > /dev/null
wait_for 60 sh -c "! kill -0 $(cat "$W/secondary.pid")"
leftovers_remove primary
