#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy with the wildcard as its local tunnel address (0.0.0.0, then
# ::): every datagram leaves with the source address its route chose, not
# only the first one after a route lookup. The peer takes datagrams only
# from the address it has as its peer, so traffic that stays byte-exact
# with no foreign datagram counted shows the source on the wire.
source "$(dirname "$0")/proxy_data.sh"

instances_add()
{
	local any=0.0.0.0 pri=192.168.77.1 sec=192.168.77.2

	if [ "$TUNNEL_FAMILY" = 6 ]; then
		any='[::]' pri='[fd77::1]' sec='[fd77::2]'
	fi
	nsx pri "$COLOCTL" proxy add p-g role primary local $any:7000 peer $sec:7000 timeout 10000 &&
	nsx sec "$COLOCTL" proxy add s-g role secondary local $any:7000 peer $pri:7000
}

run()
{
	local any=0.0.0.0

	[ "$1" = 6 ] && any='[::]'
	TUNNEL_FAMILY=$1
	t_check "ipv$1 tunnel from the wildcard address: topology and instances" setup || return 1
	t_check "show prints the wildcard" bash -c \
		"ip netns exec pri $COLOCTL proxy show p-g | grep -qF 'tunnel $any:7000 -> '"
	: > "$T/events"
	bg pri "$COLOCTL" proxy monitor -j > "$T/events"
	for ns in pvm svm; do
		bg "$ns" $PY server 8080 det
		bg "$ns" $PY udpserver 5353
	done
	t_check "servers listen" wait_for 30 eval "listening pvm 8080 && listening svm 8080"
	t_check "udp: 20 datagrams answered exactly" nsx cli $PY udpclient 10.0.0.2 5353 20
	t_check "8 parallel connections byte-exact" nsx cli $PY clients 10.0.0.2 8080 8 60000
	t_check "a 2 MiB download byte-exact" nsx cli $PY clients 10.0.0.2 8080 1 2097152
	nsx pri "$COLOCTL" proxy stats p-g | grep -E 'tunnel' | sed 's/^/# pri /'
	nsx sec "$COLOCTL" proxy stats s-g | grep -E 'tunnel' | sed 's/^/# sec /'
	t_check "both peers took datagrams, none foreign, none lost" bash -c \
		"[ $(stat pri p-g tunnel_rx) -gt 40 ] && [ $(stat sec s-g tunnel_rx) -gt 40 ] &&
		 [ $(stat pri p-g tunnel_foreign) = 0 ] && [ $(stat sec s-g tunnel_foreign) = 0 ] &&
		 [ $(stat pri p-g tunnel_lost) = 0 ] && [ $(stat sec s-g tunnel_lost) = 0 ]"
	t_check "no checkpoint requested" no_requests
	topology_stop
}

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
run 4
run 6
t_done
