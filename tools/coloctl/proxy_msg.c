// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl proxy: parsing and printing what colo_proxy.ko sends back. Every
 * attribute is checked against a policy (type and length, strings
 * terminated) and every attribute a line prints must be present: a reply
 * that does not fit is skipped, never read out of bounds.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/genl/genl.h>

#include "proxy_msg.h"

static const char *const stat_names[COLO_PROXY_STAT_MAX + 1] = {
	[COLO_PROXY_STAT_PVM_FRAMES] = "pvm_frames",
	[COLO_PROXY_STAT_PVM_BYTES] = "pvm_bytes",
	[COLO_PROXY_STAT_SVM_FRAMES] = "svm_frames",
	[COLO_PROXY_STAT_SVM_BYTES] = "svm_bytes",
	[COLO_PROXY_STAT_COMPARED_BYTES] = "compared_bytes",
	[COLO_PROXY_STAT_HELD] = "held",
	[COLO_PROXY_STAT_RELEASED] = "released",
	[COLO_PROXY_STAT_PASSED] = "passed",
	[COLO_PROXY_STAT_MISMATCHES] = "mismatches",
	[COLO_PROXY_STAT_REQ_MISMATCH] = "requests_mismatch",
	[COLO_PROXY_STAT_REQ_TIMEOUT] = "requests_timeout",
	[COLO_PROXY_STAT_REQ_QUEUE_PACKETS] = "requests_queue_packets",
	[COLO_PROXY_STAT_REQ_QUEUE_BYTES] = "requests_queue_bytes",
	[COLO_PROXY_STAT_REQ_TUNNEL_LOSS] = "requests_tunnel_loss",
	[COLO_PROXY_STAT_CHECKPOINTS] = "checkpoints",
	[COLO_PROXY_STAT_QUEUE_HWM_PACKETS] = "queue_hwm_packets",
	[COLO_PROXY_STAT_QUEUE_HWM_BYTES] = "queue_hwm_bytes",
	[COLO_PROXY_STAT_MIRRORED] = "mirrored",
	[COLO_PROXY_STAT_INJECTED] = "injected",
	[COLO_PROXY_STAT_REWRITTEN] = "rewritten",
	[COLO_PROXY_STAT_TUNNEL_TX] = "tunnel_tx",
	[COLO_PROXY_STAT_TUNNEL_RX] = "tunnel_rx",
	[COLO_PROXY_STAT_TUNNEL_LOST] = "tunnel_lost",
	[COLO_PROXY_STAT_TUNNEL_REORDERED] = "tunnel_reordered",
	[COLO_PROXY_STAT_TUNNEL_ERRORS] = "tunnel_errors",
	[COLO_PROXY_STAT_BAD_FRAMES] = "bad_frames",
	[COLO_PROXY_STAT_CONNECTIONS] = "connections",
	[COLO_PROXY_STAT_WINDOW_HELD] = "window_held",
	[COLO_PROXY_STAT_RESET_RELEASED] = "reset_released",
	[COLO_PROXY_STAT_NEIGH_LEARNED] = "neigh_learned",
	[COLO_PROXY_STAT_NEIGH_TABLE_FULL] = "neigh_table_full",
	[COLO_PROXY_STAT_NEIGH_ANSWERED] = "neigh_answered",
	[COLO_PROXY_STAT_NEIGH_UNKNOWN] = "neigh_unknown",
	[COLO_PROXY_STAT_TUNNEL_FOREIGN] = "tunnel_foreign",
	[COLO_PROXY_STAT_TUNNEL_AFTER_FAILOVER] = "tunnel_after_failover",
	[COLO_PROXY_STAT_CONN_REFUSED] = "conn_refused",
	[COLO_PROXY_STAT_CONN_EVICTED] = "conn_evicted",
	[COLO_PROXY_STAT_HOLD_FULL] = "hold_full",
	[COLO_PROXY_STAT_HOLDING_PACKETS] = "holding_packets",
	[COLO_PROXY_STAT_HOLDING_BYTES] = "holding_bytes",
	[COLO_PROXY_STAT_INPUT_HELD] = "input_held",
	[COLO_PROXY_STAT_SVM_AWAITED] = "svm_awaited",
	[COLO_PROXY_STAT_SEALS] = "seals",
	[COLO_PROXY_STAT_SVM_STALE] = "svm_stale",
};

