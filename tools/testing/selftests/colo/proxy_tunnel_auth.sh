#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy's tunnel takes datagrams from the peer's endpoint only, and none
# once its instance has failed over. proxy_data.sh's topology, plus a third
# host "evil" with a link to each proxy host:
#
#   pri: p-t 192.168.77.1 <==tunnel==> s-t 192.168.77.2 :sec
#        p-e 192.168.79.1 --+      +-- 192.168.78.2 s-e
#                           evil (.3 on both links)
#
# evil sends well-formed tunnel datagrams from the tunnel's port on its own
# addresses: mirrored frames for the SVM, SVM frames for the primary's
# compare (the answer to a client's next datagram), PVM SYNs, all with
# sequence numbers far ahead. None is looked at: the SVM gets nothing,
# the compare and the loss window are untouched, the client's answers
# stay exact, and the drops are counted. A spoofed datagram from the
# peer's very endpoint does get through (what the source check cannot
# stop, see "Protecting the tunnel" in colo-proxy.rst), until the
# secondary fails over: from then on it takes nothing from the tunnel,
# neither the forged frames nor the old primary's mirror. Over IPv4, then
# IPv6 tunnels.
source "$(dirname "$0")/proxy_data.sh"

FAR=1073741824	# a tunnel sequence number far ahead of the real ones

evil_add()
{
	netns_add evil
	ip -n evil link set lo up
	ip -n evil link add e-s type veth peer name s-e netns sec
	ip -n evil link add e-p type veth peer name p-e netns pri
	ip -n evil addr add 192.168.78.3/24 dev e-s
	ip -n evil addr add 192.168.79.3/24 dev e-p
	ip -n evil addr add fd78::3/64 dev e-s nodad
	ip -n evil addr add fd79::3/64 dev e-p nodad
	ip -n sec addr add 192.168.78.2/24 dev s-e
	ip -n sec addr add fd78::2/64 dev s-e nodad
	ip -n pri addr add 192.168.79.1/24 dev p-e
	ip -n pri addr add fd79::1/64 dev p-e nodad
	ip -n evil link set e-s up
	ip -n evil link set e-p up
	ip -n sec link set s-e up
	ip -n pri link set p-e up
	ip -n evil route add 192.168.77.2 via 192.168.78.2
	ip -n evil route add 192.168.77.1 via 192.168.79.1
	ip -n evil route add fd77::2 via fd78::2
	ip -n evil route add fd77::1 via fd79::1
}

sink_lines() { wc -l < "$T/sink"; }
sink_has() { [ "$(sink_lines)" -ge "$1" ]; }

run()
{
	local fam=$1 pri_ip sec_ip evil_s evil_p n

	if [ "$fam" = 6 ]; then
		pri_ip=fd77::1 sec_ip=fd77::2 evil_s=fd78::3 evil_p=fd79::3
	else
		pri_ip=192.168.77.1 sec_ip=192.168.77.2 evil_s=192.168.78.3 evil_p=192.168.79.3
	fi
	TUNNEL_FAMILY=$fam
	t_check "ipv$fam tunnel: topology, instances and a third host" setup || return 1
	evil_add
	: > "$T/sink"
	: > "$T/events"
	for ns in pvm svm; do
		bg "$ns" $PY server 8080 det
		bg "$ns" $PY udpserver 5353
	done
	bg svm $PY usink 6000 "$T/sink"
	bg pri "$COLOCTL" proxy monitor -j > "$T/events"
	t_check "servers listen" wait_for 30 eval "listening pvm 8080 && listening svm 8080"
	t_check "the pair works: a download byte-exact" nsx cli $PY clients 10.0.0.2 8080 2 60000

	# From the tunnel's port, but of another address.
	t_check "evil: mirrored frames to the secondary" \
		nsx evil $PY tunnel udp $evil_s 7000 $sec_ip 7000 mirror 20 $FAR
	t_check "evil: PVM SYNs to the secondary" \
		nsx evil $PY tunnel udp $evil_s 7000 $sec_ip 7000 syn 20 $FAR
	t_check "evil: SVM frames to the primary" \
		nsx evil $PY tunnel udp $evil_p 7000 $pri_ip 7000 svm 20 $FAR
	# From the peer's address, but another port.
	t_check "the peer's address, another port: mirrored frames" \
		nsx pri $PY tunnel udp $pri_ip 0 $sec_ip 7000 mirror 20 $FAR
	t_check "the secondary counts 60 foreign datagrams" \
		wait_for 10 stat_gt sec s-g tunnel_foreign 59
	t_check "the primary counts 20" wait_for 10 stat_gt pri p-g tunnel_foreign 19
	t_check "the client's datagrams from port 5999 answered exactly (no forged SVM frame compared)" \
		nsx cli $PY udpfrom 5999 10.0.0.2 5353 5
	t_check "guest traffic byte-exact" nsx cli $PY clients 10.0.0.2 8080 4 60000
	t_check "the SVM got no forged frame" test "$(sink_lines)" = 0
	t_check "no tunnel loss counted on either side (the window did not move)" bash -c \
		"[ $(stat sec s-g tunnel_lost) = 0 ] && [ $(stat pri p-g tunnel_lost) = 0 ] &&
		 [ $(stat sec s-g requests_tunnel_loss) = 0 ]"
	t_check "no checkpoint requested" no_requests
	nsx sec "$COLOCTL" proxy stats s-g | grep -E 'tunnel|injected' | sed 's/^/# sec /'

	# A datagram that claims the peer's endpoint passes the source check:
	# only an authenticated link stops it. It shows that the forged frames
	# above were good ones.
	t_check "spoofed from the peer's endpoint, a mirrored frame reaches the SVM" \
		nsx pri $PY tunnel raw $pri_ip 7000 $sec_ip 7000 mirror 1 $FAR
	t_check "... (it did)" wait_for 10 sink_has 1

	t_check "failover on the secondary" nsx sec "$COLOCTL" proxy failover s-g
	n=$(sink_lines)
	t_check "after failover: spoofed mirrored frames from the peer's endpoint" \
		nsx pri $PY tunnel raw $pri_ip 7000 $sec_ip 7000 mirror 20 $((FAR + 100))
	t_check "... refused and counted" wait_for 10 stat_gt sec s-g tunnel_after_failover 19
	# The old primary still mirrors what its PVM receives: the client's
	# datagrams reach the SVM directly now, and must not a second time.
	t_check "the client sends 10 datagrams to the SVM" nsx cli $PY usend 10.0.0.2 6000 10
	t_check "... the SVM gets them" wait_for 20 sink_has $((n + 10))
	t_check "... the old primary's mirrored copies are refused" \
		wait_for 20 stat_gt sec s-g tunnel_after_failover 29
	t_check "... and the SVM got each once, nothing forged" bash -c \
		"[ $(sink_lines) = $((n + 10)) ] && ! grep -q forged <(tail -n 10 $T/sink)"
	t_check "the survivor serves byte-exact" nsx cli $PY clients 10.0.0.2 8080 2 60000
	nsx sec "$COLOCTL" proxy stats s-g | grep -E 'tunnel' | sed 's/^/# sec /'

	topology_stop
	ip netns del evil
}

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
run 4
run 6
t_done
