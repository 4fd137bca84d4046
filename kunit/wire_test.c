// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the frame codec (kmod/core/wire.c) - encoding, strict parsing with
 * one case per drop reason, fragmentation and reassembly, and the auth tag.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "px_kunit.h"

#define CLUSTER	0xC1A55E7Du
#define GROUP	7

static const u8 key_a[PAXOS_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const u8 key_b[PAXOS_KEY_LEN] = "0123456789abcdef0123456789abcdeF";

static void wire_cfg(struct px_wire_cfg *wc, u8 self, u32 mtu,
		     const u8 *key)
{
	memset(wc, 0, sizeof(*wc));
	wc->cluster_id = CLUSTER;
	wc->group_id = GROUP;
	wc->self = self;
	wc->members = KPX_MEMBERS3;
	wc->mtu = mtu;
	wc->key = key;
}

/* A buffer of @len bytes filled with a position-dependent pattern. */
static u8 *pattern(struct kunit *test, u32 len, u8 salt)
{
	u8 *p = kunit_kmalloc(test, len ? len : 1, GFP_KERNEL);
	u32 i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 31 + (i >> 8) + salt);
	return p;
}

/*
 * The base frame of the malformed-frame cases: an ACCEPT from node 1 to
 * all, body = decided, an empty commit run (24 bytes) + a no-op value
 * (4 bytes).
 */
#define BASE_BODY	(PAXOS_ACCEPT_HDR_LEN + 4)

static int base_frame(struct kunit *test, u8 *buf, const u8 *key)
{
	struct px_wire_cfg tx;
	struct px_msg m;
	u8 body[BASE_BODY] = { 0 };
	int len;

	px_put_be64(body, 3);
	wire_cfg(&tx, 1, 1500, key);
	m = kpx_msg(PAXOS_MSG_ACCEPT, 1, PAXOS_NODE_ALL, 0x101, 5, body,
		    sizeof(body));
	len = px_wire_encode(&tx, &m, 77, 0, buf);
	KUNIT_ASSERT_EQ(test, len, PAXOS_FRAME_HDR_LEN + BASE_BODY +
			(key ? PAXOS_AUTH_TAG_LEN : 0));
	return len;
}

/* ------------------------------------------------------------ encoding */

static void wire_encode_header_layout(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 1500, GFP_KERNEL);
	int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = base_frame(test, buf, NULL);
	KUNIT_EXPECT_EQ(test, len, 72);
	/* Field offsets of struct paxos_frame_hdr, all big-endian. */
	KUNIT_EXPECT_EQ(test, px_get_be16(buf), PAXOS_WIRE_MAGIC);
	KUNIT_EXPECT_EQ(test, buf[2], PAXOS_WIRE_VERSION);
	KUNIT_EXPECT_EQ(test, buf[3], PAXOS_MSG_ACCEPT);
	KUNIT_EXPECT_EQ(test, px_get_be32(buf + 4), CLUSTER);
	KUNIT_EXPECT_EQ(test, px_get_be16(buf + 8), GROUP);
	KUNIT_EXPECT_EQ(test, buf[10], 1);
	KUNIT_EXPECT_EQ(test, buf[11], PAXOS_NODE_ALL);
	KUNIT_EXPECT_EQ(test, px_get_be32(buf + 12), 77u);
	KUNIT_EXPECT_EQ(test, px_get_be16(buf + 16), 0);
	KUNIT_EXPECT_EQ(test, px_get_be16(buf + 18), 1);
	KUNIT_EXPECT_EQ(test, px_get_be32(buf + 20), 28u);
	KUNIT_EXPECT_EQ(test, px_get_be16(buf + 24), 28);
	KUNIT_EXPECT_EQ(test, buf[26], 0);
	KUNIT_EXPECT_EQ(test, buf[27], 0);
	KUNIT_EXPECT_EQ(test, px_get_be64(buf + 28), 0x101ull);
	KUNIT_EXPECT_EQ(test, px_get_be64(buf + 36), 5ull);
	KUNIT_EXPECT_EQ(test, px_get_be64(buf + 44), 3ull);
	KUNIT_EXPECT_EQ(test, px_get_be64(buf + 52), 0ull);	/* commit run */
	KUNIT_EXPECT_EQ(test, px_get_be64(buf + 60), 0ull);
	KUNIT_EXPECT_EQ(test, px_get_be32(buf + 68), 0u);	/* no-op */
	KUNIT_EXPECT_EQ(test, (int)sizeof(struct paxos_frame_hdr),
			PAXOS_FRAME_HDR_LEN);
}

