// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt measurements for tools/testing/bench/ckpt.sh, each with its
 * baseline from the same run:
 *   collect   time for a fixed number of dirty pages at several object
 *             sizes (must stay flat as the object grows)
 *   fault     cost of a tracked first write per page vs anonymous memory
 *   read      COLO_CKPT_READ of scattered pages vs memcpy of the same pages
 *
 *   ckpt_bench collect DIRTY SIZE_MIB...
 *   ckpt_bench fault PAGES
 *   ckpt_bench read PAGES
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <time.h>

#include "ckpt_lib.h"

static int ctl;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *obj_map(const char *name, uint64_t bytes, int *fdp)
{
	char *p;

	if (ckpt_req(ctl, COLO_CKPT_CREATE, name, bytes)) {
		fprintf(stderr, "create %s (%lu MiB): %s\n", name, bytes >> 20, strerror(errno));
		exit(1);
	}
	*fdp = ckpt_open(name);
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fdp, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void obj_unmap(const char *name, char *p, uint64_t bytes, int fd)
{
	munmap(p, bytes);
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, name, 0);
}

/* Distinct pseudo-random pages spread over the whole object. */
static void pick_pages(uint64_t *pages, uint64_t n, uint64_t npages, unsigned int seed)
{
	uint64_t i, stride = npages / n;

	srand(seed);
	for (i = 0; i < n; i++)
		pages[i] = i * stride + (uint64_t)rand() % stride;
}

/*
 * An O(size) design's floor for comparison: finding the set bits of a
 * bitmap covering the whole object, as a full dirty log must be scanned.
 */
static double bitmap_scan_ns(uint64_t npages, const uint64_t *pages, uint64_t dirty)
{
	uint64_t words = (npages + 63) / 64, *bm = calloc(words, 8), i, found = 0;
	double t0, t;

	for (i = 0; i < dirty; i++)
		bm[pages[i] / 64] |= 1ULL << (pages[i] % 64);
	t0 = now_ns();
	for (i = 0; i < words; i++)
		if (bm[i])
			found += (uint64_t)__builtin_popcountll(bm[i]);
	t = now_ns() - t0;
	free(bm);
	return found == dirty ? t : -1;
}

/*
 * Collect time for DIRTY pages at each object size, with the dirty pages
 * either spread over the whole object or at the same places in the first
 * 256 MiB (same page-table footprint at every size).
 */
static int bench_collect(uint64_t dirty, int nsizes, char **sizes)
{
	const int reps = 21;
	uint64_t *pages = calloc(dirty, 8), *list = calloc(dirty + 64, 8);
	double t[21], base[2] = { 0, 0 };
	int s, r, fd, layout;

	printf("%-10s %-8s %8s %12s %12s %9s %12s %16s\n", "object MiB", "layout", "dirty",
	       "collect us", "ns per page", "vs first", "median us", "bitmap scan us");
	for (s = 0; s < nsizes; s++) {
		uint64_t bytes = strtoull(sizes[s], NULL, 0) << 20, npages = bytes / PG, i;
		char *p = obj_map("bench", bytes, &fd);
		long n;

		for (layout = 0; layout < 2; layout++) {
			pick_pages(pages, dirty, layout ? npages : (256UL << 20) / PG, 7);
			for (r = 0; r < reps; r++) {
				double t0;

				for (i = 0; i < dirty; i++)
					p[pages[i] * PG] = (char)r;
				t0 = now_ns();
				n = ckpt_collect(fd, list, dirty + 64);
				t[r] = now_ns() - t0;
				if (n != (long)dirty) {
					fprintf(stderr, "collect returned %ld, wanted %lu\n", n, dirty);
					return 1;
				}
			}
			/*
			 * The first round also allocated the pages: leave it
			 * out. Other load on the host only adds time, so the
			 * best round is the steadiest figure.
			 */
			qsort(t + 1, reps - 1, sizeof(double), cmp_double);
			if (!s)
				base[layout] = t[1];
			printf("%-10s %-8s %8lu %12.1f %12.1f %8.2fx %12.1f %16.1f\n", sizes[s],
			       layout ? "spread" : "256MiB", dirty, t[1] / 1e3, t[1] / dirty,
			       t[1] / base[layout], t[reps / 2] / 1e3,
			       bitmap_scan_ns(npages, pages, dirty) / 1e3);
		}
		obj_unmap("bench", p, bytes, fd);
	}
	printf("(best and median of %d collects; 256MiB: dirty pages at the same places at\n"
	       " every size; spread: over the whole object, so more page tables are touched;\n"
	       " bitmap scan: finding the same pages in a bitmap of the whole object)\n", reps - 1);
	return 0;
}

static double touch(char *p, uint64_t n)
{
	double t0 = now_ns();
	uint64_t i;

	for (i = 0; i < n; i++)
		p[i * PG] = 1;
	return (now_ns() - t0) / n;
}

