// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Learner: quorum counting, ballots, in-order delivery, catch-up with
 * LEARN_REQ/CHOSEN, exactly-once dedup, retention and STATUS.
 */
#include <string.h>

#include "check.h"
#include "px_wire.h"

#define B(round, node)	px_ballot_make(round, node)
#define T0		1000000ull

static u64 now = T0;

static struct px_config lcfg(u8 self, u32 slots)
{
	struct px_config c;

	px_config_default(&c, self, 0xE);	/* nodes 1, 2, 3 */
	c.learner_slots = slots;
	c.window = PX_MIN(c.window, slots);
	return c;
}

/* A batch value of @n commands (client ids / seqs from the arrays). */
static u32 mkval(u8 *v, u32 n, const u64 *cid, const u64 *seq)
{
	u32 len = 4, i;

	px_put_be32(v, n);
	for (i = 0; i < n; i++) {
		px_put_be64(v + len, cid[i]);
		px_put_be64(v + len + 8, seq[i]);
		px_put_be32(v + len + 16, 3);
		px_put_be32(v + len + 20, 0);
		memcpy(v + len + 24, "abc", 3);
		len += 27;
	}
	return len;
}

/* Instance @i's value: one command (client i % 7 + 1, seq i). */
static u32 val_for(u8 *v, u64 i)
{
	u64 cid = 1000 + i, seq = i;

	return mkval(v, 1, &cid, &seq);
}

/* ACCEPT with the leader's commit run (lo, hi]. */
static int accept_run(struct px_learner *l, u8 src, u64 b, u64 i,
		      u64 decided, u64 lo, u64 hi, const u8 *v, u32 vlen)
{
	u8 body[4096];
	struct px_msg m = { .type = PAXOS_MSG_ACCEPT, .src = src,
			    .dst = PAXOS_NODE_ALL, .ballot = b, .instance = i,
			    .body = body, .len = PAXOS_ACCEPT_HDR_LEN + vlen };

	px_put_be64(body, decided);
	px_put_be64(body + 8, lo);
	px_put_be64(body + 16, hi);
	memcpy(body + PAXOS_ACCEPT_HDR_LEN, v, vlen);
	return px_learner_step(l, now, &m);
}

static int accept_msg(struct px_learner *l, u8 src, u64 b, u64 i,
		      u64 decided, const u8 *v, u32 vlen)
{
	return accept_run(l, src, b, i, decided, 0, 0, v, vlen);
}

static int accepted_msg(struct px_learner *l, u8 src, u64 b, u64 i)
{
	struct px_msg m = { .type = PAXOS_MSG_ACCEPTED, .src = src,
			    .dst = PAXOS_NODE_ALL, .ballot = b, .instance = i };

	return px_learner_step(l, now, &m);
}

static int heartbeat_run(struct px_learner *l, u8 src, u64 b, u64 decided,
			 u64 lo, u64 hi)
{
	u8 body[PAXOS_HEARTBEAT_LEN];
	struct px_msg m = { .type = PAXOS_MSG_HEARTBEAT, .src = src,
			    .dst = PAXOS_NODE_ALL, .ballot = b,
			    .instance = decided + 1, .body = body,
			    .len = PAXOS_HEARTBEAT_LEN };

	px_put_be64(body, decided);
	px_put_be64(body + 8, 0);
	px_put_be64(body + 16, lo);
	px_put_be64(body + 24, hi);
	return px_learner_step(l, now, &m);
}

static int heartbeat_msg(struct px_learner *l, u8 src, u64 b, u64 decided)
{
	return heartbeat_run(l, src, b, decided, 0, 0);
}

/* Decide instance @i at ballot @b on @l: ACCEPT from 2, ACCEPTED 2 and 3. */
static void decide(struct px_learner *l, u64 b, u64 i)
{
	u8 v[64];
	u32 n = val_for(v, i);

	CHECK_EQ(accept_msg(l, px_ballot_node(b), b, i, 0, v, n), 0);
	CHECK_EQ(accepted_msg(l, 2, b, i), 0);
	CHECK_EQ(accepted_msg(l, 3, b, i), 0);
}

static u64 delivered(struct px_learner *l)
{
	struct px_learner_info i;

	px_learner_info(l, &i);
	return i.delivered;
}

static void drain(struct px_learner *l)
{
	struct px_ready rd;

	px_ready_take(px_learner_ready(l), &rd);
	px_ready_free(&rd);
}

