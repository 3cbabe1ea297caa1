#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Random and malformed generic netlink messages to the colo_proxy family, from
# inside a network namespace that is then deleted with whatever the messages
# created: every message must be answered with an error code or an ack, the
# kernel log must stay clean, and the module must unload with nothing left.
#
#   [ netns hostile ] --random genl--> colo_proxy (per-netns state)
. "$(dirname "$0")/lib.sh"

COUNT=${HOSTILE_COUNT:-20000}
SEED=${HOSTILE_SEED:-$(date +%s)}

t_check "colo_proxy loads" load_module colo_proxy || t_done
slab_before=$(slab_active_objects)
netns_add hostile
no_module_autoload
echo "# seed $SEED, $COUNT messages"
if out=$(ip netns exec hostile "$SELFTESTS/hostile_genl" colo_proxy "$COUNT" "$SEED" 2>&1); then
	t_ok "every one of $COUNT random messages got an error code or an ack"
else
	t_fail "every one of $COUNT random messages got an error code or an ack"
fi
printf '%s\n' "$out" | sed 's/^/# /'
distinct=$(printf '%s\n' "$out" | sed -n 's/.*distinct=\([0-9]*\).*/\1/p')
echo "hostile-inputs netlink $distinct" >> "${COLO_OUT:-/tmp}/hostile-counts"

# Same again from the initial namespace, where instances outlive the sender.
if ip netns exec hostile true && "$SELFTESTS/hostile_genl" colo_proxy $((COUNT / 4)) $((SEED + 1)) > /dev/null; then
	t_ok "random messages from the initial namespace answered too"
else
	t_fail "random messages from the initial namespace answered too"
fi

ip netns del hostile
t_check "module reference count back to 0 after the namespace is gone" \
	wait_for 10 sh -c 'test "$(cat /sys/module/colo_proxy/refcnt)" = 0'
t_check "colo_proxy unloads" unload_module colo_proxy
t_check "slab objects back to where they started (leak check)" slab_settled "$slab_before"
t_done
