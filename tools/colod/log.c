// SPDX-License-Identifier: GPL-2.0
/*
 * Logging and state: one line per event on stderr, prefixed with the syslog
 * priority ("<3>") that journald turns into the entry's priority when
 * systemd runs colod; state changes also go to systemd as STATUS= for
 * `systemctl status colod@NAME`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "colod.h"

static char log_name[64] = "colod";

void log_init(const char *name)
{
	snprintf(log_name, sizeof(log_name), "colod[%s]", name);
}

static void log_at(const char *prio, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s%s: ", prio, log_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(fn, prio)				\
void fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_at(prio, fmt, ap);				\
	va_end(ap);					\
}
LOG_FN(log_info, SD_INFO)
LOG_FN(log_warn, SD_WARNING)
LOG_FN(log_err, SD_ERR)

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *const state_names[] = {
	[COLOD_STARTING] = "starting",
	[COLOD_WAITING_PEER] = "waiting-for-peer",
	[COLOD_SYNCING] = "syncing",
	[COLOD_REPLICATING] = "replicating",
	[COLOD_LINK_LOST] = "link-lost",
	[COLOD_PEER_LOST] = "peer-lost",
	[COLOD_TOOK_OVER] = "took-over",
	[COLOD_HANDED_OVER] = "handed-over",
	[COLOD_FAILED] = "failed",
	[COLOD_STOPPING] = "stopping",
};

const char *colod_state_name(enum colod_state s)
{
	return state_names[s];
}

void colod_set_state(struct colod *d, enum colod_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->state_why, sizeof(d->state_why), fmt, ap);
	va_end(ap);
	d->state = s;
	if (s == COLOD_FAILED || s == COLOD_PEER_LOST)
		log_err("state %s: %s", state_names[s], d->state_why);
	else
		log_info("state %s: %s", state_names[s], d->state_why);
	sd_notifyf(0, "STATUS=%s: %s", state_names[s], d->state_why);
}

void steps_format(const char *const *names, const uint64_t *ns, int from, int to, char *buf,
		  size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = 0;
	for (i = from; i < to && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s %.1f", i > from ? ", " : "",
				names[i], ns[i] / 1e6);
}
