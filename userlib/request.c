// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libkpaxos requests: proposing, rewriting after a timeout or a leader
 * change, renumbering overtaken commands, completing.
 *
 * Every function with a struct kpaxos argument expects h->lock held unless
 * it says otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

uint64_t kp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kp_cbq_init(struct kp_cbq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void cbq_add(struct kp_cbq *q, struct kp_req *r)
{
	r->cnext = NULL;
	*q->tail = r;
	q->tail = &r->cnext;
}

static unsigned int hash_of(uint64_t seq)
{
	return seq & (KP_HASH_SIZE - 1);
}

static struct kp_req *req_new(struct kpaxos *h, const void *cmd, size_t len,
			      bool marker)
{
	struct kp_req *r;

	r = calloc(1, sizeof(*r) + len);
	if (!r)
		return NULL;
	if (len)
		memcpy(r->data, cmd, len);
	r->marker = marker;
	r->wlen = sizeof(r->hdr) + len;
	r->hdr.client_id = marker ? h->mcid : h->cid;
	r->hdr.len = len;
	pthread_cond_init(&r->cond, NULL);
	return r;
}

static bool req_busy(const struct kp_req *r)
{
	return !r->done || r->writes || r->queued || r->waiter ||
	       r->cb_pending || r->waiting;
}

/* Wake kpaxos_drain() when nothing is left to wait for. */
static void maybe_idle(struct kpaxos *h)
{
	if (!h->n_pending && !h->n_cb && !h->aq_head)
		pthread_cond_broadcast(&h->idle);
}

/* Free @r if nothing refers to it any more. */
static void req_put(struct kp_req *r)
{
	if (req_busy(r))
		return;
	pthread_cond_destroy(&r->cond);
	free(r->res);
	free(r);
}

/* Give @r the next sequence number and append it to the pending list. */
static void req_link(struct kpaxos *h, struct kp_req *r)
{
	unsigned int b;

	r->seq = h->next_seq++;
	r->hdr.seq = r->seq;
	/* decided later than what was decided before it was numbered */
	r->floor = h->dfloor > h->applied ? h->dfloor : h->applied;
	r->next = NULL;
	r->prev = h->p_tail;
	if (h->p_tail)
		h->p_tail->next = r;
	else
		h->p_head = r;
	h->p_tail = r;
	b = hash_of(r->seq);
	r->hnext = h->hash[b];
	h->hash[b] = r;
	r->linked = true;
	if (r->async)
		h->n_out++;
	if (!h->n_pending++)
		kp_kick(h);	/* the thread may sleep without a timeout */
	if (r->deadline < h->scan_at)
		h->scan_at = r->deadline;
}

static void req_unlink(struct kpaxos *h, struct kp_req *r)
{
	struct kp_req **pp;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->p_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		h->p_tail = r->prev;
	for (pp = &h->hash[hash_of(r->seq)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == r) {
			*pp = r->hnext;
			break;
		}
	}
	r->linked = false;
	if (r->async)
		h->n_out--;
	h->n_pending--;
	maybe_idle(h);
}

static struct kp_req *req_find(struct kpaxos *h, uint64_t seq)
{
	struct kp_req *r;

	for (r = h->hash[hash_of(seq)]; r; r = r->hnext)
		if (r->seq == seq)
			return r;
	return NULL;
}

static void req_enqueue(struct kpaxos *h, struct kp_req *r)
{
	if (r->queued || r->done)
		return;
	r->queued = true;
	r->wnext = NULL;
	*h->wq_tail = r;
	h->wq_tail = &r->wnext;
}

/*
 * Rewrite after retry_ms or twice the smoothed latency, whichever is
 * longer (a slow cluster is not a lossy one), doubling per retry up to 8x.
 */
static uint64_t retry_interval(struct kpaxos *h, struct kp_req *r)
{
	uint32_t shift = r->tries < 3 ? r->tries : 3;
	uint64_t base = h->srtt8 / 4;

	if (base < h->opts.retry_ms)
		base = h->opts.retry_ms;
	return base << shift;
}

/*
 * @r was overtaken: a later command of the same client was delivered, so
 * the kernel will drop every copy of @r's (client, seq) from now on.  Give
 * it a fresh sequence number and write it again.  Not while a write of the
 * old header is in flight: the kernel may be reading that buffer.
 */
static void req_renumber(struct kpaxos *h, struct kp_req *r)
{
	if (r->writes) {
		r->renumber = true;
		return;
	}
	r->renumber = false;
	req_unlink(h, r);
	r->tries = 0;
	r->fresh = false;
	r->deadline = kp_now_ms() + retry_interval(h, r);
	r->lgen = h->lgen;
	req_link(h, r);
	h->st.renumbered++;
	req_enqueue(h, r);
}

/* A write of @r ended (not necessarily successfully). */
static void req_write_end(struct kpaxos *h, struct kp_req *r)
{
	r->writes--;
	if (!r->writes && r->renumber && !r->done)
		req_renumber(h, r);
}

/*
 * @r is done: applied (err 0, result @res/@len) or failed.  Wakes its
 * waiter or queues its callback; does not free it.
 */
static void req_finish(struct kpaxos *h, struct kp_req *r, int err,
		       const void *res, size_t len, struct kp_cbq *q)
{
	if (r->done)
		return;
	r->done = true;
	if (r->linked)
		req_unlink(h, r);
	if (!err && r->fresh) {
		uint64_t ms = kp_now_ms() - r->sent_at;

		/* srtt += (sample - srtt) / 8, kept x8 */
		h->srtt8 = h->srtt8 ? h->srtt8 - h->srtt8 / 8 + ms : ms * 8;
	}
	if (!err && len) {
		r->res = malloc(len);
		if (r->res) {
			memcpy(r->res, res, len);
			r->res_len = len;
		} else {
			err = -ENOMEM;
		}
	}
	r->err = err;
	if (!err)
		h->st.completed++;
	if (r->async) {
		h->n_async--;
		pthread_cond_broadcast(&h->space);
		r->cb_pending = true;
		if (h->cfd >= 0) {
			cbq_add(&h->cq, r);
			eventfd_write(h->cfd, 1);
		} else {
			cbq_add(q, r);
			h->n_cb++;
		}
	} else if (r->waiter) {
		pthread_cond_signal(&r->cond);
	}
}

/* Run the callbacks in @q; h->lock must NOT be held. */
void kp_run_callbacks(struct kpaxos *h, struct kp_cbq *q)
{
	struct kp_req *r, *next;

	if (!q->head)
		return;
	for (r = q->head; r; r = r->cnext)
		if (r->fn)
			r->fn(r->arg, r->err, r->err ? NULL : r->res,
			      r->err ? 0 : r->res_len);
	pthread_mutex_lock(&h->lock);
	for (r = q->head; r; r = next) {
		next = r->cnext;
		r->cb_pending = false;
		req_put(r);
		if (h->cfd < 0 && !--h->n_cb)
			maybe_idle(h);
	}
	pthread_mutex_unlock(&h->lock);
	kp_cbq_init(q);
}

void kp_kick(struct kpaxos *h)
{
	if (h->kicked)
		return;
	h->kicked = true;
	eventfd_write(h->evfd, 1);
}

int kp_start(struct kpaxos *h)
{
	int err;

	if (h->started)
		return 0;
	err = pthread_create(&h->thread, NULL, kp_thread, h);
	if (err)
		return -err;
	h->started = true;
	return 0;
}

static bool on_thread(struct kpaxos *h)
{
	return h->started && pthread_equal(pthread_self(), h->thread);
}

/*
 * A command of this handle (@cid is h->cid or h->mcid) was delivered.
 * Complete its request, and renumber every older request of the same
 * kind still pending: it has been overtaken.
 */
void kp_delivered(struct kpaxos *h, uint64_t cid, uint64_t seq,
		  const void *res, size_t len, struct kp_cbq *q)
{
	bool marker = cid == h->mcid;
	struct kp_req *r, *next;

	r = req_find(h, seq);
	if (r && r->marker == marker && !r->done) {
		req_finish(h, r, 0, res, len, q);
		req_put(r);
	}
	for (r = h->p_head; r && r->seq < seq; r = next) {
		next = r->next;
		if (r->marker == marker && !r->renumber) {
			kp_dbg(h, "seq %llu overtaken by %llu: renumbered",
			       (unsigned long long)r->seq,
			       (unsigned long long)seq);
			req_renumber(h, r);
		}
	}
}

/* Rewrite what is overdue, fail what expired. */
void kp_timers(struct kpaxos *h, uint64_t now, struct kp_cbq *q)
{
	uint64_t next = now + 1000;
	struct kp_req *r, *nx;

	if (now < h->scan_at)
		return;
	for (r = h->p_head; r; r = nx) {
		nx = r->next;
		if (r->expire && now >= r->expire) {
			req_finish(h, r, -ETIMEDOUT, NULL, 0, q);
			req_put(r);
			continue;
		}
		if (!r->writes && !r->queued && now >= r->deadline) {
			kp_dbg(h, "seq %llu: retry %u", (unsigned long long)r->seq,
			       r->tries + 1);
			r->fresh = false;
			r->tries++;
			r->deadline = now + retry_interval(h, r);
			r->lgen = h->lgen;
			h->st.retries++;
			req_enqueue(h, r);
		}
		if (r->deadline < next)
			next = r->deadline;
		if (r->expire && r->expire < next)
			next = r->expire;
	}
	h->scan_at = next > now + KP_SCAN_MS ? next : now + KP_SCAN_MS;
}

static struct kp_req *aq_pop(struct kpaxos *h)
{
	struct kp_req *r = h->aq_head;

	if (!r)
		return NULL;
	h->aq_head = r->wnext;
	if (!h->aq_head)
		h->aq_tail = &h->aq_head;
	r->waiting = false;
	return r;
}

/*
 * Delivery thread: number waiting asynchronous requests and queue their
 * writes while the window has room; fail those that expired waiting.
 */
void kp_promote(struct kpaxos *h, uint64_t now, struct kp_cbq *q)
{
	struct kp_req *r;

	while (h->aq_head && (h->n_out < h->opts.window ||
			      (h->aq_head->expire &&
			       now >= h->aq_head->expire))) {
		r = aq_pop(h);
		if (r->expire && now >= r->expire) {
			req_finish(h, r, -ETIMEDOUT, NULL, 0, q);
			req_put(r);
			maybe_idle(h);
			continue;
		}
		r->deadline = now + retry_interval(h, r);
		r->lgen = h->lgen;
		r->sent_at = now;
		r->fresh = true;
		req_link(h, r);
		req_enqueue(h, r);
	}
}

/* The cluster changed leader: rewrite everything written before. */
void kp_leader_changed(struct kpaxos *h, uint64_t now)
{
	struct kp_req *r;

	kp_dbg(h, "leader changed: rewriting");
	for (r = h->p_head; r; r = r->next) {
		if (r->lgen != h->lgen) {
			r->deadline = now;
			r->tries = 0;
		}
	}
	h->scan_at = now;
}

/* poll(2) timeout of the delivery thread, in ms (-1: none). */
int kp_poll_timeout(struct kpaxos *h, uint64_t now)
{
	uint64_t t;

	if (!h->n_pending)
		return -1;
	t = h->scan_at;
	if (h->status_ok && h->status_at < t)
		t = h->status_at;
	if (t <= now)
		return 0;
	t -= now;
	return t > 250 ? 250 : (int)t;
}

/* A write that failed with @res is tried again later. */
static bool write_again(long res)
{
	return res == -EAGAIN || res == -EINTR || res == -ENOBUFS ||
	       res == -ENOMEM || res == -ECANCELED;
}

static void write_result(struct kpaxos *h, struct kp_req *r, long res,
			 struct kp_cbq *q)
{
	if (res == (long)r->wlen) {
		/* in the kernel's queue */
	} else if (write_again(res)) {
		/* not taken: write it again soon, same (client, seq) */
		if (!r->done) {
			r->deadline = kp_now_ms() + KP_EAGAIN_MS;
			if (r->deadline < h->scan_at)
				h->scan_at = r->deadline;
		}
	} else if (!r->done) {
		req_finish(h, r, res < 0 ? (int)res : -EIO, NULL, 0, q);
	}
	req_write_end(h, r);
	req_put(r);
}

/* Take the head of the write queue off it. */
static struct kp_req *wq_pop(struct kpaxos *h)
{
	struct kp_req *r = h->wq_head;

	if (!r)
		return NULL;
	h->wq_head = r->wnext;
	if (!h->wq_head)
		h->wq_tail = &h->wq_head;
	r->queued = false;
	return r;
}

/*
 * Put the records @b[0..n) of a batched write that the kernel did not take
 * back at the head of the write queue, in their order, ahead of what was
 * queued since.  The write of each has ended.
 */
static void wq_push_front(struct kpaxos *h, struct kp_req **b, unsigned int n)
{
	struct kp_req *head = NULL, **tail = &head;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct kp_req *r = b[i];

		req_write_end(h, r);	/* may renumber: then it is queued */
		if (r->done || r->queued) {
			req_put(r);
			continue;
		}
		r->queued = true;
		*tail = r;
		tail = &r->wnext;
	}
	if (!head)
		return;
	*tail = h->wq_head;
	if (!h->wq_head)
		h->wq_tail = tail;
	h->wq_head = head;
}

