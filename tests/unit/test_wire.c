// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Frame codec, reassembly, auth tag, batches, config and px_ready helpers.
 */
#include <string.h>

#include "check.h"
#include "px_wire.h"

/* px_alloc with failure injection (replaces tools/common/platform_user.c). */
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

static u64 rng = 12345;

static u32 rnd(u32 n)
{
	return n ? (u32)(px_rand_next(&rng) % n) : 0;
}

static const u8 test_key[PAXOS_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
	0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f,
};

/* Node 1 sends to node 2; members 1..3. */
static struct px_wire_cfg wcfg(u8 self, u32 mtu, bool auth)
{
	struct px_wire_cfg c = {
		.cluster_id = 0xC0FFEE01,
		.group_id = 7,
		.self = self,
		.members = 0xE,
		.mtu = mtu,
		.key = auth ? test_key : NULL,
	};
	return c;
}

/* ---------------------------------------------- independent SipHash-2-4 */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t ref_siphash(const uint8_t *k, const uint8_t *in, size_t n)
{
	uint64_t k0 = 0, k1 = 0, v0, v1, v2, v3, m;
	size_t i, j;

	for (i = 0; i < 8; i++) {
		k0 |= (uint64_t)k[i] << (8 * i);
		k1 |= (uint64_t)k[8 + i] << (8 * i);
	}
	v0 = k0 ^ 0x736f6d6570736575ull;
	v1 = k1 ^ 0x646f72616e646f6dull;
	v2 = k0 ^ 0x6c7967656e657261ull;
	v3 = k1 ^ 0x7465646279746573ull;
	for (i = 0; i + 8 <= n; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	m = (uint64_t)n << 56;
	for (j = 0; i + j < n; j++)
		m |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void ref_tag(const u8 *key, const u8 *data, size_t len, u8 *tag)
{
	u8 *buf = malloc(len + 1);
	uint64_t h[2];
	int i, j;

	memcpy(buf + 1, data, len);
	for (i = 0; i < 2; i++) {
		buf[0] = (u8)(i + 1);
		h[i] = ref_siphash(key + 16 * i, buf, len + 1);
		for (j = 0; j < 8; j++)
			tag[8 * i + j] = (u8)(h[i] >> (8 * j));
	}
	free(buf);
}

static void test_siphash_tag(void)
{
	u8 msg[15], buf[PAXOS_MAX_MTU], tag[16];
	struct px_wire_cfg tx = wcfg(1, 1500, true);
	struct px_msg m = { .type = PAXOS_MSG_CHOSEN, .dst = 2, .ballot = 9,
			    .instance = 4 };
	u8 body[300];
	int i, n;

	/* The reference implementation against the SipHash paper's vector. */
	for (i = 0; i < 15; i++)
		msg[i] = (u8)i;
	CHECK(ref_siphash(test_key, msg, 15) == 0xa129ca6149be45e5ull);

	/* Every body length mod 8, so each tail length is covered. */
	for (i = 0; i < 300; i++)
		body[i] = (u8)(i * 7);
	px_put_be32(body, 0);
	for (n = 4; n < 300; n += 1) {
		m.body = body;
		m.len = (u32)n;
		i = px_wire_encode(&tx, &m, 1, 0, buf);
		CHECK_EQ(i, PAXOS_FRAME_HDR_LEN + n + PAXOS_AUTH_TAG_LEN);
		ref_tag(test_key, buf, PAXOS_FRAME_HDR_LEN + n, tag);
		CHECK(!memcmp(buf + PAXOS_FRAME_HDR_LEN + n, tag, 16));
	}
}

/* ----------------------------------------------------------- frames count */

static void test_frames_count(void)
{
	u32 r1500 = 1500 - 44, r9000 = 9000 - 44, ra = 1500 - 44 - 16;

	CHECK_EQ(px_wire_frames(1500, 0, false), 1);
	CHECK_EQ(px_wire_frames(1500, 1, false), 1);
	CHECK_EQ(px_wire_frames(1500, r1500, false), 1);
	CHECK_EQ(px_wire_frames(1500, r1500 + 1, false), 2);
	CHECK_EQ(px_wire_frames(1500, ra, true), 1);
	CHECK_EQ(px_wire_frames(1500, ra + 1, true), 2);
	CHECK_EQ(px_wire_frames(9000, 65564, false), (65564 + r9000 - 1) / r9000);
	CHECK_EQ(px_wire_frames(9000, PAXOS_MAX_MSG, false),
		 (PAXOS_MAX_MSG + r9000 - 1) / r9000);
	CHECK_EQ(px_wire_frames(9000, PAXOS_MAX_MSG + 1, false), 0);
	/* 4 MiB at MTU 576 needs more than PAXOS_MAX_FRAGS frames. */
	CHECK_EQ(px_wire_frames(576, PAXOS_MAX_MSG, false), 0);
	CHECK_EQ(px_wire_frames(575, 10, false), 0);
	CHECK_EQ(px_wire_frames(9001, 10, false), 0);
}

/* --------------------------------------------------------------- roundtrip */

static u8 *make_body(u32 len, u32 seed)
{
	u8 *b = malloc(len ? len : 1);
	u32 i;

	for (i = 0; i < len; i++)
		b[i] = (u8)(i * 131 + seed);
	return b;
}

/* Encode @m at @mtu, deliver the frames in @order, check the result. */
static int deliver(struct px_wire_cfg *tx, struct px_wire_cfg *rx,
		   struct px_reasm *r, const struct px_msg *m, u32 seq,
		   const u32 *order, u32 norder, struct px_msg *out, u64 now)
{
	static u8 buf[PAXOS_MAX_MTU + 64];
	struct px_frame f;
	u32 k;
	int len, rc, done = 0;

	for (k = 0; k < norder; k++) {
		len = px_wire_encode(tx, m, seq, order[k], buf);
		if (len < 0)
			return -1000;
		if ((u32)len > tx->mtu)
			return -1001;
		rc = px_wire_parse(rx, buf, (u32)len, &f);
		if (rc)
			return rc;
		rc = px_reasm_add(r, now, &f, out);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (done)
				return -1002;	/* completed twice */
			done = 1;
			/* body must survive until the next add: copy now */
			if (out->len) {
				u8 *c = malloc(out->len);

				memcpy(c, out->body, out->len);
				out->body = c;
			} else {
				out->body = NULL;
			}
		}
	}
	return done;
}

static void check_roundtrip(u32 mtu, bool auth, u32 len, u8 type)
{
	struct px_wire_cfg tx = wcfg(1, mtu, auth), rx = wcfg(2, mtu, auth);
	struct px_msg m = { .type = type, .dst = PAXOS_NODE_ALL,
			    .ballot = 0x1234500 | 1, .instance = 77 };
	struct px_msg out;
	struct px_reasm r;
	u32 n = px_wire_frames(mtu, len, auth), i, *order;
	u8 *body = make_body(len, len);
	int rc;

	/* A valid value header so body rules for ACCEPT/CHOSEN hold. */
	if (len >= 4)
		px_put_be32(body, 0);
	m.body = body;
	m.len = len;
	CHECK(n > 0);
	order = malloc(sizeof(*order) * n);
	for (i = 0; i < n; i++)
		order[i] = i;
	px_reasm_init(&r);
	memset(&out, 0, sizeof(out));
	rc = deliver(&tx, &rx, &r, &m, 42, order, n, &out, 1000);
	CHECK_EQ(rc, 1);
	if (rc == 1) {
		CHECK_EQ(out.type, type);
		CHECK_EQ(out.src, 1);
		CHECK_EQ(out.dst, PAXOS_NODE_ALL);
		CHECK(out.ballot == m.ballot);
		CHECK(out.instance == m.instance);
		CHECK_EQ(out.len, len);
		CHECK(!len || !memcmp(out.body, body, len));
		free((void *)out.body);
	}
	px_reasm_uninit(&r);
	free(order);
	free(body);
}

static void test_roundtrip(void)
{
	static const u32 mtus[] = { 1500, 9000, 576 };
	static const u32 lens[] = {
		4, 5, 100, 1439, 1440, 1441, 1456, 1457, 3000, 8956, 8957,
		65536, 65564 + 8, 200000, 1 << 20,
	};
	u32 i, j, a;

	for (i = 0; i < PX_ARRAY_SIZE(mtus); i++)
		for (j = 0; j < PX_ARRAY_SIZE(lens); j++)
			for (a = 0; a < 2; a++)
				check_roundtrip(mtus[i], a, lens[j],
						lens[j] < PAXOS_ACCEPT_HDR_LEN + 4 ?
						PAXOS_MSG_CHOSEN :
						PAXOS_MSG_ACCEPT);
	/* Empty bodies and fixed-size bodies. */
	for (a = 0; a < 2; a++) {
		check_roundtrip(1500, a, 0, PAXOS_MSG_PREPARE);
		check_roundtrip(1500, a, 0, PAXOS_MSG_STATUS);
		check_roundtrip(9000, a, PAXOS_HEARTBEAT_LEN,
				PAXOS_MSG_HEARTBEAT);
		check_roundtrip(9000, a, 8, PAXOS_MSG_LEARN_REQ);
		check_roundtrip(1500, a, 4, PAXOS_MSG_SNAP_REQ);
		check_roundtrip(1500, a, 12 + PX_SNAP_CHUNK, PAXOS_MSG_SNAP_CHUNK);
	}
	/* A 4 MiB PROMISE at 9000. */
	check_roundtrip(9000, 0, PAXOS_MAX_MSG, PAXOS_MSG_PROMISE);
}

/* A 64 KiB command inside a real batch, through ACCEPT, with loss + dup. */
static void test_roundtrip_64k_command(void)
{
	struct px_wire_cfg tx = wcfg(3, 1500, false), rx = wcfg(2, 1500, false);
	u32 h = PAXOS_ACCEPT_HDR_LEN, n, i, *order, k = 0;
	u32 len = h + 4 + 24 + PAXOS_MAX_CMD;
	u8 *body = make_body(len, 3);
	struct px_msg m = { .type = PAXOS_MSG_ACCEPT, .dst = 2,
			    .ballot = px_ballot_make(5, 3), .instance = 9,
			    .body = body, .len = len };
	struct px_msg out;
	struct px_batch_iter it;
	struct px_cmd c;
	struct px_reasm r;

	memset(body, 0, h);
	px_put_be64(body, 8);
	px_put_be32(body + h, 1);
	px_put_be64(body + h + 4, 0xabcdef);
	px_put_be64(body + h + 12, 17);
	px_put_be32(body + h + 20, PAXOS_MAX_CMD);
	px_put_be32(body + h + 24, 0);
	n = px_wire_frames(1500, len, false);
	CHECK_EQ(n, (len + 1455) / 1456);
	/* Reverse order with every fragment twice. */
	order = malloc(sizeof(*order) * 2 * n);
	for (i = 0; i < n; i++) {
		order[k++] = n - 1 - i;
		order[k++] = n - 1 - i;
	}
	px_reasm_init(&r);
	CHECK_EQ(deliver(&tx, &rx, &r, &m, 1, order, k, &out, 5), 1);
	CHECK_EQ(out.len, len);
	CHECK(!memcmp(out.body, body, len));
	CHECK_EQ(px_batch_iter_init(&it, out.body + h, out.len - h), 0);
	CHECK_EQ(px_batch_next(&it, &c), 1);
	CHECK(c.client_id == 0xabcdef);
	CHECK_EQ(c.seq, 17);
	CHECK_EQ(c.len, PAXOS_MAX_CMD);
	CHECK(!memcmp(c.data, body + h + 28, PAXOS_MAX_CMD));
	CHECK_EQ(px_batch_next(&it, &c), 0);
	free((void *)out.body);
	px_reasm_uninit(&r);
	free(order);
	free(body);
}

/* -------------------------------------------------------------- drop reasons */

static int frame_len;
static u8 frame[PAXOS_MAX_MTU + 64];

/* A valid 2-fragment message's first frame, from node 1 to node 2. */
static void base_frame(bool auth, u32 idx)
{
	struct px_wire_cfg tx = wcfg(1, 1500, auth);
	static u8 body[2000];
	struct px_msg m = { .type = PAXOS_MSG_CHOSEN, .dst = 2, .ballot = 0x101,
			    .instance = 3, .body = body, .len = 2000 };

	frame_len = px_wire_encode(&tx, &m, 5, idx, frame);
}

static void reseal(void)
{
	u32 flen = px_get_be16(frame + 24);

	ref_tag(test_key, frame, 44 + flen, frame + 44 + flen);
}

static int parse_frame(bool auth)
{
	struct px_wire_cfg rx = wcfg(2, 1500, auth);
	struct px_frame f;

	return px_wire_parse(&rx, frame, (u32)frame_len, &f);
}

/* Make one change to a fresh valid frame and expect @want. */
#define EXPECT_DROP(auth, want, stmt) do {				\
	base_frame(auth, 0);						\
	CHECK_EQ(parse_frame(auth), 0);					\
	stmt;								\
	if (auth)							\
		reseal();						\
	CHECK_EQ(parse_frame(auth), -(want));				\
} while (0)

