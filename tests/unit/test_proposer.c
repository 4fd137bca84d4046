// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests for the proposer, driven only through the public API: events in
 * (propose, step, tick), messages out of px_proposer_ready(), decoded here.
 */
#include <string.h>

#include "check.h"
#include "../../kmod/core/px.h"
#include "../../kmod/core/px_wire.h"

#define NODES3	(1u << 1 | 1u << 2 | 1u << 3)
#define ELECT	100000u
#define RETX	20000u
#define HBEAT	10000u
#define DELAY	1000u
#define ONE_CMD	(PAXOS_BATCH_HDR_LEN + PAXOS_CMD_HDR_LEN + PAXOS_MAX_CMD)
#define BIG	30000u		/* two fit in a value of ONE_CMD bytes */

/* A message taken from the proposer's ready queue, body copied. */
struct tmsg {
	u8 type, dst;
	u64 ballot, instance;
	u32 len;
	u8 body[70000];
};

static struct tmsg out[64];

static void cfg3(struct px_config *c, u8 self, u32 members)
{
	px_config_default(c, self, members);
	c->window = 8;
	c->batch_bytes = 4096;
	c->batch_delay_us = DELAY;
	c->heartbeat_us = HBEAT;
	c->election_us = ELECT;
	c->retransmit_us = RETX;
	c->queue_bytes = 1 << 20;
	c->max_value = 1 << 20;
	c->seed = 42;
	CHECK_EQ(px_config_check(c, NULL), 0);
}

/* Take every message the proposer queued; returns how many. */
static int drain(struct px_proposer *p)
{
	struct px_ready rd;
	struct px_obuf *o;
	int n = 0;

	px_ready_take(px_proposer_ready(p), &rd);
	for (o = rd.msgs; o; o = o->next) {
		if (n < (int)PX_ARRAY_SIZE(out)) {
			out[n].type = o->type;
			out[n].dst = o->dst;
			out[n].ballot = o->ballot;
			out[n].instance = o->instance;
			out[n].len = o->len;
			if (o->len <= sizeof(out[n].body))
				memcpy(out[n].body, o->body, o->len);
		}
		n++;
	}
	px_ready_free(&rd);
	return n;
}

static int count_type(int n, u8 type)
{
	int i, c = 0;

	for (i = 0; i < n && i < (int)PX_ARRAY_SIZE(out); i++)
		c += out[i].type == type;
	return c;
}

static struct tmsg none;	/* what find() returns when nothing matches */

/* The message of @type for @instance, or &none (type 0, no body). */
static struct tmsg *find(int n, u8 type, u64 instance)
{
	int i;

	for (i = 0; i < n && i < (int)PX_ARRAY_SIZE(out); i++)
		if (out[i].type == type && out[i].instance == instance)
			return &out[i];
	return &none;
}

static bool has(int n, u8 type, u64 instance)
{
	return find(n, type, instance) != &none;
}

static struct tmsg *find_type(int n, u8 type)
{
	int i;

	for (i = 0; i < n && i < (int)PX_ARRAY_SIZE(out); i++)
		if (out[i].type == type)
			return &out[i];
	return NULL;
}

static int step(struct px_proposer *p, u64 now, u8 type, u8 src, u64 ballot,
		u64 instance, const u8 *body, u32 len)
{
	struct px_msg m = {
		.type = type, .src = src, .dst = PAXOS_NODE_ALL,
		.ballot = ballot, .instance = instance, .body = body, .len = len,
	};

	return px_proposer_step(p, now, &m);
}

static void info(struct px_proposer *p, struct px_proposer_info *i)
{
	px_proposer_info(p, i);
}

/* --- body builders ------------------------------------------------------ */

struct entry {
	u64 inst, vballot;
	const u8 *value;
	u32 len;
};

static u32 promise_body(u8 *b, u64 trim, u64 highest, const struct entry *e,
			u32 n)
{
	u8 *q = b + 20;
	u32 i;

	px_put_be64(b, trim);
	px_put_be64(b + 8, highest);
	px_put_be32(b + 16, n);
	for (i = 0; i < n; i++) {
		px_put_be64(q, e[i].inst);
		px_put_be64(q + 8, e[i].vballot);
		px_put_be32(q + 16, e[i].len);
		memcpy(q + 20, e[i].value, e[i].len);
		q += 20 + e[i].len;
	}
	return q - b;
}

/* A one-command batch value. */
static u32 value1(u8 *b, u64 client, u64 seq, const char *data)
{
	u32 len = strlen(data);

	px_put_be32(b, 1);
	px_put_be64(b + 4, client);
	px_put_be64(b + 12, seq);
	px_put_be32(b + 20, len);
	px_put_be32(b + 24, 0);
	memcpy(b + 28, data, len);
	return 28 + len;
}

static u8 hb_body[PAXOS_HEARTBEAT_LEN];

static const u8 *heartbeat_body(u64 decided, u64 trim)
{
	px_put_be64(hb_body, decided);
	px_put_be64(hb_body + 8, trim);
	px_put_be64(hb_body + 16, 0);	/* no commit run */
	px_put_be64(hb_body + 24, 0);
	return hb_body;
}

/* --- batch decoding ------------------------------------------------------ */

struct tcmd {
	u64 client, seq;
	u32 len;
	const u8 *data;
};

/* Decode a batch value; number of commands, -1 if malformed. */
static int decode_batch(const u8 *v, u32 len, struct tcmd *c, int max)
{
	u32 n, i, off = 4;

	static const u8 zeros[16];

	for (i = 0; (int)i < max; i++)
		c[i] = (struct tcmd){ .data = zeros };
	if (len < 4)
		return -1;
	n = px_get_be32(v);
	for (i = 0; i < n; i++) {
		u32 clen;

		if (off + 24 > len)
			return -1;
		clen = px_get_be32(v + off + 16);
		if (px_get_be32(v + off + 20) != 0 || off + 24 + clen > len)
			return -1;
		if ((int)i < max) {
			c[i].client = px_get_be64(v + off);
			c[i].seq = px_get_be64(v + off + 8);
			c[i].len = clen;
			c[i].data = v + off + 24;
		}
		off += 24 + clen;
	}
	return off == len ? (int)n : -1;
}

/* The value carried by an ACCEPT (after decided and the commit run). */
static int accept_cmds(const struct tmsg *m, struct tcmd *c, int max)
{
	if (!m || m->len < PAXOS_ACCEPT_HDR_LEN)
		return -1;
	return decode_batch(m->body + PAXOS_ACCEPT_HDR_LEN,
			    m->len - PAXOS_ACCEPT_HDR_LEN, c, max);
}

static bool accept_is_noop(const struct tmsg *m)
{
	return m && m->len == PAXOS_ACCEPT_HDR_LEN + 4 &&
	       px_get_be32(m->body + PAXOS_ACCEPT_HDR_LEN) == 0;
}

/* --- scenarios ------------------------------------------------------------ */

/* Run an election for @p at/after @now; returns the time it happened. */
static u64 campaign(struct px_proposer *p, u64 now)
{
	u64 t = px_proposer_next_deadline(p);

	if (t < now)
		t = now;
	px_proposer_tick(p, t);
	return t;
}

