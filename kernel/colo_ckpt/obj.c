// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt objects: lifetime, the object device node, its mapping and the
 * write-fault path that feeds the dirty set.
 *
 * Tracking works on the host page tables. A page is mapped read-only until
 * its first write, which goes through ->page_mkwrite: the page is added to
 * the dirty set with the page lock held, and the kernel makes the PTE
 * writable before that lock is dropped. Collect (data.c) re-arms a page by
 * zapping its PTEs with the page lock held and only then removing it from
 * the set, so a write racing with the collect either lands before the zap
 * (the page is reported now) or faults again after it (reported next).
 * Zapping goes through the MMU notifiers, so KVM drops its shadow/EPT
 * entries too and its next write to the page faults into the same path.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/idr.h>
#include <linux/mount.h>
#include <linux/capability.h>

#include "ckpt.h"

/*
 * 512 GiB of 4 KiB pages: keeps the page pointer array and any page list
 * (8 bytes a page) below kvmalloc's INT_MAX bound.
 */
#define CKPT_MAX_PAGES (1ULL << 27)

static DEFINE_IDA(ckpt_minors);

struct page *ckpt_obj_page(struct ckpt_obj *obj, u64 idx, bool alloc)
{
	struct page *page = READ_ONCE(obj->pages[idx]);
	struct page *old;

	if (page || !alloc)
		return page;
	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	if (!page)
		return NULL;
	old = cmpxchg(&obj->pages[idx], NULL, page);
	if (old) {
		__free_page(page);
		return old;
	}
	atomic64_inc(&obj->resident);
	return page;
}

static vm_fault_t ckpt_vm_fault(struct vm_fault *vmf)
{
	struct ckpt_obj *obj = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= obj->npages)
		return VM_FAULT_SIGBUS;
	page = ckpt_obj_page(obj, vmf->pgoff, true);
	if (!page)
		return VM_FAULT_OOM;
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * First write since the page was (re-)armed. Returning with the page
 * locked keeps collect from zapping the PTE between this point and the
 * moment the fault code makes it writable.
 */
static vm_fault_t ckpt_vm_mkwrite(struct vm_fault *vmf)
{
	struct ckpt_obj *obj = vmf->vma->vm_private_data;

	lock_page(vmf->page);
	spin_lock(&obj->dlock);
	if (ckpt_dset_add(&obj->dirty, vmf->pgoff))
		atomic64_inc(&obj->stats.write_faults);
	spin_unlock(&obj->dlock);
	return VM_FAULT_LOCKED;
}

static void ckpt_vm_open(struct vm_area_struct *vma)
{
	struct ckpt_obj *obj = vma->vm_private_data;

	atomic_inc(&obj->mappings);
}

static void ckpt_vm_close(struct vm_area_struct *vma)
{
	struct ckpt_obj *obj = vma->vm_private_data;

	atomic_dec(&obj->mappings);
}

static const struct vm_operations_struct ckpt_vm_ops = {
	.open = ckpt_vm_open,
	.close = ckpt_vm_close,
	.fault = ckpt_vm_fault,
	.page_mkwrite = ckpt_vm_mkwrite,
};

static int ckpt_obj_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ckpt_obj *obj = file->private_data;
	int ret = 0;

	/* A private mapping would write to anonymous copies nobody tracks. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	spin_lock(&obj->dlock);
	if (READ_ONCE(obj->dead)) {
		ret = -ENODEV;
	} else if (obj->resizing) {
		ret = -EBUSY;
	} else if (vma->vm_pgoff >= obj->npages ||
		   vma_pages(vma) > obj->npages - vma->vm_pgoff) {
		ret = -EINVAL;
	} else {
		vma->vm_flags |= VM_DONTEXPAND;
		vma->vm_ops = &ckpt_vm_ops;
		vma->vm_private_data = obj;
		atomic_inc(&obj->mappings);
	}
	spin_unlock(&obj->dlock);
	return ret;
}

/*
 * The open file pins the cdev and through it the object (its parent
 * device), so private_data needs no reference of its own.
 */
static int ckpt_obj_open(struct inode *inode, struct file *file)
{
	struct ckpt_obj *obj = container_of(inode->i_cdev, struct ckpt_obj, cdev);
	int ret = 0;

	mutex_lock(&obj->mutex);
	if (obj->dead) {
		ret = -ENODEV;
	} else {
		file->f_mapping = obj->inode->i_mapping;
		file->private_data = obj;
	}
	mutex_unlock(&obj->mutex);
	return ret;
}

