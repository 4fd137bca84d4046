/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kpaxos protocol core: Multi-Paxos as three pure state machines.
 *
 *   px_acceptor  - promises and accepts; the only state that must be durable.
 *   px_proposer  - leader election, phase 1 once per ballot, pipelined phase 2
 *                  with batching, forwarding of client commands to the leader.
 *   px_learner   - counts ACCEPTED votes, delivers decided values in order,
 *                  fills gaps from peers, dedups (client_id, seq) retries.
 *
 * Each role is driven by events: px_*_step() with a received message,
 * px_*_tick() with the current time, px_proposer_propose() with a client
 * command.  A role never does I/O.  Its effects are queued in its struct
 * px_ready, which the caller takes with px_ready_take() and carries out IN
 * THIS ORDER:
 *
 *   1. write every record of rd.persist to stable storage (acceptor only;
 *      may be skipped in the in-memory mode), and flush;
 *   2. send every message of rd.msgs;
 *   3. wake readers if rd.delivered advanced (learner only);
 *   4. px_ready_free(&rd).
 *
 * Sending before persisting breaks safety across crashes.
 *
 * Messages addressed to this node (dst == self or PAXOS_NODE_ALL) must also
 * be handed to the local roles that px_msg_roles() names, without the wire.
 *
 * Time is in microseconds from an arbitrary origin, never decreasing.
 */
#ifndef PX_H
#define PX_H

#include "px_platform.h"

/*
 * A decoded message, as handed to px_*_step(); body is only borrowed.  When
 * @block is set, body lies in that px_value_alloc() block, and a role may
 * keep bytes of it by holding the block (px_value_keep()) instead of
 * copying them: an outgoing message handed to a role of its own node, or a
 * reassembled one.
 */
struct px_msg {
	u8 type;		/* enum paxos_msg_type */
	u8 src;
	u8 dst;			/* node id or PAXOS_NODE_ALL */
	u64 ballot;
	u64 instance;
	const u8 *body;
	u32 len;
	const void *block;	/* NULL: body is not in a block */
};

/*
 * Keep the @len bytes at @p, which lie in @block if it is not NULL: hold
 * @block, or copy them into a new block.  Returns where the bytes are kept
 * and sets *@kept to the block to px_value_free() when done; NULL if out of
 * memory.
 */
const u8 *px_value_keep(const u8 *p, u32 len, const void *block,
			const void **kept);

/*
 * An outgoing message, owned by a struct px_ready until px_ready_free().
 * It is a px_value_alloc() block: a node's own roles may hold it (px_msg).
 */
struct px_obuf {
	struct px_obuf *next;
	u8 type;
	u8 dst;
	u64 ballot;
	u64 instance;
	u32 len;
	u8 body[];
};

/* A record the acceptor needs on stable storage before its replies go out. */
enum px_record_kind {
	PX_REC_PROMISE = 1,	/* ballot = promised ballot */
	PX_REC_ACCEPT,		/* instance/ballot/value accepted */
	PX_REC_TRIM,		/* instance = everything <= it may be forgotten */
};

struct px_record {
	struct px_record *next;
	u8 kind;		/* enum px_record_kind */
	u64 ballot;
	u64 instance;
	u32 len;
	u8 value[];
};

struct px_ready {
	struct px_record *persist;	/* in order; step 1 */
	struct px_record **persist_tail;
	struct px_obuf *msgs;		/* in order; step 2 */
	struct px_obuf **msgs_tail;
	u64 delivered;			/* learner: delivered index now */
	/*
	 * Learner: a snapshot was installed at this index since the last
	 * px_ready_take() (which moves it), 0: none.  Readers below it
	 * restore the application from px_learner_snapshot().
	 */
	u64 restored;
	u32 n_msgs;
	u32 n_persist;
};

