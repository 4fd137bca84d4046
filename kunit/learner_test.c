// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the learner (kmod/core/learner.c) - in-order delivery, decisions
 * from votes and values, gap requests (LEARN_REQ after catchup_us), serving
 * peers' catch-up, retention, exactly-once dedup, and snapshots (points,
 * put, serving a lagging peer, install).
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "px_kunit.h"

#define B(round, node)	px_ballot_make(round, node)

struct lt {
	struct kunit *test;
	struct px_config cfg;
	struct px_learner *l;
};

/* The learner of node 3 of {1, 2, 3}, created at time 0. */
static void lt_init(struct kunit *test, struct lt *lt)
{
	lt->test = test;
	kpx_config(&lt->cfg, 3, KPX_MEMBERS3);
	lt->l = kpx_learner(test, &lt->cfg, 0);
}

static int lt_step(struct lt *lt, u64 now, struct px_msg m)
{
	return px_learner_step(lt->l, now, &m);
}

static void accept_v(struct lt *lt, u64 now, u64 b, u64 i, u64 decided,
		     const u8 *v, u32 vlen)
{
	u32 len;
	u8 *body = kpx_accept_body(lt->test, decided, v, vlen, &len);

	KUNIT_ASSERT_EQ(lt->test, lt_step(lt, now,
		kpx_msg(PAXOS_MSG_ACCEPT, px_ballot_node(b), PAXOS_NODE_ALL, b,
			i, body, len)), 0);
}

/* ACCEPT(b, i) of one command (client, seq, data). */
static void accept_cmd(struct lt *lt, u64 now, u64 b, u64 i,
		       const struct kpx_cmd *c)
{
	u32 vlen;
	u8 *v = kpx_value(lt->test, c, 1, &vlen);

	accept_v(lt, now, b, i, 0, v, vlen);
}

static void accepted(struct lt *lt, u64 now, u8 src, u64 b, u64 i)
{
	KUNIT_ASSERT_EQ(lt->test, lt_step(lt, now,
		kpx_msg(PAXOS_MSG_ACCEPTED, src, PAXOS_NODE_ALL, b, i,
			NULL, 0)), 0);
}

static void chosen(struct lt *lt, u64 now, u8 src, u64 b, u64 i,
		   const u8 *v, u32 vlen)
{
	KUNIT_ASSERT_EQ(lt->test, lt_step(lt, now,
		kpx_msg(PAXOS_MSG_CHOSEN, src, 3, b, i, v, vlen)), 0);
}

static void heartbeat(struct lt *lt, u64 now, u64 b, u64 decided)
{
	u32 len;
	u8 *body = kpx_heartbeat_body(lt->test, decided, 0, &len);

	KUNIT_ASSERT_EQ(lt->test, lt_step(lt, now,
		kpx_msg(PAXOS_MSG_HEARTBEAT, px_ballot_node(b), PAXOS_NODE_ALL,
			b, decided + 1, body, len)), 0);
}

static u64 delivered(struct lt *lt)
{
	struct px_learner_info li;

	px_learner_info(lt->l, &li);
	return li.delivered;
}

/* The commands of delivered instance @i, dup flags included. */
static int delivered_cmds(struct lt *lt, u64 i, struct px_cmd *c, int max)
{
	const u8 *v;
	bool gone;
	u32 len;

	v = px_learner_value(lt->l, i, &len, &gone);
	KUNIT_ASSERT_NOT_NULL_MSG(lt->test, v, "instance %llu", i);
	KUNIT_EXPECT_FALSE(lt->test, gone);
	return kpx_value_cmds(v, len, c, max);
}

/* ------------------------------------------------------------ ordering */

