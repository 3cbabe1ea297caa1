/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coloctl proxy: what the kernel sends back (instances, checkpoint-request
 * events, extended acks), parsed against strict policies and printed, and
 * tunnel endpoints as the command line writes them. Kept apart from the
 * socket handling so the parsers can be fuzzed on their own
 * (tools/testing/fuzz/fuzz_coloctl_proxy.c). colod uses the parsers too
 * (tools/colod/proxy.c), without the printers.
 */
#ifndef COLOCTL_PROXY_MSG_H
#define COLOCTL_PROXY_MSG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/colo_proxy.h>
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

/* An instance as a GET reply describes it. */
struct px_instance {
	uint32_t ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t role;		/* enum colo_proxy_role, as sent */
	uint8_t state;		/* enum colo_proxy_state, as sent */
	struct px_endpoint local, peer;
	uint32_t timeout_ms, queue_packets, queue_bytes;
	uint32_t conn_max, hold_packets, hold_bytes;
	uint64_t stats[COLO_PROXY_STAT_MAX + 1];	/* by COLO_PROXY_STAT_*, 0 if not sent */
};

/*
 * 0, or -1 when @nlh is not a generic netlink message with every attribute
 * of an instance. A counter nest that does not parse leaves every counter 0.
 */
int px_instance_parse(struct nlmsghdr *nlh, struct px_instance *in);

/* A checkpoint request (COLO_PROXY_CMD_CHECKPOINT_REQUEST). */
struct px_event {
	uint32_t ifindex;
	uint32_t reason;	/* enum colo_proxy_reason, maybe one newer than this build */
	int has_conn;		/* the connection below was sent and is complete */
	uint8_t conn_family;	/* AF_INET or AF_INET6: 4 or 16 bytes of each address */
	uint8_t proto;		/* IP protocol */
	unsigned char guest_addr[16], peer_addr[16];
	uint16_t guest_port, peer_port;
};

/* 0, or -1 when @nlh is not a checkpoint request with its device and reason. */
int px_event_parse(struct nlmsghdr *nlh, struct px_event *ev);

/* "mismatch", "timeout", ... as coloctl prints them; "unknown" for others. */
const char *px_reason_name(uint32_t reason);
/* "pvm_frames", ... as coloctl prints them; NULL for what is not a counter. */
const char *px_stat_name(unsigned int stat);

/* libnl callbacks; arg is the struct px. */
int px_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg);
int px_instance_cb(struct nl_msg *msg, void *arg);
int px_event_cb(struct nl_msg *msg, void *arg);

#endif
