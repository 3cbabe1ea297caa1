// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl proxy: control of colo_proxy.ko instances over its generic netlink
 * family (include/uapi/linux/colo_proxy.h).
 *
 *   coloctl proxy add DEV role primary|secondary local IPV4:PORT|[IPV6]:PORT peer (same family)
 *                     [timeout MS] [queue-packets N] [queue-bytes N] [conn-max N]
 *                     [hold-packets N] [hold-bytes N]
 *   coloctl proxy set DEV [timeout MS] [queue-packets N] [queue-bytes N]
 *   coloctl proxy del DEV
 *   coloctl proxy show [DEV] [-j]
 *   coloctl proxy stats DEV [-j]
 *   coloctl proxy checkpoint DEV [await-peer]
 *   coloctl proxy failover DEV
 *   coloctl proxy hold-input DEV
 *   coloctl proxy release-input DEV
 *   coloctl proxy seal DEV
 *   coloctl proxy monitor [-j] [count N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "coloctl.h"
#include "proxy_msg.h"
#include "proxy_nl.h"

/* Runs @msg; a failure is printed. */
static int transact(struct px *px, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid)
{
	char err[PX_ERR_MAX];

	if (!px_transact(px, msg, valid, px, err, sizeof(err)))
		return 0;
	fprintf(stderr, "coloctl proxy: %s\n", err);
	return 1;
}

static int dev_index(const char *name, unsigned int *ifindex)
{
	*ifindex = if_nametoindex(name);
	if (!*ifindex) {
		fprintf(stderr, "coloctl proxy: device '%s': %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_endpoint(const char *s, struct px_endpoint *ep)
{
	if (!px_endpoint_parse(s, ep))
		return 0;
	fprintf(stderr, "coloctl proxy: '%s' is not an IPV4:PORT or [IPV6]:PORT endpoint\n", s);
	return -1;
}

static int parse_u32(const char *what, const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || !*s || x > 0xffffffffULL) {
		fprintf(stderr, "coloctl proxy: %s: '%s' is not a number\n", what, s);
		return -1;
	}
	*v = x;
	return 0;
}

/* The attribute of a numeric parameter of add (and set), or -1. */
static int u32_param(const char *k)
{
	static const struct {
		const char *name;
		int attr;
	} params[] = {
		{ "timeout", COLO_PROXY_A_TIMEOUT_MS },
		{ "queue-packets", COLO_PROXY_A_QUEUE_PACKETS },
		{ "queue-bytes", COLO_PROXY_A_QUEUE_BYTES },
		{ "conn-max", COLO_PROXY_A_CONN_MAX },
		{ "hold-packets", COLO_PROXY_A_HOLD_PACKETS },
		{ "hold-bytes", COLO_PROXY_A_HOLD_BYTES },
	};
	size_t i;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (!strcmp(k, params[i].name))
			return params[i].attr;
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: coloctl proxy add DEV role primary|secondary local IPV4:PORT|[IPV6]:PORT peer IPV4:PORT|[IPV6]:PORT\n"
		"                         [timeout MS] [queue-packets N] [queue-bytes N] [conn-max N]\n"
		"                         [hold-packets N] [hold-bytes N]\n"
		"       coloctl proxy set DEV [timeout MS] [queue-packets N] [queue-bytes N]\n"
		"       coloctl proxy del DEV\n"
		"       coloctl proxy show [DEV] [-j]\n"
		"       coloctl proxy stats DEV [-j]\n"
		"       coloctl proxy checkpoint DEV [await-peer]\n"
		"       coloctl proxy failover DEV\n"
		"       coloctl proxy hold-input DEV\n"
		"       coloctl proxy release-input DEV\n"
		"       coloctl proxy seal DEV\n"
		"       coloctl proxy monitor [-j] [count N]\n");
}

static int cmd_add(struct px *px, int argc, char **argv)
{
	struct px_endpoint ep;
	unsigned int ifindex;
	uint32_t v;
	struct nl_msg *msg;
	int role = 0, i;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (dev_index(argv[0], &ifindex))
		return 2;
	msg = px_msg(px, COLO_PROXY_CMD_NEW, 0);
	nla_put_u32(msg, COLO_PROXY_A_IFINDEX, ifindex);
	for (i = 1; i < argc; i += 2) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			fprintf(stderr, "coloctl proxy add: '%s' needs a value\n", k);
			goto bad;
		}
		if (!strcmp(k, "role")) {
			role = !strcmp(val, "primary") ? COLO_PROXY_ROLE_PRIMARY :
			       !strcmp(val, "secondary") ? COLO_PROXY_ROLE_SECONDARY : -1;
			if (role < 0) {
				fprintf(stderr, "coloctl proxy add: role must be primary or secondary\n");
				goto bad;
			}
			nla_put_u8(msg, COLO_PROXY_A_ROLE, role);
		} else if (!strcmp(k, "local")) {
			if (parse_endpoint(val, &ep))
				goto bad;
			px_put_endpoint(msg, &ep, COLO_PROXY_A_LOCAL_ADDR, COLO_PROXY_A_LOCAL_ADDR6,
					COLO_PROXY_A_LOCAL_PORT);
		} else if (!strcmp(k, "peer")) {
			if (parse_endpoint(val, &ep))
				goto bad;
			px_put_endpoint(msg, &ep, COLO_PROXY_A_PEER_ADDR, COLO_PROXY_A_PEER_ADDR6,
					COLO_PROXY_A_PEER_PORT);
		} else if (u32_param(k) >= 0) {
			if (parse_u32(k, val, &v))
				goto bad;
			nla_put_u32(msg, u32_param(k), v);
		} else {
			fprintf(stderr, "coloctl proxy add: unknown parameter '%s'\n", k);
			goto bad;
		}
	}
	return transact(px, msg, NULL);
bad:
	nlmsg_free(msg);
	return 2;
}

