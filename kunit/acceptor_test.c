// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: acceptor promise/accept rules (kmod/core/acceptor.c), persistence
 * records and restore.
 */
#include <linux/string.h>

#include "px_kunit.h"

#define B(round, node)	px_ballot_make(round, node)

/* The acceptor of node 2 of {1, 2, 3}. */
static struct px_acceptor *new_acceptor(struct kunit *test)
{
	struct px_config cfg;

	kpx_config(&cfg, 2, KPX_MEMBERS3);
	return kpx_acceptor(test, &cfg);
}

static int prepare(struct px_acceptor *a, u64 b, u64 from)
{
	struct px_msg m = kpx_msg(PAXOS_MSG_PREPARE, px_ballot_node(b), 2, b,
				  from, NULL, 0);

	return px_acceptor_step(a, &m);
}

/* ACCEPT(b, i) of a value holding one command "v<i>". */
static int accept_cmd(struct kunit *test, struct px_acceptor *a, u64 b,
		      u64 i, const char *data)
{
	struct kpx_cmd c = { 0xC11E, i, data };
	struct px_msg m;
	u32 vlen, blen;
	u8 *v = kpx_value(test, &c, 1, &vlen);
	u8 *body = kpx_accept_body(test, 0, v, vlen, &blen);

	m = kpx_msg(PAXOS_MSG_ACCEPT, px_ballot_node(b), PAXOS_NODE_ALL, b, i,
		    body, blen);
	return px_acceptor_step(a, &m);
}

static int heartbeat(struct kunit *test, struct px_acceptor *a, u64 b,
		     u64 next, u64 decided, u64 trim)
{
	struct px_msg m;
	u32 len;
	u8 *body = kpx_heartbeat_body(test, decided, trim, &len);

	m = kpx_msg(PAXOS_MSG_HEARTBEAT, px_ballot_node(b), PAXOS_NODE_ALL, b,
		    next, body, len);
	return px_acceptor_step(a, &m);
}

/* The single command of an accepted value. */
static void expect_value_cmd(struct kunit *test, const u8 *v, u32 len,
			     const char *data)
{
	struct px_cmd c[2];

	KUNIT_ASSERT_EQ(test, kpx_value_cmds(v, len, c, 2), 1);
	KUNIT_EXPECT_EQ(test, c[0].len, (u32)strlen(data));
	KUNIT_EXPECT_EQ(test, memcmp(c[0].data, data, c[0].len), 0);
}

static void acc_prepare_promises(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	struct px_ready *rd;
	struct px_record *r;
	struct px_obuf *o;
	struct kpx_entry e[1];
	u64 trim, high;

	KUNIT_ASSERT_EQ(test, prepare(a, B(1, 1), 1), 0);
	KUNIT_EXPECT_EQ(test, a->promised, B(1, 1));
	rd = kpx_take(test, &a->out);
	/* The promise is persisted before the PROMISE goes out. */
	KUNIT_ASSERT_EQ(test, rd->n_persist, 1u);
	r = kpx_find_record(rd, PX_REC_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->ballot, B(1, 1));
	KUNIT_ASSERT_EQ(test, rd->n_msgs, 1u);
	o = kpx_find(rd, PAXOS_MSG_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	KUNIT_EXPECT_EQ(test, o->ballot, B(1, 1));
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, kpx_promise_parse(o->body, o->len, &trim, &high,
						e, 1), 0);
	KUNIT_EXPECT_EQ(test, trim, 0ull);
	KUNIT_EXPECT_EQ(test, high, 0ull);

	/* The same ballot again: promised again, nothing new to persist. */
	KUNIT_ASSERT_EQ(test, prepare(a, B(1, 1), 1), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_PROMISE), 1u);

	/* A higher ballot from another node supersedes it. */
	KUNIT_ASSERT_EQ(test, prepare(a, B(2, 3), 1), 0);
	KUNIT_EXPECT_EQ(test, a->promised, B(2, 3));
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 1u);
	o = kpx_find(rd, PAXOS_MSG_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, 3);
	KUNIT_EXPECT_EQ(test, a->stats.promises, 3ull);
}

