// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl ram: dirty-tracked guest RAM objects of colo_ckpt.ko.
 *
 *   coloctl ram create NAME SIZE        SIZE in bytes, or with K/M/G suffix
 *   coloctl ram destroy NAME
 *   coloctl ram resize NAME SIZE        only while nothing maps it
 *   coloctl ram list [--json]
 *   coloctl ram info NAME [--json]      size, dirty, resident, mappings, stats
 *   coloctl ram collect NAME [--json]   take the dirty set, print page indices
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/colo_ckpt.h>

#include "coloctl.h"

static const char *const ram_stats[] = {
	"write_faults", "collects", "collected_pages", "held_pages", "collect_ns", "read_pages",
	"read_ns", "written_pages", "write_ns", "restored_pages", "restore_ns",
};

static void ram_usage(FILE *out)
{
	fprintf(out,
		"Usage: coloctl ram create NAME SIZE\n"
		"       coloctl ram destroy NAME\n"
		"       coloctl ram resize NAME SIZE\n"
		"       coloctl ram list [--json]\n"
		"       coloctl ram info NAME [--json]\n"
		"       coloctl ram collect NAME [--json]\n"
		"SIZE is in bytes, or with a K, M or G suffix; a multiple of the page size.\n"
		"Objects appear as " COLO_CKPT_NODE_DIR "/NAME for QEMU's\n"
		"  -object memory-backend-file,mem-path=" COLO_CKPT_NODE_DIR "/NAME,share=on,size=SIZE\n");
}

/* The reason behind an errno, in this interface's terms. */
static const char *ram_reason(int err, const char *cmd)
{
	switch (err) {
	case EINVAL:
		return "invalid name (1-31 of A-Z a-z 0-9 _ . -, not starting with '.') or size (non-zero multiple of the page size)";
	case E2BIG:
		return "size above the per-object maximum";
	case ENOSPC:
		return "the module's limit would be exceeded (see /sys/module/colo_ckpt/parameters/max_bytes)";
	case EEXIST:
		return "an object of that name exists";
	case ENOENT:
		return "no such object";
	case EBUSY:
		return strcmp(cmd, "resize") ? "busy" : "the object is mapped (by QEMU?); it can only be resized unmapped";
	case EPERM:
	case EACCES:
		return "needs root (CAP_SYS_ADMIN)";
	case ENODEV:
		return "the object was destroyed";
	default:
		return NULL;
	}
}

/*
 * Create, resize and destroy fail with EINVAL for the name or for the size;
 * the rules are the uapi header's, so the argument at fault can be named.
 */
static const char *ram_einval_reason(const struct colo_ckpt_obj_req *req, int with_size,
				     char *buf, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *c;

	if (!req->name[0])
		return "the name is empty";
	if (req->name[0] == '.')
		return "the name starts with '.' (names become device nodes)";
	for (c = req->name; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c)) {
			snprintf(buf, len, "character '%c' in the name: names are of "
				 "A-Z a-z 0-9 _ . - only (they become device nodes)", *c);
			return buf;
		}
	}
	if (!with_size)
		return NULL;
	if (!req->size)
		return "the size is 0";
	if (req->size % page) {
		snprintf(buf, len, "size %llu is not a multiple of the page size %ld",
			 (unsigned long long)req->size, page);
		return buf;
	}
	return NULL;
}

static int ram_err_why(const char *cmd, const char *what, int err, const char *reason)
{
	fprintf(stderr, "coloctl ram %s: %s: %s%s%s\n", cmd, what, strerror(err),
		reason ? ": " : "", reason ? reason : "");
	return 1;
}

static int ram_err(const char *cmd, const char *what, int err)
{
	return ram_err_why(cmd, what, err, ram_reason(err, cmd));
}

