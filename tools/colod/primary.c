// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's side of replication: connect to the secondary's agent,
 * start the protected VM, and run checkpoints (proto.h):
 *
 *   drain the disk's forwarded writes (colo primary "checkpoint") while the
 *   VM runs; stop the VM, the save of its device state (everything but the
 *   shared RAM, into a file) queued right behind the stop; seal the
 *   proxy's output; drain again what came since and hold what follows;
 *   collect the dirty pages and copy them (colo_ckpt); resume the VM once
 *   the save is done; send it all; on the secondary's ACK release the
 *   sealed output (colo_proxy checkpoint) and the held writes.
 *
 * While the VM is paused the proxy keeps its input, which after the ACK
 * goes to both the VM and the new replica (colo-proxy.rst, "Input during a
 * checkpoint").
 *
 * After a "freeze" checkpoint the VM stays paused until `coloctl vm resume`,
 * and so does the replica: both can then be compared.
 *
 * The VM runs on once its state is in memory, before the ACK: the proxy's
 * seal, sent while it is paused, keeps what it sends from then on out of
 * the release that follows the ACK (output commit; colo-proxy.rst,
 * "Sealed output").
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "colod.h"
#include "qmp.h"

#define QMP_TIMEOUT_MS 30000
#define ACK_TIMEOUT_MS 120000
#define CONNECT_TIMEOUT_MS 1000
#define LINK_MSG_TIMEOUT_MS 5000

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void local_hello(struct colod *d, struct colo_hello *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", d->cfg.name);
	h->role = d->cfg.role == COLOD_ROLE_PRIMARY ? COLO_ROLE_PRIMARY : COLO_ROLE_SECONDARY;
	h->ram_bytes = d->cfg.ram_size;
	h->disk_bytes = d->disk_bytes;
	h->page_size = COLOD_PAGE_SIZE;
}

/* Both sides: send our HELLO, take the peer's; 0 or a negative errno with why. */
int hello_exchange(struct colod *d, bool send_first, const char **why)
{
	struct colo_msg m = { .type = COLO_MSG_HELLO };
	int r;

	local_hello(d, &m.hello);
	r = colo_session_init(&d->session, &m.hello, why);
	if (r)
		return r;
	if (send_first && (r = link_send_msg(d->agent_fd, &m))) {
		*why = "cannot send HELLO";
		return r;
	}
	r = link_recv_msg(d, &m, 10000, why);
	if (r)
		return r;
	r = colo_session_accept(&d->session, &m, why);
	if (r)
		return r;
	if (!send_first) {
		local_hello(d, &m.hello);
		m.type = COLO_MSG_HELLO;
		if ((r = link_send_msg(d->agent_fd, &m)))
			*why = "cannot send HELLO";
	}
	return r;
}

/* One attempt to reach the secondary's agent; 0 when connected and greeted. */
int primary_connect(struct colod *d, char *err, size_t errlen)
{
	struct sockaddr_storage peer = d->cfg.peer_addr, local = d->cfg.local_addr;
	int one = 1, fd, r;
	struct pollfd p;
	const char *why;
	socklen_t len;

	if (peer.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&peer)->sin6_port = htons(d->cfg.peer_port);
	else
		((struct sockaddr_in *)&peer)->sin_port = htons(d->cfg.peer_port);
	fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&local, addr_len(&local)) ||
	    (connect(fd, (struct sockaddr *)&peer, addr_len(&peer)) && errno != EINPROGRESS)) {
		snprintf(err, errlen, "connect to the secondary: %s", strerror(errno));
		close(fd);
		return -errno;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	len = sizeof(r);
	if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &len) ||
	    r) {
		snprintf(err, errlen, "connect to the secondary: %s",
			 r ? strerror(r) : "no answer");
		close(fd);
		return -ECONNREFUSED;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	d->agent_fd = fd;
	r = hello_exchange(d, true, &why);
	if (r) {
		snprintf(err, errlen, "greeting the secondary: %s", why);
		close(fd);
		d->agent_fd = -1;
	}
	return r;
}

