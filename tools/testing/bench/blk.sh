#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_blk: fio throughput and IOPS of the SVM face (secondary) and of the
# primary device (forwarding over NBD to the replica on 127.0.0.1) next to
# the raw loop device, as ratios; the primary's writes against DRBD 8.4's
# protocols A and C (drbd_lib.sh: both nodes in this VM, over 127.0.0.1 as
# the colo pair is), as ratios to the same raw device; time of a secondary checkpoint against the
# buffered size; failover commit throughput against a direct write of the
# same amount to a raw loop device. All devices are loop devices over tmpfs
# in the same VM, measured in the same run. Under TCG absolute numbers mean
# little: read the ratios.
. "$(dirname "$0")/../selftests/colo/blk_lib.sh"
. "$(dirname "$0")/drbd_lib.sh"
set -e
RUNTIME=${BLK_BENCH_SECONDS:-2}
ROUNDS=${BLK_BENCH_ROUNDS:-3}
# "RW BS DEPTH" per fio workload, separated by ';' (a shorter run: only the writes)
# NBD connections from the primary to nbd-server (nbd-client -C)
NBD_CONNS=${BLK_BENCH_NBD_CONNECTIONS:-2}
WORKLOADS=${BLK_BENCH_WORKLOADS:-randread 4k 16;read 1M 4;randwrite 4k 16;write 1M 4}
SIZE_MB=160

blk_setup
modprobe nbd nbds_max=2
RAW=$(blk_loop raw $SIZE_MB)
BASE=$(blk_loop base $SIZE_MB)
LOCAL=$(blk_loop local $SIZE_MB)
LOCAL_K=$(blk_loop local-k $SIZE_MB)
S=$(blk_sectors "$BASE")
# make every device fully allocated so no run measures tmpfs page allocation
for d in "$RAW" "$BASE" "$LOCAL" "$LOCAL_K"; do
	dd if=/dev/zero of="$d" bs=1M count=$SIZE_MB oflag=direct status=none
done
dmsetup create sec --table "0 $S colo secondary bench $BASE 1g"
# The replica is served both ways at once: by nbd-server (10898, /dev/nbd0,
# primary "pri") and by its own server in the kernel (10899, /dev/nbd1,
# primary "kpri" over a local disk of its own), so that both forward paths
# are measured in the same rounds.
dmsetup create rep --table "0 $S colo replica bench $BASE 4 nbd_listen 127.0.0.1:10899 nbd_peer 127.0.0.1"
blk_nbd_export /dev/mapper/rep 10898 "$NBD_CONNS" > /dev/null
dmsetup create pri --table "0 $S colo primary $LOCAL /dev/nbd0 4 max_inflight 64 queue_bytes 64m"
blk_nbd_connect /dev/nbd1 127.0.0.1 10899 -N bench -b 512 -t 10 -C "$NBD_CONNS" > /dev/null
BLK_TEARDOWN_HOOK="nbd-client -d /dev/nbd1 > /dev/null 2>&1; $BLK_TEARDOWN_HOOK"
# requests of up to 1 MiB, as colod sets them (the default is 128 KiB)
echo 1024 > /sys/block/nbd1/queue/max_sectors_kb
dmsetup create kpri --table "0 $S colo primary $LOCAL_K /dev/nbd1 4 max_inflight 64 queue_bytes 64m"
# "kprn": the primary's own NBD client to the replica's server (no nbd1),
# with sync_from 64k (writes of 64 KiB and more forwarded from the guest's
# pages, completing once the replica has them), over the same local disk as
# kpri; the runs take turns, so the two never write at once.
dmsetup create kprn --table "0 $S colo primary $LOCAL_K nbd://127.0.0.1:10899/bench 6 max_inflight 64 queue_bytes 64m sync_from 64k"
# A DRBD pair that cannot be set up (or a run on it that fails) is shown as
# failed in its table; the colo figures do not depend on it.
on_exit drbd_down
DRBD_ERR=
if ! drbd_up $SIZE_MB 2> "$BLK_DIR/drbd.err"; then
	DRBD_ERR=$(tail -1 "$BLK_DIR/drbd.err")
	DRBD_ERR=${DRBD_ERR:-setup failed}
fi

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
median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

now_ms()
{
	echo $(( $(date +%s%N) / 1000000 ))
}

