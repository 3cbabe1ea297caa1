// SPDX-License-Identifier: GPL-2.0
/*
 * colo-guestd: the workload of the end-to-end test guest. One process, one
 * epoll loop (each process costs seconds in a nested guest), one thread for
 * the disk writer, whose O_DIRECT writes block.
 *
 *   TCP 7001  deterministic stream: each request line "SEED LEN" gets LEN
 *             bytes of guest_pattern(SEED); same bytes in every guest
 *   TCP 7002  echo
 *   TCP 7003  nondeterministic: each request line "SEED LEN" gets LEN bytes
 *             derived from the clock, different in every guest
 *   disk      numbered, checksummed 4 KiB records written O_DIRECT|O_DSYNC
 *             to the virtio disk; "acked" counts those whose write returned
 *   memory    dirties RATE distinct pages per second of a private region
 *   ttyS1     control and counters, one command line in, one line out:
 *             ping | stats | disk RATE | mem RATE   (RATE 0 stops)
 *
 * The control channel is a serial port rather than virtio-serial: an 8250
 * does not care whether anyone is connected on the host side, so a test can
 * connect, ask, and go away as often as it likes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define CONTROL_TTY "/dev/ttyS1"
#define DISK_DEV "/dev/vda"
#define MAX_CONNS 64
#define TICK_MS 100
#define MEM_REGION_PAGES 4096	/* 16 MiB to dirty */
#define PAGE 4096
#define LINE_MAX_LEN 128
#define CHUNK 16384

enum conn_kind { CONN_STREAM, CONN_ECHO, CONN_RANDOM };

struct conn {
	int fd;
	enum conn_kind kind;
	char line[LINE_MAX_LEN];
	size_t line_len;
	uint64_t seed, off, left;	/* stream/random reply in progress */
	uint8_t buf[CHUNK];		/* echo bytes not yet sent back */
	size_t buf_len, buf_off;
};

static struct {
	atomic_uint_fast64_t tick;
	atomic_uint_fast64_t served;	/* requests answered on 7001 and 7003 */
	atomic_uint_fast64_t streamed;	/* bytes sent on 7001 */
	atomic_uint_fast64_t echoed;	/* bytes echoed on 7002 */
	atomic_uint_fast64_t random;	/* bytes sent on 7003 */
	atomic_uint_fast64_t records;	/* disk records issued */
	atomic_uint_fast64_t acked;	/* disk records whose write returned */
	atomic_uint_fast64_t disk_errors;
	atomic_uint_fast64_t mem_pages;	/* pages dirtied */
	atomic_uint disk_rate;		/* records per second, 0 = stopped */
	unsigned int mem_rate;		/* pages per second */
} st;

static int epfd;
static struct conn *conns[MAX_CONNS];
static uint8_t *mem_region;
static uint64_t mem_next;

