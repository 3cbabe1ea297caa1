// SPDX-License-Identifier: GPL-2.0
/*
 * colod's QMP client, against a real QEMU (qemu-system-x86_64 under TCG):
 * capabilities, query-status, stop/cont and their events, error replies,
 * events queued during calls, a migration to a file followed through epoll,
 * QEMU killed mid-session. Without qemu-system-x86_64 those tests are
 * skipped.
 *
 * Then against a scripted server in this process, for what QEMU cannot be
 * made to send: the request on the wire, messages split at every byte or
 * several in one read, stale replies, event floods against the queue's
 * bounds, an oversized message, malformed messages, bad greetings, and
 * sockets nobody serves.
 *
 * Every wait is bounded; an alarm ends a hung run, and each QEMU dies with
 * this process (PR_SET_PDEATHSIG) whatever ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "colod/qmp.h"

#define QEMU_BINARY		"qemu-system-x86_64"
/* Generous: a loaded 2-core machine running QEMU under ASan's neighbours */
#define START_TIMEOUT_MS	60000
#define CALL_TIMEOUT_MS		20000
#define MIGRATE_TIMEOUT_MS	180000
/* A timeout that must expire, and how late it may be noticed */
#define SHORT_TIMEOUT_MS	300
#define LATE_MS			5000
#define WATCHDOG_S		900

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
		 "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_REPLY "{\"return\": {}, \"id\": 1}\r\n"

static char tmpdir[64];
static char err[512];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tap_skip(const char *what)
{
	tap_count++;
	printf("ok %d # SKIP %s: %s not found\n", tap_count, what, QEMU_BINARY);
	fflush(stdout);
}

static int elapsed_within(int64_t start, int timeout_ms)
{
	int64_t took = now_ms() - start;

	return took >= timeout_ms - 1 && took <= timeout_ms + LATE_MS;
}

static const char *event_name(struct json_object *ev)
{
	struct json_object *name;

	if (!ev || !json_object_object_get_ex(ev, "event", &name))
		return "(none)";
	return json_object_get_string(name);
}

/* data.<key> of an event as a string, or "" */
static const char *event_data(struct json_object *ev, const char *key)
{
	struct json_object *data, *value;

	if (!ev || !json_object_object_get_ex(ev, "data", &data) ||
	    !json_object_object_get_ex(data, key, &value))
		return "";
	return json_object_get_string(value);
}

static int call(struct qmp *q, const char *command)
{
	return qmp_call(q, command, NULL, NULL, CALL_TIMEOUT_MS, err, sizeof(err));
}

static int status_is(struct qmp *q, const char *want, char *got, size_t len)
{
	strcpy(got, "(error)");
	return !qmp_status(q, got, len, CALL_TIMEOUT_MS, err, sizeof(err)) && !strcmp(got, want);
}

/* Polls query-status: the run state may follow an event a moment later */
static int status_becomes(struct qmp *q, const char *want, char *got, size_t len)
{
	int64_t deadline = now_ms() + CALL_TIMEOUT_MS;

	while (!status_is(q, want, got, len) && now_ms() < deadline)
		poll(NULL, 0, 20);
	return !strcmp(got, want);
}

/* ---- QEMU ---------------------------------------------------------------- */

struct qemu {
	pid_t pid;
	char sock[108];
	char log[108];
	struct qmp *q;
};

static pid_t qemu_pids[4];

static void kill_qemus(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(qemu_pids); i++) {
		if (qemu_pids[i] > 0) {
			kill(qemu_pids[i], SIGKILL);
			waitpid(qemu_pids[i], NULL, 0);
			qemu_pids[i] = 0;
		}
	}
}

static void forget_pid(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(qemu_pids); i++) {
		if (qemu_pids[i] == pid)
			qemu_pids[i] = 0;
	}
}

static int have_qemu(void)
{
	char *path = getenv("PATH"), *copy, *dir, *save;
	char file[4096];
	int found = 0;

	if (!path)
		return 0;
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", dir, QEMU_BINARY);
		found = !access(file, X_OK);
	}
	free(copy);
	return found;
}

static void print_log(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && n++ < 20 && fgets(line, sizeof(line), f))
		printf("# qemu: %s", line);
	if (f)
		fclose(f);
}

