// SPDX-License-Identifier: GPL-2.0
/*
 * blk_io: sector patterns and a concurrency checker for the colo dm tests.
 * All I/O is O_DIRECT so no page cache hides what the target returns.
 *
 *   blk_io fill   DEV FIRST NR TAG    write pattern TAG into sectors [FIRST, FIRST+NR)
 *   blk_io verify DEV FIRST NR TAG    check those sectors hold pattern TAG (0: zeroes)
 *   blk_io stress SVM REP SECTORS THREADS OPS SEED SVM_IMAGE REP_IMAGE
 *       THREADS workers per face do random reads and writes of 1..23
 *       sectors over [0, SECTORS) on the SVM face and the replica face at
 *       once. Each worker owns a region on its face, and the SVM's and the
 *       replica's workers share the same regions, so every sector is hit by
 *       both faces concurrently. The SVM must never see a replica write and
 *       the replica never an SVM write: each read is checked against a model
 *       of its face. The expected content of both faces is written to
 *       SVM_IMAGE and REP_IMAGE at the end. The sectors must hold pattern 1
 *       (the initial content) on both faces when it starts.
 * Exit status 0 when everything matched, 1 on a mismatch or I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512
#define MAX_RUN 23

static void pattern(uint64_t tag, uint64_t sector, uint8_t *buf)
{
	uint64_t *w = (uint64_t *)buf;
	unsigned int i;

	if (!tag) {
		memset(buf, 0, SECTOR);
		return;
	}
	for (i = 0; i < SECTOR / 8; i++)
		w[i] = (tag * 0x9E3779B97F4A7C15ULL) ^ (sector << 8 | i);
}

static void *xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : SECTOR)) {
		perror("posix_memalign");
		exit(1);
	}
	return p;
}

static int xopen(const char *dev)
{
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", dev, strerror(errno));
		exit(1);
	}
	return fd;
}

static int do_io(int fd, bool wr, void *buf, uint64_t first, uint64_t nr)
{
	size_t len = nr * SECTOR;
	off_t off = (off_t)(first * SECTOR);
	ssize_t n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	if (n != (ssize_t)len) {
		fprintf(stderr, "%s sectors %" PRIu64 "+%" PRIu64 ": %s\n",
			wr ? "write" : "read", first, nr,
			n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

static int cmd_fill_verify(bool fill, const char *dev, uint64_t first,
			   uint64_t nr, uint64_t tag)
{
	uint8_t *buf = xalloc(nr * SECTOR), want[SECTOR];
	int fd = xopen(dev), ret = 0;
	uint64_t i;

	if (fill) {
		for (i = 0; i < nr; i++)
			pattern(tag, first + i, buf + i * SECTOR);
		ret = do_io(fd, true, buf, first, nr) || fsync(fd);
	} else {
		ret = do_io(fd, false, buf, first, nr);
		for (i = 0; !ret && i < nr; i++) {
			pattern(tag, first + i, want);
			if (memcmp(want, buf + i * SECTOR, SECTOR)) {
				fprintf(stderr, "%s: sector %" PRIu64
					" does not hold pattern %" PRIu64 "\n",
					dev, first + i, tag);
				ret = 1;
			}
		}
	}
	close(fd);
	free(buf);
	return ret ? 1 : 0;
}

struct worker {
	pthread_t thread;
	int fd;
	uint64_t *model;	/* tag per sector, shared per face */
	uint64_t first, nr;	/* region */
	uint64_t ops;
	uint64_t tag_base;	/* tags this worker writes: tag_base + k */
	unsigned int seed;
	int failed;
	const char *face;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = xalloc(MAX_RUN * SECTOR), want[SECTOR];
	uint64_t op, i;

	for (op = 0; op < w->ops && !w->failed; op++) {
		uint64_t len = 1 + rand_r(&w->seed) % MAX_RUN;
		uint64_t start;

		if (len > w->nr)
			len = w->nr;
		start = w->first + rand_r(&w->seed) % (w->nr - len + 1);
		if (rand_r(&w->seed) % 2) {
			uint64_t tag = w->tag_base + op;

			for (i = 0; i < len; i++)
				pattern(tag, start + i, buf + i * SECTOR);
			if (do_io(w->fd, true, buf, start, len)) {
				w->failed = 1;
				break;
			}
			for (i = 0; i < len; i++)
				w->model[start + i] = tag;
		} else {
			if (do_io(w->fd, false, buf, start, len)) {
				w->failed = 1;
				break;
			}
			for (i = 0; i < len; i++) {
				pattern(w->model[start + i], start + i, want);
				if (memcmp(want, buf + i * SECTOR, SECTOR)) {
					fprintf(stderr, "%s face: sector %" PRIu64
						" differs from the model\n",
						w->face, start + i);
					w->failed = 1;
				}
			}
		}
	}
	free(buf);
	return NULL;
}

