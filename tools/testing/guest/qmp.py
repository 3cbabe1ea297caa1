#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run QMP commands against a QEMU from test scripts.

  qmp.py [--timeout S] SOCKET COMMAND [ARGS_JSON] [-- COMMAND [ARGS_JSON]]...

Each command's "return" is printed as one JSON line. Two pseudo commands
wait instead of asking once:
  wait-status STATE   until query-status says STATE (e.g. running, paused)
  wait-migration      until query-migrate says completed (fails on failed)
An error reply, a closed socket or the timeout (default 60 s per command)
exits 1 with the reason.
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout):
        self.deadline_step = timeout
        end = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as err:
                self.sock.close()
                if time.monotonic() > end:
                    sys.exit(f"qmp.py: cannot connect to {path}: {err}")
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("r")
        self.read()
        self.call("qmp_capabilities")

    def read(self):
        line = self.file.readline()
        if not line:
            sys.exit("qmp.py: QEMU closed the QMP connection")
        return json.loads(line)

    def call(self, cmd, args=None):
        msg = {"execute": cmd}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall((json.dumps(msg) + "\n").encode())
        while True:
            reply = self.read()
            if "event" in reply:
                continue
            if "error" in reply:
                err = reply["error"]
                sys.exit(f"qmp.py: {cmd}: {err.get('class')}: {err.get('desc')}")
            return reply.get("return")

    def wait(self, check, what):
        end = time.monotonic() + self.deadline_step
        while time.monotonic() < end:
            value = check()
            if value is not None:
                return value
            time.sleep(0.05)
        sys.exit(f"qmp.py: timed out waiting for {what}")


def main(argv):
    timeout = 60.0
    if len(argv) > 2 and argv[0] == "--timeout":
        timeout = float(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    qmp = Qmp(argv[0], timeout)
    groups, cur = [], []
    for arg in argv[1:]:
        if arg == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(arg)
    groups.append(cur)
    for group in groups:
        cmd, rest = group[0], group[1:]
        if cmd == "wait-status":
            want = rest[0]
            qmp.wait(lambda: want if qmp.call("query-status")["status"] == want else None,
                     f"status {want}")
            print(json.dumps({"status": want}))
        elif cmd == "wait-migration":
            def migrated():
                info = qmp.call("query-migrate")
                if info.get("status") == "failed":
                    sys.exit(f"qmp.py: migration failed: {info.get('error-desc', '')}")
                return info if info.get("status") == "completed" else None
            print(json.dumps(qmp.wait(migrated, "migration to complete")))
        else:
            args = json.loads(rest[0]) if rest else None
            result = qmp.call(cmd, args)
            print(json.dumps(result))
            if cmd == "quit":
                break


if __name__ == "__main__":
    main(sys.argv[1:])
