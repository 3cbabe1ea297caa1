#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The colo primary's record of the regions the secondary may miss once
# forwarding stops: after the failover message (over real NBD), after a
# forward device that fails its writes (a dm device reloaded as "error"),
# with copies still pending at the failover (the forward device suspended),
# paged through "written" when it does not fit one message, cleared by
# range and whole, lost on a table reload, and with writes racing with the
# stop; bad region sizes and messages are refused with their reason. The
# sectors on the disks are checked too.
#
#   primary pri --copy--> /dev/nbd0 --> nbd-server --> replica rep --> base
#   primary pb/pc/pd --copy--> dm "fwd" (linear over a loop; "error" or
#                              suspended on purpose)
. "$(dirname "$0")/blk_lib.sh"

PORT=10897
if blk_setup; then t_ok "setup: modules and tmpfs"; else t_fail "setup"; t_done; fi
BASE=$(blk_loop base 32) && LOCAL=$(blk_loop local 32) && FWDDISK=$(blk_loop fwd 32) &&
	LB=$(blk_loop localb 32) || { t_fail "loop devices"; t_done; }
S=$(blk_sectors "$BASE")
PRI=/dev/mapper/pri

# written DEV [FROM]: the record's runs, one per line (what dmsetup prints)
written()
{
	dmsetup message "$1" 0 written ${2:+"$2"}
}

# expect_written DEV EXPECTED [FROM]: the record is exactly EXPECTED
expect_written()
{
	local got
	got=$(written "$1" ${3:+"$3"}) || return 1
	[ "$got" = "$2" ] && return 0
	echo "written: got [$got], want [$2]"
	return 1
}

# refused DESC EXPECTED COMMAND...: the command fails and the kernel log
# says EXPECTED
refused()
{
	local desc=$1 want=$2 mark
	shift 2
	mark=$(dmesg | wc -l)
	if "$@" > /dev/null 2>&1; then
		t_fail "$desc: accepted"
	elif dmesg | tail -n +$((mark + 1)) | grep -qF -- "$want"; then
		t_ok "$desc: $want"
	else
		t_fail "$desc: no '$want' in the kernel log"
		dmesg | tail -n +$((mark + 1)) | sed 's/^/# /'
	fi
}

# --- bad arguments -------------------------------------------------------
refused "region_size 0 refused" "colo: Invalid region_size" \
	blk_create bad "0 $S colo primary $LB $FWDDISK 2 region_size 0"
refused "region_size not a power of two refused" "colo: Invalid region_size" \
	blk_create bad "0 $S colo primary $LB $FWDDISK 2 region_size 96k"
refused "region_size below 4k refused" "colo: Invalid region_size" \
	blk_create bad "0 $S colo primary $LB $FWDDISK 2 region_size 2k"
refused "region_size above 1g refused" "colo: Invalid region_size" \
	blk_create bad "0 $S colo primary $LB $FWDDISK 2 region_size 2g"
refused "region_size given twice refused" "colo: region_size given twice" \
	blk_create bad "0 $S colo primary $LB $FWDDISK 4 region_size 4k region_size 8k"
# 1 TiB + 4 KiB of zero devices: 4 KiB regions need 2^28 + 1 bits, over 32 MiB
BIG=$(( (1 << 31) + 8 ))
t_check "two zero devices of 1 TiB + 4 KiB" eval \
	"dmsetup create zl --table '0 $BIG zero' && dmsetup create zf --table '0 $BIG zero'"
refused "a record over 32 MiB refused" "colo: region_size too small for this device" \
	blk_create bad "0 $BIG colo primary /dev/mapper/zl /dev/mapper/zf 2 region_size 4k"
t_check "8 KiB regions over the same 1 TiB fit (16 MiB record)" eval \
	"blk_create big '0 $BIG colo primary /dev/mapper/zl /dev/mapper/zf 2 region_size 8k' &&
	 test \"\$(blk_field big region_size)\" = 8192 && dmsetup remove big"
t_check "nothing left behind by the refused tables" eval "! dmsetup info bad"
dmsetup remove zl zf

# --- failover message over NBD -------------------------------------------
blk_replicated_pair 64m $PORT
t_check "primary created with 64 KiB regions (128 sectors)" \
	blk_create pri "0 $S colo primary $LOCAL /dev/nbd0 2 region_size 64k"
t_check "status TABLE echoes region_size" test "$(dmsetup table pri)" = \
	"0 $S colo primary $(lsblk -dno MAJ:MIN "$LOCAL" | tr -d ' ') 43:0 2 region_size 65536"
t_check "status INFO: nothing recorded, region size" test \
	"$(blk_field pri written_regions) $(blk_field pri region_size)" = "0 65536"