static int write_image(const char *path, const uint64_t *model, uint64_t sectors)
{
	uint8_t buf[SECTOR];
	FILE *f = fopen(path, "w");
	uint64_t s;

	if (!f) {
		perror(path);
		return -1;
	}
	for (s = 0; s < sectors; s++) {
		pattern(model[s], s, buf);
		fwrite(buf, SECTOR, 1, f);
	}
	return fclose(f);
}

static int cmd_stress(char **argv)
{
	uint64_t sectors = strtoull(argv[2], NULL, 0);
	unsigned int threads = strtoul(argv[3], NULL, 0);
	uint64_t ops = strtoull(argv[4], NULL, 0);
	unsigned int seed = strtoul(argv[5], NULL, 0);
	uint64_t *model[2];
	struct worker *w;
	unsigned int f, t;
	int failed = 0;
	uint64_t s;

	if (!threads || sectors < threads * MAX_RUN) {
		fprintf(stderr, "stress: need SECTORS >= THREADS * %d\n", MAX_RUN);
		return 1;
	}
	w = calloc(2 * threads, sizeof(*w));
	for (f = 0; f < 2; f++) {
		model[f] = calloc(sectors, sizeof(uint64_t));
		for (s = 0; s < sectors; s++)
			model[f][s] = 1;
	}
	for (f = 0; f < 2; f++) {
		int fd = xopen(argv[f]);

		for (t = 0; t < threads; t++) {
			struct worker *x = &w[f * threads + t];

			x->fd = fd;
			x->model = model[f];
			x->nr = sectors / threads;
			x->first = t * x->nr;
			x->ops = ops;
			/* distinct tags per face and worker, never 0 or 1 */
			x->tag_base = ((uint64_t)(f * threads + t + 1) << 32) + 2;
			x->seed = seed * 7919 + f * 131 + t;
			x->face = f ? "replica" : "svm";
			pthread_create(&x->thread, NULL, worker_run, x);
		}
	}
	for (t = 0; t < 2 * threads; t++) {
		pthread_join(w[t].thread, NULL);
		failed |= w[t].failed;
	}
	if (write_image(argv[6], model[0], sectors) ||
	    write_image(argv[7], model[1], sectors))
		failed = 1;
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 6 && (!strcmp(argv[1], "fill") || !strcmp(argv[1], "verify")))
		return cmd_fill_verify(argv[1][0] == 'f', argv[2],
				       strtoull(argv[3], NULL, 0),
				       strtoull(argv[4], NULL, 0),
				       strtoull(argv[5], NULL, 0));
	if (argc == 10 && !strcmp(argv[1], "stress"))
		return cmd_stress(argv + 2);
	fprintf(stderr, "usage: blk_io fill|verify DEV FIRST NR TAG\n"
		"       blk_io stress SVM REP SECTORS THREADS OPS SEED SVM_IMAGE REP_IMAGE\n");
	return 2;
}
