// SPDX-License-Identifier: GPL-2.0
/*
 * colod's control of colo_proxy.ko (proxy.h). Requests go through coloctl's
 * px_transact(); replies and events are read by coloctl's parsers
 * (px_instance_parse(), px_event_parse()), only the conversion to colod's
 * structures is here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "../coloctl/proxy_msg.h"
#include "../coloctl/proxy_nl.h"
#include "proxy.h"

/*
 * A checkpoint request is ~100 bytes and comes alone in its datagram; a
 * larger datagram is reported as a lost request (colod_proxy_events_read()).
 */
#define EVENTS_DATAGRAM_MAX	8192
/* Datagrams per colod_proxy_events_read() call */
#define EVENTS_READ_BUDGET	64

int colod_proxy_open(struct colod_proxy *p, char *err, size_t errlen)
{
	struct px px = { 0 };
	int rc;

	rc = px_open(&px, err, errlen);
	p->sk = px.sk;
	p->family = px.family;
	return rc;
}

void colod_proxy_close(struct colod_proxy *p)
{
	nl_socket_free(p->sk);
	p->sk = NULL;
}

/*
 * Starts a request for cmd on dev's instance, opening the socket first if a
 * failure closed it. On success *msg is the request, with the device's index.
 */
static int request_start(struct colod_proxy *p, uint8_t cmd, const char *dev,
			 struct nl_msg **msg, unsigned int *ifindex, char *err, size_t errlen)
{
	struct px px = { 0 };
	int rc;

	if (!p->sk) {
		rc = colod_proxy_open(p, err, errlen);
		if (rc)
			return rc;
	}
	*ifindex = if_nametoindex(dev);
	if (!*ifindex) {
		rc = errno ? -errno : -ENODEV;
		snprintf(err, errlen, "device '%s': %s", dev, strerror(-rc));
		return rc;
	}
	px.family = p->family;
	*msg = px_msg(&px, cmd, 0);
	if (!*msg || nla_put_u32(*msg, COLO_PROXY_A_IFINDEX, *ifindex)) {
		nlmsg_free(*msg);
		snprintf(err, errlen, "out of memory for a netlink request");
		return -ENOMEM;
	}
	return 0;
}

/* Runs msg (freed), replies to valid(msg, arg) */
static int request_run(struct colod_proxy *p, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid,
		       void *arg, char *err, size_t errlen)
{
	struct px px = { .sk = p->sk, .family = p->family };
	int rc;

	rc = px_transact(&px, msg, valid, arg, err, errlen);
	/*
	 * Unless the kernel answered, replies to this request may still be
	 * queued and would be taken for the next request's: start afresh.
	 */
	if (rc && !px.err)
		colod_proxy_close(p);
	return rc;
}

static int request_simple(struct colod_proxy *p, uint8_t cmd, const char *dev, char *err,
			  size_t errlen)
{
	unsigned int ifindex;
	struct nl_msg *msg;
	int rc;

	rc = request_start(p, cmd, dev, &msg, &ifindex, err, errlen);
	return rc ? rc : request_run(p, msg, NULL, NULL, err, errlen);
}

/* The same, with one flag attribute set. */
static int request_flagged(struct colod_proxy *p, uint8_t cmd, const char *dev, int flag,
			   char *err, size_t errlen)
{
	unsigned int ifindex;
	struct nl_msg *msg;
	int rc;

	rc = request_start(p, cmd, dev, &msg, &ifindex, err, errlen);
	if (rc)
		return rc;
	nla_put_flag(msg, flag);
	return request_run(p, msg, NULL, NULL, err, errlen);
}