/* Starts the VM (from [qemu] start_from when set) and waits until it runs. */
int primary_start_vm(struct colod *d, char *err, size_t errlen)
{
	int state_fd = -1, r, waited;
	char status[32] = "";

	if (d->cfg.start_from) {
		state_fd = open(d->cfg.start_from, O_RDONLY | O_CLOEXEC);
		if (state_fd < 0) {
			snprintf(err, errlen, "start_from %s: %s", d->cfg.start_from,
				 strerror(errno));
			return -errno;
		}
	}
	r = qemu_spawn(d, &d->vm, state_fd, false, err, errlen);
	if (state_fd >= 0)
		close(state_fd);
	if (r)
		return r;
	r = qemu_connect(&d->vm, 60000, err, errlen);
	for (waited = 0; !r && waited < 300000; waited += 50) {
		r = qmp_status(d->vm.qmp, status, sizeof(status), QMP_TIMEOUT_MS, err, errlen);
		if (r || !strcmp(status, "running"))
			break;
		if (strcmp(status, "inmigrate") && strcmp(status, "prelaunch")) {
			snprintf(err, errlen, "the VM is %s after start (see %s)", status,
				 d->vm.log_path);
			return -EIO;
		}
		poll(NULL, 0, 50);
	}
	if (!r && strcmp(status, "running")) {
		snprintf(err, errlen, "the VM did not start running within 300 s");
		r = -ETIMEDOUT;
	}
	if (!r)
		r = qemu_check_ram_blocks(&d->vm, err, errlen);
	return r;
}

/*
 * The device state alone: the RAM object is shared and colod copies its
 * dirty pages itself. xen-save-devices-state writes every device's state
 * (no RAM block) from QEMU's main loop into a file; unlike a migration it
 * starts no migration thread, polls nothing and leaves the block devices
 * active, so the cont after it need not reopen them. The replica loads the
 * file as an incoming migration stream without a configuration section
 * (qemu_spawn() sets send-configuration=off on replicas). RAM blocks outside
 * the shared object (ROMs) are not in it: the replica has its own identical
 * copies, and primary_start_vm() refuses a guest with other device RAM.
 * colod drains the disk and copies the dirty pages while QEMU saves.
 */
static void devstate_path(const struct colod *d, char *path, size_t size)
{
	snprintf(path, size, "%s/devstate", d->cfg.run_dir);
}

/* QEMU starts saving; save_devstate_finish() waits for it and reads it. */
static int save_devstate_start(struct colod *d, char *err, size_t errlen)
{
	struct json_object *args = json_object_new_object();
	char path[300];

	devstate_path(d, path, sizeof(path));
	json_object_object_add(args, "filename", json_object_new_string(path));
	json_object_object_add(args, "live", json_object_new_boolean(0));
	return qmp_call_start(d->vm.qmp, "xen-save-devices-state", args, QMP_TIMEOUT_MS, err,
			      errlen);
}

/*
 * A call in flight that the checkpoint no longer waits on (a stop whose
 * save could not be sent, a save or a resume of a checkpoint given up):
 * its reply is taken, an error logged. True if it succeeded.
 */
static bool take_reply(struct colod *d, const char *command)
{
	char err[256];

	if (!qmp_call_finish(d->vm.qmp, command, NULL, QMP_TIMEOUT_MS, err, sizeof(err)))
		return true;
	log_err("%s", err);
	return false;
}

static int save_devstate_finish(struct colod *d, char *err, size_t errlen)
{
	char path[300];
	struct stat st;
	size_t got = 0;
	int fd, r;

	r = qmp_call_finish(d->vm.qmp, "xen-save-devices-state", NULL, QMP_TIMEOUT_MS, err,
			    errlen);
	if (r)
		return r;
	devstate_path(d, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if ((unsigned long long)st.st_size > COLO_DEVSTATE_MAX) {
		snprintf(err, errlen, "device state of %lld bytes, more than %llu",
			 (long long)st.st_size, (unsigned long long)COLO_DEVSTATE_MAX);
		close(fd);
		return -EFBIG;
	}
	if ((size_t)st.st_size > d->devstate_size) {
		unsigned char *b = realloc(d->devstate, st.st_size);

		if (!b) {
			close(fd);
			return -ENOMEM;
		}
		d->devstate = b;
		d->devstate_size = st.st_size;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, d->devstate + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "reading %s: %s", path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			close(fd);
			return r;
		}
		got += n;
	}
	close(fd);
	d->devstate_len = got;
	return 0;
}

