// SPDX-License-Identifier: GPL-2.0
/*
 * Random ioctls on colo_ckpt's control device and object nodes: known
 * commands with random argument structures (every 8-byte field random, zero,
 * small, huge, or a pointer into a scratch area that ends in an unmapped
 * guard), unknown command numbers of the same magic, and random sizes. Every
 * call must come back with a result or an error code; the kernel log is
 * checked by the test runner. Objects the random calls created are destroyed
 * at the end.
 *
 * Usage: hostile_ckpt_ioctl COUNT SEED
 * Prints the errno histogram and "distinct=N" (distinct inputs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/colo_ckpt.h>

#include "hostile.h"

#define SCRATCH_BYTES (1UL << 20)
#define GUARD_BYTES (63UL << 20)
#define BATCH 2000
#define REPORT_FD 1000

static const unsigned long known_cmds[] = {
	COLO_CKPT_CREATE, COLO_CKPT_DESTROY, COLO_CKPT_RESIZE, COLO_CKPT_LIST,
	COLO_CKPT_INFO, COLO_CKPT_COLLECT, COLO_CKPT_READ, COLO_CKPT_WRITE,
	COLO_CKPT_RESTORE,
};

struct tally {
	unsigned long calls, ok, distinct, by_errno[256];
};

static char *scratch;

static uint64_t random_field(void)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return rnd_below(300);			/* counts, small fds, flags */
	case 2:
		return (uint64_t)(uintptr_t)(scratch + rnd_below(SCRATCH_BYTES));
	case 3:
		return ~0ULL - rnd_below(4);
	case 4:
		return 4096 * rnd_below(1 << 20);	/* page-sized quantities */
	case 5:
		return 1ULL << rnd_below(64);
	default:
		return rnd();
	}
}

static void random_arg(char *arg, size_t size)
{
	size_t i;

	for (i = 0; i + 8 <= size; i += 8) {
		uint64_t v = random_field();

		memcpy(arg + i, &v, 8);
	}
	for (; i < size; i++)
		arg[i] = (char)rnd();
	if (size >= COLO_CKPT_NAME_MAX && rnd_below(2)) {
		/* a plausible object name, so create/destroy get past validation */
		snprintf(arg, COLO_CKPT_NAME_MAX, "hostile-%c", (char)('a' + rnd_below(4)));
	}
}

static void run_batch(int *fds, int nfds, unsigned long n, struct tally *t)
{
	static char arg[4096];

	while (n--) {
		unsigned long cmd = known_cmds[rnd_below(sizeof(known_cmds) / sizeof(known_cmds[0]))];
		int fd = fds[rnd_below(nfds)];
		size_t size;
		int r;

		switch (rnd_below(10)) {
		case 0:	/* unknown command number, same magic */
			cmd = _IOC(rnd_below(4), COLO_CKPT_IOC_MAGIC, rnd_below(64), rnd_below(256));
			break;
		case 1:	/* known number, wrong size */
			cmd = _IOC(_IOC_DIR(cmd), COLO_CKPT_IOC_MAGIC, _IOC_NR(cmd), rnd_below(256));
			break;
		}
		size = _IOC_SIZE(cmd);
		random_arg(arg, size);
		t->distinct += hostile_remember(arg, size, cmd ^ ((uint64_t)fd << 40));
		t->calls++;
		r = ioctl(fd, cmd, rnd_below(50) ? arg : (char *)(uintptr_t)random_field());
		if (r >= 0)
			t->ok++;
		else
			t->by_errno[errno < 256 ? errno : 255]++;
	}
}

static int create_object(int ctl, const char *name)
{
	struct colo_ckpt_obj_req req = { .size = 1 << 20 };
	char path[128];

	snprintf(req.name, sizeof(req.name), "%s", name);
	if (ioctl(ctl, COLO_CKPT_CREATE, &req) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", COLO_CKPT_NODE_DIR, name);
	for (int i = 0; i < 100; i++) {	/* udev-less: devtmpfs creates the node */
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd >= 0)
			return fd;
		usleep(20000);
	}
	return -1;
}

static void destroy_all(int ctl, FILE *report)
{
	struct colo_ckpt_obj_info infos[64];
	struct colo_ckpt_list list = { .ptr = (uintptr_t)infos, .max = 64 };
	unsigned int i;

	if (ioctl(ctl, COLO_CKPT_LIST, &list)) {
		fprintf(report, "list failed: %s\n", strerror(errno));
		return;
	}
	for (i = 0; i < list.count && i < 64; i++) {
		struct colo_ckpt_obj_req req = { 0 };

		memcpy(req.name, infos[i].name, sizeof(req.name));
		if (ioctl(ctl, COLO_CKPT_DESTROY, &req))
			fprintf(report, "destroy %.*s: %s\n", COLO_CKPT_NAME_MAX, req.name, strerror(errno));
	}
	fprintf(report, "objects left by the random calls, destroyed: %u\n", list.count);
}

int main(int argc, char **argv)
{
	struct tally *t;
	unsigned long count, done;
	FILE *report;
	int fds[3], e, crashes = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s COUNT SEED\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[1], NULL, 0);
	hostile_seed(strtoull(argv[2], NULL, 0));

	/* Random fd fields may name stdout: keep the report on a far fd. */
	if (dup2(STDOUT_FILENO, REPORT_FD) < 0 || !(report = fdopen(REPORT_FD, "w")))
		return 1;
	e = open("/dev/null", O_RDWR);
	dup2(e, STDIN_FILENO);
	dup2(e, STDOUT_FILENO);

	scratch = mmap(NULL, SCRATCH_BYTES + GUARD_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || t == MAP_FAILED || hostile_seen_init() ||
	    mprotect(scratch, SCRATCH_BYTES, PROT_READ | PROT_WRITE)) {
		fprintf(report, "setup: %s\n", strerror(errno));
		return 1;
	}
	fds[0] = open(COLO_CKPT_CTL_PATH, O_RDWR | O_CLOEXEC);
	if (fds[0] < 0) {
		fprintf(report, "%s: %s\n", COLO_CKPT_CTL_PATH, strerror(errno));
		return 1;
	}
	fds[1] = create_object(fds[0], "hostile-a");
	fds[2] = create_object(fds[0], "hostile-b");
	if (fds[1] < 0 || fds[2] < 0) {
		fprintf(report, "cannot create the target objects: %s\n", strerror(errno));
		return 1;
	}

	/*
	 * Batches run in a child: if a random call makes the kernel write into
	 * our own scratch in a way that kills us, the kernel is still what is
	 * under test, and the next batch goes on.
	 */
	for (done = 0; done < count; done += BATCH) {
		unsigned long n = count - done < BATCH ? count - done : BATCH;
		pid_t pid;
		int status;

		rnd();
		pid = fork();
		if (pid == 0) {
			run_batch(fds, 3, n, t);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			return 1;
		if (!WIFEXITED(status))
			crashes++;
		hostile_seed(hostile_rng_state + done + 1);
	}

	close(fds[1]);
	close(fds[2]);
	destroy_all(fds[0], report);
	for (e = 1; e < 256; e++)
		if (t->by_errno[e])
			fprintf(report, "errno %-3d %-26s %lu\n", e, strerror(e), t->by_errno[e]);
	fprintf(report, "calls=%lu succeeded=%lu distinct=%lu batches_killed=%d\n",
		t->calls, t->ok, t->distinct, crashes);
	fclose(report);
	return 0;
}
