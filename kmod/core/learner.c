// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Learner: learns which value each instance decided, delivers decided
 * instances strictly in order, drops retried commands (exactly-once), fills
 * gaps from peers and serves their gaps.
 *
 * Memory is bounded by a ring of 2 * learner_slots instance slots covering
 * [delivered - learner_slots + 1, delivered + learner_slots]: the lower
 * half retains delivered values for readers and for peers' catch-up, the
 * upper half holds pending instances.  Anything above the window is ignored
 * (stats.ignored); one value buffer per instance at most.
 *
 * Per pending instance the learner keeps the value of the highest ballot
 * seen in an ACCEPT, and the ACCEPTED votes (a member bitmap) of the
 * highest ballot seen in an ACCEPTED.  A quorum of votes for ballot b makes
 * the instance decided; its value is known if the value held has a ballot
 * >= b (a value proposed in a ballot above a chosen one equals it).
 * Acceptors send ACCEPTED to the leader only, so learners elsewhere hear
 * the same fact from the leader: the run (commit_lo, commit_hi] in every
 * ACCEPT and HEARTBEAT of ballot b is a quorum of ACCEPTED(b, i) for each
 * instance in it (proposer.c).
 *
 * Exactly-once: a table of PX_DEDUP_CLIENTS (client_id, highest delivered
 * seq) kept in the order of their last delivery, which is the order of the
 * instances delivered, so evicting its head evicts the oldest last-delivered
 * client identically on every replica.
 *
 * Snapshots (docs/design.md, "Snapshots"): at every snapshot point the
 * learner keeps its own state (the meta: dedup table and configurations)
 * until the application puts its state there; the pair is the current
 * snapshot, served in SNAP_CHUNKs to a peer that asks for instances no
 * longer retained.  Receiving, it pulls one chunk at a time and installs
 * the snapshot when complete.  Memory: PX_SNAP_PENDING metas, one current
 * snapshot, one transfer.
 */
#include "px_wire.h"

enum {
	PX_LEARN_REPLY_MAX = 64,		/* CHOSEN per LEARN_REQ */
	PX_LEARN_REPLY_BYTES = 1 << 20,		/* value bytes per LEARN_REQ */
	/*
	 * CHOSEN per LEARN_REQ whose value may need fragments (longer than
	 * one frame at the smallest MTU): the frames of one answer arrive
	 * interleaved, and more messages in reassembly than the peer has
	 * slots evict each other forever.
	 */
	PX_LEARN_REPLY_FRAGMENTED = PX_REASM_SLOTS / 2,
	PX_ONE_FRAME_VALUE = PAXOS_MIN_MTU - PAXOS_FRAME_HDR_LEN -
			     PAXOS_AUTH_TAG_LEN,
	PX_DEDUP_NONE = 0xffff,
	PX_DEDUP_HASH = 2 * PX_DEDUP_CLIENTS,	/* buckets, power of 2 */
	PX_SNAP_TRIES = 3,	/* SNAP_REQ resends before another peer */
};

struct px_lslot {
	u64 instance;		/* 0: empty */
	u64 vballot;		/* ballot of value */
	u64 vote_ballot;	/* ballot the votes are for */
	const u8 *value;	/* NULL: not known; in @block */
	const void *block;	/* px_value_keep(): a message's or a copy */
	u32 len;
	u32 votes;		/* nodes that sent ACCEPTED(vote_ballot) */
	bool decided;		/* chosen (value may still be missing) */
	bool own;		/* @block is our copy: we may write flags */
};

struct px_dedup {
	u64 client_id;
	u64 seq;		/* highest seq delivered */
	u64 instance;		/* instance of that delivery */
	u16 hnext;		/* hash chain */
	u16 prev, next;		/* delivery order, oldest first */
};

/* The learner's own state at a snapshot point, waiting for the app's. */
struct px_snap_pend {
	u64 index;		/* 0: free */
	u8 *meta;
	u32 len;
};

/* A snapshot: buf holds meta || app. */
struct px_snap {
	u64 index;
	u8 *buf;
	u32 meta_len, app_len;
};

/* A snapshot being pulled from a peer, one chunk at a time. */
struct px_snap_xfer {
	struct px_snap s;	/* s.buf NULL: no transfer */
	u32 got;		/* bytes received: the next offset */
	u8 src;			/* the peer it comes from */
	u8 tries;		/* SNAP_REQs resent without progress */
	u64 since;		/* last progress */
};

struct px_learner {
	struct px_config cfg;
	u64 rng;
	u32 nslots;		/* learner_slots */
	u32 mask;		/* 2 * nslots - 1 */
	struct px_lslot *slots;

	u64 delivered;
	u64 known;		/* highest instance known decided */
	u64 last;		/* highest instance heard of */
	u64 leader_ballot;	/* highest ballot of a HEARTBEAT or ACCEPT */
	u64 commit_ballot;	/* runs of this ballot are applied */
	u64 commit_done;	/* up to here (0 after an install) */

	u64 next_status;
	u64 stall_since;	/* progress or first sight of a gap */
	u64 req_to;		/* end of the last requested range, 0: none */
	u64 req_delivered;	/* delivered when that request was sent */
	u8 req_dst;		/* whom it was sent to */

	struct px_mlog ml;	/* configurations, from the delivered values */
	u32 heard;		/* nodes heard from: members or not */

	/*
	 * A block of cfg.max_value bytes, or NULL: where a value held in a
	 * shared block moves when delivery must flag a retry in it.
	 */
	u8 *spare;

	/* dedup table */
	struct px_dedup *dd;
	u16 *dd_hash;
	u16 dd_used;
	u16 dd_head, dd_tail;	/* oldest, newest */

	/* snapshots */
	u64 base;		/* lowest instance ever retained (install) */
	struct px_snap_pend pend[PX_SNAP_PENDING];
	struct px_snap cur;	/* current snapshot; buf NULL: none */
	struct px_snap_xfer xfer;	/* incoming; buf NULL: none */

	struct px_ready out;
	struct px_learner_stats stats;
};

static struct px_lslot *lslot_at(const struct px_learner *l, u64 instance)
{
	return &l->slots[instance & l->mask];
}