static const char *const reason_names[COLO_PROXY_REASON_MAX + 1] = {
	[COLO_PROXY_REASON_MISMATCH] = "mismatch",
	[COLO_PROXY_REASON_TIMEOUT] = "timeout",
	[COLO_PROXY_REASON_QUEUE_PACKETS] = "queue-packets",
	[COLO_PROXY_REASON_QUEUE_BYTES] = "queue-bytes",
	[COLO_PROXY_REASON_TUNNEL_LOSS] = "tunnel-loss",
};

static struct nla_policy instance_policy[COLO_PROXY_A_MAX + 1] = {
	[COLO_PROXY_A_IFINDEX] = { .type = NLA_U32 },
	[COLO_PROXY_A_IFNAME] = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
	[COLO_PROXY_A_ROLE] = { .type = NLA_U8 },
	[COLO_PROXY_A_STATE] = { .type = NLA_U8 },
	[COLO_PROXY_A_LOCAL_ADDR] = { .type = NLA_U32 },
	[COLO_PROXY_A_LOCAL_PORT] = { .type = NLA_U16 },
	[COLO_PROXY_A_PEER_ADDR] = { .type = NLA_U32 },
	[COLO_PROXY_A_PEER_PORT] = { .type = NLA_U16 },
	[COLO_PROXY_A_TIMEOUT_MS] = { .type = NLA_U32 },
	[COLO_PROXY_A_QUEUE_PACKETS] = { .type = NLA_U32 },
	[COLO_PROXY_A_QUEUE_BYTES] = { .type = NLA_U32 },
	[COLO_PROXY_A_STATS] = { .type = NLA_NESTED },
	[COLO_PROXY_A_REASON] = { .type = NLA_U32 },
	[COLO_PROXY_A_CONN] = { .type = NLA_NESTED },
	[COLO_PROXY_A_LOCAL_ADDR6] = { .minlen = 16, .maxlen = 16 },
	[COLO_PROXY_A_PEER_ADDR6] = { .minlen = 16, .maxlen = 16 },
	[COLO_PROXY_A_CONN_MAX] = { .type = NLA_U32 },
	[COLO_PROXY_A_HOLD_PACKETS] = { .type = NLA_U32 },
	[COLO_PROXY_A_HOLD_BYTES] = { .type = NLA_U32 },
};

static struct nla_policy stats_policy[COLO_PROXY_STAT_MAX + 1] = {
	[COLO_PROXY_STAT_PVM_FRAMES ... COLO_PROXY_STAT_MAX] = { .type = NLA_U64 },
};

static struct nla_policy conn_policy[COLO_PROXY_CONN_MAX + 1] = {
	[COLO_PROXY_CONN_FAMILY] = { .type = NLA_U8 },
	[COLO_PROXY_CONN_PROTO] = { .type = NLA_U8 },
	[COLO_PROXY_CONN_GUEST_ADDR] = { .minlen = 4, .maxlen = 16 },
	[COLO_PROXY_CONN_GUEST_PORT] = { .type = NLA_U16 },
	[COLO_PROXY_CONN_PEER_ADDR] = { .minlen = 4, .maxlen = 16 },
	[COLO_PROXY_CONN_PEER_PORT] = { .type = NLA_U16 },
};

/* all_present(tb, a, b, ..., -1): every listed attribute is there. */
static int all_present(struct nlattr **tb, ...)
{
	va_list ap;
	int i, ok = 1;

	va_start(ap, tb);
	while ((i = va_arg(ap, int)) >= 0)
		ok &= tb[i] != NULL;
	va_end(ap);
	return ok;
}

/* A device name as a JSON string: quotes and backslashes are legal in it. */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Extended ack: the kernel's message for the rejection, if any. */
int px_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct px *px = arg;
	struct nlattr *a;
	int len, rem;

	px->err = e->error;
	px->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	/* The TLVs follow the error and, unless capped, the whole request. */
	len = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN || e->msg.nlmsg_len > nlh->nlmsg_len)
			return NL_STOP;
		len += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if ((int)nlh->nlmsg_len <= len)
		return NL_STOP;
	a = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(len));
	rem = nlh->nlmsg_len - NLMSG_ALIGN(len);
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(px->errmsg, sizeof(px->errmsg), "%.*s",
				 (int)strnlen(nla_data(a), nla_len(a)), (char *)nla_data(a));
	return NL_STOP;
}