static void acc_prepare_lower_nacks(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	struct px_ready *rd;
	struct px_obuf *o;

	KUNIT_ASSERT_EQ(test, prepare(a, B(5, 3), 1), 0);
	kpx_take(test, &a->out);
	/* Lower round, and same round from a lower node id. */
	KUNIT_ASSERT_EQ(test, prepare(a, B(4, 1), 7), 0);
	KUNIT_ASSERT_EQ(test, prepare(a, B(5, 1), 7), 0);
	KUNIT_EXPECT_EQ(test, a->promised, B(5, 3));
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_PROMISE), 0u);
	KUNIT_ASSERT_EQ(test, kpx_count(rd, PAXOS_MSG_NACK), 2u);
	o = kpx_find(rd, PAXOS_MSG_NACK, 0);
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	/* A NACK carries the ballot to beat. */
	KUNIT_EXPECT_EQ(test, o->ballot, B(5, 3));
	KUNIT_EXPECT_EQ(test, a->stats.nacks, 2ull);
}

static void acc_accept_rules(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	struct px_ready *rd;
	struct px_record *r;
	struct px_obuf *o;

	KUNIT_ASSERT_EQ(test, prepare(a, B(1, 1), 1), 0);
	kpx_take(test, &a->out);

	/* b == promised: accepted, persisted, ACCEPTED to the leader. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 1, "one"), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_ASSERT_EQ(test, rd->n_persist, 1u);
	r = kpx_find_record(rd, PX_REC_ACCEPT, 0);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->ballot, B(1, 1));
	KUNIT_EXPECT_EQ(test, r->instance, 1ull);
	expect_value_cmd(test, r->value, r->len, "one");
	KUNIT_ASSERT_EQ(test, rd->n_msgs, 1u);
	o = kpx_find(rd, PAXOS_MSG_ACCEPTED, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	KUNIT_EXPECT_EQ(test, o->ballot, B(1, 1));
	KUNIT_EXPECT_EQ(test, o->instance, 1ull);
	KUNIT_EXPECT_EQ(test, o->len, 0u);
	KUNIT_EXPECT_EQ(test, a->highest, 1ull);

	/*
	 * b > promised without a PREPARE: the promise is raised and persisted
	 * first, then the value.
	 */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(2, 3), 2, "two"), 0);
	KUNIT_EXPECT_EQ(test, a->promised, B(2, 3));
	rd = kpx_take(test, &a->out);
	KUNIT_ASSERT_EQ(test, rd->n_persist, 2u);
	KUNIT_EXPECT_EQ(test, rd->persist->kind, PX_REC_PROMISE);
	KUNIT_EXPECT_EQ(test, rd->persist->ballot, B(2, 3));
	KUNIT_EXPECT_EQ(test, rd->persist->next->kind, PX_REC_ACCEPT);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPTED), 1u);

	/* b < promised: NACK to the sender, nothing stored. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 3, "three"), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPTED), 0u);
	o = kpx_find(rd, PAXOS_MSG_NACK, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->dst, 1);
	KUNIT_EXPECT_EQ(test, o->ballot, B(2, 3));
	KUNIT_EXPECT_EQ(test, o->instance, 3ull);
	KUNIT_EXPECT_EQ(test, a->highest, 2ull);

	/* A repeated ACCEPT (retransmission): ACCEPTED again, no record. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(2, 3), 2, "two"), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPTED), 1u);

	/* A later ballot overwrites the instance's value. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(3, 1), 1, "uno"), 0);
	rd = kpx_take(test, &a->out);
	r = kpx_find_record(rd, PX_REC_ACCEPT, 0);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->ballot, B(3, 1));
	expect_value_cmd(test, r->value, r->len, "uno");
}

/* PROMISE lists every accepted instance >= from with its ballot and value. */
static void acc_promise_reports_accepted(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	struct kpx_entry e[8];
	struct px_ready *rd;
	struct px_obuf *o;
	u64 trim, high;
	int n;

	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 1, "a1"), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 2, "a2"), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(2, 3), 3, "b3"), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(2, 3), 5, "b5"), 0);
	kpx_take(test, &a->out);

	KUNIT_ASSERT_EQ(test, prepare(a, B(3, 1), 2), 0);
	rd = kpx_take(test, &a->out);
	o = kpx_find(rd, PAXOS_MSG_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, o->instance, 2ull);
	n = kpx_promise_parse(o->body, o->len, &trim, &high, e, 8);
	KUNIT_ASSERT_EQ(test, n, 3);
	KUNIT_EXPECT_EQ(test, trim, 0ull);
	KUNIT_EXPECT_EQ(test, high, 5ull);
	KUNIT_EXPECT_EQ(test, e[0].instance, 2ull);
	KUNIT_EXPECT_EQ(test, e[0].vballot, B(1, 1));
	expect_value_cmd(test, e[0].value, e[0].len, "a2");
	KUNIT_EXPECT_EQ(test, e[1].instance, 3ull);
	KUNIT_EXPECT_EQ(test, e[1].vballot, B(2, 3));
	expect_value_cmd(test, e[1].value, e[1].len, "b3");
	KUNIT_EXPECT_EQ(test, e[2].instance, 5ull);
	KUNIT_EXPECT_EQ(test, e[2].vballot, B(2, 3));
	expect_value_cmd(test, e[2].value, e[2].len, "b5");
}

