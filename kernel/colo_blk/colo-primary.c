// SPDX-License-Identifier: GPL-2.0
/*
 * dm-colo primary: guest I/O goes to the local device; every write (and
 * discard and flush) is copied when it is mapped and forwarded to the
 * forward device (the secondary's replica face over NBD) asynchronously.
 *
 * Forwarding keeps at most max_inflight copies in flight to the forward
 * device and at most queue_bytes of copies held (beyond that the guest
 * waits), never has two overlapping writes in flight (so the secondary sees
 * them in order per sector), and treats a flush as a barrier. A forward error
 * never reaches the guest: the primary becomes degraded and stops
 * forwarding. checkpoint returns once every write issued before it has been
 * acknowledged by the forward device, and so does suspend.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/blkdev.h>

#include "colo.h"

enum colo_pri_state {
	COLO_PRI_ACTIVE,
	COLO_PRI_DEGRADED,	/* forward device failed */
	COLO_PRI_STOPPED,	/* failover: the secondary is gone for good */
};

struct colo_pri;

struct colo_fwd {
	struct list_head list;		/* colo_pri.pending, in issue order */
	struct list_head batch;		/* submission batch of the worker */
	struct colo_pri *p;
	struct bio *bio;
	u64 seq;
	sector_t sector;
	unsigned int nr;
	bool submitted;
	bool flush;
	bool own_pages;
};

struct colo_pri {
	struct dm_target *ti;
	struct block_device *fwd;

	spinlock_t lock;		/* everything below */
	struct list_head pending;	/* not yet acknowledged */
	unsigned int nr_pending;
	unsigned int nr_inflight;
	unsigned int max_inflight;
	u64 queued_bytes;		/* data held by pending copies */
	u64 queue_bytes;		/* limit of queued_bytes */
	u64 seq;
	enum colo_pri_state state;
	u64 inflight_bytes;
	u64 sent_bytes;			/* acknowledged since the last checkpoint */
	u64 total_bytes;
	u64 errors;
	u64 checkpoints;
	u64 event_bytes;
	bool event_raised;

	wait_queue_head_t wait;		/* slots, checkpoint, teardown */
	struct workqueue_struct *wq;
	struct work_struct submit_work;
	struct work_struct event_work;
	struct bio_set bs;
};

static void colo_fwd_free(struct colo_fwd *f)
{
	if (f->bio) {
		if (f->own_pages) {
			struct bvec_iter_all iter;
			struct bio_vec *bv;

			bio_for_each_segment_all(bv, f->bio, iter)
				__free_page(bv->bv_page);
		}
		bio_put(f->bio);
	}
	kfree(f);
}

static void colo_pri_event_work(struct work_struct *work)
{
	struct colo_pri *p = container_of(work, struct colo_pri, event_work);

	dm_table_event(p->ti->table);
}

static void colo_fwd_end_io(struct bio *bio)
{
	struct colo_fwd *f = bio->bi_private;
	struct colo_pri *p = f->p;
	u64 bytes = (u64)f->nr << SECTOR_SHIFT;
	bool event = false;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	list_del(&f->list);
	p->nr_inflight--;
	p->inflight_bytes -= bytes;
	p->queued_bytes -= bytes;
	if (bio->bi_status) {
		p->errors++;
		if (p->state == COLO_PRI_ACTIVE) {
			p->state = COLO_PRI_DEGRADED;
			event = true;
		}
	} else {
		p->sent_bytes += bytes;
		p->total_bytes += bytes;
		if (p->event_bytes && !p->event_raised &&
		    p->sent_bytes >= p->event_bytes) {
			p->event_raised = true;
			event = true;
		}
	}
	spin_unlock_irqrestore(&p->lock, flags);

	colo_fwd_free(f);
	if (event)
		queue_work(p->wq, &p->event_work);
	queue_work(p->wq, &p->submit_work);

	/*
	 * Last: once nr_pending drops, the destructor may free p (after
	 * draining the work queued above).
	 */
	spin_lock_irqsave(&p->lock, flags);
	p->nr_pending--;
	wake_up_all(&p->wait);
	spin_unlock_irqrestore(&p->lock, flags);
}

