# SPDX-License-Identifier: GPL-2.0
# Which installed kernel to build against and boot: KVER= or KDIR= override,
# else the newest /boot/vmlinuz-* whose headers are installed too.

colo_kernel_version()
{
	local v best=

	if [ -n "${KVER:-}" ]; then
		echo "$KVER"
		return
	fi
	if [ -n "${KDIR:-}" ] && [ -f "$KDIR/include/config/kernel.release" ]; then
		cat "$KDIR/include/config/kernel.release"
		return
	fi
	for v in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V); do
		[ -d "/lib/modules/$v/build" ] && best=$v
	done
	if [ -z "$best" ]; then
		echo "no kernel with headers found (run scripts/setup.sh)" >&2
		return 1
	fi
	echo "$best"
}