/* Move the head of the write queue into h->batch and h->wbuf. */
static size_t build_batch(struct kpaxos *h)
{
	unsigned int n = 0;
	struct kp_req *r;
	size_t off = 0;

	while ((r = h->wq_head) && n < KP_BATCH_MAX) {
		if (!r->done && off + r->wlen > KP_WBUF_SIZE)
			break;
		wq_pop(h);
		if (r->done) {
			req_put(r);
			continue;
		}
		memcpy(h->wbuf + off, &r->hdr, r->wlen);
		off += r->wlen;
		r->writes++;
		h->st.writes++;
		h->batch[n++] = r;
	}
	h->batch_n = n;
	return off;
}

/*
 * The batched write ended with @res: the bytes of the records the kernel
 * queued (a prefix), or the error of its first record.  Those not taken go
 * back to the head of the write queue.
 */
static void batch_done(struct kpaxos *h, long res, struct kp_cbq *q)
{
	unsigned int i, n = h->batch_n;
	struct kp_req *r;
	size_t off = 0;

	h->batch_n = 0;
	if (res == 0 || (res > 0 && (size_t)res < h->batch[0]->wlen))
		res = -EIO;	/* the first record is always whole */
	if (res < 0 && write_again(res)) {
		/* none taken: all written again soon, in sequence order */
		for (i = 0; i < n; i++)
			write_result(h, h->batch[i], res, q);
		return;
	}
	if (res < 0) {
		/* the first record failed; the others were not tried */
		write_result(h, h->batch[0], res, q);
		wq_push_front(h, h->batch + 1, n - 1);
		return;
	}
	for (i = 0; i < n; i++) {
		r = h->batch[i];
		if (off + r->wlen > (size_t)res)
			break;
		off += r->wlen;
		write_result(h, r, r->wlen, q);
	}
	/* ended early: the next write starts at the first one not taken */
	wq_push_front(h, h->batch + i, n - i);
}