static bool colo_fwd_overlaps(const struct colo_fwd *a, const struct colo_fwd *b)
{
	return a->nr && b->nr && a->sector < b->sector + b->nr &&
	       b->sector < a->sector + a->nr;
}

/* May f go now? Only submitted copies precede it when this is asked. */
static bool colo_fwd_ready(struct colo_pri *p, struct colo_fwd *f)
{
	struct colo_fwd *e;

	if (p->nr_inflight >= p->max_inflight)
		return false;
	if (f->flush)
		return !p->nr_inflight;
	list_for_each_entry(e, &p->pending, list) {
		if (e == f)
			break;
		if (e->flush || colo_fwd_overlaps(e, f))
			return false;
	}
	return true;
}

static void colo_pri_submit_work(struct work_struct *work)
{
	struct colo_pri *p = container_of(work, struct colo_pri, submit_work);
	struct colo_fwd *f, *tmp;
	struct blk_plug plug;
	LIST_HEAD(batch);
	LIST_HEAD(drop);

	spin_lock_irq(&p->lock);
	list_for_each_entry_safe(f, tmp, &p->pending, list) {
		if (f->submitted)
			continue;
		if (p->state != COLO_PRI_ACTIVE) {
			/* degraded or stopped: unsent copies are dropped */
			list_del(&f->list);
			p->nr_pending--;
			p->queued_bytes -= (u64)f->nr << SECTOR_SHIFT;
			list_add_tail(&f->batch, &drop);
			continue;
		}
		if (!colo_fwd_ready(p, f))
			break;
		f->submitted = true;
		p->nr_inflight++;
		p->inflight_bytes += (u64)f->nr << SECTOR_SHIFT;
		list_add_tail(&f->batch, &batch);
	}
	spin_unlock_irq(&p->lock);

	list_for_each_entry_safe(f, tmp, &drop, batch)
		colo_fwd_free(f);
	if (!list_empty(&drop))
		wake_up_all(&p->wait);
	/* one plug: contiguous copies reach the forward device merged */
	blk_start_plug(&plug);
	list_for_each_entry_safe(f, tmp, &batch, batch)
		submit_bio_noacct(f->bio);
	blk_finish_plug(&plug);
}

/* Copy of a guest write, discard or flush, made while the guest bio is mapped. */
static struct colo_fwd *colo_fwd_alloc(struct colo_pri *p, struct bio *bio)
{
	unsigned int nr = bio_sectors(bio), bytes = nr << SECTOR_SHIFT;
	unsigned int nr_pages = DIV_ROUND_UP(bytes, PAGE_SIZE);
	bool data = bio_op(bio) == REQ_OP_WRITE && nr;
	struct bvec_iter iter = bio->bi_iter;
	struct colo_fwd *f;
	unsigned int i;

	f = kzalloc(sizeof(*f), GFP_NOIO);
	if (!f)
		return NULL;
	f->p = p;
	f->sector = bio->bi_iter.bi_sector;
	f->nr = nr;
	f->flush = !nr;
	f->own_pages = data;
	f->bio = bio_alloc_bioset(p->fwd, data ? nr_pages : 0,
				  bio->bi_opf & (REQ_OP_MASK | REQ_PREFLUSH | REQ_FUA),
				  GFP_NOIO, &p->bs);
	if (!f->bio)
		goto bad;
	f->bio->bi_iter.bi_sector = f->sector;
	f->bio->bi_private = f;
	f->bio->bi_end_io = colo_fwd_end_io;
	if (!data) {
		/* discards carry a size and no data */
		f->bio->bi_iter.bi_size = bytes;
		return f;
	}
	for (i = 0; i < nr_pages; i++) {
		unsigned int len = min_t(unsigned int, bytes, PAGE_SIZE);
		struct page *page = alloc_page(GFP_NOIO);

		if (!page)
			goto bad;
		colo_bio_copy(bio, &iter, page_address(page), len, false);
		__bio_add_page(f->bio, page, len, 0);
		bytes -= len;
	}
	return f;
bad:
	colo_fwd_free(f);
	return NULL;
}

