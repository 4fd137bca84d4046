// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Membership change: the configuration log (alpha rule, one change at a
 * time, one node per change), learners counting votes against the
 * configuration of each instance, and a candidate that needs a quorum of
 * every configuration in effect over its range.
 */
#include <string.h>

#include "check.h"
#include "px_wire.h"

#define N(x)		(1u << (x))
#define NODES123	(N(1) | N(2) | N(3))
#define NODES124	(N(1) | N(2) | N(4))
#define ALPHA		4
#define T0		1000000ull

/* A value of one membership command old -> new. */
static u32 change_val(u8 *v, u32 old, u32 new, u64 seq)
{
	px_put_be32(v, 1);
	px_put_be64(v + 4, PAXOS_CLIENT_MEMBERSHIP);
	px_put_be64(v + 12, seq);
	px_put_be32(v + 20, PAXOS_MEMBERSHIP_LEN);
	px_put_be32(v + 24, 0);
	px_put_be32(v + 28, old);
	px_put_be32(v + 32, new);
	return 4 + PAXOS_CMD_HDR_LEN + PAXOS_MEMBERSHIP_LEN;
}

static u32 noop_val(u8 *v)
{
	px_put_be32(v, 0);
	return 4;
}

static void test_valid(void)
{
	CHECK(px_membership_valid(NODES123, NODES123 | N(4)));
	CHECK(px_membership_valid(NODES123, N(1) | N(2)));
	CHECK(px_membership_valid(NODES123, NODES124));
	CHECK(!px_membership_valid(NODES123, NODES123));
	CHECK(!px_membership_valid(NODES123, N(1) | N(4) | N(5)));
	CHECK(!px_membership_valid(NODES123, N(1)));
	CHECK(!px_membership_valid(N(1), 0));
	CHECK(!px_membership_valid(NODES123, NODES123 | 1));
}

static void test_mlog(void)
{
	struct px_mlog ml, other, dec;
	u8 cmd[8], buf[PX_MLOG_MAX * PX_MLOG_ENTRY_LEN];
	u32 len;

	px_mlog_init(&ml, NODES123, ALPHA);
	CHECK_EQ(px_mlog_at(&ml, 1), NODES123);
	CHECK_EQ(px_mlog_at(&ml, ALPHA), NODES123);
	CHECK_EQ(px_mlog_at(&ml, ALPHA + 1), 0);	/* not known yet */
	CHECK_EQ(px_mlog_encode(&ml, NODES123, buf), 0);

	/* Decided at 3: in effect from 3 + alpha. */
	px_put_be32(cmd, NODES123);
	px_put_be32(cmd + 4, NODES124);
	CHECK(px_mlog_apply(&ml, 3, cmd, 8));
	px_mlog_advance(&ml, 3);
	CHECK_EQ(px_mlog_at(&ml, 6), NODES123);
	CHECK_EQ(px_mlog_at(&ml, 7), NODES124);
	CHECK_EQ(px_mlog_at(&ml, 8), 0);
	CHECK_EQ(px_mlog_latest(&ml), NODES124);
	/* Pending until 7: a second change is a no-op, even a valid one. */
	px_put_be32(cmd, NODES124);
	px_put_be32(cmd + 4, NODES124 | N(5));
	CHECK(!px_mlog_apply(&ml, 5, cmd, 8));
	CHECK_EQ(px_mlog_latest(&ml), NODES124);
	/* Stale old configuration: a no-op. */
	px_put_be32(cmd, NODES123);
	px_put_be32(cmd + 4, NODES123 | N(5));
	CHECK(!px_mlog_apply(&ml, 9, cmd, 8));
	CHECK(!px_mlog_apply(&ml, 9, cmd, 7));
	px_put_be32(cmd, NODES124);
	px_put_be32(cmd + 4, NODES124 | N(5));
	CHECK(px_mlog_apply(&ml, 9, cmd, 8));
	px_mlog_advance(&ml, 9);
	CHECK_EQ(px_mlog_at(&ml, 12), NODES124);
	CHECK_EQ(px_mlog_at(&ml, 13), NODES124 | N(5));

	/* STATUS encoding round trip; a learner that knows less merges. */
	len = px_mlog_encode(&ml, NODES123, buf);
	CHECK_EQ(len, 3 * PX_MLOG_ENTRY_LEN);
	CHECK_EQ(px_mlog_decode(&dec, NODES123, ALPHA, 9, buf, len), 0);
	CHECK_EQ(px_mlog_at(&dec, 13), NODES124 | N(5));
	CHECK_EQ(px_mlog_at(&dec, 14), 0);
	CHECK_EQ(px_mlog_decode(&dec, NODES123, ALPHA, 9, buf, len - 1),
		 -EINVAL);
	px_mlog_init(&other, NODES123, ALPHA);
	px_mlog_merge(&other, &dec);
	CHECK_EQ(other.n, 3);
	CHECK_EQ(px_mlog_at(&other, 2), NODES123);
	CHECK_EQ(px_mlog_at(&other, 8), NODES124);
	CHECK_EQ(px_mlog_at(&other, 13), NODES124 | N(5));
	/* Merging the initial log back changes nothing. */
	px_mlog_init(&dec, NODES123, ALPHA);
	px_mlog_merge(&other, &dec);
	CHECK_EQ(other.n, 3);
	CHECK_EQ(other.horizon, 9 + ALPHA);
}

