// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the proposer (kmod/core/proposer.c) - election, phase-1 value
 * adoption, batching, the window, forwarding, retransmission - and a
 * leader's batch carried in fragments to an acceptor and a learner.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "px_kunit.h"

#define B(round, node)	px_ballot_make(round, node)

static struct px_obuf *only(struct kunit *test, struct px_ready *rd, u8 type)
{
	KUNIT_EXPECT_EQ(test, kpx_count(rd, type), 1u);
	return kpx_find(rd, type, 0);
}

static void info(struct px_proposer *p, struct px_proposer_info *i)
{
	px_proposer_info(p, i);
}

static void step(struct kunit *test, struct px_proposer *p, u64 now,
		 struct px_msg m)
{
	KUNIT_ASSERT_EQ(test, px_proposer_step(p, now, &m), 0);
}

static void heartbeat_from(struct kunit *test, struct px_proposer *p,
			   u64 now, u64 b, u64 next, u64 decided)
{
	u32 len;
	u8 *body = kpx_heartbeat_body(test, decided, 0, &len);

	step(test, p, now, kpx_msg(PAXOS_MSG_HEARTBEAT, px_ballot_node(b),
				   PAXOS_NODE_ALL, b, next, body, len));
}

static void promise_from(struct kunit *test, struct px_proposer *p, u64 now,
			 u8 src, u64 b, u64 from, const struct kpx_promise *pr)
{
	step(test, p, now, kpx_msg(PAXOS_MSG_PROMISE, src, 1, b, from,
				   pr->buf, pr->len));
}

static void accepted_from(struct kunit *test, struct px_proposer *p,
			  u64 now, u8 src, u64 b, u64 i)
{
	step(test, p, now, kpx_msg(PAXOS_MSG_ACCEPTED, src, PAXOS_NODE_ALL,
				   b, i, NULL, 0));
}

/* Let node 1's election timer fire; returns the PREPARE's ballot. */
static u64 campaign(struct kunit *test, struct px_proposer *p, u64 *now)
{
	struct px_proposer_info pi;
	struct px_ready *rd;
	struct px_obuf *o;

	*now = px_proposer_next_deadline(p);
	px_proposer_tick(p, *now);
	info(p, &pi);
	KUNIT_ASSERT_EQ(test, pi.state, PX_CANDIDATE);
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_PREPARE);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->ballot, pi.ballot);
	KUNIT_EXPECT_EQ(test, o->instance, pi.decided + 1);
	return pi.ballot;
}

/* Node 1 of {1, 2, 3} elected with empty promises from 2 and 3. */
static struct px_proposer *new_leader(struct kunit *test,
				      struct px_config *cfg, u64 *now)
{
	struct px_proposer_info pi;
	struct px_proposer *p = kpx_proposer(test, cfg, 0);
	struct kpx_promise pr;
	u64 b = campaign(test, p, now);

	kpx_promise_init(test, &pr, 0, 0);
	promise_from(test, p, *now, 2, b, 1, &pr);
	promise_from(test, p, *now, 3, b, 1, &pr);
	info(p, &pi);
	KUNIT_ASSERT_EQ(test, pi.state, PX_LEADER);
	kpx_take(test, px_proposer_ready(p));
	return p;
}

/* The value of an ACCEPT (after its decided field and commit run). */
static const u8 *accept_value(struct kunit *test, const struct px_obuf *o,
			      u32 *len)
{
	KUNIT_ASSERT_GE(test, o->len,
			PAXOS_ACCEPT_HDR_LEN + PAXOS_BATCH_HDR_LEN);
	*len = o->len - PAXOS_ACCEPT_HDR_LEN;
	return o->body + PAXOS_ACCEPT_HDR_LEN;
}

/* The ACCEPT for instance @i in @rd (the last one if several), or NULL. */
static struct px_obuf *accept_for(const struct px_ready *rd, u64 i)
{
	struct px_obuf *o = NULL, *t;
	unsigned int k;

	for (k = 0; (t = kpx_find(rd, PAXOS_MSG_ACCEPT, k)); k++)
		if (t->instance == i)
			o = t;
	return o;
}

