#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Who may use colo_proxy's generic netlink family: CAP_NET_ADMIN in the user
# namespace that owns the network namespace, for the commands and for
# joining the "events" group (whose messages name the guests' connections).
#   - root of the namespace: commands and events;
#   - a process without capabilities in it: neither;
#   - root of a user namespace of its own, in a network namespace it does
#     not own: neither;
#   - root of a user namespace in a network namespace that namespace owns
#     (an unprivileged user's container): both, there.
source "$(dirname "$0")/lib.sh"

COLOCTL="$REPO/tools/coloctl/coloctl"
[ -x "$COLOCTL" ] || { echo "build coloctl first" >&2; exit 1; }
T=$(mktemp -d)
on_exit "rm -rf $T"
chmod 755 "$T"
# join.py: resolve the family and join its events group; prints "joined" or
# the error. Plain Python from /usr/bin: an unprivileged user may not read
# another interpreter set up under /root.
cat > "$T/join.py" <<'PYEOF'
import os, socket, struct, sys

GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 16, 3
CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 2, 7
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1

def attrs(b):
    while len(b) >= 4:
        n, t = struct.unpack('=HH', b[:4])
        yield t & 0x3fff, b[4:n]
        b = b[(n + 3) & ~3:]

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
name = b'colo_proxy\0'
a = struct.pack('=HH', 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
a += b'\0' * (-len(a) % 4)
msg = struct.pack('=BBH', CTRL_CMD_GETFAMILY, 1, 0) + a
s.send(struct.pack('=IHHII', 16 + len(msg), GENL_ID_CTRL, 1, 1, 0) + msg)
r = s.recv(65536)
if struct.unpack('=H', r[4:6])[0] == 2:
    sys.exit('family lookup: error %d' % struct.unpack('=i', r[16:20])[0])
grp = None
for t, v in attrs(r[20:]):
    if t == CTRL_ATTR_MCAST_GROUPS:
        for _, g in attrs(v):
            d = dict(attrs(g))
            if d[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b'\0') == b'events':
                grp = struct.unpack('=I', d[CTRL_ATTR_MCAST_GRP_ID])[0]
if grp is None:
    sys.exit('no events group')
try:
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp)
except OSError as e:
    print(os.strerror(e.errno))
    sys.exit(1)
print('joined')
PYEOF
JOIN="/usr/bin/python3 $T/join.py"
UNPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"

t_check "load colo_proxy" load_module colo_proxy
on_exit "rmmod colo_proxy"
netns_add pxe
ip -n pxe link set lo up
ip -n pxe link add g0 type veth peer name g1
t_check "root of the namespace creates an instance" ip netns exec pxe "$COLOCTL" proxy add g0 \
	role primary local 127.0.0.1:7000 peer 127.0.0.2:7000
t_check "... and joins the events group" ip netns exec pxe $JOIN

t_check "without capabilities: events refused" fails_with "Operation not permitted" \
	ip netns exec pxe $UNPRIV $JOIN
t_check "... coloctl proxy monitor says so" fails_with "Operation not permitted" \
	ip netns exec pxe $UNPRIV timeout 20 "$COLOCTL" proxy monitor
t_check "... commands refused" fails_with "Operation not permitted" \
	ip netns exec pxe $UNPRIV "$COLOCTL" proxy show

t_check "root of another user namespace: events refused" fails_with "Operation not permitted" \
	ip netns exec pxe unshare -U -r $JOIN
t_check "... commands refused" fails_with "Operation not permitted" \
	ip netns exec pxe unshare -U -r "$COLOCTL" proxy show

# A user namespace with a network namespace of its own, set up as an
# unprivileged user would: a device, an instance on it, the events group.
cat > "$T/own.sh" <<EOF
set -e
ip link set lo up
ip link add h0 type veth peer name h1
"$COLOCTL" proxy add h0 role primary local 127.0.0.1:7000 peer 127.0.0.2:7000
"$COLOCTL" proxy show h0
$JOIN
EOF
t_check "root of a user namespace owning its network namespace: commands and events" \
	unshare -U -r -n bash "$T/own.sh"
t_done
