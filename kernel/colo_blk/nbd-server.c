// SPDX-License-Identifier: GPL-2.0
/*
 * The replica's NBD server in the kernel (replica option nbd_listen): the
 * primary's nbd-client connects to it as to nbd-server, and each write it
 * forwards becomes bios on the replica face at once, with no userspace
 * copy and no page cache to write back at the checkpoint's flush.
 *
 * One thread accepts; one thread per connection reads requests and
 * submits their bios; replies go out from a work queue as the bios
 * complete, so that a connection has many requests in flight.
 *
 * Plain writes (no FUA) are answered as soon as their data are in and
 * their bios submitted, as a disk with a write cache answers: the
 * primary's next write, and a guest waiting for one forwarded uncopied
 * (sync_from), then wait for the network alone, not for the replica's
 * pre-image read and write. A FLUSH is answered once every write answered
 * before it has reached the replica (on any connection, as the export
 * offers NBD_FLAG_CAN_MULTI_CONN), with an error if one of them failed:
 * the primary's checkpoint ends with such a flush. A request that overlaps
 * a write answered early and still in flight waits for it first, so that
 * two writes to a sector never reach the replica together, in either
 * order, and a read sees what was answered. Everything
 * a client can make the server hold is bounded: connections
 * (COLO_NBD_MAX_CONNS), requests and bytes in flight per connection (the
 * reader stops reading until replies have gone), the handshake's options
 * and their size (nbd-proto.h). Only the configured peer address may
 * connect.
 *
 * The server runs while the replica's device is live: it starts when the
 * device resumes and stops before it suspends (presuspend), when it
 * closes every connection and waits for the bios they submitted.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/kthread.h>
#include <linux/blkdev.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include <net/ipv6.h>

#include "colo.h"
#include "nbd-proto.h"

#define COLO_NBD_MAX_CONNS 16
#define COLO_NBD_CONN_MAX_REQS 256
#define COLO_NBD_CONN_MAX_BYTES (64U << 20)
/* a client that stalls the handshake, or stops reading replies, is dropped */
#define COLO_NBD_HANDSHAKE_TIMEOUT (30 * HZ)
#define COLO_NBD_SEND_TIMEOUT (30 * HZ)
/* free pages kept for the next requests' data (page-pool.c): 16 MiB */
#define COLO_NBD_POOL_PAGES 4096

struct colo_nbd_conn {
	struct colo_nbd *srv;
	struct socket *sock;
	struct task_struct *task;
	struct list_head list;		/* srv->conns */
	bool done;			/* the thread has returned */
	struct mutex send_lock;		/* one reply on the wire at a time */
	spinlock_t lock;		/* nr_reqs, nr_bytes */
	unsigned int nr_reqs;
	u64 nr_bytes;
	wait_queue_head_t wait;
};

struct colo_nbd_io {
	struct colo_nbd_conn *c;
	struct work_struct work;
	u64 handle;
	u16 type;
	u32 len;
	u64 offset;
	bool early;			/* answered at submission, in srv->early */
	u64 early_seq;
	struct list_head early_list;
	atomic_t pending;		/* bios, plus one while submitting */
	u32 error;			/* NBD error of the first failed bio */
	unsigned int nr_pages;
	struct bio_vec bvec[];		/* the data, a page each */
};

struct colo_nbd {
	struct dm_target *ti;
	char name[CB_NAME_MAX];		/* the export name */
	struct net *net;		/* where the table was created */
	struct sockaddr_storage listen_addr, peer_addr;
	int addr_len;

	struct block_device *bdev;	/* the replica face, while running */
	u64 size;
	u16 tx_flags;
	struct socket *lsock;
	struct task_struct *acceptor;
	struct workqueue_struct *wq;
	struct colo_page_pool pool;

	spinlock_t lock;		/* conns, nr_conns, nr_live, counters, early */
	struct list_head conns;
	unsigned int nr_conns;		/* in the list, until reaped */
	unsigned int nr_live;		/* whose thread still runs */
	u64 accepted, refused, requests, written_bytes, errors;