/* The ACCEPT for instance @i in @rd carries exactly @cmds. */
static void expect_accept(struct kunit *test, struct px_ready *rd, u64 i,
			  u64 b, const struct kpx_cmd *cmds, unsigned int n)
{
	struct px_obuf *o = accept_for(rd, i);
	struct px_cmd got[8];
	unsigned int k;
	const u8 *v;
	u32 len;

	KUNIT_ASSERT_NOT_NULL_MSG(test, o, "no ACCEPT for instance %llu", i);
	KUNIT_EXPECT_EQ(test, o->dst, PAXOS_NODE_ALL);
	KUNIT_EXPECT_EQ(test, o->ballot, b);
	v = accept_value(test, o, &len);
	KUNIT_ASSERT_EQ_MSG(test, kpx_value_cmds(v, len, got, 8), (int)n,
			    "instance %llu", i);
	for (k = 0; k < n; k++)
		KUNIT_EXPECT_TRUE_MSG(test, kpx_cmd_is(&got[k], &cmds[k]),
				      "instance %llu command %u", i, k);
}

/* ------------------------------------------------------------ election */

static void prop_election_timeout(struct kunit *test)
{
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	struct px_obuf *o;
	u64 t;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	t = px_proposer_next_deadline(p);
	/* Randomized in [election_us, 2 * election_us). */
	KUNIT_EXPECT_GE(test, t, (u64)cfg.election_us);
	KUNIT_EXPECT_LT(test, t, 2ull * cfg.election_us);

	px_proposer_tick(p, t - 1);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_FOLLOWER);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(px_proposer_ready(p)));

	px_proposer_tick(p, t);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_CANDIDATE);
	KUNIT_EXPECT_EQ(test, pi.ballot, B(1, 1));
	KUNIT_EXPECT_EQ(test, pi.stats.elections, 1ull);
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_PREPARE);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, PAXOS_NODE_ALL);
	KUNIT_EXPECT_EQ(test, o->ballot, B(1, 1));
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, o->len, 0u);

	/* Retransmitted every retransmit_us, same ballot. */
	px_proposer_tick(p, t + cfg.retransmit_us - 1);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(px_proposer_ready(p)));
	px_proposer_tick(p, t + cfg.retransmit_us);
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_PREPARE);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->ballot, B(1, 1));
}

/* A live leader's heartbeats keep a follower from campaigning. */
static void prop_heartbeat_defers_election(struct kunit *test)
{
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	u64 t, now;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	t = px_proposer_next_deadline(p);
	for (now = 0; now < 3 * t; now += cfg.heartbeat_us) {
		heartbeat_from(test, p, now, B(4, 2), 1, 0);
		px_proposer_tick(p, now);
	}
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_FOLLOWER);
	KUNIT_EXPECT_EQ(test, pi.leader, 2);
	KUNIT_EXPECT_EQ(test, pi.leader_ballot, B(4, 2));
	KUNIT_EXPECT_EQ(test, pi.stats.elections, 0ull);
	KUNIT_EXPECT_GE(test, px_proposer_next_deadline(p),
			now - cfg.heartbeat_us + cfg.election_us);
	/* When they stop, it campaigns above the ballot it saw. */
	KUNIT_EXPECT_EQ(test, campaign(test, p, &now), B(5, 1));
}

/* --------------------------------------------------------------- phase 1 */

/* Promises counted once per acceptor, only for our ballot and from. */
static void prop_phase1_quorum(struct kunit *test)
{
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct kpx_promise pr;
	struct px_ready *rd;
	struct px_obuf *o;
	u64 now, b;

	kpx_config(&cfg, 1, KPX_MEMBERS5);
	p = kpx_proposer(test, &cfg, 0);
	b = campaign(test, p, &now);
	kpx_promise_init(test, &pr, 0, 0);

	promise_from(test, p, now, 2, b, 1, &pr);
	promise_from(test, p, now, 2, b, 1, &pr);	/* repeated */
	promise_from(test, p, now, 3, B(0, 3), 1, &pr);	/* other ballot */
	promise_from(test, p, now, 4, b, 2, &pr);	/* other from */
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_CANDIDATE);
	promise_from(test, p, now, 3, b, 1, &pr);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_CANDIDATE);
	promise_from(test, p, now, 5, b, 1, &pr);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_LEADER);
	KUNIT_EXPECT_EQ(test, pi.leader, 1);
	KUNIT_EXPECT_EQ(test, pi.next, 1ull);

	/* Leader at once announces itself. */
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_HEARTBEAT);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->ballot, b);
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 0u);
}

