// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Learner snapshots: pending metas at snapshot points, put, serving a
 * lagging peer with SNAP_CHUNKs, the pull transfer, strict decoding of
 * what comes from the wire, and install.
 */
#include <string.h>

#include "check.h"
#include "px_wire.h"

#define B(round, node)	px_ballot_make(round, node)
#define T0		1000000ull
#define EVERY		8
#define SLOTS		16

static u64 now = T0;
static u64 restored;	/* last rd.restored seen by deliver() */

static struct px_config scfg(u8 self)
{
	struct px_config c;

	px_config_default(&c, self, 0xE);	/* nodes 1, 2, 3 */
	c.learner_slots = SLOTS;
	c.window = 8;
	c.snapshot_every = EVERY;
	return c;
}

/*
 * Instance @i's value: two commands whose (client, seq) repeat across
 * instances, so some are retries flagged DUP; client 7's seq goes back to
 * 1 every 20 instances (a retry of something delivered long ago).
 */
static u32 val_for(u8 *v, u64 i)
{
	u64 cid[2] = { 100 + i % 5, 7 }, seq[2] = { i / 3, i % 20 / 2 + 1 };
	u32 len = 4, k;

	px_put_be32(v, 2);
	for (k = 0; k < 2; k++) {
		px_put_be64(v + len, cid[k]);
		px_put_be64(v + len + 8, seq[k]);
		px_put_be32(v + len + 16, 2);
		px_put_be32(v + len + 20, 0);
		v[len + 24] = (u8)i;
		v[len + 25] = (u8)k;
		len += 26;
	}
	return len;
}

static void chosen(struct px_learner *l, u64 i)
{
	u8 v[128];
	struct px_msg m = { .type = PAXOS_MSG_CHOSEN, .src = 3,
			    .dst = PAXOS_NODE_ALL, .ballot = B(1, 3),
			    .instance = i, .body = v };

	m.len = val_for(v, i);
	CHECK_EQ(px_learner_step(l, now, &m), 0);
}

static struct px_learner_info info(const struct px_learner *l)
{
	struct px_learner_info i;

	px_learner_info(l, &i);
	return i;
}

static void drain(struct px_learner *l, struct px_ready *rd)
{
	px_ready_take(px_learner_ready(l), rd);
}

/* Hand every message of @a for @b (by id or broadcast) to @b. */
static u32 deliver(struct px_learner *a, u8 aid, struct px_learner *b,
		   u8 bid, u32 *chunks)
{
	struct px_ready rd;
	struct px_obuf *o;
	u32 n = 0;

	drain(a, &rd);
	if (rd.restored)
		restored = rd.restored;
	for (o = rd.msgs; o; o = o->next) {
		struct px_msg m = { .type = o->type, .src = aid,
				    .dst = o->dst, .ballot = o->ballot,
				    .instance = o->instance,
				    .body = o->body, .len = o->len };

		if (o->dst != bid && o->dst != PAXOS_NODE_ALL)
			continue;
		if (o->type == PAXOS_MSG_SNAP_CHUNK && chunks)
			(*chunks)++;
		CHECK_EQ(px_learner_step(b, now, &m), 0);
		n++;
	}
	px_ready_free(&rd);
	return n;
}

static void exchange(struct px_learner *s, struct px_learner *r, u32 *chunks)
{
	int rounds = 0;

	while (deliver(s, 1, r, 2, chunks) + deliver(r, 2, s, 1, NULL))
		CHECK(++rounds < 1000);
}

static u8 *app_bytes(u32 len, u8 salt)
{
	u8 *p = malloc(len ? len : 1);
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 31 + salt + (i >> 9));
	return p;
}

