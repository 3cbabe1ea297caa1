#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""lock_waits.py PID: which threads of a hung process wait on which lock,
and which thread holds it, read from /proc alone (no debugger, no symbols).

A thread blocked in futex(2) shows the futex word's address as the first
argument in /proc/PID/task/TID/syscall. When that word is a glibc mutex
(pthread_mutex_t: lock word, count, then the owner's TID, the layout of
glibc's ABI), the owner is the int 8 bytes further on. Prints one line per
lock that somebody waits on:

    lock 0x55c240e4db40 held by 484 (live_migration), waited on by:
      418 (qemu-system-x86), 484 (live_migration)

and, last, "self-deadlock: TID (NAME)" for a thread waiting on a lock it
holds itself. Exit status 0 when a self-deadlock was found, 1 otherwise.
"""
import os
import struct
import sys

SYS_FUTEX = 202  # x86-64


def comm(pid, tid):
    try:
        with open(f'/proc/{pid}/task/{tid}/comm') as f:
            return f.read().strip()
    except OSError:
        return '?'


def futex_word(pid, tid):
    """The futex address TID is blocked on, or None."""
    try:
        with open(f'/proc/{pid}/task/{tid}/syscall') as f:
            fields = f.read().split()
    except OSError:
        return None
    if not fields or fields[0] != str(SYS_FUTEX):
        return None
    return int(fields[1], 16)


def mutex_owner(mem, addr):
    try:
        mem.seek(addr + 8)
        data = mem.read(4)
    except (OSError, OverflowError, ValueError):
        return None
    return struct.unpack('<i', data)[0] if len(data) == 4 else None


def main(pid):
    tids = sorted(int(t) for t in os.listdir(f'/proc/{pid}/task'))
    waits = {}
    for tid in tids:
        addr = futex_word(pid, tid)
        if addr is not None:
            waits.setdefault(addr, []).append(tid)
    selfish = []
    with open(f'/proc/{pid}/mem', 'rb', buffering=0) as mem:
        for addr, waiters in sorted(waits.items()):
            owner = mutex_owner(mem, addr)
            if owner not in tids:
                continue  # not a mutex held by one of ours (an event, a condition)
            print(f'lock {addr:#x} held by {owner} ({comm(pid, owner)}), waited on by:')
            print('  ' + ', '.join(f'{t} ({comm(pid, t)})' for t in waiters))
            if owner in waiters:
                selfish.append(owner)
    for tid in selfish:
        print(f'self-deadlock: {tid} ({comm(pid, tid)})')
    return 0 if selfish else 1


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: lock_waits.py PID')
    sys.exit(main(sys.argv[1]))