static void test_quorum(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_learner_info info;
	struct px_ready *rd;
	const u8 *p;
	u8 v[64];
	u32 n = val_for(v, 1), len = 0;
	bool gone = true;

	CHECK(l != NULL);
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 1, 0, v, n), 0);
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 1), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 1), 0);	/* same voter */
	CHECK_EQ(delivered(l), 0);
	CHECK(px_learner_value(l, 1, &len, &gone) == NULL);
	CHECK(!gone);
	/* a non-member's vote is kept but does not count */
	CHECK_EQ(accepted_msg(l, 4, B(1, 2), 1), 0);
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accepted_msg(l, 0, B(1, 2), 1), -EINVAL);
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accepted_msg(l, 3, B(1, 2), 1), 0);
	CHECK_EQ(delivered(l), 1);
	rd = px_learner_ready(l);
	CHECK_EQ(rd->delivered, 1);
	p = px_learner_value(l, 1, &len, &gone);
	CHECK(p != NULL && len == n && !memcmp(p, v, n));
	CHECK(!gone);
	px_learner_info(l, &info);
	CHECK_EQ(info.first, 1);
	CHECK_EQ(info.last, 1);
	CHECK_EQ(info.committed, 1);
	CHECK_EQ(info.stats.delivered_instances, 1);
	CHECK_EQ(info.stats.delivered_cmds, 1);
	/* late votes and values for a delivered instance change nothing */
	CHECK_EQ(accepted_msg(l, 1, B(1, 2), 1), 0);
	CHECK_EQ(accept_msg(l, 3, B(2, 3), 1, 0, v, n), 0);
	CHECK_EQ(delivered(l), 1);
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.delivered_instances, 1);

	/* Votes before the value: decided, delivered when the value comes. */
	CHECK_EQ(accepted_msg(l, 2, B(2, 3), 2), 0);
	CHECK_EQ(accepted_msg(l, 1, B(2, 3), 2), 0);
	px_learner_info(l, &info);
	CHECK_EQ(info.committed, 2);
	CHECK_EQ(info.delivered, 1);
	n = val_for(v, 2);
	/* a value of a lower ballot may differ: not taken */
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 2, 0, v, n), 0);
	CHECK_EQ(delivered(l), 1);
	CHECK_EQ(accept_msg(l, 3, B(2, 3), 2, 0, v, n), 0);
	CHECK_EQ(delivered(l), 2);

	/* A 5-node cluster needs 3 votes. */
	px_learner_destroy(l);
	c.members = 0x3E;
	l = px_learner_create(&c, now);
	n = val_for(v, 1);
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 1, 0, v, n), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 1), 0);
	CHECK_EQ(accepted_msg(l, 5, B(1, 2), 1), 0);
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accepted_msg(l, 4, B(1, 2), 1), 0);
	CHECK_EQ(delivered(l), 1);
	px_learner_destroy(l);
}

static void test_ballot_change(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	u8 v1[64], v2[64];
	u64 cid = 7, s1 = 1, s2 = 2;
	u32 n1 = mkval(v1, 1, &cid, &s1), n2 = mkval(v2, 1, &cid, &s2), len;
	const u8 *p;

	/* Votes for b1 from 2, then a higher ballot b2 resets them. */
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 1, 0, v1, n1), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 1), 0);
	CHECK_EQ(accepted_msg(l, 3, B(2, 3), 1), 0);
	/* 2's vote was for b1: b1 + b2 votes never make a quorum */
	CHECK_EQ(accepted_msg(l, 1, B(1, 2), 1), 0);	/* lower: ignored */
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accepted_msg(l, 1, B(2, 3), 1), 0);	/* quorum for b2 */
	/* held value is b1's: not delivered until b2's value arrives */
	CHECK_EQ(delivered(l), 0);
	CHECK_EQ(accept_msg(l, 3, B(2, 3), 1, 0, v2, n2), 0);
	CHECK_EQ(delivered(l), 1);
	p = px_learner_value(l, 1, &len, NULL);
	CHECK(p && len == n2 && !memcmp(p, v2, n2));

	/* A value of a ballot above the quorum's equals the chosen one. */
	CHECK_EQ(accept_msg(l, 3, B(3, 3), 2, 0, v1, n1), 0);
	CHECK_EQ(accepted_msg(l, 1, B(2, 2), 2), 0);
	CHECK_EQ(accepted_msg(l, 2, B(2, 2), 2), 0);
	CHECK_EQ(delivered(l), 2);
	/* ACCEPT values: the highest ballot's is kept */
	CHECK_EQ(accept_msg(l, 2, B(4, 2), 3, 0, v1, n1), 0);
	CHECK_EQ(accept_msg(l, 3, B(5, 3), 3, 0, v2, n2), 0);
	CHECK_EQ(accept_msg(l, 2, B(4, 2), 3, 0, v1, n1), 0);
	CHECK_EQ(accepted_msg(l, 1, B(5, 3), 3), 0);
	CHECK_EQ(accepted_msg(l, 3, B(5, 3), 3), 0);
	CHECK_EQ(delivered(l), 3);
	p = px_learner_value(l, 3, &len, NULL);
	CHECK(p && len == n2 && px_get_be64(p + 12) == 2);
	/* an ACCEPT whose ballot does not name its sender is refused */
	CHECK_EQ(accept_msg(l, 2, B(6, 3), 4, 0, v1, n1), -EINVAL);
	px_learner_destroy(l);
}