static void test_drop_reasons(void)
{
	struct px_wire_cfg rx = wcfg(2, 1500, false);
	struct px_msg m = { 0 }, out;
	struct px_frame f;
	struct px_reasm r;
	u8 small[64];
	int a;

	/* Every reason must be distinguishable from success. */
	CHECK(PAXOS_DROP_TRUNCATED != 0);
	for (a = 0; a < 2; a++) {
		EXPECT_DROP(a, PAXOS_DROP_TRUNCATED, frame_len = 43);
		EXPECT_DROP(a, PAXOS_DROP_TRUNCATED, frame_len -= 1);
		EXPECT_DROP(a, PAXOS_DROP_OVERSIZED,
			    px_put_be32(frame + 20, PAXOS_MAX_MSG + 1));
		EXPECT_DROP(a, PAXOS_DROP_OVERSIZED,
			    px_put_be16(frame + 24, 1500));
		EXPECT_DROP(a, PAXOS_DROP_OVERSIZED, frame_len = 1501);
		EXPECT_DROP(a, PAXOS_DROP_BAD_MAGIC, frame[0] ^= 1);
		EXPECT_DROP(a, PAXOS_DROP_BAD_VERSION,
			    frame[2] = PAXOS_WIRE_VERSION + 1);
		EXPECT_DROP(a, PAXOS_DROP_BAD_VERSION, frame[27] = 1);
		EXPECT_DROP(a, PAXOS_DROP_BAD_VERSION, frame[26] |= 0x80);
		EXPECT_DROP(a, PAXOS_DROP_FOREIGN_CLUSTER, frame[7] ^= 1);
		EXPECT_DROP(a, PAXOS_DROP_FOREIGN_GROUP, frame[9] ^= 1);
		EXPECT_DROP(a, PAXOS_DROP_UNKNOWN_TYPE, frame[3] = 0);
		EXPECT_DROP(a, PAXOS_DROP_UNKNOWN_TYPE,
			    frame[3] = PAXOS_MSG_MAX + 1);
		EXPECT_DROP(a, PAXOS_DROP_BAD_NODE, frame[10] = 4);
		EXPECT_DROP(a, PAXOS_DROP_BAD_NODE, frame[10] = 0);
		EXPECT_DROP(a, PAXOS_DROP_BAD_NODE, frame[10] = 32);
		EXPECT_DROP(a, PAXOS_DROP_BAD_NODE, frame[10] = 2); /* self */
		EXPECT_DROP(a, PAXOS_DROP_BAD_NODE, frame[11] = 3);
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG, px_put_be16(frame + 18, 0));
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG, px_put_be16(frame + 16, 2));
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG,
			    px_put_be16(frame + 18, PAXOS_MAX_FRAGS + 1));
		/* 2 fragments cannot carry 2000 bytes in pieces of 900 */
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG,
			    (px_put_be16(frame + 24, 900), frame_len = 44 + 900 +
			     (a ? 16 : 0)));
		/* a single fragment must carry the whole body */
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG, px_put_be16(frame + 18, 1));
		/* trailing bytes after the payload (beyond Ethernet padding) */
		EXPECT_DROP(a, PAXOS_DROP_BAD_FRAG,
			    (px_put_be16(frame + 24, 1400), frame_len = 44 + 1400 +
			     (a ? 16 : 0) + 1));
		EXPECT_DROP(a, PAXOS_DROP_BAD_BODY,
			    (px_put_be32(frame + 20, 2), frame[3] = PAXOS_MSG_CHOSEN,
			     px_put_be16(frame + 18, 1), px_put_be16(frame + 24, 2),
			     frame_len = 46 + (a ? 16 : 0)));
	}
	/* Auth: missing, corrupted, unexpected. */
	base_frame(false, 0);
	CHECK_EQ(parse_frame(true), -PAXOS_DROP_BAD_AUTH);
	base_frame(true, 0);
	CHECK_EQ(parse_frame(false), -PAXOS_DROP_BAD_AUTH);
	base_frame(true, 1);
	CHECK_EQ(parse_frame(true), 0);
	frame[frame_len - 1] ^= 0x40;
	CHECK_EQ(parse_frame(true), -PAXOS_DROP_BAD_AUTH);
	base_frame(true, 1);
	frame[50] ^= 1;		/* payload byte */
	CHECK_EQ(parse_frame(true), -PAXOS_DROP_BAD_AUTH);
	base_frame(true, 1);
	frame[30] ^= 1;		/* ballot */
	CHECK_EQ(parse_frame(true), -PAXOS_DROP_BAD_AUTH);

	/* Per-type body rules; Ethernet padding of a short frame is fine. */
	m.type = PAXOS_MSG_HEARTBEAT;
	m.dst = 2;
	m.ballot = 0x101;
	m.body = small;
	memset(small, 0, sizeof(small));
	m.len = 15;
	frame_len = px_wire_encode(&(struct px_wire_cfg){ .cluster_id =
			0xC0FFEE01, .group_id = 7, .self = 1, .members = 0xE,
			.mtu = 1500 }, &m, 1, 0, frame);
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f),
		 -PAXOS_DROP_BAD_BODY);
	m.type = PAXOS_MSG_PREPARE;
	m.len = 0;
	frame_len = px_wire_encode(&(struct px_wire_cfg){ .cluster_id =
			0xC0FFEE01, .group_id = 7, .self = 1, .members = 0xE,
			.mtu = 1500 }, &m, 1, 0, frame);
	CHECK_EQ(frame_len, 44);
	CHECK_EQ(px_wire_parse(&rx, frame, 46, &f), 0);	/* padded */
	CHECK_EQ(px_wire_parse(&rx, frame, 47, &f), -PAXOS_DROP_BAD_FRAG);
	px_put_be32(frame + 20, 1);
	px_put_be16(frame + 24, 1);
	CHECK_EQ(px_wire_parse(&rx, frame, 46, &f), -PAXOS_DROP_BAD_BODY);

	/* Reassembly: a fragment inconsistent with its message. */
	px_reasm_init(&r);
	base_frame(false, 0);
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f), 0);
	CHECK_EQ(px_reasm_add(&r, 1, &f, &out), 0);
	base_frame(false, 1);
	px_put_be64(frame + 36, 4);	/* another instance, same msg_seq */
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f), 0);
	CHECK_EQ(px_reasm_add(&r, 2, &f, &out), -PAXOS_DROP_BAD_FRAG);
	/* Reassembly out of memory. */
	base_frame(false, 0);
	px_put_be32(frame + 12, 6);
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f), 0);
	alloc_fail_after = 0;
	CHECK_EQ(px_reasm_add(&r, 3, &f, &out), -PAXOS_DROP_REASM);
	alloc_fail_after = -1;
	px_reasm_uninit(&r);
}

