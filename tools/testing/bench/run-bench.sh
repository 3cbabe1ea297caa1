#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make bench": build, boot the test VM and run every benchmark (bench/*.sh)
# inside it. Each prints a table with its baseline measured in the same run.
set -eu
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$REPO"
make -s modules tools test-helpers 2>&1 | grep -v 'Skipping BTF generation' || true
# the end-to-end guest the colod benchmark replicates (built once, then cached)
make -s guest
exec tools/testing/vm/run.sh --mem "${VM_MEM:-6144}" --out "${COLO_BENCH_OUT:-/tmp/colo-bench}" \
	--cmd "$REPO/tools/testing/bench/bench-all.sh ${*:-}"
