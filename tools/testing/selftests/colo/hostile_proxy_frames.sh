#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Random and malformed frames on every side of a pair of colo_proxy
# instances (proxy_data.sh's topology): from the PVM and the SVM into the
# ingress hooks, from the client towards the guests through the egress hooks,
# and random datagrams onto both tunnel ports: half from another port of the
# peer's address (dropped as foreign before any parsing), half with the
# peer's own address and port (a raw socket), which reach the header checks.
# Afterwards real traffic must still be byte-exact, the kernel log clean,
# and the module must unload with slab usage back where it started.
# and random datagrams onto both tunnel ports. The instances have small
# connection tables and hold limits, which the random frames fill: the table
# stays within its cap, the holds within theirs. Afterwards (once the idle
# entries are forgotten) real traffic must still be byte-exact, the kernel
# log clean, and the module must unload with slab usage back where it
# started.
#
#   cli --brc--+-- pri: br0 [p-up, p-g*] -- pvm      * instance, hostile
#              +-- sec: br0 [s-up, s-g*] -- svm        frames on all sides
#                  p-t 192.168.77.1 <==tunnel==> s-t 192.168.77.2
source "$(dirname "$0")/proxy_data.sh"

COUNT=${HOSTILE_COUNT:-20000}
SEED=${HOSTILE_SEED:-$(date +%s)}
FRAMES="$SELFTESTS/hostile_frames"
ADDRS="10.0.0.1 10.0.0.2 fd00::1 fd00::2"

t_check "load colo_proxy" load_module colo_proxy
# The first topology loads veth and bridge and makes the kernel's one-time
# per-namespace allocations; count from after a round of it.
t_check "warm-up round of the topology" topology_warm_up
slab_before=$(slab_active_objects)
# The secondary sees only the client's frames the primary mirrors (a run
# left 204 entries there against 20000 frames a side): its cap is lower so
# that the random frames surely fill it too.
CAP=256
SEC_CAP=32
PRI_ADD_OPTS="conn-max $CAP hold-packets 16 hold-bytes 65536"
SEC_ADD_OPTS="conn-max $SEC_CAP hold-packets 16 hold-bytes 65536"
t_check "topology and instances (conn-max $CAP and $SEC_CAP, hold 16 frames, 64 KiB)" setup || t_done
no_module_autoload
for ns in pvm svm; do
	bg "$ns" $PY server 8080 det
done
t_check "servers listen" wait_for 30 eval "listening pvm 8080 && listening svm 8080"
echo "# seed $SEED, $COUNT frames per side"
# The agent's part: checkpoints keep coming, so frames the primary holds
# (odd ones too) are released rather than piling up.
bg pri sh -c "while :; do $COLOCTL proxy checkpoint p-g > /dev/null 2>&1; sleep 0.2; done"

total=0
hostile()
{
	local ns=$1 dev=$2 seed=$3 out distinct
	if out=$(nsx "$ns" "$FRAMES" "$dev" "$COUNT" "$seed" $ADDRS 2>&1); then
		distinct=$(sed -n 's/.*distinct=\([0-9]*\).*/\1/p' <<< "$out")
		total=$((total + distinct))
		t_ok "random frames from $ns on $dev: $out"
	else
		t_fail "random frames from $ns on $dev: $out"
	fi
}
hostile pvm eth0 "$SEED"
hostile svm eth0 $((SEED + 1))
hostile cli brc $((SEED + 2))

datagrams()
{
	nsx "$1" python3 - "$2" "$3" "$4" "$COUNT" <<'PYEOF'
import random, socket, struct, sys
local, peer, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) // 4
rng = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# The tunnel's own socket holds port 7000 here: write the UDP header.
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
raw.bind((local, 0))
seen = set()
for i in range(count):
    n = rng.choice([0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 60, 200, 1400, rng.randrange(1500)])
    body = bytes(rng.randrange(256) for _ in range(n))
    if n >= 4 and rng.random() < 0.5:
        # keep the first bytes of a real tunnel header now and then
        body = b'\xc0\x1a' + body[2:]
    spoof = rng.random() < 0.5
    seen.add((spoof, body))
    try:
        if spoof:
            raw.sendto(struct.pack('!HHHH', 7000, 7000, 8 + n, 0) + body, (peer, 0))
        else:
            s.sendto(body, (peer, 7000))
    except OSError:
        pass
print("datagrams=%d distinct=%d" % (count, len(seen)))
PYEOF
}
for pair in "pri 192.168.77.1 192.168.77.2" "sec 192.168.77.2 192.168.77.1"; do
	set -- $pair
	if out=$(datagrams "$1" "$2" "$3" $((SEED + 3))); then
		total=$((total + $(sed -n 's/.*distinct=\([0-9]*\).*/\1/p' <<< "$out")))
		t_ok "random datagrams from $1 onto the tunnel port of $3: $out"
	else
		t_fail "random datagrams from $1 onto the tunnel port of $3"
	fi
done
echo "hostile-inputs frames $total" >> "${COLO_OUT:-/tmp}/hostile-counts"

nsx pri "$COLOCTL" proxy stats p-g | grep -E 'bad_frames|tunnel_errors|tunnel_foreign|requests' | sed 's/^/# pri /'
nsx sec "$COLOCTL" proxy stats s-g | grep -E 'bad_frames|tunnel_errors|tunnel_foreign' | sed 's/^/# sec /'
t_check "bad frames counted on the primary" stat_gt pri p-g bad_frames 0
t_check "tunnel garbage counted on the secondary" stat_gt sec s-g tunnel_errors 0
t_check "datagrams from another port counted as foreign on both" bash -c \
	"[ $(stat pri p-g tunnel_foreign) -gt 0 ] && [ $(stat sec s-g tunnel_foreign) -gt 0 ]"
nsx pri "$COLOCTL" proxy stats p-g | grep -E '^(conn_|hold|connections)' | sed 's/^/# pri /'
nsx sec "$COLOCTL" proxy stats s-g | grep -E '^(conn_|hold|connections)' | sed 's/^/# sec /'
t_check "the random frames filled the primary's table: entries forgotten or refused" \
	test $(($(stat pri p-g conn_evicted) + $(stat pri p-g conn_refused))) -gt 0
t_check "... and the secondary's" \
	test $(($(stat sec s-g conn_evicted) + $(stat sec s-g conn_refused))) -gt 0
t_check "both tables within the cap" \
	test "$(stat pri p-g connections)" -le $CAP -a "$(stat sec s-g connections)" -le $SEC_CAP
t_check "the primary's hold limit was hit" stat_gt pri p-g hold_full 0
t_check "both holds within their limits" \
	test "$(stat pri p-g holding_packets)" -le 16 -a "$(stat sec s-g holding_packets)" -le 16
# The random guest frames opened connections that look established: they
# stay until idle. Make idle short, and the tables empty out.
echo 1 > /sys/module/colo_proxy/parameters/conn_idle_s
t_check "idle entries forgotten: the tables empty out" wait_for 60 eval \
	"[ \"\$(stat pri p-g connections)\" -le 4 ] && [ \"\$(stat sec s-g connections)\" -le 4 ]"
echo 300 > /sys/module/colo_proxy/parameters/conn_idle_s
# Hostile frames may have opened fake connections that now differ: start
# the real traffic from a clean compare state.
t_check "checkpoint" nsx pri "$COLOCTL" proxy checkpoint p-g
t_check "real traffic still byte-exact afterwards" nsx cli $PY clients 10.0.0.2 8080 4 20000
leak_check_done