static int send_checkpoint(struct colod *d, uint64_t id, enum colo_ckpt_reason reason, long n)
{
	unsigned char head[COLO_ENCODE_MAX];
	struct colo_msg m = { .type = COLO_MSG_CKPT_BEGIN };
	size_t off;
	long i;
	int r;

	m.begin = (struct colo_ckpt_begin){ .ckpt_id = id, .reason = reason, .pages = n,
					    .devstate_bytes = d->devstate_len };
	r = link_send_msg(d->agent_fd, &m);
	for (i = 0; !r && i < n; i += COLO_PAGES_MAX) {
		uint32_t count = n - i < COLO_PAGES_MAX ? n - i : COLO_PAGES_MAX;
		int len = colo_pages_encode_head(head, sizeof(head), id, d->pages + i, count,
						 COLOD_PAGE_SIZE, NULL);

		r = len < 0 ? len : link_sendv(d->agent_fd, head, len,
					       d->page_buf + (size_t)i * COLOD_PAGE_SIZE,
					       (size_t)count * COLOD_PAGE_SIZE);
	}
	for (off = 0; !r && off < d->devstate_len; off += COLO_DEVSTATE_CHUNK) {
		size_t len = d->devstate_len - off < COLO_DEVSTATE_CHUNK ?
			     d->devstate_len - off : COLO_DEVSTATE_CHUNK;
		int hl;

		m.type = COLO_MSG_DEVSTATE;
		m.devstate = (struct colo_devstate){ .ckpt_id = id, .len = len };
		hl = colo_msg_encode(head, sizeof(head), &m, NULL);
		r = hl < 0 ? hl : link_sendv(d->agent_fd, head, hl, d->devstate + off, len);
	}
	if (!r) {
		m.type = COLO_MSG_CKPT_END;
		m.end_ckpt_id = id;
		r = link_send_msg(d->agent_fd, &m);
	}
	return r;
}

/*
 * What the secondary sends without being asked, taken in while this agent
 * waits for the answer to a checkpoint or a HANDOVER: a PING is answered
 * (a failed send shows in the next receive), a REQUEST counted (what is
 * under way empties the buffer that asked), a REPLICA recorded (what is
 * under way replaces that replica). False for any other message.
 */
static bool take_unasked(struct colod *d, struct colo_msg *m)
{
	switch (m->type) {
	case COLO_MSG_PING:
		m->type = COLO_MSG_PONG;
		link_send_msg(d->agent_fd, m);
		return true;
	case COLO_MSG_REQUEST:
		d->disk_requests++;
		return true;
	case COLO_MSG_REPLICA:
		d->replica_ckpt_id = m->replica_ckpt_id;
		return true;
	default:
		return false;
	}
}

static int wait_ack(struct colod *d, uint64_t id, char *err, size_t errlen)
{
	struct colo_msg m;
	const char *why;
	int r;

	if (colo_session_expect_ack(&d->session, id, &why)) {
		snprintf(err, errlen, "%s", why);
		return -EPROTO;
	}
	for (;;) {
		r = link_recv_msg(d, &m, ACK_TIMEOUT_MS, &why);
		if (!r)
			r = colo_session_accept(&d->session, &m, &why);
		if (r) {
			snprintf(err, errlen, "%s", why);
			return r;
		}
		if (take_unasked(d, &m))
			continue;
		switch (m.type) {
		case COLO_MSG_ACK:
			if (m.ack.status) {
				snprintf(err, errlen, "the secondary could not apply checkpoint %llu: %s",
					 (unsigned long long)id, strerror(m.ack.status));
				return -m.ack.status;
			}
			d->last_apply_ns = m.ack.apply_ns;
			return 0;
		case COLO_MSG_ERROR:
			snprintf(err, errlen, "the secondary gave up: %s", m.error);
			return strcmp(m.error, COLOD_TAKEOVER_ERROR) ? -ECONNABORTED : -EOWNERDEAD;
		default:
			break;
		}
	}
}

/*
 * The secondary says it takes over, so it believes this primary dead (its
 * fence hook said so): two VMs must never serve, and this one pauses.
 */