/* Starts QEMU with extra arguments (NULL-terminated) and connects to its QMP */
static int qemu_start(struct qemu *vm, const char *name, const char *const *extra)
{
	const char *argv[32] = { QEMU_BINARY, "-nodefaults", "-display", "none", "-qmp" };
	char qmp_arg[160];
	int argc = 5, fd, status;
	pid_t parent = getpid();
	int64_t deadline;
	struct stat st;
	unsigned int i;

	snprintf(vm->sock, sizeof(vm->sock), "%s/%s.sock", tmpdir, name);
	snprintf(vm->log, sizeof(vm->log), "%s/%s.log", tmpdir, name);
	snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off", vm->sock);
	argv[argc++] = qmp_arg;
	while (*extra)
		argv[argc++] = *extra++;
	vm->q = NULL;
	fflush(stdout);
	vm->pid = fork();
	if (vm->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open(vm->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		execvp(QEMU_BINARY, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < ARRAY_SIZE(qemu_pids); i++) {
		if (!qemu_pids[i]) {
			qemu_pids[i] = vm->pid;
			break;
		}
	}
	/* The socket appears once QEMU has parsed its options */
	deadline = now_ms() + START_TIMEOUT_MS;
	while (stat(vm->sock, &st)) {
		if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
			forget_pid(vm->pid);
			snprintf(err, sizeof(err), "QEMU exited with status %#x", status);
			print_log(vm->log);
			return 0;
		}
		if (now_ms() > deadline) {
			snprintf(err, sizeof(err), "no QMP socket after %d ms", START_TIMEOUT_MS);
			return 0;
		}
		poll(NULL, 0, 20);
	}
	vm->q = qmp_open(vm->sock, START_TIMEOUT_MS, err, sizeof(err));
	return vm->q != NULL;
}

static void qemu_stop(struct qemu *vm)
{
	qmp_close(vm->q);
	vm->q = NULL;
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		forget_pid(vm->pid);
	}
	unlink(vm->sock);
	unlink(vm->log);
}

/* Calls stop and cont in turn, times calls in all */
static int stop_cont(struct qmp *q, int times)
{
	int i;

	for (i = 0; i < times; i++) {
		if (call(q, i % 2 ? "cont" : "stop"))
			return 0;
	}
	return 1;
}

static void test_qemu_session(void)
{
	const char *const none[] = { "-M", "none", NULL };
	struct json_object *ev = NULL, *args;
	struct qemu vm;
	struct qmp *second;
	char status[32];
	static const char *const want[] = { "STOP", "RESUME", "STOP", "RESUME" };
	int64_t start;
	int r, i, in_order;

	if (!tap_check(qemu_start(&vm, "none", none), "qmp_open on QEMU -M none: %s",
		       vm.q ? "ready" : err)) {
		qemu_stop(&vm);
		return;
	}
	tap_check(qmp_fd(vm.q) >= 0, "qmp_fd gives the socket");
	tap_check(status_is(vm.q, "running", status, sizeof(status)),
		  "-M none without -S runs: status %s", status);

	start = now_ms();
	second = qmp_open(vm.sock, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(!second && strstr(err, "QMP greeting missing after 300 ms") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS),
		  "a second client gets no greeting while the first is connected: %s", err);
	qmp_close(second);

	tap_check(!call(vm.q, "stop") && status_is(vm.q, "paused", status, sizeof(status)),
		  "stop pauses: status %s", status);
	r = qmp_wait_event(vm.q, "STOP", CALL_TIMEOUT_MS, &ev, err, sizeof(err));
	tap_check(!r && !strcmp(event_name(ev), "STOP") &&
		  json_object_object_get_ex(ev, "timestamp", NULL),
		  "qmp_wait_event returns the STOP event: %s", r ? err : event_name(ev));
	json_object_put(ev);
	tap_check(!call(vm.q, "cont") && status_is(vm.q, "running", status, sizeof(status)),
		  "cont resumes: status %s", status);
	r = qmp_wait_event(vm.q, "RESUME", CALL_TIMEOUT_MS, NULL, err, sizeof(err));
	tap_check(!r, "qmp_wait_event sees RESUME: %s", r ? err : "ok");
	tap_check(!qmp_next_event(vm.q), "the queue is empty once STOP and RESUME are taken");

	r = call(vm.q, "no-such-command");
	tap_check(r == -EIO && strstr(err, "no-such-command: CommandNotFound: "),
		  "an unknown command fails with -EIO: %s", err);
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_int(5));
	r = qmp_call(vm.q, "migrate", args, NULL, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EIO && strstr(err, "migrate: GenericError: ") && strstr(err, "uri"),
		  "bad arguments fail with -EIO and the class: %s", err);
	r = call(vm.q, "migrate");
	tap_check(r == -EIO && strstr(err, "migrate: GenericError: ") && strstr(err, "uri"),
		  "missing arguments fail with -EIO and the class: %s", err);

	r = stop_cont(vm.q, 4);
	tap_check(r, "stop, cont, stop, cont: %s", r ? "ok" : err);
	for (i = 0, in_order = 1; i < 4; i++) {
		ev = qmp_next_event(vm.q);
		in_order &= !strcmp(event_name(ev), want[i]);
		json_object_put(ev);
	}
	ev = qmp_next_event(vm.q);
	tap_check(in_order && !ev && !qmp_events_dropped(vm.q),
		  "the events of those calls wait in the queue in order");
	json_object_put(ev);

	r = call(vm.q, "stop");
	tap_check(!r, "stop again: %s", r ? err : "ok");
	start = now_ms();
	r = qmp_wait_event(vm.q, "RESUME", SHORT_TIMEOUT_MS, NULL, err, sizeof(err));
	tap_check(r == -ETIMEDOUT && strstr(err, "no RESUME event within 300 ms") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS),
		  "qmp_wait_event times out: %s", err);
	ev = qmp_next_event(vm.q);
	tap_check(!strcmp(event_name(ev), "STOP"), "the STOP it passed over stays queued: %s",
		  event_name(ev));
	json_object_put(ev);
	r = qmp_status(vm.q, status, 4, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -ENOSPC && strstr(err, "paused"), "qmp_status into a short buffer: %s",
		  err);

	kill(vm.pid, SIGKILL);
	waitpid(vm.pid, NULL, 0);
	forget_pid(vm.pid);
	vm.pid = 0;
	start = now_ms();
	r = call(vm.q, "query-status");
	tap_check(r == -ECONNRESET && strstr(err, "query-status: QEMU closed QMP") &&
		  now_ms() - start < LATE_MS,
		  "QEMU killed: the next call fails with -ECONNRESET at once: %s", err);
	r = call(vm.q, "cont");
	tap_check(r == -ECONNRESET && strstr(err, "cont: QEMU closed QMP"),
		  "and so does every later call: %s", err);
	r = qmp_read_events(vm.q, err, sizeof(err));
	tap_check(r == -ECONNRESET, "and qmp_read_events: %s", err);
	qemu_stop(&vm);
}

