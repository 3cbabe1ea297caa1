/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coloctl proxy: what the kernel sends back (instances, checkpoint-request
 * events, extended acks), parsed against strict policies and printed, and
 * tunnel endpoints as the command line writes them. Kept apart from the
 * socket handling so the parsers can be fuzzed on their own
 * (tools/testing/fuzz/fuzz_coloctl_proxy.c).
 */
#ifndef COLOCTL_PROXY_MSG_H
#define COLOCTL_PROXY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/netlink.h>

/* A tunnel endpoint: IPV4:PORT or [IPV6]:PORT, the port not 0. */
struct px_endpoint {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	uint16_t port;
};

/* 0, or -1 when @s is not an endpoint. */
int px_endpoint_parse(const char *s, struct px_endpoint *ep);
/* Writes @ep as px_endpoint_parse() reads it. */
void px_endpoint_format(char *buf, size_t n, const struct px_endpoint *ep);

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