t_check "guest writes while forwarding (regions 0-15)" "$BLK_IO" fill $PRI 0 2048 2
t_check "the record is empty while forwarding" expect_written pri ""
refused "clear_written refused while forwarding" "Still forwarding" \
	dmsetup message pri 0 clear_written
refused "written beyond the device refused" "Sector beyond the end of the device" \
	dmsetup message pri 0 written "$S"
refused "written from a bad sector refused" "Invalid sector number" \
	dmsetup message pri 0 written 12abc
refused "the secondary has no record" "Only a primary keeps a record" \
	dmsetup message sec 0 written
t_check "checkpoint: the secondary has regions 0-15 on its disk" \
	dmsetup message pri 0 checkpoint
# forwarded and acknowledged, but no checkpoint flushed it on the secondary
t_check "a write after the checkpoint (region 64), acknowledged" eval \
	"$BLK_IO fill $PRI 8192 8 3 && wait_for 30 eval 'test \$(blk_field pri pending) = 0'"
t_check "failover stops forwarding" eval \
	"dmsetup message pri 0 failover && test \"\$(blk_state pri)\" = stopped"
t_check "the record holds the region no checkpoint covered" expect_written pri "8192+128"

alone()
{
	"$BLK_IO" fill $PRI 20000 10 4 &&		# region 156 (19968-20095)
	"$BLK_IO" fill $PRI 25590 20 5 &&		# regions 199 and 200
	blkdiscard -o $((40960 * 512)) -l $((128 * 512)) $PRI &&	# region 320
	"$BLK_IO" fill $PRI 41000 4 6		# region 320 again
}
t_check "writes and a discard alone" alone
WANT="8192+128
19968+128
25472+256
40960+128"
t_check "written: exactly the regions written alone, and region 64" expect_written pri "$WANT"
t_check "status counts 5 regions" test "$(blk_field pri written_regions)" = 5
t_check "written from sector 20000 starts at that region" expect_written pri \
	"19968+128
25472+256
40960+128" 20000
t_check "the primary's disk has every write" eval \
	"$BLK_IO verify $LOCAL 0 2048 2 && $BLK_IO verify $LOCAL 8192 8 3 &&
	 $BLK_IO verify $LOCAL 20000 10 4 && $BLK_IO verify $LOCAL 25590 20 5 &&
	 $BLK_IO verify $LOCAL 40960 40 0 && $BLK_IO verify $LOCAL 41000 4 6"
t_check "the secondary's base has the forwarded writes and none of the alone ones" eval \
	"$BLK_IO verify $BASE 0 2048 2 && $BLK_IO verify $BASE 20000 10 1 &&
	 $BLK_IO verify $BASE 25590 20 1 && $BLK_IO verify $BASE 40960 128 1"
t_check "clear_written of a partly covered region clears nothing" eval \
	"dmsetup message pri 0 clear_written 8193 127 && expect_written pri '$WANT'"
t_check "clear_written 25472 128 clears region 199 only" eval \
	"dmsetup message pri 0 clear_written 25472 128 &&
	 expect_written pri '8192+128
19968+128
25600+128
40960+128'"
refused "clear_written beyond the device refused" "Sector beyond the end of the device" \
	dmsetup message pri 0 clear_written "$S" 8
t_check "clear_written empties the record" eval \
	"dmsetup message pri 0 clear_written && expect_written pri '' &&
	 test \$(blk_field pri written_regions) = 0"
t_check "a write after the clear is recorded again" eval \
	"$BLK_IO fill $PRI 100 1 7 && expect_written pri '0+128'"
t_check "primary, NBD, replica and secondary removed" eval \
	"dmsetup remove pri && blk_nbd_stop && dmsetup remove rep sec"

# --- a forward device that fails ------------------------------------------
t_check "forward device: dm linear over a loop device" \
	dmsetup create fwd --table "0 $S linear $FWDDISK 0"
on_exit "dmsetup remove pb; dmsetup remove pc; dmsetup remove pd; dmsetup remove pr; dmsetup resume fwd; dmsetup remove fwd"
fwd_error()
{
	dmsetup suspend fwd && dmsetup reload fwd --table "0 $S error" && dmsetup resume fwd
}
fwd_linear()
{
	dmsetup suspend fwd && dmsetup reload fwd --table "0 $S linear $FWDDISK 0" &&
		dmsetup resume fwd
}
t_check "primary pb with the default region size" eval \
	"blk_create pb '0 $S colo primary $LB /dev/mapper/fwd' &&
	 test \"\$(blk_field pb region_size)\" = 65536"
t_check "pb: writes (regions 0-1) and a checkpoint" eval \
	"$BLK_IO fill /dev/mapper/pb 0 256 2 && dmsetup message pb 0 checkpoint"