static int ram_parse_size(const char *s, __u64 *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int ram_name(struct colo_ckpt_obj_req *req, const char *cmd, const char *name)
{
	memset(req, 0, sizeof(*req));
	if (strlen(name) >= sizeof(req->name)) {
		fprintf(stderr, "coloctl ram %s: name '%s' longer than %zu characters\n", cmd, name,
			sizeof(req->name) - 1);
		return -1;
	}
	strcpy(req->name, name);
	return 0;
}

static int ram_ctl_open(const char *cmd)
{
	int fd = open(COLO_CKPT_CTL_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "coloctl ram %s: cannot open %s: %s%s\n", cmd, COLO_CKPT_CTL_PATH,
			strerror(errno), errno == ENOENT ? " (is colo_ckpt.ko loaded?)" : "");
	return fd;
}

static int ram_obj_open(const char *cmd, const char *name)
{
	char path[sizeof(COLO_CKPT_NODE_DIR) + COLO_CKPT_NAME_MAX + 1];
	int fd;

	if (strlen(name) >= COLO_CKPT_NAME_MAX || strchr(name, '/')) {
		fprintf(stderr, "coloctl ram %s: invalid object name '%s'\n", cmd, name);
		return -1;
	}
	snprintf(path, sizeof(path), COLO_CKPT_NODE_DIR "/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "coloctl ram %s: cannot open %s: %s%s\n", cmd, path, strerror(errno),
			errno == ENOENT ? " (no such object)" : "");
	return fd;
}

static int ram_ctl_cmd(int argc, char **argv, unsigned long ioc, int want_size)
{
	struct colo_ckpt_obj_req req;
	const char *cmd = argv[0];
	int fd, ret = 0;

	if (argc != 2 + want_size) {
		ram_usage(stderr);
		return 2;
	}
	if (ram_name(&req, cmd, argv[1]))
		return 1;
	if (want_size && ram_parse_size(argv[2], &req.size)) {
		fprintf(stderr, "coloctl ram %s: bad size '%s'\n", cmd, argv[2]);
		return 1;
	}
	fd = ram_ctl_open(cmd);
	if (fd < 0)
		return 1;
	if (ioctl(fd, ioc, &req)) {
		const char *why = NULL;
		int err = errno;
		char buf[160];

		if (err == EINVAL)
			why = ram_einval_reason(&req, want_size, buf, sizeof(buf));
		ret = why ? ram_err_why(cmd, argv[1], err, why) : ram_err(cmd, argv[1], err);
	}
	close(fd);
	return ret;
}

static void ram_print_info(const struct colo_ckpt_obj_info *in, int json, int last)
{
	if (json)
		printf("{\"name\":\"%s\",\"size\":%" PRIu64 ",\"dirty_pages\":%" PRIu64
		       ",\"resident_pages\":%" PRIu64 ",\"mappings\":%u}%s",
		       in->name, (uint64_t)in->size, (uint64_t)in->dirty_pages,
		       (uint64_t)in->resident_pages, in->mappings, last ? "" : ",");
	else
		printf("%-31s %14" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8u\n", in->name,
		       (uint64_t)in->size, (uint64_t)in->dirty_pages,
		       (uint64_t)in->resident_pages, in->mappings);
}

static int ram_list(int argc, char **argv)
{
	struct colo_ckpt_obj_info *infos = NULL;
	struct colo_ckpt_list list = { 0 };
	int json = argc == 2 && !strcmp(argv[1], "--json");
	int fd, ret = 0;
	uint32_t i;

	if (argc > 2 || (argc == 2 && !json)) {
		ram_usage(stderr);
		return 2;
	}
	fd = ram_ctl_open("list");
	if (fd < 0)
		return 1;
	/* Ask for the count, then for that many (retry if objects appeared). */
	for (;;) {
		if (!ioctl(fd, COLO_CKPT_LIST, &list))
			break;
		if (errno != E2BIG) {
			ret = ram_err("list", COLO_CKPT_CTL_PATH, errno);
			goto out;
		}
		free(infos);
		infos = calloc(list.count, sizeof(*infos));
		if (!infos) {
			ret = ram_err("list", "memory", ENOMEM);
			goto out;
		}
		list.ptr = (uintptr_t)infos;
		list.max = list.count;
	}
	if (json)
		printf("[");
	else
		printf("%-31s %14s %12s %12s %8s\n", "NAME", "SIZE", "DIRTY", "RESIDENT", "MAPPINGS");
	for (i = 0; i < list.count; i++)
		ram_print_info(&infos[i], json, i + 1 == list.count);
	if (json)
		printf("]\n");
out:
	free(infos);
	close(fd);
	return ret;
}

static int ram_info(int argc, char **argv)
{
	struct colo_ckpt_obj_info info;
	int json = argc == 3 && !strcmp(argv[2], "--json");
	char path[256], val[64];
	size_t i;
	int fd;
	FILE *f;

	if (argc < 2 || argc > 3 || (argc == 3 && !json)) {
		ram_usage(stderr);
		return 2;
	}
	fd = ram_obj_open("info", argv[1]);
	if (fd < 0)
		return 1;
	if (ioctl(fd, COLO_CKPT_INFO, &info)) {
		close(fd);
		return ram_err("info", argv[1], errno);
	}
	close(fd);
	if (json) {
		printf("{\"name\":\"%s\",\"size\":%" PRIu64 ",\"dirty_pages\":%" PRIu64
		       ",\"resident_pages\":%" PRIu64 ",\"mappings\":%u", info.name,
		       (uint64_t)info.size, (uint64_t)info.dirty_pages,
		       (uint64_t)info.resident_pages, info.mappings);
	} else {
		printf("name: %s\nsize: %" PRIu64 "\ndirty_pages: %" PRIu64
		       "\nresident_pages: %" PRIu64 "\nmappings: %u\n", info.name,
		       (uint64_t)info.size, (uint64_t)info.dirty_pages,
		       (uint64_t)info.resident_pages, info.mappings);
	}
	for (i = 0; i < sizeof(ram_stats) / sizeof(ram_stats[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/colo_ckpt/%s/%s", info.name, ram_stats[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(val, sizeof(val), f)) {
			val[strcspn(val, "\n")] = '\0';
			if (json)
				printf(",\"%s\":%s", ram_stats[i], val);
			else
				printf("%s: %s\n", ram_stats[i], val);
		}
		fclose(f);
	}
	if (json)
		printf("}\n");
	return 0;
}

static int ram_collect(int argc, char **argv)
{
	struct colo_ckpt_collect c = { 0 };
	struct colo_ckpt_obj_info info;
	int json = argc == 3 && !strcmp(argv[2], "--json");
	uint64_t *pages = NULL, i;
	int fd, ret = 0;

	if (argc < 2 || argc > 3 || (argc == 3 && !json)) {
		ram_usage(stderr);
		return 2;
	}
	fd = ram_obj_open("collect", argv[1]);
	if (fd < 0)
		return 1;
	if (ioctl(fd, COLO_CKPT_INFO, &info)) {
		ret = ram_err("collect", argv[1], errno);
		goto out;
	}
	/* Room for every page: a collect can never need more. */
	c.max = info.size / (uint64_t)sysconf(_SC_PAGESIZE);
	pages = calloc(c.max ? c.max : 1, sizeof(*pages));
	if (!pages) {
		ret = ram_err("collect", "memory", ENOMEM);
		goto out;
	}
	c.ptr = (uintptr_t)pages;
	if (ioctl(fd, COLO_CKPT_COLLECT, &c)) {
		ret = ram_err("collect", argv[1], errno);
		goto out;
	}
	if (json) {
		printf("{\"name\":\"%s\",\"count\":%" PRIu64 ",\"pages\":[", info.name,
		       (uint64_t)c.count);
		for (i = 0; i < c.count; i++)
			printf("%s%" PRIu64, i ? "," : "", pages[i]);
		printf("]}\n");
	} else {
		for (i = 0; i < c.count; i++)
			printf("%" PRIu64 "\n", pages[i]);
	}
out:
	free(pages);
	close(fd);
	return ret;
}

int ram_main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc < 2 || !strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		ram_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	argc--;
	argv++;
	if (!strcmp(cmd, "create"))
		return ram_ctl_cmd(argc, argv, COLO_CKPT_CREATE, 1);
	if (!strcmp(cmd, "destroy"))
		return ram_ctl_cmd(argc, argv, COLO_CKPT_DESTROY, 0);
	if (!strcmp(cmd, "resize"))
		return ram_ctl_cmd(argc, argv, COLO_CKPT_RESIZE, 1);
	if (!strcmp(cmd, "list"))
		return ram_list(argc, argv);
	if (!strcmp(cmd, "info"))
		return ram_info(argc, argv);
	if (!strcmp(cmd, "collect"))
		return ram_collect(argc, argv);
	fprintf(stderr, "coloctl ram: unknown command '%s'\n", cmd);
	ram_usage(stderr);
	return 2;
}
