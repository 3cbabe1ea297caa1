// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing for the "colo" target: constructor lines and messages.
 * Plain C so that the unit tests and the fuzzer run exactly this code.
 */
#include "table.h"

/* Like dm_arg: a range and the message given when a value falls outside. */
struct cb_arg {
	u64 min;
	u64 max;
	const char *error;
};

static const struct cb_arg cb_arg_limit = {
	CB_MIN_LIMIT, CB_MAX_LIMIT,
	"Invalid buffer limit (64k..1024g bytes, k/m/g suffix allowed)"
};
static const struct cb_arg cb_arg_nr_opt_secondary = {
	0, 2, "Invalid number of optional secondary arguments"
};
static const struct cb_arg cb_arg_nr_opt_primary = {
	0, 16, "Invalid number of optional primary arguments"
};
static const struct cb_arg cb_arg_percent = {
	1, 100, "Invalid event_percent (1..100)"
};
static const struct cb_arg cb_arg_inflight = {
	1, CB_MAX_INFLIGHT, "Invalid max_inflight (1..4096)"
};
static const struct cb_arg cb_arg_queue_bytes = {
	CB_MIN_LIMIT, CB_MAX_LIMIT, "Invalid queue_bytes (64k..1024g)"
};
static const struct cb_arg cb_arg_event_bytes = {
	0, CB_MAX_LIMIT, "Invalid event_bytes (0..1024g, 0 = off)"
};
static const struct cb_arg cb_arg_drain_ms = {
	0, CB_MAX_DRAIN_MS, "Invalid drain_ms (0..60000, 0 = off)"
};
static const struct cb_arg cb_arg_sync_from = {
	0, CB_MAX_SYNC_FROM, "Invalid sync_from (0..32m bytes, 0 = off)"
};
static const struct cb_arg cb_arg_nbd_timeout = {
	CB_MIN_NBD_TIMEOUT_MS, CB_MAX_NBD_TIMEOUT_MS,
	"Invalid nbd_timeout (1000..3600000 ms)"
};
static const struct cb_arg cb_arg_region_size = {
	CB_MIN_REGION_SIZE, CB_MAX_REGION_SIZE,
	"Invalid region_size (a power of two, 4k..1g)"
};

static int cb_parse_u64(const char *s, u64 *out)
{
	u64 v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (~0ULL - (u64)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return 0;
}

int cb_parse_size(const char *s, u64 *out)
{
	char digits[24];
	size_t len;
	unsigned int shift = 0;
	u64 v;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (!len || len >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, len + 1);
	switch (digits[len - 1]) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	}
	if (shift)
		digits[--len] = '\0';
	if (cb_parse_u64(digits, &v))
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int cb_read_arg(const struct cb_arg *arg, const char *s, bool size,
		       u64 *out, const char **error)
{
	u64 v;
	int ret = size ? cb_parse_size(s, &v) : cb_parse_u64(s, &v);

	if (ret || v < arg->min || v > arg->max) {
		*error = arg->error;
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int cb_parse_name(const char *s, char *name, const char **error)
{
	size_t i, len = strlen(s);

	if (!len || len >= CB_NAME_MAX) {
		*error = "Invalid name (1..31 characters)";
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
			*error = "Invalid name (letters, digits, '_', '-', '.')";
			return -EINVAL;
		}
	}
	memcpy(name, s, len + 1);
	return 0;
}

static int cb_parse_secondary(unsigned int argc, char **argv,
			      struct cb_table *t, const char **error)
{
	u64 v;
	unsigned int i;

	if (argc < 3) {
		*error = "Not enough arguments: secondary <name> <base_dev> <buffer_limit> [<#opt_args> ...]";
		return -EINVAL;
	}
	if (cb_parse_name(argv[0], t->name, error))
		return -EINVAL;
	t->dev[0] = argv[1];
	if (cb_read_arg(&cb_arg_limit, argv[2], true, &t->limit, error))
		return -EINVAL;
	argc -= 3;
	argv += 3;
	if (!argc)
		return 0;
	if (cb_read_arg(&cb_arg_nr_opt_secondary, argv[0], false, &v, error))
		return -EINVAL;
	if (argc - 1 != v) {
		*error = "Optional argument count does not match the arguments given";
		return -EINVAL;
	}
	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "event_percent")) {
			*error = "Unrecognised optional secondary argument";
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			*error = "event_percent needs a value";
			return -EINVAL;
		}
		if (cb_read_arg(&cb_arg_percent, argv[i + 1], false, &v, error))
			return -EINVAL;
		t->event_percent = (u32)v;
		t->opt_given |= CB_OPT_EVENT_PERCENT;
	}
	return 0;
}