static void test_in_order(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_learner_info info;
	u64 i;

	decide(l, B(1, 2), 3);
	decide(l, B(1, 2), 2);
	decide(l, B(1, 2), 5);
	CHECK_EQ(delivered(l), 0);
	px_learner_info(l, &info);
	CHECK_EQ(info.committed, 0);
	CHECK_EQ(info.last, 5);
	decide(l, B(1, 2), 1);
	CHECK_EQ(delivered(l), 3);
	CHECK_EQ(px_learner_ready(l)->delivered, 3);
	decide(l, B(1, 2), 4);
	CHECK_EQ(delivered(l), 5);
	for (i = 1; i <= 5; i++) {
		u32 len;
		const u8 *p = px_learner_value(l, i, &len, NULL);

		CHECK(p && px_get_be64(p + 12) == i);
	}
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.delivered_instances, 5);
	/* No-op values are delivered and counted. */
	{
		u8 noop[4] = { 0, 0, 0, 0 };

		CHECK_EQ(accept_msg(l, 2, B(1, 2), 6, 5, noop, 4), 0);
		CHECK_EQ(accepted_msg(l, 1, B(1, 2), 6), 0);
		CHECK_EQ(accepted_msg(l, 3, B(1, 2), 6), 0);
	}
	CHECK_EQ(delivered(l), 6);
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.noops, 1);
	CHECK_EQ(info.stats.delivered_cmds, 5);
	px_learner_destroy(l);
}

/* Deliver all messages of @from's ready addressed to node @to into @l. */
static u32 relay(struct px_learner *from, struct px_learner *to_l, u8 from_id,
		 u8 to_id, u8 type)
{
	struct px_ready rd;
	struct px_obuf *o;
	u32 n = 0;

	px_ready_take(px_learner_ready(from), &rd);
	for (o = rd.msgs; o; o = o->next) {
		struct px_msg m = { .type = o->type, .src = from_id,
				    .dst = o->dst, .ballot = o->ballot,
				    .instance = o->instance, .body = o->body,
				    .len = o->len };

		if (o->type != type ||
		    (o->dst != to_id && o->dst != PAXOS_NODE_ALL))
			continue;
		CHECK_EQ(px_learner_step(to_l, now, &m), 0);
		n++;
	}
	px_ready_free(&rd);
	return n;
}

