/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libkpaxos internals.
 *
 * One handle = one /dev/paxos file (its own delivery cursor) + one delivery
 * thread.  The delivery thread is the only one that reads the device, owns
 * the io_uring (both submission and completion side), rewrites requests
 * after a timeout or a leader change and renumbers overtaken ones.  Other
 * threads only queue requests and wait.  Everything below is protected by
 * kpaxos.lock, except the ring (delivery thread only) and resbuf/rbuf.
 *
 * A request lives until it is done (applied locally, failed or cancelled)
 * AND nobody refers to it any more: no write in flight (the kernel may still
 * be reading its buffer), not in the write queue, no waiter, no completion
 * pending.  req_put() frees it when all of that is true.
 *
 * Asynchronous requests first wait in the window queue (aq) without a
 * sequence number; at most opts.window of them are numbered and in the
 * kernel at once.  Numbering them only when they go in keeps the sequence
 * order close to the order the kernel sees, and bounds what a leader change
 * makes the library write again.
 */
#ifndef KPAXOS_INTERNAL_H
#define KPAXOS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <liburing.h>
#include <linux/paxos.h>

#include "kpaxos.h"

#define KP_HASH_SIZE		4096	/* pending requests, by seq */
#define KP_RBUF_SIZE		(256 * 1024)
#define KP_SCAN_MS		20	/* timer granularity */
#define KP_STATUS_MS		100	/* leader-change polling while busy */
#define KP_BACKOFF_MAX		8	/* retry interval grows to 8x */
#define KP_EAGAIN_MS		5	/* rewrite delay after a full queue */
#define KP_MARKER		"KPXSYNC1"
#define KP_MARKER_LEN		8
#define KP_SBUF_MIN		(64 * 1024)	/* first SNAPSHOT_GET buffer */
#define KP_WBUF_SIZE		(128 * 1024)	/* one batched write */
#define KP_BATCH_MAX		1024		/* records per batched write */

struct kp_req {
	struct kp_req *prev, *next;	/* pending list, in seq order */
	struct kp_req *hnext;		/* hash chain */
	struct kp_req *wnext;		/* write queue or window queue */
	struct kp_req *cnext;		/* completion list */
	uint64_t seq;
	uint64_t deadline;		/* ms: rewrite when still pending */
	uint64_t expire;		/* ms: -ETIMEDOUT (0: never) */
	uint64_t lgen;			/* leader_changes when last written */
	uint64_t sent_at;		/* ms: numbered and first written */
	uint64_t floor;			/* instances <= it were decided before */
	uint32_t tries;
	int err;			/* when done */
	bool marker;			/* kpaxos_sync() marker */
	bool async;
	bool done;
	bool linked;			/* in pending list and hash */
	bool queued;			/* in the write queue */
	bool waiting;			/* async, waiting for the window */
	bool fresh;			/* no retry, no renumber: a sample */
	bool waiter;			/* a thread waits in propose_wait() */
	bool cb_pending;		/* callback not run yet */
	bool renumber;			/* renumber once writes drop to 0 */
	int writes;			/* writes in flight */
	pthread_cond_t cond;		/* blocking waiter */
	void *res;
	size_t res_len;
	kpaxos_done_fn fn;
	void *arg;
	size_t wlen;			/* header + command */
	struct paxos_propose_hdr hdr;	/* written with data[] */
	uint8_t data[];			/* command bytes */
};

/* Completions collected under the lock, run after it is dropped. */
struct kp_cbq {
	struct kp_req *head, **tail;
};

struct kpaxos {
	pthread_mutex_t lock;
	pthread_mutex_t wlock;		/* blocking path: number + write */
	pthread_cond_t space;		/* n_async dropped below the limit */
	pthread_cond_t idle;		/* pending list became empty */
	int fd;				/* /dev/paxos */
	int wfd;			/* same device, O_NONBLOCK; or -1 */
	int evfd;			/* wakes the delivery thread; CQEs too */
	int cfd;			/* completion eventfd, or -1 */
	uint64_t cid;			/* client id of commands */
	uint64_t mcid;			/* client id of sync markers */
	uint64_t next_seq;
	struct kpaxos_opts opts;

