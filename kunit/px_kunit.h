/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kpaxos KUnit suites (kunit/helpers.c): test-managed
 * role objects, message and value builders, and lookups in a px_ready.
 *
 * Everything allocated here is released when the test case ends, also
 * when a KUNIT_ASSERT aborts it.
 */
#ifndef KPAXOS_PX_KUNIT_H
#define KPAXOS_PX_KUNIT_H

#include <kunit/test.h>
#include <linux/bits.h>

#include "core/px.h"
#include "core/px_wire.h"

/* Nodes 1, 2, 3: quorum 2. */
#define KPX_MEMBERS3	(BIT(1) | BIT(2) | BIT(3))
/* Nodes 1..5: quorum 3. */
#define KPX_MEMBERS5	(BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5))

/* px_config_default() plus fixed timers the suites reason about. */
void kpx_config(struct px_config *cfg, u8 self, u32 members);

/* Role objects destroyed at the end of the test case. */
struct px_acceptor *kpx_acceptor(struct kunit *test,
				 const struct px_config *cfg);
struct px_proposer *kpx_proposer(struct kunit *test,
				 const struct px_config *cfg, u64 now);
struct px_learner *kpx_learner(struct kunit *test,
			       const struct px_config *cfg, u64 now);

/* Move what @from queued into a new px_ready freed with the test case. */
struct px_ready *kpx_take(struct kunit *test, struct px_ready *from);

/* The @nth (from 0) message of @type in @rd, or NULL. */
struct px_obuf *kpx_find(const struct px_ready *rd, u8 type,
			 unsigned int nth);
unsigned int kpx_count(const struct px_ready *rd, u8 type);
/* The @nth persist record of @kind in @rd, or NULL. */
struct px_record *kpx_find_record(const struct px_ready *rd, u8 kind,
				  unsigned int nth);

static inline struct px_msg kpx_msg(u8 type, u8 src, u8 dst, u64 ballot,
				    u64 instance, const u8 *body, u32 len)
{
	struct px_msg m = {
		.type = type, .src = src, .dst = dst, .ballot = ballot,
		.instance = instance, .body = body, .len = len,
	};

	return m;
}

/* The message as a receiver sees it: @src sent @o. */
static inline struct px_msg kpx_msg_of(const struct px_obuf *o, u8 src)
{
	return kpx_msg(o->type, src, o->dst, o->ballot, o->instance,
		       o->body, o->len);
}

/* One command of a batch value. */
struct kpx_cmd {
	u64 client_id;
	u64 seq;
	const char *data;	/* NUL-terminated; the NUL is not sent */
};

/* A batch value (uapi encoding) of @n commands; *len set. */
u8 *kpx_value(struct kunit *test, const struct kpx_cmd *cmds,
	      unsigned int n, u32 *len);
/* The no-op value (count 0). */
u8 *kpx_noop(struct kunit *test, u32 *len);

/* Bodies, per uapi/linux/paxos.h. */
u8 *kpx_accept_body(struct kunit *test, u64 decided, const u8 *value,
		    u32 vlen, u32 *len);
u8 *kpx_heartbeat_body(struct kunit *test, u64 decided, u64 trim,
		       u32 *len);
u8 *kpx_learn_req_body(struct kunit *test, u64 to, u32 *len);

/* A PROMISE body under construction. */
struct kpx_promise {
	u8 *buf;
	u32 len, size, n;
};

void kpx_promise_init(struct kunit *test, struct kpx_promise *p, u64 trim,
		      u64 highest);
void kpx_promise_add(struct kpx_promise *p, u64 instance, u64 vballot,
		     const u8 *value, u32 vlen);

/* A parsed PROMISE entry. */
struct kpx_entry {
	u64 instance, vballot;
	const u8 *value;
	u32 len;
};

/*
 * Parse a PROMISE body: trim, highest and up to @max entries.  Returns the
 * number of entries, or -EINVAL if the body is malformed.
 */
int kpx_promise_parse(const u8 *body, u32 len, u64 *trim, u64 *highest,
		      struct kpx_entry *e, unsigned int max);

/*
 * Decode the commands of a value into @cmds (at most @max); returns the
 * count, or -EINVAL.  Command data pointers point into @value.
 */
int kpx_value_cmds(const u8 *value, u32 len, struct px_cmd *cmds,
		   unsigned int max);

/* true if command @c carries @cmd's client, seq and data. */
bool kpx_cmd_is(const struct px_cmd *c, const struct kpx_cmd *cmd);

#endif /* KPAXOS_PX_KUNIT_H */