static int bench_fault(uint64_t n)
{
	uint64_t bytes = n * PG;
	char *anon = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double a_first, a_again, o_first, o_armed, o_again;
	uint64_t *list = calloc(n, 8);
	int fd;
	char *obj = obj_map("bench", bytes, &fd);

	a_first = touch(anon, n);
	a_again = touch(anon, n);
	o_first = touch(obj, n);
	ckpt_collect(fd, list, n);
	o_armed = touch(obj, n);
	o_again = touch(obj, n);
	printf("%-44s %12s %10s\n", "first write to each of N pages", "ns/page", "vs anon");
	printf("%-44s %12.0f %9.2fx\n", "anonymous memory, first touch (baseline)", a_first, 1.0);
	printf("%-44s %12.0f %9.2fx\n", "object, first touch (allocate + track)", o_first,
	       o_first / a_first);
	printf("%-44s %12.0f %9.2fx\n", "object, first write after collect (track)", o_armed,
	       o_armed / a_first);
	printf("%-44s %12.1f %10s\n", "anonymous memory, write to present page", a_again, "");
	printf("%-44s %12.1f %10s\n", "object, second write (no fault)", o_again, "");
	printf("(N = %lu pages)\n", n);
	munmap(anon, bytes);
	obj_unmap("bench", obj, bytes, fd);
	return 0;
}

static int bench_read(uint64_t n)
{
	uint64_t npages = 4 * n, bytes = npages * PG, i, done;
	uint64_t *pages = calloc(n, 8);
	char *buf = malloc(n * PG);
	double t_ioctl[7], t_memcpy[7], t_fd[7], t_pread[7], t0;
	int fd, r, tmp = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	char *obj = obj_map("bench", bytes, &fd);

	for (i = 0; i < npages; i++)
		memset(obj + i * PG, (int)i, PG);
	pick_pages(pages, n, npages, 3);
	memset(buf, 0, n * PG);
	for (r = 0; r < 7; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			memcpy(buf + i * PG, obj + pages[i] * PG, PG);
		t_memcpy[r] = now_ns() - t0;
		t0 = now_ns();
		if (ckpt_io(fd, COLO_CKPT_READ, pages, n, buf, n * PG, &done) || done != n)
			return 1;
		t_ioctl[r] = now_ns() - t0;
		{
			struct colo_ckpt_io io = {
				.set = { .ptr = (uintptr_t)pages, .len = n },
				.fd = tmp, .flags = COLO_CKPT_IO_FD,
			};
			lseek(tmp, 0, SEEK_SET);
			t0 = now_ns();
			if (ioctl(fd, COLO_CKPT_READ, &io))
				return 1;
			t_fd[r] = now_ns() - t0;
		}
		/* Kernel copy baseline: the same bytes back out of the file. */
		t0 = now_ns();
		for (i = 0; i < n; i += 256)
			if (pread(tmp, buf + i * PG, 256 * PG, (off_t)(i * PG)) != (ssize_t)(256 * PG))
				return 1;
		t_pread[r] = now_ns() - t0;
	}
	qsort(t_memcpy, 7, sizeof(double), cmp_double);
	qsort(t_ioctl, 7, sizeof(double), cmp_double);
	qsort(t_fd, 7, sizeof(double), cmp_double);
	qsort(t_pread, 7, sizeof(double), cmp_double);
#define GBS(t) (n * PG / (t))
	printf("%-44s %10s %10s\n", "copy N scattered pages", "GB/s", "vs memcpy");
	printf("%-44s %10.2f %9.2fx\n", "memcpy from the mapping (baseline)", GBS(t_memcpy[3]), 1.0);
	printf("%-44s %10.2f %9.2fx\n", "COLO_CKPT_READ into a buffer", GBS(t_ioctl[3]),
	       t_memcpy[3] / t_ioctl[3]);
	printf("%-44s %10.2f %9.2fx\n", "COLO_CKPT_READ into a tmpfs file (fd)", GBS(t_fd[3]),
	       t_memcpy[3] / t_fd[3]);
	printf("%-44s %10.2f %9.2fx\n", "pread of as many bytes from tmpfs (kernel copy)",
	       GBS(t_pread[3]), t_memcpy[3] / t_pread[3]);
	printf("(N = %lu pages of a %lu MiB object, median of 7)\n", n, bytes >> 20);
	obj_unmap("bench", obj, bytes, fd);
	close(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	ctl = ckpt_ctl();
	if (!strcmp(argv[1], "collect") && argc >= 4)
		return bench_collect(strtoull(argv[2], NULL, 0), argc - 3, argv + 3);
	if (!strcmp(argv[1], "fault"))
		return bench_fault(strtoull(argv[2], NULL, 0));
	if (!strcmp(argv[1], "read"))
		return bench_read(strtoull(argv[2], NULL, 0));
	return 2;
}
