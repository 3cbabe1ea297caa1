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
 *
 * With drain_ms, the data a checkpoint would wait for (copies held, and
 * copies acknowledged but not yet flushed on the secondary) is also kept
 * under what the forward path makes durable in drain_ms (drain.h): the
 * primary flushes the forward device in the background as acknowledged data
 * piles up, and measures how fast copies are acknowledged and how fast
 * flushes make them durable.
 *
 * With sync_from, a write of that size or more is not copied: it is
 * forwarded from the guest's own pages, and the guest's write completes
 * once both the local device and the forward device have acknowledged it,
 * as writes do in QEMU's own COLO (quorum waits for both children). That
 * saves the copy and its memory, and costs the guest the secondary's
 * latency, which large writes mind least. While a hold keeps copies back,
 * large writes are copied too, so that the guest does not wait for the
 * release.
 *
 * Once forwarding has stopped, the primary keeps a record of the regions
 * the secondary may be missing (see struct colo_pri.map), for a later
 * resynchronisation to copy.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/blkdev.h>
#include <linux/timekeeping.h>

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
	struct bio *parent;		/* sync_from: the guest's write, ended with the forward */
	u64 seq;
	sector_t sector;
	unsigned int nr;
	bool submitted;
	bool flush;
	bool own_pages;
};

struct colo_pri {
	struct dm_target *ti;
	struct block_device *fwd;	/* the forward device, or NULL with nbdc */
	struct colo_nbdc *nbdc;		/* the own NBD client (nbd:// forward) */

	spinlock_t lock;		/* everything below */
	struct list_head pending;	/* not yet acknowledged */
	unsigned int nr_pending;
	unsigned int nr_inflight;
	unsigned int max_inflight;
	unsigned int sync_from;
	u64 sync_writes;		/* forwarded uncopied (sync_from) */
	u64 queued_bytes;		/* data held by pending copies */
	u64 seq;
	enum colo_pri_state state;
	u64 inflight_bytes;
	u64 sent_bytes;			/* acknowledged since the last checkpoint */
	u64 total_bytes;
	u64 errors;
	u64 checkpoints;
	u64 event_bytes;
	bool event_raised;
	/*
	 * "hold": copies queued from now on stay unsent until "release", the
	 * next checkpoint or a suspend, so that the secondary receives no
	 * write of the interval after a checkpoint before it holds that
	 * checkpoint (the agent resumes the guest before then).
	 */
	bool holding;

	/*
	 * The drain bound. total_bytes up to durable_bytes are on the
	 * secondary's disk (a flush covered them); the rest of total_bytes is
	 * acknowledged and unflushed. One background flush at a time
	 * (flush_busy), covering total_bytes as of flush_mark; a checkpoint
	 * sends one (flush_wanted) as soon as none is in flight; nr_flushes
	 * counts its bio until the end of its completion, for teardown.
	 *
	 * The send rate is measured from ack to ack while copies are in
	 * flight: send_since is the later of the last ack and the submission
	 * that found none in flight. Idle time between a guest's bursts is not
	 * the path's slowness. A flush goes out behind the copies already
	 * submitted (up to submitted_seq, then flush_ahead_seq) and on the
	 * same connections, and waits for them first: that wait is the send
	 * step's. So its own time, for the flush rate, runs from flush_start:
	 * its sending, moved to the ack of the last copy ahead of it if that
	 * comes later (flush_behind while some are unacknowledged).
	 */
	struct cb_drain drain;
	u64 durable_bytes;
	u64 flush_mark;
	u64 flush_wanted;		/* a checkpoint waits for this to be durable */
	u64 flush_ahead_seq;
	u64 flush_start;
	bool flush_behind;
	bool flush_busy;
	unsigned int nr_flushes;
	u64 submitted_seq;
	u64 send_since;
	u64 last_drain_ns;		/* duration of the last checkpoint */