/* Room for `bytes` more in the queue? A copy always fits an empty queue. */
static bool colo_pri_has_room(struct colo_pri *p, u64 bytes)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = p->state != COLO_PRI_ACTIVE || !p->nr_pending ||
	      p->queued_bytes + bytes <= p->queue_bytes;
	spin_unlock_irq(&p->lock);
	return ret;
}

static void colo_pri_forward(struct colo_pri *p, struct bio *bio)
{
	u64 bytes = (u64)bio_sectors(bio) << SECTOR_SHIFT;
	struct colo_fwd *f;
	bool event = false;

	/* back-pressure: the guest waits while the queue is full */
	wait_event(p->wait, colo_pri_has_room(p, bytes));
	f = colo_fwd_alloc(p, bio);

	spin_lock_irq(&p->lock);
	if (p->state != COLO_PRI_ACTIVE) {
		spin_unlock_irq(&p->lock);
		if (f)
			colo_fwd_free(f);
		return;
	}
	if (!f) {
		/* the copy is lost: the secondary can no longer be trusted */
		p->errors++;
		p->state = COLO_PRI_DEGRADED;
		event = true;
	} else {
		f->seq = ++p->seq;
		list_add_tail(&f->list, &p->pending);
		p->nr_pending++;
		p->queued_bytes += bytes;
	}
	spin_unlock_irq(&p->lock);
	if (event)
		queue_work(p->wq, &p->event_work);
	queue_work(p->wq, &p->submit_work);
}

int colo_pri_map(struct colo_c *cc, struct bio *bio)
{
	struct colo_pri *p = cc->pri;

	colo_bound_write(bio);
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
		if (READ_ONCE(p->state) == COLO_PRI_ACTIVE)
			colo_pri_forward(p, bio);
		break;
	default:
		break;
	}
	return DM_MAPIO_REMAPPED;
}

int colo_pri_ctr(struct colo_c *cc)
{
	struct dm_target *ti = cc->ti;
	struct colo_pri *p;
	int ret;

	if (cc->dev[0]->bdev == cc->dev[1]->bdev) {
		ti->error = "Local and forward devices must differ";
		return -EINVAL;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		ti->error = "Cannot allocate primary state";
		return -ENOMEM;
	}
	p->ti = ti;
	p->fwd = cc->dev[1]->bdev;
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->pending);
	p->max_inflight = cc->t.max_inflight;
	p->queue_bytes = cc->t.queue_bytes;
	p->event_bytes = cc->t.event_bytes;
	init_waitqueue_head(&p->wait);
	INIT_WORK(&p->submit_work, colo_pri_submit_work);
	INIT_WORK(&p->event_work, colo_pri_event_work);

	ret = bioset_init(&p->bs, 64, 0, BIOSET_NEED_BVECS);
	if (ret) {
		ti->error = "Cannot allocate bio set";
		goto bad_bioset;
	}
	p->wq = alloc_workqueue("kcolo_pri", WQ_MEM_RECLAIM, 1);
	if (!p->wq) {
		ti->error = "Cannot allocate workqueue";
		ret = -ENOMEM;
		goto bad_wq;
	}
	ti->num_write_zeroes_bios = 0;
	cc->pri = p;
	return 0;

bad_wq:
	bioset_exit(&p->bs);
bad_bioset:
	kfree(p);
	return ret;
}

static bool colo_pri_idle(struct colo_pri *p)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = !p->nr_pending;
	spin_unlock_irq(&p->lock);
	return ret;
}

void colo_pri_dtr(struct colo_c *cc)
{
	struct colo_pri *p = cc->pri;

	spin_lock_irq(&p->lock);
	if (p->state == COLO_PRI_ACTIVE)
		p->state = COLO_PRI_STOPPED;
	spin_unlock_irq(&p->lock);
	/* unsent copies are dropped by the worker, sent ones must come back */
	queue_work(p->wq, &p->submit_work);
	wait_event(p->wait, colo_pri_idle(p));
	destroy_workqueue(p->wq);
	bioset_exit(&p->bs);
	kfree(p);
}

/* Every copy numbered up to seq has been acknowledged (or dropped). */
static bool colo_pri_drained(struct colo_pri *p, u64 seq)
{
	struct colo_fwd *f;
	bool ret;

	spin_lock_irq(&p->lock);
	f = list_first_entry_or_null(&p->pending, struct colo_fwd, list);
	ret = !f || f->seq > seq || p->state != COLO_PRI_ACTIVE;
	spin_unlock_irq(&p->lock);
	return ret;
}

