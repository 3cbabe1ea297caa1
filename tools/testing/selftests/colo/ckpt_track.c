// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt dirty tracking, exercised through a real mapping:
 *  - several threads write a known set of pages: collect returns exactly it
 *  - writes after a collect show up in the next one, and only those
 *  - writers hammer pages while collects run: no write is lost
 *  - the mapping outlives close() of its fd and destroy of the object
 *  - read/write/restore move the right bytes
 *  - a tmpfs holding the node the object was first opened through can be
 *    unmounted while the object lives, and tracking goes on
 *  - a page a kernel writer held across a collect (O_DIRECT read still in
 *    flight) is reported again once the write has landed
 * Prints TAP; run by ckpt_track.sh with colo_ckpt loaded.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "ckpt_lib.h"

#define NPAGES 16384UL		/* 64 MiB object */
#define NTHREADS 4

static int ctl;
static uint64_t *list;

static char *map_obj(int fd, uint64_t npages)
{
	char *p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* Pages that thread t writes in the known-set test: a sparse, irregular set. */
static int in_known_set(uint64_t pg, int t)
{
	return pg % NTHREADS == (uint64_t)t && (pg * 2654435761u) % 5 == 0;
}

struct known_arg {
	char *map;
	int t;
};

static void *known_writer(void *p)
{
	struct known_arg *a = p;
	uint64_t pg;

	for (pg = 0; pg < NPAGES; pg++)
		if (in_known_set(pg, a->t))
			a->map[pg * PG + 100] = (char)(pg + 1);
	return NULL;
}

static void test_known_set(void)
{
	struct known_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t pg, expect = 0, i, missing = 0, extra = 0;
	volatile char sink = 0;
	int fd, t;
	char *map;
	long n;

	if (ckpt_req(ctl, COLO_CKPT_CREATE, "track", NPAGES * PG)) {
		tap(0, "create 64 MiB object");
		exit(1);
	}
	fd = ckpt_open("track");
	map = map_obj(fd, NPAGES);

	/* Reading every page must not dirty any. */
	for (pg = 0; pg < NPAGES; pg++)
		sink += map[pg * PG];
	(void)sink;
	n = ckpt_collect(fd, list, NPAGES);
	tap(n == 0, "reads of every page leave the dirty set empty (got %ld)", n);

	for (t = 0; t < NTHREADS; t++) {
		args[t].map = map;
		args[t].t = t;
		pthread_create(&th[t], NULL, known_writer, &args[t]);
	}
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);

	n = ckpt_collect(fd, list, NPAGES);
	for (pg = 0; pg < NPAGES; pg++)
		for (t = 0; t < NTHREADS; t++)
			if (in_known_set(pg, t))
				expect++;
	/* Compare the sorted list with the predicate. */
	i = 0;
	for (pg = 0; pg < NPAGES; pg++) {
		int want = 0, got = i < (uint64_t)n && list[i] == pg;

		for (t = 0; t < NTHREADS; t++)
			want |= in_known_set(pg, t);
		if (got)
			i++;
		missing += want && !got;
		extra += got && !want;
	}
	tap(n == (long)expect && !missing && !extra,
	    "%d threads wrote %lu pages: collect returned %ld, missing %lu, extra %lu",
	    NTHREADS, expect, n, missing, extra);

	n = ckpt_collect(fd, list, NPAGES);
	tap(n == 0, "second collect without writes is empty (got %ld)", n);

	/* Writes after a collect: to pages collected before and to new ones. */
	map[5 * PG] = 1;		/* 5 * 2654435761 % 5 == 0: was in the set */
	map[7 * PG + 4095] = 1;
	map[(NPAGES - 1) * PG] = 1;
	map[7 * PG] = 2;
	n = ckpt_collect(fd, list, NPAGES);
	tap(n == 3 && list[0] == 5 && list[1] == 7 && list[2] == NPAGES - 1,
	    "writes after a collect show in the next one, once each (got %ld)", n);

	/* E2BIG leaves the set alone. */
	for (pg = 0; pg < 10; pg++)
		map[pg * PG] = 3;
	n = ckpt_collect(fd, list, 4);
	{
		struct colo_ckpt_collect c = { .ptr = (uintptr_t)list, .max = 4 };
		int r = ioctl(fd, COLO_CKPT_COLLECT, &c);

		tap(r == -1 && errno == E2BIG && c.count == 10,
		    "collect into a too small list: E2BIG with the needed count (%llu)",
		    (unsigned long long)c.count);
	}
	n = ckpt_collect(fd, list, NPAGES);
	tap(n == 10, "the dirty set survives a failed collect (got %ld)", n);

	munmap(map, NPAGES * PG);
	close(fd);
	tap(ckpt_req(ctl, COLO_CKPT_DESTROY, "track", 0) == 0, "destroy");
}