static void test_catchup(void)
{
	struct px_config ca = lcfg(2, 256), cb = lcfg(1, 256);
	struct px_learner *a = px_learner_create(&ca, now);
	struct px_learner *b = px_learner_create(&cb, now);
	struct px_learner_info info;
	struct px_ready rd;
	struct px_obuf *o;
	u64 i;
	u32 n;

	/* a (node 2) has delivered 1..200; b (node 1) saw nothing. */
	for (i = 1; i <= 200; i++)
		decide(a, B(1, 2), i);
	CHECK_EQ(delivered(a), 200);
	drain(a);

	/* b hears the leader's heartbeat: a gap, but not at once. */
	CHECK_EQ(heartbeat_msg(b, 2, B(1, 2), 200), 0);
	now += 10;
	px_learner_tick(b, now);
	drain(b);
	CHECK(px_learner_next_deadline(b) <= now + cb.catchup_us);
	now += cb.catchup_us;
	px_learner_tick(b, now);
	px_ready_take(px_learner_ready(b), &rd);
	n = 0;
	for (o = rd.msgs; o; o = o->next) {
		if (o->type != PAXOS_MSG_LEARN_REQ)
			continue;
		n++;
		CHECK_EQ(o->dst, 2);		/* the leader */
		CHECK_EQ(o->instance, 1);
		CHECK_EQ(o->len, 8);
		/* one answer's worth (64), not all 200 */
		CHECK_EQ(px_get_be64(o->body), 64);
		{
			struct px_msg m = { .type = o->type, .src = 1,
					    .dst = 2, .instance = o->instance,
					    .body = o->body, .len = o->len };

			CHECK_EQ(px_learner_step(a, now, &m), 0);
		}
	}
	CHECK_EQ(n, 1);
	px_ready_free(&rd);

	/* a answers with a bounded number of CHOSEN. */
	px_ready_take(px_learner_ready(a), &rd);
	n = 0;
	for (o = rd.msgs; o; o = o->next) {
		struct px_msg m = { .type = o->type, .src = 2, .dst = o->dst,
				    .ballot = o->ballot,
				    .instance = o->instance,
				    .body = o->body, .len = o->len };

		CHECK_EQ(o->type, PAXOS_MSG_CHOSEN);
		CHECK_EQ(o->dst, 1);
		CHECK_EQ(o->instance, n + 1);
		CHECK(o->ballot == B(1, 2));
		CHECK_EQ(px_learner_step(b, now, &m), 0);
		n++;
	}
	px_ready_free(&rd);
	CHECK(n > 0 && n < 200);
	CHECK_EQ(delivered(b), n);
	px_learner_info(a, &info);
	CHECK_EQ(info.stats.catchup_served, n);

	/* b asked for the next range as soon as this one was in. */
	for (i = 0; i < 10 && delivered(b) < 200; i++) {
		relay(b, a, 1, 2, PAXOS_MSG_LEARN_REQ);
		relay(a, b, 2, 1, PAXOS_MSG_CHOSEN);
	}
	CHECK_EQ(delivered(b), 200);
	for (i = 1; i <= 200; i++) {
		u32 la, lb;
		const u8 *pa = px_learner_value(a, i, &la, NULL);
		const u8 *pb = px_learner_value(b, i, &lb, NULL);

		CHECK(pa && pb && la == lb && !memcmp(pa, pb, la));
	}
	px_learner_info(b, &info);
	CHECK(info.stats.catchup_reqs >= 2);
	CHECK_EQ(info.stats.delivered_instances, 200);
	/* no gap now: no more requests */
	drain(b);
	now += 10 * cb.catchup_us;
	px_learner_tick(b, now);
	px_ready_take(px_learner_ready(b), &rd);
	for (o = rd.msgs; o; o = o->next)
		CHECK(o->type != PAXOS_MSG_LEARN_REQ);
	px_ready_free(&rd);

	/* LEARN_REQ for what a does not retain or has not delivered. */
	{
		u8 body[8];
		struct px_msg m = { .type = PAXOS_MSG_LEARN_REQ, .src = 3,
				    .dst = 2, .instance = 1, .body = body,
				    .len = 8 };

		/* a wide request gets a bounded answer, flags 0 on the wire */
		drain(a);
		px_put_be64(body, 200);
		CHECK_EQ(px_learner_step(a, now, &m), 0);
		px_ready_take(px_learner_ready(a), &rd);
		CHECK_EQ(rd.n_msgs, 64);
		px_ready_free(&rd);
		m.instance = 201;
		px_put_be64(body, 300);
		CHECK_EQ(px_learner_step(a, now, &m), 0);
		CHECK(px_ready_empty(px_learner_ready(a)));
		px_put_be64(body, 100);		/* to < from */
		CHECK_EQ(px_learner_step(a, now, &m), -EINVAL);
		m.instance = 0;
		CHECK_EQ(px_learner_step(a, now, &m), -EINVAL);
	}
	px_learner_destroy(a);
	px_learner_destroy(b);
}

static void test_catchup_targets(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_ready rd;
	int k, seen[4] = { 0 };

	/* This node is the leader: never ask itself. */
	CHECK_EQ(heartbeat_msg(l, 1, B(3, 1), 10), 0);
	for (k = 0; k < 40; k++) {
		now += c.catchup_us;
		px_learner_tick(l, now);
		px_ready_take(px_learner_ready(l), &rd);
		for (struct px_obuf *o = rd.msgs; o; o = o->next) {
			if (o->type != PAXOS_MSG_LEARN_REQ)
				continue;
			CHECK(o->dst == 2 || o->dst == 3);
			if (o->dst < 4)
				seen[o->dst]++;
		}
		px_ready_free(&rd);
	}
	CHECK(seen[2] > 0 && seen[3] > 0);
	CHECK_EQ(seen[1], 0);
	px_learner_destroy(l);

	/* Leader 2 that does not help: leader and random peers in turn. */
	memset(seen, 0, sizeof(seen));
	l = px_learner_create(&c, now);
	CHECK_EQ(heartbeat_msg(l, 2, B(3, 2), 10), 0);
	for (k = 0; k < 40; k++) {
		now += c.catchup_us;
		px_learner_tick(l, now);
		px_ready_take(px_learner_ready(l), &rd);
		for (struct px_obuf *o = rd.msgs; o; o = o->next)
			if (o->type == PAXOS_MSG_LEARN_REQ && o->dst < 4)
				seen[o->dst]++;
		px_ready_free(&rd);
	}
	CHECK(seen[2] >= 20);
	CHECK(seen[3] > 0);
	CHECK_EQ(seen[1], 0);
	px_learner_destroy(l);

	/* A one-node cluster has no one to ask. */
	c.members = 0x2;
	l = px_learner_create(&c, now);
	CHECK_EQ(heartbeat_msg(l, 1, B(3, 1), 10), 0);
	now += 2 * c.catchup_us;
	px_learner_tick(l, now);
	px_ready_take(px_learner_ready(l), &rd);
	for (struct px_obuf *o = rd.msgs; o; o = o->next)
		CHECK(o->type != PAXOS_MSG_LEARN_REQ);
	px_ready_free(&rd);
	px_learner_destroy(l);
}

