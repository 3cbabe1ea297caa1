// SPDX-License-Identifier: GPL-2.0
/*
 * dm-colo: disk replication for COLO (coarse-grained lock-stepping VMs).
 *
 * One target, three modes picked by the first table argument:
 *   secondary - the SVM's disk: its own writes and the pre-images of sectors
 *               the primary overwrote are buffered in memory over a base.
 *   replica   - the face the primary's forwarded writes arrive on (exported
 *               with nbd-server), bound to a secondary by name.
 *   primary   - the PVM's disk: local writes, asynchronously forwarded.
 *
 * This file holds what the modes share: the target callbacks that dispatch
 * to them, messages, status, and the allocators behind the sector map.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>
#include <linux/sort.h>

#include "colo.h"

static struct kmem_cache *colo_sector_cache;
static struct kmem_cache *colo_chunk_cache;
/*
 * Whole-chunk buffers (pre-images read by the replica) come from a pool of
 * pages rather than the slab: their allocation on every replica write is
 * what page-pool.c saves the zeroing of. 16 MiB of free pages are kept.
 */
static struct colo_page_pool colo_chunk_pages;
#define COLO_CHUNK_POOL_PAGES 4096

/*
 * The sector map allocates while bios are being mapped: never recurse into
 * I/O for reclaim.
 */
void *cb_zalloc(size_t size)
{
	unsigned int flags = memalloc_noio_save();
	void *p = kvzalloc(size, GFP_KERNEL);

	memalloc_noio_restore(flags);
	return p;
}

void cb_free(void *p)
{
	kvfree(p);
}

void *cb_sector_alloc(void)
{
	return kmem_cache_alloc(colo_sector_cache, GFP_NOIO | __GFP_NOWARN);
}

void cb_sector_free(void *p)
{
	kmem_cache_free(colo_sector_cache, p);
}

void *cb_chunk_alloc(void)
{
	return kmem_cache_alloc(colo_chunk_cache, GFP_NOIO | __GFP_NOWARN);
}

void cb_chunk_free(void *p)
{
	kmem_cache_free(colo_chunk_cache, p);
}

void *cb_page_alloc(void)
{
	struct page *page = colo_page_pool_get(&colo_chunk_pages, GFP_NOIO | __GFP_NOWARN);

	return page ? page_address(page) : NULL;
}

void cb_page_free(void *p)
{
	colo_page_pool_put(&colo_chunk_pages, virt_to_page(p));
}

void cb_sort(void *base, size_t num, size_t size,
	     int (*cmp)(const void *, const void *))
{
	sort(base, num, size, cmp, NULL);
}

/*
 * Takes at most COLO_MAX_IO_SECTORS of a write; dm sends the rest as another
 * bio. Splitting here rather than with ti->max_io_len leaves reads whole.
 */
void colo_bound_write(struct bio *bio)
{
	if (bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio) > COLO_MAX_IO_SECTORS)
		dm_accept_partial_bio(bio, COLO_MAX_IO_SECTORS);
}

/*
 * Copies len bytes between a bio (from *iter on, which is advanced) and a
 * linear buffer. Works whatever the bvec boundaries are, so a sector split
 * across two pages is handled.
 */
void colo_bio_copy(struct bio *bio, struct bvec_iter *iter, void *buf,
		   unsigned int len, bool to_bio)
{
	char *p = buf;

	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, *iter);
		unsigned int n = min(len, bv.bv_len);

		bv.bv_len = n;
		if (to_bio)
			memcpy_to_bvec(&bv, p);
		else
			memcpy_from_bvec(p, &bv);
		bio_advance_iter_single(bio, iter, n);
		p += n;
		len -= n;
	}
}

static int colo_get_dev(struct colo_c *cc, unsigned int i, const char *path,
			const char *what)
{
	struct dm_target *ti = cc->ti;
	int ret;

	ret = dm_get_device(ti, path, dm_table_get_mode(ti->table), &cc->dev[i]);
	if (ret) {
		ti->error = (char *)what;
		return ret;
	}
	if (bdev_nr_sectors(cc->dev[i]->bdev) < ti->len) {
		ti->error = "Device is smaller than the target (size mismatch)";
		dm_put_device(ti, cc->dev[i]);
		cc->dev[i] = NULL;
		return -EINVAL;
	}
	return 0;
}

static void colo_put_devs(struct colo_c *cc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cc->dev); i++)
		if (cc->dev[i])
			dm_put_device(cc->ti, cc->dev[i]);
}