/* ------------------------------------------------- reassembly properties */

static void test_reasm_loss_dup_reorder(void)
{
	struct px_wire_cfg tx1 = wcfg(1, 1500, false), tx3 = wcfg(3, 1500, false);
	struct px_wire_cfg rx = wcfg(2, 1500, false);
	u32 len = 10000, n = px_wire_frames(1500, len, false), i, j, t;
	u8 *b1 = make_body(len, 1), *b3 = make_body(len, 3);
	struct px_msg m1 = { .type = PAXOS_MSG_FORWARD, .dst = 2, .body = b1,
			     .len = len };
	struct px_msg m3 = m1, out;
	u32 order[64];
	struct px_reasm r;
	struct px_frame f;
	u8 buf[1500];
	int rc, round, done1, done3, len_enc;

	m3.body = b3;
	px_reasm_init(&r);
	for (round = 0; round < 200; round++) {
		/* Interleave two senders using the same msg_seq; shuffle. */
		for (i = 0; i < 2 * n; i++)
			order[i] = i;
		for (i = 2 * n - 1; i > 0; i--) {
			j = rnd(i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		done1 = done3 = 0;
		for (i = 0; i < 2 * n + 4; i++) {
			u32 k = i < 2 * n ? order[i] : order[rnd(2 * n)];
			bool one = k < n;

			len_enc = px_wire_encode(one ? &tx1 : &tx3,
						 one ? &m1 : &m3, round,
						 one ? k : k - n, buf);
			CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
			rc = px_reasm_add(&r, 1000 + round, &f, &out);
			CHECK(rc == 0 || rc == 1);
			if (rc == 1) {
				CHECK_EQ(out.len, len);
				CHECK(!memcmp(out.body, one ? b1 : b3, len));
				CHECK_EQ(out.src, one ? 1 : 3);
				if (one)
					done1++;
				else
					done3++;
			}
		}
		/* Duplicates after completion start a new (never done) slot,
		 * which later expires; each message completes exactly once. */
		CHECK_EQ(done1, 1);
		CHECK_EQ(done3, 1);
	}
	px_reasm_uninit(&r);

	/* Loss: a message missing a fragment never completes, expires. */
	px_reasm_init(&r);
	for (i = 1; i < n; i++) {
		len_enc = px_wire_encode(&tx1, &m1, 77, i, buf);
		CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
		CHECK_EQ(px_reasm_add(&r, 10, &f, &out), 0);
	}
	CHECK_EQ(r.evicted, 0);
	len_enc = px_wire_encode(&tx1, &m1, 78, 0, buf);
	CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
	CHECK_EQ(px_reasm_add(&r, 10 + PX_REASM_TIMEOUT_US + 1, &f, &out), 0);
	CHECK_EQ(r.evicted, 1);
	/* The late first fragment of 77 starts over: no completion. */
	len_enc = px_wire_encode(&tx1, &m1, 77, 0, buf);
	CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
	CHECK_EQ(px_reasm_add(&r, 20 + PX_REASM_TIMEOUT_US, &f, &out), 0);
	px_reasm_uninit(&r);

	/* Slots are bounded: the oldest in-progress message is evicted. */
	px_reasm_init(&r);
	for (i = 0; i < PX_REASM_SLOTS + 3; i++) {
		len_enc = px_wire_encode(&tx1, &m1, 100 + i, 0, buf);
		CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
		CHECK_EQ(px_reasm_add(&r, 100 + i, &f, &out), 0);
	}
	CHECK_EQ(r.evicted, 3);
	/* Message 100 was evicted: its remaining fragments don't complete. */
	for (j = 1; j < n; j++) {
		len_enc = px_wire_encode(&tx1, &m1, 100, j, buf);
		CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
		CHECK_EQ(px_reasm_add(&r, 200, &f, &out), 0);
	}
	/* Message 118 (newest) is still there and completes. */
	for (j = 1; j < n; j++) {
		len_enc = px_wire_encode(&tx1, &m1, 100 + PX_REASM_SLOTS + 2, j,
					 buf);
		CHECK_EQ(px_wire_parse(&rx, buf, (u32)len_enc, &f), 0);
		rc = px_reasm_add(&r, 201, &f, &out);
		CHECK_EQ(rc, j == n - 1 ? 1 : 0);
	}
	CHECK(!memcmp(out.body, b1, len));
	px_reasm_uninit(&r);
	free(b1);
	free(b3);
}

/* -------------------------------------------------------------------- fuzz */

/* An independent statement of what an accepted frame must satisfy. */
static bool frame_valid(const struct px_wire_cfg *c, const u8 *b, u32 len,
			const struct px_frame *f)
{
	u32 tag = c->key ? 16 : 0, room = c->mtu - 44 - tag, msg, fl;
	u16 idx, cnt;
	u8 type, src, dst;

	if (len < 44 || len > c->mtu)
		return false;
	type = b[3];
	src = b[10];
	dst = b[11];
	idx = px_get_be16(b + 16);
	cnt = px_get_be16(b + 18);
	msg = px_get_be32(b + 20);
	fl = px_get_be16(b + 24);
	if (px_get_be16(b) != 0x5058 || b[2] != PAXOS_WIRE_VERSION || b[27] ||
	    px_get_be32(b + 4) != c->cluster_id ||
	    px_get_be16(b + 8) != c->group_id || type < 1 || type > 12 ||
	    src < 1 || src > 31 || !(c->members & (1u << src)) ||
	    src == c->self || (dst != c->self && dst != 0xff))
		return false;
	if (b[26] != (c->key ? 1 : 0))
		return false;
	if (!cnt || idx >= cnt || msg > PAXOS_MAX_MSG || fl > room)
		return false;
	if (len < 44 + fl + tag || (len > 44 + fl + tag && len > 46))
		return false;
	if (cnt == 1 && fl != msg)
		return false;
	if (cnt > 1) {
		/* non-last: all non-last are fl bytes, the last 1..fl */
		u64 size = idx + 1 < cnt ? fl :
			   ((msg - fl) % (cnt - 1) ? 0 : (msg - fl) / (cnt - 1));

		if (!fl || fl > msg || !size || size > room || fl > size ||
		    size * (cnt - 1) >= msg || size * cnt < msg)
			return false;
	}
	if (c->key) {
		u8 t[16];

		ref_tag(c->key, b, 44 + fl, t);
		if (memcmp(t, b + 44 + fl, 16))
			return false;
	}
	return f->type == type && f->src == src && f->frag_len == fl &&
	       f->msg_len == msg && f->payload == b + 44;
}

static void test_fuzz(void)
{
	struct px_wire_cfg tx[2], rx[2];
	static u8 body[20000], buf[PAXOS_MAX_MTU + 128];
	struct px_msg m, out;
	struct px_reasm r;
	struct px_frame f;
	u32 iter, len, i, accepted = 0, completed = 0, nf, parsed = 0;
	int rc, a, hits[__PAXOS_DROP_MAX + 1] = { 0 };

	for (a = 0; a < 2; a++) {
		tx[a] = wcfg(1 + 2 * a, a ? 9000 : 1500, a);
		rx[a] = wcfg(2, a ? 9000 : 1500, a);
	}
	for (i = 0; i < sizeof(body); i++)
		body[i] = (u8)rnd(256);
	px_reasm_init(&r);
	for (iter = 0; iter < 150000; iter++) {
		u32 mode = rnd(10);

		a = (int)rnd(2);
		if (mode == 0) {
			/* pure random bytes */
			len = rnd(rx[a].mtu + 100);
			for (i = 0; i < len; i++)
				buf[i] = (u8)rnd(256);
		} else {
			/* a valid frame, then a few mutations */
			m.type = (u8)(1 + rnd(PAXOS_MSG_MAX));
			m.dst = rnd(4) ? 2 : PAXOS_NODE_ALL;
			m.ballot = px_rand_next(&rng);
			m.instance = rnd(100);
			m.body = body;
			m.len = rnd(8) ? rnd(3000) : rnd(sizeof(body));
			nf = px_wire_frames(tx[a].mtu, m.len, a);
			rc = px_wire_encode(&tx[a], &m, rnd(8),
					    rnd(nf ? nf : 1), buf);
			if (rc < 0) {
				CHECK(nf == 0 || rc == -EMSGSIZE);
				continue;
			}
			len = (u32)rc;
			for (i = rnd(4); i > 0 && len; i--) {
				u32 pos = rnd(mode < 5 ? 48 : len);

				switch (rnd(4)) {
				case 0:
					buf[pos] ^= (u8)(1u << rnd(8));
					break;
				case 1:
					buf[pos] = (u8)rnd(256);
					break;
				case 2:
					len = rnd(len + 1);
					break;
				default:
					len = PX_MIN(len + rnd(64),
						     (u32)sizeof(buf));
					break;
				}
			}
		}
		rc = px_wire_parse(&rx[a], buf, len, &f);
		parsed++;
		CHECK(rc <= 0 && rc > -__PAXOS_DROP_MAX);
		hits[-rc]++;
		if (rc)
			continue;
		accepted++;
		if (!frame_valid(&rx[a], buf, len, &f)) {
			fprintf(stderr, "a=%d len=%u type=%u src=%u idx=%u cnt=%u msg=%u fl=%u\n",
				a, len, f.type, f.src, f.frag_idx, f.frag_cnt, f.msg_len, f.frag_len);
			CHECK(!"accepted a frame with bad fields");
			break;
		}
		rc = px_reasm_add(&r, iter * 10ull, &f, &out);
		CHECK(rc >= -__PAXOS_DROP_MAX && rc <= 1);
		if (rc == 1) {
			completed++;
			CHECK(out.len <= PAXOS_MAX_MSG);
			/* touch every byte: ASAN checks the bounds */
			for (i = 0, nf = 0; i < out.len; i++)
				nf += out.body[i];
			(void)nf;
		}
	}
	px_reasm_uninit(&r);
	printf("fuzz: %u parsed, %u accepted, %u completed; drops:", parsed,
	       accepted, completed);
	for (i = 1; i < __PAXOS_DROP_MAX; i++)
		printf(" %d", hits[i]);
	printf("\n");
	CHECK(parsed >= 100000);
	CHECK(accepted > 1000);
	CHECK(completed > 1000);
}

/* ------------------------------------------------------------ batches etc. */

static u32 put_cmd(u8 *p, u64 cid, u64 seq, const char *s, u32 flags)
{
	u32 n = (u32)strlen(s);

	px_put_be64(p, cid);
	px_put_be64(p + 8, seq);
	px_put_be32(p + 16, n);
	px_put_be32(p + 20, flags);
	memcpy(p + 24, s, n);
	return 24 + n;
}

static void test_batch_iter(void)
{
	u8 v[256];
	u32 len = 4;
	struct px_batch_iter it;
	struct px_cmd c;

	px_put_be32(v, 3);
	len += put_cmd(v + len, 1, 1, "alpha", 0);
	len += put_cmd(v + len, 2, 9, "", PAXOS_CMD_F_DUP);
	len += put_cmd(v + len, 1, 2, "gamma!", 0);
	CHECK_EQ(px_batch_iter_init(&it, v, len), 0);
	CHECK_EQ(px_batch_next(&it, &c), 1);
	CHECK_EQ(c.client_id, 1);
	CHECK_EQ(c.seq, 1);
	CHECK_EQ(c.len, 5);
	CHECK(!memcmp(c.data, "alpha", 5));
	CHECK_EQ(c.pos, 0);
	CHECK(!c.dup);
	CHECK_EQ(px_batch_next(&it, &c), 1);
	CHECK_EQ(c.client_id, 2);
	CHECK_EQ(c.len, 0);
	CHECK(c.dup);
	CHECK_EQ(c.pos, 1);
	CHECK_EQ(px_batch_next(&it, &c), 1);
	CHECK_EQ(c.seq, 2);
	CHECK_EQ(c.pos, 2);
	CHECK(!memcmp(c.data, "gamma!", 6));
	CHECK_EQ(px_batch_next(&it, &c), 0);
	CHECK_EQ(px_batch_next(&it, &c), 0);

	/* no-op */
	px_put_be32(v, 0);
	CHECK_EQ(px_batch_iter_init(&it, v, 4), 0);
	CHECK_EQ(px_batch_next(&it, &c), 0);
	/* malformed */
	CHECK_EQ(px_batch_iter_init(&it, v, 3), -EINVAL);
	CHECK_EQ(px_batch_iter_init(&it, v, 5), -EINVAL);	/* trailing */
	px_put_be32(v, 3);
	CHECK_EQ(px_batch_iter_init(&it, v, len - 1), -EINVAL);
	CHECK_EQ(px_batch_iter_init(&it, v, len + 1), -EINVAL);
	px_put_be32(v, 2);
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v, 4);
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v, 0xffffffff);
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v, 3);
	px_put_be32(v + 4 + 20, 2);	/* unknown flag */
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v + 4 + 20, 0);
	px_put_be32(v + 4 + 16, PAXOS_MAX_CMD + 1);
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v + 4 + 16, 0xfffffff0);
	CHECK_EQ(px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v + 4 + 16, 5);
	CHECK_EQ(px_batch_iter_init(&it, v, len), 0);
	CHECK_EQ(px_batch_iter_init(&it, NULL, 4), -EINVAL);
}