/* Flags of the commands of delivered instance @i, as a bit string. */
static u32 dup_bits(struct px_learner *l, u64 i)
{
	struct px_batch_iter it;
	struct px_cmd cmd;
	const u8 *p;
	u32 len, bits = 0;

	p = px_learner_value(l, i, &len, NULL);
	if (!p || px_batch_iter_init(&it, p, len))
		return 0xdead;
	while (px_batch_next(&it, &cmd) == 1)
		if (cmd.dup)
			bits |= 1u << cmd.pos;
	return bits;
}

static void deliver_val(struct px_learner *l, u64 i, const u8 *v, u32 n)
{
	CHECK_EQ(accept_msg(l, 2, B(1, 2), i, 0, v, n), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), i), 0);
	CHECK_EQ(accepted_msg(l, 3, B(1, 2), i), 0);
}

static void test_dedup(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_learner_info info;
	static u8 v[8192];
	u64 cid[4], seq[4], i;
	u32 n;

	cid[0] = 1; seq[0] = 1;
	cid[1] = 2; seq[1] = 1;
	n = mkval(v, 2, cid, seq);
	deliver_val(l, 1, v, n);
	CHECK_EQ(dup_bits(l, 1), 0);
	/* retry of (1,1), new (1,2), its retry in the same batch, old (2,0) */
	cid[0] = 1; seq[0] = 1;
	cid[1] = 1; seq[1] = 2;
	cid[2] = 1; seq[2] = 2;
	cid[3] = 2; seq[3] = 0;
	n = mkval(v, 4, cid, seq);
	deliver_val(l, 2, v, n);
	CHECK_EQ(delivered(l), 2);
	CHECK_EQ(dup_bits(l, 2), 0xD);	/* pos 0, 2, 3 */
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.duplicates, 3);
	CHECK_EQ(info.stats.delivered_cmds, 3);

	/* Served to a peer: flags 0 on the wire, same flags there. */
	{
		struct px_config c3 = lcfg(3, 64);
		struct px_learner *p = px_learner_create(&c3, now);
		struct px_ready rd;
		struct px_batch_iter it;
		struct px_cmd cmd;
		u8 body[8];
		struct px_msg m = { .type = PAXOS_MSG_LEARN_REQ, .src = 3,
				    .dst = 1, .instance = 1, .body = body,
				    .len = 8 };

		drain(l);
		px_put_be64(body, 2);
		CHECK_EQ(px_learner_step(l, now, &m), 0);
		px_ready_take(px_learner_ready(l), &rd);
		CHECK_EQ(rd.n_msgs, 2);
		for (struct px_obuf *o = rd.msgs; o; o = o->next) {
			struct px_msg cm = { .type = o->type, .src = 1,
					     .dst = 3, .ballot = o->ballot,
					     .instance = o->instance,
					     .body = o->body, .len = o->len };

			CHECK_EQ(o->type, PAXOS_MSG_CHOSEN);
			CHECK_EQ(px_batch_iter_init(&it, o->body, o->len), 0);
			while (px_batch_next(&it, &cmd) == 1)
				CHECK(!cmd.dup);
			CHECK_EQ(px_learner_step(p, now, &cm), 0);
		}
		px_ready_free(&rd);
		CHECK_EQ(delivered(p), 2);
		CHECK_EQ(dup_bits(p, 2), 0xD);
		px_learner_destroy(p);
	}

	/* Fill the table: clients 1000.. each once; client 1 gets evicted
	 * (oldest last delivery), client 2 too; the newest stay. */
	for (i = 0; i < PX_DEDUP_CLIENTS; i++) {
		cid[0] = 1000 + i;
		seq[0] = 5;
		n = mkval(v, 1, cid, seq);
		deliver_val(l, 3 + i, v, n);
	}
	CHECK_EQ(delivered(l), 2 + PX_DEDUP_CLIENTS);
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.evicted, 2);
	i = 3 + PX_DEDUP_CLIENTS;
	cid[0] = 1; seq[0] = 2;		/* evicted: delivered again */
	cid[1] = 1000 + PX_DEDUP_CLIENTS - 1; seq[1] = 5;	/* remembered */
	cid[2] = 1002; seq[2] = 4;	/* remembered, older seq */
	n = mkval(v, 3, cid, seq);
	deliver_val(l, i, v, n);
	CHECK_EQ(dup_bits(l, i), 0x6);
	px_learner_destroy(l);
}