static void learn_in_order(struct kunit *test)
{
	static const struct kpx_cmd c1 = { 1, 1, "one" }, c2 = { 1, 2, "two" };
	struct px_learner_info li;
	struct px_cmd got[2];
	struct px_ready *rd;
	struct lt lt;
	bool gone;

	lt_init(test, &lt);
	/* Instance 2 decided first: held back until 1 is. */
	accept_cmd(&lt, 10, B(1, 1), 2, &c2);
	accepted(&lt, 11, 1, B(1, 1), 2);
	accepted(&lt, 12, 2, B(1, 1), 2);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, 0ull);
	KUNIT_EXPECT_EQ(test, li.committed, 0ull);
	KUNIT_EXPECT_EQ(test, li.last, 2ull);
	KUNIT_EXPECT_NULL(test, px_learner_value(lt.l, 2, NULL, &gone));
	KUNIT_EXPECT_FALSE(test, gone);

	/* One vote for instance 1 is not a quorum. */
	accept_cmd(&lt, 13, B(1, 1), 1, &c1);
	accepted(&lt, 14, 2, B(1, 1), 1);
	accepted(&lt, 15, 2, B(1, 1), 1);	/* same voter twice */
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
	accepted(&lt, 16, 3, B(1, 1), 1);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, 2ull);
	KUNIT_EXPECT_EQ(test, li.committed, 2ull);
	KUNIT_EXPECT_EQ(test, li.stats.delivered_instances, 2ull);
	KUNIT_EXPECT_EQ(test, li.stats.delivered_cmds, 2ull);
	rd = kpx_take(test, px_learner_ready(lt.l));
	KUNIT_EXPECT_EQ(test, rd->delivered, 2ull);

	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 1, got, 2), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c1));
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 2, got, 2), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c2));
	/* Not yet delivered: NULL, but not gone. */
	KUNIT_EXPECT_NULL(test, px_learner_value(lt.l, 3, NULL, &gone));
	KUNIT_EXPECT_FALSE(test, gone);
}

/* Votes may arrive before the value; CHOSEN decides directly. */
static void learn_votes_then_value(struct kunit *test)
{
	static const struct kpx_cmd c1 = { 1, 1, "v1" }, c2 = { 1, 2, "v2" };
	struct px_cmd got[2];
	struct lt lt;
	u32 len;
	u8 *v;

	lt_init(test, &lt);
	accepted(&lt, 1, 1, B(1, 1), 1);
	accepted(&lt, 2, 2, B(1, 1), 1);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
	accept_cmd(&lt, 3, B(1, 1), 1, &c1);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 1ull);

	v = kpx_value(test, &c2, 1, &len);
	chosen(&lt, 4, 2, B(1, 1), 2, v, len);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 2ull);
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 2, got, 2), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c2));
}

/*
 * Votes for a higher ballot than the value held: that value may not be the
 * chosen one; wait for the value of the voted ballot.
 */
static void learn_value_of_voted_ballot(struct kunit *test)
{
	static const struct kpx_cmd old = { 1, 1, "old" };
	static const struct kpx_cmd new = { 2, 1, "new" };
	struct px_cmd got[2];
	struct lt lt;

	lt_init(test, &lt);
	accept_cmd(&lt, 1, B(1, 1), 1, &old);
	accepted(&lt, 2, 1, B(2, 2), 1);
	accepted(&lt, 3, 2, B(2, 2), 1);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
	/* A late ACCEPT of an even older ballot does not help either. */
	accept_cmd(&lt, 4, B(0, 3), 1, &old);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
	accept_cmd(&lt, 5, B(2, 2), 1, &new);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 1ull);
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 1, got, 2), 1);
	KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &new));

	/* Votes of an older ballot than the ones counted are ignored. */
	accept_cmd(&lt, 6, B(3, 1), 2, &old);
	accepted(&lt, 7, 1, B(3, 1), 2);
	accepted(&lt, 8, 2, B(2, 2), 2);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 1ull);
	accepted(&lt, 9, 3, B(3, 1), 2);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 2ull);
}

/* --------------------------------------------------------------- gaps */

static struct px_obuf *learn_req(struct kunit *test, struct px_learner *l,
				 u64 now)
{
	struct px_ready *rd;

	px_learner_tick(l, now);
	rd = kpx_take(test, px_learner_ready(l));
	KUNIT_EXPECT_LE(test, kpx_count(rd, PAXOS_MSG_LEARN_REQ), 1u);
	return kpx_find(rd, PAXOS_MSG_LEARN_REQ, 0);
}

