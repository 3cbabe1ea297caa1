#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt for an operator: a guest RAM object created with coloctl, an
# unmodified QEMU running a tiny guest on it, and the dirty pages the agent
# sees while the guest runs and after it is paused.
. "$(dirname "$0")/../selftests/colo/ckpt_lib.sh"
set -e
COLOCTL="$REPO/tools/coloctl/coloctl"
WORK=$(mktemp -d)
trap 'kill $QEMU_PID 2>/dev/null; wait 2>/dev/null; "$COLOCTL" ram destroy demo 2>/dev/null; rmmod colo_ckpt 2>/dev/null; rm -rf "$WORK"' EXIT

load_module colo_ckpt
echo "1. Create a 64 MiB guest RAM object:"
echo "   \$ coloctl ram create demo 64M"
"$COLOCTL" ram create demo 64M
ls -l /dev/colo_ram/demo | sed 's/^/   /'

# The guest: a multiboot kernel of a few instructions sweeping a counter
# over the 1024 pages at 4 MiB.
ckpt_build_guest "$WORK/guest.elf"

echo
echo "2. Start an unmodified QEMU with its RAM on the object:"
echo "   \$ qemu-system-x86_64 -M pc -m 64 \\"
echo "       -object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/demo,share=on,size=64M \\"
echo "       -machine memory-backend=ram0 -kernel guest.elf -qmp unix:qmp.sock,server=on,wait=off ..."
qemu-system-x86_64 -M pc -m 64 -nographic -nodefaults \
	-object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/demo,share=on,size=64M \
	-machine memory-backend=ram0 -kernel "$WORK/guest.elf" \
	-qmp "unix:$WORK/qmp.sock,server=on,wait=off" > "$WORK/qemu.log" 2>&1 &
QEMU_PID=$!
wait_for 60 test -S "$WORK/qmp.sock"
wait_for 60 sh -c "test \$(cat /sys/class/colo_ckpt/demo/dirty_pages) -gt 1024"

qmp()
{
	printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$1" |
		socat - "UNIX-CONNECT:$WORK/qmp.sock" > /dev/null
}

echo
echo "3. While the guest runs, each collect returns the pages written since the last one"
echo "   and write-protects them again (firmware and kernel loading are in the first):"
for i in 1 2 3 4; do
	n=$("$COLOCTL" ram collect demo | wc -l)
	printf '   collect %d: %5d dirty pages\n' "$i" "$n"
	sleep 0.2
done

echo
echo "4. Pause the guest (QMP stop): the next collect takes the last writes, then nothing moves:"
qmp stop
printf '   collect after stop: %5d dirty pages\n' "$("$COLOCTL" ram collect demo | wc -l)"
sleep 0.5
printf '   0.5 s later:        %5d dirty pages\n' "$("$COLOCTL" ram collect demo | wc -l)"
qmp cont
sleep 0.3
printf '   after cont:         %5d dirty pages\n' "$("$COLOCTL" ram collect demo | wc -l)"

echo
echo "5. Object statistics (coloctl ram info demo, also in /sys/class/colo_ckpt/demo/):"
"$COLOCTL" ram info demo | sed 's/^/   /'

echo
echo "6. The object is mapped, so it cannot be resized; destroying it is safe:"
"$COLOCTL" ram resize demo 128M 2>&1 | sed 's/^/   /' || true
"$COLOCTL" ram destroy demo
echo "   destroyed; QEMU keeps running on the memory until it exits"
kill $QEMU_PID
wait $QEMU_PID 2>/dev/null || true
wait_for 10 test "$(cat /sys/class/colo_ckpt/committed_bytes)" = 0
echo "   QEMU gone: committed_bytes back to $(cat /sys/class/colo_ckpt/committed_bytes)"
unload_module colo_ckpt
trap 'rm -rf "$WORK"' EXIT