	/*
	 * Writes answered early and not completed, in the order they were
	 * answered (early_seq); the first error one of them had, for the
	 * next FLUSH. Bounded by the connections' bounds.
	 */
	struct list_head early;
	u64 early_seq;
	u32 early_error;
	wait_queue_head_t early_wait;
};

int colo_nbd_recv(struct socket *sock, void *buf, size_t len)
{
	while (len) {
		struct kvec v = { .iov_base = buf, .iov_len = len };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		int n = kernel_recvmsg(sock, &msg, &v, 1, len, MSG_WAITALL);

		if (n <= 0)
			return n ? n : -ECONNRESET;
		buf += n;
		len -= n;
	}
	return 0;
}

int colo_nbd_send(struct socket *sock, struct kvec *v, size_t nr, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int n = kernel_sendmsg(sock, &msg, v, nr, len);

	if (n < 0)
		return n;
	/* a timeout part way leaves the stream broken: the caller closes it */
	return n == len ? 0 : -EIO;
}

int colo_nbd_send_buf(struct socket *sock, const void *buf, size_t len)
{
	struct kvec v = { .iov_base = (void *)buf, .iov_len = len };

	return colo_nbd_send(sock, &v, 1, len);
}

static void colo_nbd_io_free(struct colo_nbd_io *io)
{
	unsigned int i;

	for (i = 0; i < io->nr_pages; i++)
		colo_page_pool_put(&io->c->srv->pool, io->bvec[i].bv_page);
	kvfree(io);
}

static struct colo_nbd_io *colo_nbd_io_alloc(struct colo_nbd_conn *c,
					     const struct cb_nbd_request *r,
					     bool data)
{
	unsigned int i, nr = data ? DIV_ROUND_UP(r->len, PAGE_SIZE) : 0;
	struct colo_nbd_io *io;
	u32 left = r->len;

	io = kvzalloc(struct_size(io, bvec, nr), GFP_KERNEL);
	if (!io)
		return NULL;
	io->c = c;
	io->handle = r->handle;
	io->type = r->type;
	io->len = r->len;
	atomic_set(&io->pending, 1);
	for (i = 0; i < nr; i++) {
		struct page *page = colo_page_pool_get(&c->srv->pool, GFP_KERNEL);

		if (!page) {
			colo_nbd_io_free(io);
			return NULL;
		}
		bvec_set_page(&io->bvec[i], page, min_t(u32, left, PAGE_SIZE), 0);
		left -= io->bvec[i].bv_len;
		io->nr_pages++;
	}
	return io;
}

/* The data of a request, into or out of its pages in one socket call. */
static int colo_nbd_xfer_data(struct socket *sock, struct colo_nbd_io *io, bool recv)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int n;

	iov_iter_bvec(&msg.msg_iter, recv ? READ : WRITE, io->bvec, io->nr_pages, io->len);
	while (msg_data_left(&msg)) {
		n = recv ? sock_recvmsg(sock, &msg, MSG_WAITALL) : sock_sendmsg(sock, &msg);
		if (n <= 0)
			return n ? n : -ECONNRESET;
	}
	return 0;
}

/* Gives back what colo_nbd_try_reserve() took for a request of `bytes`. */
static void colo_nbd_unreserve(struct colo_nbd_conn *c, u64 bytes)
{
	spin_lock(&c->lock);
	c->nr_reqs--;
	c->nr_bytes -= bytes;
	spin_unlock(&c->lock);
}

/*
 * Answers a plain write once submitted, from the reading thread; a failure
 * closes the connection.
 */
static void colo_nbd_answer_early(struct colo_nbd_conn *c, u64 handle)
{
	u8 hdr[CB_NBD_REPLY_SIZE];
	int ret;

	cb_nbd_reply(hdr, 0, handle);
	mutex_lock(&c->send_lock);
	ret = colo_nbd_send_buf(c->sock, hdr, sizeof(hdr));
	mutex_unlock(&c->send_lock);
	if (ret)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
}

/* Does a write answered early and in flight overlap [offset, offset + len)? */
static bool colo_nbd_early_clear(struct colo_nbd *srv, u64 offset, u32 len)
{
	struct colo_nbd_io *io;
	bool clear = true;

	spin_lock(&srv->lock);
	list_for_each_entry(io, &srv->early, early_list) {
		if (io->offset < offset + len && offset < io->offset + io->len) {
			clear = false;
			break;
		}
	}
	spin_unlock(&srv->lock);
	return clear;
}

