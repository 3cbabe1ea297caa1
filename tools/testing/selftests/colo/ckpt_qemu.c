// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt with a real QEMU guest whose RAM is the object "guest"
 * (ckpt_qemu.sh starts QEMU). Plays both agents of a COLO checkpoint on one
 * machine: collects while the guest runs, then with the guest stopped over
 * QMP reads the dirty pages into a file, stores them in the RAM cache
 * object and restores the "svm" object from it; the SVM copy must then be
 * byte-identical with the guest's RAM.
 *
 *   ckpt_qemu setup NPAGES     create guest, svm and cache objects
 *   ckpt_qemu run QMP_SOCKET   the checks (TAP), guest must be starting
 *   ckpt_qemu teardown         destroy the objects
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "ckpt_lib.h"

/* The guest (see ckpt_qemu.sh) sweeps a counter over 1024 pages at 4 MiB. */
#define GUEST_FIRST 1024UL
#define GUEST_PAGES 1024UL

static const char *const names[] = { "guest", "svm", "cache" };

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Reads one line from QMP into buf, within timeout_ms. */
static int qmp_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		if (read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* Sends cmd and waits for its "return" (events in between are skipped). */
static int qmp(int fd, const char *cmd)
{
	char line[4096];

	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	for (;;) {
		if (qmp_line(fd, line, sizeof(line), 30000))
			return -1;
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\"")) {
			fprintf(stderr, "qmp: %s\n", line);
			return -1;
		}
	}
}

static int qmp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[4096];
	double deadline = now() + 60;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		if (now() > deadline)
			return -1;
		msleep(100);
	}
	if (qmp_line(fd, line, sizeof(line), 30000) ||
	    qmp(fd, "{\"execute\":\"qmp_capabilities\"}\n"))
		return -1;
	return fd;
}

static uint32_t counter(const char *guest)
{
	return __atomic_load_n((const uint32_t *)(guest + GUEST_FIRST * PG), __ATOMIC_ACQUIRE);
}

/* Waits until the guest's counter moves; false if it does not in secs. */
static bool guest_moves(const char *guest, double secs)
{
	uint32_t c0 = counter(guest);
	double deadline = now() + secs;

	while (now() < deadline) {
		if (counter(guest) != c0)
			return true;
		msleep(20);
	}
	return false;
}

static uint64_t set_to_list(const bool *set, uint64_t npages, uint64_t *list)
{
	uint64_t i, n = 0;

	for (i = 0; i < npages; i++)
		if (set[i])
			list[n++] = i;
	return n;
}