/* ------------------------------------------------------------- learner */

static u64 now = T0;

static int lstep(struct px_learner *l, u8 type, u8 src, u64 b, u64 i,
		 const u8 *body, u32 len)
{
	struct px_msg m = { .type = type, .src = src, .dst = PAXOS_NODE_ALL,
			    .ballot = b, .instance = i, .body = body,
			    .len = len };

	return px_learner_step(l, now, &m);
}

static int accept_val(struct px_learner *l, u64 b, u64 i, const u8 *v,
		      u32 len)
{
	u8 body[PAXOS_ACCEPT_HDR_LEN + 128];

	memset(body, 0, PAXOS_ACCEPT_HDR_LEN);	/* decided, commit run */
	memcpy(body + PAXOS_ACCEPT_HDR_LEN, v, len);
	return lstep(l, PAXOS_MSG_ACCEPT, px_ballot_node(b), b, i, body,
		     PAXOS_ACCEPT_HDR_LEN + len);
}

static u64 ldelivered(struct px_learner *l)
{
	struct px_learner_info i;

	px_learner_info(l, &i);
	return i.delivered;
}

static void test_learner_switch(void)
{
	struct px_config c;
	struct px_learner *l;
	struct px_learner_info li;
	struct px_ready rd;
	u64 b = px_ballot_make(1, 1), i;
	u8 v[64];
	u32 len;
	int st = 0;

	px_config_default(&c, 4, NODES123);	/* 4: known, not a member */
	c.alpha = ALPHA;
	c.window = ALPHA;
	c.learner_slots = 16;
	l = px_learner_create(&c, now);
	CHECK(l != NULL);
	/* Instance 1 replaces 3 by 4: in effect from 1 + alpha = 5. */
	len = change_val(v, NODES123, NODES124, 1);
	CHECK_EQ(accept_val(l, b, 1, v, len), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 1, b, 1, NULL, 0), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 3, b, 1, NULL, 0), 0);
	CHECK_EQ(ldelivered(l), 1);
	px_learner_info(l, &li);
	CHECK_EQ(li.members, NODES123);
	CHECK_EQ(li.members_latest, NODES124);
	/* 2..4 still in {1,2,3}: votes of 1 and 3 decide, 4's do not. */
	for (i = 2; i <= 4; i++) {
		len = noop_val(v);
		CHECK_EQ(accept_val(l, b, i, v, len), 0);
		CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 4, b, i, NULL, 0), 0);
		CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 1, b, i, NULL, 0), 0);
		CHECK_EQ(ldelivered(l), i - 1);
		CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 3, b, i, NULL, 0), 0);
		CHECK_EQ(ldelivered(l), i);
	}
	/* 5 in {1,2,4}: 1 and 3 are no quorum any more, 1 and 4 are. */
	len = noop_val(v);
	CHECK_EQ(accept_val(l, b, 5, v, len), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 1, b, 5, NULL, 0), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 3, b, 5, NULL, 0), 0);
	CHECK_EQ(ldelivered(l), 4);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 4, b, 5, NULL, 0), 0);
	CHECK_EQ(ldelivered(l), 5);
	px_learner_info(l, &li);
	CHECK_EQ(li.members, NODES124);

	/* Votes beyond delivered + alpha wait for the configuration. */
	for (i = 7; i <= 10; i++) {
		len = noop_val(v);
		CHECK_EQ(accept_val(l, b, i, v, len), 0);
		CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 1, b, i, NULL, 0), 0);
		CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 2, b, i, NULL, 0), 0);
	}
	CHECK_EQ(ldelivered(l), 5);
	len = noop_val(v);
	CHECK_EQ(accept_val(l, b, 6, v, len), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 1, b, 6, NULL, 0), 0);
	CHECK_EQ(lstep(l, PAXOS_MSG_ACCEPTED, 2, b, 6, NULL, 0), 0);
	CHECK_EQ(ldelivered(l), 10);

	/* STATUS carries the configurations once they changed. */
	px_learner_tick(l, now + c.heartbeat_us);
	px_ready_take(px_learner_ready(l), &rd);
	for (struct px_obuf *o = rd.msgs; o; o = o->next) {
		struct px_mlog ml;

		if (o->type != PAXOS_MSG_STATUS)
			continue;
		st++;
		CHECK_EQ(o->len, 2 * PX_MLOG_ENTRY_LEN);
		CHECK_EQ(px_mlog_decode(&ml, NODES123, ALPHA, o->instance,
					o->body, o->len), 0);
		CHECK_EQ(px_mlog_at(&ml, 4), NODES123);
		CHECK_EQ(px_mlog_at(&ml, 5), NODES124);
	}
	CHECK_EQ(st, 1);
	px_ready_free(&rd);
	px_learner_destroy(l);
}