static void primary_overtaken(struct colod *d)
{
	char err[256];

	close(d->agent_fd);
	d->agent_fd = -1;
	/*
	 * Nothing goes to the secondary any more (its replica face refuses
	 * writes now), and writes a hold kept waiting must end before QEMU
	 * can pause: it drains its disks first.
	 */
	if (dm_message(d->dm_name, "failover", err, sizeof(err)))
		log_err("%s", err);
	if (d->vm.qmp && qmp_call(d->vm.qmp, "stop", NULL, NULL, QMP_TIMEOUT_MS, err, sizeof(err)))
		log_err("pausing the VM: %s", err);
	colod_set_state(d, COLOD_FAILED, "the secondary took over: this VM is paused");
}

/*
 * After HANDOVER, the secondary's answer is that it takes over. Messages it
 * sent before it read HANDOVER may come first (the REPLICA of the freeze
 * checkpoint's load, a PING, a REQUEST): within ACK_TIMEOUT_MS in all, so a
 * peer that keeps talking cannot hold the frozen VM here.
 */
static int await_takeover(struct colod *d, const char **why)
{
	uint64_t deadline = now_ns() + ACK_TIMEOUT_MS * 1000000ULL;
	struct colo_msg m;
	int r;

	for (;;) {
		uint64_t now = now_ns();

		if (now >= deadline) {
			*why = "no answer to HANDOVER in time";
			return -ETIMEDOUT;
		}
		r = link_recv_msg(d, &m, (deadline - now) / 1000000 + 1, why);
		if (!r)
			r = colo_session_accept(&d->session, &m, why);
		if (r)
			return r;
		if (take_unasked(d, &m))
			continue;
		if (m.type != COLO_MSG_ERROR) {
			*why = "the secondary answered something else than taking over";
			return -EPROTO;
		}
		if (strcmp(m.error, COLOD_TAKEOVER_ERROR)) {
			*why = "the secondary gave up instead of taking over";
			return -ECONNABORTED;
		}
		return 0;
	}
}

/*
 * coloctl vm failover: move the VM to the secondary without losing
 * anything. A freeze checkpoint leaves both VMs paused in the same state
 * with every output released; HANDOVER tells the secondary to take over
 * from it (no fencing: this primary asks); once it answers that it does,
 * this VM, still paused, ends. It never runs beside the replica.
 */
int primary_handover(struct colod *d, char *err, size_t errlen)
{
	struct colo_msg m = { .type = COLO_MSG_HANDOVER };
	const char *why;
	int r;

	if (d->state != COLOD_REPLICATING || d->frozen) {
		snprintf(err, errlen, "not replicating (%s)",
			 d->frozen ? "frozen" : colod_state_name(d->state));
		return -EINVAL;
	}
	r = primary_checkpoint(d, COLO_CKPT_FREEZE);
	if (r) {
		snprintf(err, errlen, "the last checkpoint failed: %s", d->state_why);
		return r;
	}
	m.handover_ckpt_id = d->ckpt_id;
	r = link_send_msg(d->agent_fd, &m);
	why = "sending HANDOVER failed";
	if (!r)
		r = await_takeover(d, &why);
	if (r) {
		/* still paused and identical to the replica: resume replicating */
		snprintf(err, errlen, "handing over: %s; the VM stays here, frozen "
			 "(coloctl vm resume on both hosts)", why);
		return r;
	}
	close(d->agent_fd);
	d->agent_fd = -1;
	qemu_kill(&d->vm);
	/* nothing to forward or mirror any more */
	if (dm_message(d->dm_name, "failover", err, errlen))
		log_err("%s", err);
	if (colod_proxy_failover(&d->proxy, d->cfg.tap, err, errlen))
		log_err("proxy failover: %s", err);
	colod_set_state(d, COLOD_HANDED_OVER, "the VM runs on the secondary host from "
			"checkpoint %llu", (unsigned long long)d->ckpt_id);
	return 0;
}

/* The peer is gone or broke the protocol: the VM serves alone. */
void primary_go_alone(struct colod *d, const char *why)
{
	char err[256];

	if (d->agent_fd >= 0) {
		link_send_error(d->agent_fd, why);
		close(d->agent_fd);
		d->agent_fd = -1;
	}
	if (dm_message(d->dm_name, "failover", err, sizeof(err)))
		log_err("%s", err);
	if (colod_proxy_failover(&d->proxy, d->cfg.tap, err, sizeof(err)))
		log_err("proxy failover: %s", err);
	colod_set_state(d, COLOD_PEER_LOST, "replication stopped, the VM runs alone: %s", why);
}

