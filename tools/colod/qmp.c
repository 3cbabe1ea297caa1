// SPDX-License-Identifier: GPL-2.0
/*
 * QMP client (qmp.h). Everything QEMU sends goes through one incremental
 * json_tokener, whatever the read boundaries: a message may arrive split
 * across reads, several may arrive in one. Each complete message is then
 * dispatched: the greeting, the reply the current call waits for, the event
 * qmp_wait_event() waits for, or else an event for the queue.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"

#define QMP_READ_CHUNK		(64U << 10)
/* Most qmp_read_events() reads at once: the rest keeps the fd readable */
#define QMP_READ_BUDGET		(256U << 10)
/* Retry delays while QEMU has not created or is not listening on its socket */
#define QMP_CONNECT_RETRY_MIN_MS	5
#define QMP_CONNECT_RETRY_MAX_MS	100
/* How much of an unexpected message an error quotes */
#define QMP_QUOTE_MAX		80

struct qmp_event_slot {
	struct json_object *event;
	size_t bytes;			/* of its JSON text, for the queue's bound */
};

struct qmp_pending {
	int64_t id;
	struct json_object *reply;	/* once received */
};

struct qmp {
	int fd;
	struct json_tokener *tok;
	size_t msg_bytes;		/* fed so far into the message being parsed */
	struct json_object *greeting;	/* NULL until QEMU greeted */
	int64_t last_id;
	/*
	 * Calls sent and not finished, oldest first. QEMU runs a monitor's
	 * commands one after another and answers in that order, so several
	 * may be in flight and are finished in the order they were started.
	 */
	struct qmp_pending calls[QMP_CALLS_MAX];
	unsigned int ncalls;
	const char *wanted_event;	/* name qmp_wait_event() waits for, or NULL */
	struct json_object *event;	/* that event, once received */
	struct qmp_event_slot queue[QMP_EVENT_QUEUE_MAX];
	unsigned int queue_head;
	unsigned int queue_len;
	size_t queue_bytes;
	uint64_t dropped;
	int error;			/* non-zero: the connection is unusable */
	char error_msg[256];
	char rbuf[QMP_READ_CHUNK];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_after(int timeout_ms)
{
	return now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

/* Milliseconds left until deadline, for poll() */
static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static int report(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Marks the connection unusable; every later call fails with this error */
static int broken(struct qmp *q, int error, const char *fmt, ...)
{
	va_list ap;

	if (q->error)
		return q->error;
	q->error = error;
	va_start(ap, fmt);
	vsnprintf(q->error_msg, sizeof(q->error_msg), fmt, ap);
	va_end(ap);
	return error;
}

static const char *quote(struct json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);

	return text ? text : "(unprintable)";
}

static struct qmp_event_slot *queue_slot(struct qmp *q, unsigned int i)
{
	return &q->queue[(q->queue_head + i) % QMP_EVENT_QUEUE_MAX];
}

/* Removes the i-th oldest queued event and returns it */
static struct json_object *queue_take(struct qmp *q, unsigned int i)
{
	struct json_object *event = queue_slot(q, i)->event;

	q->queue_bytes -= queue_slot(q, i)->bytes;
	if (i == 0) {
		q->queue_head = (q->queue_head + 1) % QMP_EVENT_QUEUE_MAX;
	} else {
		for (; i + 1 < q->queue_len; i++)
			*queue_slot(q, i) = *queue_slot(q, i + 1);
	}
	q->queue_len--;
	return event;
}

static void queue_push(struct qmp *q, struct json_object *event, size_t bytes)
{
	while (q->queue_len == QMP_EVENT_QUEUE_MAX ||
	       (q->queue_len && q->queue_bytes + bytes > QMP_EVENT_QUEUE_BYTES)) {
		json_object_put(queue_take(q, 0));
		q->dropped++;
	}
	*queue_slot(q, q->queue_len) = (struct qmp_event_slot){ event, bytes };
	q->queue_len++;
	q->queue_bytes += bytes;
}

static bool event_is(struct json_object *event, const char *name)
{
	struct json_object *value;

	return json_object_object_get_ex(event, "event", &value) &&
	       !strcmp(json_object_get_string(value), name);
}

/* The call in flight that msg answers and that has no reply yet, or NULL */
static struct qmp_pending *pending_call(struct qmp *q, struct json_object *msg)
{
	struct json_object *value;
	unsigned int i;

	if (!json_object_object_get_ex(msg, "id", &value) ||
	    !json_object_is_type(value, json_type_int))
		return NULL;
	for (i = 0; i < q->ncalls; i++)
		if (q->calls[i].id == json_object_get_int64(value) && !q->calls[i].reply)
			return &q->calls[i];
	return NULL;
}

/* The oldest call in flight is done: its reply (or NULL) goes to the caller */
static struct json_object *pop_call(struct qmp *q)
{
	struct json_object *reply = q->calls[0].reply;

	q->ncalls--;
	memmove(&q->calls[0], &q->calls[1], q->ncalls * sizeof(q->calls[0]));
	return reply;
}

/* Takes ownership of msg, bytes long as text; errors mark the connection */
static void dispatch(struct qmp *q, struct json_object *msg, size_t bytes)
{
	struct json_object *value;

	if (!json_object_is_type(msg, json_type_object)) {
		broken(q, -EPROTO, "QEMU sent JSON that is not an object: %.*s",
		       QMP_QUOTE_MAX, quote(msg));
	} else if (json_object_object_get_ex(msg, "event", &value)) {
		/*
		 * Even before the greeting: QEMU 7.2 was seen sending RESUME
		 * ahead of it to a client that connected as the VM started.
		 * It is queued like any other event.
		 */
		if (json_object_is_type(value, json_type_string)) {
			if (q->wanted_event && !q->event && event_is(msg, q->wanted_event))
				q->event = msg;
			else
				queue_push(q, msg, bytes);
			return;
		}
		broken(q, -EPROTO, "QMP event name is not a string: %.*s", QMP_QUOTE_MAX,
		       quote(msg));
	} else if (!q->greeting) {
		if (json_object_object_get_ex(msg, "QMP", NULL)) {
			q->greeting = msg;
			return;
		}
		broken(q, -EPROTO, "not a QMP greeting: %.*s", QMP_QUOTE_MAX, quote(msg));
	} else if (json_object_object_get_ex(msg, "return", NULL) ||
		   json_object_object_get_ex(msg, "error", NULL)) {
		/* Anything but an awaited reply answers a call that timed out */
		struct qmp_pending *call = pending_call(q, msg);

		if (call) {
			call->reply = msg;
			return;
		}
	} else {
		broken(q, -EPROTO, "unexpected QMP message: %.*s", QMP_QUOTE_MAX, quote(msg));
	}
	json_object_put(msg);
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int feed(struct qmp *q, const char *buf, size_t len)
{
	struct json_object *msg;
	enum json_tokener_error jerr;
	size_t used, bytes;

	while (len && !q->error) {
		/* QEMU ends each message with CR LF: skipped, not counted, between messages */
		if (!q->msg_bytes && is_json_space(*buf)) {
			buf++;
			len--;
			continue;
		}
		msg = json_tokener_parse_ex(q->tok, buf, (int)len);
		jerr = json_tokener_get_error(q->tok);
		used = json_tokener_get_parse_end(q->tok);
		bytes = q->msg_bytes + used;
		if (bytes > QMP_MESSAGE_MAX) {
			json_object_put(msg);
			return broken(q, -EMSGSIZE, "QMP message longer than %u bytes",
				      QMP_MESSAGE_MAX);
		}
		if (!msg && jerr == json_tokener_success)
			return broken(q, -EPROTO, "QEMU sent JSON that is not an object: null");
		if (!msg && jerr != json_tokener_continue)
			return broken(q, -EPROTO, "QEMU sent invalid JSON: %s",
				      json_tokener_error_desc(jerr));
		if (!msg) {
			/* The whole buffer went into a message still incomplete */
			q->msg_bytes = bytes;
			return 0;
		}
		q->msg_bytes = 0;
		buf += used;
		len -= used;
		dispatch(q, msg, bytes);
	}
	return q->error;
}

/* Reads and dispatches what the socket holds, at most budget bytes */
static int receive(struct qmp *q, size_t budget)
{
	size_t total = 0;
	ssize_t n;

	while (total < budget && !q->error) {
		n = recv(q->fd, q->rbuf, sizeof(q->rbuf), MSG_DONTWAIT);
		if (n > 0) {
			total += n;
			feed(q, q->rbuf, n);
		} else if (n == 0 || errno == ECONNRESET) {
			return broken(q, -ECONNRESET, "QEMU closed QMP");
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else if (errno != EINTR) {
			return broken(q, -errno, "reading QMP: %s", strerror(errno));
		}
	}
	return q->error;
}

/* Reads until *slot is filled in by dispatch(), the deadline or an error */
static int wait_for(struct qmp *q, struct json_object **slot, int64_t deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	int n;

	for (;;) {
		if (*slot)
			return 0;
		if (q->error)
			return q->error;
		if (deadline <= now_ms())
			return -ETIMEDOUT;
		n = poll(&pfd, 1, ms_left(deadline));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			receive(q, QMP_READ_BUDGET);
	}
}

static int send_all(struct qmp *q, const char *text, size_t len, int64_t deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN | POLLOUT };
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(q->fd, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return broken(q, -ECONNRESET, "QEMU closed QMP");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return broken(q, -errno, "writing QMP: %s", strerror(errno));
		if (deadline <= now_ms()) {
			if (!off)
				return -ETIMEDOUT;
			return broken(q, -EPROTO, "QMP command half sent when its time ran out");
		}
		/* Keep reading meanwhile: QEMU may wait for us to take its output */
		n = poll(&pfd, 1, ms_left(deadline));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pfd.revents & ~POLLOUT) && receive(q, QMP_READ_BUDGET))
			return q->error;
	}
	return 0;
}

/* Adds value (NULL: allocation failed) to obj, or puts it */
static int add_owned(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!value)
		return -1;
	if (json_object_object_add(obj, key, value)) {
		json_object_put(value);
		return -1;
	}
	return 0;
}

