// SPDX-License-Identifier: GPL-2.0
/*
 * colod - the COLO agent for one protected VM on one host.
 *
 *   colod -c /etc/colod/NAME.conf      run (in the foreground; systemd's
 *                                      colod@NAME.service does this)
 *   colod -c FILE --check              check the configuration and exit
 *
 * One epoll loop: signals (signalfd), a 50 ms tick (timerfd) that connects,
 * looks at the disk's dm events and decides when to checkpoint, the agent
 * connection, colo_proxy's checkpoint requests, the control socket and, on
 * the secondary, run_dir, where the next replica QEMU's sockets appear. A
 * checkpoint runs to its end inside one iteration, with every wait in it
 * bounded.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/colo_ckpt.h>
#include <systemd/sd-daemon.h>

#include "colod.h"
#include "qmp.h"

#define TICK_MS 50

enum { EV_SIGNAL, EV_TICK, EV_CONTROL, EV_LISTEN, EV_AGENT, EV_PROXY, EV_QMP, EV_CPG,
       EV_QUORUM, EV_SPARE };

static void ep_add(struct colod *d, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(struct colod *d, int fd)
{
	if (fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void reap_children(struct colod *d)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		const char *what = pid == d->vm.pid ? "the VM's QEMU" :
				   pid == d->next.pid ? "the next replica's QEMU" : NULL;

		if (!what)
			continue;
		if (pid == d->vm.pid) {
			ep_del(d, d->vm.qmp ? qmp_fd(d->vm.qmp) : -1);
			qmp_close(d->vm.qmp);
			d->vm.qmp = NULL;
			d->vm.pid = 0;
		} else {
			qmp_close(d->next.qmp);
			d->next.qmp = NULL;
			d->next.pid = 0;
		}
		colod_set_state(d, COLOD_FAILED, "%s (pid %d) exited with %s %d", what, pid,
				WIFEXITED(status) ? "status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		/* the primary must not wait for checkpoints that cannot be applied */
		if (d->cfg.role == COLOD_ROLE_SECONDARY)
			secondary_disconnect(d, d->state_why);
	}
}

static uint64_t dirty_pages(struct colod *d)
{
	struct colo_ckpt_obj_info info;

	return ioctl(d->ram_fd, COLO_CKPT_INFO, &info) ? 0 : info.dirty_pages;
}

static void watch_vm_qmp(struct colod *d)
{
	if (d->vm.qmp)
		ep_add(d, qmp_fd(d->vm.qmp), EV_QMP);
}

static void primary_tick(struct colod *d)
{
	char err[512];
	uint64_t since;

	if (d->state == COLOD_WAITING_PEER) {
		if (primary_connect(d, err, sizeof(err))) {
			/* every 50 ms: say it when the reason changes, not each time */
			if (strcmp(err, d->last_connect_err))
				log_warn("%s (retrying)", err);
			snprintf(d->last_connect_err, sizeof(d->last_connect_err), "%s", err);
			return;
		}
		log_info("connected to the secondary's agent");
		ep_add(d, d->agent_fd, EV_AGENT);
		colod_set_state(d, COLOD_SYNCING, "attaching the secondary's disk, starting the VM");
		if (host_primary_attach(d, err, sizeof(err)) || primary_start_vm(d, err, sizeof(err))) {
			colod_set_state(d, COLOD_FAILED, "%s", err);
			return;
		}
		watch_vm_qmp(d);
		if (!primary_checkpoint(d, COLO_CKPT_FIRST_SYNC))
			colod_set_state(d, COLOD_REPLICATING, "first sync done in %.1f ms of pause",
					d->last_pause_ns / 1e6);
		return;
	}
	if (link_loss_wait_over(d)) {
		primary_go_alone(d, "the secondary stayed in the cluster, but its link is gone");
		return;
	}
	if (d->state != COLOD_REPLICATING || d->frozen)
		return;
	if (disk_event_pending(d)) {
		primary_disk_event(d);
		if (d->state != COLOD_REPLICATING)
			return;
	}
	since = now_ns() - d->last_ckpt_end_ns;
	if (d->pending_reason)
		primary_checkpoint(d, d->pending_reason);
	else if (since >= (uint64_t)d->cfg.max_interval_ms * 1000000)
		primary_checkpoint(d, COLO_CKPT_TIMER);
	else if (d->cfg.dirty_pages && dirty_pages(d) >= d->cfg.dirty_pages)
		primary_checkpoint(d, COLO_CKPT_DIRTY);
}

