// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt bad input: every malformed request fails with its documented
 * errno and changes nothing (the object's size, dirty set and contents are
 * checked afterwards). Prints TAP; run by ckpt_badinput.sh.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "ckpt_lib.h"

#define NP 64UL

static int ctl;

#define EXPECT(call, err, what)						\
	do {								\
		int __r = (call);					\
		tap(__r == -(err), "%s: %s (got %s)", what, strerror(err),	\
		    __r ? strerror(-__r) : "success");			\
	} while (0)

static int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int io_set(int fd, unsigned long cmd, uint64_t ptr, uint64_t len, uint32_t format,
		  uint32_t reserved, void *buf, uint64_t buf_len, uint32_t flags)
{
	struct colo_ckpt_io io = {
		.set = { .ptr = ptr, .len = len, .format = format, .reserved = reserved },
		.buf = (uintptr_t)buf, .buf_len = buf_len, .flags = flags,
	};

	return raw_ioctl(fd, cmd, &io);
}

static void test_ctl(void)
{
	struct colo_ckpt_obj_req r;
	char name[64];

	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "zero", 0), EINVAL, "create with size 0");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "odd", PG + 1), EINVAL, "create with unaligned size");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "huge", 1ULL << 50), E2BIG,
	       "create larger than the per-object maximum");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "limit", 1ULL << 39), ENOSPC,
	       "create beyond max_bytes");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "", PG), EINVAL, "create with an empty name");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "a/b", PG), EINVAL, "create with '/' in the name");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "..", PG), EINVAL, "create named '..'");
	memset(&r, 'x', sizeof(r.name));
	r.size = PG;
	EXPECT(raw_ioctl(ctl, COLO_CKPT_CREATE, &r), EINVAL, "create with an unterminated name");
	memset(&r, 0, sizeof(r));
	strcpy(r.name, "ok");
	r.name[10] = 'x';
	r.size = PG;
	EXPECT(raw_ioctl(ctl, COLO_CKPT_CREATE, &r), EINVAL, "create with bytes after the name's NUL");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "bad", NP * PG), 0, "create a 64-page object");
	EXPECT(ckpt_req(ctl, COLO_CKPT_CREATE, "bad", NP * PG), EEXIST, "create a duplicate");
	EXPECT(ckpt_req(ctl, COLO_CKPT_DESTROY, "nope", 0), ENOENT, "destroy an unknown object");
	EXPECT(ckpt_req(ctl, COLO_CKPT_DESTROY, "bad", PG), EINVAL, "destroy with a size");
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "nope", PG), ENOENT, "resize an unknown object");
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "bad", 3), EINVAL, "resize to an unaligned size");
	EXPECT(raw_ioctl(ctl, _IO(COLO_CKPT_IOC_MAGIC, 99), NULL), ENOTTY, "unknown ioctl");
	EXPECT(raw_ioctl(ctl, COLO_CKPT_CREATE, (void *)16), EFAULT, "create with a bad pointer");
	snprintf(name, sizeof(name), COLO_CKPT_NODE_DIR "/bad");
	tap(access(name, F_OK) == 0, "the object node exists");
}

