/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * colo_ckpt: dirty-tracked guest RAM objects, the contract between
 * colo_ckpt.ko and its users (coloctl ram, the COLO agent).
 *
 * /dev/colo_ckpt is the control device (root only). It creates, lists,
 * resizes and destroys named objects. Every object gets its own character
 * device, /dev/colo_ram/<name>, which QEMU maps as guest RAM:
 *
 *   -object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/<name>,
 *           share=on,size=<object size>
 *
 * The object node also takes the data path ioctls below (collect, read,
 * write, restore). All page indices are in units of the kernel page size
 * (4 KiB on x86). Sets of pages are passed either as a strictly ascending
 * list of __u64 page indices or as a bitmap of __u64 words (bit i of word
 * w is page w * 64 + i).
 *
 * Errors common to all ioctls:
 *   EPERM   caller lacks CAP_SYS_ADMIN
 *   EINVAL  malformed argument: bad name, size 0 or not page aligned,
 *           unknown flag or format, non-zero reserved field, list not
 *           strictly ascending, bits set beyond a bitmap's length,
 *           objects of different sizes in a restore
 *   ERANGE  page index or bitmap length beyond the object
 *   E2BIG   a set longer than the object, a buffer too small for the set
 *           (collect and list report the needed count)
 *   ENOSPC  the module-wide limit (parameter max_bytes) would be exceeded
 *   EEXIST  an object of that name exists; ENOENT: no such object
 *   EBUSY   resize while the object is mapped
 *   ENODEV  the object was destroyed (its node fd and mappings stay usable
 *           for memory access until closed, data path ioctls fail)
 */
#ifndef _UAPI_LINUX_COLO_CKPT_H
#define _UAPI_LINUX_COLO_CKPT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define COLO_CKPT_CTL_PATH "/dev/colo_ckpt"
#define COLO_CKPT_NODE_DIR "/dev/colo_ram"

/* Object names: 1..31 of [A-Za-z0-9_.-], not starting with '.'. */
#define COLO_CKPT_NAME_MAX 32

/* Create / destroy / resize: name and size in bytes (destroy ignores size
 * and requires it to be 0). Shrinking frees the pages above the new size
 * with their contents and dirty bits; growing again brings zero pages.
 */
struct colo_ckpt_obj_req {
	char name[COLO_CKPT_NAME_MAX];
	__u64 size;
};

/* One object as reported by COLO_CKPT_LIST and COLO_CKPT_INFO. */
struct colo_ckpt_obj_info {
	char name[COLO_CKPT_NAME_MAX];
	__u64 size;		/* bytes */
	__u64 dirty_pages;	/* pages written since their last collect */
	__u64 resident_pages;	/* pages allocated so far */
	__u32 mappings;		/* live VMAs mapping the object */
	__u32 reserved;
};

/* COLO_CKPT_LIST: fills up to max entries at ptr, sets count to the number
 * of objects. E2BIG (count set) when max is too small.
 */
struct colo_ckpt_list {
	__u64 ptr;		/* struct colo_ckpt_obj_info[max] */
	__u32 max;
	__u32 count;
};

enum colo_ckpt_set_format {
	COLO_CKPT_SET_LIST = 0,		/* len __u64 page indices, ascending */
	COLO_CKPT_SET_BITMAP = 1,	/* len bits, (len + 63) / 64 words */
};

struct colo_ckpt_set {
	__u64 ptr;
	__u64 len;
	__u32 format;		/* enum colo_ckpt_set_format */
	__u32 reserved;		/* must be 0 */
};

/* COLO_CKPT_COLLECT: atomically takes the object's dirty set and
 * write-protects exactly those pages again, so the next write to any of
 * them is recorded for the next collect. Writes ascending page indices to
 * ptr and their number to count. If more than max pages are dirty, fails
 * with E2BIG, sets count to the number needed and changes nothing. If ptr
 * is not writable, fails with EFAULT and keeps the dirty set.
 */
struct colo_ckpt_collect {
	__u64 ptr;		/* __u64[max] */
	__u64 max;
	__u64 count;		/* out */
	__u64 flags;		/* must be 0 */
};

/* Flags of struct colo_ckpt_io. */
#define COLO_CKPT_IO_FD		(1U << 0)	/* read into fd instead of buf */

/* COLO_CKPT_READ: copies the pages of set, in set order, to buf (buf_len
 * at least pages * page size) or, with COLO_CKPT_IO_FD, writes them to fd
 * (a pipe, socket or file). COLO_CKPT_WRITE: copies pages from buf into
 * the object; it takes no flags. Neither changes the dirty set. done =
 * pages transferred. fd is only read with COLO_CKPT_IO_FD; otherwise it
 * must be 0 (EINVAL, also for -1), for READ and WRITE alike.
 */
struct colo_ckpt_io {
	struct colo_ckpt_set set;
	__u64 buf;
	__u64 buf_len;
	__s32 fd;
	__u32 flags;
	__u64 done;		/* out */
};

/* Flags of struct colo_ckpt_restore. */
#define COLO_CKPT_RESTORE_OWN_DIRTY	(1U << 0)

/* COLO_CKPT_RESTORE, on the destination (SVM) object: copies from the
 * object open on src_fd (the RAM cache, same size) every page in set and,
 * with COLO_CKPT_RESTORE_OWN_DIRTY, every page of the destination's own
 * dirty set, which is collected (re-armed) in the same call. done = pages
 * copied (the union, each page once).
 */
struct colo_ckpt_restore {
	struct colo_ckpt_set set;
	__s32 src_fd;
	__u32 flags;
	__u64 done;		/* out */
};

#define COLO_CKPT_IOC_MAGIC 0xC7

/* On /dev/colo_ckpt */
#define COLO_CKPT_CREATE	_IOW(COLO_CKPT_IOC_MAGIC, 1, struct colo_ckpt_obj_req)
#define COLO_CKPT_DESTROY	_IOW(COLO_CKPT_IOC_MAGIC, 2, struct colo_ckpt_obj_req)
#define COLO_CKPT_RESIZE	_IOW(COLO_CKPT_IOC_MAGIC, 3, struct colo_ckpt_obj_req)
#define COLO_CKPT_LIST		_IOWR(COLO_CKPT_IOC_MAGIC, 4, struct colo_ckpt_list)

/* On /dev/colo_ram/<name> */
#define COLO_CKPT_INFO		_IOR(COLO_CKPT_IOC_MAGIC, 16, struct colo_ckpt_obj_info)
#define COLO_CKPT_COLLECT	_IOWR(COLO_CKPT_IOC_MAGIC, 17, struct colo_ckpt_collect)
#define COLO_CKPT_READ		_IOWR(COLO_CKPT_IOC_MAGIC, 18, struct colo_ckpt_io)
#define COLO_CKPT_WRITE		_IOWR(COLO_CKPT_IOC_MAGIC, 19, struct colo_ckpt_io)
#define COLO_CKPT_RESTORE	_IOWR(COLO_CKPT_IOC_MAGIC, 20, struct colo_ckpt_restore)

#endif /* _UAPI_LINUX_COLO_CKPT_H */