	/*
	 * Regions the secondary may be missing. While forwarding, these are
	 * the regions of every copy queued since the last checkpoint that
	 * completed: nbd-server acknowledges a write once it is in its page
	 * cache, and only the checkpoint's flush puts it on the secondary's
	 * disk. map[cur] takes new copies; map[!cur] holds those of a
	 * checkpoint in progress (or of one that did not complete), cleared
	 * once its flush succeeded. When forwarding stops, map[!cur] is folded
	 * into map[cur], which becomes the record: every write, discard and
	 * write-zeroes is added to it from then on. Both are allocated with
	 * the target, so recording never allocates.
	 */
	struct cb_regions map[2];
	unsigned int cur;
	bool closing_durable;		/* map[!cur] is flushed and being cleared */
	struct mutex ckpt_lock;		/* one checkpoint at a time: cur, map[!cur] */

	wait_queue_head_t wait;		/* slots, checkpoint, teardown */
	struct workqueue_struct *wq;
	struct work_struct submit_work;
	struct work_struct event_work;
	struct bio_set bs;
	/* free pages for copies (page-pool.c): single pages, and chunks */
	struct colo_page_pool pool[2];
};

/*
 * A copy's data go into chunks of up to 64 KiB (one bvec each, the block
 * layer's default segment size) rather than single pages: a 1 MiB copy
 * then costs 16 allocations and bvecs instead of 256, which shows under
 * emulation. Copies under that size take single pages. Both come from the
 * primary's pools first (4 MiB of single pages, 16 MiB of chunks); when
 * memory is fragmented, smaller orders down to a single page are tried
 * without reclaim, and only a single page waits for memory.
 */
#define COLO_FWD_ORDER 4
#define COLO_FWD_POOL_PAGES 1024
#define COLO_FWD_POOL_CHUNKS 256

static void colo_fwd_put_page(struct colo_pri *p, struct page *page)
{
	unsigned int order = compound_order(page);

	if (order == p->pool[0].order)
		colo_page_pool_put(&p->pool[0], page);
	else if (order == p->pool[1].order)
		colo_page_pool_put(&p->pool[1], page);
	else
		put_page(page);
}

/*
 * A copy is done with: its pages go, or, for a write forwarded from the
 * guest's pages, the guest's write may complete as far as forwarding is
 * concerned (bio_endio drops the count taken in colo_fwd_alloc_uncopied;
 * a forward error never reaches the guest).
 */
static void colo_fwd_free(struct colo_fwd *f)
{
	if (f->bio) {
		if (f->own_pages) {
			struct bio_vec *bv;
			int i;

			/* one bvec per allocation, compound beyond a page */
			bio_for_each_bvec_all(bv, f->bio, i)
				colo_fwd_put_page(f->p, bv->bv_page);
		}
		bio_put(f->bio);
	}
	if (f->parent)
		bio_endio(f->parent);
	kfree(f);
}

static void colo_pri_event_work(struct work_struct *work)
{
	struct colo_pri *p = container_of(work, struct colo_pri, event_work);

	dm_table_event(p->ti->table);
}

/*
 * Forwarding stops (p->lock held): an active primary becomes `state` and
 * its record starts as the regions no completed checkpoint covers. Returns
 * false when forwarding had already stopped. The merge walks the bitmap
 * only when map[!cur] holds regions (a checkpoint in progress or one that
 * did not complete), once per table.
 */
static bool colo_pri_stop(struct colo_pri *p, enum colo_pri_state state)
{
	lockdep_assert_held(&p->lock);
	if (p->state != COLO_PRI_ACTIVE)
		return false;
	if (!p->closing_durable)
		cb_regions_or(&p->map[p->cur], &p->map[!p->cur]);
	p->state = state;
	return true;
}

/*
 * Regions of a write the secondary may miss (p->lock held): until it is
 * covered by a checkpoint while forwarding, for good once stopped.
 */
static void colo_pri_record(struct colo_pri *p, struct bio *bio)
{
	lockdep_assert_held(&p->lock);
	cb_regions_set(&p->map[p->cur], bio->bi_iter.bi_sector, bio_sectors(bio));
}

static u64 colo_pri_unflushed(struct colo_pri *p)
{
	return p->total_bytes - p->durable_bytes;
}

/*
 * A flush that covered total_bytes up to `mark` completed at `now` (p->lock
 * held): that data is durable, and the flush's time measures the flush rate.
 */
static void colo_pri_durable(struct colo_pri *p, u64 mark, u64 now)
{
	lockdep_assert_held(&p->lock);
	if (mark <= p->durable_bytes)
		return;
	cb_drain_flushed(&p->drain, mark - p->durable_bytes, now - p->flush_start);
	p->durable_bytes = mark;
}