/* Hammer: writers store increasing values while the main thread collects. */
#define HPAGES 4096UL
static atomic_int stop;
static atomic_uint_fast64_t next_value;

struct hammer_arg {
	uint64_t *map;
	unsigned int seed;
	uint64_t writes;
};

static void *hammer_writer(void *p)
{
	struct hammer_arg *a = p;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t pg = rand_r(&a->seed) % HPAGES;
		uint64_t v = atomic_fetch_add(&next_value, 1) + 1;

		__atomic_store_n(&a->map[pg * PG / 8], v, __ATOMIC_RELEASE);
		a->writes++;
	}
	return NULL;
}

static void test_hammer(double seconds)
{
	struct hammer_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t *shadow = calloc(HPAGES, sizeof(uint64_t));
	uint64_t collects = 0, reported = 0, lost = 0, writes = 0, pg;
	struct timespec t0, t1;
	double elapsed;
	int fd, t;
	uint64_t *map;
	long n, i;

	if (ckpt_req(ctl, COLO_CKPT_CREATE, "hammer", HPAGES * PG)) {
		tap(0, "create hammer object");
		free(shadow);
		return;
	}
	fd = ckpt_open("hammer");
	map = (uint64_t *)map_obj(fd, HPAGES);

	atomic_store(&stop, 0);
	for (t = 0; t < NTHREADS; t++) {
		args[t].map = map;
		args[t].seed = 1234 + t;
		args[t].writes = 0;
		pthread_create(&th[t], NULL, hammer_writer, &args[t]);
	}
	/*
	 * After each collect, remember the value now in every reported page.
	 * A page's last write always lands before a collect that reports the
	 * page and re-reads it, unless the write was lost: then the shadow
	 * stays behind the page's final value.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n = ckpt_collect(fd, list, HPAGES);
		if (n < 0)
			break;
		for (i = 0; i < n; i++)
			shadow[list[i]] = __atomic_load_n(&map[list[i] * PG / 8], __ATOMIC_ACQUIRE);
		collects++;
		reported += n;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		/* On a loaded host collects are slow: run until enough of them. */
	} while ((elapsed < seconds || collects < 50) && elapsed < 120);
	atomic_store(&stop, 1);
	for (t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		writes += args[t].writes;
	}
	n = ckpt_collect(fd, list, HPAGES);
	for (i = 0; i < n; i++)
		shadow[list[i]] = map[list[i] * PG / 8];
	for (pg = 0; pg < HPAGES; pg++)
		if (shadow[pg] != map[pg * PG / 8])
			lost++;
	tap(collects >= 50 && writes > 1000 && lost == 0,
	    "hammer: %lu writes by %d threads during %lu collects (%lu pages reported): %lu pages with a lost write",
	    writes, NTHREADS, collects, reported, lost);

	munmap(map, HPAGES * PG);
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "hammer", 0);
	free(shadow);
}