static void wire_frames_count(struct kunit *test)
{
	u32 room = 1500 - PAXOS_FRAME_HDR_LEN;
	u32 aroom = room - PAXOS_AUTH_TAG_LEN;

	KUNIT_EXPECT_EQ(test, px_wire_frames(1500, 0, false), 1u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(1500, room, false), 1u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(1500, room + 1, false), 2u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(1500, aroom, true), 1u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(1500, aroom + 1, true), 2u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(9000, PAXOS_MAX_MSG, false),
			DIV_ROUND_UP(PAXOS_MAX_MSG, 9000 - PAXOS_FRAME_HDR_LEN));
	/* Beyond PAXOS_MAX_MSG or PAXOS_MAX_FRAGS: not sendable. */
	KUNIT_EXPECT_EQ(test, px_wire_frames(9000, PAXOS_MAX_MSG + 1, false),
			0u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(576, PAXOS_MAX_MSG, false), 0u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(576, 4096 * 532, false), 4096u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(576, 4096 * 532 + 1, false), 0u);
	/* MTU outside the supported range. */
	KUNIT_EXPECT_EQ(test, px_wire_frames(PAXOS_MIN_MTU - 1, 10, false),
			0u);
	KUNIT_EXPECT_EQ(test, px_wire_frames(PAXOS_MAX_MTU + 1, 10, false),
			0u);
}

static void wire_encode_rejects_oversized(struct kunit *test)
{
	struct px_wire_cfg tx;
	struct px_msg m;
	u8 *buf = kunit_kzalloc(test, 1500, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	wire_cfg(&tx, 1, 1500, NULL);
	/* Index past the last frame. */
	m = kpx_msg(PAXOS_MSG_STATUS, 1, PAXOS_NODE_ALL, 0, 9, NULL, 0);
	KUNIT_EXPECT_EQ(test, px_wire_encode(&tx, &m, 1, 1, buf), -EMSGSIZE);
	/* A body above PAXOS_MAX_MSG (never read: the size check comes first). */
	m = kpx_msg(PAXOS_MSG_FORWARD, 1, 2, 0, 0, buf, PAXOS_MAX_MSG + 1);
	KUNIT_EXPECT_EQ(test, px_wire_encode(&tx, &m, 1, 0, buf), -EMSGSIZE);
}

/* ------------------------------------------------------ parse, round trip */

static void wire_roundtrip_single(struct kunit *test)
{
	struct px_wire_cfg tx, rx;
	struct px_reasm *r;
	struct px_frame f;
	struct px_msg m, out;
	u8 *buf = kunit_kzalloc(test, 1500, GFP_KERNEL);
	u8 *body = pattern(test, 300, 1);
	int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	wire_cfg(&tx, 3, 1500, NULL);
	wire_cfg(&rx, 2, 1500, NULL);
	m = kpx_msg(PAXOS_MSG_CHOSEN, 3, 2, 0x203, 12345678901ull, body, 300);
	len = px_wire_encode(&tx, &m, 0xdeadbeef, 0, buf);
	KUNIT_ASSERT_EQ(test, len, PAXOS_FRAME_HDR_LEN + 300);

	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, buf, len, &f), 0);
	KUNIT_EXPECT_EQ(test, f.type, PAXOS_MSG_CHOSEN);
	KUNIT_EXPECT_EQ(test, f.src, 3);
	KUNIT_EXPECT_EQ(test, f.dst, 2);
	KUNIT_EXPECT_EQ(test, f.flags, 0);
	KUNIT_EXPECT_EQ(test, f.msg_seq, 0xdeadbeefu);
	KUNIT_EXPECT_EQ(test, f.frag_idx, 0);
	KUNIT_EXPECT_EQ(test, f.frag_cnt, 1);
	KUNIT_EXPECT_EQ(test, f.msg_len, 300u);
	KUNIT_EXPECT_EQ(test, f.frag_len, 300);
	KUNIT_EXPECT_EQ(test, f.ballot, 0x203ull);
	KUNIT_EXPECT_EQ(test, f.instance, 12345678901ull);
	KUNIT_EXPECT_PTR_EQ(test, f.payload, (const u8 *)buf +
			    PAXOS_FRAME_HDR_LEN);

	px_reasm_init(r);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 10, &f, &out), 1);
	KUNIT_EXPECT_EQ(test, out.type, PAXOS_MSG_CHOSEN);
	KUNIT_EXPECT_EQ(test, out.src, 3);
	KUNIT_EXPECT_EQ(test, out.dst, 2);
	KUNIT_EXPECT_EQ(test, out.ballot, 0x203ull);
	KUNIT_EXPECT_EQ(test, out.instance, 12345678901ull);
	KUNIT_ASSERT_EQ(test, out.len, 300u);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, 300), 0);
	px_reasm_uninit(r);
}