void px_ready_init(struct px_ready *rd);
/* Move everything queued in @from to @to (which must be empty). */
void px_ready_take(struct px_ready *from, struct px_ready *to);
void px_ready_free(struct px_ready *rd);
bool px_ready_empty(const struct px_ready *rd);

/* Which roles of a node consume a message type: PAXOS_ROLE_* bits. */
u32 px_msg_roles(u8 type);

/* Configuration shared by the three roles; copied into each at init. */
struct px_config {
	u8 self;		/* this node's id */
	u32 members;		/* bitmap of voting node ids (bit n = node n) */
	u32 window;		/* instances in flight, 1..PX_MAX_WINDOW */
	u32 batch_bytes;	/* max value size the leader builds */
	u32 batch_delay_us;	/* max time a command waits for a batch */
	u32 heartbeat_us;
	u32 election_us;	/* election timeout, randomized in [t, 2t) */
	u32 retransmit_us;	/* resend unacknowledged PREPARE/ACCEPT */
	u32 catchup_us;		/* a gap older than this is requested */
	u32 acceptor_slots;	/* instances an acceptor retains (power of 2) */
	u32 learner_slots;	/* instances a learner retains (power of 2) */
	u32 queue_bytes;	/* client commands buffered by a proposer */
	u32 max_value;		/* largest value accepted in any message */
	u64 seed;		/* PRNG seed (election jitter) */
	/*
	 * Membership: a change decided at instance i takes effect at
	 * i + alpha; 0 means PX_MAX_WINDOW.  Must be >= window and the same
	 * on every node.  @members is the configuration of instance 1.
	 */
	u32 alpha;
	/*
	 * Snapshots: instance i is a snapshot point iff snapshot_every &&
	 * i % snapshot_every == 0; 0 disables snapshots.  At most
	 * PX_MAX_SLOTS.  Should be <= learner_slots (the default is
	 * learner_slots / 4): then the newest snapshot point is always within
	 * what a learner retains, so a peer that lags by more than that can
	 * be served a snapshot plus a retained suffix.  A larger value is
	 * accepted, but a lagging peer may then find no usable snapshot.
	 */
	u32 snapshot_every;
	/*
	 * Acceptor: nothing persists its state (in-memory mode), so it makes
	 * no px_record of promises, votes and trims (px_ready.persist stays
	 * empty): they would be allocated, copied and dropped.
	 */
	bool volatile_acceptor;
};

enum {
	PX_MAX_WINDOW = 1024,
	PX_MAX_SLOTS = 1 << 20,
	PX_DEDUP_CLIENTS = 4096,	/* clients remembered for exactly-once */
	PX_SNAP_PENDING = 4,		/* metas of snapshot points kept */
	PX_SNAP_CHUNK = 256 << 10,	/* data bytes per SNAP_CHUNK */
	PX_SNAP_DEDUP_LEN = 24,		/* be64 client_id, seq, instance */
	/* Learner state at a snapshot point; see PAXOS_MSG_SNAP_CHUNK. */
	PX_SNAP_META_MAX = 4 + PX_DEDUP_CLIENTS * PX_SNAP_DEDUP_LEN + 4 +
			   8 * 12,	/* PX_MLOG_MAX * PX_MLOG_ENTRY_LEN */
};

/* Fill @cfg with defaults for node @self of @members. */
void px_config_default(struct px_config *cfg, u8 self, u32 members);
/* 0, or -EINVAL with *why set to a static explanation. */
int px_config_check(const struct px_config *cfg, const char **why);

static inline int px_quorum(u32 members)
{
	return px_popcount32(members) / 2 + 1;
}

/*
 * px_config_check() for a role: self may be outside @members (a node being
 * added starts as a known node, not a member, and votes once a change makes
 * it one).
 */
int px_config_check_known(const struct px_config *cfg);

static inline u32 px_config_alpha(const struct px_config *cfg)
{
	return cfg->alpha ? cfg->alpha : PX_MAX_WINDOW;
}

/* ------------------------------------------------------------- membership */

