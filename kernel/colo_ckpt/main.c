// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt: dirty-tracked guest RAM objects for COLO checkpoints.
 *
 * This file holds the module-wide state: the control device
 * /dev/colo_ckpt (create, list, resize, destroy), the "colo_ckpt" device
 * class whose devices are the objects (/dev/colo_ram/<name>), the global
 * statistics and the memory limit.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/capability.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "ckpt.h"

/* "ckpt": identifies the internal filesystem of the objects' inodes. */
#define CKPT_FS_MAGIC 0x636b7074

unsigned long ckpt_max_bytes;
module_param_named(max_bytes, ckpt_max_bytes, ulong, 0644);
MODULE_PARM_DESC(max_bytes,
		 "Limit on the summed size of all objects in bytes (0 at load: half of RAM)");

dev_t ckpt_devt;
DEFINE_MUTEX(ckpt_lock);
LIST_HEAD(ckpt_objects);
atomic64_t ckpt_committed;	/* bytes held by objects, until freed */

/*
 * Internal mount holding one anonymous inode per object, whose
 * address_space every file of the object shares. No .owner: the mount
 * lives from load to unload and must not hold the module itself.
 */
struct vfsmount *ckpt_mnt;

static int ckpt_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, CKPT_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type ckpt_fs_type = {
	.name = "colo_ckpt",
	.init_fs_context = ckpt_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static ssize_t objects_show(struct class *class, struct class_attribute *attr, char *buf)
{
	struct ckpt_obj *obj;
	unsigned int n = 0;

	mutex_lock(&ckpt_lock);
	list_for_each_entry(obj, &ckpt_objects, node)
		n++;
	mutex_unlock(&ckpt_lock);
	return sysfs_emit(buf, "%u\n", n);
}
static CLASS_ATTR_RO(objects);

static ssize_t committed_bytes_show(struct class *class, struct class_attribute *attr,
				    char *buf)
{
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&ckpt_committed));
}
static CLASS_ATTR_RO(committed_bytes);

static ssize_t max_bytes_show(struct class *class, struct class_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(ckpt_max_bytes));
}
static CLASS_ATTR_RO(max_bytes);

static struct attribute *ckpt_class_attrs[] = {
	&class_attr_objects.attr,
	&class_attr_committed_bytes.attr,
	&class_attr_max_bytes.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ckpt_class);

static char *ckpt_devnode(struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = 0600;
	return kasprintf(GFP_KERNEL, "colo_ram/%s", dev_name(dev));
}

struct class ckpt_class = {
	.name = "colo_ckpt",
	.owner = THIS_MODULE,
	.devnode = ckpt_devnode,
	.class_groups = ckpt_class_groups,
	.dev_groups = ckpt_obj_groups,
};

static int ckpt_list(struct colo_ckpt_list __user *uarg)
{
	struct colo_ckpt_obj_info __user *out;
	struct colo_ckpt_obj_info *infos;
	struct colo_ckpt_list arg;
	struct ckpt_obj *obj;
	u32 n = 0;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.max > CKPT_MAX_OBJECTS)
		arg.max = CKPT_MAX_OBJECTS;
	out = u64_to_user_ptr(arg.ptr);
	infos = kcalloc(arg.max ? arg.max : 1, sizeof(*infos), GFP_KERNEL);
	if (!infos)
		return -ENOMEM;

	mutex_lock(&ckpt_lock);
	list_for_each_entry(obj, &ckpt_objects, node) {
		if (n < arg.max)
			ckpt_obj_fill_info(obj, &infos[n]);
		n++;
	}
	mutex_unlock(&ckpt_lock);

	if (n > arg.max)
		ret = -E2BIG;
	else if (n && copy_to_user(out, infos, n * sizeof(*infos)))
		ret = -EFAULT;
	kfree(infos);
	if (ret != -EFAULT && put_user(n, &uarg->count))
		ret = -EFAULT;
	return ret;
}

static long ckpt_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct colo_ckpt_obj_req req;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case COLO_CKPT_CREATE:
	case COLO_CKPT_DESTROY:
	case COLO_CKPT_RESIZE:
		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		if (cmd == COLO_CKPT_CREATE)
			return ckpt_obj_create(&req);
		if (cmd == COLO_CKPT_RESIZE)
			return ckpt_obj_resize(&req);
		return ckpt_obj_destroy(&req);
	case COLO_CKPT_LIST:
		return ckpt_list(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ckpt_ctl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ckpt_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ckpt_ctl = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "colo_ckpt",
	.fops = &ckpt_ctl_fops,
	.mode = 0600,
};

static int __init colo_ckpt_init(void)
{
	int ret;

	if (!ckpt_max_bytes)
		ckpt_max_bytes = (totalram_pages() / 2) << PAGE_SHIFT;

	ckpt_mnt = kern_mount(&ckpt_fs_type);
	if (IS_ERR(ckpt_mnt))
		return PTR_ERR(ckpt_mnt);

	ret = alloc_chrdev_region(&ckpt_devt, 0, CKPT_MAX_OBJECTS, "colo_ram");
	if (ret)
		goto err_mnt;

	ret = class_register(&ckpt_class);
	if (ret)
		goto err_region;

	ret = misc_register(&ckpt_ctl);
	if (ret)
		goto err_class;
	return 0;

err_class:
	class_unregister(&ckpt_class);
err_region:
	unregister_chrdev_region(ckpt_devt, CKPT_MAX_OBJECTS);
err_mnt:
	kern_unmount(ckpt_mnt);
	return ret;
}

/*
 * Every open object file and every mapping pins the module (the cdev's
 * owner), so objects left here are unused: destroying them frees them,
 * and their inodes with them, before the internal mount goes.
 */
static void __exit colo_ckpt_exit(void)
{
	misc_deregister(&ckpt_ctl);
	ckpt_obj_destroy_all();
	class_unregister(&ckpt_class);
	unregister_chrdev_region(ckpt_devt, CKPT_MAX_OBJECTS);
	kern_unmount(ckpt_mnt);
}

module_init(colo_ckpt_init);
module_exit(colo_ckpt_exit);
MODULE_DESCRIPTION("COLO dirty-tracked guest memory");
MODULE_LICENSE("GPL");
