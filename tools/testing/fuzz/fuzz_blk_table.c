// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the colo constructor and message parsers. The input is a line split
 * on spaces into argv, as dm hands it to the target. Whatever the input, the
 * parsers must not crash, must give an error string on failure, and on
 * success must only produce values inside the documented ranges (a primary
 * forwards to a device or to an NBD export, never both or neither).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colo_blk/table.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *argv[MAX_ARGS], *tok;
	unsigned int argc = 0;
	struct cb_table t;
	const char *err = NULL;
	struct cb_message msg;
	size_t i;

	if (size > 4096)
		return 0;
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	for (tok = strtok(line, " \n"); tok && argc < MAX_ARGS; tok = strtok(NULL, " \n"))
		argv[argc++] = tok;

	if (cb_parse_table(argc, argv, &t, &err)) {
		if (!err)
			abort();
	} else {
		if (t.mode == CB_PRIMARY) {
			size_t len = strnlen(t.name, CB_NAME_MAX);

			/* a forward device, or an NBD server and export: one of them */
			if (!t.dev[1] == !t.nbd_connect[0] ||
			    (t.nbd_connect[0] &&
			     (strnlen(t.nbd_connect, CB_ADDR_MAX) == CB_ADDR_MAX ||
			      !len || len >= CB_NAME_MAX || memchr(t.name, '/', len))))
				abort();
			if (!t.dev[0] || !t.max_inflight ||
			    t.max_inflight > CB_MAX_INFLIGHT || t.event_bytes > CB_MAX_LIMIT ||
			    t.queue_bytes < CB_MIN_LIMIT || t.queue_bytes > CB_MAX_LIMIT ||
			    t.region_size < CB_MIN_REGION_SIZE ||
			    t.region_size > CB_MAX_REGION_SIZE ||
			    (t.region_size & (t.region_size - 1)) ||
			    t.drain_ms > CB_MAX_DRAIN_MS ||
			    t.nbd_timeout_ms < CB_MIN_NBD_TIMEOUT_MS ||
			    t.nbd_timeout_ms > CB_MAX_NBD_TIMEOUT_MS ||
			    ((t.opt_given & CB_OPT_NBD_TIMEOUT) && !t.nbd_connect[0]) ||
			    (!(t.opt_given & CB_OPT_NBD_SOURCE) != !t.nbd_source[0]) ||
			    ((t.opt_given & CB_OPT_NBD_SOURCE) && !t.nbd_connect[0]) ||
			    strnlen(t.nbd_source, CB_ADDR_MAX) == CB_ADDR_MAX)
				abort();
		} else {
			size_t len = strnlen(t.name, CB_NAME_MAX);

			if (!t.dev[0] || !len || len >= CB_NAME_MAX)
				abort();
			for (i = 0; i < len; i++)
				if (t.name[i] == '/' || t.name[i] == ' ')
					abort();
			if (t.mode == CB_REPLICA && (t.opt_given & CB_OPT_NBD) &&
			    (!t.nbd_listen[0] || !t.nbd_peer[0] ||
			     strnlen(t.nbd_listen, CB_ADDR_MAX) == CB_ADDR_MAX ||
			     strnlen(t.nbd_peer, CB_ADDR_MAX) == CB_ADDR_MAX))
				abort();
			if (t.mode == CB_SECONDARY &&
			    (t.limit < CB_MIN_LIMIT || t.limit > CB_MAX_LIMIT ||
			     !t.event_percent || t.event_percent > 100))
				abort();
		}
	}
	err = NULL;
	if (cb_parse_message(argc, argv, &msg, &err)) {
		if (!err)
			abort();
	} else if (msg.msg == CB_MSG_CHECKPOINT ?
		   (argc == 1 ? msg.timeout_ms != 0 :
		    argc != 2 || !msg.timeout_ms ||
		    msg.timeout_ms > CB_MAX_CHECKPOINT_TIMEOUT_MS) :
		   (msg.msg == CB_MSG_FAILOVER || msg.msg == CB_MSG_HOLD ||
		    msg.msg == CB_MSG_RELEASE) ?
		   argc != 1 :
		   msg.msg == CB_MSG_WRITTEN ? argc > 2 || msg.nr :
		   msg.msg != CB_MSG_CLEAR_WRITTEN || !msg.nr ||
		   (argc == 1 && (msg.nr != ~0ULL || msg.sector))) {
		abort();
	}
	free(line);
	return 0;
}