/* A gap announced by a HEARTBEAT is requested after catchup_us. */
static void learn_gap_request_after_catchup(struct kunit *test)
{
	struct px_learner_info li;
	struct px_obuf *o;
	struct lt lt;
	u64 t0 = 1000, i;
	u32 len;
	u8 *v;

	lt_init(test, &lt);
	/* No gap, no request, however long we wait. */
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l, t0));
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l, t0 + 10 *
					  lt.cfg.catchup_us));

	t0 += 10 * lt.cfg.catchup_us;
	heartbeat(&lt, t0, B(1, 1), 5);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.last, 5ull);
	KUNIT_EXPECT_LE(test, px_learner_next_deadline(lt.l),
			t0 + lt.cfg.catchup_us);
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l,
					  t0 + lt.cfg.catchup_us - 1));
	o = learn_req(test, lt.l, t0 + lt.cfg.catchup_us);
	KUNIT_ASSERT_NOT_NULL(test, o);
	/* To the leader, [delivered + 1, known]. */
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_ASSERT_EQ(test, o->len, 8u);
	KUNIT_EXPECT_EQ(test, px_get_be64(o->body), 5ull);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.stats.catchup_reqs, 1ull);
	/* Not repeated before another catchup_us without progress. */
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l,
					  t0 + 2 * lt.cfg.catchup_us - 1));

	/* The answers fill the gap. */
	v = kpx_noop(test, &len);
	for (i = 1; i <= 5; i++)
		chosen(&lt, t0 + lt.cfg.catchup_us + i, 1, B(1, 1), i, v, len);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, 5ull);
	KUNIT_EXPECT_EQ(test, li.stats.noops, 5ull);
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l, t0 + 10 *
					  lt.cfg.catchup_us));
}

/* A gap found by an ACCEPTED quorum beyond delivered + 1. */
static void learn_gap_from_votes(struct kunit *test)
{
	static const struct kpx_cmd c = { 1, 3, "three" };
	struct px_obuf *o;
	struct lt lt;

	lt_init(test, &lt);
	accept_cmd(&lt, 100, B(1, 2), 3, &c);
	accepted(&lt, 100, 1, B(1, 2), 3);
	accepted(&lt, 100, 2, B(1, 2), 3);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
	KUNIT_EXPECT_NULL(test, learn_req(test, lt.l,
					  100 + lt.cfg.catchup_us - 1));
	o = learn_req(test, lt.l, 100 + lt.cfg.catchup_us);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, px_get_be64(o->body), 3ull);
	/* The leader (ballot of node 2) is asked first. */
	KUNIT_EXPECT_EQ(test, o->dst, 2);
}

/* A peer's LEARN_REQ is answered with CHOSEN for what is retained. */
static void learn_serves_catchup(struct kunit *test)
{
	static const struct kpx_cmd c[] = {
		{ 4, 1, "a" }, { 4, 2, "b" }, { 4, 1, "a" },
	};
	struct px_learner_info li;
	struct px_cmd got[2];
	struct px_ready *rd;
	struct px_obuf *o;
	struct lt lt;
	u32 len;
	u8 *body;
	u64 i;

	lt_init(test, &lt);
	for (i = 1; i <= 3; i++) {
		accept_cmd(&lt, i, B(1, 1), i, &c[i - 1]);
		accepted(&lt, i, 1, B(1, 1), i);
		accepted(&lt, i, 3, B(1, 1), i);
	}
	KUNIT_ASSERT_EQ(test, delivered(&lt), 3ull);
	kpx_take(test, px_learner_ready(lt.l));

	body = kpx_learn_req_body(test, 10, &len);
	KUNIT_ASSERT_EQ(test, lt_step(&lt, 5, kpx_msg(PAXOS_MSG_LEARN_REQ, 2,
						      3, 0, 2, body, len)), 0);
	rd = kpx_take(test, px_learner_ready(lt.l));
	KUNIT_ASSERT_EQ(test, kpx_count(rd, PAXOS_MSG_CHOSEN), 2u);
	for (i = 0; i < 2; i++) {
		o = kpx_find(rd, PAXOS_MSG_CHOSEN, i);
		KUNIT_EXPECT_EQ(test, o->dst, 2);
		KUNIT_EXPECT_EQ(test, o->instance, i + 2);
		KUNIT_EXPECT_EQ(test, o->ballot, B(1, 1));
		KUNIT_ASSERT_EQ(test, kpx_value_cmds(o->body, o->len, got, 2),
				1);
		KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &c[i + 1]));
		/* Instance 3 is a retry here, but flags are 0 on the wire. */
		KUNIT_EXPECT_FALSE(test, got[0].dup);
	}
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.stats.catchup_served, 2ull);

	/* to < from is malformed. */
	body = kpx_learn_req_body(test, 1, &len);
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 6, kpx_msg(PAXOS_MSG_LEARN_REQ, 2,
						      3, 0, 2, body, len)),
			-EINVAL);
}

