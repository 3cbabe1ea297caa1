// SPDX-License-Identifier: GPL-2.0
/*
 * The agent connection: whole messages out, whole messages in, each bounded
 * by a timeout so that a silent or slow peer cannot stall the agent for
 * ever. The receive buffer is allocated once at the largest message the
 * protocol allows (proto.h), and a header announcing more is refused before
 * its body is read.
 *
 * While it waits on the agent connection, the link also reads corosync's
 * membership (link_watch_cluster()): a peer that leaves the cluster ends
 * the wait at once (-ENOTCONN) instead of at the timeout, which is what
 * bounds the primary's pause and the secondary's takeover by corosync's
 * detection time when the other host dies in the middle of a message.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "colod.h"

#define LINK_IO_TIMEOUT_MS 30000

static struct colod *watched;

void link_watch_cluster(struct colod *d)
{
	watched = d;
}

static int wait_io(int fd, short events, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000;
	bool agent = watched && fd == watched->agent_fd;
	struct pollfd p[3] = {
		{ .fd = fd, .events = events },
		{ .fd = agent ? watched->cluster.cpg_fd : -1, .events = POLLIN },
		{ .fd = agent ? watched->cluster.quorum_fd : -1, .events = POLLIN },
	};
	int r, i;

	for (;;) {
		uint64_t now = now_ns();

		if (now >= end)
			return -ETIMEDOUT;
		r = poll(p, 3, (end - now + 999999) / 1000000);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (p[0].revents)
			return 0;
		for (i = 1; i < 3; i++)
			if (p[i].revents && cluster_dispatch(watched, p[i].fd))
				p[1].fd = p[2].fd = -1;
		if (watched->cluster.peer_left_pending)
			return -ENOTCONN;
	}
}

int link_sendv(int fd, const void *head, size_t head_len, const void *body, size_t body_len)
{
	struct iovec iov[2] = {
		{ (void *)head, head_len },
		{ (void *)body, body_len },
	};
	struct iovec *v = iov;
	int cnt = body_len ? 2 : 1;

	while (cnt) {
		struct msghdr mh = { .msg_iov = v, .msg_iovlen = cnt };
		ssize_t w;
		int r = wait_io(fd, POLLOUT, LINK_IO_TIMEOUT_MS);

		if (r)
			return r;
		w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt && (size_t)w >= v->iov_len) {
			w -= v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= w;
		}
	}
	return 0;
}

int link_send(int fd, const void *buf, size_t len)
{
	return link_sendv(fd, buf, len, NULL, 0);
}

int link_send_msg(int fd, const struct colo_msg *m)
{
	unsigned char buf[COLO_ENCODE_MAX];
	int n = colo_msg_encode(buf, sizeof(buf), m, NULL);

	if (n < 0)
		return n;
	return link_send(fd, buf, n);
}

int link_send_error(int fd, const char *reason)
{
	struct colo_msg m = { .type = COLO_MSG_ERROR };
	size_t i;

	snprintf(m.error, sizeof(m.error), "%s", reason);
	for (i = 0; m.error[i]; i++)
		if (m.error[i] < 0x20 || m.error[i] > 0x7e)
			m.error[i] = '?';
	return link_send_msg(fd, &m);
}

static int recv_exact(int fd, unsigned char *buf, size_t len, int timeout_ms)
{
	while (len) {
		ssize_t r;
		int w = wait_io(fd, POLLIN, timeout_ms);

		if (w)
			return w;
		r = recv(fd, buf, len, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		buf += r;
		len -= r;
	}
	return 0;
}

/*
 * Reads one whole message into d->rxbuf and parses it; m points into
 * d->rxbuf until the next call. timeout_ms bounds the wait for the header;
 * the body then has LINK_IO_TIMEOUT_MS.
 */
int link_recv_msg(struct colod *d, struct colo_msg *m, int timeout_ms, const char **why)
{
	struct colo_hdr h;
	size_t consumed;
	int r;

	*why = "connection closed by the peer";
	r = recv_exact(d->agent_fd, d->rxbuf, COLO_HDR_SIZE, timeout_ms);
	if (r) {
		if (r == -ETIMEDOUT)
			*why = "no message from the peer in time";
		if (r == -ENOTCONN)
			*why = d->cluster.peer_left_why;
		return r;
	}
	r = colo_msg_hdr_parse(d->rxbuf, COLO_HDR_SIZE, &h, why);
	if (r <= 0)
		return r ? r : -EPROTO;
	r = recv_exact(d->agent_fd, d->rxbuf + COLO_HDR_SIZE, h.body_len, LINK_IO_TIMEOUT_MS);
	if (r) {
		*why = r == -ETIMEDOUT ? "a message from the peer stopped half way" :
		       r == -ENOTCONN ? d->cluster.peer_left_why :
					 "connection lost in the middle of a message";
		return r;
	}
	r = colo_msg_parse(d->rxbuf, COLO_HDR_SIZE + h.body_len, COLOD_PAGE_SIZE, m, &consumed, why);
	if (r == 1)
		return 0;
	return r ? r : -EPROTO;
}
