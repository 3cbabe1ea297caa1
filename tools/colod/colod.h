/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colod: the COLO agent, one process per protected VM and host. It owns the
 * VM's QEMU, its RAM object (colo_ckpt), its colo dm devices (the
 * secondary's replica serves the primary over NBD itself) and its proxy
 * instance (colo_proxy); the two hosts' agents run the checkpoint protocol
 * (proto.h) over one TCP connection.
 */
#ifndef COLOD_H
#define COLOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <corosync/cpg.h>
#include <corosync/quorum.h>

#include "config.h"
#include "proto.h"
#include "proxy.h"

#define COLOD_PAGE_SIZE 4096U
#define COLOD_PAUSE_RING 1024	/* pauses kept for the percentiles */

/*
 * A checkpoint's steps on the primary, in order. The VM is paused for the
 * first COLOD_PAUSED_STEPS; its output and forwarded writes are held until
 * the others are done as well.
 */
enum colod_ckpt_step {
	COLOD_STEP_STOP,	/* QMP stop, output sealed, input held, the tap's queue
				 * dropped; QEMU told to save its device state */
	COLOD_STEP_DRAIN,	/* colo primary checkpoint: forwarded writes flushed; hold */
	COLOD_STEP_RAM,		/* dirty pages collected and read */
	COLOD_STEP_DEVSTATE,	/* the rest of QEMU's save, which ran alongside the two */
	COLOD_STEP_RESUME,	/* QMP cont */
	COLOD_STEP_SEND,	/* the checkpoint written to the agent link */
	COLOD_STEP_ACK,		/* the secondary's ACK; output and writes released */
	COLOD_CKPT_STEPS
};
#define COLOD_PAUSED_STEPS (COLOD_STEP_RESUME + 1)
extern const char *const colod_ckpt_step_names[COLOD_CKPT_STEPS];

/*
 * The secondary's load of a checkpoint's device state, after its ACK: the
 * replica VM is down from the commit until the end of these steps, and the
 * primary's output waits for it to run again.
 */
enum colod_load_step {
	COLOD_LOAD_START,	/* the pre-started QEMU up and answering QMP */
	COLOD_LOAD_TRANSFER,	/* the device state written to its incoming socket */
	COLOD_LOAD_RESTORE,	/* QEMU done loading it */
	COLOD_LOAD_CONT,	/* QMP cont */
	COLOD_LOAD_STEPS
};
extern const char *const colod_load_step_names[COLOD_LOAD_STEPS];

/* What a VM under colod is doing, as `coloctl vm status` shows it. */
enum colod_state {
	COLOD_STARTING,		/* setting up objects, devices, QEMU */
	COLOD_WAITING_PEER,	/* set up; no agent connection yet */
	COLOD_SYNCING,		/* the first full copy */
	COLOD_REPLICATING,	/* checkpoints running */
	COLOD_LINK_LOST,	/* the agent link broke; waiting for corosync's view of the peer */
	COLOD_PEER_LOST,	/* the agent link broke; replication stopped */
	COLOD_TOOK_OVER,	/* secondary: the primary is gone, the replica serves alone */
	COLOD_HANDED_OVER,	/* primary: the VM moved to the secondary (coloctl vm failover) */
	COLOD_FAILED,		/* something this agent cannot repair; see state_why */
	COLOD_STOPPING,
};

struct colod_qemu {
	pid_t pid;		/* 0: none */
	unsigned int gen;	/* the how-many-th QEMU of this agent */
	struct qmp *qmp;
	char qmp_path[256];
	char incoming_path[256];	/* secondary: where it waits for device state */
	char log_path[256];
};

/* cluster.c: corosync's view of the two agents */
struct colod_cluster {
	cpg_handle_t cpg;		/* 0: not connected */
	quorum_handle_t quorum;
	int cpg_fd, quorum_fd;		/* -1: none */
	bool joined, quorum_open;
	bool quorate;
	uint32_t nodeid, pid;		/* this agent in the group */
	bool peer_present;		/* the other agent is in the group */
	bool peer_seen;			/* ... or was, since this agent joined */
	uint32_t peer_nodeid, peer_pid;
	uint64_t peer_left_ns;		/* when it left, 0: never */
	bool peer_left_pending;		/* ... and the agent has not acted on it yet */
	char peer_left_why[160];
};

struct colod {
	struct colod_config cfg;
	const char *config_path;
	enum colod_state state;
	char state_why[256];

	int epfd, sigfd, timerfd, pollfd_timer, ctl_fd, listen_fd, agent_fd;
	int tap_fd;
	unsigned int tap_ifindex;

