#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# QEMU 7.2's own COLO, set up the way QEMU's COLO documentation describes,
# on the colod topology (colod_lib.sh) and the end-to-end guest (booted, not
# from its snapshot: see "RAM size" below): the anchor the colod benchmark
# (colod.sh) compares against. Sourced after colod_lib.sh, with nothing of
# colod running.
#
#   pri: PVM QEMU on tap0, booted with the guest's kernel and initramfs
#        net0 --filter-mirror (frames to the guest)--> 192.168.77.1:9003 ---+
#        net0 --filter-redirector (guest's frames)--> colo-compare          |
#             <--filter-redirector (released frames)--+   ^ 192.168.77.1:9004
#        disk0 = quorum [raw file, later + replication(primary) over NBD] |  |
#   sec: SVM QEMU on tap0, -incoming tcp:192.168.77.2:9998               |  |
#        net0 <--filter-redirector (mirrored frames)-- red0 <------------+  |
#        net0 --filter-redirector (SVM's frames)------ red1 ----------------+
#        net0 filter-rewriter; disk0 = quorum [replication(secondary):
#        active and hidden qcow2 over the raw file, exported by QEMU's own
#        nbd-server on 192.168.77.2:9999]
#
# The client's hub port to the secondary (c-s) is down while the anchor
# runs: in QEMU's COLO the SVM gets client frames only from the mirror.
#
# QEMU 7.2's COLO hangs under TCG, in most tries here before its first or
# second checkpoint: every step here is bounded and reports a hang instead
# of waiting for it, with the PVM's lock waits (lock_waits.py) when it
# hangs. The hang found (2026-12-02): the PVM's migration thread waits
# for the big QEMU lock (BQL) it already holds, right after the
# secondary's "vmstate-loaded", and the main loop waits for it too. The
# cause, from QEMU 7.2's source: the checkpoint saves the RAM
# (qemu_savevm_live_state) after dropping the BQL; the RAM's dirty sync
# ends in tcg_log_global_after_sync, whose run_on_cpu waits on a condition
# with the BQL's mutex it does not hold, and wakes up holding it. That
# wait happens only when the vCPU has not yet run the request, which on a
# busy emulated host is nearly always; KVM has no such step.
#
# So the bench steers around it (qcolo_yield_to_vcpu): once in COLO, the
# PVM's migration thread runs at SCHED_IDLE on the host CPU of the vCPU and
# the main loop, and whoever it wakes runs first. With that, QEMU's COLO
# went on for 140 checkpoints in one try (2026-12-03) where it had hung
# within two (one try of ten still hung, before its first checkpoint,
# which could come before the placement: hence QCOLO_FIRST_DELAY_MS).
# QCOLO_YIELD=0 leaves the threads where the kernel puts them, to see the
# hang. This placement costs the anchor's PVM some throughput: its vCPU
# and main loop share one CPU.
#
# RAM size: with the guest's 64 MiB, most other tries ended within
# 1-4 checkpoints of the client's download with the PVM leaving COLO
# ("Can't receive COLO message"): the SVM's guest kernel had crashed, each
# time somewhere else (NULL and list-poison dereferences in interrupt
# context, "scheduling while atomic"), and with -no-reboot its QEMU quit
# without a word. Its memory was not the PVM's. QEMU 7.2's RAM sync has a
# fast path for RAM blocks whose size is a multiple of 64 pages, which
# clears dirty bits without making TCG's TLB trap the next write to those
# pages, so the PVM's writes to pages its vCPU already holds writable are
# never sent (fixed in QEMU 9.0, commit 03bfc2188f, "physmem: Fix
# migration dirty bitmap coherency with TCG memory access"; Debian's 7.2.22
# does not have it). The anchor's guest therefore gets QCOLO_RAM_PAD_KIB
# (default 8) KiB more than 64 MiB, which takes the sync's slow path, where
# the TLB is reset: four of the five tries after that change completed
# (108-147 checkpoints), and none crashed the SVM. The guest's
# snapshot has 64 MiB, so both QEMUs boot it instead, and the migration
# starts once its workload is up. The slow path costs the pause time per
# dirty page; QCOLO_RAM_PAD_KIB=0 goes back to the snapshot and the fast
# path, to see the crashes.
#
# The PVM's pause per checkpoint is taken from its QMP events: STOP (the
# checkpoint stops the VM) to the RESUME that follows, as QEMU timestamps
# them.

