// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-check only (COLO_INJECT=warn): loading this module makes the
 * kernel print a real WARNING, which must fail the test run.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init colo_provoke_warn_init(void)
{
	WARN(1, "colo: warning provoked on purpose to check the test harness\n");
	return -EAGAIN;
}

module_init(colo_provoke_warn_init);
MODULE_DESCRIPTION("Provokes a kernel WARNING to check the COLO test harness");
MODULE_LICENSE("GPL");
