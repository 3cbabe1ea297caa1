// SPDX-License-Identifier: GPL-2.0
/*
 * What each role sets up on its host before QEMU starts, and takes down:
 *
 *   primary:   RAM object NAME; tap + colo_proxy instance (primary);
 *              after the peer answered: nbd-client to the secondary's
 *              replica export, colo dm device colo-NAME in primary mode
 *              (local disk + that NBD device)
 *   secondary: RAM objects NAME-svm and NAME-cache (the RAM cache); colo dm
 *              devices colo-NAME-svm (secondary: the replica VM's disk) and
 *              colo-NAME-replica over the base disk, serving its face over
 *              NBD itself to the primary's address only (nbd_listen); tap +
 *              colo_proxy instance (secondary); the agent's listening socket
 *
 * Setting up is not on the checkpoint path, so it may spawn nbd-client,
 * the tool made for that job.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "colod.h"

#define NBD_CONNECT_ATTEMPTS 40

void addr_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, a, buf, len))
		snprintf(buf, len, "?");
}

static int device_bytes(const char *path, uint64_t *bytes, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, bytes)) {
		ret = -errno;
		snprintf(err, errlen, "disk %s: %s (a block device is needed)", path,
			 strerror(errno));
	} else if (!*bytes || *bytes % 512) {
		ret = -EINVAL;
		snprintf(err, errlen, "disk %s: size %llu is not a whole number of sectors", path,
			 (unsigned long long)*bytes);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Runs argv to completion; 0 if it exited 0. Output goes to our stderr. */
static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/*
 * Non-blocking, as every QEMU that takes it over sets it anyway (the flag
 * belongs to the open file, which they share): tap_discard_queued() must
 * never wait for a frame.
 */
static int tap_open(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(err, errlen, "tap %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	return fd;
}

long tap_discard_queued(int fd)
{
	static char frame[65536];
	long n = 0;

	while (n < TAP_DISCARD_MAX) {
		ssize_t r = read(fd, frame, sizeof(frame));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n++;
	}
	return n;
}

/* A listening unix socket at path (replacing a stale one), non-blocking. */
int unix_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	return fd;
}

static int agent_listen(struct colod *d, char *err, size_t errlen)
{
	struct sockaddr_storage a = d->cfg.local_addr;
	socklen_t len = a.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						  sizeof(struct sockaddr_in);
	int one = 1, fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (a.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a)->sin6_port = htons(d->cfg.peer_port);
	else
		((struct sockaddr_in *)&a)->sin_port = htons(d->cfg.peer_port);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) || listen(fd, 4)) {
		snprintf(err, errlen, "agent port %u: %s", d->cfg.peer_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	return fd;
}

static pid_t pid_in_file(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/* /proc/PID/FILE into buf, NUL-terminated; its length, or -1. */
static ssize_t read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* Whether process pid runs the program comm with arg among its arguments. */
static bool process_runs(pid_t pid, const char *comm, const char *arg)
{
	char buf[4096];
	ssize_t n, off;

	if (pid <= 0 || read_proc(pid, "comm", buf, sizeof(buf)) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, comm))
		return false;
	n = read_proc(pid, "cmdline", buf, sizeof(buf));
	for (off = 0; off < n; off += strlen(buf + off) + 1)
		if (!strcmp(buf + off, arg))
			return true;
	return false;
}

static void add_to_list(char *list, size_t len, const char *what)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? ", " : "", what);
}

/*
 * What an earlier colod of this VM left on this host when it was killed
 * (SIGKILL, a crash, the OOM killer) instead of stopped: its QEMU processes
 * died with it (PR_SET_PDEATHSIG), but its proxy instance, dm devices (with
 * the replica's NBD server) and NBD connection stay and would make this
 * start fail. Holding RUN_DIR/lock proves that no other colod of this VM
 * runs, so they are removed here, each only if it is this VM's (names
 * derived from the VM's, an nbd-client whose arguments name it). RAM
 * objects are replaced where they are created (ram.c).
 *
 * The VM's disk device still open means a QEMU still runs the guest (the
 * one that held it is given 10 s to finish dying): then nothing is touched,
 * since taking the proxy away from a running guest would let it talk to
 * the network beside a replica that may have taken over.
 */