/*
 * Construct a colo target. See Documentation/admin-guide/colo-blk.rst:
 *   secondary <name> <base_dev> <buffer_limit> [<#opt_args> event_percent <p>]
 *   replica <name> <base_dev> [4 nbd_listen <addr>:<port> nbd_peer <addr>]
 *   primary <local_dev> <forward_dev>|nbd://<addr>:<port>/<export>
 *           [<#opt_args> max_inflight <n>
 *           queue_bytes <n> event_bytes <n> region_size <n>]
 */
static int colo_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct colo_c *cc;
	const char *error = NULL;
	int ret;

	if (ti->begin) {
		ti->error = "A colo target must start at sector 0 of its device";
		return -EINVAL;
	}
	cc = kzalloc(sizeof(*cc), GFP_KERNEL);
	if (!cc) {
		ti->error = "Cannot allocate colo context";
		return -ENOMEM;
	}
	cc->ti = ti;
	ret = cb_parse_table(argc, argv, &cc->t, &error);
	if (ret) {
		ti->error = (char *)error;
		goto bad;
	}

	ret = colo_get_dev(cc, 0, cc->t.dev[0],
			   cc->t.mode == CB_PRIMARY ?
			   "Cannot open local device" : "Cannot open base device");
	if (ret)
		goto bad;
	if (cc->t.mode == CB_PRIMARY && cc->t.dev[1]) {
		ret = colo_get_dev(cc, 1, cc->t.dev[1],
				   "Cannot open forward device");
		if (ret)
			goto bad_devs;
	}
	cc->t.dev[0] = NULL;
	cc->t.dev[1] = NULL;

	ti->per_io_data_size = sizeof(struct colo_bio);
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->private = cc;

	switch (cc->t.mode) {
	case CB_SECONDARY:
		ret = colo_sec_ctr(cc);
		break;
	case CB_REPLICA:
		ret = colo_rep_ctr(cc);
		if (!ret && (cc->t.opt_given & CB_OPT_NBD)) {
			ret = colo_nbd_ctr(cc);
			if (ret)
				colo_rep_dtr(cc);
		}
		break;
	case CB_PRIMARY:
		ret = colo_pri_ctr(cc);
		break;
	}
	if (ret)
		goto bad_devs;
	return 0;

bad_devs:
	colo_put_devs(cc);
bad:
	kfree(cc);
	return ret;
}

static void colo_dtr(struct dm_target *ti)
{
	struct colo_c *cc = ti->private;

	switch (cc->t.mode) {
	case CB_SECONDARY:
		colo_sec_dtr(cc);
		break;
	case CB_REPLICA:
		if (cc->nbd)
			colo_nbd_dtr(cc);
		colo_rep_dtr(cc);
		break;
	case CB_PRIMARY:
		colo_pri_dtr(cc);
		break;
	}
	colo_put_devs(cc);
	kfree(cc);
}

static int colo_map(struct dm_target *ti, struct bio *bio)
{
	struct colo_c *cc = ti->private;
	struct colo_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	pb->kind = COLO_BIO_PLAIN;
	pb->sec = cc->sec;
	bio_set_dev(bio, cc->dev[0]->bdev);
	if (bio_sectors(bio) || op_is_zone_mgmt(bio_op(bio)))
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);

	switch (cc->t.mode) {
	case CB_SECONDARY:
		return colo_sec_map(cc, bio);
	case CB_REPLICA:
		return colo_rep_map(cc, bio);
	case CB_PRIMARY:
		return colo_pri_map(cc, bio);
	}
	return DM_MAPIO_KILL;
}

static int colo_end_io(struct dm_target *ti, struct bio *bio,
		       blk_status_t *error)
{
	struct colo_c *cc = ti->private;

	if (cc->t.mode == CB_SECONDARY)
		colo_sec_end_io(cc, bio);
	return DM_ENDIO_DONE;
}

/* The replica's NBD server serves while the device is live. */
static int colo_preresume(struct dm_target *ti)
{
	struct colo_c *cc = ti->private;

	return cc->nbd ? colo_nbd_start(cc) : 0;
}

/*
 * A suspend releases a primary's hold before device-mapper waits for the
 * guest's bios: a large write forwarded uncopied (sync_from) that went into
 * the queue behind held copies completes only once it is sent. (Postsuspend
 * releases again a hold that came in between.)
 */
static void colo_presuspend(struct dm_target *ti)
{
	struct colo_c *cc = ti->private;

	if (cc->nbd)
		colo_nbd_stop(cc);
	if (cc->t.mode == CB_PRIMARY)
		colo_pri_hold(cc, false);
}