static void colo_pri_flush_end_io(struct bio *bio)
{
	struct colo_pri *p = bio->bi_private;
	u64 now = ktime_get_ns();
	bool event = false;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->flush_busy = false;
	p->flush_behind = false;
	if (bio->bi_status) {
		/* acknowledged copies may never reach the secondary's disk */
		p->errors++;
		event = colo_pri_stop(p, COLO_PRI_DEGRADED);
	} else {
		colo_pri_durable(p, p->flush_mark, now);
	}
	spin_unlock_irqrestore(&p->lock, flags);

	bio_put(bio);
	if (event)
		queue_work(p->wq, &p->event_work);
	/* another flush may be due already */
	queue_work(p->wq, &p->submit_work);

	/* last, as in colo_fwd_end_io: the destructor may free p then */
	spin_lock_irqsave(&p->lock, flags);
	p->nr_flushes--;
	wake_up_all(&p->wait);
	spin_unlock_irqrestore(&p->lock, flags);
}

/* A copy, an uncopied guest write or a flush on its way to the secondary. */
static void colo_pri_issue(struct colo_pri *p, struct bio *bio)
{
	if (p->nbdc)
		colo_nbdc_submit(p->nbdc, bio);
	else
		submit_bio_noacct(bio);
}

/*
 * Background flush of the forward device: what it acknowledged so far
 * reaches the secondary's disk now rather than at the checkpoint. Not a
 * barrier: copies go on meanwhile, and the flush covers those acknowledged
 * before it was sent. The allocation cannot fail: GFP_NOIO waits on the bio
 * set's reserve.
 */
static void colo_pri_send_flush(struct colo_pri *p)
{
	struct bio *bio;

	bio = bio_alloc_bioset(p->fwd, 0, REQ_OP_WRITE | REQ_PREFLUSH, GFP_NOIO,
			       &p->bs);
	bio->bi_private = p;
	bio->bi_end_io = colo_pri_flush_end_io;
	colo_pri_issue(p, bio);
}

/* Is every copy numbered up to seq acknowledged (p->lock held)? */
static bool colo_pri_acked_up_to(struct colo_pri *p, u64 seq)
{
	struct colo_fwd *f = list_first_entry_or_null(&p->pending, struct colo_fwd, list);

	lockdep_assert_held(&p->lock);
	return !f || f->seq > seq;
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
		/* the copy's regions are in the map since it was queued */
		p->errors++;
		event = colo_pri_stop(p, COLO_PRI_DEGRADED);
	} else {
		u64 now = ktime_get_ns();

		cb_drain_sent(&p->drain, bytes, now - p->send_since);
		p->send_since = now;
		if (p->flush_behind && colo_pri_acked_up_to(p, p->flush_ahead_seq)) {
			p->flush_behind = false;
			p->flush_start = now;
		}
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
	bool flush = false;
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
		/*
		 * A hold keeps back copies only: large writes are copied while
		 * it is on. A guest write waiting here to be forwarded uncopied
		 * was queued before the hold began (or raced with its start,
		 * colo_pri_forward reads the flag unlocked): it goes, or the
		 * guest, and a suspend waiting for it, would wait for the
		 * release.
		 */
		if ((p->holding && !f->parent) || !colo_fwd_ready(p, f))
			break;
		f->submitted = true;
		p->submitted_seq = f->seq;
		if (!p->nr_inflight++)
			p->send_since = ktime_get_ns();
		p->inflight_bytes += (u64)f->nr << SECTOR_SHIFT;
		list_add_tail(&f->batch, &batch);
	}
	if (p->state == COLO_PRI_ACTIVE && !p->flush_busy &&
	    (p->durable_bytes < p->flush_wanted ||
	     cb_drain_flush_due(&p->drain, colo_pri_unflushed(p)))) {
		p->flush_busy = true;
		p->nr_flushes++;
		p->flush_start = ktime_get_ns();
		p->flush_ahead_seq = p->submitted_seq;
		p->flush_behind = !colo_pri_acked_up_to(p, p->submitted_seq);
		p->flush_mark = p->total_bytes;
		flush = true;
	}
	spin_unlock_irq(&p->lock);

	list_for_each_entry_safe(f, tmp, &drop, batch)
		colo_fwd_free(f);
	if (!list_empty(&drop))
		wake_up_all(&p->wait);
	/* one plug: contiguous copies reach the forward device merged */
	blk_start_plug(&plug);
	list_for_each_entry_safe(f, tmp, &batch, batch)
		colo_pri_issue(p, f->bio);
	blk_finish_plug(&plug);
	if (flush)
		colo_pri_send_flush(p);
}

