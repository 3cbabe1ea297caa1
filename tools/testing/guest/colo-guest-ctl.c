// SPDX-License-Identifier: GPL-2.0
/*
 * colo-guest-ctl: the test side of the end-to-end guest (colo-guestd).
 *
 *   colo-guest-ctl ask SOCKET COMMAND [TIMEOUT_S]
 *       one command on the guest's control port (QEMU's unix socket for
 *       ttyS1); prints the reply line
 *   colo-guest-ctl wait SOCKET TIMEOUT_S
 *       until the guest answers "ping"; prints the seconds it took
 *   colo-guest-ctl stream ADDR SEED LEN [REQUESTS]
 *       REQUESTS (default 1) requests on one connection to port 7001; every
 *       byte checked against the pattern; prints bytes, rate, and the
 *       longest wait between two reads with the wall-clock time it ended
 *       (to time a failover against the moment it was provoked)
 *   colo-guest-ctl echo ADDR LEN
 *       LEN bytes to port 7002, all checked on the way back
 *   colo-guest-ctl fetch ADDR PORT SEED LEN
 *       one request, the raw reply to stdout (to compare two guests)
 *   colo-guest-ctl records DEVICE ACKED
 *       every acknowledged record 0..ACKED-1 (the newest that fit) is
 *       intact on DEVICE; prints how many were checked
 *
 * Every network wait is bounded (30 s without progress, or the seconds in
 * COLO_GUEST_CTL_TIMEOUT: a failover test waits longer); exit 1 on any
 * mismatch or timeout with the reason on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

static int io_timeout_ms = 30000;
#define CHUNK 65536

static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "colo-guest-ctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, timeout_ms) == 1;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(a.sun_path))
		fail("socket path too long: %s", path);
	strcpy(a.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends COMMAND, reads one reply line into out; 0 on success. */
static int ask(const char *sock, const char *cmd, char *out, size_t len, int timeout_ms)
{
	int fd = unix_connect(sock);
	size_t got = 0;
	char line[256];

	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		close(fd);
		return -1;
	}
	while (got < len - 1) {
		ssize_t r;

		if (!wait_fd(fd, POLLIN, timeout_ms))
			break;
		r = read(fd, out + got, len - 1 - got);
		if (r <= 0)
			break;
		got += r;
		out[got] = '\0';
		if (strchr(out, '\n')) {
			*strchr(out, '\n') = '\0';
			close(fd);
			return 0;
		}
	}
	close(fd);
	return -1;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		fail("not an IPv4 address: %s", addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("connect to %s failed", addr);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w;

		if (!wait_fd(fd, POLLOUT, io_timeout_ms))
			fail("%s", "send timed out");
		w = send(fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			fail("send: %s", strerror(errno));
		p += w;
		len -= w;
	}
}

static size_t recv_some(int fd, uint8_t *buf, size_t len)
{
	ssize_t r;

	if (!wait_fd(fd, POLLIN, io_timeout_ms))
		fail("%s", "no data within the timeout");
	r = recv(fd, buf, len, 0);
	if (r < 0)
		fail("recv: %s", strerror(errno));
	if (r == 0)
		fail("%s", "connection closed early");
	return r;
}

static int cmd_stream(const char *addr, uint64_t seed, uint64_t len, unsigned int requests)
{
	static uint8_t got[CHUNK], want[CHUNK];
	int fd = tcp_connect(addr, GUEST_PORT_STREAM);
	double t0 = now(), dt, last = t0, gap = 0, gap_end = 0;
	uint64_t total = 0;
	unsigned int i;
	char req[64];

	for (i = 0; i < requests; i++) {
		uint64_t off = 0;

		snprintf(req, sizeof(req), "%" PRIu64 " %" PRIu64 "\n", seed + i, len);
		send_all(fd, req, strlen(req));
		while (off < len) {
			size_t n = recv_some(fd, got, len - off < CHUNK ? len - off : CHUNK);

			if (now() - last > gap) {
				gap = now() - last;
				gap_end = clock_s(CLOCK_REALTIME);
			}
			last = now();
			guest_pattern(seed + i, off, want, n);
			if (memcmp(got, want, n)) {
				fprintf(stderr, "colo-guest-ctl: stream seed %" PRIu64
					" differs in bytes %" PRIu64 "..%" PRIu64 "\n",
					seed + i, off, off + n);
				return 1;
			}
			off += n;
		}
		total += len;
	}
	close(fd);
	dt = now() - t0;
	printf("%" PRIu64 " bytes in %u requests, %.3f s, %.0f KiB/s, longest gap %.3f s "
	       "ended at %.3f\n", total, requests, dt, total / 1024.0 / (dt > 0 ? dt : 1e-9), gap,
	       gap_end);
	return 0;
}

