#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt bad input and teardown: malformed ioctls (ckpt_badinput.c),
# the memory limit, coloctl ram's errors, and module unload while objects
# exist (refused while one is open or mapped, clean teardown otherwise).
. "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"

t_check "colo_ckpt loads with max_bytes=64 MiB" load_module colo_ckpt max_bytes=67108864 || t_done
on_exit "rmmod colo_ckpt"
run_tap "$SELFTESTS/ckpt_badinput"

# The limit: 64 MiB in total, adjustable at run time.
t_check "coloctl creates a 48 MiB object" "$COLOCTL" ram create a 48M
t_check "a second 32 MiB object exceeds max_bytes: ENOSPC with the reason" \
	fails_with "limit would be exceeded" "$COLOCTL" ram create b 32M
t_check "committed_bytes shows 48 MiB" test "$(cat /sys/class/colo_ckpt/committed_bytes)" = 50331648
echo 134217728 > /sys/module/colo_ckpt/parameters/max_bytes
t_check "after raising max_bytes it fits" "$COLOCTL" ram create b 32M
t_check "coloctl: unaligned size refused with the reason" \
	fails_with "multiple of the page size" "$COLOCTL" ram create c 4097
t_check "coloctl: bad size string refused" fails_with "bad size" "$COLOCTL" ram create c 12Q
t_check "coloctl: an unaligned size is named as the fault, with the page size" \
	fails_with "size 5000 is not a multiple of the page size 4096" "$COLOCTL" ram create odd 5000
t_check "coloctl: size 0 is named as the fault" \
	fails_with "the size is 0" "$COLOCTL" ram create odd 0
t_check "coloctl: a bad character is named as the fault" \
	fails_with "character ' ' in the name" "$COLOCTL" ram create "a b" 4K
t_check "coloctl: a leading dot is named as the fault" \
	fails_with "the name starts with '.'" "$COLOCTL" ram resize .a 4K
t_check "coloctl: duplicate name" fails_with "File exists" "$COLOCTL" ram create a 4K
t_check "coloctl: unknown object" fails_with "No such file" "$COLOCTL" ram destroy zz
t_check "coloctl: name with a slash" fails_with "Invalid argument" "$COLOCTL" ram create x/y 4K
t_check "coloctl ram list --json lists both" \
	sh -c "'$COLOCTL' ram list --json | grep -q '\"name\":\"a\".*\"name\":\"b\"'"
t_check "coloctl ram collect on a fresh object prints nothing" \
	test -z "$("$COLOCTL" ram collect a)"

# Unload while an object is open, then while it is only mapped.
exec 5<> /dev/colo_ram/a
t_check "rmmod refused while an object's node is open" fails_with "in use" rmmod colo_ckpt
exec 5>&-
coproc HOLD { "$SELFTESTS/ckpt_badinput" hold b; }
read -r ready <&"${HOLD[0]}"
t_check "holder mapped object b and closed its fd ($ready)" test "$ready" = ready
t_check "object b reports 1 mapping" test "$(cat /sys/class/colo_ckpt/b/mappings)" = 1
t_check "destroy of a mapped object succeeds" "$COLOCTL" ram destroy b
t_check "its node is gone" test ! -e /dev/colo_ram/b
t_check "rmmod refused while a destroyed object is still mapped" fails_with "in use" rmmod colo_ckpt
t_check "its memory is still accounted" test "$(cat /sys/class/colo_ckpt/committed_bytes)" = 83886080
eval "exec ${HOLD[1]}>&-"
wait "$HOLD_PID"
t_check "memory released when the holder unmaps" \
	wait_for 5 test "$(cat /sys/class/colo_ckpt/committed_bytes)" = 50331648

# Objects that nobody uses are torn down by unload.
t_check "rmmod with an unused object left succeeds" unload_module colo_ckpt
t_check "its node went with it" test ! -e /dev/colo_ram/a
t_check "colo_ckpt loads again" load_module colo_ckpt
t_check "with no objects" test "$(cat /sys/class/colo_ckpt/objects)" = 0
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_done
