// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl's parsers of colo_proxy replies, fed arbitrary messages: an
 * instance (show/stats, text and JSON), a checkpoint-request event, and an
 * error with extended-ack TLVs. Input: one selector byte, then the body of
 * a netlink message (generic netlink header and attributes, or for errors
 * the struct nlmsgerr and what follows it). Nothing may be read outside the
 * message, whatever it claims.
 *
 * With selector bit 0x40 the rest is a command-line tunnel endpoint
 * instead: one that parses must print as text that parses to the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/colo_proxy.h>
#include <linux/netlink.h>
#include <netlink/msg.h>

#include "../../coloctl/proxy_msg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The parsers print what they accept. */
	return freopen("/dev/null", "w", stdout) ? 0 : 1;
}

static void endpoint_round_trip(const uint8_t *data, size_t size)
{
	struct px_endpoint a, b;
	char *s = malloc(size + 1), out[80];

	memcpy(s, data, size);
	s[size] = 0;
	if (!px_endpoint_parse(s, &a)) {
		px_endpoint_format(out, sizeof(out), &a);
		if (px_endpoint_parse(out, &b) || a.family != b.family || a.port != b.port ||
		    memcmp(a.addr, b.addr, sizeof(a.addr)))
			abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct px px = { 0 };
	struct nlmsghdr *nlh;
	struct nl_msg *msg;
	uint8_t sel;

	if (size < 1 || size > 65536)
		return 0;
	sel = data[0];
	data++;
	size--;
	if (sel & 0x40) {
		endpoint_round_trip(data, size);
		return 0;
	}
	px.json = sel & 1;
	px.stats_only = (sel >> 1) & 1;

	/* A heap copy of exactly the message, so overreads are caught. */
	nlh = malloc(NLMSG_HDRLEN + size);
	nlh->nlmsg_len = NLMSG_HDRLEN + size;
	nlh->nlmsg_flags = (sel & 0x10) ? NLM_F_ACK_TLVS | ((sel & 0x20) ? NLM_F_CAPPED : 0) : 0;
	nlh->nlmsg_seq = 1;
	nlh->nlmsg_pid = 0;
	memcpy(NLMSG_DATA(nlh), data, size);

	if ((sel >> 2) & 1) {
		/* libnl calls the error callback only when the error fits */
		nlh->nlmsg_type = NLMSG_ERROR;
		if (size >= sizeof(struct nlmsgerr))
			px_err_cb(NULL, NLMSG_DATA(nlh), &px);
	} else {
		nlh->nlmsg_type = 0x20;
		msg = nlmsg_convert(nlh);
		if (msg) {
			if ((sel >> 3) & 1)
				px_event_cb(msg, &px);
			else
				px_instance_cb(msg, &px);
			nlmsg_free(msg);
		}
	}
	free(nlh);
	return 0;
}