static int remove_leftovers(struct colod *d, char *err, size_t errlen)
{
	bool primary = d->cfg.role == COLOD_ROLE_PRIMARY;
	char vm_disk[80], replica[80], path[300], other[300], dev[32] = "", removed[400] = "";
	int32_t open_count = 0;
	int tries;
	FILE *f;

	snprintf(vm_disk, sizeof(vm_disk), primary ? "colo-%s" : "colo-%s-svm", d->cfg.name);
	for (tries = 0; tries < 100; tries++) {
		if (dm_open_count(vm_disk, &open_count) || !open_count)
			break;
		usleep(100000);
	}
	if (open_count > 0) {
		snprintf(err, errlen, "%s, the VM's disk, is still open: a QEMU of an earlier colod "
			 "of this VM seems to run the guest; end it, then start again", vm_disk);
		return -EBUSY;
	}
	if (!colod_proxy_del(&d->proxy, d->cfg.tap, NULL, 0))
		add_to_list(removed, sizeof(removed), "the proxy instance");
	if (primary) {
		/* first the NBD connection, so that copies in flight fail at once
		 * instead of holding up the removal of colo-NAME */
		snprintf(path, sizeof(path), "%s/nbd-device", d->cfg.run_dir);
		f = fopen(path, "r");
		if (f && fscanf(f, "%31s", dev) == 1 && !strncmp(dev, "/dev/", 5)) {
			snprintf(other, sizeof(other), "/sys/block/%s/pid", dev + 5);
			if (process_runs(pid_in_file(other), "nbd-client", d->cfg.name)) {
				char *argv[] = { "nbd-client", "-d", dev, NULL };

				if (!run(argv))
					add_to_list(removed, sizeof(removed), dev);
			}
		}
		if (f)
			fclose(f);
		unlink(path);
	} else {
		snprintf(replica, sizeof(replica), "colo-%s-replica", d->cfg.name);
		if (!dm_open_count(replica, &open_count) && !dm_remove(replica))
			add_to_list(removed, sizeof(removed), replica);
	}
	if (!dm_open_count(vm_disk, &open_count) && !dm_remove(vm_disk))
		add_to_list(removed, sizeof(removed), vm_disk);
	if (removed[0])
		log_warn("removed what an earlier colod of this VM left: %s", removed);
	return 0;
}

/* The run directory, with its parents, and its lock: one colod per VM. */
static int lock_run_dir(struct colod *d, char *err, size_t errlen)
{
	char path[300], *p;
	int fd;

	snprintf(path, sizeof(path), "%s", d->cfg.run_dir);
	for (p = path + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			snprintf(err, errlen, "run directory %s: %s", path, strerror(errno));
			return -errno;
		}
		*p = c;
		if (!c)
			break;
	}
	snprintf(path, sizeof(path), "%s/lock", d->cfg.run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
			 "another colod runs for this VM" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EBUSY;
	}
	/* held until exit */
	return 0;
}

static int common_setup(struct colod *d, int proxy_role, char *err, size_t errlen)
{
	int ret;

	ret = lock_run_dir(d, err, errlen);
	if (ret)
		return ret;
	ret = colod_proxy_open(&d->proxy, err, errlen);
	if (ret)
		return ret;
	ret = remove_leftovers(d, err, errlen);
	if (ret)
		return ret;
	snprintf(d->ram_name, sizeof(d->ram_name), "%s%s", d->cfg.name,
		 d->cfg.role == COLOD_ROLE_PRIMARY ? "" : "-svm");
	ret = ram_create(d->ram_name, d->cfg.ram_size, err, errlen);
	if (ret)
		return ret;
	d->ram_fd = ram_open(d->ram_name, err, errlen);
	if (d->ram_fd < 0)
		return d->ram_fd;
	d->ram_pages = d->cfg.ram_size / COLOD_PAGE_SIZE;
	d->pages = calloc(d->ram_pages, sizeof(*d->pages));
	d->rxbuf = malloc(COLO_HDR_SIZE + COLO_MSG_MAX_BODY);
	if (!d->pages || !d->rxbuf)
		return -ENOMEM;
	ret = device_bytes(d->cfg.disk_device, &d->disk_bytes, err, errlen);
	if (ret)
		return ret;
	d->tap_fd = tap_open(d->cfg.tap, err, errlen);
	if (d->tap_fd < 0)
		return d->tap_fd;
	d->tap_ifindex = if_nametoindex(d->cfg.tap);
	ret = colod_proxy_add(&d->proxy, d->cfg.tap, proxy_role, &d->cfg.local_addr,
			      d->cfg.proxy_port, &d->cfg.peer_addr, d->cfg.proxy_port,
			      d->cfg.proxy_timeout_ms, err, errlen);
	if (ret)
		return ret;
	d->proxy_added = true;
	return colod_proxy_events_open(&d->proxy_events, err, errlen);
}