/* The secondary left the cluster (cluster.c). */
void primary_peer_left(struct colod *d, const char *why)
{
	if (d->state == COLOD_SYNCING || d->state == COLOD_REPLICATING ||
	    d->state == COLOD_LINK_LOST)
		primary_go_alone(d, why);
}

/*
 * The agent link broke. Without corosync, or with the secondary already
 * gone from the cluster group, the VM serves alone at once. Otherwise its
 * output stays held (no checkpoint, so the proxy releases nothing) until
 * corosync says more: the secondary leaves the group (it is gone: serve
 * alone) or stays for [cluster] link_loss_wait (only the link is down:
 * serve alone; the secondary, seeing the primary stay, stops replicating).
 * A primary that dies in the meantime has released nothing beyond the
 * secondary's last checkpoint, from which the secondary then takes over.
 */
void primary_link_lost(struct colod *d, const char *why)
{
	if (d->agent_fd >= 0) {
		link_send_error(d->agent_fd, why);
		close(d->agent_fd);
		d->agent_fd = -1;
	}
	if (!d->cluster.cpg || !d->cluster.peer_present || d->state == COLOD_SYNCING) {
		primary_go_alone(d, why);
		return;
	}
	d->link_lost_ns = now_ns();
	colod_set_state(d, COLOD_LINK_LOST, "%s; output held for up to %u ms until corosync "
			"tells whether the secondary is gone", why, d->cfg.link_loss_wait_ms);
}

/* Whether a link-lost agent has waited [cluster] link_loss_wait. */
bool link_loss_wait_over(struct colod *d)
{
	return d->state == COLOD_LINK_LOST &&
	       now_ns() - d->link_lost_ns >= (uint64_t)d->cfg.link_loss_wait_ms * 1000000;
}

/*
 * Sets how long the proxy holds a frame of the VM's before it asks for a
 * checkpoint. A failure costs only speed (frames wait the other timeout),
 * so it is logged and replication goes on.
 */
static void set_proxy_timeout(struct colod *d, uint32_t timeout_ms)
{
	char err[256];
	int r;

	if (d->proxy_timeout_ms == timeout_ms)
		return;
	r = colod_proxy_set_timeout(&d->proxy, d->cfg.tap, timeout_ms, err, sizeof(err));
	if (r) {
		log_err("setting the proxy's timeout to %u ms: %s", timeout_ms, err);
		return;
	}
	d->proxy_timeout_ms = timeout_ms;
}

/*
 * The secondary reported its replica running from checkpoint @ckpt_id. From
 * the last checkpoint, it compares the VM's output again: frames may wait
 * for it the full proxy_timeout.
 */
static void replica_running(struct colod *d, uint64_t ckpt_id)
{
	d->replica_ckpt_id = ckpt_id;
	if (ckpt_id == d->ckpt_id && d->state == COLOD_REPLICATING)
		set_proxy_timeout(d, d->cfg.proxy_timeout_ms);
}

/*
 * Between checkpoints, the agent connection is readable: the secondary's
 * PING, its REQUEST for a checkpoint (its disk buffer is filling), its
 * ERROR, or its end. A readiness left over from a message that wait_ack()
 * has taken meanwhile finds nothing and waits for nothing.
 */
int primary_handle(struct colod *d)
{
	struct pollfd p = { .fd = d->agent_fd, .events = POLLIN };
	char why_buf[COLO_ERROR_MAX + 32];
	struct colo_msg m;
	const char *why;
	int r;

	if (poll(&p, 1, 0) != 1)
		return 0;
	r = link_recv_msg(d, &m, LINK_MSG_TIMEOUT_MS, &why);
	if (!r)
		r = colo_session_accept(&d->session, &m, &why);
	if (r) {
		primary_link_lost(d, why);
		return r;
	}
	switch (m.type) {
	case COLO_MSG_PING:
		m.type = COLO_MSG_PONG;
		return link_send_msg(d->agent_fd, &m);
	case COLO_MSG_REQUEST:
		d->disk_requests++;
		if (d->state == COLOD_REPLICATING && !d->pending_reason)
			d->pending_reason = COLO_CKPT_DISK;
		return 0;
	case COLO_MSG_REPLICA:
		replica_running(d, m.replica_ckpt_id);
		return 0;
	case COLO_MSG_ERROR:
		if (!strcmp(m.error, COLOD_TAKEOVER_ERROR)) {
			primary_overtaken(d);
			return -ECONNABORTED;
		}
		snprintf(why_buf, sizeof(why_buf), "the secondary gave up: %s", m.error);
		primary_go_alone(d, why_buf);
		return -ECONNABORTED;
	default:
		return 0;
	}
}

