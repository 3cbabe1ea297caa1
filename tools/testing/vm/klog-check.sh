#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Exit 1 (and print the lines) when a kernel log shows a warning, crash,
# lockdep/RCU splat or corruption report. Usage: klog-check.sh LOG...
set -u
pattern='WARNING:|BUG:|BUG |Oops|general protection fault|Kernel panic|kernel BUG|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|rcu_sched detected stall|RCU Stall|rcu: INFO|refcount_t:|list_add corruption|list_del corruption|UBSAN:|KASAN:|slab error|Slab cache still has objects|Call Trace:|hung_task|blocked for more than|soft lockup|hard LOCKUP|unregister_netdevice: waiting'
found=0
for log in "$@"; do
	[ -f "$log" ] || continue
	if grep -E -n -- "$pattern" "$log" > /tmp/klog-check.$$ 2>/dev/null; then
		echo "kernel log $log:"
		sed 's/^/  /' /tmp/klog-check.$$ | head -40
		found=1
	fi
done
rm -f /tmp/klog-check.$$
exit $found