int host_setup(struct colod *d, char *err, size_t errlen)
{
	char params[600], local[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN];
	bool v6;
	int ret;

	if (d->cfg.role == COLOD_ROLE_PRIMARY)
		return common_setup(d, COLO_PROXY_ROLE_PRIMARY, err, errlen);

	ret = common_setup(d, COLO_PROXY_ROLE_SECONDARY, err, errlen);
	if (ret)
		return ret;
	snprintf(d->cache_name, sizeof(d->cache_name), "%s-cache", d->cfg.name);
	ret = ram_create(d->cache_name, d->cfg.ram_size, err, errlen);
	if (ret)
		return ret;
	d->cache_fd = ram_open(d->cache_name, err, errlen);
	if (d->cache_fd < 0)
		return d->cache_fd;

	snprintf(d->dm_name, sizeof(d->dm_name), "colo-%s-svm", d->cfg.name);
	snprintf(params, sizeof(params), "secondary %s %s %llu 2 event_percent %u", d->cfg.name,
		 d->cfg.disk_device, (unsigned long long)d->cfg.disk_buffer_size,
		 d->cfg.disk_buffer_percent);
	ret = dm_create(d->dm_name, d->disk_bytes / 512, params, d->dm_path, sizeof(d->dm_path),
			err, errlen);
	if (ret) {
		d->dm_name[0] = '\0';
		return ret;
	}
	dm_event_nr(d->dm_name, &d->dm_event_nr);
	snprintf(d->replica_name, sizeof(d->replica_name), "colo-%s-replica", d->cfg.name);
	/*
	 * The replica serves its face over NBD itself, to the primary's
	 * address alone: forwarded writes become bios on it without a
	 * userspace copy or a page cache to write back at the checkpoint
	 * (colo-blk.rst, The replica's NBD server).
	 */
	addr_string(&d->cfg.local_addr, local, sizeof(local));
	addr_string(&d->cfg.peer_addr, peer, sizeof(peer));
	v6 = d->cfg.local_addr.ss_family == AF_INET6;
	snprintf(params, sizeof(params), "replica %s %s 4 nbd_listen %s%s%s:%u nbd_peer %s",
		 d->cfg.name, d->cfg.disk_device, v6 ? "[" : "", local, v6 ? "]" : "",
		 d->cfg.nbd_port, peer);
	/* nothing opens the replica by path: its server is in the kernel */
	ret = dm_create(d->replica_name, d->disk_bytes / 512, params, NULL, 0, err, errlen);
	if (ret) {
		d->replica_name[0] = '\0';
		return ret;
	}
	log_info("%s serves the replica over NBD on %s%s%s:%u to %s only", d->replica_name,
		 v6 ? "[" : "", local, v6 ? "]" : "", d->cfg.nbd_port, peer);
	d->listen_fd = agent_listen(d, err, errlen);
	return d->listen_fd < 0 ? d->listen_fd : 0;
}

/*
 * Requests of up to 1 MiB on the forward device (the nbd driver's default
 * is 128 KiB): the replica's server then forwards large writes 1.5 times
 * as fast (colo-blk guide, "The replica's NBD server"). Only speed depends
 * on it, so a failure is logged and setting up goes on.
 */
static void set_max_request(const char *dev)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/max_sectors_kb", dev + strlen("/dev/"));
	f = fopen(path, "w");
	if (!f || fputs("1024\n", f) == EOF || fclose(f)) {
		log_warn("%s: %s: requests stay at the nbd driver's size", path, strerror(errno));
		if (f)
			fclose(f);
	}
}

static int nbd_free_device(char *dev, size_t len)
{
	char path[64];
	int i;

	for (i = 0; i < 128; i++) {
		struct stat sb;

		snprintf(path, sizeof(path), "/sys/block/nbd%d", i);
		if (stat(path, &sb))
			break;
		snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", i);
		if (stat(path, &sb)) {
			snprintf(dev, len, "/dev/nbd%d", i);
			return 0;
		}
	}
	return -ENODEV;
}