	/*
	 * RAM: the VM's object (primary: NAME, secondary: NAME-svm) and, on the
	 * secondary, the RAM cache (NAME-cache); distinct names let both roles
	 * share one kernel, as in the tests.
	 */
	char ram_name[COLOD_NAME_MAX + 8], cache_name[COLOD_NAME_MAX + 8];
	int ram_fd, cache_fd;
	uint64_t ram_pages;
	uint64_t *pages;	/* page list of the checkpoint in progress */
	uint64_t npages;
	unsigned char *page_buf;	/* primary: the dirty pages' copy */
	size_t page_buf_size;
	unsigned char *devstate;	/* device state of the checkpoint in progress */
	size_t devstate_len, devstate_size;
	/* secondary: the acknowledged checkpoint's, kept for the replica that loads it */
	unsigned char *acked_devstate;
	size_t acked_devstate_len, acked_devstate_size;
	enum colo_ckpt_reason acked_reason;

	/* disk */
	uint64_t disk_bytes;
	char dm_name[64], dm_path[64];		/* the VM's disk */
	char replica_name[64];			/* secondary */
	uint32_t dm_event_nr;			/* the VM disk's dm events seen so far */
	uint64_t disk_events;			/* ... and how many of them were ours */
	uint64_t disk_requests;			/* REQUESTs sent (secondary) or taken (primary) */

	struct colod_qemu vm, next;	/* next: secondary's pre-spawned replica */
	unsigned int qemu_gens;
	/*
	 * Secondary: the replica is down and the acknowledged checkpoint waits
	 * for the next QEMU to be up (secondary_load()); checkpoints go on
	 * meanwhile, and each that comes first supersedes the waiting load.
	 */
	bool load_pending;
	/*
	 * The checkpoint the secondary's replica runs from, as the secondary
	 * reported it (REPLICA), 0: none yet. Primary: while it is older than
	 * the last checkpoint, no replica compares output, and the proxy holds
	 * a frame at most proxy_timeout_no_replica (proxy_timeout_ms).
	 */
	uint64_t replica_ckpt_id;
	uint32_t proxy_timeout_ms;	/* the proxy instance's, as last set */
	uint64_t loads_superseded;
	uint64_t replica_down_since_ns, last_replica_down_ns;
	int spare_watch_fd;		/* inotify on run_dir: the next QEMU's sockets appear */

	struct colod_cluster cluster;
	uint64_t takeover_ns;		/* how long the last takeover took from the peer's leaving */
	uint64_t link_lost_ns;		/* when the agent link broke (state link-lost) */

	struct colod_proxy proxy;
	struct colod_proxy_events proxy_events;
	bool proxy_added;

	/* protocol */
	struct colo_session session;
	unsigned char *rxbuf;
	uint64_t ckpt_id;

	/* statistics for status */
	uint64_t checkpoints;
	uint64_t reasons[COLO_CKPT_REASON_MAX + 1];
	enum colo_ckpt_reason last_reason;
	uint64_t pauses_ns[COLOD_PAUSE_RING];
	uint64_t npauses;
	uint64_t last_pause_ns, last_apply_ns, last_load_ns;
	uint64_t last_qemu_pause_ns;	/* QEMU's STOP to RESUME event, 0: not seen */
	uint64_t last_release_ns;	/* from the VM's resume to its output's release */
	uint64_t last_step_ns[COLOD_CKPT_STEPS];
	uint64_t last_load_step_ns[COLOD_LOAD_STEPS];
	uint64_t last_pages, total_pages, last_devstate_bytes;
	uint64_t last_ckpt_end_ns;
	uint64_t proxy_requests;
	enum colo_ckpt_reason pending_reason;	/* 0: none pending */
	bool frozen;				/* paused after a freeze checkpoint, until resume */
	char last_connect_err[512];		/* primary: why the last connect failed */
	char last_refusal[128];			/* secondary: why the last connection was refused */
	uint64_t last_refusal_ns;		/* ... logged then */
	uint64_t refusals_unlogged;		/* ... and refused since, unlogged */
	bool stop;
};

/* log.c: "colod[NAME]: ..." on stderr with a syslog priority prefix, which
 * the journal reads when systemd runs us. */
void log_init(const char *name);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ns(void);

