// SPDX-License-Identifier: GPL-2.0
/*
 * The secondary's side: accept the primary's agent (only from the
 * configured address), take each checkpoint into the RAM cache, and apply
 * it at CKPT_END:
 *
 *   stop the replica VM; copy the cache into its RAM for the primary's
 *   dirty pages and its own (colo_ckpt restore); end that QEMU; drop the
 *   disk buffers (colo secondary "checkpoint"); reset the proxy's sequence
 *   offsets (colo_proxy checkpoint); ACK; hand the device state to the next
 *   QEMU, started beforehand with -incoming and waiting; resume it.
 *
 * The ACK comes once this host holds the whole state (RAM and disk as the
 * primary's at its stop, device state in memory), before the slow part,
 * loading the device state: the primary's pause does not wait for it.
 *
 * A fresh QEMU per checkpoint is how QEMU 7.2 loads device state more than
 * once (Documentation/admin-guide/colod.rst says why); starting the next one
 * right after a load keeps its start-up off the next checkpoint. When
 * checkpoints come faster than a QEMU starts, the load waits for it in the
 * main loop (secondary_load()) rather than holding up the agent link: the
 * next checkpoint is taken and acknowledged meanwhile, and the load it
 * supersedes is skipped. A takeover in that window loads the acknowledged
 * checkpoint first, waiting for the QEMU.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "colod.h"
#include "qmp.h"

#define QMP_TIMEOUT_MS 30000
#define QEMU_READY_TIMEOUT_MS 120000

/*
 * The agent link broke while replicating. With corosync, wait for its view:
 * the primary leaves the group (gone: take over, secondary_takeover()) or
 * stays for [cluster] link_loss_wait (alive: it serves alone, and this
 * replica falls behind it for good: secondary_tick() ends replication).
 */
void secondary_link_lost(struct colod *d, const char *why)
{
	if (!d->cluster.cpg || d->state != COLOD_REPLICATING) {
		secondary_disconnect(d, why);
		return;
	}
	close(d->agent_fd);
	d->agent_fd = -1;
	d->npages = 0;
	d->devstate_len = 0;
	d->link_lost_ns = now_ns();
	colod_set_state(d, COLOD_LINK_LOST, "%s; waiting up to %u ms for corosync to tell "
			"whether the primary is gone", why, d->cfg.link_loss_wait_ms);
}

/* Ends the agent connection with ERROR; a failed agent stays failed. */
void secondary_disconnect(struct colod *d, const char *why)
{
	if (d->agent_fd >= 0) {
		link_send_error(d->agent_fd, why);
		close(d->agent_fd);
		d->agent_fd = -1;
	}
	if (d->state != COLOD_FAILED)
		colod_set_state(d, COLOD_PEER_LOST, "%s", why);
}

static int prespawn(struct colod *d, char *err, size_t errlen)
{
	return d->next.pid ? 0 : qemu_spawn(d, &d->next, -1, true, err, errlen);
}

/*
 * A refused connection is logged, but the same reason at most every 10 s: a
 * stranger, or an old primary's agent retrying every 50 ms, must not flood
 * the journal.
 */
static void log_refusal(struct colod *d, const char *addr, const char *why)
{
	uint64_t now = now_ns();

	if (!strcmp(why, d->last_refusal) && now - d->last_refusal_ns < 10000000000ULL) {
		d->refusals_unlogged++;
		return;
	}
	if (d->refusals_unlogged)
		log_warn("refused an agent connection from %s: %s (%llu more refused, unlogged, "
			 "since the last such line)", addr, why,
			 (unsigned long long)d->refusals_unlogged);
	else
		log_warn("refused an agent connection from %s: %s", addr, why);
	snprintf(d->last_refusal, sizeof(d->last_refusal), "%s", why);
	d->last_refusal_ns = now;
	d->refusals_unlogged = 0;
}

