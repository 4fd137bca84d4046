// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libkpaxos: handles and the delivery thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_DEVICE		"/dev/paxos"
#define DEFAULT_RETRY_MS	1000
#define DEFAULT_MAX_INFLIGHT	65536
#define DEFAULT_RING		1024
#define DEFAULT_WINDOW		256

static uint64_t random_id(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint64_t)getpid() << 32 ^ kp_now_ms() ^
		    (uintptr_t)&v;
	v &= ~KPAXOS_CLIENT_RESERVED;
	return v ? v : 1;
}

static void setup_ring(struct kpaxos *h)
{
	unsigned int workers[2] = { 1, 1 };
	char path[64];

	if (h->opts.flags & KPAXOS_OPEN_NO_URING)
		return;
	h->wbuf = malloc(KP_WBUF_SIZE);
	h->batch = calloc(KP_BATCH_MAX, sizeof(*h->batch));
	if (!h->wbuf || !h->batch)
		goto fail;
	if (io_uring_queue_init(h->opts.ring_entries, &h->ring, 0) < 0)
		goto fail;	/* no io_uring: write(2) from the thread */
	if (io_uring_register_eventfd(&h->ring, h->evfd) < 0) {
		io_uring_queue_exit(&h->ring);
		goto fail;
	}
	/*
	 * /dev/paxos has no nonblocking write for io_uring to try inline, so
	 * every write goes to an io-wq worker.  One is enough: there is one
	 * write in flight at a time (see kp_flush_writes()).
	 */
	io_uring_register_iowq_max_workers(&h->ring, workers);
	h->have_ring = true;
	/*
	 * A second open file of the same device, nonblocking, for writing
	 * batches inline; only a batch that finds the kernel's queue full
	 * goes through the ring (and waits in its worker, not here).
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", h->fd);
	h->wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return;

fail:
	free(h->wbuf);
	free(h->batch);
	h->wbuf = NULL;
	h->batch = NULL;
}

int kpaxos_open(struct kpaxos **hp, const struct kpaxos_opts *opts)
{
	struct paxos_status st;
	struct kpaxos *h;
	int err;

	if (!hp)
		return -EINVAL;
	*hp = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (opts)
		h->opts = *opts;
	if (!h->opts.device)
		h->opts.device = DEFAULT_DEVICE;
	if (!h->opts.retry_ms)
		h->opts.retry_ms = DEFAULT_RETRY_MS;
	if (!h->opts.max_inflight)
		h->opts.max_inflight = DEFAULT_MAX_INFLIGHT;
	if (!h->opts.ring_entries)
		h->opts.ring_entries = DEFAULT_RING;
	if (!h->opts.window)
		h->opts.window = DEFAULT_WINDOW;
	h->fd = -1;
	h->wfd = -1;
	h->evfd = -1;
	h->cfd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->wlock, NULL);
	pthread_cond_init(&h->space, NULL);
	pthread_cond_init(&h->idle, NULL);
	h->wq_tail = &h->wq_head;
	h->aq_tail = &h->aq_head;
	kp_cbq_init(&h->cq);
	h->cid = random_id();
	h->mcid = h->cid | KPAXOS_CLIENT_RESERVED;
	h->next_seq = 1;
	h->debug = getenv("KPAXOS_DEBUG") != NULL;

	err = -ENOMEM;
	h->rbuf = malloc(KP_RBUF_SIZE);
	h->resbuf = malloc(KPAXOS_MAX_RESULT);
	if (!h->rbuf || !h->resbuf)
		goto fail;

	if (h->opts.fd > 0) {
		h->fd = h->opts.fd;
	} else {
		h->fd = open(h->opts.device, O_RDWR | O_CLOEXEC);
		if (h->fd < 0) {
			err = -errno;
			goto fail;
		}
	}
	if (h->opts.start_index &&
	    ioctl(h->fd, PAXOS_IOC_SEEK, &h->opts.start_index) < 0) {
		err = -errno;
		goto fail;
	}
	h->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->evfd < 0) {
		err = -errno;
		goto fail;
	}
	if (h->opts.flags & KPAXOS_OPEN_COMPLETION_FD) {
		h->cfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (h->cfd < 0) {
			err = -errno;
			goto fail;
		}
	}
	if (ioctl(h->fd, PAXOS_IOC_STATUS, &st) == 0) {
		h->status_ok = true;
		h->lgen = st.leader_changes;
		h->dfloor = st.delivered_index;
	}
	setup_ring(h);
	*hp = h;
	return 0;

fail:
	if (h->cfd >= 0)
		close(h->cfd);
	if (h->evfd >= 0)
		close(h->evfd);
	if (h->fd >= 0)
		close(h->fd);
	free(h->rbuf);
	free(h->resbuf);
	free(h);
	return err;
}

/* Wait (bounded) for the ring's writes, so that no buffer is in use. */
static void drain_ring(struct kpaxos *h, struct kp_cbq *q)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;
	int tries = 5;

	while (h->ring_inflight && tries) {
		if (io_uring_wait_cqe_timeout(&h->ring, &cqe, &ts) < 0) {
			tries--;
			continue;
		}
		pthread_mutex_lock(&h->lock);
		kp_reap(h, q);
		pthread_mutex_unlock(&h->lock);
	}
}