/* Takes the reference to args */
static struct json_object *build_request(const char *command, struct json_object *args,
					 int64_t id)
{
	struct json_object *req = json_object_new_object();

	if (!req || add_owned(req, "execute", json_object_new_string(command)) ||
	    add_owned(req, "id", json_object_new_int64(id))) {
		json_object_put(req);
		json_object_put(args);
		return NULL;
	}
	if (args && add_owned(req, "arguments", args)) {
		json_object_put(req);
		return NULL;
	}
	return req;
}

/* The "<command>: <class>: <desc>" of an error reply */
static int reply_error(const char *command, struct json_object *error, char *err,
		       size_t errlen)
{
	struct json_object *class = NULL, *desc = NULL;

	json_object_object_get_ex(error, "class", &class);
	json_object_object_get_ex(error, "desc", &desc);
	return report(err, errlen, -EIO, "%s: %s: %s", command,
		      class ? json_object_get_string(class) : "(no class)",
		      desc ? json_object_get_string(desc) : "(no description)");
}

int qmp_call_start(struct qmp *q, const char *command, struct json_object *args,
		   int timeout_ms, char *err, size_t errlen)
{
	struct json_object *req;
	const char *text;
	int r;

	if (q->error) {
		json_object_put(args);
		return report(err, errlen, q->error, "%s: %s", command, q->error_msg);
	}
	if (q->ncalls == QMP_CALLS_MAX) {
		json_object_put(args);
		return report(err, errlen, -EBUSY, "%s: %u QMP calls in flight already", command,
			      QMP_CALLS_MAX);
	}
	req = build_request(command, args, ++q->last_id);
	text = req ? json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN) : NULL;
	if (!text) {
		json_object_put(req);
		return report(err, errlen, -ENOMEM, "%s: out of memory for the request",
			      command);
	}
	/* in the list before it is sent: its reply may come while it is */
	q->calls[q->ncalls++] = (struct qmp_pending){ .id = q->last_id };
	r = send_all(q, text, strlen(text), deadline_after(timeout_ms));
	json_object_put(req);
	if (r) {
		json_object_put(q->calls[--q->ncalls].reply);
		if (r == -ETIMEDOUT)
			return report(err, errlen, r, "%s: not sent within %d ms", command,
				      timeout_ms);
		return report(err, errlen, r, "%s: %s", command,
			      q->error ? q->error_msg : strerror(-r));
	}
	return 0;
}

