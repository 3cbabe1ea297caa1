// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz colod's configuration parser with arbitrary text. A refused text must
 * get an error naming its line ("fuzz.conf:N: ...") or a missing key
 * ("fuzz.conf: [section] key is required") and leave the configuration
 * zeroed. An accepted one must hold values inside their documented ranges,
 * print to a text that parses back to an equal configuration, and that one
 * must print to the same text.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "colod/config.h"

#define NAME "fuzz.conf"
#define MAX_INPUT 16384

static void check_error(const char *err)
{
	const char *p = err + strlen(NAME ":");

	if (strncmp(err, NAME ":", strlen(NAME ":")))
		abort();
	if (*p >= '1' && *p <= '9') {
		while (isdigit((unsigned char)*p))
			p++;
		if (strncmp(p, ": ", 2) || !p[2])
			abort();
	} else if (strncmp(p, " [", 2) || !strstr(p, "] ") || !strstr(p, " is required")) {
		abort();
	}
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		if (*b++)
			return false;
	return true;
}

static void check_ranges(const struct colod_config *c)
{
	size_t name_len = strnlen(c->name, COLOD_NAME_MAX), i;
	int family = c->peer_addr.ss_family;
	bool secondary = c->role == COLOD_ROLE_SECONDARY;

	if (!name_len || name_len >= COLOD_NAME_MAX || c->name[0] == '.' ||
	    (c->role != COLOD_ROLE_PRIMARY && !secondary) ||
	    c->ram_size < (1ULL << 20) || c->ram_size > (512ULL << 30) || c->ram_size % 4096)
		abort();
	if ((family != AF_INET && family != AF_INET6) || c->local_addr.ss_family != family ||
	    !c->peer_port || !c->nbd_port || !c->proxy_port || c->peer_port == c->nbd_port)
		abort();
	if (!c->qemu_binary || c->qemu_binary[0] != '/' || !c->run_dir || c->run_dir[0] != '/' ||
	    !c->disk_device || c->disk_device[0] != '/' || !c->control_socket ||
	    c->control_socket[0] != '/' || !c->qemu_argv || c->qemu_argv[c->qemu_argc])
		abort();
	for (i = 0; i < c->qemu_argc; i++)
		if (!c->qemu_argv[i])
			abort();
	if (!c->tap[0] || strnlen(c->tap, COLOD_IFNAME_MAX) >= COLOD_IFNAME_MAX ||
	    (c->mac[0] & 1))
		abort();
	if (c->max_interval_ms < 10 || c->max_interval_ms > 3600000 ||
	    !c->proxy_timeout_ms || c->proxy_timeout_ms > 3600000 ||
	    c->dirty_pages > (512ULL << 30) / 4096)
		abort();
	if (secondary ? c->disk_buffer_size < (64ULL << 10) || c->disk_buffer_size > (1ULL << 40) ||
			!c->disk_buffer_percent || c->disk_buffer_percent > 100 :
			c->disk_buffer_size || c->disk_buffer_percent)
		abort();
}

static char *print(const struct colod_config *c)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	colod_config_print(f, c);
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct colod_config first, second;
	char err[512], *text, *printed, *reprinted;

	if (size > MAX_INPUT)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	if (colod_config_parse_string(text, NAME, &first, err, sizeof(err))) {
		check_error(err);
		if (!all_zero(&first, sizeof(first)))
			abort();
		free(text);
		return 0;
	}
	check_ranges(&first);
	printed = print(&first);
	if (colod_config_parse_string(printed, NAME, &second, err, sizeof(err)) ||
	    !colod_config_equal(&first, &second))
		abort();
	reprinted = print(&second);
	if (strcmp(printed, reprinted))
		abort();
	colod_config_free(&first);
	colod_config_free(&second);
	free(printed);
	free(reprinted);
	free(text);
	return 0;
}
