#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_blk for an operator: a primary disk forwarding over its own NBD client
# (127.0.0.1) to a secondary; the SVM's own view; a checkpoint making both disks equal; a
# failover leaving in the base what the SVM saw. Loop devices over tmpfs.
. "$(dirname "$0")/../selftests/colo/blk_lib.sh"
set -e
# show COMMAND...: print it as an operator would type it, run it, indent
# its output.
show()
{
	local arg line="  \$"
	for arg in "$@"; do
		case "$arg" in
		*" "*) line="$line \"$arg\"" ;;
		*) line="$line $arg" ;;
		esac
	done
	echo "$line"
	"$@" 2>&1 | sed 's/^/    /'
}
sum()
{
	blk_sum "$1" | cut -c1-12
}

blk_setup
BASE=$(blk_loop secondary-disk 16)
LOCAL=$(blk_loop primary-disk 16)
S=$(blk_sectors "$BASE")
"$BLK_IO" fill "$BASE" 0 "$S" 1
"$BLK_IO" fill "$LOCAL" 0 "$S" 1
echo "Two 16 MiB disks with the same content: secondary $BASE, primary $LOCAL."
echo
echo "Secondary host: the SVM's disk and the replica face bound to it by name,"
echo "which serves itself over NBD to the primary's address alone."
show dmsetup create svm --table "0 $S colo secondary vm1 $BASE 8m 2 event_percent 50"
show dmsetup create svm-replica --table "0 $S colo replica vm1 $BASE 4 nbd_listen 127.0.0.1:10897 nbd_peer 127.0.0.1"
echo
echo "Primary host: the PVM's disk, forwarding to that export with its own NBD client"
echo "(as colod loads it; writes of 64 KiB and more go from the PVM's pages, uncopied)."
show dmsetup create pvm --table "0 $S colo primary $LOCAL nbd://127.0.0.1:10897/vm1 4 max_inflight 32 sync_from 64k"
echo
echo "The PVM writes 1 MiB (pattern 2); the SVM writes 64 KiB elsewhere (pattern 3)."
"$BLK_IO" fill /dev/mapper/pvm 0 2048 2
"$BLK_IO" fill /dev/mapper/svm 8192 128 3
show dmsetup message pvm 0 checkpoint
show dmsetup status pvm
show dmsetup status svm-replica
show dmsetup status svm
echo "  checksums: primary disk $(sum "$LOCAL"), secondary base $(sum "$BASE"), SVM view $(sum /dev/mapper/svm)"
echo "  the base already has the PVM's data; the SVM still sees the last checkpoint plus its own write."
echo
echo "Checkpoint on the secondary: the SVM's writes and the pre-images are dropped."
show dmsetup message svm 0 checkpoint
echo "  checksums: primary disk $(sum "$LOCAL"), SVM view $(sum /dev/mapper/svm) (equal)"
echo
echo "Next interval: PVM writes (pattern 4), SVM writes (pattern 5); then the primary dies."
"$BLK_IO" fill /dev/mapper/pvm 4096 256 4
"$BLK_IO" fill /dev/mapper/svm 4200 256 5
dmsetup message pvm 0 checkpoint
svm_view=$(sum /dev/mapper/svm)
show dmsetup message svm 0 failover
show dmsetup status svm
echo "  SVM view before failover $svm_view, secondary base now $(sum "$BASE") (equal: the SVM's disk is the disk)"
show dmsetup table svm
blk_teardown
echo "Devices removed, colo_blk unloaded."