/* Delivered values are retained for learner_slots instances. */
static void learn_retention(struct kunit *test)
{
	struct px_learner_info li;
	struct lt lt;
	bool gone;
	u32 len, n;
	u8 *v;
	u64 i;

	lt_init(test, &lt);
	n = lt.cfg.learner_slots + 6;
	v = kpx_noop(test, &len);
	for (i = 1; i <= n; i++)
		chosen(&lt, i, 1, B(1, 1), i, v, len);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, (u64)n);
	KUNIT_EXPECT_EQ(test, li.first, (u64)n - lt.cfg.learner_slots + 1);
	KUNIT_EXPECT_NULL(test, px_learner_value(lt.l, li.first - 1, &len,
						 &gone));
	KUNIT_EXPECT_TRUE(test, gone);
	KUNIT_EXPECT_NOT_NULL(test, px_learner_value(lt.l, li.first, &len,
						     &gone));
	KUNIT_EXPECT_FALSE(test, gone);
	KUNIT_EXPECT_NOT_NULL(test, px_learner_value(lt.l, n, &len, &gone));

	/* Beyond delivered + learner_slots: ignored, counted. */
	chosen(&lt, n + 1, 1, B(1, 1), 2ull * n + 100, v, len);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.stats.ignored, 1ull);
	KUNIT_EXPECT_EQ(test, li.delivered, (u64)n);
}

static void learn_status(struct kunit *test)
{
	struct px_ready *rd;
	struct px_obuf *o;
	struct lt lt;
	u32 len;
	u8 *v;

	lt_init(test, &lt);
	v = kpx_noop(test, &len);
	chosen(&lt, 1, 1, B(1, 1), 1, v, len);
	px_learner_tick(lt.l, lt.cfg.heartbeat_us - 1);
	KUNIT_EXPECT_EQ(test, kpx_count(px_learner_ready(lt.l),
					PAXOS_MSG_STATUS), 0u);
	px_learner_tick(lt.l, lt.cfg.heartbeat_us);
	rd = kpx_take(test, px_learner_ready(lt.l));
	o = kpx_find(rd, PAXOS_MSG_STATUS, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, PAXOS_NODE_ALL);
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, o->len, 0u);
	px_learner_tick(lt.l, 2 * lt.cfg.heartbeat_us - 1);
	KUNIT_EXPECT_EQ(test, kpx_count(px_learner_ready(lt.l),
					PAXOS_MSG_STATUS), 0u);
	px_learner_tick(lt.l, 2 * lt.cfg.heartbeat_us);
	KUNIT_EXPECT_EQ(test, kpx_count(px_learner_ready(lt.l),
					PAXOS_MSG_STATUS), 1u);
}

static void learn_rejects_malformed(struct kunit *test)
{
	static const struct kpx_cmd c = { 1, 1, "x" };
	struct lt lt;
	u32 vlen, blen;
	u8 *v, *body, *hb;

	lt_init(test, &lt);
	v = kpx_value(test, &c, 1, &vlen);
	body = kpx_accept_body(test, 0, v, vlen, &blen);
	/* ACCEPT with a value cut short, or with a ballot not its sender's. */
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_ACCEPT, 1,
		PAXOS_NODE_ALL, B(1, 1), 1, body, blen - 1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_ACCEPT, 2,
		PAXOS_NODE_ALL, B(1, 1), 1, body, blen)), -EINVAL);
	/*
	 * ACCEPTED with a body, from no node (a non-member's vote is kept
	 * for the configuration of its instance), with ballot 0.
	 */
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_ACCEPTED, 1,
		PAXOS_NODE_ALL, B(1, 1), 1, body, 8)), -EINVAL);
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_ACCEPTED, 0,
		PAXOS_NODE_ALL, B(1, 1), 1, NULL, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_ACCEPTED, 1,
		PAXOS_NODE_ALL, 0, 1, NULL, 0)), -EINVAL);
	/* CHOSEN whose value is not a batch. */
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_CHOSEN, 1, 3,
		B(1, 1), 1, v, vlen - 1)), -EINVAL);
	/* HEARTBEAT with trim above decided. */
	hb = kpx_heartbeat_body(test, 1, 2, &blen);
	KUNIT_EXPECT_EQ(test, lt_step(&lt, 1, kpx_msg(PAXOS_MSG_HEARTBEAT, 1,
		PAXOS_NODE_ALL, B(1, 1), 2, hb, blen)), -EINVAL);
	KUNIT_EXPECT_EQ(test, delivered(&lt), 0ull);
}

