// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Acceptor: promise/accept rules, NACKs, records before messages, restore,
 * trim and the bounds of its ring.
 */
#include <string.h>

#include "check.h"
#include "px_wire.h"

static int alloc_fail_after = -1;	/* -1: never fail */

void *px_alloc(size_t size)
{
	if (alloc_fail_after == 0)
		return NULL;
	if (alloc_fail_after > 0)
		alloc_fail_after--;
	return malloc(size ? size : 1);
}

void px_free(void *ptr)
{
	free(ptr);
}

#define B(round, node)	px_ballot_make(round, node)

static struct px_config cfg_small(u32 slots)
{
	struct px_config c;

	px_config_default(&c, 1, 0xE);	/* nodes 1, 2, 3 */
	c.window = PX_MIN(c.window, slots);
	c.acceptor_slots = slots;
	return c;
}

#define H	PAXOS_ACCEPT_HDR_LEN

/* An ACCEPT body: be64 decided, no commit run, a batch of one command. */
static u8 *accept_body(u64 decided, u64 cid, u64 seq, u32 cmdlen, u32 *len)
{
	u8 *b = calloc(1, H + 4 + 24 + cmdlen + 1);
	u32 i;

	px_put_be64(b, decided);
	px_put_be32(b + H, 1);
	px_put_be64(b + H + 4, cid);
	px_put_be64(b + H + 12, seq);
	px_put_be32(b + H + 20, cmdlen);
	px_put_be32(b + H + 24, 0);
	for (i = 0; i < cmdlen; i++)
		b[H + 28 + i] = (u8)(cid + seq + i);
	*len = H + 28 + cmdlen;
	return b;
}

static struct px_msg msg(u8 type, u8 src, u64 ballot, u64 inst,
			 const u8 *body, u32 len)
{
	struct px_msg m = { .type = type, .src = src, .dst = PAXOS_NODE_ALL,
			    .ballot = ballot, .instance = inst, .body = body,
			    .len = len };
	return m;
}

static int do_accept(struct px_acceptor *a, u8 src, u64 b, u64 i, u64 seq,
		     u32 cmdlen)
{
	u32 len;
	u8 *body = accept_body(0, 100 + src, seq, cmdlen, &len);
	struct px_msg m = msg(PAXOS_MSG_ACCEPT, src, b, i, body, len);
	int rc = px_acceptor_step(a, &m);

	free(body);
	return rc;
}

static int do_prepare(struct px_acceptor *a, u8 src, u64 b, u64 from)
{
	struct px_msg m = msg(PAXOS_MSG_PREPARE, src, b, from, NULL, 0);

	return px_acceptor_step(a, &m);
}

static int do_heartbeat(struct px_acceptor *a, u8 src, u64 b, u64 decided,
			u64 trim)
{
	u8 body[PAXOS_HEARTBEAT_LEN] = { 0 };
	struct px_msg m = msg(PAXOS_MSG_HEARTBEAT, src, b, decided + 1, body,
			      PAXOS_HEARTBEAT_LEN);

	px_put_be64(body, decided);
	px_put_be64(body + 8, trim);
	return px_acceptor_step(a, &m);
}

static void take(struct px_acceptor *a, struct px_ready *rd)
{
	px_ready_take(&a->out, rd);
}

static void test_prepare_promise_nack(void)
{
	struct px_config c = cfg_small(64);
	struct px_acceptor a;
	struct px_ready rd;
	struct px_obuf *o;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	CHECK_EQ(do_prepare(&a, 2, B(1, 2), 1), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 1);
	CHECK(rd.persist && rd.persist->kind == PX_REC_PROMISE &&
	      rd.persist->ballot == B(1, 2));
	CHECK_EQ(rd.n_msgs, 1);
	o = rd.msgs;
	CHECK(o && o->type == PAXOS_MSG_PROMISE && o->dst == 2 &&
	      o->ballot == B(1, 2) && o->instance == 1 && o->len == 20);
	if (o && o->len == 20) {
		CHECK_EQ(px_get_be64(o->body), 0);	/* trim */
		CHECK_EQ(px_get_be64(o->body + 8), 0);	/* highest */
		CHECK_EQ(px_get_be32(o->body + 16), 0);
	}
	px_ready_free(&rd);
	CHECK(a.promised == B(1, 2));

	/* Same ballot again (retransmission): PROMISE, no new record. */
	CHECK_EQ(do_prepare(&a, 2, B(1, 2), 1), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 0);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_PROMISE);
	px_ready_free(&rd);

	/* Lower ballot: NACK carrying the promise, to the sender only. */
	CHECK_EQ(do_prepare(&a, 3, B(0, 3), 7), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 0);
	CHECK_EQ(rd.n_msgs, 1);
	o = rd.msgs;
	CHECK(o && o->type == PAXOS_MSG_NACK && o->dst == 3 &&
	      o->ballot == B(1, 2) && o->instance == 7 && o->len == 0);
	px_ready_free(&rd);
	CHECK(a.promised == B(1, 2));

	/* Higher ballot from another node: promised rises. */
	CHECK_EQ(do_prepare(&a, 3, B(2, 3), 1), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 1);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_PROMISE &&
	      rd.msgs->dst == 3);
	px_ready_free(&rd);
	CHECK(a.promised == B(2, 3));
	CHECK_EQ(a.stats.prepares, 4);
	CHECK_EQ(a.stats.promises, 3);
	CHECK_EQ(a.stats.nacks, 1);

	/* A ballot that does not name its sender is rejected. */
	CHECK_EQ(do_prepare(&a, 2, B(9, 3), 1), -EINVAL);
	CHECK(px_ready_empty(&a.out));
	CHECK(a.promised == B(2, 3));
	px_acceptor_uninit(&a);
}