static void test_put_errors(void)
{
	struct px_config c = scfg(1);
	struct px_learner *l = px_learner_create(&c, now);
	struct px_snapshot_info si;
	u8 app[4] = { 1, 2, 3, 4 };
	u64 i;

	CHECK(l != NULL);
	CHECK(!px_learner_snapshot(l, &si));
	CHECK(px_snap_point(&c, 8) && px_snap_point(&c, 16));
	CHECK(!px_snap_point(&c, 0) && !px_snap_point(&c, 9));
	CHECK(px_learner_snap_point(l, 24) && !px_learner_snap_point(l, 25));
	/* not delivered yet */
	CHECK_EQ(px_learner_snapshot_put(l, 8, app, 4), -ENOENT);
	for (i = 1; i <= 40; i++)
		chosen(l, i);
	CHECK_EQ(info(l).delivered, 40);
	/* not a point */
	CHECK_EQ(px_learner_snapshot_put(l, 9, app, 4), -ENOENT);
	/* 5 points delivered, 4 pending kept: 8 was dropped */
	CHECK_EQ(px_learner_snapshot_put(l, 8, app, 4), -ENOENT);
	CHECK_EQ(px_learner_snapshot_put(l, 16, app,
					 PAXOS_MAX_SNAPSHOT + 1), -EMSGSIZE);
	CHECK_EQ(px_learner_snapshot_put(l, 16, NULL, 4), -EINVAL);
	CHECK_EQ(px_learner_snapshot_put(l, 24, app, 4), 0);
	CHECK(px_learner_snapshot(l, &si));
	CHECK_EQ(si.index, 24);
	CHECK(si.app_len == 4 && !memcmp(si.app, app, 4));
	CHECK_EQ(info(l).snap_index, 24);
	/* older than the current one */
	CHECK_EQ(px_learner_snapshot_put(l, 16, app, 4), -ESTALE);
	/* a put consumes its meta */
	CHECK_EQ(px_learner_snapshot_put(l, 24, app, 4), -ENOENT);
	CHECK_EQ(px_learner_snapshot_put(l, 40, NULL, 0), 0);
	CHECK(px_learner_snapshot(l, &si));
	CHECK(si.index == 40 && si.app_len == 0);
	/* 32 was pending, older than the put: dropped */
	CHECK_EQ(px_learner_snapshot_put(l, 32, app, 4), -ESTALE);
	CHECK_EQ(info(l).stats.snap_puts, 2);
	px_learner_destroy(l);

	/* snapshot_every 0: no points, nothing to put */
	c.snapshot_every = 0;
	l = px_learner_create(&c, now);
	CHECK(l != NULL);
	for (i = 1; i <= 10; i++)
		chosen(l, i);
	CHECK(!px_snap_point(&c, 8));
	CHECK_EQ(px_learner_snapshot_put(l, 8, app, 4), -ENOENT);
	px_learner_destroy(l);
}

/*
 * A server delivered 1..@last and put a snapshot at @snap with @app_len app
 * bytes; a fresh receiver (more than learner_slots behind) catches up via
 * the snapshot and the retained suffix, then both deliver more; every
 * instance both hold must be equal, DUP flags included.
 */