/* ADDR:PORT or [ADDR6]:PORT from whichever address attribute is there. */
int px_endpoint_parse(const char *s, struct px_endpoint *ep)
{
	char buf[INET6_ADDRSTRLEN + 10], *host = buf, *colon, *end;
	unsigned long p;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] < '0' || colon[1] > '9' || !p || p > 65535)
		return -1;
	ep->port = p;
	if (buf[0] == '[' && colon > buf + 1 && colon[-1] == ']') {
		colon[-1] = 0;
		host = buf + 1;
		ep->family = AF_INET6;
	} else {
		ep->family = AF_INET;
	}
	memset(ep->addr, 0, sizeof(ep->addr));
	return inet_pton(ep->family, host, ep->addr) == 1 ? 0 : -1;
}

void px_endpoint_format(char *buf, size_t n, const struct px_endpoint *ep)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(ep->family, ep->addr, a, sizeof(a));
	snprintf(buf, n, ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, ep->port);
}

/* An endpoint from a reply's attributes; -1 if they do not make one. */
static int endpoint_from_attrs(struct px_endpoint *ep, struct nlattr *v4, struct nlattr *v6,
			       struct nlattr *port)
{
	if (!port || !!v4 == !!v6)
		return -1;
	memset(ep, 0, sizeof(*ep));
	ep->family = v4 ? AF_INET : AF_INET6;
	memcpy(ep->addr, nla_data(v4 ? v4 : v6), v4 ? 4 : 16);
	ep->port = nla_get_u16(port);
	return 0;
}

const char *px_stat_name(unsigned int stat)
{
	return stat <= COLO_PROXY_STAT_MAX ? stat_names[stat] : NULL;
}

const char *px_reason_name(uint32_t reason)
{
	return reason <= COLO_PROXY_REASON_MAX && reason_names[reason] ?
	       reason_names[reason] : "unknown";
}

int px_instance_parse(struct nlmsghdr *nlh, struct px_instance *in)
{
	struct nlattr *tb[COLO_PROXY_A_MAX + 1], *st[COLO_PROXY_STAT_MAX + 1];
	int i;

	if (!genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_parse(nlh, 0, tb, COLO_PROXY_A_MAX, instance_policy) ||
	    !all_present(tb, COLO_PROXY_A_IFINDEX, COLO_PROXY_A_IFNAME, COLO_PROXY_A_ROLE,
			 COLO_PROXY_A_STATE, COLO_PROXY_A_TIMEOUT_MS, COLO_PROXY_A_QUEUE_PACKETS,
			 COLO_PROXY_A_QUEUE_BYTES, COLO_PROXY_A_CONN_MAX, COLO_PROXY_A_HOLD_PACKETS,
			 COLO_PROXY_A_HOLD_BYTES, COLO_PROXY_A_STATS, -1) ||
	    endpoint_from_attrs(&in->local, tb[COLO_PROXY_A_LOCAL_ADDR],
				tb[COLO_PROXY_A_LOCAL_ADDR6], tb[COLO_PROXY_A_LOCAL_PORT]) ||
	    endpoint_from_attrs(&in->peer, tb[COLO_PROXY_A_PEER_ADDR],
				tb[COLO_PROXY_A_PEER_ADDR6], tb[COLO_PROXY_A_PEER_PORT]))
		return -1;
	in->ifindex = nla_get_u32(tb[COLO_PROXY_A_IFINDEX]);
	/* The policy bounds the name to IF_NAMESIZE bytes with its terminator. */
	snprintf(in->ifname, sizeof(in->ifname), "%s", nla_get_string(tb[COLO_PROXY_A_IFNAME]));
	in->role = nla_get_u8(tb[COLO_PROXY_A_ROLE]);
	in->state = nla_get_u8(tb[COLO_PROXY_A_STATE]);
	in->timeout_ms = nla_get_u32(tb[COLO_PROXY_A_TIMEOUT_MS]);
	in->queue_packets = nla_get_u32(tb[COLO_PROXY_A_QUEUE_PACKETS]);
	in->queue_bytes = nla_get_u32(tb[COLO_PROXY_A_QUEUE_BYTES]);
	in->conn_max = nla_get_u32(tb[COLO_PROXY_A_CONN_MAX]);
	in->hold_packets = nla_get_u32(tb[COLO_PROXY_A_HOLD_PACKETS]);
	in->hold_bytes = nla_get_u32(tb[COLO_PROXY_A_HOLD_BYTES]);
	memset(in->stats, 0, sizeof(in->stats));
	if (!nla_parse_nested(st, COLO_PROXY_STAT_MAX, tb[COLO_PROXY_A_STATS], stats_policy))
		for (i = 1; i <= COLO_PROXY_STAT_MAX; i++)
			if (st[i] && stat_names[i])
				in->stats[i] = nla_get_u64(st[i]);
	return 0;
}