static void lslot_reset(struct px_lslot *s, u64 instance)
{
	px_value_free(s->block);
	px_memset(s, 0, sizeof(*s));
	s->instance = instance;
}

/* Pending instance above delivered and within the window? */
static bool in_window(const struct px_learner *l, u64 instance)
{
	return instance > l->delivered &&
	       instance - l->delivered <= l->nslots;
}

/* The slot of a pending instance, claimed for it if needed. */
static struct px_lslot *lslot_get(struct px_learner *l, u64 instance)
{
	struct px_lslot *s = lslot_at(l, instance);

	/* Any other instance there is below the retained range. */
	if (s->instance != instance)
		lslot_reset(s, instance);
	if (instance > l->last)
		l->last = instance;
	return s;
}

static u64 first_retained(const struct px_learner *l)
{
	u64 f = l->delivered >= l->nslots ? l->delivered - l->nslots + 1 : 1;

	/* Nothing at or below an installed snapshot is retained. */
	return PX_MAX(f, l->base);
}

/* ------------------------------------------------------------------ dedup */

static u32 dd_bucket(u64 client_id)
{
	return (u32)((client_id * 0x9E3779B97F4A7C15ull) >> 40) &
	       (PX_DEDUP_HASH - 1);
}

static struct px_dedup *dd_find(struct px_learner *l, u64 client_id)
{
	u16 i;

	for (i = l->dd_hash[dd_bucket(client_id)]; i != PX_DEDUP_NONE;
	     i = l->dd[i].hnext)
		if (l->dd[i].client_id == client_id)
			return &l->dd[i];
	return NULL;
}

static void dd_unlink_order(struct px_learner *l, u16 i)
{
	struct px_dedup *e = &l->dd[i];

	if (e->prev != PX_DEDUP_NONE)
		l->dd[e->prev].next = e->next;
	else
		l->dd_head = e->next;
	if (e->next != PX_DEDUP_NONE)
		l->dd[e->next].prev = e->prev;
	else
		l->dd_tail = e->prev;
}

static void dd_append_order(struct px_learner *l, u16 i)
{
	struct px_dedup *e = &l->dd[i];

	e->prev = l->dd_tail;
	e->next = PX_DEDUP_NONE;
	if (l->dd_tail != PX_DEDUP_NONE)
		l->dd[l->dd_tail].next = i;
	else
		l->dd_head = i;
	l->dd_tail = i;
}

static void dd_unhash(struct px_learner *l, u16 i)
{
	u16 *pp = &l->dd_hash[dd_bucket(l->dd[i].client_id)];

	while (*pp != PX_DEDUP_NONE) {
		if (*pp == i) {
			*pp = l->dd[i].hnext;
			return;
		}
		pp = &l->dd[*pp].hnext;
	}
}

/* true: (client_id, seq) was delivered already; else record it. */
static bool dd_check(struct px_learner *l, u64 client_id, u64 seq,
		     u64 instance)
{
	struct px_dedup *e = dd_find(l, client_id);
	u16 i;

	if (e) {
		if (seq <= e->seq)
			return true;
		i = (u16)(e - l->dd);
		dd_unlink_order(l, i);
	} else {
		if (l->dd_used < PX_DEDUP_CLIENTS) {
			i = l->dd_used++;
		} else {
			/* Evict the client delivered longest ago. */
			i = l->dd_head;
			dd_unlink_order(l, i);
			dd_unhash(l, i);
			l->stats.evicted++;
		}
		e = &l->dd[i];
		e->client_id = client_id;
		e->hnext = l->dd_hash[dd_bucket(client_id)];
		l->dd_hash[dd_bucket(client_id)] = i;
	}
	e->seq = seq;
	e->instance = instance;
	dd_append_order(l, i);
	return false;
}

/* --------------------------------------------------------------- delivery */

/*
 * A value held in a message's block is shared (with the acceptor, say) and
 * must not be written: a delivery that flags a retry moves it into the
 * spare block first.  progress() makes sure there is one.
 */
static bool spare_ready(struct px_learner *l, const struct px_lslot *s)
{
	if (!s->own && !l->spare)
		l->spare = px_value_alloc(l->cfg.max_value);
	return s->own || l->spare;
}

/* Flag retries in the slot's value (flags arrive 0); count the delivered. */
static void deliver_one(struct px_learner *l, u64 instance,
			struct px_lslot *s)
{
	const void *shared = NULL;
	const u8 *base = s->value;
	struct px_batch_iter it;
	struct px_cmd c;
	bool dup;

	l->stats.delivered_instances++;
	if (px_batch_iter_init(&it, base, s->len))
		return;	/* cannot happen: checked on the way in */
	if (!it.left)
		l->stats.noops++;
	while (px_batch_next(&it, &c) == 1) {
		dup = dd_check(l, c.client_id, c.seq, instance);
		if (dup && !s->own) {
			/* it iterates over base: keep it until the end */
			shared = s->block;
			px_memcpy(l->spare, base, s->len);
			s->value = l->spare;
			s->block = l->spare;
			s->own = true;
			l->spare = NULL;
		}
		if (dup)
			px_put_be32((u8 *)s->value + (c.data - base) - 4,
				    PAXOS_CMD_F_DUP);
		/* Retried or not: px_mlog_apply() is idempotent enough. */
		if (c.client_id == PAXOS_CLIENT_MEMBERSHIP)
			px_mlog_apply(&l->ml, instance, c.data, c.len);
		if (dup)
			l->stats.duplicates++;
		else
			l->stats.delivered_cmds++;
	}
	px_value_free(shared);
}

static void check_decided(struct px_learner *l, u64 now, struct px_lslot *s);
static void snap_note(struct px_learner *l, u64 instance);
static bool snap_serves(const struct px_learner *l, u64 from);
static int snap_send(struct px_learner *l, u8 dst, u32 offset);
static int on_snap_req(struct px_learner *l, const struct px_msg *m);
static int on_snap_chunk(struct px_learner *l, u64 now,
			 const struct px_msg *m);
static void snap_tick(struct px_learner *l, u64 now);
static void xfer_free(struct px_learner *l);

/*
 * Votes for instances whose configuration was not known yet (beyond
 * delivered + alpha when they came) count now, up to the new horizon.
 */
