// SPDX-License-Identifier: GPL-2.0
/*
 * dm-colo secondary and replica faces.
 *
 * The SVM reads, per sector: its own write since the last checkpoint, else
 * the pre-image saved before the primary overwrote the sector, else the base.
 * The replica writes the primary's data to the base after saving the
 * pre-image (first write per sector per interval only). checkpoint drops both
 * buffers; failover writes them into the base (SVM's writes win) and turns
 * the secondary into a pass-through.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/blkdev.h>
#include <linux/sort.h>

#include "colo.h"

/* Secondaries by name, for replicas to bind to. */
static LIST_HEAD(colo_registry);
static DEFINE_MUTEX(colo_registry_lock);

static const u8 colo_zero_sector[CB_SECTOR_SIZE];

static struct colo_sec *colo_registry_find(const char *name)
{
	struct colo_sec *s;

	list_for_each_entry(s, &colo_registry, list)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static void colo_sec_release(struct kref *ref)
{
	struct colo_sec *s = container_of(ref, struct colo_sec, ref);

	destroy_workqueue(s->wq);
	dm_io_client_destroy(s->io);
	bioset_exit(&s->bs);
	cb_map_destroy(&s->svm);
	cb_map_destroy(&s->pre);
	kfree(s);
}

static void colo_sec_put(struct colo_sec *s)
{
	kref_put(&s->ref, colo_sec_release);
}

/* Raises a dm event on the secondary device (the one the agent watches). */
static void colo_sec_event(struct colo_sec *s)
{
	lockdep_assert_held(&s->lock);
	if (s->sec_ti)
		dm_table_event(s->sec_ti->table);
}

static u64 colo_sec_used(struct colo_sec *s)
{
	return (s->svm.nr_sectors + s->pre.nr_sectors) << CB_SECTOR_SHIFT;
}

/*
 * Whether adding `more` sectors stays within the limit. Going over fails the
 * write (never drops data) and tells the agent through status and an event.
 */
static bool colo_sec_reserve(struct colo_sec *s, u64 more)
{
	if (colo_sec_used(s) + (more << CB_SECTOR_SHIFT) <= s->limit)
		return true;
	s->overflows++;
	if (!s->overflowed) {
		s->overflowed = true;
		colo_sec_event(s);
	}
	return false;
}

static void colo_sec_check_threshold(struct colo_sec *s)
{
	if (s->event_raised ||
	    colo_sec_used(s) * 100 < s->limit * s->event_percent)
		return;
	s->event_raised = true;
	colo_sec_event(s);
}

static void colo_defer_work(struct work_struct *work);

static void colo_defer(struct colo_sec *s, struct bio *bio)
{
	struct colo_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	INIT_WORK(&pb->work, colo_defer_work);
	queue_work(s->wq, &pb->work);
}

static enum dm_io_mem_type colo_mem_type(void *buf)
{
	return is_vmalloc_addr(buf) ? DM_IO_VMA : DM_IO_KMEM;
}

/* SVM write, discard or write-zeroes: into the SVM buffer, under s->lock. */
static blk_status_t colo_sec_buffer(struct colo_sec *s, struct bio *bio)
{
	bool has_data = bio_op(bio) == REQ_OP_WRITE;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int i, nr = bio_sectors(bio);
	struct bvec_iter iter = bio->bi_iter;
	int added;

	if (!colo_sec_reserve(s, cb_map_count_absent(&s->svm, sector, nr)))
		return BLK_STS_NOSPC;
	for (i = 0; i < nr; ) {
		u64 at = sector + i;
		unsigned int n = 1;
		void *buf = NULL;

		/* straight from the bio into the buffer: one copy */
		if (has_data && !(at & (CB_CHUNK_SECTORS - 1)) &&
		    nr - i >= CB_CHUNK_SECTORS) {
			n = CB_CHUNK_SECTORS;
			buf = cb_map_chunk_slot(&s->svm, at >> CB_CHUNK_SHIFT, &added);
		} else if (has_data) {
			buf = cb_map_slot(&s->svm, at, &added);
		}
		if ((has_data && !buf) ||
		    (!has_data && cb_map_put(&s->svm, at, NULL, true) < 0)) {
			s->io_errors++;
			return BLK_STS_RESOURCE;
		}
		if (buf)
			colo_bio_copy(bio, &iter, buf, n << CB_SECTOR_SHIFT, false);
		i += n;
	}
	colo_sec_check_threshold(s);
	return BLK_STS_OK;
}

int colo_sec_map(struct colo_c *cc, struct bio *bio)
{
	struct colo_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct colo_sec *s = cc->sec;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int nr = bio_sectors(bio);
	blk_status_t st;

	/* empty flush: the buffers are volatile by design, flush the base */
	if (!nr && bio_op(bio) != REQ_OP_READ)
		return DM_MAPIO_REMAPPED;

	mutex_lock(&s->lock);
	if (s->state == COLO_SEC_FAILED_OVER) {
		mutex_unlock(&s->lock);
		return DM_MAPIO_REMAPPED;
	}
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		if (cb_map_overlaps(&s->svm, sector, nr) ||
		    cb_map_overlaps(&s->pre, sector, nr)) {
			mutex_unlock(&s->lock);
			pb->kind = COLO_BIO_SLOW_READ;
			colo_defer(s, bio);
			return DM_MAPIO_SUBMITTED;
		}
		spin_lock_irq(&s->fast_lock);
		pb->kind = COLO_BIO_FAST_READ;
		pb->fast_idx = s->fast_gen & 1;
		s->fast_reads[pb->fast_idx]++;
		spin_unlock_irq(&s->fast_lock);
		mutex_unlock(&s->lock);
		return DM_MAPIO_REMAPPED;
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		st = colo_sec_buffer(s, bio);
		break;
	default:
		st = BLK_STS_NOTSUPP;
		break;
	}
	mutex_unlock(&s->lock);
	bio->bi_status = st;
	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

void colo_sec_end_io(struct colo_c *cc, struct bio *bio)
{
	struct colo_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct colo_sec *s = pb->sec;
	unsigned long flags;

	if (pb->kind != COLO_BIO_FAST_READ)
		return;
	spin_lock_irqsave(&s->fast_lock, flags);
	if (!--s->fast_reads[pb->fast_idx])
		wake_up_all(&s->fast_wait);
	spin_unlock_irqrestore(&s->fast_lock, flags);
	pb->kind = COLO_BIO_PLAIN;
}

/* Read the base, then lay the buffered sectors over it. */
static void colo_slow_read(struct colo_sec *s, struct bio *bio)
{
	struct block_device *base = bio->bi_bdev;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int i, nr = bio_sectors(bio);
	struct bvec_iter iter = bio->bi_iter;
	struct bio *clone;
	int ret;

	clone = bio_alloc_clone(base, bio, GFP_NOIO, &s->bs);
	if (!clone) {
		bio->bi_status = BLK_STS_RESOURCE;
		goto out;
	}
	ret = submit_bio_wait(clone);
	bio_put(clone);
	if (ret) {
		bio->bi_status = errno_to_blk_status(ret);
		goto out;
	}

	mutex_lock(&s->lock);
	for (i = 0; i < nr; i++) {
		const void *data;

		if (s->state != COLO_SEC_FAILED_OVER &&
		    (cb_map_get(&s->svm, sector + i, &data) ||
		     cb_map_get(&s->pre, sector + i, &data)))
			colo_bio_copy(bio, &iter, (void *)(data ?: colo_zero_sector),
				      CB_SECTOR_SIZE, true);
		else
			bio_advance_iter(bio, &iter, CB_SECTOR_SIZE);
	}
	mutex_unlock(&s->lock);
out:
	bio_endio(bio);
}

/*
 * Pre-image of the sectors a replica write covers, read from the base into
 * one page per chunk (page i holds chunk first + i, sectors at their offset
 * in the chunk), so that a whole chunk goes into the map without a copy.
 */
struct colo_pre_read {
	u64 first;		/* chunk index of page 0 */
	unsigned int nr_pages;
	int error;
	struct colo_pre_wait *wait;
	struct page_list pl[];
};

/* The pre-image reads of one replica batch, all in flight at once. */
struct colo_pre_wait {
	atomic_t pending;
	struct completion done;
};

static void colo_pre_free(struct colo_pre_read *pr)
{
	unsigned int i;

	if (!pr)
		return;
	for (i = 0; i < pr->nr_pages; i++)
		if (pr->pl[i].page)
			cb_page_free(page_address(pr->pl[i].page));
	kfree(pr);
}

static void colo_pre_read_done(unsigned long error, void *context)
{
	struct colo_pre_read *pr = context;
	struct colo_pre_wait *w = pr->wait;

	if (error)
		pr->error = -EIO;
	if (atomic_dec_and_test(&w->pending))
		complete(&w->done);
}

/*
 * Starts reading the pre-image of [sector, sector + nr); the read counts in
 * w until it completes. NULL when nothing could be started.
 */
static struct colo_pre_read *colo_pre_read(struct colo_sec *s,
					   struct block_device *base,
					   sector_t sector, unsigned int nr,
					   struct colo_pre_wait *w)
{
	u64 first = sector >> CB_CHUNK_SHIFT;
	unsigned int i, nr_pages = ((sector + nr - 1) >> CB_CHUNK_SHIFT) - first + 1;
	struct colo_pre_read *pr;
	struct dm_io_region where = {
		.bdev = base,
		.sector = sector,
		.count = nr,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.mem.type = DM_IO_PAGE_LIST,
		.mem.offset = (sector & (CB_CHUNK_SECTORS - 1)) << SECTOR_SHIFT,
		.notify.fn = colo_pre_read_done,
		.client = s->io,
	};