int secondary_accept(struct colod *d)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char addr[INET6_ADDRSTRLEN] = "?", err[256];
	const char *why;
	int one = 1, fd;

	fd = accept4(d->listen_fd, (struct sockaddr *)&from, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	addr_string(&from, addr, sizeof(addr));
	if (!colod_same_address(&from, &d->cfg.peer_addr)) {
		log_refusal(d, addr, "not the configured peer");
		close(fd);
		return -EACCES;
	}
	if (d->agent_fd >= 0) {
		log_refusal(d, addr, "a second connection while one is active");
		close(fd);
		return -EBUSY;
	}
	/* The RAM cache, the replica and its disk buffers belong to the session
	 * that ended: a new one starts with a new colod. */
	if (d->state != COLOD_WAITING_PEER) {
		char why[96];

		if (d->state == COLOD_TOOK_OVER)
			snprintf(why, sizeof(why), "this host took over and runs the VM; the old "
				 "primary's agent must stay stopped");
		else
			snprintf(why, sizeof(why), "this secondary is %s; restart it to replicate "
				 "again", colod_state_name(d->state));
		log_refusal(d, addr, why);
		close(fd);
		return -ESTALE;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	d->agent_fd = fd;
	if (hello_exchange(d, false, &why)) {
		log_warn("agent connection from %s closed: %s", addr, why);
		link_send_error(fd, why);
		close(fd);
		d->agent_fd = -1;
		return -EPROTO;
	}
	if (prespawn(d, err, sizeof(err))) {
		secondary_disconnect(d, err);
		return -EIO;
	}
	colod_set_state(d, COLOD_SYNCING, "primary %s connected, waiting for the first checkpoint",
			addr);
	return 0;
}

static int unix_connect_retry(const char *path, int timeout_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	while (now_ns() < end) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		poll(NULL, 0, 20);
	}
	return -ETIMEDOUT;
}

const char *const colod_load_step_names[COLOD_LOAD_STEPS] = {
	[COLOD_LOAD_START] = "start",
	[COLOD_LOAD_TRANSFER] = "transfer",
	[COLOD_LOAD_RESTORE] = "restore",
	[COLOD_LOAD_CONT] = "cont",
};

/*
 * Makes the pre-started QEMU (every checkpoint's end starts one, when none
 * waits) load the acknowledged device state and run.
 */
static int start_next(struct colod *d, char *err, size_t errlen)
{
	uint64_t mark = now_ns();
	char status[32] = "";
	int fd, r, waited;

	memset(d->last_load_step_ns, 0, sizeof(d->last_load_step_ns));
	r = qemu_connect(&d->next, QEMU_READY_TIMEOUT_MS, err, errlen);
	if (!r)
		r = qemu_set_ignore_shared(&d->next, err, errlen);
	if (r)
		return r;
	step_time(&d->last_load_step_ns[COLOD_LOAD_START], &mark);
	fd = unix_connect_retry(d->next.incoming_path, QEMU_READY_TIMEOUT_MS);
	if (fd < 0) {
		snprintf(err, errlen, "replica QEMU %u does not listen on %s", d->next.gen,
			 d->next.incoming_path);
		return fd;
	}
	r = link_send(fd, d->acked_devstate, d->acked_devstate_len);
	close(fd);
	if (r) {
		snprintf(err, errlen, "handing the device state to QEMU %u: %s", d->next.gen,
			 strerror(-r));
		return r;
	}
	step_time(&d->last_load_step_ns[COLOD_LOAD_TRANSFER], &mark);
	for (waited = 0; waited < QEMU_READY_TIMEOUT_MS; waited += 2) {
		r = qmp_status(d->next.qmp, status, sizeof(status), QMP_TIMEOUT_MS, err, errlen);
		if (r)
			return r;
		if (!strcmp(status, "paused") || !strcmp(status, "running"))
			break;
		if (strcmp(status, "inmigrate")) {
			snprintf(err, errlen, "replica QEMU %u is %s after loading (see %s)",
				 d->next.gen, status, d->next.log_path);
			return -EIO;
		}
		poll(NULL, 0, 2);
	}
	step_time(&d->last_load_step_ns[COLOD_LOAD_RESTORE], &mark);
	d->frozen = d->acked_reason == COLO_CKPT_FREEZE;
	if (strcmp(status, "running") && !d->frozen)
		r = qmp_call(d->next.qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, err, errlen);
	if (r)
		return r;
	step_time(&d->last_load_step_ns[COLOD_LOAD_CONT], &mark);
	d->vm = d->next;
	memset(&d->next, 0, sizeof(d->next));
	return 0;
}

/*
 * Whether the next QEMU takes a load without a wait: QEMU 7.2 opens its
 * -incoming socket last before its main loop, when its QMP answers too.
 */
static bool spare_ready(const struct colod *d)
{
	struct stat st;

	return d->next.pid && !stat(d->next.incoming_path, &st) && S_ISSOCK(st.st_mode);
}

/*
 * Tells the primary the replica runs again, from the acknowledged
 * checkpoint, so it holds the VM's output for the replica's again (REPLICA
 * in proto.h). Not while taking over: there is no primary to tell.
 */