static void print_instance(struct px *px, const struct px_instance *in)
{
	char local[INET6_ADDRSTRLEN + 10], peer[INET6_ADDRSTRLEN + 10];
	const uint64_t *st = in->stats;
	const char *role, *state;
	int i;

	px_endpoint_format(local, sizeof(local), &in->local);
	px_endpoint_format(peer, sizeof(peer), &in->peer);
	role = in->role == COLO_PROXY_ROLE_PRIMARY ? "primary" : "secondary";
	state = in->state == COLO_PROXY_STATE_FAILED_OVER ? "failed-over" : "replicating";
	if (px->json) {
		printf("%s{\"dev\":", px->printed ? "," : "");
		print_json_string(in->ifname);
		printf(",\"ifindex\":%u,\"role\":\"%s\",\"state\":\"%s\","
		       "\"local\":\"%s\",\"peer\":\"%s\",\"timeout_ms\":%u,"
		       "\"queue_packets\":%u,\"queue_bytes\":%u,\"conn_max\":%u,"
		       "\"hold_packets\":%u,\"hold_bytes\":%u,\"stats\":{",
		       in->ifindex, role, state, local, peer, in->timeout_ms, in->queue_packets,
		       in->queue_bytes, in->conn_max, in->hold_packets, in->hold_bytes);
		for (i = COLO_PROXY_STAT_PVM_FRAMES; i <= COLO_PROXY_STAT_MAX; i++)
			printf("%s\"%s\":%" PRIu64, i == COLO_PROXY_STAT_PVM_FRAMES ? "" : ",",
			       stat_names[i], st[i]);
		printf("}}");
	} else if (px->stats_only) {
		for (i = COLO_PROXY_STAT_PVM_FRAMES; i <= COLO_PROXY_STAT_MAX; i++)
			printf("%-24s %" PRIu64 "\n", stat_names[i], st[i]);
	} else {
		printf("%s: %s %s tunnel %s -> %s timeout %ums queue %u packets %u bytes\n"
		       "    conn-max %u hold %u packets %u bytes\n",
		       in->ifname, role, state, local, peer, in->timeout_ms, in->queue_packets,
		       in->queue_bytes, in->conn_max, in->hold_packets, in->hold_bytes);
		printf("    connections %" PRIu64 " held %" PRIu64 " released %" PRIu64
		       " compared %" PRIu64 " bytes mismatches %" PRIu64 " checkpoints %" PRIu64 "\n",
		       st[COLO_PROXY_STAT_CONNECTIONS], st[COLO_PROXY_STAT_HELD],
		       st[COLO_PROXY_STAT_RELEASED], st[COLO_PROXY_STAT_COMPARED_BYTES],
		       st[COLO_PROXY_STAT_MISMATCHES], st[COLO_PROXY_STAT_CHECKPOINTS]);
	}
}

int px_instance_cb(struct nl_msg *msg, void *arg)
{
	struct px_instance in;
	struct px *px = arg;

	if (px_instance_parse(nlmsg_hdr(msg), &in))
		return NL_SKIP;
	print_instance(px, &in);
	px->printed++;
	return NL_OK;
}

/* The address attribute holds exactly one address of the family given. */
static int addr_fits(struct nlattr *family, struct nlattr *addr)
{
	switch (nla_get_u8(family)) {
	case AF_INET:
		return nla_len(addr) == 4;
	case AF_INET6:
		return nla_len(addr) == 16;
	default:
		return 0;
	}
}