/* ------------------------------------------------------ exactly-once */

static void learn_dedup(struct kunit *test)
{
	static const struct kpx_cmd i1[] = {
		{ 7, 1, "a" }, { 8, 1, "b" },
	};
	static const struct kpx_cmd i2[] = {
		{ 7, 1, "a" }, { 7, 2, "c" }, { 7, 1, "a" },
	};
	static const struct kpx_cmd i3[] = {
		{ 8, 1, "b" }, { 7, 3, "d" }, { 8, 2, "e" },
	};
	static const bool dup2[] = { true, false, true };
	static const bool dup3[] = { true, false, false };
	struct px_learner_info li;
	struct px_cmd got[4];
	struct lt lt;
	u32 len;
	u8 *v;
	int k;

	lt_init(test, &lt);
	v = kpx_value(test, i1, 2, &len);
	accept_v(&lt, 1, B(1, 1), 1, 0, v, len);
	v = kpx_value(test, i2, 3, &len);
	accept_v(&lt, 1, B(1, 1), 2, 0, v, len);
	v = kpx_value(test, i3, 3, &len);
	accept_v(&lt, 1, B(1, 1), 3, 0, v, len);
	for (k = 1; k <= 3; k++) {
		accepted(&lt, 2, 1, B(1, 1), k);
		accepted(&lt, 2, 2, B(1, 1), k);
	}
	px_learner_info(lt.l, &li);
	KUNIT_ASSERT_EQ(test, li.delivered, 3ull);
	KUNIT_EXPECT_EQ(test, li.stats.delivered_cmds, 5ull);
	KUNIT_EXPECT_EQ(test, li.stats.duplicates, 3ull);

	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 1, got, 4), 2);
	KUNIT_EXPECT_FALSE(test, got[0].dup);
	KUNIT_EXPECT_FALSE(test, got[1].dup);
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 2, got, 4), 3);
	for (k = 0; k < 3; k++) {
		KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[k], &i2[k]));
		KUNIT_EXPECT_EQ_MSG(test, got[k].dup, dup2[k], "i2 cmd %d", k);
		KUNIT_EXPECT_EQ(test, got[k].pos, k);
	}
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 3, got, 4), 3);
	for (k = 0; k < 3; k++)
		KUNIT_EXPECT_EQ_MSG(test, got[k].dup, dup3[k], "i3 cmd %d", k);
}

/* Two replicas learning in different ways flag the very same commands. */
static void learn_dedup_identical_on_replicas(struct kunit *test)
{
	static const struct kpx_cmd vals[3][2] = {
		{ { 1, 1, "p" }, { 2, 1, "q" } },
		{ { 2, 1, "q" }, { 1, 2, "r" } },
		{ { 1, 1, "p" }, { 1, 2, "r" } },
	};
	struct lt a, b;
	const u8 *va, *vb;
	u32 la, lb, len;
	u8 *v;
	u64 i;

	lt_init(test, &a);
	lt_init(test, &b);
	/* a: ACCEPT + votes in order; b: CHOSEN in reverse order. */
	for (i = 1; i <= 3; i++) {
		v = kpx_value(test, vals[i - 1], 2, &len);
		accept_v(&a, i, B(1, 1), i, 0, v, len);
		accepted(&a, i, 1, B(1, 1), i);
		accepted(&a, i, 3, B(1, 1), i);
	}
	for (i = 3; i >= 1; i--) {
		v = kpx_value(test, vals[i - 1], 2, &len);
		chosen(&b, 4 - i, 2, B(1, 1), i, v, len);
	}
	KUNIT_ASSERT_EQ(test, delivered(&a), 3ull);
	KUNIT_ASSERT_EQ(test, delivered(&b), 3ull);
	for (i = 1; i <= 3; i++) {
		va = px_learner_value(a.l, i, &la, NULL);
		vb = px_learner_value(b.l, i, &lb, NULL);
		KUNIT_ASSERT_NOT_NULL(test, va);
		KUNIT_ASSERT_NOT_NULL(test, vb);
		KUNIT_ASSERT_EQ(test, la, lb);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(va, vb, la), 0,
				    "instance %llu", i);
	}
}

