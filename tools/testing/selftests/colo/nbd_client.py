#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A client of the replica's NBD server that breaks the protocol on purpose.

usage: nbd_client.py HOST PORT CASE [ARGS...]

Each CASE does one thing a hostile or broken client could do and checks
what the server answers: exit status 0 when the server behaved (closed the
connection, or answered with the right error and went on), 1 with the
reason otherwise. The export is "disk0".
"""
import socket
import struct
import sys

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x0003E889045565A9
REQUEST_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
FIXED_NEWSTYLE, NO_ZEROES = 1, 2
OPT_GO, OPT_LIST = 7, 3
REP_ACK, REP_INFO = 1, 3
REP_ERR_UNSUP, REP_ERR_UNKNOWN = (1 << 31) + 1, (1 << 31) + 6
CMD_READ, CMD_WRITE, CMD_FLUSH = 0, 1, 3
EIO, EINVAL, ENOSPC = 5, 22, 28
TIMEOUT = 60


class Failed(Exception):
    pass


def connect(host, port, source=None):
    s = socket.create_connection((host, port), timeout=TIMEOUT, source_address=source)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def closed(s):
    """Whether the server closes the connection (reads whatever is left first)."""
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def greet(s, flags=FIXED_NEWSTYLE | NO_ZEROES):
    magic, opt, hflags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBDMAGIC or opt != IHAVEOPT or not hflags & FIXED_NEWSTYLE:
        raise Failed("bad greeting %x %x %x" % (magic, opt, hflags))
    s.sendall(struct.pack(">I", flags))


def option(s, opt, data):
    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)


def option_reply(s):
    magic, opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
    if magic != REP_MAGIC:
        raise Failed("bad option reply magic %x" % magic)
    return opt, rtype, recv_exact(s, length)


def go(s, name=b"disk0"):
    """NBD_OPT_GO: the export's size."""
    option(s, OPT_GO, struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
    size = None
    while True:
        opt, rtype, data = option_reply(s)
        if rtype == REP_INFO and len(data) == 12:
            _, size, _ = struct.unpack(">HQH", data)
        elif rtype == REP_ACK:
            return size
        else:
            raise Failed("GO answered with type %x" % rtype)


def request(s, cmd, offset, length, data=b"", magic=REQUEST_MAGIC):
    s.sendall(struct.pack(">IHHQQI", magic, 0, cmd, 0x1234, offset, length) + data)


def reply(s):
    magic, error, handle = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != REPLY_MAGIC or handle != 0x1234:
        raise Failed("bad reply %x %x" % (magic, handle))
    return error


def expect_closed(s, what):
    if not closed(s):
        raise Failed("the server kept the connection after " + what)


def case_bad_flags(host, port):
    s = connect(host, port)
    greet(s, flags=0x80 | FIXED_NEWSTYLE)
    expect_closed(s, "unknown client flags")


def case_bad_option(host, port):
    s = connect(host, port)
    greet(s)
    s.sendall(struct.pack(">QII", 0x1122334455667788, OPT_GO, 0))
    expect_closed(s, "a bad option magic")


def case_long_option(host, port):
    s = connect(host, port)
    greet(s)
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 4097))
    expect_closed(s, "option data over 4 KiB")


def case_unknown_export(host, port):
    s = connect(host, port)
    greet(s)
    option(s, OPT_GO, struct.pack(">I", 5) + b"disk9" + struct.pack(">H", 0))
    _, rtype, _ = option_reply(s)
    if rtype != REP_ERR_UNKNOWN:
        raise Failed("unknown export answered with type %x" % rtype)


def case_unknown_option(host, port):
    s = connect(host, port)
    greet(s)
    option(s, OPT_LIST, b"")
    _, rtype, _ = option_reply(s)
    if rtype != REP_ERR_UNSUP:
        raise Failed("NBD_OPT_LIST answered with type %x" % rtype)
    if not go(s):
        raise Failed("no export size after GO")


def case_many_options(host, port):
    s = connect(host, port)
    greet(s)
    for _ in range(32):
        option(s, OPT_LIST, b"")
        option_reply(s)
    option(s, OPT_LIST, b"")
    expect_closed(s, "33 options")


