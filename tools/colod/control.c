// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket `coloctl vm` talks to: one JSON request per
 * connection, {"command": "status" | "checkpoint" | "freeze" | "resume" |
 * "failover" | "stop"}, one JSON reply ({"error": "..."} on failure). Root only: the socket is mode 0600.
 */
#include <errno.h>
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

#define REQUEST_MAX 4096
#define REQUEST_TIMEOUT_MS 5000

int control_open(struct colod *d, char *err, size_t errlen)
{
	mode_t old = umask(0077);	/* root only */
	int fd = unix_listen(d->cfg.control_socket, err, errlen);

	umask(old);
	if (fd < 0)
		return fd;
	d->ctl_fd = fd;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double percentile_ms(const struct colod *d, double p)
{
	uint64_t n = d->npauses < COLOD_PAUSE_RING ? d->npauses : COLOD_PAUSE_RING;
	uint64_t sorted[COLOD_PAUSE_RING];

	if (!n)
		return 0;
	memcpy(sorted, d->pauses_ns, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	return sorted[(size_t)((n - 1) * p + 0.5)] / 1e6;
}

/*
 * A primary's status ends with the size of its record of the regions the
 * secondary may miss (written alone, or not yet covered by a checkpoint
 * when forwarding stopped); 0 while it forwards.
 */
static void add_written(struct json_object *disk, const char *status)
{
	const char *w = strstr(status, " written_regions=");
	const char *rs = strstr(status, " region_size=");

	if (strncmp(status, "primary ", 8) || !w || !rs)
		return;
	json_object_object_add(disk, "written_regions", json_object_new_uint64(
		strtoull(w + strlen(" written_regions="), NULL, 10)));
	json_object_object_add(disk, "region_size", json_object_new_uint64(
		strtoull(rs + strlen(" region_size="), NULL, 10)));
}

/*
 * The primary's drain bound (colo-blk.rst, "The drain bound"): how long its
 * last checkpoint waited for forwarded writes, how long one would wait now,
 * and the rates and limit behind that estimate.
 */
static void add_drain(struct json_object *disk, const char *status)
{
	static const char * const keys[] = {
		"last_drain_us", "drain_estimate_us", "drain_limit", "drain_bw", "drain_flush_bw",
	};
	char pat[32];
	const char *v;
	size_t i;

	if (strncmp(status, "primary ", 8))
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(pat, sizeof(pat), " %s=", keys[i]);
		v = strstr(status, pat);
		if (v)
			json_object_object_add(disk, keys[i], json_object_new_uint64(
				strtoull(v + strlen(pat), NULL, 10)));
	}
}

static void add_disk(struct colod *d, struct json_object *o)
{
	char status[1024];
	struct json_object *disk = json_object_new_object();

	if (d->dm_name[0] && !dm_status(d->dm_name, status, sizeof(status))) {
		json_object_object_add(disk, "device", json_object_new_string(d->dm_name));
		json_object_object_add(disk, "status", json_object_new_string(status));
		add_written(disk, status);
		add_drain(disk, status);
	}
	json_object_object_add(o, "disk", disk);
}

static void add_proxy(struct colod *d, struct json_object *o)
{
	struct json_object *px = json_object_new_object();
	struct colod_proxy_stats st;
	unsigned int i;

	if (d->proxy_added && !colod_proxy_stats(&d->proxy, d->cfg.tap, &st, NULL, 0)) {
		json_object_object_add(px, "timeout_ms", json_object_new_uint64(st.timeout_ms));
		for (i = 0; i <= COLO_PROXY_STAT_MAX; i++)
			if (colod_proxy_stat_name(i))
				json_object_object_add(px, colod_proxy_stat_name(i),
						       json_object_new_uint64(st.counters[i]));
	}
	json_object_object_add(o, "proxy", px);
}

static void add_cluster(struct colod *d, struct json_object *o)
{
	struct json_object *cl = json_object_new_object();
	struct colod_cluster *c = &d->cluster;

	json_object_object_add(cl, "corosync", json_object_new_boolean(c->cpg != 0));
	if (c->cpg) {
		json_object_object_add(cl, "node", json_object_new_int64(c->nodeid));
		json_object_object_add(cl, "quorate", json_object_new_boolean(c->quorate));
		json_object_object_add(cl, "peer_present",
				       json_object_new_boolean(c->peer_present));
	}
	json_object_object_add(o, "cluster", cl);
	json_object_object_add(o, "takeover_ms", json_object_new_double(d->takeover_ns / 1e6));
}

static struct json_object *status_json(struct colod *d)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	struct json_object *pause = json_object_new_object(), *parts = json_object_new_object();
	struct json_object *release_parts = json_object_new_object();
	struct json_object *load_parts = json_object_new_object();
	int i;

	json_object_object_add(o, "name", json_object_new_string(d->cfg.name));
	json_object_object_add(o, "role", json_object_new_string(
		d->cfg.role == COLOD_ROLE_PRIMARY ? "primary" : "secondary"));
	json_object_object_add(o, "state", json_object_new_string(colod_state_name(d->state)));
	json_object_object_add(o, "reason", json_object_new_string(d->state_why));
	json_object_object_add(o, "frozen", json_object_new_boolean(d->frozen));
	json_object_object_add(o, "peer_connected", json_object_new_boolean(d->agent_fd >= 0));
	json_object_object_add(o, "qemu_pid", json_object_new_int(d->vm.pid));
	json_object_object_add(o, "qemu_generation", json_object_new_int(d->vm.gen));
	json_object_object_add(o, "checkpoints", json_object_new_uint64(d->checkpoints));
	json_object_object_add(o, "last_checkpoint_id", json_object_new_uint64(d->ckpt_id));
	for (i = 1; i <= COLO_CKPT_REASON_MAX; i++)
		json_object_object_add(r, colo_ckpt_reason_name(i),
				       json_object_new_uint64(d->reasons[i]));
	json_object_object_add(o, "reasons", r);
	json_object_object_add(o, "last_reason", json_object_new_string(
		d->checkpoints ? colo_ckpt_reason_name(d->last_reason) : "none"));
	json_object_object_add(pause, "last", json_object_new_double(d->last_pause_ns / 1e6));
	json_object_object_add(pause, "p50", json_object_new_double(percentile_ms(d, 0.5)));
	json_object_object_add(pause, "p99", json_object_new_double(percentile_ms(d, 0.99)));
	json_object_object_add(o, "pause_ms", pause);
	json_object_object_add(o, "last_qemu_pause_ms",
			       json_object_new_double(d->last_qemu_pause_ns / 1e6));
	for (i = 0; i < COLOD_CKPT_STEPS; i++)
		json_object_object_add(i < COLOD_PAUSED_STEPS ? parts : release_parts,
				       colod_ckpt_step_names[i],
				       json_object_new_double(d->last_step_ns[i] / 1e6));
	json_object_object_add(o, "last_pause_parts_ms", parts);
	json_object_object_add(o, "last_release_ms", json_object_new_double(d->last_release_ns / 1e6));
	json_object_object_add(o, "last_release_parts_ms", release_parts);
	json_object_object_add(o, "last_apply_ms", json_object_new_double(d->last_apply_ns / 1e6));
	json_object_object_add(o, "last_load_ms", json_object_new_double(d->last_load_ns / 1e6));
	for (i = 0; i < COLOD_LOAD_STEPS; i++)
		json_object_object_add(load_parts, colod_load_step_names[i],
				       json_object_new_double(d->last_load_step_ns[i] / 1e6));
	json_object_object_add(o, "last_load_parts_ms", load_parts);
	json_object_object_add(o, "load_pending", json_object_new_boolean(d->load_pending));
	json_object_object_add(o, "replica_ckpt_id", json_object_new_uint64(d->replica_ckpt_id));
	json_object_object_add(o, "loads_superseded", json_object_new_uint64(d->loads_superseded));
	json_object_object_add(o, "last_replica_down_ms",
			       json_object_new_double(d->last_replica_down_ns / 1e6));
	json_object_object_add(o, "last_dirty_pages", json_object_new_uint64(d->last_pages));
	json_object_object_add(o, "last_dirty_bytes",
			       json_object_new_uint64(d->last_pages * COLOD_PAGE_SIZE));
	json_object_object_add(o, "total_pages", json_object_new_uint64(d->total_pages));
	json_object_object_add(o, "proxy_requests", json_object_new_uint64(d->proxy_requests));
	json_object_object_add(o, "disk_events", json_object_new_uint64(d->disk_events));
	json_object_object_add(o, "disk_requests", json_object_new_uint64(d->disk_requests));
	json_object_object_add(o, "last_devstate_bytes",
			       json_object_new_uint64(d->last_devstate_bytes));
	add_disk(d, o);
	add_proxy(d, o);
	add_cluster(d, o);
	return o;
}