/* Reads the first 4 bytes of a file once it has them */
static int wait_file_magic(const char *path, char magic[5])
{
	int64_t deadline = now_ms() + CALL_TIMEOUT_MS;
	int fd, n = 0;

	do {
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, magic, 4);
			close(fd);
		}
		if (n == 4)
			break;
		poll(NULL, 0, 20);
	} while (now_ms() < deadline);
	magic[n == 4 ? 4 : 0] = 0;
	return n == 4;
}

static void test_qemu_migration(void)
{
	const char *const pc[] = { "-M", "pc", "-m", "32", "-accel", "tcg", NULL };
	struct json_object *args, *caps, *cap, *ev, *ret = NULL, *value;
	struct epoll_event eev = { .events = EPOLLIN };
	char state[128], status[32], uri[160], seen[256] = "", magic[5];
	const char *last = "";
	int64_t deadline;
	struct qemu vm;
	int r, ep, left, done = 0;

	snprintf(state, sizeof(state), "%s/state", tmpdir);
	if (!tap_check(qemu_start(&vm, "pc", pc), "qmp_open on QEMU -M pc -m 32: %s",
		       vm.q ? "ready" : err)) {
		qemu_stop(&vm);
		return;
	}
	tap_check(status_is(vm.q, "running", status, sizeof(status)), "the pc runs: status %s",
		  status);

	args = json_object_new_object();
	caps = json_object_new_array();
	cap = json_object_new_object();
	json_object_object_add(cap, "capability", json_object_new_string("events"));
	json_object_object_add(cap, "state", json_object_new_boolean(1));
	json_object_array_add(caps, cap);
	json_object_object_add(args, "capabilities", caps);
	r = qmp_call(vm.q, "migrate-set-capabilities", args, NULL, CALL_TIMEOUT_MS, err,
		     sizeof(err));
	tap_check(!r, "migrate-set-capabilities events on: %s", r ? err : "ok");

	snprintf(uri, sizeof(uri), "exec:cat > %s", state);
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(uri));
	r = qmp_call(vm.q, "migrate", args, NULL, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(!r, "migrate to %s: %s", uri, r ? err : "started");

	/* As colod's main loop does: drain the queue, then sleep in epoll */
	ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_ctl(ep, EPOLL_CTL_ADD, qmp_fd(vm.q), &eev);
	deadline = now_ms() + MIGRATE_TIMEOUT_MS;
	r = 0;
	while (!r && !done && now_ms() < deadline) {
		while ((ev = qmp_next_event(vm.q))) {
			if (!strcmp(event_name(ev), "MIGRATION")) {
				last = event_data(ev, "status");
				snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s",
					 last);
				done |= !strcmp(last, "completed") || !strcmp(last, "failed");
			}
			json_object_put(ev);
		}
		left = (int)(deadline - now_ms());
		if (!done && left > 0 && epoll_wait(ep, &eev, 1, left) == 1)
			r = qmp_read_events(vm.q, err, sizeof(err));
	}
	close(ep);
	tap_check(!r && strstr(seen, " completed") && !strstr(seen, "failed"),
		  "MIGRATION events through epoll and qmp_read_events:%s%s%s", seen,
		  r ? " " : "", r ? err : "");

	r = qmp_call(vm.q, "query-migrate", NULL, &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(!r && json_object_object_get_ex(ret, "status", &value) &&
		  !strcmp(json_object_get_string(value), "completed"),
		  "query-migrate returns its result: %s",
		  r ? err : json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	json_object_put(ret);
	/* MIGRATION completed may come while the run state is still finish-migrate */
	tap_check(status_becomes(vm.q, "postmigrate", status, sizeof(status)),
		  "the source stays stopped: status %s", status);
	tap_check(wait_file_magic(state, magic) && !strcmp(magic, "QEVM"),
		  "the state file holds a migration stream: magic %s", magic);
	qemu_stop(&vm);
	unlink(state);
}

/* ---- scripted server ----------------------------------------------------- */

struct fake {
	int lfd;
	int sfd;			/* the server's end, non-blocking once open */
	const char *greeting;		/* written as soon as the client connects */
	const char *caps_reply;		/* written once qmp_capabilities came, or NULL */
	struct json_object *caps_request;
	char path[108];
	struct json_tokener *tok;	/* parses what the client sends */
};

/* The next request the client sent, parsed */
static struct json_object *server_request(struct fake *f)
{
	struct pollfd pfd = { .fd = f->sfd, .events = POLLIN };
	struct json_object *req = NULL;
	char c;

	while (!req && poll(&pfd, 1, CALL_TIMEOUT_MS) == 1 && recv(f->sfd, &c, 1, 0) == 1)
		req = json_tokener_parse_ex(f->tok, &c, 1);
	return req;
}

static int write_all(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len && (n = send(fd, text + off, len - off, MSG_NOSIGNAL)) > 0)
		off += n;
	return off == len;
}

