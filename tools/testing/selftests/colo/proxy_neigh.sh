#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy: the SVM resolves its neighbours although its own ARP requests
# and neighbour solicitations never leave the secondary. The two guests'
# neighbour caches differ: the PVM's holds the client (learned from the
# network, whose reply was mirrored to the secondary), the SVM's was
# flushed. New connections, accepted and opened by the guests, IPv4 and
# IPv6, must open byte-exact with no checkpoint request (before, the SVM
# could not resolve the client, and the PVM's SYN-ACK stayed held until the
# timeout asked for a checkpoint); none of the SVM's frames reaches the LAN.
# The table of bindings is bounded: a flood of ARP replies fills it, the
# oldest bindings make room and are counted.
source "$(dirname "$0")/proxy_data.sh"

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
t_check "topology and instances" setup
CMAC=$(ip -n cli -br link show brc | awk '{print $3}')

# Everything that reaches the client's hub from the secondary with the
# guests' MAC address as its source is a leak (before failover).
# The socket is opened for no protocol and bound to c-s with ETH_P_ALL:
# opened for all protocols, it would take every interface's frames until
# bound, the PVM's start-up multicast through c-p included.
cat > "$T/leak.py" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind(('c-s', 3))
open(sys.argv[1] + '.ready', 'w').close()
gmac = bytes.fromhex('525400123456')
while True:
    d, a = s.recvfrom(65536)
    if a[0] == 'c-s' and a[2] != socket.PACKET_OUTGOING and d[6:12] == gmac:
        with open(sys.argv[1], 'a') as f:
            f.write(d[:64].hex() + '\n')
PYEOF
# arpq.py IP: an ARP request for IP from the guest's eth0; prints the
# MAC address of the answer, or "none" after two seconds.
cat > "$T/arpq.py" <<'PYEOF'
import socket, sys, time
ip = socket.inet_aton(sys.argv[1])
gmac = bytes.fromhex('525400123456')
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(('eth0', 0))
s.settimeout(0.2)
req = (b'\xff' * 6 + gmac + b'\x08\x06' + bytes.fromhex("0001080006040001") +
       gmac + socket.inet_aton('10.0.0.2') + b'\0' * 6 + ip)
s.send(req)
end = time.time() + 2
while time.time() < end:
    try:
        d = s.recv(100)
    except socket.timeout:
        continue
    if d[20:22] == b'\x00\x02' and d[28:32] == ip and d[32:38] == gmac:
        print(d[22:28].hex(':'))
        sys.exit(0)
print('none')
PYEOF

bg cli python3 "$T/leak.py" "$T/leaks"
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
bg cli $PY server 9000 det
bg pri "$COLOCTL" proxy monitor -j > "$T/events"
t_check "leak watch on the secondary's uplink" wait_for 30 test -e "$T/leaks.ready"
t_check "pvm listens on 8080" wait_for 30 listening pvm 8080
t_check "svm listens on 8080" wait_for 30 listening svm 8080
t_check "cli listens on 9000" wait_for 30 listening cli 9000

# The PVM resolves the client through the network from now on and keeps
# what it learns valid for the whole test: were it to probe again, its
# mirrored replies would update the SVM's pending entry (the only way the
# SVM learned before) and hide whether the SVM resolves by itself.
for fam in ipv4 ipv6; do
	nsx pvm sysctl -qw net.$fam.neigh.eth0.base_reachable_time_ms=900000 \
		net.$fam.neigh.eth0.delay_first_probe_time=900
done
ip -n pvm neigh del 10.0.0.1 dev eth0
ip -n pvm neigh del fd00::1 dev eth0
t_check "warm-up: ipv4 connections byte-exact, the PVM resolves the client" \
	nsx cli $PY clients 10.0.0.2 8080 2 20000
t_check "warm-up: ipv6 likewise" nsx cli $PY clients fd00::2 8080 2 20000
has_client() { ip -n "$1" neigh show "$2" dev eth0 | grep -q "lladdr $CMAC"; }
knows_client() { has_client "$1" 10.0.0.1 && has_client "$1" fd00::1; }
t_check "the PVM learned the client's addresses from the network" knows_client pvm
t_check "the secondary learned bindings from the mirrored replies" stat_gt sec s-g neigh_learned 1

