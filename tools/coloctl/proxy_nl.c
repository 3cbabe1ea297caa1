// SPDX-License-Identifier: GPL-2.0
/*
 * colo_proxy generic netlink requests (proxy_nl.h): one request at a time on
 * a socket, the replies checked by libnl's sequence numbers, rejections
 * explained by the kernel's extended ack (px_err_cb() in proxy_msg.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "proxy_nl.h"

int px_open(struct px *px, char *err, size_t errlen)
{
	int one = 1, rc;

	px->sk = nl_socket_alloc();
	if (!px->sk || genl_connect(px->sk)) {
		snprintf(err, errlen, "cannot open a generic netlink socket");
		rc = -EIO;
	} else {
		setsockopt(nl_socket_get_fd(px->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
			   sizeof(one));
		px->family = genl_ctrl_resolve(px->sk, COLO_PROXY_GENL_NAME);
		if (px->family >= 0)
			return 0;
		snprintf(err, errlen,
			 "generic netlink family '%s' not found (is colo_proxy.ko loaded?)",
			 COLO_PROXY_GENL_NAME);
		rc = -ENOENT;
	}
	nl_socket_free(px->sk);
	px->sk = NULL;
	return rc;
}

static int px_ack_cb(struct nl_msg *msg, void *arg)
{
	((struct px *)arg)->done = 1;
	return NL_STOP;
}

static int px_finish_cb(struct nl_msg *msg, void *arg)
{
	((struct px *)arg)->done = 1;
	return NL_SKIP;
}

int px_transact(struct px *px, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *valid_arg,
		char *err, size_t errlen)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc;

	px->done = 0;
	px->err = 0;
	px->errmsg[0] = 0;
	if (!cb) {
		nlmsg_free(msg);
		snprintf(err, errlen, "out of memory for netlink callbacks");
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, px_err_cb, px);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, px_ack_cb, px);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, px_finish_cb, px);
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, valid_arg);
	rc = nl_send_auto(px->sk, msg);
	nlmsg_free(msg);
	if (rc < 0) {
		snprintf(err, errlen, "send: %s", nl_geterror(rc));
		nl_cb_put(cb);
		return -EIO;
	}
	while (!px->done) {
		rc = nl_recvmsgs(px->sk, cb);
		if (rc < 0 && !px->done) {
			snprintf(err, errlen, "receive: %s", nl_geterror(rc));
			nl_cb_put(cb);
			return -EIO;
		}
	}
	nl_cb_put(cb);
	if (px->err) {
		snprintf(err, errlen, "%s%s%s", strerror(-px->err), px->errmsg[0] ? ": " : "",
			 px->errmsg);
		return px->err;
	}
	return 0;
}

struct nl_msg *px_msg(struct px *px, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	/* The header always fits in a new message. */
	if (msg)
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, px->family, 0, flags, cmd,
			    COLO_PROXY_GENL_VERSION);
	return msg;
}

int px_put_endpoint(struct nl_msg *msg, const struct px_endpoint *ep, int attr4, int attr6,
		    int attr_port)
{
	int rc;

	if (ep->family == AF_INET6)
		rc = nla_put(msg, attr6, 16, ep->addr);
	else
		rc = nla_put(msg, attr4, 4, ep->addr);
	return rc || nla_put_u16(msg, attr_port, ep->port) ? -EMSGSIZE : 0;
}
