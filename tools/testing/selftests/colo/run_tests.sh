#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the COLO in-kernel tests inside the test VM: every *.sh here but the
# libraries (lib.sh, *_lib.sh), this file and the guest tier (guest_*, which
# runs real guests and is asked for by name), or those whose names match the
# glob PATTERNs given. Each
# script's TAP lines are counted; a script that fails without a "not ok" line,
# or after which the kernel log shows a warning, counts as one more failure.
# Writes the counts to $COLO_OUT/counts and ends with "N passed, N failed, N skipped".
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

passed=0 failed=0 skipped=0
echo "TAP version 13"
echo "1..${#scripts[@]}"
n=0
for f in "${scripts[@]}"; do
	n=$((n + 1))
	name=$(basename "$f" .sh)
	klog_lines=$(dmesg | wc -l)
	start=$(date +%s)
	echo "# $name"
	bash "$f" > "$LOGS/$name.log" 2>&1 < /dev/null
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
	elif [ $rc -ne 0 ]; then
		[ $bad -eq 0 ] && failed=$((failed + 1))
		verdict="not ok"
	fi
	echo "$verdict $n - $name (${elapsed}s, exit $rc)"
done

echo "$passed $failed $skipped" > "$OUT/counts"
echo "in-kernel tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
