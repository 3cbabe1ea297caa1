#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Random ioctls on colo_ckpt's control device and on two object nodes: every
# call returns a result or an error code, the kernel log stays clean, and the
# module unloads with its slab objects and page accounting back at zero.
. "$(dirname "$0")/lib.sh"

COUNT=${HOSTILE_COUNT:-50000}
SEED=${HOSTILE_SEED:-$(date +%s)}

no_module_autoload
slab_before=$(slab_active_objects)
t_check "colo_ckpt loads" load_module colo_ckpt || t_done
echo "# seed $SEED, $COUNT calls"
if out=$("$SELFTESTS/hostile_ckpt_ioctl" "$COUNT" "$SEED" 2>&1); then
	t_ok "$COUNT random ioctls answered with results or error codes"
else
	t_fail "$COUNT random ioctls answered with results or error codes"
fi
printf '%s\n' "$out" | sed 's/^/# /'
distinct=$(printf '%s\n' "$out" | sed -n 's/.*distinct=\([0-9]*\).*/\1/p')
echo "hostile-inputs ioctl ${distinct:-0}" >> "${COLO_OUT:-/tmp}/hostile-counts"
t_check "module reference count back to 0" wait_for 10 sh -c 'test "$(cat /sys/module/colo_ckpt/refcnt)" = 0'
t_check "colo_ckpt unloads" unload_module colo_ckpt
t_check "slab objects back to where they started (leak check)" slab_settled "$slab_before"
t_done
