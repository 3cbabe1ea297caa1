#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Each module loads, registers what it owns, and unloads cleanly, repeatedly.
. "$(dirname "$0")/lib.sh"

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
t_done