/* For remove_leftovers(), should this agent be killed: which NBD device. */
static void record_nbd_device(struct colod *d)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nbd-device", d->cfg.run_dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", d->nbd_dev) < 0 || fclose(f))
		log_warn("%s: %s (a killed colod's NBD connection would stay)", path,
			 strerror(errno));
}

/* Disconnects the NBD device and forgets it. */
static void nbd_detach(struct colod *d)
{
	char *argv[] = { "nbd-client", "-d", d->nbd_dev, NULL };
	char path[300];

	run(argv);
	snprintf(path, sizeof(path), "%s/nbd-device", d->cfg.run_dir);
	unlink(path);
	d->nbd_dev[0] = '\0';
}

/*
 * Linux 6.1's nbd driver reads each connection's replies in a work item of
 * its own on a WQ_MEM_RECLAIM workqueue. When the kernel is slow to start
 * a worker for them (a loaded host), that workqueue's rescuer thread takes
 * every pending work item and runs them one after the other; the first
 * connection's reader only returns at disconnect, so the replies on the
 * second go unread: its requests wait for nbd's timeout, then the driver
 * drops that connection ("Connection timed out, retrying (2/2 alive)",
 * later "Unexpected reply"). A forwarded write stalled that long fails
 * the checkpoint's drain. The rescuer, a kernel thread named after the
 * workqueue ("nbdN-recv"), is watched for a while after connecting, and a
 * reader running there means: connect again (by then the worker exists).
 */
#define NBD_RESCUER_WATCH_MS 1000
#define NBD_RESCUER_POLL_MS 20
#define NBD_RECONNECTS 3

/*
 * The pid of the workqueue thread named comm (a kernel thread has no
 * command line), or 0. While such a thread runs or has run a work item,
 * the kernel shows its name followed by '+' or '-' and the workqueue's.
 */
static pid_t kthread_pid(const char *comm)
{
	DIR *dir = opendir("/proc");
	size_t len = strlen(comm);
	struct dirent *e;
	char buf[64];
	pid_t pid = 0;

	if (!dir)
		return 0;
	while (!pid && (e = readdir(dir))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);

		if (*end || v <= 0 || read_proc(v, "comm", buf, sizeof(buf)) < 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (!strncmp(buf, comm, len) &&
		    (buf[len] == '\0' || buf[len] == '+' || buf[len] == '-') &&
		    read_proc(v, "cmdline", buf, sizeof(buf)) == 0)
			pid = v;
	}
	closedir(dir);
	return pid;
}

/* Whether dev's replies are read on its workqueue's rescuer (see above). */
static bool nbd_readers_rescued(const char *dev)
{
	char comm[32], stack[4096];
	unsigned int waited;
	pid_t pid;

	snprintf(comm, sizeof(comm), "%s-recv", dev + strlen("/dev/"));
	pid = kthread_pid(comm);
	/* another kernel may name or run it differently: nothing to watch */
	if (!pid)
		return false;
	for (waited = 0; waited < NBD_RESCUER_WATCH_MS; waited += NBD_RESCUER_POLL_MS) {
		if (read_proc(pid, "stack", stack, sizeof(stack)) < 0)
			return false;
		if (strstr(stack, "recv_work"))
			return true;
		usleep(NBD_RESCUER_POLL_MS * 1000);
	}
	return false;
}

