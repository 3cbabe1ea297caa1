#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the mutant colo_blk that hostile_dm_leak_mutant.sh loads: a scratch
# copy of kernel/colo_blk in which a removed device keeps its bio sets (the
# destructors' bioset_exit() calls are gone), so that hostile_dm.sh's leak
# check has a real leak to catch. Built here, on the host, by
# "make test-helpers": compiling inside the test VM cost minutes under TCG.
#
#   kernel/colo_blk, include --copy--> tools/testing/vm/mutant/build/
#   bioset_exit() removed           --> build/kernel/colo_blk/colo_blk.ko
#
# Usage: build.sh KDIR
set -euo pipefail
KDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
B=$HERE/build

rm -rf "$B"
mkdir -p "$B/kernel"
cp -r "$REPO/kernel/colo_blk" "$B/kernel/"
cp -r "$REPO/include" "$B/"
make -s -C "$KDIR" M="$B/kernel/colo_blk" clean
# each text must occur once, or the mutation no longer fits the source
python3 - "$B/kernel/colo_blk" <<'PY'
import sys
for name, text, kept in (
        ("colo-secondary.c", "\tbioset_exit(&s->bs);\n\tcb_map_destroy", "\tcb_map_destroy"),
        ("colo-primary.c", "\tbioset_exit(&p->bs);\n\tkfree(p);", "\tkfree(p);")):
    path = sys.argv[1] + "/" + name
    src = open(path).read()
    if src.count(text) != 1:
        sys.exit("mutant: %s: %r occurs %d times, not once" % (path, text, src.count(text)))
    open(path, "w").write(src.replace(text, kept))
PY
make -s -C "$KDIR" M="$B/kernel/colo_blk" modules