/* ACCEPT(B(1, 2), @i) of @v in a block of its own, as a local message. */
static u8 *accept_block(struct px_learner *l, u64 i, const u8 *v, u32 n)
{
	u8 *blk = px_value_alloc(PAXOS_ACCEPT_HDR_LEN + n);
	struct px_msg m = { .type = PAXOS_MSG_ACCEPT, .src = 2,
			    .dst = PAXOS_NODE_ALL, .ballot = B(1, 2),
			    .instance = i, .body = blk,
			    .len = PAXOS_ACCEPT_HDR_LEN + n, .block = blk };

	CHECK(blk != NULL);
	if (!blk)
		return NULL;
	memset(blk, 0, PAXOS_ACCEPT_HDR_LEN);
	memcpy(blk + PAXOS_ACCEPT_HDR_LEN, v, n);
	CHECK_EQ(px_learner_step(l, now, &m), 0);
	return blk;
}

/*
 * A value that arrives in a block is held, not copied; one with a retry in
 * it is flagged in the learner's own copy, never in the shared block.
 */
static void test_dedup_shared(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	static u8 v[256];
	u64 cid[2] = { 7, 7 }, seq[2] = { 1, 2 };
	u8 *b1, *b2;
	u32 n;

	n = mkval(v, 2, cid, seq);
	b1 = accept_block(l, 1, v, n);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 1), 0);
	CHECK_EQ(accepted_msg(l, 3, B(1, 2), 1), 0);
	CHECK_EQ(delivered(l), 1);
	CHECK(px_learner_value_block(l, 1) == b1);
	CHECK(px_learner_value(l, 1, NULL, NULL) == b1 + PAXOS_ACCEPT_HDR_LEN);
	CHECK_EQ(dup_bits(l, 1), 0);

	/* (7, 2) again and (7, 3): the first is a retry */
	seq[0] = 2;
	seq[1] = 3;
	n = mkval(v, 2, cid, seq);
	b2 = accept_block(l, 2, v, n);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 2), 0);
	CHECK_EQ(accepted_msg(l, 3, B(1, 2), 2), 0);
	CHECK_EQ(delivered(l), 2);
	CHECK_EQ(dup_bits(l, 2), 0x1);
	CHECK(px_learner_value_block(l, 2) != b2);
	CHECK(b2 && !memcmp(b2 + PAXOS_ACCEPT_HDR_LEN, v, n));
	px_value_free(b1);
	px_value_free(b2);
	/* the next retry takes a new spare */
	seq[0] = 3;
	seq[1] = 4;
	n = mkval(v, 2, cid, seq);
	px_value_free(accept_block(l, 3, v, n));
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 3), 0);
	CHECK_EQ(accepted_msg(l, 3, B(1, 2), 3), 0);
	CHECK_EQ(delivered(l), 3);
	CHECK_EQ(dup_bits(l, 3), 0x1);
	px_learner_destroy(l);
}

/* Two learners fed the same decisions in different orders agree. */
static void test_dedup_deterministic(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *x = px_learner_create(&c, now);
	struct px_learner *y = px_learner_create(&c, now);
	static u8 vals[40][512];
	u32 lens[40], i, k, len_x, len_y;
	u64 rng = 99, cid[8], seq[8];

	for (i = 0; i < 40; i++) {
		for (k = 0; k < 8; k++) {
			cid[k] = px_rand_next(&rng) % 5;
			seq[k] = px_rand_next(&rng) % 6;
		}
		lens[i] = mkval(vals[i], 8, cid, seq);
	}
	for (i = 0; i < 40; i++)
		deliver_val(x, i + 1, vals[i], lens[i]);
	for (i = 40; i-- > 0;)
		deliver_val(y, i + 1, vals[i], lens[i]);
	CHECK_EQ(delivered(x), 40);
	CHECK_EQ(delivered(y), 40);
	for (i = 1; i <= 40; i++) {
		const u8 *px = px_learner_value(x, i, &len_x, NULL);
		const u8 *py = px_learner_value(y, i, &len_y, NULL);

		CHECK(px && py && len_x == len_y && !memcmp(px, py, len_x));
	}
	px_learner_destroy(x);
	px_learner_destroy(y);
}