static void test_accept_rules(void)
{
	struct px_config c = cfg_small(64);
	struct px_acceptor a;
	struct px_ready rd;
	struct px_record *r;
	struct px_obuf *o;
	u32 len;
	u8 *body;
	struct px_msg m;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	/* ACCEPT without a prior PREPARE (promised 0): accepted. */
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 1, 1, 10), 0);
	take(&a, &rd);
	/* records first: PROMISE (promised rose), then ACCEPT */
	CHECK_EQ(rd.n_persist, 2);
	r = rd.persist;
	CHECK(r && r->kind == PX_REC_PROMISE && r->ballot == B(1, 2));
	r = r ? r->next : NULL;
	CHECK(r && r->kind == PX_REC_ACCEPT && r->ballot == B(1, 2) &&
	      r->instance == 1 && r->len == 38);
	if (r && r->len == 38) {
		CHECK_EQ(px_get_be32(r->value), 1);
		CHECK_EQ(px_get_be64(r->value + 4), 102);
	}
	CHECK_EQ(rd.n_msgs, 1);
	o = rd.msgs;
	/* To the leader (the ballot's node) only. */
	CHECK(o && o->type == PAXOS_MSG_ACCEPTED && o->dst == 2 &&
	      o->ballot == B(1, 2) && o->instance == 1 && o->len == 0);
	px_ready_free(&rd);
	CHECK(a.promised == B(1, 2));
	CHECK_EQ(a.highest, 1);

	/* Same ballot, next instance: only an ACCEPT record. */
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 2, 2, 0), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 1);
	CHECK(rd.persist->kind == PX_REC_ACCEPT);
	CHECK_EQ(rd.n_msgs, 1);
	px_ready_free(&rd);

	/* Retransmitted ACCEPT of the same (i, b): no record, re-ACCEPTED. */
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 2, 2, 0), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 0);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_ACCEPTED);
	px_ready_free(&rd);

	/* Higher ballot overwrites instance 1. */
	CHECK_EQ(do_accept(&a, 3, B(2, 3), 1, 5, 3), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 2);
	CHECK(rd.msgs && rd.msgs->ballot == B(2, 3));
	px_ready_free(&rd);
	CHECK(a.slots[1].ballot == B(2, 3));
	CHECK_EQ(a.slots[1].len, 4 + 24 + 3);

	/* Stale ballot: NACK to the sender, nothing stored. */
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 3, 9, 0), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 0);
	CHECK_EQ(rd.n_msgs, 1);
	CHECK(rd.msgs->type == PAXOS_MSG_NACK && rd.msgs->dst == 2 &&
	      rd.msgs->ballot == B(2, 3) && rd.msgs->instance == 3);
	px_ready_free(&rd);
	CHECK_EQ(a.slots[3].instance, 0);
	CHECK_EQ(a.highest, 2);

	/* PREPARE reports accepted entries >= from with their ballots. */
	CHECK_EQ(do_prepare(&a, 2, B(3, 2), 2), 0);
	take(&a, &rd);
	o = rd.msgs;
	CHECK(o && o->type == PAXOS_MSG_PROMISE);
	CHECK_EQ(o->len, 20 + 20 + 28);
	if (o->len == 68) {
		CHECK_EQ(px_get_be64(o->body + 8), 2);	/* highest */
		CHECK_EQ(px_get_be32(o->body + 16), 1);
		CHECK_EQ(px_get_be64(o->body + 20), 2);	/* inst */
		CHECK(px_get_be64(o->body + 28) == B(1, 2));
		CHECK_EQ(px_get_be32(o->body + 36), 28);
		CHECK_EQ(px_get_be64(o->body + 44), 102);	/* client */
	}
	px_ready_free(&rd);
	CHECK_EQ(do_prepare(&a, 3, B(4, 3), 1), 0);
	take(&a, &rd);
	CHECK_EQ(rd.msgs->len, 20 + 20 + 31 + 20 + 28);
	CHECK_EQ(px_get_be32(rd.msgs->body + 16), 2);
	CHECK_EQ(px_get_be64(rd.msgs->body + 20), 1);	/* in order */
	px_ready_free(&rd);

	/* Malformed ACCEPTs: rejected without output or state change. */
	body = accept_body(0, 1, 1, 4, &len);
	m = msg(PAXOS_MSG_ACCEPT, 3, B(4, 3), 0, body, len);
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* instance 0 */
	m.instance = 4;
	m.len = H - 1;
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* no commit run */
	m.len = len - 1;
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* cut value */
	m.len = len;
	m.src = 2;
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* ballot of 3 */
	m.src = 3;
	px_put_be32(body + H + 24, PAXOS_CMD_F_DUP);
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* flags on wire */
	px_put_be32(body + H + 24, 0);
	px_put_be32(body + H, 2);
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);	/* bad count */
	px_put_be32(body + H, 1);
	CHECK(px_ready_empty(&a.out));
	CHECK_EQ(a.slots[4].instance, 0);
	CHECK_EQ(px_acceptor_step(&a, &m), 0);		/* now fine */
	CHECK_EQ(a.slots[4].instance, 4);
	free(body);
	/* Values above max_value. */
	body = accept_body(0, 1, 1, PAXOS_MAX_CMD + 1, &len);
	m = msg(PAXOS_MSG_ACCEPT, 3, B(4, 3), 5, body, len);
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);
	free(body);
	body = accept_body(0, 1, 1, PAXOS_MAX_CMD, &len);
	m = msg(PAXOS_MSG_ACCEPT, 3, B(4, 3), 5, body, len);
	CHECK_EQ(px_acceptor_step(&a, &m), 0);
	free(body);
	/* A body pointer missing while len > 0. */
	m = msg(PAXOS_MSG_ACCEPT, 3, B(4, 3), 6, NULL, 40);
	CHECK_EQ(px_acceptor_step(&a, &m), -EINVAL);
	/* Types that are not the acceptor's are ignored. */
	m = msg(PAXOS_MSG_STATUS, 3, 0, 6, NULL, 0);
	CHECK_EQ(px_acceptor_step(&a, &m), 0);
	px_acceptor_uninit(&a);
}