static bool recheck_votes(struct px_learner *l, u64 now, u64 old_horizon)
{
	u64 i, end = PX_MIN(l->ml.horizon, l->delivered + l->nslots);
	bool more = false;

	for (i = PX_MAX(old_horizon, l->delivered) + 1; i <= end; i++) {
		struct px_lslot *s = lslot_at(l, i);

		if (s->instance != i || s->decided || !s->votes)
			continue;
		check_decided(l, now, s);
		more |= s->decided;
	}
	return more;
}

static void progress(struct px_learner *l, u64 now)
{
	struct px_lslot *s;
	u64 before = l->delivered, horizon;

again:
	for (;;) {
		s = lslot_at(l, l->delivered + 1);
		if (s->instance != l->delivered + 1 || !s->decided ||
		    !s->value)
			break;
		if (!spare_ready(l, s))
			break;	/* out of memory: px_learner_tick() retries */
		deliver_one(l, l->delivered + 1, s);
		l->delivered++;
		if (px_snap_point(&l->cfg, l->delivered))
			snap_note(l, l->delivered);
	}
	horizon = l->ml.horizon;
	px_mlog_advance(&l->ml, l->delivered);
	if (l->ml.horizon != horizon && recheck_votes(l, now, horizon))
		goto again;
	if (l->delivered != before) {
		l->stall_since = now;
		if (l->delivered > l->known)
			l->known = l->delivered;
		l->out.delivered = l->delivered;
	}
}

/* Learn that @instance is decided (value known or not). */
static void note_known(struct px_learner *l, u64 now, u64 instance)
{
	/* Stall timer runs from the first sight of a gap. */
	if (l->known <= l->delivered && instance > l->delivered)
		l->stall_since = now;
	if (instance > l->known)
		l->known = instance;
	if (instance > l->last)
		l->last = instance;
}

/* @s was chosen in ballot @b. */
static void decide_in(struct px_learner *l, u64 now, struct px_lslot *s,
		      u64 b)
{
	if (s->decided)
		return;
	s->decided = true;
	note_known(l, now, s->instance);
	/* A value of an older ballot may differ from the chosen one. */
	if (s->value && s->vballot < b) {
		px_value_free(s->block);
		s->block = NULL;
		s->value = NULL;
		s->len = 0;
	}
	/* Without a value: wait for one of the chosen ballot or above. */
	if (!s->value)
		s->vballot = b;
}

static void check_decided(struct px_learner *l, u64 now, struct px_lslot *s)
{
	u32 members;

	if (s->decided)
		return;
	/* 0 (not known yet): the votes wait for delivery to reach it. */
	members = px_mlog_at(&l->ml, s->instance);
	if (!members ||
	    px_popcount32(s->votes & members) < px_quorum(members))
		return;
	decide_in(l, now, s, s->vote_ballot);
}

/*
 * The leader of ballot @b saw every instance in (@lo, @hi] chosen in b by
 * a quorum of b (what a quorum of ACCEPTED(b, i) would tell us).  Runs of
 * one ballot only grow, so what was applied is not walked again.
 */
static void learn_commit(struct px_learner *l, u64 now, u64 b, u64 lo,
			 u64 hi)
{
	u64 i, end = PX_MIN(hi, l->delivered + l->nslots);

	if (b > l->commit_ballot) {
		l->commit_ballot = b;
		l->commit_done = 0;
	}
	if (b == l->commit_ballot)
		lo = PX_MAX(lo, l->commit_done);
	for (i = PX_MAX(lo, l->delivered) + 1; i <= end; i++)
		decide_in(l, now, lslot_get(l, i), b);
	if (b == l->commit_ballot && end > l->commit_done)
		l->commit_done = end;
	progress(l, now);
}

/*
 * The commit run at @p (be64 lo, be64 hi) of a message announcing @decided:
 * false if it is not a run of decided instances.
 */
static bool get_commit(const u8 *p, u64 decided, u64 *lo, u64 *hi)
{
	*lo = px_get_be64(p);
	*hi = px_get_be64(p + 8);
	return *lo <= *hi && *hi <= decided;
}

/* ------------------------------------------------------------- catch-up */

static u8 pick_peer(struct px_learner *l)
{
	u32 others = (px_mlog_latest(&l->ml) | l->heard) &
		     ~(1u << l->cfg.self);
	u32 k, id;

	if (!others)
		return 0;
	/* 32-bit modulo: no libgcc helper in 32-bit kernels. */
	k = (u32)(px_rand_next(&l->rng) >> 32) % (u32)px_popcount32(others);
	for (id = 1; id < 32; id++) {
		if (!(others >> id & 1))
			continue;
		if (!k--)
			return (u8)id;
	}
	return 0;
}

/*
 * Whom to ask: the peer of the last request if it helped, else the leader
 * and a random peer in turn.
 */
static u8 gap_target(struct px_learner *l)
{
	u8 leader = px_ballot_node(l->leader_ballot);
	bool leader_ok = leader >= 1 && leader < 32 &&
			 leader != l->cfg.self;

	if (l->req_dst && l->delivered > l->req_delivered)
		return l->req_dst;
	if (leader_ok && l->req_dst != leader)
		return leader;
	return pick_peer(l);
}

static void request_gap(struct px_learner *l, u64 now)
{
	u64 from = l->delivered + 1;
	u64 to = PX_MIN(l->known, l->delivered + l->nslots);
	struct px_obuf *ob;
	u8 dst = gap_target(l);

	/* What one answer carries, so the next request can follow it. */
	to = PX_MIN(to, from + PX_LEARN_REPLY_MAX - 1);

	l->stall_since = now;
	if (!dst || to < from)
		return;
	ob = px_ready_msg(&l->out, PAXOS_MSG_LEARN_REQ, dst, 0, from, 8);
	if (!ob)
		return;
	px_put_be64(ob->body, to);
	l->req_dst = dst;
	l->req_to = to;
	l->req_delivered = l->delivered;
	l->stats.catchup_reqs++;
}

/* --------------------------------------------------------------- messages */

static void take_leader(struct px_learner *l, u64 ballot)
{
	if (ballot > l->leader_ballot)
		l->leader_ballot = ballot;
}

/*
 * Store @value as the value of ballot @b for pending slot @s: held in
 * @block (a message's, or NULL), else copied.
 */
