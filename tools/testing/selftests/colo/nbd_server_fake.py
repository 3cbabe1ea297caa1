#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An NBD server that misbehaves on purpose, for the primary's own client.

usage: nbd_server_fake.py HOST PORT CASE SIZE

Listens, prints "listening" once it does, serves one connection as CASE
says, then exits. It speaks the fixed-newstyle handshake with
NBD_OPT_EXPORT_NAME (export "disk0", SIZE bytes) unless CASE breaks it:

  greeting     sends an oldstyle greeting
  noflush      offers an export without NBD_FLAG_SEND_FLUSH
  silent       reads every request and never answers
  unknown      answers the first request with a handle it was never sent
  badmagic     answers the first request with a bad reply magic
"""
import socket
import struct
import sys

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
OLDSTYLE = 0x00420281861253
REQUEST_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
FIXED_NEWSTYLE, NO_ZEROES = 1, 2
OPT_EXPORT_NAME = 1
HAS_FLAGS, SEND_FLUSH, SEND_FUA = 1, 4, 8
CMD_WRITE = 1
TIMEOUT = 300


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("the client closed the connection")
        buf += chunk
    return buf


def handshake(s, case, size):
    if case == "greeting":
        s.sendall(struct.pack(">QQQI", NBDMAGIC, OLDSTYLE, size, 0) + bytes(124))
        return False
    s.sendall(struct.pack(">QQH", NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE | NO_ZEROES))
    recv_exact(s, 4)
    magic, option, length = struct.unpack(">QII", recv_exact(s, 16))
    name = recv_exact(s, length)
    if magic != IHAVEOPT or option != OPT_EXPORT_NAME or name != b"disk0":
        return False
    flags = HAS_FLAGS if case == "noflush" else HAS_FLAGS | SEND_FLUSH | SEND_FUA
    s.sendall(struct.pack(">QH", size, flags))
    return case != "noflush"


def serve(s, case):
    while True:
        magic, _, cmd, handle, _, length = struct.unpack(">IHHQQI", recv_exact(s, 28))
        if magic != REQUEST_MAGIC:
            return
        if cmd == CMD_WRITE:
            recv_exact(s, length)
        if case == "unknown":
            s.sendall(struct.pack(">IIQ", REPLY_MAGIC, 0, handle ^ 0x5A5A))
        elif case == "badmagic":
            s.sendall(struct.pack(">IIQ", REPLY_MAGIC ^ 1, 0, handle))
        if case != "silent":
            break
    # hold the connection until the client closes it
    while s.recv(65536):
        pass


def main():
    host, port, case, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("listening", flush=True)
    s, _ = ls.accept()
    s.settimeout(TIMEOUT)
    try:
        if handshake(s, case, size):
            serve(s, case)
        else:
            s.recv(1)
    except (EOFError, OSError):
        pass
    s.close()


if __name__ == "__main__":
    main()
