// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy: in-kernel COLO packet compare (skeleton: registers the family).
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <uapi/linux/colo_proxy.h>

static struct genl_family colo_proxy_family __ro_after_init = {
	.name = COLO_PROXY_GENL_NAME,
	.version = COLO_PROXY_GENL_VERSION,
	.maxattr = COLO_PROXY_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
};

static int __init colo_proxy_init(void)
{
	return genl_register_family(&colo_proxy_family);
}

static void __exit colo_proxy_exit(void)
{
	genl_unregister_family(&colo_proxy_family);
}

module_init(colo_proxy_init);
module_exit(colo_proxy_exit);
MODULE_DESCRIPTION("COLO in-kernel packet compare proxy");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(COLO_PROXY_GENL_NAME);
