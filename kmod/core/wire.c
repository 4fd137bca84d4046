// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Frame codec, reassembly and the generic helpers of the protocol core:
 * struct px_ready, message routing, configuration and batch iteration.
 *
 * Frame layout (see uapi/linux/paxos.h): a 44-byte header, frag_len bytes of
 * payload, then - when PAXOS_F_AUTH is set - a 16-byte tag.  Every fragment
 * but the last carries the same number of payload bytes (the sender's
 * per-frame capacity), so each fragment's offset in the body is
 * frag_idx * frag_size, and frag_size follows from any single fragment:
 * its frag_len if it is not the last, else (msg_len - frag_len) /
 * (frag_cnt - 1).
 *
 * Auth tag: two SipHash-2-4 passes over (domain byte || header || payload),
 * the first keyed with key[0..15] and domain 0x01, the second keyed with
 * key[16..31] and domain 0x02; each 64-bit result is stored little-endian.
 */
#include "px_wire.h"

/* Ethernet pads short frames: a payload up to this size may carry padding. */
#define PX_ETH_MIN_PAYLOAD	46

/* ----------------------------------------------------------------- px_ready */

void px_ready_init(struct px_ready *rd)
{
	rd->persist = NULL;
	rd->persist_tail = &rd->persist;
	rd->msgs = NULL;
	rd->msgs_tail = &rd->msgs;
	rd->delivered = 0;
	rd->restored = 0;
	rd->n_msgs = 0;
	rd->n_persist = 0;
}

void px_ready_take(struct px_ready *from, struct px_ready *to)
{
	to->persist = from->persist;
	to->persist_tail = from->persist ? from->persist_tail : &to->persist;
	to->msgs = from->msgs;
	to->msgs_tail = from->msgs ? from->msgs_tail : &to->msgs;
	to->n_msgs = from->n_msgs;
	to->n_persist = from->n_persist;
	to->delivered = from->delivered;
	to->restored = from->restored;
	from->restored = 0;

	/* @from keeps its delivered index: it is the role's state. */
	from->persist = NULL;
	from->persist_tail = &from->persist;
	from->msgs = NULL;
	from->msgs_tail = &from->msgs;
	from->n_msgs = 0;
	from->n_persist = 0;
}

void px_ready_free(struct px_ready *rd)
{
	struct px_record *rec, *rnext;
	struct px_obuf *ob, *onext;
	u64 delivered = rd->delivered;

	for (rec = rd->persist; rec; rec = rnext) {
		rnext = rec->next;
		px_free(rec);
	}
	for (ob = rd->msgs; ob; ob = onext) {
		onext = ob->next;
		px_value_free(ob);
	}
	px_ready_init(rd);
	rd->delivered = delivered;
}

bool px_ready_empty(const struct px_ready *rd)
{
	return !rd->persist && !rd->msgs;
}

struct px_obuf *px_ready_msg(struct px_ready *rd, u8 type, u8 dst,
			     u64 ballot, u64 instance, u32 len)
{
	struct px_obuf *ob;

	if (len > PAXOS_MAX_MSG)
		return NULL;
	ob = px_value_alloc(sizeof(*ob) + len);
	if (!ob)
		return NULL;
	ob->next = NULL;
	ob->type = type;
	ob->dst = dst;
	ob->ballot = ballot;
	ob->instance = instance;
	ob->len = len;
	*rd->msgs_tail = ob;
	rd->msgs_tail = &ob->next;
	rd->n_msgs++;
	return ob;
}

struct px_record *px_ready_record(struct px_ready *rd, u8 kind, u64 ballot,
				  u64 instance, const u8 *value, u32 len)
{
	struct px_record *rec;

	if (len > PAXOS_MAX_MSG)
		return NULL;
	rec = px_alloc(sizeof(*rec) + len);
	if (!rec)
		return NULL;
	rec->next = NULL;
	rec->kind = kind;
	rec->ballot = ballot;
	rec->instance = instance;
	rec->len = len;
	if (len)
		px_memcpy(rec->value, value, len);
	*rd->persist_tail = rec;
	rd->persist_tail = &rec->next;
	rd->n_persist++;
	return rec;
}