/* Waits for the reply until deadline; timeout_ms is the call's, for the message. */
static int call_finish_by(struct qmp *q, const char *command, struct json_object **ret,
			  int64_t deadline, int timeout_ms, char *err, size_t errlen)
{
	struct json_object *reply, *value;
	int r;

	if (ret)
		*ret = NULL;
	if (!q->ncalls)
		return report(err, errlen, -EINVAL, "%s: no QMP call in flight", command);
	r = wait_for(q, &q->calls[0].reply, deadline);
	reply = pop_call(q);
	if (r) {
		/* A reply that overtook its request, from a broken server */
		json_object_put(reply);
		if (r == -ETIMEDOUT)
			return report(err, errlen, r, "%s: no reply within %d ms", command,
				      timeout_ms);
		return report(err, errlen, r, "%s: %s", command,
			      q->error ? q->error_msg : strerror(-r));
	}
	if (json_object_object_get_ex(reply, "error", &value)) {
		r = reply_error(command, value, err, errlen);
	} else if (ret) {
		json_object_object_get_ex(reply, "return", &value);
		*ret = json_object_get(value);
	}
	json_object_put(reply);
	return r;
}

int qmp_call_finish(struct qmp *q, const char *command, struct json_object **ret,
		    int timeout_ms, char *err, size_t errlen)
{
	return call_finish_by(q, command, ret, deadline_after(timeout_ms), timeout_ms, err,
			      errlen);
}

