#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt dirty tracking through a real mapping: exact dirty sets from
# several writer threads, writes racing with collects never lost, mappings
# outliving close and destroy, a node's filesystem unmounted under a live
# object, a page held by an O_DIRECT read across a collect, read/write/
# restore bytes (ckpt_track.c).
. "$(dirname "$0")/lib.sh"

# no udev in the test VM: dmsetup makes the /dev/mapper node itself
export DM_DISABLE_UDEV=1
DELAY=ckpt-track-delay

# delay_dev: a 1 MiB ram disk filled with 0xa5 behind dm-delay, reads
# held for 2 s, so that an O_DIRECT read is still in flight when the test
# collects.
delay_dev()
{
	modprobe brd rd_nr=1 rd_size=1024 || return 1
	on_exit "rmmod brd"
	modprobe dm-delay || return 1
	head -c 1048576 /dev/zero | tr '\0' '\245' | dd of=/dev/ram0 bs=1M oflag=direct status=none ||
		return 1
	dmsetup create $DELAY --table "0 $(blockdev --getsz /dev/ram0) delay /dev/ram0 0 2000" ||
		return 1
	on_exit "dmsetup remove $DELAY"
}

busy_inodes()
{
	dmesg | grep -c "Busy inodes after unmount"
}

t_check "colo_ckpt loads" load_module colo_ckpt || t_done
on_exit "rmmod colo_ckpt"
t_check "control device /dev/colo_ckpt exists" test -c /dev/colo_ckpt
busy=$(busy_inodes)
if delay_dev; then
	t_ok "delayed ram disk for the held-page test"
	run_tap timeout 300 "$SELFTESTS/ckpt_track" 5 /dev/mapper/$DELAY
else
	t_fail "delayed ram disk for the held-page test"
	run_tap timeout 300 "$SELFTESTS/ckpt_track" 5
fi
t_check "no object left behind" test "$(cat /sys/class/colo_ckpt/objects)" = 0
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_check "no busy inode left at any unmount (the node's tmpfs, the module's own)" \
	test "$(busy_inodes)" = "$busy"
t_done
