/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colod's configuration: one INI file per protected VM (colod.conf(5)),
 * parsed and checked as a whole. A file that fails any check is refused
 * with "FILE:LINE: reason" (or "FILE: [section] key ..." for a key that is
 * missing), and nothing of it is kept.
 */
#ifndef COLOD_CONFIG_H
#define COLOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define COLOD_NAME_MAX 32	/* [vm] name with its NUL: the colo_blk target name limit */
#define COLOD_IFNAME_MAX 16	/* [net] tap with its NUL: IFNAMSIZ */
#define COLOD_CONFIG_FILE_MAX 65536	/* colod_config_load() refuses larger files */

enum colod_role {
	COLOD_ROLE_PRIMARY = 1,
	COLOD_ROLE_SECONDARY,
};

struct colod_config {
	/* [vm] */
	char name[COLOD_NAME_MAX];
	enum colod_role role;
	uint64_t ram_size;			/* bytes, a multiple of 4096 */

	/*
	 * [peer]: addresses carry no port (sin_port/sin6_port are 0); both are
	 * of the same family, AF_INET or AF_INET6 (with sin6_scope_id set for
	 * a link-local address).
	 */
	struct sockaddr_storage peer_addr;	/* the other host's agent */
	uint16_t peer_port;			/* agent TCP port, host order */
	struct sockaddr_storage local_addr;	/* ours, to bind the agent link */

	/* [qemu] */
	char *qemu_binary;
	char **qemu_argv;	/* guest arguments, NULL-terminated, without argv[0] */
	size_t qemu_argc;
	char *start_from;	/* primary: a saved state to start the VM from, or NULL */
	char *run_dir;

	/* [disk] */
	char *disk_device;
	uint64_t disk_buffer_size;	/* bytes; 0 on a primary, which has no buffer */
	uint16_t nbd_port;
	uint32_t nbd_timeout_ms;	/* primary: the colo table's nbd_timeout */
	uint32_t drain_timeout_ms;	/* primary: bound of a checkpoint's disk drain */

	/* [net] */
	char tap[COLOD_IFNAME_MAX];
	uint8_t mac[6];
	uint16_t proxy_port;

	/* [checkpoint] */
	uint32_t max_interval_ms;
	uint32_t dirty_pages;		/* 0: no early checkpoint on dirty pages */
	uint32_t disk_buffer_percent;	/* 0 on a primary */
	uint32_t proxy_timeout_ms;
	/* the primary's proxy_timeout while the replica is being replaced */
	uint32_t proxy_timeout_no_replica_ms;
	uint64_t proxy_queue_bytes;	/* fits colo_proxy's u32 (the range says so) */

	/* [cluster] */
	bool corosync;			/* follow corosync's membership and quorum */
	char *fence;			/* secondary: run before taking over, or NULL */
	uint32_t fence_timeout_ms;	/* secondary */
	uint32_t link_loss_wait_ms;	/* how long a broken link waits for corosync's view */

	/* [control] */
	char *control_socket;
};

/*
 * Read and check the file at path. On success fill *c (which the caller
 * releases with colod_config_free()) and return 0. On failure write the
 * reason to err (when errlen > 0), leave *c zeroed and return -1. *c is
 * overwritten without being freed first.
 */
int colod_config_load(const char *path, struct colod_config *c, char *err, size_t errlen);

/* The same on text held in memory; name_for_messages stands for the file. */
int colod_config_parse_string(const char *text, const char *name_for_messages,
			      struct colod_config *c, char *err, size_t errlen);

/* Release what *c holds and zero it; a zeroed *c may be freed again. */
void colod_config_free(struct colod_config *c);

/*
 * Write *c back in the file format, every key with its value, defaults
 * included (except the keys the other role alone uses), so that parsing
 * the output gives an equal configuration.
 */
void colod_config_print(FILE *f, const struct colod_config *c);

/* Whether two addresses (ports aside) are the same: family, address, IPv6 scope. */
bool colod_same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Whether two loaded configurations hold the same values. */
bool colod_config_equal(const struct colod_config *a, const struct colod_config *b);

#endif