/* A short frame arrives padded to the Ethernet minimum: accepted. */
static void wire_accepts_ethernet_padding(struct kunit *test)
{
	struct px_wire_cfg tx, rx;
	struct px_frame f;
	struct px_msg m;
	u8 buf[64] = { 0 };
	int len;

	wire_cfg(&tx, 1, 1500, NULL);
	wire_cfg(&rx, 2, 1500, NULL);
	m = kpx_msg(PAXOS_MSG_PREPARE, 1, PAXOS_NODE_ALL, 0x301, 1, NULL, 0);
	len = px_wire_encode(&tx, &m, 1, 0, buf);
	KUNIT_ASSERT_EQ(test, len, PAXOS_FRAME_HDR_LEN);
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f), 0);
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, 46, &f), 0);
	KUNIT_EXPECT_EQ(test, f.frag_len, 0);
	KUNIT_EXPECT_EQ(test, f.msg_len, 0u);
	/* Beyond the minimum payload, extra bytes are not padding. */
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, 47, &f),
			-PAXOS_DROP_BAD_FRAG);
}

/* ----------------------------------------------------- malformed frames */

enum { SET_U8, SET_BE16, SET_BE32, SET_LEN };

struct malformed {
	const char *name;
	int how;	/* SET_*: write @val at @off, or SET_LEN: len = @val */
	u32 off;
	u32 val;
	int reason;	/* expected enum paxos_drop_reason */
};

static const struct malformed malformed_cases[] = {
	{ "header cut short", SET_LEN, 0, PAXOS_FRAME_HDR_LEN - 1,
	  PAXOS_DROP_TRUNCATED },
	{ "empty frame", SET_LEN, 0, 0, PAXOS_DROP_TRUNCATED },
	{ "payload cut short", SET_LEN, 0, 55, PAXOS_DROP_TRUNCATED },
	{ "bad magic", SET_BE16, 0, 0x5059, PAXOS_DROP_BAD_MAGIC },
	{ "version 0", SET_U8, 2, 0, PAXOS_DROP_BAD_VERSION },
	{ "next version", SET_U8, 2, PAXOS_WIRE_VERSION + 1,
	  PAXOS_DROP_BAD_VERSION },
	{ "reserved byte set", SET_U8, 27, 1, PAXOS_DROP_BAD_VERSION },
	{ "unknown flag", SET_U8, 26, 0x80, PAXOS_DROP_BAD_VERSION },
	{ "other cluster", SET_BE32, 4, CLUSTER ^ 1,
	  PAXOS_DROP_FOREIGN_CLUSTER },
	{ "other group", SET_BE16, 8, GROUP + 1, PAXOS_DROP_FOREIGN_GROUP },
	{ "type 0", SET_U8, 3, 0, PAXOS_DROP_UNKNOWN_TYPE },
	{ "type past the last", SET_U8, 3, PAXOS_MSG_MAX + 1,
	  PAXOS_DROP_UNKNOWN_TYPE },
	{ "type 255", SET_U8, 3, 255, PAXOS_DROP_UNKNOWN_TYPE },
	{ "src 0", SET_U8, 10, 0, PAXOS_DROP_BAD_NODE },
	{ "src not a member", SET_U8, 10, 4, PAXOS_DROP_BAD_NODE },
	{ "src out of range", SET_U8, 10, 200, PAXOS_DROP_BAD_NODE },
	{ "src is ourselves", SET_U8, 10, 2, PAXOS_DROP_BAD_NODE },
	{ "dst another node", SET_U8, 11, 3, PAXOS_DROP_BAD_NODE },
	{ "auth flag without a key", SET_U8, 26, PAXOS_F_AUTH,
	  PAXOS_DROP_BAD_AUTH },
	{ "frag_cnt 0", SET_BE16, 18, 0, PAXOS_DROP_BAD_FRAG },
	{ "frag_idx == frag_cnt", SET_BE16, 16, 1, PAXOS_DROP_BAD_FRAG },
	{ "frag_cnt above PAXOS_MAX_FRAGS", SET_BE16, 18,
	  PAXOS_MAX_FRAGS + 1, PAXOS_DROP_BAD_FRAG },
	{ "msg_len != frag_len of a single fragment", SET_BE32, 20, 13,
	  PAXOS_DROP_BAD_FRAG },
	{ "fragments cannot add up to msg_len", SET_BE16, 18, 3,
	  PAXOS_DROP_BAD_FRAG },
	{ "trailing bytes", SET_LEN, 0, 73, PAXOS_DROP_BAD_FRAG },
	{ "msg_len above PAXOS_MAX_MSG", SET_BE32, 20, PAXOS_MAX_MSG + 1,
	  PAXOS_DROP_OVERSIZED },
	{ "frag_len above the MTU's room", SET_BE16, 24, 1500 - 43,
	  PAXOS_DROP_OVERSIZED },
	{ "frame longer than the MTU", SET_LEN, 0, 1501,
	  PAXOS_DROP_OVERSIZED },
	{ "HEARTBEAT body not 32 bytes", SET_U8, 3, PAXOS_MSG_HEARTBEAT,
	  PAXOS_DROP_BAD_BODY },
	{ "PREPARE with a body", SET_U8, 3, PAXOS_MSG_PREPARE,
	  PAXOS_DROP_BAD_BODY },
	{ "LEARN_REQ body not 8 bytes", SET_U8, 3, PAXOS_MSG_LEARN_REQ,
	  PAXOS_DROP_BAD_BODY },
};

