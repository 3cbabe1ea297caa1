#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_blk: fio throughput and IOPS of the SVM face (secondary) and of the
# primary device (forwarding over NBD to the replica on 127.0.0.1) next to
# the raw loop device, as ratios; time of a secondary checkpoint against the
# buffered size; failover commit throughput against a direct write of the
# same amount to a raw loop device. All devices are loop devices over tmpfs
# in the same VM, measured in the same run. Under TCG absolute numbers mean
# little: read the ratios.
. "$(dirname "$0")/../selftests/colo/blk_lib.sh"
set -e
RUNTIME=${BLK_BENCH_SECONDS:-5}
SIZE_MB=160

blk_setup
modprobe nbd nbds_max=2
RAW=$(blk_loop raw $SIZE_MB)
BASE=$(blk_loop base $SIZE_MB)
LOCAL=$(blk_loop local $SIZE_MB)
S=$(blk_sectors "$BASE")
# make every device fully allocated so no run measures tmpfs page allocation
for d in "$RAW" "$BASE" "$LOCAL"; do
	dd if=/dev/zero of="$d" bs=1M count=$SIZE_MB oflag=direct status=none
done
dmsetup create sec --table "0 $S colo secondary bench $BASE 1g"
dmsetup create rep --table "0 $S colo replica bench $BASE"
blk_nbd_export /dev/mapper/rep 10898 > /dev/null
dmsetup create pri --table "0 $S colo primary $LOCAL /dev/nbd0 4 max_inflight 64 queue_bytes 64m"

# fio_run DEV RW BS DEPTH: prints "KiB/s IOPS"
fio_run()
{
	local out
	out=$(fio --minimal --name=b --filename="$1" --direct=1 --ioengine=libaio \
		--rw="$2" --bs="$3" --iodepth="$4" --size=${SIZE_MB}m \
		--time_based --runtime="$RUNTIME" --randrepeat=0 2> /dev/null)
	case "$2" in
	*read) echo "$out" | awk -F';' '{ print $7, $8 }' ;;
	*) echo "$out" | awk -F';' '{ print $48, $49 }' ;;
	esac
}
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

now_ms()
{
	echo $(( $(date +%s%N) / 1000000 ))
}

echo "--- fio, ${RUNTIME}s per cell, IOPS; ratio = device / raw loop (raw: mean of a run"
echo "    before and one after the others). The primary's"
echo "    guest writes complete locally while copies queue (queue_bytes 64m); 'ckpt ms' is"
echo "    the primary checkpoint right after the cell (draining the queue), 'nbd' the"
echo "    forward path alone (fio on /dev/nbd0 into the replica face): sustained primary"
echo "    writes cannot beat it once the queue is full, hence the pri/nbd column."
printf '%-20s %9s %9s %6s %9s %6s %8s %9s %8s\n' workload "raw" "SVM" ratio "primary" ratio "ckpt ms" "nbd" "pri/nbd"
for w in "randread 4k 16" "read 1M 4" "randwrite 4k 16" "write 1M 4"; do
	set -- $w
	# the baseline is measured before and after the others, and averaged
	read -r _ raw1 <<< "$(fio_run "$RAW" "$1" "$2" "$3")"
	read -r _ svm_iops <<< "$(fio_run /dev/mapper/sec "$1" "$2" "$3")"
	dmsetup message sec 0 checkpoint
	read -r _ pri_iops <<< "$(fio_run /dev/mapper/pri "$1" "$2" "$3")"
	t0=$(now_ms)
	dmsetup message pri 0 checkpoint
	ckpt=$(( $(now_ms) - t0 ))
	read -r _ nbd_iops <<< "$(fio_run /dev/nbd0 "$1" "$2" "$3")"
	# the primary's checkpoint flushes nbd0: nbd-server writes back its
	# page cache of the replica face before the secondary checkpoint
	dmsetup message pri 0 checkpoint
	dmsetup message sec 0 checkpoint
	read -r _ raw2 <<< "$(fio_run "$RAW" "$1" "$2" "$3")"
	raw_iops=$(( (raw1 + raw2) / 2 ))
	printf '%-20s %9s %9s %6s %9s %6s %8s %9s %8s\n' "$1 $2 qd$3" "$raw_iops" \
		"$svm_iops" "$(ratio "$svm_iops" "$raw_iops")" "$pri_iops" \
		"$(ratio "$pri_iops" "$raw_iops")" "$ckpt" "$nbd_iops" \
		"$(ratio "$pri_iops" "$nbd_iops")"
done


echo
echo "--- secondary checkpoint time vs buffered size (SVM writes + pre-images;"
echo "    the 0 row is the cost of running dmsetup itself)"
printf '%-16s %16s %14s\n' "buffered MiB" "buffered_bytes" "checkpoint ms"
for mb in 0 2 16 64 128; do
	half=$((mb / 2))
	if [ $half -gt 0 ]; then
		dd if=/dev/urandom of=/dev/mapper/sec bs=1M count=$half oflag=direct status=none
		dd if=/dev/urandom of=/dev/mapper/rep bs=1M count=$half seek=$half oflag=direct status=none
	fi
	bytes=$(blk_field sec buffered_bytes)
	t0=$(now_ms)
	dmsetup message sec 0 checkpoint
	t1=$(now_ms)
	printf '%-16s %16s %14s\n' "$((2 * half))" "$bytes" "$((t1 - t0))"
done

echo
echo "--- failover commit throughput vs a direct write to a raw loop device"
MB=128
dd if=/dev/urandom of=/dev/mapper/sec bs=1M count=$((MB / 2)) oflag=direct status=none
dd if=/dev/urandom of=/dev/mapper/rep bs=1M count=$((MB / 2)) seek=$((MB / 2)) oflag=direct status=none
bytes=$(blk_field sec buffered_bytes)
t0=$(now_ms)
dmsetup message sec 0 failover
t1=$(now_ms)
commit_ms=$((t1 - t0))
t0=$(now_ms)
dd if=/dev/zero of="$RAW" bs=1M count=$MB oflag=direct conv=fsync status=none
t1=$(now_ms)
raw_ms=$((t1 - t0))
commit_mbs=$(awk -v b="$bytes" -v ms="$commit_ms" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }')
raw_mbs=$(awk -v b=$((MB << 20)) -v ms="$raw_ms" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }')
printf '%-24s %12s %10s %10s\n' "" bytes ms "MiB/s"
printf '%-24s %12s %10s %10s\n' "failover commit" "$bytes" "$commit_ms" "$commit_mbs"
printf '%-24s %12s %10s %10s\n' "raw loop dd oflag=direct" "$((MB << 20))" "$raw_ms" "$raw_mbs"
printf 'ratio commit / raw: %s\n' "$(ratio "$commit_mbs" "$raw_mbs")"
blk_teardown
on_exit true