/*
 * The dedup table holds PX_DEDUP_CLIENTS clients and evicts the one
 * delivered longest ago: its retry is then delivered again.
 */
static void learn_dedup_eviction(struct kunit *test)
{
	const int n = PX_DEDUP_CLIENTS;
	static const struct kpx_cmd newc = { 100000, 1, "" };
	static const struct kpx_cmd late[] = {
		{ 2, 1, "" },	/* still remembered: a duplicate */
		{ 1, 1, "" },	/* evicted: delivered again */
	};
	struct px_learner_info li;
	struct kpx_cmd *cmds;
	struct px_cmd got[2];
	struct lt lt;
	u32 len;
	u8 *v;
	int k;

	lt_init(test, &lt);
	cmds = kunit_kcalloc(test, n, sizeof(*cmds), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmds);
	for (k = 0; k < n; k++) {
		cmds[k].client_id = k + 1;
		cmds[k].seq = 1;
		cmds[k].data = "";
	}
	v = kpx_value(test, cmds, n, &len);
	chosen(&lt, 1, 1, B(1, 1), 1, v, len);
	v = kpx_value(test, &newc, 1, &len);
	chosen(&lt, 2, 1, B(1, 1), 2, v, len);
	px_learner_info(lt.l, &li);
	KUNIT_ASSERT_EQ(test, li.delivered, 2ull);
	KUNIT_EXPECT_EQ(test, li.stats.delivered_cmds, (u64)n + 1);
	KUNIT_EXPECT_EQ(test, li.stats.evicted, 1ull);

	v = kpx_value(test, late, 2, &len);
	chosen(&lt, 3, 1, B(1, 1), 3, v, len);
	px_learner_info(lt.l, &li);
	KUNIT_EXPECT_EQ(test, li.stats.duplicates, 1ull);
	KUNIT_EXPECT_EQ(test, li.stats.delivered_cmds, (u64)n + 2);
	KUNIT_EXPECT_EQ(test, li.stats.evicted, 2ull);
	KUNIT_ASSERT_EQ(test, delivered_cmds(&lt, 3, got, 2), 2);
	KUNIT_EXPECT_TRUE(test, got[0].dup);
	KUNIT_EXPECT_FALSE(test, got[1].dup);
}

/* ------------------------------------------------------------ snapshots */

static int lstep(struct px_learner *l, u64 now, struct px_msg m)
{
	return px_learner_step(l, now, &m);
}

/* A learner of node @self of {1, 2, 3}: 8 slots, a point every 4. */
static struct px_learner *snap_learner(struct kunit *test, u8 self,
				       struct px_config *cfg)
{
	kpx_config(cfg, self, KPX_MEMBERS3);
	cfg->learner_slots = 8;
	cfg->snapshot_every = 4;
	return kpx_learner(test, cfg, 0);
}

/* CHOSEN(i) of client 4, seq i: each a new command. */
static void snap_chosen(struct kunit *test, struct px_learner *l, u64 i,
			u64 seq)
{
	struct kpx_cmd c = { 4, seq, "x" };
	u32 len;
	u8 *v = kpx_value(test, &c, 1, &len);

	KUNIT_ASSERT_EQ(test, lstep(l, i, kpx_msg(PAXOS_MSG_CHOSEN,
			1, PAXOS_NODE_ALL, B(1, 1), i, v, len)), 0);
}

/*
 * Points, put and its errors, and serving a peer below what is retained
 * with the first SNAP_CHUNK of the current snapshot.
 */