	pthread_t thread;
	bool started;
	bool stop;
	bool kicked;			/* evfd written, not yet consumed */
	int fatal;			/* handle unusable: -errno */

	kpaxos_apply_fn apply;
	void *apply_ctx;
	bool registered;

	kpaxos_snapshot_fn snap_fn;	/* kpaxos_set_snapshot() */
	kpaxos_restore_fn restore_fn;
	void *snap_arg;
	uint64_t restored;		/* delivery thread: skip records <= */
	uint8_t *sbuf;			/* delivery thread: SNAPSHOT_GET */
	size_t sbuf_cap;

	bool have_ring;
	struct io_uring ring;
	unsigned int ring_inflight;
	struct kp_req **batch;		/* records of the write in flight */
	unsigned int batch_n;
	uint8_t *wbuf;			/* their bytes, back to back */

	struct kp_req *wq_head, **wq_tail;	/* to be written */
	struct kp_req *aq_head, **aq_tail;	/* async, outside the window */
	unsigned int n_out;			/* async inside the window */
	uint64_t srtt8;				/* smoothed latency, ms x 8 */
	struct kp_cbq cq;			/* completions (cfd mode) */
	struct kp_req *p_head, *p_tail;		/* pending, seq order */
	struct kp_req *hash[KP_HASH_SIZE];
	unsigned int n_pending;
	unsigned int n_async;
	unsigned int n_cb;		/* callbacks collected, not yet run */

	uint64_t applied;		/* highest instance applied */
	uint64_t dfloor;		/* the node delivered this much (status) */
	uint64_t lgen;			/* last leader_changes seen */
	bool status_ok;			/* PAXOS_IOC_STATUS works */
	uint64_t status_at;		/* ms: next leader-change poll */
	uint64_t scan_at;		/* ms: next timer scan */

	struct kpaxos_stats st;
	bool debug;			/* KPAXOS_DEBUG set: trace to stderr */
	uint8_t *rbuf;			/* delivery thread: read buffer */
	uint8_t *resbuf;		/* delivery thread: applicator result */
};

#define kp_dbg(h, fmt, ...) do {					\
	if ((h)->debug)							\
		fprintf(stderr, "kpaxos %016llx: " fmt "\n",		\
			(unsigned long long)(h)->cid, ##__VA_ARGS__);	\
} while (0)

/* request.c */
uint64_t kp_now_ms(void);
void kp_cbq_init(struct kp_cbq *q);
void kp_run_callbacks(struct kpaxos *h, struct kp_cbq *q);
void kp_kick(struct kpaxos *h);
int kp_start(struct kpaxos *h);
void kp_delivered(struct kpaxos *h, uint64_t cid, uint64_t seq,
		  const void *res, size_t len, struct kp_cbq *q);
void kp_timers(struct kpaxos *h, uint64_t now, struct kp_cbq *q);
void kp_leader_changed(struct kpaxos *h, uint64_t now);
int kp_poll_timeout(struct kpaxos *h, uint64_t now);
void kp_flush_writes(struct kpaxos *h, struct kp_cbq *q);
void kp_reap(struct kpaxos *h, struct kp_cbq *q);
void kp_fail_all(struct kpaxos *h, int err, struct kp_cbq *q);
void kp_fail_pending(struct kpaxos *h, int err, uint64_t index,
		     struct kp_cbq *q);
void kp_drop_queued(struct kpaxos *h);
void kp_promote(struct kpaxos *h, uint64_t now, struct kp_cbq *q);

/* kpaxos.c */
void *kp_thread(void *arg);

#endif /* KPAXOS_INTERNAL_H */