static int set_value(struct px_lslot *s, u64 b, const u8 *value, u32 len,
		     const void *block)
{
	const void *kept;
	const u8 *v = px_value_keep(value, len, block, &kept);

	if (!v)
		return -ENOMEM;
	px_value_free(s->block);
	s->value = v;
	s->block = kept;
	s->own = !block;
	s->len = len;
	s->vballot = b;
	return 0;
}

static int on_accept(struct px_learner *l, u64 now, const struct px_msg *m)
{
	u64 b = m->ballot, i = m->instance, decided, lo, hi;
	const u8 *value;
	struct px_lslot *s;
	u32 len;
	int err;

	if (m->len < PAXOS_ACCEPT_HDR_LEN ||
	    m->len - PAXOS_ACCEPT_HDR_LEN > l->cfg.max_value || !i ||
	    px_ballot_node(b) != m->src)
		return -EINVAL;
	value = m->body + PAXOS_ACCEPT_HDR_LEN;
	len = m->len - PAXOS_ACCEPT_HDR_LEN;
	decided = px_get_be64(m->body);
	if (!px_batch_valid(value, len) ||
	    !get_commit(m->body + 8, decided, &lo, &hi))
		return -EINVAL;
	take_leader(l, b);
	if (decided > l->delivered)
		note_known(l, now, decided);
	if (i <= l->delivered)
		goto commit;
	if (!in_window(l, i)) {
		l->stats.ignored++;
		goto commit;
	}
	s = lslot_get(l, i);
	if (s->decided) {
		/* Votes came first: take the value of that ballot or above. */
		if (s->value || b < s->vballot)
			goto commit;
	} else if (s->value && b <= s->vballot) {
		goto commit;
	}
	err = set_value(s, b, value, len, m->block);
	if (err)
		return err;
	check_decided(l, now, s);
commit:
	learn_commit(l, now, b, lo, hi);
	return 0;
}

static int on_accepted(struct px_learner *l, u64 now, const struct px_msg *m)
{
	u64 b = m->ballot, i = m->instance;
	struct px_lslot *s;

	if (m->len || !i || m->src < 1 || m->src >= 32 || !b)
		return -EINVAL;
	if (i <= l->delivered)
		return 0;
	if (!in_window(l, i)) {
		l->stats.ignored++;
		return 0;
	}
	s = lslot_get(l, i);
	if (s->decided || b < s->vote_ballot)
		return 0;
	if (b > s->vote_ballot) {
		s->vote_ballot = b;
		s->votes = 0;
	}
	s->votes |= 1u << m->src;
	check_decided(l, now, s);
	progress(l, now);
	return 0;
}

static int on_chosen(struct px_learner *l, u64 now, const struct px_msg *m)
{
	u64 i = m->instance;
	struct px_lslot *s;
	int err;

	if (!i || m->len > l->cfg.max_value ||
	    !px_batch_valid(m->body, m->len))
		return -EINVAL;
	if (i <= l->delivered)
		return 0;
	if (!in_window(l, i)) {
		l->stats.ignored++;
		return 0;
	}
	s = lslot_get(l, i);
	if (!(s->decided && s->value)) {
		err = set_value(s, m->ballot, m->body, m->len, m->block);
		if (err)
			return err;
		s->decided = true;
		note_known(l, now, i);
	}
	progress(l, now);
	/* Catching up: ask for the next range once this one is in. */
	if (l->req_to && l->delivered >= l->req_to &&
	    l->known > l->delivered)
		request_gap(l, now);
	return 0;
}

static int on_heartbeat(struct px_learner *l, u64 now, const struct px_msg *m)
{
	u64 decided, lo, hi;

	if (m->len != PAXOS_HEARTBEAT_LEN ||
	    px_ballot_node(m->ballot) != m->src)
		return -EINVAL;
	decided = px_get_be64(m->body);
	if (px_get_be64(m->body + 8) > decided ||
	    !get_commit(m->body + 16, decided, &lo, &hi))
		return -EINVAL;
	take_leader(l, m->ballot);
	if (decided > l->delivered)
		note_known(l, now, decided);
	learn_commit(l, now, m->ballot, lo, hi);
	return 0;
}

/* Answer with CHOSEN for the retained delivered instances in [from, to]. */
static int on_learn_req(struct px_learner *l, const struct px_msg *m)
{
	u64 from = m->instance, to, i;
	u32 n = 0, bytes = 0, big = 0;
	struct px_batch_iter it;
	struct px_lslot *s;
	struct px_obuf *ob;
	struct px_cmd c;

	if (m->len != 8 || !from)
		return -EINVAL;
	to = px_get_be64(m->body);
	if (to < from)
		return -EINVAL;
	if (m->src == l->cfg.self)
		return 0;
	/* Too far behind for what we retain: our snapshot first. */
	if (snap_serves(l, from))
		return snap_send(l, m->src, 0);
	from = PX_MAX(from, first_retained(l));
	to = PX_MIN(to, l->delivered);
	for (i = from; i <= to && n < PX_LEARN_REPLY_MAX; i++) {
		s = lslot_at(l, i);
		if (s->instance != i || !s->value)
			break;
		if (n && bytes + s->len > PX_LEARN_REPLY_BYTES)
			break;
		if (s->len > PX_ONE_FRAME_VALUE &&
		    big++ == PX_LEARN_REPLY_FRAGMENTED)
			break;
		ob = px_ready_msg(&l->out, PAXOS_MSG_CHOSEN, m->src,
				  s->vballot, i, s->len);
		if (!ob)
			return -ENOMEM;
		px_memcpy(ob->body, s->value, s->len);
		/* Our copy flags retries; on the wire flags are 0. */
		if (!px_batch_iter_init(&it, ob->body, ob->len))
			while (px_batch_next(&it, &c) == 1)
				px_put_be32(ob->body + (c.data - ob->body) - 4,
					    0);
		n++;
		bytes += s->len;
		l->stats.catchup_served++;
	}
	return 0;
}

static int on_status(struct px_learner *l, u64 now, const struct px_msg *m)
{
	/* A peer delivered up to there: all of it is decided. */
	if (m->len % PX_MLOG_ENTRY_LEN ||
	    m->len > PX_MLOG_MAX * PX_MLOG_ENTRY_LEN)
		return -EINVAL;
	if (m->src != l->cfg.self && m->instance > l->delivered)
		note_known(l, now, m->instance);
	return 0;
}