static int cb_copy_addr(const char *s, char *out, const char **error)
{
	size_t len = strlen(s);

	if (!len || len >= CB_ADDR_MAX) {
		*error = "Invalid address (1..47 characters)";
		return -EINVAL;
	}
	memcpy(out, s, len + 1);
	return 0;
}

/*
 * The optional arguments name the replica's NBD server: both are needed,
 * as nobody but the primary may write to the replica. The addresses
 * themselves are parsed by the kernel glue.
 */
static int cb_parse_replica(unsigned int argc, char **argv, struct cb_table *t,
			    const char **error)
{
	if (argc != 2 && argc != 7) {
		*error = "Wrong number of arguments: replica <name> <base_dev> "
			 "[4 nbd_listen <addr>:<port> nbd_peer <addr>]";
		return -EINVAL;
	}
	if (cb_parse_name(argv[0], t->name, error))
		return -EINVAL;
	t->dev[0] = argv[1];
	if (argc == 2)
		return 0;
	if (strcmp(argv[2], "4") || strcmp(argv[3], "nbd_listen") ||
	    strcmp(argv[5], "nbd_peer")) {
		*error = "Optional replica arguments: 4 nbd_listen <addr>:<port> nbd_peer <addr>";
		return -EINVAL;
	}
	if (cb_copy_addr(argv[4], t->nbd_listen, error) ||
	    cb_copy_addr(argv[6], t->nbd_peer, error))
		return -EINVAL;
	t->opt_given |= CB_OPT_NBD;
	return 0;
}

#define CB_NBD_URI "nbd://"

/*
 * The forward is a block device (the nbd driver's, connected by
 * nbd-client), or the replica's export as nbd://<addr>:<port>/<export>,
 * which the primary's own client connects to. The address itself is parsed
 * by the kernel glue.
 */
static int cb_parse_forward(const char *s, struct cb_table *t, const char **error)
{
	const char *slash;
	size_t len;

	if (strncmp(s, CB_NBD_URI, strlen(CB_NBD_URI))) {
		t->dev[1] = s;
		return 0;
	}
	s += strlen(CB_NBD_URI);
	slash = strchr(s, '/');
	if (!slash) {
		*error = "NBD forward without an export name: nbd://<addr>:<port>/<export>";
		return -EINVAL;
	}
	len = slash - s;
	if (!len || len >= CB_ADDR_MAX) {
		*error = "Invalid address (1..47 characters)";
		return -EINVAL;
	}
	memcpy(t->nbd_connect, s, len);
	t->nbd_connect[len] = '\0';
	return cb_parse_name(slash + 1, t->name, error);
}

/*
 * The primary's optional arguments: each at most once, each a number in its
 * range (with a k/m/g suffix where it is a size), stored in a u32 or u64
 * field of struct cb_table.
 */
struct cb_primary_opt {
	const char *name;
	u32 bit;			/* CB_OPT_* */
	const struct cb_arg *arg;
	bool size;			/* k, m, g suffixes accepted */
	size_t offset;			/* of the field in struct cb_table */
	size_t width;			/* of the field: 4 or 8 bytes */
	const char *twice;		/* the error when given twice */
};

#define CB_PRIMARY_OPT(opt, bit_, arg_, size_, field)				\
	{ .name = opt, .bit = bit_, .arg = arg_, .size = size_,			\
	  .offset = offsetof(struct cb_table, field),				\
	  .width = sizeof(((struct cb_table *)0)->field),			\
	  .twice = opt " given twice" }

