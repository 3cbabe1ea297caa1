/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colod's control of colo_proxy.ko (include/uapi/linux/colo_proxy.h,
 * Documentation/admin-guide/colo-proxy.rst): the proxy instance on the VM's
 * host-side device, created, checkpointed, failed over and deleted; its
 * counters for status; and the checkpoint requests the proxy multicasts.
 * Built on coloctl's netlink code (tools/coloctl/proxy_nl.c, proxy_msg.c;
 * libnl-genl-3), so colod and coloctl read the kernel's messages with the
 * same strict parsers. Every call needs CAP_NET_ADMIN in the network
 * namespace, and acts on that namespace's instances.
 *
 * Errors are negative errno values with a reason in err (err may be NULL
 * when errlen is 0):
 *   - rejected by the kernel: its errno and "<strerror>: <extack message>",
 *     e.g. -EEXIST "File exists: device already has a colo_proxy instance",
 *     -ENOENT "No such file or directory: no colo_proxy instance on this
 *     device";
 *   - -ENOENT "generic netlink family 'colo_proxy' not found (is
 *     colo_proxy.ko loaded?)";
 *   - the device does not exist: -ENODEV "device 'tap0': No such device";
 *   - -EIO "send: ..." / "receive: ...": the socket failed. The request
 *     socket is then closed, and the next call opens a new one (replies to
 *     the failed request could otherwise be taken for the next one's).
 *
 * Requests block until the kernel answers, which it does at once. Not
 * thread-safe: one thread uses a struct colod_proxy (or _events).
 */
#ifndef COLOD_PROXY_H
#define COLOD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/colo_proxy.h>

struct nl_sock;

/* The request socket */
struct colod_proxy {
	struct nl_sock *sk;	/* NULL: closed, the next request opens it */
	int family;		/* the generic netlink family's id */
};

/* Opens the request socket (p new, or closed) and looks the family up. */
int colod_proxy_open(struct colod_proxy *p, char *err, size_t errlen);

/* Closes the request socket, if open. */
void colod_proxy_close(struct colod_proxy *p);

/*
 * Creates the instance on dev (the guest's tap) with role
 * COLO_PROXY_ROLE_PRIMARY or COLO_PROXY_ROLE_SECONDARY, and its tunnel from
 * local to peer. local and peer are AF_INET or AF_INET6 addresses of one
 * family (their own port fields are ignored); the ports are in host order.
 * timeout_ms is the longest a PVM frame is held and queue_bytes the most
 * bytes a connection holds before a checkpoint is asked for, 0 for the
 * module's default each; the other limits are the module's defaults.
 */
int colod_proxy_add(struct colod_proxy *p, const char *dev, int role,
		    const struct sockaddr_storage *local, uint16_t local_port,
		    const struct sockaddr_storage *peer, uint16_t peer_port,
		    uint32_t timeout_ms, uint32_t queue_bytes, char *err, size_t errlen);

/*
 * Replaces the timeout of dev's live instance (1 to 3600000 ms, else the
 * kernel's -ERANGE), of either role; its queue limits stay, and nothing held
 * is released. Frames already held are measured against the new timeout: a
 * shorter one requests a checkpoint for a frame older than it within a
 * quarter of it.
 */
int colod_proxy_set_timeout(struct colod_proxy *p, const char *dev, uint32_t timeout_ms,
			    char *err, size_t errlen);

/* Deletes dev's instance, releasing the frames it holds. */
int colod_proxy_del(struct colod_proxy *p, const char *dev, char *err, size_t errlen);

/*
 * After the state copy: the primary releases the PVM's held frames and
 * drops the SVM's, then the input it kept, and tells the secondary; both
 * roles reset their TCP sequence/timestamp offsets. await_peer (secondary
 * only): the SVM's frames wait for the primary's word, so that its
 * checkpoint does not drop the new SVM's first frames.
 */
int colod_proxy_checkpoint(struct colod_proxy *p, const char *dev, bool await_peer,
			   char *err, size_t errlen);

/*
 * Primary, once the PVM is paused for a checkpoint: the frames it sent so
 * far are that checkpoint's output, released by the next
 * colod_proxy_checkpoint() (or colod_proxy_failover()); what it sends
 * after is held for the SVM that starts from this state. Frames for the
 * PVM are kept, in order, neither delivered nor mirrored, until
 * colod_proxy_checkpoint() (which releases them to both guests),
 * colod_proxy_release_input() or colod_proxy_failover().
 */
int colod_proxy_seal(struct colod_proxy *p, const char *dev, char *err, size_t errlen);

/* Primary, a checkpoint given up: mirror and deliver the kept input. */
int colod_proxy_release_input(struct colod_proxy *p, const char *dev, char *err, size_t errlen);

/* The peer is dead: this host's guest talks to the network alone from now on. */
int colod_proxy_failover(struct colod_proxy *p, const char *dev, char *err, size_t errlen);

/* An instance's configuration and counters */
struct colod_proxy_stats {
	unsigned int ifindex;
	int role;			/* COLO_PROXY_ROLE_* */
	int state;			/* COLO_PROXY_STATE_* */
	uint32_t timeout_ms, queue_packets, queue_bytes;
	/* By COLO_PROXY_STAT_* (PVM_FRAMES to MAX); a counter the kernel did not send is 0 */
	uint64_t counters[COLO_PROXY_STAT_MAX + 1];
};

/* dev's instance. -EPROTO when the kernel's reply is not a complete instance. */
int colod_proxy_stats(struct colod_proxy *p, const char *dev, struct colod_proxy_stats *st,
		      char *err, size_t errlen);

/*
 * A counter's name as `coloctl proxy stats` prints it ("pvm_frames",
 * "held", ...), NULL for what is not a COLO_PROXY_STAT_* counter.
 */
const char *colod_proxy_stat_name(unsigned int stat);

/* A checkpoint request */
struct colod_proxy_event {
	unsigned int ifindex;		/* the instance's device (the event has no name) */
	uint32_t reason;		/* enum colo_proxy_reason, maybe one newer than colod */
	const char *reason_name;	/* "mismatch", "timeout", ... or "unknown" */
	/* For the reasons about one connection: the connection, seen from the guest */
	bool has_conn;
	uint8_t proto;			/* IP protocol */
	struct sockaddr_storage guest;	/* the guest's address and port */
	struct sockaddr_storage remote;	/* the other end's */
};

/* The socket subscribed to the family's "events" group */
struct colod_proxy_events {
	struct nl_sock *sk;
	int family;
};

int colod_proxy_events_open(struct colod_proxy_events *e, char *err, size_t errlen);

/* The socket, non-blocking, for epoll (level-triggered) */
int colod_proxy_events_fd(const struct colod_proxy_events *e);

/*
 * Reads the pending events without blocking and calls cb for each
 * checkpoint request, of every instance in the namespace (match ifindex).
 * Returns how many it passed to cb, or a negative errno after passing some:
 *   -ENOBUFS: requests were lost, the socket's receive buffer overflowed;
 *   -EMSGSIZE: a request was lost, its datagram was larger than expected.
 * Both mean "checkpoint": the proxy sends one request per connection
 * between two checkpoints and would not repeat a lost one. Reads at most a
 * bounded number of datagrams per call, so that a flood cannot starve the
 * main loop: the rest keeps the fd readable. Messages that are not
 * well-formed checkpoint requests from the kernel are skipped.
 */
int colod_proxy_events_read(struct colod_proxy_events *e,
			    void (*cb)(void *arg, const struct colod_proxy_event *ev), void *arg,
			    char *err, size_t errlen);

/* Closes the events socket, if open. */
void colod_proxy_events_close(struct colod_proxy_events *e);

#endif