static void learn_snapshot_put_serve(struct kunit *test)
{
	struct px_snapshot_info si;
	struct px_learner_info li;
	struct px_config cfg;
	struct px_learner *l = snap_learner(test, 3, &cfg);
	struct px_ready *rd;
	struct px_obuf *o;
	u32 len;
	u8 *body;
	u64 i;

	KUNIT_EXPECT_FALSE(test, px_learner_snapshot(l, &si));
	for (i = 1; i <= 20; i++)
		snap_chosen(test, l, i, i);
	kpx_take(test, px_learner_ready(l));
	KUNIT_EXPECT_TRUE(test, px_learner_snap_point(l, 16));
	KUNIT_EXPECT_FALSE(test, px_learner_snap_point(l, 15));
	KUNIT_EXPECT_EQ(test, px_learner_snapshot_put(l, 15, "s", 1),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, px_learner_snapshot_put(l, 16, "state16", 7),
			0);
	KUNIT_EXPECT_EQ(test, px_learner_snapshot_put(l, 12, "s", 1),
			-ESTALE);
	KUNIT_EXPECT_EQ(test, px_learner_snapshot_put(l, 20, "s",
			PAXOS_MAX_SNAPSHOT + 1), -EMSGSIZE);
	KUNIT_ASSERT_TRUE(test, px_learner_snapshot(l, &si));
	KUNIT_EXPECT_EQ(test, si.index, 16ull);
	KUNIT_ASSERT_EQ(test, si.app_len, 7u);
	KUNIT_EXPECT_EQ(test, memcmp(si.app, "state16", 7), 0);
	px_learner_info(l, &li);
	KUNIT_EXPECT_EQ(test, li.snap_index, 16ull);
	KUNIT_EXPECT_EQ(test, li.first, 13ull);

	/* Node 2 asks from 1: only the snapshot (and 17..20) can help. */
	body = kpx_learn_req_body(test, 8, &len);
	KUNIT_ASSERT_EQ(test, lstep(l, 30, kpx_msg(
			PAXOS_MSG_LEARN_REQ, 2, 3, 0, 1, body, len)), 0);
	rd = kpx_take(test, px_learner_ready(l));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_CHOSEN), 0u);
	KUNIT_ASSERT_EQ(test, kpx_count(rd, PAXOS_MSG_SNAP_CHUNK), 1u);
	o = kpx_find(rd, PAXOS_MSG_SNAP_CHUNK, 0);
	KUNIT_EXPECT_EQ(test, o->dst, 2);
	KUNIT_EXPECT_EQ(test, o->instance, 16ull);
	KUNIT_ASSERT_GT(test, o->len, 12u);
	KUNIT_EXPECT_EQ(test, px_get_be32(o->body + 4), 7u);	/* app */
	KUNIT_EXPECT_EQ(test, px_get_be32(o->body + 8), 0u);	/* offset */
	KUNIT_EXPECT_EQ(test, o->len, 12 + px_get_be32(o->body) + 7);
	KUNIT_EXPECT_EQ(test, memcmp(o->body + o->len - 7, "state16", 7), 0);
	px_learner_info(l, &li);
	KUNIT_EXPECT_EQ(test, li.stats.snap_served, 1ull);

	/* Within what is retained: CHOSEN as before. */
	body = kpx_learn_req_body(test, 20, &len);
	KUNIT_ASSERT_EQ(test, lstep(l, 31, kpx_msg(
			PAXOS_MSG_LEARN_REQ, 2, 3, 0, 17, body, len)), 0);
	rd = kpx_take(test, px_learner_ready(l));
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_CHOSEN), 4u);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_SNAP_CHUNK), 0u);
}

/*
 * A fresh learner installs the chunk: delivered jumps, the reader is told
 * (restored), the dedup table comes along (a retry of seq 3 is a dup), and
 * a chunk whose meta claims too many clients is rejected.
 */