static void test_ring_and_trim(void)
{
	struct px_config c = cfg_small(16);
	struct px_acceptor a;
	struct px_ready rd;
	u64 i;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	for (i = 1; i <= 16; i++)
		CHECK_EQ(do_accept(&a, 2, B(1, 2), i, i, 1), 0);
	px_ready_free(&a.out);
	/* Instance 17 does not fit the ring above trim 0: dropped. */
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 17, 17, 1), 0);
	CHECK(px_ready_empty(&a.out));
	CHECK_EQ(a.stats.dropped_full, 1);
	CHECK_EQ(a.highest, 16);
	CHECK_EQ(a.slots[1].instance, 1);

	/* A heartbeat trims: TRIM record, no message, promise unchanged. */
	CHECK_EQ(do_heartbeat(&a, 3, B(5, 3), 10, 5), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 1);
	CHECK(rd.persist->kind == PX_REC_TRIM && rd.persist->instance == 5);
	CHECK_EQ(rd.n_msgs, 0);
	px_ready_free(&rd);
	CHECK(a.promised == B(1, 2));
	CHECK_EQ(a.trim, 5);
	for (i = 1; i <= 5; i++)
		CHECK(a.slots[i].instance == 0 && !a.slots[i].value);
	CHECK_EQ(a.slots[6].instance, 6);
	/* trim above decided is nonsense; a lower trim changes nothing */
	CHECK_EQ(do_heartbeat(&a, 3, B(5, 3), 4, 5 + 1), -EINVAL);
	CHECK_EQ(do_heartbeat(&a, 3, B(5, 3), 10, 3), 0);
	CHECK(px_ready_empty(&a.out));
	CHECK_EQ(a.trim, 5);

	/* Now 17..21 fit, 22 does not. */
	for (i = 17; i <= 21; i++)
		CHECK_EQ(do_accept(&a, 2, B(1, 2), i, i, 1), 0);
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 22, 22, 1), 0);
	CHECK_EQ(a.stats.dropped_full, 2);
	CHECK_EQ(a.slots[17 & 15].instance, 17);
	CHECK_EQ(a.highest, 21);
	/* At or below trim: ignored (decided and forgotten). */
	px_ready_free(&a.out);
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 3, 3, 1), 0);
	CHECK(px_ready_empty(&a.out));

	/* PROMISE carries trim and only instances above it. */
	CHECK_EQ(do_prepare(&a, 3, B(6, 3), 1), 0);
	take(&a, &rd);
	CHECK_EQ(px_get_be64(rd.msgs->body), 5);
	CHECK_EQ(px_get_be64(rd.msgs->body + 8), 21);
	CHECK_EQ(px_get_be32(rd.msgs->body + 16), 16);
	CHECK_EQ(px_get_be64(rd.msgs->body + 20), 6);
	px_ready_free(&rd);

	/* A huge trim forgets everything (ring walked once). */
	CHECK_EQ(do_heartbeat(&a, 3, B(6, 3), 1000000, 1000000), 0);
	for (i = 0; i < 16; i++)
		CHECK(!a.slots[i].instance && !a.slots[i].value);
	CHECK_EQ(a.highest, 21);
	px_ready_free(&a.out);
	CHECK_EQ(do_accept(&a, 3, B(6, 3), 1000016, 1, 1), 0);
	CHECK_EQ(do_accept(&a, 3, B(6, 3), 1000017, 1, 1), 0);
	CHECK_EQ(a.stats.dropped_full, 3);
	px_acceptor_uninit(&a);
}

