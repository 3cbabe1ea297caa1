#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's kernel under QEMU with the host's userspace, run the COLO
# in-kernel tests (or one command) inside, and bring the verdict back out of
# band through a writable 9p share. The host kernel cannot load modules, so
# this is the only place our modules run.
#
#   host /  --9p ro-->  /lower ---+
#   tmpfs   ----------> /upper ---+--overlay--> new root (chroot)
#   $OUT    --9p rw-->  /colo-out  (command, verdict, per-test logs, kernel log)
#   $REPO   --9p ro-->  $REPO again, with its own tmpfs overlay, so the tree
#                       stays visible wherever it lives (/tmp gets a tmpfs)
#
# Usage: run.sh [--mem MB] [--smp N] [--timeout SEC] [--out DIR] [--cmd 'command'] [PATTERN...]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
MEM=${VM_MEM:-2048}
SMP=${VM_SMP:-2}
TIMEOUT=${VM_TIMEOUT:-1800}
OUT=
CMD=
while [ $# -gt 0 ]; do
	case "$1" in
	--mem) MEM=$2; shift 2 ;;
	--smp) SMP=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--cmd) CMD=$2; shift 2 ;;
	-h|--help) sed -n '3,14p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ -z "$CMD" ]; then
	CMD="COLO_INJECT=${COLO_INJECT:-} COLO_TEST_TIMEOUT=${COLO_TEST_TIMEOUT:-} CI=${CI:-} $REPO/tools/testing/selftests/colo/run_tests.sh"
	[ $# -gt 0 ] && CMD="$CMD $(printf '%q ' "$@")"
fi

# shellcheck source=tools/testing/vm/kernel.sh
. "$REPO/tools/testing/vm/kernel.sh"
KVER=$(colo_kernel_version)
VMLINUZ=/boot/vmlinuz-$KVER

if [ -z "$OUT" ]; then
	OUT=$(mktemp -d /tmp/colo-vm.XXXXXX)
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/verdict "$OUT"/console.log "$OUT"/dmesg.log "$OUT"/command \
	"$OUT"/counts "$OUT"/running "$OUT"/failed

INITRD="$OUT/initrd.gz"
"$REPO/tools/testing/vm/mkinitrd.sh" "$KVER" "$INITRD"

# The command travels through the shared directory, not the kernel command
# line, so it may hold any characters.
printf '%s\n' "$CMD" > "$OUT/command"

ACCEL=()
if [ "${VM_ACCEL:-tcg}" != tcg ]; then
	ACCEL=(-accel "$VM_ACCEL")
fi

echo "vm: kernel $KVER, ${MEM} MiB, $SMP cpus, timeout ${TIMEOUT}s, output in $OUT"
start=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" \
	-M q35 -cpu max -m "$MEM" -smp "$SMP" \
	-display none -no-reboot -nodefaults -monitor none \
	-serial stdio \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic softlockup_panic=0 colo.out=out" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$OUT,mount_tag=out,security_model=none,multidevs=remap" \
	-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
	-device virtio-rng-pci < /dev/null 2>&1 | tee "$OUT/console.log"
qemu_rc=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))

# What the harness itself saw go wrong, a line each in $OUT/failed (with
# the names of the test scripts that failed), for the run's summary.
fail=0
running=
[ -s "$OUT/running" ] && running=$(cat "$OUT/running")
if [ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ]; then
	echo "vm: FAILED: timed out after ${TIMEOUT}s"
	if [ -n "$running" ]; then
		echo "vm: $running was running; its log so far: $OUT/logs/$running.log"
		echo "$running (the VM timed out after ${elapsed}s)" >> "$OUT/failed"
	else
		echo "(the VM timed out after ${elapsed}s)" >> "$OUT/failed"
	fi
	fail=1
elif [ ! -s "$OUT/verdict" ]; then
	crash=$(grep -m1 -E 'Kernel panic|BUG:|Oops|general protection fault' "$OUT/console.log" |
		sed 's/^\[ *[0-9.]*\] //')
	echo "${running:-(no test)} (no verdict after ${elapsed}s${crash:+: $crash})" >> "$OUT/failed"
fi
if [ ! -s "$OUT/verdict" ]; then
	echo "vm: FAILED: no verdict came back (crash, panic or timeout); console log: $OUT/console.log"
	fail=1
else
	read -r verdict rest < "$OUT/verdict"
	if [ "$verdict" != pass ]; then
		echo "vm: FAILED: verdict '$verdict $rest'"
		fail=1
	fi
fi

# The kernel log is judged here as well as inside, so that a splat printed
# after the tests (module unload, poweroff) still fails the run.
klog="$OUT/dmesg.log"
[ -s "$klog" ] || klog="$OUT/console.log"
if "$REPO/tools/testing/vm/klog-check.sh" "$klog" "$OUT/console.log"; then
	:
else
	echo "vm: FAILED: kernel log shows a warning or crash (kept in $OUT)"
	echo "(kernel log: $(grep -m1 -h -E 'WARNING:|BUG|Oops|panic|Call Trace|blocked for' "$klog" |
		sed 's/^\[ *[0-9.]*\] //'))" >> "$OUT/failed"
	fail=1
fi

echo "vm: finished in ${elapsed}s"
if [ $fail -ne 0 ]; then
	echo "vm: kernel log and console kept in $OUT"
	exit 1
fi
exit 0