void kpaxos_close(struct kpaxos *h)
{
	struct kp_cbq q;

	if (!h)
		return;
	kp_cbq_init(&q);
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	eventfd_write(h->evfd, 1);
	pthread_mutex_unlock(&h->lock);
	if (h->started)
		pthread_join(h->thread, NULL);
	h->started = false;

	pthread_mutex_lock(&h->lock);
	kp_fail_all(h, -ECANCELED, &q);
	kp_drop_queued(h);
	pthread_mutex_unlock(&h->lock);
	if (h->have_ring) {
		drain_ring(h, &q);
		io_uring_queue_exit(&h->ring);
	}
	/* Completions not collected by kpaxos_complete() run now. */
	pthread_mutex_lock(&h->lock);
	if (h->cq.head) {
		*q.tail = h->cq.head;
		q.tail = h->cq.tail;
		kp_cbq_init(&h->cq);
	}
	pthread_mutex_unlock(&h->lock);
	kp_run_callbacks(h, &q);

	close(h->fd);
	if (h->wfd >= 0)
		close(h->wfd);
	close(h->evfd);
	if (h->cfd >= 0)
		close(h->cfd);
	pthread_cond_destroy(&h->space);
	pthread_cond_destroy(&h->idle);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->wlock);
	free(h->rbuf);
	free(h->resbuf);
	free(h->sbuf);
	free(h->wbuf);
	free(h->batch);
	free(h);
}

int kpaxos_register_apply(struct kpaxos *h, kpaxos_apply_fn fn, void *ctx)
{
	int err;

	if (!h || !fn)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->registered) {
		err = -EBUSY;
	} else {
		h->apply = fn;
		h->apply_ctx = ctx;
		h->registered = true;
		err = kp_start(h);
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

int kpaxos_set_snapshot(struct kpaxos *h, kpaxos_snapshot_fn snapshot_fn,
			kpaxos_restore_fn restore_fn, void *arg)
{
	int err = 0;

	if (!h || !snapshot_fn || !restore_fn)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->snap_fn) {
		err = -EBUSY;
	} else {
		h->snap_fn = snapshot_fn;
		h->restore_fn = restore_fn;
		h->snap_arg = arg;
	}
	pthread_mutex_unlock(&h->lock);
	return err;
}

uint64_t kpaxos_client_id(const struct kpaxos *h)
{
	return h ? h->cid : 0;
}

uint64_t kpaxos_applied_index(struct kpaxos *h)
{
	uint64_t v;

	pthread_mutex_lock(&h->lock);
	v = h->applied;
	pthread_mutex_unlock(&h->lock);
	return v;
}

void kpaxos_get_stats(struct kpaxos *h, struct kpaxos_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->st;
	pthread_mutex_unlock(&h->lock);
}

int kpaxos_status(struct kpaxos *h, void *st, size_t size)
{
	struct paxos_status s;

	if (!h || !st)
		return -EINVAL;
	if (ioctl(h->fd, PAXOS_IOC_STATUS, &s) < 0)
		return -errno;
	memcpy(st, &s, size < sizeof(s) ? size : sizeof(s));
	return 0;
}

/* ------------------------------------------------------ delivery thread */

static void fatal_error(struct kpaxos *h, int err, struct kp_cbq *q)
{
	if (!h->fatal)
		h->fatal = err;
	kp_fail_all(h, err, q);
	pthread_cond_broadcast(&h->space);
	pthread_cond_broadcast(&h->idle);
}

