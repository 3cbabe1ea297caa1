// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's own NBD client (forward nbd://<addr>:<port>/<export>).
 *
 * Two reasons not to go through the nbd driver. It copies every write into
 * its socket (sock_sendmsg of the data), where this client hands the pages
 * of the forward bio to TCP as they are (kernel_sendpage, or
 * MSG_SPLICE_PAGES on kernels without it, 6.5 on; see Kbuild): a copy per
 * forwarded byte less. And the
 * connection belongs to the target: failover and removal shut it, which
 * fails what is in flight at once, where the nbd driver holds a request
 * until its timeout over a link that is gone, and its disconnect can wait
 * as long again.
 *
 * One TCP connection. The target's submit worker sends each request whole
 * under tx_lock; one thread reads the replies and completes the bios they
 * name. A request is entered in `reqs` (handle -> bio) before its first
 * byte goes out, since its reply may come before the send returns. A reply
 * to the request still being sent (a server that answers before it has the
 * data) waits for the send to end, so that the bio is never completed, and
 * its pages freed, under the sender. Anything else the server sends that
 * does not fit (a bad magic, an unknown handle) closes the connection, as
 * do a send that cannot go on and silence while requests wait, each for the
 * table's nbd_timeout (30 s by default; silence is seen after one to two
 * of it, as the reader checks once per timeout): every request in flight
 * then fails, and the primary degrades as on any forward error.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/kthread.h>
#include <linux/blkdev.h>
#include <linux/net.h>
#include <linux/xarray.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>

#include "colo.h"
#include "nbd-proto.h"

/* connect and handshake; after that, the table's nbd_timeout */
#define COLO_NBDC_CONNECT_TIMEOUT (10 * HZ)
#define COLO_NBDC_NOT_SENDING U64_MAX

struct colo_nbdc {
	const char *dev_name;		/* for the log: the target's device */
	struct net *net;		/* the socket's namespace, held */
	struct socket *sock;
	struct task_struct *rx;
	u16 tx_flags;

	struct mutex tx_lock;		/* one request on the wire at a time; dead */
	bool dead;			/* no more requests: the connection is shut */
	bool closing;			/* shut by the target (failover, removal) */
	struct xarray reqs;		/* handle -> bio, while its reply is due */
	u64 sending;			/* handle being sent, or COLO_NBDC_NOT_SENDING */
	wait_queue_head_t sent_wait;
};

static int colo_nbdc_handshake(struct colo_nbdc *c, const char *export, u64 need,
			       const char **why)
{
	u8 buf[CB_NBD_EXPORT_ZEROES_SIZE];
	struct kvec v[2];
	u16 hflags;
	u64 size;
	int ret;

	if (colo_nbd_recv(c->sock, buf, CB_NBD_GREETING_SIZE)) {
		/* what a replica does to a client other than its nbd_peer */
		*why = "No NBD greeting from the server: is this host's address its nbd_peer?";
		return -EPROTO;
	}
	ret = cb_nbd_parse_greeting(buf, &hflags, why);
	if (ret)
		return ret;
	cb_nbd_client_flags(buf, CB_NBD_FLAG_FIXED_NEWSTYLE | (hflags & CB_NBD_FLAG_NO_ZEROES));
	cb_nbd_export_name_option(buf + 4, strlen(export));
	v[0] = (struct kvec) { .iov_base = buf, .iov_len = 4 + CB_NBD_OPT_HDR_SIZE };
	v[1] = (struct kvec) { .iov_base = (void *)export, .iov_len = strlen(export) };
	if (colo_nbd_send(c->sock, v, 2, v[0].iov_len + v[1].iov_len)) {
		*why = "Cannot send the NBD export name";
		return -EIO;
	}
	/* NBD_OPT_EXPORT_NAME has no error reply: a server closes instead */
	if (colo_nbd_recv(c->sock, buf, CB_NBD_EXPORT_NAME_REPLY_SIZE)) {
		*why = "The NBD server closed the connection at the export name: is there an export of that name?";
		return -ENOENT;
	}
	ret = cb_nbd_parse_export_name_reply(buf, &size, &c->tx_flags, why);
	if (ret)
		return ret;
	if (!(hflags & CB_NBD_FLAG_NO_ZEROES) &&
	    colo_nbd_recv(c->sock, buf, CB_NBD_EXPORT_ZEROES_SIZE)) {
		*why = "The NBD server closed the connection after the export's flags";
		return -EPROTO;
	}
	if (size < need) {
		*why = "The NBD export is smaller than the target";
		return -ENOSPC;
	}
	/* checkpoints need the replica's data on its disk */
	if (!(c->tx_flags & CB_NBD_FLAG_SEND_FLUSH)) {
		*why = "The NBD export takes no flushes";
		return -EOPNOTSUPP;
	}
	return 0;
}