/* QEMU compares the size found by lseek(SEEK_END) with its size= option. */
static loff_t ckpt_obj_llseek(struct file *file, loff_t offset, int whence)
{
	struct ckpt_obj *obj = file->private_data;

	return fixed_size_llseek(file, offset, whence,
				 (loff_t)READ_ONCE(obj->npages) << PAGE_SHIFT);
}

const struct file_operations ckpt_obj_fops = {
	.owner = THIS_MODULE,
	.open = ckpt_obj_open,
	.mmap = ckpt_obj_mmap,
	.llseek = ckpt_obj_llseek,
	.unlocked_ioctl = ckpt_obj_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void ckpt_obj_free_pages(struct page **pages, u64 from, u64 to)
{
	u64 i;

	for (i = from; i < to; i++) {
		if (pages[i])
			put_page(pages[i]);
		if (!(i % 4096))
			cond_resched();
	}
}

static void ckpt_obj_release(struct device *dev)
{
	struct ckpt_obj *obj = container_of(dev, struct ckpt_obj, dev);

	if (obj->pages)
		ckpt_obj_free_pages(obj->pages, 0, obj->npages);
	kvfree(obj->pages);
	kvfree(obj->dirty.bits);
	kvfree(obj->dirty.summary);
	iput(obj->inode);
	ida_free(&ckpt_minors, MINOR(dev->devt));
	atomic64_sub(obj->npages << PAGE_SHIFT, &ckpt_committed);
	kfree(obj);
}

/* Page array and dirty set storage for npages pages. */
static int ckpt_obj_alloc_storage(u64 npages, struct page ***pages, u64 **bits, u64 **summary)
{
	*pages = kvcalloc(npages, sizeof(**pages), GFP_KERNEL | __GFP_NOWARN);
	*bits = kvcalloc(ckpt_dset_bits_words(npages), sizeof(u64), GFP_KERNEL | __GFP_NOWARN);
	*summary = kvcalloc(ckpt_dset_summary_words(npages), sizeof(u64),
			    GFP_KERNEL | __GFP_NOWARN);
	if (*pages && *bits && *summary)
		return 0;
	kvfree(*pages);
	kvfree(*bits);
	kvfree(*summary);
	return -ENOMEM;
}

static struct ckpt_obj *ckpt_obj_find(const char *name)
{
	struct ckpt_obj *obj;

	lockdep_assert_held(&ckpt_lock);
	list_for_each_entry(obj, &ckpt_objects, node)
		if (!strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* Under ckpt_lock: charges size against max_bytes or fails with ENOSPC. */
static int ckpt_charge(u64 old_bytes, u64 new_bytes)
{
	u64 committed = atomic64_read(&ckpt_committed);

	lockdep_assert_held(&ckpt_lock);
	if (new_bytes > old_bytes &&
	    committed - old_bytes + new_bytes > READ_ONCE(ckpt_max_bytes))
		return -ENOSPC;
	atomic64_add(new_bytes - old_bytes, &ckpt_committed);
	return 0;
}

/* The name and size of a create or resize request; the size in pages. */
static int ckpt_req_pages(const struct colo_ckpt_obj_req *req, u64 *npages)
{
	int ret = ckpt_name_check(req->name);

	if (!ret)
		ret = ckpt_size_check(req->size, PAGE_SIZE, CKPT_MAX_PAGES);
	if (!ret)
		*npages = req->size >> PAGE_SHIFT;
	return ret;
}

int ckpt_obj_create(const struct colo_ckpt_obj_req *req)
{
	struct ckpt_obj *obj;
	struct page **pages;
	u64 *bits, *summary;
	u64 npages;
	int minor, ret;

	ret = ckpt_req_pages(req, &npages);
	if (ret)
		return ret;

	mutex_lock(&ckpt_lock);
	if (ckpt_obj_find(req->name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	ret = ckpt_charge(0, req->size);
	if (ret)
		goto out_unlock;
	minor = ida_alloc_max(&ckpt_minors, CKPT_MAX_OBJECTS - 1, GFP_KERNEL);
	if (minor < 0) {
		ret = minor;
		goto out_uncharge;
	}
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj) {
		ret = -ENOMEM;
		goto out_minor;
	}
	obj->inode = alloc_anon_inode(ckpt_mnt->mnt_sb);
	if (IS_ERR(obj->inode)) {
		ret = PTR_ERR(obj->inode);
		goto out_free;
	}
	ret = ckpt_obj_alloc_storage(npages, &pages, &bits, &summary);
	if (ret)
		goto out_inode;

	memcpy(obj->name, req->name, sizeof(obj->name));
	mutex_init(&obj->mutex);
	spin_lock_init(&obj->dlock);
	obj->npages = npages;
	obj->pages = pages;
	ckpt_dset_init(&obj->dirty, bits, summary, npages);

	/* From here the device's release undoes everything above. */
	device_initialize(&obj->dev);
	obj->dev.class = &ckpt_class;
	obj->dev.devt = MKDEV(MAJOR(ckpt_devt), minor);
	obj->dev.release = ckpt_obj_release;
	cdev_init(&obj->cdev, &ckpt_obj_fops);
	obj->cdev.owner = THIS_MODULE;
	ret = dev_set_name(&obj->dev, "%s", obj->name);
	if (!ret)
		ret = cdev_device_add(&obj->cdev, &obj->dev);
	if (ret) {
		put_device(&obj->dev);
		goto out_unlock;
	}
	list_add_tail(&obj->node, &ckpt_objects);
	mutex_unlock(&ckpt_lock);
	return 0;

out_inode:
	iput(obj->inode);
out_free:
	kfree(obj);
out_minor:
	ida_free(&ckpt_minors, minor);
out_uncharge:
	atomic64_sub(req->size, &ckpt_committed);
out_unlock:
	mutex_unlock(&ckpt_lock);
	return ret;
}

/* Under ckpt_lock: removes the node and the name; memory stays while used. */
static void ckpt_obj_unlink(struct ckpt_obj *obj)
{
	cdev_device_del(&obj->cdev, &obj->dev);
	list_del(&obj->node);
	mutex_lock(&obj->mutex);
	WRITE_ONCE(obj->dead, true);
	mutex_unlock(&obj->mutex);
}

int ckpt_obj_destroy(const struct colo_ckpt_obj_req *req)
{
	struct ckpt_obj *obj;
	int ret;

	ret = ckpt_name_check(req->name);
	if (ret)
		return ret;
	if (req->size)
		return -EINVAL;

	mutex_lock(&ckpt_lock);
	obj = ckpt_obj_find(req->name);
	if (obj)
		ckpt_obj_unlink(obj);
	mutex_unlock(&ckpt_lock);
	if (!obj)
		return -ENOENT;
	put_device(&obj->dev);
	return 0;
}

void ckpt_obj_destroy_all(void)
{
	struct ckpt_obj *obj, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&ckpt_lock);
	list_for_each_entry_safe(obj, tmp, &ckpt_objects, node) {
		ckpt_obj_unlink(obj);
		list_add(&obj->node, &dead);
	}
	mutex_unlock(&ckpt_lock);
	list_for_each_entry_safe(obj, tmp, &dead, node)
		put_device(&obj->dev);
}

/*
 * Resizing needs the object unmapped: the fault path reads the page array
 * and the size without a lock, relying on them being stable while a VMA
 * exists. Pages and dirty state below the new size are kept.
 */
int ckpt_obj_resize(const struct colo_ckpt_obj_req *req)
{
	u64 *bits, *summary, *list = NULL;
	struct ckpt_dset nd;
	struct ckpt_obj *obj;
	struct page **pages;
	u64 npages, keep, n, i;
	int ret;

	ret = ckpt_req_pages(req, &npages);
	if (ret)
		return ret;

	mutex_lock(&ckpt_lock);
	obj = ckpt_obj_find(req->name);
	if (!obj) {
		ret = -ENOENT;
		goto out_unlock;
	}
	mutex_lock(&obj->mutex);
	spin_lock(&obj->dlock);
	if (atomic_read(&obj->mappings))
		ret = -EBUSY;
	else
		obj->resizing = true;
	spin_unlock(&obj->dlock);
	if (ret)
		goto out_obj;
	ret = ckpt_obj_alloc_storage(npages, &pages, &bits, &summary);
	if (ret)
		goto out_resizing;
	list = kvmalloc_array(obj->dirty.count + 1, sizeof(*list), GFP_KERNEL);
	if (!list) {
		ret = -ENOMEM;
		goto out_storage;
	}
	ret = ckpt_charge(obj->npages << PAGE_SHIFT, req->size);
	if (ret)
		goto out_storage;

	keep = min(npages, obj->npages);
	memcpy(pages, obj->pages, keep * sizeof(*pages));
	ckpt_obj_free_pages(obj->pages, keep, obj->npages);
	for (i = keep; i < obj->npages; i++)
		if (obj->pages[i])
			atomic64_dec(&obj->resident);

	ckpt_dset_init(&nd, bits, summary, npages);
	spin_lock(&obj->dlock);
	n = ckpt_dset_snapshot(&obj->dirty, list, obj->dirty.count);
	for (i = 0; i < n; i++)
		ckpt_dset_add(&nd, list[i]);
	swap(obj->dirty, nd);
	swap(obj->pages, pages);
	WRITE_ONCE(obj->npages, npages);
	spin_unlock(&obj->dlock);

	/* Now the old storage. */
	bits = nd.bits;
	summary = nd.summary;
out_storage:
	kvfree(pages);
	kvfree(bits);
	kvfree(summary);
	kvfree(list);
out_resizing:
	spin_lock(&obj->dlock);
	obj->resizing = false;
	spin_unlock(&obj->dlock);
out_obj:
	mutex_unlock(&obj->mutex);
out_unlock:
	mutex_unlock(&ckpt_lock);
	return ret;
}

void ckpt_obj_fill_info(struct ckpt_obj *obj, struct colo_ckpt_obj_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->name, obj->name, sizeof(info->name));
	info->size = READ_ONCE(obj->npages) << PAGE_SHIFT;
	spin_lock(&obj->dlock);
	info->dirty_pages = obj->dirty.count;
	spin_unlock(&obj->dlock);
	info->resident_pages = atomic64_read(&obj->resident);
	info->mappings = atomic_read(&obj->mappings);
}

#define to_obj(d) container_of(d, struct ckpt_obj, dev)

static ssize_t size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_obj(dev)->npages) << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(size);

static ssize_t dirty_pages_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct ckpt_obj *obj = to_obj(dev);
	u64 n;

	spin_lock(&obj->dlock);
	n = obj->dirty.count;
	spin_unlock(&obj->dlock);
	return sysfs_emit(buf, "%llu\n", n);
}
static DEVICE_ATTR_RO(dirty_pages);