/*
 * Ring mode: the write queue goes to the kernel as one write of many
 * records back to back (see uapi/linux/paxos.h), so one system call carries
 * every proposal queued since the last.  It is first written inline on the
 * nonblocking file; a batch that finds the kernel's queue full goes to the
 * ring as one IORING_OP_WRITE on the blocking file, whose io-wq worker
 * waits for room.  (/dev/paxos has no nonblocking write for io_uring to try
 * inline: an SQE per record costs a worker round trip per record.)  While
 * that write is in flight, nothing else is written: the kernel sees the
 * records in sequence order, and new proposals collect for the next batch.
 */
static void flush_batch(struct kpaxos *h, struct kp_cbq *q)
{
	struct io_uring_sqe *sqe;
	unsigned int tries = 0;
	ssize_t ret;
	size_t len;

	while (!h->batch_n && h->wq_head) {
		len = build_batch(h);
		if (!len)
			return;
		if (h->wfd >= 0 && tries++ < 4) {
			/* h->batch and h->wbuf are the thread's own */
			pthread_mutex_unlock(&h->lock);
			ret = write(h->wfd, h->wbuf, len);
			if (ret < 0)
				ret = -errno;
			pthread_mutex_lock(&h->lock);
			h->st.submits++;
			if (ret != -EAGAIN) {
				batch_done(h, ret, q);
				continue;
			}
		}
		sqe = io_uring_get_sqe(&h->ring);
		if (!sqe) {
			/* cannot happen: nothing else is in the ring */
			batch_done(h, -EAGAIN, q);
			return;
		}
		io_uring_prep_write(sqe, h->fd, h->wbuf, len, (uint64_t)-1);
		io_uring_sqe_set_data(sqe, h);
		h->ring_inflight++;
		io_uring_submit(&h->ring);
		h->st.submits++;
	}
}

