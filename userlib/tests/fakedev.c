// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Simulated /dev/paxos; see fakedev.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/paxos.h>

#include "fakedev.h"

#define MAX_REPLICAS	8
#define MAX_CLIENTS	1024
#define MAX_HELD	4096

struct msg {
	struct msg *next;
	size_t len;
	uint8_t data[];
};

struct cmd {
	struct paxos_propose_hdr hdr;
	uint8_t data[];
};

struct replica {
	int fd;			/* sequencer's end */
	int lib_fd;		/* library's end */
	bool paused;
	struct msg *out_head, **out_tail;
};

struct fakedev {
	struct fakedev_opts o;
	struct replica r[MAX_REPLICAS];
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	uint64_t rng;
	uint64_t instance;
	struct {
		uint64_t id, seq;
	} clients[MAX_CLIENTS];
	int n_clients;
	struct cmd *held[MAX_HELD];
	int n_held;
	struct cmd *batch[64];
	int n_batch;
	struct fakedev_stats st;
	struct msg **hist;		/* records of each instance, by instance */
	uint64_t n_hist;
	uint8_t *snap;			/* current snapshot, st.snap_index */
	size_t snap_len;
	uint8_t buf[128 * 1024 + 4096];	/* a batched write: KP_WBUF_SIZE */
};

/* Every fakedev, for fakedev_ioctl() (tests run one or two at a time). */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fakedev *fakedevs[4];