/* One page of data, given to the socket rather than copied where it allows. */
static int colo_nbdc_send_page(struct socket *sock, const struct bio_vec *bv, bool more)
{
	int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
	unsigned int off = bv->bv_offset, left = bv->bv_len;
	struct page *page = bv->bv_page;
	int n;

	while (left) {
#ifdef COLO_HAVE_KERNEL_SENDPAGE
		/* slab pages must be copied: TCP would hold them by reference */
		if (sendpage_ok(page))
			n = kernel_sendpage(sock, page, off, left, flags);
		else
			n = sock_no_sendpage(sock, page, off, left, flags);
#else
		struct msghdr msg = {
			.msg_flags = flags | (sendpage_ok(page) ? MSG_SPLICE_PAGES : 0),
		};
		struct bio_vec one;

		bvec_set_page(&one, page, left, off);
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &one, 1, left);
		n = sock_sendmsg(sock, &msg);
#endif
		if (n <= 0)
			return n ? n : -EIO;
		off += n;
		left -= n;
	}
	return 0;
}

static int colo_nbdc_send_data(struct colo_nbdc *c, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret;

	bio_for_each_segment(bv, bio, iter) {
		ret = colo_nbdc_send_page(c->sock, &bv, iter.bi_size > bv.bv_len);
		if (ret)
			return ret;
	}
	return 0;
}

static int colo_nbdc_send_header(struct socket *sock, u8 *hdr, bool more)
{
	struct kvec v = { .iov_base = hdr, .iov_len = CB_NBD_REQUEST_SIZE };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) };
	int n = kernel_sendmsg(sock, &msg, &v, 1, v.iov_len);

	return n == v.iov_len ? 0 : n < 0 ? n : -EIO;
}

static void colo_nbdc_sent(struct colo_nbdc *c)
{
	xa_lock(&c->reqs);
	WRITE_ONCE(c->sending, COLO_NBDC_NOT_SENDING);
	xa_unlock(&c->reqs);
	wake_up_all(&c->sent_wait);
}

/*
 * Sends a forward bio: a write, a discard, or an empty flush. It completes
 * with the server's answer, or with an error once the connection is shut.
 */
void colo_nbdc_submit(struct colo_nbdc *c, struct bio *bio)
{
	u32 len = bio->bi_iter.bi_size, id;
	u8 hdr[CB_NBD_REQUEST_SIZE];
	u16 type, flags = 0;
	int ret;

	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
		type = len ? CB_NBD_CMD_WRITE : CB_NBD_CMD_FLUSH;
		if (len && (bio->bi_opf & REQ_FUA) && (c->tx_flags & CB_NBD_FLAG_SEND_FUA))
			flags |= CB_NBD_CMD_FLAG_FUA;
		break;
	case REQ_OP_DISCARD:
		if (c->tx_flags & CB_NBD_FLAG_SEND_TRIM) {
			type = CB_NBD_CMD_TRIM;
			break;
		}
		fallthrough;
	default:
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}

	mutex_lock(&c->tx_lock);
	if (c->dead) {
		mutex_unlock(&c->tx_lock);
		bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
		return;
	}
	xa_lock(&c->reqs);
	ret = __xa_alloc(&c->reqs, &id, bio, xa_limit_32b, GFP_NOIO);
	if (!ret)
		WRITE_ONCE(c->sending, id);
	xa_unlock(&c->reqs);
	if (ret) {
		mutex_unlock(&c->tx_lock);
		bio->bi_status = BLK_STS_RESOURCE;
		bio_endio(bio);
		return;
	}
	cb_nbd_request(hdr, flags, type, id, (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT,
		       type == CB_NBD_CMD_FLUSH ? 0 : len);
	ret = colo_nbdc_send_header(c->sock, hdr, type == CB_NBD_CMD_WRITE);
	if (!ret && type == CB_NBD_CMD_WRITE)
		ret = colo_nbdc_send_data(c, bio);
	colo_nbdc_sent(c);
	/* part of a request went out: the stream is lost, the reader fails it */
	if (ret)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&c->tx_lock);
}

