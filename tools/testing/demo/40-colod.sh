#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One VM protected end to end: two colods (network namespaces play the two
# hosts) replicate the end-to-end test guest, a real Linux VM, while a
# client talks to it; then the replica's QEMU is killed and the primary
# carries on. Ends with both agents' timeline.
. "$(dirname "$0")/../selftests/colo/colod_lib.sh"

step() { printf '\n%s\n' "$*"; }
show() { sed 's/^/   /'; }
fail() { echo "   FAILED: $*"; colod_timeline "$T0" | tail -20 | show; exit 1; }

guest_check_images || exit 1
colod_setup || fail "setting up modules, namespaces and disks"
T0=$EPOCHREALTIME

step "1. Hosts pri and sec (namespaces), a client cli. Each host runs colod for VM vm0;"
echo "   the primary's configuration (colod.conf(5)):"
# [qemu] args continues on indented lines: shown joined
awk '/^\t/ { printf " %s", substr($0, 2); next } { if (NR > 1) print ""; printf "%s", $0 } END { print "" }' \
	"$W/primary.conf" | show
colod_start secondary sec
colod_start primary pri
echo "   $ ip netns exec sec colod -c secondary.conf; ip netns exec pri colod -c primary.conf"
both_replicating | show || fail "replication did not start"

step "2. The first sync copied the running VM to the secondary; both replicate:"
vm primary status | show
vm secondary status | show

step "3. The client downloads 4 x 256 KiB and echoes 128 KiB through the replicated pair:"
wait_for 120 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 1 16 || fail "the guest does not answer"
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

step "7. The replica's QEMU is killed: the secondary reports it, the primary carries on alone:"
kill -9 "$(field secondary "['qemu_pid']")"
wait_state secondary failed 60 | show
wait_state primary peer-lost 120 | show
echo "   primary: $(field primary "['state']"): $(field primary "['reason']")"
ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 13 65536 2>&1 | sed 's/^/still served: /' | show

step "Timeline (seconds from the start; both agents' logs):"
colod_timeline "$T0" | grep -v 'QEMU [0-9]* started' | show
vm primary stop > /dev/null
vm secondary stop > /dev/null
wait_for 60 sh -c "! kill -0 $(cat "$W/primary.pid") && ! kill -0 $(cat "$W/secondary.pid")"
