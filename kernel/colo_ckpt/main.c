// SPDX-License-Identifier: GPL-2.0
/*
 * colo_ckpt: dirty-tracked guest memory (skeleton: registers the control device).
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>

static const struct file_operations colo_ckpt_ctl_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice colo_ckpt_ctl = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "colo_ckpt",
	.fops = &colo_ckpt_ctl_fops,
	.mode = 0600,
};

static int __init colo_ckpt_init(void)
{
	return misc_register(&colo_ckpt_ctl);
}

static void __exit colo_ckpt_exit(void)
{
	misc_deregister(&colo_ckpt_ctl);
}

module_init(colo_ckpt_init);
module_exit(colo_ckpt_exit);
MODULE_DESCRIPTION("COLO dirty-tracked guest memory");
MODULE_LICENSE("GPL");
