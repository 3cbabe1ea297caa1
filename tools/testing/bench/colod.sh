#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colod: two agents replicating the end-to-end guest (a real Linux VM,
# nested QEMU under TCG), measured in one run against the same guest alone
# and against QEMU 7.2's own COLO (qemu_colo_lib.sh) on the same snapshot:
#
# 1. PVM pause per checkpoint against the guest's dirty rate: the guest's
#    memory writer at each rate of COLOD_BENCH_RATES (pages/s), timer
#    checkpoints every COLOD_BENCH_INTERVAL s (and one when a PVM frame
#    was held COLOD_BENCH_HOLD_MS, default 3000: colod's proxy_timeout and
#    colo-compare's compare_timeout; and for colod, when one connection
#    holds COLOD_BENCH_QUEUE_BYTES of unmatched PVM output: its
#    proxy_queue_bytes, default colod's own, 16M), COLOD_BENCH_CHECKPOINTS
#    of them per rate; pages per checkpoint and the pause's p50/p99 (colod: its
#    log lines "checkpoint N (...): P pages, ..., paused X ms", by its own
#    clock, and "QEMU's STOP to RESUME Y ms"; QEMU: the PVM's QMP STOP to
#    RESUME, pages from its RAM sync's trace); the ratios compare like with like,
#    QEMU's events for both; and colod's pause by step (the median of each
#    step its log line lists).
# 2. Client throughput (the guest's deterministic stream, port 7001,
#    byte-checked) and echo round trip (port 7002, median) through the
#    colod pair, the guest alone (one QEMU from the snapshot on the
#    primary's tap0, no colod) and QEMU's COLO, as ratios. Alone and colod
#    alternate COLOD_BENCH_ROUNDS times, each on a fresh start; cells are
#    medians. With COLOD_BENCH_QUEUE_BYTES other than colod's default,
#    each round also measures colod at its default (16M). The anchor runs
#    once after them, up to COLOD_BENCH_ANCHOR_TRIES times when QEMU
#    hangs; a hang is a result.
# 3. A soak: COLOD_BENCH_SOAK manual checkpoints in a row while the guest
#    writes memory and disk and a client streams across them; checkpoints
#    done, whether one hung, client bytes lost.
#
#   cli: brc 10.0.0.1 (hub) --c-p-- pri: br0 [p-up, tap0] PVM / alone / QEMU PVM
#                           --c-s-- sec: br0 [s-up, tap0] SVM / -     / QEMU SVM
#        pri p-t 192.168.77.1 ===== sec s-t 192.168.77.2 (agent link, NBD, tunnel)
#
# Everything runs inside the test VM on namespaces made here (colod_lib.sh).
# The machine is shared and emulated: read the ratios, not the times.
. "$(dirname "$0")/../selftests/colo/colod_lib.sh"
. "$(dirname "$0")/qemu_colo_lib.sh"

read -r -a RATES <<< "${COLOD_BENCH_RATES:-0 200 1000}"
PER_RATE=${COLOD_BENCH_CHECKPOINTS:-10}
INTERVAL_S=${COLOD_BENCH_INTERVAL:-2}
HOLD_MS=${COLOD_BENCH_HOLD_MS:-3000}
DEFAULT_QUEUE_BYTES=16M
QUEUE_BYTES=${COLOD_BENCH_QUEUE_BYTES:-$DEFAULT_QUEUE_BYTES}
ROUNDS=${COLOD_BENCH_ROUNDS:-2}
ANCHOR_TRIES=${COLOD_BENCH_ANCHOR_TRIES:-2}
SOAK=${COLOD_BENCH_SOAK:-1000}
STREAM_KIB=${COLOD_BENCH_STREAM_KIB:-2048}
RTT_ROUNDS=${COLOD_BENCH_RTT_ROUNDS:-100}
SOAK_MEM_RATE=200
SOAK_DISK_RATE=20
# a rate window ends within this many seconds, or the agent is stuck
RATE_WINDOW_S=$((PER_RATE * (INTERVAL_S + 10) + 120))

fail() { echo "colod benchmark: $*"; show_logs; exit 1; }