static void test_obj(void)
{
	uint64_t list[NP + 2], bm[2] = { 0, 0 }, done;
	char *buf = malloc((NP + 1) * PG), *map;
	struct colo_ckpt_obj_info info;
	int fd = ckpt_open("bad"), other, pid, st;
	long n;

	map = mmap(NULL, NP * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	map[2 * PG] = 1;
	map[9 * PG] = 1;

	list[0] = 1;
	list[1] = NP;
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, NP * PG, 0), ERANGE,
	       "read a list with an index beyond the object");
	list[0] = 5;
	list[1] = 5;
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, NP * PG, 0), EINVAL,
	       "read a list with a duplicate");
	list[0] = 6;
	list[1] = 5;
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, NP * PG, 0), EINVAL,
	       "read a descending list");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, NP + 1, 0, 0, buf, NP * PG, 0), E2BIG,
	       "read a list longer than the object");
	list[0] = 1;
	list[1] = 2;
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, PG, 0), E2BIG,
	       "read 2 pages into a 1-page buffer");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, 2 * PG - 1, 0), E2BIG,
	       "read 2 pages into a buffer one byte short");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 7, 0, buf, 2 * PG, 0), EINVAL,
	       "unknown set format");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 1, buf, 2 * PG, 0), EINVAL,
	       "non-zero reserved field");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, buf, 2 * PG, 0x80), EINVAL,
	       "unknown io flag");
	EXPECT(io_set(fd, COLO_CKPT_READ, 16, 2, 0, 0, buf, 2 * PG, 0), EFAULT,
	       "set at a bad address");
	EXPECT(io_set(fd, COLO_CKPT_READ, (uintptr_t)list, 2, 0, 0, (void *)4096, 2 * PG, 0), EFAULT,
	       "read into a bad buffer");
	{
		struct colo_ckpt_io io = {
			.set = { .ptr = (uintptr_t)list, .len = 2 },
			.fd = 12345, .flags = COLO_CKPT_IO_FD,
		};
		EXPECT(raw_ioctl(fd, COLO_CKPT_READ, &io), EBADF, "read into a closed fd");
		io.fd = open("/dev/null", O_RDONLY);
		EXPECT(raw_ioctl(fd, COLO_CKPT_READ, &io), EBADF, "read into a read-only fd");
		close(io.fd);
		io.flags = 0;
		io.buf = (uintptr_t)buf;
		io.buf_len = 2 * PG;
		io.fd = -1;
		EXPECT(raw_ioctl(fd, COLO_CKPT_READ, &io), EINVAL,
		       "read into a buffer with fd -1 (fd must be 0 without the fd flag)");
		EXPECT(raw_ioctl(fd, COLO_CKPT_WRITE, &io), EINVAL,
		       "write with fd -1 (fd must be 0 without the fd flag)");
		io.fd = 0;
		EXPECT(raw_ioctl(fd, COLO_CKPT_READ, &io), 0, "read into a buffer with fd 0");
		EXPECT(raw_ioctl(fd, COLO_CKPT_WRITE, &io), 0, "write from a buffer with fd 0");
	}

	EXPECT(io_set(fd, COLO_CKPT_WRITE, (uintptr_t)bm, NP + 1, COLO_CKPT_SET_BITMAP, 0, buf,
		      NP * PG, 0), ERANGE, "bitmap longer than the object");
	bm[0] = 1ULL << 40;
	EXPECT(io_set(fd, COLO_CKPT_WRITE, (uintptr_t)bm, 40, COLO_CKPT_SET_BITMAP, 0, buf,
		      NP * PG, 0), EINVAL, "bitmap with bits set beyond its length");
	bm[0] = 0xff;
	EXPECT(io_set(fd, COLO_CKPT_WRITE, (uintptr_t)bm, 64, COLO_CKPT_SET_BITMAP, 0, buf,
		      7 * PG, 0), E2BIG, "write 8 pages from a 7-page buffer");
	EXPECT(io_set(fd, COLO_CKPT_WRITE, (uintptr_t)bm, 64, COLO_CKPT_SET_BITMAP, 0, buf,
		      8 * PG, COLO_CKPT_IO_FD), EINVAL, "write with the fd flag");

	{
		struct colo_ckpt_collect c = { .ptr = (uintptr_t)list, .max = NP, .flags = 1 };

		EXPECT(raw_ioctl(fd, COLO_CKPT_COLLECT, &c), EINVAL, "collect with a flag");
		c.flags = 0;
		c.ptr = 16;
		EXPECT(raw_ioctl(fd, COLO_CKPT_COLLECT, &c), EFAULT, "collect into a bad address");
		ioctl(fd, COLO_CKPT_INFO, &info);
		tap(info.dirty_pages == 2, "the failed collect kept the dirty set (%llu pages)",
		    (unsigned long long)info.dirty_pages);
	}

	other = open("/dev/null", O_RDWR);
	EXPECT(ckpt_restore(fd, other, list, 0, 0, NULL), EINVAL, "restore from a non-object fd");
	EXPECT(ckpt_restore(fd, fd, list, 0, 0, NULL), EINVAL, "restore from itself");
	EXPECT(ckpt_restore(fd, 999, list, 0, 0, NULL), EBADF, "restore from a closed fd");
	close(other);
	ckpt_req(ctl, COLO_CKPT_CREATE, "small", 8 * PG);
	other = ckpt_open("small");
	EXPECT(ckpt_restore(fd, other, list, 0, 0, NULL), EINVAL,
	       "restore between objects of different sizes");
	EXPECT(ckpt_restore(fd, other, list, 0, 4, NULL), EINVAL, "restore with an unknown flag");

	tap(mmap(NULL, NP * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
	    errno == EINVAL, "private mapping refused: EINVAL");
	tap(mmap(NULL, (NP + 1) * PG, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
	    errno == EINVAL, "mapping beyond the end refused: EINVAL");
	tap(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, NP * PG) == MAP_FAILED &&
	    errno == EINVAL, "mapping at an offset past the end refused: EINVAL");
	tap(mremap(map, NP * PG, 2 * NP * PG, MREMAP_MAYMOVE) == MAP_FAILED,
	    "growing the mapping with mremap refused");
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "bad", 2 * NP * PG), EBUSY, "resize while mapped");
	tap(lseek(fd, 0, SEEK_END) == (off_t)(NP * PG), "lseek(SEEK_END) reports the size");

	/* Without CAP_SYS_ADMIN every ioctl is refused, on both devices. */
	pid = fork();
	if (!pid) {
		struct colo_ckpt_collect c = { .ptr = (uintptr_t)list, .max = NP };

		if (setresuid(65534, 65534, 65534))
			_exit(3);
		_exit(ioctl(fd, COLO_CKPT_COLLECT, &c) == -1 && errno == EPERM &&
		      ckpt_req(ctl, COLO_CKPT_DESTROY, "bad", 0) == -EPERM ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged caller: EPERM on both devices");

	/* Nothing above changed the object. */
	ioctl(fd, COLO_CKPT_INFO, &info);
	n = ckpt_collect(fd, list, NP);
	tap(info.size == NP * PG && n == 2 && list[0] == 2 && list[1] == 9 && map[2 * PG] == 1,
	    "after all that: size, dirty set {2, 9} and contents unchanged (%ld dirty)", n);
	done = 0;
	EXPECT(ckpt_io(fd, COLO_CKPT_READ, list, 0, NULL, 0, &done), 0, "an empty set is fine");

	close(other);
	munmap(map, NP * PG);
	close(fd);
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "bad", 2 * NP * PG), 0, "resize once unmapped");
	fd = ckpt_open("bad");
	tap(lseek(fd, 0, SEEK_END) == (off_t)(2 * NP * PG), "resized object reports its new size");
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "small", 0);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "bad", 0);
	free(buf);
}