static void *fake_accept(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };

	if (poll(&pfd, 1, CALL_TIMEOUT_MS) != 1)
		return NULL;
	f->sfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->sfd < 0 || !write_all(f->sfd, f->greeting) || !f->caps_reply)
		return NULL;
	/* Only now: a reply that comes before its request belongs to no call */
	f->caps_request = server_request(f);
	write_all(f->sfd, f->caps_reply);
	return NULL;
}

static int fake_listen(struct fake *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "%s/fake.sock", tmpdir);
	strcpy(addr.sun_path, f->path);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return f->lfd >= 0 && !bind(f->lfd, (struct sockaddr *)&addr, sizeof(addr)) &&
	       !listen(f->lfd, 4);
}

/* qmp_open against a server sending greeting, then caps_reply to qmp_capabilities */
static struct qmp *fake_open(struct fake *f, const char *greeting, const char *caps_reply)
{
	struct qmp *q = NULL;
	pthread_t thread;

	f->greeting = greeting;
	f->caps_reply = caps_reply;
	f->caps_request = NULL;
	f->sfd = -1;
	f->tok = json_tokener_new();
	if (fake_listen(f) && !pthread_create(&thread, NULL, fake_accept, f)) {
		q = qmp_open(f->path, CALL_TIMEOUT_MS, err, sizeof(err));
		pthread_join(thread, NULL);
	}
	if (f->sfd >= 0)
		fcntl(f->sfd, F_SETFL, O_NONBLOCK);
	close(f->lfd);
	unlink(f->path);
	return q;
}

static void fake_close(struct fake *f, struct qmp *q)
{
	qmp_close(q);
	if (f->sfd >= 0)
		close(f->sfd);
	json_tokener_free(f->tok);
	json_object_put(f->caps_request);
}

static struct qmp *fake_ready(struct fake *f)
{
	return fake_open(f, GREETING, CAPS_REPLY);
}

/* Bytes the server sent that the client has not read yet */
static int unread(int sfd)
{
	int outq = 0;

	return ioctl(sfd, SIOCOUTQ, &outq) ? -1 : outq;
}