/* Have the writes answered early before `seq` all completed? */
static bool colo_nbd_early_done_before(struct colo_nbd *srv, u64 seq)
{
	struct colo_nbd_io *io;
	bool done;

	spin_lock(&srv->lock);
	io = list_first_entry_or_null(&srv->early, struct colo_nbd_io, early_list);
	done = !io || io->early_seq >= seq;
	spin_unlock(&srv->lock);
	return done;
}

static void colo_nbd_early_done(struct colo_nbd_io *io)
{
	struct colo_nbd *srv = io->c->srv;

	spin_lock(&srv->lock);
	list_del(&io->early_list);
	if (io->error) {
		srv->errors++;
		if (!srv->early_error)
			srv->early_error = io->error;
	}
	spin_unlock(&srv->lock);
	wake_up_all(&srv->early_wait);
}

/* Replies to a request; the data of a READ follows its header. */
static void colo_nbd_reply_work(struct work_struct *work)
{
	struct colo_nbd_io *io = container_of(work, struct colo_nbd_io, work);
	struct colo_nbd_conn *c = io->c;
	u8 hdr[CB_NBD_REPLY_SIZE];
	int ret;

	if (io->early) {
		colo_nbd_early_done(io);
		goto out;
	}
	cb_nbd_reply(hdr, io->error, io->handle);
	mutex_lock(&c->send_lock);
	ret = colo_nbd_send_buf(c->sock, hdr, sizeof(hdr));
	if (!ret && !io->error && io->type == CB_NBD_CMD_READ)
		ret = colo_nbd_xfer_data(c->sock, io, false);
	mutex_unlock(&c->send_lock);
	if (ret)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
out:
	colo_nbd_unreserve(c, (u64)io->nr_pages << PAGE_SHIFT);
	colo_nbd_io_free(io);
	/* last: the connection's thread may return once nothing is in flight */
	wake_up_all(&c->wait);
}

static void colo_nbd_io_put(struct colo_nbd_io *io)
{
	if (atomic_dec_and_test(&io->pending))
		queue_work(io->c->srv->wq, &io->work);
}

static void colo_nbd_bio_end(struct bio *bio)
{
	struct colo_nbd_io *io = bio->bi_private;

	if (bio->bi_status && !io->error) {
		int err = blk_status_to_errno(bio->bi_status);

		io->error = err == -ENOSPC ? CB_NBD_ENOSPC :
			    err == -EOPNOTSUPP ? CB_NBD_ENOTSUP : CB_NBD_EIO;
	}
	bio_put(bio);
	colo_nbd_io_put(io);
}

/* The bios of a request: its pages in bios of up to BIO_MAX_VECS, or none. */
static void colo_nbd_submit(struct colo_nbd_io *io, blk_opf_t opf, u64 offset)
{
	struct block_device *bdev = io->c->srv->bdev;
	sector_t sector = offset >> SECTOR_SHIFT;
	unsigned int i = 0;
	u32 left = io->len;
	struct bio *bio;

	if (!io->nr_pages) {
		bio = bio_alloc(bdev, 0, opf, GFP_KERNEL);
		bio->bi_iter.bi_sector = sector;
		/* a flush has no range; a trim or zeroing has a size and no data */
		if (!(opf & REQ_PREFLUSH))
			bio->bi_iter.bi_size = io->len;
		bio->bi_private = io;
		bio->bi_end_io = colo_nbd_bio_end;
		atomic_inc(&io->pending);
		submit_bio(bio);
		return;
	}
	while (left) {
		unsigned int nr = min_t(unsigned int, io->nr_pages - i, BIO_MAX_VECS);

		bio = bio_alloc(bdev, nr, opf, GFP_KERNEL);
		bio->bi_iter.bi_sector = sector;
		bio->bi_private = io;
		bio->bi_end_io = colo_nbd_bio_end;
		for (; nr; nr--, i++) {
			u32 n = io->bvec[i].bv_len;

			__bio_add_page(bio, io->bvec[i].bv_page, n, 0);
			left -= n;
			sector += n >> SECTOR_SHIFT;
		}
		atomic_inc(&io->pending);
		submit_bio(bio);
	}
}