	pr = kzalloc(struct_size(pr, pl, nr_pages), GFP_NOIO);
	if (!pr)
		return NULL;
	pr->first = first;
	pr->nr_pages = nr_pages;
	pr->wait = w;
	for (i = 0; i < nr_pages; i++) {
		void *buf = cb_page_alloc();

		if (!buf)
			goto bad;
		pr->pl[i].page = virt_to_page(buf);
		if (i)
			pr->pl[i - 1].next = &pr->pl[i];
	}
	req.mem.ptr.pl = pr->pl;
	req.notify.context = pr;
	atomic_inc(&w->pending);
	if (dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT)) {
		atomic_dec(&w->pending);
		goto bad;
	}
	return pr;
bad:
	colo_pre_free(pr);
	return NULL;
}

/* Saves the pre-images of [sector, sector + nr) not saved yet; under s->lock. */
static int colo_pre_save(struct colo_sec *s, struct colo_pre_read *pr,
			 sector_t sector, unsigned int nr)
{
	u64 at, end = sector + nr;

	for (at = sector; at < end; ) {
		u64 index = at >> CB_CHUNK_SHIFT;
		struct page_list *pl = &pr->pl[index - pr->first];
		u8 *data = page_address(pl->page);
		unsigned int off = at & (CB_CHUNK_SECTORS - 1);
		int ret = 0;

		if (!off && end - at >= CB_CHUNK_SECTORS &&
		    cb_map_chunk_empty(&s->pre, index)) {
			ret = cb_map_chunk_adopt(&s->pre, index, data);
			if (ret > 0) {
				pl->page = NULL;
				at += CB_CHUNK_SECTORS;
				continue;
			}
		}
		if (!ret)
			ret = cb_map_put(&s->pre, at,
					 data + (off << CB_SECTOR_SHIFT), false);
		if (ret < 0)
			return ret;
		at++;
	}
	return 0;
}

