#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real QEMU TCG guest with its RAM on a colo_ckpt object (unmodified
# QEMU: memory-backend-file on the object's device node, share=on). The
# guest is a few instructions booted as a multiboot kernel that sweeps a
# counter over 1024 pages; ckpt_qemu.c collects while it runs, stops it over
# QMP, copies its dirty pages through the RAM cache into an SVM object and
# checks the copy is byte-identical.
. "$(dirname "$0")/ckpt_lib.sh"

command -v qemu-system-x86_64 > /dev/null || { echo "# no qemu-system-x86_64"; exit 4; }

WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"

t_check "guest builds (gcc -m32, multiboot ELF)" ckpt_build_guest "$WORK/guest.elf" || t_done

t_check "colo_ckpt loads" load_module colo_ckpt || t_done
on_exit "rmmod colo_ckpt"
t_check "create guest, svm and cache objects of 64 MiB" "$SELFTESTS/ckpt_qemu" setup 16384
on_exit "'$SELFTESTS/ckpt_qemu' teardown"

# QEMU's own checks against the object: size from lseek, shared mapping.
"$REPO/tools/coloctl/coloctl" ram create small 32M
on_exit "'$REPO/tools/coloctl/coloctl' ram destroy small"
t_check "QEMU refuses an object smaller than its size= option" \
	fails_with "does not match 'size' option" timeout 60 qemu-system-x86_64 -M pc -m 64 \
	-nodefaults -display none -kernel "$WORK/guest.elf" -machine memory-backend=ram0 \
	-object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/small,share=on,size=64M
t_check "QEMU with share=off fails: private mappings are refused" \
	fails_with "Invalid argument" timeout 60 qemu-system-x86_64 -M pc -m 32 \
	-nodefaults -display none -kernel "$WORK/guest.elf" -machine memory-backend=ram0 \
	-object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/small,share=off,size=32M
t_check "object small was never written" \
	test "$(cat /sys/class/colo_ckpt/small/resident_pages)" = 0

qemu-system-x86_64 -M pc -m 64 -nographic -nodefaults \
	-object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/guest,share=on,size=64M \
	-machine memory-backend=ram0 \
	-kernel "$WORK/guest.elf" \
	-qmp "unix:$WORK/qmp.sock,server=on,wait=off" > "$WORK/qemu.log" 2>&1 &
QEMU_PID=$!
on_exit "kill $QEMU_PID"

run_tap "$SELFTESTS/ckpt_qemu" run "$WORK/qmp.sock"
t_check "QEMU exits after QMP quit" wait_for 30 sh -c "! kill -0 $QEMU_PID"
sed 's/^/# qemu: /' "$WORK/qemu.log"
t_check "objects destroyed after QEMU exit" \
	"$SELFTESTS/ckpt_qemu" teardown
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_done
