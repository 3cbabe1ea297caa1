// SPDX-License-Identifier: GPL-2.0
/*
 * Send random and malformed generic netlink messages to one family and check
 * that every one is answered the way netlink promises: an error code, an
 * acknowledgement, or a dump that ends - never silence (except for messages
 * whose own header lies about their length, which netlink drops by design).
 *
 * Usage: hostile_genl FAMILY COUNT SEED
 * Prints one summary line per errno seen and "distinct=N" (distinct inputs).
 * Exits 1 when a reply is missing or malformed.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.h"

#define MSG_MAX 4096

static int nl_sock;
static uint32_t seq;

static int nl_send(const void *buf, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	return sendto(nl_sock, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0 ? -errno : 0;
}

/*
 * Read the replies to sequence number want: returns the errno carried by the
 * final NLMSG_ERROR/NLMSG_DONE (0 for an ack or a clean dump end), -ETIME
 * when nothing came within timeout_ms, -EPROTO for a malformed reply.
 */
static int nl_wait_reply(uint32_t want, int timeout_ms)
{
	static char buf[1 << 16];

	for (;;) {
		struct pollfd pfd = { .fd = nl_sock, .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t len;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -ETIME;
		len = recv(nl_sock, buf, sizeof(buf), 0);
		if (len < 0)
			return errno == ENOBUFS ? -ENOBUFS : -EPROTO;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != want)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || e->error > 0)
					return -EPROTO;
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				return err > 0 ? -EPROTO : err;
			}
		}
	}
}

struct family {
	uint16_t id;
	uint32_t maxattr;
	uint32_t maxcmd;
};

static int resolve_family(const char *name, struct family *fam)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
		char attrs[256];
	} req = { 0 };
	static char buf[1 << 16];
	struct nlattr *nla;
	struct nlmsghdr *nlh;
	size_t namelen = strlen(name) + 1;
	ssize_t len;
	int rem;

	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = ++seq;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	nla = (struct nlattr *)req.attrs;
	nla->nla_type = CTRL_ATTR_FAMILY_NAME;
	nla->nla_len = NLA_HDRLEN + namelen;
	memcpy((char *)nla + NLA_HDRLEN, name, namelen);
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(nla->nla_len));
	if (nl_send(&req, req.nlh.nlmsg_len))
		return -1;
	len = recv(nl_sock, buf, sizeof(buf), 0);
	nlh = (struct nlmsghdr *)buf;
	if (len < 0 || !NLMSG_OK(nlh, (size_t)len) || nlh->nlmsg_type == NLMSG_ERROR)
		return -1;
	rem = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (nla = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	     rem >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN && nla->nla_len <= rem;
	     rem -= NLA_ALIGN(nla->nla_len), nla = (struct nlattr *)((char *)nla + NLA_ALIGN(nla->nla_len))) {
		void *data = (char *)nla + NLA_HDRLEN;

		switch (nla->nla_type & NLA_TYPE_MASK) {
		case CTRL_ATTR_FAMILY_ID:
			memcpy(&fam->id, data, sizeof(fam->id));
			break;
		case CTRL_ATTR_MAXATTR:
			memcpy(&fam->maxattr, data, sizeof(fam->maxattr));
			break;
		case CTRL_ATTR_OPS: {
			/* nested list of ops, each with CTRL_ATTR_OP_ID */
			struct nlattr *op = data;
			int oprem = nla->nla_len - NLA_HDRLEN;

			while (oprem >= NLA_HDRLEN && op->nla_len >= NLA_HDRLEN && op->nla_len <= oprem) {
				struct nlattr *a = (struct nlattr *)((char *)op + NLA_HDRLEN);
				int arem = op->nla_len - NLA_HDRLEN;

				while (arem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= arem) {
					uint32_t id;

					if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_OP_ID) {
						memcpy(&id, (char *)a + NLA_HDRLEN, sizeof(id));
						if (id > fam->maxcmd)
							fam->maxcmd = id;
					}
					arem -= NLA_ALIGN(a->nla_len);
					a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
				}
				oprem -= NLA_ALIGN(op->nla_len);
				op = (struct nlattr *)((char *)op + NLA_ALIGN(op->nla_len));
			}
			break;
		}
		}
	}
	return fam->id ? 0 : -1;
}

/* Attribute payload sizes that sit on the edges of what policies check. */
static const uint16_t edge_lengths[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 20, 32, 64, 255, 256 };

/*
 * Append random attributes to buf[*off..limit). Nested attributes recurse.
 * Occasionally an attribute claims more bytes than follow it.
 */