/*
 * Delivery thread: hand the write queue to the kernel - batched through
 * the ring, or with write(2) per record when there is no ring.
 */
void kp_flush_writes(struct kpaxos *h, struct kp_cbq *q)
{
	struct kp_req *r;
	ssize_t ret;

	if (h->have_ring) {
		flush_batch(h, q);
		return;
	}
	while ((r = wq_pop(h))) {
		if (r->done) {
			req_put(r);
			continue;
		}
		r->writes++;
		h->st.writes++;
		pthread_mutex_unlock(&h->lock);
		ret = write(h->fd, &r->hdr, r->wlen);
		if (ret < 0)
			ret = -errno;
		pthread_mutex_lock(&h->lock);
		write_result(h, r, ret, q);
	}
}

/* Delivery thread: harvest write completions. */
void kp_reap(struct kpaxos *h, struct kp_cbq *q)
{
	struct io_uring_cqe *cqe;
	long res;

	if (!h->have_ring)
		return;
	while (io_uring_peek_cqe(&h->ring, &cqe) == 0) {
		res = cqe->res;
		io_uring_cqe_seen(&h->ring, cqe);
		h->ring_inflight--;
		batch_done(h, res, q);
	}
}

void kp_fail_all(struct kpaxos *h, int err, struct kp_cbq *q)
{
	struct kp_req *r;

	while ((r = h->p_head)) {
		req_finish(h, r, err, NULL, 0, q);
		req_put(r);
	}
	while ((r = aq_pop(h))) {
		req_finish(h, r, err, NULL, 0, q);
		req_put(r);
	}
	maybe_idle(h);
}