/*
 * set DEV [timeout MS] [queue-packets N] [queue-bytes N]: add's keywords and
 * parsing. The kernel refuses the others, and a set without any, with its
 * own message: it alone knows what a live instance may change.
 */
static int cmd_set(struct px *px, int argc, char **argv)
{
	unsigned int ifindex;
	struct nl_msg *msg;
	uint32_t v;
	int i;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (dev_index(argv[0], &ifindex))
		return 2;
	msg = px_msg(px, COLO_PROXY_CMD_SET, 0);
	nla_put_u32(msg, COLO_PROXY_A_IFINDEX, ifindex);
	for (i = 1; i < argc; i += 2) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (u32_param(k) < 0) {
			fprintf(stderr, "coloctl proxy set: unknown parameter '%s'\n", k);
			goto bad;
		}
		if (!val) {
			fprintf(stderr, "coloctl proxy set: '%s' needs a value\n", k);
			goto bad;
		}
		if (parse_u32(k, val, &v))
			goto bad;
		nla_put_u32(msg, u32_param(k), v);
	}
	return transact(px, msg, NULL);
bad:
	nlmsg_free(msg);
	return 2;
}

static int cmd_simple(struct px *px, uint8_t cmd, int argc, char **argv)
{
	unsigned int ifindex;
	struct nl_msg *msg;

	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (dev_index(argv[0], &ifindex))
		return 2;
	msg = px_msg(px, cmd, 0);
	nla_put_u32(msg, COLO_PROXY_A_IFINDEX, ifindex);
	return transact(px, msg, NULL);
}

/* checkpoint DEV [await-peer] */
static int cmd_checkpoint(struct px *px, int argc, char **argv)
{
	unsigned int ifindex;
	struct nl_msg *msg;

	if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "await-peer"))) {
		usage(stderr);
		return 2;
	}
	if (dev_index(argv[0], &ifindex))
		return 2;
	msg = px_msg(px, COLO_PROXY_CMD_CHECKPOINT, 0);
	nla_put_u32(msg, COLO_PROXY_A_IFINDEX, ifindex);
	if (argc == 2)
		nla_put_flag(msg, COLO_PROXY_A_AWAIT_PEER);
	return transact(px, msg, NULL);
}