/* Make node 1 of three leader with empty promises from 1 and 2. */
static struct px_proposer *make_leader(struct px_config *c, u64 *now)
{
	struct px_proposer *p = px_proposer_create(c, 0);
	struct px_proposer_info i;
	u8 body[20];
	u32 len = promise_body(body, 0, 0, NULL, 0);
	u64 t;

	t = campaign(p, 0);
	info(p, &i);
	step(p, t, PAXOS_MSG_PROMISE, 1, i.ballot, 1, body, len);
	step(p, t, PAXOS_MSG_PROMISE, 2, i.ballot, 1, body, len);
	drain(p);
	*now = t;
	return p;
}

static void ack(struct px_proposer *p, u64 now, u64 ballot, u64 inst,
		u8 a, u8 b)
{
	step(p, now, PAXOS_MSG_ACCEPTED, a, ballot, inst, NULL, 0);
	step(p, now, PAXOS_MSG_ACCEPTED, b, ballot, inst, NULL, 0);
}

/* --- tests ---------------------------------------------------------------- */

static void test_election_prepare(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t;
	int n;

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 1000);
	CHECK(p);
	t = px_proposer_next_deadline(p);
	CHECK(t >= 1000 + ELECT && t < 1000 + 2 * ELECT);
	px_proposer_tick(p, t - 1);
	CHECK_EQ(drain(p), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);

	px_proposer_tick(p, t);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	CHECK_EQ(out[0].dst, PAXOS_NODE_ALL);
	CHECK_EQ(out[0].ballot, px_ballot_make(1, 1));
	CHECK_EQ(out[0].instance, 1);
	CHECK_EQ(out[0].len, 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_CANDIDATE);
	CHECK_EQ(i.ballot, px_ballot_make(1, 1));
	CHECK_EQ(i.leader, 0);
	CHECK_EQ(i.stats.elections, 1);

	/* PREPARE is retransmitted every retransmit_us while candidate. */
	CHECK_EQ(px_proposer_next_deadline(p), t + RETX);
	px_proposer_tick(p, t + RETX - 1);
	CHECK_EQ(drain(p), 0);
	px_proposer_tick(p, t + RETX);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	CHECK_EQ(out[0].ballot, px_ballot_make(1, 1));
	px_proposer_destroy(p);
}

static void test_election_after_leader(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t, b3 = px_ballot_make(5, 3);

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	/* A leader's heartbeat: follow it, learn decided, reset the timer. */
	CHECK_EQ(step(p, 50000, PAXOS_MSG_HEARTBEAT, 3, b3, 13,
		      heartbeat_body(12, 7),
	     PAXOS_HEARTBEAT_LEN), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);
	CHECK_EQ(i.leader, 3);
	CHECK_EQ(i.leader_ballot, b3);
	CHECK_EQ(i.decided, 12);
	t = px_proposer_next_deadline(p);
	CHECK(t >= 50000 + ELECT && t < 50000 + 2 * ELECT);
	/* A lower ballot does not count as the leader. */
	step(p, 60000, PAXOS_MSG_HEARTBEAT, 2, px_ballot_make(4, 2), 13,
	     heartbeat_body(20, 0),
	     PAXOS_HEARTBEAT_LEN);
	info(p, &i);
	CHECK_EQ(i.leader, 3);
	CHECK_EQ(i.decided, 12);
	CHECK_EQ(px_proposer_next_deadline(p), t);

	/* Every learner has delivered 12. */
	step(p, 60000, PAXOS_MSG_STATUS, 1, 0, 12, NULL, 0);
	step(p, 60000, PAXOS_MSG_STATUS, 2, 0, 12, NULL, 0);
	step(p, 60000, PAXOS_MSG_STATUS, 3, 0, 12, NULL, 0);
	CHECK_EQ(px_proposer_next_deadline(p), t);

	/* Silence: campaign with round 6, from decided + 1. */
	px_proposer_tick(p, t);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	CHECK_EQ(out[0].ballot, px_ballot_make(6, 1));
	CHECK_EQ(out[0].instance, 13);
	px_proposer_destroy(p);
}

/*
 * Instances 10..12 are chosen but learner 2 has only delivered 9: phase 1
 * starts at 10 and the new leader proposes the acceptors' values again.
 */
static void test_election_from_lagging_learner(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 v[3][64], body[512];
	struct entry e[3];
	struct tcmd cmd[2];
	u64 t, b3 = px_ballot_make(5, 3), b;
	u32 len;
	int k, n;

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	step(p, 1000, PAXOS_MSG_HEARTBEAT, 3, b3, 13, heartbeat_body(12, 9),
	     PAXOS_HEARTBEAT_LEN);
	step(p, 1000, PAXOS_MSG_STATUS, 1, 0, 12, NULL, 0);
	step(p, 1000, PAXOS_MSG_STATUS, 2, 0, 9, NULL, 0);
	step(p, 1000, PAXOS_MSG_STATUS, 3, 0, 12, NULL, 0);
	t = campaign(p, 0);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	CHECK_EQ(out[0].instance, 10);
	b = out[0].ballot;
	CHECK_EQ(b, px_ballot_make(6, 1));

	for (k = 0; k < 3; k++)
		e[k] = (struct entry){ 10 + k, b3, v[k],
				       value1(v[k], 4, 10 + k, "old") };
	len = promise_body(body, 9, 12, e, 3);
	/* A learner that says 12 is decided does not stop the recovery. */
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 12, NULL, 0);
	step(p, t, PAXOS_MSG_PROMISE, 2, b, 10, body, len);
	step(p, t, PAXOS_MSG_PROMISE, 3, b, 10, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	CHECK_EQ(i.decided, 9);
	CHECK_EQ(i.next, 13);
	n = drain(p);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 3);
	for (k = 0; k < 3; k++) {
		CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 10 + k), cmd, 2),
			 1);
		CHECK_EQ(cmd[0].seq, 10 + k);
	}
	px_proposer_destroy(p);
}

/* A wide PREPARE that gets no quorum is narrowed, same ballot. */
static void test_prepare_narrows(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 body[20];
	u32 len = promise_body(body, 0, 0, NULL, 0);
	u64 t, b;
	int k;

	cfg3(&c, 1, NODES3);
	c.batch_bytes = 4096;		/* narrow: 1 MiB / 4096 = 256 back */
	p = px_proposer_create(&c, 0);
	step(p, 10, PAXOS_MSG_HEARTBEAT, 2, px_ballot_make(1, 2), 1001,
	     heartbeat_body(1000, 0),
	     PAXOS_HEARTBEAT_LEN);
	/* No learner heard from: reach back to instance 1. */
	t = campaign(p, 0);
	/* A learner far ahead: the configurations up to 1000 are known. */
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 1000, NULL, 0);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].instance, 1);
	b = out[0].ballot;
	for (k = 1; k <= 2; k++) {
		px_proposer_tick(p, t + k * RETX);
		CHECK_EQ(drain(p), 1);
		CHECK_EQ(out[0].instance, 1);
	}
	/* One promise for the wide from, then the narrowing drops it. */
	step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len);
	px_proposer_tick(p, t + 3 * RETX);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	CHECK_EQ(out[0].ballot, b);
	CHECK_EQ(out[0].instance, 1000 - 256 + 1);
	step(p, t, PAXOS_MSG_PROMISE, 3, b, 745, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_CANDIDATE);
	step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_CANDIDATE);
	step(p, t, PAXOS_MSG_PROMISE, 2, b, 745, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	CHECK_EQ(i.next, 745);
	px_proposer_destroy(p);
}