/*
 * The new leader re-proposes, per instance, the value reported with the
 * highest accepted ballot whatever the order the promises arrive in, and a
 * no-op for a hole.
 */
static void prop_phase1_adopts_highest(struct kunit *test)
{
	static const struct kpx_cmd a = { 0xA, 1, "A" }, bb = { 0xB, 1, "B" };
	static const struct kpx_cmd x = { 0xC, 1, "X" };
	static const struct kpx_cmd y2 = { 0xD, 1, "Y2" };
	static const struct kpx_cmd y3 = { 0xD, 2, "Y3" };
	static const int orders[2][3] = { { 2, 3, 4 }, { 3, 4, 2 } };
	struct px_proposer_info pi;
	struct kpx_promise pr[5];
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	struct px_obuf *o;
	u32 la, lb, lx, ly2, ly3, lv;
	u8 *va = kpx_value(test, &a, 1, &la);
	u8 *vb = kpx_value(test, &bb, 1, &lb);
	u8 *vx = kpx_value(test, &x, 1, &lx);
	u8 *vy2 = kpx_value(test, &y2, 1, &ly2);
	u8 *vy3 = kpx_value(test, &y3, 1, &ly3);
	const u8 *v;
	u64 now, b;
	int k, i;

	for (k = 0; k < 2; k++) {
		kpx_config(&cfg, 1, KPX_MEMBERS5);
		p = kpx_proposer(test, &cfg, 0);
		/* Earlier leaders: 2 in round 2, then 3 in round 3. */
		heartbeat_from(test, p, 0, B(3, 3), 1, 0);
		b = campaign(test, p, &now);
		KUNIT_ASSERT_EQ(test, b, B(4, 1));

		kpx_promise_init(test, &pr[2], 0, 4);
		kpx_promise_add(&pr[2], 1, B(2, 2), va, la);
		kpx_promise_add(&pr[2], 3, B(2, 2), vx, lx);
		kpx_promise_add(&pr[2], 4, B(2, 2), vy2, ly2);
		kpx_promise_init(test, &pr[3], 0, 4);
		kpx_promise_add(&pr[3], 1, B(3, 3), vb, lb);
		kpx_promise_add(&pr[3], 4, B(3, 3), vy3, ly3);
		kpx_promise_init(test, &pr[4], 0, 1);
		kpx_promise_add(&pr[4], 1, B(2, 2), va, la);

		for (i = 0; i < 3; i++) {
			info(p, &pi);
			KUNIT_EXPECT_EQ(test, pi.state, PX_CANDIDATE);
			promise_from(test, p, now, orders[k][i], b, 1,
				     &pr[orders[k][i]]);
		}
		info(p, &pi);
		KUNIT_ASSERT_EQ(test, pi.state, PX_LEADER);
		KUNIT_EXPECT_EQ(test, pi.next, 5ull);
		KUNIT_EXPECT_EQ(test, pi.stats.noops, 1ull);

		rd = kpx_take(test, px_proposer_ready(p));
		KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 4u);
		expect_accept(test, rd, 1, b, &bb, 1);
		expect_accept(test, rd, 2, b, NULL, 0);	/* hole: no-op */
		expect_accept(test, rd, 3, b, &x, 1);
		expect_accept(test, rd, 4, b, &y3, 1);
		/* In instance order, each carrying decided = 0. */
		for (i = 0; i < 4; i++) {
			o = kpx_find(rd, PAXOS_MSG_ACCEPT, i);
			KUNIT_ASSERT_NOT_NULL(test, o);
			KUNIT_EXPECT_EQ(test, o->instance, (u64)i + 1);
			KUNIT_EXPECT_EQ(test, px_get_be64(o->body), 0ull);
		}
		/* The no-op: an empty batch. */
		o = accept_for(rd, 2);
		KUNIT_ASSERT_NOT_NULL(test, o);
		v = accept_value(test, o, &lv);
		KUNIT_EXPECT_EQ(test, lv, (u32)PAXOS_BATCH_HDR_LEN);
		KUNIT_EXPECT_EQ(test, px_get_be32(v), 0u);
	}
}