enum {
	PX_MLOG_MAX = 8,		/* configurations remembered */
	PX_MLOG_ENTRY_LEN = 12,		/* on the wire: be64 from, be32 */
};

/* A configuration and the first instance it is in effect for. */
struct px_mconf {
	u64 from;
	u32 members;
};

/*
 * The configurations of a stretch of the log: e[k] is in effect for
 * instances e[k].from .. e[k + 1].from - 1, the last one up to @horizon.
 * Every decision at instances <= horizon - alpha is accounted for, so
 * config(i) is known exactly for e[0].from <= i <= horizon.
 */
struct px_mlog {
	u64 horizon;
	u32 alpha;
	u32 n;
	struct px_mconf e[PX_MLOG_MAX];
};

void px_mlog_init(struct px_mlog *ml, u32 members, u32 alpha);
/* Members in effect at @inst, 0 if not known. */
u32 px_mlog_at(const struct px_mlog *ml, u64 inst);
/* The configuration after every change known, pending ones included. */
u32 px_mlog_latest(const struct px_mlog *ml);
/* Is (@old -> @new) a change of at most one node (add, remove, swap)? */
bool px_membership_valid(u32 old, u32 new);
/*
 * A membership command (PAXOS_CLIENT_MEMBERSHIP data) decided at @inst:
 * true if it takes effect (at inst + alpha), false if it is a no-op.  The
 * caller applies the decisions in instance order.
 */
bool px_mlog_apply(struct px_mlog *ml, u64 inst, const u8 *data, u32 len);
/* Every decision <= @decided is accounted for. */
void px_mlog_advance(struct px_mlog *ml, u64 decided);
/* Merge what @src knows into @dst (both of the same log). */
void px_mlog_merge(struct px_mlog *dst, const struct px_mlog *src);
/*
 * STATUS body: empty while the log is the initial one (@members from
 * instance 1), else n x { be64 from, be32 members }.  Encode returns the
 * length written to @buf (at most PX_MLOG_MAX * PX_MLOG_ENTRY_LEN).
 */
u32 px_mlog_encode(const struct px_mlog *ml, u32 members, u8 *buf);
int px_mlog_decode(struct px_mlog *ml, u32 members, u32 alpha,
		   u64 delivered, const u8 *buf, u32 len);

static inline u8 px_ballot_node(u64 ballot)
{
	return ballot & 0xff;
}

static inline u64 px_ballot_make(u64 round, u8 node)
{
	return round << 8 | node;
}

/* ---------------------------------------------------------------- acceptor */

struct px_acc_slot {
	u64 instance;		/* 0: empty */
	u64 ballot;		/* ballot the value was accepted in */
	const u8 *value;	/* in @block (px_value_keep()) */
	const void *block;
	u32 len;
};

struct px_acceptor_stats {
	u64 prepares, promises, accepts, accepted, nacks, dropped_full;
};

struct px_acceptor {
	struct px_config cfg;
	u64 promised;		/* highest ballot promised */
	u64 trim;		/* instances <= trim are forgotten */
	u64 highest;		/* highest instance accepted, 0 if none */
	struct px_acc_slot *slots;	/* cfg.acceptor_slots, by instance */
	struct px_ready out;
	struct px_acceptor_stats stats;
};

int px_acceptor_init(struct px_acceptor *a, const struct px_config *cfg);
void px_acceptor_uninit(struct px_acceptor *a);
/* Rebuild state from persisted records, in the order they were written. */
int px_acceptor_restore(struct px_acceptor *a, const struct px_record *rec);
/* PREPARE, ACCEPT, HEARTBEAT (trim). Returns 0 or -EINVAL for a bad body. */
int px_acceptor_step(struct px_acceptor *a, const struct px_msg *m);

/* ---------------------------------------------------------------- proposer */

enum px_proposer_state {
	PX_FOLLOWER,		/* watching the leader's heartbeats */
	PX_CANDIDATE,		/* phase 1 in progress */
	PX_LEADER,		/* phase 1 done; running phase 2 */
};