static void test_timer_reset_by_heartbeat(void)
{
	struct px_config c;
	struct px_proposer *p;
	u64 b2 = px_ballot_make(1, 2), t;
	int k;

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	/* Heartbeats every 50 ms for a second: never a PREPARE. */
	for (k = 1; k <= 20; k++) {
		t = k * 50000ull;
		step(p, t, PAXOS_MSG_HEARTBEAT, 2, b2, 1,
		     heartbeat_body(0, 0),
	     PAXOS_HEARTBEAT_LEN);
		px_proposer_tick(p, t + 49999);
		CHECK_EQ(drain(p), 0);
	}
	/* ACCEPTED for the leader's ballot also shows it alive. */
	step(p, 1100000, PAXOS_MSG_ACCEPTED, 3, b2, 1, NULL, 0);
	CHECK(px_proposer_next_deadline(p) >= 1100000 + ELECT);
	px_proposer_destroy(p);
}

static void test_promise_quorum_adopts(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 va[64], vb[64], vc[64], body[512];
	struct entry e2[2], e3[1];
	struct tcmd cmd[4];
	u32 la, lb, lc, len;
	u64 t, b;
	int n;

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	drain(p);
	b = px_ballot_make(1, 1);
	la = value1(va, 7, 1, "aaaa");
	lb = value1(vb, 7, 2, "bbbb");
	lc = value1(vc, 8, 1, "cccc");
	/* Acceptor 2: instance 1 (old ballot) and 3. */
	e2[0] = (struct entry){ 1, px_ballot_make(0, 2), va, la };
	e2[1] = (struct entry){ 3, px_ballot_make(0, 2), vb, lb };
	/* Acceptor 3: instance 1 in a higher ballot; highest 4 (a hole). */
	e3[0] = (struct entry){ 1, px_ballot_make(0, 3), vc, lc };

	len = promise_body(body, 0, 3, e2, 2);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), 0);
	/* Counted once: a duplicate is not a quorum. */
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), 0);
	/* Wrong ballot or wrong from: ignored. */
	len = promise_body(body, 0, 4, e3, 1);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 3, b + 0x100, 1, body, len), 0);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 3, b, 2, body, len), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_CANDIDATE);
	CHECK_EQ(drain(p), 0);

	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 3, b, 1, body, len), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	CHECK_EQ(i.leader, 1);
	CHECK_EQ(i.decided, 0);
	CHECK_EQ(i.next, 5);
	n = drain(p);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 4);
	CHECK_EQ(count_type(n, PAXOS_MSG_HEARTBEAT), 1);
	/* Instance 1: the value with the highest vballot (acceptor 3's). */
	CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 1), cmd, 4), 1);
	CHECK_EQ(cmd[0].client, 8);
	CHECK_EQ(cmd[0].seq, 1);
	CHECK(cmd[0].len == 4 && !memcmp(cmd[0].data, "cccc", 4));
	CHECK(accept_is_noop(find(n, PAXOS_MSG_ACCEPT, 2)));
	CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 3), cmd, 4), 1);
	CHECK_EQ(cmd[0].seq, 2);
	CHECK(!memcmp(cmd[0].data, "bbbb", 4));
	CHECK(accept_is_noop(find(n, PAXOS_MSG_ACCEPT, 4)));
	CHECK(!has(n, PAXOS_MSG_ACCEPT, 5));
	/* All in our ballot, to everyone, decided 0 so far; in order. */
	for (n = 0; n < 5; n++) {
		if (out[n].type != PAXOS_MSG_ACCEPT)
			continue;
		CHECK_EQ(out[n].ballot, b);
		CHECK_EQ(out[n].dst, PAXOS_NODE_ALL);
		CHECK_EQ(px_get_be64(out[n].body), 0);
	}
	CHECK(has(5, PAXOS_MSG_ACCEPT, 1) &&
	      find(5, PAXOS_MSG_ACCEPT, 1) < find(5, PAXOS_MSG_ACCEPT, 4));
	info(p, &i);
	CHECK_EQ(i.stats.noops, 2);
	CHECK_EQ(i.stats.instances, 4);

	/* Late promises are ignored; new commands go after the recovery. */
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 1, b, 1, body, len), 0);
	CHECK_EQ(drain(p), 0);
	CHECK_EQ(px_proposer_propose(p, t, 9, 1, "new", 3), 0);
	CHECK_EQ(drain(p), 0);		/* busy: waits for the delay */
	px_proposer_tick(p, t + DELAY);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].instance, 5);
	px_proposer_destroy(p);
}

static void test_promise_trim_skips(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 va[64], vb[64], body[512];
	struct entry e[2];
	struct tcmd cmd[2];
	u64 t, b;
	u32 len;
	int n;

	cfg3(&c, 2, NODES3);
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	drain(p);
	b = px_ballot_make(1, 2);
	/* Configurations are known up to the trim: a learner delivered it. */
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 5, NULL, 0);
	e[0] = (struct entry){ 3, 0x101, va, value1(va, 1, 1, "old") };
	e[1] = (struct entry){ 6, 0x101, vb, value1(vb, 1, 2, "six") };
	len = promise_body(body, 5, 7, e, 2);
	step(p, t, PAXOS_MSG_PROMISE, 1, b, 1, body, len);
	len = promise_body(body, 2, 0, NULL, 0);
	step(p, t, PAXOS_MSG_PROMISE, 3, b, 1, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	CHECK_EQ(i.decided, 5);
	CHECK_EQ(i.next, 8);
	n = drain(p);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 2);
	CHECK(!has(n, PAXOS_MSG_ACCEPT, 3));
	CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 6), cmd, 2), 1);
	CHECK(!memcmp(cmd[0].data, "six", 3));
	CHECK(accept_is_noop(find(n, PAXOS_MSG_ACCEPT, 7)));
	CHECK_EQ(px_get_be64(find(n, PAXOS_MSG_ACCEPT, 6)->body), 5);
	px_proposer_destroy(p);
}

static void test_promise_keeps_higher(void)
{
	struct px_config c;
	struct px_proposer *p;
	u8 vx[64], vy[64], body[256];
	struct entry e;
	struct tcmd cmd[2];
	u64 t, b = px_ballot_make(1, 3);
	u32 len;
	int n;

	cfg3(&c, 3, NODES3);
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	drain(p);
	/* The higher vballot arrives first and must not be replaced. */
	e = (struct entry){ 1, 5, vx, value1(vx, 1, 1, "X") };
	len = promise_body(body, 0, 1, &e, 1);
	step(p, t, PAXOS_MSG_PROMISE, 3, b, 1, body, len);
	e = (struct entry){ 1, 4, vy, value1(vy, 1, 2, "Y") };
	len = promise_body(body, 0, 1, &e, 1);
	step(p, t, PAXOS_MSG_PROMISE, 1, b, 1, body, len);
	n = drain(p);
	CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 1), cmd, 2), 1);
	CHECK_EQ(cmd[0].seq, 1);
	CHECK_EQ(cmd[0].data[0], 'X');
	px_proposer_destroy(p);
}