/*
 * Takes room for a request of `bytes` in the connection's bounds, if there
 * is some; a lone request always fits.
 */
static bool colo_nbd_try_reserve(struct colo_nbd_conn *c, u64 bytes)
{
	bool room;

	spin_lock(&c->lock);
	room = !c->nr_reqs || (c->nr_reqs < COLO_NBD_CONN_MAX_REQS &&
			       c->nr_bytes + bytes <= COLO_NBD_CONN_MAX_BYTES);
	if (room) {
		c->nr_reqs++;
		c->nr_bytes += bytes;
	}
	spin_unlock(&c->lock);
	return room;
}

/* Reads and drops the data of a WRITE that is refused. */
static int colo_nbd_skip(struct colo_nbd_conn *c, u32 len)
{
	void *buf = (void *)__get_free_page(GFP_KERNEL);
	int ret = buf ? 0 : -ENOMEM;

	while (!ret && len) {
		u32 n = min_t(u32, len, PAGE_SIZE);

		ret = colo_nbd_recv(c->sock, buf, n);
		len -= n;
	}
	free_page((unsigned long)buf);
	return ret;
}

/* One request: 0 to go on, 1 at DISC, or an error that ends the connection. */
static int colo_nbd_request(struct colo_nbd_conn *c)
{
	struct colo_nbd *srv = c->srv;
	u8 hdr[CB_NBD_REQUEST_SIZE];
	struct cb_nbd_request r;
	struct colo_nbd_io *io;
	const char *why;
	blk_opf_t opf;
	bool data;
	u64 bytes, seq;
	int ret;

	ret = colo_nbd_recv(c->sock, hdr, sizeof(hdr));
	if (ret)
		return ret;
	ret = cb_nbd_parse_request(hdr, srv->size, &r, &why);
	if (ret) {
		DMWARN_LIMIT("%s: nbd: %s: closing the connection", srv->name, why);
		return ret;
	}
	if (!r.error && r.type == CB_NBD_CMD_DISC)
		return 1;
	if (!r.error && ((r.type == CB_NBD_CMD_TRIM && !(srv->tx_flags & CB_NBD_FLAG_SEND_TRIM)) ||
			 (r.type == CB_NBD_CMD_WRITE_ZEROES &&
			  !(srv->tx_flags & CB_NBD_FLAG_SEND_WRITE_ZEROES))))
		r.error = CB_NBD_ENOTSUP;
	spin_lock(&srv->lock);
	srv->requests++;
	if (r.error)
		srv->errors++;
	spin_unlock(&srv->lock);

	data = !r.error && (r.type == CB_NBD_CMD_READ || r.type == CB_NBD_CMD_WRITE);
	/* the request's pages, as its reply gives them back */
	bytes = data ? round_up((u64)r.len, PAGE_SIZE) : 0;
	/* reading stops here until replies have made room */
	wait_event(c->wait, colo_nbd_try_reserve(c, bytes));
	io = colo_nbd_io_alloc(c, &r, data);
	if (!io) {
		/* the reservation goes back with a reply that cannot be made */
		colo_nbd_unreserve(c, bytes);
		return -ENOMEM;
	}
	INIT_WORK(&io->work, colo_nbd_reply_work);
	if (r.error) {
		io->error = r.error;
		ret = r.type == CB_NBD_CMD_WRITE ? colo_nbd_skip(c, r.len) : 0;
		colo_nbd_io_put(io);
		return ret;
	}
	switch (r.type) {
	case CB_NBD_CMD_WRITE:
		ret = colo_nbd_xfer_data(c->sock, io, true);
		if (ret) {
			/* its error reply fails too: the connection is going */
			io->error = CB_NBD_EIO;
			colo_nbd_io_put(io);
			return ret;
		}
		opf = REQ_OP_WRITE;
		if (r.flags & CB_NBD_CMD_FLAG_FUA)
			opf |= REQ_FUA;
		spin_lock(&srv->lock);
		srv->written_bytes += r.len;
		spin_unlock(&srv->lock);
		break;
	case CB_NBD_CMD_READ:
		opf = REQ_OP_READ;
		break;
	case CB_NBD_CMD_FLUSH:
		opf = REQ_OP_WRITE | REQ_PREFLUSH;
		spin_lock(&srv->lock);
		seq = srv->early_seq;
		spin_unlock(&srv->lock);
		wait_event(srv->early_wait, colo_nbd_early_done_before(srv, seq));
		spin_lock(&srv->lock);
		io->error = srv->early_error;
		spin_unlock(&srv->lock);
		if (io->error) {
			/* a write answered early failed: the replica misses data */
			colo_nbd_io_put(io);
			return 0;
		}
		break;
	case CB_NBD_CMD_TRIM:
		opf = REQ_OP_DISCARD;
		break;
	default:
		opf = REQ_OP_WRITE_ZEROES;
		if (r.flags & CB_NBD_CMD_FLAG_NO_HOLE)
			opf |= REQ_NOUNMAP;
		break;
	}
	if (r.type != CB_NBD_CMD_FLUSH)
		wait_event(srv->early_wait, colo_nbd_early_clear(srv, r.offset, r.len));
	if (opf == REQ_OP_WRITE) {
		io->early = true;
		io->offset = r.offset;
		spin_lock(&srv->lock);
		io->early_seq = srv->early_seq++;
		list_add_tail(&io->early_list, &srv->early);
		spin_unlock(&srv->lock);
	}
	colo_nbd_submit(io, opf, r.offset);
	if (io->early)
		colo_nbd_answer_early(c, io->handle);
	colo_nbd_io_put(io);
	return 0;
}