guest_check_images || exit 1
[ -x "$GUEST_CTL" ] || { echo "colo-guest-ctl is not built (make guest)"; exit 1; }
[ -x "$COLOD" ] || { echo "colod is not built (make tools)"; exit 1; }
colod_setup || fail "setting up modules, namespaces and disks failed"
sed -i -e "s/^max_interval = .*/max_interval = ${INTERVAL_S}s/" \
	-e "s/^proxy_timeout = .*/proxy_timeout = ${HOLD_MS}ms\nproxy_queue_bytes = $QUEUE_BYTES/" \
	"$W/primary.conf" "$W/secondary.conf"
ALONE_DISK=$(guest_loop alone) || fail "no loop device for the guest alone"
on_exit "losetup -d $ALONE_DISK"
R=$W/results
mkdir -p "$R"
declare -A RES

cat > "$W/rtt.py" <<'PYEOF'
import socket, statistics, sys, time
s = socket.create_connection((sys.argv[1], 7002), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
times = []
for i in range(int(sys.argv[2])):
    msg = b'%031d\n' % i
    t = time.monotonic()
    s.sendall(msg)
    got = b''
    while len(got) < len(msg):
        d = s.recv(64)
        if not d:
            sys.exit('echo connection closed')
        got += d
    times.append(time.monotonic() - t)
    if got != msg:
        sys.exit('echo differs')
print('%.2f' % (statistics.median(times) * 1000))
PYEOF

# stats: numbers on stdin; prints "p50 p99 count" (nearest rank).
stats()
{
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - 0"; exit }
		i50 = int(0.5 * NR + 0.999); i99 = int(0.99 * NR + 0.999)
		printf "%s %s %d\n", v[i50 < 1 ? 1 : i50], v[i99 < 1 ? 1 : i99], NR }'
}
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | stats | cut -d' ' -f1; }
# ratio A B: A/B with two decimals, "-" unless both are numbers.
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2" 2> /dev/null || echo -; }

# client_measure SETUP SEED: one stream download and one round-trip run
# from the client; appends to RES[SETUP,tput] (KiB/s) and RES[SETUP,rtt]
# (ms), "failed" for a run that did not complete byte-exact. For colod,
# also RES[colod,matched]: the percentage of the stream's bytes the
# compare released, and RES[colod,ckpts]: the checkpoints the secondary
# took during the stream, with the loads they superseded (the same for
# colod_default).
client_measure()
{
	local out tput rtt compared0 ckpts0 superseded0
	if [ "${1#colod}" != "$1" ]; then
		compared0=$(compared_bytes)
		ckpts0=$(field secondary "['checkpoints']")
		superseded0=$(field secondary "['loads_superseded']")
	fi
	out=$(timeout 300 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 "$2" $((STREAM_KIB * 256)) 4 2>&1)
	if [ "${1#colod}" != "$1" ]; then
		RES[$1,matched]+=" $((($(compared_bytes) - compared0) * 100 / (STREAM_KIB * 1024)))"
		RES[$1,ckpts]+=" $(($(field secondary "['checkpoints']") - ckpts0))"
		RES[$1,ckpts]+=" ($(($(field secondary "['loads_superseded']") - superseded0)))"
	fi
	tput=$(sed -n 's/.*, \([0-9]*\) KiB\/s.*/\1/p' <<< "$out")
	rtt=$(timeout 300 ip netns exec cli python3 "$W/rtt.py" 10.0.0.2 "$RTT_ROUNDS" 2>&1 | grep -E '^[0-9.]+$')
	RES[$1,tput]+=" ${tput:-failed}"
	RES[$1,rtt]+=" ${rtt:-failed}"
}

guest_answers() { wait_for 120 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 1 16; }

alone_round()
{
	guest_start alone pri tap0 "$W/alone.ram" "$ALONE_DISK"
	guest_wait_up alone > /dev/null || fail "the guest alone did not come up"
	guest_answers || fail "the guest alone does not answer the client"
	client_measure alone "$1"
	guest_kill alone
	rm -f "$W/alone.ram"
}

# queue_bytes_set VALUE: both agents' proxy_queue_bytes, for the next pair_start
queue_bytes_set() { sed -i "s/^proxy_queue_bytes = .*/proxy_queue_bytes = $1/" "$W/primary.conf" "$W/secondary.conf"; }