const u8 *px_value_keep(const u8 *p, u32 len, const void *block,
			const void **kept)
{
	u8 *copy;

	if (block) {
		px_value_hold(block);
		*kept = block;
		return p;
	}
	copy = px_value_alloc(len);
	if (!copy)
		return NULL;
	if (len)
		px_memcpy(copy, p, len);
	*kept = copy;
	return copy;
}

/* ------------------------------------------------------------------ routing */

u32 px_msg_roles(u8 type)
{
	switch (type) {
	case PAXOS_MSG_PREPARE:
		return PAXOS_ROLE_ACCEPTOR;
	case PAXOS_MSG_PROMISE:
	case PAXOS_MSG_NACK:
	case PAXOS_MSG_FORWARD:
		return PAXOS_ROLE_PROPOSER;
	case PAXOS_MSG_STATUS:
		/* Learners too: a peer's delivered index is decided. */
		return PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER;
	case PAXOS_MSG_ACCEPT:
		return PAXOS_ROLE_ACCEPTOR | PAXOS_ROLE_LEARNER;
	case PAXOS_MSG_ACCEPTED:
		return PAXOS_ROLE_PROPOSER | PAXOS_ROLE_LEARNER;
	case PAXOS_MSG_HEARTBEAT:
		return PAXOS_ROLE_ALL;
	case PAXOS_MSG_LEARN_REQ:
	case PAXOS_MSG_CHOSEN:
	case PAXOS_MSG_SNAP_REQ:
	case PAXOS_MSG_SNAP_CHUNK:
		return PAXOS_ROLE_LEARNER;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ configuration */

/*
 * Default max_value: one largest command with its header in a batch of one.
 * A leader never builds a value above max(batch_bytes, this).
 */
#define PX_VALUE_ONE_CMD \
	(PAXOS_BATCH_HDR_LEN + PAXOS_CMD_HDR_LEN + PAXOS_MAX_CMD)
/* Upper bound of max_value: a PROMISE with one entry must fit a message. */
#define PX_VALUE_LIMIT		(PAXOS_MAX_MSG - 64)
#define PX_TIME_LIMIT_US	60000000u	/* one minute */

void px_config_default(struct px_config *cfg, u8 self, u32 members)
{
	px_memset(cfg, 0, sizeof(*cfg));
	cfg->self = self;
	cfg->members = members;
	cfg->window = 32;
	cfg->batch_bytes = 16384;
	cfg->batch_delay_us = 200;
	cfg->heartbeat_us = 20000;
	cfg->election_us = 150000;
	cfg->retransmit_us = 40000;
	cfg->catchup_us = 50000;
	cfg->acceptor_slots = 4096;
	cfg->learner_slots = 4096;
	cfg->snapshot_every = cfg->learner_slots / 4;
	cfg->queue_bytes = 4 << 20;
	cfg->max_value = PX_VALUE_ONE_CMD;
	cfg->seed = 0x9E3779B97F4A7C15ull * (u64)(self + 1);
}

static bool is_pow2(u32 x)
{
	return x && !(x & (x - 1));
}

int px_config_check(const struct px_config *cfg, const char **why)
{
	const char *w = NULL;

	if (cfg->self < 1 || cfg->self > 31)
		w = "self must be a node id in 1..31";
	else if (!cfg->members || (cfg->members & 1))
		w = "members must be a non-empty bitmap of ids 1..31";
	else if (!(cfg->members & (1u << cfg->self)))
		w = "self must be one of members";
	else if (cfg->window < 1 || cfg->window > PX_MAX_WINDOW)
		w = "window must be in 1..PX_MAX_WINDOW";
	else if (cfg->max_value < PX_VALUE_ONE_CMD)
		w = "max_value must hold one PAXOS_MAX_CMD command";
	else if (cfg->max_value > PX_VALUE_LIMIT)
		w = "max_value too large for a message";
	else if (cfg->batch_bytes < PAXOS_BATCH_HDR_LEN + PAXOS_CMD_HDR_LEN)
		w = "batch_bytes smaller than one command header";
	else if (cfg->batch_bytes > cfg->max_value)
		w = "batch_bytes above max_value";
	else if (cfg->batch_delay_us > PX_TIME_LIMIT_US)
		w = "batch_delay_us above one minute";
	else if (cfg->heartbeat_us < 1 || cfg->heartbeat_us > PX_TIME_LIMIT_US)
		w = "heartbeat_us out of range";
	else if (cfg->election_us <= cfg->heartbeat_us ||
		 cfg->election_us > PX_TIME_LIMIT_US)
		w = "election_us must exceed heartbeat_us";
	else if (cfg->retransmit_us < 1 ||
		 cfg->retransmit_us > PX_TIME_LIMIT_US)
		w = "retransmit_us out of range";
	else if (cfg->catchup_us < 1 || cfg->catchup_us > PX_TIME_LIMIT_US)
		w = "catchup_us out of range";
	else if (!is_pow2(cfg->acceptor_slots) ||
		 cfg->acceptor_slots > PX_MAX_SLOTS)
		w = "acceptor_slots must be a power of 2 <= PX_MAX_SLOTS";
	else if (cfg->acceptor_slots < cfg->window)
		w = "acceptor_slots smaller than window";
	else if (!is_pow2(cfg->learner_slots) ||
		 cfg->learner_slots > PX_MAX_SLOTS)
		w = "learner_slots must be a power of 2 <= PX_MAX_SLOTS";
	else if (cfg->learner_slots < cfg->window)
		w = "learner_slots smaller than window";
	else if (cfg->snapshot_every > PX_MAX_SLOTS)
		w = "snapshot_every above PX_MAX_SLOTS";
	else if (cfg->queue_bytes < PAXOS_CMD_HDR_LEN + PAXOS_MAX_CMD)
		w = "queue_bytes cannot hold one command";
	else if (cfg->queue_bytes > (1u << 30))
		w = "queue_bytes above 1 GiB";

	if (why)
		*why = w ? w : "ok";
	return w ? -EINVAL : 0;
}

/* -------------------------------------------------------------------- batch */

int px_batch_iter_init(struct px_batch_iter *it, const u8 *value, u32 len)
{
	struct px_rd rd;
	u32 count, i, clen, flags;

	it->p = NULL;
	it->end = NULL;
	it->left = 0;
	it->pos = 0;
	if (!value && len)
		return -EINVAL;
	px_rd_init(&rd, value, len);
	count = px_rd_u32(&rd);
	if (rd.err || count > 0xffff ||
	    count > rd.left / PAXOS_CMD_HDR_LEN)
		return -EINVAL;
	/* Validate the whole value now, so that iteration cannot fail late. */
	for (i = 0; i < count; i++) {
		px_rd_u64(&rd);
		px_rd_u64(&rd);
		clen = px_rd_u32(&rd);
		flags = px_rd_u32(&rd);
		if (rd.err || clen > PAXOS_MAX_CMD ||
		    (flags & ~(u32)PAXOS_CMD_F_DUP))
			return -EINVAL;
		if (!px_rd_bytes(&rd, clen))
			return -EINVAL;
	}
	if (rd.left)
		return -EINVAL;	/* trailing bytes */
	it->p = value + PAXOS_BATCH_HDR_LEN;
	it->end = value + len;
	it->left = count;
	return 0;
}

int px_batch_next(struct px_batch_iter *it, struct px_cmd *cmd)
{
	struct px_rd rd;
	u32 flags;

	if (!it->left)
		return 0;
	if (!it->p || it->p > it->end)
		return -EINVAL;
	px_rd_init(&rd, it->p, (u32)(it->end - it->p));
	cmd->client_id = px_rd_u64(&rd);
	cmd->seq = px_rd_u64(&rd);
	cmd->len = px_rd_u32(&rd);
	flags = px_rd_u32(&rd);
	cmd->data = px_rd_bytes(&rd, cmd->len);
	if (rd.err || cmd->len > PAXOS_MAX_CMD)
		return -EINVAL;
	cmd->dup = flags & PAXOS_CMD_F_DUP;
	cmd->pos = it->pos++;
	it->p = rd.p;
	it->left--;
	return 1;
}

bool px_batch_valid(const u8 *value, u32 len)
{
	struct px_batch_iter it;
	struct px_cmd c;
	int r;

	if (px_batch_iter_init(&it, value, len))
		return false;
	/* Any flag: learners flag retries in values that arrive with none. */
	while ((r = px_batch_next(&it, &c)) == 1)
		if (px_get_be32(c.data - 4))
			return false;
	return r == 0;
}

/* ------------------------------------------------------------- SipHash tag */

static inline u64 sip_rotl(u64 x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

struct sip_state {
	u64 v0, v1, v2, v3;
};

static void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = sip_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = sip_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = sip_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = sip_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = sip_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = sip_rotl(s->v2, 32);
}

static void sip_absorb(struct sip_state *s, u64 m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static u64 le_load(const u8 *p, u32 n)
{
	u64 v = 0;
	u32 i;

	for (i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* SipHash-2-4 of the message (@domain || @data[0..len)). */
static u64 sip24(const u8 *key, u8 domain, const u8 *data, u32 len)
{
	struct sip_state s;
	u64 k0 = le_load(key, 8), k1 = le_load(key + 8, 8);
	u64 n = (u64)len + 1, m, b;
	u32 words = (u32)(n / 8), rest = (u32)(n % 8), w, j, pos;

	s.v0 = k0 ^ 0x736f6d6570736575ull;
	s.v1 = k1 ^ 0x646f72616e646f6dull;
	s.v2 = k0 ^ 0x6c7967656e657261ull;
	s.v3 = k1 ^ 0x7465646279746573ull;

	for (w = 0; w < words; w++) {
		if (w == 0)
			m = domain | le_load(data, 7) << 8;
		else
			m = le_load(data + 8 * w - 1, 8);
		sip_absorb(&s, m);
	}
	b = n << 56;
	for (j = 0; j < rest; j++) {
		pos = 8 * words + j;	/* position in the virtual message */
		b |= (u64)(pos ? data[pos - 1] : domain) << (8 * j);
	}
	sip_absorb(&s, b);
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static void le_store(u8 *p, u64 v)
{
	u32 i;

	for (i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void auth_tag(const u8 *key, const u8 *data, u32 len, u8 *tag)
{
	le_store(tag, sip24(key, 0x01, data, len));
	le_store(tag + 8, sip24(key + 16, 0x02, data, len));
}

static bool auth_ok(const u8 *key, const u8 *data, u32 len, const u8 *tag)
{
	u8 want[PAXOS_AUTH_TAG_LEN];
	u8 diff = 0;
	u32 i;

	auth_tag(key, data, len, want);
	for (i = 0; i < PAXOS_AUTH_TAG_LEN; i++)
		diff |= want[i] ^ tag[i];
	return diff == 0;
}

/* -------------------------------------------------------------------- codec */

static bool is_member(u32 members, u8 id)
{
	return id >= 1 && id < 32 && (members >> id & 1);
}

static u32 frame_room(u32 mtu, bool auth)
{
	return mtu - PAXOS_FRAME_HDR_LEN - (auth ? PAXOS_AUTH_TAG_LEN : 0);
}

u32 px_wire_frames(u32 mtu, u32 len, bool auth)
{
	u32 room, n;

	if (mtu < PAXOS_MIN_MTU || mtu > PAXOS_MAX_MTU || len > PAXOS_MAX_MSG)
		return 0;
	room = frame_room(mtu, auth);
	n = len ? (len + room - 1) / room : 1;
	return n > PAXOS_MAX_FRAGS ? 0 : n;
}

int px_wire_encode(const struct px_wire_cfg *cfg, const struct px_msg *m,
		   u32 msg_seq, u32 idx, u8 *buf)
{
	bool auth = cfg->key != NULL;
	u32 n = px_wire_frames(cfg->mtu, m->len, auth);
	u32 room, off, flen;

	if (!n || idx >= n)
		return -EMSGSIZE;
	room = frame_room(cfg->mtu, auth);
	off = idx * room;
	flen = PX_MIN(room, m->len - off);

	px_put_be16(buf, PAXOS_WIRE_MAGIC);
	buf[2] = PAXOS_WIRE_VERSION;
	buf[3] = m->type;
	px_put_be32(buf + 4, cfg->cluster_id);
	px_put_be16(buf + 8, cfg->group_id);
	buf[10] = cfg->self;
	buf[11] = m->dst;
	px_put_be32(buf + 12, msg_seq);
	px_put_be16(buf + 16, (u16)idx);
	px_put_be16(buf + 18, (u16)n);
	px_put_be32(buf + 20, m->len);
	px_put_be16(buf + 24, (u16)flen);
	buf[26] = auth ? PAXOS_F_AUTH : 0;
	buf[27] = 0;
	px_put_be64(buf + 28, m->ballot);
	px_put_be64(buf + 36, m->instance);
	if (flen)
		px_memcpy(buf + PAXOS_FRAME_HDR_LEN, m->body + off, flen);
	if (auth)
		auth_tag(cfg->key, buf, PAXOS_FRAME_HDR_LEN + flen,
			 buf + PAXOS_FRAME_HDR_LEN + flen);
	return PAXOS_FRAME_HDR_LEN + flen + (auth ? PAXOS_AUTH_TAG_LEN : 0);
}

/*
 * Fragment geometry: the payload size of every non-last fragment, or 0 if
 * the fields cannot describe one message split as px_wire_encode() does.
 */
static u32 frag_size(u16 idx, u16 cnt, u32 msg_len, u16 frag_len, u32 room)
{
	u32 size;

	if (!cnt || cnt > PAXOS_MAX_FRAGS || idx >= cnt ||
	    msg_len > PAXOS_MAX_MSG || frag_len > room)
		return 0;
	if (cnt == 1)
		return frag_len == msg_len ? PX_MAX(frag_len, 1u) : 0;
	if (idx + 1 < cnt) {
		size = frag_len;
	} else {
		if (!frag_len || frag_len > msg_len ||
		    (msg_len - frag_len) % (cnt - 1u))
			return 0;
		size = (msg_len - frag_len) / (cnt - 1u);
	}
	/* Every fragment non-empty, the last one 1..size bytes. */
	if (!size || size > room || frag_len > size ||
	    (u64)size * (cnt - 1u) >= msg_len ||
	    (u64)size * cnt < msg_len)
		return 0;
	return size;
}

/* Body length rules per message type (whole message, msg_len). */
static bool body_len_ok(u8 type, u32 len)
{
	switch (type) {
	case PAXOS_MSG_PREPARE:
	case PAXOS_MSG_NACK:
	case PAXOS_MSG_ACCEPTED:
		return len == 0;
	case PAXOS_MSG_STATUS:		/* configurations, see px_mlog */
		return len % PX_MLOG_ENTRY_LEN == 0 &&
		       len <= PX_MLOG_MAX * PX_MLOG_ENTRY_LEN;
	case PAXOS_MSG_PROMISE:
		return len >= 20;
	case PAXOS_MSG_ACCEPT:
		return len >= PAXOS_ACCEPT_HDR_LEN + PAXOS_BATCH_HDR_LEN;
	case PAXOS_MSG_HEARTBEAT:
		return len == PAXOS_HEARTBEAT_LEN;
	case PAXOS_MSG_FORWARD:
	case PAXOS_MSG_CHOSEN:
		return len >= PAXOS_BATCH_HDR_LEN;
	case PAXOS_MSG_LEARN_REQ:
		return len == 8;
	case PAXOS_MSG_SNAP_REQ:
		return len == 4;
	case PAXOS_MSG_SNAP_CHUNK:
		return len > 12 && len <= 12 + PX_SNAP_CHUNK;
	default:
		return false;
	}
}

int px_wire_parse(const struct px_wire_cfg *cfg, const u8 *buf, u32 len,
		  struct px_frame *f)
{
	bool auth = cfg->key != NULL;
	u32 room, need;

	if (len < PAXOS_FRAME_HDR_LEN)
		return -PAXOS_DROP_TRUNCATED;
	if (px_get_be16(buf) != PAXOS_WIRE_MAGIC)
		return -PAXOS_DROP_BAD_MAGIC;
	/* Unknown flags or reserved bits: a protocol revision we lack. */
	if (buf[2] != PAXOS_WIRE_VERSION || buf[27] ||
	    (buf[26] & ~PAXOS_F_AUTH))
		return -PAXOS_DROP_BAD_VERSION;
	if (px_get_be32(buf + 4) != cfg->cluster_id)
		return -PAXOS_DROP_FOREIGN_CLUSTER;
	if (px_get_be16(buf + 8) != cfg->group_id)
		return -PAXOS_DROP_FOREIGN_GROUP;

	f->type = buf[3];
	f->src = buf[10];
	f->dst = buf[11];
	f->msg_seq = px_get_be32(buf + 12);
	f->frag_idx = px_get_be16(buf + 16);
	f->frag_cnt = px_get_be16(buf + 18);
	f->msg_len = px_get_be32(buf + 20);
	f->frag_len = px_get_be16(buf + 24);
	f->flags = buf[26];
	f->ballot = px_get_be64(buf + 28);
	f->instance = px_get_be64(buf + 36);
	f->payload = buf + PAXOS_FRAME_HDR_LEN;

	if (f->type < 1 || f->type > PAXOS_MSG_MAX)
		return -PAXOS_DROP_UNKNOWN_TYPE;
	/* Our own frames never come back over the wire. */
	if (!is_member(cfg->members | cfg->known, f->src) ||
	    f->src == cfg->self ||
	    (f->dst != cfg->self && f->dst != PAXOS_NODE_ALL))
		return -PAXOS_DROP_BAD_NODE;
	if (auth != !!(f->flags & PAXOS_F_AUTH))
		return -PAXOS_DROP_BAD_AUTH;
	if (!f->frag_cnt || f->frag_cnt > PAXOS_MAX_FRAGS ||
	    f->frag_idx >= f->frag_cnt)
		return -PAXOS_DROP_BAD_FRAG;
	if (cfg->mtu < PAXOS_MIN_MTU || cfg->mtu > PAXOS_MAX_MTU)
		return -PAXOS_DROP_OVERSIZED;
	room = frame_room(cfg->mtu, auth);
	if (len > cfg->mtu || f->msg_len > PAXOS_MAX_MSG || f->frag_len > room)
		return -PAXOS_DROP_OVERSIZED;
	need = PAXOS_FRAME_HDR_LEN + f->frag_len +
	       (auth ? PAXOS_AUTH_TAG_LEN : 0);
	if (len < need)
		return -PAXOS_DROP_TRUNCATED;
	if (len > need && len > PX_ETH_MIN_PAYLOAD)
		return -PAXOS_DROP_BAD_FRAG;	/* bytes beyond frag_len */
	if (auth && !auth_ok(cfg->key, buf, PAXOS_FRAME_HDR_LEN + f->frag_len,
			     buf + PAXOS_FRAME_HDR_LEN + f->frag_len))
		return -PAXOS_DROP_BAD_AUTH;
	if (!frag_size(f->frag_idx, f->frag_cnt, f->msg_len, f->frag_len,
		       room))
		return -PAXOS_DROP_BAD_FRAG;
	if (!body_len_ok(f->type, f->msg_len))
		return -PAXOS_DROP_BAD_BODY;
	return 0;
}

/* --------------------------------------------------------------- reassembly */

void px_reasm_init(struct px_reasm *r)
{
	px_memset(r, 0, sizeof(*r));
}

static void slot_clear(struct px_reasm_slot *s)
{
	/* bitmap lives in buf's block; holders of the block keep it. */
	px_value_free(s->buf);
	px_memset(s, 0, sizeof(*s));
}

void px_reasm_uninit(struct px_reasm *r)
{
	u32 i;

	for (i = 0; i < PX_REASM_SLOTS; i++)
		slot_clear(&r->slot[i]);
}

int px_reasm_add(struct px_reasm *r, u64 now, const struct px_frame *f,
		 struct px_msg *m)
{
	struct px_reasm_slot *s = NULL, *old = NULL;
	u32 size, words, i, off;
	u64 bit;

	/* Release the message completed by the previous call; expire. */
	for (i = 0; i < PX_REASM_SLOTS; i++) {
		struct px_reasm_slot *t = &r->slot[i];

		if (!t->bitmap)
			continue;
		if (t->have == t->frag_cnt) {
			slot_clear(t);
		} else if (now > t->started + PX_REASM_TIMEOUT_US) {
			slot_clear(t);
			r->evicted++;
		}
	}

	size = frag_size(f->frag_idx, f->frag_cnt, f->msg_len, f->frag_len,
			 PAXOS_MAX_MTU - PAXOS_FRAME_HDR_LEN);
	if (!size || (f->frag_len && !f->payload))
		return -PAXOS_DROP_BAD_FRAG;

	if (f->frag_cnt == 1) {
		m->type = f->type;
		m->src = f->src;
		m->dst = f->dst;
		m->ballot = f->ballot;
		m->instance = f->instance;
		m->body = f->payload;
		m->len = f->msg_len;
		m->block = NULL;
		return 1;
	}

	for (i = 0; i < PX_REASM_SLOTS; i++) {
		struct px_reasm_slot *t = &r->slot[i];

		if (t->bitmap && t->src == f->src && t->msg_seq == f->msg_seq) {
			s = t;
			break;
		}
	}
	if (s) {
		if (s->type != f->type || s->dst != f->dst ||
		    s->ballot != f->ballot || s->instance != f->instance ||
		    s->msg_len != f->msg_len || s->frag_cnt != f->frag_cnt ||
		    s->frag_size != size)
			return -PAXOS_DROP_BAD_FRAG;
	} else {
		for (i = 0; i < PX_REASM_SLOTS; i++) {
			struct px_reasm_slot *t = &r->slot[i];

			if (!t->bitmap) {
				s = t;
				break;
			}
			if (!old || t->started < old->started)
				old = t;
		}
		if (!s) {
			slot_clear(old);
			r->evicted++;
			s = old;
		}
		words = (f->frag_cnt + 63u) / 64u;
		off = (f->msg_len + 7u) & ~7u;
		s->buf = px_value_alloc(off + words * sizeof(u64));
		if (!s->buf)
			return -PAXOS_DROP_REASM;
		s->bitmap = (u64 *)(s->buf + off);
		px_memset(s->bitmap, 0, words * sizeof(u64));
		s->src = f->src;
		s->dst = f->dst;
		s->type = f->type;
		s->msg_seq = f->msg_seq;
		s->ballot = f->ballot;
		s->instance = f->instance;
		s->msg_len = f->msg_len;
		s->frag_cnt = f->frag_cnt;
		s->frag_size = size;
		s->have = 0;
		s->started = now;
	}

	bit = 1ull << (f->frag_idx % 64);
	if (s->bitmap[f->frag_idx / 64] & bit)
		return 0;	/* duplicate fragment */
	off = (u32)f->frag_idx * size;
	if (off + f->frag_len > s->msg_len)
		return -PAXOS_DROP_BAD_FRAG;
	px_memcpy(s->buf + off, f->payload, f->frag_len);
	s->bitmap[f->frag_idx / 64] |= bit;
	s->have++;
	if (s->have < s->frag_cnt)
		return 0;

	/* Complete: the body stays valid until the next call. */
	m->type = s->type;
	m->src = s->src;
	m->dst = s->dst;
	m->ballot = s->ballot;
	m->instance = s->instance;
	m->body = s->buf;
	m->len = s->msg_len;
	m->block = s->buf;
	return 1;
}
