/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coloctl proxy: what the kernel sends back (instances, checkpoint-request
 * events, extended acks), parsed against strict policies and printed. Kept
 * apart from the socket handling so the parsers can be fuzzed on their own
 * (tools/testing/fuzz/fuzz_coloctl_proxy.c).
 */
#ifndef COLOCTL_PROXY_MSG_H
#define COLOCTL_PROXY_MSG_H

#include <netlink/netlink.h>

struct px {
	struct nl_sock *sk;
	int family;
	int json;
	int stats_only;
	int printed;		/* objects printed so far (JSON separators) */
	int done;
	int err;
	char errmsg[256];
	long count;		/* monitor: stop after this many events */
};

/* libnl callbacks; arg is the struct px. */
int px_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg);
int px_instance_cb(struct nl_msg *msg, void *arg);
int px_event_cb(struct nl_msg *msg, void *arg);

#endif
