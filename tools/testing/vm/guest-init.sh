#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# First process inside the test VM, in the host's userspace (overlay over 9p).
# Runs the command from /colo-out/command and writes the verdict there.
OUTDIR=/colo-out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb COLO_IN_VM=1 COLO_OUT=$OUTDIR

REPO=$(cd "$(dirname "$0")/../../.." && pwd)

mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
# The tree under test may live below a directory that just got a tmpfs (a CI
# clone in /tmp): mount it again at its own path, writable in memory only.
mkdir -p /run/colo-repo/lower /run/colo-repo/upper /run/colo-repo/work "$REPO"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 repo /run/colo-repo/lower
mount -t overlay overlay -o lowerdir=/run/colo-repo/lower,upperdir=/run/colo-repo/upper,workdir=/run/colo-repo/work "$REPO"
mkdir -p /dev/pts /dev/shm
# devtmpfs has no /dev/fd; bash process substitution needs it.
ln -sfn /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up
hostname colo-test
ulimit -c 0

command=$(cat "$OUTDIR/command")
dmesg | grep -m1 'Linux version' | sed 's/^/vm: /'
echo "vm: $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s; running: $command"
cd /
bash -c "$command"
rc=$?

dmesg > "$OUTDIR/dmesg.log"
if [ $rc -eq 0 ]; then
	echo "pass" > "$OUTDIR/verdict"
else
	echo "fail exit=$rc" > "$OUTDIR/verdict"
fi
sync
# Power off synchronously (busybox calls reboot(2) itself). init must not
# exit meanwhile, or the kernel panics: wait with shell builtins only, as
# programs can no longer be loaded once the file systems go away.
/bin/busybox poweroff -f
echo o > /proc/sysrq-trigger
while :; do
	read -r -t 1 < /dev/console || :
done