# msg_ms NAME MESSAGE: "whole-command-ms ioctl-ms" of dmsetup message
msg_ms()
{
	local t0 t1 k=-
	t0=$(now_ms)
	if command -v strace > /dev/null; then
		k=$(strace -T -e trace=ioctl dmsetup message "$1" 0 "$2" 2>&1 > /dev/null |
			sed -n 's/.*DM_TARGET_MSG.* <\([0-9.]*\)>$/\1/p' |
			awk '{ printf "%.1f", $1 * 1000 }')
	else
		dmsetup message "$1" 0 "$2"
	fi
	t1=$(now_ms)
	echo "$((t1 - t0)) ${k:--}"
}
# sustained IOPS MS: IOPS of a run of $RUNTIME s stretched over MS more
sustained()
{
	awk -v v="$1" -v r="$RUNTIME" -v c="$2" 'BEGIN { printf "%d", v * r / (r + c / 1000) }'
}

# drbd_run PROTO RW BS DEPTH: "IOPS sustained-IOPS" of fio on the DRBD primary
# with protocol PROTO, sustained counting until the secondary holds all of
# it; "failed" (and the reason on stderr) when the pair or the run fails.
drbd_run()
{
	local v c
	[ -z "$DRBD_ERR" ] || { echo failed; return; }
	drbd_protocol "$1" || { echo "drbd: switching to protocol $1 failed" >&2; echo failed; return; }
	read -r _ v <<< "$(fio_run $DRBD_DEV "$2" "$3" "$4")"
	[ -n "$v" ] || { echo "drbd: fio on $DRBD_DEV failed (protocol $1, $2 $3)" >&2; echo failed; return; }
	c=$(drbd_settle_ms) || { echo failed; return; }
	echo "$v $(sustained "$v" "$c")"
}

# cells VALUE...: per-round "IOPS sustained-IOPS" values (failed: the round
# failed) against the raw bases of the rounds ($bases): "IOPS ratio
# sustained-ratio", medians over the rounds, or "failed - -"
cells()
{
	local i v e r=() re=() vs=()
	for i in "${!bases[@]}"; do
		read -r v e <<< "${@:i + 1:1}"
		[ "$v" != failed ] && [ -n "$v" ] || { echo "failed - -"; return; }
		vs+=("$v")
		r+=("$(ratio "$v" "${bases[i]}")")
		re+=("$(ratio "$e" "${bases[i]}")")
	done
	echo "$(median "${vs[@]}") $(median "${r[@]}") $(median "${re[@]}")"
}

# flush_ms DEV: time of an fsync of DEV (a cache flush through to the device)
flush_ms()
{
	local t0
	t0=$(now_ms)
	dd if=/dev/null of="$1" conv=fsync,notrunc status=none
	echo $(( $(now_ms) - t0 ))
}

echo "--- fio, IOPS, median of $ROUNDS rounds of ${RUNTIME}s per device. Another VM may share the"
echo "    host's CPUs, so the raw loop device is run between the others and each ratio is"
echo "    taken against the mean of the raw runs just before and after it."
echo "    The primary's guest writes complete locally while copies queue (queue_bytes 64m, drain_ms 100);"
echo "    'ckpt ms' is the primary checkpoint after each run (the queue drains and nbd-server"
echo "    writes its page cache through the replica), '+ckpt' the primary's bytes over"
echo "    run time plus checkpoint time. 'nbd+fl' is the forward path alone (fio on"
echo "    /dev/nbd0 into the replica face, then a flush of nbd0) the same way: sustained"
echo "    primary writes cannot beat it. NBD: $NBD_CONNS connection(s) (nbd-client -C)."
echo "    'rep' is the replica face alone (fio on it, direct I/O, each run after a secondary"
echo "    checkpoint, so every sector's pre-image is saved once), a bound for both."
echo "    'k+ckpt' and 'knbd+fl' are '+ckpt' and 'nbd+fl' with the replica's own NBD server"
echo "    in the kernel (replica option nbd_listen) in place of nbd-server."
printf '%-16s %8s %8s %6s %8s %6s %7s %6s %7s %6s %7s %7s\n' workload raw SVM ratio primary ratio \
	"ckpt ms" "+ckpt" "nbd+fl" rep "k+ckpt" "knbd+fl"
