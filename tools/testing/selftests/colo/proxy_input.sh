#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy hold-input (proxy_data.sh's topology). While the primary holds
# its input, datagrams for the guest reach neither the PVM nor the SVM; the
# checkpoint hands them to both, in the order they came, and so does
# release-input without one. A TCP connection opened during a hold gets
# going after it and downloads byte-exact. Beyond hold-packets a frame is
# dropped for both and counted. Deleting the instance delivers what it kept;
# failover delivers it to the PVM alone. The secondary refuses to hold.
# A secondary's checkpoint with await-peer keeps the SVM's frames until the
# primary's checkpoint (or the timeout); its failover drops them.
# Nothing is left when the module goes.
source "$(dirname "$0")/proxy_data.sh"

# The secondary's wait for the primary's checkpoint ends after its timeout:
# long enough here for the slow starts of the senders on a loaded machine.
SEC_ADD_OPTS="timeout 10000"


# lines FILE PREFIX: the datagrams received whose text starts with PREFIX,
# space-separated, in the order they came.
lines() { grep "^$2" "$1" 2> /dev/null | tr '\n' ' ' | sed 's/ $//'; }
# send_tagged PREFIX N: datagrams PREFIX0 .. PREFIX(N-1) from the client.
send_tagged()
{
	nsx cli python3 -c "import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range($2):
    s.sendto(b'$1%d' % i, ('10.0.0.2', 5999))"
}
# both_got PREFIX WANT: the PVM's and the SVM's sinks received exactly WANT.
both_got() { pvm_got "$1" "$2" && [ "$(lines "$T/svm" "$1")" = "$2" ]; }
pvm_got() { [ "$(lines "$T/pvm" "$1")" = "$2" ]; }
held_at_least() { [ "$(stat pri p-g input_held)" -ge "$1" ]; }

t_check "load colo_proxy" load_module colo_proxy
t_check "warm-up round of the topology" topology_warm_up eval \
	'nsx pri "$COLOCTL" proxy hold-input p-g && nsx pri "$COLOCTL" proxy release-input p-g'
slab_before=$(slab_active_objects)
t_check "topology and instances" setup || t_done
no_module_autoload
bg pvm $PY usink 5999 "$T/pvm"
bg svm $PY usink 5999 "$T/svm"
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
t_check "sinks and servers up" wait_for 30 eval "nsx pvm ss -Hlun 'sport = :5999' | grep -q . &&
	nsx svm ss -Hlun 'sport = :5999' | grep -q . && listening pvm 8080 && listening svm 8080"

send_tagged a 2
t_check "without a hold both guests get the datagrams" wait_for 30 both_got a "a0 a1"

t_check "the secondary refuses to hold" fails_with "only a primary instance holds input" \
	nsx sec "$COLOCTL" proxy hold-input s-g
t_check "hold-input" nsx pri "$COLOCTL" proxy hold-input p-g
send_tagged b 5
t_check "the primary keeps the five datagrams" wait_for 30 held_at_least 5
t_check "... and neither guest has any of them" eval '[ -z "$(lines "$T/pvm" b)" ] && [ -z "$(lines "$T/svm" b)" ]'
t_check "... which count as held" eval '[ "$(stat pri p-g holding_packets)" -ge 5 ]'
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "after the checkpoint both guests got all five, in order" \
	wait_for 30 both_got b "b0 b1 b2 b3 b4"
t_check "nothing held any more" eval '[ "$(stat pri p-g holding_packets)" = 0 ]'

t_check "hold-input again" nsx pri "$COLOCTL" proxy hold-input p-g
send_tagged c 3
t_check "kept" wait_for 30 held_at_least 8
t_check "release-input" nsx pri "$COLOCTL" proxy release-input p-g
t_check "release-input handed them to both guests, in order" wait_for 30 both_got c "c0 c1 c2"

t_check "hold-input for a new connection" nsx pri "$COLOCTL" proxy hold-input p-g
{ nsx cli $PY clients 10.0.0.2 8080 1 200000; echo $? > "$T/download.rc"; } > "$T/download" 2>&1 &
t_check "the client's SYN is kept" wait_for 30 held_at_least 9
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "the download opened during the hold ends" wait_for 120 test -s "$T/download.rc"
t_check "... byte-exact" eval '[ "$(cat "$T/download.rc")" = 0 ] || ! cat "$T/download"' ||
	t_note "primary: $(nsx pri "$COLOCTL" proxy stats p-g | tr -s ' ' | tr '\n' ' ')" \
		"secondary: $(nsx sec "$COLOCTL" proxy stats s-g | tr -s ' ' | tr '\n' ' ')"

