#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make demo": build (the guest images too), boot the test VM and run the
# demonstration pieces (demo/NN-*.sh, in order) inside it. Each piece prints
# what it shows.
set -eu
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$REPO"
make -s modules tools test-helpers 2>&1 | grep -v 'Skipping BTF generation' || true
# the end-to-end guest that colod replicates (built once, then cached)
make -s guest
exec tools/testing/vm/run.sh --mem "${VM_MEM:-3072}" --out "${COLO_DEMO_OUT:-/tmp/colo-demo}" \
	--cmd "$REPO/tools/testing/demo/demo.sh"
