#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy with its tunnel on IPv6 (the topology of proxy_data.sh, the
# p-t/s-t link addressed fd77::1 and fd77::2): guest traffic of both
# families, GSO super-frames both ways, byte-exact and with no checkpoint
# request.
source "$(dirname "$0")/proxy_data.sh"
TUNNEL_FAMILY=6

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
t_check "topology and instances over an ipv6 tunnel" setup
t_check "show prints the ipv6 tunnel" bash -c \
	"ip netns exec pri $COLOCTL proxy show p-g | grep -qF 'tunnel [fd77::1]:7000 -> [fd77::2]:7000'"
bg pri "$COLOCTL" proxy monitor -j > "$T/events"
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
	bg "$ns" $PY server 8083 sink
	bg "$ns" $PY udpserver 5353
done
t_check "pvm listens" wait_for 30 eval "listening pvm 8080 && listening pvm 8083"
t_check "svm listens" wait_for 30 eval "listening svm 8080 && listening svm 8083"
t_check "ipv4 guests: 8 parallel connections byte-exact" nsx cli $PY clients 10.0.0.2 8080 8 60000
t_check "ipv6 guests: 4 parallel connections byte-exact" nsx cli $PY clients fd00::2 8080 4 60000
rx0=$(stat pri p-g tunnel_rx)
t_check "a 4 MiB download byte-exact" nsx cli $PY clients 10.0.0.2 8080 1 4194304
t_check "... in GSO datagrams over the ipv6 tunnel" \
	test $(( $(stat pri p-g tunnel_rx) - rx0 )) -lt $(( 4194304 / 1448 / 2 ))
t_check "a 2 MiB upload answered with its digest" nsx cli $PY upload 10.0.0.2 8083 2097152
t_check "udp datagrams answered exactly" nsx cli $PY udpclient 10.0.0.2 5353 10
nsx pri "$COLOCTL" proxy stats p-g | grep -E 'requests|held|released|tunnel' | sed 's/^/# pri /'
nsx sec "$COLOCTL" proxy stats s-g | grep -E 'svm_frames|bad_frames|injected|window_held|tunnel' | sed 's/^/# sec /'
sed 's/^/# event /' "$T/events"
t_check "no checkpoint requested" no_requests
t_check "nothing lost on the tunnel" bash -c \
	"[ $(stat pri p-g tunnel_lost) = 0 ] && [ $(stat sec s-g tunnel_lost) = 0 ] && [ $(stat sec s-g tunnel_errors) = 0 ]"
t_check "rmmod" unload_module colo_proxy
t_done
