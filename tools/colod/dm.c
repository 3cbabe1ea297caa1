// SPDX-License-Identifier: GPL-2.0
/*
 * The colo device-mapper target through libdevmapper: tables, messages and
 * status without spawning dmsetup (200-300 ms a call under emulation), so
 * that the checkpoint path stays in this process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "colod.h"

static int dm_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	return e > 0 ? -e : -EIO;
}

int dm_create(const char *name, uint64_t sectors, const char *params, char *path,
	      size_t pathlen, char *err, size_t errlen)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_CREATE);
	struct dm_info info;
	int ret = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) ||
	    !dm_task_add_target(dmt, 0, sectors, "colo", params) || !dm_task_run(dmt)) {
		ret = dm_errno(dmt);
		snprintf(err, errlen, "dm device %s ('0 %llu colo %s'): %s (the kernel log says why)",
			 name, (unsigned long long)sectors, params, strerror(-ret));
	} else if (!dm_task_get_info(dmt, &info) || !info.exists) {
		ret = -ENODEV;
		snprintf(err, errlen, "dm device %s vanished after creation", name);
	} else {
		/* devtmpfs names every dm device dm-<minor>, with or without udev */
		snprintf(path, pathlen, "/dev/dm-%u", info.minor);
	}
	dm_task_destroy(dmt);
	return ret;
}

/*
 * Removes a device; a device still open (a process that held it, such as
 * a QEMU exiting just now) is retried for a while.
 */
int dm_remove(const char *name)
{
	int ret, tries;

	for (tries = 0; tries < 100; tries++) {
		struct dm_task *dmt = dm_task_create(DM_DEVICE_REMOVE);

		if (!dmt)
			return -ENOMEM;
		ret = 0;
		if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt))
			ret = dm_errno(dmt);
		dm_task_destroy(dmt);
		if (ret != -EBUSY)
			break;
		usleep(100000);
	}
	if (ret)
		log_err("removing dm device %s: %s", name, strerror(-ret));
	return ret;
}

int dm_message(const char *name, const char *msg, char *err, size_t errlen)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	int ret = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg) || !dm_task_run(dmt)) {
		ret = dm_errno(dmt);
		snprintf(err, errlen, "dm message '%s' to %s: %s", msg, name, strerror(-ret));
	}
	dm_task_destroy(dmt);
	return ret;
}

/* The device's info; -ENODEV when there is no such device. */
static int device_info(const char *name, struct dm_info *info)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
	int ret = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt) || !dm_task_get_info(dmt, info))
		ret = dm_errno(dmt);
	else if (!info->exists)
		ret = -ENODEV;
	dm_task_destroy(dmt);
	return ret;
}

/*
 * The device's event counter, which the colo target raises (buffer
 * threshold, refused write, forwarding failure): reading it on the tick is
 * one ioctl, where waiting for it (DM_DEVICE_WAITEVENT) would need a thread.
 */
int dm_event_nr(const char *name, uint32_t *event_nr)
{
	struct dm_info info;
	int ret = device_info(name, &info);

	if (!ret)
		*event_nr = info.event_nr;
	return ret;
}

/* How many openers the device has. */
int dm_open_count(const char *name, int32_t *open_count)
{
	struct dm_info info;
	int ret = device_info(name, &info);

	if (!ret)
		*open_count = info.open_count;
	return ret;
}

int dm_status(const char *name, char *out, size_t outlen)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_STATUS);
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	int ret = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt)) {
		ret = dm_errno(dmt);
	} else {
		dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
		snprintf(out, outlen, "%s", params ? params : "");
	}
	dm_task_destroy(dmt);
	return ret;
}