/*
 * Shrinking discards the pages above the new size, with their contents and
 * dirty bits; growing again brings zero pages there, not the old data.
 */
static void test_shrink(void)
{
	uint64_t list[2] = { 3, 100 }, resident;
	struct colo_ckpt_obj_info info;
	char *buf = malloc(2 * PG), *map;
	int fd;

	ckpt_req(ctl, COLO_CKPT_CREATE, "shrink", 2 * NP * PG);
	fd = ckpt_open("shrink");
	map = mmap(NULL, 2 * NP * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	map[3 * PG] = 7;
	map[100 * PG] = 7;
	munmap(map, 2 * NP * PG);
	ioctl(fd, COLO_CKPT_INFO, &info);
	resident = info.resident_pages;
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "shrink", NP * PG), 0, "shrink 128 to 64 pages");
	ioctl(fd, COLO_CKPT_INFO, &info);
	tap(info.dirty_pages == 1 && info.resident_pages == resident - 1,
	    "shrinking dropped page 100: dirty 2 -> %llu, resident %llu -> %llu",
	    (unsigned long long)info.dirty_pages, (unsigned long long)resident,
	    (unsigned long long)info.resident_pages);
	EXPECT(ckpt_req(ctl, COLO_CKPT_RESIZE, "shrink", 2 * NP * PG), 0, "grow back to 128 pages");
	memset(buf, 0xff, 2 * PG);
	EXPECT(ckpt_io(fd, COLO_CKPT_READ, list, 2, buf, 2 * PG, NULL), 0, "read pages 3 and 100");
	tap(buf[0] == 7 && buf[PG] == 0 && buf[2 * PG - 1] == 0,
	    "page 3 kept its data, page 100 came back as zeroes");
	tap(ckpt_collect(fd, list, 2) == 1 && list[0] == 3, "dirty set after growing: {3}");
	close(fd);
	ckpt_req(ctl, COLO_CKPT_DESTROY, "shrink", 0);
	free(buf);
}

/* Maps NAME, dirties page 0, closes the fd and holds the mapping until stdin closes. */
static int hold(const char *name)
{
	int fd = ckpt_open(name);
	char *map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char c;

	if (map == MAP_FAILED)
		return 1;
	close(fd);
	map[0] = 1;
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	munmap(map, PG);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	ctl = ckpt_ctl();
	test_ctl();
	test_obj();
	test_shrink();
	return ckpt_tap_fail ? 1 : 0;
}