/* Instances at or below an acceptor's trim are decided: not re-proposed. */
static void prop_phase1_skips_trimmed(struct kunit *test)
{
	static const struct kpx_cmd d4 = { 4, 4, "D4" }, d6 = { 6, 6, "D6" };
	static const struct kpx_cmd d7 = { 7, 7, "D7" };
	struct px_proposer_info pi;
	struct kpx_promise p2, p3;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	u32 l4, l6, l7;
	u8 *v4 = kpx_value(test, &d4, 1, &l4);
	u8 *v6 = kpx_value(test, &d6, 1, &l6);
	u8 *v7 = kpx_value(test, &d7, 1, &l7);
	u64 now, b;
	int i;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	heartbeat_from(test, p, 0, B(2, 3), 1, 0);
	b = campaign(test, p, &now);
	kpx_promise_init(test, &p2, 5, 5);
	kpx_promise_init(test, &p3, 2, 7);
	kpx_promise_add(&p3, 4, B(2, 3), v4, l4);
	kpx_promise_add(&p3, 6, B(2, 3), v6, l6);
	kpx_promise_add(&p3, 7, B(2, 3), v7, l7);
	/* A learner at the trim: the configurations up to it are known. */
	step(test, p, now, kpx_msg(PAXOS_MSG_STATUS, 3, PAXOS_NODE_ALL, 0, 5,
				   NULL, 0));
	promise_from(test, p, now, 3, b, 1, &p3);
	promise_from(test, p, now, 2, b, 1, &p2);

	info(p, &pi);
	KUNIT_ASSERT_EQ(test, pi.state, PX_LEADER);
	KUNIT_EXPECT_EQ(test, pi.decided, 5ull);
	KUNIT_EXPECT_EQ(test, pi.next, 8ull);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_ASSERT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 2u);
	expect_accept(test, rd, 6, b, &d6, 1);
	expect_accept(test, rd, 7, b, &d7, 1);
	/* Each announces decided = 5. */
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, px_get_be64(kpx_find(rd, PAXOS_MSG_ACCEPT,
							   i)->body), 5ull);
}

/* ------------------------------------------------------------ phase 2 */

static void prop_batching(struct kunit *test)
{
	static const struct kpx_cmd c1 = { 0x77, 1, "first" };
	static const struct kpx_cmd c23[] = {
		{ 0x77, 2, "second" }, { 0x88, 1, "other client" },
	};
	struct kpx_cmd big[4];
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	struct px_obuf *o;
	char *blob;
	u64 t, b;
	int i;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = new_leader(test, &cfg, &t);
	info(p, &pi);
	b = pi.ballot;

	/* Idle pipeline: a lone command goes out at once. */
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, c1.client_id, c1.seq,
						  c1.data, 5), 0);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 1u);
	expect_accept(test, rd, 1, b, &c1, 1);

	/* Busy: commands wait up to batch_delay_us and share an instance. */
	for (i = 0; i < 2; i++)
		KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t + 10,
				c23[i].client_id, c23[i].seq, c23[i].data,
				strlen(c23[i].data)), 0);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.queued_bytes, 2u * PAXOS_CMD_HDR_LEN + 6 + 12);
	px_proposer_tick(p, t + 10 + cfg.batch_delay_us - 1);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 0u);
	KUNIT_EXPECT_EQ(test, px_proposer_next_deadline(p),
			t + 10 + cfg.batch_delay_us);
	px_proposer_tick(p, t + 10 + cfg.batch_delay_us);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 1u);
	expect_accept(test, rd, 2, b, c23, 2);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.queued_bytes, 0u);

	/* A batch is cut as soon as batch_bytes is reached. */
	blob = kunit_kzalloc(test, 1001, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, blob);
	memset(blob, 'z', 1000);
	t += 20000;
	for (i = 0; i < 4; i++) {
		big[i].client_id = 0x99;
		big[i].seq = i + 1;
		big[i].data = blob;
		KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 0x99, i + 1,
							  blob, 1000), 0);
		rd = kpx_take(test, px_proposer_ready(p));
		/* 4 + 4 * (24 + 1000) > 4096: due at the fourth. */
		KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT),
				i == 3 ? 1u : 0u);
	}
	/* ...with as many commands as fit in batch_bytes. */
	expect_accept(test, rd, 3, b, big, 3);
	o = kpx_find(rd, PAXOS_MSG_ACCEPT, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_LE(test, o->len - 8, cfg.batch_bytes);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.queued_bytes, PAXOS_CMD_HDR_LEN + 1000u);
	KUNIT_EXPECT_EQ(test, pi.stats.batches, 3ull);
	KUNIT_EXPECT_EQ(test, pi.stats.cmds, 7ull);
}