static void malformed_desc(const struct malformed *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(malformed, malformed_cases, malformed_desc);

static void wire_parse_malformed(struct kunit *test)
{
	const struct malformed *c = test->param_value;
	struct px_wire_cfg rx;
	struct px_frame f;
	u8 *buf = kunit_kzalloc(test, 1600, GFP_KERNEL);
	int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = base_frame(test, buf, NULL);
	wire_cfg(&rx, 2, 1500, NULL);
	/* The unmodified frame parses: only the mutation is at fault. */
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, buf, len, &f), 0);

	switch (c->how) {
	case SET_U8:
		buf[c->off] = (u8)c->val;
		break;
	case SET_BE16:
		px_put_be16(buf + c->off, (u16)c->val);
		break;
	case SET_BE32:
		px_put_be32(buf + c->off, c->val);
		break;
	case SET_LEN:
		len = c->val;
		break;
	}
	KUNIT_EXPECT_EQ_MSG(test, px_wire_parse(&rx, buf, len, &f),
			    -c->reason, "case: %s", c->name);
}

/* The receiver's MTU is outside the supported range: nothing is taken. */
static void wire_parse_bad_local_mtu(struct kunit *test)
{
	struct px_wire_cfg rx;
	struct px_frame f;
	u8 buf[128] = { 0 };
	int len = base_frame(test, buf, NULL);

	wire_cfg(&rx, 2, PAXOS_MIN_MTU - 1, NULL);
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f),
			-PAXOS_DROP_OVERSIZED);
}

/* ----------------------------------------------------------------- auth */

static void wire_auth(struct kunit *test)
{
	struct px_wire_cfg rx, rx_other, rx_plain;
	struct px_frame f;
	u8 buf[128] = { 0 }, plain[128] = { 0 };
	int len, plen;

	len = base_frame(test, buf, key_a);
	KUNIT_EXPECT_EQ(test, buf[26], PAXOS_F_AUTH);
	wire_cfg(&rx, 2, 1500, key_a);
	wire_cfg(&rx_other, 2, 1500, key_b);
	wire_cfg(&rx_plain, 2, 1500, NULL);

	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f), 0);
	KUNIT_EXPECT_EQ(test, f.frag_len, BASE_BODY);
	KUNIT_EXPECT_EQ(test, px_get_be64(f.payload), 3ull);
	/* Another key, or a receiver without one. */
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx_other, buf, len, &f),
			-PAXOS_DROP_BAD_AUTH);
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx_plain, buf, len, &f),
			-PAXOS_DROP_BAD_AUTH);
	/* Unauthenticated frame to a keyed receiver. */
	plen = base_frame(test, plain, NULL);
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, plain, plen, &f),
			-PAXOS_DROP_BAD_AUTH);
	/* Tag cut off. */
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len - 1, &f),
			-PAXOS_DROP_TRUNCATED);
	/* One bit flipped in the tag, the payload, the header's ballot. */
	buf[len - 1] ^= 1;
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f),
			-PAXOS_DROP_BAD_AUTH);
	buf[len - 1] ^= 1;
	buf[PAXOS_FRAME_HDR_LEN + 7] ^= 0x10;
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f),
			-PAXOS_DROP_BAD_AUTH);
	buf[PAXOS_FRAME_HDR_LEN + 7] ^= 0x10;
	buf[35] ^= 0x01;
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f),
			-PAXOS_DROP_BAD_AUTH);
	buf[35] ^= 0x01;
	KUNIT_EXPECT_EQ(test, px_wire_parse(&rx, buf, len, &f), 0);
}

/* --------------------------------------------------- fragmentation */