/* A run of contiguous sectors the bios of a replica batch write. */
struct colo_rep_run {
	sector_t sector;
	unsigned int nr;
	unsigned int first, count;	/* its bios in the sorted batch */
	bool absent;			/* some pre-image is not saved yet */
	struct colo_pre_read *pr;
	blk_status_t status;
};

static int colo_bio_cmp(const void *a, const void *b)
{
	sector_t x = (*(struct bio * const *)a)->bi_iter.bi_sector;
	sector_t y = (*(struct bio * const *)b)->bi_iter.bi_sector;

	return x < y ? -1 : x > y;
}

/* Groups sorted bios into runs of at most COLO_MAX_IO_SECTORS; returns how many. */
static unsigned int colo_rep_runs(struct bio **v, unsigned int n,
				  struct colo_rep_run *run)
{
	unsigned int i, nr_runs = 0;
	struct colo_rep_run *r = NULL;

	for (i = 0; i < n; i++) {
		sector_t start = v[i]->bi_iter.bi_sector, end = bio_end_sector(v[i]);

		if (r && start <= r->sector + r->nr &&
		    max_t(sector_t, end, r->sector + r->nr) - r->sector <=
		    COLO_MAX_IO_SECTORS) {
			r->nr = max_t(sector_t, end, r->sector + r->nr) - r->sector;
			r->count++;
			continue;
		}
		r = &run[nr_runs++];
		*r = (struct colo_rep_run) {
			.sector = start, .nr = end - start, .first = i, .count = 1,
		};
	}
	return nr_runs;
}

