/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the colo_ckpt test programs (ckpt_*.c): object
 * creation through /dev/colo_ckpt and the data path ioctls.
 */
#ifndef CKPT_LIB_H
#define CKPT_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/colo_ckpt.h>

#define PG 4096UL

static int ckpt_tap_n, ckpt_tap_fail;

static inline void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static inline void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d - ", ok ? "" : "not ", ++ckpt_tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	if (!ok)
		ckpt_tap_fail++;
}

static inline int ckpt_ctl(void)
{
	int fd = open(COLO_CKPT_CTL_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror(COLO_CKPT_CTL_PATH);
		exit(1);
	}
	return fd;
}

static inline int ckpt_req(int ctl, unsigned long cmd, const char *name, uint64_t size)
{
	struct colo_ckpt_obj_req r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.size = size;
	return ioctl(ctl, cmd, &r) ? -errno : 0;
}

static inline int ckpt_open(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), COLO_CKPT_NODE_DIR "/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Collect into list (room for max); returns count or -errno. */
static inline long ckpt_collect(int fd, uint64_t *list, uint64_t max)
{
	struct colo_ckpt_collect c = { .ptr = (uintptr_t)list, .max = max };

	if (ioctl(fd, COLO_CKPT_COLLECT, &c))
		return -errno;
	return (long)c.count;
}

static inline int ckpt_io(int fd, unsigned long cmd, const uint64_t *list, uint64_t n,
			  void *buf, uint64_t len, uint64_t *done)
{
	struct colo_ckpt_io io = {
		.set = { .ptr = (uintptr_t)list, .len = n, .format = COLO_CKPT_SET_LIST },
		.buf = (uintptr_t)buf, .buf_len = len,
	};
	int ret = ioctl(fd, cmd, &io) ? -errno : 0;

	if (done)
		*done = io.done;
	return ret;
}

static inline int ckpt_restore(int dst, int src, const uint64_t *list, uint64_t n,
			       unsigned int flags, uint64_t *done)
{
	struct colo_ckpt_restore r = {
		.set = { .ptr = (uintptr_t)list, .len = n, .format = COLO_CKPT_SET_LIST },
		.src_fd = src, .flags = flags,
	};
	int ret = ioctl(dst, COLO_CKPT_RESTORE, &r) ? -errno : 0;

	if (done)
		*done = r.done;
	return ret;
}

#endif