static struct json_object *error_json(const char *fmt, const char *arg)
{
	struct json_object *o = json_object_new_object();
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, arg);
	json_object_object_add(o, "error", json_object_new_string(buf));
	return o;
}

static struct json_object *handle(struct colod *d, const char *cmd)
{
	if (!strcmp(cmd, "status"))
		return status_json(d);
	if (!strcmp(cmd, "stop")) {
		d->stop = true;
		return json_object_new_object();
	}
	if (!strcmp(cmd, "checkpoint") || !strcmp(cmd, "freeze")) {
		if (d->cfg.role != COLOD_ROLE_PRIMARY)
			return error_json("%s", "checkpoints are taken on the primary");
		if (d->state != COLOD_REPLICATING || d->frozen)
			return error_json("not replicating (%s)",
					  d->frozen ? "frozen" : colod_state_name(d->state));
		if (primary_checkpoint(d, *cmd == 'f' ? COLO_CKPT_FREEZE : COLO_CKPT_MANUAL))
			return error_json("checkpoint failed: %s", d->state_why);
		return status_json(d);
	}
	if (!strcmp(cmd, "failover")) {
		char err[512];

		if (d->cfg.role != COLOD_ROLE_PRIMARY)
			return error_json("%s", "a planned failover is asked of the primary");
		if (primary_handover(d, err, sizeof(err)))
			return error_json("%s", err);
		return status_json(d);
	}
	if (!strcmp(cmd, "resume")) {
		char err[256];

		if (!d->frozen)
			return error_json("%s", "not frozen");
		if (qmp_call(d->vm.qmp, "cont", NULL, NULL, 30000, err, sizeof(err)))
			return error_json("resume: %s", err);
		/* the secondary starts the next replica QEMU at the next checkpoint */
		d->frozen = false;
		d->last_ckpt_end_ns = now_ns();
		return status_json(d);
	}
	return error_json("unknown command '%s' (status, checkpoint, freeze, resume, failover, "
			  "stop)", cmd);
}

void control_handle(struct colod *d)
{
	char buf[REQUEST_MAX + 1];
	struct json_object *req = NULL, *reply, *cmd;
	struct pollfd p;
	size_t len = 0;
	const char *out;
	int fd;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (len < REQUEST_MAX && !memchr(buf, '\n', len) && poll(&p, 1, REQUEST_TIMEOUT_MS) == 1) {
		ssize_t n = read(fd, buf + len, REQUEST_MAX - len);

		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	req = json_tokener_parse(buf);
	if (!req || !json_object_object_get_ex(req, "command", &cmd) ||
	    !json_object_is_type(cmd, json_type_string))
		reply = error_json("%s", "a request is one JSON object {\"command\": \"...\"}");
	else
		reply = handle(d, json_object_get_string(cmd));
	out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	if (write(fd, out, strlen(out)) < 0 || write(fd, "\n", 1) < 0)
		log_warn("control reply lost: %s", strerror(errno));
	json_object_put(reply);
	json_object_put(req);
	close(fd);
}
