#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy control plane: coloctl proxy add/set/show/stats/checkpoint/
# failover/del (human and JSON output), malformed netlink requests rejected
# with an extack message, admin-only access, instances vanishing with their
# device and their namespace, rmmod with instances left.
source "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"
BADNL="$SELFTESTS/proxy_badnl"
[ -x "$COLOCTL" ] && [ -x "$BADNL" ] || { echo "build coloctl and proxy_badnl first" >&2; exit 1; }

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"

netns_add pxa
ip -n pxa link add g0 type veth peer name g1
ip -n pxa link add t0 type veth peer name t1
ip -n pxa addr add 192.168.77.1/24 dev t0
ip -n pxa link set lo up
for d in g0 g1 t0 t1; do ip -n pxa link set "$d" up; done
px() { ip netns exec pxa "$COLOCTL" proxy "$@"; }

t_check "add primary instance" \
	px add g0 role primary local 192.168.77.1:7000 peer 192.168.77.2:7000 timeout 500
t_check "show lists it" bash -c "ip netns exec pxa $COLOCTL proxy show | grep -q 'g0: primary replicating tunnel 192.168.77.1:7000 -> 192.168.77.2:7000 timeout 500ms'"
t_check "show -j is valid JSON with the configuration" bash -c \
	"ip netns exec pxa $COLOCTL proxy show -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0][\"dev\"]==\"g0\" and d[0][\"role\"]==\"primary\" and d[0][\"timeout_ms\"]==500 and d[0][\"queue_packets\"]==4096, d'"
# Every COLO_PROXY_STAT_* of the uapi header but UNSPEC and PAD.
nstats=$(grep -cE '^\s+COLO_PROXY_STAT_[A-Z_]+,' "$REPO/include/uapi/linux/colo_proxy.h")
t_check "stats -j has every counter" bash -c \
	"ip netns exec pxa $COLOCTL proxy stats g0 -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"stats\"])==$nstats-2 and d[\"stats\"][\"connections\"]==0, d'"
# The text format of stats is documented line by line in colo-proxy.rst:
# "name value", the names in the order of the guide's table.
stats_text_as_documented()
{
	local doc out
	doc=$(sed -n '/^Statistics$/,/^Deployment notes$/p' \
		"$REPO/Documentation/admin-guide/colo-proxy.rst" | sed -n 's/^``\([a-z_0-9]*\)``  .*/\1/p')
	out=$(ip netns exec pxa "$COLOCTL" proxy stats g0) || return 1
	if grep -vE '^[a-z_0-9]+ +[0-9]+$' <<< "$out"; then
		echo "lines above are not 'name value'"
		return 1
	fi
	diff <(echo "$doc") <(awk '{ print $1 }' <<< "$out")
}
t_check "stats text: 'name value' lines, names and order as the guide's table" \
	stats_text_as_documented
# set: the limits it names change, the others stay; what it refuses changes
# nothing.
limits()
{
	ip netns exec pxa "$COLOCTL" proxy show "$1" -j | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(*(d[k] for k in ("timeout_ms", "queue_packets", "queue_bytes", "conn_max",
		       "hold_packets", "hold_bytes")))'
}
t_check "set timeout" px set g0 timeout 1500
t_check "... show -j has it, the rest unchanged" \
	test "$(limits g0)" = "1500 4096 16777216 16384 65536 268435456"
t_check "set queue-packets and queue-bytes" px set g0 queue-packets 100 queue-bytes 200000
t_check "... show -j has them, the rest unchanged" \
	test "$(limits g0)" = "1500 100 200000 16384 65536 268435456"
t_check "... show too" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g0 | grep -q ' timeout 1500ms queue 100 packets 200000 bytes$'"
t_check "set without a value refused" \
	fails_with "Invalid argument: give at least one of timeout, queue packets, queue bytes" \
	px set g0
t_check "set timeout 0 refused with the kernel's message" \
	fails_with "Numerical result out of range: integer out of range" px set g0 timeout 0
t_check "set conn-max refused: fixed at add" \
	fails_with "only timeout, queue packets and queue bytes can be set" \
	px set g0 timeout 100 conn-max 64
t_check "add without a device prints the usage" fails_with "Usage: coloctl proxy add DEV" px add
t_check "set on an unknown device refused" fails_with "device 'nosuch'" px set nosuch timeout 100
t_check "set on a device without an instance refused" \
	fails_with "No such file or directory: no colo_proxy instance on this device" \
	px set g1 timeout 100
t_check "set by a non-admin refused" fails_with "Operation not permitted" \
	ip netns exec pxa setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$COLOCTL" proxy set g0 timeout 100
t_check "... none of them changed anything" \
	test "$(limits g0)" = "1500 100 200000 16384 65536 268435456"
t_check "duplicate instance rejected" fails_with "File exists: device already has a colo_proxy instance" \
	px add g0 role secondary local 192.168.77.1:7001 peer 192.168.77.2:7001
t_check "tunnel port in use rejected" fails_with "tunnel UDP port already in use" \
	px add g1 role primary local 192.168.77.1:7000 peer 192.168.77.2:7000
t_check "unconfigured local address rejected" fails_with "not configured in this namespace" \
	px add g1 role primary local 10.9.9.9:7000 peer 192.168.77.2:7000
t_check "unknown device rejected" fails_with "device 'nosuch'" \
	px add nosuch role primary local 192.168.77.1:7002 peer 192.168.77.2:7000
