#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy: what the guide says about the hold timeout and about removing
# a pair.
#
# A slow secondary alone (the SVM's answer delayed on the tunnel, as a
# loaded host delays it) makes a PVM frame wait past timeout_ms: a timeout
# request with the guests agreeing, and the exact answer once the SVM's
# arrives. A timeout shortened by `proxy set` applies to a frame already
# held, without waiting for the old timer period. Removing the secondary's instance in the documented order (the
# SVM's device out of the bridge first) lets nothing of the SVM out; in the
# other order its frames reach the client's LAN.
source "$(dirname "$0")/proxy_data.sh"

# udp_count NS ADDR PORT SECS: datagrams received on ADDR:PORT in SECS.
udp_count()
{
	nsx "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.1)
end, n = time.time() + float(sys.argv[3]), 0
open(sys.argv[4], "w").close()
while time.time() < end:
    try:
        s.recv(2048)
        n += 1
    except socket.timeout:
        pass
print(n)' "$2" "$3" "$4" "$T/listening"
}

# svm_speaks: the SVM sends UDP datagrams to the client for 0.3 s; prints
# how many the client got.
svm_speaks()
{
	local got pid
	udp_count cli 10.0.0.1 9999 3 > "$T/got" &
	pid=$!
	wait_for 5 test -e "$T/listening"
	nsx svm $PY udpflood 10.0.0.1 9999 0.3
	wait $pid
	rm -f "$T/listening"
	cat "$T/got"
}

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
t_check "topology and instances" setup
bg pvm $PY udpserver 5353
bg svm $PY udpserver 5353
t_check "udp servers up" wait_for 30 eval "nsx pvm ss -Hlun 'sport = :5353' | grep -q . &&
	nsx svm ss -Hlun 'sport = :5353' | grep -q ."

# A 300 ms timeout, and the SVM's output 1 s late on the tunnel.
t_check "primary instance again with timeout 300" bash -c \
	"ip netns exec pri $COLOCTL proxy del p-g && ip netns exec pri $COLOCTL proxy add p-g \
	role primary local 192.168.77.1:7000 peer 192.168.77.2:7000 timeout 300"
tc -n sec qdisc add dev s-t root netem delay 1000ms
t_check "udp: 3 datagrams answered exactly, each 1 s late" nsx cli $PY udpclient 10.0.0.2 5353 3
tc -n sec qdisc del dev s-t root
t_check "the hold passed timeout_ms: timeout requests" stat_gt pri p-g requests_timeout 0
t_check "... with the guests agreeing: no mismatch" test "$(stat pri p-g mismatches)" = 0

# A PVM datagram the SVM never sends, held under a 10-minute timeout (the
# timer checks every 150 s), then the timeout set to 50 ms: the request
# comes within seconds, not at the old timer's next round.
bg pri "$COLOCTL" proxy monitor > "$T/set-events"
t_check "primary instance again with timeout 600000" bash -c \
	"ip netns exec pri $COLOCTL proxy del p-g && ip netns exec pri $COLOCTL proxy add p-g \
	role primary local 192.168.77.1:7000 peer 192.168.77.2:7000 timeout 600000"
nsx pvm python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'held', ('10.0.0.1', 9998))"
t_check "the PVM's datagram is held" wait_for 10 stat_gt pri p-g holding_packets 0
t_check "... with no request yet" test "$(stat pri p-g requests_timeout)" = 0
t_check "proxy set p-g timeout 50" nsx pri "$COLOCTL" proxy set p-g timeout 50
t_check "a timeout request within 5 s" wait_for 5 stat_gt pri p-g requests_timeout 0
t_check "... as an event naming the datagram's connection" wait_for 5 grep -q \
	"^checkpoint-request dev p-g reason timeout proto 17 guest 10.0.0.2 port [0-9]* peer 10.0.0.1 port 9998$" \
	"$T/set-events"
t_check "the frame was held until the checkpoint" test "$(stat pri p-g holding_packets)" -gt 0
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "... released it" wait_for 5 eval 'test "$(stat pri p-g holding_packets)" = 0'
t_check "proxy set p-g timeout 30000" nsx pri "$COLOCTL" proxy set p-g timeout 30000

# Removing the secondary's instance: SVM's device out of the bridge first.
t_check "the SVM is silent while its instance exists" test "$(svm_speaks)" = 0
ip -n sec link set s-g nomaster
t_check "proxy del on the secondary after taking s-g out of the bridge" \
	nsx sec "$COLOCTL" proxy del s-g
t_check "the SVM is silent after the del" test "$(svm_speaks)" = 0
# The wrong order, shown: without its instance a bridged SVM is heard.
ip -n sec link set s-g master br0
t_check "a bridged SVM without an instance reaches the client" test "$(svm_speaks)" -gt 0
t_done