static void test_malformed_promise(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 va[64], body[512];
	struct entry e[1];
	u64 t, b = px_ballot_make(1, 1);
	u32 len;

	cfg3(&c, 1, NODES3);
	c.max_value = ONE_CMD;
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	drain(p);
	e[0] = (struct entry){ 1, 0x102, va, value1(va, 1, 1, "x") };
	len = promise_body(body, 0, 1, e, 1);

	/* Truncated header, truncated entry, trailing garbage. */
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, 19), -EINVAL);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len - 1),
		 -EINVAL);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len + 1),
		 -EINVAL);
	/* Count claims more entries than the body holds. */
	px_put_be32(body + 16, 1000000);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), -EINVAL);
	px_put_be32(body + 16, 1);
	/* An entry length beyond max_value (and beyond the body). */
	px_put_be32(body + 36, ONE_CMD + 1);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), -EINVAL);
	px_put_be32(body + 36, 0xffffffff);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), -EINVAL);
	/* NULL body with a length. */
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, NULL, 20), -EINVAL);

	/* None of them counted: 3's promise alone is no quorum. */
	len = promise_body(body, 0, 1, e, 1);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 3, b, 1, body, len), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_CANDIDATE);
	CHECK_EQ(step(p, t, PAXOS_MSG_PROMISE, 2, b, 1, body, len), 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	px_proposer_destroy(p);
}

static void test_nack_steps_down(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tcmd cmd[4];
	u64 t, b2 = px_ballot_make(3, 2);
	int n;

	cfg3(&c, 1, NODES3);
	p = make_leader(&c, &t);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	/* Two in flight, then a command that waits for the batch delay. */
	CHECK_EQ(px_proposer_propose(p, t, 5, 1, "one", 3), 0);
	CHECK_EQ(px_proposer_propose(p, t, 5, 2, "two", 3), 0);
	CHECK_EQ(drain(p), 1);
	/* A stale NACK changes nothing. */
	step(p, t, PAXOS_MSG_NACK, 2, px_ballot_make(0, 2), 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);

	step(p, t + 1, PAXOS_MSG_NACK, 3, b2, 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);
	CHECK_EQ(i.leader, 2);
	CHECK_EQ(i.stats.nacks, 2);
	CHECK_EQ(i.queued_bytes, 0);
	/* The queued command goes to the new leader. */
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_FORWARD);
	CHECK_EQ(out[0].dst, 2);
	CHECK_EQ(decode_batch(out[0].body, out[0].len, cmd, 4), 1);
	CHECK_EQ(cmd[0].seq, 2);
	/* The abandoned instance is not retransmitted. */
	px_proposer_tick(p, t + RETX + 1);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);
	/* Next campaign goes above the ballot that deposed us. */
	px_proposer_tick(p, px_proposer_next_deadline(p));
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].ballot, px_ballot_make(4, 1));
	px_proposer_destroy(p);
}

static void test_candidate_nack_and_heartbeat(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t;

	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	drain(p);
	/* A rival candidate's NACK. */
	step(p, t, PAXOS_MSG_NACK, 2, px_ballot_make(2, 3), 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);
	CHECK_EQ(i.leader, 3);
	/* No PREPARE retransmission once a follower. */
	px_proposer_tick(p, t + RETX);
	CHECK_EQ(drain(p), 0);

	/* A leader with a higher ballot deposes us as leader too. */
	px_proposer_destroy(p);
	p = make_leader(&c, &t);
	step(p, t, PAXOS_MSG_HEARTBEAT, 1, px_ballot_make(1, 1), 1,
	     heartbeat_body(0, 0),
	     PAXOS_HEARTBEAT_LEN);	/* our own: ignored */
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	step(p, t, PAXOS_MSG_HEARTBEAT, 3, px_ballot_make(2, 3), 1,
	     heartbeat_body(0, 0),
	     PAXOS_HEARTBEAT_LEN);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);
	CHECK_EQ(i.leader, 3);
	CHECK_EQ(i.leader_ballot, px_ballot_make(2, 3));
	CHECK_EQ(step(p, t, PAXOS_MSG_HEARTBEAT, 3, px_ballot_make(2, 3), 1,
		      hb_body, 15), -EINVAL);
	px_proposer_destroy(p);
}

static void test_window_and_slide(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t, b = px_ballot_make(1, 1);
	int k, n;

	cfg3(&c, 1, NODES3);
	c.window = 4;
	c.batch_bytes = 4 + 24 + 8;	/* one 8-byte command fills a batch */
	p = make_leader(&c, &t);
	for (k = 1; k <= 7; k++)
		CHECK_EQ(px_proposer_propose(p, t, 1, k, "12345678", 8), 0);
	n = drain(p);
	CHECK_EQ(n, 4);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 4);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 4) && !has(n, PAXOS_MSG_ACCEPT, 5));
	info(p, &i);
	CHECK_EQ(i.next, 5);
	CHECK_EQ(i.queued_bytes, 3 * 32);
	/* Even after the batch delay: the window is full. */
	px_proposer_tick(p, t + DELAY);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);

	/* Instance 2 chosen out of order: no slide yet. */
	ack(p, t, b, 2, 2, 3);
	info(p, &i);
	CHECK_EQ(i.decided, 0);
	CHECK_EQ(drain(p), 0);
	/* One vote, twice from the same acceptor: not chosen. */
	ack(p, t, b, 1, 3, 3);
	info(p, &i);
	CHECK_EQ(i.decided, 0);
	/* Wrong ballot: ignored. */
	step(p, t, PAXOS_MSG_ACCEPTED, 2, b - 0x100, 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 0);
	/* Our own acceptor's vote makes the quorum: 1 and 2 decided. */
	step(p, t, PAXOS_MSG_ACCEPTED, 1, b, 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 2);
	CHECK_EQ(i.next, 7);
	n = drain(p);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 2);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 5) && has(n, PAXOS_MSG_ACCEPT, 6));
	CHECK_EQ(px_get_be64(find(n, PAXOS_MSG_ACCEPT, 5)->body), 2);
	/* Votes for decided instances are ignored. */
	ack(p, t, b, 1, 2, 3);
	info(p, &i);
	CHECK_EQ(i.decided, 2);
	ack(p, t, b, 3, 2, 3);
	ack(p, t, b, 4, 2, 3);
	info(p, &i);
	CHECK_EQ(i.decided, 4);
	CHECK_EQ(i.next, 8);
	CHECK_EQ(i.queued_bytes, 0);
	CHECK_EQ(i.stats.batches, 7);
	CHECK_EQ(i.stats.cmds, 7);
	px_proposer_destroy(p);
}

