// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy: compare the packets of a COLO primary and secondary VM in the
 * kernel and keep the secondary's TCP connections in step with the primary's.
 *
 * This file holds the module parameters (the defaults of new instances) and
 * the per network namespace state; instances die with their namespace.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <net/genetlink.h>

#include "proxy.h"

unsigned int cp_param_timeout_ms = 2000;
module_param_named(timeout_ms, cp_param_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "Default longest time a PVM frame is held before a checkpoint is requested (ms)");

unsigned int cp_param_queue_packets = 4096;
module_param_named(queue_packets, cp_param_queue_packets, uint, 0644);
MODULE_PARM_DESC(queue_packets, "Default per-connection held frame limit that requests a checkpoint");

unsigned int cp_param_queue_bytes = 16 << 20;
module_param_named(queue_bytes, cp_param_queue_bytes, uint, 0644);
MODULE_PARM_DESC(queue_bytes, "Default per-connection held byte limit that requests a checkpoint");

unsigned int cp_param_conn_idle_s = 300;
module_param_named(conn_idle_s, cp_param_conn_idle_s, uint, 0644);
MODULE_PARM_DESC(conn_idle_s, "Forget a connection with nothing held after this many idle seconds");

unsigned int cp_param_conn_closed_s = 10;
module_param_named(conn_closed_s, cp_param_conn_closed_s, uint, 0644);
MODULE_PARM_DESC(conn_closed_s, "Forget a TCP connection the guest closed (FIN or RST) after this many idle seconds");

unsigned int cp_param_conn_max = 16384;
module_param_named(conn_max, cp_param_conn_max, uint, 0644);
MODULE_PARM_DESC(conn_max, "Default most connections an instance tracks (16 to 1048576)");

unsigned int cp_param_hold_packets = 65536;
module_param_named(hold_packets, cp_param_hold_packets, uint, 0644);
MODULE_PARM_DESC(hold_packets, "Default most frames an instance holds at once, all connections together (16 to 1048576)");

unsigned int cp_param_hold_bytes = 256 << 20;
module_param_named(hold_bytes, cp_param_hold_bytes, uint, 0644);
MODULE_PARM_DESC(hold_bytes, "Default most bytes an instance holds at once, all connections together (65536 to 2147483648)");

unsigned int cp_net_id __read_mostly;
/* Serialises instance creation/removal (netlink, notifier, netns exit). */
DEFINE_MUTEX(cp_net_lock);

static int __net_init cp_net_init(struct net *net)
{
	INIT_LIST_HEAD(&cp_pernet(net)->instances);
	return 0;
}

static void __net_exit cp_net_exit(struct net *net)
{
	struct cp_net *cn = cp_pernet(net);
	struct cp_instance *inst, *tmp;

	mutex_lock(&cp_net_lock);
	list_for_each_entry_safe(inst, tmp, &cn->instances, list)
		cp_instance_destroy(inst, false);
	mutex_unlock(&cp_net_lock);
}

static struct pernet_operations cp_net_ops = {
	.init = cp_net_init,
	.exit = cp_net_exit,
	.id = &cp_net_id,
	.size = sizeof(struct cp_net),
};

static int __init colo_proxy_init(void)
{
	int err;

	err = register_pernet_device(&cp_net_ops);
	if (err)
		return err;
	err = cp_notifier_register();
	if (err)
		goto err_pernet;
	err = cp_genl_register();
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	cp_notifier_unregister();
err_pernet:
	unregister_pernet_device(&cp_net_ops);
	return err;
}

static void __exit colo_proxy_exit(void)
{
	cp_genl_unregister();
	cp_notifier_unregister();
	unregister_pernet_device(&cp_net_ops);
}

module_init(colo_proxy_init);
module_exit(colo_proxy_exit);
MODULE_DESCRIPTION("COLO in-kernel packet compare proxy");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(COLO_PROXY_GENL_NAME);