# A primary with room for 16 frames
pri_add() { nsx pri "$COLOCTL" proxy add p-g role primary local 192.168.77.1:7000 peer 192.168.77.2:7000 timeout 10000 "$@"; }
t_check "primary instance again, hold-packets 16" eval "nsx pri $COLOCTL proxy del p-g && pri_add hold-packets 16"

before=$(stat pri p-g input_held)
full_before=$(stat pri p-g hold_full)
t_check "hold-input at a limit of 16 frames" nsx pri "$COLOCTL" proxy hold-input p-g
send_tagged d 40
t_check "the limit is hit" wait_for 30 stat_gt pri p-g hold_full "$((full_before + 23))"
t_check "no more than 16 kept" test "$(( $(stat pri p-g input_held) - before ))" -le 16
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
kept=$(( $(stat pri p-g input_held) - before ))
t_check "both guests got the same datagrams, the first ones sent" \
	wait_for 30 eval 'n=$(lines "$T/pvm" d | wc -w); [ "$n" -ge $((kept - 2)) ] &&
	[ "$n" -le 16 ] && both_got d "$(seq -f "d%g" 0 $((n - 1)) | tr "\n" " " | sed "s/ $//")"'
t_note "kept $kept of 40, PVM got $(lines "$T/pvm" d | wc -w), SVM $(lines "$T/svm" d | wc -w)"

# The new SVM's frames after a secondary checkpoint with await-peer wait
# for the primary's checkpoint, or for the timeout (10 s here) if the
# primary's word never comes.
svm_send() { nsx svm python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'$1', ('10.0.0.1', 5998))"; }
svm_frames_above() { [ "$(stat pri p-g svm_frames)" -ge $(($1 + $2)) ]; }
t_check "a primary refuses await-peer" fails_with "only a secondary awaits its peer's checkpoint" \
	nsx pri "$COLOCTL" proxy checkpoint p-g await-peer
rx0=$(stat pri p-g svm_frames)
t_check "secondary checkpoint with await-peer" nsx sec "$COLOCTL" proxy checkpoint s-g await-peer
svm_send g0
svm_send g1
t_check "the secondary keeps the SVM's frames" wait_for 30 eval '[ "$(stat sec s-g svm_awaited)" -ge 2 ]'
t_check "... the primary has none of them" test "$(stat pri p-g svm_frames)" = "$rx0"
t_check "primary checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "the primary's word sends them on" wait_for 30 svm_frames_above "$rx0" 2
t_check "nothing kept on the secondary" eval '[ "$(stat sec s-g holding_packets)" = 0 ]'
rx0=$(stat pri p-g svm_frames)
t_check "await-peer without the primary's checkpoint" nsx sec "$COLOCTL" proxy checkpoint s-g await-peer
svm_send h0
t_check "kept" wait_for 30 eval '[ "$(stat sec s-g svm_awaited)" -ge 3 ]'
t_check "the wait ends after the timeout" wait_for 60 svm_frames_above "$rx0" 1

t_check "hold-input, then delete the instance" nsx pri "$COLOCTL" proxy hold-input p-g
send_tagged e 2
t_check "kept" wait_for 30 eval '[ "$(stat pri p-g holding_packets)" -ge 2 ]'
t_check "delete" nsx pri "$COLOCTL" proxy del p-g
t_check "deleting the instance delivered them to the PVM" wait_for 30 pvm_got e "e0 e1"
t_check "primary instance again" pri_add
t_check "hold-input, then failover" nsx pri "$COLOCTL" proxy hold-input p-g
send_tagged f 2
t_check "kept" wait_for 30 held_at_least 2
t_check "failover" nsx pri "$COLOCTL" proxy failover p-g
t_check "failover delivered them to the PVM" wait_for 30 pvm_got f "f0 f1"
t_check "... and not to the SVM" test -z "$(lines "$T/svm" f)"
t_check "a failed-over instance refuses to hold" fails_with "instance has failed over" \
	nsx pri "$COLOCTL" proxy hold-input p-g
t_check "secondary: await-peer, an SVM frame kept" eval \
	"nsx sec $COLOCTL proxy checkpoint s-g await-peer && svm_send k0 &&
	wait_for 30 eval '[ \"\$(stat sec s-g svm_awaited)\" -ge 4 ]'"
t_check "the secondary's failover drops what it kept" eval \
	"nsx sec $COLOCTL proxy failover s-g && [ \"\$(stat sec s-g holding_packets)\" = 0 ]"
leak_check_done