static blk_status_t colo_nbdc_blk_status(u32 error)
{
	switch (error) {
	case 0:
		return BLK_STS_OK;
	case CB_NBD_ENOSPC:
		return BLK_STS_NOSPC;
	case CB_NBD_ENOTSUP:
		return BLK_STS_NOTSUPP;
	default:
		return BLK_STS_IOERR;
	}
}

/*
 * One reply into buf: 0, 1 when the server was silent for the whole
 * timeout with nothing of a reply read, or a negative errno.
 */
static int colo_nbdc_recv_reply(struct colo_nbdc *c, u8 *buf)
{
	size_t got = 0;

	while (got < CB_NBD_REPLY_SIZE) {
		struct kvec v = { .iov_base = buf + got, .iov_len = CB_NBD_REPLY_SIZE - got };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		int n = kernel_recvmsg(c->sock, &msg, &v, 1, v.iov_len, MSG_WAITALL);

		if (n == -EAGAIN && !got)
			return 1;
		if (n <= 0)
			return n ? n : -ECONNRESET;
		got += n;
	}
	return 0;
}

/* The connection is over: no new request goes out, none waits any longer. */
static void colo_nbdc_fail_all(struct colo_nbdc *c)
{
	unsigned long id;
	struct bio *bio;

	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_lock(&c->tx_lock);
	WRITE_ONCE(c->dead, true);
	mutex_unlock(&c->tx_lock);
	xa_for_each(&c->reqs, id, bio) {
		if (xa_erase(&c->reqs, id) != bio)
			continue;
		bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
	}
}

