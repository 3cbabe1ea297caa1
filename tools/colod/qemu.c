// SPDX-License-Identifier: GPL-2.0
/*
 * colod's QEMU processes. The guest's own arguments come from the
 * configuration; colod adds what it owns, under fixed ids the guest's
 * devices refer to:
 *
 *   -m SIZE -object memory-backend-file,id=ram0,mem-path=/dev/colo_ram/OBJECT,
 *           share=on,size=SIZE -machine memory-backend=ram0
 *   -drive if=none,id=disk0,file=<colo dm device>,format=raw,cache=none,...
 *   -netdev tap,id=net0,fd=<the tap, opened by colod without IFF_VNET_HDR,
 *           so the NIC offers no offloads>
 *   -qmp unix:<run_dir>/qmp-<gen>.sock
 *   -incoming fd:<N> (primary, start from a saved state) or
 *   -incoming unix:<run_dir>/incoming-<gen>.sock -S
 *           -global migration.send-configuration=off
 *           -machine suppress-vmdesc=on (secondary replica: it loads
 *           xen-save-devices-state's stream, which has neither a
 *           configuration section nor a description, and stays paused
 *           until colod says cont)
 *
 * The tap stays open in colod, so a replica process that replaces another
 * takes over the same queue: a paused or incoming QEMU does not read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "colod.h"
#include "qmp.h"

#define QEMU_EXTRA_ARGS 24

static void clear_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags >= 0)
		fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

int qemu_spawn(struct colod *d, struct colod_qemu *q, int incoming_fd, bool listen_incoming,
	       char *err, size_t errlen)
{
	const struct colod_config *c = &d->cfg;
	char mem[64], ramobj[512], drive[512], netdev[128], qmp[300], incoming[300];
	char **argv;
	size_t n = 0, i;
	int logfd;
	pid_t pid, parent;

	q->gen = ++d->qemu_gens;
	snprintf(q->qmp_path, sizeof(q->qmp_path), "%s/qmp-%u.sock", c->run_dir, q->gen);
	snprintf(q->incoming_path, sizeof(q->incoming_path), "%s/incoming-%u.sock", c->run_dir,
		 q->gen);
	snprintf(q->log_path, sizeof(q->log_path), "%s/qemu-%u.log", c->run_dir, q->gen);
	unlink(q->qmp_path);
	unlink(q->incoming_path);

	snprintf(mem, sizeof(mem), "%llub", (unsigned long long)c->ram_size);
	snprintf(ramobj, sizeof(ramobj),
		 "memory-backend-file,id=ram0,mem-path=/dev/colo_ram/%s,share=on,size=%llu",
		 d->ram_name, (unsigned long long)c->ram_size);
	snprintf(drive, sizeof(drive),
		 "if=none,id=disk0,file=%s,format=raw,cache=none,file.locking=off", d->dm_path);
	snprintf(netdev, sizeof(netdev), "tap,id=net0,fd=%d", d->tap_fd);
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", q->qmp_path);
	if (incoming_fd >= 0)
		snprintf(incoming, sizeof(incoming), "fd:%d", incoming_fd);
	else
		snprintf(incoming, sizeof(incoming), "unix:%s", q->incoming_path);

	argv = calloc(c->qemu_argc + QEMU_EXTRA_ARGS, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[n++] = c->qemu_binary;
	for (i = 0; i < c->qemu_argc; i++)
		argv[n++] = c->qemu_argv[i];
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-object";
	argv[n++] = ramobj;
	argv[n++] = "-machine";
	argv[n++] = "memory-backend=ram0";
	argv[n++] = "-drive";
	argv[n++] = drive;
	argv[n++] = "-netdev";
	argv[n++] = netdev;
	argv[n++] = "-qmp";
	argv[n++] = qmp;
	if (incoming_fd >= 0 || listen_incoming) {
		argv[n++] = "-incoming";
		argv[n++] = incoming;
	}
	if (listen_incoming) {
		argv[n++] = "-S";
		argv[n++] = "-global";
		argv[n++] = "migration.send-configuration=off";
		argv[n++] = "-machine";
		argv[n++] = "suppress-vmdesc=on";
	}
	argv[n] = NULL;

	logfd = open(q->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		snprintf(err, errlen, "%s: %s", q->log_path, strerror(errno));
		free(argv);
		return -errno;
	}
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/*
		 * QEMU must not outlive an agent that dies without cleaning up
		 * (a guest running without its agent could serve beside a
		 * replica that took over); an agent that died before the prctl
		 * has already handed this child to another parent.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		clear_cloexec(d->tap_fd);
		if (incoming_fd >= 0)
			clear_cloexec(incoming_fd);
		execv(argv[0], argv);
		fprintf(stderr, "colod: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	free(argv);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	q->pid = pid;
	q->qmp = NULL;
	log_info("QEMU %u started (pid %d), log %s", q->gen, pid, q->log_path);
	return 0;
}

int qemu_connect(struct colod_qemu *q, int timeout_ms, char *err, size_t errlen)
{
	q->qmp = qmp_open(q->qmp_path, timeout_ms, err, errlen);
	return q->qmp ? 0 : -EIO;
}

int qemu_set_ignore_shared(struct colod_qemu *q, char *err, size_t errlen)
{
	struct json_object *args = json_object_new_object(), *caps = json_object_new_array();
	struct json_object *cap = json_object_new_object();

	json_object_object_add(cap, "capability", json_object_new_string("x-ignore-shared"));
	json_object_object_add(cap, "state", json_object_new_boolean(1));
	json_object_array_add(caps, cap);
	json_object_object_add(args, "capabilities", caps);
	return qmp_call(q->qmp, "migrate-set-capabilities", args, NULL, 10000, err, errlen);
}

/*
 * RAM blocks a device-state-only checkpoint may leave behind: the shared
 * guest RAM (the backend's id) and read-only firmware, which the replica,
 * started with the same arguments, holds identically.
 */
