// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "coloctl.h"

int ram_main(int argc, char **argv)
{
	fprintf(stderr, "coloctl ram: no commands yet\n");
	return 2;
}