/* Lets the client read what the socket holds, as its epoll loop would */
static int pump(struct qmp *q)
{
	struct pollfd pfd = { .fd = qmp_fd(q), .events = POLLIN };

	if (poll(&pfd, 1, CALL_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	return qmp_read_events(q, err, sizeof(err));
}

/* Sends len bytes and has the client read them all; the client's error if it fails */
static int server_send(struct fake *f, struct qmp *q, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int r;

	while (off < len) {
		n = send(f->sfd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += n;
		} else if (errno == EAGAIN) {
			r = pump(q);
			if (r)
				return r;
		} else {
			return -errno;
		}
	}
	while (unread(f->sfd) > 0) {
		r = pump(q);
		if (r)
			return r;
	}
	return 0;
}

static int server_say(struct fake *f, struct qmp *q, const char *text)
{
	return server_send(f, q, text, strlen(text));
}

/* Writes text for the client to find when it next reads */
static int server_queue(struct fake *f, const char *text)
{
	return write_all(f->sfd, text);
}

static int request_is(struct json_object *req, const char *command, int64_t id,
		      const char *arguments)
{
	struct json_object *value;
	const char *args = "(none)";

	if (json_object_object_get_ex(req, "arguments", &value))
		args = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
	return json_object_object_get_ex(req, "execute", &value) &&
	       !strcmp(json_object_get_string(value), command) &&
	       json_object_object_get_ex(req, "id", &value) &&
	       json_object_get_int64(value) == id && !strcmp(args, arguments) &&
	       json_object_object_length(req) == (strcmp(arguments, "(none)") ? 3 : 2);
}

static int64_t ret_int(struct json_object *ret, const char *key)
{
	struct json_object *value;

	if (!json_object_object_get_ex(ret, key, &value))
		return -1;
	return json_object_get_int64(value);
}

static void test_fake_calls(void)
{
	static const char *const pipelined[QMP_CALLS_MAX] = { "p-stop", "p-save", "p-cont", "p-x" };
	struct json_object *req, *args, *ret = NULL, *ev;
	struct fake f;
	struct qmp *q = fake_ready(&f);
	unsigned int i;
	int64_t start;
	int r;

	if (!tap_check(q != NULL, "qmp_open on a scripted server: %s", q ? "ready" : err)) {
		fake_close(&f, q);
		return;
	}
	req = f.caps_request;
	tap_check(request_is(req, "qmp_capabilities", 1, "{\"enable\":[\"oob\"]}"),
		  "qmp_capabilities enables the oob the greeting offers: %s",
		  req ? json_object_to_json_string(req) : "(nothing)");

	server_queue(&f, "{\"return\": {\"x\": 42}, \"id\": 2}");
	args = json_object_new_object();
	json_object_object_add(args, "a", json_object_new_string("b\"c"));
	r = qmp_call(q, "test-cmd", args, &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	req = server_request(&f);
	tap_check(!r && ret_int(ret, "x") == 42 &&
		  request_is(req, "test-cmd", 2, "{\"a\":\"b\\\"c\"}"),
		  "a call with arguments went out as %s and returned %s",
		  req ? json_object_to_json_string(req) : "(nothing)",
		  r ? err : json_object_to_json_string(ret));
	json_object_put(req);
	json_object_put(ret);

	start = now_ms();
	r = qmp_call(q, "slow", NULL, &ret, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -ETIMEDOUT && !ret && strstr(err, "slow: no reply within 300 ms") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS),
		  "a call without a reply times out: %s", err);

	/* The late reply to "slow" (id 3), an event and the reply, in one read */
	server_queue(&f, "{\"return\": {\"x\": 1}, \"id\": 3}{\"event\": \"E1\"}\n"
			 "{\"return\": {\"x\": 2}, \"id\": \"4\"}{\"return\": {\"x\": 3}}"
			 "{\"return\": {\"x\": 4}, \"id\": 4}");
	r = qmp_call(q, "next", NULL, &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	ev = qmp_next_event(q);
	tap_check(!r && ret_int(ret, "x") == 4 && !strcmp(event_name(ev), "E1"),
		  "stale and foreign replies are skipped, the event between them queued: %s",
		  r ? err : json_object_to_json_string(ret));
	json_object_put(ret);
	json_object_put(ev);

	server_queue(&f, "{\"error\": {\"class\": \"DeviceNotFound\"}, \"id\": 5}");
	r = qmp_call(q, "device_del", NULL, &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EIO && !ret && !strcmp(err, "device_del: DeviceNotFound: (no description)"),
		  "an error reply without desc: %s", err);

	/* A call in two halves: its reply is only queued once it has started */
	r = qmp_call_start(q, "split", NULL, CALL_TIMEOUT_MS, err, sizeof(err));
	server_queue(&f, "{\"event\": \"S\"}{\"return\": {\"x\": 6}, \"id\": 6}");
	if (!r)
		r = qmp_call_finish(q, "split", &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	ev = qmp_next_event(q);
	tap_check(!r && ret_int(ret, "x") == 6 && !strcmp(event_name(ev), "S"),
		  "a call started, then finished with its reply, the event before it queued: %s",
		  r ? err : json_object_to_json_string(ret));
	json_object_put(ret);
	json_object_put(ev);

	/*
	 * Calls in flight at once (ids 7..10): a fifth is refused, and so is a
	 * whole call meanwhile; replies are matched by id, whatever their order
	 * on the wire, and each finish takes the oldest call.
	 */
	r = 0;
	for (i = 0; i < QMP_CALLS_MAX; i++)
		r |= qmp_call_start(q, pipelined[i], NULL, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(!r, "%u calls in flight: %s", QMP_CALLS_MAX, r ? err : "sent");
	r = qmp_call_start(q, "one-more", NULL, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EBUSY && strstr(err, "4 QMP calls in flight already"),
		  "one more is refused: %s", err);
	r = qmp_call(q, "whole", NULL, &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EBUSY && !ret && strstr(err, "another QMP call is in flight"),
		  "so is a whole call meanwhile: %s", err);
	server_queue(&f, "{\"return\": {\"x\": 9}, \"id\": 9}"
			 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": 7}"
			 "{\"return\": {\"x\": 8}, \"id\": 8}{\"return\": {\"x\": 10}, \"id\": 10}");
	r = qmp_call_finish(q, pipelined[0], &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EIO && !ret && !strcmp(err, "p-stop: GenericError: no"),
		  "the oldest call finishes first, with its error: %s", err);
	for (i = 1; i < QMP_CALLS_MAX; i++) {
		r = qmp_call_finish(q, pipelined[i], &ret, CALL_TIMEOUT_MS, err, sizeof(err));
		tap_check(!r && ret_int(ret, "x") == 7 + i, "then %s, with its own reply: %s",
			  pipelined[i], r ? err : json_object_to_json_string(ret));
		json_object_put(ret);
	}
	r = qmp_call_finish(q, "none", &ret, CALL_TIMEOUT_MS, err, sizeof(err));
	tap_check(r == -EINVAL && !strcmp(err, "none: no QMP call in flight"),
		  "finishing with none in flight: %s", err);
	/* slow, next, device_del and split went out before them */
	for (i = 0; i < 4; i++)
		json_object_put(server_request(&f));
	r = 1;
	for (i = 0; i < QMP_CALLS_MAX; i++) {
		req = server_request(&f);
		r &= request_is(req, pipelined[i], 7 + i, "(none)");
		json_object_put(req);
	}
	tap_check(r, "the calls in flight went out in order, ids 7 to 10");

	server_queue(&f, "{\"event\": \"A\"}{\"event\": \"B\", \"data\": {\"n\": 1}}"
			 "{\"event\": \"B\", \"data\": {\"n\": 2}}{\"event\": \"C\"}");
	r = qmp_wait_event(q, "B", CALL_TIMEOUT_MS, &ev, err, sizeof(err));
	tap_check(!r && !strcmp(event_data(ev, "n"), "1"), "qmp_wait_event takes the first B: %s",
		  r ? err : json_object_to_json_string(ev));
	json_object_put(ev);
	r = qmp_wait_event(q, "B", CALL_TIMEOUT_MS, &ev, err, sizeof(err));
	tap_check(!r && !strcmp(event_data(ev, "n"), "2"),
		  "then the second B, from the middle of the queue: %s",
		  r ? err : json_object_to_json_string(ev));
	json_object_put(ev);
	ev = qmp_next_event(q);
	r = !strcmp(event_name(ev), "A");
	json_object_put(ev);
	ev = qmp_next_event(q);
	r &= !strcmp(event_name(ev), "C");
	json_object_put(ev);
	ev = qmp_next_event(q);
	tap_check(r && !ev, "A and C stay queued, in order");

	/* QEMU's timestamps: seconds and microseconds, anything else 0 */
	server_queue(&f, "{\"event\": \"T\", \"timestamp\": {\"seconds\": 1796290570, "
			 "\"microseconds\": 657169}}"
			 "{\"event\": \"T\", \"timestamp\": {\"seconds\": 5, \"microseconds\": 1000000}}"
			 "{\"event\": \"T\", \"timestamp\": {\"seconds\": \"5\", \"microseconds\": 0}}"
			 "{\"event\": \"T\", \"timestamp\": {\"seconds\": -1, \"microseconds\": 0}}"
			 "{\"event\": \"T\"}");
	r = 0;
	for (i = 0; i < 5; i++) {
		uint64_t want = i ? 0 : 1796290570657169000ULL, got;

		if (qmp_wait_event(q, "T", CALL_TIMEOUT_MS, &ev, err, sizeof(err)))
			break;
		got = qmp_event_time_ns(ev);
		r += got == want;
		json_object_put(ev);
	}
	tap_check(r == 5, "event times: a good timestamp in ns, out-of-range, mistyped and "
		  "missing ones 0 (%d of 5 right)", r);

	tap_check(!server_say(&f, q, "{\"event\": \"LAST\"}") && !close(f.sfd),
		  "an event, then the server closes");
	f.sfd = -1;
	r = pump(q);
	tap_check(r == -ECONNRESET && !strcmp(err, "QEMU closed QMP"),
		  "qmp_read_events reports the close: %s", err);
	ev = qmp_next_event(q);
	tap_check(!strcmp(event_name(ev), "LAST"), "the event before the close is still there");
	json_object_put(ev);
	fake_close(&f, q);
}

static void test_fake_split(void)
{
	static const char text[] = "{\"event\": \"SPLIT\", \"data\": {\"s\": "
				   "\"\xc3\xa9t\\u00e9 \\\"}\", "
				   "\"n\": [1, 2.5, -3e2, true, null]}}\r\n"
				   "{\"event\": \"X\"}{\"event\": \"Y\"}";
	struct json_object *ev;
	struct fake f;
	struct qmp *q = fake_ready(&f);
	size_t i, split_at = strlen(text) - strlen("{\"event\": \"X\"}{\"event\": \"Y\"}");
	size_t end = split_at - strlen("\r\n") - 1;	/* the first event's closing brace */
	int events = 0, r = 0, complete_at = -1;

	/* One byte per read: the first event completes with its closing brace */
	for (i = 0; q && i < split_at && !r; i++) {
		r = server_send(&f, q, text + i, 1);
		ev = qmp_next_event(q);
		if (ev && !events++)
			complete_at = i;
		json_object_put(ev);
	}
	tap_check(q && !r && events == 1 && complete_at == (int)end,
		  "an event fed a byte per read completes at byte %d of %zu: %s", complete_at,
		  end, r ? err : "ok");
	r = q ? server_send(&f, q, text + split_at, strlen(text) - split_at) : -1;
	ev = q ? qmp_next_event(q) : NULL;
	tap_check(!r && !strcmp(event_name(ev), "X"), "two events in one read: first X");
	json_object_put(ev);
	ev = q ? qmp_next_event(q) : NULL;
	tap_check(!strcmp(event_name(ev), "Y"), "then Y");
	json_object_put(ev);
	fake_close(&f, q);

	/* The same text again, with its first event's string checked */
	q = fake_ready(&f);
	r = q ? server_send(&f, q, text, split_at) : -1;
	ev = q ? qmp_next_event(q) : NULL;
	tap_check(!r && !strcmp(event_data(ev, "s"), "\xc3\xa9t\xc3\xa9 \"}"),
		  "escapes and UTF-8 decode: %s", event_data(ev, "s"));
	json_object_put(ev);
	fake_close(&f, q);
}

static void test_fake_flood(void)
{
	unsigned int total = QMP_EVENT_QUEUE_MAX + 100, i, n, first = 0, count = 0;
	size_t big = 100U << 10, len = 0;
	struct json_object *ev;
	struct fake f;
	struct qmp *q = fake_ready(&f);
	char *text = malloc(big + 64);
	int r = q ? 0 : -1;

	for (i = 0; i < total && !r; i++) {
		len = snprintf(text, big, "{\"event\": \"FLOOD\", \"data\": {\"n\": %u}}\n", i);
		r = server_send(&f, q, text, len);
	}
	ev = q ? qmp_next_event(q) : NULL;
	first = atoi(event_data(ev, "n"));
	for (count = 0; ev; count++) {
		n = atoi(event_data(ev, "n"));
		r |= n != first + count;
		json_object_put(ev);
		ev = qmp_next_event(q);
	}
	tap_check(!r && count == QMP_EVENT_QUEUE_MAX && first == 100 &&
		  q && qmp_events_dropped(q) == 100,
		  "%u events: the newest %u kept in order, from %u; %llu dropped", total, count,
		  first, q ? (unsigned long long)qmp_events_dropped(q) : 0ULL);

	/* 100 KiB events: the byte bound of the queue drops them sooner */
	for (i = 0; i < 100 && !r; i++) {
		len = snprintf(text, 64, "{\"event\": \"BIG\", \"data\": {\"n\": %u, "
			       "\"pad\": \"", i);
		memset(text + len, 'x', big - len - 4);
		memcpy(text + big - 4, "\"}}\n", 4);
		r = server_send(&f, q, text, big);
	}
	ev = q ? qmp_next_event(q) : NULL;
	first = atoi(event_data(ev, "n"));
	for (count = 0; ev; count++) {
		json_object_put(ev);
		ev = qmp_next_event(q);
	}
	/* The newline after each is not counted */
	tap_check(!r && count == QMP_EVENT_QUEUE_BYTES / (big - 1) && first + count == 100 &&
		  q && qmp_events_dropped(q) == 100 + first,
		  "100 events of 100 KiB: the newest %u fit in %u bytes; %llu dropped in all",
		  count, QMP_EVENT_QUEUE_BYTES, q ? (unsigned long long)qmp_events_dropped(q) : 0);

	/* An event just within QMP_MESSAGE_MAX passes; a longer one breaks */
	free(text);
	text = malloc(QMP_MESSAGE_MAX + 2);
	len = strlen("{\"event\": \"HUGE\", \"pad\": \"");
	memcpy(text, "{\"event\": \"HUGE\", \"pad\": \"", len);
	memset(text + len, 'x', QMP_MESSAGE_MAX - len - 2);
	memcpy(text + QMP_MESSAGE_MAX - 2, "\"}", 2);
	r = q ? server_send(&f, q, text, QMP_MESSAGE_MAX) : -1;
	ev = q ? qmp_next_event(q) : NULL;
	tap_check(!r && !strcmp(event_name(ev), "HUGE"), "an event of QMP_MESSAGE_MAX bytes: %s",
		  r ? err : event_name(ev));
	json_object_put(ev);
	text[0] = '[';
	memset(text + 1, ' ', QMP_MESSAGE_MAX + 1);
	r = q ? server_send(&f, q, text, QMP_MESSAGE_MAX + 1) : -1;
	tap_check(r == -EMSGSIZE && strstr(err, "QMP message longer than"),
		  "one byte more breaks the connection: %s", err);
	r = q ? call(q, "query-status") : -1;
	tap_check(r == -EMSGSIZE && strstr(err, "query-status: QMP message longer than"),
		  "and later calls fail at once: %s", err);
	free(text);
	fake_close(&f, q);
}

static void test_fake_bad_messages(void)
{
	static const struct {
		const char *text;
		int error;
		const char *reason;
	} bad[] = {
		{ "{\"event\": }", -EPROTO, "QEMU sent invalid JSON: " },
		{ "{\"event\": \"A\"]", -EPROTO, "QEMU sent invalid JSON: " },
		{ "[\"event\", \"A\"]", -EPROTO, "not an object: [\"event\",\"A\"]" },
		{ "null ", -EPROTO, "not an object: null" },
		{ "42 ", -EPROTO, "not an object: 42" },
		{ "{\"event\": 5}", -EPROTO, "QMP event name is not a string" },
		{ "{\"hello\": 1}", -EPROTO, "unexpected QMP message: {\"hello\":1}" },
		{ "{\"QMP\": {}}", -EPROTO, "unexpected QMP message" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", -EPROTO, "QEMU sent invalid JSON: " },
	};
	struct fake f;
	struct qmp *q;
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		q = fake_ready(&f);
		r = q ? server_say(&f, q, bad[i].text) : -1;
		tap_check(r == bad[i].error && strstr(err, bad[i].reason), "'%s' refused: %s",
			  bad[i].text, err);
		fake_close(&f, q);
	}
}

static void test_fake_open(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct json_object *ev;
	char path[200], stale[108];
	struct fake f;
	struct qmp *q;
	int64_t start;
	int fd;

	q = fake_open(&f, "{\"hello\": 1}\r\n", NULL);
	tap_check(!q && strstr(err, "not a QMP greeting: {\"hello\":1}"),
		  "a server that does not greet in QMP: %s", err);
	fake_close(&f, q);

	q = fake_open(&f, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
			  "\"event\": \"RESUME\"}\r\n" GREETING, CAPS_REPLY);
	ev = q ? qmp_next_event(q) : NULL;
	tap_check(q && ev && !strcmp(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN),
				    "{\"timestamp\":{\"seconds\":1,\"microseconds\":2},\"event\":\"RESUME\"}"),
		  "an event before the greeting (QEMU 7.2 at start) is queued, then the greeting: %s",
		  q ? "" : err);
	json_object_put(ev);
	fake_close(&f, q);

	q = fake_open(&f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n", CAPS_REPLY);
	tap_check(q && request_is(f.caps_request, "qmp_capabilities", 1, "(none)"),
		  "a greeting offering no oob: qmp_capabilities asks for none: %s",
		  f.caps_request ? json_object_to_json_string(f.caps_request) : err);
	fake_close(&f, q);

	q = fake_open(&f, "{\"QMP\": {\"capabilities\": [null, 7, \"oob\"]}}\r\n", CAPS_REPLY);
	tap_check(q && request_is(f.caps_request, "qmp_capabilities", 1, "{\"enable\":[\"oob\"]}"),
		  "odd entries beside oob in the offer are passed over: %s",
		  f.caps_request ? json_object_to_json_string(f.caps_request) : err);
	fake_close(&f, q);

	q = fake_open(&f, GREETING, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, "
			  "\"id\": 1}");
	tap_check(!q && !strcmp(err, "qmp_capabilities: GenericError: no"),
		  "qmp_capabilities refused: %s", err);
	fake_close(&f, q);

	/* Listening but never accepting: the connection waits in the backlog */
	tap_check(fake_listen(&f), "a listener that never accepts");
	start = now_ms();
	q = qmp_open(f.path, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(!q && strstr(err, "QMP greeting missing after 300 ms") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS), "gets no greeting: %s", err);
	close(f.lfd);
	unlink(f.path);

	snprintf(path, sizeof(path), "%s/absent.sock", tmpdir);
	start = now_ms();
	q = qmp_open(path, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(!q && strstr(err, "cannot connect to QMP socket ") &&
		  strstr(err, "within 300 ms: No such file or directory") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS),
		  "no socket: fails after its timeout: %s", err);

	/* A socket file left by a dead server refuses */
	snprintf(stale, sizeof(stale), "%s/stale.sock", tmpdir);
	strcpy(addr.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	start = now_ms();
	q = qmp_open(stale, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(!q && strstr(err, "within 300 ms: Connection refused") &&
		  elapsed_within(start, SHORT_TIMEOUT_MS),
		  "a stale socket file: fails after its timeout: %s", err);
	unlink(stale);

	snprintf(path, sizeof(path), "%s/%0120d.sock", tmpdir, 0);
	q = qmp_open(path, SHORT_TIMEOUT_MS, err, sizeof(err));
	tap_check(!q && strstr(err, "longer than 107 bytes"), "a path too long: %s", err);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	alarm(WATCHDOG_S);
	atexit(kill_qemus);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "%s/colod_qmp.XXXXXX",
		 base && strlen(base) < 32 ? base : "/tmp");
	if (!tap_check(mkdtemp(tmpdir) != NULL, "temporary directory %s", tmpdir))
		return tap_done();

	if (have_qemu()) {
		test_qemu_session();
		test_qemu_migration();
	} else {
		tap_skip("QEMU -M none session");
		tap_skip("QEMU -M pc migration");
	}
	test_fake_calls();
	test_fake_split();
	test_fake_flood();
	test_fake_bad_messages();
	test_fake_open();

	kill_qemus();
	rmdir(tmpdir);
	return tap_done();
}