static void test_roles(void)
{
	CHECK_EQ(px_msg_roles(PAXOS_MSG_PREPARE), PAXOS_ROLE_ACCEPTOR);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_PROMISE), PAXOS_ROLE_PROPOSER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_NACK), PAXOS_ROLE_PROPOSER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_ACCEPT),
		 PAXOS_ROLE_ACCEPTOR | PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_ACCEPTED),
		 PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_HEARTBEAT), PAXOS_ROLE_ALL);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_FORWARD), PAXOS_ROLE_PROPOSER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_LEARN_REQ), PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_CHOSEN), PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_STATUS),
		 PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(0), 0);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_SNAP_REQ), PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_SNAP_CHUNK), PAXOS_ROLE_LEARNER);
	CHECK_EQ(px_msg_roles(PAXOS_MSG_MAX + 1), 0);
}

static void test_config(void)
{
	struct px_config c, d;
	const char *why = NULL;

	px_config_default(&c, 2, 0xE);
	CHECK_EQ(px_config_check(&c, &why), 0);
	CHECK(why != NULL);
	CHECK_EQ(c.self, 2);
	CHECK_EQ(c.members, 0xE);
	CHECK_EQ(c.window, 32);
	CHECK_EQ(c.batch_bytes, 16384);
	CHECK_EQ(c.snapshot_every, c.learner_slots / 4);
	CHECK_EQ(c.batch_delay_us, 200);
	CHECK_EQ(c.heartbeat_us, 20000);
	CHECK_EQ(c.election_us, 150000);
	CHECK_EQ(c.retransmit_us, 40000);
	CHECK_EQ(c.catchup_us, 50000);
	CHECK_EQ(c.acceptor_slots, 4096);
	CHECK_EQ(c.learner_slots, 4096);
	CHECK_EQ(c.queue_bytes, 4 << 20);
	CHECK_EQ(c.max_value, 4 + 24 + PAXOS_MAX_CMD);
	px_config_default(&d, 3, 0xE);
	CHECK(c.seed != d.seed);

#define BAD(field, val) do {						\
	d = c;								\
	d.field = (val);						\
	why = NULL;							\
	CHECK_EQ(px_config_check(&d, &why), -EINVAL);			\
	CHECK(why != NULL && why[0]);					\
} while (0)
	BAD(self, 0);
	BAD(self, 32);
	BAD(self, 4);		/* not a member */
	BAD(members, 0);
	BAD(members, 0xF);	/* bit 0 */
	BAD(window, 0);
	BAD(window, PX_MAX_WINDOW + 1);
	BAD(max_value, 1000);
	BAD(max_value, PAXOS_MAX_MSG);
	BAD(batch_bytes, 10);
	BAD(batch_bytes, c.max_value + 1);
	BAD(heartbeat_us, 0);
	BAD(election_us, c.heartbeat_us);
	BAD(retransmit_us, 0);
	BAD(catchup_us, 0);
	BAD(acceptor_slots, 3000);
	BAD(acceptor_slots, 16);	/* < window */
	BAD(acceptor_slots, PX_MAX_SLOTS * 2);
	BAD(learner_slots, 0);
	BAD(snapshot_every, PX_MAX_SLOTS + 1);
	BAD(queue_bytes, 100);