static void test_retention(void)
{
	struct px_config c = lcfg(1, 16);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_learner_info info;
	const u8 *p;
	bool gone;
	u32 len;
	u8 v[64];
	u64 i;

	for (i = 1; i <= 40; i++)
		decide(l, B(1, 2), i);
	CHECK_EQ(delivered(l), 40);
	px_learner_info(l, &info);
	CHECK_EQ(info.first, 25);
	p = px_learner_value(l, 25, &len, &gone);
	CHECK(p && !gone && px_get_be64(p + 12) == 25);
	p = px_learner_value(l, 24, &len, &gone);
	CHECK(!p && gone);
	p = px_learner_value(l, 0, &len, &gone);
	CHECK(!p && gone);
	p = px_learner_value(l, 41, &len, &gone);
	CHECK(!p && !gone);

	/* Instances beyond delivered + learner_slots are ignored. */
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 57, 0, v, val_for(v, 57)), 0);
	CHECK_EQ(accepted_msg(l, 2, B(1, 2), 57), 0);
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.ignored, 2);
	decide(l, B(1, 2), 56);		/* the last one in the window */
	px_learner_info(l, &info);
	CHECK_EQ(info.stats.ignored, 2);
	CHECK_EQ(info.last, 56);
	for (i = 41; i <= 55; i++)
		decide(l, B(1, 2), i);
	CHECK_EQ(delivered(l), 56);
	/* After delivery the ring slot of 57 is free again: 40 gone. */
	p = px_learner_value(l, 40, &len, &gone);
	CHECK(!p && gone);
	p = px_learner_value(l, 41, &len, &gone);
	CHECK(p && px_get_be64(p + 12) == 41);
	px_learner_destroy(l);
}

static void test_status(void)
{
	struct px_config c = lcfg(3, 64);
	struct px_learner *l;
	struct px_ready rd;
	u64 t0 = now;
	int n = 0;

	l = px_learner_create(&c, t0);
	CHECK(px_learner_next_deadline(l) == t0 + c.heartbeat_us);
	px_learner_tick(l, t0 + c.heartbeat_us - 1);
	CHECK(px_ready_empty(px_learner_ready(l)));
	decide(l, B(1, 2), 1);
	px_learner_tick(l, t0 + c.heartbeat_us);
	px_ready_take(px_learner_ready(l), &rd);
	CHECK_EQ(rd.delivered, 1);
	for (struct px_obuf *o = rd.msgs; o; o = o->next) {
		if (o->type != PAXOS_MSG_STATUS)
			continue;
		n++;
		CHECK_EQ(o->dst, PAXOS_NODE_ALL);
		CHECK_EQ(o->instance, 1);
		CHECK_EQ(o->ballot, 0);
		CHECK_EQ(o->len, 0);
	}
	CHECK_EQ(n, 1);
	px_ready_free(&rd);
	CHECK(px_learner_next_deadline(l) == t0 + 2 * c.heartbeat_us);
	px_learner_tick(l, t0 + c.heartbeat_us + 5);
	CHECK(px_ready_empty(px_learner_ready(l)));
	px_learner_tick(l, t0 + 2 * c.heartbeat_us);
	CHECK(!px_ready_empty(px_learner_ready(l)));
	px_learner_destroy(l);
}

/*
 * The leader's commit run (lo, hi] in ACCEPT and HEARTBEAT decides what
 * the learner holds a value of that ballot (or a higher one) for, and
 * nothing else: an older ballot's value is dropped until one of b comes.
 */
