// SPDX-License-Identifier: GPL-2.0
/*
 * Membership and quorum from corosync ([cluster] corosync = yes): each
 * agent joins the CPG group "colod-NAME" and tracks votequorum's quorate
 * flag through libquorum. The other member of the group is the peer agent;
 * its leaving is what the agents act on (the primary goes on alone, the
 * secondary takes over), never a silence on the replication link alone, so
 * that failure detection and its timing are corosync's (totem token and
 * consensus) and both hosts agree on who is there.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <corosync/cpg.h>
#include <corosync/quorum.h>

#include "colod.h"

static struct colod *cluster_colod(cpg_handle_t h)
{
	void *ctx = NULL;

	cpg_context_get(h, &ctx);
	return ctx;
}

static const char *leave_reason(uint32_t reason)
{
	switch (reason) {
	case CPG_REASON_LEAVE:
		return "its agent left the group";
	case CPG_REASON_NODEDOWN:
		return "its host left the corosync membership";
	case CPG_REASON_PROCDOWN:
		return "its agent's process ended";
	default:
		return "it left";
	}
}

static void confchg(cpg_handle_t h, const struct cpg_name *group,
		    const struct cpg_address *members, size_t nmembers,
		    const struct cpg_address *left, size_t nleft,
		    const struct cpg_address *joined, size_t njoined)
{
	struct colod *d = cluster_colod(h);
	struct colod_cluster *c = &d->cluster;
	size_t i;

	(void)group;
	for (i = 0; i < njoined; i++) {
		if (joined[i].nodeid == c->nodeid && joined[i].pid == c->pid)
			continue;
		if (d->state == COLOD_TOOK_OVER)
			/* a partition healed: the primary had not died */
			log_err("cluster: the old primary's agent is in the group again (node %u, "
				"pid %u) after this host took over: it must not run its VM",
				joined[i].nodeid, joined[i].pid);
		else
			log_info("cluster: the peer agent joined (node %u, pid %u)",
				 joined[i].nodeid, joined[i].pid);
	}
	for (i = 0; i < nleft; i++) {
		if (left[i].nodeid != c->peer_nodeid || left[i].pid != c->peer_pid ||
		    !c->peer_present)
			continue;
		c->peer_present = false;
		c->peer_left_ns = now_ns();
		c->peer_left_pending = true;
		snprintf(c->peer_left_why, sizeof(c->peer_left_why),
			 "the peer left the cluster group: %s (node %u)",
			 leave_reason(left[i].reason), left[i].nodeid);
		log_warn("cluster: %s", c->peer_left_why);
	}
	for (i = 0; i < nmembers; i++) {
		if (members[i].nodeid == c->nodeid && members[i].pid == c->pid)
			continue;
		if (!c->peer_present)
			log_info("cluster: the peer agent is a member (node %u)",
				 members[i].nodeid);
		c->peer_present = true;
		c->peer_seen = true;
		c->peer_nodeid = members[i].nodeid;
		c->peer_pid = members[i].pid;
	}
}

static void quorum_notify(quorum_handle_t h, uint32_t quorate, uint64_t ring_seq,
			  uint32_t nview, uint32_t *view)
{
	void *ctx = NULL;
	struct colod *d;

	(void)ring_seq;
	(void)nview;
	(void)view;
	quorum_context_get(h, (const void **)&ctx);
	d = ctx;
	if (d->cluster.quorate != !!quorate)
		log_info("cluster: this host is %s", quorate ? "quorate" : "not quorate");
	d->cluster.quorate = quorate;
}