static long committed(void)
{
	FILE *f = fopen("/sys/class/colo_ckpt/committed_bytes", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void test_lifetime(void)
{
	char *map;
	long n, before = committed();
	int fd;

	ckpt_req(ctl, COLO_CKPT_CREATE, "life", 64 * PG);
	fd = ckpt_open("life");
	map = map_obj(fd, 64);
	close(fd);
	map[3 * PG] = 'x';
	map[9 * PG] = 'y';
	fd = ckpt_open("life");
	n = ckpt_collect(fd, list, 64);
	tap(n == 2 && list[0] == 3 && list[1] == 9,
	    "writes through a mapping whose fd was closed are tracked (got %ld)", n);

	tap(ckpt_req(ctl, COLO_CKPT_DESTROY, "life", 0) == 0, "destroy while mapped succeeds");
	tap(access(COLO_CKPT_NODE_DIR "/life", F_OK) != 0, "node is gone after destroy");
	map[20 * PG] = 'z';
	tap(map[3 * PG] == 'x' && map[20 * PG] == 'z', "mapping still works after destroy");
	n = ckpt_collect(fd, list, 64);
	tap(n == -ENODEV, "ioctl on a destroyed object: ENODEV (got %ld)", n);
	tap(committed() == before + 64 * (long)PG, "memory stays accounted while mapped");
	tap(ckpt_req(ctl, COLO_CKPT_CREATE, "life", 32 * PG) == 0,
	    "the name is free again at once");
	ckpt_req(ctl, COLO_CKPT_DESTROY, "life", 0);
	close(fd);
	munmap(map, 64 * PG);
	tap(committed() == before, "memory released at the last unmap (%ld == %ld)",
	    committed(), before);
}

/*
 * A second device node for the same object (another inode, as a node in a
 * container's /dev would be): collect must re-arm mappings made through it
 * too, or its second write would go unseen.
 */
static void test_second_node(void)
{
	const char *alt = "/tmp/ckpt-track-alt-node";
	char *a, *b;
	struct stat st;
	int fa, fb;
	long n1, n2;

	ckpt_req(ctl, COLO_CKPT_CREATE, "node", 16 * PG);
	if (stat(COLO_CKPT_NODE_DIR "/node", &st) || (unlink(alt), mknod(alt, S_IFCHR | 0600, st.st_rdev))) {
		tap(0, "second node for the object: %s", strerror(errno));
		return;
	}
	fa = ckpt_open("node");
	fb = open(alt, O_RDWR);
	a = map_obj(fa, 16);
	b = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
	b[5 * PG] = 1;
	n1 = ckpt_collect(fa, list, 16);
	b[5 * PG] = 2;
	a[6 * PG] = 3;
	n2 = ckpt_collect(fb, list, 16);
	tap(n1 == 1 && n2 == 2 && list[0] == 5 && list[1] == 6 && a[5 * PG] == 2,
	    "mappings through a second node of the object are re-armed too (%ld, %ld)", n1, n2);
	munmap(a, 16 * PG);
	munmap(b, 16 * PG);
	close(fa);
	close(fb);
	unlink(alt);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "node", 0);
}

/*
 * The first node an object is opened through may sit on a filesystem that
 * is unmounted while the object lives (a container's /dev). The object must
 * not keep that node's inode: ckpt_track.sh checks that the unmount left no
 * busy inode behind, and that the module's own inodes are all gone at
 * rmmod.
 */
static void test_unmounted_node(void)
{
	const char *dir = "/tmp/ckpt-track-mnt";
	const char *node = "/tmp/ckpt-track-mnt/ram";
	struct stat st;
	long n1, n2;
	char *map;
	int fd;

	ckpt_req(ctl, COLO_CKPT_CREATE, "mnt", 16 * PG);
	mkdir(dir, 0700);
	if (stat(COLO_CKPT_NODE_DIR "/mnt", &st) ||
	    mount("ckpt-track", dir, "tmpfs", 0, "size=1m") ||
	    mknod(node, S_IFCHR | 0600, st.st_rdev)) {
		tap(0, "node for a fresh object on its own tmpfs: %s", strerror(errno));
		umount(dir);
		ckpt_req(ctl, COLO_CKPT_DESTROY, "mnt", 0);
		return;
	}
	fd = open(node, O_RDWR);
	map = map_obj(fd, 16);
	map[2 * PG] = 1;
	munmap(map, 16 * PG);
	close(fd);
	tap(umount(dir) == 0, "the tmpfs of the first-opened node unmounts while the object lives");
	rmdir(dir);

	fd = ckpt_open("mnt");
	map = map_obj(fd, 16);
	n1 = ckpt_collect(fd, list, 16);
	map[2 * PG] = 2;
	map[3 * PG] = 3;
	n2 = ckpt_collect(fd, list, 16);
	tap(n1 == 1 && n2 == 2 && list[0] == 2 && list[1] == 3,
	    "tracking goes on through /dev after the unmount (%ld, %ld)", n1, n2);
	munmap(map, 16 * PG);
	close(fd);
	tap(ckpt_req(ctl, COLO_CKPT_DESTROY, "mnt", 0) == 0, "destroy after the unmount");
}

struct held_read {
	int fd;
	char *buf;
	ssize_t ret;
	atomic_int done;
};

static void *held_reader(void *p)
{
	struct held_read *r = p;

	r->ret = pread(r->fd, r->buf, PG, 0);
	atomic_store(&r->done, 1);
	return NULL;
}

/*
 * An O_DIRECT read into the object takes a reference on the page (faulting
 * it writable: it is dirty), then the device writes the data through that
 * reference, not through the page tables. dev delays its reads (dm-delay,
 * set up by ckpt_track.sh) so that a collect runs while the read is in
 * flight; the data arriving after that collect must be in the next one.
 */
static void test_held_page(const char *dev)
{
	struct held_read r = { 0 };
	long n1, n2, n3;
	pthread_t th;
	char *map;
	int fd;

	if (!dev) {
		printf("ok %d - held page # SKIP no delayed device given\n", ++ckpt_tap_n);
		return;
	}
	ckpt_req(ctl, COLO_CKPT_CREATE, "held", 16 * PG);
	fd = ckpt_open("held");
	map = map_obj(fd, 16);
	r.fd = open(dev, O_RDONLY | O_DIRECT);
	if (r.fd < 0) {
		tap(0, "open %s O_DIRECT: %s", dev, strerror(errno));
		goto out;
	}
	r.buf = map + 4 * PG;
	pthread_create(&th, NULL, held_reader, &r);
	usleep(500000);
	n1 = ckpt_collect(fd, list, 16);
	tap(!atomic_load(&r.done) && n1 == 1 && list[0] == 4,
	    "collect while the O_DIRECT read is in flight reports its page (%ld)", n1);
	pthread_join(th, NULL);
	tap(r.ret == (ssize_t)PG && (unsigned char)map[4 * PG] == 0xa5 &&
	    (unsigned char)map[5 * PG - 1] == 0xa5, "the read landed in the object (%zd)", r.ret);
	n2 = ckpt_collect(fd, list, 16);
	tap(n2 == 1 && list[0] == 4,
	    "the page written through the held reference is in the next collect (%ld)", n2);
	n3 = ckpt_collect(fd, list, 16);
	tap(n3 == 0, "once released, the page is re-armed like any other (%ld)", n3);
	close(r.fd);
out:
	munmap(map, 16 * PG);
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "held", 0);
}

