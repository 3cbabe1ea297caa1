#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The end-to-end guest on the modules: started from its snapshot with RAM on
# a colo_ckpt object, its disk on a colo secondary over a loop device, its
# NIC on a tap bridged to a client namespace.
#
#   cli: c0 10.0.0.1 --veth-- host: [br0: b0, tap0] --tap-- guest 10.0.0.2
#                                                            |      |
#                              /dev/colo_ram/gw (RAM) -------+      |
#                              colo secondary gw-svm over loop (disk)
#
# Checks: the deterministic stream byte-exact, echo; the disk writer's
# acknowledged records are not on the base before failover and are all on
# it after; the memory writer's pages are caught by colo_ckpt. Prints the
# start-up time and the workload's rates.
. "$(dirname "$0")/guest_lib.sh"

guest_require
# not through t_check, which runs in a subshell: GUEST_WORK must stay set
if guest_setup; then t_ok "modules and work directory"; else t_fail "modules and work directory"; t_done; fi
t_check "colo_ckpt loads" load_module colo_ckpt || t_done
on_exit "rmmod colo_ckpt"
t_check "colo_blk loads" load_module colo_blk || t_done
on_exit "rmmod colo_blk"
export DM_DISABLE_UDEV=1

COLOCTL="$REPO/tools/coloctl/coloctl"
t_check "RAM object gw of ${GUEST_RAM_MB} MiB" "$COLOCTL" ram create gw "${GUEST_RAM_MB}M" || t_done
on_exit "'$COLOCTL' ram destroy gw"
BASE=$(guest_loop base)
on_exit "losetup -d $BASE"
SECTORS=$(blockdev --getsz "$BASE")
t_check "colo secondary gw-svm over $BASE" \
	dmsetup create gw-svm --table "0 $SECTORS colo secondary gw $BASE 32m" || t_done
on_exit "dmsetup remove gw-svm"
t_check "namespaces host and cli, tap0 bridged to the client" guest_net host tap0 cli || t_done

guest_start gw host tap0 /dev/colo_ram/gw /dev/mapper/gw-svm
t_check "guest up from the snapshot" guest_wait_up gw || t_done
echo "# start-up from the snapshot to the workload's first answer: $(cat "$GUEST_WORK/gw/up_ms") ms"
t_check "QEMU maps the RAM object" test "$(cat /sys/class/colo_ckpt/gw/mappings)" -ge 1

t_check "the client reaches the guest" \
	wait_for 60 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 1 16
out=$(ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 42 1048576 4 2>&1)
t_check "deterministic stream: 4 x 1 MiB byte-exact" test $? = 0
echo "# stream: $out"
out=$(ip netns exec cli "$GUEST_CTL" echo 10.0.0.2 262144 2>&1)
t_check "echo: 256 KiB back byte-exact" test $? = 0
echo "# echo: $out"
t_check "the guest counted the requests" guest_stat_at_least gw served 4

# Disk writer: records go to the SVM face, which buffers them until failover.
t0=$(date +%s%N)
t_check "disk writer starts" guest_ask gw "disk 50"
t_check "the disk writer has 40 acknowledged records" \
	wait_for 120 guest_stat_at_least gw acked 40
t_check "disk writer stops" guest_ask gw "disk 0"
acked=$(guest_stat gw acked)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
t_check "every issued record was acknowledged, no write error" \
	test "$(guest_stat gw records)" = "$acked" -a "$(guest_stat gw disk_errors)" = 0
echo "# disk writer: $acked records acknowledged in ${dt} ms ($(( acked * 1000 / (dt > 0 ? dt : 1) )) records/s, asked for 50/s)"
t_check "the secondary buffers the records" \
	sh -c "dmsetup status gw-svm | grep -Eq 'svm_sectors=[1-9]'"
t_check "before failover the base holds none of them" \
	fails_with "is not on" "$GUEST_CTL" records "$BASE" "$acked"

# Memory writer: after a collect, colo_ckpt finds each page it dirtied.
t_check "collect empties the dirty set" "$COLOCTL" ram collect gw
t0=$(date +%s%N)
t_check "memory writer at 500 pages/s" guest_ask gw "mem 500"
t_check "the guest dirtied 1000 pages" wait_for 120 guest_stat_at_least gw mem_pages 1000
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
pages=$(guest_stat gw mem_pages)
guest_ask gw "mem 0" > /dev/null
dirty=$(cat /sys/class/colo_ckpt/gw/dirty_pages)
echo "# memory writer: $pages pages in ${dt} ms ($(( pages * 1000 / (dt > 0 ? dt : 1) )) pages/s); colo_ckpt: $dirty dirty pages"
t_check "colo_ckpt has at least the 1000 pages dirty" test "$dirty" -ge 1000

t_check "QEMU quits" guest_qmp gw quit
t_check "QEMU exited" wait_for 60 sh -c "! kill -0 $(cat "$GUEST_WORK/gw/pid")"
t_check "failover of gw-svm commits the buffers" dmsetup message gw-svm 0 failover
out=$("$GUEST_CTL" records "$BASE" "$acked" 2>&1)
t_check "after failover every acknowledged record is on the base" test $? = 0
echo "# records: $out"
t_done