t_check "pb: a write after it (region 8), acknowledged" eval \
	"$BLK_IO fill /dev/mapper/pb 1024 8 3 && wait_for 30 eval 'test \$(blk_field pb pending) = 0'"
t_check "the forward device fails from now on" fwd_error
t_check "pb: a write whose copy fails (region 16) succeeds" "$BLK_IO" fill /dev/mapper/pb 2048 8 4
t_check "pb becomes degraded" wait_for 30 eval 'test "$(blk_state pb)" = degraded'
t_check "pb: a write alone (region 32)" "$BLK_IO" fill /dev/mapper/pb 4096 8 5
t_check "written: the unflushed region, the failed copy's, the alone one" \
	expect_written pb "1024+128
2048+128
4096+128"
t_check "pb's disk has every write" eval \
	"$BLK_IO verify $LB 0 256 2 && $BLK_IO verify $LB 1024 8 3 &&
	 $BLK_IO verify $LB 2048 8 4 && $BLK_IO verify $LB 4096 8 5"
t_check "the forward disk has what was acknowledged, not the failed copy" eval \
	"$BLK_IO verify $FWDDISK 0 256 2 && $BLK_IO verify $FWDDISK 1024 8 3 &&
	 $BLK_IO verify $FWDDISK 2048 8 0"
t_check "failover of a degraded primary keeps the record" eval \
	"dmsetup message pb 0 failover && test \"\$(blk_state pb)\" = stopped &&
	 test \$(blk_field pb written_regions) = 3"
t_check "pb removed, forward device works again" eval "dmsetup remove pb && fwd_linear"

# --- copies still pending at the failover ---------------------------------
t_check "primary pc with 4 KiB regions, writes and a checkpoint" eval \
	"blk_create pc '0 $S colo primary $LB /dev/mapper/fwd 2 region_size 4k' &&
	 $BLK_IO fill /dev/mapper/pc 0 64 6 && dmsetup message pc 0 checkpoint"
t_check "the forward device holds its I/O (suspended)" dmsetup suspend fwd
t_check "pc: a write (region 100) whose copy stays pending" eval \
	"$BLK_IO fill /dev/mapper/pc 800 8 7 && test \$(blk_field pc pending) -ge 1"
t_check "pc: failover with the copy pending" eval \
	"dmsetup message pc 0 failover && test \"\$(blk_state pc)\" = stopped"
t_check "written: the pending copy's region" expect_written pc "800+8"
t_check "pc: a write alone (regions 200-201)" "$BLK_IO" fill /dev/mapper/pc 1600 16 8
t_check "forward device resumed: the pending copy ends" eval \
	"dmsetup resume fwd && wait_for 30 eval 'test \$(blk_field pc pending) = 0'"
t_check "written after it ended: both" expect_written pc "800+8
1600+16"
t_check "pc's disk has every write" eval \
	"$BLK_IO verify $LB 0 64 6 && $BLK_IO verify $LB 800 8 7 && $BLK_IO verify $LB 1600 16 8"
reload_same()
{
	local table
	table=$(dmsetup table pc | cut -d' ' -f3-) &&
	dmsetup suspend pc && dmsetup reload pc --table "0 $S $table" && dmsetup resume pc
}
t_check "a table reload starts a new record (active, nothing recorded)" eval \
	"reload_same && test \"\$(blk_state pc) \$(blk_field pc written_regions)\" = 'active 0'"
t_check "pc removed" dmsetup remove pc

# --- a record larger than one message result ------------------------------
t_check "primary pd with 4 KiB regions, stopped at once" eval \
	"blk_create pd '0 $S colo primary $LB /dev/mapper/fwd 2 region_size 4k' &&
	 dmsetup message pd 0 failover"
every_other()
{
	python3 - /dev/mapper/pd "$S" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
buf.write(b"\xa5" * 4096)
for off in range(0, int(sys.argv[2]) * 512, 8192):
    os.pwrite(fd, buf, off)
os.close(fd)
PY
}
t_check "pd: 4 KiB written at every other 4 KiB (4096 runs)" every_other
t_check "status counts 4096 regions" test "$(blk_field pd written_regions)" = 4096
page_through()
{
	local from=0 out next pages=0 want got
	: > "$BLK_DIR/runs"
	while :; do
		out=$(written pd $from) || return 1
		pages=$((pages + 1))
		grep -v '^next=' <<< "$out" | grep . >> "$BLK_DIR/runs"
		next=$(sed -n 's/^next=//p' <<< "$out")
		[ -z "$next" ] && break
		[ "$next" -gt "$from" ] || { echo "next=$next does not move on from $from"; return 1; }
		from=$next
		[ $pages -lt 1000 ] || return 1
	done
	want=$(seq 0 16 $((S - 1)) | sed 's/$/+8/' | md5sum)
	got=$(md5sum < "$BLK_DIR/runs")
	echo "$pages pages, $(wc -l < "$BLK_DIR/runs") runs"
	t_note "written over $pages pages, $(wc -l < "$BLK_DIR/runs") runs"
	[ $pages -gt 1 ] && [ "$want" = "$got" ]
}
t_check "paging through written with next= yields exactly the 4096 runs" page_through
t_check "clear_written 0 16384 clears the first half" eval \
	"dmsetup message pd 0 clear_written 0 16384 &&
	 test \$(blk_field pd written_regions) = 3072 &&
	 test \"\$(written pd | head -1)\" = 16384+8"