/* ACCEPT beyond the ring of acceptor_slots above trim: dropped, counted. */
static void acc_accept_beyond_ring(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	u32 slots = a->cfg.acceptor_slots;
	struct px_ready *rd;

	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), slots, "last"), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPTED), 1u);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), slots + 1, "over"),
			0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_msgs, 0u);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);
	KUNIT_EXPECT_EQ(test, a->stats.dropped_full, 1ull);
	KUNIT_EXPECT_EQ(test, a->highest, (u64)slots);
	/* Trimming slides the ring: now it fits. */
	KUNIT_ASSERT_EQ(test, heartbeat(test, a, B(1, 1), slots + 1, 1, 1), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), slots + 1, "over"),
			0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, kpx_count(rd, PAXOS_MSG_ACCEPTED), 1u);
	KUNIT_EXPECT_EQ(test, a->highest, (u64)slots + 1);
}

/* HEARTBEAT trim: instances <= trim are forgotten; promised unchanged. */
static void acc_heartbeat_trims(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	struct kpx_entry e[8];
	struct px_ready *rd;
	struct px_record *r;
	struct px_obuf *o;
	u64 trim, high, i;
	int n;

	for (i = 1; i <= 5; i++)
		KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), i, "x"), 0);
	kpx_take(test, &a->out);

	/* A heartbeat of a higher ballot: trims but promises nothing. */
	KUNIT_ASSERT_EQ(test, heartbeat(test, a, B(7, 3), 6, 5, 3), 0);
	KUNIT_EXPECT_EQ(test, a->promised, B(1, 1));
	KUNIT_EXPECT_EQ(test, a->trim, 3ull);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_msgs, 0u);
	KUNIT_ASSERT_EQ(test, rd->n_persist, 1u);
	r = kpx_find_record(rd, PX_REC_TRIM, 0);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->instance, 3ull);

	/* An older trim changes nothing and persists nothing. */
	KUNIT_ASSERT_EQ(test, heartbeat(test, a, B(7, 3), 6, 5, 2), 0);
	KUNIT_EXPECT_EQ(test, a->trim, 3ull);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);

	/* ACCEPT at or below trim: decided and forgotten, ignored. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 2, "late"), 0);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, rd->n_msgs, 0u);
	KUNIT_EXPECT_EQ(test, rd->n_persist, 0u);

	KUNIT_ASSERT_EQ(test, prepare(a, B(8, 1), 1), 0);
	rd = kpx_take(test, &a->out);
	o = kpx_find(rd, PAXOS_MSG_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, o);
	n = kpx_promise_parse(o->body, o->len, &trim, &high, e, 8);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, trim, 3ull);
	KUNIT_EXPECT_EQ(test, high, 5ull);
	KUNIT_EXPECT_EQ(test, e[0].instance, 4ull);
	KUNIT_EXPECT_EQ(test, e[1].instance, 5ull);
}

/* An acceptor rebuilt from its records answers exactly as the original. */
static void acc_restore(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test), *b = new_acceptor(test);
	struct px_ready *ra, *rb;
	struct px_obuf *oa, *ob;

	KUNIT_ASSERT_EQ(test, prepare(a, B(1, 1), 1), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 1, "p"), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 2, "q"), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(1, 1), 3, "r"), 0);
	KUNIT_ASSERT_EQ(test, heartbeat(test, a, B(1, 1), 4, 3, 1), 0);
	KUNIT_ASSERT_EQ(test, accept_cmd(test, a, B(2, 3), 3, "s"), 0);
	/* Every record, in the order written: 2 PROMISE, 4 ACCEPT, TRIM. */
	ra = kpx_take(test, &a->out);
	KUNIT_EXPECT_EQ(test, ra->n_persist, 7u);

	KUNIT_ASSERT_EQ(test, px_acceptor_restore(b, ra->persist), 0);
	KUNIT_EXPECT_EQ(test, b->promised, a->promised);
	KUNIT_EXPECT_EQ(test, b->trim, a->trim);
	KUNIT_EXPECT_EQ(test, b->highest, a->highest);

	KUNIT_ASSERT_EQ(test, prepare(a, B(9, 1), 1), 0);
	KUNIT_ASSERT_EQ(test, prepare(b, B(9, 1), 1), 0);
	ra = kpx_take(test, &a->out);
	rb = kpx_take(test, &b->out);
	oa = kpx_find(ra, PAXOS_MSG_PROMISE, 0);
	ob = kpx_find(rb, PAXOS_MSG_PROMISE, 0);
	KUNIT_ASSERT_NOT_NULL(test, oa);
	KUNIT_ASSERT_NOT_NULL(test, ob);
	KUNIT_ASSERT_EQ(test, oa->len, ob->len);
	KUNIT_EXPECT_EQ(test, memcmp(oa->body, ob->body, oa->len), 0);

	/* A lower ballot is refused by the restored acceptor too. */
	KUNIT_ASSERT_EQ(test, accept_cmd(test, b, B(2, 3), 4, "t"), 0);
	rb = kpx_take(test, &b->out);
	KUNIT_EXPECT_EQ(test, kpx_count(rb, PAXOS_MSG_NACK), 1u);
}