static int endpoint_from_sockaddr(const char *what, const struct sockaddr_storage *ss,
				  uint16_t port, struct px_endpoint *ep, char *err, size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = ss->ss_family;
	ep->port = port;
	switch (ss->ss_family) {
	case AF_INET:
		memcpy(ep->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 0;
	case AF_INET6:
		memcpy(ep->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return 0;
	default:
		snprintf(err, errlen, "%s address: family %d is neither AF_INET nor AF_INET6",
			 what, ss->ss_family);
		return -EAFNOSUPPORT;
	}
}

int colod_proxy_add(struct colod_proxy *p, const char *dev, int role,
		    const struct sockaddr_storage *local, uint16_t local_port,
		    const struct sockaddr_storage *peer, uint16_t peer_port,
		    uint32_t timeout_ms, uint32_t queue_bytes, char *err, size_t errlen)
{
	struct px_endpoint local_ep, peer_ep;
	unsigned int ifindex;
	struct nl_msg *msg;
	int rc;

	/* The attribute is a u8: a bad role must not wrap into a good one. */
	if (role != COLO_PROXY_ROLE_PRIMARY && role != COLO_PROXY_ROLE_SECONDARY) {
		snprintf(err, errlen, "role %d is neither primary (%d) nor secondary (%d)", role,
			 COLO_PROXY_ROLE_PRIMARY, COLO_PROXY_ROLE_SECONDARY);
		return -EINVAL;
	}
	rc = endpoint_from_sockaddr("local", local, local_port, &local_ep, err, errlen);
	if (!rc)
		rc = endpoint_from_sockaddr("peer", peer, peer_port, &peer_ep, err, errlen);
	if (!rc)
		rc = request_start(p, COLO_PROXY_CMD_NEW, dev, &msg, &ifindex, err, errlen);
	if (rc)
		return rc;
	if (nla_put_u8(msg, COLO_PROXY_A_ROLE, role) ||
	    px_put_endpoint(msg, &local_ep, COLO_PROXY_A_LOCAL_ADDR, COLO_PROXY_A_LOCAL_ADDR6,
			    COLO_PROXY_A_LOCAL_PORT) ||
	    px_put_endpoint(msg, &peer_ep, COLO_PROXY_A_PEER_ADDR, COLO_PROXY_A_PEER_ADDR6,
			    COLO_PROXY_A_PEER_PORT) ||
	    (timeout_ms && nla_put_u32(msg, COLO_PROXY_A_TIMEOUT_MS, timeout_ms)) ||
	    (queue_bytes && nla_put_u32(msg, COLO_PROXY_A_QUEUE_BYTES, queue_bytes))) {
		nlmsg_free(msg);
		snprintf(err, errlen, "the request does not fit in a netlink message");
		return -EMSGSIZE;
	}
	return request_run(p, msg, NULL, NULL, err, errlen);
}

int colod_proxy_set_timeout(struct colod_proxy *p, const char *dev, uint32_t timeout_ms,
			    char *err, size_t errlen)
{
	unsigned int ifindex;
	struct nl_msg *msg;
	int rc;

	rc = request_start(p, COLO_PROXY_CMD_SET, dev, &msg, &ifindex, err, errlen);
	if (rc)
		return rc;
	if (nla_put_u32(msg, COLO_PROXY_A_TIMEOUT_MS, timeout_ms)) {
		nlmsg_free(msg);
		snprintf(err, errlen, "the request does not fit in a netlink message");
		return -EMSGSIZE;
	}
	return request_run(p, msg, NULL, NULL, err, errlen);
}

int colod_proxy_del(struct colod_proxy *p, const char *dev, char *err, size_t errlen)
{
	return request_simple(p, COLO_PROXY_CMD_DEL, dev, err, errlen);
}

int colod_proxy_checkpoint(struct colod_proxy *p, const char *dev, bool await_peer,
			   char *err, size_t errlen)
{
	if (!await_peer)
		return request_simple(p, COLO_PROXY_CMD_CHECKPOINT, dev, err, errlen);
	return request_flagged(p, COLO_PROXY_CMD_CHECKPOINT, dev, COLO_PROXY_A_AWAIT_PEER,
			       err, errlen);
}

int colod_proxy_seal(struct colod_proxy *p, const char *dev, char *err, size_t errlen)
{
	return request_simple(p, COLO_PROXY_CMD_SEAL, dev, err, errlen);
}

int colod_proxy_release_input(struct colod_proxy *p, const char *dev, char *err, size_t errlen)
{
	return request_simple(p, COLO_PROXY_CMD_RELEASE_INPUT, dev, err, errlen);
}

int colod_proxy_failover(struct colod_proxy *p, const char *dev, char *err, size_t errlen)
{
	return request_simple(p, COLO_PROXY_CMD_FAILOVER, dev, err, errlen);
}

struct stats_reply {
	unsigned int ifindex;		/* asked for */
	struct colod_proxy_stats *st;
	bool found;
};

static int stats_cb(struct nl_msg *msg, void *arg)
{
	struct stats_reply *reply = arg;
	struct colod_proxy_stats *st = reply->st;
	struct px_instance in;

	if (px_instance_parse(nlmsg_hdr(msg), &in) || in.ifindex != reply->ifindex)
		return NL_SKIP;
	st->ifindex = in.ifindex;
	st->role = in.role;
	st->state = in.state;
	st->timeout_ms = in.timeout_ms;
	st->queue_packets = in.queue_packets;
	st->queue_bytes = in.queue_bytes;
	memcpy(st->counters, in.stats, sizeof(st->counters));
	reply->found = true;
	return NL_OK;
}

int colod_proxy_stats(struct colod_proxy *p, const char *dev, struct colod_proxy_stats *st,
		      char *err, size_t errlen)
{
	struct stats_reply reply = { .st = st };
	struct nl_msg *msg;
	int rc;

	rc = request_start(p, COLO_PROXY_CMD_GET, dev, &msg, &reply.ifindex, err, errlen);
	if (!rc)
		rc = request_run(p, msg, stats_cb, &reply, err, errlen);
	if (!rc && !reply.found) {
		snprintf(err, errlen, "the kernel's reply for device '%s' is not an instance", dev);
		return -EPROTO;
	}
	return rc;
}

const char *colod_proxy_stat_name(unsigned int stat)
{
	return px_stat_name(stat);
}

int colod_proxy_events_open(struct colod_proxy_events *e, char *err, size_t errlen)
{
	struct px px = { 0 };
	int group, rc;

	rc = px_open(&px, err, errlen);
	e->sk = px.sk;
	e->family = px.family;
	if (rc)
		return rc;
	group = genl_ctrl_resolve_grp(e->sk, COLO_PROXY_GENL_NAME, COLO_PROXY_MCGRP_EVENTS);
	if (group < 0) {
		snprintf(err, errlen, "generic netlink family '%s' has no '%s' group: %s",
			 COLO_PROXY_GENL_NAME, COLO_PROXY_MCGRP_EVENTS, nl_geterror(group));
		rc = -ENOENT;
	} else if (nl_socket_add_membership(e->sk, group) || nl_socket_set_nonblocking(e->sk)) {
		snprintf(err, errlen, "cannot join the '%s' group of '%s'",
			 COLO_PROXY_MCGRP_EVENTS, COLO_PROXY_GENL_NAME);
		rc = -EIO;
	}
	if (rc)
		colod_proxy_events_close(e);
	return rc;
}

int colod_proxy_events_fd(const struct colod_proxy_events *e)
{
	return nl_socket_get_fd(e->sk);
}

static void sockaddr_from(struct sockaddr_storage *ss, int family, const unsigned char *addr,
			  uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		sin6->sin6_port = htons(port);
	}
}

static void event_from(struct colod_proxy_event *ev, const struct px_event *pev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ifindex = pev->ifindex;
	ev->reason = pev->reason;
	ev->reason_name = px_reason_name(pev->reason);
	if (!pev->has_conn)
		return;
	/* px_event_parse(): conn_family is AF_INET or AF_INET6 */
	ev->has_conn = true;
	ev->proto = pev->proto;
	sockaddr_from(&ev->guest, pev->conn_family, pev->guest_addr, pev->guest_port);
	sockaddr_from(&ev->remote, pev->conn_family, pev->peer_addr, pev->peer_port);
}

int colod_proxy_events_read(struct colod_proxy_events *e,
			    void (*cb)(void *arg, const struct colod_proxy_event *ev), void *arg,
			    char *err, size_t errlen)
{
	char buf[EVENTS_DATAGRAM_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
	int delivered = 0, i;

	for (i = 0; i < EVENTS_READ_BUDGET; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		struct colod_proxy_event ev;
		struct nlmsghdr *nlh;
		struct px_event pev;
		ssize_t n;
		int rem, rc;

		/* MSG_TRUNC: n is the datagram's whole length, even beyond buf */
		n = recvfrom(nl_socket_get_fd(e->sk), buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			rc = -errno;
			if (rc == -ENOBUFS)
				snprintf(err, errlen,
					 "checkpoint requests lost: the events socket overflowed");
			else
				snprintf(err, errlen, "events: receive: %s", strerror(-rc));
			return rc;
		}
		if (n > (ssize_t)sizeof(buf)) {
			snprintf(err, errlen, "checkpoint request lost: %zd-byte events datagram",
				 n);
			return -EMSGSIZE;
		}
		/* Only the kernel sends to the group; anyone may send to the port. */
		if (fromlen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid)
			continue;
		rem = n;
		nlh = (struct nlmsghdr *)buf;
		for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type != e->family || px_event_parse(nlh, &pev))
				continue;
			event_from(&ev, &pev);
			cb(arg, &ev);
			delivered++;
		}
	}
	return delivered;
}

void colod_proxy_events_close(struct colod_proxy_events *e)
{
	nl_socket_free(e->sk);
	e->sk = NULL;
}
