#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The colo primary's "hold" and "release" messages over real NBD: while
# held, a write completes on the primary's disk and its copy waits (the
# secondary's base keeps the old data, status says holding=1 with the copy
# pending); "release" sends it. A checkpoint while held releases and drains
# what was kept, and so does a suspend (table reload). The secondary
# refuses both messages, and extra arguments are refused.
#
#   blk_io --> primary pri --copy (held)--> /dev/nbd0 --> nbd-server --> replica rep --> base
. "$(dirname "$0")/blk_lib.sh"

PORT=10897
blk_pair_start 16 64m $PORT
TABLE="0 $S colo primary $LOCAL /dev/nbd0"
t_check "primary created" blk_create pri "$TABLE"
PRI=/dev/mapper/pri

t_check "the secondary refuses hold" fails_with "Invalid argument" dmsetup message sec 0 hold
t_check "... and release" fails_with "Invalid argument" dmsetup message sec 0 release
t_check "hold with an argument is refused" fails_with "Invalid argument" \
	dmsetup message pri 0 hold 10

t_check "a write forwarded without a hold reaches the base" eval \
	"$BLK_IO fill $PRI 0 64 2 && dmsetup message pri 0 checkpoint && $BLK_IO verify $BASE 0 64 2"

t_check "hold" dmsetup message pri 0 hold
t_check "status says holding=1" test "$(blk_field pri holding)" = 1
t_check "a write completes while held" $BLK_IO fill $PRI 1000 64 3
t_check "... it is on the primary's disk" $BLK_IO verify "$LOCAL" 1000 64 3
t_check "... its copy is pending, nothing sent" eval \
	'[ "$(blk_field pri pending)" -ge 1 ] && [ "$(blk_field pri inflight)" = 0 ]'
t_check "... the secondary's base still has the old data" $BLK_IO verify "$BASE" 1000 64 1
t_check "release" dmsetup message pri 0 release
t_check "the copy goes once released" wait_for 60 eval '[ "$(blk_field pri pending)" = 0 ]'
t_check "... holding=0" test "$(blk_field pri holding)" = 0
t_check "... and a checkpoint finds it on the base" eval \
	"dmsetup message pri 0 checkpoint && $BLK_IO verify $BASE 1000 64 3"

t_check "hold, then a write" eval "dmsetup message pri 0 hold && $BLK_IO fill $PRI 2000 64 4"
t_check "a checkpoint while held releases and drains it" eval \
	"dmsetup message pri 0 checkpoint && $BLK_IO verify $BASE 2000 64 4 &&
	 [ \"\$(blk_field pri holding)\" = 0 ]"

t_check "hold, then a write" eval "dmsetup message pri 0 hold && $BLK_IO fill $PRI 3000 64 5"
t_check "a table reload (suspend) releases and drains it" eval \
	"dmsetup reload pri --table '$TABLE' && dmsetup suspend pri && dmsetup resume pri &&
	 [ \"\$(blk_field pri pending)\" = 0 ] && [ \"\$(blk_field pri holding)\" = 0 ]"
t_check "... and a checkpoint finds it on the base" eval \
	"dmsetup message pri 0 checkpoint && $BLK_IO verify $BASE 3000 64 5"
t_check "primary active, no errors" eval \
	"test \"\$(blk_state pri) \$(blk_field pri errors)\" = 'active 0'"
t_check "teardown: devices removed, colo_blk unloads" blk_teardown
t_done
