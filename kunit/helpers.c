// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the kpaxos KUnit suites; see px_kunit.h.
 */
#include <kunit/resource.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "px_kunit.h"

void kpx_config(struct px_config *cfg, u8 self, u32 members)
{
	px_config_default(cfg, self, members);
	cfg->window = 8;
	cfg->batch_bytes = 4096;
	cfg->batch_delay_us = 1000;
	cfg->heartbeat_us = 10000;
	cfg->election_us = 100000;
	cfg->retransmit_us = 20000;
	cfg->catchup_us = 50000;
	cfg->acceptor_slots = 64;
	cfg->learner_slots = 64;
	cfg->queue_bytes = 256 << 10;
	cfg->max_value = 256 << 10;
	cfg->seed = 42;
}

/* ------------------------------------------------ test-managed objects */

static int acceptor_res_init(struct kunit_resource *res, void *ctx)
{
	const struct px_config *cfg = ctx;
	struct px_acceptor *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	if (px_acceptor_init(a, cfg)) {
		kfree(a);
		return -EINVAL;
	}
	res->data = a;
	return 0;
}

static void acceptor_res_free(struct kunit_resource *res)
{
	px_acceptor_uninit(res->data);
	kfree(res->data);
}

struct px_acceptor *kpx_acceptor(struct kunit *test,
				 const struct px_config *cfg)
{
	struct px_acceptor *a;

	a = kunit_alloc_resource(test, acceptor_res_init, acceptor_res_free,
				 GFP_KERNEL, (void *)cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	return a;
}

struct role_ctx {
	const struct px_config *cfg;
	u64 now;
};

static int proposer_res_init(struct kunit_resource *res, void *ctx)
{
	struct role_ctx *rc = ctx;

	res->data = px_proposer_create(rc->cfg, rc->now);
	return res->data ? 0 : -ENOMEM;
}

static void proposer_res_free(struct kunit_resource *res)
{
	px_proposer_destroy(res->data);
}

struct px_proposer *kpx_proposer(struct kunit *test,
				 const struct px_config *cfg, u64 now)
{
	struct role_ctx rc = { .cfg = cfg, .now = now };
	struct px_proposer *p;

	p = kunit_alloc_resource(test, proposer_res_init, proposer_res_free,
				 GFP_KERNEL, &rc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	return p;
}

static int learner_res_init(struct kunit_resource *res, void *ctx)
{
	struct role_ctx *rc = ctx;

	res->data = px_learner_create(rc->cfg, rc->now);
	return res->data ? 0 : -ENOMEM;
}

static void learner_res_free(struct kunit_resource *res)
{
	px_learner_destroy(res->data);
}

struct px_learner *kpx_learner(struct kunit *test,
			       const struct px_config *cfg, u64 now)
{
	struct role_ctx rc = { .cfg = cfg, .now = now };
	struct px_learner *l;

	l = kunit_alloc_resource(test, learner_res_init, learner_res_free,
				 GFP_KERNEL, &rc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, l);
	return l;
}

static int ready_res_init(struct kunit_resource *res, void *ctx)
{
	struct px_ready *rd;

	rd = kzalloc(sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;
	px_ready_init(rd);
	px_ready_take(ctx, rd);
	res->data = rd;
	return 0;
}

static void ready_res_free(struct kunit_resource *res)
{
	px_ready_free(res->data);
	kfree(res->data);
}

struct px_ready *kpx_take(struct kunit *test, struct px_ready *from)
{
	struct px_ready *rd;

	rd = kunit_alloc_resource(test, ready_res_init, ready_res_free,
				  GFP_KERNEL, from);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rd);
	return rd;
}

/* ------------------------------------------------------------ lookups */

struct px_obuf *kpx_find(const struct px_ready *rd, u8 type,
			 unsigned int nth)
{
	struct px_obuf *o;

	for (o = rd->msgs; o; o = o->next)
		if (o->type == type && nth-- == 0)
			return o;
	return NULL;
}

unsigned int kpx_count(const struct px_ready *rd, u8 type)
{
	unsigned int n = 0;
	struct px_obuf *o;

	for (o = rd->msgs; o; o = o->next)
		n += o->type == type;
	return n;
}

struct px_record *kpx_find_record(const struct px_ready *rd, u8 kind,
				  unsigned int nth)
{
	struct px_record *r;

	for (r = rd->persist; r; r = r->next)
		if (r->kind == kind && nth-- == 0)
			return r;
	return NULL;
}

/* ----------------------------------------------------------- builders */

u8 *kpx_value(struct kunit *test, const struct kpx_cmd *cmds,
	      unsigned int n, u32 *len)
{
	u32 size = PAXOS_BATCH_HDR_LEN;
	unsigned int i;
	u8 *buf, *p;

	for (i = 0; i < n; i++)
		size += PAXOS_CMD_HDR_LEN + strlen(cmds[i].data);
	buf = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	px_put_be32(buf, n);
	p = buf + PAXOS_BATCH_HDR_LEN;
	for (i = 0; i < n; i++) {
		u32 dlen = strlen(cmds[i].data);

		px_put_be64(p, cmds[i].client_id);
		px_put_be64(p + 8, cmds[i].seq);
		px_put_be32(p + 16, dlen);
		px_put_be32(p + 20, 0);
		memcpy(p + PAXOS_CMD_HDR_LEN, cmds[i].data, dlen);
		p += PAXOS_CMD_HDR_LEN + dlen;
	}
	*len = size;
	return buf;
}

u8 *kpx_noop(struct kunit *test, u32 *len)
{
	return kpx_value(test, NULL, 0, len);
}

u8 *kpx_accept_body(struct kunit *test, u64 decided, const u8 *value,
		    u32 vlen, u32 *len)
{
	u8 *buf = kunit_kzalloc(test, PAXOS_ACCEPT_HDR_LEN + vlen, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	px_put_be64(buf, decided);	/* no commit run: (0, 0] */
	memcpy(buf + PAXOS_ACCEPT_HDR_LEN, value, vlen);
	*len = PAXOS_ACCEPT_HDR_LEN + vlen;
	return buf;
}

u8 *kpx_heartbeat_body(struct kunit *test, u64 decided, u64 trim, u32 *len)
{
	u8 *buf = kunit_kzalloc(test, PAXOS_HEARTBEAT_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	px_put_be64(buf, decided);
	px_put_be64(buf + 8, trim);	/* no commit run: (0, 0] */
	*len = PAXOS_HEARTBEAT_LEN;
	return buf;
}

u8 *kpx_learn_req_body(struct kunit *test, u64 to, u32 *len)
{
	u8 *buf = kunit_kzalloc(test, 8, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	px_put_be64(buf, to);
	*len = 8;
	return buf;
}

void kpx_promise_init(struct kunit *test, struct kpx_promise *p, u64 trim,
		      u64 highest)
{
	p->size = 4096;
	p->buf = kunit_kzalloc(test, p->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p->buf);
	px_put_be64(p->buf, trim);
	px_put_be64(p->buf + 8, highest);
	px_put_be32(p->buf + 16, 0);
	p->len = 20;
	p->n = 0;
}

void kpx_promise_add(struct kpx_promise *p, u64 instance, u64 vballot,
		     const u8 *value, u32 vlen)
{
	u8 *e = p->buf + p->len;

	if (WARN_ON(p->len + 20 + vlen > p->size))
		return;
	px_put_be64(e, instance);
	px_put_be64(e + 8, vballot);
	px_put_be32(e + 16, vlen);
	memcpy(e + 20, value, vlen);
	p->len += 20 + vlen;
	px_put_be32(p->buf + 16, ++p->n);
}

int kpx_promise_parse(const u8 *body, u32 len, u64 *trim, u64 *highest,
		      struct kpx_entry *e, unsigned int max)
{
	struct px_rd r;
	u32 n, i;

	px_rd_init(&r, body, len);
	*trim = px_rd_u64(&r);
	*highest = px_rd_u64(&r);
	n = px_rd_u32(&r);
	if (r.err || n > max)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		e[i].instance = px_rd_u64(&r);
		e[i].vballot = px_rd_u64(&r);
		e[i].len = px_rd_u32(&r);
		e[i].value = px_rd_bytes(&r, e[i].len);
	}
	if (r.err || r.left)
		return -EINVAL;
	return n;
}

int kpx_value_cmds(const u8 *value, u32 len, struct px_cmd *cmds,
		   unsigned int max)
{
	struct px_batch_iter it;
	unsigned int n = 0;
	int ret;

	if (px_batch_iter_init(&it, value, len))
		return -EINVAL;
	while ((ret = px_batch_next(&it, &cmds[n])) == 1)
		if (++n == max)
			break;
	return ret < 0 ? ret : n;
}

bool kpx_cmd_is(const struct px_cmd *c, const struct kpx_cmd *cmd)
{
	u32 dlen = strlen(cmd->data);

	return c->client_id == cmd->client_id && c->seq == cmd->seq &&
	       c->len == dlen && !memcmp(c->data, cmd->data, dlen);
}