/* ------------------------------------------------------------ proposer */

static int pstep(struct px_proposer *p, u8 type, u8 src, u64 b, u64 i,
		 const u8 *body, u32 len)
{
	struct px_msg m = { .type = type, .src = src, .dst = PAXOS_NODE_ALL,
			    .ballot = b, .instance = i, .body = body,
			    .len = len };

	return px_proposer_step(p, now, &m);
}

static u8 pstate(struct px_proposer *p)
{
	struct px_proposer_info i;

	px_proposer_info(p, &i);
	return i.state;
}

/* Drain; the PREPARE's ballot and from if there was one. */
static bool prepared(struct px_proposer *p, u64 *b, u64 *from)
{
	struct px_ready rd;
	bool found = false;

	px_ready_take(px_proposer_ready(p), &rd);
	for (struct px_obuf *o = rd.msgs; o; o = o->next) {
		if (o->type != PAXOS_MSG_PREPARE)
			continue;
		*b = o->ballot;
		*from = o->instance;
		found = true;
	}
	px_ready_free(&rd);
	return found;
}

static u32 promise_empty(u8 *body)
{
	px_put_be64(body, 0);
	px_put_be64(body + 8, 0);
	px_put_be32(body + 16, 0);
	return 20;
}

/* A PROMISE reporting one accepted value at @inst. */
static u32 promise_one(u8 *body, u64 inst, u64 vb, const u8 *v, u32 len)
{
	px_put_be64(body, 0);
	px_put_be64(body + 8, inst);
	px_put_be32(body + 16, 1);
	px_put_be64(body + 20, inst);
	px_put_be64(body + 28, vb);
	px_put_be32(body + 36, len);
	memcpy(body + 40, v, len);
	return 40 + len;
}

static struct px_proposer *candidate(u8 self, u64 *b, u64 *from)
{
	struct px_config c;
	struct px_proposer *p;

	px_config_default(&c, self, NODES123);
	c.alpha = ALPHA;
	c.window = 2;
	c.election_us = 100000;
	p = px_proposer_create(&c, now);
	CHECK(p != NULL);
	px_proposer_tick(p, now + 2 * c.election_us);
	CHECK_EQ(pstate(p), PX_CANDIDATE);
	CHECK(prepared(p, b, from));
	return p;
}