/* At most `window` instances in flight; a quorum of ACCEPTED slides it. */
static void prop_window(struct kunit *test)
{
	static const struct kpx_cmd c[] = {
		{ 5, 1, "c1" }, { 5, 2, "c2" }, { 5, 3, "c3" },
	};
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	u64 t, b;
	int i;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	cfg.window = 2;
	p = new_leader(test, &cfg, &t);
	info(p, &pi);
	b = pi.ballot;
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 5, i + 1,
							  c[i].data, 2), 0);
		t += cfg.batch_delay_us;
		px_proposer_tick(p, t);
	}
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 2u);
	expect_accept(test, rd, 1, b, &c[0], 1);
	expect_accept(test, rd, 2, b, &c[1], 1);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.next, 3ull);

	/* One vote (ours or another's) is not a quorum of 2... */
	accepted_from(test, p, t, 2, b, 1);
	/* ...and a vote for another ballot does not count. */
	accepted_from(test, p, t, 3, B(0, 3), 1);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.decided, 0ull);
	KUNIT_EXPECT_EQ(test, kpx_count(px_proposer_ready(p),
					PAXOS_MSG_ACCEPT), 0u);
	accepted_from(test, p, t, 3, b, 1);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.decided, 1ull);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 1u);
	expect_accept(test, rd, 3, b, &c[2], 1);
	/* The new ACCEPT announces decided = 1. */
	KUNIT_EXPECT_EQ(test, px_get_be64(kpx_find(rd, PAXOS_MSG_ACCEPT,
						   0)->body), 1ull);

	/* Out of order: 3 chosen before 2 does not move decided past 1. */
	accepted_from(test, p, t, 2, b, 3);
	accepted_from(test, p, t, 3, b, 3);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.decided, 1ull);
	accepted_from(test, p, t, 1, b, 2);
	accepted_from(test, p, t, 2, b, 2);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.decided, 3ull);
}

static void prop_retransmit(struct kunit *test)
{
	static const struct kpx_cmd c = { 9, 1, "again" };
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	u64 t, b;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	cfg.heartbeat_us = 1000000;	/* keep heartbeats out of the way */
	cfg.election_us = 2000000;
	p = new_leader(test, &cfg, &t);
	info(p, &pi);
	b = pi.ballot;
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 9, 1, "again", 5), 0);
	kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, px_proposer_next_deadline(p),
			t + cfg.retransmit_us);

	px_proposer_tick(p, t + cfg.retransmit_us - 1);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(px_proposer_ready(p)));
	px_proposer_tick(p, t + cfg.retransmit_us);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 1u);
	expect_accept(test, rd, 1, b, &c, 1);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.stats.retransmits, 1ull);

	/* Chosen: never sent again. */
	accepted_from(test, p, t, 2, b, 1);
	accepted_from(test, p, t, 3, b, 1);
	px_proposer_tick(p, t + 5 * cfg.retransmit_us);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPT), 0u);
}