/* A timed step ends now: its time goes to *slot, and the next one starts. */
static inline void step_time(uint64_t *slot, uint64_t *mark)
{
	uint64_t now = now_ns();

	*slot = now - *mark;
	*mark = now;
}
void colod_set_state(struct colod *d, enum colod_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *colod_state_name(enum colod_state s);
/* "stop 1.2, drain 0.4, ..." for the journal: steps [from, to) of names, ns in ms. */
void steps_format(const char *const *names, const uint64_t *ns, int from, int to, char *buf,
		  size_t size);

/* ram.c */
int ram_create(const char *name, uint64_t size, char *err, size_t errlen);
void ram_destroy(const char *name);
int ram_open(const char *name, char *err, size_t errlen);
long ram_collect(int fd, uint64_t *pages, uint64_t max);
int ram_read(int fd, const uint64_t *pages, uint64_t count, void *buf);
int ram_write(int fd, const uint64_t *pages, uint64_t count, const void *buf);
long ram_restore(int svm_fd, int cache_fd, const uint64_t *pages, uint64_t count);

/* dm.c */
int dm_create(const char *name, uint64_t sectors, const char *params, char *path,
	      size_t pathlen, char *err, size_t errlen);
int dm_remove(const char *name);
int dm_message(const char *name, const char *msg, char *err, size_t errlen);
int dm_status(const char *name, char *out, size_t outlen);
int dm_event_nr(const char *name, uint32_t *event_nr);
int dm_open_count(const char *name, int32_t *open_count);

/* qemu.c */
int qemu_spawn(struct colod *d, struct colod_qemu *q, int incoming_fd, bool listen_incoming,
	       char *err, size_t errlen);
int qemu_connect(struct colod_qemu *q, int timeout_ms, char *err, size_t errlen);
void qemu_kill(struct colod_qemu *q);
int qemu_set_ignore_shared(struct colod_qemu *q, char *err, size_t errlen);
/* -EINVAL, with the block named in err, when the guest has RAM outside its
 * shared RAM object that is not read-only firmware (a checkpoint would not
 * carry it) */
int qemu_check_ram_blocks(struct colod_qemu *q, char *err, size_t errlen);

/* link.c: the agent connection, blocking with timeouts */
int link_send(int fd, const void *buf, size_t len);
int link_sendv(int fd, const void *head, size_t head_len, const void *body, size_t body_len);
int link_send_msg(int fd, const struct colo_msg *m);
int link_recv_msg(struct colod *d, struct colo_msg *m, int timeout_ms, const char **why);
int link_send_error(int fd, const char *reason);
void link_watch_cluster(struct colod *d);

/* host.c: what a role sets up on its host, and takes down */
int host_setup(struct colod *d, char *err, size_t errlen);
void host_teardown(struct colod *d);
int host_primary_attach(struct colod *d, char *err, size_t errlen);
void addr_string(const struct sockaddr_storage *ss, char *buf, size_t len);
int unix_listen(const char *path, char *err, size_t errlen);
/*
 * Reads and drops the frames queued on the VM's tap for a QEMU that will
 * not read them (the primary's, paused while its state is taken; the
 * secondary's, replaced), at most TAP_DISCARD_MAX; returns how many. Both
 * guests then start from the checkpoint without them (colo-proxy.rst,
 * "Input during a checkpoint").
 */
#define TAP_DISCARD_MAX 65536
long tap_discard_queued(int fd);

/* primary.c, secondary.c */
int hello_exchange(struct colod *d, bool send_first, const char **why);
int primary_connect(struct colod *d, char *err, size_t errlen);
int primary_checkpoint(struct colod *d, enum colo_ckpt_reason reason);
int primary_start_vm(struct colod *d, char *err, size_t errlen);
int secondary_accept(struct colod *d);
int secondary_handle(struct colod *d);
void secondary_tick(struct colod *d);
int secondary_watch_spares(struct colod *d, char *err, size_t errlen);
void secondary_spare_event(struct colod *d);
int primary_handle(struct colod *d);
void primary_disk_event(struct colod *d);
bool disk_event_pending(struct colod *d);
void secondary_disconnect(struct colod *d, const char *why);

/* cluster.c */
int cluster_open(struct colod *d, char *err, size_t errlen);
int cluster_dispatch(struct colod *d, int fd);
void cluster_close(struct colod *d);
int cluster_fence(struct colod *d, char *err, size_t errlen);
int secondary_takeover(struct colod *d, const char *why, bool planned);
int primary_handover(struct colod *d, char *err, size_t errlen);
void primary_peer_left(struct colod *d, const char *why);
void primary_link_lost(struct colod *d, const char *why);
void primary_go_alone(struct colod *d, const char *why);
void secondary_link_lost(struct colod *d, const char *why);
bool link_loss_wait_over(struct colod *d);
/* The ERROR a secondary sends when it takes over. */
#define COLOD_TAKEOVER_ERROR "the secondary takes over"

/* control.c: coloctl vm over the control socket */
int control_open(struct colod *d, char *err, size_t errlen);
void control_handle(struct colod *d);

#endif
