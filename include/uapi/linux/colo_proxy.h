/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * colo_proxy generic netlink family: the contract between colo_proxy.ko and coloctl.
 */
#ifndef _UAPI_LINUX_COLO_PROXY_H
#define _UAPI_LINUX_COLO_PROXY_H

#define COLO_PROXY_GENL_NAME "colo_proxy"
#define COLO_PROXY_GENL_VERSION 1

enum colo_proxy_cmd {
	COLO_PROXY_CMD_UNSPEC,
	__COLO_PROXY_CMD_MAX
};
#define COLO_PROXY_CMD_MAX (__COLO_PROXY_CMD_MAX - 1)

enum colo_proxy_attr {
	COLO_PROXY_A_UNSPEC,
	__COLO_PROXY_A_MAX
};
#define COLO_PROXY_A_MAX (__COLO_PROXY_A_MAX - 1)

#endif /* _UAPI_LINUX_COLO_PROXY_H */