int cluster_open(struct colod *d, char *err, size_t errlen)
{
	static cpg_callbacks_t cpg_cb = { .cpg_confchg_fn = confchg };
	static quorum_callbacks_t quorum_cb = { .quorum_notify_fn = quorum_notify };
	struct colod_cluster *c = &d->cluster;
	struct cpg_name group;
	uint32_t quorum_type, quorate = 0;
	cs_error_t e;
	int tries;

	snprintf(group.value, sizeof(group.value), "colod-%s", d->cfg.name);
	group.length = strlen(group.value);
	c->pid = getpid();
	e = cpg_initialize(&c->cpg, &cpg_cb);
	if (e != CS_OK) {
		snprintf(err, errlen, "corosync CPG: cannot connect (error %d): is corosync "
			 "running?", e);
		return -ENOTCONN;
	}
	cpg_context_set(c->cpg, d);
	if ((e = cpg_local_get(c->cpg, &c->nodeid)) != CS_OK ||
	    (e = cpg_fd_get(c->cpg, &c->cpg_fd)) != CS_OK) {
		snprintf(err, errlen, "corosync CPG: error %d", e);
		return -EIO;
	}
	/* CS_ERR_TRY_AGAIN while corosync is still forming its membership */
	for (tries = 0; tries < 100; tries++) {
		e = cpg_join(c->cpg, &group);
		if (e != CS_ERR_TRY_AGAIN)
			break;
		usleep(100000);
	}
	if (e != CS_OK) {
		snprintf(err, errlen, "corosync CPG: cannot join %s (error %d)", group.value, e);
		return -EIO;
	}
	c->joined = true;
	e = quorum_initialize(&c->quorum, &quorum_cb, &quorum_type);
	if (e != CS_OK) {
		snprintf(err, errlen, "corosync quorum: cannot connect (error %d)", e);
		return -ENOTCONN;
	}
	c->quorum_open = true;
	quorum_context_set(c->quorum, d);
	if ((e = quorum_getquorate(c->quorum, (int *)&quorate)) != CS_OK ||
	    (e = quorum_trackstart(c->quorum, CS_TRACK_CHANGES)) != CS_OK ||
	    (e = quorum_fd_get(c->quorum, &c->quorum_fd)) != CS_OK) {
		snprintf(err, errlen, "corosync quorum: error %d", e);
		return -EIO;
	}
	c->quorate = quorate;
	log_info("cluster: joined %s as node %u, %s", group.value, c->nodeid,
		 quorate ? "quorate" : "not quorate");
	return 0;
}

/* One of the two fds is readable: run the callbacks of what arrived. */
int cluster_dispatch(struct colod *d, int fd)
{
	struct colod_cluster *c = &d->cluster;
	cs_error_t e;

	if (fd == c->cpg_fd)
		e = cpg_dispatch(c->cpg, CS_DISPATCH_ALL);
	else
		e = quorum_dispatch(c->quorum, CS_DISPATCH_ALL);
	if (e == CS_OK || e == CS_ERR_TRY_AGAIN)
		return 0;
	/* corosync went away: nothing this agent knows about the peer holds */
	log_err("cluster: lost the connection to corosync (error %d)", e);
	return -ENOTCONN;
}

void cluster_close(struct colod *d)
{
	struct colod_cluster *c = &d->cluster;

	if (c->quorum_open)
		quorum_finalize(c->quorum);
	if (c->cpg) {
		if (c->joined) {
			struct cpg_name group;

			snprintf(group.value, sizeof(group.value), "colod-%s", d->cfg.name);
			group.length = strlen(group.value);
			cpg_leave(c->cpg, &group);
		}
		cpg_finalize(c->cpg);
	}
	memset(c, 0, sizeof(*c));
	c->cpg_fd = c->quorum_fd = -1;
}

/*
 * Runs [cluster] fence as "FENCE NAME PEER_ADDRESS PEER_NODEID", bounded by
 * fence_timeout; 0 only when it exited with status 0. Its output goes to
 * colod's (the journal).
 */
int cluster_fence(struct colod *d, char *err, size_t errlen)
{
	uint64_t deadline = now_ns() + (uint64_t)d->cfg.fence_timeout_ms * 1000000;
	char addr[64], nodeid[16];
	sigset_t none;
	int status;
	pid_t pid;

	addr_string(&d->cfg.peer_addr, addr, sizeof(addr));
	snprintf(nodeid, sizeof(nodeid), "%u", d->cluster.peer_nodeid);
	log_info("cluster: fencing the peer: %s %s %s %s", d->cfg.fence, d->cfg.name, addr,
		 nodeid);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fence: fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(d->cfg.fence, d->cfg.fence, d->cfg.name, addr, nodeid, (char *)NULL);
		fprintf(stderr, "colod: exec %s: %s\n", d->cfg.fence, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			snprintf(err, errlen, "fence %s did not finish within %u ms", d->cfg.fence,
				 d->cfg.fence_timeout_ms);
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "fence %s failed (%s %d)", d->cfg.fence,
			 WIFEXITED(status) ? "status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	return 0;
}