static bool colo_nbd_name_is(struct colo_nbd *srv, const char *name, u32 len)
{
	return len == strlen(srv->name) && !memcmp(name, srv->name, len);
}

static int colo_nbd_option_reply(struct colo_nbd_conn *c, u32 option, u32 type,
				 const void *data, u32 len)
{
	u8 hdr[CB_NBD_OPT_REPLY_SIZE];
	struct kvec v[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	cb_nbd_option_reply(hdr, option, type, len);
	return colo_nbd_send(c->sock, v, len ? 2 : 1, sizeof(hdr) + len);
}

/*
 * The fixed-newstyle handshake: 0 once the client has chosen the export,
 * or an error (with the reason logged) that ends the connection.
 */
static int colo_nbd_handshake(struct colo_nbd_conn *c)
{
	struct colo_nbd *srv = c->srv;
	u8 buf[CB_NBD_GREETING_SIZE + CB_NBD_OPT_HDR_SIZE];
	u8 info[CB_NBD_INFO_EXPORT_SIZE];
	struct cb_nbd_option o;
	struct cb_nbd_go go;
	const char *why = NULL;
	unsigned int n;
	u8 *data;
	u32 flags;
	int ret;

	data = kmalloc(CB_NBD_MAX_OPT_LEN, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	cb_nbd_greeting(buf);
	ret = colo_nbd_send_buf(c->sock, buf, CB_NBD_GREETING_SIZE);
	if (!ret)
		ret = colo_nbd_recv(c->sock, buf, 4);
	if (!ret)
		ret = cb_nbd_parse_client_flags(buf, &flags, &why);
	for (n = 0; !ret; n++) {
		if (n == CB_NBD_MAX_OPTIONS) {
			why = "too many options";
			ret = -EPROTO;
			break;
		}
		ret = colo_nbd_recv(c->sock, buf, CB_NBD_OPT_HDR_SIZE);
		if (!ret)
			ret = cb_nbd_parse_option(buf, &o, &why);
		if (!ret)
			ret = colo_nbd_recv(c->sock, data, o.len);
		if (ret)
			break;
		switch (o.option) {
		case CB_NBD_OPT_EXPORT_NAME:
			if (!colo_nbd_name_is(srv, data, o.len)) {
				why = "unknown export name";
				ret = -ENOENT;
				break;
			}
			/* NO_ZEROES is taken as given: nbd-client sends it */
			if (!(flags & CB_NBD_FLAG_NO_ZEROES)) {
				why = "the client wants zero padding";
				ret = -EPROTO;
				break;
			}
			cb_nbd_export_name_reply(buf, srv->size, srv->tx_flags);
			ret = colo_nbd_send_buf(c->sock, buf, CB_NBD_EXPORT_NAME_REPLY_SIZE);
			goto out;
		case CB_NBD_OPT_INFO:
		case CB_NBD_OPT_GO:
			if (cb_nbd_parse_go(data, o.len, &go, &why)) {
				ret = colo_nbd_option_reply(c, o.option, CB_NBD_REP_ERR_INVALID,
							    NULL, 0);
				break;
			}
			if (!colo_nbd_name_is(srv, go.name, go.name_len)) {
				ret = colo_nbd_option_reply(c, o.option, CB_NBD_REP_ERR_UNKNOWN,
							    NULL, 0);
				break;
			}
			cb_nbd_info_export(info, srv->size, srv->tx_flags);
			ret = colo_nbd_option_reply(c, o.option, CB_NBD_REP_INFO, info,
						    sizeof(info));
			if (!ret)
				ret = colo_nbd_option_reply(c, o.option, CB_NBD_REP_ACK, NULL, 0);
			if (!ret && o.option == CB_NBD_OPT_GO)
				goto out;
			break;
		case CB_NBD_OPT_ABORT:
			colo_nbd_option_reply(c, o.option, CB_NBD_REP_ACK, NULL, 0);
			why = "the client aborted";
			ret = -ECONNABORTED;
			break;
		default:
			ret = colo_nbd_option_reply(c, o.option, CB_NBD_REP_ERR_UNSUP, NULL, 0);
			break;
		}
	}
out:
	if (ret && why)
		DMWARN_LIMIT("%s: nbd: handshake failed: %s", srv->name, why);
	kfree(data);
	return ret;
}

static int colo_nbd_conn_thread(void *arg)
{
	struct colo_nbd_conn *c = arg;
	struct sock *sk = c->sock->sk;
	int ret;

	sk->sk_rcvtimeo = COLO_NBD_HANDSHAKE_TIMEOUT;
	sk->sk_sndtimeo = COLO_NBD_SEND_TIMEOUT;
	ret = colo_nbd_handshake(c);
	sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	while (!ret)
		ret = colo_nbd_request(c);
	/* replies of what is in flight may still go; then nothing refers to c */
	wait_event(c->wait, !READ_ONCE(c->nr_reqs));
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	spin_lock(&c->srv->lock);
	c->done = true;
	c->srv->nr_live--;
	spin_unlock(&c->srv->lock);
	return 0;
}

static void colo_nbd_conn_free(struct colo_nbd_conn *c)
{
	kthread_stop(c->task);
	put_task_struct(c->task);
	sock_release(c->sock);
	kfree(c);
}

/* Frees the connections whose thread has returned (srv->lock not held). */
static void colo_nbd_reap(struct colo_nbd *srv, bool all)
{
	struct colo_nbd_conn *c, *tmp;
	LIST_HEAD(gone);

	spin_lock(&srv->lock);
	list_for_each_entry_safe(c, tmp, &srv->conns, list) {
		if (!all && !c->done)
			continue;
		list_move(&c->list, &gone);
		srv->nr_conns--;
	}
	spin_unlock(&srv->lock);
	list_for_each_entry_safe(c, tmp, &gone, list) {
		/* wakes a thread still reading or sending */
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
		colo_nbd_conn_free(c);
	}
}

static bool colo_nbd_peer_ok(struct colo_nbd *srv, struct socket *sock)
{
	struct sockaddr_storage a;
	int len = kernel_getpeername(sock, (struct sockaddr *)&a);

	if (len < 0 || a.ss_family != srv->peer_addr.ss_family)
		return false;
	if (a.ss_family == AF_INET)
		return ((struct sockaddr_in *)&a)->sin_addr.s_addr ==
		       ((struct sockaddr_in *)&srv->peer_addr)->sin_addr.s_addr;
	return ipv6_addr_equal(&((struct sockaddr_in6 *)&a)->sin6_addr,
			       &((struct sockaddr_in6 *)&srv->peer_addr)->sin6_addr);
}

static int colo_nbd_acceptor(void *arg)
{
	struct colo_nbd *srv = arg;

	while (!kthread_should_stop()) {
		struct colo_nbd_conn *c;
		struct socket *sock;
		bool full;

		if (kernel_accept(srv->lsock, &sock, 0)) {
			/* shut down for the stop, or a connection that went early */
			if (!kthread_should_stop())
				schedule_timeout_interruptible(HZ / 10);
			continue;
		}
		colo_nbd_reap(srv, false);
		spin_lock(&srv->lock);
		full = srv->nr_conns >= COLO_NBD_MAX_CONNS;
		spin_unlock(&srv->lock);
		c = NULL;
		if (!full && colo_nbd_peer_ok(srv, sock))
			c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c) {
			spin_lock(&srv->lock);
			srv->refused++;
			spin_unlock(&srv->lock);
			sock_release(sock);
			continue;
		}
		c->srv = srv;
		c->sock = sock;
		mutex_init(&c->send_lock);
		spin_lock_init(&c->lock);
		init_waitqueue_head(&c->wait);
		tcp_sock_set_nodelay(sock->sk);
		c->task = kthread_create(colo_nbd_conn_thread, c, "kcolo_nbd/%s", srv->name);
		if (IS_ERR(c->task)) {
			sock_release(sock);
			kfree(c);
			continue;
		}
		get_task_struct(c->task);
		spin_lock(&srv->lock);
		list_add_tail(&c->list, &srv->conns);
		srv->nr_conns++;
		srv->nr_live++;
		srv->accepted++;
		spin_unlock(&srv->lock);
		wake_up_process(c->task);
	}
	return 0;
}

/* "a.b.c.d:port" or "[v6]:port" (with_port), or an address alone. */
int colo_nbd_parse_addr(const char *s, bool with_port, struct sockaddr_storage *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)a;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)a;
	const char *addr = s, *end = s + strlen(s), *port_s = NULL;
	bool v6 = strchr(s, ':');
	u16 port = 0;

	memset(a, 0, sizeof(*a));
	if (with_port) {
		if (*s == '[') {
			end = strchr(s, ']');
			if (!end || end[1] != ':')
				return -EINVAL;
			addr = s + 1;
			port_s = end + 2;
			v6 = true;
		} else {
			end = strrchr(s, ':');
			if (!end)
				return -EINVAL;
			port_s = end + 1;
			v6 = false;
		}
		if (kstrtou16(port_s, 10, &port) || !port)
			return -EINVAL;
	}
	if (v6) {
		if (!in6_pton(addr, end - addr, (u8 *)&sin6->sin6_addr, -1, NULL))
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	if (!in4_pton(addr, end - addr, (u8 *)&sin->sin_addr, -1, NULL))
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return 0;
}

