#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the small initramfs that mounts the host's root over 9p and hands over
# to guest-init.sh. Usage: mkinitrd.sh KVER OUTPUT.gz
set -euo pipefail

KVER=$1
OUTPUT=$2
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BUSYBOX=$(command -v busybox)
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	[ -x /bin/busybox ] && BUSYBOX=/bin/busybox
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,lib/modules,proc,sys,dev,lower,upper,newroot}
cp "$BUSYBOX" "$work/bin/busybox"

# The modules the initramfs needs before the host's /lib/modules is
# reachable, in dependency order, each once.
modprobe -S "$KVER" -a --show-depends virtio_pci 9pnet_virtio 9p overlay |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$work/modules.order"
while read -r ko; do
	cp "$ko" "$work/lib/modules/"
done < "$work/modules.order"
sed -i 's|.*/||' "$work/modules.order"

cat > "$work/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in \$(cat /modules.order); do
	insmod /lib/modules/\$m || echo "initramfs: insmod \$m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot
mkdir -p /newroot/colo-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /newroot/colo-out
for d in proc sys dev; do
	mount --move /\$d /newroot/\$d
done
# switch_root, not chroot: it moves the new root onto / as well, so the
# tests run at the root of their mount namespace, as on a booted system; in
# a chroot the kernel refuses to create user namespaces.
exec switch_root /newroot $REPO/tools/testing/vm/guest-init.sh
INIT
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUTPUT"
