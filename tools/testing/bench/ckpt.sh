#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# colo_ckpt: collect time for a fixed dirty count as the object grows
# (256 MiB, 1 GiB, 4 GiB: must stay flat), the cost of a tracked first write
# vs anonymous memory, and bulk page reads vs memcpy of the same pages.
# Needs a VM with about 6 GiB (make bench uses --mem 6144). Under TCG every
# instruction is emulated: kernel copies (rep movs) suffer more than the
# vectorised userspace memcpy they are compared with, so compare ratios
# between runs of the same setup rather than reading them as native costs.
. "$(dirname "$0")/../selftests/colo/lib.sh"
set -e
BENCH="$SELFTESTS/ckpt_bench"

load_module colo_ckpt max_bytes=$((8 << 30))
trap 'rmmod colo_ckpt 2>/dev/null' EXIT

echo "--- collect: 1000 dirty pages"
"$BENCH" collect 1000 256 1024 4096
echo
echo "--- collect: 10000 dirty pages"
"$BENCH" collect 10000 256 1024 4096
echo
echo "--- write faults"
"$BENCH" fault 65536
echo
echo "--- bulk read"
"$BENCH" read 16384
unload_module colo_ckpt
trap - EXIT
