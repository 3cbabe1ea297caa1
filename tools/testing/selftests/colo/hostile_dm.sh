#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Random constructor lines and messages for the "colo" device-mapper target:
# every rejected line must come with the target's reason in the kernel log
# (ti->error), accepted ones must be removable, messages must get an answer,
# and the module must unload with its slab objects back where they started.
#
#   tmpfs file -> /dev/loopN (base, local, forward)    dm "colo" <random args>
. "$(dirname "$0")/lib.sh"

COUNT=${HOSTILE_DM_COUNT:-150}
SEED=${HOSTILE_SEED:-$(date +%s)}

modprobe dm-mod && modprobe loop || { t_fail "dm-mod and loop available"; t_done; }
img=$(mktemp /tmp/hostile-dm.XXXXXX)
truncate -s 16M "$img"
truncate -s 16M "$img.2"
loop=$(losetup -f --show "$img")
loop2=$(losetup -f --show "$img.2")
on_exit "losetup -d $loop; losetup -d $loop2; rm -f $img $img.2"
# A round of each mode first: what the kernel allocates once, at the first
# use (device-mapper's bio slab caches and their sysfs directories, worker
# threads), would otherwise count as a leak.
warm_up()
{
	load_module colo_blk &&
	dmsetup --noudevsync create hostile-w0 --table "0 32768 colo secondary w0 $loop 4m" &&
	dmsetup --noudevsync create hostile-w1 --table "0 32768 colo replica w0 $loop" &&
	dmsetup --noudevsync create hostile-w2 --table "0 32768 colo primary $loop2 $loop" &&
	dmsetup message hostile-w2 0 checkpoint && dmsetup message hostile-w0 0 checkpoint &&
	dmsetup status hostile-w0 hostile-w1 hostile-w2 > /dev/null &&
	dmsetup --noudevsync remove hostile-w2 hostile-w1 hostile-w0 &&
	unload_module colo_blk
}
t_check "warm-up round: colo_blk loads, a device of each mode, unloads" warm_up || t_done
# Counted from here: a loop device losetup had to create stays, with its
# sysfs nodes, and is not the module's to free; so does a module that a
# random device name made the kernel load.
no_module_autoload
slab_before=$(slab_active_objects)
t_check "colo_blk loads" load_module colo_blk || t_done
# A secondary that replica lines can bind to by its name, s0.
dmsetup --noudevsync create hostile-s0 --table "0 32768 colo secondary s0 $loop 4m" &&
	on_exit "dmsetup --noudevsync remove hostile-s0"
echo "# seed $SEED, $COUNT table lines, devices $loop $loop2"

out=$(python3 - "$COUNT" "$SEED" "$loop" "$loop2" <<'PY'
import os, random, subprocess, sys

count, seed, loop, loop2 = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = random.Random(seed)
sectors = 16 * 2048
junk = ["", "-", "0", "1", "3", "-1", "4294967296", "99999999999999999999", "64k", "1g", "1x",
        "k", "0x10", "100", "101", "4097", "/dev/nonexistent", "/dev/null", "7:0", "254:99",
        "a" * 40, "bogus", "Secondary", "event_percent", "max_inflight", "event_bytes", "%s",
        "region_size", "96k", "2g", "written", "clear_written", "drain_ms", "60001"]
templates = [
    ["secondary", "s1", loop, "4m"],
    ["secondary", "s2", loop, "1m", "2", "event_percent", "50"],
    ["replica", "s0", loop],
    ["replica", "nosuchname", loop],
    ["primary", loop, loop2],
    ["primary", loop, loop2, "4", "max_inflight", "8", "event_bytes", "1m"],
    ["primary", loop, loop2, "2", "region_size", "4k"],
    ["primary", loop, loop2, "4", "drain_ms", "0", "queue_bytes", "64k"],
]

# The kernel log, read directly: spawning dmesg per line is slow under TCG.
kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
os.lseek(kmsg, 0, os.SEEK_END)

def new_log():
    lines = []
    while True:
        try:
            lines.append(os.read(kmsg, 8192).decode(errors="replace"))
        except BlockingIOError:
            return lines
        except OSError:     # a record was overwritten: go on with the next
            continue

def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)

def mutate(args):
    args = list(args)
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        op = rng.randrange(3)
        pos = rng.randrange(len(args) + 1)
        if op == 0 and args:
            del args[min(pos, len(args) - 1)]
        elif op == 1:
            args.insert(pos, rng.choice(junk))
        elif args:
            args[min(pos, len(args) - 1)] = rng.choice(junk)
    return args

seen = set()
accepted = rejected = unexplained = 0
for i in range(count):
    args = mutate(rng.choice(templates))
    length = rng.choice([sectors, sectors, sectors, sectors - 8, sectors + 8, 7])
    line = "0 %d colo %s" % (length, " ".join(args))
    seen.add(line)
    new_log()
    r = run(["dmsetup", "--noudevsync", "create", "hostile", "--table", line])
    if r.returncode == 0:
        accepted += 1
        for _ in range(3):
            msg = mutate(rng.choice([["checkpoint"], ["failover"], [], ["written"],
                                     ["written", "8"], ["clear_written"],
                                     ["clear_written", "0", "4096"]]))
            run(["dmsetup", "message", "hostile", "0"] + msg)
            seen.add("msg " + " ".join(msg))
        run(["dmsetup", "status", "hostile"])
        if run(["dmsetup", "--noudevsync", "remove", "hostile"]).returncode:
            print("cannot remove an accepted table:", line)
            sys.exit(1)
        continue
    rejected += 1
    if not any("colo" in l for l in new_log()):
        unexplained += 1
        print("rejected without a reason from the target:", repr(line), r.stderr.strip()[:200])
print("lines=%d accepted=%d rejected=%d unexplained=%d distinct=%d" % (count, accepted, rejected, unexplained, len(seen)))
sys.exit(1 if unexplained else 0)
PY
)
rc=$?
printf '%s\n' "$out" | tail -n 15 | sed 's/^/# /'
if [ $rc -eq 0 ]; then
	t_ok "every rejected table line came with the target's reason; accepted ones removed"
else
	t_fail "every rejected table line came with the target's reason; accepted ones removed"
fi
distinct=$(printf '%s\n' "$out" | sed -n 's/.*distinct=\([0-9]*\).*/\1/p')
echo "hostile-inputs dm ${distinct:-0}" >> "${COLO_OUT:-/tmp}/hostile-counts"
dmsetup --noudevsync remove hostile-s0
t_check "no colo device left behind" test -z "$(dmsetup ls --target colo 2>/dev/null | grep -v 'No devices')"
t_check "module reference count back to 0" wait_for 10 sh -c 'test "$(cat /sys/module/colo_blk/refcnt)" = 0'
t_check "colo_blk unloads" unload_module colo_blk
t_check "slab objects back to where they started (leak check)" slab_settled "$slab_before"
t_done