# The SVM's cache loses the client (expired, or a carrier change flushed it).
flush_svm()
{
	ip -n svm neigh del 10.0.0.1 dev eth0 2> /dev/null
	ip -n svm neigh del fd00::1 dev eth0 2> /dev/null
	ip -n svm neigh flush dev eth0
	! has_client svm 10.0.0.1 && ! has_client svm fd00::1
}
t_check "the SVM's neighbour cache flushed" flush_svm
t_check "... the PVM's still holds the client" knows_client pvm
t_check "ipv4: 3 new connections byte-exact" timeout 40 ip netns exec cli $PY clients 10.0.0.2 8080 3 20000
t_check "ipv6: 3 new connections byte-exact" timeout 40 ip netns exec cli $PY clients fd00::2 8080 3 20000
t_check "... with no checkpoint requested" no_requests
t_check "the SVM's requests were answered on the secondary" stat_gt sec s-g neigh_answered 1
t_check "the SVM holds the binding the network gave the PVM" knows_client svm

# Guest-opened connections after another flush: the PVM's SYN waits for
# the SVM's, which needs the client's address first.
t_check "the SVM's neighbour cache flushed again" flush_svm
nsx pvm $PY gclients 10.0.0.2 10.0.0.1 9000 41000 3 20000 "$T/gp" &
gp=$!
nsx svm $PY gclients 10.0.0.2 10.0.0.1 9000 41000 3 20000 "$T/gs" &
gs=$!
wait $gp $gs
t_check "ipv4: 3 guest-opened connections byte-exact in both guests" \
	bash -c "grep -qx 3 $T/gp && grep -qx 3 $T/gs"
nsx pvm $PY gclients fd00::2 fd00::1 9000 42000 3 20000 "$T/gp6" &
gp=$!
nsx svm $PY gclients fd00::2 fd00::1 9000 42000 3 20000 "$T/gs6" &
gs=$!
wait $gp $gs
t_check "ipv6: 3 guest-opened connections byte-exact in both guests" \
	bash -c "grep -qx 3 $T/gp6 && grep -qx 3 $T/gs6"
t_check "... with no checkpoint requested" no_requests

# The table is bounded: 80 bindings announced to the guests' MAC address
# fill it, the ones announced longest ago make room (counted).
t_check "80 ARP replies from the LAN to the guests" nsx cli python3 -c "
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('brc', 0))
g = bytes.fromhex('525400123456')
for i in range(80):
    mac = bytes([2, 0x5e, 0, 0, 1, i])
    ip = bytes([10, 1, 0, i])
    s.send(g + mac + b'\x08\x06' + bytes.fromhex('0001080006040002') + mac + ip + g + bytes([10, 0, 0, 2]))
"
full_now() { [ "$(stat sec s-g neigh_table_full)" -ge 16 ]; }
t_check "the table filled: at least 16 bindings replaced older ones" wait_for 10 full_now
unknown0=$(stat sec s-g neigh_unknown)
svm_frames0=$(stat sec s-g svm_frames)
arpq() { [ "$(nsx svm python3 "$T/arpq.py" "$1")" = "$2" ]; }
t_check "the newest binding answers the SVM" arpq 10.1.0.79 02:5e:00:00:01:4f
t_check "the oldest flooded one was replaced: no answer" arpq 10.1.0.0 none
t_check "... counted as a request without a binding" stat_gt sec s-g neigh_unknown "$unknown0"
t_check "the SVM's two ARP requests counted as its frames" \
	stat_gt sec s-g svm_frames $((svm_frames0 + 1))
nsx sec "$COLOCTL" proxy stats s-g | grep neigh_ | sed 's/^/# sec /'
t_check "nothing of the SVM's reached the LAN" test ! -s "$T/leaks"
[ -s "$T/leaks" ] && sed 's/^/# leaked /' "$T/leaks" | head -5
t_check "rmmod" unload_module colo_proxy
t_done