static void test_retransmit(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t, b = px_ballot_make(1, 1);
	int n;

	cfg3(&c, 1, NODES3);
	c.batch_bytes = 4 + 24 + 1;
	c.heartbeat_us = 50000;
	p = make_leader(&c, &t);
	px_proposer_propose(p, t, 1, 1, "a", 1);
	px_proposer_propose(p, t + 10, 1, 2, "b", 1);
	px_proposer_propose(p, t + 20, 1, 3, "c", 1);
	CHECK_EQ(drain(p), 3);
	ack(p, t + 30, b, 2, 2, 3);
	CHECK_EQ(px_proposer_next_deadline(p), t + RETX);
	px_proposer_tick(p, t + RETX - 1);
	CHECK_EQ(drain(p), 0);
	px_proposer_tick(p, t + RETX + 20);
	n = drain(p);
	/* 1 and 3 again (2 is chosen), with the same value and ballot. */
	CHECK_EQ(n, 2);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 1) && has(n, PAXOS_MSG_ACCEPT, 3));
	CHECK_EQ(find(n, PAXOS_MSG_ACCEPT, 3)->ballot, b);
	CHECK_EQ(find(n, PAXOS_MSG_ACCEPT, 3)->len,
		 PAXOS_ACCEPT_HDR_LEN + 4 + 24 + 1);
	CHECK_EQ(find(n, PAXOS_MSG_ACCEPT, 3)->body[PAXOS_ACCEPT_HDR_LEN + 28],
		 'c');
	info(p, &i);
	CHECK_EQ(i.stats.retransmits, 2);
	CHECK_EQ(px_proposer_next_deadline(p), t + 2 * RETX + 20);
	px_proposer_destroy(p);
}

static void test_batching(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tcmd cmd[8];
	static u8 big[300];
	u64 t;
	int n;

	cfg3(&c, 1, NODES3);
	c.batch_bytes = 100;		/* 4 + 2 x 34 fits, 3 do not */
	p = make_leader(&c, &t);
	/* Idle pipeline: the first command goes at once, alone. */
	CHECK_EQ(px_proposer_propose(p, t, 1, 1, "0123456789", 10), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 1);

	/* Busy: commands wait for the batch delay ... */
	CHECK_EQ(px_proposer_propose(p, t + 100, 1, 2, "0123456789", 10), 0);
	CHECK_EQ(px_proposer_propose(p, t + 200, 2, 1, "abcdefghij", 10), 0);
	CHECK_EQ(drain(p), 0);
	CHECK_EQ(px_proposer_next_deadline(p), t + 100 + DELAY);
	px_proposer_tick(p, t + 100 + DELAY - 1);
	CHECK_EQ(drain(p), 0);
	px_proposer_tick(p, t + 100 + DELAY);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].instance, 2);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 2);
	CHECK_EQ(cmd[0].client, 1);
	CHECK_EQ(cmd[0].seq, 2);
	CHECK_EQ(cmd[1].client, 2);
	CHECK(cmd[1].len == 10 && !memcmp(cmd[1].data, "abcdefghij", 10));

	/* ... or until batch_bytes are queued: cut 2, keep the third. */
	t += 5000;
	px_proposer_propose(p, t, 3, 1, "0123456789", 10);
	px_proposer_propose(p, t, 3, 2, "0123456789", 10);
	CHECK_EQ(drain(p), 0);
	px_proposer_propose(p, t, 3, 3, "0123456789", 10);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 2);
	CHECK_EQ(cmd[1].seq, 2);
	CHECK(out[0].len <= 8 + 100);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, 34);

	/* A command bigger than batch_bytes goes alone. */
	px_proposer_propose(p, t, 4, 1, big, sizeof(big));
	n = drain(p);
	CHECK_EQ(n, 2);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 1);
	CHECK_EQ(cmd[0].client, 3);
	CHECK_EQ(accept_cmds(&out[1], cmd, 8), 1);
	CHECK_EQ(cmd[0].client, 4);
	CHECK_EQ(cmd[0].len, sizeof(big));
	info(p, &i);
	CHECK_EQ(i.queued_bytes, 0);
	CHECK_EQ(i.stats.batches, 5);
	CHECK_EQ(i.stats.cmds, 7);
	px_proposer_destroy(p);
}

/* Command k of the queue test: its length and its bytes. */
static u32 qcmd_len(u32 k)
{
	return k % 203;
}

static u8 qcmd_byte(u32 k, u32 j)
{
	return (u8)(k * 7 + j);
}

static void propose_k(struct px_proposer *p, u64 now, u32 k)
{
	static u8 data[256];
	u32 j;

	for (j = 0; j < qcmd_len(k); j++)
		data[j] = qcmd_byte(k, j);
	CHECK_EQ(px_proposer_propose(p, now, 7, k + 1, data, qcmd_len(k)), 0);
}

/*
 * The queue keeps commands in chunks of 64 KiB: thousands of commands of
 * odd sizes, queued while a candidate and then while batches are cut,
 * come out whole and in order across the chunks.
 */
static void test_queue_chunks(void)
{
	enum { FIRST = 4000, TOTAL = 6000 };
	static struct tcmd cmd[1000];
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 body[20];
	u32 len = promise_body(body, 0, 0, NULL, 0), k, j, seen = 0;
	u32 queued = 0;
	u64 t, inst = 1;
	int n, m, x;

	cfg3(&c, 1, NODES3);
	c.window = 1;
	c.batch_bytes = 16384;
	p = px_proposer_create(&c, 0);
	t = campaign(p, 0);
	/* A candidate keeps what it is given: ~490 KB, eight chunks. */
	while (queued < FIRST)
		propose_k(p, t, queued++);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, FIRST * 24 + (FIRST / 203) * 20503 +
		 (FIRST % 203) * (FIRST % 203 - 1) / 2);
	step(p, t, PAXOS_MSG_PROMISE, 1, i.ballot, 1, body, len);
	step(p, t, PAXOS_MSG_PROMISE, 2, i.ballot, 1, body, len);
	while (seen < TOTAL) {
		n = drain(p);
		x = -1;
		for (m = 0; m < n; m++)
			if (out[m].type == PAXOS_MSG_ACCEPT)
				x = m;
		CHECK(x >= 0);
		if (x < 0)
			break;
		CHECK_EQ(out[x].instance, inst);
		m = accept_cmds(&out[x], cmd, PX_ARRAY_SIZE(cmd));
		CHECK(m > 0 && out[x].len <= PAXOS_ACCEPT_HDR_LEN + 16384);
		for (x = 0; x < m; x++, seen++) {
			CHECK_EQ(cmd[x].seq, seen + 1);
			CHECK_EQ(cmd[x].len, qcmd_len(seen));
			for (j = 0; j < cmd[x].len; j++)
				if (cmd[x].data[j] != qcmd_byte(seen, j))
					break;
			CHECK_EQ(j, cmd[x].len);
		}
		/* More arrive while the head chunks drain. */
		for (k = 0; k < 37 && queued < TOTAL; k++)
			propose_k(p, t, queued++);
		ack(p, t, i.ballot, inst++, 2, 3);
	}
	CHECK_EQ(seen, TOTAL);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, 0);
	CHECK_EQ(i.stats.cmds, TOTAL);
	/* The emptied queue takes commands again. */
	propose_k(p, t, 0);
	CHECK_EQ(accept_cmds(find(drain(p), PAXOS_MSG_ACCEPT, inst), cmd, 4),
		 1);
	px_proposer_destroy(p);
}

