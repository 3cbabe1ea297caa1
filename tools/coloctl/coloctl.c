// SPDX-License-Identifier: GPL-2.0
/*
 * coloctl: command line control of the COLO kernel modules.
 */
#include <stdio.h>
#include <string.h>

#include "coloctl.h"

struct subsystem {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct subsystem subsystems[] = {
	{ "proxy", proxy_main, "packet compare instances (colo_proxy.ko)" },
	{ "ram", ram_main, "dirty-tracked guest RAM objects (colo_ckpt.ko)" },
	{ "vm", vm_main, "protected VMs, through their agent (colod)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: coloctl <subsystem> <command> [arguments]\n\nSubsystems:\n");
	for (i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++)
		fprintf(out, "  %-8s %s\n", subsystems[i].name, subsystems[i].summary);
	fprintf(out, "\nDisks are driven with dmsetup (target \"colo\", see Documentation/admin-guide/colo-blk.rst).\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++)
		if (!strcmp(argv[1], subsystems[i].name))
			return subsystems[i].main(argc - 1, argv + 1);
	fprintf(stderr, "coloctl: unknown subsystem '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