/*
 * Primary writes arriving on the replica, sorted by sector: save the
 * pre-images the SVM must keep reading (one base read per run), make sure
 * no earlier unbuffered SVM read is still on its way to the base, then let
 * the writes through.
 */
static void colo_replica_batch(struct colo_sec *s, struct bio **v,
			       unsigned int n, struct colo_rep_run *run)
{
	struct block_device *base = v[0]->bi_bdev;
	unsigned int i, j, idx, nr_runs;
	blk_status_t fail = BLK_STS_OK;
	struct colo_pre_wait w;
	struct blk_plug plug;

	nr_runs = colo_rep_runs(v, n, run);
	mutex_lock(&s->lock);
	if (s->state != COLO_SEC_ACTIVE || !s->sec_ti)
		fail = BLK_STS_IOERR;
	for (i = 0; i < nr_runs && !fail; i++)
		run[i].absent = cb_map_count_absent(&s->pre, run[i].sector,
						    run[i].nr);
	mutex_unlock(&s->lock);

	/*
	 * Only replica writes change the base while the secondary is active,
	 * and each saves its pre-images before it is issued: if another one
	 * wrote these sectors since this read, its pre-image is in the map
	 * already and wins below.
	 */
	atomic_set(&w.pending, 1);
	init_completion(&w.done);
	for (i = 0; i < nr_runs && !fail; i++) {
		if (!run[i].absent)
			continue;
		run[i].pr = colo_pre_read(s, base, run[i].sector, run[i].nr, &w);
		if (!run[i].pr)
			run[i].status = BLK_STS_RESOURCE;
	}
	if (!atomic_dec_and_test(&w.pending))
		wait_for_completion(&w.done);
	for (i = 0; i < nr_runs; i++)
		if (run[i].pr && run[i].pr->error)
			run[i].status = errno_to_blk_status(run[i].pr->error);

	mutex_lock(&s->lock);
	if (s->state != COLO_SEC_ACTIVE)
		fail = BLK_STS_IOERR;
	for (i = 0; i < nr_runs && !fail; i++) {
		struct colo_rep_run *r = &run[i];

		if (!r->pr || r->status)
			continue;
		if (!colo_sec_reserve(s, cb_map_count_absent(&s->pre, r->sector,
							     r->nr))) {
			r->status = BLK_STS_NOSPC;
		} else if (colo_pre_save(s, r->pr, r->sector, r->nr)) {
			s->io_errors++;
			r->status = BLK_STS_RESOURCE;
		}
	}
	colo_sec_check_threshold(s);
	spin_lock_irq(&s->fast_lock);
	idx = s->fast_gen++ & 1;
	spin_unlock_irq(&s->fast_lock);
	mutex_unlock(&s->lock);

	wait_event(s->fast_wait, !READ_ONCE(s->fast_reads[idx]));
	blk_start_plug(&plug);
	for (i = 0; i < nr_runs; i++) {
		blk_status_t st = fail ?: run[i].status;

		colo_pre_free(run[i].pr);
		for (j = run[i].first; j < run[i].first + run[i].count; j++) {
			if (st) {
				v[j]->bi_status = st;
				bio_endio(v[j]);
			} else {
				dm_submit_bio_remap(v[j], NULL);
			}
		}
	}
	blk_finish_plug(&plug);
}

