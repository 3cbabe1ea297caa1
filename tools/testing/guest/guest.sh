# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The end-to-end test guest, as the build, the tests and colod's demo see
# it: where its images are cached, how their cache keys are computed, and
# the one QEMU command line that both the snapshot and every later start
# use. Sourced, never run.
#
# Cache layout (keys are sha256 prefixes of everything that goes in):
#   $GUEST_CACHE/kernel-<key>/bzImage      kernel.config + linux-source-6.1
#   $GUEST_CACHE/initrd-<key>/initrd.gz    colo-guestd, init, busybox-static
#   $GUEST_CACHE/snapshot-<key>/state      both of those + QEMU + this file
# A build writes into a temporary directory and renames it into place, so a
# directory that exists is complete.

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_CACHE=${COLO_GUEST_CACHE:-/var/cache/colo-guest}
GUEST_RAM_MB=64
GUEST_DISK_MB=64
GUEST_IP=10.0.0.2
GUEST_MAC=52:54:00:c0:10:02
# The client the guest talks to has a fixed address and MAC, and the guest a
# static neighbour entry for it: under COLO the two guests' ARP traffic is
# not replicated (colo-proxy guide), so it must not be needed.
GUEST_CLIENT_IP=10.0.0.1
GUEST_CLIENT_MAC=52:54:00:c0:10:01
GUEST_APPEND="console=ttyS0 quiet reboot=t panic=-1"

guest_hash()
{
	sha256sum | cut -c1-16
}

guest_pkg_version()
{
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "no-$1"
}

guest_kernel_key()
{
	{
		cat "$GUEST_DIR/kernel.config"
		guest_pkg_version linux-source-6.1
		gcc --version | head -1
	} | guest_hash
}

guest_initrd_key()
{
	{
		cat "$GUEST_DIR/colo-guestd.c" "$GUEST_DIR/pattern.h" "$GUEST_DIR/init" \
			"$GUEST_DIR/build.sh"
		guest_pkg_version busybox-static
		gcc --version | head -1
	} | guest_hash
}

guest_snapshot_key()
{
	{
		guest_kernel_key
		guest_initrd_key
		cat "${BASH_SOURCE[0]}"
		guest_pkg_version qemu-system-x86
	} | guest_hash
}

# Sets GUEST_KERNEL, GUEST_INITRD and GUEST_SNAPSHOT to where the current
# sources' images are (or will be).
guest_paths()
{
	GUEST_KERNEL=$GUEST_CACHE/kernel-$(guest_kernel_key)/bzImage
	GUEST_INITRD=$GUEST_CACHE/initrd-$(guest_initrd_key)/initrd.gz
	GUEST_SNAPSHOT=$GUEST_CACHE/snapshot-$(guest_snapshot_key)/state
}

# guest_device_args CONTROL_SOCKET CONSOLE_LOG: fills the array
# GUEST_DEVICE_ARGS with the guest's machine, devices and kernel: what a
# colod configuration's [qemu] args holds. Its devices use the backends
# that colod adds under fixed ids (ram0, disk0, net0). The virtio devices
# are legacy-only (disable-modern): a modern virtio-pci device saves the
# state of all 1024 possible queues twice over, and in the benchmark those
# two devices took most of the PVM's device-state save, 8-40 ms of each
# checkpoint's pause (colod.rst, "Device state").
guest_device_args()
{
	guest_paths
	GUEST_DEVICE_ARGS=(
		-M pc -cpu qemu64 -smp 1
		-nodefaults -no-user-config -display none -no-reboot
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$GUEST_APPEND"
		-device virtio-blk-pci,drive=disk0,disable-modern=on
		-device "virtio-net-pci,netdev=net0,mac=$GUEST_MAC,disable-modern=on"
		-chardev "file,id=console,path=$2" -serial chardev:console
		-chardev "socket,id=control,path=$1,server=on,wait=off" -serial chardev:control
	)
}

# guest_qemu_args RAM_PATH DISK NETDEV CONTROL_SOCKET CONSOLE_LOG QMP_SOCKET
# Fills the array GUEST_QEMU_ARGS with the guest's command line (without
# the binary and without -incoming): the devices above and the backends as
# colod gives them. RAM_PATH is any file QEMU can map shared: a file on
# tmpfs, or /dev/colo_ram/<name>. DISK is a raw file or block device of
# GUEST_DISK_MB. NETDEV is a -netdev value with id=net0. The NIC runs
# without vnet headers (no offloads): that is what the snapshot's guest
# negotiated, whatever backend a later start uses.
guest_qemu_args()
{
	guest_device_args "$4" "$5"
	GUEST_QEMU_ARGS=(
		"${GUEST_DEVICE_ARGS[@]}"
		-m "${GUEST_RAM_MB}M"
		-object "memory-backend-file,id=ram0,mem-path=$1,share=on,size=${GUEST_RAM_MB}M"
		-machine memory-backend=ram0
		-drive "if=none,id=disk0,file=$2,format=raw,cache=none,file.locking=off"
		-netdev "$3"
		-qmp "unix:$6,server=on,wait=off"
	)
}

# guest_check_images: 0 if kernel, initrd and snapshot of the current
# sources are all built; otherwise says which is missing and how to build.
guest_check_images()
{
	local f
	guest_paths
	for f in "$GUEST_KERNEL" "$GUEST_INITRD" "$GUEST_SNAPSHOT"; do
		if [ ! -s "$f" ]; then
			echo "guest image missing or stale: $f (the sources changed or it was never built); run 'make guest' on the host" >&2
			return 1
		fi
	done
}