static void catchup_case(u64 snap, u64 last, u32 app_len)
{
	struct px_config cs = scfg(1), cr = scfg(2);
	struct px_learner *s = px_learner_create(&cs, now);
	struct px_learner *r = px_learner_create(&cr, now);
	struct px_snapshot_info si;
	struct px_ready rd;
	u8 *app = app_bytes(app_len, (u8)snap);
	u8 body[PAXOS_HEARTBEAT_LEN];
	struct px_msg m = { .type = PAXOS_MSG_LEARN_REQ, .src = 2, .dst = 1,
			    .instance = 1, .body = body, .len = 8 };
	u32 chunks = 0, la, lb;
	const u8 *va, *vb;
	u64 i, sdup = 0, cmp = 0;

	CHECK(s && r);
	for (i = 1; i <= last; i++) {
		chosen(s, i);
		if (i == snap) {
			CHECK_EQ(px_learner_snapshot_put(s, i, app, app_len),
				 0);
			sdup = info(s).stats.duplicates;
		}
	}
	drain(s, &rd);
	px_ready_free(&rd);
	CHECK(info(s).first > 1);
	/* The receiver asks for 1..: far below what the server retains. */
	px_put_be64(body, 8);
	CHECK_EQ(px_learner_step(s, now, &m), 0);
	/* It learns how far the log goes: STATUS of the server. */
	m.type = PAXOS_MSG_STATUS;
	m.src = 1;
	m.dst = PAXOS_NODE_ALL;
	m.instance = last;
	m.len = 0;
	CHECK_EQ(px_learner_step(r, now, &m), 0);
	/* Heartbeat of leader 1: the receiver's catch-up asks node 1. */
	m.type = PAXOS_MSG_HEARTBEAT;
	m.ballot = B(1, 1);
	m.instance = last + 1;
	memset(body, 0, PAXOS_HEARTBEAT_LEN);	/* trim 0, no commit run */
	px_put_be64(body, last);
	m.body = body;
	m.len = PAXOS_HEARTBEAT_LEN;
	CHECK_EQ(px_learner_step(r, now, &m), 0);
	drain(r, &rd);
	px_ready_free(&rd);
	restored = 0;
	exchange(s, r, &chunks);
	CHECK(chunks >= 1 + app_len / PX_SNAP_CHUNK);
	CHECK_EQ(info(r).stats.snap_installed, 1);
	CHECK_EQ(info(s).stats.snap_served, chunks);
	CHECK_EQ(restored, snap);
	drain(r, &rd);
	CHECK_EQ(rd.restored, 0);	/* take moved it */
	px_ready_free(&rd);
	CHECK(px_learner_snapshot(r, &si));
	CHECK_EQ(si.index, snap);
	CHECK_EQ(si.app_len, app_len);
	CHECK(!memcmp(si.app, app, app_len));
	CHECK_EQ(info(r).first, snap + 1);
	CHECK(px_learner_value(r, snap, NULL, NULL) == NULL);
	/* The install asked for the suffix at once. */
	CHECK_EQ(info(r).delivered, last);
	/* Catch-up of the suffix after the install: LEARN_REQ/CHOSEN. */
	for (i = 0; i < 20 && info(r).delivered < last; i++) {
		now += cr.catchup_us;
		px_learner_tick(r, now);
		exchange(s, r, NULL);
	}
	CHECK_EQ(info(r).delivered, last);
	for (i = snap + 1; i <= last; i++) {
		va = px_learner_value(s, i, &la, NULL);
		vb = px_learner_value(r, i, &lb, NULL);
		CHECK(va && vb && la == lb && !memcmp(va, vb, la));
		cmp++;
	}
	for (i = last + 1; i <= last + 30; i++) {
		chosen(s, i);
		chosen(r, i);
		va = px_learner_value(s, i, &la, NULL);
		vb = px_learner_value(r, i, &lb, NULL);
		CHECK(va && vb && la == lb && !memcmp(va, vb, la));
		cmp++;
	}
	CHECK_EQ(cmp, last + 30 - snap);
	CHECK_EQ(info(r).delivered, last + 30);
	CHECK_EQ(info(r).stats.duplicates, info(s).stats.duplicates - sdup);
	CHECK(info(s).stats.duplicates > 0);
	/* Same dedup decisions from the snapshot point on. */
	CHECK_EQ(info(r).stats.delivered_cmds + info(r).stats.duplicates,
		 2 * (last + 30 - snap));
	CHECK_EQ(info(s).stats.evicted, info(r).stats.evicted);
	free(app);
	px_learner_destroy(s);
	px_learner_destroy(r);
}

static void test_catchup_small(void)
{
	catchup_case(40, 45, 100);
}

static void test_catchup_chunks(void)
{
	/* 600 KB: three chunks, pulled one at a time */
	catchup_case(32, 40, 600 << 10);
}

static void test_catchup_empty_app(void)
{
	catchup_case(48, 50, 0);
}

static u8 chunk_src = 3;	/* sender of chunk() */

/* Chunk of a snapshot at @inst, straight into @l. */
static int chunk(struct px_learner *l, u64 inst, u32 meta_len, u32 app_len,
		 u32 off, const u8 *data, u32 n)
{
	static u8 body[12 + PX_SNAP_CHUNK + 16];
	struct px_msg m = { .type = PAXOS_MSG_SNAP_CHUNK, .src = chunk_src,
			    .dst = 2, .instance = inst, .body = body,
			    .len = 12 + n };

	px_put_be32(body, meta_len);
	px_put_be32(body + 4, app_len);
	px_put_be32(body + 8, off);
	if (n)
		memcpy(body + 12, data, n);
	return px_learner_step(l, now, &m);
}

