// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Acceptor: one promise covering all instances, accepted (ballot, value) per
 * instance in a ring of cfg.acceptor_slots instances above trim.
 *
 * Every reply is preceded by the records that make it durable: a step
 * queues records in a->out.persist and messages in a->out.msgs; the caller
 * writes the records before sending (see px.h).
 *
 * Nothing in a message is trusted: ballots must name their sender, values
 * are bounded by cfg.max_value and by the body, and must be well-formed
 * batches (a malformed value can then never be chosen).
 */
#include "px_wire.h"

#define PX_PROMISE_HDR_LEN	20	/* trim, highest, n */
#define PX_PROMISE_ENT_LEN	20	/* inst, vballot, len */

static struct px_acc_slot *acc_slot(struct px_acceptor *a, u64 instance)
{
	return &a->slots[instance & (a->cfg.acceptor_slots - 1)];
}

static void slot_reset(struct px_acc_slot *s)
{
	px_value_free(s->block);
	s->block = NULL;
	s->value = NULL;
	s->len = 0;
	s->instance = 0;
	s->ballot = 0;
}

int px_acceptor_init(struct px_acceptor *a, const struct px_config *cfg)
{
	size_t sz;

	px_memset(a, 0, sizeof(*a));
	if (px_config_check_known(cfg))
		return -EINVAL;
	a->cfg = *cfg;
	sz = (size_t)cfg->acceptor_slots * sizeof(*a->slots);
	a->slots = px_alloc(sz);
	if (!a->slots)
		return -ENOMEM;
	px_memset(a->slots, 0, sz);
	px_ready_init(&a->out);
	return 0;
}

void px_acceptor_uninit(struct px_acceptor *a)
{
	u32 i;

	if (a->slots) {
		for (i = 0; i < a->cfg.acceptor_slots; i++)
			px_value_free(a->slots[i].block);
		px_free(a->slots);
		a->slots = NULL;
	}
	px_ready_free(&a->out);
}

/* Forget every instance <= @trim. */
static void acc_trim(struct px_acceptor *a, u64 trim)
{
	u32 n = a->cfg.acceptor_slots, i;
	u64 inst;

	if (trim <= a->trim)
		return;
	if (trim - a->trim >= n) {
		for (i = 0; i < n; i++)
			if (a->slots[i].instance && a->slots[i].instance <= trim)
				slot_reset(&a->slots[i]);
	} else {
		for (inst = a->trim + 1; inst <= trim; inst++) {
			struct px_acc_slot *s = acc_slot(a, inst);

			if (s->instance == inst)
				slot_reset(s);
		}
	}
	a->trim = trim;
}

static bool in_ring(const struct px_acceptor *a, u64 instance)
{
	return instance > a->trim &&
	       instance - a->trim <= a->cfg.acceptor_slots;
}

/*
 * Store an accepted value: held in @block (a message's, or NULL), else
 * copied.  -ENOMEM leaves the slot unchanged.
 */
static int acc_store(struct px_acceptor *a, u64 instance, u64 ballot,
		     const u8 *value, u32 len, const void *block)
{
	struct px_acc_slot *s = acc_slot(a, instance);
	const void *kept;
	const u8 *v = px_value_keep(value, len, block, &kept);

	if (!v)
		return -ENOMEM;
	slot_reset(s);	/* an older instance there is at or below trim */
	s->instance = instance;
	s->ballot = ballot;
	s->value = v;
	s->block = kept;
	s->len = len;
	if (instance > a->highest)
		a->highest = instance;
	return 0;
}

