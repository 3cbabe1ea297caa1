// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt data path: the ioctls on an object's node. Each one is a
 * single call over a whole set of pages: collect (take and re-arm the
 * dirty set), read (pages to a buffer or a file descriptor), write (pages
 * from a buffer) and restore (cache object -> this object for the caller's
 * set OR this object's own dirty set). They only touch the pages named,
 * never the whole object.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/timekeeping.h>
#include <linux/sched/signal.h>

#include "ckpt.h"

/* Longest run of pages locked and zapped in one go by a collect. */
#define CKPT_REARM_BATCH 64

/* Temporary copies of caller-sized sets: charged to the caller, no splat. */
#define CKPT_GFP_SET (GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

/*
 * Long page loops yield and stop for fatal signals. A partial transfer is
 * reported in done, so it must not be restarted behind the caller's back.
 */
static int ckpt_page_loop_check(void)
{
	cond_resched();
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * Copies a set from userspace and returns it as an ascending list of page
 * indices (kvfree() it). Bitmaps are converted; lists are validated.
 */
static int ckpt_set_load(const struct colo_ckpt_set *set, u64 npages, u64 **listp, u64 *np)
{
	void __user *uptr = u64_to_user_ptr(set->ptr);
	u64 *list, *bitmap;
	u64 words, n;
	int ret;

	ret = ckpt_set_check(set, npages);
	if (ret)
		return ret;

	if (set->format == COLO_CKPT_SET_LIST) {
		list = kvmalloc_array(max_t(u64, set->len, 1), sizeof(u64), CKPT_GFP_SET);
		if (!list)
			return -ENOMEM;
		if (copy_from_user(list, uptr, set->len * sizeof(u64)))
			ret = -EFAULT;
		else
			ret = ckpt_list_check(list, set->len, npages);
		if (ret) {
			kvfree(list);
			return ret;
		}
		*listp = list;
		*np = set->len;
		return 0;
	}

	words = DIV_ROUND_UP_ULL(set->len, 64);
	bitmap = kvmalloc_array(max_t(u64, words, 1), sizeof(u64), CKPT_GFP_SET);
	if (!bitmap)
		return -ENOMEM;
	if (copy_from_user(bitmap, uptr, words * sizeof(u64)))
		ret = -EFAULT;
	else
		ret = ckpt_bitmap_check(bitmap, set->len, npages);
	if (ret)
		goto out;
	n = ckpt_bitmap_weight(bitmap, set->len);
	list = kvmalloc_array(max_t(u64, n, 1), sizeof(u64), CKPT_GFP_SET);
	if (!list) {
		ret = -ENOMEM;
		goto out;
	}
	*np = ckpt_bitmap_to_list(bitmap, set->len, list);
	*listp = list;
out:
	kvfree(bitmap);
	return ret;
}

/* The current dirty set as a list; the set itself is left alone. */
static int ckpt_snapshot(struct ckpt_obj *obj, u64 **listp, u64 *np)
{
	u64 cap, *list;

	for (;;) {
		spin_lock(&obj->dlock);
		cap = obj->dirty.count + 64;
		spin_unlock(&obj->dlock);

		list = kvmalloc_array(cap, sizeof(u64), CKPT_GFP_SET);
		if (!list)
			return -ENOMEM;

		spin_lock(&obj->dlock);
		if (obj->dirty.count <= cap) {
			*np = ckpt_dset_snapshot(&obj->dirty, list, cap);
			spin_unlock(&obj->dlock);
			*listp = list;
			return 0;
		}
		spin_unlock(&obj->dlock);
		kvfree(list);
	}
}

/*
 * After the zap, with the page locked, the object's own reference is the
 * only one a page should carry. Another one is a writer that took the page
 * through get_user_pages() or pin_user_pages() before the zap (O_DIRECT,
 * io_uring fixed buffers, vhost, RDMA, VFIO) and can go on writing to it
 * without ever faulting again. page_maybe_dma_pinned() alone would only see
 * FOLL_PIN holders, but direct I/O on older kernels takes plain FOLL_GET
 * references; a pin adds GUP_PIN_COUNTING_BIAS to the count, so this test
 * covers both. A transient reference (a GUP-fast lookup that backs off, a
 * fault waiting for the page lock) only costs one spurious report.
 */
static bool ckpt_page_held(struct page *page)
{
	return page_ref_count(page) > 1;
}

/*
 * Re-arms tracking for the pages of list, which were all in the dirty
 * set. For each run of consecutive pages: lock the pages, zap their PTEs
 * (so the next write faults), drop them from the set, unlock. The page
 * lock orders this against ckpt_vm_mkwrite(), which holds it from adding
 * the page to the set until its PTE is writable. A page still held by a
 * kernel writer stays in the set: every collect reports it again until the
 * writer lets go, so its last write is in a collect after it was made.
 */
static void ckpt_rearm(struct ckpt_obj *obj, const u64 *list, u64 n)
{
	struct page *locked[CKPT_REARM_BATCH];
	u64 i = 0, j, k;

	while (i < n) {
		for (j = i + 1; j < n && j - i < CKPT_REARM_BATCH &&
		     list[j] == list[j - 1] + 1; j++)
			;
		for (k = i; k < j; k++) {
			locked[k - i] = ckpt_obj_page(obj, list[k], false);
			if (locked[k - i])
				lock_page(locked[k - i]);
		}
		unmap_mapping_range(obj->inode->i_mapping, (loff_t)list[i] << PAGE_SHIFT,
				    (loff_t)(j - i) << PAGE_SHIFT, 0);
		spin_lock(&obj->dlock);
		for (k = i; k < j; k++) {
			if (locked[k - i] && ckpt_page_held(locked[k - i]))
				atomic64_inc(&obj->stats.held_pages);
			else
				ckpt_dset_del(&obj->dirty, list[k]);
		}
		spin_unlock(&obj->dlock);
		for (k = i; k < j; k++)
			if (locked[k - i])
				unlock_page(locked[k - i]);
		i = j;
		cond_resched();
	}
}

static int ckpt_collect(struct ckpt_obj *obj, struct colo_ckpt_collect __user *uarg)
{
	struct colo_ckpt_collect arg;
	u64 start = ktime_get_ns();
	u64 *list, n;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;

	ret = ckpt_snapshot(obj, &list, &n);
	if (ret)
		return ret;
	/* Nothing is re-armed before the caller holds the list. */
	if (n > arg.max)
		ret = -E2BIG;
	else if (n && copy_to_user(u64_to_user_ptr(arg.ptr), list, n * sizeof(u64)))
		ret = -EFAULT;
	if (!ret) {
		ckpt_rearm(obj, list, n);
		atomic64_inc(&obj->stats.collects);
		atomic64_add(n, &obj->stats.collected_pages);
		atomic64_add(ktime_get_ns() - start, &obj->stats.collect_ns);
	}
	kvfree(list);
	if (ret != -EFAULT && put_user(n, &uarg->count))
		ret = -EFAULT;
	return ret;
}

static int ckpt_write_fd(struct file *file, const void *data, loff_t *pos)
{
	size_t done = 0;
	ssize_t w;

	while (done < PAGE_SIZE) {
		w = kernel_write(file, data + done, PAGE_SIZE - done, pos);
		if (w == -ERESTARTSYS)
			return -EINTR;
		if (w < 0)
			return w;
		if (!w)
			return -EIO;
		done += w;
	}
	return 0;
}

/* Pages of the set to a user buffer or to a file descriptor. */
static int ckpt_read(struct ckpt_obj *obj, const struct colo_ckpt_io *arg, u64 *done)
{
	char __user *buf = u64_to_user_ptr(arg->buf);
	struct file *out = NULL;
	u64 *list, n, i;
	loff_t pos = 0;
	int ret;

	ret = ckpt_set_load(&arg->set, obj->npages, &list, &n);
	if (ret)
		return ret;
	if (arg->flags & COLO_CKPT_IO_FD) {
		out = fget(arg->fd);
		if (!out) {
			ret = -EBADF;
			goto out_list;
		}
		if (!(out->f_mode & FMODE_WRITE)) {
			ret = -EBADF;
			goto out_file;
		}
		pos = out->f_pos;
	} else if (arg->buf_len / PAGE_SIZE < n) {
		ret = -E2BIG;
		goto out_list;
	}

	for (i = 0; i < n && !ret; i++) {
		struct page *page = ckpt_obj_page(obj, list[i], false);
		void *kaddr;

		ret = ckpt_page_loop_check();
		if (ret)
			break;
		kaddr = kmap_local_page(page ? page : ZERO_PAGE(0));

		if (out)
			ret = ckpt_write_fd(out, kaddr, &pos);
		else if (copy_to_user(buf + i * PAGE_SIZE, kaddr, PAGE_SIZE))
			ret = -EFAULT;
		kunmap_local(kaddr);
		if (!ret)
			*done = i + 1;
	}
	if (out && !(out->f_mode & FMODE_STREAM))
		out->f_pos = pos;
out_file:
	if (out)
		fput(out);
out_list:
	kvfree(list);
	return ret;
}

/* Pages from a user buffer into the object; the dirty set is untouched. */
static int ckpt_write(struct ckpt_obj *obj, const struct colo_ckpt_io *arg, u64 *done)
{
	const char __user *buf = u64_to_user_ptr(arg->buf);
	u64 *list, n, i;
	int ret;

	if (arg->flags)
		return -EINVAL;
	ret = ckpt_set_load(&arg->set, obj->npages, &list, &n);
	if (ret)
		return ret;
	if (arg->buf_len / PAGE_SIZE < n)
		ret = -E2BIG;

	for (i = 0; i < n && !ret; i++) {
		struct page *page;
		void *kaddr;

		ret = ckpt_page_loop_check();
		if (ret)
			break;
		page = ckpt_obj_page(obj, list[i], true);
		if (!page) {
			ret = -ENOMEM;
			break;
		}
		kaddr = kmap_local_page(page);
		if (copy_from_user(kaddr, buf + i * PAGE_SIZE, PAGE_SIZE))
			ret = -EFAULT;
		kunmap_local(kaddr);
		if (!ret)
			*done = i + 1;
	}
	kvfree(list);
	return ret;
}

static int ckpt_io(struct ckpt_obj *obj, unsigned int cmd, struct colo_ckpt_io __user *uarg)
{
	struct colo_ckpt_io arg;
	u64 start = ktime_get_ns();
	u64 done = 0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~COLO_CKPT_IO_FD)
		return -EINVAL;
	/*
	 * fd is only read with COLO_CKPT_IO_FD; otherwise it must be 0, like
	 * a reserved field, for READ and WRITE alike: "no descriptor" is the
	 * flag's absence, not a value such as -1.
	 */
	if (!(arg.flags & COLO_CKPT_IO_FD) && arg.fd)
		return -EINVAL;

	if (cmd == COLO_CKPT_READ) {
		ret = ckpt_read(obj, &arg, &done);
		atomic64_add(done, &obj->stats.read_pages);
		atomic64_add(ktime_get_ns() - start, &obj->stats.read_ns);
	} else {
		ret = ckpt_write(obj, &arg, &done);
		atomic64_add(done, &obj->stats.written_pages);
		atomic64_add(ktime_get_ns() - start, &obj->stats.write_ns);
	}
	if (put_user(done, &uarg->done))
		return -EFAULT;
	return ret;
}

static int ckpt_copy_pages(struct ckpt_obj *dst, struct ckpt_obj *src, const u64 *list, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		struct page *d = ckpt_obj_page(dst, list[i], true);
		struct page *s = ckpt_obj_page(src, list[i], false);

		if (!d)
			return -ENOMEM;
		cond_resched();
		if (s)
			copy_highpage(d, s);
		else
			clear_highpage(d);
	}
	return 0;
}