/* A meta: @n dedup entries (client 10 + k, seq 1, instance @inst), mlog. */
static u32 meta(u8 *b, u32 n, u64 inst, u32 mlog_len)
{
	u32 len = 4, k;

	px_put_be32(b, n);
	for (k = 0; k < n; k++) {
		px_put_be64(b + len, 10 + k);
		px_put_be64(b + len + 8, 1);
		px_put_be64(b + len + 16, inst);
		len += 24;
	}
	px_put_be32(b + len, mlog_len);
	len += 4;
	for (k = 0; k < mlog_len / 12; k++) {
		px_put_be64(b + len, 1 + 10 * k);
		px_put_be32(b + len + 8, k & 1 ? 0xE : 0x1E);
		len += 12;
	}
	return len + mlog_len % 12;
}

static void test_strict_decode(void)
{
	struct px_config c = scfg(2);
	struct px_learner *l = px_learner_create(&c, now);
	static u8 b[PX_SNAP_CHUNK + 64];
	struct px_snapshot_info si;
	struct px_ready rd;
	u32 len;

	CHECK(l != NULL);
	/* structure */
	CHECK_EQ(chunk(l, 20, 8, 0, 0, b, 0), -EINVAL);	/* no data */
	CHECK_EQ(chunk(l, 0, 8, 0, 0, b, 8), -EINVAL);	/* instance 0 */
	CHECK_EQ(chunk(l, 20, 4, 4, 0, b, 8), -EINVAL);	/* meta < 8 */
	CHECK_EQ(chunk(l, 20, PX_SNAP_META_MAX + 1, 0, 0, b, 8), -EINVAL);
	CHECK_EQ(chunk(l, 20, 8, PAXOS_MAX_SNAPSHOT + 1, 0, b, 8), -EINVAL);
	CHECK_EQ(chunk(l, 20, 8, 0, 0, b, 9), -EINVAL);	/* past total */
	CHECK_EQ(chunk(l, 20, 8, 4, 4, b, 9), -EINVAL);
	/* not the last chunk, yet shorter than PX_SNAP_CHUNK */
	CHECK_EQ(chunk(l, 20, 8, 1000, 0, b, 100), -EINVAL);
	CHECK_EQ(info(l).stats.snap_rejected, 0);
	/* a first chunk not at offset 0 is ignored */
	len = meta(b, 0, 20, 0);
	CHECK_EQ(len, 8);
	CHECK_EQ(chunk(l, 20, 8, 2 * PX_SNAP_CHUNK, PX_SNAP_CHUNK, b,
		       PX_SNAP_CHUNK), 0);
	drain(l, &rd);
	CHECK(rd.msgs == NULL);
	px_ready_free(&rd);

	/* meta contents: n > PX_DEDUP_CLIENTS */
	px_put_be32(b, PX_DEDUP_CLIENTS + 1);
	CHECK_EQ(chunk(l, 20, 8, 0, 0, b, 8), -EINVAL);
	CHECK_EQ(info(l).stats.snap_rejected, 1);
	/* n larger than the entries present */
	len = meta(b, 3, 20, 0);
	px_put_be32(b, 4);
	CHECK_EQ(chunk(l, 20, len, 0, 0, b, len), -EINVAL);
	/* a dedup instance above the snapshot's */
	len = meta(b, 3, 21, 0);
	CHECK_EQ(chunk(l, 20, len, 0, 0, b, len), -EINVAL);
	/* the same client twice */
	len = meta(b, 2, 20, 0);
	px_put_be64(b + 4 + 24, 10);
	CHECK_EQ(chunk(l, 20, len, 0, 0, b, len), -EINVAL);
	/* trailing bytes */
	len = meta(b, 2, 20, 0);
	b[len] = 0;
	CHECK_EQ(chunk(l, 20, len + 1, 0, 0, b, len + 1), -EINVAL);
	/* mlog length not a multiple of an entry */
	len = meta(b, 1, 20, 13);
	CHECK_EQ(chunk(l, 20, len, 0, 0, b, len), -EINVAL);
	/* mlog_len beyond the meta */
	len = meta(b, 1, 20, 12);
	CHECK_EQ(chunk(l, 20, len - 1, 0, 0, b, len - 1), -EINVAL);
	/* mlog entries out of order */
	len = meta(b, 1, 20, 24);
	px_put_be64(b + 4 + 24 + 4 + 12, 1);
	CHECK_EQ(chunk(l, 20, len, 0, 0, b, len), -EINVAL);
	CHECK_EQ(info(l).stats.snap_rejected, 8);
	CHECK_EQ(info(l).stats.snap_installed, 0);
	CHECK_EQ(info(l).delivered, 0);
	CHECK(!px_learner_snapshot(l, &si));

	/* a good one: 2 dedup entries, a changed configuration, 5 app bytes */
	len = meta(b, 2, 20, 24);
	memcpy(b + len, "hello", 5);
	CHECK_EQ(chunk(l, 20, len, 5, 0, b, len + 5), 0);
	CHECK_EQ(info(l).stats.snap_installed, 1);
	CHECK_EQ(info(l).delivered, 20);
	CHECK_EQ(info(l).members, 0xE);
	CHECK(px_learner_snapshot(l, &si));
	CHECK(si.index == 20 && si.app_len == 5 &&
	      !memcmp(si.app, "hello", 5));
	/* the restored table flags a retry of client 10 seq 1 */
	{
		u8 v[64];
		struct px_msg m = { .type = PAXOS_MSG_CHOSEN, .src = 3,
				    .dst = 2, .ballot = B(1, 3),
				    .instance = 21, .body = v, .len = 4 + 27 };
		const u8 *p;

		px_put_be32(v, 1);
		px_put_be64(v + 4, 11);
		px_put_be64(v + 12, 1);
		px_put_be32(v + 20, 3);
		px_put_be32(v + 24, 0);
		memcpy(v + 28, "abc", 3);
		CHECK_EQ(px_learner_step(l, now, &m), 0);
		CHECK_EQ(info(l).delivered, 21);
		CHECK_EQ(info(l).stats.duplicates, 1);
		p = px_learner_value(l, 21, &len, NULL);
		CHECK(p && px_get_be32(p + 24) == PAXOS_CMD_F_DUP);
	}
	/* chunks at or below delivered are ignored */
	len = meta(b, 0, 21, 0);
	CHECK_EQ(chunk(l, 21, len, 0, 0, b, len), 0);
	CHECK_EQ(info(l).stats.snap_installed, 1);
	px_learner_destroy(l);
}

