#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Each module loads, registers what it owns, and unloads cleanly, repeatedly;
# then "make modules_install" (the module part of "make install") into the
# running kernel's tree (the VM's root is a tmpfs overlay) leaves modules
# that modprobe finds by name, with the kernel modules they need, and that
# work and unload.
. "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"

genl_family_present()
{
	# The controller lists every registered generic netlink family.
	genl ctrl list 2>/dev/null | grep -q "Name: $1\$" ||
		genl ctrl get name "$1" > /dev/null 2>&1
}

dm_target_present()
{
	dmsetup targets | grep -q "^$1 "
}

for round in 1 2; do
	t_check "round $round: colo_proxy loads" load_module colo_proxy
	t_check "round $round: colo_proxy registers generic netlink family colo_proxy" \
		genl_family_present colo_proxy
	t_check "round $round: colo_proxy unloads" unload_module colo_proxy
	if genl_family_present colo_proxy; then
		t_fail "round $round: family colo_proxy gone after unload"
	else
		t_ok "round $round: family colo_proxy gone after unload"
	fi

	t_check "round $round: colo_blk loads" load_module colo_blk
	t_check "round $round: colo_blk registers dm target colo" dm_target_present colo
	t_check "round $round: colo_blk unloads" unload_module colo_blk
	if dm_target_present colo; then
		t_fail "round $round: dm target colo gone after unload"
	else
		t_ok "round $round: dm target colo gone after unload"
	fi

	t_check "round $round: colo_ckpt loads" load_module colo_ckpt
	t_check "round $round: colo_ckpt creates /dev/colo_ckpt" test -c /dev/colo_ckpt
	t_check "round $round: colo_ckpt unloads" unload_module colo_ckpt
	if [ -e /dev/colo_ckpt ]; then
		t_fail "round $round: /dev/colo_ckpt gone after unload"
	else
		t_ok "round $round: /dev/colo_ckpt gone after unload"
	fi
done

# modinfo -n is the file modprobe would load: the installed copy, not the
# build tree's.
installed()
{
	case "$(modinfo -n "$1")" in
	"/lib/modules/$(uname -r)/extra/"*) return 0 ;;
	*) echo "modprobe resolves $1 to '$(modinfo -n "$1" 2>&1)'"; return 1 ;;
	esac
}

blk_use()
{
	local img dev rc
	img=$(mktemp /tmp/colo-install.XXXXXX)
	truncate -s 4M "$img"
	dev=$(losetup -f --show "$img") || return 1
	dmsetup create colo-install --table "0 8192 colo secondary inst $dev 1m"
	rc=$?
	[ $rc -eq 0 ] && { dmsetup status colo-install; rc=$?; dmsetup remove colo-install; }
	losetup -d "$dev"
	rm -f "$img"
	return $rc
}

ckpt_use()
{
	"$COLOCTL" ram create inst 64K && test -c /dev/colo_ram/inst &&
		"$COLOCTL" ram destroy inst
}

# The kernel modules ours need are unloaded first (as after a boot), so
# that modprobe has to find them through modules.dep.
modprobe -r ip6_udp_tunnel udp_tunnel dm_mod 2> /dev/null
export DM_DISABLE_UDEV=1
modprobe loop
# Afterwards the tree is as before: our files gone, the index files of the
# kernel's own modules back (copied: quicker than a second depmod).
tree="/lib/modules/$(uname -r)"
index=$(mktemp -d /tmp/colo-index.XXXXXX)
cp -p "$tree"/modules.* "$index"
on_exit "rm -rf '$tree/extra/kernel/colo_proxy' '$tree/extra/kernel/colo_blk' \
	'$tree/extra/kernel/colo_ckpt'; cp -p '$index'/modules.* '$tree'; rm -rf '$index'"
on_exit "modprobe -r colo_proxy colo_blk colo_ckpt"
if t_check "make modules_install into /lib/modules/$(uname -r)" \
	make -s -C "$REPO" modules_install; then
	t_check "installed colo_proxy: modprobe loads it and udp_tunnel, ip6_udp_tunnel" \
		sh -c 'modprobe colo_proxy && test -d /sys/module/udp_tunnel -a -d /sys/module/ip6_udp_tunnel'
	t_check "installed colo_proxy is the one loaded" installed colo_proxy
	t_check "installed colo_proxy: coloctl proxy show answers" "$COLOCTL" proxy show
	t_check "installed colo_proxy: modprobe -r" modprobe -r colo_proxy
	t_check "installed colo_blk: modprobe loads it and dm_mod" \
		sh -c 'modprobe colo_blk && test -d /sys/module/dm_mod'
	t_check "installed colo_blk is the one loaded" installed colo_blk
	t_check "installed colo_blk: a secondary table works" blk_use
	t_check "installed colo_blk: modprobe -r" modprobe -r colo_blk
	t_check "installed colo_ckpt: modprobe loads it" modprobe colo_ckpt
	t_check "installed colo_ckpt is the one loaded" installed colo_ckpt
	t_check "installed colo_ckpt: an object is created and destroyed" ckpt_use
	t_check "installed colo_ckpt: modprobe -r" modprobe -r colo_ckpt
	for m in colo_proxy colo_blk colo_ckpt; do
		if module_loaded $m; then
			t_fail "$m gone after modprobe -r"
		else
			t_ok "$m gone after modprobe -r"
		fi
	done
fi
t_done