static void request_proxy_checkpoint(struct colod *d)
{
	d->proxy_requests++;
	if (d->cfg.role == COLOD_ROLE_PRIMARY && d->state == COLOD_REPLICATING)
		d->pending_reason = COLO_CKPT_PROXY;
}

static void proxy_event(void *arg, const struct colod_proxy_event *ev)
{
	struct colod *d = arg;

	if (ev->ifindex == d->tap_ifindex)
		request_proxy_checkpoint(d);
}

/* A lost request (-ENOBUFS, -EMSGSIZE) may have been ours: checkpoint. */
static void read_proxy_events(struct colod *d)
{
	char err[256];

	if (colod_proxy_events_read(&d->proxy_events, proxy_event, d, err, sizeof(err)) < 0) {
		log_warn("proxy events: %s", err);
		request_proxy_checkpoint(d);
	}
}

static void drain_qmp_events(struct colod *d)
{
	struct json_object *ev;
	char err[256];

	if (!d->vm.qmp)
		return;
	if (qmp_read_events(d->vm.qmp, err, sizeof(err))) {
		ep_del(d, qmp_fd(d->vm.qmp));
		return;
	}
	while ((ev = qmp_next_event(d->vm.qmp))) {
		struct json_object *name;

		if (json_object_object_get_ex(ev, "event", &name))
			log_info("QEMU %u: event %s", d->vm.gen, json_object_get_string(name));
		json_object_put(ev);
	}
}

/*
 * After corosync's news: the peer's leaving is acted on once (the primary
 * goes on alone, the secondary takes over); a primary whose host lost
 * quorum while the secondary is gone pauses its VM, because the side that
 * kept quorum may take over and the two must never serve together.
 */
static void cluster_act(struct colod *d)
{
	struct colod_cluster *c = &d->cluster;
	char err[256];

	if (c->peer_left_pending) {
		c->peer_left_pending = false;
		if (d->cfg.role == COLOD_ROLE_PRIMARY)
			primary_peer_left(d, c->peer_left_why);
		else if (d->state == COLOD_REPLICATING || d->state == COLOD_LINK_LOST ||
			 d->state == COLOD_SYNCING)
			secondary_takeover(d, c->peer_left_why, false);
	}
	if (d->cfg.role == COLOD_ROLE_PRIMARY && !c->quorate && !c->peer_present &&
	    c->peer_seen && d->vm.qmp && d->state != COLOD_FAILED) {
		if (qmp_call(d->vm.qmp, "stop", NULL, NULL, 30000, err, sizeof(err)))
			log_err("pausing the VM: %s", err);
		colod_set_state(d, COLOD_FAILED, "this host lost quorum with the secondary gone: "
				"the VM is paused so that it cannot serve beside a replica that "
				"took over");
	}
}

static void cluster_event(struct colod *d, int fd)
{
	if (cluster_dispatch(d, fd)) {
		ep_del(d, d->cluster.cpg_fd);
		ep_del(d, d->cluster.quorum_fd);
		cluster_close(d);
		log_err("cluster: corosync is gone: no automatic failover until colod restarts");
		return;
	}
	cluster_act(d);
}