int px_learner_step(struct px_learner *l, u64 now, const struct px_msg *m)
{
	if (m->len && !m->body)
		return -EINVAL;
	/* Catch-up may ask any of them: a node being added retains all. */
	if (m->src >= 1 && m->src < 32)
		l->heard |= 1u << m->src;
	switch (m->type) {
	case PAXOS_MSG_ACCEPT:
		return on_accept(l, now, m);
	case PAXOS_MSG_ACCEPTED:
		return on_accepted(l, now, m);
	case PAXOS_MSG_CHOSEN:
		return on_chosen(l, now, m);
	case PAXOS_MSG_HEARTBEAT:
		return on_heartbeat(l, now, m);
	case PAXOS_MSG_LEARN_REQ:
		return on_learn_req(l, m);
	case PAXOS_MSG_STATUS:
		return on_status(l, now, m);
	case PAXOS_MSG_SNAP_REQ:
		return on_snap_req(l, m);
	case PAXOS_MSG_SNAP_CHUNK:
		return on_snap_chunk(l, now, m);
	default:
		return 0;	/* not for the learner */
	}
}

void px_learner_tick(struct px_learner *l, u64 now)
{
	if (now >= l->next_status) {
		u8 buf[PX_MLOG_MAX * PX_MLOG_ENTRY_LEN];
		u32 len = px_mlog_encode(&l->ml, l->cfg.members, buf);
		struct px_obuf *ob;

		ob = px_ready_msg(&l->out, PAXOS_MSG_STATUS, PAXOS_NODE_ALL, 0,
				  l->delivered, len);
		if (ob && len)
			px_memcpy(ob->body, buf, len);
		l->next_status = now + l->cfg.heartbeat_us;
	}
	progress(l, now);	/* held up by memory for the spare? */
	if (l->xfer.s.buf && l->xfer.s.index <= l->delivered)
		xfer_free(l);	/* overtaken by delivery */
	if (l->xfer.s.buf)
		snap_tick(l, now);
	else if (l->known > l->delivered &&
		 now >= l->stall_since + l->cfg.catchup_us)
		request_gap(l, now);
}

u64 px_learner_next_deadline(const struct px_learner *l)
{
	u64 t = l->next_status;

	if (l->xfer.s.buf)
		t = PX_MIN(t, l->xfer.since + l->cfg.catchup_us);
	else if (l->known > l->delivered)
		t = PX_MIN(t, l->stall_since + l->cfg.catchup_us);
	return t;
}

struct px_ready *px_learner_ready(struct px_learner *l)
{
	l->out.delivered = l->delivered;
	return &l->out;
}

void px_learner_info(const struct px_learner *l, struct px_learner_info *i)
{
	const struct px_lslot *s;
	u64 c = l->delivered;

	for (;;) {
		s = lslot_at(l, c + 1);
		if (s->instance != c + 1 || !s->decided ||
		    c + 1 - l->delivered > l->nslots)
			break;
		c++;
	}
	i->first = first_retained(l);
	i->last = PX_MAX(l->last, l->known);
	i->committed = c;
	i->delivered = l->delivered;
	i->members = px_mlog_at(&l->ml, l->delivered + 1);
	i->members_latest = px_mlog_latest(&l->ml);
	i->snap_index = l->cur.buf ? l->cur.index : 0;
	i->stats = l->stats;
}

const u8 *px_learner_value(const struct px_learner *l, u64 instance,
			   u32 *len, bool *gone)
{
	const struct px_lslot *s;

	if (gone)
		*gone = false;
	if (instance > l->delivered)
		return NULL;
	s = lslot_at(l, instance);
	if (!instance || instance < first_retained(l) ||
	    s->instance != instance || !s->value) {
		if (gone)
			*gone = true;
		return NULL;
	}
	if (len)
		*len = s->len;
	return s->value;
}

const void *px_learner_value_block(const struct px_learner *l, u64 instance)
{
	const struct px_lslot *s = lslot_at(l, instance);

	if (!px_learner_value(l, instance, NULL, NULL))
		return NULL;
	return s->block;
}

/* -------------------------------------------------------------- lifetime */

struct px_learner *px_learner_create(const struct px_config *cfg, u64 now)
{
	struct px_learner *l;
	size_t sz;
	u32 i;

	if (px_config_check_known(cfg))
		return NULL;
	l = px_alloc(sizeof(*l));
	if (!l)
		return NULL;
	px_memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->rng = cfg->seed ^ 0x6C6561726E6572ull;	/* "learner" */
	l->nslots = cfg->learner_slots;
	l->mask = 2 * cfg->learner_slots - 1;
	px_ready_init(&l->out);

	sz = (size_t)2 * l->nslots * sizeof(*l->slots);
	l->slots = px_alloc(sz);
	l->dd = px_alloc(PX_DEDUP_CLIENTS * sizeof(*l->dd));
	l->dd_hash = px_alloc(PX_DEDUP_HASH * sizeof(*l->dd_hash));
	if (!l->slots || !l->dd || !l->dd_hash) {
		px_free(l->slots);
		px_free(l->dd);
		px_free(l->dd_hash);
		px_free(l);
		return NULL;
	}
	px_memset(l->slots, 0, sz);
	for (i = 0; i < PX_DEDUP_HASH; i++)
		l->dd_hash[i] = PX_DEDUP_NONE;
	l->dd_head = PX_DEDUP_NONE;
	l->dd_tail = PX_DEDUP_NONE;

	px_mlog_init(&l->ml, cfg->members, px_config_alpha(cfg));
	l->next_status = now + cfg->heartbeat_us;
	l->stall_since = now;
	return l;
}

void px_learner_destroy(struct px_learner *l)
{
	u32 i;

	if (!l)
		return;
	for (i = 0; i <= l->mask; i++)
		px_value_free(l->slots[i].block);
	px_value_free(l->spare);
	for (i = 0; i < PX_SNAP_PENDING; i++)
		px_free(l->pend[i].meta);
	px_free(l->cur.buf);
	px_free(l->xfer.s.buf);
	px_free(l->slots);
	px_free(l->dd);
	px_free(l->dd_hash);
	px_ready_free(&l->out);
	px_free(l);
}