static int report_replica(struct colod *d, char *err, size_t errlen)
{
	struct colo_msg m = { .type = COLO_MSG_REPLICA, .replica_ckpt_id = d->ckpt_id };
	int r;

	if (d->agent_fd < 0 || d->state != COLOD_REPLICATING)
		return 0;
	r = link_send_msg(d->agent_fd, &m);
	if (r)
		snprintf(err, errlen, "sending REPLICA: %s", strerror(-r));
	return r;
}

/*
 * Loads the acknowledged checkpoint into the next QEMU and runs it: only
 * once that QEMU is ready, unless wait is set (a takeover cannot go on
 * without a replica). Failing, the agent fails: the replica is gone.
 */
static int secondary_load(struct colod *d, bool wait)
{
	char err[512], loaded[128];
	uint64_t t0 = now_ns();
	int r;

	if (!d->load_pending)
		return 0;
	if (!wait && ((d->state != COLOD_REPLICATING && d->state != COLOD_LINK_LOST) ||
		      !spare_ready(d)))
		return 0;
	r = start_next(d, err, sizeof(err));
	if (r) {
		colod_set_state(d, COLOD_FAILED, "loading checkpoint %llu: %s",
				(unsigned long long)d->ckpt_id, err);
		secondary_disconnect(d, d->state_why);
		return r;
	}
	d->load_pending = false;
	d->last_load_ns = now_ns() - t0;
	d->last_replica_down_ns = now_ns() - d->replica_down_since_ns;
	steps_format(colod_load_step_names, d->last_load_step_ns, 0, COLOD_LOAD_STEPS,
		     loaded, sizeof(loaded));
	log_info("checkpoint %llu loaded in %.1f ms (%s) into replica QEMU %u, down %.1f ms",
		 (unsigned long long)d->ckpt_id, d->last_load_ns / 1e6, loaded, d->vm.gen,
		 d->last_replica_down_ns / 1e6);
	d->replica_ckpt_id = d->ckpt_id;
	r = report_replica(d, err, sizeof(err));
	if (r) {
		secondary_disconnect(d, err);
		return r;
	}
	/* a frozen replica keeps the guest's sockets and files to itself (the
	 * next QEMU would take them over): the next checkpoint starts one */
	if (!d->frozen && (r = prespawn(d, err, sizeof(err))))
		secondary_disconnect(d, err);
	return r;
}