int qmp_call(struct qmp *q, const char *command, struct json_object *args,
	     struct json_object **ret, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = deadline_after(timeout_ms);
	int r;

	if (ret)
		*ret = NULL;
	if (q->ncalls) {
		json_object_put(args);
		return report(err, errlen, -EBUSY, "%s: started while another QMP call is in flight",
			      command);
	}
	r = qmp_call_start(q, command, args, timeout_ms, err, errlen);
	if (r)
		return r;
	/* one bound for both halves */
	return call_finish_by(q, command, ret, deadline, timeout_ms, err, errlen);
}

int qmp_read_events(struct qmp *q, char *err, size_t errlen)
{
	if (receive(q, QMP_READ_BUDGET))
		return report(err, errlen, q->error, "%s", q->error_msg);
	return 0;
}

struct json_object *qmp_next_event(struct qmp *q)
{
	return q->queue_len ? queue_take(q, 0) : NULL;
}

uint64_t qmp_events_dropped(const struct qmp *q)
{
	return q->dropped;
}

int qmp_wait_event(struct qmp *q, const char *event_name, int timeout_ms,
		   struct json_object **ev, char *err, size_t errlen)
{
	int64_t deadline = deadline_after(timeout_ms);
	struct json_object *event = NULL;
	unsigned int i;
	int r = 0;

	for (i = 0; i < q->queue_len && !event; i++) {
		if (event_is(queue_slot(q, i)->event, event_name))
			event = queue_take(q, i);
	}
	if (!event) {
		q->wanted_event = event_name;
		r = wait_for(q, &q->event, deadline);
		q->wanted_event = NULL;
		event = q->event;
		q->event = NULL;
	}
	if (ev)
		*ev = event;
	else
		json_object_put(event);
	if (r == -ETIMEDOUT)
		return report(err, errlen, r, "no %s event within %d ms", event_name,
			      timeout_ms);
	if (r)
		return report(err, errlen, r, "waiting for %s: %s", event_name,
			      q->error ? q->error_msg : strerror(-r));
	return 0;
}

uint64_t qmp_event_time_ns(struct json_object *event)
{
	struct json_object *stamp, *sec, *usec;
	int64_t s, us;

	if (!json_object_object_get_ex(event, "timestamp", &stamp) ||
	    !json_object_object_get_ex(stamp, "seconds", &sec) ||
	    !json_object_object_get_ex(stamp, "microseconds", &usec) ||
	    !json_object_is_type(sec, json_type_int) || !json_object_is_type(usec, json_type_int))
		return 0;
	s = json_object_get_int64(sec);
	us = json_object_get_int64(usec);
	if (s <= 0 || s > INT64_MAX / 1000000000 - 1 || us < 0 || us >= 1000000)
		return 0;
	return (uint64_t)s * 1000000000 + (uint64_t)us * 1000;
}