static void fill(char *p, uint64_t pg, int salt)
{
	uint64_t i;

	for (i = 0; i < PG; i += 8)
		*(uint64_t *)(p + i) = (pg << 20) ^ i ^ (uint64_t)salt * 0x9e3779b97f4a7c15ULL;
}

static void test_data(void)
{
	const uint64_t np = 256;
	uint64_t set[] = { 0, 1, 2, 17, 100, 255 };
	uint64_t ns = sizeof(set) / sizeof(set[0]), done, i, pg;
	char *buf = malloc(np * PG), *a, *svm, *cache;
	char expect[PG];
	int fa, fs, fc, pfd[2], ok;
	long n;

	ckpt_req(ctl, COLO_CKPT_CREATE, "data-a", np * PG);
	ckpt_req(ctl, COLO_CKPT_CREATE, "data-svm", np * PG);
	ckpt_req(ctl, COLO_CKPT_CREATE, "data-cache", np * PG);
	fa = ckpt_open("data-a");
	fs = ckpt_open("data-svm");
	fc = ckpt_open("data-cache");
	a = map_obj(fa, np);
	svm = map_obj(fs, np);
	cache = map_obj(fc, np);

	for (pg = 0; pg < np; pg++)
		fill(a + pg * PG, pg, 1);
	ok = ckpt_io(fa, COLO_CKPT_READ, set, ns, buf, ns * PG, &done) == 0 && done == ns;
	for (i = 0; ok && i < ns; i++)
		ok = !memcmp(buf + i * PG, a + set[i] * PG, PG);
	tap(ok, "read %lu pages into a buffer: bytes match the mapping", ns);

	/* The same pages named by a bitmap (bits 0, 1, 2, 17, 100, 255). */
	{
		uint64_t bm[4] = { 0x20007, 1ULL << 36, 0, 1ULL << 63 };
		struct colo_ckpt_io io = {
			.set = { .ptr = (uintptr_t)bm, .len = np, .format = COLO_CKPT_SET_BITMAP },
			.buf = (uintptr_t)(buf + ns * PG), .buf_len = ns * PG,
		};

		ok = ioctl(fa, COLO_CKPT_READ, &io) == 0 && io.done == ns &&
		     !memcmp(buf, buf + ns * PG, ns * PG);
		tap(ok, "the same set as a bitmap reads the same bytes");
	}

	/* Read into a pipe. */
	ok = pipe(pfd) == 0;
	if (ok) {
		struct colo_ckpt_io io = {
			.set = { .ptr = (uintptr_t)set, .len = 3 },
			.fd = pfd[1], .flags = COLO_CKPT_IO_FD,
		};
		ok = ioctl(fa, COLO_CKPT_READ, &io) == 0 && io.done == 3;
		for (i = 0; ok && i < 3; i++)
			ok = read(pfd[0], expect, PG) == (ssize_t)PG &&
			     !memcmp(expect, a + set[i] * PG, PG);
		close(pfd[0]);
		close(pfd[1]);
	}
	tap(ok, "read 3 pages into a pipe: bytes match");

	ok = socketpair(AF_UNIX, SOCK_STREAM, 0, pfd) == 0;
	if (ok) {
		struct colo_ckpt_io io = {
			.set = { .ptr = (uintptr_t)(set + 3), .len = 3 },
			.fd = pfd[0], .flags = COLO_CKPT_IO_FD,
		};
		ok = ioctl(fa, COLO_CKPT_READ, &io) == 0 && io.done == 3;
		for (i = 0; ok && i < 3; i++)
			ok = recv(pfd[1], expect, PG, MSG_WAITALL) == (ssize_t)PG &&
			     !memcmp(expect, a + set[3 + i] * PG, PG);
		close(pfd[0]);
		close(pfd[1]);
	}
	tap(ok, "read 3 pages into a socket: bytes match");

	/* Write the buffer into the cache object at the same indices. */
	ok = ckpt_io(fc, COLO_CKPT_WRITE, set, ns, buf, ns * PG, &done) == 0 && done == ns;
	for (i = 0; ok && i < ns; i++)
		ok = !memcmp(cache + set[i] * PG, a + set[i] * PG, PG);
	tap(ok, "write %lu pages from a buffer: the mapping shows them", ns);
	n = ckpt_collect(fc, list, np);
	tap(n == 0, "WRITE does not dirty pages (got %ld)", n);

	/*
	 * Secondary restore: the cache holds the PVM state for every page; the
	 * SVM wrote pages 40..42 itself; the PVM dirtied set[]. After restore
	 * the SVM equals the cache on set OR {40,41,42}, keeps its other pages.
	 */
	for (pg = 0; pg < np; pg++)
		fill(cache + pg * PG, pg, 2);
	ckpt_collect(fc, list, np);
	for (pg = 0; pg < np; pg++)
		fill(svm + pg * PG, pg, 3);
	ckpt_collect(fs, list, np);
	fill(svm + 40 * PG, 40, 4);
	fill(svm + 41 * PG, 41, 4);
	fill(svm + 42 * PG, 42, 4);
	ok = ckpt_restore(fs, fc, set, ns, COLO_CKPT_RESTORE_OWN_DIRTY, &done) == 0;
	tap(ok && done == ns + 3, "restore copies the union of PVM and SVM dirty sets (%lu pages)",
	    done);
	ok = 1;
	for (pg = 0; pg < np; pg++) {
		int from_cache = pg == 40 || pg == 41 || pg == 42;

		for (i = 0; i < ns; i++)
			from_cache |= set[i] == pg;
		fill(expect, pg, from_cache ? 2 : 3);
		if (memcmp(svm + pg * PG, expect, PG))
			ok = 0;
	}
	tap(ok, "after restore every SVM page holds the expected bytes");
	n = ckpt_collect(fs, list, np);
	tap(n == 0, "restore re-armed the SVM's own dirty set (got %ld)", n);
	svm[41 * PG] ^= 1;
	n = ckpt_collect(fs, list, np);
	tap(n == 1 && list[0] == 41, "a write after restore is tracked again (got %ld)", n);

	munmap(a, np * PG);
	munmap(svm, np * PG);
	munmap(cache, np * PG);
	close(fa);
	close(fs);
	close(fc);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "data-a", 0);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "data-svm", 0);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "data-cache", 0);
	free(buf);
}

