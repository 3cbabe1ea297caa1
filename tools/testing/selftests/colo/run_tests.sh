#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the COLO in-kernel tests inside the test VM: every *.sh here but the
# libraries (lib.sh, *_lib.sh), this file and the guest tier (guest_*, which
# runs real guests and is asked for by name), or those whose names match the
# glob PATTERNs given. Each
# script's TAP lines are counted; a script that fails without a "not ok" line,
# or after which the kernel log shows a warning, counts as one more failure.
# A script still running after COLO_TEST_TIMEOUT seconds (default 600) is
# stopped with everything it started, after its processes and the kernel's
# blocked tasks are written to its log; it counts as a failure and the run
# goes on. The counts so far are in $COLO_OUT/counts after every script, and
# the script running now is named in $COLO_OUT/running, so that a VM that
# never comes back still reports what passed and where it stood. Failed
# scripts are listed in $COLO_OUT/failed. Ends with "N passed, N failed, N skipped".
set -u
DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$DIR/../../../.." && pwd)
OUT=${COLO_OUT:-/tmp}
LOGS="$OUT/logs"
mkdir -p "$LOGS"

patterns=("$@")
excluded=()
if [ ${#patterns[@]} -eq 0 ]; then
	patterns=('*')
	excluded=('guest_*')
fi

scripts=()
for f in "$DIR"/*.sh; do
	name=$(basename "$f" .sh)
	case "$name" in lib|*_lib|run_tests) continue ;; esac
	for p in "${excluded[@]}"; do
		# shellcheck disable=SC2053
		[[ $name == $p ]] && continue 2
	done
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053
		if [[ $name == $p ]]; then
			scripts+=("$f")
			break
		fi
	done
done

if [ -n "${COLO_INJECT:-}" ]; then
	scripts+=("$REPO/tools/testing/vm/inject/$COLO_INJECT.sh")
fi

TEST_TIMEOUT=${COLO_TEST_TIMEOUT:-600}

# run_script FILE LOG: run one test script in a session of its own, so that
# it can be stopped with all it started; exit status 124 when it timed out.
run_script()
{
	local file=$1 log=$2 pid watchdog rc left
	setsid bash "$file" > "$log" 2>&1 < /dev/null &
	pid=$!
	sleep "$TEST_TIMEOUT" &
	watchdog=$!
	wait -n "$pid" "$watchdog"
	if kill -0 "$pid" 2>/dev/null; then
		{
			echo "# timed out after ${TEST_TIMEOUT}s; its processes:"
			ps -s "$pid" -o pid,ppid,stat,etimes,wchan:32,args | sed 's/^/# /'
		} >> "$log"
		# The kernel's stacks of blocked (D state) tasks, for a hang below.
		echo w > /proc/sysrq-trigger
		kill -TERM -- -"$pid" 2>/dev/null
		sleep 10 &
		watchdog=$!
		wait -n "$pid" "$watchdog"
		kill -KILL -- -"$pid" 2>/dev/null
		wait "$pid"
		return 124
	fi
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	# What a script leaves running (a sender, a server) would go on into
	# the scripts after it.
	left=$(ps -s "$pid" -o pid=,args=)
	if [ -n "$left" ]; then
		echo "# left running after the script ended (stopped now):" >> "$log"
		sed 's/^/# /' <<< "$left" >> "$log"
		pkill -KILL -s "$pid"
	fi
	return $rc
}

# Taking the kernel's netdev ingress/egress hook counts from zero to one or
# back patches __netif_receive_skb_core live, and under TCG that has
# livelocked the VM when frames were flowing (testing.rst, Known limits).
# A chain on each hook of a dummy device in a namespace of the harness's
# own keeps both counts above zero for the whole run, so the tests' own
# hooks come and go without that patching.
HOOK_HOLD_NS=colo-hook-hold
hook_hold_start()
{
	ip netns add "$HOOK_HOLD_NS" &&
	ip -n "$HOOK_HOLD_NS" link add hold0 type dummy &&
	ip -n "$HOOK_HOLD_NS" link set hold0 up &&
	ip netns exec "$HOOK_HOLD_NS" nft -f - <<-'NFT'
	table netdev colo_hook_hold {
		chain ingress { type filter hook ingress device "hold0" priority 0; }
		chain egress { type filter hook egress device "hold0" priority 0; }
	}
	NFT
}
if ! hook_hold_start; then
	echo "run_tests.sh: cannot hold the netdev hooks (nftables missing?)" >&2
	exit 1
fi

passed=0 failed=0 skipped=0
: > "$OUT/failed"
echo "0 0 0" > "$OUT/counts"
echo "TAP version 13"
echo "1..${#scripts[@]}"
n=0
for f in "${scripts[@]}"; do
	n=$((n + 1))
	name=$(basename "$f" .sh)
	klog_lines=$(dmesg | wc -l)
	start=$(date +%s)
	echo "# $name"
	echo "$name" > "$OUT/running"
	run_script "$f" "$LOGS/$name.log"
	rc=$?
	elapsed=$(( $(date +%s) - start ))
	sed 's/^/    /' "$LOGS/$name.log"
	dmesg | tail -n +$((klog_lines + 1)) > "$LOGS/$name.dmesg"
	ok=$(grep -Ec '^ok [0-9]+' "$LOGS/$name.log" | head -1)
	skip=$(grep -Ec '^ok [0-9]+ .*# SKIP' "$LOGS/$name.log" | head -1)
	bad=$(grep -Ec '^not ok [0-9]+' "$LOGS/$name.log" | head -1)
	passed=$((passed + ok - skip))
	skipped=$((skipped + skip))
	failed=$((failed + bad))
	verdict=ok
	if ! "$REPO/tools/testing/vm/klog-check.sh" "$LOGS/$name.dmesg" > "$LOGS/$name.splats"; then
		sed 's/^/    # /' "$LOGS/$name.splats"
		failed=$((failed + 1))
		verdict="not ok"
		echo "    # kernel log shows a warning during $name"
	fi
	if [ $rc -eq 4 ] && [ $bad -eq 0 ]; then
		skipped=$((skipped + 1))
		if [ -n "${CI:-}" ]; then
			echo "    # skipped in CI: counted as a failure"
			failed=$((failed + 1))
			verdict="not ok"
		fi
	elif [ $rc -eq 124 ]; then
		failed=$((failed + 1))
		verdict="not ok"
		echo "    # timed out after ${TEST_TIMEOUT}s: counted as a failure"
	elif [ $rc -ne 0 ]; then
		[ $bad -eq 0 ] && failed=$((failed + 1))
		verdict="not ok"
	fi
	echo "$verdict $n - $name (${elapsed}s, exit $rc)"
	[ "$verdict" = ok ] || echo "$name" >> "$OUT/failed"
	echo "$passed $failed $skipped" > "$OUT/counts"
done
rm -f "$OUT/running"
ip netns del "$HOOK_HOLD_NS"

echo "in-kernel tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