/*
 * A snapshot at @index replaced the replica's state.  A request numbered
 * when the node had delivered @index or more is decided after it: it stays.
 * Whether an older one is in the snapshot is unknown, so it fails with @err
 * and is never written again (a retry could be taken for an overtaken
 * command and renumbered, so applied twice).  Requests still outside the
 * window wait.  Sync markers change nothing: they are proposed again under
 * a fresh sequence number instead.
 */
void kp_fail_pending(struct kpaxos *h, int err, uint64_t index,
		     struct kp_cbq *q)
{
	struct kp_req *r, *next, *last = h->p_tail;

	for (r = h->p_head; r; r = next) {
		next = r == last ? NULL : r->next;
		if (r->floor >= index)
			continue;
		if (r->marker && !r->done) {
			if (!r->renumber)
				req_renumber(h, r);
		} else {
			req_finish(h, r, err, NULL, 0, q);
			req_put(r);
		}
	}
	maybe_idle(h);
}

/* Forget the write queue (handle closing, ring gone). */
void kp_drop_queued(struct kpaxos *h)
{
	struct kp_req *r;

	while ((r = h->wq_head)) {
		h->wq_head = r->wnext;
		r->queued = false;
		req_put(r);
	}
	h->wq_tail = &h->wq_head;
}

/* ---------------------------------------------------------------- API */