int px_acceptor_restore(struct px_acceptor *a, const struct px_record *rec)
{
	int err;

	for (; rec; rec = rec->next) {
		switch (rec->kind) {
		case PX_REC_PROMISE:
			if (rec->ballot > a->promised)
				a->promised = rec->ballot;
			break;
		case PX_REC_ACCEPT:
			if (rec->len > a->cfg.max_value || !rec->instance)
				return -EINVAL;
			if (rec->ballot > a->promised)
				a->promised = rec->ballot;
			if (rec->instance <= a->trim)
				break;
			/* Written while it fitted: the ring must still hold it. */
			if (!in_ring(a, rec->instance))
				return -EINVAL;
			err = acc_store(a, rec->instance, rec->ballot,
					rec->value, rec->len, NULL);
			if (err)
				return err;
			break;
		case PX_REC_TRIM:
			acc_trim(a, rec->instance);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int send_nack(struct px_acceptor *a, const struct px_msg *m)
{
	a->stats.nacks++;
	if (!px_ready_msg(&a->out, PAXOS_MSG_NACK, m->src, a->promised,
			  m->instance, 0))
		return -ENOMEM;
	return 0;
}

/* Queue a record for the log, unless nothing keeps one (false: -ENOMEM). */
static bool acc_record(struct px_acceptor *a, u8 kind, u64 ballot,
		       u64 instance, const u8 *value, u32 len)
{
	return a->cfg.volatile_acceptor ||
	       px_ready_record(&a->out, kind, ballot, instance, value, len);
}

/* Raise the promise to @b, queueing its record.  -ENOMEM changes nothing. */
static int acc_promise(struct px_acceptor *a, u64 b)
{
	if (b <= a->promised)
		return 0;
	if (!acc_record(a, PX_REC_PROMISE, b, 0, NULL, 0))
		return -ENOMEM;
	a->promised = b;
	return 0;
}

static int on_prepare(struct px_acceptor *a, const struct px_msg *m)
{
	u64 b = m->ballot, from = m->instance, inst, lo, hi;
	u32 size = PX_PROMISE_HDR_LEN, n = 0;
	struct px_obuf *ob;
	u8 *p;
	int err;

	if (m->len || px_ballot_node(b) != m->src)
		return -EINVAL;
	a->stats.prepares++;
	if (b < a->promised)
		return send_nack(a, m);

	lo = PX_MAX(from, a->trim + 1);
	hi = PX_MIN(a->highest, a->trim + a->cfg.acceptor_slots);
	for (inst = lo; inst <= hi; inst++) {
		struct px_acc_slot *s = acc_slot(a, inst);

		if (s->instance != inst)
			continue;
		size += PX_PROMISE_ENT_LEN + s->len;
		n++;
		if (size > PAXOS_MAX_MSG) {
			/*
			 * A partial PROMISE would hide accepted values from
			 * the candidate; not answering is safe.
			 */
			a->stats.dropped_full++;
			return 0;
		}
	}

	err = acc_promise(a, b);
	if (err)
		return err;
	ob = px_ready_msg(&a->out, PAXOS_MSG_PROMISE, m->src, b, from, size);
	if (!ob)
		return -ENOMEM;
	p = ob->body;
	px_put_be64(p, a->trim);
	px_put_be64(p + 8, a->highest);
	px_put_be32(p + 16, n);
	p += PX_PROMISE_HDR_LEN;
	for (inst = lo; inst <= hi; inst++) {
		struct px_acc_slot *s = acc_slot(a, inst);

		if (s->instance != inst)
			continue;
		px_put_be64(p, inst);
		px_put_be64(p + 8, s->ballot);
		px_put_be32(p + 16, s->len);
		p += PX_PROMISE_ENT_LEN;
		px_memcpy(p, s->value, s->len);
		p += s->len;
	}
	a->stats.promises++;
	return 0;
}

static int on_accept(struct px_acceptor *a, const struct px_msg *m)
{
	u64 b = m->ballot, i = m->instance;
	struct px_acc_slot *s;
	const u8 *value;
	u32 len;
	int err;

	if (m->len < PAXOS_ACCEPT_HDR_LEN ||
	    m->len - PAXOS_ACCEPT_HDR_LEN > a->cfg.max_value || !i ||
	    px_ballot_node(b) != m->src)
		return -EINVAL;
	value = m->body + PAXOS_ACCEPT_HDR_LEN;
	len = m->len - PAXOS_ACCEPT_HDR_LEN;
	if (!px_batch_valid(value, len))
		return -EINVAL;
	a->stats.accepts++;
	if (b < a->promised)
		return send_nack(a, m);
	if (i <= a->trim)
		return 0;	/* decided and forgotten */
	if (!in_ring(a, i)) {
		a->stats.dropped_full++;
		return 0;
	}

	s = acc_slot(a, i);
	if (s->instance != i || s->ballot != b) {
		/* One ballot proposes one value per instance: store once. */
		err = acc_promise(a, b);
		if (err)
			return err;
		if (!acc_record(a, PX_REC_ACCEPT, b, i, value, len))
			return -ENOMEM;
		err = acc_store(a, i, b, value, len, m->block);
		if (err)
			return err;
	}
	/* To the leader only: it tells the learners (proposer.c). */
	if (!px_ready_msg(&a->out, PAXOS_MSG_ACCEPTED, m->src, b, i, 0))
		return -ENOMEM;
	a->stats.accepted++;
	return 0;
}

static int on_heartbeat(struct px_acceptor *a, const struct px_msg *m)
{
	u64 decided, trim;

	if (m->len != PAXOS_HEARTBEAT_LEN ||
	    px_ballot_node(m->ballot) != m->src)
		return -EINVAL;
	decided = px_get_be64(m->body);
	trim = px_get_be64(m->body + 8);
	if (trim > decided)
		return -EINVAL;
	if (trim <= a->trim)
		return 0;
	if (!acc_record(a, PX_REC_TRIM, 0, trim, NULL, 0))
		return -ENOMEM;
	acc_trim(a, trim);
	return 0;
}

int px_acceptor_step(struct px_acceptor *a, const struct px_msg *m)
{
	if (m->len && !m->body)
		return -EINVAL;
	switch (m->type) {
	case PAXOS_MSG_PREPARE:
		return on_prepare(a, m);
	case PAXOS_MSG_ACCEPT:
		return on_accept(a, m);
	case PAXOS_MSG_HEARTBEAT:
		return on_heartbeat(a, m);
	default:
		return 0;	/* not for the acceptor */
	}
}