/* A transfer stalls: SNAP_REQ resent, then another peer asked. */
static void test_transfer_resend(void)
{
	struct px_config c = scfg(2);
	struct px_learner *l = px_learner_create(&c, now);
	static u8 b[PX_SNAP_CHUNK];
	struct px_ready rd;
	u32 len = meta(b, 0, 30, 0), tries, reqs = 0, lreqs = 0;
	struct px_obuf *o;

	CHECK(l != NULL);
	/* known up to 40 */
	{
		struct px_msg m = { .type = PAXOS_MSG_STATUS, .src = 3,
				    .dst = PAXOS_NODE_ALL, .instance = 40 };

		CHECK_EQ(px_learner_step(l, now, &m), 0);
	}
	CHECK_EQ(chunk(l, 30, len, 2 * PX_SNAP_CHUNK, 0, b, PX_SNAP_CHUNK),
		 0);
	drain(l, &rd);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_SNAP_REQ &&
	      rd.msgs->dst == 3 && rd.msgs->instance == 30 &&
	      px_get_be32(rd.msgs->body) == PX_SNAP_CHUNK);
	px_ready_free(&rd);
	CHECK_EQ(px_learner_next_deadline(l) <= now + c.catchup_us, 1);
	/* a repeated chunk (offset already received) is ignored */
	CHECK_EQ(chunk(l, 30, len, 2 * PX_SNAP_CHUNK, 0, b, PX_SNAP_CHUNK),
		 0);
	drain(l, &rd);
	CHECK(rd.msgs == NULL);
	px_ready_free(&rd);
	/* the next chunk, but from another server: never mixed in */
	chunk_src = 1;
	CHECK_EQ(chunk(l, 30, len, 2 * PX_SNAP_CHUNK, PX_SNAP_CHUNK, b,
		       PX_SNAP_CHUNK), 0);
	chunk_src = 3;
	CHECK_EQ(info(l).delivered, 0);
	drain(l, &rd);
	CHECK(rd.msgs == NULL);
	px_ready_free(&rd);
	for (tries = 0; tries < 6; tries++) {
		now += c.catchup_us;
		px_learner_tick(l, now);
		drain(l, &rd);
		for (o = rd.msgs; o; o = o->next) {
			if (o->type == PAXOS_MSG_SNAP_REQ) {
				CHECK(o->dst == 3 &&
				      px_get_be32(o->body) == PX_SNAP_CHUNK);
				reqs++;
			}
			if (o->type == PAXOS_MSG_LEARN_REQ)
				lreqs++;
		}
		px_ready_free(&rd);
	}
	CHECK_EQ(reqs, 3);
	CHECK(lreqs >= 1);
	/* A newer snapshot restarts the transfer. */
	CHECK_EQ(chunk(l, 30, len, 2 * PX_SNAP_CHUNK, 0, b, PX_SNAP_CHUNK),
		 0);
	len = meta(b, 0, 35, 0);
	CHECK_EQ(chunk(l, 35, len, 3, 0, b, len + 3), 0);
	CHECK_EQ(info(l).delivered, 35);
	drain(l, &rd);
	CHECK_EQ(rd.restored, 35);
	px_ready_free(&rd);
	px_learner_destroy(l);
}

