// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM on colo_ckpt objects (include/uapi/linux/colo_ckpt.h): the
 * agent creates them, QEMU maps them, the checkpoint path collects, reads,
 * writes and restores pages with one ioctl each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/colo_ckpt.h>

#include "colod.h"

static int ctl_request(unsigned long req, const char *name, uint64_t size)
{
	struct colo_ckpt_obj_req r = { .size = size };
	int fd, ret = 0;

	snprintf(r.name, sizeof(r.name), "%s", name);
	fd = open(COLO_CKPT_CTL_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, &r))
		ret = -errno;
	close(fd);
	return ret;
}

int ram_create(const char *name, uint64_t size, char *err, size_t errlen)
{
	int ret = ctl_request(COLO_CKPT_CREATE, name, size);

	/*
	 * An object left by an earlier run is replaced (the run directory's lock
	 * says no other colod of this VM is running); a QEMU that still maps the
	 * old one keeps its memory until it exits.
	 */
	if (ret == -EEXIST) {
		ret = ctl_request(COLO_CKPT_DESTROY, name, 0);
		if (!ret)
			ret = ctl_request(COLO_CKPT_CREATE, name, size);
	}
	if (ret)
		snprintf(err, errlen, "RAM object %s of %llu bytes: %s%s", name,
			 (unsigned long long)size, strerror(-ret),
			 ret == -ENOENT ? " (is colo_ckpt.ko loaded?)" : "");
	return ret;
}

void ram_destroy(const char *name)
{
	ctl_request(COLO_CKPT_DESTROY, name, 0);
}

int ram_open(const char *name, char *err, size_t errlen)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", COLO_CKPT_NODE_DIR, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return fd;
}

long ram_collect(int fd, uint64_t *pages, uint64_t max)
{
	struct colo_ckpt_collect c = { .ptr = (uintptr_t)pages, .max = max };

	if (ioctl(fd, COLO_CKPT_COLLECT, &c))
		return -errno;
	return (long)c.count;
}

static int ram_io(int fd, unsigned long req, const uint64_t *pages, uint64_t count, void *buf)
{
	struct colo_ckpt_io io = {
		.set = { .ptr = (uintptr_t)pages, .len = count, .format = COLO_CKPT_SET_LIST },
		.buf = (uintptr_t)buf,
		.buf_len = count * COLOD_PAGE_SIZE,
	};

	if (!count)
		return 0;
	if (ioctl(fd, req, &io))
		return -errno;
	return io.done == count ? 0 : -EIO;
}

int ram_read(int fd, const uint64_t *pages, uint64_t count, void *buf)
{
	return ram_io(fd, COLO_CKPT_READ, pages, count, buf);
}

int ram_write(int fd, const uint64_t *pages, uint64_t count, const void *buf)
{
	return ram_io(fd, COLO_CKPT_WRITE, pages, count, (void *)buf);
}

long ram_restore(int svm_fd, int cache_fd, const uint64_t *pages, uint64_t count)
{
	struct colo_ckpt_restore r = {
		.set = { .ptr = (uintptr_t)pages, .len = count, .format = COLO_CKPT_SET_LIST },
		.src_fd = cache_fd,
		.flags = COLO_CKPT_RESTORE_OWN_DIRTY,
	};

	if (ioctl(svm_fd, COLO_CKPT_RESTORE, &r))
		return -errno;
	return (long)r.done;
}