int colo_nbd_ctr(struct colo_c *cc)
{
	struct dm_target *ti = cc->ti;
	struct colo_nbd *srv;

	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv) {
		ti->error = "Cannot allocate the NBD server";
		return -ENOMEM;
	}
	if (colo_nbd_parse_addr(cc->t.nbd_listen, true, &srv->listen_addr)) {
		ti->error = "Invalid nbd_listen (<IPv4>:<port> or [<IPv6>]:<port>)";
		goto bad;
	}
	if (colo_nbd_parse_addr(cc->t.nbd_peer, false, &srv->peer_addr)) {
		ti->error = "Invalid nbd_peer (an IPv4 or IPv6 address)";
		goto bad;
	}
	if (srv->peer_addr.ss_family != srv->listen_addr.ss_family) {
		ti->error = "nbd_listen and nbd_peer are not both IPv4 or both IPv6";
		goto bad;
	}
	srv->addr_len = srv->listen_addr.ss_family == AF_INET ?
			sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	srv->ti = ti;
	strscpy(srv->name, cc->t.name, sizeof(srv->name));
	spin_lock_init(&srv->lock);
	INIT_LIST_HEAD(&srv->conns);
	INIT_LIST_HEAD(&srv->early);
	init_waitqueue_head(&srv->early_wait);
	colo_page_pool_init(&srv->pool, 0, COLO_NBD_POOL_PAGES);
	srv->net = get_net(current->nsproxy->net_ns);
	cc->nbd = srv;
	return 0;