static void colo_postsuspend(struct dm_target *ti)
{
	struct colo_c *cc = ti->private;

	if (cc->t.mode == CB_PRIMARY)
		colo_pri_postsuspend(cc);
}

static int colo_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct colo_c *cc = ti->private;
	const char *why = NULL;
	struct cb_message m;
	int ret;

	ret = cb_parse_message(argc, argv, &m, &why);
	if (!ret && cc->t.mode == CB_REPLICA) {
		why = "The replica takes no messages: send them to its secondary";
		ret = -EINVAL;
	} else if (!ret && cc->t.mode == CB_SECONDARY) {
		switch (m.msg) {
		case CB_MSG_CHECKPOINT:
			if (m.timeout_ms) {
				why = "Only a primary's checkpoint waits: the secondary's takes no timeout";
				ret = -EINVAL;
				break;
			}
			ret = colo_sec_checkpoint(cc, &why);
			break;
		case CB_MSG_FAILOVER:
			ret = colo_sec_failover(cc, &why);
			break;
		case CB_MSG_HOLD:
		case CB_MSG_RELEASE:
			why = "Only a primary forwards writes";
			ret = -EINVAL;
			break;
		default:
			why = "Only a primary keeps a record of written regions";
			ret = -EINVAL;
			break;
		}
	} else if (!ret) {
		switch (m.msg) {
		case CB_MSG_CHECKPOINT:
			ret = colo_pri_checkpoint(cc, m.timeout_ms, &why);
			break;
		case CB_MSG_FAILOVER:
			ret = colo_pri_failover(cc, &why);
			break;
		case CB_MSG_WRITTEN:
			/* 1: the result buffer holds the answer */
			ret = colo_pri_written(cc, m.sector, result, maxlen, &why);
			break;
		case CB_MSG_CLEAR_WRITTEN:
			ret = colo_pri_clear_written(cc, m.sector, m.nr, &why);
			break;
		case CB_MSG_HOLD:
			colo_pri_hold(cc, true);
			break;
		case CB_MSG_RELEASE:
			colo_pri_hold(cc, false);
			break;
		}
	}
	/* dmsetup only shows the errno: the reason goes to the kernel log */
	if (ret < 0)
		DMWARN("%s: message '%s' rejected: %s",
		       dm_table_device_name(ti->table), argc ? argv[0] : "",
		       why ? why : "error");
	return ret;
}

static void colo_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct colo_c *cc = ti->private;
	const struct cb_table *t = &cc->t;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		switch (t->mode) {
		case CB_SECONDARY:
			colo_sec_status(cc, result, maxlen, &sz);
			break;
		case CB_REPLICA:
			colo_rep_status(cc, result, maxlen, &sz);
			if (cc->nbd)
				colo_nbd_status(cc, result, maxlen, &sz);
			break;
		case CB_PRIMARY:
			colo_pri_status(cc, result, maxlen, &sz);
			break;
		}
		break;
	case STATUSTYPE_TABLE:
		switch (t->mode) {
		case CB_SECONDARY:
			DMEMIT("secondary %s %s %llu", t->name, cc->dev[0]->name,
			       (unsigned long long)t->limit);
			if (t->opt_given & CB_OPT_EVENT_PERCENT)
				DMEMIT(" 2 event_percent %u", t->event_percent);
			break;
		case CB_REPLICA:
			DMEMIT("replica %s %s", t->name, cc->dev[0]->name);
			if (t->opt_given & CB_OPT_NBD)
				DMEMIT(" 4 nbd_listen %s nbd_peer %s", t->nbd_listen,
				       t->nbd_peer);
			break;
		case CB_PRIMARY:
			if (cc->dev[1])
				DMEMIT("primary %s %s", cc->dev[0]->name, cc->dev[1]->name);
			else
				DMEMIT("primary %s nbd://%s/%s", cc->dev[0]->name,
				       t->nbd_connect, t->name);
			if (t->opt_given)
				DMEMIT(" %u", 2 * hweight32(t->opt_given));
			if (t->opt_given & CB_OPT_MAX_INFLIGHT)
				DMEMIT(" max_inflight %u", t->max_inflight);
			if (t->opt_given & CB_OPT_QUEUE_BYTES)
				DMEMIT(" queue_bytes %llu",
				       (unsigned long long)t->queue_bytes);
			if (t->opt_given & CB_OPT_EVENT_BYTES)
				DMEMIT(" event_bytes %llu",
				       (unsigned long long)t->event_bytes);
			if (t->opt_given & CB_OPT_REGION_SIZE)
				DMEMIT(" region_size %llu",
				       (unsigned long long)t->region_size);
			if (t->opt_given & CB_OPT_DRAIN_MS)
				DMEMIT(" drain_ms %u", t->drain_ms);
			if (t->opt_given & CB_OPT_SYNC_FROM)
				DMEMIT(" sync_from %u", t->sync_from);
			if (t->opt_given & CB_OPT_NBD_TIMEOUT)
				DMEMIT(" nbd_timeout %u", t->nbd_timeout_ms);
			if (t->opt_given & CB_OPT_NBD_SOURCE)
				DMEMIT(" nbd_source %s", t->nbd_source);
			break;
		}
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",mode=%s;", cb_mode_name(t->mode));
		break;
	}
}

