#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy for an operator: a client and two guest stand-ins (same MAC/IP)
# behind a primary and a secondary host joined by the proxy tunnel. Equal
# answers flow with nothing requested; a differing answer is withheld and a
# checkpoint request appears; `checkpoint` releases the primary's bytes;
# failover to the secondary keeps a connection alive.
source "$(dirname "$0")/../selftests/colo/proxy_data.sh"
show()
{
	echo "  \$ $*"
	"$@" 2>&1 | sed 's/^/    /'
}

echo "== colo_proxy: in-kernel packet compare between a primary and a secondary guest"
load_module colo_proxy || exit 1
on_exit "rmmod colo_proxy"
setup || exit 1
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
	bg "$ns" $PY server 8082 echo
done
bg pvm $PY server 8081 diffP
bg svm $PY server 8081 diffS
wait_for 30 listening pvm 8081 && wait_for 30 listening svm 8081 || exit 1
echo "-- instances (primary host, secondary host):"
show ip netns exec pri "$COLOCTL" proxy show
show ip netns exec sec "$COLOCTL" proxy show
echo "-- 8 parallel downloads from the guests, both guests answer the same:"
show ip netns exec cli $PY clients 10.0.0.2 8080 8 50000
show ip netns exec pri "$COLOCTL" proxy show p-g
echo "-- a server answering differently: the request event, the client waits"
ip netns exec pri "$COLOCTL" proxy monitor count 1 > "$T/ev" &
mon=$!
sleep 0.5
ip netns exec cli $PY diffclient 10.0.0.2 8081 100 "$T/progress" > "$T/diff" 2>&1 &
dc=$!
wait $mon
sed 's/^/    event: /' "$T/ev"
echo "    client has received $(cat "$T/progress") bytes so far"
echo "-- the agent checkpoints: the primary's bytes are released"
for _ in 1 2 3 4 5; do
	ip netns exec pri "$COLOCTL" proxy checkpoint p-g
	kill -0 $dc 2> /dev/null || break
	sleep 0.5
done
wait $dc
sed 's/^/    client: /' "$T/diff"
echo "-- failover: the primary host dies with a connection open"
ip netns exec cli $PY echoclient 10.0.0.2 8082 "$T" > "$T/echo" 2>&1 &
ec=$!
wait_for 60 test -e "$T/phase1"
ip -n cli link set c-p down
ip -n pri link set p-t down
show ip netns exec sec "$COLOCTL" proxy failover s-g
touch "$T/go"
wait $ec
sed 's/^/    client: /' "$T/echo"
show ip netns exec sec "$COLOCTL" proxy show s-g