/*
 * mmap runs under mmap_lock and the data path copies to user memory (taking
 * mmap_lock on a fault) with the object's mutex held: the two must not
 * wait on each other. One thread maps and unmaps the object in a loop while
 * another reads pages into a buffer that faults on every call.
 */
static atomic_int race_stop;

static void *race_mapper(void *p)
{
	int fd = *(int *)p;

	while (!atomic_load(&race_stop)) {
		void *m = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED)
			munmap(m, 16 * PG);
	}
	return NULL;
}

static void test_mmap_race(void)
{
	uint64_t pages[16], i, rounds = 0;
	char *buf = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec t0, t1;
	pthread_t th;
	int fd, ok = 1;

	ckpt_req(ctl, COLO_CKPT_CREATE, "race", 16 * PG);
	fd = ckpt_open("race");
	for (i = 0; i < 16; i++)
		pages[i] = i;
	atomic_store(&race_stop, 0);
	pthread_create(&th, NULL, race_mapper, &fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		madvise(buf, 16 * PG, MADV_DONTNEED);
		ok &= ckpt_io(fd, COLO_CKPT_READ, pages, 16, buf, 16 * PG, NULL) == 0;
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (t1.tv_sec - t0.tv_sec < 2);
	atomic_store(&race_stop, 1);
	pthread_join(th, NULL);
	tap(ok, "reads into faulting buffers race mmap/munmap of the object: %lu rounds, no deadlock",
	    rounds);
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "race", 0);
	munmap(buf, 16 * PG);
}

int main(int argc, char **argv)
{
	double hammer_s = argc > 1 ? atof(argv[1]) : 5;

	ctl = ckpt_ctl();
	list = calloc(NPAGES, sizeof(uint64_t));
	test_known_set();
	test_hammer(hammer_s);
	test_lifetime();
	test_second_node();
	test_unmounted_node();
	test_held_page(argc > 2 ? argv[2] : NULL);
	test_data();
	test_mmap_race();
	return ckpt_tap_fail ? 1 : 0;
}