static void colo_rep_work(struct work_struct *work)
{
	struct colo_sec *s = container_of(work, struct colo_sec, rep_work);
	struct colo_rep_run *run;
	struct bio_list list;
	struct bio **v, *bio;
	unsigned int i, n = 0;

	spin_lock_irq(&s->rep_lock);
	list = s->rep_bios;
	bio_list_init(&s->rep_bios);
	spin_unlock_irq(&s->rep_lock);
	if (bio_list_empty(&list))
		return;

	bio_list_for_each(bio, &list)
		n++;
	v = kmalloc_array(n, sizeof(*v), GFP_NOIO);
	run = kmalloc_array(n, sizeof(*run), GFP_NOIO);
	if (!v || !run) {
		struct colo_rep_run one;

		/* no memory for a batch: one bio at a time */
		while ((bio = bio_list_pop(&list)))
			colo_replica_batch(s, &bio, 1, &one);
		goto out;
	}
	for (i = 0; (bio = bio_list_pop(&list)); i++)
		v[i] = bio;
	sort(v, n, sizeof(*v), colo_bio_cmp, NULL);
	colo_replica_batch(s, v, n, run);
out:
	kfree(run);
	kfree(v);
}

static void colo_defer_work(struct work_struct *work)
{
	struct colo_bio *pb = container_of(work, struct colo_bio, work);
	struct bio *bio = dm_bio_from_per_bio_data(pb, sizeof(*pb));

	colo_slow_read(pb->sec, bio);
}

int colo_rep_map(struct colo_c *cc, struct bio *bio)
{
	struct colo_sec *s = cc->sec;
	unsigned long flags;

	colo_bound_write(bio);
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (!bio_sectors(bio))
			return DM_MAPIO_REMAPPED;
		spin_lock_irqsave(&s->rep_lock, flags);
		bio_list_add(&s->rep_bios, bio);
		spin_unlock_irqrestore(&s->rep_lock, flags);
		queue_work(s->wq, &s->rep_work);
		return DM_MAPIO_SUBMITTED;
	default:
		/* reads and flushes see the base: the primary's view */
		return DM_MAPIO_REMAPPED;
	}
}

int colo_sec_ctr(struct colo_c *cc)
{
	struct dm_target *ti = cc->ti;
	struct colo_sec *s;
	int ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		ti->error = "Cannot allocate secondary state";
		return -ENOMEM;
	}
	kref_init(&s->ref);
	strscpy(s->name, cc->t.name, sizeof(s->name));
	s->base_dev = cc->dev[0]->bdev->bd_dev;
	s->len = ti->len;
	mutex_init(&s->lock);
	s->limit = cc->t.limit;
	s->event_percent = cc->t.event_percent;
	spin_lock_init(&s->fast_lock);
	init_waitqueue_head(&s->fast_wait);
	spin_lock_init(&s->rep_lock);
	bio_list_init(&s->rep_bios);
	INIT_WORK(&s->rep_work, colo_rep_work);

	ti->error = "Cannot allocate secondary buffers";
	if (cb_map_init(&s->svm))
		goto bad_svm;
	if (cb_map_init(&s->pre))
		goto bad_pre;
	ret = bioset_init(&s->bs, 64, 0, BIOSET_NEED_BVECS);
	if (ret)
		goto bad_bioset;
	s->io = dm_io_client_create();
	if (IS_ERR(s->io)) {
		ret = PTR_ERR(s->io);
		goto bad_io;
	}
	s->wq = alloc_workqueue("kcolo_%s", WQ_MEM_RECLAIM, COLO_DEFER_ACTIVE,
				s->name);
	if (!s->wq) {
		ret = -ENOMEM;
		goto bad_wq;
	}

	mutex_lock(&colo_registry_lock);
	if (colo_registry_find(s->name)) {
		mutex_unlock(&colo_registry_lock);
		ti->error = "A secondary with this name already exists";
		ret = -EEXIST;
		goto bad_name;
	}
	s->sec_ti = ti;
	list_add(&s->list, &colo_registry);
	mutex_unlock(&colo_registry_lock);

	ti->error = NULL;
	ti->discards_supported = true;
	ti->num_write_zeroes_bios = 1;
	cc->sec = s;
	return 0;