static uint64_t rnd(struct fakedev *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static bool chance(struct fakedev *f, unsigned int pct)
{
	return pct && rnd(f) % 100 < pct;
}

static uint64_t *client_max(struct fakedev *f, uint64_t id)
{
	int i;

	for (i = 0; i < f->n_clients; i++)
		if (f->clients[i].id == id)
			return &f->clients[i].seq;
	if (f->n_clients == MAX_CLIENTS)
		abort();
	f->clients[f->n_clients].id = id;
	f->clients[f->n_clients].seq = 0;
	return &f->clients[f->n_clients++].seq;
}

static struct msg *msg_new(const uint8_t *data, size_t len)
{
	struct msg *m = malloc(sizeof(*m) + len);

	if (!m)
		abort();
	m->next = NULL;
	m->len = len;
	memcpy(m->data, data, len);
	return m;
}

static void queue_one(struct replica *r, const uint8_t *data, size_t len)
{
	struct msg *m = msg_new(data, len);

	*r->out_tail = m;
	r->out_tail = &m->next;
}

/* The records of instance f->instance, to every replica not paused. */
static void queue_out(struct fakedev *f, const uint8_t *data, size_t len)
{
	int i;

	if (f->o.snap_every) {		/* keep the log for restores */
		f->hist = realloc(f->hist, (f->instance + 1) * sizeof(*f->hist));
		if (!f->hist)
			abort();
		while (f->n_hist <= f->instance)
			f->hist[f->n_hist++] = NULL;
		f->hist[f->instance] = msg_new(data, len);
	}
	for (i = 0; i < f->o.replicas; i++)
		if (!f->r[i].paused)
			queue_one(&f->r[i], data, len);
}

/* Decide the current batch as one instance. */
static void decide_batch(struct fakedev *f)
{
	size_t off = 0, rec;
	uint16_t pos = 0;
	uint8_t *out;
	int i;

	if (!f->n_batch)
		return;
	out = malloc((f->n_batch + 1) * (sizeof(struct paxos_delivery_hdr) + 8) +
		     f->n_batch * (size_t)PAXOS_MAX_CMD);
	if (!out)
		abort();
	f->instance++;
	f->st.instances++;
	for (i = 0; i < f->n_batch; i++) {
		struct cmd *c = f->batch[i];
		struct paxos_delivery_hdr d = { 0 };
		uint64_t *max = client_max(f, c->hdr.client_id);

		d.instance = f->instance;
		d.client_id = c->hdr.client_id;
		d.seq = c->hdr.seq;
		d.len = c->hdr.len;
		d.pos = pos++;
		if (c->hdr.seq <= *max) {
			f->st.dups++;
			if (!f->o.flag_dups) {
				free(c);
				continue;
			}
			d.flags = PAXOS_CMD_F_DUP;
		} else {
			*max = c->hdr.seq;
			f->st.decided++;
		}
		memcpy(out + off, &d, sizeof(d));
		memcpy(out + off + sizeof(d), c->data, d.len);
		rec = sizeof(d) + d.len;
		rec = (rec + PAXOS_RECORD_ALIGN - 1) & ~(size_t)7;
		memset(out + off + sizeof(d) + d.len, 0,
		       rec - sizeof(d) - d.len);
		off += rec;
		free(c);
	}
	f->n_batch = 0;
	if (f->o.snap_every && f->instance % f->o.snap_every == 0) {
		struct paxos_delivery_hdr d = { 0 };

		d.instance = f->instance;
		d.flags = PAXOS_DELIVERY_F_SNAP_POINT;
		memcpy(out + off, &d, sizeof(d));
		off += sizeof(d);
	}
	if (off)
		queue_out(f, out, off);
	free(out);
}

static void decide(struct fakedev *f, struct cmd *c)
{
	unsigned int max = f->o.batch ? f->o.batch : 1;

	f->batch[f->n_batch++] = c;
	if ((unsigned int)f->n_batch >= max || f->n_batch == 64)
		decide_batch(f);
}

static struct cmd *copy_cmd(const struct cmd *c)
{
	size_t len = sizeof(*c) + c->hdr.len;
	struct cmd *n = malloc(len);

	if (!n)
		abort();
	memcpy(n, c, len);
	return n;
}

static void release_held(struct fakedev *f, bool all)
{
	int i;

	while (f->n_held) {
		if (!all && !chance(f, 50))
			break;
		/* a random one: reordering */
		i = rnd(f) % f->n_held;
		decide(f, f->held[i]);
		f->held[i] = f->held[--f->n_held];
	}
}

static void on_record(struct fakedev *f, const struct cmd *c)
{
	f->st.written++;
	if (chance(f, f->o.drop_pct)) {
		f->st.dropped++;
	} else if (f->n_held < MAX_HELD && chance(f, f->o.hold_pct)) {
		f->held[f->n_held++] = copy_cmd(c);
		f->st.held++;
	} else {
		decide(f, copy_cmd(c));
		if (chance(f, f->o.dup_pct))
			decide(f, copy_cmd(c));
	}
}

/* One write(2): one or more records back to back, each whole. */
static void on_write(struct fakedev *f, const uint8_t *buf, ssize_t n)
{
	const struct cmd *c;
	size_t off = 0, need;

	if (n < (ssize_t)sizeof(c->hdr))
		abort();	/* the library wrote a bad record */
	pthread_mutex_lock(&f->lock);
	while (off < (size_t)n) {
		c = (const struct cmd *)(buf + off);
		if (n - off < sizeof(c->hdr))
			abort();
		need = sizeof(c->hdr) + c->hdr.len;
		if (need > n - off)
			abort();
		on_record(f, c);
		off += need;
	}
	release_held(f, false);
	pthread_mutex_unlock(&f->lock);
}

static void flush_out(struct replica *r)
{
	struct msg *m;

	while ((m = r->out_head)) {
		if (send(r->fd, m->data, m->len, MSG_DONTWAIT) < 0)
			return;	/* EAGAIN: later */
		r->out_head = m->next;
		if (!r->out_head)
			r->out_tail = &r->out_head;
		free(m);
	}
}

static void *run(void *arg)
{
	struct fakedev *f = arg;
	struct pollfd pfd[MAX_REPLICAS + 1];
	int i, k, ret, n = f->o.replicas;
	ssize_t len;

	for (;;) {
		pthread_mutex_lock(&f->lock);
		for (i = 0; i < n; i++) {
			pfd[i].fd = f->r[i].fd;
			pfd[i].events = POLLIN |
					(f->r[i].out_head ? POLLOUT : 0);
		}
		pthread_mutex_unlock(&f->lock);
		pfd[n].fd = f->stop_pipe[0];
		pfd[n].events = POLLIN;
		ret = poll(pfd, n + 1, 5);
		if (ret < 0 && errno != EINTR)
			abort();
		if (pfd[n].revents)
			break;
		for (i = 0; i < n; i++) {
			for (k = 0; k < 64 && (pfd[i].revents & POLLIN); k++) {
				len = recv(f->r[i].fd, f->buf, sizeof(f->buf),
					   MSG_DONTWAIT);
				if (len <= 0)
					break;
				on_write(f, f->buf, len);
			}
		}
		pthread_mutex_lock(&f->lock);
		/* quiet moment: what was held back goes through */
		if (!ret)
			release_held(f, true);
		decide_batch(f);
		for (i = 0; i < n; i++)
			flush_out(&f->r[i]);
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

struct fakedev *fakedev_start(const struct fakedev_opts *o)
{
	struct fakedev *f = calloc(1, sizeof(*f));
	int i, sv[2], sz = 4 << 20;

	if (!f)
		return NULL;
	f->o = *o;
	f->rng = o->seed ? o->seed : 0x9E3779B97F4A7C15ULL;
	pthread_mutex_init(&f->lock, NULL);
	if (pipe(f->stop_pipe) < 0)
		abort();
	for (i = 0; i < o->replicas; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
			abort();
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		f->r[i].fd = sv[0];
		f->r[i].lib_fd = sv[1];
		f->r[i].out_tail = &f->r[i].out_head;
	}
	if (pthread_create(&f->thread, NULL, run, f))
		abort();
	pthread_mutex_lock(&all_lock);
	for (i = 0; i < 4; i++) {
		if (!fakedevs[i]) {
			fakedevs[i] = f;
			break;
		}
	}
	pthread_mutex_unlock(&all_lock);
	return f;
}

void fakedev_pause(struct fakedev *f, int i)
{
	pthread_mutex_lock(&f->lock);
	f->r[i].paused = true;
	pthread_mutex_unlock(&f->lock);
}

int fakedev_restore(struct fakedev *f, int i)
{
	struct paxos_delivery_hdr d = { 0 };
	uint64_t k;

	pthread_mutex_lock(&f->lock);
	if (!f->st.snap_index) {
		pthread_mutex_unlock(&f->lock);
		return -1;
	}
	d.instance = f->st.snap_index;
	d.flags = PAXOS_DELIVERY_F_RESTORE;
	queue_one(&f->r[i], (const uint8_t *)&d, sizeof(d));
	for (k = f->st.snap_index + 1; k < f->n_hist; k++)
		if (f->hist[k])
			queue_one(&f->r[i], f->hist[k]->data, f->hist[k]->len);
	f->r[i].paused = false;
	f->st.restores++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

size_t fakedev_snapshot(struct fakedev *f, uint64_t *index, void *buf,
			size_t cap)
{
	size_t len;

	pthread_mutex_lock(&f->lock);
	*index = f->st.snap_index;
	len = f->snap_len;
	memcpy(buf, f->snap, len < cap ? len : cap);
	pthread_mutex_unlock(&f->lock);
	return len;
}

/* The kernel's rules for a put, with one node-wide current snapshot. */
static int snap_put(struct fakedev *f, struct paxos_snapshot_io *io)
{
	uint8_t *copy;

	if (!io->index || io->flags || (!io->buf && io->len))
		return -EINVAL;
	if (io->len > PAXOS_MAX_SNAPSHOT)
		return -EMSGSIZE;
	if (io->index < f->st.snap_index)
		return -ESTALE;
	/* points already put (or passed) are no longer pending */
	if (!f->o.snap_every || io->index % f->o.snap_every ||
	    io->index > f->instance || io->index == f->st.snap_index)
		return -ENOENT;
	copy = malloc(io->len ? io->len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, (const void *)(uintptr_t)io->buf, io->len);
	free(f->snap);
	f->snap = copy;
	f->snap_len = io->len;
	f->st.snap_index = io->index;
	return 0;
}

static int snap_get(struct fakedev *f, struct paxos_snapshot_io *io)
{
	uint32_t cap = io->len;

	if (io->flags || (!io->buf && io->len))
		return -EINVAL;
	if (!f->st.snap_index ||
	    (io->index && io->index != f->st.snap_index))
		return -ENOENT;
	io->index = f->st.snap_index;
	io->len = f->snap_len;
	if (cap < f->snap_len)
		return -EMSGSIZE;
	memcpy((void *)(uintptr_t)io->buf, f->snap, f->snap_len);
	return 0;
}

int fakedev_ioctl(int fd, unsigned long req, void *arg)
{
	struct fakedev *f = NULL;
	int i, k, err;

	if (req != PAXOS_IOC_SNAPSHOT_PUT && req != PAXOS_IOC_SNAPSHOT_GET)
		return 1;
	pthread_mutex_lock(&all_lock);
	for (k = 0; k < 4 && !f; k++)
		for (i = 0; fakedevs[k] && i < fakedevs[k]->o.replicas; i++)
			if (fakedevs[k]->r[i].lib_fd == fd)
				f = fakedevs[k];
	pthread_mutex_unlock(&all_lock);
	if (!f)
		return 1;
	pthread_mutex_lock(&f->lock);
	if (req == PAXOS_IOC_SNAPSHOT_PUT) {
		err = snap_put(f, arg);
		if (err)
			f->st.puts_refused++;
		else
			f->st.puts++;
	} else {
		err = snap_get(f, arg);
		f->st.gets++;
	}
	pthread_mutex_unlock(&f->lock);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

int fakedev_fd(struct fakedev *f, int i)
{
	return f->r[i].lib_fd;
}

void fakedev_stats(struct fakedev *f, struct fakedev_stats *st)
{
	pthread_mutex_lock(&f->lock);
	*st = f->st;
	pthread_mutex_unlock(&f->lock);
}

void fakedev_set_faults(struct fakedev *f, unsigned int drop_pct,
			unsigned int dup_pct, unsigned int hold_pct)
{
	pthread_mutex_lock(&f->lock);
	f->o.drop_pct = drop_pct;
	f->o.dup_pct = dup_pct;
	f->o.hold_pct = hold_pct;
	pthread_mutex_unlock(&f->lock);
}

void fakedev_stop(struct fakedev *f)
{
	struct msg *m;
	uint64_t k;
	int i;

	if (write(f->stop_pipe[1], "x", 1) != 1)
		abort();
	pthread_join(f->thread, NULL);
	pthread_mutex_lock(&all_lock);
	for (i = 0; i < 4; i++)
		if (fakedevs[i] == f)
			fakedevs[i] = NULL;
	pthread_mutex_unlock(&all_lock);
	for (k = 0; k < f->n_hist; k++)
		free(f->hist[k]);
	free(f->hist);
	free(f->snap);
	for (i = 0; i < f->o.replicas; i++) {
		close(f->r[i].fd);
		while ((m = f->r[i].out_head)) {
			f->r[i].out_head = m->next;
			free(m);
		}
	}
	for (i = 0; i < f->n_held; i++)
		free(f->held[i]);
	for (i = 0; i < f->n_batch; i++)
		free(f->batch[i]);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	free(f);
}