static struct page *colo_fwd_alloc_pages(struct colo_pri *p, unsigned int *order)
{
	const gfp_t gfp = GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN;
	struct page *page;

	if (*order == COLO_FWD_ORDER) {
		page = colo_page_pool_get(&p->pool[1], gfp);
		if (page)
			return page;
		(*order)--;
	}
	for (; *order; (*order)--) {
		page = alloc_pages(gfp | __GFP_COMP, *order);
		if (page)
			return page;
	}
	return colo_page_pool_get(&p->pool[0], GFP_NOIO);
}

/* The flags a forward bio keeps of the guest's: the operation, flush and FUA. */
#define COLO_FWD_OPF (REQ_OP_MASK | REQ_PREFLUSH | REQ_FUA)

/* The forward of the guest bio `bio`, still without its own bio. */
static struct colo_fwd *colo_fwd_new(struct colo_pri *p, struct bio *bio)
{
	struct colo_fwd *f = kzalloc(sizeof(*f), GFP_NOIO);

	if (f) {
		f->p = p;
		f->sector = bio->bi_iter.bi_sector;
		f->nr = bio_sectors(bio);
	}
	return f;
}

static void colo_fwd_set_bio(struct colo_fwd *f, struct bio *bio)
{
	bio->bi_private = f;
	bio->bi_end_io = colo_fwd_end_io;
	f->bio = bio;
}

/*
 * A guest write forwarded from its own pages: the forward bio shares the
 * guest bio's vector, and the guest bio's completion waits for the forward's
 * (the remaining count taken here is dropped in colo_fwd_free).
 */
static struct colo_fwd *colo_fwd_alloc_uncopied(struct colo_pri *p, struct bio *bio)
{
	struct colo_fwd *f = colo_fwd_new(p, bio);
	struct bio *clone;

	if (!f)
		return NULL;
	clone = bio_alloc_clone(p->fwd, bio, GFP_NOIO, &p->bs);
	if (!clone) {
		kfree(f);
		return NULL;
	}
	clone->bi_opf = bio->bi_opf & COLO_FWD_OPF;
	colo_fwd_set_bio(f, clone);
	bio_inc_remaining(bio);
	f->parent = bio;
	return f;
}

/* Copy of a guest write, discard or flush, made while the guest bio is mapped. */
static struct colo_fwd *colo_fwd_alloc(struct colo_pri *p, struct bio *bio)
{
	unsigned int nr = bio_sectors(bio), bytes = nr << SECTOR_SHIFT;
	unsigned int nr_pages = DIV_ROUND_UP(bytes, PAGE_SIZE);
	bool data = bio_op(bio) == REQ_OP_WRITE && nr;
	struct bvec_iter iter = bio->bi_iter;
	struct colo_fwd *f = colo_fwd_new(p, bio);
	struct bio *copy;

	if (!f)
		return NULL;
	f->flush = !nr;
	f->own_pages = data;
	copy = bio_alloc_bioset(p->fwd, data ? nr_pages : 0, bio->bi_opf & COLO_FWD_OPF,
				GFP_NOIO, &p->bs);
	if (!copy)
		goto bad;
	copy->bi_iter.bi_sector = f->sector;
	colo_fwd_set_bio(f, copy);
	if (!data) {
		/* discards carry a size and no data */
		f->bio->bi_iter.bi_size = bytes;
		return f;
	}
	while (bytes) {
		unsigned int order = get_order(bytes) >= COLO_FWD_ORDER ? COLO_FWD_ORDER : 0;
		struct page *page;
		unsigned int len;

		page = colo_fwd_alloc_pages(p, &order);
		if (!page)
			goto bad;
		len = min_t(unsigned int, bytes, PAGE_SIZE << order);
		colo_bio_copy(bio, &iter, page_address(page), len, false);
		__bio_add_page(f->bio, page, len, 0);
		bytes -= len;
	}
	return f;
bad:
	colo_fwd_free(f);
	return NULL;
}