drbd_rows=()
IFS=';' read -r -a workloads <<< "$WORKLOADS"
for w in "${workloads[@]}"; do
	set -- $w
	raws=() svm=() pri=() ckpt=() prie=() prik=() nbde=() repd=() da=() dc=()
	kpe=() kpk=() knbde=() kps=()
	read -r _ r <<< "$(fio_run "$RAW" "$1" "$2" "$3")"
	raws+=("$r")
	for i in $(seq "$ROUNDS"); do
		read -r _ v <<< "$(fio_run /dev/mapper/sec "$1" "$2" "$3")"
		svm+=("$v")
		dmsetup message sec 0 checkpoint
		read -r _ v <<< "$(fio_run /dev/mapper/pri "$1" "$2" "$3")"
		pri+=("$v")
		read -r c k <<< "$(msg_ms pri checkpoint)"
		ckpt+=("$c")
		# against DRBD, only the kernel's part of the checkpoint counts: the
		# 200-300 ms of starting dmsetup under TCG are not the forward path's
		[ "$k" = - ] && k=$c
		prik+=("$v $(sustained "$v" "${k%.*}")")
		prie+=("$(sustained "$v" "$c")")
		nbde+=(-)
		case "$1" in
		*write)
			dmsetup message sec 0 checkpoint
			read -r _ v <<< "$(fio_run /dev/mapper/rep "$1" "$2" "$3")"
			repd+=("$v")
			dmsetup message sec 0 checkpoint
			read -r _ v <<< "$(fio_run /dev/nbd0 "$1" "$2" "$3")"
			c=$(flush_ms /dev/nbd0)
			nbde[-1]=$(sustained "$v" "$c")
			dmsetup message sec 0 checkpoint
			read -r _ v <<< "$(fio_run /dev/mapper/kpri "$1" "$2" "$3")"
			read -r c k <<< "$(msg_ms kpri checkpoint)"
			kpe+=("$(sustained "$v" "$c")")
			[ "$k" = - ] && k=$c
			kpk+=("$v $(sustained "$v" "${k%.*}")")
			dmsetup message sec 0 checkpoint
			read -r _ v <<< "$(fio_run /dev/mapper/kprn "$1" "$2" "$3")"
			read -r c k <<< "$(msg_ms kprn checkpoint)"
			[ "$k" = - ] && k=$c
			kps+=("$v $(sustained "$v" "${k%.*}")")
			dmsetup message sec 0 checkpoint
			read -r _ v <<< "$(fio_run /dev/nbd1 "$1" "$2" "$3")"
			knbde+=("$(sustained "$v" "$(flush_ms /dev/nbd1)")")
			for p in A C; do
				d=$(drbd_run $p "$1" "$2" "$3" 2>> "$BLK_DIR/drbd.err")
				[ "$d" != failed ] || DRBD_ERR=${DRBD_ERR:-$(tail -1 "$BLK_DIR/drbd.err")}
				if [ $p = A ]; then da+=("$d"); else dc+=("$d"); fi
			done
			;;
		esac
		dmsetup message sec 0 checkpoint
		read -r _ r <<< "$(fio_run "$RAW" "$1" "$2" "$3")"
		raws+=("$r")
	done
	# per round: device / mean of the raw runs around it
	rs=() rp=() rpe=() rn=() rr=() rkpe=() rkn=() bases=()
	for i in $(seq 0 $((ROUNDS - 1))); do
		base=$(( (raws[i] + raws[i + 1]) / 2 ))
		bases+=("$base")
		rs+=("$(ratio "${svm[i]}" "$base")")
		rp+=("$(ratio "${pri[i]}" "$base")")
		rpe+=("$(ratio "${prie[i]}" "$base")")
		[ "${nbde[i]}" = - ] || rn+=("$(ratio "${nbde[i]}" "$base")")
		[ -z "${repd[i]:-}" ] || rr+=("$(ratio "${repd[i]}" "$base")")
		[ -z "${kpe[i]:-}" ] || rkpe+=("$(ratio "${kpe[i]}" "$base")")
		[ -z "${knbde[i]:-}" ] || rkn+=("$(ratio "${knbde[i]}" "$base")")
	done
	case "$1" in
	*read) ck=- pe=- ne=- re=- kp=- kn=- ;;
	*) ck=$(median "${ckpt[@]}") pe=$(median "${rpe[@]}") ne=$(median "${rn[@]}") re=$(median "${rr[@]}")
	   kp=$(median "${rkpe[@]}") kn=$(median "${rkn[@]}") ;;
	esac
	printf '%-16s %8s %8s %6s %8s %6s %7s %6s %7s %6s %7s %7s\n' "$1 $2 qd$3" \
		"$(median "${raws[@]}")" "$(median "${svm[@]}")" "$(median "${rs[@]}")" \
		"$(median "${pri[@]}")" "$(median "${rp[@]}")" "$ck" "$pe" "$ne" "$re" "$kp" "$kn"
	case "$1" in
	*write)
		drbd_rows+=("$(printf '%-16s %8s %8s %6s %6s %8s %6s %6s %8s %6s %6s %8s %6s %6s %8s %6s %6s' \
			"$1 $2 qd$3" "$(median "${raws[@]}")" $(cells "${prik[@]}") \
			$(cells "${kpk[@]}") $(cells "${kps[@]}") $(cells "${da[@]}") $(cells "${dc[@]}"))")
		;;
	esac
