/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP output for the userspace unit tests: one line per check,
 * a non-zero exit status from tap_done() when any check failed.
 */
#ifndef COLO_UNIT_TAP_H
#define COLO_UNIT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failed;

static inline int tap_check(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
