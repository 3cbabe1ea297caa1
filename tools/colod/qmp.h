/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QMP client: colod talks to its QEMU over the QEMU Machine Protocol on a
 * unix socket, JSON parsed with json-c.
 *
 * One connection serves both of colod's ways of waiting. Its main loop puts
 * qmp_fd() in a level-triggered epoll set and calls qmp_read_events() when
 * it is readable, then drains qmp_next_event(). Its checkpoint path makes
 * synchronous calls (qmp_call(), qmp_wait_event()), each bounded by a
 * timeout. Events read during a synchronous call are queued, and epoll does
 * not report them again: drain qmp_next_event() after every call.
 *
 * Bounds, against a QEMU that misbehaves: a message (reply or event) longer
 * than QMP_MESSAGE_MAX bytes, JSON json-c refuses, or a message that is not
 * a QMP greeting, reply or event makes the connection unusable (-EMSGSIZE,
 * -EPROTO). The event queue holds at most QMP_EVENT_QUEUE_MAX events and
 * QMP_EVENT_QUEUE_BYTES bytes of their JSON text; beyond that the oldest
 * events are dropped and counted (qmp_events_dropped()).
 *
 * Errors are negative errno values, each with a reason in err (which may be
 * NULL): -ECONNRESET when QEMU closed the socket ("QEMU closed QMP"),
 * -ETIMEDOUT when the timeout passed, -EIO when QEMU answered a command with
 * an error ("<command>: <class>: <desc>"). Once the connection is unusable
 * (closed, or a protocol error), every call fails at once with that first
 * error; events queued before it can still be taken.
 *
 * Not thread-safe: one thread uses a connection.
 */
#ifndef COLOD_QMP_H
#define COLOD_QMP_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* query-qmp-schema, the longest reply colod might ask for, is ~200 KiB */
#define QMP_MESSAGE_MAX		(4U << 20)
#define QMP_EVENT_QUEUE_MAX	1024U
#define QMP_EVENT_QUEUE_BYTES	(8U << 20)
/* Calls in flight at once (qmp_call_start()) */
#define QMP_CALLS_MAX		4U

struct qmp;

/*
 * Connects to the QMP socket at socket_path, retrying while it is absent or
 * refuses (QEMU still starting), reads the greeting and leaves the greeting's
 * capability negotiation mode with qmp_capabilities, enabling "oob" where it
 * is offered (QEMU then takes calls in flight at once). timeout_ms bounds all
 * of it. Returns NULL with the reason in err on failure.
 */
struct qmp *qmp_open(const char *socket_path, int timeout_ms, char *err, size_t errlen);

/* The socket, non-blocking, for epoll (level-triggered) */
int qmp_fd(const struct qmp *q);

/*
 * Runs command with args (NULL for none; the reference is taken, even on
 * failure) and waits up to timeout_ms for its reply. On success, returns 0
 * and, when ret is not NULL, the reply's "return" value in *ret (the caller
 * puts it). A reply that comes after its call timed out is discarded.
 */
int qmp_call(struct qmp *q, const char *command, struct json_object *args,
	     struct json_object **ret, int timeout_ms, char *err, size_t errlen);

/*
 * qmp_call() in two halves, for work colod does while QEMU runs a command:
 * qmp_call_start() sends it (args as for qmp_call()), qmp_call_finish()
 * waits up to timeout_ms for its reply and returns what qmp_call() would.
 * Up to QMP_CALLS_MAX calls may be in flight: QEMU runs them in the order
 * sent, each once the one before has returned, and qmp_call_finish() takes
 * the oldest. Sending the next before the reply to the last saves QEMU the
 * wait for our round trip. qmp_call() needs none in flight (-EBUSY).
 */
int qmp_call_start(struct qmp *q, const char *command, struct json_object *args,
		   int timeout_ms, char *err, size_t errlen);
int qmp_call_finish(struct qmp *q, const char *command, struct json_object **ret,
		    int timeout_ms, char *err, size_t errlen);

/*
 * Reads what the socket holds without blocking and queues the events in it.
 * Returns 0, or a negative errno (-ECONNRESET: QEMU closed QMP); after an
 * error the fd stays readable, so take it out of epoll. Reads at most a few
 * hundred KiB per call so that a flooding QEMU cannot starve the main loop:
 * the rest keeps the fd readable.
 */
int qmp_read_events(struct qmp *q, char *err, size_t errlen);

/* The oldest queued event (the whole message; the caller puts it), or NULL */
struct json_object *qmp_next_event(struct qmp *q);

/* Events dropped because the queue was full, since qmp_open() */
uint64_t qmp_events_dropped(const struct qmp *q);

/*
 * Takes the oldest event named event_name from the queue or, when none is
 * queued, waits up to timeout_ms for one. Other events stay queued, in
 * order. On success, returns 0 with the whole event message in *ev (the
 * caller puts it; NULL to discard it).
 */
int qmp_wait_event(struct qmp *q, const char *event_name, int timeout_ms,
		   struct json_object **ev, char *err, size_t errlen);

/*
 * When QEMU emitted event (its "timestamp", CLOCK_REALTIME) in nanoseconds;
 * 0 when the event has none that makes sense.
 */
uint64_t qmp_event_time_ns(struct json_object *event);

/* query-status: the run state ("running", "paused", "inmigrate", ...) */
int qmp_status(struct qmp *q, char *status, size_t status_len, int timeout_ms,
	       char *err, size_t errlen);

/* Closes the socket and puts the queued events; q may be NULL */
void qmp_close(struct qmp *q);

#endif