pair_start()
{
	colod_start secondary sec
	colod_start primary pri
	both_replicating > "$R/pair-start" || fail "replication did not start: $(cat "$R/pair-start")"
	guest_answers || fail "the replicated guest does not answer the client"
}

# pair_stop: the primary first, so that its NBD client is gone before the
# secondary's replica (and its NBD server).
pair_stop()
{
	local role
	for role in primary secondary; do
		vm "$role" stop > /dev/null
		wait_for 60 sh -c "! kill -0 $(cat "$W/$role.pid")" || fail "$role colod did not exit"
	done
}

# The part of colod's checkpoint line with the times: "paused X ms (stop
# A, ..., resume E), output released Y ms later (send F, ack G)".
STEPS_RE='paused [0-9.]+ ms \([^)]*\), output released [0-9.]+ ms later \([^)]*\)'

# colod_window FIRST LAST: "pages qemu_pause_ms pause_ms step_ms..." of the
# primary's checkpoints FIRST..LAST, from its log: the VM's pause by its
# QEMU's events (STOP to RESUME, as the anchor's is measured; 0 where the
# line has none), by colod's own clock, then the times of the steps and of
# the output's release in the order of the line.
colod_window()
{
	awk -v a="$1" -v b="$2" -v re="$STEPS_RE" '
	match($0, /checkpoint [0-9]+ \([a-z-]+\): [0-9]+ pages/) {
		split(substr($0, RSTART, RLENGTH), f, " ")
		if (f[2] < a || f[2] > b)
			next
		qemu = 0
		if (match($0, /STOP to RESUME [0-9.]+ ms/)) {
			split(substr($0, RSTART, RLENGTH), p, " ")
			qemu = p[4]
		}
		if (match($0, re)) {
			times = substr($0, RSTART, RLENGTH)
			line = f[4] " " qemu
			while (match(times, /[a-z]+ [0-9.]+/)) {
				split(substr(times, RSTART, RLENGTH), p, " ")
				line = line " " p[2]
				times = substr(times, RSTART + RLENGTH)
			}
			print line
		}
	}' "$W/primary.log"
}

# The names of the steps in colod's checkpoint line, from its log.
pause_step_names()
{
	grep -m1 -oE "$STEPS_RE" "$W/primary.log" | grep -oE '[a-z]+ [0-9.]+' | cut -d' ' -f1 |
		grep -vx 'paused' | tr '\n' ' '
}

primary_guest() { "$GUEST_CTL" ask "$W/primary/control.sock" "$1" 60 > /dev/null; }

# colod_rates: for each dirty rate, pages and pause of PER_RATE timer
# checkpoints taken after the rate was set (the one in progress skipped).
colod_rates()
{
	local rate id first
	for rate in "${RATES[@]}"; do
		primary_guest "mem $rate" || fail "the guest did not take mem $rate"
		id=$(field primary "['last_checkpoint_id']")
		wait_for "$RATE_WINDOW_S" count_at_least primary "['last_checkpoint_id']" $((id + 1)) ||
			fail "no checkpoint at $rate pages/s"
		first=$(( $(field primary "['last_checkpoint_id']") + 1 ))
		wait_for "$RATE_WINDOW_S" count_at_least primary "['last_checkpoint_id']" $((first + PER_RATE - 1)) ||
			fail "fewer than $PER_RATE checkpoints at $rate pages/s"
		colod_window "$first" $((first + PER_RATE - 1)) > "$R/colod-$rate"
		read -r "RES[colod,p50,$rate]" "RES[colod,p99,$rate]" "RES[colod,n,$rate]" <<< "$(cut -d' ' -f3 "$R/colod-$rate" | stats)"
		read -r "RES[colod,qp50,$rate]" "RES[colod,qp99,$rate]" "RES[colod,qn,$rate]" \
			<<< "$(awk '$2 > 0 { print $2 }' "$R/colod-$rate" | stats)"
		RES[colod,pages,$rate]=$(median $(cut -d' ' -f1 "$R/colod-$rate"))
		RES[colod,steps,$rate]=$(awk '{ for (i = 4; i <= NF; i++) print i, $i }' "$R/colod-$rate" |
			sort -k1,1n -k2,2n | awk '{ v[$1] = v[$1] " " $2 } END {
				for (i = 4; i in v; i++) { n = split(v[i], x, " "); printf "%s ", x[int((n + 1) / 2)] } }')
	done
	RES[colod,step_names]=$(pause_step_names)
	primary_guest "mem 0"
}

