#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The leak check of hostile_dm.sh must catch a real leak. Build colo_blk
# from a scratch copy in which a removed device keeps its bio sets (the
# mempools of bios and bio vectors every primary and secondary allocates,
# about 130 slab objects each), run hostile_dm.sh on that module with 400
# table lines (some 60 devices accepted, several thousand objects leaked,
# where runs of the unchanged module end within 1000 of their start), and
# expect its leak check, and only it, to fail.
#
#   kernel/colo_blk --copy, bioset_exit() removed--> $work/kernel/colo_blk/colo_blk.ko
#   hostile_dm.sh with COLO_MODULES_DIR=$work/kernel  ->  "not ok ... leak check"
. "$(dirname "$0")/lib.sh"

KDIR=/lib/modules/$(uname -r)/build
[ -d "$KDIR" ] || { t_fail "kernel headers for $(uname -r) in the VM ($KDIR)"; t_done; }
work=$(mktemp -d /tmp/colo-mutant.XXXXXX)
on_exit "rm -rf $work"
mkdir -p "$work/kernel"
cp -r "$REPO/kernel/colo_blk" "$work/kernel/"
cp -r "$REPO/include" "$work/"
make -s -C "$KDIR" M="$work/kernel/colo_blk" clean

# mutate: the destructors' bioset_exit() calls go; each text must occur once.
mutate()
{
	python3 - "$work/kernel/colo_blk" <<'PY'
import sys
for name, text, kept in (
        ("colo-secondary.c", "\tbioset_exit(&s->bs);\n\tcb_map_destroy", "\tcb_map_destroy"),
        ("colo-primary.c", "\tbioset_exit(&p->bs);\n\tkfree(p);", "\tkfree(p);")):
    path = sys.argv[1] + "/" + name
    src = open(path).read()
    if src.count(text) != 1:
        sys.exit("%s: %r occurs %d times" % (path, text, src.count(text)))
    open(path, "w").write(src.replace(text, kept))
PY
}
t_check "mutation applied: removed devices keep their bio sets" mutate || t_done
t_check "mutant colo_blk builds" make -s -C "$KDIR" M="$work/kernel/colo_blk" modules || t_done

out=$(COLO_MODULES_DIR=$work/kernel HOSTILE_DM_COUNT=${HOSTILE_DM_COUNT:-400} \
	bash "$SELFTESTS/hostile_dm.sh" 2>&1)
printf '%s\n' "$out" | grep -E '^(not )?ok|seed|slab objects|^# [0-9]' | sed 's/^/# /'
t_check "hostile_dm's leak check fails on the mutant" \
	grep -Eq '^not ok [0-9]+ - slab objects back to where they started' <<< "$out"
t_check "... and nothing else does" \
	test "$(grep -c '^not ok' <<< "$out")" = 1
t_done
