/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-colo internals shared by the target core (dm-colo.c), the secondary and
 * replica faces (colo-secondary.c) and the primary (colo-primary.c).
 */
#ifndef DM_COLO_H
#define DM_COLO_H

#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/bio.h>
#include <linux/net.h>
#include <linux/socket.h>

#include "regions.h"
#include "sectormap.h"
#include "table.h"

#define DM_MSG_PREFIX "colo"

/*
 * Largest write, discard or write-zeroes a colo target handles in one piece
 * (sectors): the primary copies a write into pages of one forwarded bio
 * (BIO_MAX_VECS pages), the replica reads a pre-image into one buffer. Reads
 * are never split: on the primary and on the SVM face with nothing buffered
 * they are a plain remap.
 */
#define COLO_MAX_IO_SECTORS (BIO_MAX_VECS << (PAGE_SHIFT - SECTOR_SHIFT))

/* Deferred bios of one secondary processed at the same time. */
#define COLO_DEFER_ACTIVE 16

enum colo_sec_state {
	COLO_SEC_ACTIVE,	/* buffering */
	COLO_SEC_COMMITTING,	/* failover merging buffers into the base */
	COLO_SEC_FAILED_OVER,	/* pass-through to the base */
};

/*
 * State shared by a secondary target and the replica bound to it by name.
 * Reference counted: either face may be removed first.
 */
struct colo_sec {
	struct list_head list;		/* colo_registry */
	struct kref ref;
	char name[CB_NAME_MAX];
	dev_t base_dev;
	sector_t len;

	/* lock protects the maps, state, targets and counters written below */
	struct mutex lock;
	struct cb_map svm;		/* the SVM's own writes */
	struct cb_map pre;		/* pre-images of sectors the primary wrote */
	enum colo_sec_state state;
	struct dm_target *sec_ti;	/* NULL once the secondary is removed */
	struct dm_target *rep_ti;	/* NULL while no replica is bound */
	u64 limit;
	u32 event_percent;
	bool event_raised;		/* threshold event sent this interval */
	bool overflowed;		/* a write went over the limit this interval */
	u64 overflows;
	u64 io_errors;
	u64 checkpoints;
	u64 commit_done;		/* read locklessly by status */
	u64 commit_total;

	/*
	 * SVM reads of unbuffered ranges go straight to the base. A replica
	 * write saves its pre-images, then waits for the fast reads started
	 * before that (generation counting) so none of them sees the new data.
	 */
	spinlock_t fast_lock;
	unsigned int fast_gen;
	unsigned long fast_reads[2];
	wait_queue_head_t fast_wait;

	/*
	 * Replica writes wait in rep_bios and are taken in batches: one
	 * pre-image read per run of contiguous sectors, then the writes go to
	 * the base under one plug. nbd-server's write-back reaches the replica
	 * as a stream of 4 KiB bios, which one at a time would each cost a
	 * read round trip and a write of their own.
	 */
	spinlock_t rep_lock;
	struct bio_list rep_bios;
	struct work_struct rep_work;

	/*
	 * SVM reads that need merging run as work items, several at a time,
	 * and so does the replica's batch: both may sleep on base I/O.
	 */
	struct workqueue_struct *wq;
	struct dm_io_client *io;
	struct bio_set bs;
};

struct colo_pri;
struct colo_nbd;

struct colo_c {
	struct dm_target *ti;
	struct cb_table t;		/* parsed line; t.dev[] is not kept */
	struct dm_dev *dev[2];		/* base; or local, forward */
	struct colo_sec *sec;		/* secondary and replica */
	struct colo_pri *pri;		/* primary */
	struct colo_nbd *nbd;		/* replica with nbd_listen */
};

enum colo_bio_kind {
	COLO_BIO_PLAIN,
	COLO_BIO_FAST_READ,
	COLO_BIO_SLOW_READ,
};

/* Per-bio data (ti->per_io_data_size). */
struct colo_bio {
	enum colo_bio_kind kind;
	unsigned int fast_idx;
	struct colo_sec *sec;
	struct work_struct work;	/* deferred SVM read */
};

/* colo-secondary.c */
int colo_sec_ctr(struct colo_c *cc);
int colo_rep_ctr(struct colo_c *cc);
void colo_sec_dtr(struct colo_c *cc);
void colo_rep_dtr(struct colo_c *cc);
int colo_sec_map(struct colo_c *cc, struct bio *bio);
int colo_rep_map(struct colo_c *cc, struct bio *bio);
void colo_sec_end_io(struct colo_c *cc, struct bio *bio);
int colo_sec_checkpoint(struct colo_c *cc, const char **why);
int colo_sec_failover(struct colo_c *cc, const char **why);
void colo_sec_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *sz);
void colo_rep_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *sz);

/* colo-primary.c */
int colo_pri_ctr(struct colo_c *cc);
void colo_pri_dtr(struct colo_c *cc);
void colo_pri_postsuspend(struct colo_c *cc);
int colo_pri_map(struct colo_c *cc, struct bio *bio);
int colo_pri_checkpoint(struct colo_c *cc, u64 timeout_ms, const char **why);
int colo_pri_failover(struct colo_c *cc, const char **why);
void colo_pri_hold(struct colo_c *cc, bool hold);
int colo_pri_written(struct colo_c *cc, u64 from, char *result,
		     unsigned int maxlen, const char **why);
int colo_pri_clear_written(struct colo_c *cc, u64 sector, u64 nr,
			   const char **why);
void colo_pri_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *sz);

/* nbd-server.c */
int colo_nbd_ctr(struct colo_c *cc);
void colo_nbd_dtr(struct colo_c *cc);
int colo_nbd_start(struct colo_c *cc);
void colo_nbd_stop(struct colo_c *cc);
void colo_nbd_status(struct colo_c *cc, char *result, unsigned int maxlen,
		     unsigned int *sz);

/* page-pool.c */
struct colo_page_pool {
	spinlock_t lock;
	struct list_head pages;		/* free, linked by page->lru */
	unsigned int order, nr, max;
};

void colo_page_pool_init(struct colo_page_pool *pp, unsigned int order, unsigned int max);
struct page *colo_page_pool_get(struct colo_page_pool *pp, gfp_t gfp);
void colo_page_pool_put(struct colo_page_pool *pp, struct page *page);
void colo_page_pool_destroy(struct colo_page_pool *pp);

/* nbd-server.c: socket helpers the client shares */
int colo_nbd_recv(struct socket *sock, void *buf, size_t len);
int colo_nbd_send(struct socket *sock, struct kvec *v, size_t nr, size_t len);
int colo_nbd_send_buf(struct socket *sock, const void *buf, size_t len);
int colo_nbd_parse_addr(const char *s, bool with_port, struct sockaddr_storage *a);

/* nbd-client.c: the primary's forward to nbd://<addr>:<port>/<export> */
struct colo_nbdc;
int colo_nbdc_open(struct colo_c *cc, struct colo_nbdc **out);
void colo_nbdc_submit(struct colo_nbdc *c, struct bio *bio);
void colo_nbdc_shutdown(struct colo_nbdc *c);
void colo_nbdc_close(struct colo_nbdc *c);
bool colo_nbdc_connected(struct colo_nbdc *c);

/* dm-colo.c */
void colo_bound_write(struct bio *bio);
void colo_bio_copy(struct bio *bio, struct bvec_iter *iter, void *buf,
		   unsigned int len, bool to_bio);

#endif