/*
 * The tick saw a dm event on the primary's disk: a degraded primary no
 * longer forwards its writes, so the secondary's disk falls behind and
 * replication has to stop.
 */
void primary_disk_event(struct colod *d)
{
	char status[512] = "";

	if (dm_status(d->dm_name, status, sizeof(status)) || strncmp(status, "primary degraded", 16))
		return;
	primary_go_alone(d, "forwarding writes to the secondary's disk failed (colo primary "
			    "degraded)");
}

const char *const colod_ckpt_step_names[COLOD_CKPT_STEPS] = {
	[COLOD_STEP_STOP] = "stop",
	[COLOD_STEP_DRAIN] = "drain",
	[COLOD_STEP_RAM] = "ram",
	[COLOD_STEP_DEVSTATE] = "devstate",
	[COLOD_STEP_RESUME] = "resume",
	[COLOD_STEP_SEND] = "send",
	[COLOD_STEP_ACK] = "ack",
};

static void record_pause(struct colod *d, uint64_t pause_ns, enum colo_ckpt_reason reason,
			 long pages)
{
	d->checkpoints++;
	d->reasons[reason]++;
	d->last_reason = reason;
	d->last_pause_ns = pause_ns;
	d->pauses_ns[d->npauses++ % COLOD_PAUSE_RING] = pause_ns;
	d->last_pages = pages;
	d->total_pages += pages;
	d->last_devstate_bytes = d->devstate_len;
	d->last_ckpt_end_ns = now_ns();
}

/*
 * The disk's drain (colo primary "checkpoint"), bounded by [disk]
 * drain_timeout: a secondary that stops answering, or a link gone without
 * a reset, costs that long rather than [disk] nbd_timeout, and
 * the agent goes on serving its socket and corosync's events.
 */
static int drain_disk(struct colod *d, char *err, size_t errlen)
{
	char msg[32];
	int r;

	snprintf(msg, sizeof(msg), "checkpoint %u", d->cfg.drain_timeout_ms);
	r = dm_message(d->dm_name, msg, err, errlen);
	if (r == -ETIMEDOUT)
		snprintf(err, errlen, "the secondary's disk did not take the forwarded writes "
			 "within [disk] drain_timeout (%u ms)", d->cfg.drain_timeout_ms);
	return r;
}

/* QEMU's time of the newest queued event `name`, 0 if none; older ones go too */
static uint64_t newest_event_ns(struct qmp *q, const char *name)
{
	struct json_object *ev = NULL;
	uint64_t t = 0;
	char err[128];

	while (!qmp_wait_event(q, name, 0, &ev, err, sizeof(err))) {
		t = qmp_event_time_ns(ev);
		json_object_put(ev);
	}
	return t;
}

/*
 * The VM's pause by QEMU's own clock, from its STOP event to the RESUME
 * that follows (both came in before the replies to stop and cont): what
 * the benchmark measures QEMU's own COLO by. 0 when either is missing.
 */
static uint64_t qemu_pause_ns(struct qmp *q)
{
	uint64_t stop = newest_event_ns(q, "STOP"), resume = newest_event_ns(q, "RESUME");

	return stop && resume > stop ? resume - stop : 0;
}

/* A checkpoint given up: the input the proxy kept goes on to the VM. */
static void release_input(struct colod *d)
{
	char err[256];

	if (colod_proxy_release_input(&d->proxy, d->cfg.tap, err, sizeof(err)))
		log_err("releasing the VM's input: %s", err);
}

/*
 * One checkpoint (colod.rst, "One checkpoint"). The VM is paused only
 * while its state is taken: the proxy's seal and the disk's hold keep
 * what it sends and writes after its resume from the network and from the
 * secondary until the secondary has acknowledged the state, so the
 * transfer and the secondary's commit happen while it runs.
 */