#undef BAD
	d = c;
	d.window = 1;
	d.acceptor_slots = 1;
	d.learner_slots = 1;
	CHECK_EQ(px_config_check(&d, NULL), 0);
	/* snapshots off, or any period up to PX_MAX_SLOTS */
	d.snapshot_every = 0;
	CHECK_EQ(px_config_check(&d, NULL), 0);
	d.snapshot_every = PX_MAX_SLOTS;
	CHECK_EQ(px_config_check(&d, NULL), 0);
}

static void test_ready(void)
{
	struct px_ready a, b;
	struct px_obuf *o;
	struct px_record *rec;
	u8 v[3] = { 1, 2, 3 };

	px_ready_init(&a);
	CHECK(px_ready_empty(&a));
	o = px_ready_msg(&a, PAXOS_MSG_PREPARE, 3, 0x201, 5, 4);
	CHECK(o != NULL);
	CHECK_EQ(o->len, 4);
	CHECK(px_ready_msg(&a, PAXOS_MSG_STATUS, PAXOS_NODE_ALL, 0, 6, 0));
	rec = px_ready_record(&a, PX_REC_ACCEPT, 7, 8, v, 3);
	CHECK(rec && rec->len == 3 && !memcmp(rec->value, v, 3));
	CHECK(!px_ready_empty(&a));
	CHECK_EQ(a.n_msgs, 2);
	CHECK_EQ(a.n_persist, 1);
	a.delivered = 9;
	px_ready_take(&a, &b);
	CHECK(px_ready_empty(&a));
	CHECK_EQ(a.delivered, 9);
	CHECK_EQ(b.delivered, 9);
	CHECK_EQ(b.n_msgs, 2);
	CHECK(b.msgs == o && o->next && o->next->type == PAXOS_MSG_STATUS);
	CHECK(b.persist == rec);
	/* appending to both after take keeps them separate */
	CHECK(px_ready_msg(&a, PAXOS_MSG_NACK, 1, 0, 0, 0));
	CHECK(px_ready_msg(&b, PAXOS_MSG_NACK, 2, 0, 0, 0));
	CHECK(a.msgs && !a.msgs->next && a.msgs->dst == 1);
	CHECK(o->next->next && o->next->next->dst == 2);
	px_ready_free(&b);
	CHECK(px_ready_empty(&b));
	px_ready_take(&a, &b);
	CHECK_EQ(b.n_msgs, 1);
	px_ready_free(&b);
	px_ready_free(&a);
	/* take of an empty ready */
	px_ready_take(&a, &b);
	CHECK(px_ready_empty(&b));
	CHECK(px_ready_record(&b, PX_REC_TRIM, 0, 4, NULL, 0));
	CHECK(b.persist && b.persist->instance == 4);
	px_ready_free(&b);
}

