// SPDX-License-Identifier: GPL-2.0
/*
 * dm-colo: the "colo" device-mapper target (skeleton: registers the target).
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#define DM_MSG_PREFIX "colo"

static int colo_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	ti->error = "colo target is not implemented yet";
	return -EINVAL;
}

static void colo_dtr(struct dm_target *ti)
{
}

static int colo_map(struct dm_target *ti, struct bio *bio)
{
	return DM_MAPIO_KILL;
}

static struct target_type colo_target = {
	.name = "colo",
	.version = {0, 1, 0},
	.module = THIS_MODULE,
	.ctr = colo_ctr,
	.dtr = colo_dtr,
	.map = colo_map,
};

static int __init dm_colo_init(void)
{
	return dm_register_target(&colo_target);
}

static void __exit dm_colo_exit(void)
{
	dm_unregister_target(&colo_target);
}

module_init(dm_colo_init);
module_exit(dm_colo_exit);
MODULE_DESCRIPTION(DM_NAME " COLO disk replication target");
MODULE_LICENSE("GPL");
