#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_proxy failover to the secondary: the primary host dies with a TCP
# connection open (timestamps on in both guests, different offsets); after
# `coloctl proxy failover` on the secondary the SVM answers the client in the
# PVM's sequence and timestamp spaces and the connection goes on byte-exact.
source "$(dirname "$0")/proxy_data.sh"

failover_start
t_check "no checkpoint requested so far" no_requests
# The primary host dies: its link to the client and the tunnel go down.
ip -n cli link set c-p down
ip -n pri link set p-t down
t_check "failover on the secondary" nsx sec "$COLOCTL" proxy failover s-g
touch "$T/go"
wait $client
rc=$?
sed 's/^/# /' "$T/client.out"
t_check "the connection survived failover byte-exact" test $rc = 0
t_check "secondary shows failed-over" bash -c \
	"ip netns exec sec $COLOCTL proxy show s-g | grep -q 'secondary failed-over'"
t_check "new connections to the survivor" nsx cli $PY clients 10.0.0.2 8080 3 20000
t_done
