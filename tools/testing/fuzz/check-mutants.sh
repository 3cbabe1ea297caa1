#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Show that every fuzz target can fail: for each line of mutants.txt, copy
# the tree, inject that bug, build the target and run it from its seed
# corpus; it must stop with a finding within SECONDS. TAP output, and
# "passed failed skipped" to $COUNTS_FILE when set. A target with no mutant
# listed fails too, so new targets must bring one.
# Usage: check-mutants.sh [SECONDS]
set -u
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/colo-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0 failed=0

targets=$(make -s -C "$here" -pn 2>/dev/null | sed -n 's/^FUZZERS := *//p' | head -1)
for target in $targets; do
	n=$((n + 1))
	line=$(grep -E "^$target @@ " "$here/mutants.txt" | head -1)
	if [ -z "$line" ]; then
		echo "not ok $n - $target: no injected bug listed in mutants.txt"
		failed=$((failed + 1))
		continue
	fi
	file=$(awk -F' @@ ' '{ print $2 }' <<< "$line")
	tree="$work/$target"
	mkdir -p "$tree"
	(cd "$repo" && git ls-files -z kernel include tools/coloctl tools/colod tools/testing/fuzz tools/testing/unit |
		xargs -0 cp --parents -t "$tree")
	if ! python3 - "$tree" "$line" <<'PY'
import os, sys
_, file, old, new = sys.argv[2].split(" @@ ")
path = os.path.join(sys.argv[1], file)
text = open(path).read()
if text.count(old) != 1:
    sys.exit("%s: the text to replace occurs %d times" % (path, text.count(old)))
open(path, "w").write(text.replace(old, new))
PY
	then
		echo "not ok $n - $target: mutant does not apply to $file"
		failed=$((failed + 1))
		continue
	fi
	if ! make -s -C "$tree/tools/testing/fuzz" "build/$target" > "$work/$target.build" 2>&1; then
		echo "not ok $n - $target: mutant does not build"
		sed 's/^/# /' "$work/$target.build" | tail -5
		failed=$((failed + 1))
		continue
	fi
	corpus="$work/$target.corpus"
	mkdir -p "$corpus"
	[ -d "$here/corpus/$target" ] && cp -r "$here/corpus/$target/." "$corpus/"
	start=$(date +%s)
	if "$tree/tools/testing/fuzz/build/$target" -max_total_time="$seconds" -timeout=10 \
		-artifact_prefix="$work/$target-" "$corpus" > "$work/$target.log" 2>&1; then
		echo "not ok $n - $target did not find the bug injected in $file within ${seconds}s"
		failed=$((failed + 1))
	else
		finding=$(grep -m1 -oE 'ERROR: AddressSanitizer: [A-Za-z-]+|runtime error: .*|deadly signal' "$work/$target.log")
		echo "ok $n - $target finds the bug injected in $file in $(( $(date +%s) - start ))s (${finding:-crash})"
	fi
done
echo "1..$n"
[ -n "${COUNTS_FILE:-}" ] && echo "$((n - failed)) $failed 0" > "$COUNTS_FILE"
[ $failed -eq 0 ]