/* ------------------------------------------------------------ membership */

int px_config_check_known(const struct px_config *cfg)
{
	struct px_config c = *cfg;

	if (c.self >= 1 && c.self < 32)
		c.members |= 1u << c.self;
	if (px_config_check(&c, NULL))
		return -EINVAL;
	if (!cfg->members || (cfg->members & 1) ||
	    c.window > px_config_alpha(&c))
		return -EINVAL;
	return 0;
}

void px_mlog_init(struct px_mlog *ml, u32 members, u32 alpha)
{
	px_memset(ml, 0, sizeof(*ml));
	ml->alpha = alpha;
	ml->n = 1;
	ml->e[0].from = 1;
	ml->e[0].members = members;
	ml->horizon = alpha;
}

u32 px_mlog_at(const struct px_mlog *ml, u64 inst)
{
	u32 k;

	if (!ml->n || inst < ml->e[0].from || inst > ml->horizon)
		return 0;
	for (k = ml->n - 1; k > 0; k--)
		if (ml->e[k].from <= inst)
			break;
	return ml->e[k].members;
}

u32 px_mlog_latest(const struct px_mlog *ml)
{
	return ml->n ? ml->e[ml->n - 1].members : 0;
}

bool px_membership_valid(u32 old, u32 new)
{
	u32 added = new & ~old, removed = old & ~new;

	if (!new || (new & 1) || !old)
		return false;
	if (px_popcount32(added) > 1 || px_popcount32(removed) > 1)
		return false;
	return added || removed;
}

/* Append (@from, @members); the oldest entry goes if the log is full. */
static void mlog_push(struct px_mlog *ml, u64 from, u32 members)
{
	u32 k;

	if (ml->n == PX_MLOG_MAX) {
		for (k = 1; k < ml->n; k++)
			ml->e[k - 1] = ml->e[k];
		ml->n--;
	}
	ml->e[ml->n].from = from;
	ml->e[ml->n].members = members;
	ml->n++;
}

bool px_mlog_apply(struct px_mlog *ml, u64 inst, const u8 *data, u32 len)
{
	u32 old, new;

	if (len != PAXOS_MEMBERSHIP_LEN || !ml->n)
		return false;
	old = px_get_be32(data);
	new = px_get_be32(data + 4);
	/* One change at a time: none may be pending at @inst. */
	if (ml->e[ml->n - 1].from > inst)
		return false;
	if (old != px_mlog_latest(ml) || !px_membership_valid(old, new))
		return false;
	mlog_push(ml, inst + ml->alpha, new);
	return true;
}

void px_mlog_advance(struct px_mlog *ml, u64 decided)
{
	if (decided + ml->alpha > ml->horizon)
		ml->horizon = decided + ml->alpha;
}

void px_mlog_merge(struct px_mlog *dst, const struct px_mlog *src)
{
	struct px_mconf e[2 * PX_MLOG_MAX];
	u32 i = 0, j = 0, n = 0, k;

	/* Both are prefixes of one history: a union ordered by from. */
	while (i < dst->n || j < src->n) {
		if (j == src->n ||
		    (i < dst->n && dst->e[i].from < src->e[j].from)) {
			e[n++] = dst->e[i++];
		} else {
			if (i < dst->n && dst->e[i].from == src->e[j].from)
				i++;
			e[n++] = src->e[j++];
		}
	}
	k = n > PX_MLOG_MAX ? n - PX_MLOG_MAX : 0;
	dst->n = n - k;
	px_memcpy(dst->e, e + k, dst->n * sizeof(e[0]));
	dst->horizon = PX_MAX(dst->horizon, src->horizon);
}

u32 px_mlog_encode(const struct px_mlog *ml, u32 members, u8 *buf)
{
	u32 k;

	if (ml->n == 1 && ml->e[0].from == 1 && ml->e[0].members == members)
		return 0;
	for (k = 0; k < ml->n; k++) {
		px_put_be64(buf + k * PX_MLOG_ENTRY_LEN, ml->e[k].from);
		px_put_be32(buf + k * PX_MLOG_ENTRY_LEN + 8, ml->e[k].members);
	}
	return ml->n * PX_MLOG_ENTRY_LEN;
}

