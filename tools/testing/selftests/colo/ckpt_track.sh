#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt dirty tracking through a real mapping: exact dirty sets from
# several writer threads, writes racing with collects never lost, mappings
# outliving close and destroy, read/write/restore bytes (ckpt_track.c).
. "$(dirname "$0")/lib.sh"

t_check "colo_ckpt loads" load_module colo_ckpt || t_done
on_exit "rmmod colo_ckpt"
t_check "control device /dev/colo_ckpt exists" test -c /dev/colo_ckpt
run_tap timeout 300 "$SELFTESTS/ckpt_track" 5
t_check "no object left behind" test "$(cat /sys/class/colo_ckpt/objects)" = 0
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_done
