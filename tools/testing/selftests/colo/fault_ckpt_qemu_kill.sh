#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault: QEMU is killed (SIGKILL) while its guest RAM is a colo_ckpt object.
# The object must survive with its data and a clean state (no mapping left,
# collect and destroy work), and the module must unload without warnings.
# The guest is only the firmware (no disk, no kernel): it still writes RAM.
. "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"
SYSFS=/sys/class/colo_ckpt

t_check "colo_ckpt loads" load_module colo_ckpt || t_done
t_check "create a 64 MiB object for the guest" "$COLOCTL" ram create victim 64M || t_done
work=$(mktemp -d)
on_exit "rm -rf '$work'"

qemu-system-x86_64 -M pc -m 64 -display none -nodefaults -serial none -monitor none \
	-object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/victim,share=on,size=64M \
	-machine memory-backend=ram0 > "$work/qemu.log" 2>&1 &
qemu=$!
on_exit "kill -9 $qemu"

t_check "QEMU maps the object" wait_for 60 sh -c 'test "$(cat /sys/class/colo_ckpt/victim/mappings)" -ge 1'
t_check "the firmware's writes show up as dirty pages" \
	wait_for 60 sh -c 'test "$(cat /sys/class/colo_ckpt/victim/dirty_pages)" -gt 0'
kill -9 $qemu
t_check "QEMU is gone after SIGKILL" wait_for 30 sh -c "! kill -0 $qemu"
t_check "no mapping of the object is left" wait_for 10 sh -c 'test "$(cat /sys/class/colo_ckpt/victim/mappings)" = 0'
t_check "collect still works on the orphaned object" "$COLOCTL" ram collect victim
t_check "info reports it clean after the collect" \
	test "$(cat $SYSFS/victim/dirty_pages)" = 0
t_check "destroy works" "$COLOCTL" ram destroy victim
t_check "module reference count back to 0" test "$(cat /sys/module/colo_ckpt/refcnt)" = 0
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_done
