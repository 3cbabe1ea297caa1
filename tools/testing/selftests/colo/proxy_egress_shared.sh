#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy's primary egress hook gets shared skbs: pktgen in queue_xmit
# mode keeps a reference to every frame it hands to dev_queue_xmit(), and
# reports, when it stops, how many page fragments its last frame has. The
# frames are short (the hook looks for a client's RST in those) with their
# payload in two fragments, so parsing one would pull the payload into the
# head: a change under the other holder's feet, or, where the head had no
# room, a new head, which the kernel refuses (BUG) for a shared skb. The
# hook must leave them alone: mirrored like any other, pktgen's frame still
# in two fragments, the kernel log clean.
source "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"
[ -x "$COLOCTL" ] || { echo "build coloctl first" >&2; exit 1; }
COUNT=2000

# pg FILE COMMAND: one pktgen command, which must say OK.
pg()
{
	echo "$2" > "$1" && grep -q '^Result: OK' "$1"
}

stat() { ip netns exec pxs "$COLOCTL" proxy stats g0 | awk -v n="$1" '$1 == n {print $2}'; }

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
t_check "load pktgen" modprobe pktgen
on_exit "rmmod pktgen"
netns_add pxs
ip -n pxs link add g0 type veth peer name g1
ip -n pxs link add t0 type veth peer name t1
ip -n pxs addr add 192.168.77.1/24 dev t0
for d in g0 g1 t0 t1; do ip -n pxs link set "$d" up; done
t_check "primary instance on g0" ip netns exec pxs "$COLOCTL" proxy add g0 role primary \
	local 192.168.77.1:7000 peer 192.168.77.2:7000
t_check "pktgen on g0: shared skbs (queue_xmit), short, payload in fragments" \
	ip netns exec pxs bash -c "
		$(declare -f pg)
		pg /proc/net/pktgen/kpktgend_0 rem_device_all &&
		pg /proc/net/pktgen/kpktgend_0 'add_device g0' &&
		for c in 'xmit_mode queue_xmit' 'count $COUNT' 'pkt_size 200' 'frags 2' \
			 'delay 0' 'dst 10.0.0.2' 'dst_mac 52:54:00:12:34:56'; do
			pg /proc/net/pktgen/g0 \"\$c\" || exit 1
		done"
t_check "pktgen sends $COUNT frames" \
	ip netns exec pxs timeout 120 bash -c "echo start > /proc/net/pktgen/pgctrl"
ip netns exec pxs grep -E 'Result|sofar' /proc/net/pktgen/g0 | sed 's/^/# /'
t_check "every frame mirrored" test "$(stat mirrored)" -ge $COUNT
t_check "pktgen's frame still has its two fragments" \
	ip netns exec pxs grep -q '(200byte,2frags)' /proc/net/pktgen/g0
t_done