/* A free NBD device connected to the secondary's replica, with its size. */
static int nbd_attach(struct colod *d, char *err, size_t errlen)
{
	char peer[INET6_ADDRSTRLEN], port[8], timeout[16];
	int attempt;

	if (nbd_free_device(d->nbd_dev, sizeof(d->nbd_dev))) {
		snprintf(err, errlen, "no free NBD device (is the nbd module loaded?)");
		return -ENODEV;
	}
	addr_string(&d->cfg.peer_addr, peer, sizeof(peer));
	snprintf(port, sizeof(port), "%u", d->cfg.nbd_port);
	snprintf(timeout, sizeof(timeout), "%u", (d->cfg.nbd_timeout_ms + 999) / 1000);
	for (attempt = 0;; attempt++) {
		/* -L: the ioctl interface; the nbd generic netlink family exists
		 * in the initial network namespace only. -C 2: two connections,
		 * each a hardware queue of the nbd device and a thread of the
		 * replica's server, so that forwarded writes are served two at
		 * a time (colo-blk guide, "The forward path against DRBD"). */
		char *argv[] = { "nbd-client", peer, port, d->nbd_dev, "-N", d->cfg.name,
				 "-b", "512", "-t", timeout, "-L", "-C", "2", NULL };

		if (!run(argv))
			break;
		if (attempt == NBD_CONNECT_ATTEMPTS) {
			snprintf(err, errlen, "nbd-client could not attach %s to %s:%s export %s",
				 d->nbd_dev, peer, port, d->cfg.name);
			d->nbd_dev[0] = '\0';
			return -EIO;
		}
		usleep(250000);
	}
	record_nbd_device(d);
	/* nbd-client -L returns before its background process has given the
	 * device its size: a table over it would be refused as too long */
	for (attempt = 0;; attempt++) {
		uint64_t bytes = 0;
		char why[256];

		if (!device_bytes(d->nbd_dev, &bytes, why, sizeof(why)) && bytes >= d->disk_bytes)
			return 0;
		if (attempt == NBD_CONNECT_ATTEMPTS * 4) {
			snprintf(err, errlen, "%s stays smaller (%llu bytes) than the disk (%llu)",
				 d->nbd_dev, (unsigned long long)bytes,
				 (unsigned long long)d->disk_bytes);
			return -EIO;
		}
		usleep(50000);
	}
}

/* Primary, once the secondary's agent answered (so its export is up): the
 * forward device and the VM's disk over it. */
int host_primary_attach(struct colod *d, char *err, size_t errlen)
{
	char params[600];
	int reconnects, ret;

	for (reconnects = 0;; reconnects++) {
		ret = nbd_attach(d, err, errlen);
		if (ret)
			return ret;
		if (!nbd_readers_rescued(d->nbd_dev))
			break;
		if (reconnects == NBD_RECONNECTS) {
			log_warn("%s: the nbd driver still reads both connections' replies on its workqueue's rescuer after %d reconnects: requests on the second connection will wait for nbd's timeout, then it goes on with one",
				 d->nbd_dev, NBD_RECONNECTS);
			break;
		}
		log_warn("%s: the nbd driver reads both connections' replies on one thread, its workqueue's rescuer (a kernel worker was slow to start): connecting again",
			 d->nbd_dev);
		nbd_detach(d);
	}
	set_max_request(d->nbd_dev);
	snprintf(d->dm_name, sizeof(d->dm_name), "colo-%s", d->cfg.name);
	snprintf(params, sizeof(params), "primary %s %s", d->cfg.disk_device, d->nbd_dev);
	ret = dm_create(d->dm_name, d->disk_bytes / 512, params, d->dm_path, sizeof(d->dm_path),
			err, errlen);
	if (ret)
		d->dm_name[0] = '\0';
	else
		dm_event_nr(d->dm_name, &d->dm_event_nr);
	return ret;
}

/* Whether the VM disk's dm device raised an event since the last look. */
bool disk_event_pending(struct colod *d)
{
	uint32_t nr;

	if (!d->dm_name[0] || dm_event_nr(d->dm_name, &nr) || nr == d->dm_event_nr)
		return false;
	d->dm_event_nr = nr;
	d->disk_events++;
	return true;
}

void host_teardown(struct colod *d)
{
	qemu_kill(&d->next);
	qemu_kill(&d->vm);
	if (d->proxy_added)
		colod_proxy_del(&d->proxy, d->cfg.tap, NULL, 0);
	d->proxy_added = false;
	if (d->cfg.role == COLOD_ROLE_PRIMARY) {
		if (d->dm_name[0])
			dm_remove(d->dm_name);
		if (d->nbd_dev[0])
			nbd_detach(d);
	} else {
		if (d->replica_name[0])
			dm_remove(d->replica_name);
		if (d->dm_name[0])
			dm_remove(d->dm_name);
		if (d->cache_fd >= 0)
			close(d->cache_fd);
		if (d->cache_name[0])
			ram_destroy(d->cache_name);
	}
	if (d->ram_fd >= 0)
		close(d->ram_fd);
	if (d->ram_name[0])
		ram_destroy(d->ram_name);
}
