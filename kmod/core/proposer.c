// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Proposer: leader election, phase 1 once per ballot, pipelined phase 2 with
 * adaptive batching, forwarding of client commands to the leader.
 *
 * FOLLOWER  watches the leader (HEARTBEAT, ACCEPT, ACCEPTED with a ballot at
 *           least the leader's); after a randomized election timeout it
 *           becomes CANDIDATE.
 * CANDIDATE broadcasts PREPARE(b, from) (from: see below) until a quorum of
 *           acceptors promise; it keeps, per instance, the value reported
 *           with the highest accepted ballot.
 * LEADER    re-proposes those values (no-ops for holes) through the window,
 *           then cuts batches from its command queue; an instance is chosen
 *           by a quorum of ACCEPTED for our ballot; heartbeats announce
 *           decided and trim.
 *
 * Acceptors send ACCEPTED to the leader only, and the leader tells the
 * learners what it saw chosen: every ACCEPT and HEARTBEAT carries the run
 * (commit_lo, commit_hi] of instances proposed in our ballot that a quorum
 * accepted in it, so a learner holding the value of ACCEPT(b, i) for such an
 * instance knows it chosen.  Instances this leader learned decided otherwise
 * (a learner's STATUS) are never in the run: the value we proposed for them
 * may not be the chosen one if a higher ballot chose it.  When an instance
 * joins the run and no ACCEPT carries the news before the next tick, a
 * heartbeat goes out at once.  This halves the frames per instance
 * (n - 1 ACCEPTED instead of n broadcasts) at the cost of one message delay
 * for learners on other nodes.
 *
 * Learners that all missed a chosen value cannot get it from each other, and
 * the acceptors only hand values to a candidate.  So the leader keeps the
 * values it saw chosen above the trim it announces (a ring of at most
 * acceptor_slots instances) and re-sends ACCEPT for the instances after a learner's delivered index
 * when its STATUS shows no progress for catchup_us + retransmit_us.  Proposing
 * a chosen value again, in any ballot, is safe.
 *
 * For the same reason a candidate starts phase 1 not always at decided + 1
 * but at the lowest index a live learner (STATUS within 4 * election_us, and
 * our own) has delivered + 1 (narrower if that gets no quorum, see
 * election_from()): the new leader then re-proposes what the acceptors
 * report there, chosen values included.  And a learner's STATUS proves its
 * delivered instances chosen: the leader stops waiting for their votes.
 *
 * Statistics: cmds counts commands taken into the queue (local proposes and
 * commands forwarded to us), batches the values cut from the queue,
 * instances every instance opened (re-proposals and no-ops included),
 * forwarded the commands sent on to another node in FORWARD messages.
 */
#include "px.h"
#include "px_wire.h"

/*
 * Planted bug for the simulator's self-test: a new leader ignores the values
 * reported in PROMISEs and fills every recovered instance with a no-op.
 */
#if defined(PX_PLANT_BUG) && PX_PLANT_BUG == 2
/* Membership: phase 1 counts only the latest configuration's quorum. */
#define PX_BUG_PHASE1_ONE_CONFIG
#elif defined(PX_PLANT_BUG) && PX_PLANT_BUG == 1
#define PX_BUG_IGNORE_PROMISED
#endif

#define PX_NEVER		((u64)~0ull)
#define PX_NOOP_LEN		PAXOS_BATCH_HDR_LEN
#define PX_ENTRY_HDR_LEN	20	/* be64 inst, be64 vballot, be32 len */
#define PX_KEPT_MAX		16384	/* chosen values kept, at most */
#define PX_PROMISE_EXTRA	(PAXOS_MAX_MSG / 4)
#define PX_RESEND_BYTES		(PAXOS_MAX_MSG / 4)
#define PX_WIDE_PREPARES	3	/* then phase 1 narrows its from */

/*
 * Client commands wait in chunks, back to back in arrival order, each
 * command 8-byte aligned: no allocation per command.  A chunk is
 * PX_QCHUNK bytes, or one command's size if that is larger; the chunks
 * of the queue are never empty (one is unlinked as soon as its last
 * command is taken) and one emptied chunk is kept for reuse.
 */
#define PX_QCHUNK		65536

struct px_qcmd {
	u64 client_id;
	u64 seq;
	u64 queued;		/* time it entered the queue */
	u32 len;
	u8 data[];
};

struct px_qchunk {
	struct px_qchunk *next;
	u32 head;		/* offset of the first command not taken */
	u32 tail;		/* offset past the last command */
	u32 size;		/* bytes of buf */
	u32 pad;		/* buf is 8-byte aligned */
	u8 buf[];
};

/* An instance the leader has opened and not yet seen decided. */
struct px_slot {
	u64 instance;		/* 0: free */
	u64 sent;		/* last time its ACCEPT was sent */
	u32 acks;		/* acceptors that sent ACCEPTED for our ballot */
	u32 members;		/* its configuration */
	bool chosen;
	u32 len;
	u8 *value;		/* NULL once chosen */
};

/* A value reported in a PROMISE, the one with the highest vballot so far. */
struct px_adopt {
	u64 instance;
	u64 vballot;
	u32 len;
	u8 *value;
};

/* A value this proposer saw chosen. */
struct px_kept {
	u64 instance;		/* 0: empty */
	u32 len;
	u8 *value;
};

struct px_peer_status {
	u64 delivered;		/* last STATUS: delivered index */
	u64 at;			/* when it was heard */
	u64 changed;		/* when delivered last changed */
	bool seen;
};

struct px_proposer {
	struct px_config cfg;
	u8 state;		/* enum px_proposer_state */
	u8 leader;		/* 0: unknown */
	u64 ballot;		/* our ballot (last one we campaigned with) */
	u64 leader_ballot;	/* highest ballot seen from a leader */
	u64 max_seen;		/* highest ballot seen in any message */
	u64 decided;		/* all instances <= decided are chosen */
	u64 commit_lo;		/* leader: (commit_lo, commit_hi] chosen in */
	u64 commit_hi;		/* our ballot by a quorum of it */
	u64 commit_sent;	/* commit_hi as last sent */
	u64 next;		/* leader: next instance to open */
	u64 rng;

	u64 election_at;	/* follower: campaign at this time */
	u64 prepare_at;		/* candidate: last PREPARE sent */
	u64 heartbeat_at;	/* leader: next heartbeat due */

	/* Phase 1. */
	u64 from;		/* PREPARE's first instance */
	u64 from_narrow;	/* from, if the wide one gets no quorum */
	u32 prepares;		/* PREPAREs sent for this ballot */
	u32 promised;		/* acceptors that promised our ballot */
	u64 p1_trim;		/* highest trim reported */
	u64 p1_high;		/* highest instance reported */
	struct px_adopt *adopt;	/* sorted by instance */
	u32 n_adopt, cap_adopt, adopt_pos;
	u64 recover_end;	/* leader: instances <= this are re-proposals */

	/* Phase 2: instances decided + 1 .. next - 1, by instance & mask. */
	struct px_slot *slots;
	u32 ring_mask;

	/* Chosen values, by instance & kept_mask; re-sent to laggards. */
	struct px_kept *kept;
	u32 kept_mask;
	u64 kept_lo;		/* instances below were released */
	u64 resend_at;		/* leader: next re-send for laggards */
	u64 recampaign_at;	/* leader: no phase 1 for a laggard before */

	/* Client commands not yet in a batch or forwarded. */
	struct px_qchunk *qfirst;	/* NULL: the queue is empty */
	struct px_qchunk *qlast;
	struct px_qchunk *qspare;	/* an empty chunk, or NULL */
	u32 qbytes;		/* encoded size: command headers + data */

	struct px_peer_status status[PAXOS_MAX_NODES + 1];

	/*
	 * Configurations: @ml from learners' STATUS (decided values only);
	 * @lml, the leader's, adds those of the values it re-proposes after
	 * phase 1, which may never be decided if it is deposed.
	 */
	struct px_mlog ml;
	struct px_mlog lml;

	struct px_ready out;
	struct px_proposer_stats stats;
};

static u32 node_bit(u8 node)
{
	if (node == 0 || node >= 32)
		return 0;
	return 1u << node;
}

/* A member of the latest configuration known. */
static bool is_member(const struct px_proposer *p, u8 node)
{
	return (px_mlog_latest(&p->ml) & node_bit(node)) != 0;
}

static u64 ballot_round(u64 b)
{
	return b >> 8;
}

static u64 election_timeout(struct px_proposer *p)
{
	u32 base = p->cfg.election_us;

	if (!base)
		return 0;
	return base + (u32)(px_rand_next(&p->rng) >> 32) % base;
}

static void reset_election_timer(struct px_proposer *p, u64 now)
{
	p->election_at = now + election_timeout(p);
}

static void set_leader(struct px_proposer *p, u8 leader)
{
	if (leader && leader != p->leader)
		p->stats.leader_changes++;
	p->leader = leader;
}

static void see_ballot(struct px_proposer *p, u64 b)
{
	if (b > p->max_seen)
		p->max_seen = b;
}

static u32 batch_limit(const struct px_proposer *p)
{
	return PX_MIN(p->cfg.batch_bytes, p->cfg.max_value);
}

/* ------------------------------------------------------------ the queue */

static u32 qcmd_size(u32 len)
{
	return PAXOS_CMD_HDR_LEN + len;
}

/* Bytes a command of @len takes in a chunk. */
static u32 qent_size(u32 len)
{
	return (sizeof(struct px_qcmd) + len + 7) & ~7u;
}

/* The oldest command, or NULL if the queue is empty. */
static struct px_qcmd *queue_head(const struct px_proposer *p)
{
	const struct px_qchunk *k = p->qfirst;

	return k ? (struct px_qcmd *)(k->buf + k->head) : NULL;
}

/* The command after @c, which is in *@k (moved along), or NULL. */
static const struct px_qcmd *queue_next(const struct px_qchunk **k,
					const struct px_qcmd *c)
{
	u32 off = (const u8 *)c - (*k)->buf + qent_size(c->len);

	if (off == (*k)->tail) {
		*k = (*k)->next;
		if (!*k)
			return NULL;
		off = (*k)->head;
	}
	return (const struct px_qcmd *)((*k)->buf + off);
}

/* An empty chunk with room for @need bytes: the spare, or a new one. */
static struct px_qchunk *chunk_get(struct px_proposer *p, u32 need)
{
	struct px_qchunk *k = p->qspare;
	u32 size = PX_MAX(PX_QCHUNK - (u32)sizeof(*k), need);

	if (k && k->size >= need) {
		p->qspare = NULL;
	} else {
		k = px_alloc(sizeof(*k) + size);
		if (!k)
			return NULL;
		k->size = size;
	}
	k->next = NULL;
	k->head = 0;
	k->tail = 0;
	return k;
}

static bool enqueue(struct px_proposer *p, u64 now, u64 client_id, u64 seq,
		    const u8 *data, u32 len)
{
	struct px_qchunk *k = p->qlast;
	u32 need = qent_size(len);
	struct px_qcmd *c;

	if (qcmd_size(len) > p->cfg.queue_bytes - PX_MIN(p->qbytes,
							 p->cfg.queue_bytes))
		return false;
	if (!k || k->size - k->tail < need) {
		k = chunk_get(p, need);
		if (!k)
			return false;
		if (p->qlast)
			p->qlast->next = k;
		else
			p->qfirst = k;
		p->qlast = k;
	}
	c = (struct px_qcmd *)(k->buf + k->tail);
	c->client_id = client_id;
	c->seq = seq;
	c->queued = now;
	c->len = len;
	if (len)
		px_memcpy(c->data, data, len);
	k->tail += need;
	p->qbytes += qcmd_size(len);
	p->stats.cmds++;
	return true;
}

/* Take the oldest command off the queue (its bytes go with it). */
static void dequeue(struct px_proposer *p)
{
	struct px_qchunk *k = p->qfirst;
	const struct px_qcmd *c = queue_head(p);

	p->qbytes -= qcmd_size(c->len);
	k->head += qent_size(c->len);
	if (k->head < k->tail)
		return;
	p->qfirst = k->next;
	if (!p->qfirst)
		p->qlast = NULL;
	if (p->qspare)
		px_free(k);
	else
		p->qspare = k;
}

static void queue_free(struct px_proposer *p)
{
	while (p->qfirst) {
		struct px_qchunk *k = p->qfirst;

		p->qfirst = k->next;
		px_free(k);
	}
	p->qlast = NULL;
	px_free(p->qspare);
	p->qspare = NULL;
	p->qbytes = 0;
}

/*
 * How many commands from the head of the queue fit in a value of at most
 * @limit bytes; at least one (a command bigger than the limit goes alone).
 */
static u32 batch_measure(const struct px_proposer *p, u32 limit, u32 *len)
{
	const struct px_qchunk *k = p->qfirst;
	const struct px_qcmd *c;
	u32 n = 0, total = PAXOS_BATCH_HDR_LEN;

	for (c = queue_head(p); c; c = queue_next(&k, c)) {
		if (n && total + qcmd_size(c->len) > limit)
			break;
		total += qcmd_size(c->len);
		n++;
	}
	*len = total;
	return n;
}

/* Move @n commands from the queue into @buf as a batch value. */
static void batch_encode(struct px_proposer *p, u8 *buf, u32 n)
{
	u8 *q = buf + PAXOS_BATCH_HDR_LEN;
	u32 i;

	px_put_be32(buf, n);
	for (i = 0; i < n; i++) {
		const struct px_qcmd *c = queue_head(p);

		px_put_be64(q, c->client_id);
		px_put_be64(q + 8, c->seq);
		px_put_be32(q + 16, c->len);
		px_put_be32(q + 20, 0);
		if (c->len)
			px_memcpy(q + PAXOS_CMD_HDR_LEN, c->data, c->len);
		q += qcmd_size(c->len);
		dequeue(p);
	}
}

/* Follower: hand every queued command to the known leader. */
static void forward_queue(struct px_proposer *p)
{
	if (p->state != PX_FOLLOWER || !p->leader ||
	    p->leader == p->cfg.self)
		return;
	while (p->qfirst) {
		struct px_obuf *o;
		u32 len, n;

		n = batch_measure(p, p->cfg.max_value, &len);
		o = px_ready_msg(&p->out, PAXOS_MSG_FORWARD, p->leader, 0, 0,
				 len);
		if (!o)
			return;
		batch_encode(p, o->body, n);
		p->stats.forwarded += n;
	}
}

/* ------------------------------------------------------------ phase 1 */

static void adopt_clear(struct px_proposer *p)
{
	u32 i;

	for (i = 0; i < p->n_adopt; i++)
		px_free(p->adopt[i].value);
	px_free(p->adopt);
	p->adopt = NULL;
	p->n_adopt = 0;
	p->cap_adopt = 0;
	p->adopt_pos = 0;
}

/* Index of @inst in the sorted adopt array, or where it would go. */
static u32 adopt_search(const struct px_proposer *p, u64 inst)
{
	u32 lo = 0, hi = p->n_adopt;

	/* Promises list instances in order: try the end first. */
	if (!hi || p->adopt[hi - 1].instance < inst)
		return hi;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (p->adopt[mid].instance < inst)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keep @value for @inst if @vballot beats what we have.  -ENOMEM or 0. */
static int adopt_offer(struct px_proposer *p, u64 inst, u64 vballot,
		       const u8 *value, u32 len)
{
	u32 pos = adopt_search(p, inst);
	struct px_adopt *a;
	u8 *copy;
	u32 i;

	if (pos < p->n_adopt && p->adopt[pos].instance == inst &&
	    p->adopt[pos].vballot >= vballot)
		return 0;
	copy = px_alloc(len);
	if (!copy)
		return -ENOMEM;
	px_memcpy(copy, value, len);
	if (pos < p->n_adopt && p->adopt[pos].instance == inst) {
		a = &p->adopt[pos];
		px_free(a->value);
		goto fill;
	}
	if (p->n_adopt == p->cap_adopt) {
		u32 cap = p->cap_adopt ? p->cap_adopt * 2 : 64;
		struct px_adopt *na = px_alloc(cap * sizeof(*na));

		if (!na) {
			px_free(copy);
			return -ENOMEM;
		}
		if (p->n_adopt)
			px_memcpy(na, p->adopt, p->n_adopt * sizeof(*na));
		px_free(p->adopt);
		p->adopt = na;
		p->cap_adopt = cap;
	}
	for (i = p->n_adopt; i > pos; i--)
		p->adopt[i] = p->adopt[i - 1];
	p->n_adopt++;
	a = &p->adopt[pos];
	a->instance = inst;
fill:
	a->vballot = vballot;
	a->value = copy;
	a->len = len;
	return 0;
}

static u64 current_trim(const struct px_proposer *p, u64 now);

/*
 * First instance of phase 1: not decided + 1 but the lowest index a live
 * learner has delivered + 1, so that chosen values no learner received are
 * recovered from the acceptors and proposed again.  An acceptor whose
 * PROMISE would exceed PAXOS_MAX_MSG does not answer, so if the wide PREPARE
 * gets no quorum after PX_WIDE_PREPARES tries, the candidate narrows it
 * (same ballot) to add at most the larger of a window of values and
 * PX_PROMISE_EXTRA bytes of values to a PROMISE.
 */
static void election_from(struct px_proposer *p, u64 now)
{
	u64 low = current_trim(p, now);
	u64 k = PX_MAX(p->cfg.window, PX_PROMISE_EXTRA / batch_limit(p));

	p->from = low + 1;
	if (p->decided - low > k)
		low = p->decided - k;
	p->from_narrow = low + 1;
}

/* Phase 1 (again) for p->from: forget the promises for another from. */
static void phase1_reset(struct px_proposer *p)
{
	adopt_clear(p);
	p->promised = 0;
	p->p1_trim = 0;
	p->p1_high = 0;
}

static void send_prepare(struct px_proposer *p, u64 now)
{
	if (++p->prepares > PX_WIDE_PREPARES && p->from < p->from_narrow) {
		p->from = p->from_narrow;
		phase1_reset(p);
	}
	px_ready_msg(&p->out, PAXOS_MSG_PREPARE, PAXOS_NODE_ALL, p->ballot,
		     p->from, 0);
	p->prepare_at = now;
}

static void start_election(struct px_proposer *p, u64 now)
{
	u64 top = PX_MAX(p->max_seen, PX_MAX(p->ballot, p->leader_ballot));

	p->state = PX_CANDIDATE;
	p->leader = 0;
	p->ballot = px_ballot_make(ballot_round(top) + 1, p->cfg.self);
	see_ballot(p, p->ballot);
	election_from(p, now);
	phase1_reset(p);
	p->prepares = 0;
	p->stats.elections++;
	send_prepare(p, now);
}

/* ------------------------------------------------------------ phase 2 */

static struct px_slot *slot_of(const struct px_proposer *p, u64 inst)
{
	return &p->slots[inst & p->ring_mask];
}

static void slots_clear(struct px_proposer *p)
{
	u32 i;

	for (i = 0; i <= p->ring_mask; i++) {
		px_free(p->slots[i].value);
		px_memset(&p->slots[i], 0, sizeof(p->slots[i]));
	}
}

/* The run of instances chosen in our ballot, as ACCEPT and HEARTBEAT say. */
static void put_commit(struct px_proposer *p, u8 *buf)
{
	px_put_be64(buf, p->commit_lo);
	px_put_be64(buf + 8, p->commit_hi);
	p->commit_sent = p->commit_hi;
}

static void send_value(struct px_proposer *p, u64 inst, const u8 *value,
		       u32 len)
{
	struct px_obuf *o;

	o = px_ready_msg(&p->out, PAXOS_MSG_ACCEPT, PAXOS_NODE_ALL, p->ballot,
			 inst, PAXOS_ACCEPT_HDR_LEN + len);
	if (!o)
		return;		/* retransmission will cover it */
	px_put_be64(o->body, p->decided);
	put_commit(p, o->body + 8);
	px_memcpy(o->body + PAXOS_ACCEPT_HDR_LEN, value, len);
}

static void send_accept(struct px_proposer *p, struct px_slot *s, u64 now)
{
	s->sent = now;
	send_value(p, s->instance, s->value, s->len);
}

/* ------------------------------------------------------------ kept values */

static void kept_put(struct px_proposer *p, u64 inst, u8 *value, u32 len)
{
	struct px_kept *k = &p->kept[inst & p->kept_mask];

	px_free(k->value);
	k->instance = inst;
	k->value = value;
	k->len = len;
}

static const struct px_kept *kept_get(const struct px_proposer *p, u64 inst)
{
	const struct px_kept *k = &p->kept[inst & p->kept_mask];

	return k->instance == inst && k->value ? k : NULL;
}

static void kept_clear(struct px_proposer *p)
{
	u32 i;

	for (i = 0; i <= p->kept_mask; i++) {
		px_free(p->kept[i].value);
		px_memset(&p->kept[i], 0, sizeof(p->kept[i]));
	}
}

/* Release the values every live learner has delivered (<= @trim). */
static void kept_release(struct px_proposer *p, u64 trim)
{
	u32 budget = p->kept_mask + 1;

	while (p->kept_lo <= trim && budget--) {
		struct px_kept *k = &p->kept[p->kept_lo & p->kept_mask];

		if (k->instance == p->kept_lo) {
			px_free(k->value);
			px_memset(k, 0, sizeof(*k));
		}
		p->kept_lo++;
	}
	if (p->kept_lo <= trim)
		p->kept_lo = trim + 1;	/* the whole ring was visited */
}

static u64 patience(const struct px_proposer *p)
{
	return (u64)p->cfg.catchup_us + p->cfg.retransmit_us;
}

static bool status_fresh(const struct px_proposer *p, u32 n, u64 now)
{
	const struct px_peer_status *st = &p->status[n];

	return st->seen && is_member(p, n) &&
	       now - st->at <= 4ull * p->cfg.election_us;
}

/*
 * Leader: re-send chosen values to learners stuck below decided.  Only for
 * a learner whose next instance we have (learners deliver in order), at
 * most PX_RESEND_BYTES of values, then not again for patience().
 *
 * A learner stuck on an instance that we do not have and that no live
 * learner has delivered cannot get it from anyone but the acceptors: run
 * phase 1 again (a new ballot, from the lowest live learner's delivered
 * index), at most once per 4 * election_us.  A phase 1 narrowed because
 * the wide one found no quorum (nodes down or cut off) skips such
 * instances, and nothing else would ever bring them back.
 */
static void help_laggards(struct px_proposer *p, u64 now)
{
	u64 lag = PX_NEVER, orphan = PX_NEVER, top = 0, i, end;
	u64 bytes = 0;
	u32 n;

	if (now < p->resend_at)
		return;
	/* Look again no sooner than retransmit_us from now, in any case. */
	p->resend_at = now + p->cfg.retransmit_us;
	for (n = 1; n <= PAXOS_MAX_NODES; n++)
		if (status_fresh(p, n, now))
			top = PX_MAX(top, p->status[n].delivered);
	for (n = 1; n <= PAXOS_MAX_NODES; n++) {
		const struct px_peer_status *st = &p->status[n];

		if (!status_fresh(p, n, now) || st->delivered >= p->decided)
			continue;
		if (now - st->changed < patience(p))
			continue;
		if (!kept_get(p, st->delivered + 1)) {
			if (top <= st->delivered)
				orphan = PX_MIN(orphan, st->delivered);
			continue;
		}
		lag = PX_MIN(lag, st->delivered);
	}
	if (orphan != PX_NEVER && now >= p->recampaign_at) {
		p->recampaign_at = now + 4ull * p->cfg.election_us;
		slots_clear(p);
		start_election(p, now);
		return;
	}
	if (lag == PX_NEVER)
		return;
	p->resend_at = now + patience(p);
	end = PX_MIN(p->decided, lag + p->cfg.window);
	for (i = lag + 1; i <= end && bytes < PX_RESEND_BYTES; i++) {
		const struct px_kept *k = kept_get(p, i);

		if (!k)
			break;
		bytes += k->len;
		p->stats.retransmits++;
		send_value(p, i, k->value, k->len);
	}
}

/* When help_laggards() may next have something to do. */
static u64 laggards_deadline(const struct px_proposer *p)
{
	u64 t = PX_NEVER;
	u32 n;

	for (n = 1; n <= PAXOS_MAX_NODES; n++) {
		const struct px_peer_status *st = &p->status[n];

		if (!st->seen || !is_member(p, n) ||
		    st->delivered >= p->decided)
			continue;
		t = PX_MIN(t, PX_MAX(st->changed + patience(p), p->resend_at));
	}
	return t;
}

static void open_instance(struct px_proposer *p, u64 now, u8 *value, u32 len)
{
	struct px_slot *s = slot_of(p, p->next);

	s->instance = p->next++;
	s->acks = 0;
	s->members = px_mlog_at(&p->lml, s->instance);
	s->chosen = false;
	s->value = value;
	s->len = len;
	p->stats.instances++;
	send_accept(p, s, now);
}

/*
 * The window, and the configuration of the next instance known: window <=
 * alpha, so every instance <= next - alpha is decided, but the leader may
 * not have heard of the value yet (a STATUS tells).
 */
static bool window_open(const struct px_proposer *p)
{
	return p->next - p->decided <= p->cfg.window &&
	       px_mlog_at(&p->lml, p->next);
}

static bool batch_due(const struct px_proposer *p, u64 now)
{
	if (!p->qfirst)
		return false;
	if (p->next == p->decided + 1)		/* idle pipeline */
		return true;
	if (PAXOS_BATCH_HDR_LEN + p->qbytes >= p->cfg.batch_bytes)
		return true;
	return now - queue_head(p)->queued >= p->cfg.batch_delay_us;
}

static bool open_noop(struct px_proposer *p, u64 now)
{
	u8 *value = px_alloc(PX_NOOP_LEN);

	if (!value)
		return false;
	px_put_be32(value, 0);
	p->stats.noops++;
	open_instance(p, now, value, PX_NOOP_LEN);
	if (p->next > p->recover_end)
		adopt_clear(p);
	return true;
}

/*
 * A configuration change is decided but not in effect before @next: an
 * idle leader fills the log up to its first instance with no-ops, so that
 * the change takes effect (and a removed node stops being needed for a
 * quorum) without waiting for client traffic.
 */
static bool change_pending(const struct px_proposer *p)
{
	return p->lml.n && p->next < p->lml.e[p->lml.n - 1].from;
}

/* Re-propose the next recovered instance: adopted value or a no-op. */
static bool open_recovered(struct px_proposer *p, u64 now)
{
	u64 inst = p->next;
	u8 *value = NULL;
	u32 len = 0;

	while (p->adopt_pos < p->n_adopt &&
	       p->adopt[p->adopt_pos].instance < inst) {
		px_free(p->adopt[p->adopt_pos].value);
		p->adopt[p->adopt_pos++].value = NULL;
	}
	if (p->adopt_pos < p->n_adopt &&
	    p->adopt[p->adopt_pos].instance == inst) {
		struct px_adopt *a = &p->adopt[p->adopt_pos++];

		value = a->value;
		len = a->len;
		a->value = NULL;
	}
	if (!value)
		return open_noop(p, now);
	open_instance(p, now, value, len);
	if (p->next > p->recover_end)
		adopt_clear(p);
	return true;
}

static bool open_batch(struct px_proposer *p, u64 now)
{
	u32 len, n;
	u8 *value;

	n = batch_measure(p, batch_limit(p), &len);
	value = px_alloc(len);
	if (!value)
		return false;
	batch_encode(p, value, n);
	p->stats.batches++;
	open_instance(p, now, value, len);
	return true;
}

/* Leader: open as many instances as the window and the queue allow. */
static void pump(struct px_proposer *p, u64 now)
{
	while (p->state == PX_LEADER && window_open(p)) {
		if (p->next <= p->recover_end) {
			if (!open_recovered(p, now))
				return;
			continue;
		}
		if (batch_due(p, now)) {
			if (!open_batch(p, now))
				return;
		} else if (!change_pending(p) || !open_noop(p, now)) {
			return;
		}
	}
}

static u64 current_trim(const struct px_proposer *p, u64 now)
{
	u64 trim = p->status[p->cfg.self].delivered;
	u32 n;

	for (n = 1; n <= PAXOS_MAX_NODES; n++)
		if (n != p->cfg.self && status_fresh(p, n, now))
			trim = PX_MIN(trim, p->status[n].delivered);
	return PX_MIN(trim, p->decided);
}

static void send_heartbeat(struct px_proposer *p, u64 now)
{
	u64 trim = current_trim(p, now);
	struct px_obuf *o;

	p->heartbeat_at = now + p->cfg.heartbeat_us;
	kept_release(p, trim);
	o = px_ready_msg(&p->out, PAXOS_MSG_HEARTBEAT, PAXOS_NODE_ALL,
			 p->ballot, p->next, PAXOS_HEARTBEAT_LEN);
	if (!o)
		return;
	px_put_be64(o->body, p->decided);
	px_put_be64(o->body + 8, trim);
	put_commit(p, o->body + 16);
}

static void become_leader(struct px_proposer *p, u64 now)
{
	p->state = PX_LEADER;
	set_leader(p, p->cfg.self);
	if (p->ballot > p->leader_ballot)
		p->leader_ballot = p->ballot;
	/*
	 * Recover from @from on, even if a STATUS told us since that more is
	 * decided: the learner that said so may be gone.  Instances at or
	 * below an acceptor's trim are known decided (and it has no value).
	 */
	p->decided = PX_MAX(p->from - 1, p->p1_trim);
	p->next = p->decided + 1;
	p->commit_lo = p->decided;
	p->commit_hi = p->decided;
	p->kept_lo = p->next;
	p->recover_end = PX_MAX(p->p1_high, p->decided);
	p->adopt_pos = 0;
#ifdef PX_BUG_IGNORE_PROMISED
	adopt_clear(p);
#endif
	if (p->recover_end < p->next)
		adopt_clear(p);
	send_heartbeat(p, now);
	pump(p, now);
}

/* The membership commands of a re-proposed value, applied to @ml. */
static void adopt_apply(struct px_mlog *ml, const struct px_adopt *a)
{
	struct px_batch_iter it;
	struct px_cmd c;

	if (px_batch_iter_init(&it, a->value, a->len))
		return;
	while (px_batch_next(&it, &c) == 1)
		if (c.client_id == PAXOS_CLIENT_MEMBERSHIP)
			px_mlog_apply(ml, a->instance, c.data, c.len);
}

/*
 * The configurations over the instances this candidate may recover or open
 * before it hears of more decisions: from the learners' STATUS (decisions
 * up to the highest delivered index heard of), then from the values it
 * will re-propose, in instance order (a hole becomes a no-op).  False if
 * the decisions below @from are not known: the candidate waits for a
 * STATUS.
 */
static bool phase1_configs(const struct px_proposer *p, struct px_mlog *ml)
{
	u64 known;
	u32 k;

	*ml = p->ml;
	known = ml->horizon - ml->alpha;
	if (known + 1 < p->from || p->p1_trim > known)
		return false;
	for (k = 0; k < p->n_adopt; k++)
		if (p->adopt[k].instance > known)
			adopt_apply(ml, &p->adopt[k]);
	px_mlog_advance(ml, PX_MAX(known, p->p1_high));
	return true;
}

/*
 * Phase 1 is complete when a quorum of every configuration in effect from
 * @from to the horizon promised: instances above the highest one reported
 * were never opened in a lower ballot (see docs/design.md).
 */
static void phase1_check(struct px_proposer *p, u64 now)
{
	struct px_mlog ml;
	u32 k;

	if (px_popcount32(p->promised) < 1 || !phase1_configs(p, &ml))
		return;
	if (!px_mlog_at(&ml, p->from)) {
		/*
		 * The configuration of @from fell out of the history (more
		 * than PX_MLOG_MAX changes since): recover from the oldest
		 * one remembered if that is decided, since safety needs only
		 * the instances above decided.
		 */
		if (!ml.n || ml.e[0].from > p->decided + 1)
			return;
		p->from = ml.e[0].from;
	}
	for (k = 0; k < ml.n; k++) {
		const struct px_mconf *c = &ml.e[k];

		if (k + 1 < ml.n && ml.e[k + 1].from <= p->from)
			continue;	/* over before from */
		if (c->from > ml.horizon)
			break;
#ifndef PX_BUG_PHASE1_ONE_CONFIG
		if (px_popcount32(p->promised & c->members) <
		    px_quorum(c->members))
			return;
#else
		if (px_popcount32(p->promised & px_mlog_latest(&p->ml)) <
		    px_quorum(px_mlog_latest(&p->ml)))
			return;
#endif
	}
	p->lml = ml;
	become_leader(p, now);
}

/* Choose the instance if a quorum accepted it; slide the window. */
static void advance(struct px_proposer *p)
{
	for (;;) {
		struct px_slot *s = slot_of(p, p->decided + 1);

		if (s->instance != p->decided + 1 || !s->chosen)
			return;
		s->instance = 0;
		s->chosen = false;
		if (p->commit_hi == p->decided)
			p->commit_hi++;
		p->decided++;
	}
}

/*
 * A learner delivered up to @d, so every instance <= d is chosen, whatever
 * the votes we counted: acceptors that trimmed an instance no longer answer
 * ACCEPT for it, and a leader must not wait for them.
 */
static void learn_decided(struct px_proposer *p, u64 now, u64 d)
{
	u64 i, end;

	if (d <= p->decided)
		return;
	if (p->state != PX_LEADER) {
		p->decided = d;
		return;
	}
	end = PX_MIN(d, p->next - 1);
	for (i = p->decided + 1; i <= end; i++) {
		struct px_slot *s = slot_of(p, i);

		if (s->instance != i)
			continue;
		if (!s->chosen)
			kept_put(p, i, s->value, s->len);
		px_memset(s, 0, sizeof(*s));
	}
	/*
	 * decided + 1 was not chosen by our quorum (advance() would have
	 * taken it): a new run starts after d.
	 */
	p->commit_lo = d;
	p->commit_hi = d;
	p->decided = d;
	if (p->next <= d)
		p->next = d + 1;
	advance(p);
	if (p->next > p->recover_end)
		adopt_clear(p);
	pump(p, now);
}

static void retransmit(struct px_proposer *p, u64 now)
{
	u64 i;

	for (i = p->decided + 1; i < p->next; i++) {
		struct px_slot *s = slot_of(p, i);

		if (s->instance != i || s->chosen)
			continue;
		if (now - s->sent < p->cfg.retransmit_us)
			continue;
		p->stats.retransmits++;
		send_accept(p, s, now);
	}
}

/* ------------------------------------------------------------ leadership */

/* Forget a campaign or leadership: its slots, adopted and kept values. */
static void become_follower(struct px_proposer *p)
{
	p->state = PX_FOLLOWER;
	slots_clear(p);
	adopt_clear(p);
	kept_clear(p);
	p->recover_end = 0;
	p->promised = 0;
}

/* A higher ballot is active: abandon our campaign or leadership. */
static void step_down(struct px_proposer *p, u64 now, u64 b)
{
	become_follower(p);
	if (b > p->leader_ballot)
		p->leader_ballot = b;
	set_leader(p, px_ballot_node(b));
	reset_election_timer(p, now);
	forward_queue(p);
}

/*
 * Evidence that the leader of ballot @b is alive (HEARTBEAT, ACCEPT,
 * ACCEPTED).  Returns true if @b is the ballot we follow.
 */
static bool leader_seen(struct px_proposer *p, u64 now, u64 b)
{
	see_ballot(p, b);
	if (p->state != PX_FOLLOWER) {
		if (b <= p->ballot)
			return false;
		step_down(p, now, b);
	}
	if (b < p->leader_ballot)
		return false;
	p->leader_ballot = b;
	set_leader(p, px_ballot_node(b));
	reset_election_timer(p, now);
	forward_queue(p);
	return true;
}

/*
 * A leader removed from the configuration in effect stops leading (and a
 * follower that is not a member never campaigns): the others elect a leader
 * once its heartbeats stop.
 */
static void resign(struct px_proposer *p, u64 now)
{
	become_follower(p);
	set_leader(p, 0);
	reset_election_timer(p, now);
}

/* ------------------------------------------------------------ messages */

/* Strictly parse a PROMISE body; trim and highest (raised to its entries). */
static int promise_parse(struct px_proposer *p, const struct px_msg *m,
			 u64 *trim, u64 *highest)
{
	struct px_rd r;
	u32 n, i;

	px_rd_init(&r, m->body, m->len);
	*trim = px_rd_u64(&r);
	*highest = px_rd_u64(&r);
	n = px_rd_u32(&r);
	if (r.err)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		u64 inst = px_rd_u64(&r);
		u32 len;
		const u8 *v;

		px_rd_u64(&r);		/* vballot */
		len = px_rd_u32(&r);

		if (r.err || len < PAXOS_BATCH_HDR_LEN ||
		    len > p->cfg.max_value)
			return -EINVAL;
		v = px_rd_bytes(&r, len);
		if (!v || inst == 0)
			return -EINVAL;
		if (inst > *highest)
			*highest = inst;
	}
	return r.left ? -EINVAL : 0;
}

static int promise_merge(struct px_proposer *p, const struct px_msg *m)
{
	struct px_rd r;
	u32 n, i;
	int err;

	px_rd_init(&r, m->body, m->len);
	px_rd_u64(&r);
	px_rd_u64(&r);
	n = px_rd_u32(&r);
	for (i = 0; i < n; i++) {
		u64 inst = px_rd_u64(&r);
		u64 vballot = px_rd_u64(&r);
		u32 len = px_rd_u32(&r);
		const u8 *v = px_rd_bytes(&r, len);

		if (inst < p->from)
			continue;
		err = adopt_offer(p, inst, vballot, v, len);
		if (err)
			return err;
	}
	return 0;
}

static int on_promise(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	u32 bit = node_bit(m->src);
	u64 trim, highest;
	int err;

	err = promise_parse(p, m, &trim, &highest);
	if (err)
		return err;
	see_ballot(p, m->ballot);
	if (p->state != PX_CANDIDATE || m->ballot != p->ballot ||
	    m->instance != p->from || !bit || (p->promised & bit))
		return 0;
	/* Not counted unless every value is kept: safety needs all. */
	err = promise_merge(p, m);
	if (err)
		return err;
	p->promised |= bit;
	p->p1_trim = PX_MAX(p->p1_trim, trim);
	p->p1_high = PX_MAX(p->p1_high, highest);
	phase1_check(p, now);
	return 0;
}

static int on_nack(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	p->stats.nacks++;
	see_ballot(p, m->ballot);
	if (p->state != PX_FOLLOWER && m->ballot > p->ballot)
		step_down(p, now, m->ballot);
	return 0;
}

static int on_accepted(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	u32 bit = node_bit(m->src);
	struct px_slot *s;

	if (p->state != PX_LEADER || m->ballot != p->ballot) {
		leader_seen(p, now, m->ballot);
		return 0;
	}
	if (m->instance <= p->decided || m->instance >= p->next || !bit)
		return 0;
	s = slot_of(p, m->instance);
	if (s->instance != m->instance || s->chosen)
		return 0;
	s->acks |= bit;
	if (px_popcount32(s->acks & s->members) < px_quorum(s->members))
		return 0;
	s->chosen = true;
	kept_put(p, s->instance, s->value, s->len);
	s->value = NULL;
	s->len = 0;
	advance(p);
	pump(p, now);
	return 0;
}

static int on_heartbeat(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	u64 decided;

	if (m->len != PAXOS_HEARTBEAT_LEN)
		return -EINVAL;
	decided = px_get_be64(m->body);
	if (leader_seen(p, now, m->ballot) && decided > p->decided)
		p->decided = decided;
	return 0;
}

static int on_accept(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	u64 decided;

	if (m->len < PAXOS_ACCEPT_HDR_LEN + PAXOS_BATCH_HDR_LEN)
		return -EINVAL;
	decided = px_get_be64(m->body);
	if (leader_seen(p, now, m->ballot) && decided > p->decided)
		p->decided = decided;
	return 0;
}

/* Check a batch value strictly; number of commands or -EINVAL. */
static int batch_check(const struct px_proposer *p, const u8 *v, u32 len)
{
	struct px_rd r;
	u32 n, i;

	if (len > p->cfg.max_value)
		return -EINVAL;
	px_rd_init(&r, v, len);
	n = px_rd_u32(&r);
	for (i = 0; i < n && !r.err; i++) {
		u32 clen;

		px_rd_u64(&r);
		px_rd_u64(&r);
		clen = px_rd_u32(&r);
		px_rd_u32(&r);
		if (clen > PAXOS_MAX_CMD)
			return -EINVAL;
		px_rd_bytes(&r, clen);
	}
	if (r.err || r.left)
		return -EINVAL;
	return 0;
}

static int on_forward(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	struct px_rd r;
	u32 n, i;
	int err;

	err = batch_check(p, m->body, m->len);
	if (err)
		return err;
	/*
	 * The sender took us for the leader and we are not: drop, the clients
	 * retry.  Passing them on could loop between two nodes that each
	 * believe the other leads (e.g. one restarted and heard an old
	 * heartbeat).  A candidate keeps them: it may lead soon, and if not,
	 * it hands its queue to the new leader once.
	 */
	if (p->state == PX_FOLLOWER)
		return 0;
	px_rd_init(&r, m->body, m->len);
	n = px_rd_u32(&r);
	for (i = 0; i < n; i++) {
		u64 client_id = px_rd_u64(&r);
		u64 seq = px_rd_u64(&r);
		u32 len = px_rd_u32(&r);
		const u8 *data;

		px_rd_u32(&r);
		data = px_rd_bytes(&r, len);
		/* No room: the client will retry. */
		if (!enqueue(p, now, client_id, seq, data, len))
			p->stats.queue_full++;
	}
	pump(p, now);
	return 0;
}

static int on_status(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	struct px_peer_status *st;
	struct px_mlog ml;

	if (!m->src || m->src >= 32)
		return 0;
	if (px_mlog_decode(&ml, p->cfg.members, p->ml.alpha, m->instance,
			   m->body, m->len))
		return -EINVAL;
	px_mlog_merge(&p->ml, &ml);
	if (p->state == PX_LEADER)
		px_mlog_merge(&p->lml, &ml);
	st = &p->status[m->src];
	if (!st->seen || st->delivered != m->instance)
		st->changed = now;
	st->delivered = m->instance;
	st->at = now;
	st->seen = true;
	/* Learners deliver only chosen instances, members or not. */
	learn_decided(p, now, m->instance);
	if (p->state == PX_CANDIDATE)
		phase1_check(p, now);
	else if (p->state == PX_LEADER)
		pump(p, now);
	return 0;
}

/* ------------------------------------------------------------ public API */

struct px_proposer *px_proposer_create(const struct px_config *cfg, u64 now)
{
	struct px_proposer *p;
	u32 ring = 1, kept;

	if (px_config_check_known(cfg))
		return NULL;
	while (ring < cfg->window)
		ring <<= 1;
	kept = PX_MIN(cfg->acceptor_slots, PX_KEPT_MAX);
	p = px_alloc(sizeof(*p));
	if (!p)
		return NULL;
	px_memset(p, 0, sizeof(*p));
	p->slots = px_alloc(ring * sizeof(*p->slots));
	p->kept = px_alloc(kept * sizeof(*p->kept));
	if (!p->slots || !p->kept) {
		px_free(p->slots);
		px_free(p->kept);
		px_free(p);
		return NULL;
	}
	px_memset(p->slots, 0, ring * sizeof(*p->slots));
	px_memset(p->kept, 0, kept * sizeof(*p->kept));
	p->ring_mask = ring - 1;
	p->kept_mask = kept - 1;
	p->cfg = *cfg;
	px_mlog_init(&p->ml, cfg->members, px_config_alpha(cfg));
	p->lml = p->ml;
	p->rng = cfg->seed ^ ((u64)cfg->self << 32 | cfg->self);
	p->state = PX_FOLLOWER;
	px_ready_init(&p->out);
	/* A cluster of one has nobody to wait for. */
	if (cfg->members == node_bit(cfg->self))
		p->election_at = now;
	else
		reset_election_timer(p, now);
	return p;
}

void px_proposer_restore(struct px_proposer *p, u64 promised)
{
	see_ballot(p, promised);
}

void px_proposer_destroy(struct px_proposer *p)
{
	if (!p)
		return;
	queue_free(p);
	adopt_clear(p);
	slots_clear(p);
	px_free(p->slots);
	kept_clear(p);
	px_free(p->kept);
	px_ready_free(&p->out);
	px_free(p);
}

int px_proposer_queue(struct px_proposer *p, u64 now, u64 client_id,
		      u64 seq, const void *data, u32 len)
{
	if (len > PAXOS_MAX_CMD ||
	    PAXOS_BATCH_HDR_LEN + qcmd_size(len) > p->cfg.max_value)
		return -EMSGSIZE;
	/* Only px_proposer_propose_membership() changes the configuration. */
	if (client_id == PAXOS_CLIENT_MEMBERSHIP)
		return -EPERM;
	if (!enqueue(p, now, client_id, seq, data, len)) {
		p->stats.queue_full++;
		return -EAGAIN;
	}
	return 0;
}

void px_proposer_flush(struct px_proposer *p, u64 now)
{
	forward_queue(p);
	pump(p, now);
}

int px_proposer_propose(struct px_proposer *p, u64 now, u64 client_id,
			u64 seq, const void *data, u32 len)
{
	int err = px_proposer_queue(p, now, client_id, seq, data, len);

	if (!err)
		px_proposer_flush(p, now);
	return err;
}

int px_proposer_propose_membership(struct px_proposer *p, u64 now, u64 seq,
				   u32 old, u32 new)
{
	u8 data[PAXOS_MEMBERSHIP_LEN];

	if (!px_membership_valid(old, new))
		return -EINVAL;
	px_put_be32(data, old);
	px_put_be32(data + 4, new);
	if (!enqueue(p, now, PAXOS_CLIENT_MEMBERSHIP, seq, data,
		     sizeof(data))) {
		p->stats.queue_full++;
		return -EAGAIN;
	}
	px_proposer_flush(p, now);
	return 0;
}

int px_proposer_step(struct px_proposer *p, u64 now, const struct px_msg *m)
{
	if (m->len && !m->body)
		return -EINVAL;
	switch (m->type) {
	case PAXOS_MSG_PROMISE:
		return on_promise(p, now, m);
	case PAXOS_MSG_NACK:
		return on_nack(p, now, m);
	case PAXOS_MSG_ACCEPT:
		return on_accept(p, now, m);
	case PAXOS_MSG_ACCEPTED:
		return on_accepted(p, now, m);
	case PAXOS_MSG_HEARTBEAT:
		return on_heartbeat(p, now, m);
	case PAXOS_MSG_FORWARD:
		return on_forward(p, now, m);
	case PAXOS_MSG_STATUS:
		return on_status(p, now, m);
	default:
		return 0;
	}
}

void px_proposer_tick(struct px_proposer *p, u64 now)
{
	switch (p->state) {
	case PX_FOLLOWER:
		if (now >= p->election_at && is_member(p, p->cfg.self))
			start_election(p, now);
		else
			forward_queue(p);
		break;
	case PX_CANDIDATE:
		if (now - p->prepare_at >= p->cfg.retransmit_us) {
			p->stats.retransmits++;
			send_prepare(p, now);
		}
		break;
	case PX_LEADER:
		if (!is_member(p, p->cfg.self) &&
		    !(px_mlog_at(&p->ml, p->decided + 1) &
		      node_bit(p->cfg.self))) {
			resign(p, now);
			break;
		}
		retransmit(p, now);
		help_laggards(p, now);
		if (now >= p->heartbeat_at)
			send_heartbeat(p, now);
		pump(p, now);
		/* Chosen instances that no ACCEPT told the learners of. */
		if (p->commit_sent != p->commit_hi)
			send_heartbeat(p, now);
		break;
	}
}

u64 px_proposer_next_deadline(const struct px_proposer *p)
{
	u64 t = PX_NEVER, i;

	switch (p->state) {
	case PX_FOLLOWER:
		if (is_member(p, p->cfg.self))
			t = p->election_at;
		break;
	case PX_CANDIDATE:
		t = p->prepare_at + p->cfg.retransmit_us;
		break;
	case PX_LEADER:
		t = p->heartbeat_at;
		if (p->commit_sent != p->commit_hi)
			t = 0;		/* due now */
		for (i = p->decided + 1; i < p->next; i++) {
			const struct px_slot *s = slot_of(p, i);

			if (s->instance == i && !s->chosen)
				t = PX_MIN(t, s->sent + p->cfg.retransmit_us);
		}
		if (p->qfirst && window_open(p) && p->next > p->recover_end)
			t = PX_MIN(t, queue_head(p)->queued +
				   p->cfg.batch_delay_us);
		t = PX_MIN(t, laggards_deadline(p));
		break;
	}
	return t;
}

struct px_ready *px_proposer_ready(struct px_proposer *p)
{
	return &p->out;
}

void px_proposer_info(const struct px_proposer *p, struct px_proposer_info *i)
{
	px_memset(i, 0, sizeof(*i));
	i->state = p->state;
	i->leader = p->leader;
	i->ballot = p->ballot;
	i->leader_ballot = p->leader_ballot;
	i->next = p->next;
	i->decided = p->decided;
	i->queued_bytes = p->qbytes;
	i->members = px_mlog_latest(&p->ml);
	i->stats = p->stats;
}
