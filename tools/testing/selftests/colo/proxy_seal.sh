#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy seal (proxy_data.sh's topology): the primary's output at a
# seal is released by the next checkpoint whatever the SVM sends, while
# what the PVM sends after the seal waits for the SVM's matching frames
# after that checkpoint; SVM frames between the two are dropped as stale.
# Input is held from the seal to the checkpoint. A second seal, a seal on
# the secondary or after failover are refused with their reason. Failover
# after a seal releases the sealed frames and then the later ones, in
# order. A TCP connection goes on across seals. Nothing is
# left when the module goes.
#
# The guests' datagrams to the client (port 5998) are compared one by one,
# in order: a PVM datagram goes out when the SVM has sent the same one.
source "$(dirname "$0")/proxy_data.sh"

lines() { grep "^$2" "$1" 2> /dev/null | tr '\n' ' ' | sed 's/ $//'; }
client_got() { [ "$(lines "$T/cli" "$1")" = "$2" ]; }
guests_got() { [ "$(lines "$T/pvm" "$1")" = "$2" ] && [ "$(lines "$T/svm" "$1")" = "$2" ]; }
# guest_send NS TEXT: one datagram from a guest stand-in to the client,
# always from port 5997, so that all are one flow the compare pairs up.
guest_send()
{
	nsx "$1" python3 -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.0.0.2', 5997))
s.sendto(b'$2', ('10.0.0.1', 5998))"
}
to_guests()
{
	nsx cli python3 -c "import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'$1', ('10.0.0.2', 5999))"
}
stale_at_least() { [ "$(stat pri p-g svm_stale)" -ge "$1" ]; }
held_at_least() { [ "$(stat pri p-g held)" -ge "$1" ]; }

t_check "load colo_proxy" load_module colo_proxy
t_check "warm-up round of the topology" topology_warm_up
slab_before=$(slab_active_objects)
t_check "topology and instances" setup || t_done
no_module_autoload
bg cli $PY usink 5998 "$T/cli"
bg pvm $PY usink 5999 "$T/pvm"
bg svm $PY usink 5999 "$T/svm"
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
t_check "sinks and servers up" wait_for 30 eval "nsx cli ss -Hlun 'sport = :5998' | grep -q . &&
	nsx pvm ss -Hlun 'sport = :5999' | grep -q . && nsx svm ss -Hlun 'sport = :5999' | grep -q . &&
	listening pvm 8080 && listening svm 8080"

guest_send pvm a0
guest_send svm a0
t_check "without a seal a datagram both guests send goes out" wait_for 30 client_got a "a0"

t_check "the secondary refuses to seal" fails_with "only a primary instance seals its output" \
	nsx sec "$COLOCTL" proxy seal s-g

# The PVM's s0 has no match: held. Sealed, it belongs to the checkpoint.
held0=$(stat pri p-g held)
guest_send pvm s0
t_check "a PVM datagram without its match is held" wait_for 30 held_at_least $((held0 + 1))
t_check "seal" nsx pri "$COLOCTL" proxy seal p-g
t_check "a second seal is refused" fails_with "output already sealed" \
	nsx pri "$COLOCTL" proxy seal p-g
# After the seal: the PVM's t0 waits for the new SVM. The SVM's s0 and t0
# now are the old SVM's: stale, neither releases anything.
stale0=$(stat pri p-g svm_stale)
guest_send pvm t0
guest_send svm s0
guest_send svm t0
t_check "the SVM's datagrams after the seal are dropped as stale" \
	wait_for 30 stale_at_least $((stale0 + 2))
to_guests i0
t_check "input is held from the seal" wait_for 30 eval '[ "$(stat pri p-g input_held)" -ge 1 ]'
t_check "... and the client has got nothing of s or t" eval \
	'[ -z "$(lines "$T/cli" s)" ] && [ -z "$(lines "$T/cli" t)" ]'
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "the checkpoint released the sealed s0" wait_for 30 client_got s "s0"
t_check "the held input reached both guests" wait_for 30 guests_got i "i0"
t_check "... but not t0, sent after the seal" eval '[ -z "$(lines "$T/cli" t)" ]'
guest_send svm t0
t_check "the SVM's t0 after the checkpoint releases the PVM's" wait_for 30 client_got t "t0"
t_check "nothing held any more" wait_for 30 eval '[ "$(stat pri p-g holding_packets)" = 0 ]'
t_check "seals counted" test "$(stat pri p-g seals)" = 1

# A TCP connection across seal/checkpoint rounds: echo rounds, then a seal
# and a checkpoint while it is idle, then more rounds on the same
# connection. (Here the SVM is a stack of its own, not a copy of the PVM's
# state at the seal: only at an idle point do the two streams stand where
# a real replica would.)
for ns in pvm svm; do
	bg "$ns" $PY server 8082 echo
done
t_check "echo servers up" wait_for 30 eval "listening pvm 8082 && listening svm 8082"
for round in 1 2 3; do
	rm -f "$T/phase1" "$T/go"
	nsx cli $PY echoclient 10.0.0.2 8082 "$T" > "$T/echo.out" 2>&1 &
	client=$!
	wait_for 60 test -s "$T/phase1" || t_note "round $round: the first echoes did not come"
	nsx pri "$COLOCTL" proxy seal p-g && nsx pri "$COLOCTL" proxy checkpoint p-g ||
		t_note "round $round: seal and checkpoint failed"
	touch "$T/go"
	wait "$client"
	echo $? > "$T/echo.rc"
	t_check "seal $round: the connection goes on byte-exact" \
		eval '[ "$(cat "$T/echo.rc")" = 0 ] || ! cat "$T/echo.out"'
done
t_note "seals $(stat pri p-g seals), stale SVM frames $(stat pri p-g svm_stale)"

# Failover after a seal: the sealed datagram first, then the later one.
guest_send pvm u0
t_check "held" wait_for 30 eval '[ "$(stat pri p-g holding_packets)" -ge 1 ]'
t_check "seal" nsx pri "$COLOCTL" proxy seal p-g
guest_send pvm u1
t_check "both held" wait_for 30 eval '[ "$(stat pri p-g holding_packets)" -ge 2 ]'
t_check "failover" nsx pri "$COLOCTL" proxy failover p-g
t_check "failover released the sealed datagram and then the later one" \
	wait_for 30 client_got u "u0 u1"
t_check "a failed-over instance refuses to seal" fails_with "instance has failed over" \
	nsx pri "$COLOCTL" proxy seal p-g

# Deleting a sealed instance releases what it sealed.
t_check "primary instance again" eval "nsx pri $COLOCTL proxy del p-g &&
	nsx pri $COLOCTL proxy add p-g role primary local 192.168.77.1:7000 peer 192.168.77.2:7000 timeout 10000"
guest_send pvm v0
t_check "held" wait_for 30 eval '[ "$(stat pri p-g holding_packets)" -ge 1 ]'
t_check "seal, then delete the instance" eval "nsx pri $COLOCTL proxy seal p-g &&
	nsx pri $COLOCTL proxy del p-g"
t_check "deleting it released the sealed datagram" wait_for 30 client_got v "v0"
leak_check_done