static void learn_snapshot_install(struct kunit *test)
{
	struct px_config cs, cr;
	struct px_learner *s = snap_learner(test, 3, &cs);
	struct px_learner *r = snap_learner(test, 2, &cr);
	struct kpx_cmd retry[2] = { { 4, 3, "x" }, { 4, 21, "x" } };
	struct px_snapshot_info si;
	struct px_learner_info li;
	struct px_cmd got[2];
	struct px_ready *rd;
	struct px_obuf *o;
	u32 len;
	u8 *body, *bad;
	u64 i;

	for (i = 1; i <= 20; i++)
		snap_chosen(test, s, i, i);
	KUNIT_ASSERT_EQ(test, px_learner_snapshot_put(s, 20, "st", 2), 0);
	kpx_take(test, px_learner_ready(s));
	body = kpx_learn_req_body(test, 8, &len);
	KUNIT_ASSERT_EQ(test, lstep(s, 30, kpx_msg(
			PAXOS_MSG_LEARN_REQ, 2, 3, 0, 1, body, len)), 0);
	rd = kpx_take(test, px_learner_ready(s));
	o = kpx_find(rd, PAXOS_MSG_SNAP_CHUNK, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);

	/* The same chunk with k = PX_DEDUP_CLIENTS + 1: rejected. */
	bad = kunit_kmalloc(test, o->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bad);
	memcpy(bad, o->body, o->len);
	px_put_be32(bad + 12, PX_DEDUP_CLIENTS + 1);
	KUNIT_EXPECT_EQ(test, lstep(r, 40, kpx_msg(
			PAXOS_MSG_SNAP_CHUNK, 3, 2, 0, 20, bad, o->len)),
			-EINVAL);
	px_learner_info(r, &li);
	KUNIT_EXPECT_EQ(test, li.stats.snap_rejected, 1ull);
	KUNIT_EXPECT_EQ(test, li.delivered, 0ull);

	KUNIT_ASSERT_EQ(test, lstep(r, 41, kpx_msg_of(o, 3)), 0);
	rd = kpx_take(test, px_learner_ready(r));
	KUNIT_EXPECT_EQ(test, rd->restored, 20ull);
	KUNIT_EXPECT_EQ(test, rd->delivered, 20ull);
	px_learner_info(r, &li);
	KUNIT_EXPECT_EQ(test, li.delivered, 20ull);
	KUNIT_EXPECT_EQ(test, li.snap_index, 20ull);
	KUNIT_EXPECT_EQ(test, li.stats.snap_installed, 1ull);
	KUNIT_ASSERT_TRUE(test, px_learner_snapshot(r, &si));
	KUNIT_EXPECT_EQ(test, si.index, 20ull);
	KUNIT_ASSERT_EQ(test, si.app_len, 2u);
	KUNIT_EXPECT_EQ(test, memcmp(si.app, "st", 2), 0);
	/* Nothing at or below the snapshot is retained. */
	KUNIT_EXPECT_NULL(test, px_learner_value(r, 20, &len, NULL));
	/* Taken once. */
	rd = kpx_take(test, px_learner_ready(r));
	KUNIT_EXPECT_EQ(test, rd->restored, 0ull);

	body = kpx_value(test, retry, 2, &len);
	KUNIT_ASSERT_EQ(test, lstep(r, 42, kpx_msg(
			PAXOS_MSG_CHOSEN, 1, 2, B(1, 1), 21, body, len)), 0);
	px_learner_info(r, &li);
	KUNIT_ASSERT_EQ(test, li.delivered, 21ull);
	KUNIT_EXPECT_EQ(test, li.stats.duplicates, 1ull);
	body = (u8 *)px_learner_value(r, 21, &len, NULL);
	KUNIT_ASSERT_NOT_NULL(test, body);
	KUNIT_ASSERT_EQ(test, kpx_value_cmds(body, len, got, 2), 2);
	KUNIT_EXPECT_TRUE(test, got[0].dup);
	KUNIT_EXPECT_FALSE(test, got[1].dup);
}

static struct kunit_case learner_cases[] = {
	KUNIT_CASE(learn_in_order),
	KUNIT_CASE(learn_votes_then_value),
	KUNIT_CASE(learn_value_of_voted_ballot),
	KUNIT_CASE(learn_gap_request_after_catchup),
	KUNIT_CASE(learn_gap_from_votes),
	KUNIT_CASE(learn_serves_catchup),
	KUNIT_CASE(learn_retention),
	KUNIT_CASE(learn_status),
	KUNIT_CASE(learn_rejects_malformed),
	KUNIT_CASE(learn_dedup),
	KUNIT_CASE(learn_dedup_identical_on_replicas),
	KUNIT_CASE(learn_dedup_eviction),
	KUNIT_CASE(learn_snapshot_put_serve),
	KUNIT_CASE(learn_snapshot_install),
	{}
};

static struct kunit_suite learner_suite = {
	.name = "kpaxos_learner",
	.test_cases = learner_cases,
};

kunit_test_suite(learner_suite);