static int cmd_show(struct px *px, int argc, char **argv, int stats)
{
	unsigned int ifindex = 0;
	struct nl_msg *msg;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			px->json = 1;
		else if (!ifindex && dev_index(argv[i], &ifindex))
			return 2;
	}
	if (stats && !ifindex) {
		usage(stderr);
		return 2;
	}
	px->stats_only = stats;
	msg = px_msg(px, COLO_PROXY_CMD_GET, ifindex ? 0 : NLM_F_DUMP);
	if (ifindex)
		nla_put_u32(msg, COLO_PROXY_A_IFINDEX, ifindex);
	if (px->json && !ifindex)
		printf("[");
	rc = transact(px, msg, px_instance_cb);
	if (px->json && !ifindex)
		printf("]");
	if (px->json)
		printf("\n");
	return rc;
}

/* Events are multicast with sequence number 0: no sequence check. */
static int px_no_seq_check(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int cmd_monitor(struct px *px, int argc, char **argv)
{
	struct nl_cb *cb;
	int grp, i, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			px->json = 1;
		} else if (!strcmp(argv[i], "count") && i + 1 < argc) {
			uint32_t n;

			if (parse_u32("count", argv[++i], &n))
				return 2;
			px->count = n;
		} else {
			usage(stderr);
			return 2;
		}
	}
	grp = genl_ctrl_resolve_grp(px->sk, COLO_PROXY_GENL_NAME, COLO_PROXY_MCGRP_EVENTS);
	if (grp >= 0)
		grp = nl_socket_add_membership(px->sk, grp);
	if (grp < 0) {
		/* Joining needs CAP_NET_ADMIN: say so rather than just "failed". */
		fprintf(stderr, "coloctl proxy monitor: cannot join the events group: %s\n",
			nl_geterror(grp));
		return 1;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, px_no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, px_event_cb, px);
	/* Line-buffered so a reader (or a test) sees each event at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!px->done) {
		err = nl_recvmsgs(px->sk, cb);
		if (err < 0 && err != -NLE_INTR) {
			fprintf(stderr, "coloctl proxy monitor: %s\n", nl_geterror(err));
			nl_cb_put(cb);
			return 1;
		}
	}
	nl_cb_put(cb);
	return 0;
}

int proxy_main(int argc, char **argv)
{
	struct px px = { 0 };
	char err[PX_ERR_MAX];
	const char *cmd;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "add") && strcmp(cmd, "set") && strcmp(cmd, "del") && strcmp(cmd, "show") &&
	    strcmp(cmd, "stats") && strcmp(cmd, "checkpoint") && strcmp(cmd, "failover") &&
	    strcmp(cmd, "hold-input") && strcmp(cmd, "release-input") &&
	    strcmp(cmd, "seal") && strcmp(cmd, "monitor")) {
		fprintf(stderr, "coloctl proxy: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (px_open(&px, err, sizeof(err))) {
		fprintf(stderr, "coloctl proxy: %s\n", err);
		return 1;
	}
	if (!strcmp(cmd, "add"))
		rc = cmd_add(&px, argc - 2, argv + 2);
	else if (!strcmp(cmd, "set"))
		rc = cmd_set(&px, argc - 2, argv + 2);
	else if (!strcmp(cmd, "del"))
		rc = cmd_simple(&px, COLO_PROXY_CMD_DEL, argc - 2, argv + 2);
	else if (!strcmp(cmd, "checkpoint"))
		rc = cmd_checkpoint(&px, argc - 2, argv + 2);
	else if (!strcmp(cmd, "failover"))
		rc = cmd_simple(&px, COLO_PROXY_CMD_FAILOVER, argc - 2, argv + 2);
	else if (!strcmp(cmd, "hold-input"))
		rc = cmd_simple(&px, COLO_PROXY_CMD_HOLD_INPUT, argc - 2, argv + 2);
	else if (!strcmp(cmd, "release-input"))
		rc = cmd_simple(&px, COLO_PROXY_CMD_RELEASE_INPUT, argc - 2, argv + 2);
	else if (!strcmp(cmd, "seal"))
		rc = cmd_simple(&px, COLO_PROXY_CMD_SEAL, argc - 2, argv + 2);
	else if (!strcmp(cmd, "show"))
		rc = cmd_show(&px, argc - 2, argv + 2, 0);
	else if (!strcmp(cmd, "stats"))
		rc = cmd_show(&px, argc - 2, argv + 2, 1);
	else
		rc = cmd_monitor(&px, argc - 2, argv + 2);
	nl_socket_free(px.sk);
	return rc;
}
