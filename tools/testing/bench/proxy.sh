#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy: TCP throughput (client downloads a zero stream from the guest
# stand-ins) and request/response round trips, through the proxy pair and
# over the same namespaces without it, as ratios; and the same amount of TCP
# payload pushed through QEMU's own colo-compare (a -M none process with
# socket chardevs) as the userspace anchor. Everything runs in namespaces
# this script creates. Under TCG absolute numbers mean little: read ratios.
source "$(dirname "$0")/../selftests/colo/proxy_data.sh"
MB=${PROXY_BENCH_MB:-64}
ROUNDS=${PROXY_BENCH_ROUNDS:-300}

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
    t = time.monotonic()
    while got < want:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
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

run() { ip netns exec cli python3 "$T/bench.py" "$@"; }
# ratio A B: A/B with two decimals, "-" when either run failed.
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2" 2> /dev/null || echo -; }
tput_proxy=$(run tput 10.0.0.2 "$MB")
rtt_proxy=$(run rtt 10.0.0.2 "$ROUNDS")
requests_seen=$(requests)
# Baseline: the same namespaces, the secondary off the LAN, no proxy.
ip -n cli link set c-s down
ip netns exec pri "$COLOCTL" proxy del p-g
ip netns exec sec "$COLOCTL" proxy del s-g
tput_base=$(run tput 10.0.0.2 "$MB")
rtt_base=$(run rtt 10.0.0.2 "$ROUNDS")
anchor=$(python3 "$T/anchor.py" "$MB" "$T")

printf '\n%-44s %12s %12s %8s\n' "colo_proxy ($MB MiB, $ROUNDS round trips)" "no proxy" "proxy" "ratio"
printf '%-44s %12s %12s %8s\n' "TCP download throughput (MB/s)" "${tput_base:-failed}" \
	"${tput_proxy:-failed}" "$(ratio "$tput_proxy" "$tput_base")"
printf '%-44s %12s %12s %8s\n' "request/response median round trip (us)" "${rtt_base:-failed}" \
	"${rtt_proxy:-failed}" "$(ratio "$rtt_proxy" "$rtt_base")"
printf '%-44s %12s\n' "checkpoint requests during the proxy runs" "$requests_seen"
printf '%-44s %12s %12s %8s\n' "QEMU colo-compare, same payload (MB/s)" "" "$anchor" \
	"$(ratio "$tput_proxy" "$anchor")"
echo "(last ratio: colo_proxy throughput over colo-compare's)"