/* Copy a record list (the caller "persists" it). */
static void append_records(struct px_record ***tail, struct px_ready *rd)
{
	struct px_record *r, *c;

	for (r = rd->persist; r; r = r->next) {
		c = malloc(sizeof(*c) + r->len);
		memcpy(c, r, sizeof(*c) + r->len);
		c->next = NULL;
		**tail = c;
		*tail = &c->next;
	}
}

static void test_restore(void)
{
	struct px_config c = cfg_small(32);
	struct px_acceptor a, b;
	struct px_record *log = NULL, **tail = &log, *r, *next;
	struct px_ready rd, rd2;
	u64 i;
	int step;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	for (step = 0; step < 200; step++) {
		u64 round = 1 + step / 20;
		u8 node = 2 + step % 2;

		switch (step % 7) {
		case 0:
			do_prepare(&a, node, B(round, node), 1);
			break;
		case 5:
			do_heartbeat(&a, node, B(round, node), step / 2,
				     step / 3);
			break;
		default:
			do_accept(&a, node, B(round, node), step / 2 + 1,
				  step, (u32)step);
			break;
		}
		take(&a, &rd);
		append_records(&tail, &rd);
		px_ready_free(&rd);
	}

	CHECK_EQ(px_acceptor_init(&b, &c), 0);
	CHECK_EQ(px_acceptor_restore(&b, log), 0);
	CHECK(px_ready_empty(&b.out));
	CHECK(a.promised == b.promised);
	CHECK(a.trim == b.trim);
	CHECK(a.highest == b.highest);
	CHECK(a.trim > 0);
	for (i = 0; i < c.acceptor_slots; i++) {
		CHECK(a.slots[i].instance == b.slots[i].instance);
		CHECK(a.slots[i].ballot == b.slots[i].ballot);
		CHECK_EQ(a.slots[i].len, b.slots[i].len);
		CHECK(!a.slots[i].len ||
		      !memcmp(a.slots[i].value, b.slots[i].value,
			      a.slots[i].len));
	}
	/* Both answer a PREPARE identically. */
	CHECK_EQ(do_prepare(&a, 2, B(100, 2), 1), 0);
	CHECK_EQ(do_prepare(&b, 2, B(100, 2), 1), 0);
	take(&a, &rd);
	take(&b, &rd2);
	CHECK(rd.msgs && rd2.msgs && rd.msgs->len == rd2.msgs->len &&
	      !memcmp(rd.msgs->body, rd2.msgs->body, rd.msgs->len));
	CHECK(px_get_be32(rd.msgs->body + 16) > 0);
	px_ready_free(&rd);
	px_ready_free(&rd2);
	px_acceptor_uninit(&b);

	/* A corrupt record is refused. */
	CHECK_EQ(px_acceptor_init(&b, &c), 0);
	log->kind = 99;
	CHECK_EQ(px_acceptor_restore(&b, log), -EINVAL);
	px_acceptor_uninit(&b);
	/* An ACCEPT record that the ring cannot hold (smaller ring). */
	c = cfg_small(16);
	CHECK_EQ(px_acceptor_init(&b, &c), 0);
	log->kind = PX_REC_ACCEPT;
	log->instance = 17;
	log->len = 0;
	CHECK_EQ(px_acceptor_restore(&b, log), -EINVAL);
	px_acceptor_uninit(&b);

	for (r = log; r; r = next) {
		next = r->next;
		free(r);
	}
	px_acceptor_uninit(&a);
}

