/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Frame codec: logical messages <-> Ethernet frame payloads (the bytes after
 * the 14-byte Ethernet header), with fragmentation and strict parsing.
 * Pure: no I/O; the caller owns every buffer.
 */
#ifndef PX_WIRE_H
#define PX_WIRE_H

#include "px.h"

struct px_wire_cfg {
	u32 cluster_id;
	u16 group_id;
	u8 self;
	u32 members;		/* bitmap of node ids allowed as src */
	u32 known;		/* more ids allowed as src: known non-members */
	u32 mtu;		/* max frame payload, PAXOS_MIN_MTU..MAX_MTU */
	const u8 *key;		/* NULL: no authentication */
};

/* A parsed frame: header fields in host order, payload borrowed. */
struct px_frame {
	u8 type, src, dst, flags;
	u32 msg_seq;
	u16 frag_idx, frag_cnt;
	u32 msg_len;
	u64 ballot, instance;
	const u8 *payload;
	u16 frag_len;
};

/*
 * Number of frames needed for a body of @len bytes at @mtu, or 0 if the
 * message exceeds PAXOS_MAX_MSG / PAXOS_MAX_FRAGS.
 */
u32 px_wire_frames(u32 mtu, u32 len, bool auth);

/*
 * Write frame @idx of message @m (body m->body, m->len) into @buf, which has
 * room for cfg->mtu bytes.  Returns the frame length, or -EMSGSIZE.
 */
int px_wire_encode(const struct px_wire_cfg *cfg, const struct px_msg *m,
		   u32 msg_seq, u32 idx, u8 *buf);

/*
 * Strictly parse one frame payload of @len bytes.  Returns 0, or a negative
 * enum paxos_drop_reason (i.e. -PAXOS_DROP_*) saying why it is rejected.
 * Checks magic, version, cluster, group, type, src (in members | known),
 * dst (self or all), fragment fields against the limits and @len, reserved
 * bits, and the auth tag when cfg->key is set.
 */
int px_wire_parse(const struct px_wire_cfg *cfg, const u8 *buf, u32 len,
		  struct px_frame *f);

/*
 * Reassembly of fragmented messages.  At most PX_REASM_SLOTS messages are
 * in progress at once; the oldest is evicted (and counted) for a new one,
 * and a message not completed within PX_REASM_TIMEOUT_US is dropped.
 */
enum {
	PX_REASM_SLOTS = 16,
	PX_REASM_TIMEOUT_US = 500000,
};

struct px_reasm_slot {
	u8 src, type;
	u32 msg_seq;
	u64 ballot, instance;
	u32 msg_len;
	u16 frag_cnt, have;
	u8 *buf;		/* msg_len bytes: a block (px_value_alloc) */
	u64 *bitmap;		/* frag_cnt bits, in buf's block after them */
	u64 started;
	u8 dst;			/* as in the first fragment */
	u32 frag_size;		/* payload bytes of every non-last fragment */
};

struct px_reasm {
	struct px_reasm_slot slot[PX_REASM_SLOTS];
	u64 evicted;
};

void px_reasm_init(struct px_reasm *r);
void px_reasm_uninit(struct px_reasm *r);
/*
 * Add a parsed frame.  Returns 1 when a message is complete: @m describes it
 * and m->body stays valid until the next px_reasm_add()/uninit on @r (longer
 * for a holder of m->block).  A single-fragment message completes at once
 * with m->body pointing into the frame (no block).  Returns 0 while incomplete, or -PAXOS_DROP_* (BAD_FRAG on a
 * fragment inconsistent with its message, REASM when out of memory).
 */
int px_reasm_add(struct px_reasm *r, u64 now, const struct px_frame *f,
		 struct px_msg *m);

/* Body builders/readers used by the roles; bounds-checked. */
struct px_rd {
	const u8 *p;
	u32 left;
	bool err;		/* set on any read past the end */
};

static inline void px_rd_init(struct px_rd *r, const u8 *p, u32 len)
{
	r->p = p;
	r->left = len;
	r->err = false;
}

static inline bool px_rd_need(struct px_rd *r, u32 n)
{
	if (r->err || r->left < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline u32 px_rd_u32(struct px_rd *r)
{
	u32 v;

	if (!px_rd_need(r, 4))
		return 0;
	v = px_get_be32(r->p);
	r->p += 4;
	r->left -= 4;
	return v;
}

static inline u64 px_rd_u64(struct px_rd *r)
{
	u64 v;

	if (!px_rd_need(r, 8))
		return 0;
	v = px_get_be64(r->p);
	r->p += 8;
	r->left -= 8;
	return v;
}

static inline const u8 *px_rd_bytes(struct px_rd *r, u32 n)
{
	const u8 *p;

	if (!px_rd_need(r, n))
		return NULL;
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

/*
 * Allocate an outgoing message with room for @len body bytes and append it to
 * @rd.  Returns the buffer (body to be filled by the caller) or NULL.
 */
struct px_obuf *px_ready_msg(struct px_ready *rd, u8 type, u8 dst,
			     u64 ballot, u64 instance, u32 len);
/* Append a persist record carrying a copy of @value. NULL on ENOMEM. */
struct px_record *px_ready_record(struct px_ready *rd, u8 kind, u64 ballot,
				  u64 instance, const u8 *value, u32 len);

#endif /* PX_WIRE_H */