static ssize_t propose_wait(struct kpaxos *h, const void *cmd, size_t len,
			    bool marker, void *result, size_t cap)
{
	struct kp_req *r;
	ssize_t n, ret;
	uint64_t now;

	if (len > KPAXOS_MAX_CMD)
		return -EMSGSIZE;
	if (!cmd && len)
		return -EINVAL;
	if (on_thread(h))
		return -EDEADLK;
	r = req_new(h, cmd, len, marker);
	if (!r)
		return -ENOMEM;

	/*
	 * Number and write under wlock, so that blocking proposers reach the
	 * kernel in sequence order (an overtaken command must be renumbered).
	 */
	pthread_mutex_lock(&h->wlock);
	pthread_mutex_lock(&h->lock);
	ret = h->fatal;
	if (!ret)
		ret = kp_start(h);
	if (ret) {
		pthread_mutex_unlock(&h->lock);
		pthread_mutex_unlock(&h->wlock);
		r->done = true;
		req_put(r);
		return ret;
	}
	now = kp_now_ms();
	r->deadline = now + retry_interval(h, r);
	r->expire = h->opts.timeout_ms ? now + h->opts.timeout_ms : 0;
	r->lgen = h->lgen;
	r->sent_at = now;
	r->fresh = true;
	r->waiter = true;
	r->writes = 1;
	req_link(h, r);
	h->st.proposed++;
	h->st.writes++;
	pthread_mutex_unlock(&h->lock);

	/* The blocking path writes from the caller's thread. */
	do {
		n = write(h->fd, &r->hdr, r->wlen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	pthread_mutex_unlock(&h->wlock);

	pthread_mutex_lock(&h->lock);
	if (n != (ssize_t)r->wlen && n != -EAGAIN && !r->done)
		req_finish(h, r, n < 0 ? (int)n : -EIO, NULL, 0, NULL);
	else if (n == -EAGAIN && !r->done)
		r->deadline = kp_now_ms() + KP_EAGAIN_MS;
	req_write_end(h, r);
	while (!r->done)
		pthread_cond_wait(&r->cond, &h->lock);
	r->waiter = false;
	ret = r->err;
	if (!ret) {
		if (cap && r->res_len)
			memcpy(result, r->res,
			       r->res_len < cap ? r->res_len : cap);
		ret = r->res_len;
	}
	req_put(r);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

ssize_t kpaxos_propose(struct kpaxos *h, const void *cmd, size_t len,
		       void *result, size_t cap)
{
	if (!h || (cap && !result))
		return -EINVAL;
	return propose_wait(h, cmd, len, false, result, cap);
}

int kpaxos_sync(struct kpaxos *h)
{
	ssize_t ret;

	if (!h)
		return -EINVAL;
	ret = propose_wait(h, KP_MARKER, KP_MARKER_LEN, true, NULL, 0);
	return ret < 0 ? (int)ret : 0;
}

int kpaxos_propose_async(struct kpaxos *h, const void *cmd, size_t len,
			 unsigned int flags, kpaxos_done_fn done, void *arg)
{
	struct kp_req *r;
	uint64_t now;
	int err;

	if (!h || (!cmd && len) ||
	    (flags & ~(KPAXOS_ASYNC_MORE | KPAXOS_ASYNC_NONBLOCK)))
		return -EINVAL;
	if (len > KPAXOS_MAX_CMD)
		return -EMSGSIZE;
	r = req_new(h, cmd, len, false);
	if (!r)
		return -ENOMEM;
	r->async = true;
	r->fn = done;
	r->arg = arg;

	pthread_mutex_lock(&h->lock);
	err = kp_start(h);
	/* The delivery thread itself must not wait for room: it makes it. */
	while (!err && !h->fatal && h->n_async >= h->opts.max_inflight &&
	       !on_thread(h)) {
		if (flags & KPAXOS_ASYNC_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		kp_kick(h);
		pthread_cond_wait(&h->space, &h->lock);
	}
	if (!err)
		err = h->fatal;
	if (err) {
		pthread_mutex_unlock(&h->lock);
		r->done = true;
		req_put(r);
		return err;
	}
	now = kp_now_ms();
	r->expire = h->opts.timeout_ms ? now + h->opts.timeout_ms : 0;
	h->n_async++;
	h->st.proposed++;
	r->waiting = true;
	r->wnext = NULL;
	*h->aq_tail = r;
	h->aq_tail = &r->wnext;
	if (!(flags & KPAXOS_ASYNC_MORE))
		kp_kick(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int kpaxos_flush(struct kpaxos *h)
{
	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->wq_head || h->aq_head)
		kp_kick(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int kpaxos_drain(struct kpaxos *h)
{
	int err;

	if (!h)
		return -EINVAL;
	if (on_thread(h))
		return -EDEADLK;
	pthread_mutex_lock(&h->lock);
	if (h->wq_head || h->aq_head)
		kp_kick(h);
	while ((h->n_pending || h->n_cb || h->aq_head) && !h->fatal)
		pthread_cond_wait(&h->idle, &h->lock);
	err = h->fatal;
	pthread_mutex_unlock(&h->lock);
	return err;
}

int kpaxos_completion_fd(struct kpaxos *h)
{
	if (!h || h->cfd < 0)
		return -EINVAL;
	return h->cfd;
}

int kpaxos_complete(struct kpaxos *h, unsigned int max)
{
	struct kp_cbq q;
	struct kp_req *r;
	eventfd_t v;
	int n = 0;

	if (!h || h->cfd < 0)
		return -EINVAL;
	kp_cbq_init(&q);
	eventfd_read(h->cfd, &v);
	pthread_mutex_lock(&h->lock);
	while ((r = h->cq.head) && (!max || (unsigned int)n < max)) {
		h->cq.head = r->cnext;
		if (!h->cq.head)
			h->cq.tail = &h->cq.head;
		cbq_add(&q, r);
		n++;
	}
	if (h->cq.head)
		eventfd_write(h->cfd, 1);	/* still readable */
	pthread_mutex_unlock(&h->lock);
	kp_run_callbacks(h, &q);
	return n;
}
