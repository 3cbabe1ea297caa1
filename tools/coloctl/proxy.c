// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "coloctl.h"

int proxy_main(int argc, char **argv)
{
	fprintf(stderr, "coloctl proxy: no commands yet\n");
	return 2;
}
