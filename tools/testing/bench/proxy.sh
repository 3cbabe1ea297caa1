#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy: TCP throughput (client downloads a zero stream from the guest
# stand-ins) and request/response round trips, through the proxy pair and
# over the same namespaces without it, as ratios; and the same amount of TCP
# payload pushed through QEMU's own colo-compare (a -M none process with
# socket chardevs) as the userspace anchor. Everything runs in namespaces
# this script creates. Under TCG absolute numbers mean little: read ratios.
#
# Proxy and no-proxy runs alternate, ROUNDS_AB times, and each cell is the
# median, so a noisy neighbour hits both columns alike. Two placements:
#   one CPU per host: CPU 0 is the primary host (client, PVM, primary proxy),
#     CPU 1 the secondary host (SVM, secondary proxy): processes are pinned
#     and RPS steers each host's receive processing to its CPU, as two
#     machines would. The baseline uses CPU 0 alone, like the proxied
#     primary, so the ratio is what the proxy costs the primary host.
#   shared CPUs: no pinning; the SVM's whole TCP stack competes with the PVM
#     and the client for the same two CPUs (a cost real deployments do not
#     have, since the SVM runs on another host). The colo-compare anchor
#     uses both CPUs too, so its ratio is taken against this placement.
source "$(dirname "$0")/../selftests/colo/proxy_data.sh"
MB=${PROXY_BENCH_MB:-64}
ROUNDS=${PROXY_BENCH_ROUNDS:-300}
ROUNDS_AB=${PROXY_BENCH_AB:-5}

load_module colo_proxy || exit 1
on_exit "rmmod colo_proxy"
setup || exit 1
for ns in pvm svm; do
	bg "$ns" socat TCP-LISTEN:8090,reuseaddr,fork OPEN:/dev/zero
	bg "$ns" $PY server 8082 echo
done
wait_for 30 listening pvm 8090 && wait_for 30 listening svm 8082 || exit 1

cat > "$T/bench.py" <<'PYEOF'
import socket, statistics, subprocess, sys, time

def tput(addr, mb):
    s = socket.create_connection((addr, 8090), timeout=60)
    want, got = mb << 20, 0
    buf = memoryview(bytearray(1 << 20))
    t = time.monotonic()
    while got < want:
        n = s.recv_into(buf)
        if not n:
            break
        got += n
    dt = time.monotonic() - t
    s.close()
    return got / dt / 1e6

def rtt(addr, rounds):
    s = socket.create_connection((addr, 8082), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ts = []
    for i in range(rounds):
        l = b'ping %d\n' % i
        t = time.monotonic()
        s.sendall(l)
        got = b''
        while not got.endswith(b'\n'):
            got += s.recv(4096)
        ts.append(time.monotonic() - t)
    s.close()
    return statistics.median(ts) * 1e6

if sys.argv[1] == 'tput':
    print('%.1f' % tput(sys.argv[2], int(sys.argv[3])))
else:
    print('%.0f' % rtt(sys.argv[2], int(sys.argv[3])))
PYEOF

# QEMU colo-compare fed the same payload: identical TCP segments on its
# primary_in and secondary_in chardevs, released ones read from outdev.
cat > "$T/anchor.py" <<'PYEOF'
import os, socket, struct, subprocess, sys, time
mb, d = int(sys.argv[1]), sys.argv[2]
paths = {n: os.path.join(d, n) for n in ('pri', 'sec', 'out')}
qemu = subprocess.Popen(['qemu-system-x86_64', '-M', 'none', '-nodefaults', '-display', 'none',
    '-chardev', 'socket,id=pri,path=%s,server=on,wait=off' % paths['pri'],
    '-chardev', 'socket,id=sec,path=%s,server=on,wait=off' % paths['sec'],
    '-chardev', 'socket,id=out,path=%s,server=on,wait=off' % paths['out'],
    '-object', 'iothread,id=io0',
    '-object', 'colo-compare,id=cmp,primary_in=pri,secondary_in=sec,outdev=out,iothread=io0,compare_timeout=3000'],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
socks = {}
for n, p in paths.items():
    for _ in range(300):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(p)
            socks[n] = s
            break
        except OSError:
            time.sleep(0.05)
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(seq, payload, flags=0x18):
    tcp = struct.pack('!HHIIBBHHH', 8090, 40000, seq, 1, 0x50, flags, 65535, 0, 0) + payload
    src, dst = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
    c = csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0) + src + dst
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02\0\0\0\0\x01\x52\x54\x00\x12\x34\x56\x08\x00' + ip + tcp
seg = 1448
n = (mb << 20) // seg
frames = [frame(1000 + i * seg, b'\0' * seg) for i in range(n)]
wire = b''.join(struct.pack('!I', len(f)) + f for f in frames)
out = socks['out']
out.settimeout(30)
t = time.monotonic()
for i in range(0, len(wire), 1 << 20):
    socks['pri'].sendall(wire[i:i + (1 << 20)])
    socks['sec'].sendall(wire[i:i + (1 << 20)])
    if i == 0:
        pass
want, got = len(wire), 0
try:
    while got < want:
        d = out.recv(1 << 20)
        if not d:
            break
        got += len(d)
except socket.timeout:
    pass
dt = time.monotonic() - t
qemu.kill()
print('%.1f' % (got / dt / 1e6) if got == want else 'failed (%d of %d bytes released)' % (got, want))
PYEOF

# run [taskset-cpus] tput|rtt ADDR N: one client run from the client namespace.
run()
{
	local pin=()

	[ "$1" = pinned ] && pin=(taskset -c 0)
	shift
	ip netns exec cli "${pin[@]}" python3 "$T/bench.py" "$@"
}
# ratio A B: A/B with two decimals, "-" when either run failed.
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2" 2> /dev/null || echo -; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "failed" }'; }

proxy_on() { instances_add && ip -n cli link set c-s up; }
# Without the proxy the secondary is off the LAN (its guest would answer too).
proxy_off()
{
	ip -n cli link set c-s down
	nsx pri "$COLOCTL" proxy del p-g
	nsx sec "$COLOCTL" proxy del s-g
}
# rps NS DEV MASK: receive processing of DEV on the CPUs in MASK.
rps() { nsx "$1" sh -c "echo $3 > /sys/class/net/$2/queues/rx-0/rps_cpus"; }
# place hosts|shared: RPS masks and CPU affinity of the guests' servers.
place()
{
	local sec=0 pri=0 d p cpus
	[ "$1" = hosts ] && { sec=2; pri=1; }
	for d in s-g s-up s-t; do rps sec "$d" "$sec"; done
	rps svm eth0 "$sec"
	rps pri p-t "$pri"
	for p in $(pgrep -f "socat TCP-LISTEN:8090") $(pgrep -f "px.py server 8082"); do
		cpus=0,1
		if [ "$1" = hosts ]; then
			case "$(ip netns identify "$p")" in
			pvm) cpus=0 ;;
			svm) cpus=1 ;;
			esac
		fi
		taskset -pc "$cpus" "$p" > /dev/null
	done
}