/* HEARTBEAT: next, decided, and trim = min delivered of live learners. */
static void prop_heartbeat_trim(struct kunit *test)
{
	struct px_proposer_info pi;
	struct kpx_promise pr;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	struct px_obuf *o;
	u64 t, b;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	b = campaign(test, p, &t);
	kpx_promise_init(test, &pr, 10, 10);	/* 1..10 known decided */
	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 3, PAXOS_NODE_ALL, 0, 10,
				 NULL, 0));
	promise_from(test, p, t, 2, b, 1, &pr);
	promise_from(test, p, t, 3, b, 1, &pr);
	info(p, &pi);
	KUNIT_ASSERT_EQ(test, pi.state, PX_LEADER);
	KUNIT_ASSERT_EQ(test, pi.decided, 10ull);
	kpx_take(test, px_proposer_ready(p));

	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 1, PAXOS_NODE_ALL, 0, 7,
				 NULL, 0));
	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 2, PAXOS_NODE_ALL, 0, 4,
				 NULL, 0));
	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 3, PAXOS_NODE_ALL, 0, 9,
				 NULL, 0));
	t += cfg.heartbeat_us;
	px_proposer_tick(p, t);
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_HEARTBEAT);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->ballot, b);
	KUNIT_EXPECT_EQ(test, o->instance, 11ull);
	KUNIT_ASSERT_EQ(test, o->len, PAXOS_HEARTBEAT_LEN);
	KUNIT_EXPECT_EQ(test, px_get_be64(o->body), 10ull);
	KUNIT_EXPECT_EQ(test, px_get_be64(o->body + 8), 4ull);

	/* Node 2 silent for over 4 election timeouts: no longer holds it. */
	t += 4ull * cfg.election_us + 1;
	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 1, PAXOS_NODE_ALL, 0, 8,
				 NULL, 0));
	step(test, p, t, kpx_msg(PAXOS_MSG_STATUS, 3, PAXOS_NODE_ALL, 0, 9,
				 NULL, 0));
	px_proposer_tick(p, t);
	rd = kpx_take(test, px_proposer_ready(p));
	o = only(test, rd, PAXOS_MSG_HEARTBEAT);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, px_get_be64(o->body + 8), 8ull);
}

/* ------------------------------------------------ leadership, forwarding */

static void prop_step_down(struct kunit *test)
{
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	u64 t, b;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = new_leader(test, &cfg, &t);
	info(p, &pi);
	b = pi.ballot;
	/* A NACK of a lower ballot changes nothing. */
	step(test, p, t, kpx_msg(PAXOS_MSG_NACK, 2, 1, B(0, 3), 1, NULL, 0));
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_LEADER);
	/* A higher one deposes us. */
	step(test, p, t, kpx_msg(PAXOS_MSG_NACK, 2, 1, B(2, 3), 1, NULL, 0));
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_FOLLOWER);
	KUNIT_EXPECT_EQ(test, pi.leader, 3);
	KUNIT_EXPECT_EQ(test, pi.stats.nacks, 2ull);
	/* The next campaign goes above what the NACK reported. */
	KUNIT_EXPECT_EQ(test, campaign(test, p, &t), B(3, 1));

	/* A leader hearing a higher HEARTBEAT steps down too. */
	p = new_leader(test, &cfg, &t);
	info(p, &pi);
	KUNIT_ASSERT_EQ(test, pi.ballot, b);
	heartbeat_from(test, p, t, B(1, 2), 1, 0);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.state, PX_FOLLOWER);
	KUNIT_EXPECT_EQ(test, pi.leader, 2);
}