bad:
	kfree(srv);
	return -EINVAL;
}

/* Starts serving the live device: bind, listen, the accepting thread. */
int colo_nbd_start(struct colo_c *cc)
{
	struct colo_nbd *srv = cc->nbd;
	struct block_device *bdev = dm_disk(dm_table_get_md(srv->ti->table))->part0;
	const char *what;
	int ret;

	if (srv->lsock)
		return 0;
	srv->bdev = bdev;
	srv->size = bdev_nr_bytes(bdev);
	srv->tx_flags = CB_NBD_FLAG_HAS_FLAGS | CB_NBD_FLAG_SEND_FLUSH | CB_NBD_FLAG_SEND_FUA |
			CB_NBD_FLAG_CAN_MULTI_CONN;
	if (bdev_max_discard_sectors(bdev))
		srv->tx_flags |= CB_NBD_FLAG_SEND_TRIM;
	if (bdev_write_zeroes_sectors(bdev))
		srv->tx_flags |= CB_NBD_FLAG_SEND_WRITE_ZEROES;
	srv->wq = alloc_workqueue("kcolo_nbd_%s", WQ_MEM_RECLAIM, 0, srv->name);
	if (!srv->wq)
		return -ENOMEM;
	what = "socket";
	ret = sock_create_kern(srv->net, srv->listen_addr.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &srv->lsock);
	if (ret)
		goto bad_wq;
	/* a reloaded table binds while the old one still listens */
	sock_set_reuseaddr(srv->lsock->sk);
	sock_set_reuseport(srv->lsock->sk);
	what = "bind";
	ret = kernel_bind(srv->lsock, (struct sockaddr *)&srv->listen_addr, srv->addr_len);
	if (ret)
		goto bad_sock;
	what = "listen";
	ret = kernel_listen(srv->lsock, COLO_NBD_MAX_CONNS);
	if (ret)
		goto bad_sock;
	srv->acceptor = kthread_run(colo_nbd_acceptor, srv, "kcolo_nbd_accept/%s", srv->name);
	if (IS_ERR(srv->acceptor)) {
		what = "the accepting thread";
		ret = PTR_ERR(srv->acceptor);
		goto bad_sock;
	}
	get_task_struct(srv->acceptor);
	return 0;

bad_sock:
	sock_release(srv->lsock);
	srv->lsock = NULL;
bad_wq:
	destroy_workqueue(srv->wq);
	srv->wq = NULL;
	DMERR("%s: nbd: cannot serve on %s: %s failed (%d)", srv->name, cc->t.nbd_listen,
	      what, ret);
	return ret;
}