static int setup(struct colod *d)
{
	struct itimerspec its = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
	char err[512] = "";
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0 ||
	    timerfd_settime(d->timerfd, 0, &its, NULL)) {
		log_err("event loop: %s", strerror(errno));
		return -1;
	}
	ep_add(d, d->sigfd, EV_SIGNAL);
	ep_add(d, d->timerfd, EV_TICK);
	if (host_setup(d, err, sizeof(err)) || control_open(d, err, sizeof(err))) {
		log_err("setup: %s", err);
		return -1;
	}
	ep_add(d, d->ctl_fd, EV_CONTROL);
	if (d->cfg.role == COLOD_ROLE_SECONDARY) {
		if (secondary_watch_spares(d, err, sizeof(err))) {
			log_err("setup: %s", err);
			return -1;
		}
		ep_add(d, d->spare_watch_fd, EV_SPARE);
	}
	if (d->cfg.corosync) {
		if (cluster_open(d, err, sizeof(err))) {
			log_err("setup: %s", err);
			return -1;
		}
		ep_add(d, d->cluster.cpg_fd, EV_CPG);
		ep_add(d, d->cluster.quorum_fd, EV_QUORUM);
		link_watch_cluster(d);
	}
	ep_add(d, colod_proxy_events_fd(&d->proxy_events), EV_PROXY);
	if (d->listen_fd >= 0)
		ep_add(d, d->listen_fd, EV_LISTEN);
	colod_set_state(d, COLOD_WAITING_PEER, d->cfg.role == COLOD_ROLE_PRIMARY ?
			"connecting to the secondary's agent" :
			"waiting for the primary's agent");
	sd_notify(0, "READY=1");
	return 0;
}

static void run(struct colod *d)
{
	while (!d->stop) {
		struct epoll_event ev[8];
		int n = epoll_wait(d->epfd, ev, 8, -1), i;

		for (i = 0; i < n && !d->stop; i++) {
			struct signalfd_siginfo si;
			uint64_t ticks;

			switch (ev[i].data.u64) {
			case EV_SIGNAL:
				while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGCHLD)
						reap_children(d);
					else
						d->stop = true;
				}
				break;
			case EV_TICK:
				if (read(d->timerfd, &ticks, sizeof(ticks)) <= 0)
					break;
				if (d->cfg.role == COLOD_ROLE_PRIMARY)
					primary_tick(d);
				else
					secondary_tick(d);
				break;
			case EV_CONTROL:
				control_handle(d);
				break;
			case EV_LISTEN:
				if (!secondary_accept(d))
					ep_add(d, d->agent_fd, EV_AGENT);
				break;
			case EV_AGENT:
				if (d->agent_fd < 0)
					break;
				if (d->cfg.role == COLOD_ROLE_SECONDARY) {
					secondary_handle(d);
					break;
				}
				primary_handle(d);
				if (d->pending_reason)
					primary_tick(d);
				break;
			case EV_PROXY:
				read_proxy_events(d);
				if (d->pending_reason)
					primary_tick(d);
				break;
			case EV_QMP:
				drain_qmp_events(d);
				break;
			case EV_SPARE:
				secondary_spare_event(d);
				break;
			case EV_CPG:
				if (d->cluster.cpg_fd >= 0)
					cluster_event(d, d->cluster.cpg_fd);
				break;
			case EV_QUORUM:
				if (d->cluster.quorum_fd >= 0)
					cluster_event(d, d->cluster.quorum_fd);
				break;
			}
			/* a wait inside a step may have read corosync's news */
			if (d->cluster.peer_left_pending)
				cluster_act(d);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: colod -c CONFIG [--check]\n"
		   "  -c, --config FILE  the VM's configuration (colod.conf(5))\n"
		   "      --check        check the configuration and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct colod d = {
		.ctl_fd = -1, .listen_fd = -1, .agent_fd = -1,
		.tap_fd = -1, .ram_fd = -1, .cache_fd = -1, .spare_watch_fd = -1,
		.cluster = { .cpg_fd = -1, .quorum_fd = -1 },
	};
	bool check = false;
	char err[512];
	int o, ret = 0;

	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!d.config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (colod_config_load(d.config_path, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "colod: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration of %s (%s) is valid\n", d.config_path, d.cfg.name,
		       d.cfg.role == COLOD_ROLE_PRIMARY ? "primary" : "secondary");
		colod_config_free(&d.cfg);
		return 0;
	}
	log_init(d.cfg.name);
	if (setup(&d))
		ret = 1;
	else
		run(&d);
	sd_notify(0, "STOPPING=1");
	colod_set_state(&d, COLOD_STOPPING, "taking down QEMU, devices and objects");
	cluster_close(&d);
	host_teardown(&d);
	if (d.ctl_fd >= 0)
		unlink(d.cfg.control_socket);
	colod_config_free(&d.cfg);
	return ret;
}