/* Encode @m into frames; returns their count, frames at @frames[i]. */
static u32 encode_all(struct kunit *test, const struct px_wire_cfg *tx,
		      const struct px_msg *m, u32 seq, u8 ***frames,
		      int **lens)
{
	u32 n = px_wire_frames(tx->mtu, m->len, tx->key != NULL), i;

	KUNIT_ASSERT_GT(test, n, 0u);
	*frames = kunit_kcalloc(test, n, sizeof(u8 *), GFP_KERNEL);
	*lens = kunit_kcalloc(test, n, sizeof(int), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, *frames);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, *lens);
	for (i = 0; i < n; i++) {
		(*frames)[i] = kunit_kzalloc(test, tx->mtu, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, (*frames)[i]);
		(*lens)[i] = px_wire_encode(tx, m, seq, i, (*frames)[i]);
		KUNIT_ASSERT_GT(test, (*lens)[i], 0);
		KUNIT_EXPECT_LE(test, (u32)(*lens)[i], tx->mtu);
	}
	return n;
}

static struct px_reasm *new_reasm(struct kunit *test)
{
	struct px_reasm *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	px_reasm_init(r);
	return r;
}

static void wire_fragment_roundtrip(struct kunit *test, const u8 *key)
{
	const u32 blen = 5000;
	struct px_wire_cfg tx, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *body = pattern(test, blen, 7);
	struct px_frame f;
	struct px_msg m, out;
	u8 **frames;
	int *lens;
	u32 n, i, room;
	u64 now = 1000;
	int ret;

	wire_cfg(&tx, 1, 576, key);
	wire_cfg(&rx, 3, 576, key);
	room = 576 - PAXOS_FRAME_HDR_LEN - (key ? PAXOS_AUTH_TAG_LEN : 0);
	m = kpx_msg(PAXOS_MSG_PROMISE, 1, 3, 0x901, 17, body, blen);
	n = encode_all(test, &tx, &m, 4242, &frames, &lens);
	KUNIT_EXPECT_EQ(test, n, DIV_ROUND_UP(blen, room));

	/* Deliver in reverse: nothing completes before the last arrives. */
	for (i = n; i-- > 0;) {
		KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, frames[i], lens[i],
						    &f), 0);
		KUNIT_EXPECT_EQ(test, f.frag_idx, i);
		KUNIT_EXPECT_EQ(test, f.frag_cnt, n);
		KUNIT_EXPECT_EQ(test, f.msg_len, blen);
		KUNIT_EXPECT_EQ(test, f.frag_len, i == n - 1 ?
				blen - (n - 1) * room : room);
		ret = px_reasm_add(r, now++, &f, &out);
		KUNIT_EXPECT_EQ(test, ret, i == 0 ? 1 : 0);
		/* A repeated fragment neither completes nor breaks it. */
		if (i == n - 2)
			KUNIT_EXPECT_EQ(test, px_reasm_add(r, now++, &f, &out),
					0);
	}
	KUNIT_EXPECT_EQ(test, out.type, PAXOS_MSG_PROMISE);
	KUNIT_EXPECT_EQ(test, out.src, 1);
	KUNIT_EXPECT_EQ(test, out.dst, 3);
	KUNIT_EXPECT_EQ(test, out.ballot, 0x901ull);
	KUNIT_EXPECT_EQ(test, out.instance, 17ull);
	KUNIT_ASSERT_EQ(test, out.len, blen);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, blen), 0);
	KUNIT_EXPECT_EQ(test, r->evicted, 0ull);
	px_reasm_uninit(r);
}

static void wire_fragments(struct kunit *test)
{
	wire_fragment_roundtrip(test, NULL);
}

static void wire_fragments_auth(struct kunit *test)
{
	wire_fragment_roundtrip(test, key_a);
}

/* Exactly one frame's room: one frame; one byte more: two frames. */
static void wire_fragment_boundaries(struct kunit *test)
{
	const u32 room = 1500 - PAXOS_FRAME_HDR_LEN;
	struct px_wire_cfg tx, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *body = pattern(test, room + 1, 3);
	struct px_frame f;
	struct px_msg m, out;
	u8 **frames;
	int *lens;

	wire_cfg(&tx, 2, 1500, NULL);
	wire_cfg(&rx, 1, 1500, NULL);
	m = kpx_msg(PAXOS_MSG_FORWARD, 2, 1, 0, 0, body, room);
	KUNIT_EXPECT_EQ(test, encode_all(test, &tx, &m, 1, &frames, &lens),
			1u);
	KUNIT_EXPECT_EQ(test, lens[0], 1500);
	m.len = room + 1;
	KUNIT_ASSERT_EQ(test, encode_all(test, &tx, &m, 2, &frames, &lens),
			2u);
	KUNIT_EXPECT_EQ(test, lens[0], 1500);
	KUNIT_EXPECT_EQ(test, lens[1], PAXOS_FRAME_HDR_LEN + 1);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, frames[0], lens[0], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 1, &f, &out), 0);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, frames[1], lens[1], &f), 0);
	KUNIT_ASSERT_EQ(test, px_reasm_add(r, 2, &f, &out), 1);
	KUNIT_ASSERT_EQ(test, out.len, room + 1);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, room + 1), 0);
	px_reasm_uninit(r);
}