/* Room for `bytes` more in the queue and under the drain bound? */
static bool colo_pri_has_room(struct colo_pri *p, u64 bytes)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = p->state != COLO_PRI_ACTIVE ||
	      cb_drain_room(&p->drain, p->queued_bytes, colo_pri_unflushed(p),
			    p->nr_pending, bytes);
	spin_unlock_irq(&p->lock);
	return ret;
}

static void colo_pri_forward(struct colo_pri *p, struct bio *bio)
{
	u64 bytes = (u64)bio_sectors(bio) << SECTOR_SHIFT;
	bool event = false, uncopied;
	struct colo_fwd *f;

	/* back-pressure: the guest waits while the queue is full */
	wait_event(p->wait, colo_pri_has_room(p, bytes));
	uncopied = p->sync_from && bio_op(bio) == REQ_OP_WRITE &&
		   bytes >= p->sync_from && !READ_ONCE(p->holding);
	f = uncopied ? colo_fwd_alloc_uncopied(p, bio) : colo_fwd_alloc(p, bio);

	spin_lock_irq(&p->lock);
	if (!f && p->state == COLO_PRI_ACTIVE) {
		/* the copy is lost: the secondary can no longer be trusted */
		p->errors++;
		event = colo_pri_stop(p, COLO_PRI_DEGRADED);
	}
	/*
	 * Under the lock that orders it with the stop: a write either is
	 * queued (and its regions stay in the map until a checkpoint
	 * covers it) or finds forwarding stopped and is in the record.
	 */
	colo_pri_record(p, bio);
	if (p->state != COLO_PRI_ACTIVE) {
		spin_unlock_irq(&p->lock);
		if (f)
			colo_fwd_free(f);
		if (event)
			queue_work(p->wq, &p->event_work);
		return;
	}
	f->seq = ++p->seq;
	list_add_tail(&f->list, &p->pending);
	p->nr_pending++;
	p->sync_writes += uncopied;
	p->queued_bytes += bytes;
	spin_unlock_irq(&p->lock);
	queue_work(p->wq, &p->submit_work);
}

int colo_pri_map(struct colo_c *cc, struct bio *bio)
{
	struct colo_pri *p = cc->pri;

	colo_bound_write(bio);
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
		if (READ_ONCE(p->state) == COLO_PRI_ACTIVE) {
			colo_pri_forward(p, bio);
			break;
		}
		fallthrough;
	case REQ_OP_WRITE_ZEROES:
		/*
		 * Stopped, or write-zeroes, which is never forwarded (io_hints
		 * keep it from coming): the secondary misses these regions.
		 */
		spin_lock_irq(&p->lock);
		colo_pri_record(p, bio);
		spin_unlock_irq(&p->lock);
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
	u32 shift;
	int ret, i;

	if (cc->dev[1] && cc->dev[0]->bdev == cc->dev[1]->bdev) {
		ti->error = "Local and forward devices must differ";
		return -EINVAL;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		ti->error = "Cannot allocate primary state";
		return -ENOMEM;
	}
	p->ti = ti;
	p->fwd = cc->dev[1] ? cc->dev[1]->bdev : NULL;
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->pending);
	p->max_inflight = cc->t.max_inflight;
	p->sync_from = cc->t.sync_from;
	cb_drain_init(&p->drain, cc->t.drain_ms, cc->t.queue_bytes);
	p->event_bytes = cc->t.event_bytes;
	init_waitqueue_head(&p->wait);
	mutex_init(&p->ckpt_lock);
	colo_page_pool_init(&p->pool[0], 0, COLO_FWD_POOL_PAGES);
	colo_page_pool_init(&p->pool[1], COLO_FWD_ORDER, COLO_FWD_POOL_CHUNKS);
	INIT_WORK(&p->submit_work, colo_pri_submit_work);
	INIT_WORK(&p->event_work, colo_pri_event_work);

	shift = ilog2(cc->t.region_size >> SECTOR_SHIFT);
	for (i = 0; i < ARRAY_SIZE(p->map); i++) {
		ret = cb_regions_init(&p->map[i], ti->len, shift);
		if (ret) {
			ti->error = ret == -E2BIG ?
				    "region_size too small for this device: the written record would take more than 32 MiB" :
				    "Cannot allocate the written record";
			ret = ret == -E2BIG ? -EINVAL : ret;
			goto bad_map;
		}
	}

	ret = bioset_init(&p->bs, 64, 0, BIOSET_NEED_BVECS);
	if (ret) {
		ti->error = "Cannot allocate bio set";
		goto bad_map;
	}
	p->wq = alloc_workqueue("kcolo_pri", WQ_MEM_RECLAIM, 1);
	if (!p->wq) {
		ti->error = "Cannot allocate workqueue";
		ret = -ENOMEM;
		goto bad_wq;
	}
	if (cc->t.nbd_connect[0]) {
		ret = colo_nbdc_open(cc, &p->nbdc);
		if (ret)
			goto bad_nbdc;
	}
	ti->num_write_zeroes_bios = 0;
	cc->pri = p;
	return 0;