static ssize_t resident_pages_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&to_obj(dev)->resident));
}
static DEVICE_ATTR_RO(resident_pages);

static ssize_t mappings_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&to_obj(dev)->mappings));
}
static DEVICE_ATTR_RO(mappings);

#define CKPT_STAT_ATTR(field)							\
static ssize_t field##_show(struct device *dev, struct device_attribute *attr,	\
			    char *buf)						\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  (long long)atomic64_read(&to_obj(dev)->stats.field));	\
}										\
static DEVICE_ATTR_RO(field)

CKPT_STAT_ATTR(write_faults);
CKPT_STAT_ATTR(collects);
CKPT_STAT_ATTR(collected_pages);
CKPT_STAT_ATTR(held_pages);
CKPT_STAT_ATTR(collect_ns);
CKPT_STAT_ATTR(read_pages);
CKPT_STAT_ATTR(read_ns);
CKPT_STAT_ATTR(written_pages);
CKPT_STAT_ATTR(write_ns);
CKPT_STAT_ATTR(restored_pages);
CKPT_STAT_ATTR(restore_ns);

static struct attribute *ckpt_obj_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_dirty_pages.attr,
	&dev_attr_resident_pages.attr,
	&dev_attr_mappings.attr,
	&dev_attr_write_faults.attr,
	&dev_attr_collects.attr,
	&dev_attr_collected_pages.attr,
	&dev_attr_held_pages.attr,
	&dev_attr_collect_ns.attr,
	&dev_attr_read_pages.attr,
	&dev_attr_read_ns.attr,
	&dev_attr_written_pages.attr,
	&dev_attr_write_ns.attr,
	&dev_attr_restored_pages.attr,
	&dev_attr_restore_ns.attr,
	NULL,
};

static const struct attribute_group ckpt_obj_group = {
	.attrs = ckpt_obj_attrs,
};

const struct attribute_group *ckpt_obj_groups[] = {
	&ckpt_obj_group,
	NULL,
};