/* Commands queued together go out in one instance at the flush. */
static void test_queue_flush(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct tcmd cmd[8];
	static u8 data[PAXOS_MAX_CMD];
	u64 t;
	int k;

	cfg3(&c, 1, NODES3);
	p = make_leader(&c, &t);
	for (k = 1; k <= 3; k++)
		CHECK_EQ(px_proposer_queue(p, t, 1, k, "abc", 3), 0);
	CHECK_EQ(drain(p), 0);
	CHECK_EQ(px_proposer_queue(p, t, 1, 4, data, PAXOS_MAX_CMD + 1),
		 -EMSGSIZE);
	CHECK_EQ(px_proposer_queue(p, t, PAXOS_CLIENT_MEMBERSHIP, 4, "abc",
				   3), -EPERM);
	px_proposer_flush(p, t);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(out[0].instance, 1);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 3);
	CHECK_EQ(cmd[2].seq, 3);
	/* A flush with nothing new sends nothing. */
	px_proposer_flush(p, t);
	CHECK_EQ(drain(p), 0);
	px_proposer_destroy(p);
}

static void test_max_value_bound(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tcmd cmd[8];
	static u8 data[PAXOS_MAX_CMD];
	u64 t;
	int k, n;

	cfg3(&c, 1, NODES3);
	c.max_value = ONE_CMD;
	c.batch_bytes = ONE_CMD;
	CHECK_EQ(px_config_check(&c, NULL), 0);
	p = make_leader(&c, &t);
	CHECK_EQ(px_proposer_propose(p, t, 1, 1, data, BIG), 0);
	CHECK_EQ(drain(p), 1);
	CHECK_EQ(px_proposer_propose(p, t, 1, 2, data, BIG), 0);
	CHECK_EQ(px_proposer_propose(p, t, 1, 3, data, BIG), 0);
	CHECK_EQ(drain(p), 0);
	/* Three queued exceed the batch: two fit in one value. */
	CHECK_EQ(px_proposer_propose(p, t, 1, 4, data, BIG), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 2);
	CHECK_EQ(cmd[1].seq, 3);
	/* The largest command fills a value on its own. */
	CHECK_EQ(px_proposer_propose(p, t, 2, 1, data, PAXOS_MAX_CMD), 0);
	n = drain(p);
	CHECK_EQ(n, 2);
	for (k = 0; k < n; k++)
		CHECK(out[k].len - PAXOS_ACCEPT_HDR_LEN <= c.max_value);
	CHECK_EQ(accept_cmds(&out[0], cmd, 8), 1);
	CHECK_EQ(cmd[0].seq, 4);
	CHECK_EQ(accept_cmds(&out[1], cmd, 8), 1);
	CHECK_EQ(cmd[0].client, 2);
	CHECK_EQ(out[1].len - PAXOS_ACCEPT_HDR_LEN, ONE_CMD);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, 0);
	px_proposer_destroy(p);
}

static void test_propose_errors(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	static u8 data[PAXOS_MAX_CMD + 1];

	cfg3(&c, 1, NODES3);
	c.queue_bytes = 2 * (24 + PAXOS_MAX_CMD) + 24 + 99;
	p = px_proposer_create(&c, 0);
	CHECK(p);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 1, data, PAXOS_MAX_CMD + 1),
		 -EMSGSIZE);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 1, data, PAXOS_MAX_CMD), 0);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 2, data, PAXOS_MAX_CMD), 0);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 3, data, 100), -EAGAIN);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 3, data, 99), 0);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 4, data, 0), -EAGAIN);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, c.queue_bytes);
	CHECK_EQ(i.stats.queue_full, 2);
	CHECK_EQ(i.stats.cmds, 3);
	/* No leader known: they wait. */
	CHECK_EQ(drain(p), 0);
	px_proposer_destroy(p);

	/* The largest command is accepted with the default max_value. */
	cfg3(&c, 1, NODES3);
	p = px_proposer_create(&c, 0);
	CHECK_EQ(px_proposer_propose(p, 0, 1, 1, data, PAXOS_MAX_CMD), 0);
	px_proposer_destroy(p);
}

static void test_forwarding(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tcmd cmd[4];
	static u8 data[BIG];
	u64 b3 = px_ballot_make(1, 3);
	int n, k;

	cfg3(&c, 2, NODES3);
	p = px_proposer_create(&c, 0);
	CHECK_EQ(px_proposer_propose(p, 10, 11, 1, "hello", 5), 0);
	CHECK_EQ(drain(p), 0);
	/* A leader appears: the queue is forwarded to it. */
	step(p, 20, PAXOS_MSG_HEARTBEAT, 3, b3, 1, heartbeat_body(0, 0),
	     PAXOS_HEARTBEAT_LEN);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_FORWARD);
	CHECK_EQ(out[0].dst, 3);
	CHECK_EQ(out[0].ballot, 0);
	CHECK_EQ(out[0].instance, 0);
	CHECK_EQ(decode_batch(out[0].body, out[0].len, cmd, 4), 1);
	CHECK_EQ(cmd[0].client, 11);
	CHECK(cmd[0].len == 5 && !memcmp(cmd[0].data, "hello", 5));
	/* Later commands are forwarded at once. */
	CHECK_EQ(px_proposer_propose(p, 30, 11, 2, "world", 5), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(decode_batch(out[0].body, out[0].len, cmd, 4), 1);
	CHECK_EQ(cmd[0].seq, 2);
	info(p, &i);
	CHECK_EQ(i.stats.forwarded, 2);
	CHECK_EQ(i.queued_bytes, 0);
	px_proposer_destroy(p);

	/* FORWARD messages are bounded by max_value. */
	cfg3(&c, 2, NODES3);
	c.max_value = ONE_CMD;
	p = px_proposer_create(&c, 0);
	for (k = 1; k <= 5; k++)
		CHECK_EQ(px_proposer_propose(p, 0, 1, k, data, BIG), 0);
	step(p, 20, PAXOS_MSG_HEARTBEAT, 3, b3, 1, heartbeat_body(0, 0),
	     PAXOS_HEARTBEAT_LEN);
	n = drain(p);
	CHECK_EQ(n, 3);
	for (k = 0; k < n; k++)
		CHECK(out[k].len <= c.max_value);
	CHECK_EQ(decode_batch(out[0].body, out[0].len, cmd, 4), 2);
	CHECK_EQ(decode_batch(out[2].body, out[2].len, cmd, 4), 1);
	CHECK_EQ(cmd[0].seq, 5);

	/* Commands forwarded to a follower are not passed on (no loops). */
	CHECK_EQ(step(p, 30, PAXOS_MSG_FORWARD, 1, 0, 0, out[2].body,
		      out[2].len), 0);
	CHECK_EQ(drain(p), 0);
	info(p, &i);
	CHECK_EQ(i.queued_bytes, 0);
	CHECK_EQ(i.stats.forwarded, 5);
	px_proposer_destroy(p);
}