bad_nbdc:
	destroy_workqueue(p->wq);
bad_wq:
	bioset_exit(&p->bs);
bad_map:
	cb_regions_destroy(&p->map[0]);
	cb_regions_destroy(&p->map[1]);
	kfree(p);
	return ret;
}

static bool colo_pri_idle(struct colo_pri *p)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = !p->nr_pending && !p->nr_flushes;
	spin_unlock_irq(&p->lock);
	return ret;
}

void colo_pri_dtr(struct colo_c *cc)
{
	struct colo_pri *p = cc->pri;

	spin_lock_irq(&p->lock);
	colo_pri_stop(p, COLO_PRI_STOPPED);
	spin_unlock_irq(&p->lock);
	/*
	 * Unsent copies are dropped by the worker, sent ones and a background
	 * flush must come back: the own client fails them at once.
	 */
	if (p->nbdc)
		colo_nbdc_shutdown(p->nbdc);
	queue_work(p->wq, &p->submit_work);
	wait_event(p->wait, colo_pri_idle(p));
	destroy_workqueue(p->wq);
	if (p->nbdc)
		colo_nbdc_close(p->nbdc);
	colo_page_pool_destroy(&p->pool[0]);
	colo_page_pool_destroy(&p->pool[1]);
	cb_regions_destroy(&p->map[0]);
	cb_regions_destroy(&p->map[1]);
	bioset_exit(&p->bs);
	kfree(p);
}

/* Every copy numbered up to seq has been acknowledged (or dropped). */
static bool colo_pri_drained(struct colo_pri *p, u64 seq)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = colo_pri_acked_up_to(p, seq) || p->state != COLO_PRI_ACTIVE;
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

	colo_pri_hold(cc, false);
	spin_lock_irq(&p->lock);
	seq = p->seq;
	spin_unlock_irq(&p->lock);

	if (!wait_event_killable(p->wait, colo_pri_drained(p, seq)))
		return;
	spin_lock_irq(&p->lock);
	event = colo_pri_stop(p, COLO_PRI_DEGRADED);
	spin_unlock_irq(&p->lock);
	/* the worker drops what was not sent */
	queue_work(p->wq, &p->submit_work);
	if (!event)
		return;
	queue_work(p->wq, &p->event_work);
	DMWARN("%s: suspend interrupted before the forwarded writes were acknowledged: degraded",
	       dm_table_device_name(p->ti->table));
}

/* Everything acknowledged up to mark is durable, or forwarding stopped. */
static bool colo_pri_flushed(struct colo_pri *p, u64 mark)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = p->durable_bytes >= mark || p->state != COLO_PRI_ACTIVE;
	spin_unlock_irq(&p->lock);
	return ret;
}

/*
 * Waits for cond until *left (jiffies) runs out, taking what it used off
 * *left. 0, -ERESTARTSYS on a fatal signal, -ETIMEDOUT.
 */
#define colo_pri_wait(p, cond, left)					\
({									\
	long __cpw_ret = wait_event_killable_timeout((p)->wait, cond,	\
						     *(left));		\
									\
	if (__cpw_ret > 0)						\
		*(left) = __cpw_ret;					\
	__cpw_ret < 0 ? (int)__cpw_ret : __cpw_ret ? 0 : -ETIMEDOUT;	\
})