static void die(const char *what)
{
	fprintf(stderr, "colo-guestd: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void epoll_add(int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		die("bind/listen");
	return fd;
}

static void conn_close(int slot)
{
	close(conns[slot]->fd);
	free(conns[slot]);
	conns[slot] = NULL;
}

/*
 * The nondeterministic bytes come from the clock, not from getrandom():
 * guests started from one snapshot share the kernel's random state until it
 * reseeds, while no two of them read the same time stamp counter.
 */
static void clock_fill(uint8_t *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	guest_pattern(guest_mix64(__builtin_ia32_rdtsc()) ^ (uint64_t)ts.tv_nsec, 0, buf, len);
}

/* Sends as much of the current reply as the socket takes; 0 when done. */
static int conn_send_reply(struct conn *c)
{
	uint8_t chunk[CHUNK];

	while (c->left) {
		size_t n = c->left < sizeof(chunk) ? c->left : sizeof(chunk);
		ssize_t w;

		if (c->kind == CONN_STREAM)
			guest_pattern(c->seed, c->off, chunk, n);
		else
			clock_fill(chunk, n);
		w = send(c->fd, chunk, n, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 1 : -1;
		c->off += w;
		c->left -= w;
		atomic_fetch_add(c->kind == CONN_STREAM ? &st.streamed : &st.random, w);
	}
	return 0;
}

/* Takes the next "SEED LEN" line from c->line; 1 if one started. */
static int conn_next_request(struct conn *c)
{
	char *nl = memchr(c->line, '\n', c->line_len);
	unsigned long long seed, len;
	size_t used;

	if (!nl)
		return 0;
	*nl = '\0';
	if (sscanf(c->line, "%llu %llu", &seed, &len) == 2) {
		c->seed = seed;
		c->off = 0;
		c->left = len;
		atomic_fetch_add(&st.served, 1);
	}
	used = nl + 1 - c->line;
	memmove(c->line, nl + 1, c->line_len - used);
	c->line_len -= used;
	return 1;
}

/* Returns -1 when the connection is to be closed. */
static int conn_event(struct conn *c)
{
	ssize_t r;

	if (c->kind == CONN_ECHO) {
		for (;;) {
			while (c->buf_off < c->buf_len) {
				ssize_t w = send(c->fd, c->buf + c->buf_off,
						 c->buf_len - c->buf_off, MSG_NOSIGNAL);
				if (w < 0)
					return errno == EAGAIN ? 0 : -1;
				c->buf_off += w;
				atomic_fetch_add(&st.echoed, w);
			}
			r = recv(c->fd, c->buf, sizeof(c->buf), 0);
			if (r <= 0)
				return r < 0 && errno == EAGAIN ? 0 : -1;
			c->buf_len = r;
			c->buf_off = 0;
		}
	}
	for (;;) {
		int s = conn_send_reply(c);

		if (s)
			return s < 0 ? -1 : 0;
		if (conn_next_request(c))
			continue;
		if (c->line_len == sizeof(c->line))
			return -1;	/* a request line this long is garbage */
		r = recv(c->fd, c->line + c->line_len, sizeof(c->line) - c->line_len, 0);
		if (r <= 0)
			return r < 0 && errno == EAGAIN ? 0 : -1;
		c->line_len += r;
	}
}

static void accept_on(int lfd, enum conn_kind kind)
{
	int fd, slot, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (slot = 0; slot < MAX_CONNS && conns[slot]; slot++)
			;
		if (slot == MAX_CONNS) {
			close(fd);
			continue;
		}
		conns[slot] = calloc(1, sizeof(struct conn));
		if (!conns[slot])
			die("calloc");
		conns[slot]->fd = fd;
		conns[slot]->kind = kind;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		epoll_add(fd, EPOLLIN | EPOLLOUT | EPOLLET, 100 + slot);
	}
}

static void *disk_writer(void *arg)
{
	int fd = open(DISK_DEV, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	struct guest_record *rec;
	uint64_t bytes = 0, slots;
	struct timespec next;

	(void)arg;
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) || bytes < GUEST_RECORD_SIZE) {
		fprintf(stderr, "colo-guestd: no usable %s, disk writer off\n", DISK_DEV);
		return NULL;
	}
	slots = bytes / GUEST_RECORD_SIZE;
	if (posix_memalign((void **)&rec, PAGE, sizeof(*rec)))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		unsigned int rate = atomic_load(&st.disk_rate);
		uint64_t seq;

		if (!rate) {
			struct timespec idle = { 0, TICK_MS * 1000000L };

			nanosleep(&idle, NULL);
			clock_gettime(CLOCK_MONOTONIC, &next);
			continue;
		}
		seq = atomic_load(&st.records);
		guest_record_fill(rec, seq, atomic_load(&st.tick));
		atomic_store(&st.records, seq + 1);
		if (pwrite(fd, rec, sizeof(*rec), (off_t)((seq % slots) * GUEST_RECORD_SIZE)) ==
		    (ssize_t)sizeof(*rec))
			atomic_store(&st.acked, seq + 1);
		else
			atomic_fetch_add(&st.disk_errors, 1);
		next.tv_nsec += 1000000000L / rate;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

static void tick(void)
{
	static unsigned int carry;	/* page-milliseconds not yet dirtied */
	uint64_t t = atomic_fetch_add(&st.tick, 1) + 1;
	unsigned int n;

	carry += st.mem_rate * TICK_MS;
	n = carry / 1000;
	carry %= 1000;
	while (n--) {
		uint64_t *page = (uint64_t *)(mem_region + (mem_next % MEM_REGION_PAGES) * PAGE);

		page[0] = t;
		page[1] = mem_next++;
		atomic_fetch_add(&st.mem_pages, 1);
	}
}

static void control_reply(int fd, const char *line)
{
	char out[512];
	unsigned int rate;
	int n;

	if (!strcmp(line, "ping")) {
		n = snprintf(out, sizeof(out), "pong\n");
	} else if (!strcmp(line, "stats")) {
		n = snprintf(out, sizeof(out),
			     "tick=%" PRIuFAST64 " served=%" PRIuFAST64 " streamed=%" PRIuFAST64
			     " echoed=%" PRIuFAST64 " random=%" PRIuFAST64 " records=%" PRIuFAST64
			     " acked=%" PRIuFAST64 " disk_errors=%" PRIuFAST64 " disk_rate=%u"
			     " mem_pages=%" PRIuFAST64 " mem_rate=%u\n",
			     atomic_load(&st.tick), atomic_load(&st.served),
			     atomic_load(&st.streamed), atomic_load(&st.echoed),
			     atomic_load(&st.random), atomic_load(&st.records),
			     atomic_load(&st.acked), atomic_load(&st.disk_errors),
			     atomic_load(&st.disk_rate), atomic_load(&st.mem_pages), st.mem_rate);
	} else if (sscanf(line, "disk %u", &rate) == 1) {
		atomic_store(&st.disk_rate, rate);
		n = snprintf(out, sizeof(out), "ok\n");
	} else if (sscanf(line, "mem %u", &rate) == 1 && rate <= 100000) {
		st.mem_rate = rate;
		n = snprintf(out, sizeof(out), "ok\n");
	} else {
		n = snprintf(out, sizeof(out), "error: unknown command (ping, stats, disk N, mem N)\n");
	}
	if (write(fd, out, n) != n)
		fprintf(stderr, "colo-guestd: control reply lost\n");
}

static void control_event(int fd)
{
	static char line[LINE_MAX_LEN];
	static size_t len;
	char *nl;
	ssize_t r;

	while ((r = read(fd, line + len, sizeof(line) - 1 - len)) > 0) {
		len += r;
		line[len] = '\0';
		while ((nl = strpbrk(line, "\r\n"))) {
			*nl = '\0';
			if (*line)
				control_reply(fd, line);
			len -= nl + 1 - line;
			memmove(line, nl + 1, len + 1);
		}
		if (len == sizeof(line) - 1)
			len = 0;
	}
}

static int control_open(void)
{
	int fd = open(CONTROL_TTY, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;

	if (fd < 0 || tcgetattr(fd, &t))
		die(CONTROL_TTY);
	cfmakeraw(&t);
	cfsetspeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t))
		die("tcsetattr");
	return fd;
}