static bool ram_block_carried(const char *name)
{
	size_t len = strlen(name);

	return !strcmp(name, "ram0") || !strcmp(name, "pc.bios") ||
	       !strncmp(name, "/rom@", 5) || (len > 4 && !strcmp(name + len - 4, ".rom"));
}

int qemu_check_ram_blocks(struct colod_qemu *q, char *err, size_t errlen)
{
	struct json_object *args = json_object_new_object(), *ret = NULL;
	const char *table, *line;
	int r;

	json_object_object_add(args, "command-line", json_object_new_string("info ramblock"));
	r = qmp_call(q->qmp, "human-monitor-command", args, &ret, 10000, err, errlen);
	if (r)
		return r;
	table = json_object_get_string(ret);
	/* the first line is the table's header */
	for (line = table ? strchr(table, '\n') : NULL; line; line = strchr(line, '\n')) {
		char name[256];

		line++;
		if (sscanf(line, "%255s", name) != 1 || ram_block_carried(name))
			continue;
		snprintf(err, errlen, "the guest has device RAM '%s', which checkpoints do not "
			 "copy (only the guest RAM and read-only firmware are allowed): remove "
			 "the device, e.g. a display adapter (-vga none)", name);
		json_object_put(ret);
		return -EINVAL;
	}
	json_object_put(ret);
	return 0;
}

/* Ends a QEMU for good: SIGKILL, because a replica being replaced must not
 * run another instruction, and reaps it. */
void qemu_kill(struct colod_qemu *q)
{
	if (q->qmp) {
		qmp_close(q->qmp);
		q->qmp = NULL;
	}
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		q->pid = 0;
	}
	unlink(q->qmp_path);
	unlink(q->incoming_path);
	/* ended on purpose: its log says nothing worth keeping (one QEMU ends at
	 * every checkpoint on the secondary) */
	unlink(q->log_path);
}
