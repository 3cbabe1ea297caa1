// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl vm: the protected VMs, through each colod's control socket
 * (/run/colod/NAME.sock unless --socket says otherwise; one JSON request and
 * one JSON reply per connection, json-c on both ends).
 *
 *   coloctl vm start CONFIG              colod -c CONFIG, in the background
 *   coloctl vm list [--json]
 *   coloctl vm status NAME [--json]
 *   coloctl vm checkpoint NAME           one checkpoint now (primary)
 *   coloctl vm freeze NAME               a checkpoint after which both VMs
 *                                        stay paused (to compare them)
 *   coloctl vm resume NAME               after freeze, on each host
 *   coloctl vm failover NAME             (primary) move the VM to the
 *                                        secondary host, nothing lost
 *   coloctl vm stop NAME                 colod stops its QEMU and exits
 * NAME may be replaced by --socket PATH.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "coloctl.h"

#define COLOD_RUN_DIR "/run/colod"
#define REPLY_MAX (1 << 20)
#define REPLY_TIMEOUT_MS 300000	/* a checkpoint under emulation can take long */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coloctl vm start CONFIG\n"
		"       coloctl vm list [--json]\n"
		"       coloctl vm status NAME|--socket PATH [--json]\n"
		"       coloctl vm checkpoint|freeze|resume|failover|stop NAME|--socket PATH\n");
}

/* Sends {"command": cmd} to the colod at path; the reply, or NULL with a message. */
static struct json_object *ask(const char *path, const char *cmd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct json_object *req = json_object_new_object(), *reply;
	char *buf;
	size_t len = 0;
	const char *out;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "coloctl vm: socket path too long: %s\n", path);
		return NULL;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "coloctl vm: %s: %s (is colod running for this VM?)\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	json_object_object_add(req, "command", json_object_new_string(cmd));
	out = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (write(fd, out, strlen(out)) < 0 || write(fd, "\n", 1) < 0) {
		fprintf(stderr, "coloctl vm: %s: %s\n", path, strerror(errno));
		json_object_put(req);
		close(fd);
		return NULL;
	}
	json_object_put(req);
	buf = malloc(REPLY_MAX + 1);
	while (buf && len < REPLY_MAX) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, REPLY_TIMEOUT_MS) != 1)
			break;
		n = read(fd, buf + len, REPLY_MAX - len);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	reply = json_tokener_parse(buf);
	free(buf);
	if (!reply)
		fprintf(stderr, "coloctl vm: %s: no reply or not JSON\n", path);
	return reply;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

/* A status object of steps, "name ms" each: "stop 1.2, drain 0.4, ...". */
static void print_parts(struct json_object *parts)
{
	const char *sep = "";

	json_object_object_foreach(parts, k, v) {
		printf("%s%s %.1f", sep, k, json_object_get_double(v));
		sep = ", ";
	}
}