t_check "clear_written empties it" eval \
	"dmsetup message pd 0 clear_written && expect_written pd ''"
t_check "pd removed" dmsetup remove pd

# --- writes racing with the stop ------------------------------------------
# fio writes 4 KiB blocks, each once, in random order at 2 MiB/s (so that
# the stop falls in the middle of it) while the primary checkpoints twice
# and then stops forwarding (failover, or the forward device failing).
# Whichever way each write fell, every region left out of the record must
# hold the same data on the primary's disk and the forward disk; the
# checkpoints keep the record from covering everything written.
# record_file DEV FILE: the whole record, one run per line, paged
record_file()
{
	local from=0 out next
	: > "$2"
	while :; do
		out=$(written "$1" $from) || return 1
		grep -v '^next=' <<< "$out" | grep . >> "$2"
		next=$(sed -n 's/^next=//p' <<< "$out")
		[ -z "$next" ] && return 0
		from=$next
	done
}
forwarded_at_least()
{
	[ "$(blk_field pr total_bytes)" -ge "$1" ]
}
race()
{
	local how=$1 pid rc out
	"$BLK_IO" fill "$LB" 0 "$S" 1 && "$BLK_IO" fill "$FWDDISK" 0 "$S" 1 || return 1
	blk_create pr "0 $S colo primary $LB /dev/mapper/fwd 2 region_size 4k" || return 1
	fio --name=race --filename=/dev/mapper/pr --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size=32m --io_size=24m --rate=2m --randseed=7 \
		--output="$BLK_DIR/fio-$how.out" > /dev/null &
	pid=$!
	wait_for 300 forwarded_at_least $((4 << 20)) && dmsetup message pr 0 checkpoint &&
	wait_for 300 forwarded_at_least $((8 << 20)) && dmsetup message pr 0 checkpoint &&
	wait_for 300 forwarded_at_least $((10 << 20)) ||
		{ echo "checkpoints during fio: $(dmsetup status pr)"; wait $pid; return 1; }
	case $how in
	failover) dmsetup message pr 0 failover ;;
	# a write of its own, in case fio has ended already on a loaded machine
	error) fwd_error && "$BLK_IO" fill /dev/mapper/pr 0 8 9 &&
		wait_for 60 eval 'test "$(blk_state pr)" = degraded' ;;
	esac
	rc=$?
	if kill -0 $pid 2> /dev/null; then
		t_note "$how: fio was still writing when forwarding stopped"
	else
		t_note "$how: fio had ended when forwarding stopped (no race this time)"
	fi
	wait $pid || { echo "fio failed"; cat "$BLK_DIR/fio-$how.out"; rc=1; }
	[ $rc = 0 ] || { echo "stop ($how) failed: $(dmsetup status pr)"; return 1; }
	record_file pr "$BLK_DIR/record-$how" || return 1
	out=$(python3 - "$BLK_DIR/localb.img" "$BLK_DIR/fwd.img" "$BLK_DIR/record-$how" <<'PY'
import sys
local, fwd = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
recorded = set()
for line in open(sys.argv[3]):
    start, n = (int(x) for x in line.split("+"))
    recorded.update(range(start // 8, (start + n) // 8))
blocks = len(local) // 4096
differ = [b for b in range(blocks) if local[b * 4096:(b + 1) * 4096] != fwd[b * 4096:(b + 1) * 4096]]
missed = [b for b in differ if b not in recorded]
print("%d regions recorded, %d differ, %d differ unrecorded" % (len(recorded), len(differ), len(missed)))
sys.exit(1 if missed or not recorded or len(recorded) >= 6144 else 0)
PY
)
	rc=$?
	t_note "$how: $out"
	return $rc
}
for how in failover error; do
	t_check "writes racing with the stop ($how): every unrecorded region equal on both disks" \
		race $how
	dmsetup remove pr
	[ $how = error ] && fwd_linear
done
t_check "the forward device removed" dmsetup remove fwd

t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
