// SPDX-License-Identifier: GPL-2.0
/*
 * Delivery log: the instances the learner delivered, retained for readers
 * of /dev/paxos.
 *
 * The learner thread appends each delivered instance here, in order; an
 * entry holds a reference on the block the learner's value lies in (never
 * written once delivered, see px_value_hold()) instead of a copy.  Readers take a
 * reference on an entry and copy from it without holding any lock.
 * Retention is bounded by a number of instances (a power of two, the ring)
 * and by bytes; the oldest entries go first.  An entry of a snapshot point
 * carries a SNAP_POINT record after its commands.  When the learner
 * installs a snapshot at I, the log restarts empty at I + 1: readers below
 * it get a RESTORE record (chardev.c).
 */
#include "kpaxos.h"

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

int px_dlog_init(struct px_dlog *log, u32 slots, size_t max_bytes)
{
	slots = clamp_t(u32, slots, 16, PX_MAX_SLOTS);
	slots = roundup_pow_of_two(slots);
	spin_lock_init(&log->lock);
	log->ring = kvcalloc(slots, sizeof(*log->ring), GFP_KERNEL);
	if (!log->ring)
		return -ENOMEM;
	log->mask = slots - 1;
	log->first = 1;
	log->last = 0;
	log->last_data = 0;
	log->bytes = 0;
	log->max_bytes = max_bytes;
	log->dead = false;
	return 0;
}

void px_dent_put(struct px_dent *e)
{
	if (e && refcount_dec_and_test(&e->ref)) {
		px_value_free(e->block);
		kfree(e);
	}
}

/* Under lock: drop the oldest entry. */
static void evict_first(struct px_dlog *log)
{
	struct px_dent **slot = &log->ring[log->first & log->mask];
	struct px_dent *e = *slot;

	*slot = NULL;
	if (e) {
		log->bytes -= e->len;
		px_dent_put(e);
	}
	log->first++;
}

void px_dlog_uninit(struct px_dlog *log)
{
	struct px_dent **ring;

	spin_lock_bh(&log->lock);
	log->dead = true;
	while (log->ring && log->first <= log->last)
		evict_first(log);
	ring = log->ring;
	log->ring = NULL;
	spin_unlock_bh(&log->lock);
	kvfree(ring);
}

static u32 count_cmds(const u8 *value, u32 len)
{
	struct px_batch_iter it;
	struct px_cmd cmd;
	u32 n = 0;

	if (!len || px_batch_iter_init(&it, value, len))
		return 0;
	while (px_batch_next(&it, &cmd) > 0)
		if (!cmd.dup && cmd.client_id != PAXOS_CLIENT_MEMBERSHIP)
			n++;
	return n;
}

int px_dlog_append(struct px_dlog *log, u64 instance, const u8 *value,
		   u32 len, const void *block, bool snap_point)
{
	struct px_dent *e;
	int err = 0, n_cmds;

	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	refcount_set(&e->ref, 1);
	e->instance = instance;
	e->len = value ? len : 0;
	e->value = value;
	e->block = value ? block : NULL;
	if (e->block)
		px_value_hold(e->block);
	e->n_cmds = count_cmds(e->value, e->len);
	e->snap_point = snap_point;
	n_cmds = e->n_cmds;

	spin_lock_bh(&log->lock);
	if (log->dead) {
		err = -ENOTCONN;
	} else if (instance != log->last + 1) {
		err = -EINVAL;		/* the learner delivers in order */
	} else {
		if (log->first > log->last)	/* empty: start here */
			log->first = instance;
		while (log->first <= log->last &&
		       (instance - log->first > log->mask ||
			log->bytes + len > log->max_bytes))
			evict_first(log);
		if (log->first > log->last)
			log->first = instance;
		log->ring[instance & log->mask] = e;
		log->bytes += len;
		log->last = instance;
		if (e->n_cmds || e->snap_point)
			log->last_data = instance;
		e = NULL;
	}
	spin_unlock_bh(&log->lock);
	if (e) {
		px_dent_put(e);
		return err;
	}
	return n_cmds;
}

void px_dlog_restart(struct px_dlog *log, u64 index)
{
	spin_lock_bh(&log->lock);
	if (!log->dead) {
		while (log->first <= log->last)
			evict_first(log);
		log->first = index + 1;
		log->last = index;
		log->last_data = index;
	}
	spin_unlock_bh(&log->lock);
}

struct px_dent *px_dlog_get(struct px_dlog *log, u64 instance, int *err,
			    u64 *first)
{
	struct px_dent *e = NULL;

	spin_lock_bh(&log->lock);
	if (first)
		*first = log->first;
	if (log->dead) {
		*err = -ENOTCONN;
	} else if (instance > log->last) {
		*err = -EAGAIN;
	} else if (instance < log->first) {
		*err = -EOVERFLOW;
	} else {
		e = log->ring[instance & log->mask];
		refcount_inc(&e->ref);
		*err = 0;
	}
	spin_unlock_bh(&log->lock);
	return e;
}

bool px_dlog_readable(struct px_dlog *log, u64 instance)
{
	bool ret;

	spin_lock_bh(&log->lock);
	ret = log->dead || instance < log->first ||
	      (instance <= log->last_data);
	spin_unlock_bh(&log->lock);
	return ret;
}

u64 px_dlog_next(struct px_dlog *log)
{
	u64 next;

	spin_lock_bh(&log->lock);
	next = log->last + 1;
	spin_unlock_bh(&log->lock);
	return next;
}