QCOLO_CHECKPOINT_HANG_S=${QCOLO_CHECKPOINT_HANG_S:-90}
QCOLO_RAM_PAD_KIB=${QCOLO_RAM_PAD_KIB:-8}
# The timer's first checkpoint waits this long after the first sync, so that
# the threads are placed (qcolo_yield_to_vcpu) before it: qcolo_start sets
# the real interval once they are.
QCOLO_FIRST_DELAY_MS=3600000

# qcolo_qmp SIDE [qmp.py arguments...]: bounded QMP commands to the anchor's
# PVM (pri) or SVM (sec).
qcolo_qmp()
{
	local side=$1
	shift
	timeout 40 "$GUEST_QMP" --timeout 30 "$QA/$side/qmp.sock" "$@"
}

# qcolo_watch_events: the PVM's QMP events, one "SECONDS EVENT DATA" line each,
# appended to $QA/pri/events until QEMU goes away.
qcolo_watch_events()
{
	python3 - "$QA/pri/events.sock" > "$QA/pri/events" 2> "$QA/pri/events.err" <<'PYEOF' &
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('r')
f.readline()
s.sendall(b'{"execute": "qmp_capabilities"}\n')
for line in f:
    msg = json.loads(line)
    if 'event' in msg:
        t = msg['timestamp']
        print('%d.%06d %s %s' % (t['seconds'], t['microseconds'], msg['event'],
                                 json.dumps(msg.get('data', {}))), flush=True)
PYEOF
	echo $! > "$QA/pri/events.pid"
	disown $!
}