/*
 * A change re-proposed from the PROMISEs (decided at 1 or about to be)
 * puts {1,2,4} in effect from 5: the candidate needs a quorum of both.
 */
static void test_phase1_both(void)
{
	u8 v[64], body[128];
	u64 b, from;
	u32 vlen, len;
	struct px_proposer *p = candidate(1, &b, &from);

	CHECK_EQ(from, 1);
	vlen = change_val(v, NODES123, NODES124, 7);
	len = promise_one(body, 1, px_ballot_make(1, 2), v, vlen);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 3, b, from, body, len), 0);
	len = promise_empty(body);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 1, b, from, body, len), 0);
	/* {1,3}: a quorum of {1,2,3}, not of {1,2,4}. */
	CHECK_EQ(pstate(p), PX_CANDIDATE);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 4, b, from, body, len), 0);
	CHECK_EQ(pstate(p), PX_LEADER);
	px_proposer_destroy(p);
}

/* Without the change, {1,3} is enough; a change is checked on propose. */
static void test_phase1_one(void)
{
	u8 body[128], cmd[8];
	u64 b, from;
	u32 len;
	struct px_proposer *p = candidate(1, &b, &from);

	len = promise_empty(body);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 3, b, from, body, len), 0);
	CHECK_EQ(pstate(p), PX_CANDIDATE);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 1, b, from, body, len), 0);
	CHECK_EQ(pstate(p), PX_LEADER);
	/* Not through the clients' path; one node per change. */
	px_put_be32(cmd, NODES123);
	px_put_be32(cmd + 4, NODES124);
	CHECK_EQ(px_proposer_propose(p, now, PAXOS_CLIENT_MEMBERSHIP, 1, cmd,
				     8), -EPERM);
	CHECK_EQ(px_proposer_propose_membership(p, now, 1, NODES123,
						N(1) | N(4) | N(5)), -EINVAL);
	CHECK_EQ(px_proposer_propose_membership(p, now, 1, NODES123, 0),
		 -EINVAL);
	CHECK_EQ(px_proposer_propose_membership(p, now, 1, NODES123,
						NODES124), 0);
	px_proposer_destroy(p);
}

/*
 * An idle leader fills the log with no-ops up to the instance a decided
 * change takes effect at, and no further.
 */
static void test_fill_noops(void)
{
	struct px_proposer_info info;
	u8 v[64], body[128];
	u64 b, from, i, top = 0;
	u32 vlen, len;
	struct px_proposer *p = candidate(1, &b, &from);
	struct px_ready rd;

	vlen = change_val(v, NODES123, NODES124, 7);
	len = promise_one(body, 1, px_ballot_make(1, 2), v, vlen);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 3, b, from, body, len), 0);
	len = promise_empty(body);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 1, b, from, body, len), 0);
	CHECK_EQ(pstep(p, PAXOS_MSG_PROMISE, 4, b, from, body, len), 0);
	CHECK_EQ(pstate(p), PX_LEADER);
	/* Vote for whatever is opened, as {1,2,3} and {1,2,4} would. */
	for (int round = 0; round < 8; round++) {
		px_ready_take(px_proposer_ready(p), &rd);
		for (struct px_obuf *o = rd.msgs; o; o = o->next)
			if (o->type == PAXOS_MSG_ACCEPT && o->instance > top)
				top = o->instance;
		px_ready_free(&rd);
		for (i = 1; i <= top; i++) {
			pstep(p, PAXOS_MSG_ACCEPTED, 1, b, i, NULL, 0);
			pstep(p, PAXOS_MSG_ACCEPTED, 2, b, i, NULL, 0);
		}
	}
	px_proposer_info(p, &info);
	CHECK_EQ(top, 1 + ALPHA - 1);	/* the change at 1, no-ops to 4 */
	CHECK_EQ(info.next, 1 + ALPHA);
	CHECK_EQ(info.decided, ALPHA);
	CHECK_EQ(info.stats.noops, ALPHA - 1);
	px_proposer_destroy(p);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_mlog);
	RUN(test_learner_switch);
	RUN(test_phase1_both);
	RUN(test_phase1_one);
	RUN(test_fill_noops);
	CHECK_DONE();
}