/*
 * The copies issued so far are acknowledged, then made durable by a flush
 * of the forward device. The flush goes out as the background flushes do
 * (flush_wanted), so a checkpoint that gives up after timeout_ms leaves no
 * waiter behind: what it started completes, or fails, later as any copy
 * does, the primary still forwarding and its regions still in map[!cur].
 */
static int colo_pri_do_checkpoint(struct colo_pri *p, u64 timeout_ms, const char **why)
{
	long left = timeout_ms ? msecs_to_jiffies(timeout_ms) : MAX_SCHEDULE_TIMEOUT;
	u64 seq, mark, start = ktime_get_ns();
	bool durable = false;
	int ret;

	spin_lock_irq(&p->lock);
	seq = p->seq;
	/*
	 * The copies queued so far become durable with this checkpoint's
	 * flush: their regions move aside, to be forgotten then. Regions left
	 * there by a checkpoint that did not complete are older still and
	 * stay; new copies go on into map[cur] meanwhile.
	 */
	if (p->state == COLO_PRI_ACTIVE && !p->map[!p->cur].nr_set)
		p->cur = !p->cur;
	spin_unlock_irq(&p->lock);

	ret = colo_pri_wait(p, colo_pri_drained(p, seq), &left);
	if (ret == -ETIMEDOUT) {
		*why = "Timed out: the forward device has not acknowledged the writes";
		return ret;
	}
	if (ret) {
		*why = "Interrupted";
		return ret;
	}
	/* the secondary holds the data once its replica has flushed it */
	spin_lock_irq(&p->lock);
	mark = p->total_bytes;
	if (p->state == COLO_PRI_ACTIVE && mark > p->flush_wanted)
		p->flush_wanted = mark;
	spin_unlock_irq(&p->lock);
	queue_work(p->wq, &p->submit_work);
	ret = colo_pri_wait(p, colo_pri_flushed(p, mark), &left);
	if (ret == -ETIMEDOUT) {
		*why = "Timed out: the forward device has not completed the flush";
		return ret;
	}
	if (ret) {
		*why = "Interrupted";
		return ret;
	}
	spin_lock_irq(&p->lock);
	if (p->state == COLO_PRI_ACTIVE) {
		p->last_drain_ns = ktime_get_ns() - start;
		p->sent_bytes = 0;
		p->event_raised = false;
		p->checkpoints++;
		/* a stop from now on leaves map[!cur] alone while it is cleared */
		durable = true;
		p->closing_durable = true;
	}
	spin_unlock_irq(&p->lock);
	if (!durable) {
		*why = READ_ONCE(p->state) == COLO_PRI_DEGRADED ?
		       "Degraded: the forward device failed a copy or a flush" :
		       "Forwarding was stopped by failover";
		return -EIO;
	}
	/* outside the lock: only this checkpoint touches map[!cur] now */
	cb_regions_clear_all(&p->map[!p->cur]);
	spin_lock_irq(&p->lock);
	p->closing_durable = false;
	spin_unlock_irq(&p->lock);
	return 0;
}

/* A checkpoint drains what a hold kept: it releases it first. */
int colo_pri_checkpoint(struct colo_c *cc, u64 timeout_ms, const char **why)
{
	struct colo_pri *p = cc->pri;
	int ret;

	if (mutex_lock_killable(&p->ckpt_lock)) {
		*why = "Interrupted";
		return -EINTR;
	}
	colo_pri_hold(cc, false);
	ret = colo_pri_do_checkpoint(p, timeout_ms, why);
	mutex_unlock(&p->ckpt_lock);
	return ret;
}

void colo_pri_hold(struct colo_c *cc, bool hold)
{
	struct colo_pri *p = cc->pri;

	spin_lock_irq(&p->lock);
	p->holding = hold;
	spin_unlock_irq(&p->lock);
	if (!hold)
		queue_work(p->wq, &p->submit_work);
}