static void test_commit_run(void)
{
	struct px_config c = lcfg(3, 64);
	struct px_learner *l = px_learner_create(&c, now);
	u8 v[64], w[64];
	const u8 *p;
	u32 n, k, len;

	for (k = 1; k <= 3; k++) {
		n = val_for(v, k);
		CHECK_EQ(accept_run(l, 2, B(1, 2), k, k - 1, 0, k - 1, v, n),
			 0);
	}
	/* ACCEPT 3 said (0, 2]: 1 and 2 are delivered without any ACCEPTED. */
	CHECK_EQ(delivered(l), 2);
	/* Instance 4's value of ballot 1.2; its run decides 3. */
	n = val_for(v, 4);
	CHECK_EQ(accept_run(l, 2, B(1, 2), 4, 3, 0, 3, v, n), 0);
	CHECK_EQ(delivered(l), 3);
	/* Ballot 2.3 chose instance 4: 1.2's value may not be that one. */
	CHECK_EQ(heartbeat_run(l, 3, B(2, 3), 4, 3, 4), 0);
	CHECK_EQ(delivered(l), 3);
	n = val_for(w, 40);
	CHECK_EQ(accept_run(l, 3, B(2, 3), 4, 4, 3, 4, w, n), 0);
	CHECK_EQ(delivered(l), 4);
	p = px_learner_value(l, 4, &len, NULL);
	CHECK(p && len == n && !memcmp(p, w, n));
	/* A run of an older ballot is still a fact; a value above it too. */
	n = val_for(v, 5);
	CHECK_EQ(accept_run(l, 2, B(3, 2), 5, 4, 4, 4, v, n), 0);
	CHECK_EQ(heartbeat_run(l, 3, B(2, 3), 5, 4, 5), 0);
	CHECK_EQ(delivered(l), 5);
	/* A run beyond what the learner has values for: known, a gap. */
	CHECK_EQ(heartbeat_run(l, 2, B(3, 2), 9, 5, 9), 0);
	CHECK_EQ(delivered(l), 5);
	CHECK(px_learner_next_deadline(l) <= now + c.catchup_us);
	px_learner_destroy(l);
}

static void test_malformed(void)
{
	struct px_config c = lcfg(1, 64);
	struct px_learner *l = px_learner_create(&c, now);
	u8 v[64], body[PAXOS_HEARTBEAT_LEN] = { 0 };
	u32 n = val_for(v, 1);
	struct px_msg m = { .type = PAXOS_MSG_CHOSEN, .src = 2, .ballot = 0x102,
			    .instance = 1, .body = v, .len = n - 1 };

	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);	/* cut value */
	px_put_be32(v + 4 + 20, PAXOS_CMD_F_DUP);
	m.len = n;
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);	/* wire flags */
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 1, 0, v, n), -EINVAL);
	px_put_be32(v + 4 + 20, 0);
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 1, 0, v, 3), -EINVAL);
	CHECK_EQ(accept_msg(l, 2, B(1, 2), 0, 0, v, n), -EINVAL);
	m.instance = 0;
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	m.type = PAXOS_MSG_HEARTBEAT;
	m.instance = 1;
	m.body = body;
	m.len = PAXOS_HEARTBEAT_LEN - 1;
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	m.len = PAXOS_HEARTBEAT_LEN;
	px_put_be64(body, 3);
	px_put_be64(body + 8, 4);	/* trim > decided */
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	px_put_be64(body + 8, 0);
	px_put_be64(body + 16, 2);	/* commit run (2, 1] */
	px_put_be64(body + 24, 1);
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	px_put_be64(body + 16, 0);	/* commit run (0, 4], decided 3 */
	px_put_be64(body + 24, 4);
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	CHECK_EQ(accept_run(l, 2, B(1, 2), 1, 3, 0, 4, v, n), -EINVAL);
	CHECK_EQ(accept_run(l, 2, B(1, 2), 1, 3, 2, 1, v, n), -EINVAL);
	m.type = PAXOS_MSG_ACCEPTED;
	m.len = 0;
	m.body = NULL;
	m.ballot = 0;
	CHECK_EQ(px_learner_step(l, now, &m), -EINVAL);
	m.type = PAXOS_MSG_PREPARE;	/* not the learner's */
	CHECK_EQ(px_learner_step(l, now, &m), 0);
	CHECK_EQ(delivered(l), 0);
	CHECK(px_ready_empty(px_learner_ready(l)));
	/* a CHOSEN alone decides */
	m.type = PAXOS_MSG_CHOSEN;
	m.instance = 1;
	m.ballot = 0x102;
	m.body = v;
	m.len = n;
	CHECK_EQ(px_learner_step(l, now, &m), 0);
	CHECK_EQ(delivered(l), 1);
	px_learner_destroy(l);
	c.learner_slots = 3;
	CHECK(px_learner_create(&c, now) == NULL);
	px_learner_destroy(NULL);
}

int main(void)
{
	RUN(test_quorum);
	RUN(test_ballot_change);
	RUN(test_in_order);
	RUN(test_catchup);
	RUN(test_catchup_targets);
	RUN(test_dedup);
	RUN(test_dedup_shared);
	RUN(test_dedup_deterministic);
	RUN(test_retention);
	RUN(test_status);
	RUN(test_commit_run);
	RUN(test_malformed);
	CHECK_DONE();
}
