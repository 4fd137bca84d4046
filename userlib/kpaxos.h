/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libkpaxos - state-machine replication on top of the kpaxos kernel module.
 *
 * The kernel module orders commands with Multi-Paxos; /dev/paxos lets a
 * process propose commands and read the decided log.  This library turns
 * that into the usual replicated-state-machine API:
 *
 *   h = NULL;
 *   kpaxos_open(&h, NULL);
 *   kpaxos_register_apply(h, apply, my_state);   // before the first propose
 *   n = kpaxos_propose(h, cmd, len, result, sizeof(result));
 *   kpaxos_sync(h);                               // then read my_state
 *   kpaxos_close(h);
 *
 * Applying.  The applicator registered with kpaxos_register_apply() is
 * called once for every decided command, in log order, on the handle's
 * delivery thread, starting with the first command decided after
 * kpaxos_open() (or at opts->start_index).  Every replica that applies the
 * same log in the same order reaches the same state; the applicator must be
 * deterministic.  Its return value is the length of the result it wrote in
 * @result (at most @cap bytes); the result of a command proposed through
 * this handle is handed back to the proposer.
 *
 * Exactly once.  Each handle draws a random 64-bit client id and numbers its
 * commands 1, 2, 3...  When a command is not applied within
 * opts->retry_ms, or the cluster changes leader, the library writes it again
 * with the same (client id, seq); the kernel's learners drop the repeats, so
 * the applicator sees every command once, at the position of its first
 * decision.  A command overtaken by a later one of the same client (possible
 * when many are in flight across a leader change) can never be decided any
 * more; the library detects that from the delivery stream and proposes it
 * again under a fresh sequence number, so it is still applied exactly once.
 * The kernel remembers a bounded number of clients (PX_DEDUP_CLIENTS); with
 * more concurrent clients than that, a very late retry may be applied twice.
 *
 * Reserved client ids.  Client ids with bit 63 set are reserved for the
 * library's own control commands (the kpaxos_sync() markers).  They go
 * through the log like any command but are never passed to applicators.
 *
 * Threads.  All functions are thread-safe; many threads may propose on one
 * handle at the same time.  Applicators and (by default) asynchronous
 * completion callbacks run on the delivery thread: they must not call
 * kpaxos_propose() or kpaxos_sync() on the same handle (that would wait for
 * the thread that is running them); kpaxos_propose_async() is allowed.
 *
 * Snapshots.  A replica that was away longer than its peers retain the
 * log can only catch up from a snapshot: register kpaxos_set_snapshot()
 * callbacks.  At every snapshot point (an instance I with
 * I % snapshot_every == 0, see the kernel parameter) the delivery thread
 * asks the snapshot callback for the state after every command <= I and
 * hands it to the kernel, which serves it, with its own state at I, to
 * peers that fall behind.  When this node's cursor falls behind what it
 * retains (it installed a peer's snapshot, or the handle lagged), the
 * delivery thread fetches the node's current snapshot and calls the restore
 * callback, which replaces the whole state; applying continues after it.
 * Pending requests of the handle that may be inside the snapshot (numbered
 * before the node had delivered its index) then fail with -ESTALE: whether
 * they were applied is unknown, and they are not written again.
 *
 * Errors.  Functions return a negative errno value on failure:
 *   -ENOENT     /dev/paxos does not exist (module not loaded)
 *   -ENOTCONN   no kpaxos instance in this network namespace (paxosctl up)
 *   -EMSGSIZE   command longer than PAXOS_MAX_CMD (65536) bytes
 *   -ETIMEDOUT  opts->timeout_ms elapsed before the command was applied
 *   -EOVERFLOW  this handle fell behind what the node retains and no
 *               snapshot covers the gap (or no restore callback is set);
 *               the replica state is incomplete and the handle is unusable
 *   -ESTALE     a snapshot replaced the state while the request was
 *               pending: it may or may not have been applied
 *   -ECANCELED  the handle was closed while the request was pending
 *   -EDEADLK    kpaxos_propose()/kpaxos_sync() called from an applicator
 */
#ifndef KPAXOS_H
#define KPAXOS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KPAXOS_VERSION_MAJOR	1
#define KPAXOS_VERSION_MINOR	1

/* Bit 63 of a client id marks the library's control commands. */
#define KPAXOS_CLIENT_RESERVED	(1ULL << 63)

/* Largest command and largest applicator result, in bytes. */
#define KPAXOS_MAX_CMD		65536
#define KPAXOS_MAX_RESULT	65536

struct kpaxos;

/* kpaxos_opts.flags */
enum kpaxos_open_flags {
	/*
	 * Asynchronous completions are queued instead of being run on the
	 * delivery thread; kpaxos_completion_fd() becomes readable when some
	 * are ready and kpaxos_complete() runs them in the caller's thread.
	 */
	KPAXOS_OPEN_COMPLETION_FD = 1 << 0,
	/*
	 * Do not use io_uring: the delivery thread writes asynchronous
	 * proposals with write(2).  (Also the fallback when io_uring is
	 * unavailable.)
	 */
	KPAXOS_OPEN_NO_URING = 1 << 1,
};

/*
 * Options for kpaxos_open(); a zeroed struct (or NULL) means defaults.
 *
 * @device:       default "/dev/paxos"
 * @fd:           > 0: use this open descriptor instead of opening @device
 *                (the handle owns it)
 * @flags:        enum kpaxos_open_flags
 * @start_index:  first instance to apply; 0: the next one decided after open
 * @retry_ms:     rewrite an unapplied command after this long (default 1000,
 *                or twice the smoothed latency if that is longer; doubled
 *                per retry up to 8x)
 * @timeout_ms:   give up with -ETIMEDOUT (0: never)
 * @max_inflight: asynchronous proposals pending at once; more block
 *                (default 65536)
 * @ring_entries: io_uring size (default 1024)
 * @window:       asynchronous proposals inside the kernel at once (written,
 *                not applied yet); the others wait in the library and are
 *                numbered when they go in (default 256)
 */
struct kpaxos_opts {
	const char *device;
	int fd;
	uint32_t flags;
	uint64_t start_index;
	uint32_t retry_ms;
	uint32_t timeout_ms;
	uint32_t max_inflight;
	uint32_t ring_entries;
	uint32_t window;
};

/* Information about the command being applied. */
struct kpaxos_cmd_info {
	uint64_t instance;	/* log position (Paxos instance) */
	uint64_t client_id;	/* the proposer's client id */
	uint64_t seq;		/* its sequence number */
	uint16_t pos;		/* position of the command in the instance */
	uint8_t local;		/* proposed through this handle */
};

/*
 * The applicator: apply @cmd (@len bytes) to the replica's state, write at
 * most @cap bytes of result in @result, return the result length.
 */
typedef size_t (*kpaxos_apply_fn)(void *ctx,
				  const struct kpaxos_cmd_info *info,
				  const void *cmd, size_t len,
				  void *result, size_t cap);

/*
 * Completion of kpaxos_propose_async(): @err is 0 and @result/@len the
 * applicator's result once the command has been applied locally, or a
 * negative errno (then @result is NULL).
 */
typedef void (*kpaxos_done_fn)(void *arg, int err, const void *result,
			       size_t len);

/*
 * Snapshot callback: serialize the replica's state after every command
 * <= @index into a malloc'd buffer (*@buf, *@len bytes, at most 64 MiB);
 * the library frees it.  Return 0, or a negative errno to skip this
 * snapshot point.
 */
typedef int (*kpaxos_snapshot_fn)(void *arg, uint64_t index, void **buf,
				  size_t *len);

/*
 * Restore callback: replace the whole replica state by the snapshot at
 * @index (@len bytes made by a snapshot callback, maybe on another
 * replica).  Return 0, or a negative errno: the handle is then unusable
 * (the state is unknown).
 */
typedef int (*kpaxos_restore_fn)(void *arg, uint64_t index, const void *buf,
				 size_t len);

/* Open a handle.  *hp is set on success; returns 0 or -errno. */
int kpaxos_open(struct kpaxos **hp, const struct kpaxos_opts *opts);

/*
 * Stop the delivery thread, fail every pending request with -ECANCELED
 * (async callbacks run in the caller's thread) and free the handle.
 * kpaxos_close(NULL) does nothing.
 */
void kpaxos_close(struct kpaxos *h);

/*
 * Register the applicator and start delivering.  Call once, before the
 * first propose: commands decided before the delivery thread starts are not
 * lost (the kernel keeps them for the handle), but proposals start it too,
 * and a handle without an applicator only tracks its own commands
 * (results are then empty).  -EBUSY if already registered.
 */
int kpaxos_register_apply(struct kpaxos *h, kpaxos_apply_fn fn, void *ctx);

/*
 * Register the snapshot and restore callbacks, called on the delivery
 * thread in log order, between applicator calls (never concurrently with
 * them).  Call before kpaxos_register_apply().  Both are required;
 * -EBUSY if already set.  Without them, snapshot points are skipped and a
 * handle with an applicator that falls behind what the node retains fails
 * with -EOVERFLOW.
 */
int kpaxos_set_snapshot(struct kpaxos *h, kpaxos_snapshot_fn snapshot_fn,
			kpaxos_restore_fn restore_fn, void *arg);

/*
 * Propose @cmd and wait until it is decided and applied locally.  Copies
 * the applicator's result into @result (at most @cap bytes) and returns its
 * full length (which may exceed @cap), or a negative errno.
 */
ssize_t kpaxos_propose(struct kpaxos *h, const void *cmd, size_t len,
		       void *result, size_t cap);

/* kpaxos_propose_async() flags */
enum kpaxos_async_flags {
	/*
	 * More proposals follow: queue this one, submit with the next call
	 * without this flag or with kpaxos_flush().
	 */
	KPAXOS_ASYNC_MORE = 1 << 0,
	/* Return -EAGAIN instead of blocking when max_inflight are pending. */
	KPAXOS_ASYNC_NONBLOCK = 1 << 1,
};

/*
 * Propose @cmd without waiting.  The command is copied; the delivery
 * thread writes what is queued to the kernel in batches, many records per
 * write, through io_uring when the kernel's queue is full.  @done(@arg, ...) is called exactly once, after the
 * command is applied locally or with an error.  Returns 0 when queued.
 */
int kpaxos_propose_async(struct kpaxos *h, const void *cmd, size_t len,
			 unsigned int flags, kpaxos_done_fn done, void *arg);

/* Submit proposals queued with KPAXOS_ASYNC_MORE. */
int kpaxos_flush(struct kpaxos *h);

/*
 * With KPAXOS_OPEN_COMPLETION_FD: an eventfd that is readable while
 * completions wait to be run by kpaxos_complete(); -EINVAL otherwise.
 */
int kpaxos_completion_fd(struct kpaxos *h);

/* Run up to @max (0: all) queued completions; returns how many ran. */
int kpaxos_complete(struct kpaxos *h, unsigned int max);

/*
 * Linearizable read barrier: returns 0 once every command decided before
 * the call has been applied locally.  (It proposes a marker command through
 * the log and waits for the marker to be applied.)
 */
int kpaxos_sync(struct kpaxos *h);

/*
 * Wait until no proposal of this handle is pending and every completion
 * callback due on the delivery thread has run; 0 or -errno.
 */
int kpaxos_drain(struct kpaxos *h);

/* This handle's client id. */
uint64_t kpaxos_client_id(const struct kpaxos *h);

/* Highest instance applied through this handle (0: none yet). */
uint64_t kpaxos_applied_index(struct kpaxos *h);

/* Counters of a handle. */
struct kpaxos_stats {
	uint64_t proposed;	/* proposals made */
	uint64_t applied;	/* commands passed to the applicator */
	uint64_t completed;	/* own proposals applied */
	uint64_t retries;	/* rewrites with the same (client, seq) */
	uint64_t renumbered;	/* overtaken proposals given a fresh seq */
	uint64_t duplicates;	/* dup records seen and skipped */
	uint64_t writes;	/* write records sent to the kernel */
	uint64_t submits;	/* batched writes: inline or io_uring_submit() */
	uint64_t reads;		/* read(2) calls returning records */
};

void kpaxos_get_stats(struct kpaxos *h, struct kpaxos_stats *st);

/*
 * The node's status (PAXOS_IOC_STATUS); @st points to a struct
 * paxos_status from <linux/paxos.h>, @size is its size.
 */
int kpaxos_status(struct kpaxos *h, void *st, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* KPAXOS_H */