int primary_checkpoint(struct colod *d, enum colo_ckpt_reason reason)
{
	uint64_t stopped, mark, id = d->ckpt_id + 1;
	char paused[256], released[128];
	bool resumed = false, cont_sent = false;
	long n, discarded = 0;
	char err[512] = "";
	int r;

	d->pending_reason = 0;
	/*
	 * Drain the writes forwarded so far while the VM still runs; the drain
	 * after stop then waits only for what the VM wrote in between.
	 */
	r = drain_disk(d, err, sizeof(err));
	if (r)
		goto peer_failed;
	/* The pause is the VM's: it starts here, after the drain while it runs. */
	stopped = now_ns();
	mark = stopped;
	memset(d->last_step_ns, 0, sizeof(d->last_step_ns));
	/*
	 * The save goes out right behind the stop, and the resume right
	 * behind the save once the pages are copied: QEMU runs each as soon
	 * as the one before has returned, without waiting for our round trip.
	 */
	r = qmp_call_start(d->vm.qmp, "stop", NULL, QMP_TIMEOUT_MS, err, sizeof(err));
	if (r)
		goto vm_failed;
	r = save_devstate_start(d, err, sizeof(err));
	if (r) {
		take_reply(d, "stop");
		goto vm_failed;
	}
	r = qmp_call_finish(d->vm.qmp, "stop", NULL, QMP_TIMEOUT_MS, err, sizeof(err));
	if (r)
		goto devstate_failed;
	/*
	 * What the VM sent so far is this checkpoint's output. Input from now
	 * on waits in the proxy for the replica that starts from this state;
	 * what the paused QEMU left queued on the tap was mirrored to the
	 * replica being replaced, so neither VM gets it.
	 */
	r = colod_proxy_seal(&d->proxy, d->cfg.tap, err, sizeof(err));
	if (r)
		goto devstate_failed;
	discarded = tap_discard_queued(d->tap_fd);
	step_time(&d->last_step_ns[COLOD_STEP_STOP], &mark);
	/* while QEMU saves its device state */
	r = drain_disk(d, err, sizeof(err));
	if (!r)
		r = dm_message(d->dm_name, "hold", err, sizeof(err));
	if (r) {
		take_reply(d, "xen-save-devices-state");
		goto peer_failed;
	}
	step_time(&d->last_step_ns[COLOD_STEP_DRAIN], &mark);
	n = ram_collect(d->ram_fd, d->pages, d->ram_pages);
	if (n < 0) {
		r = n;
		snprintf(err, sizeof(err), "collecting dirty pages: %s", strerror(-r));
		goto devstate_failed;
	}
	if ((size_t)n * COLOD_PAGE_SIZE > d->page_buf_size) {
		unsigned char *b = realloc(d->page_buf, (size_t)n * COLOD_PAGE_SIZE);

		if (!b) {
			r = -ENOMEM;
			snprintf(err, sizeof(err), "no memory for %ld dirty pages", n);
			goto devstate_failed;
		}
		d->page_buf = b;
		d->page_buf_size = (size_t)n * COLOD_PAGE_SIZE;
	}
	r = ram_read(d->ram_fd, d->pages, n, d->page_buf);
	if (r) {
		snprintf(err, sizeof(err), "reading dirty pages: %s", strerror(-r));
		goto devstate_failed;
	}
	step_time(&d->last_step_ns[COLOD_STEP_RAM], &mark);
	/*
	 * The pages are copied and QEMU saves the device state: the resume
	 * runs once that is done, and the VM runs on, its output held.
	 */
	d->frozen = reason == COLO_CKPT_FREEZE;
	if (!d->frozen) {
		r = qmp_call_start(d->vm.qmp, "cont", NULL, QMP_TIMEOUT_MS, err, sizeof(err));
		if (r)
			goto devstate_failed;
		cont_sent = true;
	}
	r = save_devstate_finish(d, err, sizeof(err));
	if (r)
		goto vm_failed;
	step_time(&d->last_step_ns[COLOD_STEP_DEVSTATE], &mark);
	if (cont_sent) {
		cont_sent = false;
		r = qmp_call_finish(d->vm.qmp, "cont", NULL, QMP_TIMEOUT_MS, err, sizeof(err));
		if (r)
			goto vm_failed;
		resumed = true;
	}
	step_time(&d->last_step_ns[COLOD_STEP_RESUME], &mark);
	d->last_pause_ns = mark - stopped;
	/*
	 * The secondary's replica is replaced from this state and compares
	 * nothing until it runs again: a frame held meanwhile waits only for
	 * the next checkpoint, so the proxy asks for that one soon.
	 */
	set_proxy_timeout(d, d->cfg.proxy_timeout_no_replica_ms < d->cfg.proxy_timeout_ms ?
			     d->cfg.proxy_timeout_no_replica_ms : d->cfg.proxy_timeout_ms);
	d->last_qemu_pause_ns = resumed ? qemu_pause_ns(d->vm.qmp) : 0;
	r = send_checkpoint(d, id, reason, n);
	if (r) {
		snprintf(err, sizeof(err), "sending checkpoint %llu: %s", (unsigned long long)id,
			 strerror(-r));
		goto peer_failed;
	}
	step_time(&d->last_step_ns[COLOD_STEP_SEND], &mark);
	r = wait_ack(d, id, err, sizeof(err));
	if (r)
		goto peer_failed;
	d->ckpt_id = id;
	/* the secondary holds the state: its output may go, its writes follow */
	r = colod_proxy_checkpoint(&d->proxy, d->cfg.tap, false, err, sizeof(err));
	if (!r)
		r = dm_message(d->dm_name, "release", err, sizeof(err));
	if (r)
		goto vm_failed;
	step_time(&d->last_step_ns[COLOD_STEP_ACK], &mark);
	d->last_release_ns = mark - stopped - d->last_pause_ns;
	record_pause(d, d->last_pause_ns, reason, n);
	steps_format(colod_ckpt_step_names, d->last_step_ns, 0, COLOD_PAUSED_STEPS, paused,
		     sizeof(paused));
	steps_format(colod_ckpt_step_names, d->last_step_ns, COLOD_PAUSED_STEPS, COLOD_CKPT_STEPS,
		     released, sizeof(released));
	log_info("checkpoint %llu (%s): %ld pages, %zu bytes of device state, paused %.1f ms "
		 "(%s), output released %.1f ms later (%s), secondary applied in %.1f ms; "
		 "QEMU's STOP to RESUME %.1f ms",
		 (unsigned long long)id, colo_ckpt_reason_name(reason), n, d->devstate_len,
		 d->last_pause_ns / 1e6, paused, d->last_release_ns / 1e6, released,
		 d->last_apply_ns / 1e6, d->last_qemu_pause_ns / 1e6);
	if (discarded)
		log_info("checkpoint %llu: %ld frames the paused VM had not read were dropped",
			 (unsigned long long)id, discarded);
	return 0;

peer_failed:
	/*
	 * The input goes on to the VM. Its writes since the hold stay held:
	 * the secondary may still take over, from this checkpoint or the one
	 * before, and must not have them; serving alone drops them with the
	 * rest of the forwarding (primary_go_alone()).
	 */
	release_input(d);
	if (r == -EOWNERDEAD) {
		/* the secondary took over: this VM is stopped for good */
		primary_overtaken(d);
		return r;
	}
	primary_link_lost(d, err);
	if (!resumed && qmp_call(d->vm.qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, err, sizeof(err)))
		colod_set_state(d, COLOD_FAILED, "cannot resume the VM: %s", err);
	return r;
devstate_failed:
	take_reply(d, "xen-save-devices-state");
vm_failed:
	/* a resume already sent is taken: the VM runs, or is resumed below */
	if (cont_sent && take_reply(d, "cont"))
		resumed = true;
	release_input(d);
	colod_set_state(d, COLOD_FAILED, "checkpoint %llu: %s", (unsigned long long)id, err);
	if (dm_message(d->dm_name, "release", err, sizeof(err)))
		log_err("releasing the VM's forwarded writes: %s", err);
	/* a VM left paused serves nobody: try to let it run, unreplicated */
	if (!resumed && d->vm.qmp &&
	    qmp_call(d->vm.qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, err, sizeof(err)))
		log_err("the VM stays paused: %s", err);
	return r;
}