done
echo
echo "--- the primary's writes against DRBD 8.4 (drbd_lib.sh: both nodes in this VM over"
echo "    127.0.0.1, DRBD's defaults), the same rounds as above: IOPS, ratios to raw as above."
echo "    'sust' counts the run's writes over run time plus the time until the secondary"
echo "    holds them all: for colo the primary checkpoint's ioctl (the queue drained, the"
echo "    replica flushed), for DRBD until the secondary has received and written all the"
echo "    primary sent (protocol A completes writes before that; C only after). 'colo' is"
echo "    the primary forwarding through nbd-server, 'colo-k' through the replica's own"
echo "    NBD server in the kernel (over /dev/nbd1), 'colo-n' the primary's own NBD client"
echo "    to that server (nbd:// forward, no nbd driver) with sync_from 64k (writes of 64 KiB"
echo "    and more forwarded without a copy, completing once the replica has them)."
[ -z "$DRBD_ERR" ] || echo "    DRBD failed: $DRBD_ERR"
printf '%-16s %8s %8s %6s %6s %8s %6s %6s %8s %6s %6s %8s %6s %6s %8s %6s %6s\n' workload raw colo \
	ratio sust colo-k ratio sust colo-n ratio sust drbd-A ratio sust drbd-C ratio sust
printf '%s\n' "${drbd_rows[@]}"
drbd_down


# --- the primary's drain bound (drain_ms): checkpoint time and write
# throughput with the default bound and with it off, over the replica's own
# NBD server through the primary's own client, as colod forwards.
# Self-contained: it recreates "kprn" with each setting and leaves it as it
# found it.
# BLK_DRAIN_SECONDS (default 20, as in issue 15's measurement) per run.
drain_bench()
{
	local dms i fio_pid kibs under after ratio off_kibs=
	local table run=${BLK_DRAIN_SECONDS:-20}
	table=$(dmsetup table kprn | cut -d' ' -f3-)
	echo
	echo "--- primary checkpoint (drain) under 4k random writes over the primary's own NBD client"
	echo "    to the replica's server, as colod forwards (sync_from 64k; fio qd16, ${run}s per"
	echo "    round, median of $ROUNDS rounds), with drain_ms at its default (100) and off (0,"
	echo "    queue_bytes 64m alone). 'under' is a checkpoint taken"
	echo "    3/4 into the run with the writer going, 'after' one right after it; both are the"
	echo "    kernel's time (status last_drain_us), dmsetup itself costs more. 'ratio' is the"
	echo "    throughput against drain_ms 0: the cost of the bound."
	printf '%-12s %10s %12s %12s %12s %7s\n' drain_ms "KiB/s" "under ms" "under max" "after ms" ratio
	for dms in 0 100; do
		dmsetup remove kprn
		dmsetup create kprn --table "0 $S colo primary $LOCAL_K nbd://127.0.0.1:10899/bench 6 queue_bytes 64m sync_from 64k drain_ms $dms"
		local tput=() und=() aft=()
		for i in $(seq "$ROUNDS"); do
			fio --minimal --name=b --filename=/dev/mapper/kprn --direct=1 --ioengine=libaio \
				--rw=randwrite --bs=4k --iodepth=16 --size=${SIZE_MB}m --time_based \
				--runtime="$run" --randrepeat=0 > "$BLK_DIR/drain-fio.out" 2> /dev/null &
			fio_pid=$!
			sleep "$(awk -v r="$run" 'BEGIN { print r * 3 / 4 }')"
			dmsetup message kprn 0 checkpoint
			und+=("$(( $(blk_field kprn last_drain_us) / 1000 ))")
			wait $fio_pid
			dmsetup message kprn 0 checkpoint
			aft+=("$(( $(blk_field kprn last_drain_us) / 1000 ))")
			tput+=("$(awk -F';' '{ print $48 }' "$BLK_DIR/drain-fio.out")")
			dmsetup message sec 0 checkpoint
		done
		kibs=$(median "${tput[@]}")
		under=$(median "${und[@]}")
		after=$(median "${aft[@]}")
		[ -z "$off_kibs" ] && off_kibs=$kibs
		ratio=$(ratio "$kibs" "$off_kibs")
		printf '%-12s %10s %12s %12s %12s %7s\n' "$dms" "$kibs" "$under" \
			"$(printf '%s\n' "${und[@]}" | sort -n | tail -1)" "$after" "$ratio"
	done
	dmsetup remove kprn
	dmsetup create kprn --table "0 $S $table"
}
drain_bench