static int colo_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct colo_c *cc = ti->private;
	int ret = fn(ti, cc->dev[0], 0, ti->len, data);

	if (!ret && cc->dev[1])
		ret = fn(ti, cc->dev[1], 0, ti->len, data);
	return ret;
}

static void colo_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct colo_c *cc = ti->private;

	/*
	 * The secondary buffers discards and write-zeroes itself, as zeroed
	 * sectors, one by one inside ->map with its lock held: bounded, so
	 * that a large zeroout is split by the block layer and I/O on both
	 * faces gets the lock between the pieces.
	 */
	if (cc->t.mode == CB_SECONDARY) {
		limits->discard_granularity = SECTOR_SIZE;
		limits->max_discard_sectors = COLO_MAX_IO_SECTORS;
		limits->max_write_zeroes_sectors =
			min(limits->max_write_zeroes_sectors, COLO_MAX_IO_SECTORS);
	}
	/* zeroing is not forwarded: let the block layer write zero pages */
	if (cc->t.mode == CB_PRIMARY)
		limits->max_write_zeroes_sectors = 0;
	/* the replica reads the pre-image of a discard or zeroing first */
	if (cc->t.mode == CB_REPLICA) {
		limits->max_hw_discard_sectors = min(limits->max_hw_discard_sectors,
						     COLO_MAX_IO_SECTORS);
		limits->max_discard_sectors = min(limits->max_discard_sectors,
						  COLO_MAX_IO_SECTORS);
		limits->max_write_zeroes_sectors =
			min(limits->max_write_zeroes_sectors, COLO_MAX_IO_SECTORS);
	}
}

static struct target_type colo_target = {
	.name = "colo",
	.version = {1, 3, 0},
	.module = THIS_MODULE,
	.ctr = colo_ctr,
	.dtr = colo_dtr,
	.map = colo_map,
	.end_io = colo_end_io,
	.presuspend = colo_presuspend,
	.postsuspend = colo_postsuspend,
	.preresume = colo_preresume,
	.message = colo_message,
	.status = colo_status,
	.iterate_devices = colo_iterate_devices,
	.io_hints = colo_io_hints,
};

static int __init dm_colo_init(void)
{
	int ret = -ENOMEM;

	colo_sector_cache = kmem_cache_create("colo_blk_sector", CB_SECTOR_SIZE,
					      CB_SECTOR_SIZE, 0, NULL);
	if (!colo_sector_cache)
		goto out;
	colo_chunk_cache = kmem_cache_create("colo_blk_chunk",
					     sizeof(struct cb_chunk), 0, 0, NULL);
	if (!colo_chunk_cache)
		goto out_sector;
	BUILD_BUG_ON((CB_CHUNK_SECTORS << CB_SECTOR_SHIFT) > PAGE_SIZE);
	colo_page_pool_init(&colo_chunk_pages, 0, COLO_CHUNK_POOL_PAGES);
	ret = dm_register_target(&colo_target);
	if (ret)
		goto out_chunk;
	return 0;

out_chunk:
	kmem_cache_destroy(colo_chunk_cache);
out_sector:
	kmem_cache_destroy(colo_sector_cache);
out:
	return ret;
}

static void __exit dm_colo_exit(void)
{
	dm_unregister_target(&colo_target);
	colo_page_pool_destroy(&colo_chunk_pages);
	kmem_cache_destroy(colo_chunk_cache);
	kmem_cache_destroy(colo_sector_cache);
}

module_init(dm_colo_init);
module_exit(dm_colo_exit);
MODULE_DESCRIPTION(DM_NAME " COLO disk replication target");
MODULE_LICENSE("GPL");