struct px_proposer_stats {
	u64 elections, leader_changes, instances, cmds, batches, noops;
	u64 retransmits, forwarded, queue_full, nacks;
};

struct px_proposer;	/* private; see proposer.c */

/*
 * Proposer's state visible to the glue: read through px_proposer_info().
 */
struct px_proposer_info {
	u8 state;		/* enum px_proposer_state */
	u8 leader;		/* 0: unknown */
	u64 ballot;		/* our current ballot (ours if leader) */
	u64 leader_ballot;	/* highest ballot seen from a leader */
	u64 next;		/* leader: next instance to open */
	u64 decided;		/* all instances <= decided are chosen */
	u32 queued_bytes;
	u32 members;		/* latest configuration known */
	struct px_proposer_stats stats;
};

struct px_proposer *px_proposer_create(const struct px_config *cfg, u64 now);
void px_proposer_destroy(struct px_proposer *p);
/*
 * After a restart from persisted acceptor state: @promised is this node's
 * restored px_acceptor.promised.  The proposer then never campaigns with a
 * ballot at or below it, so it cannot reuse a ballot it led with before the
 * restart: a PREPARE reaches its own acceptor by a local handoff, before a
 * quorum of PROMISEs can come back, so that acceptor promised every ballot
 * this node led with, or a higher one.
 */
void px_proposer_restore(struct px_proposer *p, u64 promised);
/*
 * Queue one client command.  0 on success; -EMSGSIZE if len > PAXOS_MAX_CMD;
 * -EAGAIN if the queue is full; -EPERM for client PAXOS_CLIENT_MEMBERSHIP.
 * The proposer copies @data.
 */
int px_proposer_propose(struct px_proposer *p, u64 now, u64 client_id,
			u64 seq, const void *data, u32 len);
/*
 * px_proposer_propose() in two steps, for commands that arrive together:
 * queue each (same checks and results), then flush once - an idle
 * pipeline then opens one instance with all of them rather than one with
 * the first alone.
 */
int px_proposer_queue(struct px_proposer *p, u64 now, u64 client_id,
		      u64 seq, const void *data, u32 len);
void px_proposer_flush(struct px_proposer *p, u64 now);
/*
 * Queue a membership change @old -> @new (a command of client
 * PAXOS_CLIENT_MEMBERSHIP, see uapi; px_proposer_propose() refuses that
 * client id with -EPERM, so that only an administrative path changes the
 * configuration).  0, -EINVAL if it is not a change of one node, -EAGAIN.
 * A stale @old or a change pending makes it a no-op once decided.
 */
int px_proposer_propose_membership(struct px_proposer *p, u64 now, u64 seq,
				   u32 old, u32 new);
/* PROMISE, NACK, ACCEPTED, HEARTBEAT, FORWARD, STATUS. */
int px_proposer_step(struct px_proposer *p, u64 now, const struct px_msg *m);
void px_proposer_tick(struct px_proposer *p, u64 now);
/* Time of the proposer's next deadline (tick no later than this). */
u64 px_proposer_next_deadline(const struct px_proposer *p);
struct px_ready *px_proposer_ready(struct px_proposer *p);
void px_proposer_info(const struct px_proposer *p, struct px_proposer_info *i);

/* ----------------------------------------------------------------- learner */

struct px_learner_stats {
	u64 delivered_instances, delivered_cmds, duplicates, noops;
	u64 catchup_reqs, catchup_served, evicted;
	u64 ignored;		/* messages for instances beyond the window */
	u64 snap_puts;		/* px_learner_snapshot_put() accepted */
	u64 snap_served;	/* SNAP_CHUNKs sent */
	u64 snap_installed;	/* snapshots received and installed */
	u64 snap_rejected;	/* received snapshots whose meta was bad */
};

struct px_learner;	/* private; see learner.c */