static void print_status(struct json_object *s)
{
	struct json_object *pause = json_object_object_get(s, "pause_ms");
	struct json_object *reasons = json_object_object_get(s, "reasons");
	struct json_object *disk = json_object_object_get(s, "disk");
	struct json_object *proxy = json_object_object_get(s, "proxy");
	struct json_object *cluster = json_object_object_get(s, "cluster");

	printf("%s: %s, %s%s (%s)\n", str(s, "name"), str(s, "role"), str(s, "state"),
	       json_object_get_boolean(json_object_object_get(s, "frozen")) ? ", frozen" : "",
	       str(s, "reason"));
	printf("  peer %s, QEMU pid %.0f (generation %.0f)\n",
	       json_object_get_boolean(json_object_object_get(s, "peer_connected")) ?
	       "connected" : "not connected", num(s, "qemu_pid"), num(s, "qemu_generation"));
	printf("  checkpoints %.0f (last %s):", num(s, "checkpoints"), str(s, "last_reason"));
	json_object_object_foreach(reasons, k, v)
		printf(" %s %" PRId64, k, json_object_get_int64(v));
	printf("\n  pause last %.1f ms, p50 %.1f ms, p99 %.1f ms; secondary apply %.1f ms",
	       num(pause, "last"), num(pause, "p50"), num(pause, "p99"), num(s, "last_apply_ms"));
	if (!strcmp(str(s, "role"), "secondary")) {
		struct json_object *parts = json_object_object_get(s, "last_load_parts_ms");

		printf(", then load %.1f ms", num(s, "last_load_ms"));
		if (parts) {
			printf(" (");
			print_parts(parts);
			printf(")");
		}
		printf("\n  replica %s; last down %.1f ms; %.0f checkpoints superseded before "
		       "their load",
		       json_object_get_boolean(json_object_object_get(s, "load_pending")) ?
		       "down, the last checkpoint waits for the next QEMU" :
		       num(s, "qemu_pid") > 0 ? "running" : "not started",
		       num(s, "last_replica_down_ms"), num(s, "loads_superseded"));
	}
	printf("\n");
	if (!strcmp(str(s, "role"), "primary") && num(s, "checkpoints") > 0) {
		if (num(s, "replica_ckpt_id") == num(s, "last_checkpoint_id"))
			printf("  replica running from the last checkpoint");
		else
			printf("  replica being replaced from checkpoint %.0f",
			       num(s, "last_checkpoint_id"));
		printf("; the proxy holds output at most %.0f ms\n", num(proxy, "timeout_ms"));
		printf("  last pause by step (ms): ");
		print_parts(json_object_object_get(s, "last_pause_parts_ms"));
		printf("; by QEMU's events %.1f ms", num(s, "last_qemu_pause_ms"));
		printf("\n  output released %.1f ms after the resume: ", num(s, "last_release_ms"));
		print_parts(json_object_object_get(s, "last_release_parts_ms"));
		printf("\n");
	}
	printf("  last checkpoint: %.0f dirty pages (%.0f bytes), %.0f bytes of device state\n",
	       num(s, "last_dirty_pages"), num(s, "last_dirty_bytes"),
	       num(s, "last_devstate_bytes"));
	if (cluster && json_object_get_boolean(json_object_object_get(cluster, "corosync")))
		printf("  cluster: node %.0f, %s, peer %s\n", num(cluster, "node"),
		       json_object_get_boolean(json_object_object_get(cluster, "quorate")) ?
		       "quorate" : "not quorate",
		       json_object_get_boolean(json_object_object_get(cluster, "peer_present")) ?
		       "present" : "absent");
	if (num(s, "takeover_ms") > 0)
		printf("  took over %.1f ms after the primary left the cluster\n",
		       num(s, "takeover_ms"));
	if (disk && json_object_object_length(disk))
		printf("  disk %s: %s\n", str(disk, "device"), str(disk, "status"));
	if (disk && json_object_object_get_ex(disk, "last_drain_us", NULL))
		printf("  disk drain: last checkpoint %.1f ms, now %.1f ms; sends %.1f MiB/s, flushes %.1f MiB/s, limit %.0f KiB\n",
		       num(disk, "last_drain_us") / 1000, num(disk, "drain_estimate_us") / 1000,
		       num(disk, "drain_bw") / 1048576, num(disk, "drain_flush_bw") / 1048576,
		       num(disk, "drain_limit") / 1024);
	if (disk && num(disk, "written_regions") > 0)
		printf("  disk written alone: %.0f regions of %.0f KiB (dmsetup message %s 0 written)\n",
		       num(disk, "written_regions"), num(disk, "region_size") / 1024,
		       str(disk, "device"));
	if (proxy && json_object_object_length(proxy)) {
		printf("  proxy:");
		json_object_object_foreach(proxy, k, v)
			printf(" %s %s", k, json_object_get_string(v));
		printf("\n");
	}
}