static int colo_nbdc_rx(void *data)
{
	struct colo_nbdc *c = data;
	u8 buf[CB_NBD_REPLY_SIZE];
	const char *why = NULL;
	struct bio *bio;
	u64 handle;
	u32 error;
	int ret;

	for (;;) {
		ret = colo_nbdc_recv_reply(c, buf);
		if (ret == 1) {
			if (xa_empty(&c->reqs))
				continue;
			why = "the NBD server answered nothing within the timeout";
			break;
		}
		if (ret) {
			/* shut here (failover, removal), or by the server */
			why = READ_ONCE(c->closing) ? NULL : "the NBD connection was closed";
			break;
		}
		if (cb_nbd_parse_reply(buf, &error, &handle, &why))
			break;
		wait_event(c->sent_wait, READ_ONCE(c->sending) != handle);
		bio = handle <= U32_MAX ? xa_erase(&c->reqs, handle) : NULL;
		if (!bio) {
			why = "the NBD server answered a request it was not sent";
			break;
		}
		bio->bi_status = colo_nbdc_blk_status(error);
		bio_endio(bio);
	}
	if (why)
		DMWARN("%s: %s: the requests in flight fail", c->dev_name, why);
	colo_nbdc_fail_all(c);

	/* kthread_stop() reaps the thread */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/*
 * Connects to the server named on the table line and opens its export:
 * the constructor waits for that (COLO_NBDC_CONNECT_TIMEOUT at most), so
 * that a wrong address or export is refused with the reason in ti->error.
 * With nbd_source the connection leaves from that address, whatever the
 * route would pick: the replica lets in its nbd_peer alone.
 */
int colo_nbdc_open(struct colo_c *cc, struct colo_nbdc **out)
{
	struct dm_target *ti = cc->ti;
	struct sockaddr_storage addr, source;
	const char *why = NULL;
	struct colo_nbdc *c;
	struct sock *sk;
	int addr_len, ret;

	if (colo_nbd_parse_addr(cc->t.nbd_connect, true, &addr)) {
		ti->error = "Invalid NBD server address (nbd://<IPv4>:<port>/<export> or nbd://[<IPv6>]:<port>/<export>)";
		return -EINVAL;
	}
	if (cc->t.nbd_source[0]) {
		if (colo_nbd_parse_addr(cc->t.nbd_source, false, &source)) {
			ti->error = "Invalid nbd_source (an IPv4 or IPv6 address)";
			return -EINVAL;
		}
		if (source.ss_family != addr.ss_family) {
			ti->error = "nbd_source and the NBD server are not both IPv4 or both IPv6";
			return -EINVAL;
		}
	}
	addr_len = addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					       sizeof(struct sockaddr_in6);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ti->error = "Cannot allocate the NBD client";
		return -ENOMEM;
	}
	c->dev_name = dm_table_device_name(ti->table);
	mutex_init(&c->tx_lock);
	xa_init_flags(&c->reqs, XA_FLAGS_ALLOC);
	c->sending = COLO_NBDC_NOT_SENDING;
	init_waitqueue_head(&c->sent_wait);
	c->net = get_net(current->nsproxy->net_ns);

	ret = sock_create_kern(c->net, addr.ss_family, SOCK_STREAM, IPPROTO_TCP, &c->sock);
	if (ret) {
		ti->error = "Cannot create the NBD client's socket";
		goto bad_sock;
	}
	sk = c->sock->sk;
	/* it writes out what the guest wrote: its memory must not wait on I/O */
	sk->sk_allocation = GFP_NOIO;
	sk->sk_sndtimeo = COLO_NBDC_CONNECT_TIMEOUT;
	sk->sk_rcvtimeo = COLO_NBDC_CONNECT_TIMEOUT;
	tcp_sock_set_nodelay(sk);
	if (cc->t.nbd_source[0]) {
		ret = kernel_bind(c->sock, (struct sockaddr *)&source, addr_len);
		if (ret) {
			DMERR("%s: binding the NBD client to %s: error %d", c->dev_name,
			      cc->t.nbd_source, ret);
			ti->error = ret == -EADDRNOTAVAIL ?
				    "nbd_source is not an address of this host" :
				    "Cannot bind the NBD client to nbd_source";
			goto bad_connect;
		}
	}
	ret = kernel_connect(c->sock, (struct sockaddr *)&addr, addr_len, 0);
	if (ret) {
		DMERR("%s: connecting to NBD server %s: error %d", c->dev_name,
		      cc->t.nbd_connect, ret);
		/* a connect that runs out of sk_sndtimeo returns -EINPROGRESS */
		ti->error = ret == -ECONNREFUSED ? "The NBD server refused the connection" :
			    ret == -EINPROGRESS || ret == -ETIMEDOUT ?
			    "The NBD server did not answer the connection within 10 s" :
			    "Cannot connect to the NBD server";
		goto bad_connect;
	}
	ret = colo_nbdc_handshake(c, cc->t.name, (u64)ti->len << SECTOR_SHIFT, &why);
	if (ret) {
		DMERR("%s: NBD handshake with %s: %s", c->dev_name, cc->t.nbd_connect, why);
		ti->error = (char *)why;
		goto bad_connect;
	}
	sk->sk_sndtimeo = msecs_to_jiffies(cc->t.nbd_timeout_ms);
	sk->sk_rcvtimeo = sk->sk_sndtimeo;

	c->rx = kthread_run(colo_nbdc_rx, c, "kcolo_nbdc");
	if (IS_ERR(c->rx)) {
		ret = PTR_ERR(c->rx);
		ti->error = "Cannot start the NBD client's reader";
		goto bad_connect;
	}
	*out = c;
	return 0;

bad_connect:
	sock_release(c->sock);
bad_sock:
	put_net(c->net);
	kfree(c);
	return ret;
}

/* Fails what is in flight and sends nothing more (failover, removal). */
void colo_nbdc_shutdown(struct colo_nbdc *c)
{
	WRITE_ONCE(c->closing, true);
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
}

void colo_nbdc_close(struct colo_nbdc *c)
{
	colo_nbdc_shutdown(c);
	kthread_stop(c->rx);
	sock_release(c->sock);
	put_net(c->net);
	xa_destroy(&c->reqs);
	kfree(c);
}

/* Lockless, for status. */
bool colo_nbdc_connected(struct colo_nbdc *c)
{
	return !READ_ONCE(c->dead);
}