int colo_pri_failover(struct colo_c *cc, const char **why)
{
	struct colo_pri *p = cc->pri;

	spin_lock_irq(&p->lock);
	if (!colo_pri_stop(p, COLO_PRI_STOPPED))
		p->state = COLO_PRI_STOPPED;
	spin_unlock_irq(&p->lock);
	/* what is in flight to the old secondary fails now, not at a timeout */
	if (p->nbdc)
		colo_nbdc_shutdown(p->nbdc);
	queue_work(p->wq, &p->submit_work);
	wake_up_all(&p->wait);
	return 0;
}

/*
 * Room kept at the end of a "written" result for the continuation line:
 * "next=", up to 20 digits, a newline and the NUL.
 */
#define COLO_NEXT_ROOM 28

/*
 * The record as "<start>+<sectors>" lines, runs of whole regions from the
 * one holding `from` on. What does not fit ends with "next=<sector>", where
 * the caller goes on. The record may grow while it is read, so the lock is
 * taken per run rather than for the whole walk: a long record does not
 * hold off the guest's writes, which need it too.
 */
int colo_pri_written(struct colo_c *cc, u64 from, char *result,
		     unsigned int maxlen, const char **why)
{
	struct colo_pri *p = cc->pri;
	unsigned int sz = 0;
	u64 start, nr;

	if (from >= cc->ti->len) {
		*why = "Sector beyond the end of the device";
		return -EINVAL;
	}
	if (maxlen < 2 * COLO_NEXT_ROOM) {
		*why = "Result buffer too small";
		return -ENOSPC;
	}
	result[0] = '\0';
	for (;;) {
		char run[48];
		unsigned int n;
		bool found;

		spin_lock_irq(&p->lock);
		found = p->state != COLO_PRI_ACTIVE &&
			cb_regions_next_run(&p->map[p->cur], from, &start, &nr);
		spin_unlock_irq(&p->lock);
		if (!found)
			break;
		n = scnprintf(run, sizeof(run), "%llu+%llu\n",
			      (unsigned long long)start, (unsigned long long)nr);
		if (sz + n + COLO_NEXT_ROOM > maxlen) {
			DMEMIT("next=%llu\n", (unsigned long long)start);
			break;
		}
		memcpy(result + sz, run, n + 1);
		sz += n;
		from = start + nr;
	}
	return 1;
}

int colo_pri_clear_written(struct colo_c *cc, u64 sector, u64 nr,
			   const char **why)
{
	struct colo_pri *p = cc->pri;
	int ret = 0;

	if (sector >= cc->ti->len) {
		*why = "Sector beyond the end of the device";
		return -EINVAL;
	}
	spin_lock_irq(&p->lock);
	/* while forwarding, the map is not a record: it follows checkpoints */
	if (p->state == COLO_PRI_ACTIVE) {
		*why = "Still forwarding: there is no record to clear";
		ret = -EBUSY;
	} else {
		cb_regions_clear(&p->map[p->cur], sector, nr);
	}
	spin_unlock_irq(&p->lock);
	return ret;
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
	DMEMIT("primary %s pending=%u queued_bytes=%llu inflight=%u inflight_bytes=%llu sent_bytes=%llu total_bytes=%llu errors=%llu checkpoints=%llu written_regions=%llu region_size=%llu unflushed_bytes=%llu drain_limit=%llu drain_bw=%llu drain_flush_bw=%llu drain_estimate_us=%llu last_drain_us=%llu holding=%d sync_writes=%llu",
	       names[p->state], p->nr_pending, p->queued_bytes, p->nr_inflight,
	       p->inflight_bytes, p->sent_bytes, p->total_bytes, p->errors,
	       p->checkpoints,
	       p->state == COLO_PRI_ACTIVE ? 0ULL : p->map[p->cur].nr_set,
	       (u64)SECTOR_SIZE << p->map[0].shift, colo_pri_unflushed(p),
	       p->drain.limit, p->drain.send.bw, p->drain.flush.bw,
	       cb_drain_estimate_us(&p->drain, p->queued_bytes, colo_pri_unflushed(p)),
	       div_u64(p->last_drain_ns, 1000), p->holding, p->sync_writes);
	if (p->nbdc)
		DMEMIT(" nbd=%s", colo_nbdc_connected(p->nbdc) ? "connected" : "closed");
	spin_unlock_irq(&p->lock);
	*psz = sz;
}