/* Bad input: -EINVAL and no state change, nothing sent. */
static void acc_rejects_malformed(struct kunit *test)
{
	struct px_acceptor *a = new_acceptor(test);
	static const struct kpx_cmd c = { 1, 1, "ok" };
	struct px_msg m;
	struct px_ready *rd;
	u32 vlen, blen;
	u8 *v = kpx_value(test, &c, 1, &vlen);
	u8 *body = kpx_accept_body(test, 0, v, vlen, &blen);
	u8 junk[8] = { 0 };

	/* ACCEPT shorter than its decided field and commit run. */
	m = kpx_msg(PAXOS_MSG_ACCEPT, 1, PAXOS_NODE_ALL, B(1, 1), 1, body,
		    PAXOS_ACCEPT_HDR_LEN - 1);
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	/* ACCEPT whose value is not a well-formed batch. */
	m.len = blen - 1;
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	/* A value carrying the learner-only DUP flag. */
	px_put_be32(body + PAXOS_ACCEPT_HDR_LEN + 4 + 20, PAXOS_CMD_F_DUP);
	m.len = blen;
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	px_put_be32(body + PAXOS_ACCEPT_HDR_LEN + 4 + 20, 0);
	/* A ballot that does not name its sender. */
	m.src = 3;
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	/* Instance 0. */
	m.src = 1;
	m.instance = 0;
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	/* PREPARE with a body; HEARTBEAT with trim > decided. */
	m = kpx_msg(PAXOS_MSG_PREPARE, 1, 2, B(1, 1), 1, junk, 8);
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), -EINVAL);
	KUNIT_EXPECT_EQ(test, heartbeat(test, a, B(1, 1), 2, 1, 2), -EINVAL);

	KUNIT_EXPECT_EQ(test, a->promised, 0ull);
	KUNIT_EXPECT_EQ(test, a->highest, 0ull);
	KUNIT_EXPECT_EQ(test, a->trim, 0ull);
	rd = kpx_take(test, &a->out);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(rd));

	/* Types that are not the acceptor's are ignored. */
	m = kpx_msg(PAXOS_MSG_STATUS, 1, PAXOS_NODE_ALL, 0, 4, NULL, 0);
	KUNIT_EXPECT_EQ(test, px_acceptor_step(a, &m), 0);
	KUNIT_EXPECT_TRUE(test, px_ready_empty(&a->out));
}

static struct kunit_case acceptor_cases[] = {
	KUNIT_CASE(acc_prepare_promises),
	KUNIT_CASE(acc_prepare_lower_nacks),
	KUNIT_CASE(acc_accept_rules),
	KUNIT_CASE(acc_promise_reports_accepted),
	KUNIT_CASE(acc_accept_beyond_ring),
	KUNIT_CASE(acc_heartbeat_trims),
	KUNIT_CASE(acc_restore),
	KUNIT_CASE(acc_rejects_malformed),
	{}
};

static struct kunit_suite acceptor_suite = {
	.name = "kpaxos_acceptor",
	.test_cases = acceptor_cases,
};

kunit_test_suite(acceptor_suite);