int px_mlog_decode(struct px_mlog *ml, u32 members, u32 alpha,
		   u64 delivered, const u8 *buf, u32 len)
{
	u32 k, n = len / PX_MLOG_ENTRY_LEN;

	if (len % PX_MLOG_ENTRY_LEN || n > PX_MLOG_MAX)
		return -EINVAL;
	px_mlog_init(ml, members, alpha);
	ml->horizon = delivered + alpha;
	if (!n)
		return 0;
	ml->n = n;
	for (k = 0; k < n; k++) {
		ml->e[k].from = px_get_be64(buf + k * PX_MLOG_ENTRY_LEN);
		ml->e[k].members = px_get_be32(buf + k * PX_MLOG_ENTRY_LEN +
					       8);
		if (!ml->e[k].from || !ml->e[k].members ||
		    (ml->e[k].members & 1) ||
		    (k && ml->e[k].from <= ml->e[k - 1].from))
			return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------- snapshots */

bool px_learner_snap_point(const struct px_learner *l, u64 instance)
{
	return px_snap_point(&l->cfg, instance);
}

static void snap_free(struct px_snap *s)
{
	px_free(s->buf);
	px_memset(s, 0, sizeof(*s));
}

static void pend_free(struct px_snap_pend *p)
{
	px_free(p->meta);
	px_memset(p, 0, sizeof(*p));
}

static void xfer_free(struct px_learner *l)
{
	snap_free(&l->xfer.s);
	px_memset(&l->xfer, 0, sizeof(l->xfer));
}

/*
 * The learner's state after delivering @instance, a snapshot point: the
 * dedup table (oldest last delivery first) and the configurations.  Kept
 * among the pending metas until the application puts its state at
 * @instance; the oldest goes when they are all in use.
 */
static void snap_note(struct px_learner *l, u64 instance)
{
	u8 ml[PX_MLOG_MAX * PX_MLOG_ENTRY_LEN];
	struct px_snap_pend *p = &l->pend[0];
	u32 mlen, len, k;
	u16 i;
	u8 *b;

	for (k = 1; k < PX_SNAP_PENDING && p->index; k++)
		if (!l->pend[k].index || l->pend[k].index < p->index)
			p = &l->pend[k];
	pend_free(p);
	mlen = px_mlog_encode(&l->ml, l->cfg.members, ml);
	len = 4 + (u32)l->dd_used * PX_SNAP_DEDUP_LEN + 4 + mlen;
	b = px_alloc(len);
	if (!b)
		return;		/* a put at @instance gets -ENOENT */
	p->index = instance;
	p->meta = b;
	p->len = len;
	px_put_be32(b, l->dd_used);
	b += 4;
	for (i = l->dd_head; i != PX_DEDUP_NONE; i = l->dd[i].next) {
		px_put_be64(b, l->dd[i].client_id);
		px_put_be64(b + 8, l->dd[i].seq);
		px_put_be64(b + 16, l->dd[i].instance);
		b += PX_SNAP_DEDUP_LEN;
	}
	px_put_be32(b, mlen);
	if (mlen)
		px_memcpy(b + 4, ml, mlen);
}

int px_learner_snapshot_put(struct px_learner *l, u64 index,
			    const void *app, u32 len)
{
	struct px_snap_pend *p = NULL;
	u8 *buf;
	u32 k;

	if (len > PAXOS_MAX_SNAPSHOT)
		return -EMSGSIZE;
	if ((len && !app) || !index)
		return -EINVAL;
	if (l->cur.buf && index < l->cur.index)
		return -ESTALE;
	for (k = 0; k < PX_SNAP_PENDING; k++)
		if (l->pend[k].index == index && l->pend[k].meta)
			p = &l->pend[k];
	if (!p)
		return -ENOENT;
	buf = px_alloc((size_t)p->len + len);
	if (!buf)
		return -ENOMEM;
	px_memcpy(buf, p->meta, p->len);
	if (len)
		px_memcpy(buf + p->len, app, len);
	snap_free(&l->cur);
	l->cur.index = index;
	l->cur.buf = buf;
	l->cur.meta_len = p->len;
	l->cur.app_len = len;
	/* Older points can no longer become the current snapshot. */
	for (k = 0; k < PX_SNAP_PENDING; k++)
		if (l->pend[k].index <= index)
			pend_free(&l->pend[k]);
	l->stats.snap_puts++;
	return 0;
}

bool px_learner_snapshot(const struct px_learner *l,
			 struct px_snapshot_info *si)
{
	if (!l->cur.buf)
		return false;
	si->index = l->cur.index;
	si->app = l->cur.buf + l->cur.meta_len;
	si->app_len = l->cur.app_len;
	return true;
}

/* Send the chunk of our current snapshot at @offset to @dst. */
static int snap_send(struct px_learner *l, u8 dst, u32 offset)
{
	u32 total = l->cur.meta_len + l->cur.app_len, n;
	struct px_obuf *ob;

	if (!l->cur.buf || offset >= total)
		return 0;
	n = PX_MIN(total - offset, (u32)PX_SNAP_CHUNK);
	ob = px_ready_msg(&l->out, PAXOS_MSG_SNAP_CHUNK, dst, 0,
			  l->cur.index, 12 + n);
	if (!ob)
		return -ENOMEM;
	px_put_be32(ob->body, l->cur.meta_len);
	px_put_be32(ob->body + 4, l->cur.app_len);
	px_put_be32(ob->body + 8, offset);
	px_memcpy(ob->body + 12, l->cur.buf + offset, n);
	l->stats.snap_served++;
	return 0;
}

/*
 * Can our current snapshot bring a peer that asks for [@from, ...] up to
 * what we retain?  It must cover every instance below @from that we no
 * longer have, and its successor must be retained.
 */
static bool snap_serves(const struct px_learner *l, u64 from)
{
	u64 first = first_retained(l);

	return l->cur.buf && from < first && l->cur.index + 1 >= from &&
	       l->cur.index + 1 >= first;
}

static int on_snap_req(struct px_learner *l, const struct px_msg *m)
{
	if (m->len != 4 || !m->instance)
		return -EINVAL;
	if (m->src == l->cfg.self || !l->cur.buf)
		return 0;
	if (m->instance == l->cur.index)
		return snap_send(l, m->src, px_get_be32(m->body));
	/* We moved on: the receiver restarts on the newer one. */
	if (m->instance < l->cur.index)
		return snap_send(l, m->src, 0);
	return 0;
}

static void snap_ask(struct px_learner *l)
{
	struct px_obuf *ob;

	ob = px_ready_msg(&l->out, PAXOS_MSG_SNAP_REQ, l->xfer.src, 0,
			  l->xfer.s.index, 4);
	if (ob)
		px_put_be32(ob->body, l->xfer.got);
}

/* Insert a dedup entry at the newest end; false if the client is known. */
static bool dd_restore_one(struct px_learner *l, u64 client_id, u64 seq,
			   u64 instance)
{
	struct px_dedup *e;
	u16 i;

	if (dd_find(l, client_id) || l->dd_used >= PX_DEDUP_CLIENTS)
		return false;
	i = l->dd_used++;
	e = &l->dd[i];
	e->client_id = client_id;
	e->seq = seq;
	e->instance = instance;
	e->hnext = l->dd_hash[dd_bucket(client_id)];
	l->dd_hash[dd_bucket(client_id)] = i;
	dd_append_order(l, i);
	return true;
}

static void dd_reset(struct px_learner *l)
{
	u32 i;

	for (i = 0; i < PX_DEDUP_HASH; i++)
		l->dd_hash[i] = PX_DEDUP_NONE;
	l->dd_used = 0;
	l->dd_head = PX_DEDUP_NONE;
	l->dd_tail = PX_DEDUP_NONE;
}

/*
 * Strictly decode the meta of a snapshot at @index (it comes from the
 * wire) into the learner's dedup table and @ml.  The table is rebuilt in
 * place: on -EINVAL the caller puts the previous one back.
 */
static int snap_decode(struct px_learner *l, u64 index, const u8 *meta,
		       u32 len, struct px_mlog *ml)
{
	u32 alpha = px_config_alpha(&l->cfg), n, k, mlen;
	u64 cid, seq, inst, prev = 0;
	const u8 *mb;
	struct px_rd rd;

	px_rd_init(&rd, meta, len);
	n = px_rd_u32(&rd);
	if (rd.err || n > PX_DEDUP_CLIENTS ||
	    rd.left < (u64)n * PX_SNAP_DEDUP_LEN + 4)
		return -EINVAL;
	dd_reset(l);
	for (k = 0; k < n; k++) {
		cid = px_rd_u64(&rd);
		seq = px_rd_u64(&rd);
		inst = px_rd_u64(&rd);
		/* Oldest last delivery first, all at or below @index. */
		if (rd.err || !inst || inst > index || inst < prev)
			return -EINVAL;
		prev = inst;
		if (!dd_restore_one(l, cid, seq, inst))
			return -EINVAL;
	}
	mlen = px_rd_u32(&rd);
	if (rd.err || mlen > PX_MLOG_MAX * PX_MLOG_ENTRY_LEN)
		return -EINVAL;
	mb = px_rd_bytes(&rd, mlen);
	if (rd.err || rd.left)
		return -EINVAL;
	if (px_mlog_decode(ml, l->cfg.members, alpha, index, mb, mlen))
		return -EINVAL;
	/* A change decided at or below @index takes effect by index+alpha. */
	for (k = 0; k < ml->n; k++)
		if (ml->e[k].from > index + alpha)
			return -EINVAL;
	return 0;
}

/* The transfer is complete: become the state of its snapshot. */
static int snap_install(struct px_learner *l, u64 now)
{
	struct px_snap *x = &l->xfer.s;
	struct px_dedup *old_dd = l->dd, *new_dd;
	u16 *old_hash = l->dd_hash, *new_hash;
	u16 used = l->dd_used, head = l->dd_head, tail = l->dd_tail;
	bool bad, keep_old;
	struct px_mlog ml;
	u32 i, k;

	new_dd = px_alloc(PX_DEDUP_CLIENTS * sizeof(*new_dd));
	new_hash = px_alloc(PX_DEDUP_HASH * sizeof(*new_hash));
	if (!new_dd || !new_hash) {
		px_free(new_dd);
		px_free(new_hash);
		xfer_free(l);
		return -ENOMEM;
	}
	l->dd = new_dd;
	l->dd_hash = new_hash;
	bad = snap_decode(l, x->index, x->buf, x->meta_len, &ml) != 0;
#if defined(PX_PLANT_BUG) && PX_PLANT_BUG == 3
	keep_old = true;	/* planted bug: the meta's dedup table ignored */
#else
	keep_old = bad;
#endif
	if (keep_old) {
		l->dd = old_dd;
		l->dd_hash = old_hash;
		l->dd_used = used;
		l->dd_head = head;
		l->dd_tail = tail;
		px_free(new_dd);
		px_free(new_hash);
	} else {
		px_free(old_dd);
		px_free(old_hash);
	}
	if (bad) {
		l->stats.snap_rejected++;
		xfer_free(l);
		return -EINVAL;
	}
	for (i = 0; i <= l->mask; i++)
		lslot_reset(&l->slots[i], 0);
	for (k = 0; k < PX_SNAP_PENDING; k++)
		pend_free(&l->pend[k]);
	l->ml = ml;
	l->delivered = x->index;
	l->base = x->index + 1;
	l->known = PX_MAX(l->known, x->index);
	l->last = PX_MAX(l->last, x->index);
	l->stall_since = now;
	l->req_to = 0;
	l->commit_done = 0;	/* the slots it covered are gone */
	snap_free(&l->cur);
	l->cur = *x;
	px_memset(&l->xfer, 0, sizeof(l->xfer));
	l->out.delivered = l->delivered;
	l->out.restored = l->delivered;
	l->stats.snap_installed++;
	/* Catch up on what follows it. */
	if (l->known > l->delivered)
		request_gap(l, now);
	return 0;
}

static int on_snap_chunk(struct px_learner *l, u64 now,
			 const struct px_msg *m)
{
	struct px_snap_xfer *x = &l->xfer;
	u32 meta_len, app_len, off, n;
	u64 total;

	if (m->len <= 12 || m->len - 12 > PX_SNAP_CHUNK || !m->instance)
		return -EINVAL;
	meta_len = px_get_be32(m->body);
	app_len = px_get_be32(m->body + 4);
	off = px_get_be32(m->body + 8);
	n = m->len - 12;
	total = (u64)meta_len + app_len;
	if (meta_len < 8 || meta_len > PX_SNAP_META_MAX ||
	    app_len > PAXOS_MAX_SNAPSHOT || (u64)off + n > total ||
	    ((u64)off + n < total && n != PX_SNAP_CHUNK))
		return -EINVAL;
	if (x->s.buf && x->s.index <= l->delivered)
		xfer_free(l);	/* overtaken by delivery */
	if (m->src == l->cfg.self || m->src < 1 || m->src >= 32 ||
	    m->instance <= l->delivered)
		return 0;
	if (!x->s.buf || m->instance > x->s.index) {
		/* A new transfer (or a newer snapshot): from offset 0. */
		if (off)
			return 0;
		xfer_free(l);
		x->s.buf = px_alloc(total);
		if (!x->s.buf)
			return -ENOMEM;
		x->s.index = m->instance;
		x->s.meta_len = meta_len;
		x->s.app_len = app_len;
	} else if (m->instance < x->s.index || off != x->got ||
		   m->src != x->src || meta_len != x->s.meta_len ||
		   app_len != x->s.app_len) {
		/* Never mix the bytes of two servers' snapshots. */
		return 0;
	}
	px_memcpy(x->s.buf + off, m->body + 12, n);
	x->got = off + n;
	x->src = m->src;
	x->tries = 0;
	x->since = now;
	if (x->got < total) {
		snap_ask(l);
		return 0;
	}
	return snap_install(l, now);
}

/* No progress on the transfer for catchup_us: ask again, or elsewhere. */
static void snap_tick(struct px_learner *l, u64 now)
{
	if (now < l->xfer.since + l->cfg.catchup_us)
		return;
	if (++l->xfer.tries <= PX_SNAP_TRIES) {
		l->xfer.since = now;
		snap_ask(l);
		return;
	}
	xfer_free(l);
	request_gap(l, now);
}
