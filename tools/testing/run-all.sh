#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The whole test run ("make check"): build everything warning-free, run the
# userspace unit tests, each fuzz target briefly, then boot the test VM and
# run the in-kernel tests. Ends with one line "N passed, N failed, N skipped".
#
# COLO_INJECT=fail adds a test that fails, COLO_INJECT=warn one that makes the
# kernel print a WARNING: both must make the run fail (harness self-check).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
OUT=${COLO_CHECK_OUT:-$(mktemp -d /tmp/colo-check.XXXXXX)}
mkdir -p "$OUT"
passed=0 failed=0 skipped=0
failures=()

add_counts()
{
	local p f s
	if [ -s "$1" ]; then
		read -r p f s < "$1"
	else
		p=0 f=1 s=0
		echo "($2 left no counts: counted as one failure)"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$f" = 0 ] || failures+=("$2")
}

# tap_step NAME COMMAND...: run a command that prints TAP, show its output
# and count its ok / not ok lines.
tap_step()
{
	local name=$1
	shift
	"$@" > "$OUT/$name.log" 2>&1
	cat "$OUT/$name.log"
	echo "$(grep -c '^ok ' "$OUT/$name.log") $(grep -c '^not ok ' "$OUT/$name.log") 0" > "$OUT/$name.counts"
	add_counts "$OUT/$name.counts" "$name"
}

step()
{
	echo
	echo "=== $* ==="
}

step "build (kernel $(. tools/testing/vm/kernel.sh && colo_kernel_version))"
build_ok=1
{
	make -s modules && make -s tools && make -s test-helpers
} > "$OUT/build.log" 2>&1 || build_ok=0
if [ "${COLO_INJECT:-}" = warn ]; then
	make -s inject-modules >> "$OUT/build.log" 2>&1 || build_ok=0
fi
grep -v 'Skipping BTF generation' "$OUT/build.log"
if [ $build_ok -eq 0 ]; then
	echo "build failed"
	failed=$((failed + 1))
	failures+=(build)
elif grep -q 'warning:' "$OUT/build.log"; then
	echo "build has warnings"
	failed=$((failed + 1))
	failures+=("build warnings")
else
	echo "build ok, no warnings"
	passed=$((passed + 1))
fi

step "packaging: make install into DESTDIR, DKMS build in private trees"
tap_step packaging tools/testing/packaging.sh

step "contract: YNL specs agree with the uapi headers"
tap_step spec tools/testing/spec_check.py

step "unit tests (ASan + UBSan)"
make -s -C tools/testing/unit all > "$OUT/unit-build.log" 2>&1 || cat "$OUT/unit-build.log"
COUNTS_FILE="$OUT/unit.counts" make -s -C tools/testing/unit check
add_counts "$OUT/unit.counts" "unit tests"

step "fuzz targets (${CHECK_SECONDS:-5} s each)"
make -s -C tools/testing/fuzz all > "$OUT/fuzz-build.log" 2>&1 || cat "$OUT/fuzz-build.log"
COUNTS_FILE="$OUT/fuzz.counts" EXECS_FILE="$OUT/fuzz.execs" make -s -C tools/testing/fuzz check
add_counts "$OUT/fuzz.counts" "fuzz targets"

step "each fuzz target finds a bug injected on purpose (fuzz/mutants.txt)"
COUNTS_FILE="$OUT/mutants.counts" tools/testing/fuzz/check-mutants.sh 60
add_counts "$OUT/mutants.counts" "fuzz mutants"

# vm_step NAME LABEL [PATTERN...]: one boot of the test VM running the
# in-kernel tests (the matching ones), counted; prints how long it took.
# Each step takes 8-12 minutes on a quiet 2-core machine under TCG, and
# several times that on a busy one; a hung test is stopped after
# COLO_TEST_TIMEOUT inside. Two steps at the bound stay within 90 minutes.
VM_STEP_TIMEOUT=${VM_TIMEOUT:-2400}
vm_step()
{
	local name=$1 label=$2 rc start elapsed
	shift 2
	start=$(date +%s)
	tools/testing/vm/run.sh --timeout "$VM_STEP_TIMEOUT" --out "$OUT/$name" "$@"
	rc=$?
	elapsed=$(( $(date +%s) - start ))
	add_counts "$OUT/$name/counts" "$label"
	if [ $rc -ne 0 ] && [ -s "$OUT/$name/counts" ] && [ "$(cut -d' ' -f2 "$OUT/$name/counts")" = 0 ]; then
		# The tests passed but the VM run did not: a timeout, a splat after
		# the tests, or no clean poweroff.
		failed=$((failed + 1))
		failures+=("$label")
	fi
	if [ -s "$OUT/$name/failed" ]; then
		failures+=("$label: $(paste -sd' ' "$OUT/$name/failed")")
	fi
	echo "$label took ${elapsed}s; logs in $OUT/$name"
}

step "in-kernel tests in a VM"
# shellcheck disable=SC2086
vm_step vm "VM part" ${COLO_TESTS:-}

step "guest tier: the end-to-end guest (images cached in ${COLO_GUEST_CACHE:-/var/cache/colo-guest})"
if [ -n "${COLO_TESTS:-}" ]; then
	echo "skipped: COLO_TESTS restricts the run"
else
	start=$(date +%s)
	if make -s guest > "$OUT/guest-build.log" 2>&1; then
		passed=$((passed + 1))
		echo "guest images ready ($(( $(date +%s) - start ))s):"
	else
		failed=$((failed + 1))
		failures+=("guest images")
		echo "guest images failed to build:"
	fi
	sed 's/^/  /' "$OUT/guest-build.log"
	vm_step vm-guest "guest tier" 'guest_*'
fi

step "hostile input summary"
fuzzers=$(grep -c . "$OUT/fuzz.execs" 2>/dev/null || echo 0)
echo "fuzz targets: $fuzzers, executions in this run:"
sed 's/^/  /' "$OUT/fuzz.execs" 2>/dev/null
if [ -s "$OUT/vm/hostile-counts" ]; then
	echo "distinct bad inputs tried in the kernel:"
	awk '{ n[$2] += $3; t += $3 } END { for (k in n) printf "  %-10s %d\n", k, n[k]; printf "  %-10s %d\n", "total", t }' \
		"$OUT/vm/hostile-counts"
fi
splats=$(find "$OUT"/vm*/logs -name '*.splats' -size +0 2>/dev/null | wc -l)
echo "test scripts with kernel warnings: $splats; leak checks: $(cat "$OUT"/vm/logs/*.log 2>/dev/null | grep -c '^ok .*leak check') passed, $(cat "$OUT"/vm/logs/*.log 2>/dev/null | grep -c '^not ok .*leak check') failed"

echo
for f in "${failures[@]}"; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