static void add_attrs(char *buf, size_t *off, size_t limit, const struct family *fam, int depth)
{
	int n = rnd_below(depth ? 4 : 8);

	while (n-- > 0 && *off + NLA_HDRLEN + 8 <= limit) {
		struct nlattr *nla = (struct nlattr *)(buf + *off);
		size_t start = *off, room = limit - *off - NLA_HDRLEN;
		uint16_t type = rnd_below(fam->maxattr + 4);
		uint16_t len;
		size_t i;

		if (depth < 3 && rnd_below(4) == 0) {
			*off += NLA_HDRLEN;
			add_attrs(buf, off, limit, fam, depth + 1);
			nla->nla_type = type | NLA_F_NESTED;
			nla->nla_len = *off - start;
			continue;
		}
		if (rnd_below(3) == 0)
			len = rnd_below(room < 600 ? room : 600);
		else
			len = edge_lengths[rnd_below(sizeof(edge_lengths) / sizeof(edge_lengths[0]))];
		if (len > room)
			len = room;
		for (i = 0; i < len; i++) {
			switch (rnd_below(4)) {
			case 0:
				buf[*off + NLA_HDRLEN + i] = 0;
				break;
			case 1:
				buf[*off + NLA_HDRLEN + i] = (char)0xff;
				break;
			default:
				buf[*off + NLA_HDRLEN + i] = (char)rnd();
			}
		}
		nla->nla_type = type | (rnd_below(16) == 0 ? NLA_F_NESTED : 0);
		nla->nla_len = NLA_HDRLEN + len;
		if (rnd_below(32) == 0)
			nla->nla_len += 1 + rnd_below(64);	/* lies: longer than its data */
		else if (rnd_below(64) == 0)
			nla->nla_len = rnd_below(NLA_HDRLEN);	/* shorter than its header */
		*off += NLA_HDRLEN + NLA_ALIGN(len);
		if (*off > limit)
			*off = limit;
	}
}

int main(int argc, char **argv)
{
	static char buf[MSG_MAX];
	struct family fam = { 0 };
	unsigned long count, i, distinct = 0, acks = 0, dropped = 0;
	unsigned long by_errno[256] = { 0 };
	int bad = 0, e;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FAMILY COUNT SEED\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[2], NULL, 0);
	hostile_seed(strtoull(argv[3], NULL, 0));
	nl_sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (hostile_seen_init() || nl_sock < 0) {
		perror("hostile_genl: setup");
		return 1;
	}
	if (resolve_family(argv[1], &fam)) {
		fprintf(stderr, "hostile_genl: family %s not found\n", argv[1]);
		return 1;
	}
	printf("family %s id %u maxattr %u maxcmd %u\n", argv[1], fam.id, fam.maxattr, fam.maxcmd);

	for (i = 0; i < count; i++) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		struct genlmsghdr *g = (struct genlmsghdr *)NLMSG_DATA(nlh);
		size_t off = NLMSG_LENGTH(GENL_HDRLEN), sent_len;
		int lies = 0;

		memset(buf, 0, sizeof(buf));
		nlh->nlmsg_type = fam.id;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		if (rnd_below(4) == 0)
			nlh->nlmsg_flags |= NLM_F_DUMP;
		nlh->nlmsg_seq = ++seq;
		g->cmd = rnd_below(8) == 0 ? rnd() : rnd_below(fam.maxcmd + 3);
		g->version = rnd_below(3);
		add_attrs(buf, &off, sizeof(buf), &fam, 0);
		nlh->nlmsg_len = off;
		sent_len = off;
		if (rnd_below(64) == 0) {
			/* the header's length leaves out the genl header: too short */
			nlh->nlmsg_len = NLMSG_HDRLEN + rnd_below(GENL_HDRLEN);
		} else if (rnd_below(64) == 0) {
			nlh->nlmsg_len = off + 4 + rnd_below(128);	/* claims more than sent */
			lies = 1;
		}
		distinct += hostile_remember(buf, sent_len, 0);
		if (nl_send(buf, sent_len)) {
			by_errno[EIO]++;
			continue;
		}
		e = nl_wait_reply(nlh->nlmsg_seq, lies ? 50 : 2000);
		if (e == -ETIME && lies) {
			dropped++;
		} else if (e == -ETIME || e == -EPROTO) {
			fprintf(stderr, "message %lu (cmd %u, %zu bytes): %s\n", i, g->cmd, sent_len,
				e == -ETIME ? "no reply" : "malformed reply");
			bad++;
		} else if (e == 0) {
			acks++;
		} else {
			by_errno[-e < 256 ? -e : 255]++;
		}
	}
	for (e = 1; e < 256; e++)
		if (by_errno[e])
			printf("errno %-3d %-24s %lu\n", e, strerror(e), by_errno[e]);
	printf("sent=%lu distinct=%lu acked=%lu dropped_by_design=%lu unanswered=%d\n",
	       count, distinct, acks, dropped, bad);
	close(nl_sock);
	return bad ? 1 : 0;
}
