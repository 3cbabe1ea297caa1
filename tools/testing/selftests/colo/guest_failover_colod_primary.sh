#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The primary's colod alone is killed (SIGKILL; its host, its corosync and
# its links stay) while a client downloads over one long-lived TCP
# connection: its QEMU dies with it, corosync reports that the agent's
# process ended, and the secondary takes over; the download completes
# byte-exact over the same connection. A colod started again on the old
# primary (as systemd's Restart= would) removes what the killed one left
# and waits: the secondary, which runs the VM now, refuses it, and no
# second copy of the guest runs. Before the kill, the secondary's next
# replica QEMU is held back from starting while checkpoints go on: the
# replica is down, the secondary acknowledges each checkpoint and skips the
# loads they supersede, the primary's proxy holds output only briefly, and
# the takeover loads the last one first.
# Topology: failover_lib.sh.
. "$(dirname "$0")/failover_lib.sh"

# load_waits: one manual checkpoint; true once the secondary's replica is
# down with the last checkpoint waiting for the next QEMU, and the load of
# at least one before it was skipped.
load_waits()
{
	vm primary checkpoint > /dev/null
	[ "$(field secondary "['load_pending']")" = True ] &&
		count_at_least secondary "['loads_superseded']" 1
}

failover_test_start ok
t_check "the primary's QEMU runs" qemu_of primary
download_start 41 $((4 << 20))
t_check "the download is under way (1 MB served)" wait_for 120 streamed_at_least

touch "$W/qemu.hold"
# a failure before the takeover still lets the held QEMU go, before cleanup
on_exit "rm -f '$W/qemu.hold'"
t_check "with the next replica held back, checkpoints go on and supersede its load" \
	wait_for 300 load_waits
echo "# secondary: $(vm secondary status | grep -E '^  replica')"
# Meanwhile nothing compares the primary's output: its proxy holds a frame
# at most proxy_timeout_no_replica (20 ms by default, not the 3 s of
# proxy_timeout) before it asks for a checkpoint.
replica_down_seen()
{
	vm primary status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["replica_ckpt_id"], d["last_checkpoint_id"], d["proxy"].get("timeout_ms"))
sys.exit(not (d["replica_ckpt_id"] < d["last_checkpoint_id"] and
              d["proxy"].get("timeout_ms") == 20))'
}
t_check "... and the primary's proxy holds output 20 ms at most meanwhile" replica_down_seen
echo "# primary: $(vm primary status | grep -E '^  replica')"

kill_at=$EPOCHREALTIME
kill -9 "$(cat "$W/primary.pid")"
t_check "the primary's QEMU dies with its agent" wait_for 60 no_qemu_of primary
t_check "the secondary loads the waiting checkpoint before taking over" wait_for 120 \
	log_has secondary "taking over: checkpoint [0-9]+ waits for replica QEMU"
rm "$W/qemu.hold"
t_check "the secondary takes over" wait_state secondary took-over 120 || show_all
t_check "... from the checkpoint it acknowledged last" \
	log_has secondary "checkpoint $(field secondary "['last_checkpoint_id']") loaded in"
t_check "... because corosync said the primary's agent ended" \
	log_has secondary "the peer left the cluster group: its agent's process ended"
wait "$DOWNLOAD"
t_check "the download completes byte-exact over the same connection" test $? = 0 || show_all
download_report "$kill_at"
echo "# takeover: $(field secondary "['takeover_ms']") ms from the primary leaving the cluster group"

mv "$W/primary.log" "$W/primary-killed.log"
colod_start primary pri
t_check "a colod started again on the old primary removes what the killed one left" \
	wait_for 120 log_has primary \
	"removed what an earlier colod of this VM left: the proxy instance, colo-vm0$"
t_check "... and the secondary, which runs the VM, refuses it" wait_for 60 log_has secondary \
	"refused an agent connection from 192.168.77.1: this host took over"
t_check "the new agent keeps waiting" state_is primary waiting-for-peer
t_check "... and runs no QEMU" no_qemu_of primary
t_check "the survivor serves new connections" \
	ip netns exec cli "$GUEST_CTL" stream 10.0.0.2 42 65536
vm secondary status | sed 's/^/# /'

t_check "the new primary colod stops" vm primary stop
t_check "... and exits" wait_for 120 agent_gone primary
t_check "... and leaves no dm device" sh -c '! dmsetup info colo-vm0 > /dev/null 2>&1'
t_check "... and no proxy instance" sh -c "! ip netns exec pri '$COLOCTL' proxy stats tap0 > /dev/null 2>&1"
t_check "secondary colod stops" vm secondary stop
t_done