t_check "bad endpoint rejected" fails_with "not an IPV4:PORT or [IPV6]:PORT endpoint" \
	px add g1 role primary local 192.168.77.1 peer 192.168.77.2:7000
t_check "a signed port rejected" fails_with "not an IPV4:PORT or [IPV6]:PORT endpoint" \
	px add g1 role primary local 192.168.77.1:+7000 peer 192.168.77.2:7000
# IPv6 tunnel endpoints.
ip -n pxa link add g2 type veth peer name g3
ip -n pxa addr add fd77::1/64 dev t0 nodad
t_check "ipv6 tunnel instance" px add g2 role primary local [fd77::1]:7100 peer [fd77::2]:7100
t_check "show prints the ipv6 endpoints" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g2 | grep -qF 'tunnel [fd77::1]:7100 -> [fd77::2]:7100'"
t_check "show -j too" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g2 -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"local\"]==\"[fd77::1]:7100\", d'"
t_check "mixed tunnel families rejected" fails_with "local and peer addresses must be of the same family" \
	px add g3 role primary local 192.168.77.1:7101 peer [fd77::2]:7101
t_check "ipv6 multicast peer rejected" fails_with "peer address must be a unicast address" \
	px add g3 role primary local [fd77::1]:7102 peer [ff02::1]:7102
t_check "unconfigured local ipv6 address rejected" fails_with "not configured in this namespace" \
	px add g3 role primary local [fd77::9]:7103 peer [fd77::2]:7103
t_check "ipv6 instance deleted" px del g2
# The table and hold limits: in range shown, out of range refused.
t_check "add with conn-max, hold-packets and hold-bytes" \
	px add g3 role primary local 192.168.77.1:7104 peer 192.168.77.2:7104 conn-max 64 \
	hold-packets 100 hold-bytes 100000
t_check "show prints them" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g3 | grep -q '^    conn-max 64 hold 100 packets 100000 bytes$'"
t_check "show -j too" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g3 -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert (d[\"conn_max\"], d[\"hold_packets\"], d[\"hold_bytes\"]) == (64, 100, 100000), d'"
t_check "defaults from the module parameters" bash -c \
	"ip netns exec pxa $COLOCTL proxy show g0 -j | python3 -c 'import json,sys; d=json.load(sys.stdin); assert (d[\"conn_max\"], d[\"hold_packets\"], d[\"hold_bytes\"]) == (16384, 65536, 268435456), d'"
t_check "instance with limits deleted" px del g3
t_check "conn-max 15 rejected with the kernel's message" fails_with "integer out of range" \
	px add g3 role primary local 192.168.77.1:7105 peer 192.168.77.2:7105 conn-max 15
t_check "hold-bytes 1000 rejected with the kernel's message" fails_with "integer out of range" \
	px add g3 role primary local 192.168.77.1:7105 peer 192.168.77.2:7105 hold-bytes 1000
echo 5 > /sys/module/colo_proxy/parameters/conn_max
t_check "a module parameter out of range: add without the attribute says so" \
	fails_with "module parameter conn_max out of range" \
	px add g3 role primary local 192.168.77.1:7105 peer 192.168.77.2:7105
echo 16384 > /sys/module/colo_proxy/parameters/conn_max
t_check "malformed netlink requests rejected with extack" \
	ip netns exec pxa "$BADNL" "$(ip netns exec pxa cat /sys/class/net/g1/ifindex)"
t_check "non-admin rejected" fails_with "Operation not permitted" \
	ip netns exec pxa setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$COLOCTL" proxy show
t_check "checkpoint" px checkpoint g0
t_check "checkpoint counted" bash -c "ip netns exec pxa $COLOCTL proxy stats g0 | grep -q '^checkpoints  *1$'"
t_check "failover" px failover g0
t_check "second failover rejected" fails_with "already failed over" px failover g0
t_check "state shows failed-over" bash -c "ip netns exec pxa $COLOCTL proxy show g0 | grep -q 'primary failed-over'"
t_check "add secondary on the other end" \
	px add g1 role secondary local 192.168.77.1:7001 peer 192.168.77.2:7001
t_check "del" px del g0
t_check "del of a deleted instance rejected" fails_with "No such file or directory: no colo_proxy instance" px del g0
ip -n pxa link del g1
t_check "instance vanishes with its device" bash -c "[ -z \"\$(ip netns exec pxa $COLOCTL proxy show)\" ]"

# Namespaces are independent: an instance in one is invisible in another.
netns_add pxb
ip -n pxb link add h0 type veth peer name h1
ip -n pxb addr add 192.168.78.1/24 dev h1
ip -n pxb link set h1 up
t_check "instance in a second namespace" ip netns exec pxb "$COLOCTL" proxy add h0 role primary \
	local 192.168.78.1:7000 peer 192.168.78.2:7000
t_check "same port reusable in another namespace" ip netns exec pxa "$COLOCTL" proxy add t1 \
	role secondary local 192.168.77.1:7000 peer 192.168.77.2:7000
t_check "each namespace sees only its own" bash -c \
	"[ \"\$(ip netns exec pxb $COLOCTL proxy show | grep -c ': primary')\" = 1 ] && ! ip netns exec pxb $COLOCTL proxy show | grep -q t1"
ip netns del pxb
t_check "namespace deletion removes its instances" bash -c "! ip netns exec pxa $COLOCTL proxy show | grep -q h0"
t_check "rmmod with an instance left" unload_module colo_proxy
t_check "module gone" bash -c "! module_loaded() { [ -d /sys/module/colo_proxy ]; }; ! [ -d /sys/module/colo_proxy ]"
t_done