static void test_forward_received(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tcmd cmd[4];
	u8 body[128], tmp[64];
	u32 len, l2;
	u64 t;
	int n;

	cfg3(&c, 1, NODES3);
	p = make_leader(&c, &t);
	/* Two commands from a follower: one batch, at once (idle). */
	len = value1(body, 21, 1, "fw-one");
	l2 = value1(tmp, 22, 1, "fw-two");
	memcpy(body + len, tmp + 4, l2 - 4);
	len += l2 - 4;
	px_put_be32(body, 2);
	CHECK_EQ(step(p, t, PAXOS_MSG_FORWARD, 2, 0, 0, body, len), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(accept_cmds(&out[0], cmd, 4), 2);
	CHECK_EQ(cmd[0].client, 21);
	CHECK_EQ(cmd[1].client, 22);
	CHECK(!memcmp(cmd[1].data, "fw-two", 6));
	/* Malformed: trailing byte, short command, count too high. */
	CHECK_EQ(step(p, t, PAXOS_MSG_FORWARD, 2, 0, 0, body, len + 1),
		 -EINVAL);
	CHECK_EQ(step(p, t, PAXOS_MSG_FORWARD, 2, 0, 0, body, len - 1),
		 -EINVAL);
	px_put_be32(body, 3);
	CHECK_EQ(step(p, t, PAXOS_MSG_FORWARD, 2, 0, 0, body, len), -EINVAL);
	info(p, &i);
	CHECK_EQ(i.stats.cmds, 2);
	CHECK_EQ(i.queued_bytes, 0);
	px_proposer_destroy(p);
}

static void test_heartbeat_content(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	struct tmsg *hb;
	u64 t, b = px_ballot_make(1, 1);
	int k, n;

	cfg3(&c, 1, NODES3);
	c.batch_bytes = 4 + 24 + 1;
	p = make_leader(&c, &t);
	for (k = 1; k <= 5; k++)
		px_proposer_propose(p, t, 1, k, "x", 1);
	for (k = 1; k <= 4; k++)
		ack(p, t, b, k, 1, 2);
	info(p, &i);
	CHECK_EQ(i.decided, 4);
	CHECK_EQ(i.next, 6);
	drain(p);
	step(p, t, PAXOS_MSG_STATUS, 1, 0, 3, NULL, 0);
	step(p, t, PAXOS_MSG_STATUS, 2, 0, 1, NULL, 0);
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 4, NULL, 0);

	/* Heartbeat when due: ballot, next, decided, min delivered. */
	CHECK(px_proposer_next_deadline(p) <= t + HBEAT);
	px_proposer_tick(p, t + HBEAT);
	n = drain(p);
	hb = find_type(n, PAXOS_MSG_HEARTBEAT);
	CHECK(hb);
	if (!hb)
		goto out;
	CHECK_EQ(hb->dst, PAXOS_NODE_ALL);
	CHECK_EQ(hb->ballot, b);
	CHECK_EQ(hb->instance, 6);
	CHECK_EQ(hb->len, PAXOS_HEARTBEAT_LEN);
	CHECK_EQ(px_get_be64(hb->body), 4);
	CHECK_EQ(px_get_be64(hb->body + 8), 1);

	/* 2 goes silent beyond 4 * election_us: trim follows the others. */
	t += 4 * ELECT;
	step(p, t, PAXOS_MSG_STATUS, 1, 0, 3, NULL, 0);
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 4, NULL, 0);
	px_proposer_tick(p, t + HBEAT + 1);
	hb = find_type(drain(p), PAXOS_MSG_HEARTBEAT);
	CHECK(hb && px_get_be64(hb->body + 8) == 3);

	/* Our own learner always counts, however old its STATUS. */
	step(p, t, PAXOS_MSG_STATUS, 1, 0, 2, NULL, 0);
	t += 10 * ELECT;
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 9, NULL, 0);
	px_proposer_tick(p, t);
	hb = find_type(drain(p), PAXOS_MSG_HEARTBEAT);
	CHECK(hb && px_get_be64(hb->body + 8) == 2);
out:
	px_proposer_destroy(p);
}

/* The commit run (lo, hi] an ACCEPT or HEARTBEAT carries. */
static bool run_is(const struct tmsg *m, u64 lo, u64 hi)
{
	u32 off = m->type == PAXOS_MSG_HEARTBEAT ? 16 : 8;

	return m->len >= off + 16 && px_get_be64(m->body + off) == lo &&
	       px_get_be64(m->body + off + 8) == hi;
}

/*
 * Instances chosen by a quorum of our ballot are told to the learners in
 * the next ACCEPT, or in a heartbeat at once if none follows; a jump
 * learned from a STATUS (not our quorum) starts a new run after it.
 */
static void test_commit_run(void)
{
	struct px_config c;
	struct px_proposer *p;
	u64 t, b = px_ballot_make(1, 1);
	int n;

	cfg3(&c, 1, NODES3);
	p = make_leader(&c, &t);
	CHECK(px_proposer_next_deadline(p) > t);
	CHECK_EQ(px_proposer_propose(p, t, 7, 1, "a", 1), 0);
	n = drain(p);
	CHECK(run_is(find(n, PAXOS_MSG_ACCEPT, 1), 0, 0));
	ack(p, t, b, 1, 1, 2);
	CHECK_EQ(drain(p), 0);
	/* Nothing to carry the news: a heartbeat is due now. */
	CHECK_EQ(px_proposer_next_deadline(p), 0);
	px_proposer_tick(p, t);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK(run_is(find(n, PAXOS_MSG_HEARTBEAT, 2), 0, 1));
	CHECK(px_proposer_next_deadline(p) > t);

	/* Instance 2 open, 3 queued; 2 chosen: ACCEPT 3 carries (0, 2]. */
	CHECK_EQ(px_proposer_propose(p, t, 7, 2, "b", 1), 0);
	CHECK_EQ(px_proposer_propose(p, t, 7, 3, "c", 1), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK(run_is(find(n, PAXOS_MSG_ACCEPT, 2), 0, 1));
	ack(p, t, b, 2, 2, 3);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK(run_is(find(n, PAXOS_MSG_ACCEPT, 3), 0, 2));
	CHECK(px_proposer_next_deadline(p) > t);

	/* A learner delivered 3 before its quorum reached us. */
	step(p, t, PAXOS_MSG_STATUS, 2, 0, 3, NULL, 0);
	CHECK_EQ(px_proposer_next_deadline(p), 0);
	px_proposer_tick(p, t);
	CHECK(run_is(find(drain(p), PAXOS_MSG_HEARTBEAT, 4), 3, 3));
	ack(p, t, b, 3, 2, 3);		/* late: not in any run */
	CHECK_EQ(px_proposer_propose(p, t, 7, 4, "d", 1), 0);
	CHECK(run_is(find(drain(p), PAXOS_MSG_ACCEPT, 4), 3, 3));
	ack(p, t, b, 4, 1, 3);
	px_proposer_tick(p, t);
	CHECK(run_is(find(drain(p), PAXOS_MSG_HEARTBEAT, 5), 3, 4));
	px_proposer_destroy(p);
}

static void test_resend_to_laggards(void)
{
	struct px_config c;
	struct px_proposer *p;
	u64 t, t0, wait, b = px_ballot_make(1, 1);
	struct tcmd cmd[2];
	int k, n;

	cfg3(&c, 1, NODES3);
	c.batch_bytes = 4 + 24 + 1;
	c.catchup_us = 30000;
	c.heartbeat_us = 1000000 / 2;
	c.election_us = 1000000;
	wait = c.catchup_us + c.retransmit_us;
	p = make_leader(&c, &t);
	for (k = 1; k <= 3; k++) {
		px_proposer_propose(p, t, 1, k, k == 2 ? "B" : "x", 1);
		ack(p, t, b, k, 2, 3);
	}
	drain(p);
	t0 = t;
	/* Learner 3 is stuck at 1; ours and 2's are up to date. */
	step(p, t0, PAXOS_MSG_STATUS, 1, 0, 3, NULL, 0);
	step(p, t0, PAXOS_MSG_STATUS, 2, 0, 3, NULL, 0);
	step(p, t0, PAXOS_MSG_STATUS, 3, 0, 1, NULL, 0);
	CHECK(px_proposer_next_deadline(p) <= t0 + wait);
	px_proposer_tick(p, t0 + wait - 1);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);
	/* Its STATUS repeats the same index: no progress. */
	step(p, t0 + wait - 1, PAXOS_MSG_STATUS, 3, 0, 1, NULL, 0);
	px_proposer_tick(p, t0 + wait + RETX);
	n = drain(p);
	/* Chosen instances 2 and 3 again, with their values. */
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 2);
	CHECK(!has(n, PAXOS_MSG_ACCEPT, 1));
	CHECK_EQ(accept_cmds(find(n, PAXOS_MSG_ACCEPT, 2), cmd, 2), 1);
	CHECK_EQ(cmd[0].seq, 2);
	CHECK_EQ(cmd[0].data[0], 'B');
	CHECK_EQ(find(n, PAXOS_MSG_ACCEPT, 3)->ballot, b);
	/* Not again before retransmit_us; stops once it progresses. */
	px_proposer_tick(p, t0 + wait + 2 * RETX - 1);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);
	step(p, t0 + wait + 2 * RETX, PAXOS_MSG_STATUS, 3, 0, 3, NULL, 0);
	px_proposer_tick(p, t0 + 4 * wait);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);

	/* A heartbeat with trim 3 releases the values ... */
	t = t0 + 4 * wait + c.heartbeat_us;
	px_proposer_tick(p, t);
	n = drain(p);
	CHECK(has(n, PAXOS_MSG_HEARTBEAT, 4));
	CHECK_EQ(px_get_be64(find(n, PAXOS_MSG_HEARTBEAT, 4)->body + 8), 3);
	/* ... so a learner that starts over gets nothing from us. */
	step(p, t, PAXOS_MSG_STATUS, 3, 0, 0, NULL, 0);
	px_proposer_tick(p, t + wait + RETX);
	CHECK_EQ(count_type(drain(p), PAXOS_MSG_ACCEPT), 0);
	px_proposer_destroy(p);
}