int qmp_status(struct qmp *q, char *status, size_t status_len, int timeout_ms,
	       char *err, size_t errlen)
{
	struct json_object *ret, *value;
	const char *text;
	int r;

	r = qmp_call(q, "query-status", NULL, &ret, timeout_ms, err, errlen);
	if (r)
		return r;
	if (!json_object_object_get_ex(ret, "status", &value) ||
	    !json_object_is_type(value, json_type_string)) {
		r = report(err, errlen, -EPROTO, "query-status: no status in %.*s",
			   QMP_QUOTE_MAX, quote(ret));
	} else {
		text = json_object_get_string(value);
		if (strlen(text) >= status_len)
			r = report(err, errlen, -ENOSPC, "query-status: status %.*s too long",
				   QMP_QUOTE_MAX, text);
		else
			strcpy(status, text);
	}
	json_object_put(ret);
	return r;
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

/* Connects, retrying while the socket is absent or refuses */
static int connect_retrying(const char *path, int64_t deadline, int timeout_ms,
			    char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int delay = QMP_CONNECT_RETRY_MIN_MS;
	int fd, e;

	strcpy(addr.sun_path, path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return report(err, errlen, -errno, "QMP socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		e = errno;
		close(fd);
		/* Absent or refusing: QEMU may still be starting. Full backlog: EAGAIN */
		if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN && e != EINTR)
			return report(err, errlen, -e, "cannot connect to QMP socket %s: %s",
				      path, strerror(e));
		if (deadline <= now_ms())
			return report(err, errlen, -e,
				      "cannot connect to QMP socket %s within %d ms: %s",
				      path, timeout_ms, strerror(e));
		poll(NULL, 0, delay < ms_left(deadline) ? delay : ms_left(deadline));
		delay = delay * 2 < QMP_CONNECT_RETRY_MAX_MS ? delay * 2 : QMP_CONNECT_RETRY_MAX_MS;
	}
}

/*
 * The arguments of qmp_capabilities: "oob" where the greeting offers it
 * (a monitor with its own I/O thread), else none. Without it QEMU reads a
 * monitor's next command only once the last one has run, so a command
 * queued behind another (colod's checkpoint sends stop and the device
 * state's save together) waits for a round trip through the monitor's
 * thread while the VM is paused. With it QEMU queues up to 8 and runs them
 * back to back, still one after another and answered in order.
 */
static struct json_object *capabilities_wanted(struct json_object *greeting)
{
	struct json_object *qmp, *offered, *cap, *args, *enable, *oob;
	size_t i, n;

	if (!json_object_object_get_ex(greeting, "QMP", &qmp) ||
	    !json_object_object_get_ex(qmp, "capabilities", &offered) ||
	    !json_object_is_type(offered, json_type_array))
		return NULL;
	n = json_object_array_length(offered);
	for (i = 0; i < n; i++) {
		cap = json_object_array_get_idx(offered, i);
		if (json_object_is_type(cap, json_type_string) &&
		    !strcmp(json_object_get_string(cap), "oob"))
			break;
	}
	if (i == n)
		return NULL;
	/* Short of memory, QEMU is simply not asked for it */
	args = json_object_new_object();
	enable = json_object_new_array();
	oob = json_object_new_string("oob");
	if (!args || !enable || !oob || json_object_array_add(enable, oob)) {
		json_object_put(oob);
		json_object_put(enable);
		json_object_put(args);
		return NULL;
	}
	if (json_object_object_add(args, "enable", enable)) {
		json_object_put(enable);
		json_object_put(args);
		return NULL;
	}
	return args;
}

struct qmp *qmp_open(const char *socket_path, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = deadline_after(timeout_ms);
	size_t max_path = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	struct qmp *q;
	int r;

	if (strlen(socket_path) > max_path) {
		report(err, errlen, 0, "QMP socket path %s longer than %zu bytes", socket_path,
		       max_path);
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q)
		q->tok = json_tokener_new();
	if (!q || !q->tok) {
		free(q);
		report(err, errlen, 0, "out of memory for the QMP connection");
		return NULL;
	}
	q->fd = connect_retrying(socket_path, deadline, timeout_ms, err, errlen);
	if (q->fd < 0)
		goto fail;
	r = wait_for(q, &q->greeting, deadline);
	if (r == -ETIMEDOUT) {
		report(err, errlen, r,
		       "QMP greeting missing after %d ms (is another client connected?)",
		       timeout_ms);
		goto fail;
	}
	if (r) {
		report(err, errlen, r, "QMP greeting: %s",
		       q->error ? q->error_msg : strerror(-r));
		goto fail;
	}
	if (qmp_call(q, "qmp_capabilities", capabilities_wanted(q->greeting), NULL,
		     ms_left(deadline), err, errlen))
		goto fail;
	return q;
fail:
	qmp_close(q);
	return NULL;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	json_tokener_free(q->tok);
	json_object_put(q->greeting);
	while (q->ncalls)
		json_object_put(pop_call(q));
	while (q->queue_len)
		json_object_put(queue_take(q, 0));
	free(q);
}