/* Two senders' fragments interleaved; same msg_seq from each. */
static void wire_reasm_interleaved(struct kunit *test)
{
	struct px_wire_cfg tx1, tx3, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *b1 = pattern(test, 2000, 1), *b3 = pattern(test, 1500, 9);
	u8 **f1, **f3;
	int *l1, *l3;
	struct px_frame f;
	struct px_msg m, out;
	u32 n1, n3, i, done = 0;
	int ret;

	wire_cfg(&tx1, 1, 576, NULL);
	wire_cfg(&tx3, 3, 576, NULL);
	wire_cfg(&rx, 2, 576, NULL);
	m = kpx_msg(PAXOS_MSG_FORWARD, 1, 2, 0, 0, b1, 2000);
	n1 = encode_all(test, &tx1, &m, 5, &f1, &l1);
	m = kpx_msg(PAXOS_MSG_FORWARD, 3, 2, 0, 0, b3, 1500);
	n3 = encode_all(test, &tx3, &m, 5, &f3, &l3);
	for (i = 0; i < max(n1, n3); i++) {
		if (i < n1) {
			KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, f1[i], l1[i],
							    &f), 0);
			ret = px_reasm_add(r, i, &f, &out);
			if (ret == 1) {
				done |= 1;
				KUNIT_EXPECT_EQ(test, out.src, 1);
				KUNIT_ASSERT_EQ(test, out.len, 2000u);
				KUNIT_EXPECT_EQ(test,
						memcmp(out.body, b1, 2000), 0);
			}
		}
		if (i < n3) {
			KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, f3[i], l3[i],
							    &f), 0);
			ret = px_reasm_add(r, i, &f, &out);
			if (ret == 1) {
				done |= 2;
				KUNIT_EXPECT_EQ(test, out.src, 3);
				KUNIT_ASSERT_EQ(test, out.len, 1500u);
				KUNIT_EXPECT_EQ(test,
						memcmp(out.body, b3, 1500), 0);
			}
		}
	}
	KUNIT_EXPECT_EQ(test, done, 3u);
	px_reasm_uninit(r);
}

/* A fragment that contradicts its message's first fragment. */
static void wire_reasm_inconsistent(struct kunit *test)
{
	struct px_wire_cfg tx, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *body = pattern(test, 1200, 5);
	struct px_frame f;
	struct px_msg m, out;
	u8 **fr;
	int *ln;
	u32 n;

	wire_cfg(&tx, 1, 576, NULL);
	wire_cfg(&rx, 2, 576, NULL);
	m = kpx_msg(PAXOS_MSG_CHOSEN, 1, 2, 0x101, 8, body, 1200);
	n = encode_all(test, &tx, &m, 9, &fr, &ln);
	KUNIT_ASSERT_EQ(test, n, 3u);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[0], ln[0], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 1, &f, &out), 0);
	/* Same (src, msg_seq), another instance. */
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[1], ln[1], &f), 0);
	f.instance = 9;
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 2, &f, &out),
			-PAXOS_DROP_BAD_FRAG);
	/* The genuine fragments still complete the message. */
	f.instance = 8;
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 3, &f, &out), 0);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[2], ln[2], &f), 0);
	KUNIT_ASSERT_EQ(test, px_reasm_add(r, 4, &f, &out), 1);
	KUNIT_EXPECT_EQ(test, out.len, 1200u);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, 1200), 0);
	px_reasm_uninit(r);
}

