// SPDX-License-Identifier: GPL-2.0
/*
 * A SYN flood for the connection table tests: COUNT TCP SYNs from SRC (an
 * address nobody answers for, so no handshake completes and no RST comes
 * back) and consecutive source ports from SPORT, to DST:DPORT, through a
 * raw IPv4 socket of the namespace it runs in. Each SYN has its own
 * pseudo-random ISN and an MSS option, as a flooding tool's would.
 *
 * Usage: syn_flood SRC DST DPORT SPORT COUNT [RATE]
 * RATE: SYNs per second at most (default: as fast as the socket takes them;
 * a veth then drops most of them in its peer's backlog).
 * Prints "sent=N failed=N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct syn {
	uint8_t ip[20];
	uint8_t tcp[24];	/* header with one MSS option */
};

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void build(struct syn *s, struct in_addr src, struct in_addr dst, uint16_t sport,
		  uint16_t dport, uint32_t isn)
{
	uint8_t pseudo[12];
	uint32_t sum;

	memset(s, 0, sizeof(*s));
	s->ip[0] = 0x45;
	put16(s->ip + 2, sizeof(*s));
	s->ip[8] = 64;
	s->ip[9] = IPPROTO_TCP;
	memcpy(s->ip + 12, &src, 4);
	memcpy(s->ip + 16, &dst, 4);
	put16(s->ip + 10, csum_fold(csum_add(0, s->ip, 20)));

	put16(s->tcp, sport);
	put16(s->tcp + 2, dport);
	put32(s->tcp + 4, isn);
	s->tcp[12] = (sizeof(s->tcp) / 4) << 4;
	s->tcp[13] = 0x02;			/* SYN */
	put16(s->tcp + 14, 64240);
	s->tcp[20] = 2;				/* MSS 1460 */
	s->tcp[21] = 4;
	put16(s->tcp + 22, 1460);
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	put16(pseudo + 10, sizeof(s->tcp));
	sum = csum_add(csum_add(0, pseudo, sizeof(pseudo)), s->tcp, sizeof(s->tcp));
	put16(s->tcp + 16, csum_fold(sum));
}

int main(int argc, char **argv)
{
	unsigned long sent = 0, failed = 0, count, rate = 0, i;
	struct timespec start, now;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr src, dst;
	unsigned int sport, dport;
	uint32_t isn = 0x9e3779b9;
	struct syn s;
	int fd;

	if ((argc != 6 && argc != 7) || inet_pton(AF_INET, argv[1], &src) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst) != 1) {
		fprintf(stderr, "usage: syn_flood SRC DST DPORT SPORT COUNT [RATE]\n");
		return 2;
	}
	dport = strtoul(argv[3], NULL, 10);
	sport = strtoul(argv[4], NULL, 10);
	count = strtoul(argv[5], NULL, 10);
	if (argc == 7)
		rate = strtoul(argv[6], NULL, 10);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("raw socket");
		return 1;
	}
	to.sin_addr = dst;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < count; i++) {
		/* Ahead of the rate: wait until the clock catches up. */
		while (rate) {
			double t;

			clock_gettime(CLOCK_MONOTONIC, &now);
			t = now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9;
			if (i <= t * rate)
				break;
			poll(NULL, 0, 1);
		}
		isn = isn * 1103515245 + 12345;
		build(&s, src, dst, (sport + i) & 0xffff, dport, isn);
		/* A full device queue: wait for room rather than count a loss. */
		for (;;) {
			if (sendto(fd, &s, sizeof(s), 0, (struct sockaddr *)&to, sizeof(to)) >= 0) {
				sent++;
				break;
			}
			if (errno != ENOBUFS && errno != EAGAIN) {
				failed++;
				break;
			}
			poll(NULL, 0, 1);
		}
	}
	printf("sent=%lu failed=%lu\n", sent, failed);
	close(fd);
	return failed == count ? 1 : 0;
}
