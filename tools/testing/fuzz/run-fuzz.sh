#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run each libFuzzer target for SECONDS on a scratch copy of its seed corpus
# (the repo's corpus stays as committed), report executions per target, and
# write "passed failed skipped" to $COUNTS_FILE and "target executions" lines
# to $EXECS_FILE when set. A crash, leak or
# sanitizer report fails the target and keeps the reproducer in build/.
# Usage: run-fuzz.sh SECONDS BINARY...
set -u
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
printf '%-28s %10s %12s %8s\n' target seconds executions result
for bin in "$@"; do
	name=$(basename "$bin")
	work=$(mktemp -d)
	[ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/"
	log="$here/build/$name.log"
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$here/build/$name-" -print_final_stats=1 "$work" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		result=ok
		passed=$((passed + 1))
	else
		result=FAILED
		failed=$((failed + 1))
	fi
	printf '%-28s %10s %12s %8s\n' "$name" "$seconds" "${execs:-?}" "$result"
	[ -n "${EXECS_FILE:-}" ] && echo "$name ${execs:-0}" >> "$EXECS_FILE"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -10 | sed 's/^/    /'
	fi
	rm -rf "$work"
done
[ -n "${COUNTS_FILE:-}" ] && echo "$passed $failed 0" > "$COUNTS_FILE"
echo "fuzz targets: $passed passed, $failed failed"
[ $failed -eq 0 ]