# qcolo_start INTERVAL_MS HOLD_MS: both QEMUs up, the secondary's NBD
# export, the primary's replication child and the x-colo migration; returns
# when the migration is in the "colo" state. HOLD_MS is colo-compare's
# compare_timeout (a PVM packet held that long asks for a checkpoint),
# looked for every quarter of it as colo_proxy does. On failure QCOLO_WHY
# says at which step.
qcolo_start()
{
	local side ram=${GUEST_RAM_MB}M start_from=(-incoming "exec:cat $GUEST_SNAPSHOT")
	if [ "$QCOLO_RAM_PAD_KIB" -gt 0 ]; then
		ram=$((GUEST_RAM_MB * 1024 + QCOLO_RAM_PAD_KIB))k
		start_from=()
	fi
	QA=$(mktemp -d "$W/qcolo.XXXXXX")
	for side in pri sec; do
		mkdir -p "$QA/$side"
		truncate -s "${GUEST_DISK_MB}M" "$QA/$side/disk.img"
	done
	qemu-img create -q -f qcow2 "$QA/sec/active.qcow2" "${GUEST_DISK_MB}M" &&
		qemu-img create -q -f qcow2 "$QA/sec/hidden.qcow2" "${GUEST_DISK_MB}M" ||
		{ QCOLO_WHY="qemu-img create failed"; return 1; }
	ip -n cli link set c-s down
	on_exit "ip -n cli link set c-s up"
	on_exit "qcolo_stop"

	guest_device_args "$QA/pri/control.sock" "$QA/pri/console.log"
	ip netns exec pri qemu-system-x86_64 "${GUEST_DEVICE_ARGS[@]}" -name pri,debug-threads=on \
		-m "$ram" -object "memory-backend-ram,id=ram0,size=$ram" \
		-machine memory-backend=ram0 \
		-netdev tap,id=net0,ifname=tap0,script=no,downscript=no,vnet_hdr=off \
		-chardev socket,id=mirror0,host=192.168.77.1,port=9003,server=on,wait=off \
		-chardev socket,id=compare1,host=192.168.77.1,port=9004,server=on,wait=on \
		-chardev socket,id=compare0,host=127.0.0.1,port=9001,server=on,wait=off \
		-chardev socket,id=compare0-0,host=127.0.0.1,port=9001 \
		-chardev socket,id=compare_out,host=127.0.0.1,port=9005,server=on,wait=off \
		-chardev socket,id=compare_out0,host=127.0.0.1,port=9005 \
		-object filter-mirror,id=m0,netdev=net0,queue=tx,outdev=mirror0 \
		-object filter-redirector,id=redire0,netdev=net0,queue=rx,indev=compare_out \
		-object filter-redirector,id=redire1,netdev=net0,queue=rx,outdev=compare0 \
		-object iothread,id=iothread1 \
		-object "colo-compare,id=comp0,primary_in=compare0-0,secondary_in=compare1,outdev=compare_out0,iothread=iothread1,compare_timeout=$2,expired_scan_cycle=$(( $2 / 4 > 0 ? $2 / 4 : 1 ))" \
		-drive "if=none,id=disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0.file.filename=$QA/pri/disk.img,children.0.driver=raw" \
		-qmp "unix:$QA/pri/qmp.sock,server=on,wait=off" \
		-qmp "unix:$QA/pri/events.sock,server=on,wait=off" \
		-trace migration_bitmap_sync_end -D "$QA/pri/trace.log" \
		"${start_from[@]}" > "$QA/pri/qemu.log" 2>&1 &
	echo $! > "$QA/pri/pid"
	disown $!

	guest_device_args "$QA/sec/control.sock" "$QA/sec/console.log"
	ip netns exec sec qemu-system-x86_64 "${GUEST_DEVICE_ARGS[@]}" -name sec,debug-threads=on \
		-m "$ram" -object "memory-backend-ram,id=ram0,size=$ram" \
		-machine memory-backend=ram0 \
		-netdev tap,id=net0,ifname=tap0,script=no,downscript=no,vnet_hdr=off \
		-chardev socket,id=red0,host=192.168.77.1,port=9003,reconnect=1 \
		-chardev socket,id=red1,host=192.168.77.1,port=9004,reconnect=1 \
		-object filter-redirector,id=f1,netdev=net0,queue=tx,indev=red0 \
		-object filter-redirector,id=f2,netdev=net0,queue=rx,outdev=red1 \
		-object filter-rewriter,id=rew0,netdev=net0,queue=all \
		-drive "if=none,id=parent0,driver=raw,file.filename=$QA/sec/disk.img" \
		-drive "if=none,id=childs0,driver=replication,mode=secondary,top-id=disk0,file.driver=qcow2,file.file.filename=$QA/sec/active.qcow2,file.backing.driver=qcow2,file.backing.file.filename=$QA/sec/hidden.qcow2,file.backing.backing=parent0" \
		-drive if=none,id=disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0=childs0 \
		-qmp "unix:$QA/sec/qmp.sock,server=on,wait=off" \
		-incoming tcp:192.168.77.2:9998 > "$QA/sec/qemu.log" 2>&1 &
	echo $! > "$QA/sec/pid"
	disown $!

	qcolo_qmp sec migrate-set-capabilities '{"capabilities": [{"capability": "x-colo", "state": true}]}' \
		-- nbd-server-start '{"addr": {"type": "inet", "data": {"host": "192.168.77.2", "port": "9999"}}}' \
		-- nbd-server-add '{"device": "parent0", "writable": true}' > "$QA/sec/setup.log" 2>&1 ||
		{ QCOLO_WHY="secondary setup: $(tail -n 1 "$QA/sec/setup.log")"; return 1; }
	if [ ${#start_from[@]} -eq 0 ]; then
		"$GUEST_CTL" wait "$QA/pri/control.sock" 180 > "$QA/pri/setup.log" 2>&1 ||
			{ QCOLO_WHY="the primary's guest did not come up: $(tail -n 1 "$QA/pri/setup.log")"; return 1; }
	else
		timeout 200 "$GUEST_QMP" --timeout 180 "$QA/pri/qmp.sock" wait-status running \
			> "$QA/pri/setup.log" 2>&1 ||
			{ QCOLO_WHY="the primary did not run from the snapshot: $(tail -n 1 "$QA/pri/setup.log")"; return 1; }
	fi
	qcolo_watch_events
	# The mirror drops what it cannot send: from the first sync on, the
	# SVM must get every frame the PVM gets.
	wait_for 60 qcolo_proxy_connected ||
		{ QCOLO_WHY="the secondary never connected to the primary's mirror and compare"; return 1; }
	qcolo_qmp pri human-monitor-command '{"command-line": "drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=192.168.77.2,file.port=9999,file.export=parent0,node-name=replication0"}' \
		-- x-blockdev-change '{"parent": "disk0", "node": "replication0"}' \
		-- migrate-set-capabilities '{"capabilities": [{"capability": "x-colo", "state": true}]}' \
		-- migrate-set-parameters "{\"x-checkpoint-delay\": $QCOLO_FIRST_DELAY_MS}" \
		-- migrate '{"uri": "tcp:192.168.77.2:9998"}' >> "$QA/pri/setup.log" 2>&1 ||
		{ QCOLO_WHY="primary setup: $(tail -n 1 "$QA/pri/setup.log")"; return 1; }
	# drive_add reports its errors as text, not as a QMP error
	[ "$(sed -n 2p "$QA/pri/setup.log")" = '""' ] ||
		{ QCOLO_WHY="drive_add: $(sed -n 2p "$QA/pri/setup.log")"; return 1; }
	wait_for 200 qcolo_in_colo || { QCOLO_WHY="the migration never reached the colo state"; return 1; }
	if [ "${QCOLO_YIELD:-1}" = 1 ]; then
		qcolo_yield_to_vcpu || { QCOLO_WHY="could not place the PVM's threads"; return 1; }
	fi
	# QEMU takes a checkpoint at once when the delay changes in COLO, and
	# then one every INTERVAL_MS
	qcolo_qmp pri migrate-set-parameters "{\"x-checkpoint-delay\": $1}" >> "$QA/pri/setup.log" 2>&1 ||
		{ QCOLO_WHY="setting the checkpoint interval: $(tail -n 1 "$QA/pri/setup.log")"; return 1; }
}

# qcolo_yield_to_vcpu: the PVM's migration thread on the vCPU's host CPU,
# at SCHED_IDLE, so that its run_on_cpu request (see the top) wakes the
# vCPU onto that CPU at once, and the vCPU runs it before the migration
# thread gets to the condition wait that hangs it. The vCPU needs the BQL
# for that: the main loop goes on the same CPU too, so that when it holds
# the BQL it also runs, and lets go, before the migration thread does.
# The migration thread only exists once migrating, and at SCHED_IDLE it
# could starve the first sync: hence after it.
qcolo_yield_to_vcpu()
{
	local pid task cpu migration=
	pid=$(cat "$QA/pri/pid")
	for task in /proc/"$pid"/task/*; do
		case "$(cat "$task/comm")" in
		live_migration) migration=${task##*/} ;;
		"CPU 0/TCG") cpu=${task##*/} ;;
		esac
	done
	[ -n "$migration" ] && [ -n "$cpu" ] || return 1
	taskset -p -c 0 "$pid" > /dev/null && taskset -p -c 0 "$cpu" > /dev/null &&
		taskset -p -c 0 "$migration" > /dev/null && chrt --idle -p 0 "$migration"
}

qcolo_in_colo() { qcolo_qmp pri query-migrate | grep -q '"status": "colo"'; }

# qcolo_proxy_connected: the SVM's redirectors are connected to the PVM's
# mirror (mirror0) and compare input (compare1).
qcolo_proxy_connected()
{
	qcolo_qmp pri query-chardev | python3 -c '
import json, sys
up = {c["label"] for c in json.load(sys.stdin) if not c["filename"].startswith("disconnected:")}
sys.exit(0 if {"mirror0", "compare1"} <= up else 1)'
}

# qcolo_exited: the PVM left COLO (its COLO_EXIT event), and runs alone.
qcolo_exited() { grep -q '^[0-9.]* COLO_EXIT ' "$QA/pri/events" 2> /dev/null; }

# qcolo_stuck: how a try that stopped checkpointing ended: "left COLO" when
# QEMU gave up on its own, else "hung".
qcolo_stuck()
{
	if qcolo_exited; then echo "left COLO"; else echo hung; fi
}

# qcolo_hang_cause: for a try that left COLO, the PVM's last error line;
# for a hung one, what the PVM's threads wait on, to $QA/pri/locks
# (lock_waits.py); prints " (the PVM's NAME thread waits for a lock it
# holds)" when that is what hangs it.
qcolo_hang_cause()
{
	local pid
	if qcolo_exited; then
		grep -v 'filter mirror send failed' "$QA/pri/qemu.log" | tail -n 1 | sed 's/^qemu-system-x86_64: \(.*\)/ (the PVM: \1)/'
		return 0
	fi
	pid=$(cat "$QA/pri/pid" 2> /dev/null) && kill -0 "$pid" 2> /dev/null || return 0
	python3 "$(dirname "${BASH_SOURCE[0]}")/lock_waits.py" "$pid" > "$QA/pri/locks" 2>&1
	sed -n "s/^self-deadlock: [0-9]* (\(.*\))\$/ (the PVM's \1 thread waits for a lock it holds)/p" \
		"$QA/pri/locks" | head -n 1
}

# qcolo_pauses: the pause of every STOP/RESUME pair of the PVM, in ms, one
# per line, in order; the first pair is the initial migration (first sync).
qcolo_pauses()
{
	awk '$2 == "STOP" { t = $1 } $2 == "RESUME" && t { printf "%.1f\n", ($1 - t) * 1000; t = 0 }' \
		"$QA/pri/events"
}

# qcolo_checkpoints: checkpoints completed since the first sync.
qcolo_checkpoints()
{
	local n
	n=$(qcolo_pauses | wc -l)
	echo $((n > 0 ? n - 1 : 0))
}

# qcolo_stopped_for: seconds the PVM has been stopped by an unfinished
# checkpoint (0 while it runs).
qcolo_stopped_for()
{
	tail -n 1 "$QA/pri/events" | awk -v now="$EPOCHREALTIME" '$2 == "STOP" { s = now - $1 } END { printf "%d\n", s }'
}

# qcolo_wait_checkpoints N: until N checkpoints are done. Returns 1 when the
# PVM stays stopped in one for QCOLO_CHECKPOINT_HANG_S (QEMU hung) or QEMU
# is gone, 2 when none completes within that time either.
qcolo_wait_checkpoints()
{
	local last progress
	last=$(qcolo_checkpoints)
	progress=$(date +%s)
	while [ "$(qcolo_checkpoints)" -lt "$1" ]; do
		kill -0 "$(cat "$QA/pri/pid")" 2> /dev/null || return 1
		qcolo_exited && return 1
		[ "$(qcolo_stopped_for)" -ge "$QCOLO_CHECKPOINT_HANG_S" ] && return 1
		if [ "$(qcolo_checkpoints)" != "$last" ]; then
			last=$(qcolo_checkpoints)
			progress=$(date +%s)
		elif [ $(( $(date +%s) - progress )) -ge "$QCOLO_CHECKPOINT_HANG_S" ]; then
			return 2
		fi
		sleep 0.2
	done
}

# qcolo_ram_pages: the dirty pages the PVM's RAM syncs have found so far,
# one sync per checkpoint, from its migration_bitmap_sync_end trace lines
# (trace.log): in the colo state query-migrate reports no RAM figures.
qcolo_ram_pages()
{
	sed -n 's/.*migration_bitmap_sync_end dirty_pages \([0-9]*\).*/\1/p' "$QA/pri/trace.log" |
		awk '{ n += $1 } END { print n + 0 }'
}

# qcolo_show_logs: what the two QEMUs, the PVM's events and the SVM's
# console said, for a try that did not complete.
qcolo_show_logs()
{
	local f
	for f in pri/qemu.log sec/qemu.log pri/setup.log sec/setup.log pri/events pri/locks; do
		[ -s "$QA/$f" ] || continue
		echo "  --- QEMU COLO $f"
		awk '!seen[$0]++' "$QA/$f" | tail -n 8 | sed 's/^/  /'
	done
	qcolo_show_svm_console
}

# qcolo_show_svm_console: whether the SVM's guest kernel panicked, and
# its console. In the test VM the console goes to a file in the run's
# output (nested/), not to the test VM's own console, where the nested
# kernel's panic would read as the test VM's (klog-check.sh).
qcolo_show_svm_console()
{
	local f=$QA/sec/console.log keep
	[ -s "$f" ] || return 0
	if grep -q 'Kernel panic' "$f"; then
		echo "  --- the SVM's guest kernel panicked: $(grep -m1 -E '^(BUG|Oops|general protection)' "$f")" \
			"at $(grep -m1 -o 'RIP: [0-9a-f]*:0x[0-9a-f]*' "$f")"
	fi
	if [ -n "${COLO_OUT:-}" ]; then
		keep=nested/$(basename "$QA")-svm-console.log
		mkdir -p "$COLO_OUT/nested" && cp "$f" "$COLO_OUT/$keep" &&
			echo "  --- the SVM's console: $keep in the run's output"
		return 0
	fi
	echo "  --- QEMU COLO sec/console.log"
	awk '!seen[$0]++' "$f" | tail -n 8 | sed 's/^/  /'
}

# qcolo_stop: both QEMUs killed (a hung QEMU ignores SIGTERM). They and
# the event watcher are disowned when started, so that the shell prints no
# line for each job the kill ends.
qcolo_stop()
{
	local f
	for f in "$QA/pri/pid" "$QA/sec/pid" "$QA/pri/events.pid"; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2> /dev/null
	done
	for f in "$QA/pri/pid" "$QA/sec/pid"; do
		[ -s "$f" ] && wait_for 30 sh -c "! kill -0 $(cat "$f")"
		rm -f "$f"
	done
	ip -n cli link set c-s up
}