echo
echo "--- secondary checkpoint time vs buffered size (SVM writes + pre-images). Running"
echo "    dmsetup costs more than the kernel's work here: 'dmsetup ms' is the whole"
echo "    command, 'kernel ms' its DM_TARGET_MSG ioctl alone (timed by strace -T)."
printf '%-16s %16s %11s %10s\n' "buffered MiB" "buffered_bytes" "dmsetup ms" "kernel ms"
for mb in 0 2 16 64 128; do
	half=$((mb / 2))
	if [ $half -gt 0 ]; then
		dd if=/dev/urandom of=/dev/mapper/sec bs=1M count=$half oflag=direct status=none
		dd if=/dev/urandom of=/dev/mapper/rep bs=1M count=$half seek=$half oflag=direct status=none
	fi
	bytes=$(blk_field sec buffered_bytes)
	read -r whole k <<< "$(msg_ms sec checkpoint)"
	[ "$(blk_field sec buffered_bytes)" = 0 ] || { echo "checkpoint did not empty the buffers"; exit 1; }
	printf '%-16s %16s %11s %10s\n' "$((2 * half))" "$bytes" "$whole" "$k"
done

echo
echo "--- failover commit throughput vs sequential 1 MiB direct writes of the same amount"
echo "    to a raw loop device (fio, queue depth 4 as the commit's; mean of one run before"
echo "    and one after the commit). The commit's time is its DM_TARGET_MSG ioctl"
echo "    (strace -T) when strace is there, else the whole dmsetup command."
MB=128
# raw_kibs: KiB/s of MB MiB written to the raw loop device
raw_kibs()
{
	fio --minimal --name=b --filename="$RAW" --direct=1 --ioengine=libaio --iodepth=4 --rw=write \
		--bs=1M --size=${MB}m 2> /dev/null | awk -F';' '{ print $48 }'
}
dd if=/dev/urandom of=/dev/mapper/sec bs=1M count=$((MB / 2)) oflag=direct status=none
dd if=/dev/urandom of=/dev/mapper/rep bs=1M count=$((MB / 2)) seek=$((MB / 2)) oflag=direct status=none
bytes=$(blk_field sec buffered_bytes)
raw1=$(raw_kibs)
read -r whole k <<< "$(msg_ms sec failover)"
[ "$(blk_state sec)" = failed_over ] || { echo "failover did not complete"; exit 1; }
commit_ms=$whole
[ "$k" = - ] || commit_ms=$k
raw_mbs=$(awk -v a="$raw1" -v b="$(raw_kibs)" 'BEGIN { printf "%.1f", (a + b) / 2 / 1024 }')
commit_mbs=$(awk -v b="$bytes" -v ms="$commit_ms" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }')
printf '%-24s %12s %10s %10s\n' "" bytes ms "MiB/s"
printf '%-24s %12s %10s %10s   (whole dmsetup command: %s ms)\n' "failover commit" "$bytes" \
	"$commit_ms" "$commit_mbs" "$whole"
printf '%-24s %12s %10s %10s\n' "raw loop, fio 1M writes" "$((MB << 20))" - "$raw_mbs"
printf 'ratio commit / raw: %s\n' "$(ratio "$commit_mbs" "$raw_mbs")"
blk_teardown
on_exit true