int secondary_watch_spares(struct colod *d, char *err, size_t errlen)
{
	d->spare_watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->spare_watch_fd < 0 ||
	    inotify_add_watch(d->spare_watch_fd, d->cfg.run_dir, IN_CREATE) < 0) {
		snprintf(err, errlen, "watching %s: %s", d->cfg.run_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Something was created in run_dir: perhaps the next QEMU's sockets. */
void secondary_spare_event(struct colod *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(d->spare_watch_fd, buf, sizeof(buf)) > 0)
		;
	secondary_load(d, false);
}

/*
 * The checkpoint's state becomes this host's, up to the device state kept
 * in memory for start_next(): what the ACK promises.
 */
static int commit_checkpoint(struct colod *d, char *err, size_t errlen)
{
	long restored, discarded;
	int r;

	if (d->vm.qmp)
		qmp_call(d->vm.qmp, "stop", NULL, NULL, QMP_TIMEOUT_MS, err, errlen);
	restored = ram_restore(d->ram_fd, d->cache_fd, d->pages, d->npages);
	if (restored < 0) {
		snprintf(err, errlen, "restoring RAM from the cache: %s", strerror(-restored));
		return restored;
	}
	qemu_kill(&d->vm);
	/*
	 * Mirrored before the primary held its input: either in the
	 * checkpoint's state already or dropped on the primary as well.
	 */
	discarded = tap_discard_queued(d->tap_fd);
	if (discarded)
		log_info("%ld frames the replaced replica had not read were dropped", discarded);
	r = dm_message(d->dm_name, "checkpoint", err, errlen);
	if (!r)
		r = colod_proxy_checkpoint(&d->proxy, d->cfg.tap, true, err, errlen);
	if (!r)
		d->last_pages = restored;
	return r;
}

static int take_pages(struct colod *d, const struct colo_pages *p, char *err, size_t errlen)
{
	uint64_t *list = d->pages + d->npages;
	uint32_t i;
	int r;

	for (i = 0; i < p->count; i++)
		list[i] = colo_pages_index(p, i);
	r = ram_write(d->cache_fd, list, p->count, p->data);
	if (r) {
		snprintf(err, errlen, "writing pages into the RAM cache: %s", strerror(-r));
		return r;
	}
	d->npages += p->count;
	return 0;
}

/* The checkpoint just acknowledged keeps its device state for the load. */
static void swap_devstate(struct colod *d)
{
	unsigned char *b = d->acked_devstate;
	size_t size = d->acked_devstate_size;

	d->acked_devstate = d->devstate;
	d->acked_devstate_size = d->devstate_size;
	d->acked_devstate_len = d->devstate_len;
	d->devstate = b;
	d->devstate_size = size;
	d->devstate_len = 0;
}

static int take_devstate(struct colod *d, const struct colo_devstate *s, char *err,
			 size_t errlen)
{
	if (d->devstate_len + s->len > d->devstate_size) {
		size_t size = d->devstate_len + s->len;
		unsigned char *b = realloc(d->devstate, size);

		if (!b) {
			snprintf(err, errlen, "no memory for %zu bytes of device state", size);
			return -ENOMEM;
		}
		d->devstate = b;
		d->devstate_size = size;
	}
	memcpy(d->devstate + d->devstate_len, s->data, s->len);
	d->devstate_len += s->len;
	return 0;
}

/*
 * The guest's MAC now comes in through this host's port: QEMU sends RARP
 * frames from it (as after a migration) so that switches learn the new
 * port at once rather than at the guest's next frame. The guest's own
 * neighbours need nothing: its MAC and addresses are those of the primary.
 */
static void announce(struct colod *d)
{
	struct json_object *args = json_object_new_object();
	char err[256];

	/* QEMU's defaults after a migration: 5 rounds, 50 ms apart and growing */
	json_object_object_add(args, "initial", json_object_new_int(50));
	json_object_object_add(args, "max", json_object_new_int(550));
	json_object_object_add(args, "rounds", json_object_new_int(5));
	json_object_object_add(args, "step", json_object_new_int(100));
	if (qmp_call(d->vm.qmp, "announce-self", args, NULL, QMP_TIMEOUT_MS, err, sizeof(err)))
		log_warn("announce-self: %s", err);
}

/*
 * The primary left the cluster (cluster.c), or handed over (planned): the
 * replica becomes the VM. Only a replica that runs from a complete
 * checkpoint can; unless planned, only while this host is quorate and only
 * after [cluster] fence, when set, succeeded (with two_node both halves of
 * a split stay quorate: fencing is what keeps the primary from serving
 * too). A checkpoint received in part is dropped: the RAM cache is not
 * applied, the replica runs on from the last whole one.
 */
int secondary_takeover(struct colod *d, const char *why, bool planned)
{
	uint64_t t0 = now_ns();
	char err[512];
	int r;

	if ((d->state != COLOD_REPLICATING && d->state != COLOD_LINK_LOST) ||
	    (!d->vm.qmp && !d->load_pending)) {
		snprintf(err, sizeof(err), "%s; no complete checkpoint to take over from", why);
		secondary_disconnect(d, err);
		return -ESRCH;
	}
	if (!planned && d->cluster.cpg && !d->cluster.quorate) {
		snprintf(err, sizeof(err), "%s; not taking over: this host is not quorate", why);
		secondary_disconnect(d, err);
		return -EPERM;
	}
	if (!planned && d->cfg.fence && (r = cluster_fence(d, err, sizeof(err)))) {
		char reason[600];

		snprintf(reason, sizeof(reason), "%s; not taking over: %s", why, err);
		secondary_disconnect(d, reason);
		return r;
	}
	if (d->agent_fd >= 0) {
		link_send_error(d->agent_fd, COLOD_TAKEOVER_ERROR);
		close(d->agent_fd);
		d->agent_fd = -1;
	}
	d->npages = 0;
	d->devstate_len = 0;
	if (d->load_pending) {
		log_info("taking over: checkpoint %llu waits for replica QEMU %u; loading it first",
			 (unsigned long long)d->ckpt_id, d->next.gen);
		r = secondary_load(d, true);
		if (r)
			return r;
	}
	qemu_kill(&d->next);
	/* the replica's writes win over the primary's since the last checkpoint */
	r = dm_message(d->dm_name, "failover", err, sizeof(err));
	if (!r)
		r = colod_proxy_failover(&d->proxy, d->cfg.tap, err, sizeof(err));
	if (!r && d->frozen) {
		r = qmp_call(d->vm.qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, err, sizeof(err));
		d->frozen = r != 0;
	}
	if (r) {
		colod_set_state(d, COLOD_FAILED, "taking over: %s", err);
		return r;
	}
	announce(d);
	d->takeover_ns = now_ns() - (planned || !d->cluster.peer_left_ns ? t0 :
				     d->cluster.peer_left_ns);
	colod_set_state(d, COLOD_TOOK_OVER, "the replica serves alone from checkpoint %llu, "
			"%.1f ms after %s (%s)", (unsigned long long)d->ckpt_id,
			d->takeover_ns / 1e6, planned ? "the request" : "the primary left", why);
	return 0;
}

/*
 * The tick: the disk buffer raised a dm event (it passed
 * disk_buffer_percent or refused a write), so ask the primary for the
 * checkpoint that empties it.
 */
void secondary_tick(struct colod *d)
{
	struct colo_msg m = { .type = COLO_MSG_REQUEST, .request_reason = COLO_CKPT_DISK };
	char status[512] = "", err[256];
	int r;

	if (link_loss_wait_over(d)) {
		secondary_disconnect(d, "the primary stayed in the cluster after the link broke: "
				     "it serves alone, and this replica is behind it");
		return;
	}
	if (d->agent_fd < 0 || d->state != COLOD_REPLICATING || !disk_event_pending(d))
		return;
	dm_status(d->dm_name, status, sizeof(status));
	r = link_send_msg(d->agent_fd, &m);
	if (r) {
		snprintf(err, sizeof(err), "sending REQUEST: %s", strerror(-r));
		secondary_disconnect(d, err);
		return;
	}
	d->disk_requests++;
	log_info("disk buffer event (%s): asked the primary for a checkpoint", status);
}

/* The agent connection is readable: one message. */
int secondary_handle(struct colod *d)
{
	struct colo_msg m;
	char err[512];
	const char *why;
	uint64_t t0;
	int r;

	r = link_recv_msg(d, &m, 30000, &why);
	if (r == -ENOTCONN)	/* the primary left the cluster: cluster_act() takes over */
		return r;
	if (!r)
		r = colo_session_accept(&d->session, &m, &why);
	if (r) {
		secondary_link_lost(d, why);
		return r;
	}
	switch (m.type) {
	case COLO_MSG_CKPT_BEGIN:
		d->npages = 0;
		d->devstate_len = 0;
		d->last_reason = m.begin.reason;
		return 0;
	case COLO_MSG_PAGES:
		r = take_pages(d, &m.pages, err, sizeof(err));
		break;
	case COLO_MSG_DEVSTATE:
		r = take_devstate(d, &m.devstate, err, sizeof(err));
		break;
	case COLO_MSG_CKPT_END:
		t0 = now_ns();
		if (!d->load_pending)
			d->replica_down_since_ns = t0;
		r = commit_checkpoint(d, err, sizeof(err));
		if (r) {
			colod_set_state(d, COLOD_FAILED, "checkpoint %llu: %s",
					(unsigned long long)m.end_ckpt_id, err);
			break;
		}
		d->last_apply_ns = now_ns() - t0;
		if (d->load_pending) {
			d->loads_superseded++;
			log_info("checkpoint %llu is superseded before a replica could load it",
				 (unsigned long long)d->ckpt_id);
		}
		d->ckpt_id = m.end_ckpt_id;
		d->checkpoints++;
		d->reasons[d->last_reason]++;
		d->last_devstate_bytes = d->devstate_len;
		d->total_pages += d->npages;
		d->last_ckpt_end_ns = now_ns();
		swap_devstate(d);
		d->acked_reason = d->last_reason;
		d->load_pending = true;
		m.type = COLO_MSG_ACK;
		m.ack = (struct colo_ack){ .ckpt_id = d->ckpt_id, .apply_ns = d->last_apply_ns };
		r = link_send_msg(d->agent_fd, &m);
		if (r) {
			snprintf(err, sizeof(err), "sending the ACK: %s", strerror(-r));
			break;
		}
		if (d->state != COLOD_REPLICATING)
			colod_set_state(d, COLOD_REPLICATING, "first checkpoint applied");
		log_info("checkpoint %llu (%s) applied: %llu pages, %zu bytes of device state, "
			 "%.1f ms", (unsigned long long)d->ckpt_id,
			 colo_ckpt_reason_name(d->last_reason), (unsigned long long)d->npages,
			 d->acked_devstate_len, d->last_apply_ns / 1e6);
		r = prespawn(d, err, sizeof(err));
		if (!r)
			return secondary_load(d, false);
		break;
	case COLO_MSG_PING:
		m.type = COLO_MSG_PONG;
		r = link_send_msg(d->agent_fd, &m);
		snprintf(err, sizeof(err), "sending PONG: %s", strerror(-r));
		break;
	case COLO_MSG_HANDOVER:
		return secondary_takeover(d, "the primary handed the VM over", true);
	case COLO_MSG_ERROR:
		secondary_disconnect(d, m.error);
		return -ECONNABORTED;
	default:
		return 0;
	}
	if (r)
		secondary_disconnect(d, err);
	return r;
}
