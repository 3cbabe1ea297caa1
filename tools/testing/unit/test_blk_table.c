// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the colo target's constructor and message parsing. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "colo_blk/table.h"

/* Splits a line on spaces into a static argv (the parser does not copy). */
static unsigned int split(const char *line, char **argv, char *store)
{
	unsigned int argc = 0;
	char *tok;

	strcpy(store, line);
	for (tok = strtok(store, " "); tok; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	return argc;
}

static int parse(const char *line, struct cb_table *t, const char **err)
{
	static char store[512];
	char *argv[64];
	unsigned int argc = split(line, argv, store);

	*err = NULL;
	return cb_parse_table(argc, argv, t, err);
}

static void bad(const char *line, const char *want)
{
	struct cb_table t;
	const char *err;
	int ret = parse(line, &t, &err);

	tap_check(ret == -EINVAL && err && strstr(err, want),
		  "rejects '%s': %s", line, err ? err : "(accepted)");
}

int main(void)
{
	struct cb_table t;
	const char *err;
	struct cb_message msg;
	u64 v;
	char *m1[] = { "checkpoint" }, *m2[] = { "failover" };
	char *m3[] = { "rollback" }, *m4[] = { "failover", "now" };
	char *k1[] = { "checkpoint", "500" }, *k2[] = { "checkpoint", "0" };
	char *k3[] = { "checkpoint", "600001" }, *k4[] = { "checkpoint", "5s" };
	char *k5[] = { "checkpoint", "5", "6" };
	char *w1[] = { "written" }, *w2[] = { "written", "4096" };
	char *w3[] = { "written", "-1" }, *w4[] = { "written", "1", "2" };
	char *c1[] = { "clear_written" }, *c2[] = { "clear_written", "128", "256" };
	char *c3[] = { "clear_written", "128" }, *c4[] = { "clear_written", "8", "0" };
	char *c5[] = { "clear_written", "8", "x" };
	char *h1[] = { "hold" }, *h2[] = { "release" }, *h3[] = { "hold", "10" };

	tap_check(!parse("secondary disk0 /dev/loop0 64m", &t, &err) &&
		  t.mode == CB_SECONDARY && !strcmp(t.name, "disk0") &&
		  !strcmp(t.dev[0], "/dev/loop0") && t.limit == 64ULL << 20 &&
		  t.event_percent == CB_DEF_EVENT_PERCENT && !t.opt_given,
		  "secondary with defaults");
	tap_check(!parse("secondary d 7:0 1048576 2 event_percent 90", &t, &err) &&
		  t.limit == 1048576 && t.event_percent == 90 &&
		  t.opt_given == CB_OPT_EVENT_PERCENT,
		  "secondary with event_percent");
	tap_check(!parse("replica disk0 /dev/loop0 4 nbd_listen [::1]:10809 nbd_peer ::1", &t,
			 &err) && t.mode == CB_REPLICA && (t.opt_given & CB_OPT_NBD) &&
		  !strcmp(t.nbd_listen, "[::1]:10809") && !strcmp(t.nbd_peer, "::1"),
		  "replica with its NBD server");
	tap_check(!parse("replica disk0 /dev/loop0", &t, &err) &&
		  t.mode == CB_REPLICA && !strcmp(t.name, "disk0"),
		  "replica");
	tap_check(!parse("primary /dev/loop1 /dev/nbd0", &t, &err) &&
		  t.mode == CB_PRIMARY && !strcmp(t.dev[1], "/dev/nbd0") &&
		  t.max_inflight == CB_DEF_MAX_INFLIGHT && !t.event_bytes,
		  "primary with defaults");
	tap_check(!parse("primary a b 6 event_bytes 2g max_inflight 7 queue_bytes 1m", &t, &err) &&
		  t.max_inflight == 7 && t.event_bytes == 2ULL << 30 &&
		  t.queue_bytes == 1ULL << 20 &&
		  t.opt_given == (CB_OPT_MAX_INFLIGHT | CB_OPT_EVENT_BYTES |
				  CB_OPT_QUEUE_BYTES),
		  "primary with options in any order");
	tap_check(!parse("primary a b", &t, &err) &&
		  t.queue_bytes == CB_DEF_QUEUE_BYTES &&
		  t.region_size == CB_DEF_REGION_SIZE && t.drain_ms == CB_DEF_DRAIN_MS,
		  "primary queue_bytes, region_size and drain_ms defaults");
	tap_check(!parse("primary a b 8 region_size 4k event_bytes 1 max_inflight 2 queue_bytes 1m",
			 &t, &err) && t.region_size == 4096 &&
		  t.opt_given == (CB_OPT_MAX_INFLIGHT | CB_OPT_EVENT_BYTES |
				  CB_OPT_QUEUE_BYTES | CB_OPT_REGION_SIZE),
		  "primary with all four options");
	tap_check(!parse("primary a b 2 region_size 1g", &t, &err) &&
		  t.region_size == 1ULL << 30, "region_size 1g");
	tap_check(!parse("primary a b 10 drain_ms 250 region_size 4k event_bytes 1 max_inflight 2 queue_bytes 1m",
			 &t, &err) && t.drain_ms == 250 &&
		  t.opt_given == (CB_OPT_MAX_INFLIGHT | CB_OPT_EVENT_BYTES | CB_OPT_QUEUE_BYTES |
				  CB_OPT_REGION_SIZE | CB_OPT_DRAIN_MS),
		  "primary with all five options");
	tap_check(!parse("primary a b 2 sync_from 64k", &t, &err) && t.sync_from == 65536 &&
		  t.opt_given == CB_OPT_SYNC_FROM, "sync_from 64k");
	tap_check(!parse("primary a b 2 sync_from 32m", &t, &err) && t.sync_from == 32U << 20,
		  "sync_from 32m");
	tap_check(!parse("primary a b", &t, &err) && t.sync_from == 0, "sync_from is off by default");
	tap_check(!parse("primary a b 2 drain_ms 0", &t, &err) && t.drain_ms == 0 &&
		  t.opt_given == CB_OPT_DRAIN_MS, "drain_ms 0 (off)");
	tap_check(!parse("primary a b 2 drain_ms 60000", &t, &err) && t.drain_ms == 60000,
		  "drain_ms 60000");

	bad("", "Missing mode");
	bad("tertiary a b", "Unknown mode");
	bad("secondary", "Not enough arguments");
	bad("secondary d b", "Not enough arguments");
	bad("secondary d b 12x", "Invalid buffer limit");
	bad("secondary d b 1k", "Invalid buffer limit");
	bad("secondary d b 99999999999999999999", "Invalid buffer limit");
	bad("secondary d b 18446744073709551615g", "Invalid buffer limit");
	bad("secondary d b 2048g", "Invalid buffer limit");
	bad("secondary d b 1m 1", "Optional argument count");
	bad("secondary d b 1m 1 event_percent", "event_percent needs a value");
	bad("secondary d b 1m 3 event_percent 5 x", "Invalid number of optional");
	bad("secondary d b 1m 2 event_percent 101", "Invalid event_percent");
	bad("secondary d b 1m 2 event_percent -1", "Invalid event_percent");
	bad("secondary d b 1m 2 percent 10", "Unrecognised optional secondary");
	bad("secondary d b 1m x", "Invalid number of optional");
	bad("secondary a/b b 1m", "Invalid name");
	bad("secondary 0123456789012345678901234567890123 b 1m", "Invalid name");
	bad("replica d", "Wrong number of arguments");
	bad("replica d b c", "Wrong number of arguments");
	bad("replica d$ b", "Invalid name");
	bad("replica d b 4 nbd_listen 127.0.0.1:10809", "Wrong number of arguments");
	bad("replica d b 2 nbd_listen 127.0.0.1:10809 x y", "Optional replica arguments");
	bad("replica d b 4 nbd_peer 127.0.0.1 nbd_listen 127.0.0.1:10809",
	    "Optional replica arguments");
	bad("replica d b 4 nbd_listen 127.0.0.1:10809 nbd_allow 127.0.0.1",
	    "Optional replica arguments");
	bad("replica d b 4 nbd_listen [2001:0db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:108090 nbd_peer ::1",
	    "Invalid address");
	tap_check(!parse("primary /dev/loop1 nbd://127.0.0.1:10809/rep 2 sync_from 64k", &t, &err) &&
		  !t.dev[1] && !strcmp(t.nbd_connect, "127.0.0.1:10809") &&
		  !strcmp(t.name, "rep") && t.sync_from == 65536,
		  "primary forwarding to an NBD export: address and export name, no device");
	tap_check(!parse("primary a nbd://[fd00::2]:10809/rep.1", &t, &err) &&
		  !strcmp(t.nbd_connect, "[fd00::2]:10809") && !strcmp(t.name, "rep.1"),
		  "primary forwarding to an NBD export over IPv6");
	tap_check(!parse("primary a nbdx://1.2.3.4:1/rep", &t, &err) &&
		  !strcmp(t.dev[1], "nbdx://1.2.3.4:1/rep") && !t.nbd_connect[0],
		  "a forward not starting with nbd:// is a device path");
	bad("primary a nbd://127.0.0.1:10809", "without an export name");
	bad("primary a nbd:///rep", "Invalid address");
	bad("primary a nbd://127.0.0.1:10809/", "Invalid name");
	bad("primary a nbd://127.0.0.1:10809/a/b", "Invalid name");
	bad("primary a nbd://127.0.0.1:1234567890123456789012345678901234567890123456789/rep",
	    "Invalid address");
	bad("primary a", "Not enough arguments");
	bad("primary a b 1", "Optional argument count");
	bad("primary a b 2 max_inflight 0", "Invalid max_inflight");
	bad("primary a b 2 max_inflight 4097", "Invalid max_inflight");
	bad("primary a b 2 event_bytes 1t", "Invalid event_bytes");
	bad("primary a b 2 queue_bytes 4k", "Invalid queue_bytes");
	bad("primary a b 4 queue_bytes 1m queue_bytes 2m", "queue_bytes given twice");
	bad("primary a b 8 queue_bytes 1m max_inflight 1 event_bytes 1 x y", "Unrecognised optional primary");
	bad("primary a b 2 speed 1", "Unrecognised optional primary");
	bad("primary a b 1 max_inflight", "needs a value");
	bad("primary a b 5 max_inflight 1 event_bytes 1 x", "needs a value");
	bad("primary a b 4 max_inflight 1 max_inflight 2", "max_inflight given twice");
	bad("primary a b 4 event_bytes 1 event_bytes 2", "event_bytes given twice");
	bad("primary a b 2 region_size 0", "Invalid region_size");
	bad("primary a b 2 region_size 2k", "Invalid region_size");
	bad("primary a b 2 region_size 96k", "Invalid region_size");
	bad("primary a b 2 region_size 12288", "Invalid region_size");
	bad("primary a b 2 region_size 2g", "Invalid region_size");
	bad("primary a b 2 region_size big", "Invalid region_size");
	bad("primary a b 4 region_size 4k region_size 8k", "region_size given twice");
	bad("primary a b 10 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m x y",
	    "Unrecognised optional primary");
	bad("primary a b 12 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m drain_ms 1 x y",
	    "Unrecognised optional primary");
	bad("primary a b 14 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m drain_ms 1 sync_from 1m x y",
	    "Unrecognised optional primary");
	bad("primary a nbd://127.0.0.1:1/e 16 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m drain_ms 1 sync_from 1m nbd_timeout 1000 x y",
	    "Unrecognised optional primary");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e 16 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m drain_ms 1 sync_from 1m nbd_timeout 1000 nbd_source ::1",
			 &t, &err) && t.opt_given == (CB_OPT_REGION_SIZE | CB_OPT_MAX_INFLIGHT | CB_OPT_EVENT_BYTES |
						      CB_OPT_QUEUE_BYTES | CB_OPT_DRAIN_MS | CB_OPT_SYNC_FROM |
						      CB_OPT_NBD_TIMEOUT | CB_OPT_NBD_SOURCE),
		  "all eight primary options at once");
	bad("primary a nbd://127.0.0.1:1/e 18 region_size 4k max_inflight 1 event_bytes 1 queue_bytes 1m drain_ms 1 sync_from 1m nbd_timeout 1000 nbd_source ::1 x y",
	    "Invalid number of optional");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e", &t, &err) &&
		  t.nbd_timeout_ms == CB_DEF_NBD_TIMEOUT_MS && !(t.opt_given & CB_OPT_NBD_TIMEOUT),
		  "nbd_timeout is 30 s by default");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e 4 sync_from 64k nbd_timeout 600000", &t, &err) &&
		  t.nbd_timeout_ms == 600000 &&
		  t.opt_given == (CB_OPT_SYNC_FROM | CB_OPT_NBD_TIMEOUT), "nbd_timeout 600000");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e 2 nbd_timeout 1000", &t, &err) &&
		  t.nbd_timeout_ms == 1000, "nbd_timeout at its minimum");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e 2 nbd_timeout 3600000", &t, &err) &&
		  t.nbd_timeout_ms == 3600000, "nbd_timeout at its maximum");
	bad("primary a nbd://127.0.0.1:1/e 2 nbd_timeout 999", "Invalid nbd_timeout");
	bad("primary a nbd://127.0.0.1:1/e 2 nbd_timeout 3600001", "Invalid nbd_timeout");
	bad("primary a nbd://127.0.0.1:1/e 2 nbd_timeout 30s", "Invalid nbd_timeout");
	bad("primary a nbd://127.0.0.1:1/e 4 nbd_timeout 1000 nbd_timeout 2000",
	    "nbd_timeout given twice");
	bad("primary a b 2 nbd_timeout 1000", "nbd_timeout needs an nbd:// forward");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e 6 nbd_timeout 1000 nbd_source 127.0.0.2 sync_from 64k",
			 &t, &err) && !strcmp(t.nbd_source, "127.0.0.2") &&
		  t.opt_given == (CB_OPT_NBD_TIMEOUT | CB_OPT_NBD_SOURCE | CB_OPT_SYNC_FROM),
		  "nbd_source among the numeric options");
	tap_check(!parse("primary a nbd://127.0.0.1:1/e", &t, &err) && !t.nbd_source[0] &&
		  !(t.opt_given & CB_OPT_NBD_SOURCE), "no nbd_source by default");
	bad("primary a b 2 nbd_source 127.0.0.2", "nbd_source needs an nbd:// forward");
	bad("primary a nbd://127.0.0.1:1/e 4 nbd_source 127.0.0.2 nbd_source 127.0.0.3",
	    "nbd_source given twice");
	bad("primary a nbd://127.0.0.1:1/e 2 nbd_source 123456789012345678901234567890123456789012345678",
	    "Invalid address");
	bad("primary a nbd://127.0.0.1:1/e 1 nbd_source", "needs a value");
	bad("primary a b 2 sync_from 33m", "Invalid sync_from");
	bad("primary a b 2 sync_from -1", "Invalid sync_from");
	bad("primary a b 2 sync_from 1x", "Invalid sync_from");
	bad("primary a b 4 sync_from 1m sync_from 2m", "sync_from given twice");
	bad("primary a b 2 drain_ms 60001", "Invalid drain_ms");
	bad("primary a b 2 drain_ms 1s", "Invalid drain_ms");
	bad("primary a b 2 drain_ms -1", "Invalid drain_ms");
	bad("primary a b 4 drain_ms 1 drain_ms 2", "drain_ms given twice");

	tap_check(!cb_parse_size("0", &v) && v == 0, "size 0");
	tap_check(!cb_parse_size("3K", &v) && v == 3072, "size 3K");
	tap_check(!cb_parse_size("18446744073709551615", &v) && v == ~0ULL,
		  "size u64 max");
	tap_check(cb_parse_size("18446744073709551616", &v) == -EINVAL,
		  "size u64 max + 1 rejected");
	tap_check(cb_parse_size("k", &v) == -EINVAL, "size without digits rejected");
	tap_check(cb_parse_size("17179869184g", &v) == -EINVAL,
		  "size overflowing with suffix rejected");

	tap_check(!cb_parse_message(1, m1, &msg, &err) && msg.msg == CB_MSG_CHECKPOINT,
		  "message checkpoint");
	tap_check(!cb_parse_message(1, m1, &msg, &err) && msg.timeout_ms == 0,
		  "message checkpoint: no bound by default");
	tap_check(!cb_parse_message(2, k1, &msg, &err) && msg.msg == CB_MSG_CHECKPOINT &&
		  msg.timeout_ms == 500, "message checkpoint with a timeout");
	tap_check(cb_parse_message(2, k2, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid checkpoint timeout"), "checkpoint timeout 0 rejected");
	tap_check(cb_parse_message(2, k3, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid checkpoint timeout"),
		  "checkpoint timeout over ten minutes rejected");
	tap_check(cb_parse_message(2, k4, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid checkpoint timeout"), "checkpoint timeout with a unit rejected");
	tap_check(cb_parse_message(3, k5, &msg, &err) == -EINVAL &&
		  strstr(err, "Usage: checkpoint"), "checkpoint with two arguments rejected");
	tap_check(!cb_parse_message(1, m2, &msg, &err) && msg.msg == CB_MSG_FAILOVER,
		  "message failover");
	tap_check(!cb_parse_message(1, h1, &msg, &err) && msg.msg == CB_MSG_HOLD,
		  "message hold");
	tap_check(!cb_parse_message(1, h2, &msg, &err) && msg.msg == CB_MSG_RELEASE,
		  "message release");
	tap_check(cb_parse_message(2, h3, &msg, &err) == -EINVAL &&
		  strstr(err, "no arguments"), "hold with an argument rejected");
	tap_check(!cb_parse_message(1, w1, &msg, &err) && msg.msg == CB_MSG_WRITTEN &&
		  msg.sector == 0, "message written");
	tap_check(!cb_parse_message(2, w2, &msg, &err) && msg.msg == CB_MSG_WRITTEN &&
		  msg.sector == 4096, "message written from a sector");
	tap_check(cb_parse_message(2, w3, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid sector"), "written from a bad sector rejected");
	tap_check(cb_parse_message(3, w4, &msg, &err) == -EINVAL &&
		  strstr(err, "Usage: written"), "written with two arguments rejected");
	tap_check(!cb_parse_message(1, c1, &msg, &err) &&
		  msg.msg == CB_MSG_CLEAR_WRITTEN && msg.sector == 0 && msg.nr == ~0ULL,
		  "message clear_written: all");
	tap_check(!cb_parse_message(3, c2, &msg, &err) &&
		  msg.msg == CB_MSG_CLEAR_WRITTEN && msg.sector == 128 && msg.nr == 256,
		  "message clear_written with a range");
	tap_check(cb_parse_message(2, c3, &msg, &err) == -EINVAL &&
		  strstr(err, "Usage: clear_written"), "clear_written without a length rejected");
	tap_check(cb_parse_message(3, c4, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid sector range"), "clear_written of 0 sectors rejected");
	tap_check(cb_parse_message(3, c5, &msg, &err) == -EINVAL &&
		  strstr(err, "Invalid sector range"), "clear_written with a bad length rejected");
	tap_check(cb_parse_message(1, m3, &msg, &err) == -EINVAL &&
		  strstr(err, "Unknown message"), "unknown message rejected");
	tap_check(cb_parse_message(2, m4, &msg, &err) == -EINVAL &&
		  strstr(err, "no arguments"), "message with arguments rejected");
	tap_check(cb_parse_message(0, m4, &msg, &err) == -EINVAL,
		  "empty message rejected");
	tap_check(!strcmp(cb_mode_name(CB_PRIMARY), "primary"), "mode names");
	return tap_done();
}