def case_bad_request(host, port):
    s = connect(host, port)
    greet(s)
    go(s)
    request(s, CMD_READ, 0, 512, magic=0xDEADBEEF)
    expect_closed(s, "a bad request magic")


def case_huge_write(host, port):
    s = connect(host, port)
    greet(s)
    go(s)
    request(s, CMD_WRITE, 0, (32 << 20) + 512)
    expect_closed(s, "a write over 32 MiB")


def case_write_past_end(host, port):
    s = connect(host, port)
    greet(s)
    size = go(s)
    request(s, CMD_WRITE, size, 512, b"\xee" * 512)
    error = reply(s)
    if error != ENOSPC:
        raise Failed("a write past the end answered %d, not ENOSPC" % error)
    request(s, CMD_READ, 0, 4096)
    error = reply(s)
    if error:
        raise Failed("a read after it answered %d" % error)
    recv_exact(s, 4096)


def case_misaligned_write(host, port):
    s = connect(host, port)
    greet(s)
    go(s)
    request(s, CMD_WRITE, 100, 1000, b"\xee" * 1000)
    error = reply(s)
    if error != EINVAL:
        raise Failed("a misaligned write answered %d, not EINVAL" % error)
    request(s, CMD_READ, 0, 512)
    if reply(s):
        raise Failed("a read after it failed")
    recv_exact(s, 512)


def case_from_other_address(host, port):
    s = connect(host, port, source=("127.0.0.2", 0))
    s.settimeout(TIMEOUT)
    try:
        data = s.recv(18)
    except ConnectionResetError:
        data = b""
    if data:
        raise Failed("a client from 127.0.0.2 was greeted")


def case_many_connections(host, port, count, want_closed):
    """Opens `count` connections; the last `want_closed` must be closed."""
    socks = [connect(host, port) for _ in range(int(count))]
    got = []
    for s in socks:
        s.settimeout(5)
        try:
            got.append(len(s.recv(18)) == 18)
        except (socket.timeout, ConnectionResetError):
            got.append(False)
    n_closed = got.count(False)
    if n_closed != int(want_closed) or any(not g for g in got[: len(got) - n_closed]):
        raise Failed("greeted: %s" % "".join("y" if g else "n" for g in got))
    for s in socks:
        s.close()


def case_read_back(host, port):
    s = connect(host, port)
    greet(s)
    go(s)
    request(s, CMD_READ, 0, 65536)
    if reply(s):
        raise Failed("read failed")
    recv_exact(s, 65536)


def case_write_order(host, port, count):
    """Two writes to the same 64 KiB, each sent once the one before is
    answered (as the primary does), then a read: it must see the second,
    `count` times; then a flush."""
    s = connect(host, port)
    greet(s)
    go(s)
    for i in range(int(count)):
        first, second = bytes([i % 251]) * 65536, bytes([(i % 251) + 1]) * 65536
        for data in (first, second):
            request(s, CMD_WRITE, 1 << 20, len(data), data)
            if reply(s):
                raise Failed("write %d failed" % i)
        request(s, CMD_READ, 1 << 20, 65536)
        if reply(s):
            raise Failed("read %d failed" % i)
        if recv_exact(s, 65536) != second:
            raise Failed("round %d: the read did not see the second write" % i)
    request(s, CMD_FLUSH, 0, 0)
    if reply(s):
        raise Failed("the flush failed")


def case_flush_error(host, port, offset):
    """A write the replica fails after answering it: the next flush says so."""
    s = connect(host, port)
    greet(s)
    go(s)
    request(s, CMD_WRITE, int(offset), 4096, b"\xee" * 4096)
    if reply(s):
        raise Failed("the write was not answered early")
    request(s, CMD_FLUSH, 0, 0)
    error = reply(s)
    if error != EIO:
        raise Failed("the flush after a failed write answered %d, not EIO" % error)


def main():
    host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        globals()["case_" + case.replace("-", "_")](host, port, *sys.argv[4:])
    except (Failed, OSError, EOFError, struct.error) as e:
        print("%s: %s" % (case, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