# measure PLACEMENT: alternating rounds, prints "tput_base tput_proxy rtt_base rtt_proxy requests".
measure()
{
	local pin=free i tb=() tp=() rb=() rp=() req0 req=0

	place "$1"
	[ "$1" = hosts ] && pin=pinned
	for i in $(seq "$ROUNDS_AB"); do
		proxy_on || return 1
		tp+=("$(run $pin tput 10.0.0.2 "$MB")")
		rp+=("$(run $pin rtt 10.0.0.2 "$ROUNDS")")
		req=$((req + $(requests)))
		nsx pri "$COLOCTL" proxy stats p-g | grep '^requests_' >> "$T/reasons"
		proxy_off
		tb+=("$(run $pin tput 10.0.0.2 "$MB")")
		rb+=("$(run $pin rtt 10.0.0.2 "$ROUNDS")")
	done
	echo "$(median "${tb[@]}") $(median "${tp[@]}") $(median "${rb[@]}") $(median "${rp[@]}") $req"
}

: > "$T/reasons"
proxy_off
read -r h_tb h_tp h_rb h_rp h_req <<< "$(measure hosts)"
read -r s_tb s_tp s_rb s_rp s_req <<< "$(measure shared)"
anchor=$(python3 "$T/anchor.py" "$MB" "$T")

printf '\ncolo_proxy: %s MiB downloads and %s round trips, median of %s alternating rounds\n' \
	"$MB" "$ROUNDS" "$ROUNDS_AB"
printf '%-18s %-36s %10s %10s %7s\n' placement measure "no proxy" proxy ratio
row() { printf '%-18s %-36s %10s %10s %7s\n' "$1" "$2" "${3:-failed}" "${4:-failed}" "$(ratio "$4" "$3")"; }
row "one CPU per host" "TCP download throughput (MB/s)" "$h_tb" "$h_tp"
row "one CPU per host" "request/response round trip (us)" "$h_rb" "$h_rp"
row "shared CPUs" "TCP download throughput (MB/s)" "$s_tb" "$s_tp"
row "shared CPUs" "request/response round trip (us)" "$s_rb" "$s_rp"
printf '%-55s %10s %s\n' "checkpoint requests during all proxy runs" "$((h_req + s_req))" \
	"$(awk '$2 > 0 { n[substr($1, 10)] += $2 } END { for (r in n) printf "%s%s %d", s++ ? ", " : "(", r, n[r]; if (s) print ")" }' "$T/reasons")"
printf '%-18s %-36s %10s %10s %7s\n' "userspace anchor" "QEMU colo-compare, same payload (MB/s)" \
	"$anchor" "$s_tp" "$(ratio "$s_tp" "$anchor")"
echo "(anchor ratio: colo_proxy shared-CPU throughput over colo-compare's, both using both CPUs)"
