#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The leak check of hostile_dm.sh must catch a real leak. Load the mutant
# colo_blk that "make test-helpers" built (tools/testing/vm/mutant/build.sh:
# a removed device keeps its bio sets, the mempools of bios and bio vectors
# every primary and secondary allocates, about 130 slab objects each), run
# hostile_dm.sh on it with 400 table lines (some 60 devices accepted,
# several thousand objects leaked, where runs of the unchanged module end
# within 1000 of their start), and expect its leak check, and only it, to
# fail.
#
#   tools/testing/vm/mutant/build/kernel/colo_blk/colo_blk.ko
#   hostile_dm.sh with COLO_MODULES_DIR=<that>/kernel  ->  "not ok ... leak check"
. "$(dirname "$0")/lib.sh"

MUTANT=$REPO/tools/testing/vm/mutant/build/kernel
t_check "the mutant colo_blk is built (make test-helpers)" \
	test -f "$MUTANT/colo_blk/colo_blk.ko" || t_done
t_check "... and differs from colo_blk.ko" \
	eval "! cmp -s $MUTANT/colo_blk/colo_blk.ko $REPO/kernel/colo_blk/colo_blk.ko" || t_done

out=$(COLO_MODULES_DIR=$MUTANT HOSTILE_DM_COUNT=${HOSTILE_DM_COUNT:-400} \
	bash "$SELFTESTS/hostile_dm.sh" 2>&1)
printf '%s\n' "$out" | grep -E '^(not )?ok|seed|slab objects|^# [0-9]' | sed 's/^/# /'
t_check "hostile_dm's leak check fails on the mutant" \
	grep -Eq '^not ok [0-9]+ - slab objects back to where they started' <<< "$out"
t_check "... and nothing else does" \
	test "$(grep -c '^not ok' <<< "$out")" = 1
t_done