/* Closes the listener and every connection, after their bios completed. */
void colo_nbd_stop(struct colo_c *cc)
{
	struct colo_nbd *srv = cc->nbd;

	if (!srv->lsock)
		return;
	kernel_sock_shutdown(srv->lsock, SHUT_RDWR);
	kthread_stop(srv->acceptor);
	put_task_struct(srv->acceptor);
	colo_nbd_reap(srv, true);
	destroy_workqueue(srv->wq);
	srv->wq = NULL;
	/* no request holds a page now: the pool goes while the device is down */
	colo_page_pool_destroy(&srv->pool);
	sock_release(srv->lsock);
	srv->lsock = NULL;
}

void colo_nbd_dtr(struct colo_c *cc)
{
	colo_nbd_stop(cc);
	put_net(cc->nbd->net);
	kfree(cc->nbd);
}

void colo_nbd_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *psz)
{
	struct colo_nbd *srv = cc->nbd;
	unsigned int sz = *psz;

	spin_lock(&srv->lock);
	DMEMIT(" nbd=%s conns=%u accepted=%llu refused=%llu requests=%llu nbd_written_bytes=%llu nbd_errors=%llu",
	       srv->lsock ? "serving" : "stopped", srv->nr_live, srv->accepted, srv->refused,
	       srv->requests, srv->written_bytes, srv->errors);
	spin_unlock(&srv->lock);
	*psz = sz;
}
