/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colo_ckpt internal interfaces between the module's files.
 */
#ifndef COLO_CKPT_H
#define COLO_CKPT_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>

#include "core.h"

/* Statistics of one object, exported under /sys/class/colo_ckpt/<name>/. */
struct ckpt_stats {
	atomic64_t write_faults;	/* first writes caught */
	atomic64_t collects;
	atomic64_t collected_pages;
	atomic64_t held_pages;		/* kept dirty: a kernel writer held them */
	atomic64_t collect_ns;
	atomic64_t read_pages;
	atomic64_t read_ns;
	atomic64_t written_pages;
	atomic64_t write_ns;
	atomic64_t restored_pages;
	atomic64_t restore_ns;
};

struct ckpt_obj {
	struct device dev;		/* refcount and lifetime of the object */
	struct cdev cdev;
	struct list_head node;		/* in ckpt_objects, under ckpt_lock */
	char name[COLO_CKPT_NAME_MAX];

	/*
	 * Serializes the ioctls of the object and resize. mmap cannot take it
	 * (it runs under mmap_lock, which the ioctls' user copies take inside
	 * the mutex): it checks the size and counts the new VMA under dlock,
	 * where resize claims the object by setting resizing. The fault path
	 * takes neither: while a VMA exists the size cannot change.
	 */
	struct mutex mutex;
	u64 npages;
	struct page **pages;		/* allocated on first touch */
	atomic64_t resident;
	atomic_t mappings;		/* live VMAs */
	bool resizing;			/* under dlock */
	bool dead;			/* destroyed, waiting for last close */

	/*
	 * All files of the object share the address_space of this private
	 * inode, so write-protecting a page reaches every VMA whatever node
	 * it was opened through. It lives on the module's internal mount:
	 * the inode of a node the object was opened through may sit on a
	 * filesystem (a container's /dev) that is unmounted while the object
	 * lives, so the object must not hold it.
	 */
	struct inode *inode;

	spinlock_t dlock;		/* protects dirty, resizing */
	struct ckpt_dset dirty;

	struct ckpt_stats stats;
};

extern struct class ckpt_class;
extern dev_t ckpt_devt;
extern struct mutex ckpt_lock;
extern struct list_head ckpt_objects;
extern unsigned long ckpt_max_bytes;
extern atomic64_t ckpt_committed;
extern struct vfsmount *ckpt_mnt;

#define CKPT_MAX_OBJECTS 256

/* obj.c */
int ckpt_obj_create(const struct colo_ckpt_obj_req *req);
int ckpt_obj_destroy(const struct colo_ckpt_obj_req *req);
int ckpt_obj_resize(const struct colo_ckpt_obj_req *req);
void ckpt_obj_destroy_all(void);
void ckpt_obj_fill_info(struct ckpt_obj *obj, struct colo_ckpt_obj_info *info);
struct page *ckpt_obj_page(struct ckpt_obj *obj, u64 idx, bool alloc);
extern const struct attribute_group *ckpt_obj_groups[];
extern const struct file_operations ckpt_obj_fops;

/* data.c */
long ckpt_obj_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

#endif
