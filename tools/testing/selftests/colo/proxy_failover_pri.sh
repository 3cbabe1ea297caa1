#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy failover on the primary: the secondary host dies with a TCP
# connection open; the PVM's answers are held (nothing to compare with) until
# `coloctl proxy failover` on the primary releases them and turns the proxy
# into a pass-through; the connection goes on byte-exact.
source "$(dirname "$0")/proxy_data.sh"

failover_start
# The secondary host dies.
ip -n cli link set c-s down
ip -n sec link set s-t down
touch "$T/go"
t_check "the PVM's answer is held while the secondary is gone" \
	wait_for 20 stat_gt pri p-g held "$(stat pri p-g released)"
t_check "failover on the primary" nsx pri "$COLOCTL" proxy failover p-g
wait $client
rc=$?
sed 's/^/# /' "$T/client.out"
t_check "the connection survived failover byte-exact" test $rc = 0
t_check "nothing is held after failover" bash -c \
	"[ \$(ip netns exec pri $COLOCTL proxy stats p-g | awk '\$1==\"held\"{h=\$2} \$1==\"released\"{r=\$2} END{print h-r}') -le 0 ]"
mirrored=$(stat pri p-g mirrored)
t_check "pass-through after failover" nsx cli $PY clients 10.0.0.2 8080 3 20000
t_check "mirroring stopped" test "$(stat pri p-g mirrored)" = "$mirrored"
t_done