static void test_promise_too_big(void)
{
	struct px_config c = cfg_small(128);
	struct px_acceptor a;
	struct px_ready rd;
	u64 i;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	/* 70 values of 64 KiB: more than PAXOS_MAX_MSG above instance 1. */
	for (i = 1; i <= 70; i++)
		CHECK_EQ(do_accept(&a, 2, B(1, 2), i, i, PAXOS_MAX_CMD), 0);
	px_ready_free(&a.out);
	CHECK_EQ(do_prepare(&a, 3, B(2, 3), 1), 0);
	/* No partial PROMISE (it would hide accepted values): no answer. */
	CHECK(px_ready_empty(&a.out));
	CHECK(a.promised == B(1, 2));
	CHECK_EQ(a.stats.dropped_full, 1);
	/* From instance 10 on it fits. */
	CHECK_EQ(do_prepare(&a, 3, B(2, 3), 10), 0);
	take(&a, &rd);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_PROMISE);
	CHECK(rd.msgs->len <= PAXOS_MAX_MSG);
	CHECK_EQ(px_get_be32(rd.msgs->body + 16), 61);
	px_ready_free(&rd);
	px_acceptor_uninit(&a);
}

static void test_out_of_memory(void)
{
	struct px_config c = cfg_small(16);
	struct px_acceptor a;
	struct px_ready rd;
	int k, rc;

	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	/* Fail the k-th allocation: never an ACCEPTED without its record. */
	for (k = 0; k < 4; k++) {
		alloc_fail_after = k;
		rc = do_accept(&a, 2, B(1, 2), 1 + k, 1, 8);
		alloc_fail_after = -1;
		take(&a, &rd);
		if (rd.msgs) {
			CHECK_EQ(rc, 0);
			CHECK(rd.persist != NULL);
		} else {
			CHECK_EQ(rc, -ENOMEM);
		}
		px_ready_free(&rd);
	}
	px_acceptor_uninit(&a);
	alloc_fail_after = 0;
	CHECK_EQ(px_acceptor_init(&a, &c), -ENOMEM);
	alloc_fail_after = -1;
	px_acceptor_uninit(&a);
	c.acceptor_slots = 12;
	CHECK_EQ(px_acceptor_init(&a, &c), -EINVAL);
	px_acceptor_uninit(&a);
}

/* In-memory mode: the same answers and state, and no records at all. */
static void test_volatile(void)
{
	struct px_config c = cfg_small(16);
	struct px_acceptor a;
	struct px_ready rd;

	c.volatile_acceptor = true;
	CHECK_EQ(px_acceptor_init(&a, &c), 0);
	CHECK_EQ(do_prepare(&a, 2, B(1, 2), 1), 0);
	CHECK_EQ(do_accept(&a, 2, B(1, 2), 1, 1, 10), 0);
	CHECK_EQ(do_accept(&a, 3, B(2, 3), 2, 1, 10), 0);
	CHECK_EQ(do_heartbeat(&a, 3, B(2, 3), 2, 1), 0);
	take(&a, &rd);
	CHECK_EQ(rd.n_persist, 0);
	CHECK(rd.persist == NULL);
	CHECK_EQ(rd.n_msgs, 3);		/* PROMISE, ACCEPTED, ACCEPTED */
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_PROMISE);
	CHECK(rd.msgs && rd.msgs->next &&
	      rd.msgs->next->type == PAXOS_MSG_ACCEPTED &&
	      rd.msgs->next->dst == 2);
	px_ready_free(&rd);
	CHECK(a.promised == B(2, 3));
	CHECK_EQ(a.highest, 2);
	CHECK_EQ(a.trim, 1);
	px_acceptor_uninit(&a);
}

int main(void)
{
	RUN(test_prepare_promise_nack);
	RUN(test_accept_rules);
	RUN(test_ring_and_trim);
	RUN(test_restore);
	RUN(test_promise_too_big);
	RUN(test_out_of_memory);
	RUN(test_volatile);
	CHECK_DONE();
}
