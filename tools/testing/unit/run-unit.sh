#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run unit test binaries, show their TAP, count ok / not ok lines, and write
# "passed failed skipped" to $COUNTS_FILE when set.
set -u
passed=0 failed=0 skipped=0
for bin in "$@"; do
	name=$(basename "$bin")
	echo "# $name"
	out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	ok=$(printf '%s\n' "$out" | grep -Ec '^ok [0-9]+')
	skip=$(printf '%s\n' "$out" | grep -Ec '^ok [0-9]+ .*# SKIP')
	bad=$(printf '%s\n' "$out" | grep -Ec '^not ok [0-9]+')
	passed=$((passed + ok - skip))
	skipped=$((skipped + skip))
	failed=$((failed + bad))
	if [ $rc -ne 0 ] && [ $bad -eq 0 ]; then
		failed=$((failed + 1))
		echo "    # $name exited $rc without a failing test line (sanitizer report?)"
	fi
done
[ -n "${COUNTS_FILE:-}" ] && echo "$passed $failed $skipped" > "$COUNTS_FILE"
echo "unit tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
