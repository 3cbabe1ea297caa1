#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt dirty tracking through a real mapping: exact dirty sets from
# several writer threads, writes racing with collects never lost, mappings
# outliving close and destroy, read/write/restore bytes (ckpt_track.c).
. "$(dirname "$0")/lib.sh"

# run_tap PROG ARGS...: fold a helper's TAP lines into this script's count.
run_tap()
{
	local out line rc
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	while read -r line; do
		case "$line" in
		"ok "*) t_ok "${line#ok * - }" ;;
		"not ok "*) t_fail "${line#not ok * - }" ;;
		*) echo "# $line" ;;
		esac
	done < "$out"
	rm -f "$out"
	[ $rc = 0 ] || t_fail "$(basename "$1") exited with status $rc"
}

t_check "colo_ckpt loads" load_module colo_ckpt || t_done
on_exit "rmmod colo_ckpt"
t_check "control device /dev/colo_ckpt exists" test -c /dev/colo_ckpt
run_tap timeout 300 "$SELFTESTS/ckpt_track" 5
t_check "no object left behind" test "$(cat /sys/class/colo_ckpt/objects)" = 0
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_done