/* Called with dst->mutex held; takes src's in address order. */
static int ckpt_restore(struct ckpt_obj *dst, struct colo_ckpt_restore __user *uarg)
{
	u64 *given = NULL, *own = NULL, *all = NULL;
	u64 ngiven = 0, nown = 0, nall = 0;
	u64 start = ktime_get_ns();
	struct colo_ckpt_restore arg;
	struct ckpt_obj *src;
	struct fd f;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~COLO_CKPT_RESTORE_OWN_DIRTY)
		return -EINVAL;
	f = fdget(arg.src_fd);
	if (!f.file)
		return -EBADF;
	if (f.file->f_op != &ckpt_obj_fops) {
		ret = -EINVAL;
		goto out_fd;
	}
	src = f.file->private_data;
	if (src == dst) {
		ret = -EINVAL;
		goto out_fd;
	}
	/* dst->mutex is held: order the pair by address for lockdep/ABBA. */
	if (src < dst) {
		mutex_unlock(&dst->mutex);
		mutex_lock(&src->mutex);
		mutex_lock_nested(&dst->mutex, SINGLE_DEPTH_NESTING);
	} else {
		mutex_lock_nested(&src->mutex, SINGLE_DEPTH_NESTING);
	}
	if (src->dead || dst->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (src->npages != dst->npages) {
		ret = -EINVAL;
		goto out_unlock;
	}

	ret = ckpt_set_load(&arg.set, dst->npages, &given, &ngiven);
	if (ret)
		goto out_unlock;
	if (arg.flags & COLO_CKPT_RESTORE_OWN_DIRTY) {
		ret = ckpt_snapshot(dst, &own, &nown);
		if (ret)
			goto out_free;
	}
	all = kvmalloc_array(ngiven + nown + 1, sizeof(u64), CKPT_GFP_SET);
	if (!all) {
		ret = -ENOMEM;
		goto out_free;
	}
	nall = ckpt_list_union(given, ngiven, own, nown, all);
	ret = ckpt_copy_pages(dst, src, all, nall);
	if (ret)
		goto out_free;
	/* The SVM continues from the checkpoint: its own dirty set restarts. */
	ckpt_rearm(dst, own, nown);
	atomic64_add(nall, &dst->stats.restored_pages);
	atomic64_add(ktime_get_ns() - start, &dst->stats.restore_ns);
	if (put_user(nall, &uarg->done))
		ret = -EFAULT;
out_free:
	kvfree(all);
	kvfree(own);
	kvfree(given);
out_unlock:
	mutex_unlock(&src->mutex);
out_fd:
	fdput(f);
	return ret;
}

long ckpt_obj_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ckpt_obj *obj = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct colo_ckpt_obj_info info;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	mutex_lock(&obj->mutex);
	if (obj->dead) {
		ret = -ENODEV;
		goto out;
	}
	switch (cmd) {
	case COLO_CKPT_INFO:
		ckpt_obj_fill_info(obj, &info);
		ret = copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
		break;
	case COLO_CKPT_COLLECT:
		ret = ckpt_collect(obj, uarg);
		break;
	case COLO_CKPT_READ:
	case COLO_CKPT_WRITE:
		ret = ckpt_io(obj, cmd, uarg);
		break;
	case COLO_CKPT_RESTORE:
		ret = ckpt_restore(obj, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
out:
	mutex_unlock(&obj->mutex);
	return ret;
}
