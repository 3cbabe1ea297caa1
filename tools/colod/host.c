// SPDX-License-Identifier: GPL-2.0
/*
 * What each role sets up on its host before QEMU starts, and takes down:
 *
 *   primary:   RAM object NAME; tap + colo_proxy instance (primary);
 *              after the peer answered: colo dm device colo-NAME in
 *              primary mode over the local disk, forwarding with its own
 *              NBD client to the secondary's replica export
 *   secondary: RAM objects NAME-svm and NAME-cache (the RAM cache); colo dm
 *              devices colo-NAME-svm (secondary: the replica VM's disk) and
 *              colo-NAME-replica over the base disk, serving its face over
 *              NBD itself to the primary's address only (nbd_listen); tap +
 *              colo_proxy instance (secondary); the agent's listening socket
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

static void add_to_list(char *list, size_t len, const char *what)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? ", " : "", what);
}

/*
 * What an earlier colod of this VM left on this host when it was killed
 * (SIGKILL, a crash, the OOM killer) instead of stopped: its QEMU processes
 * died with it (PR_SET_PDEATHSIG), but its proxy instance and dm devices
 * (with the replica's NBD server, or the primary's NBD connection) stay
 * and would make this start fail. Holding RUN_DIR/lock proves that no
 * other colod of this VM runs, so they are removed here, each only if it
 * is this VM's (names derived from the VM's). RAM objects are replaced
 * where they are created (ram.c).
 *
 * The VM's disk device still open means a QEMU still runs the guest (the
 * one that held it is given 10 s to finish dying): then nothing is touched,
 * since taking the proxy away from a running guest would let it talk to
 * the network beside a replica that may have taken over.
 */
static int remove_leftovers(struct colod *d, char *err, size_t errlen)
{
	bool primary = d->cfg.role == COLOD_ROLE_PRIMARY;
	char vm_disk[80], replica[80], removed[400] = "";
	int32_t open_count = 0;
	int tries;

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
	if (!primary) {
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
			      d->cfg.proxy_timeout_ms, d->cfg.proxy_queue_bytes, err, errlen);
	if (ret)
		return ret;
	d->proxy_added = true;
	d->proxy_timeout_ms = d->cfg.proxy_timeout_ms;
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
 * Primary, once the secondary's agent answered (so its export is up): the
 * VM's disk, forwarding over colo_blk's own NBD client. Writes of 64 KiB
 * and more go to the secondary from the guest's pages, without a copy
 * (colo-blk guide, "Large writes without a copy"), completing once the
 * secondary has them: on a secondary that is gone they wait until colod
 * gives it up (failover shuts the connection) or for [disk] nbd_timeout.
 */
int host_primary_attach(struct colod *d, char *err, size_t errlen)
{
	char params[600], peer[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
	bool v6 = d->cfg.peer_addr.ss_family == AF_INET6;
	int attempt, ret;

	addr_string(&d->cfg.peer_addr, peer, sizeof(peer));
	addr_string(&d->cfg.local_addr, local, sizeof(local));
	snprintf(d->dm_name, sizeof(d->dm_name), "colo-%s", d->cfg.name);
	/* from the link's own address, which the replica lets in as nbd_peer */
	snprintf(params, sizeof(params),
		 "primary %s nbd://%s%s%s:%u/%s 6 nbd_timeout %u sync_from 64k nbd_source %s",
		 d->cfg.disk_device, v6 ? "[" : "", peer, v6 ? "]" : "", d->cfg.nbd_port,
		 d->cfg.name, d->cfg.nbd_timeout_ms, local);
	/* a secondary agent restarted just now may not serve its export yet */
	for (attempt = 0;; attempt++) {
		ret = dm_create(d->dm_name, d->disk_bytes / 512, params, d->dm_path,
				sizeof(d->dm_path), err, errlen);
		if (ret != -ECONNREFUSED || attempt == NBD_CONNECT_ATTEMPTS)
			break;
		usleep(250000);
	}
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