/* A known non-member (wcfg.known) passes the src filter; others do not. */
static void test_known_nodes(void)
{
	struct px_wire_cfg rx = wcfg(2, 1500, false);
	struct px_frame f;

	base_frame(false, 0);
	frame[10] = 4;				/* src 4: not a member */
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f),
		 -PAXOS_DROP_BAD_NODE);
	rx.known = 1u << 4;
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f), 0);
	CHECK_EQ(f.src, 4);
	frame[10] = 5;				/* known has 4 only */
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f),
		 -PAXOS_DROP_BAD_NODE);
	frame[10] = 2;				/* our own id, even if known */
	rx.known |= 1u << 2;
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f),
		 -PAXOS_DROP_BAD_NODE);
	/* members and known together: a member still passes */
	frame[10] = 3;
	CHECK_EQ(px_wire_parse(&rx, frame, (u32)frame_len, &f), 0);
}

/* SNAP_REQ is 4 bytes; SNAP_CHUNK 13 .. 12 + PX_SNAP_CHUNK. */
static void test_snap_lengths(void)
{
	static const struct { u8 type; u32 len; int ok; } t[] = {
		{ PAXOS_MSG_SNAP_REQ, 4, 1 },
		{ PAXOS_MSG_SNAP_REQ, 0, 0 },
		{ PAXOS_MSG_SNAP_REQ, 8, 0 },
		{ PAXOS_MSG_SNAP_CHUNK, 13, 1 },
		{ PAXOS_MSG_SNAP_CHUNK, 12, 0 },
		{ PAXOS_MSG_SNAP_CHUNK, 12 + PX_SNAP_CHUNK, 1 },
		{ PAXOS_MSG_SNAP_CHUNK, 13 + PX_SNAP_CHUNK, 0 },
	};
	struct px_wire_cfg tx = wcfg(1, 9000, false), rx = wcfg(2, 9000, false);
	static u8 body[13 + PX_SNAP_CHUNK], buf[PAXOS_MAX_MTU];
	struct px_frame f;
	u32 k;
	int len;

	for (k = 0; k < PX_ARRAY_SIZE(t); k++) {
		struct px_msg m = { .type = t[k].type, .dst = 2, .instance = 5,
				    .body = body, .len = t[k].len };

		len = px_wire_encode(&tx, &m, 1, 0, buf);
		CHECK(len > 0);
		if (len <= 0)
			continue;
		CHECK_EQ(px_wire_parse(&rx, buf, (u32)len, &f) == 0, t[k].ok);
	}
}

int main(void)
{
	RUN(test_siphash_tag);
	RUN(test_frames_count);
	RUN(test_roundtrip);
	RUN(test_roundtrip_64k_command);
	RUN(test_drop_reasons);
	RUN(test_known_nodes);
	RUN(test_reasm_loss_dup_reorder);
	RUN(test_fuzz);
	RUN(test_batch_iter);
	RUN(test_roles);
	RUN(test_config);
	RUN(test_ready);
	RUN(test_snap_lengths);
	CHECK_DONE();
}