struct px_learner_info {
	u64 first;		/* lowest instance still retained */
	u64 last;		/* highest instance heard of */
	u64 committed;		/* contiguous decided index */
	u64 delivered;		/* contiguous delivered index */
	u32 members;		/* configuration of instance delivered + 1 */
	u32 members_latest;	/* after the pending change, if any */
	u64 snap_index;		/* current snapshot, 0: none */
	struct px_learner_stats stats;
};

struct px_learner *px_learner_create(const struct px_config *cfg, u64 now);
void px_learner_destroy(struct px_learner *l);
/* ACCEPT, ACCEPTED, HEARTBEAT, LEARN_REQ, CHOSEN, STATUS, SNAP_*. */
int px_learner_step(struct px_learner *l, u64 now, const struct px_msg *m);
void px_learner_tick(struct px_learner *l, u64 now);
u64 px_learner_next_deadline(const struct px_learner *l);
struct px_ready *px_learner_ready(struct px_learner *l);
void px_learner_info(const struct px_learner *l, struct px_learner_info *i);

/*
 * A delivered instance, for readers: the batch encoding (see uapi) with
 * duplicate commands flagged.  Returns NULL when @instance is not delivered
 * yet or no longer retained (*gone set to true in the latter case).
 * The pointer is valid until the next call on @l; it lies in the block
 * px_learner_value_block() returns, never written again, which a holder
 * may keep longer (px_value_hold(), kmod/dlog.c).
 */
const u8 *px_learner_value(const struct px_learner *l, u64 instance,
			   u32 *len, bool *gone);
const void *px_learner_value_block(const struct px_learner *l, u64 instance);

/*
 * Snapshots (docs/design.md, "Snapshots").  When the learner delivers a
 * snapshot point I it keeps its own state at I (the "meta": dedup table
 * and configurations) among PX_SNAP_PENDING pending metas.  The application,
 * having applied every command <= I, puts its state at I: the pair becomes
 * the learner's current snapshot, served to peers that lag behind what the
 * learner retains.  @app is copied.  0; -ENOENT if I is not a pending
 * point (never delivered as one, or dropped); -ESTALE if I is below the
 * current snapshot; -EMSGSIZE if @len > PAXOS_MAX_SNAPSHOT; -EINVAL if
 * @app is NULL with @len; -ENOMEM.
 */
int px_learner_snapshot_put(struct px_learner *l, u64 index,
			    const void *app, u32 len);
struct px_snapshot_info {
	u64 index;
	const u8 *app;
	u32 app_len;
};

/*
 * The current snapshot (put locally or installed from a peer); false if
 * none.  The pointers are valid until the next call on @l.
 */
bool px_learner_snapshot(const struct px_learner *l,
			 struct px_snapshot_info *si);

static inline bool px_snap_point(const struct px_config *cfg, u64 instance)
{
	return cfg->snapshot_every && instance &&
	       !px_mod64(instance, cfg->snapshot_every);
}

/* px_snap_point() with the learner's configuration. */
bool px_learner_snap_point(const struct px_learner *l, u64 instance);

/* Iterate the commands of a batch value. */
struct px_cmd {
	u64 client_id;
	u64 seq;
	const u8 *data;
	u32 len;
	u16 pos;
	bool dup;		/* exactly-once: a retry, not to be applied */
};

struct px_batch_iter {
	const u8 *p, *end;
	u32 left;
	u16 pos;
};

/* 0, or -EINVAL if the value is malformed. */
int px_batch_iter_init(struct px_batch_iter *it, const u8 *value, u32 len);
/* 1 and *cmd filled, 0 at the end, -EINVAL if malformed. */
int px_batch_next(struct px_batch_iter *it, struct px_cmd *cmd);
/* A well-formed batch value with no flags set (flags are 0 on the wire). */
bool px_batch_valid(const u8 *value, u32 len);

#endif /* PX_H */
