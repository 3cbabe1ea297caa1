#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the end-to-end test guest into its cache (see guest.sh): a kernel
# from Debian's linux-source-6.1 (tinyconfig + kernel.config), an initramfs
# of busybox-static and colo-guestd, and a warm-start snapshot: the guest
# booted once on this machine's QEMU and migrated to a file, which tests
# start from with -incoming in seconds instead of a nested boot. Each part
# is built only when its cache entry is missing; the kernel takes minutes,
# the rest seconds.
#
# Usage: build.sh [--check]    --check: only say whether all is built
set -euo pipefail
# shellcheck source=tools/testing/guest/guest.sh
. "$(dirname "$0")/guest.sh"

if [ "${1:-}" = --check ]; then
	guest_check_images && echo "guest images up to date in $GUEST_CACHE"
	exit
fi

guest_paths
mkdir -p "$GUEST_CACHE"
JOBS=$(nproc)
TMPDIRS=()
QEMU_PID=
trap '[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null; rm -rf "${TMPDIRS[@]}"' EXIT

# scratch NAME: sets tmp to a new temporary directory in the cache, removed
# on exit.
scratch()
{
	tmp=$(mktemp -d "$GUEST_CACHE/.$1.XXXXXX")
	TMPDIRS+=("$tmp")
}

# publish TMPDIR FINAL: a finished build becomes visible in one rename.
publish()
{
	rm -rf "$2"
	mv "$1" "$2"
}

build_kernel()
{
	local tmp src opt
	scratch kernel
	echo "guest: building the kernel (tinyconfig + kernel.config, a few minutes)"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$tmp"
	src=$tmp/linux-source-6.1
	make -s -C "$src" tinyconfig > "$tmp/config.log" 2>&1
	(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$GUEST_DIR/kernel.config") \
		>> "$tmp/config.log" 2>&1
	make -s -C "$src" olddefconfig >> "$tmp/config.log" 2>&1
	for opt in $(grep -o '^CONFIG_[A-Z0-9_]*=y' "$GUEST_DIR/kernel.config"); do
		if ! grep -qx "$opt" "$src/.config"; then
			echo "guest: kernel.config asks for $opt but the kernel refused it (a dependency is missing)" >&2
			return 1
		fi
	done
	if ! make -s -C "$src" -j"$JOBS" bzImage > "$tmp/build.log" 2>&1; then
		tail -30 "$tmp/build.log" >&2
		return 1
	fi
	mkdir "$tmp/out"
	cp "$src/arch/x86/boot/bzImage" "$src/.config" "$tmp/out/"
	publish "$tmp/out" "$(dirname "$GUEST_KERNEL")"
}

build_initrd()
{
	local tmp root
	scratch initrd
	echo "guest: building the initramfs"
	root=$tmp/root
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp} "$tmp/out"
	cp /bin/busybox "$root/bin/busybox"
	gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$root/sbin/colo-guestd" \
		"$GUEST_DIR/colo-guestd.c"
	install -m 0755 "$GUEST_DIR/init" "$root/init"
	(cd "$root" && find . | sort | cpio -o -H newc --quiet --reproducible) |
		gzip -9 -n > "$tmp/out/initrd.gz"
	publish "$tmp/out" "$(dirname "$GUEST_INITRD")"
}

build_snapshot()
{
	local tmp took
	scratch snapshot
	echo "guest: booting the guest once to snapshot it"
	mkdir "$tmp/out"
	truncate -s "${GUEST_DISK_MB}M" "$tmp/disk"
	truncate -s "${GUEST_RAM_MB}M" "$tmp/ram"
	guest_qemu_args "$tmp/ram" "$tmp/disk" "hubport,id=net0,hubid=0" \
		"$tmp/control.sock" "$tmp/console.log" "$tmp/qmp.sock"
	qemu-system-x86_64 "${GUEST_QEMU_ARGS[@]}" > "$tmp/qemu.log" 2>&1 &
	QEMU_PID=$!
	if ! took=$("$GUEST_DIR/build/colo-guest-ctl" wait "$tmp/control.sock" 120); then
		echo "guest: the guest did not come up within 120 s; its console:" >&2
		tail -30 "$tmp/console.log" "$tmp/qemu.log" >&2
		return 1
	fi
	echo "guest: workload up ${took}s after start; saving the snapshot"
	"$GUEST_DIR/qmp.py" "$tmp/qmp.sock" migrate "{\"uri\": \"exec:cat > $tmp/out/state\"}" \
		-- wait-migration -- quit > "$tmp/migrate.log"
	wait "$QEMU_PID" || true
	QEMU_PID=
	cp "$tmp/console.log" "$tmp/out/boot-console.log"
	publish "$tmp/out" "$(dirname "$GUEST_SNAPSHOT")"
}

make -s -C "$GUEST_DIR"
[ -s "$GUEST_KERNEL" ] || build_kernel
[ -s "$GUEST_INITRD" ] || build_initrd
[ -s "$GUEST_SNAPSHOT" ] || build_snapshot
guest_check_images
echo "guest: kernel $(stat -c %s "$GUEST_KERNEL") B, initramfs $(stat -c %s "$GUEST_INITRD") B," \
	"snapshot $(stat -c %s "$GUEST_SNAPSHOT") B in $GUEST_CACHE"