bad_name:
	destroy_workqueue(s->wq);
bad_wq:
	dm_io_client_destroy(s->io);
bad_io:
	bioset_exit(&s->bs);
bad_bioset:
	cb_map_destroy(&s->pre);
bad_pre:
	cb_map_destroy(&s->svm);
bad_svm:
	kfree(s);
	return ret;
}

void colo_sec_dtr(struct colo_c *cc)
{
	struct colo_sec *s = cc->sec;

	mutex_lock(&colo_registry_lock);
	list_del(&s->list);
	mutex_unlock(&colo_registry_lock);
	mutex_lock(&s->lock);
	s->sec_ti = NULL;
	mutex_unlock(&s->lock);
	flush_workqueue(s->wq);
	colo_sec_put(s);
}

int colo_rep_ctr(struct colo_c *cc)
{
	struct dm_target *ti = cc->ti;
	struct colo_sec *s;

	mutex_lock(&colo_registry_lock);
	s = colo_registry_find(cc->t.name);
	if (!s) {
		ti->error = "No secondary with this name";
		goto bad;
	}
	if (s->base_dev != cc->dev[0]->bdev->bd_dev) {
		ti->error = "Base device differs from the secondary's";
		goto bad;
	}
	if (s->len != ti->len) {
		ti->error = "Length differs from the secondary's (size mismatch)";
		goto bad;
	}
	mutex_lock(&s->lock);
	if (s->rep_ti) {
		mutex_unlock(&s->lock);
		ti->error = "The secondary already has a replica";
		goto bad;
	}
	s->rep_ti = ti;
	mutex_unlock(&s->lock);
	kref_get(&s->ref);
	mutex_unlock(&colo_registry_lock);

	ti->num_write_zeroes_bios = 1;
	cc->sec = s;
	return 0;
bad:
	mutex_unlock(&colo_registry_lock);
	return -EINVAL;
}

void colo_rep_dtr(struct colo_c *cc)
{
	struct colo_sec *s = cc->sec;

	mutex_lock(&s->lock);
	s->rep_ti = NULL;
	mutex_unlock(&s->lock);
	flush_workqueue(s->wq);
	colo_sec_put(s);
}

/* Buffers a checkpoint dropped, freed by a work item after it returned. */
struct colo_dropped {
	struct work_struct work;
	struct cb_map svm, pre;
};

static void colo_dropped_work(struct work_struct *work)
{
	struct colo_dropped *d = container_of(work, struct colo_dropped, work);

	cb_map_destroy(&d->svm);
	cb_map_destroy(&d->pre);
	kfree(d);
}

/*
 * Drops both buffers in O(1) under the lock; freeing them (proportional to
 * their size) happens afterwards on the work queue, off the agent's
 * checkpoint pause. Without memory for that, they are freed in place.
 */
int colo_sec_checkpoint(struct colo_c *cc, const char **why)
{
	struct colo_sec *s = cc->sec;
	struct colo_dropped *d = kzalloc(sizeof(*d), GFP_KERNEL);

	mutex_lock(&s->lock);
	if (s->state != COLO_SEC_ACTIVE) {
		mutex_unlock(&s->lock);
		kfree(d);
		*why = "The secondary has failed over";
		return -EINVAL;
	}
	if (d && !cb_map_move(&d->svm, &s->svm)) {
		if (cb_map_move(&d->pre, &s->pre))
			cb_map_clear(&s->pre);
	} else {
		cb_map_clear(&s->svm);
		cb_map_clear(&s->pre);
		kfree(d);
		d = NULL;
	}
	s->event_raised = false;
	s->overflowed = false;
	s->checkpoints++;
	mutex_unlock(&s->lock);
	if (d) {
		INIT_WORK(&d->work, colo_dropped_work);
		queue_work(s->wq, &d->work);
	}
	return 0;
}

/*
 * Failover writes runs of sectors in ascending order, merged up to 1 MiB per
 * write, with several writes in flight so that merging the next run overlaps
 * the base writing the previous ones.
 */