static int socket_path(int argc, char **argv, int *i, char *path, size_t len)
{
	if (*i < argc && !strcmp(argv[*i], "--socket") && *i + 1 < argc) {
		snprintf(path, len, "%s", argv[*i + 1]);
		*i += 2;
		return 0;
	}
	if (*i < argc && argv[*i][0] != '-') {
		if (strchr(argv[*i], '/')) {
			fprintf(stderr, "coloctl vm: '%s': a VM name has no '/' (--socket PATH?)\n",
				argv[*i]);
			return -1;
		}
		snprintf(path, len, "%s/%s.sock", COLOD_RUN_DIR, argv[*i]);
		(*i)++;
		return 0;
	}
	usage(stderr);
	return -1;
}

static int cmd_list(int json)
{
	struct json_object *all = json_object_new_array();
	DIR *dir = opendir(COLOD_RUN_DIR);
	struct dirent *e;

	while (dir && (e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		char path[512];
		struct json_object *s;

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", COLOD_RUN_DIR, e->d_name);
		s = ask(path, "status");
		if (!s)
			continue;
		if (json)
			json_object_array_add(all, s);
		else {
			printf("%-16s %-9s %-16s %8.0f checkpoints\n", str(s, "name"),
			       str(s, "role"), str(s, "state"), num(s, "checkpoints"));
			json_object_put(s);
		}
	}
	if (dir)
		closedir(dir);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY));
	json_object_put(all);
	return 0;
}

/* Starts colod on CONFIG in its own session, logging to /run/colod/, and
 * waits until it has read the configuration. */
static int cmd_start(const char *config)
{
	char log[512];
	const char *base = strrchr(config, '/');
	int status, logfd;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s.log", COLOD_RUN_DIR, base ? base + 1 : config);
	mkdir(COLOD_RUN_DIR, 0700);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		fprintf(stderr, "coloctl vm start: %s: %s\n", log, strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execlp("colod", "colod", "-c", config, (char *)NULL);
		fprintf(stderr, "coloctl vm start: colod: %s\n", strerror(errno));
		_exit(127);
	}
	close(logfd);
	if (pid < 0) {
		fprintf(stderr, "coloctl vm start: fork: %s\n", strerror(errno));
		return 1;
	}
	/* A configuration colod refuses ends it at once: say so. */
	poll(NULL, 0, 500);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		fprintf(stderr, "coloctl vm start: colod exited at once; see %s\n", log);
		return 1;
	}
	printf("colod started (pid %d), log %s\n", pid, log);
	return 0;
}

int vm_main(int argc, char **argv)
{
	struct json_object *reply;
	const char *cmd;
	char path[512];
	int i = 2, json = 0, ret = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "start")) {
		if (argc != 3) {
			usage(stderr);
			return 2;
		}
		return cmd_start(argv[2]);
	}
	if (!strcmp(cmd, "list"))
		return cmd_list(argc > 2 && !strcmp(argv[2], "--json"));
	if (strcmp(cmd, "status") && strcmp(cmd, "checkpoint") && strcmp(cmd, "freeze") &&
	    strcmp(cmd, "resume") && strcmp(cmd, "failover") && strcmp(cmd, "stop")) {
		usage(stderr);
		return 2;
	}
	if (socket_path(argc, argv, &i, path, sizeof(path)))
		return 2;
	if (i < argc && !strcmp(argv[i], "--json")) {
		json = 1;
		i++;
	}
	if (i != argc) {
		usage(stderr);
		return 2;
	}
	reply = ask(path, cmd);
	if (!reply)
		return 1;
	if (json_object_object_get(reply, "error")) {
		fprintf(stderr, "coloctl vm %s: %s\n", cmd, str(reply, "error"));
		ret = 1;
	} else if (json) {
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
	} else if (json_object_object_length(reply)) {
		print_status(reply);
	}
	json_object_put(reply);
	return ret;
}