/* More messages in progress than slots: the oldest is evicted. */
static void wire_reasm_evicts_oldest(struct kunit *test)
{
	struct px_wire_cfg tx, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *body = pattern(test, 1000, 2);
	u8 **fr[PX_REASM_SLOTS + 1];
	int *ln[PX_REASM_SLOTS + 1];
	struct px_frame f;
	struct px_msg m, out;
	u32 i;

	wire_cfg(&tx, 1, 576, NULL);
	wire_cfg(&rx, 2, 576, NULL);
	m = kpx_msg(PAXOS_MSG_FORWARD, 1, 2, 0, 0, body, 1000);
	for (i = 0; i <= PX_REASM_SLOTS; i++) {
		KUNIT_ASSERT_EQ(test, encode_all(test, &tx, &m, 100 + i,
						 &fr[i], &ln[i]), 2u);
		KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[i][0], ln[i][0],
						    &f), 0);
		KUNIT_EXPECT_EQ(test, px_reasm_add(r, 10 + i, &f, &out), 0);
	}
	KUNIT_EXPECT_EQ(test, r->evicted, 1ull);
	/* The newest completes; the evicted first one cannot any more. */
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[PX_REASM_SLOTS][1],
					    ln[PX_REASM_SLOTS][1], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 50, &f, &out), 1);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[0][1], ln[0][1], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 51, &f, &out), 0);
	/* The second one is still intact. */
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[1][1], ln[1][1], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 52, &f, &out), 1);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, 1000), 0);
	px_reasm_uninit(r);
}

/* A message not completed within PX_REASM_TIMEOUT_US is dropped. */
static void wire_reasm_timeout(struct kunit *test)
{
	struct px_wire_cfg tx, rx;
	struct px_reasm *r = new_reasm(test);
	u8 *body = pattern(test, 1000, 4);
	struct px_frame f;
	struct px_msg m, out;
	u8 **fr;
	int *ln;

	wire_cfg(&tx, 1, 576, NULL);
	wire_cfg(&rx, 2, 576, NULL);
	m = kpx_msg(PAXOS_MSG_FORWARD, 1, 2, 0, 0, body, 1000);
	KUNIT_ASSERT_EQ(test, encode_all(test, &tx, &m, 1, &fr, &ln), 2u);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[0], ln[0], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 1000, &f, &out), 0);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[1], ln[1], &f), 0);
	KUNIT_EXPECT_LE(test, px_reasm_add(r, 1001 + PX_REASM_TIMEOUT_US,
					   &f, &out), 0);
	KUNIT_EXPECT_EQ(test, r->evicted, 1ull);
	/* Within the timeout, the same two fragments do complete. */
	KUNIT_ASSERT_EQ(test, px_wire_parse(&rx, fr[0], ln[0], &f), 0);
	KUNIT_EXPECT_EQ(test, px_reasm_add(r, 1002 + PX_REASM_TIMEOUT_US,
					   &f, &out), 1);
	KUNIT_EXPECT_EQ(test, memcmp(out.body, body, 1000), 0);
	px_reasm_uninit(r);
}

/* ------------------------------------------------------ batch values */

static void wire_batch_iter(struct kunit *test)
{
	static const struct kpx_cmd cmds[] = {
		{ 0x1111222233334444ull, 1, "set x 1" },
		{ 0x5555666677778888ull, 7, "" },
		{ 0x1111222233334444ull, 2, "del y" },
	};
	struct px_batch_iter it;
	struct px_cmd c;
	u32 len, i;
	u8 *v = kpx_value(test, cmds, ARRAY_SIZE(cmds), &len);

	KUNIT_ASSERT_EQ(test, px_batch_iter_init(&it, v, len), 0);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		KUNIT_ASSERT_EQ(test, px_batch_next(&it, &c), 1);
		KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&c, &cmds[i]));
		KUNIT_EXPECT_EQ(test, c.pos, i);
		KUNIT_EXPECT_FALSE(test, c.dup);
	}
	KUNIT_EXPECT_EQ(test, px_batch_next(&it, &c), 0);

	/* The no-op value: no commands. */
	v = kpx_noop(test, &len);
	KUNIT_ASSERT_EQ(test, len, (u32)PAXOS_BATCH_HDR_LEN);
	KUNIT_ASSERT_EQ(test, px_batch_iter_init(&it, v, len), 0);
	KUNIT_EXPECT_EQ(test, px_batch_next(&it, &c), 0);
}