static void prop_forwarding(struct kunit *test)
{
	static const struct kpx_cmd c[] = {
		{ 0x10, 1, "to the leader" }, { 0x10, 2, "me too" },
	};
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	struct px_ready *rd;
	struct px_obuf *o;
	struct px_cmd got[4];
	struct px_msg m;
	u32 len;
	u8 *v;
	u64 t;

	/* A follower with no known leader keeps commands queued. */
	kpx_config(&cfg, 3, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, 5, 0x10, 1, c[0].data,
						  strlen(c[0].data)), 0);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(px_proposer_ready(p)));
	/* Once a leader is known, they go to it in FORWARD. */
	heartbeat_from(test, p, 10, B(1, 1), 1, 0);
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, 11, 0x10, 2, c[1].data,
						  strlen(c[1].data)), 0);
	rd = kpx_take(test, px_proposer_ready(p));
	KUNIT_ASSERT_GE(test, kpx_count(rd, PAXOS_MSG_FORWARD), 1u);
	o = kpx_find(rd, PAXOS_MSG_FORWARD, 0);
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	KUNIT_ASSERT_EQ(test, kpx_value_cmds(o->body, o->len, got, 4), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c[0]));
	o = kpx_find(rd, PAXOS_MSG_FORWARD, 1);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_ASSERT_EQ(test, kpx_value_cmds(o->body, o->len, got, 4), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c[1]));
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.queued_bytes, 0u);
	KUNIT_EXPECT_EQ(test, pi.stats.forwarded, 2ull);

	/* The leader proposes forwarded commands like its own. */
	kpx_config(&cfg, 1, KPX_MEMBERS3);
	p = new_leader(test, &cfg, &t);
	v = kpx_value(test, c, 2, &len);
	step(test, p, t, kpx_msg(PAXOS_MSG_FORWARD, 3, 1, 0, 0, v, len));
	rd = kpx_take(test, px_proposer_ready(p));
	info(p, &pi);
	expect_accept(test, rd, 1, pi.ballot, c, 2);
	/* A malformed FORWARD is refused. */
	m = kpx_msg(PAXOS_MSG_FORWARD, 3, 1, 0, 0, v, len - 1);
	KUNIT_EXPECT_EQ(test, px_proposer_step(p, t, &m), -EINVAL);
}

static void prop_propose_limits(struct kunit *test)
{
	struct px_proposer_info pi;
	struct px_config cfg;
	struct px_proposer *p;
	u8 *data = kunit_kzalloc(test, PAXOS_MAX_CMD + 1, GFP_KERNEL);
	u32 per = PAXOS_CMD_HDR_LEN + PAXOS_MAX_CMD, fit, i;

	KUNIT_ASSERT_NOT_NULL(test, data);
	kpx_config(&cfg, 2, KPX_MEMBERS3);
	p = kpx_proposer(test, &cfg, 0);
	KUNIT_EXPECT_EQ(test, px_proposer_propose(p, 1, 1, 1, data,
						  PAXOS_MAX_CMD + 1),
			-EMSGSIZE);
	fit = cfg.queue_bytes / per;
	for (i = 0; i < fit; i++)
		KUNIT_EXPECT_EQ(test, px_proposer_propose(p, 1, 1, i + 1, data,
							  PAXOS_MAX_CMD), 0);
	KUNIT_EXPECT_EQ(test, px_proposer_propose(p, 1, 1, fit + 1, data,
						  PAXOS_MAX_CMD), -EAGAIN);
	info(p, &pi);
	KUNIT_EXPECT_EQ(test, pi.queued_bytes, fit * per);
	KUNIT_EXPECT_EQ(test, pi.stats.queue_full, 1ull);
	KUNIT_EXPECT_EQ(test, pi.stats.cmds, (u64)fit);
}

/* ------------------------------------------- batch through fragments */

/*
 * A leader's batch larger than the MTU: split into frames, reassembled at
 * node 2, accepted by its acceptor and delivered intact by its learner.
 */