static int cmd_echo(const char *addr, uint64_t len)
{
	static uint8_t out[CHUNK], in[CHUNK];
	int fd = tcp_connect(addr, GUEST_PORT_ECHO);
	double t0 = now();
	uint64_t off = 0;

	while (off < len) {
		size_t n = len - off < CHUNK ? len - off : CHUNK, got = 0;

		guest_pattern(0xec40, off, out, n);
		send_all(fd, out, n);
		while (got < n)
			got += recv_some(fd, in + got, n - got);
		if (memcmp(in, out, n)) {
			fprintf(stderr, "colo-guest-ctl: echo differs in bytes %" PRIu64 "..%" PRIu64
				"\n", off, off + n);
			return 1;
		}
		off += n;
	}
	close(fd);
	printf("%" PRIu64 " bytes echoed, %.3f s\n", len, now() - t0);
	return 0;
}

static int cmd_fetch(const char *addr, int port, uint64_t seed, uint64_t len)
{
	static uint8_t buf[CHUNK];
	int fd = tcp_connect(addr, port);
	char req[64];

	snprintf(req, sizeof(req), "%" PRIu64 " %" PRIu64 "\n", seed, len);
	send_all(fd, req, strlen(req));
	while (len) {
		size_t n = recv_some(fd, buf, len < CHUNK ? len : CHUNK);

		if (fwrite(buf, 1, n, stdout) != n)
			fail("%s", "stdout write failed");
		len -= n;
	}
	close(fd);
	return 0;
}

/*
 * Reads with O_DIRECT where the file allows it: a block device's page cache
 * would otherwise serve what it held before dm wrote underneath it.
 */
static int cmd_records(const char *dev, uint64_t acked)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC | O_DIRECT);
	struct guest_record *rec;
	uint64_t bytes = 0, slots, first, seq;
	struct stat sb;

	if (fd < 0 && errno == EINVAL)
		fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb))
		fail("cannot open %s", dev);
	if (posix_memalign((void **)&rec, GUEST_RECORD_SIZE, sizeof(*rec)))
		fail("%s", "out of memory");
	if (S_ISBLK(sb.st_mode) ? ioctl(fd, BLKGETSIZE64, &bytes) : (bytes = sb.st_size, 0))
		fail("cannot size %s", dev);
	slots = bytes / GUEST_RECORD_SIZE;
	if (!slots)
		fail("%s holds no record slot", dev);
	first = acked > slots ? acked - slots : 0;
	for (seq = first; seq < acked; seq++) {
		if (pread(fd, rec, sizeof(*rec), (off_t)((seq % slots) * GUEST_RECORD_SIZE)) !=
		    (ssize_t)sizeof(*rec))
			fail("short read on %s", dev);
		if (!guest_record_valid(rec, seq)) {
			fprintf(stderr, "colo-guest-ctl: acknowledged record %" PRIu64
				" is not on %s (slot holds magic %#" PRIx64 " seq %" PRIu64 ")\n",
				seq, dev, rec->magic, rec->seq);
			return 1;
		}
	}
	printf("%" PRIu64 " acknowledged records intact\n", acked - first);
	return 0;
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		fail("not a number: %s", s);
	return v;
}

int main(int argc, char **argv)
{
	char reply[512];

	if (getenv("COLO_GUEST_CTL_TIMEOUT"))
		io_timeout_ms = 1000 * atoi(getenv("COLO_GUEST_CTL_TIMEOUT"));

	if (argc >= 4 && !strcmp(argv[1], "ask")) {
		int timeout = argc > 4 ? (int)num(argv[4]) * 1000 : 10000;

		if (ask(argv[2], argv[3], reply, sizeof(reply), timeout))
			fail("no reply from the guest on %s", argv[2]);
		printf("%s\n", reply);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "wait")) {
		double t0 = now(), limit = num(argv[3]);

		while (now() - t0 < limit) {
			if (!ask(argv[2], "ping", reply, sizeof(reply), 1000) &&
			    !strcmp(reply, "pong")) {
				printf("%.2f\n", now() - t0);
				return 0;
			}
			poll(NULL, 0, 100);
		}
		fail("the guest did not answer on %s", argv[2]);
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "stream"))
		return cmd_stream(argv[2], num(argv[3]), num(argv[4]),
				  argc == 6 ? num(argv[5]) : 1);
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv[2], num(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "fetch"))
		return cmd_fetch(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "records"))
		return cmd_records(argv[2], num(argv[3]));
	fprintf(stderr, "usage: colo-guest-ctl ask SOCKET COMMAND [TIMEOUT_S] | wait SOCKET TIMEOUT_S |\n"
		"  stream ADDR SEED LEN [REQUESTS] | echo ADDR LEN | fetch ADDR PORT SEED LEN |\n"
		"  records DEVICE ACKED\n");
	return 2;
}
