#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Load the three modules the way an operator would and show what each one
# registers with the kernel.
. "$(dirname "$0")/../selftests/colo/lib.sh"
set -e
echo "Loading colo_proxy, colo_blk and colo_ckpt into $(uname -r):"
for m in colo_proxy colo_blk colo_ckpt; do
	load_module $m
	printf '  %-10s version %s, %s\n' $m "$(modinfo -F vermagic "$(module_path $m)" | cut -d' ' -f1)" \
		"$(modinfo -F description "$(module_path $m)")"
done
echo
echo "generic netlink family:"
genl ctrl get name colo_proxy | sed -n '1,3p' | sed 's/^/  /'
echo "device-mapper target:"
dmsetup targets | grep '^colo ' | sed 's/^/  /'
echo "RAM control device:"
ls -l /dev/colo_ckpt | sed 's/^/  /'
for m in colo_ckpt colo_blk colo_proxy; do
	unload_module $m
done
echo "All three unloaded cleanly."