# soak_client: streams from the client, one connection after the other,
# until $R/soak.done exists; writes "streams bytes_intact bytes_lost".
soak_client()
{
	local streams=0 intact=0 lost=0 len=65536 requests=32
	while [ ! -e "$R/soak.done" ]; do
		streams=$((streams + 1))
		if timeout 300 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 $((1000 + streams)) $len $requests \
			> /dev/null 2>> "$R/soak.client-errors"; then
			intact=$((intact + len * requests))
		else
			lost=$((lost + len * requests))
		fi
	done
	echo "$streams $intact $lost" > "$R/soak.client"
}

soak()
{
	local n0 all0 i rc outcome=ok
	primary_guest "mem $SOAK_MEM_RATE" && primary_guest "disk $SOAK_DISK_RATE" ||
		fail "the guest did not start its writers"
	n0=$(field primary "['reasons']['manual']")
	all0=$(field primary "['checkpoints']")
	on_exit "touch $R/soak.done"
	soak_client &
	for i in $(seq "$SOAK"); do
		timeout 300 "$COLOCTL" vm checkpoint --socket "$W/primary/colod.sock" > "$R/soak.last" 2>&1
		rc=$?
		[ $rc -eq 0 ] && continue
		if [ $rc -eq 124 ]; then outcome="hung at checkpoint $i"; else outcome="failed at checkpoint $i: $(tail -n 1 "$R/soak.last")"; fi
		break
	done
	touch "$R/soak.done"
	wait_for 400 test -s "$R/soak.client" || echo "0 0 unknown" > "$R/soak.client"
	RES[soak,outcome]=$outcome
	RES[soak,done]=$(( $(field primary "['reasons']['manual']") - n0 ))
	RES[soak,all]=$(( $(field primary "['checkpoints']") - all0 ))
	RES[soak,state]=$(field primary "['state']")
	read -r "RES[soak,streams]" "RES[soak,intact]" "RES[soak,lost]" < "$R/soak.client"
}

# anchor_end OUT OUTCOME: a try ends: the PVM's pause of every checkpoint
# it completed (the first sync left out) to OUT.pauses, the outcome to OUT,
# QEMU stopped.
anchor_end()
{
	qcolo_pauses 2> /dev/null | sed 1d > "$1.pauses"
	echo "outcome $2" >> "$1"
	qcolo_stop
}

# anchor_try N: QEMU's COLO measured as far as it goes; "key value" lines
# to $R/anchor.N, the outcome last.
anchor_try()
{
	local out=$R/anchor.$1 rate first n pages0 pages1 tput rtt
	: > "$out"
	if ! qcolo_start $((INTERVAL_S * 1000)) "$HOLD_MS"; then
		anchor_end "$out" "failed to start ($QCOLO_WHY)"
		return
	fi
	if ! qcolo_wait_checkpoints 1; then
		anchor_end "$out" "$(qcolo_stuck) before its first checkpoint$(qcolo_hang_cause)"
		return
	fi
	tput=$(timeout 300 ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 7 $((STREAM_KIB * 256)) 4 2>&1 |
		sed -n 's/.*, \([0-9]*\) KiB\/s.*/\1/p')
	rtt=$(timeout 300 ip netns exec cli python3 "$W/rtt.py" 10.0.0.2 "$RTT_ROUNDS" 2>&1 | grep -E '^[0-9.]+$')
	[ -n "$tput" ] && echo "tput $tput" >> "$out"
	[ -n "$rtt" ] && echo "rtt $rtt" >> "$out"
	if [ -z "$tput" ] || [ -z "$rtt" ]; then
		anchor_end "$out" "$(qcolo_stuck) in the client runs after $(qcolo_checkpoints) checkpoints$(qcolo_hang_cause)"
		return
	fi
	for rate in "${RATES[@]}"; do
		if ! timeout 90 "$GUEST_CTL" ask "$QA/pri/control.sock" "mem $rate" 60 > /dev/null ||
			! qcolo_wait_checkpoints $(( $(qcolo_checkpoints) + 1 )); then
			anchor_end "$out" "$(qcolo_stuck) at $rate pages/s after $(qcolo_checkpoints) checkpoints$(qcolo_hang_cause)"
			return
		fi
		first=$(( $(qcolo_checkpoints) + 1 ))
		pages0=$(qcolo_ram_pages)
		if ! qcolo_wait_checkpoints $((first + PER_RATE - 1)); then
			anchor_end "$out" "$(qcolo_stuck) at $rate pages/s after $(qcolo_checkpoints) checkpoints$(qcolo_hang_cause)"
			return
		fi
		pages1=$(qcolo_ram_pages)
		n=$(( $(qcolo_checkpoints) - first + 1 ))
		# pause lines: the first sync, then checkpoint 1, 2, ...
		echo "pause $rate $(qcolo_pauses | sed -n "$((first + 1)),$((first + PER_RATE))p" | stats)" >> "$out"
		[ -n "$pages0" ] && [ -n "$pages1" ] && echo "pages $rate $(( (pages1 - pages0) / n ))" >> "$out"
	done
	anchor_end "$out" "ok, $(qcolo_checkpoints) checkpoints"
}