/* One delivered command. */
static void deliver(struct kpaxos *h, const struct paxos_delivery_hdr *d,
		    const uint8_t *data, struct kp_cbq *q)
{
	struct kpaxos_cmd_info info;
	kpaxos_apply_fn fn;
	size_t res_len = 0;
	bool own;
	void *ctx;

	if (d->flags & PAXOS_CMD_F_DUP) {
		pthread_mutex_lock(&h->lock);
		h->st.duplicates++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_lock(&h->lock);
	fn = h->apply;
	ctx = h->apply_ctx;
	pthread_mutex_unlock(&h->lock);

	own = d->client_id == h->cid;
	if (!(d->client_id & KPAXOS_CLIENT_RESERVED) && fn) {
		info.instance = d->instance;
		info.client_id = d->client_id;
		info.seq = d->seq;
		info.pos = d->pos;
		info.local = own;
		res_len = fn(ctx, &info, data, d->len, h->resbuf,
			     KPAXOS_MAX_RESULT);
		if (res_len > KPAXOS_MAX_RESULT)
			res_len = KPAXOS_MAX_RESULT;
	}

	pthread_mutex_lock(&h->lock);
	if (!(d->client_id & KPAXOS_CLIENT_RESERVED))
		h->st.applied++;
	h->applied = d->instance;
	if (own || d->client_id == h->mcid)
		kp_delivered(h, d->client_id, d->seq, h->resbuf, res_len, q);
	pthread_mutex_unlock(&h->lock);
}

/*
 * A SNAP_POINT record: hand the application's state at @index to the
 * kernel.  Nothing here is fatal: the node just has no snapshot at @index.
 */
static void snap_point(struct kpaxos *h, uint64_t index)
{
	struct paxos_snapshot_io io = { .index = index };
	kpaxos_snapshot_fn fn;
	size_t len = 0;
	void *buf = NULL;
	void *arg;
	int err;

	pthread_mutex_lock(&h->lock);
	fn = h->snap_fn;
	arg = h->snap_arg;
	pthread_mutex_unlock(&h->lock);
	if (!fn)
		return;
	err = fn(arg, index, &buf, &len);
	if (err) {
		kp_dbg(h, "snapshot at %llu skipped by the callback (%d)",
		       (unsigned long long)index, err);
		free(buf);
		return;
	}
	if (len > PAXOS_MAX_SNAPSHOT) {
		kp_dbg(h, "snapshot at %llu: %zu bytes, too large",
		       (unsigned long long)index, len);
		free(buf);
		return;
	}
	io.buf = (uintptr_t)buf;
	io.len = len;
	if (ioctl(h->fd, PAXOS_IOC_SNAPSHOT_PUT, &io) < 0)
		/* ENOENT, ESTALE: a newer one exists or this one is gone */
		kp_dbg(h, "snapshot at %llu not kept: %s",
		       (unsigned long long)index, strerror(errno));
	else
		kp_dbg(h, "snapshot at %llu: %zu bytes",
		       (unsigned long long)index, len);
	free(buf);
}

/* PAXOS_IOC_SNAPSHOT_GET of the current snapshot into h->sbuf. */
static int snap_get(struct kpaxos *h, struct paxos_snapshot_io *io)
{
	size_t want;
	void *p;

	for (;;) {
		memset(io, 0, sizeof(*io));
		io->buf = (uintptr_t)h->sbuf;
		io->len = h->sbuf_cap;
		if (ioctl(h->fd, PAXOS_IOC_SNAPSHOT_GET, io) == 0)
			return 0;
		if (errno != EMSGSIZE)
			return -errno;
		want = io->len > KP_SBUF_MIN ? io->len : KP_SBUF_MIN;
		if (want <= h->sbuf_cap || want > PAXOS_MAX_SNAPSHOT)
			return -EPROTO;
		p = realloc(h->sbuf, want);
		if (!p)
			return -ENOMEM;
		h->sbuf = p;
		h->sbuf_cap = want;
	}
}

/*
 * A RESTORE record: replace the application's state by the node's current
 * snapshot (at @index, or a newer one: then the records up to it are
 * skipped).  Returns 0 or a fatal -errno.
 */
static int restore(struct kpaxos *h, uint64_t index, struct kp_cbq *q)
{
	struct paxos_snapshot_io io;
	kpaxos_restore_fn fn;
	kpaxos_apply_fn apply;
	void *arg;
	int err;

	pthread_mutex_lock(&h->lock);
	fn = h->restore_fn;
	arg = h->snap_arg;
	apply = h->apply;
	pthread_mutex_unlock(&h->lock);
	if (apply && !fn)
		return -EOVERFLOW;	/* no way to rebuild the state */
	if (apply) {
		err = snap_get(h, &io);
		if (err) {
			kp_dbg(h, "restore at %llu: SNAPSHOT_GET: %s",
			       (unsigned long long)index, strerror(-err));
			return err == -ENOENT ? -EOVERFLOW : err;
		}
		if (io.index < index)
			return -EPROTO;
		err = fn(arg, io.index, h->sbuf, io.len);
		if (err)
			return err < 0 ? err : -EIO;
		index = io.index;
		kp_dbg(h, "restored the snapshot at %llu (%u bytes)",
		       (unsigned long long)index, io.len);
	}
	pthread_mutex_lock(&h->lock);
	h->restored = index;
	if (index > h->applied)
		h->applied = index;
	kp_fail_pending(h, -ESTALE, index, q);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Read and apply what the kernel has; returns false on a fatal error. */
static bool read_records(struct kpaxos *h, struct kp_cbq *q)
{
	const struct paxos_delivery_hdr *d;
	size_t off = 0, need;
	ssize_t n;
	int err;

	n = read(h->fd, h->rbuf, KP_RBUF_SIZE);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		err = n < 0 ? -errno : -ENOTCONN;
		goto fatal;
	}
	pthread_mutex_lock(&h->lock);
	h->st.reads++;
	pthread_mutex_unlock(&h->lock);
	while (off + sizeof(*d) <= (size_t)n) {
		d = (const struct paxos_delivery_hdr *)(h->rbuf + off);
		need = sizeof(*d) + d->len;
		if (d->len > PAXOS_MAX_CMD || off + need > (size_t)n) {
			err = -EPROTO;
			goto fatal;
		}
		off += (need + PAXOS_RECORD_ALIGN - 1) &
		       ~(size_t)(PAXOS_RECORD_ALIGN - 1);
		if (d->flags & PAXOS_DELIVERY_F_RESTORE) {
			err = restore(h, d->instance, q);
			if (err)
				goto fatal;
			continue;
		}
		/* inside a snapshot restored past the record's instance */
		if (d->instance <= h->restored)
			continue;
		if (d->flags & PAXOS_DELIVERY_F_SNAP_POINT) {
			snap_point(h, d->instance);
			continue;
		}
		deliver(h, d, (const uint8_t *)d + sizeof(*d), q);
	}
	return true;

fatal:
	pthread_mutex_lock(&h->lock);
	fatal_error(h, err, q);
	pthread_mutex_unlock(&h->lock);
	return false;
}

static void poll_leader(struct kpaxos *h, uint64_t now)
{
	struct paxos_status st;

	if (!h->status_ok || !h->n_pending || now < h->status_at)
		return;
	h->status_at = now + KP_STATUS_MS;
	if (ioctl(h->fd, PAXOS_IOC_STATUS, &st) < 0)
		return;
	if (st.delivered_index > h->dfloor)
		h->dfloor = st.delivered_index;
	if (st.leader_changes != h->lgen) {
		h->lgen = st.leader_changes;
		kp_leader_changed(h, now);
	}
}

void *kp_thread(void *arg)
{
	struct kpaxos *h = arg;
	struct pollfd pfd[2];
	struct kp_cbq q;
	bool reading = true;
	eventfd_t v;
	uint64_t now;
	int timeout;

	kp_cbq_init(&q);
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		now = kp_now_ms();
		poll_leader(h, now);
		kp_timers(h, now, &q);
		kp_promote(h, now, &q);
		kp_flush_writes(h, &q);
		timeout = kp_poll_timeout(h, now);
		pthread_mutex_unlock(&h->lock);
		kp_run_callbacks(h, &q);

		pfd[0].fd = reading ? h->fd : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = h->evfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			usleep(10000);	/* should not happen; do not spin */

		pthread_mutex_lock(&h->lock);
		if (pfd[1].revents & POLLIN) {
			eventfd_read(h->evfd, &v);
			h->kicked = false;
		}
		kp_reap(h, &q);
		pthread_mutex_unlock(&h->lock);
		if (pfd[0].revents)
			reading = read_records(h, &q);
		kp_run_callbacks(h, &q);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}