#define COLO_COMMIT_BYTES (1U << 20)
#define COLO_COMMIT_DEPTH 4

struct colo_commit;

struct colo_commit_io {
	struct colo_commit *c;
	unsigned int stage;
	unsigned int nr;
};

struct colo_commit {
	struct colo_sec *s;
	struct block_device *base;
	u8 *stage[COLO_COMMIT_DEPTH];
	unsigned int cur;	/* stage being filled */
	u64 start;		/* first sector staged */
	unsigned int nr;	/* sectors staged */
	u64 done;		/* counting pass only */

	spinlock_t lock;	/* busy, error, written */
	unsigned long busy;	/* stages being written */
	int error;
	u64 written;
	wait_queue_head_t wait;
	struct colo_commit_io io[COLO_COMMIT_DEPTH];
};

static int colo_count_run(void *ctx, u64 sector, u32 nr, const void *data)
{
	struct colo_commit *c = ctx;

	c->done += nr;
	return 0;
}

static bool colo_commit_idle(struct colo_commit *c, unsigned long mask)
{
	bool ret;

	spin_lock_irq(&c->lock);
	ret = !(c->busy & mask);
	spin_unlock_irq(&c->lock);
	return ret;
}

static void colo_commit_endio(unsigned long error, void *context)
{
	struct colo_commit_io *io = context;
	struct colo_commit *c = io->c;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (error)
		c->error = -EIO;
	else
		c->written += io->nr;
	WRITE_ONCE(c->s->commit_done, c->written);
	c->busy &= ~BIT(io->stage);
	wake_up_all(&c->wait);
	spin_unlock_irqrestore(&c->lock, flags);
}

/* Starts writing the staged run and waits for the next stage to be free. */
static int colo_commit_flush(struct colo_commit *c)
{
	struct colo_commit_io *io = &c->io[c->cur];
	struct dm_io_region where = {
		.bdev = c->base,
		.sector = c->start,
		.count = c->nr,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_WRITE,
		.mem.type = colo_mem_type(c->stage[c->cur]),
		.notify.fn = colo_commit_endio,
		.notify.context = io,
		.client = c->s->io,
	};
	int ret;

	if (!c->nr)
		return 0;
	if (req.mem.type == DM_IO_VMA)
		req.mem.ptr.vma = c->stage[c->cur];
	else
		req.mem.ptr.addr = c->stage[c->cur];
	io->c = c;
	io->stage = c->cur;
	io->nr = c->nr;
	spin_lock_irq(&c->lock);
	c->busy |= BIT(c->cur);
	spin_unlock_irq(&c->lock);
	ret = dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT);
	if (ret) {
		spin_lock_irq(&c->lock);
		c->busy &= ~BIT(c->cur);
		spin_unlock_irq(&c->lock);
		return ret;
	}
	c->nr = 0;
	c->cur = (c->cur + 1) % COLO_COMMIT_DEPTH;
	wait_event(c->wait, colo_commit_idle(c, BIT(c->cur)));
	return READ_ONCE(c->error);
}

static int colo_commit_run(void *ctx, u64 sector, u32 nr, const void *data)
{
	struct colo_commit *c = ctx;
	int ret;

	if (c->nr && (sector != c->start + c->nr ||
		      ((c->nr + nr) << CB_SECTOR_SHIFT) > COLO_COMMIT_BYTES)) {
		ret = colo_commit_flush(c);
		if (ret)
			return ret;
	}
	if (!c->nr)
		c->start = sector;
	memcpy(c->stage[c->cur] + ((size_t)c->nr << CB_SECTOR_SHIFT), data,
	       (size_t)nr << CB_SECTOR_SHIFT);
	c->nr += nr;
	return 0;
}

/*
 * Failover: the base becomes what the SVM saw. SVM writes win over
 * pre-images, pre-images undo the primary's writes since the checkpoint.
 * I/O on both faces waits on s->lock meanwhile.
 */