anchor()
{
	local try best=0 lines most=-1 key rate rest
	if [ "$ANCHOR_TRIES" -eq 0 ]; then
		RES[anchor,stuck]=skipped
		RES[anchor,tries]="none asked for"
		RES[anchor,done_n]=0
		return
	fi
	for try in $(seq "$ANCHOR_TRIES"); do
		anchor_try "$try"
		RES[anchor,tries]+="${RES[anchor,tries]:+; }try $try: $(sed -n 's/^outcome //p' "$R/anchor.$try")"
		lines=$(wc -l < "$R/anchor.$try")
		[ "$lines" -gt "$most" ] && { most=$lines; best=$try; }
		grep -q '^outcome ok' "$R/anchor.$try" && break
		qcolo_show_logs
	done
	RES[anchor,best]=$best
	# every checkpoint QEMU completed, in whichever try: what its pause is
	# where no rate window completed
	cat "$R"/anchor.*.pauses 2> /dev/null | grep -E '^[0-9.]+$' > "$R/anchor.completed"
	read -r "RES[anchor,done_p50]" "RES[anchor,done_p99]" "RES[anchor,done_n]" \
		<<< "$(stats < "$R/anchor.completed")"
	grep -q '^outcome ok' "$R/anchor.$best" && RES[anchor,complete]=1
	RES[anchor,stuck]=hung
	grep -q '^outcome left COLO' "$R/anchor.$best" && RES[anchor,stuck]=left
	while read -r key rate rest; do
		case "$key" in
		tput | rtt) RES[anchor,$key]=$rate ;;
		pause) read -r "RES[anchor,p50,$rate]" "RES[anchor,p99,$rate]" "RES[anchor,n,$rate]" <<< "$rest" ;;
		pages) RES[anchor,pages,$rate]=$rest ;;
		esac
	done < "$R/anchor.$best"
}

echo "colod benchmark: $ROUNDS rounds, rates ${RATES[*]} pages/s, $PER_RATE checkpoints each, timer every ${INTERVAL_S}s, soak $SOAK"
for round in $(seq "$ROUNDS"); do
	echo "round $round: the guest alone"
	alone_round $((100 + round))
	if [ "$QUEUE_BYTES" != "$DEFAULT_QUEUE_BYTES" ]; then
		echo "round $round: the colod pair, proxy_queue_bytes $DEFAULT_QUEUE_BYTES (colod's default)"
		queue_bytes_set "$DEFAULT_QUEUE_BYTES"
		pair_start
		client_measure colod_default $((300 + round))
		pair_stop
		queue_bytes_set "$QUEUE_BYTES"
	fi
	echo "round $round: the colod pair"
	pair_start
	client_measure colod $((200 + round))
	if [ "$round" -eq "$ROUNDS" ]; then
		echo "the colod pair: dirty rates"
		colod_rates
		echo "soak: $SOAK checkpoints"
		soak
	fi
	pair_stop