static const struct cb_primary_opt cb_primary_opts[] = {
	CB_PRIMARY_OPT("max_inflight", CB_OPT_MAX_INFLIGHT, &cb_arg_inflight, false, max_inflight),
	CB_PRIMARY_OPT("queue_bytes", CB_OPT_QUEUE_BYTES, &cb_arg_queue_bytes, true, queue_bytes),
	CB_PRIMARY_OPT("event_bytes", CB_OPT_EVENT_BYTES, &cb_arg_event_bytes, true, event_bytes),
	CB_PRIMARY_OPT("region_size", CB_OPT_REGION_SIZE, &cb_arg_region_size, true, region_size),
	CB_PRIMARY_OPT("drain_ms", CB_OPT_DRAIN_MS, &cb_arg_drain_ms, false, drain_ms),
	CB_PRIMARY_OPT("sync_from", CB_OPT_SYNC_FROM, &cb_arg_sync_from, true, sync_from),
	CB_PRIMARY_OPT("nbd_timeout", CB_OPT_NBD_TIMEOUT, &cb_arg_nbd_timeout, false, nbd_timeout_ms),
};

static int cb_parse_primary_opt(const char *name, const char *value, struct cb_table *t,
				const char **error)
{
	const struct cb_primary_opt *o;
	void *field;
	u64 v;

	for (o = cb_primary_opts; o < cb_primary_opts + ARRAY_SIZE(cb_primary_opts); o++)
		if (!strcmp(name, o->name))
			break;
	if (o == cb_primary_opts + ARRAY_SIZE(cb_primary_opts)) {
		*error = "Unrecognised optional primary argument";
		return -EINVAL;
	}
	if (t->opt_given & o->bit) {
		*error = o->twice;
		return -EINVAL;
	}
	t->opt_given |= o->bit;
	if (cb_read_arg(o->arg, value, o->size, &v, error))
		return -EINVAL;
	field = (char *)t + o->offset;
	if (o->width == sizeof(u64))
		*(u64 *)field = v;
	else
		*(u32 *)field = (u32)v;	/* every u32 option's range fits */
	return 0;
}

static int cb_parse_primary(unsigned int argc, char **argv, struct cb_table *t,
			    const char **error)
{
	u64 v;
	unsigned int i;

	if (argc < 2) {
		*error = "Not enough arguments: primary <local_dev> <forward_dev>|nbd://<addr>:<port>/<export> [<#opt_args> ...]";
		return -EINVAL;
	}
	t->dev[0] = argv[0];
	if (cb_parse_forward(argv[1], t, error))
		return -EINVAL;
	argc -= 2;
	argv += 2;
	if (!argc)
		return 0;
	if (cb_read_arg(&cb_arg_nr_opt_primary, argv[0], false, &v, error))
		return -EINVAL;
	if (argc - 1 != v) {
		*error = "Optional argument count does not match the arguments given";
		return -EINVAL;
	}
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc) {
			*error = "Optional primary argument needs a value";
			return -EINVAL;
		}
		/* the one option that is an address, not a number */
		if (!strcmp(argv[i], "nbd_source")) {
			if (t->opt_given & CB_OPT_NBD_SOURCE) {
				*error = "nbd_source given twice";
				return -EINVAL;
			}
			t->opt_given |= CB_OPT_NBD_SOURCE;
			if (cb_copy_addr(argv[i + 1], t->nbd_source, error))
				return -EINVAL;
			continue;
		}
		if (cb_parse_primary_opt(argv[i], argv[i + 1], t, error))
			return -EINVAL;
	}
	/* regions are found by shifting sector numbers */
	if (t->region_size & (t->region_size - 1)) {
		*error = cb_arg_region_size.error;
		return -EINVAL;
	}
	/* the nbd driver's device has its own timeout (nbd-client -t) */
	if ((t->opt_given & CB_OPT_NBD_TIMEOUT) && !t->nbd_connect[0]) {
		*error = "nbd_timeout needs an nbd:// forward";
		return -EINVAL;
	}
	if ((t->opt_given & CB_OPT_NBD_SOURCE) && !t->nbd_connect[0]) {
		*error = "nbd_source needs an nbd:// forward";
		return -EINVAL;
	}
	return 0;
}