/* The server answers SNAP_REQ for an older index with its newer one. */
static void test_serve(void)
{
	struct px_config c = scfg(1);
	struct px_learner *s = px_learner_create(&c, now);
	u8 body[8];
	struct px_msg m = { .type = PAXOS_MSG_SNAP_REQ, .src = 2, .dst = 1,
			    .instance = 8, .body = body, .len = 4 };
	struct px_ready rd;
	u64 i;

	CHECK(s != NULL);
	px_put_be32(body, 0);
	/* none yet: ignored */
	CHECK_EQ(px_learner_step(s, now, &m), 0);
	drain(s, &rd);
	CHECK(rd.msgs == NULL);
	px_ready_free(&rd);
	for (i = 1; i <= 20; i++)
		chosen(s, i);
	CHECK_EQ(px_learner_snapshot_put(s, 16, "xy", 2), 0);
	drain(s, &rd);
	px_ready_free(&rd);
	CHECK_EQ(px_learner_step(s, now, &m), 0);
	drain(s, &rd);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_SNAP_CHUNK &&
	      rd.msgs->instance == 16 && px_get_be32(rd.msgs->body + 8) == 0);
	px_ready_free(&rd);
	/* a bad body */
	m.len = 3;
	CHECK_EQ(px_learner_step(s, now, &m), -EINVAL);
	/* offset past the end: ignored */
	m.len = 4;
	m.instance = 16;
	px_put_be32(body, 1000);
	CHECK_EQ(px_learner_step(s, now, &m), 0);
	drain(s, &rd);
	CHECK(rd.msgs == NULL);
	px_ready_free(&rd);
	/* LEARN_REQ within what is retained: CHOSEN as before */
	m.type = PAXOS_MSG_LEARN_REQ;
	m.instance = 10;
	m.len = 8;
	px_put_be64(body, 12);
	CHECK_EQ(px_learner_step(s, now, &m), 0);
	drain(s, &rd);
	CHECK(rd.msgs && rd.msgs->type == PAXOS_MSG_CHOSEN);
	px_ready_free(&rd);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_SNAP_REQ), PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_SNAP_CHUNK), PAXOS_ROLE_LEARNER);
	px_learner_destroy(s);
}

int main(void)
{
	RUN(test_put_errors);
	RUN(test_catchup_small);
	RUN(test_catchup_chunks);
	RUN(test_catchup_empty_app);
	RUN(test_strict_decode);
	RUN(test_transfer_resend);
	RUN(test_serve);
	CHECK_DONE();
}