int colo_sec_failover(struct colo_c *cc, const char **why)
{
	struct colo_sec *s = cc->sec;
	struct colo_commit c = { .s = s, .base = cc->dev[0]->bdev };
	unsigned int i;
	void *buf;
	int ret;

	spin_lock_init(&c.lock);
	init_waitqueue_head(&c.wait);
	buf = kmalloc(CB_CHUNK_SECTORS << CB_SECTOR_SHIFT, GFP_KERNEL);
	ret = buf ? 0 : -ENOMEM;
	for (i = 0; i < COLO_COMMIT_DEPTH && !ret; i++) {
		c.stage[i] = kvmalloc(COLO_COMMIT_BYTES, GFP_KERNEL);
		if (!c.stage[i])
			ret = -ENOMEM;
	}
	if (ret) {
		*why = "Out of memory";
		goto out_free;
	}
	mutex_lock(&s->lock);
	if (s->state == COLO_SEC_FAILED_OVER) {
		ret = 0;
		goto out;
	}
	ret = cb_map_merge_runs(&s->svm, &s->pre, buf, colo_count_run, &c);
	if (ret) {
		*why = "Out of memory";
		goto out;
	}
	WRITE_ONCE(s->commit_total, c.done);
	WRITE_ONCE(s->commit_done, 0);
	WRITE_ONCE(s->state, COLO_SEC_COMMITTING);
	ret = cb_map_merge_runs(&s->svm, &s->pre, buf, colo_commit_run, &c);
	if (!ret)
		ret = colo_commit_flush(&c);
	/* every write must be back before the stages are freed */
	wait_event(c.wait, colo_commit_idle(&c, ~0UL));
	if (!ret)
		ret = c.error;
	if (!ret)
		ret = blkdev_issue_flush(c.base);
	if (ret) {
		/* buffers are kept: the agent may retry */
		s->io_errors++;
		WRITE_ONCE(s->state, COLO_SEC_ACTIVE);
		*why = "Writing the buffers into the base failed";
		goto out;
	}
	cb_map_clear(&s->svm);
	cb_map_clear(&s->pre);
	WRITE_ONCE(s->state, COLO_SEC_FAILED_OVER);
out:
	mutex_unlock(&s->lock);
out_free:
	for (i = 0; i < COLO_COMMIT_DEPTH; i++)
		kvfree(c.stage[i]);
	kfree(buf);
	return ret;
}

static const char *colo_sec_state_name(struct colo_sec *s)
{
	switch (READ_ONCE(s->state)) {
	case COLO_SEC_ACTIVE:
		return READ_ONCE(s->overflowed) ? "overflow" : "active";
	case COLO_SEC_COMMITTING:
		return "committing";
	case COLO_SEC_FAILED_OVER:
		return "failed_over";
	}
	return "unknown";
}

/* Lockless on purpose: status must answer while a failover commits. */
void colo_sec_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *psz)
{
	struct colo_sec *s = cc->sec;
	unsigned int sz = *psz;
	u64 svm = READ_ONCE(s->svm.nr_sectors), pre = READ_ONCE(s->pre.nr_sectors);

	DMEMIT("secondary %s svm_sectors=%llu pre_sectors=%llu buffered_bytes=%llu limit=%llu overflows=%llu errors=%llu checkpoints=%llu replica=%s commit=%llu/%llu",
	       colo_sec_state_name(s), svm, pre,
	       (svm + pre) << CB_SECTOR_SHIFT, s->limit,
	       READ_ONCE(s->overflows), READ_ONCE(s->io_errors),
	       READ_ONCE(s->checkpoints), READ_ONCE(s->rep_ti) ? "bound" : "none",
	       READ_ONCE(s->commit_done), READ_ONCE(s->commit_total));
	*psz = sz;
}

void colo_rep_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *psz)
{
	struct colo_sec *s = cc->sec;
	unsigned int sz = *psz;
	const char *state;

	if (!READ_ONCE(s->sec_ti))
		state = "unbound";
	else if (READ_ONCE(s->state) == COLO_SEC_ACTIVE)
		state = "active";
	else
		state = "failed_over";
	DMEMIT("replica %s secondary=%s pre_sectors=%llu",
	       state, s->name, READ_ONCE(s->pre.nr_sectors));
	*psz = sz;
}