static void wire_batch_malformed(struct kunit *test)
{
	static const struct kpx_cmd cmds[] = {
		{ 1, 1, "abc" }, { 1, 2, "defg" },
	};
	struct px_batch_iter it;
	u32 len;
	u8 *v = kpx_value(test, cmds, 2, &len);
	u8 *big;

	/* Truncated anywhere. */
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len - 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, 4 + 24), -EINVAL);
	/* Count larger than the commands present. */
	px_put_be32(v, 3);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len), -EINVAL);
	/* Count smaller: trailing bytes. */
	px_put_be32(v, 1);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v, 2);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len), 0);
	/* Unknown command flags. */
	px_put_be32(v + 4 + 20, 0x100);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len), -EINVAL);
	px_put_be32(v + 4 + 20, 0);
	/* A command length past the value. */
	px_put_be32(v + 4 + 16, 1000);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, v, len), -EINVAL);

	/* A command above PAXOS_MAX_CMD, even if the bytes are there. */
	big = kunit_kzalloc(test, 4 + 24 + PAXOS_MAX_CMD + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, big);
	px_put_be32(big, 1);
	px_put_be32(big + 4 + 16, PAXOS_MAX_CMD + 1);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, big,
						 4 + 24 + PAXOS_MAX_CMD + 1),
			-EINVAL);
	px_put_be32(big + 4 + 16, PAXOS_MAX_CMD);
	KUNIT_EXPECT_EQ(test, px_batch_iter_init(&it, big,
						 4 + 24 + PAXOS_MAX_CMD), 0);
}

/* ------------------------------------------------------- routing/config */

static void wire_msg_roles(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_PREPARE),
			(u32)PAXOS_ROLE_ACCEPTOR);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_PROMISE),
			(u32)PAXOS_ROLE_PROPOSER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_NACK),
			(u32)PAXOS_ROLE_PROPOSER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_ACCEPT),
			(u32)(PAXOS_ROLE_ACCEPTOR | PAXOS_ROLE_LEARNER));
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_ACCEPTED),
			(u32)(PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER));
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_HEARTBEAT),
			(u32)PAXOS_ROLE_ALL);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_FORWARD),
			(u32)PAXOS_ROLE_PROPOSER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_LEARN_REQ),
			(u32)PAXOS_ROLE_LEARNER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_CHOSEN),
			(u32)PAXOS_ROLE_LEARNER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_STATUS),
			(u32)(PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER));
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_SNAP_REQ),
			(u32)PAXOS_ROLE_LEARNER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_SNAP_CHUNK),
			(u32)PAXOS_ROLE_LEARNER);
	KUNIT_EXPECT_EQ(test, px_msg_roles(0), 0u);
	KUNIT_EXPECT_EQ(test, px_msg_roles(PAXOS_MSG_MAX + 1), 0u);
}

static void wire_config_check(struct kunit *test)
{
	struct px_config cfg;
	const char *why = NULL;

	px_config_default(&cfg, 2, KPX_MEMBERS3);
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), 0);
	kpx_config(&cfg, 2, KPX_MEMBERS3);
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), 0);

	cfg.self = 4;		/* not a member */
	why = NULL;
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), -EINVAL);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, why);
	kpx_config(&cfg, 2, KPX_MEMBERS3);
	cfg.acceptor_slots = 48;	/* not a power of 2 */
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), -EINVAL);
	kpx_config(&cfg, 2, KPX_MEMBERS3);
	cfg.window = 0;
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), -EINVAL);
	kpx_config(&cfg, 2, KPX_MEMBERS3);
	cfg.election_us = cfg.heartbeat_us;
	KUNIT_EXPECT_EQ(test, px_config_check(&cfg, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_quorum(KPX_MEMBERS3), 2);
	KUNIT_EXPECT_EQ(test, px_quorum(KPX_MEMBERS5), 3);
	KUNIT_EXPECT_EQ(test, px_quorum(BIT(1) | BIT(2)), 2);
}

static struct kunit_case wire_cases[] = {
	KUNIT_CASE(wire_encode_header_layout),
	KUNIT_CASE(wire_frames_count),
	KUNIT_CASE(wire_encode_rejects_oversized),
	KUNIT_CASE(wire_roundtrip_single),
	KUNIT_CASE(wire_accepts_ethernet_padding),
	KUNIT_CASE_PARAM(wire_parse_malformed, malformed_gen_params),
	KUNIT_CASE(wire_parse_bad_local_mtu),
	KUNIT_CASE(wire_auth),
	KUNIT_CASE(wire_fragments),
	KUNIT_CASE(wire_fragments_auth),
	KUNIT_CASE(wire_fragment_boundaries),
	KUNIT_CASE(wire_reasm_interleaved),
	KUNIT_CASE(wire_reasm_inconsistent),
	KUNIT_CASE(wire_reasm_evicts_oldest),
	KUNIT_CASE(wire_reasm_timeout),
	KUNIT_CASE(wire_batch_iter),
	KUNIT_CASE(wire_batch_malformed),
	KUNIT_CASE(wire_msg_roles),
	KUNIT_CASE(wire_config_check),
	{}
};

static struct kunit_suite wire_suite = {
	.name = "kpaxos_wire",
	.test_cases = wire_cases,
};

kunit_test_suite(wire_suite);