int main(void)
{
	struct itimerspec its = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
	int lfd[3], tfd, cfd, i;
	pthread_t disk;

	mem_region = mmap(NULL, (size_t)MEM_REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem_region == MAP_FAILED)
		die("mmap");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	lfd[CONN_STREAM] = listen_on(GUEST_PORT_STREAM);
	lfd[CONN_ECHO] = listen_on(GUEST_PORT_ECHO);
	lfd[CONN_RANDOM] = listen_on(GUEST_PORT_RANDOM);
	for (i = 0; i < 3; i++)
		epoll_add(lfd[i], EPOLLIN, i);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL))
		die("timerfd");
	epoll_add(tfd, EPOLLIN, 3);
	cfd = control_open();
	epoll_add(cfd, EPOLLIN, 4);
	if (pthread_create(&disk, NULL, disk_writer, NULL))
		die("pthread_create");
	fprintf(stderr, "colo-guestd: ready (ports %d %d %d, control %s)\n", GUEST_PORT_STREAM,
		GUEST_PORT_ECHO, GUEST_PORT_RANDOM, CONTROL_TTY);

	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(epfd, ev, 16, -1);

		for (i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64, expirations;

			if (tag < 3) {
				accept_on(lfd[tag], (enum conn_kind)tag);
			} else if (tag == 3) {
				if (read(tfd, &expirations, sizeof(expirations)) > 0)
					while (expirations--)
						tick();
			} else if (tag == 4) {
				control_event(cfd);
			} else if (conns[tag - 100] && conn_event(conns[tag - 100]) < 0) {
				conn_close(tag - 100);
			}
		}
	}
}