done
# Last: what QEMU's COLO leaves behind when it hangs (killed processes, the
# taps they had) cannot touch colod's rounds.
echo "QEMU COLO anchor"
anchor

# --- the table -------------------------------------------------------------
# cell SETUP KEY: the value; for what the anchor could not measure, "hung",
# "left" (QEMU left COLO on an error) or "skipped" (no tries asked for).
cell()
{
	local v=${RES[$1,$2]:-}
	[ -n "$v" ] && { echo "$v"; return; }
	[ "$1" = anchor ] && [ -z "${RES[anchor,complete]:-}" ] && { echo "${RES[anchor,stuck]}"; return; }
	echo -
}
printf '\ncolod vs QEMU 7.2 COLO, guest %s MiB under nested TCG; timer checkpoints every %s s,\n' \
	"$GUEST_RAM_MB" "$INTERVAL_S"
printf 'and one when a PVM frame was held %s ms (colod proxy_timeout, colo-compare compare_timeout)\n' \
	"$HOLD_MS"
printf 'or, colod only, when a connection held %s bytes the replica had not matched (proxy_queue_bytes)\n' \
	"$QUEUE_BYTES"
printf '\nPVM pause per checkpoint against the guest'"'"'s dirty rate (%s checkpoints per rate)\n' "$PER_RATE"
printf '%-10s | %-47s | %-28s | %s\n' "" "colod: its own clock / QEMU's events" "QEMU COLO: QEMU's events" \
	"colod/QEMU p50"
printf '%-10s | %8s %9s %9s %9s %9s | %8s %9s %9s | %9s %9s\n' "pages/s" "pages/ck" "p50 ms" "p99 ms" \
	"p50 ms" "p99 ms" "pages/ck" "p50 ms" "p99 ms" "events" "own"
for rate in "${RATES[@]}"; do
	printf '%-10s | %8s %9s %9s %9s %9s | %8s %9s %9s | %9s %9s\n' "$rate" \
		"$(cell colod "pages,$rate")" "$(cell colod "p50,$rate")" "$(cell colod "p99,$rate")" \
		"$(cell colod "qp50,$rate")" "$(cell colod "qp99,$rate")" \
		"$(cell anchor "pages,$rate")" "$(cell anchor "p50,$rate")" "$(cell anchor "p99,$rate")" \
		"$(ratio "${RES[colod,qp50,$rate]:-}" "${RES[anchor,p50,$rate]:-}")" \
		"$(ratio "${RES[colod,p50,$rate]:-}" "${RES[anchor,p50,$rate]:-}")"
done
echo "(colod's own clock: from its stop request to the reply to its cont, as its log says; QEMU's events:"
echo " the PVM's QMP STOP to RESUME as QEMU timestamps them, for both; pages/ck: median for colod, mean for QEMU)"
if [ -n "${RES[colod,step_names]:-}" ]; then
	printf '\ncolod checkpoint by step, median ms per rate (colod.rst, One checkpoint): the pause is\n'
	printf 'stop..resume; released is from the resume to the output'"'"'s release, send + ack\n'
	printf '%-10s |' "pages/s"
	printf ' %8s' ${RES[colod,step_names]}
	printf '\n'
	for rate in "${RATES[@]}"; do
		printf '%-10s |' "$rate"
		printf ' %8s' ${RES[colod,steps,$rate]:-}
		printf '\n'
	done
fi

tput_alone=$(median ${RES[alone,tput]}) tput_colod=$(median ${RES[colod,tput]})
rtt_alone=$(median ${RES[alone,rtt]}) rtt_colod=$(median ${RES[colod,rtt]})
printf '\nClient through each setup (alone and colod: median of %s alternating rounds)\n' "$ROUNDS"
printf '%-30s %9s %9s %9s %11s %12s\n' "" alone colod "colod/alone" "QEMU COLO" "colod/QEMU"
printf '%-30s %9s %9s %9s %11s %12s\n' "stream throughput (KiB/s)" "${tput_alone:-failed}" "${tput_colod:-failed}" \
	"$(ratio "$tput_colod" "$tput_alone")" "$(cell anchor tput)" "$(ratio "$tput_colod" "${RES[anchor,tput]:-}")"
