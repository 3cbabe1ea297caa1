/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colo_proxy generic netlink requests (libnl-genl-3), shared by coloctl
 * (proxy.c) and colod (tools/colod/proxy.c): the request socket, building a
 * request and running it to its ack or the end of its dump. Nothing here
 * prints: a failure comes back as a negative errno with its reason written
 * to the caller's buffer, which coloctl prints after "coloctl proxy: " and
 * colod passes on.
 */
#ifndef COLOCTL_PROXY_NL_H
#define COLOCTL_PROXY_NL_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/handlers.h>
#include <netlink/netlink.h>

#include "proxy_msg.h"

/* Room for any reason below: strerror() and the kernel's message (px->errmsg) */
#define PX_ERR_MAX	320

/*
 * Opens px->sk with extended acks on and resolves the family into
 * px->family. -EIO when there is no socket, -ENOENT when the family is not
 * registered (colo_proxy.ko not loaded); px->sk is then NULL.
 */
int px_open(struct px *px, char *err, size_t errlen);

/* A request for @cmd with @flags (NLM_F_DUMP or 0), NULL without memory. */
struct nl_msg *px_msg(struct px *px, uint8_t cmd, int flags);

/* Puts @ep as @attr4 or @attr6 and @attr_port; 0, or -EMSGSIZE when it does not fit. */
int px_put_endpoint(struct nl_msg *msg, const struct px_endpoint *ep, int attr4, int attr6,
		    int attr_port);

/*
 * Sends @msg (always freed) and receives until its ack, its error or the
 * end of its dump, handing each reply to @valid (may be NULL) with
 * @valid_arg. 0, or a negative errno with the reason in @err:
 *   - the kernel's rejection: its errno, "<strerror>[: <extack message>]",
 *     and px->err is that errno; the socket stays usable;
 *   - -EIO, "send: ..." or "receive: ...": px->err is 0, and replies to the
 *     request may still be queued on the socket.
 */
int px_transact(struct px *px, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *valid_arg,
		char *err, size_t errlen);

#endif