static void prop_batch_fragments_end_to_end(struct kunit *test)
{
	const u32 big_len = 5000;
	struct px_wire_cfg tx = {
		.cluster_id = 1, .group_id = 1, .self = 1,
		.members = KPX_MEMBERS3, .mtu = 1500,
	};
	struct px_wire_cfg rx = tx;
	struct kpx_cmd c[2] = { { 0xF00D, 1, NULL }, { 0xF00D, 2, "tail" } };
	struct px_proposer_info pi;
	struct px_learner_info li;
	struct px_config cfg, cfg2;
	struct px_proposer *p;
	struct px_acceptor *a;
	struct px_learner *l;
	struct px_reasm *r;
	struct px_ready *rd, *ra;
	struct px_obuf *o;
	struct px_frame f;
	struct px_msg m;
	struct px_cmd got[4];
	const u8 *v;
	char *big;
	u8 *frame;
	u32 n, i, vlen;
	u64 t;
	int ret;

	big = kunit_kzalloc(test, big_len + 1, GFP_KERNEL);
	frame = kunit_kzalloc(test, 1500, GFP_KERNEL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_NOT_NULL(test, frame);
	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < big_len; i++)
		big[i] = 'a' + i % 26;
	c[0].data = big;

	kpx_config(&cfg, 1, KPX_MEMBERS3);
	cfg.batch_bytes = 8192;
	kpx_config(&cfg2, 2, KPX_MEMBERS3);
	p = new_leader(test, &cfg, &t);
	a = kpx_acceptor(test, &cfg2);
	l = kpx_learner(test, &cfg2, t);
	info(p, &pi);

	/* Pipeline busy with instance 1, so both commands share instance 2. */
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 0xF00D, 0, "x", 1), 0);
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 0xF00D, 1, big,
						  big_len), 0);
	KUNIT_ASSERT_EQ(test, px_proposer_propose(p, t, 0xF00D, 2, "tail", 4),
			0);
	px_proposer_tick(p, t + cfg.batch_delay_us);
	rd = kpx_take(test, px_proposer_ready(p));
	expect_accept(test, rd, 2, pi.ballot, c, 2);
	o = accept_for(rd, 2);
	KUNIT_ASSERT_NOT_NULL(test, o);

	m = kpx_msg(o->type, 1, o->dst, o->ballot, o->instance, o->body,
		    o->len);
	n = px_wire_frames(tx.mtu, m.len, false);
	KUNIT_ASSERT_EQ(test, n, DIV_ROUND_UP(m.len, 1500 -
					      PAXOS_FRAME_HDR_LEN));
	KUNIT_ASSERT_GT(test, n, 1u);
	rx.self = 2;
	px_reasm_init(r);
	for (i = 0; i < n; i++) {
		int len = px_wire_encode(&tx, &m, 42, i, frame);

		KUNIT_ASSERT_GT(test, len, 0);
		KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, frame, len, &f), 0);
		ret = px_reasm_add(r, t, &f, &m);
		KUNIT_ASSERT_EQ(test, ret, i == n - 1 ? 1 : 0);
	}
	KUNIT_ASSERT_EQ(test, m.type, PAXOS_MSG_ACCEPT);
	KUNIT_ASSERT_EQ(test, m.instance, 2ull);

	/* Node 2's acceptor takes it; its learner too. */
	KUNIT_ASSERT_EQ(test, px_acceptor_step(a, &m), 0);
	ra = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, kpx_count(ra, PAXOS_MSG_ACCEPTED), 1u);
	KUNIT_ASSERT_EQ(test, px_learner_step(l, t, &m), 0);
	px_reasm_uninit(r);

	/* Instance 1 as well, then quorums for both. */
	o = accept_for(rd, 1);
	KUNIT_ASSERT_NOT_NULL(test, o);
	m = kpx_msg_of(o, 1);
	KUNIT_ASSERT_EQ(test, px_learner_step(l, t, &m), 0);
	for (i = 1; i <= 2; i++) {
		m = kpx_msg(PAXOS_MSG_ACCEPTED, 1, PAXOS_NODE_ALL, pi.ballot, i,
			    NULL, 0);
		KUNIT_ASSERT_EQ(test, px_learner_step(l, t, &m), 0);
		m.src = 2;
		KUNIT_ASSERT_EQ(test, px_learner_step(l, t, &m), 0);
	}
	px_learner_info(l, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, 2ull);
	v = px_learner_value(l, 2, &vlen, NULL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_EQ(test, kpx_value_cmds(v, vlen, got, 4), 2);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c[0]));
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[1], &c[1]));
}

static struct kunit_case proposer_cases[] = {
	KUNIT_CASE(prop_election_timeout),
	KUNIT_CASE(prop_heartbeat_defers_election),
	KUNIT_CASE(prop_phase1_quorum),
	KUNIT_CASE(prop_phase1_adopts_highest),
	KUNIT_CASE(prop_phase1_skips_trimmed),
	KUNIT_CASE(prop_batching),
	KUNIT_CASE(prop_window),
	KUNIT_CASE(prop_retransmit),
	KUNIT_CASE(prop_heartbeat_trim),
	KUNIT_CASE(prop_step_down),
	KUNIT_CASE(prop_forwarding),
	KUNIT_CASE(prop_propose_limits),
	KUNIT_CASE(prop_batch_fragments_end_to_end),
	{}
};

static struct kunit_suite proposer_suite = {
	.name = "kpaxos_proposer",
	.test_cases = proposer_cases,
};

kunit_test_suite(proposer_suite);