printf '%-30s %9s %9s %9s %11s %12s\n' "echo round trip, median (ms)" "${rtt_alone:-failed}" "${rtt_colod:-failed}" \
	"$(ratio "$rtt_colod" "$rtt_alone")" "$(cell anchor rtt)" "$(ratio "$rtt_colod" "${RES[anchor,rtt]:-}")"
echo "(each run: ${STREAM_KIB} KiB in 4 requests, byte-checked; $RTT_ROUNDS echoes of 32 bytes; per-round values:"
echo " alone tput${RES[alone,tput]}, rtt${RES[alone,rtt]}; colod tput${RES[colod,tput]}, rtt${RES[colod,rtt]})"
echo "colod: percent of the stream released by the compare, per round:${RES[colod,matched]:-} (the rest waited"
echo " for the next checkpoint: under TCG each replica translates the guest's code afresh: colod.rst, The replica under emulation)"
echo "colod: checkpoints during the stream per round (of them, loads the next superseded):${RES[colod,ckpts]:-}"
if [ -n "${RES[colod_default,tput]:-}" ]; then
	tput_default=$(median ${RES[colod_default,tput]})
	printf 'colod at proxy_queue_bytes %s (its default): stream %s KiB/s (%s of QEMU COLO'"'"'s), echo %s ms;\n' \
		"$DEFAULT_QUEUE_BYTES" "${tput_default:-failed}" "$(ratio "$tput_default" "${RES[anchor,tput]:-}")" \
		"$(median ${RES[colod_default,rtt]})"
	echo " per round: tput${RES[colod_default,tput]}, rtt${RES[colod_default,rtt]}; released by the compare, %:${RES[colod_default,matched]};"
	echo " checkpoints (superseded loads):${RES[colod_default,ckpts]}"
fi

printf '\nSoak: %s manual checkpoints in a row, guest writing %s pages/s and %s disk records/s\n' \
	"$SOAK" "$SOAK_MEM_RATE" "$SOAK_DISK_RATE"
printf '  outcome: %s; manual checkpoints done: %s (%s with the timer'"'"'s); primary then: %s\n' \
	"${RES[soak,outcome]}" "${RES[soak,done]}" "${RES[soak,all]}" "${RES[soak,state]}"
printf '  client across it: %s streams, %s bytes intact, %s bytes lost\n' \
	"${RES[soak,streams]}" "${RES[soak,intact]}" "${RES[soak,lost]}"

printf '\nQEMU COLO anchor: %s%s\n' "${RES[anchor,tries]}" "${RES[anchor,best]:+ (table from try ${RES[anchor,best]})}"
printf 'QEMU COLO checkpoints completed in all tries (first syncs left out): %s, pause p50 %s ms, p99 %s ms\n' \
	"${RES[anchor,done_n]}" "${RES[anchor,done_p50]}" "${RES[anchor,done_p99]}"
goal_pause=$(ratio "${RES[colod,qp50,${RATES[0]}]:-}" "${RES[anchor,p50,${RATES[0]}]:-}")
if [ "$goal_pause" = - ] && [ "${RES[anchor,done_n]}" != 0 ]; then
	goal_pause="$(ratio "${RES[colod,qp50,${RATES[0]}]:-}" "${RES[anchor,done_p50]}") (against the ${RES[anchor,done_n]} checkpoints QEMU completed before it ${RES[anchor,stuck]/left/left COLO})"
fi
goal_pause_own=$(ratio "${RES[colod,p50,${RATES[0]}]:-}" "${RES[anchor,p50,${RATES[0]}]:-${RES[anchor,done_p50]}}")
goal_tput=$(ratio "$tput_colod" "${RES[anchor,tput]:-}")
echo "Goals (reported, not asserted): PVM pause at most 1/3 of QEMU COLO's: p50 ratio at ${RATES[0]} pages/s $goal_pause"
echo "  (both by QEMU's events; colod by its own clock: $goal_pause_own);"
echo "  client throughput at least 2x QEMU COLO's: $goal_tput"