int px_event_parse(struct nlmsghdr *nlh, struct px_event *ev)
{
	struct nlattr *tb[COLO_PROXY_A_MAX + 1], *c[COLO_PROXY_CONN_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlh);

	if (!genlmsg_valid_hdr(nlh, 0) || gh->cmd != COLO_PROXY_CMD_CHECKPOINT_REQUEST ||
	    genlmsg_parse(nlh, 0, tb, COLO_PROXY_A_MAX, instance_policy) ||
	    !all_present(tb, COLO_PROXY_A_IFINDEX, COLO_PROXY_A_REASON, -1))
		return -1;
	memset(ev, 0, sizeof(*ev));
	ev->ifindex = nla_get_u32(tb[COLO_PROXY_A_IFINDEX]);
	ev->reason = nla_get_u32(tb[COLO_PROXY_A_REASON]);
	if (tb[COLO_PROXY_A_CONN] &&
	    !nla_parse_nested(c, COLO_PROXY_CONN_MAX, tb[COLO_PROXY_A_CONN], conn_policy) &&
	    all_present(c, COLO_PROXY_CONN_FAMILY, COLO_PROXY_CONN_PROTO, COLO_PROXY_CONN_GUEST_ADDR,
			COLO_PROXY_CONN_GUEST_PORT, COLO_PROXY_CONN_PEER_ADDR,
			COLO_PROXY_CONN_PEER_PORT, -1) &&
	    addr_fits(c[COLO_PROXY_CONN_FAMILY], c[COLO_PROXY_CONN_GUEST_ADDR]) &&
	    addr_fits(c[COLO_PROXY_CONN_FAMILY], c[COLO_PROXY_CONN_PEER_ADDR])) {
		ev->has_conn = 1;
		ev->conn_family = nla_get_u8(c[COLO_PROXY_CONN_FAMILY]);
		ev->proto = nla_get_u8(c[COLO_PROXY_CONN_PROTO]);
		/* addr_fits(): 4 or 16 bytes, as many as the arrays hold at most */
		memcpy(ev->guest_addr, nla_data(c[COLO_PROXY_CONN_GUEST_ADDR]),
		       nla_len(c[COLO_PROXY_CONN_GUEST_ADDR]));
		memcpy(ev->peer_addr, nla_data(c[COLO_PROXY_CONN_PEER_ADDR]),
		       nla_len(c[COLO_PROXY_CONN_PEER_ADDR]));
		ev->guest_port = nla_get_u16(c[COLO_PROXY_CONN_GUEST_PORT]);
		ev->peer_port = nla_get_u16(c[COLO_PROXY_CONN_PEER_PORT]);
	}
	return 0;
}

static void print_event(const struct px *px, const struct px_event *ev)
{
	char ifname[IF_NAMESIZE] = "?", conn[160] = "";

	if_indextoname(ev->ifindex, ifname);
	if (ev->has_conn) {
		char g[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN];

		inet_ntop(ev->conn_family, ev->guest_addr, g, sizeof(g));
		inet_ntop(ev->conn_family, ev->peer_addr, p, sizeof(p));
		snprintf(conn, sizeof(conn), px->json ?
			 "\"proto\":%u,\"guest\":\"%s\",\"guest_port\":%u,\"peer\":\"%s\",\"peer_port\":%u" :
			 "proto %u guest %s port %u peer %s port %u",
			 ev->proto, g, ev->guest_port, p, ev->peer_port);
	}
	if (px->json)
		printf("{\"event\":\"checkpoint-request\",\"dev\":\"%s\",\"reason\":\"%s\"%s%s}\n",
		       ifname, px_reason_name(ev->reason), conn[0] ? "," : "", conn);
	else
		printf("checkpoint-request dev %s reason %s%s%s\n", ifname,
		       px_reason_name(ev->reason), conn[0] ? " " : "", conn);
	fflush(stdout);
}

int px_event_cb(struct nl_msg *msg, void *arg)
{
	struct px *px = arg;
	struct px_event ev;

	if (px_event_parse(nlmsg_hdr(msg), &ev))
		return NL_SKIP;
	print_event(px, &ev);
	if (px->count > 0 && !--px->count)
		px->done = 1;
	return NL_OK;
}