int cb_parse_table(unsigned int argc, char **argv, struct cb_table *t,
		   const char **error)
{
	memset(t, 0, sizeof(*t));
	t->event_percent = CB_DEF_EVENT_PERCENT;
	t->max_inflight = CB_DEF_MAX_INFLIGHT;
	t->queue_bytes = CB_DEF_QUEUE_BYTES;
	t->region_size = CB_DEF_REGION_SIZE;
	t->drain_ms = CB_DEF_DRAIN_MS;
	t->nbd_timeout_ms = CB_DEF_NBD_TIMEOUT_MS;
	if (!argc) {
		*error = "Missing mode: secondary, replica or primary";
		return -EINVAL;
	}
	if (!strcmp(argv[0], "secondary")) {
		t->mode = CB_SECONDARY;
		return cb_parse_secondary(argc - 1, argv + 1, t, error);
	}
	if (!strcmp(argv[0], "replica")) {
		t->mode = CB_REPLICA;
		return cb_parse_replica(argc - 1, argv + 1, t, error);
	}
	if (!strcmp(argv[0], "primary")) {
		t->mode = CB_PRIMARY;
		return cb_parse_primary(argc - 1, argv + 1, t, error);
	}
	*error = "Unknown mode (secondary, replica or primary)";
	return -EINVAL;
}

int cb_parse_message(unsigned int argc, char **argv, struct cb_message *m,
		     const char **error)
{
	memset(m, 0, sizeof(*m));
	if (!argc) {
		*error = "Empty message";
		return -EINVAL;
	}
	if (!strcmp(argv[0], "failover"))
		m->msg = CB_MSG_FAILOVER;
	else if (!strcmp(argv[0], "hold"))
		m->msg = CB_MSG_HOLD;
	else if (!strcmp(argv[0], "release"))
		m->msg = CB_MSG_RELEASE;
	else
		goto with_arguments;
	if (argc != 1) {
		*error = "failover, hold and release take no arguments";
		return -EINVAL;
	}
	return 0;

with_arguments:
	if (!strcmp(argv[0], "checkpoint")) {
		m->msg = CB_MSG_CHECKPOINT;
		if (argc > 2) {
			*error = "Usage: checkpoint [<timeout_ms>]";
			return -EINVAL;
		}
		if (argc == 2 &&
		    (cb_parse_u64(argv[1], &m->timeout_ms) || !m->timeout_ms ||
		     m->timeout_ms > CB_MAX_CHECKPOINT_TIMEOUT_MS)) {
			*error = "Invalid checkpoint timeout (1..600000 ms)";
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(argv[0], "written")) {
		m->msg = CB_MSG_WRITTEN;
		if (argc > 2) {
			*error = "Usage: written [<from_sector>]";
			return -EINVAL;
		}
		if (argc == 2 && cb_parse_u64(argv[1], &m->sector)) {
			*error = "Invalid sector number";
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(argv[0], "clear_written")) {
		m->msg = CB_MSG_CLEAR_WRITTEN;
		if (argc == 1) {
			m->nr = ~0ULL;
			return 0;
		}
		if (argc != 3) {
			*error = "Usage: clear_written [<sector> <nr_sectors>]";
			return -EINVAL;
		}
		if (cb_parse_u64(argv[1], &m->sector) ||
		    cb_parse_u64(argv[2], &m->nr) || !m->nr) {
			*error = "Invalid sector range";
			return -EINVAL;
		}
		return 0;
	}
	*error = "Unknown message (checkpoint, failover, hold, release, written or clear_written)";
	return -EINVAL;
}

const char *cb_mode_name(enum cb_mode mode)
{
	switch (mode) {
	case CB_SECONDARY:
		return "secondary";
	case CB_REPLICA:
		return "replica";
	case CB_PRIMARY:
		return "primary";
	}
	return "unknown";
}