/*
 * Suspend, before a table swap and at removal: device-mapper has waited for
 * the guest's bios, but their copies are not tied to them. Left in flight,
 * the old table of a reload would forward alongside the new one (two writes
 * to a sector in flight at once, in either order), drop what it had not
 * sent when it is destroyed, and a checkpoint on the new table would not
 * wait for them. So the copies are drained here, as other targets drain
 * their own background I/O. A fatal signal ends the wait (a hung forward
 * device must not hold the suspend for ever): the secondary may then miss
 * writes, so the primary degrades.
 */
void colo_pri_postsuspend(struct colo_c *cc)
{
	struct colo_pri *p = cc->pri;
	bool event = false;
	u64 seq;

	spin_lock_irq(&p->lock);
	seq = p->seq;
	spin_unlock_irq(&p->lock);

	if (!wait_event_killable(p->wait, colo_pri_drained(p, seq)))
		return;
	spin_lock_irq(&p->lock);
	if (p->state == COLO_PRI_ACTIVE) {
		p->state = COLO_PRI_DEGRADED;
		event = true;
	}
	spin_unlock_irq(&p->lock);
	/* the worker drops what was not sent */
	queue_work(p->wq, &p->submit_work);
	if (!event)
		return;
	queue_work(p->wq, &p->event_work);
	DMWARN("%s: suspend interrupted before the forwarded writes were acknowledged: degraded",
	       dm_table_device_name(p->ti->table));
}

int colo_pri_checkpoint(struct colo_c *cc, const char **why)
{
	struct colo_pri *p = cc->pri;
	u64 seq;
	int ret;

	spin_lock_irq(&p->lock);
	seq = p->seq;
	spin_unlock_irq(&p->lock);

	ret = wait_event_killable(p->wait, colo_pri_drained(p, seq));
	if (ret) {
		*why = "Interrupted";
		return ret;
	}
	if (READ_ONCE(p->state) != COLO_PRI_ACTIVE) {
		*why = READ_ONCE(p->state) == COLO_PRI_DEGRADED ?
		       "Degraded: the forward device failed" :
		       "Forwarding was stopped by failover";
		return -EIO;
	}
	/* the secondary holds the data once its replica has flushed it */
	ret = blkdev_issue_flush(p->fwd);
	spin_lock_irq(&p->lock);
	if (ret) {
		p->errors++;
		if (p->state == COLO_PRI_ACTIVE)
			p->state = COLO_PRI_DEGRADED;
	} else {
		p->sent_bytes = 0;
		p->event_raised = false;
		p->checkpoints++;
	}
	spin_unlock_irq(&p->lock);
	if (ret) {
		queue_work(p->wq, &p->event_work);
		*why = "Degraded: flushing the forward device failed";
		return -EIO;
	}
	return 0;
}

int colo_pri_failover(struct colo_c *cc, const char **why)
{
	struct colo_pri *p = cc->pri;

	spin_lock_irq(&p->lock);
	p->state = COLO_PRI_STOPPED;
	spin_unlock_irq(&p->lock);
	queue_work(p->wq, &p->submit_work);
	wake_up_all(&p->wait);
	return 0;
}

void colo_pri_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *psz)
{
	static const char * const names[] = {
		[COLO_PRI_ACTIVE] = "active",
		[COLO_PRI_DEGRADED] = "degraded",
		[COLO_PRI_STOPPED] = "stopped",
	};
	struct colo_pri *p = cc->pri;
	unsigned int sz = *psz;

	spin_lock_irq(&p->lock);
	DMEMIT("primary %s pending=%u queued_bytes=%llu inflight=%u inflight_bytes=%llu sent_bytes=%llu total_bytes=%llu errors=%llu checkpoints=%llu",
	       names[p->state], p->nr_pending, p->queued_bytes, p->nr_inflight,
	       p->inflight_bytes, p->sent_bytes, p->total_bytes, p->errors,
	       p->checkpoints);
	spin_unlock_irq(&p->lock);
	*psz = sz;
}