/* A learner that delivered i proves i chosen, votes or not. */
static void test_status_proves_decided(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t, b = px_ballot_make(1, 1);
	int k, n;

	cfg3(&c, 1, NODES3);
	c.window = 3;
	c.batch_bytes = 4 + 24 + 1;
	p = make_leader(&c, &t);
	for (k = 1; k <= 4; k++)
		px_proposer_propose(p, t, 1, k, "x", 1);
	CHECK_EQ(drain(p), 3);
	ack(p, t, b, 3, 2, 3);
	/* A follower's STATUS moves decided and the window; not beyond. */
	step(p, t + 1, PAXOS_MSG_STATUS, 2, 0, 2, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 3);
	CHECK_EQ(i.next, 5);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 4));
	/* Only 4 is left to retransmit. */
	px_proposer_tick(p, t + 1 + RETX);
	n = drain(p);
	CHECK_EQ(count_type(n, PAXOS_MSG_ACCEPT), 1);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 4));
	/* Beyond next: someone else decided those; open after them. */
	step(p, t + 2, PAXOS_MSG_STATUS, 3, 0, 9, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 9);
	CHECK_EQ(i.next, 10);
	CHECK_EQ(px_proposer_propose(p, t + 3, 1, 5, "x", 1), 0);
	n = drain(p);
	CHECK(has(n, PAXOS_MSG_ACCEPT, 10));
	/* A follower learns decided too (phase 1 starts above it). */
	px_proposer_destroy(p);
	p = px_proposer_create(&c, 0);
	step(p, 5, PAXOS_MSG_STATUS, 2, 0, 7, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 7);
	px_proposer_destroy(p);
}

static void test_single_node(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u8 body[20];
	u32 len = promise_body(body, 0, 0, NULL, 0);
	u64 b = px_ballot_make(1, 1);
	int n;

	cfg3(&c, 1, 1u << 1);
	p = px_proposer_create(&c, 500);
	CHECK_EQ(px_proposer_next_deadline(p), 500);
	px_proposer_tick(p, 500);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_PREPARE);
	/* Our own acceptor's promise is a quorum of one. */
	step(p, 501, PAXOS_MSG_PROMISE, 1, b, 1, body, len);
	info(p, &i);
	CHECK_EQ(i.state, PX_LEADER);
	drain(p);
	CHECK_EQ(px_proposer_propose(p, 502, 1, 1, "solo", 4), 0);
	n = drain(p);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].type, PAXOS_MSG_ACCEPT);
	step(p, 503, PAXOS_MSG_ACCEPTED, 1, b, 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.decided, 1);
	px_proposer_destroy(p);
}

static void test_deposed_by_accepted(void)
{
	struct px_config c;
	struct px_proposer *p;
	struct px_proposer_info i;
	u64 t;

	cfg3(&c, 1, NODES3);
	p = make_leader(&c, &t);
	px_proposer_propose(p, t, 1, 1, "a", 1);
	drain(p);
	/* An acceptor voted for a higher ballot: someone else leads. */
	step(p, t, PAXOS_MSG_ACCEPTED, 2, px_ballot_make(7, 3), 1, NULL, 0);
	info(p, &i);
	CHECK_EQ(i.state, PX_FOLLOWER);
	CHECK_EQ(i.leader, 3);
	CHECK_EQ(i.leader_ballot, px_ballot_make(7, 3));
	CHECK(i.stats.leader_changes >= 2);
	px_proposer_destroy(p);
}

int main(void)
{
	RUN(test_election_prepare);
	RUN(test_election_after_leader);
	RUN(test_election_from_lagging_learner);
	RUN(test_prepare_narrows);
	RUN(test_timer_reset_by_heartbeat);
	RUN(test_promise_quorum_adopts);
	RUN(test_promise_trim_skips);
	RUN(test_promise_keeps_higher);
	RUN(test_malformed_promise);
	RUN(test_nack_steps_down);
	RUN(test_candidate_nack_and_heartbeat);
	RUN(test_window_and_slide);
	RUN(test_retransmit);
	RUN(test_batching);
	RUN(test_queue_chunks);
	RUN(test_queue_flush);
	RUN(test_max_value_bound);
	RUN(test_propose_errors);
	RUN(test_forwarding);
	RUN(test_forward_received);
	RUN(test_heartbeat_content);
	RUN(test_commit_run);
	RUN(test_resend_to_laggards);
	RUN(test_status_proves_decided);
	RUN(test_single_node);
	RUN(test_deposed_by_accepted);
	CHECK_DONE();
}