static int run(const char *sock)
{
	int fd[3], q, tmp, i, ok;
	char *map[3];
	uint64_t npages, n, g, in_region, done, outside;
	uint64_t *list, *all;
	bool *dirty, *svm_dirty;
	uint64_t expect;
	struct colo_ckpt_obj_info info;
	char *buf;
	long c;
	double t;

	for (i = 0; i < 3; i++) {
		fd[i] = ckpt_open(names[i]);
		if (ioctl(fd[i], COLO_CKPT_INFO, &info))
			return 1;
		npages = info.size / PG;
		map[i] = mmap(NULL, info.size, PROT_READ | (i ? PROT_WRITE : 0), MAP_SHARED,
			      fd[i], 0);
		if (map[i] == MAP_FAILED)
			return 1;
	}
	list = calloc(npages, sizeof(*list));
	all = calloc(npages, sizeof(*all));
	dirty = calloc(npages, sizeof(*dirty));
	svm_dirty = calloc(npages, sizeof(*svm_dirty));
	buf = malloc(npages * PG);

	q = qmp_connect(sock);
	tap(q >= 0, "QMP connected");
	if (q < 0)
		return 1;
	ok = guest_moves(map[0], 120);
	tap(ok, "guest runs on the object (counter at 4 MiB moves: %u)", counter(map[0]));

	/* Collects while the guest runs see its sweeps, every time. */
	c = ckpt_collect(fd[0], list, npages);
	tap(c > (long)GUEST_PAGES, "first collect holds firmware, kernel load and sweeps: %ld pages", c);
	in_region = GUEST_PAGES;
	for (i = 0; i < 5; i++) {
		/*
		 * Let at least one full sweep pass after the collect, however
		 * slow the nested guest is: the counter at the region's first
		 * page grows by 1024 per sweep.
		 */
		uint32_t c0 = counter(map[0]);
		double deadline = now() + 60;

		while ((uint32_t)(counter(map[0]) - c0) < 2 * GUEST_PAGES && now() < deadline)
			msleep(10);
		c = ckpt_collect(fd[0], list, npages);
		n = 0;
		for (g = 0; g < (uint64_t)(c > 0 ? c : 0); g++)
			n += list[g] >= GUEST_FIRST && list[g] < GUEST_FIRST + GUEST_PAGES;
		if (n < in_region)
			in_region = n;
	}
	tap(in_region == GUEST_PAGES,
	    "5 collects, each after a full sweep, report all %lu pages the guest swept (min %lu)",
	    GUEST_PAGES, in_region);

	/* Checkpoint 0: a full copy while stopped, like COLO's first one. */
	tap(qmp(q, "{\"execute\":\"stop\"}\n") == 0, "QMP stop");
	ckpt_collect(fd[0], list, npages);
	for (g = 0; g < npages; g++)
		all[g] = g;
	done = 0;
	ok = ckpt_io(fd[0], COLO_CKPT_READ, all, npages, buf, npages * PG, &done) == 0 &&
	     ckpt_io(fd[2], COLO_CKPT_WRITE, all, npages, buf, npages * PG, NULL) == 0 &&
	     ckpt_restore(fd[1], fd[2], all, npages, COLO_CKPT_RESTORE_OWN_DIRTY, NULL) == 0;
	tap(ok, "full copy: read %lu pages, write them to the cache, restore the SVM", done);
	tap(!memcmp(map[0], map[1], npages * PG), "SVM is byte-identical after the full copy");
	tap(qmp(q, "{\"execute\":\"cont\"}\n") == 0 && guest_moves(map[0], 30), "QMP cont: guest runs again");

	/*
	 * The SVM diverges on its own (a page in the guest's region and some
	 * elsewhere) while the PVM runs; PVM dirty pages accumulate over
	 * several collects, as an agent collecting in the background would.
	 */
	memset(dirty, 0, npages);
	memset(svm_dirty, 0, npages);
	for (g = 0; g < npages; g += npages / 37) {
		map[1][g * PG + 8] ^= 0x5a;
		svm_dirty[g] = true;
	}
	map[1][(GUEST_FIRST + 3) * PG + 4000] ^= 0x5a;
	svm_dirty[GUEST_FIRST + 3] = true;
	for (t = now(); now() - t < 0.5;) {
		c = ckpt_collect(fd[0], list, npages);
		for (g = 0; g < (uint64_t)(c > 0 ? c : 0); g++)
			dirty[list[g]] = true;
		msleep(50);
	}

	/* Checkpoint 1: stop, last collect, pages through a file, restore. */
	ok = qmp(q, "{\"execute\":\"stop\"}\n") == 0 && !guest_moves(map[0], 0.3);
	tap(ok, "QMP stop: counter frozen at %u", counter(map[0]));
	c = ckpt_collect(fd[0], list, npages);
	for (g = 0; g < (uint64_t)(c > 0 ? c : 0); g++)
		dirty[list[g]] = true;
	n = set_to_list(dirty, npages, list);
	outside = 0;
	for (g = 0; g < n; g++)
		outside += list[g] < GUEST_FIRST || list[g] >= GUEST_FIRST + GUEST_PAGES;
	tap(n >= GUEST_PAGES && n < npages / 2,
	    "PVM dirty set since checkpoint 0: %lu of %lu pages (%lu outside the guest's region)",
	    n, npages, outside);
	tap(memcmp(map[0], map[1], npages * PG) != 0, "SVM differs from the guest before restore");

	tmp = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	{
		struct colo_ckpt_io io = {
			.set = { .ptr = (uintptr_t)list, .len = n },
			.fd = tmp, .flags = COLO_CKPT_IO_FD,
		};
		ok = tmp >= 0 && ioctl(fd[0], COLO_CKPT_READ, &io) == 0 && io.done == n &&
			 pread(tmp, buf, n * PG, 0) == (ssize_t)(n * PG);

		tap(ok, "read %lu dirty pages into a file descriptor", n);
	}
	tap(ckpt_io(fd[2], COLO_CKPT_WRITE, list, n, buf, n * PG, NULL) == 0,
	    "store them in the RAM cache object");
	t = now();
	done = 0;
	ok = ckpt_restore(fd[1], fd[2], list, n, COLO_CKPT_RESTORE_OWN_DIRTY, &done) == 0;
	t = now() - t;
	for (g = 0, expect = 0; g < npages; g++)
		expect += dirty[g] || svm_dirty[g];
	tap(ok && done == expect,
	    "restore copies PVM dirty OR SVM dirty: %lu pages (expected %lu) in %.1f ms",
	    done, expect, t * 1e3);
	tap(!memcmp(map[0], map[1], npages * PG),
	    "SVM RAM is byte-identical with the paused guest's RAM");

	tap(qmp(q, "{\"execute\":\"cont\"}\n") == 0 && guest_moves(map[0], 30),
	    "guest continues after the checkpoint");
	qmp(q, "{\"execute\":\"quit\"}\n");
	close(q);
	for (i = 0; i < 3; i++) {
		munmap(map[i], npages * PG);
		close(fd[i]);
	}
	return ckpt_tap_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ctl, i, ret = 0;

	if (argc < 2)
		return 2;
	ctl = ckpt_ctl();
	if (!strcmp(argv[1], "setup") && argc == 3) {
		for (i = 0; i < 3; i++)
			if (ckpt_req(ctl, COLO_CKPT_CREATE, names[i], strtoull(argv[2], NULL, 0) * PG))
				ret = 1;
		return ret;
	}
	if (!strcmp(argv[1], "teardown")) {
		for (i = 0; i < 3; i++)
			if (ckpt_req(ctl, COLO_CKPT_DESTROY, names[i], 0))
				ret = 1;
		return ret;
	}
	if (!strcmp(argv[1], "run") && argc == 3)
		return run(argv[2]);
	return 2;
}
