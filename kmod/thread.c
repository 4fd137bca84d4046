// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's kernel thread.
 *
 * One thread per instance, px<id>-node, runs everything in process context:
 * it parses and reassembles the frames the packet_type handler queued
 * (inst->rxq, woken through inst->node_wq) and drives the configured role
 * objects, which it alone owns.  A message - received, or sent by a role to
 * its own node - steps the roles px_msg_roles() names at once and without
 * a copy (the core keeps what it needs: by holding the message's block, a
 * reassembled body or a sent message, or else as a copy); what a step
 * produces waits in the role's px_ready until the role's next turn.
 *
 * A pass: step the roles with the received frames; then learner,
 * proposer, acceptor in this order (what the received frames decided
 * reaches readers before the pass spends time sending, e.g. the leader's
 * heartbeat telling the other learners; an ACCEPT the proposer sends
 * reaches the local acceptor in the same pass):
 * feed client commands (proposer), px_*_tick() when the role's deadline
 * passed, and carry out the role's px_ready in the order px.h requires:
 * persist, send (wire first, then local roles), wake readers.  Passes
 * repeat while anything is queued or a role was stepped after its turn;
 * then the thread sleeps until the earliest role deadline or new input (a
 * frame, a command, a kick).
 * Nothing busy-polls unless the busy_poll parameter asks for it.
 *
 * Why one thread: under load every hop between threads is a wakeup, and a
 * wakeup (an IPI, a halted CPU, a context switch) costs far more than the
 * protocol work of a message.  The price: an acceptor's fsync (durable
 * mode) delays the node's proposer and learner as well - which is the
 * group commit point anyway.
 *
 * The receive queue is bounded: a full queue drops the frame and counts
 * PAXOS_DROP_QUEUE_FULL (Paxos retransmits).  Stop order: the thread first,
 * then the command queue is closed (later writers free their entry).
 * The softirq handler only queues the skb, and wakes the thread for a frame
 * that may end a message, once between two drains (otherwise a wakeup is
 * already pending or the thread will see the frame before it sleeps).
 */
#include "kpaxos.h"
#include "storage.h"

#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/poll.h>

/* -------------------------------------------------------------- queues */

void px_queue_init(struct px_queue *q, u32 max_len, size_t max_bytes)
{
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->list);
	q->len = 0;
	q->bytes = 0;
	q->max_len = max_len;
	q->max_bytes = max_bytes;
	q->closed = false;
}

int px_queue_push(struct px_queue *q, struct px_qent *e)
{
	int err = 0;

	spin_lock_bh(&q->lock);
	if (q->closed)
		err = -ENOTCONN;
	else if (q->len >= q->max_len ||
		 (q->len && q->bytes + e->size > q->max_bytes))
		err = -ENOSPC;
	if (!err) {
		list_add_tail(&e->node, &q->list);
		WRITE_ONCE(q->len, q->len + 1);
		q->bytes += e->size;
	}
	spin_unlock_bh(&q->lock);
	return err;
}

bool px_queue_has_room(struct px_queue *q, size_t size)
{
	bool room;

	spin_lock_bh(&q->lock);
	room = q->closed || (q->len < q->max_len &&
			     (!q->len || q->bytes + size <= q->max_bytes));
	spin_unlock_bh(&q->lock);
	return room;
}

static struct px_qent *queue_peek(struct px_queue *q)
{
	struct px_qent *e;

	spin_lock_bh(&q->lock);
	e = list_first_entry_or_null(&q->list, struct px_qent, node);
	spin_unlock_bh(&q->lock);
	return e;
}

/* Only the consumer pops, so the entry peeked is still the first. */
static void queue_pop(struct px_queue *q, struct px_qent *e)
{
	spin_lock_bh(&q->lock);
	list_del(&e->node);
	WRITE_ONCE(q->len, q->len - 1);
	q->bytes -= e->size;
	spin_unlock_bh(&q->lock);
}

static void free_list(struct list_head *list)
{
	struct px_qent *e, *tmp;

	list_for_each_entry_safe(e, tmp, list, node) {
		list_del(&e->node);
		kvfree(e);
	}
}

void px_queue_close(struct px_queue *q)
{
	LIST_HEAD(list);

	spin_lock_bh(&q->lock);
	q->closed = true;
	list_splice_init(&q->list, &list);
	WRITE_ONCE(q->len, 0);
	q->bytes = 0;
	spin_unlock_bh(&q->lock);
	free_list(&list);
}

/* ------------------------------------------------ node thread: receive */

static void deliver(struct paxos_instance *inst, u64 now,
		    const struct px_msg *m);

/*
 * Softirq: queue a frame for the node thread.  @wake: the frame may end a
 * message (eth.c); only such a frame wakes the thread, once between two
 * drains.  The other frames of a message wait for the one that ends it,
 * for the thread's next pass or for its timer.
 */
void px_rx_enqueue(struct paxos_instance *inst, struct sk_buff *skb,
		   bool wake)
{
	struct sk_buff_head *q = &inst->rxq;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (skb_queue_len(q) >= READ_ONCE(paxos_rx_queue_len)) {
		spin_unlock_irqrestore(&q->lock, flags);
		px_count_drop(inst, PAXOS_DROP_QUEUE_FULL);
		kfree_skb(skb);
		return;
	}
	__skb_queue_tail(q, skb);
	wake = wake && !inst->rx_wake_sent;
	if (wake)
		inst->rx_wake_sent = true;
	spin_unlock_irqrestore(&q->lock, flags);
	if (wake)
		wake_up(&inst->node_wq);
}

/* Drop every queued frame (the device goes away). */
void px_rx_purge(struct paxos_instance *inst)
{
	struct sk_buff_head list;

	__skb_queue_head_init(&list);
	spin_lock_irq(&inst->rxq.lock);
	skb_queue_splice_init(&inst->rxq, &list);
	inst->rx_wake_sent = false;
	spin_unlock_irq(&inst->rxq.lock);
	__skb_queue_purge(&list);
}

static void rx_frame(struct paxos_instance *inst, struct sk_buff *skb,
		     struct px_wire_cfg *wcfg, u64 now)
{
	struct px_frame f;
	struct px_msg m;
	int ret;

	if (skb_linearize(skb)) {
		px_count_drop(inst, PAXOS_DROP_REASM);
		return;
	}
	ret = px_wire_parse(wcfg, skb->data, skb->len, &f);
	if (ret < 0) {
		px_count_drop(inst, -ret);
		return;
	}
	/* Belt and braces: the payload px_reasm_add() will copy is there. */
	if (skb->len < PAXOS_FRAME_HDR_LEN + f.frag_len +
		       (f.flags & PAXOS_F_AUTH ? PAXOS_AUTH_TAG_LEN : 0)) {
		px_count_drop(inst, PAXOS_DROP_TRUNCATED);
		return;
	}
	/* Our own id on the wire is a loop or a misconfigured twin. */
	if (f.src == inst->self) {
		px_count_drop(inst, PAXOS_DROP_BAD_NODE);
		return;
	}
	ret = px_reasm_add(&inst->reasm, now, &f, &m);
	if (ret < 0) {
		px_count_drop(inst, -ret);
		return;
	}
	if (ret == 0)
		return;
	atomic64_inc(&inst->cnt.msgs_rx);
	deliver(inst, now, &m);
}

/* Parse every frame received so far and step the roles with it. */
static void rx_drain(struct paxos_instance *inst, struct px_wire_cfg *wcfg)
{
	struct sk_buff_head batch;
	struct sk_buff *skb;
	u64 now;

	if (skb_queue_empty_lockless(&inst->rxq))
		return;
	__skb_queue_head_init(&batch);
	spin_lock_irq(&inst->rxq.lock);
	skb_queue_splice_tail_init(&inst->rxq, &batch);
	inst->rx_wake_sent = false;
	spin_unlock_irq(&inst->rxq.lock);

	wcfg->mtu = px_eth_mtu(inst);
	if (!wcfg->mtu)
		wcfg->mtu = PAXOS_MAX_MTU;
	/* Frames come from the configurations seen and the known nodes. */
	wcfg->members = inst->seen_members | inst->seen_latest;
	wcfg->known = READ_ONCE(inst->wcfg.known);
	now = px_now();
	while ((skb = __skb_dequeue(&batch))) {
		struct px_prof_mark t0 = px_prof_start();

		rx_frame(inst, skb, wcfg, now);
		consume_skb(skb);
		px_prof_end(PXP_RX, t0);
	}
}

/* -------------------------------------------------- node thread: roles */

/*
 * Step 1 of px.h's order: write the batch's records and fsync once (group
 * commit).  The in-memory mode (no state path) keeps nothing: unsafe
 * across crashes, see docs/durability.md.  Non-zero: nothing of this batch
 * may be sent, now or ever.
 */
static int px_persist(struct paxos_instance *inst,
		      const struct px_record *rec)
{
	int err;

	if (!inst->store)
		return 0;
	err = px_storage_append(inst->store, rec);
	if (!err)
		err = px_storage_maybe_compact(inst->store, inst->acc);
	if (err)
		WRITE_ONCE(inst->state_failed, true);
	return err;
}

/*
 * A proposer on a node that lost its acceptor state must not campaign or
 * lead before the rejoin (it might reuse a ballot it led with before).
 */
static bool muted_while_rejoining(struct paxos_instance *inst,
				  const struct px_obuf *ob)
{
	return ob->type == PAXOS_MSG_PREPARE || ob->type == PAXOS_MSG_ACCEPT ||
	       ob->type == PAXOS_MSG_HEARTBEAT;
}

static void send_msgs(struct paxos_instance *inst, u64 now,
		      const struct px_obuf *ob, bool rejoining)
{
	for (; ob; ob = ob->next) {
		if (rejoining && muted_while_rejoining(inst, ob))
			continue;
		struct px_prof_mark t0 = px_prof_start();

		if (ob->dst != inst->self) {
			px_eth_send(inst, ob);
			px_prof_end(PXP_SEND, t0);
		}
		if (ob->dst == inst->self || ob->dst == PAXOS_NODE_ALL) {
			struct px_msg m = {
				.type = ob->type,
				.src = inst->self,
				.dst = ob->dst,
				.ballot = ob->ballot,
				.instance = ob->instance,
				.body = ob->body,
				.len = ob->len,
				.block = ob,
			};

			t0 = px_prof_start();
			deliver(inst, now, &m);
			px_prof_end(PXP_LOCAL, t0);
		}
	}
}

/* ------------------------------------------------------------ snapshots */

struct px_snapbuf *px_snapbuf_alloc(u64 index, u32 len)
{
	struct px_snapbuf *sb;

	sb = kvmalloc(struct_size(sb, data, len), GFP_KERNEL);
	if (!sb)
		return NULL;
	refcount_set(&sb->ref, 1);
	sb->index = index;
	sb->len = len;
	return sb;
}

void px_snapbuf_put(struct px_snapbuf *sb)
{
	if (sb && refcount_dec_and_test(&sb->ref))
		kvfree(sb);
}

struct px_snapbuf *px_snapbuf_get(struct paxos_instance *inst)
{
	struct px_snapbuf *sb;

	spin_lock_bh(&inst->snapbuf_lock);
	sb = inst->snapbuf;
	if (sb)
		refcount_inc(&sb->ref);
	spin_unlock_bh(&inst->snapbuf_lock);
	return sb;
}

/* Node thread (or teardown): @sb (its reference) becomes the current one. */
static void snapbuf_set(struct paxos_instance *inst, struct px_snapbuf *sb)
{
	struct px_snapbuf *old;

	spin_lock_bh(&inst->snapbuf_lock);
	old = inst->snapbuf;
	inst->snapbuf = sb;
	spin_unlock_bh(&inst->snapbuf_lock);
	px_snapbuf_put(old);
}

/*
 * Node requests: a caller hands @req to the node thread through @slot under
 * @lock, kicks the thread and waits; the thread, or px_threads_stop() for
 * one it will never take, ends it under @lock with nreq_end().  One in a
 * slot at a time: -EBUSY for another.
 */
static int nreq_submit(struct paxos_instance *inst, struct px_nreq **slot,
		       struct mutex *lock, struct px_nreq *req)
{
	int err;

	init_completion(&req->done);
	mutex_lock(lock);
	err = READ_ONCE(inst->dead) ? -ENOTCONN : *slot ? -EBUSY : 0;
	if (!err)
		WRITE_ONCE(*slot, req);
	mutex_unlock(lock);
	if (err)
		return err;
	px_proposer_kick(inst);
	if (wait_for_completion_timeout(&req->done, 5 * HZ))
		return req->err;
	/* The thread completes under the lock: after it, req is ours. */
	mutex_lock(lock);
	if (*slot == req) {
		WRITE_ONCE(*slot, NULL);
		req->err = -ETIMEDOUT;
	}
	mutex_unlock(lock);
	return req->err;
}

/* Under the slot's lock: @req, in @slot, is done with @err. */
static void nreq_end(struct px_nreq **slot, struct px_nreq *req, int err)
{
	req->err = err;
	WRITE_ONCE(*slot, NULL);
	complete(&req->done);	/* last: the caller may return at once */
}

/* Fail a request the stopped thread will never take. */
static void nreq_cancel(struct px_nreq **slot, struct mutex *lock)
{
	mutex_lock(lock);
	if (*slot)
		nreq_end(slot, *slot, -ENOTCONN);
	mutex_unlock(lock);
}

/* Learner pass: a PAXOS_IOC_SNAPSHOT_PUT waiting for the node thread. */
static void feed_snapshot(struct paxos_instance *inst)
{
	struct px_sreq *req;
	struct px_snapbuf *sb;
	int err;

	if (!READ_ONCE(inst->sreq))
		return;
	mutex_lock(&inst->sreq_lock);
	if (inst->sreq) {
		req = container_of(inst->sreq, struct px_sreq, nr);
		sb = req->sb;
		err = px_learner_snapshot_put(inst->learn, sb->index,
					      sb->data, sb->len);
		if (!err) {
			refcount_inc(&sb->ref);
			snapbuf_set(inst, sb);
		}
		nreq_end(&inst->sreq, &req->nr, err);
	}
	mutex_unlock(&inst->sreq_lock);
}

int px_snapshot_request(struct paxos_instance *inst, struct px_snapbuf *sb)
{
	struct px_sreq req = { .sb = sb };
	int err;

	if (!inst->learn)
		return -EOPNOTSUPP;
	/* One put at a time: the slot is always free for it. */
	if (mutex_lock_interruptible(&inst->put_lock))
		return -EINTR;
	err = nreq_submit(inst, &inst->sreq, &inst->sreq_lock, &req.nr);
	mutex_unlock(&inst->put_lock);
	return err;
}

/*
 * The learner installed a snapshot at @index from a peer: keep a copy of
 * its application bytes for readers, and restart the delivery log after it
 * (readers below get a RESTORE record).
 */
static void snapshot_installed(struct paxos_instance *inst, u64 index)
{
	struct px_snapshot_info si;
	struct px_snapbuf *sb = NULL;

	if (px_learner_snapshot(inst->learn, &si) && si.index == index) {
		sb = px_snapbuf_alloc(index, si.app_len);
		if (sb && si.app_len)
			memcpy(sb->data, si.app, si.app_len);
	}
	if (sb)
		snapbuf_set(inst, sb);
	else
		pr_warn("node %u: no copy of the snapshot at %llu for readers (out of memory)\n",
			inst->self, index);
	px_dlog_restart(&inst->log, index);
	if (inst->published < index)
		inst->published = index;
	pr_info("node %u: snapshot at %llu installed (%u application bytes)\n",
		inst->self, index, sb ? sb->len : 0);
	wake_up_interruptible_poll(&inst->read_wq, EPOLLIN);
}

/* Learner: hand newly delivered instances to readers, then wake them. */
static void publish_deliveries(struct px_role_thread *t, u64 delivered)
{
	struct paxos_instance *inst = t->inst;
	u64 before = inst->published;
	const u8 *v;
	bool gone;
	u32 len;
	int n;

	t->retry_soon = false;
	while (inst->published < delivered) {
		u64 i = inst->published + 1;

		v = px_learner_value(inst->learn, i, &len, &gone);
		if (!v)
			len = 0;	/* no longer retained: an empty entry */
		n = px_dlog_append(&inst->log, i, v, len,
				   px_learner_value_block(inst->learn, i),
				   px_snap_point(&inst->cfg, i));
		if (n < 0) {
			t->retry_soon = true;
			break;
		}
		px_trace_deliver(inst, i, n);
		inst->published = i;
	}
	if (inst->published != before)
		wake_up_interruptible_poll(&inst->read_wq, EPOLLIN);
}

static struct px_ready *role_ready(struct px_role_thread *t)
{
	struct paxos_instance *inst = t->inst;

	switch (t->id) {
	case PX_ROLE_ACC:
		return &inst->acc->out;
	case PX_ROLE_PROP:
		return px_proposer_ready(inst->prop);
	default:
		return px_learner_ready(inst->learn);
	}
}

static void carry_out(struct px_role_thread *t, u64 now)
{
	struct paxos_instance *inst = t->inst;
	struct px_ready *from = role_ready(t);
	struct px_ready rd;
	bool rejoining;

	px_ready_init(&rd);
	px_ready_take(from, &rd);
	t->stepped = false;
	/* 1. persist, 2. send, 3. wake readers */
	if (t->id == PX_ROLE_ACC &&
	    ((rd.persist && px_persist(inst, rd.persist)) ||
	     READ_ONCE(inst->state_failed))) {
		px_ready_free(&rd);
		return;
	}
	/* Pairs with rejoin_join()'s release (all in one thread now). */
	rejoining = t->id == PX_ROLE_PROP && smp_load_acquire(&inst->rejoining);
	send_msgs(inst, now, rd.msgs, rejoining);
	if (t->id == PX_ROLE_LEARN && rd.restored)
		snapshot_installed(inst, rd.restored);
	if (t->id == PX_ROLE_LEARN) {
		struct px_prof_mark t0 = px_prof_start();

		publish_deliveries(t, rd.delivered);
		px_prof_end(PXP_PUBLISH, t0);
	}
	px_ready_free(&rd);
}

/*
 * The acceptor lost its state (PAXOS_STATE_F_REJOIN on an empty log): it
 * answers nothing until a leader it saw at ballot B with next instance N
 * announces, still at ballot B, decided >= N - an instance opened after the
 * rejoin began is chosen without this node.  Then it promises B and trims
 * everything <= N (decided), durably, and votes again.  The argument is in
 * docs/durability.md.
 */
static void rejoin_join(struct paxos_instance *inst)
{
	struct px_acceptor *acc = inst->acc;
	struct px_ready rd;
	int err = -ENOMEM;

	px_ready_init(&rd);
	if (px_ready_record(&rd, PX_REC_PROMISE, inst->rejoin_ballot, 0,
			    NULL, 0) &&
	    px_ready_record(&rd, PX_REC_TRIM, 0, inst->rejoin_next, NULL, 0))
		err = px_acceptor_restore(acc, rd.persist);
	if (!err)
		err = px_persist(inst, rd.persist);
	px_ready_free(&rd);
	if (err) {
		pr_err("node %u: rejoin failed (%d): acceptor stays mute\n",
		       inst->self, err);
		WRITE_ONCE(inst->state_failed, true);
		return;
	}
	inst->rejoin_floor = acc->promised;
	/* rejoin_floor before rejoining: readers acquire rejoining. */
	smp_store_release(&inst->rejoining, false);
	pr_info("node %u: rejoined: promised %llu, trim %llu; voting again\n",
		inst->self, acc->promised, acc->trim);
	px_proposer_kick(inst);
}

static void rejoin_observe(struct paxos_instance *inst,
			   const struct px_msg *m)
{
	u64 decided;

	if (m->type != PAXOS_MSG_HEARTBEAT ||
	    m->len != PAXOS_HEARTBEAT_LEN || !m->body ||
	    px_ballot_node(m->ballot) != m->src || m->src == inst->self)
		return;
	decided = px_get_be64(m->body);
	if (!inst->rejoin_seen || m->ballot != inst->rejoin_ballot) {
		inst->rejoin_seen = true;
		inst->rejoin_ballot = m->ballot;
		inst->rejoin_next = max_t(u64, m->instance, 1);
		return;
	}
	if (decided >= inst->rejoin_next)
		rejoin_join(inst);
}

static void step_one(struct px_role_thread *t, u64 now,
		     const struct px_msg *m)
{
	struct paxos_instance *inst = t->inst;
	static const enum px_prof_part part[PX_NR_ROLES] = {
		[PX_ROLE_ACC] = PXP_STEP_ACC,
		[PX_ROLE_PROP] = PXP_STEP_PROP,
		[PX_ROLE_LEARN] = PXP_STEP_LEARN,
	};
	struct px_prof_mark t0 = px_prof_start();
	int err;

	t->stepped = true;
	t->dirty = true;
	switch (t->id) {
	case PX_ROLE_ACC:
		/* A failed log: the acceptor is mute and frozen for good. */
		if (READ_ONCE(inst->state_failed))
			return;
		if (inst->rejoining) {
			rejoin_observe(inst, m);
			return;
		}
		err = px_acceptor_step(inst->acc, m);
		break;
	case PX_ROLE_PROP:
		err = px_proposer_step(inst->prop, now, m);
		t->cmd_blocked = false;
		break;
	default:
		err = px_learner_step(inst->learn, now, m);
		break;
	}
	if (err == -EINVAL)
		px_count_drop(inst, PAXOS_DROP_BAD_BODY);
	px_prof_end(part[t->id], t0);
}

/*
 * Step the roles @m is for, now: @m (its body in a received skb or in the
 * sender's px_ready) is only valid during the call.
 */
static void deliver(struct paxos_instance *inst, u64 now,
		    const struct px_msg *m)
{
	u32 roles = px_msg_roles(m->type) & inst->roles;

	if (roles & PAXOS_ROLE_ACCEPTOR)
		step_one(&inst->thr[PX_ROLE_ACC], now, m);
	if (roles & PAXOS_ROLE_PROPOSER)
		step_one(&inst->thr[PX_ROLE_PROP], now, m);
	if (roles & PAXOS_ROLE_LEARNER)
		step_one(&inst->thr[PX_ROLE_LEARN], now, m);
}

static u64 role_deadline(struct px_role_thread *t)
{
	struct paxos_instance *inst = t->inst;

	switch (t->id) {
	case PX_ROLE_ACC:
		return U64_MAX;		/* the acceptor has no timers */
	case PX_ROLE_PROP:
		return px_proposer_next_deadline(inst->prop);
	default:
		return px_learner_next_deadline(inst->learn);
	}
}

static void role_tick(struct px_role_thread *t, u64 now)
{
	struct paxos_instance *inst = t->inst;

	if (t->id == PX_ROLE_PROP)
		px_proposer_tick(inst->prop, now);
	else if (t->id == PX_ROLE_LEARN)
		px_learner_tick(inst->learn, now);
}

/*
 * Proposer: a PAXOS_CMD_MEMBERSHIP request (netlink.c).  The seq of the
 * command only needs to grow: a learner flags a seq it saw as a retry, and
 * real time keeps it growing across nodes and restarts.
 */
static void feed_membership(struct paxos_instance *inst, u64 now)
{
	struct px_mreq *req;
	u64 seq;
	int err;

	if (!READ_ONCE(inst->mreq))
		return;
	mutex_lock(&inst->mreq_lock);
	if (inst->mreq) {
		req = container_of(inst->mreq, struct px_mreq, nr);
		seq = max_t(u64, inst->mreq_seq + 1, ktime_get_real_ns());
		err = px_proposer_propose_membership(inst->prop, now, seq,
						     req->old, req->new);
		if (!err) {
			inst->mreq_seq = seq;
			pr_info("node %u: membership change 0x%x -> 0x%x proposed\n",
				inst->self, req->old, req->new);
		}
		nreq_end(&inst->mreq, &req->nr, err);
	}
	mutex_unlock(&inst->mreq_lock);
}

int px_membership_request(struct paxos_instance *inst, u32 old, u32 new)
{
	struct px_mreq req = { .old = old, .new = new };

	return nreq_submit(inst, &inst->mreq, &inst->mreq_lock, &req.nr);
}

/* The configuration seen changed (a change decided, or taking effect). */
static void observe_members(struct paxos_instance *inst, u32 members,
			    u32 latest)
{
	if (!members || (members == inst->seen_members &&
			 latest == inst->seen_latest))
		return;
	if (latest != inst->seen_latest)
		pr_info("node %u: configuration 0x%x decided (in effect: 0x%x)\n",
			inst->self, latest, members);
	if (members != inst->seen_members)
		pr_info("node %u: configuration 0x%x in effect\n", inst->self,
			members);
	inst->seen_members = members;
	inst->seen_latest = latest;
	paxos_netlink_membership_event(inst, members);
}

/*
 * Proposer: move written commands into the core until it is full.  They
 * are queued first and flushed once, so that an idle pipeline takes all
 * that were written in one instance.
 */
static void feed_commands(struct px_role_thread *t, u64 now)
{
	struct paxos_instance *inst = t->inst;
	bool fed = false, queued = false;
	struct px_qent *e;

	while (!t->cmd_blocked && (e = queue_peek(&inst->cmdq))) {
		struct px_ucmd *c = container_of(e, struct px_ucmd, e);
		struct paxos_propose_hdr h;
		int err;

		/* chardev.c checked the records */
		while (c->off < c->len) {
			memcpy(&h, c->data + c->off, sizeof(h));
			err = px_proposer_queue(inst->prop, now, h.client_id,
						h.seq, c->data + c->off +
						sizeof(h), h.len);
			if (err == -EAGAIN && queued) {
				/* full: the pipeline may take some first */
				px_proposer_flush(inst->prop, now);
				queued = false;
				continue;
			}
			if (err == -EAGAIN)
				break;
			queued |= !err;
			if (!err)
				px_trace_propose(inst, h.client_id, h.seq,
						 h.len);
			c->off += sizeof(h) + h.len;
		}
		if (c->off < c->len) {
			t->cmd_blocked = true;
			break;
		}
		queue_pop(&inst->cmdq, e);
		kvfree(c);
		fed = true;
	}
	if (queued)
		px_proposer_flush(inst->prop, now);
	if (fed)
		wake_up_interruptible_poll(&inst->write_wq, EPOLLOUT);
}

static void publish_snapshot(struct px_role_thread *t)
{
	struct paxos_instance *inst = t->inst;
	struct px_proposer_info pi;
	struct px_learner_info li;

	switch (t->id) {
	case PX_ROLE_ACC:
		spin_lock_bh(&inst->snap_lock);
		inst->snap.acc = inst->acc->stats;
		inst->snap.promised = inst->acc->promised;
		inst->snap.acc_trim = inst->acc->trim;
		spin_unlock_bh(&inst->snap_lock);
		break;
	case PX_ROLE_PROP:
		px_proposer_info(inst->prop, &pi);
		spin_lock_bh(&inst->snap_lock);
		inst->snap.prop = pi;
		spin_unlock_bh(&inst->snap_lock);
		if (!(inst->roles & PAXOS_ROLE_LEARNER))
			observe_members(inst, pi.members, pi.members);
		if (pi.leader != inst->seen_leader) {
			inst->seen_leader = pi.leader;
			px_trace_leader(inst, pi.leader, pi.leader_ballot);
			paxos_netlink_leader_event(inst, pi.leader,
						   pi.leader_ballot);
		}
		break;
	default:
		px_learner_info(inst->learn, &li);
		spin_lock_bh(&inst->snap_lock);
		inst->snap.learn = li;
		spin_unlock_bh(&inst->snap_lock);
		if (li.committed > inst->seen_committed) {
			inst->seen_committed = li.committed;
			px_trace_decide(inst, li.committed);
		}
		observe_members(inst, li.members, li.members_latest);
		break;
	}
}

/* Proposer pass: true once, right after the acceptor rejoined. */
static bool inst_rejoined(struct paxos_instance *inst)
{
	/* Pairs with rejoin_join(): a false rejoining shows rejoin_floor. */
	if (inst->prop_restored || smp_load_acquire(&inst->rejoining) ||
	    !inst->rejoin_floor)
		return false;
	inst->prop_restored = true;
	return true;
}

static bool role_configured(struct paxos_instance *inst, enum px_role_id r)
{
	static const u32 bits[PX_NR_ROLES] = {
		[PX_ROLE_ACC] = PAXOS_ROLE_ACCEPTOR,
		[PX_ROLE_PROP] = PAXOS_ROLE_PROPOSER,
		[PX_ROLE_LEARN] = PAXOS_ROLE_LEARNER,
	};

	return inst->roles & bits[r];
}

/*
 * One pass of role @t: client commands, its timer, then its output (what
 * its steps and tick produced).  Returns the role's next deadline (U64_MAX: none).
 */
static u64 role_pass(struct px_role_thread *t)
{
	u64 now = px_now(), deadline;
	struct px_prof_mark t0;
	bool ticked = false;

	if (t->id == PX_ROLE_PROP) {
		if (inst_rejoined(t->inst)) {
			px_proposer_restore(t->inst->prop,
					    t->inst->rejoin_floor);
			t->dirty = true;
		}
		if (READ_ONCE(t->inst->mreq) || READ_ONCE(t->inst->cmdq.len))
			t->dirty = true;	/* (maybe) fed below */
		t0 = px_prof_start();
		feed_membership(t->inst, now);
		feed_commands(t, now);
		px_prof_end(PXP_FEED, t0);
	}
	if (t->id == PX_ROLE_LEARN && READ_ONCE(t->inst->sreq)) {
		t->dirty = true;
		feed_snapshot(t->inst);
	}

	now = px_now();
	if (now >= role_deadline(t)) {
		t0 = px_prof_start();
		role_tick(t, now);
		px_prof_end(PXP_TICK, t0);
		t->dirty = true;
		ticked = true;
		t->cmd_blocked = false;
	}
	carry_out(t, now);
	/* Only a step, a tick or input changes what a role shows. */
	if (t->dirty) {
		t->dirty = false;
		t0 = px_prof_start();
		publish_snapshot(t);
		px_prof_end(PXP_SNAPSHOT, t0);
	}

	deadline = role_deadline(t);
	now = px_now();
	if (t->retry_soon || (ticked && deadline <= now))
		deadline = now + 1000;	/* never spin on a stale deadline */
	return deadline;
}

/* Anything for a pass to do now (frames, messages, commands)? */
static bool node_has_work(struct paxos_instance *inst)
{
	int r;

	if (!skb_queue_empty_lockless(&inst->rxq))
		return true;
	for (r = 0; r < PX_NR_ROLES; r++)
		if (inst->thr[r].stepped)
			return true;
	if (inst->prop && READ_ONCE(inst->mreq))
		return true;
	if (inst->learn && READ_ONCE(inst->sreq))
		return true;
	return inst->prop && !inst->thr[PX_ROLE_PROP].cmd_blocked &&
	       READ_ONCE(inst->cmdq.len);
}

static bool node_busy_poll(struct paxos_instance *inst, u64 deadline)
{
	unsigned int us = READ_ONCE(paxos_busy_poll_us);
	u64 end;

	if (!us)
		return false;
	end = min_t(u64, px_now() + us, deadline);
	while (px_now() < end && !kthread_should_stop()) {
		if (node_has_work(inst))
			return true;
		cond_resched();
		cpu_relax();
	}
	return false;
}

/* Roles in the order a pass runs them; see the comment at the top. */
static const enum px_role_id pass_order[PX_NR_ROLES] = {
	PX_ROLE_LEARN, PX_ROLE_PROP, PX_ROLE_ACC
};

static int node_thread(void *arg)
{
	struct paxos_instance *inst = arg;
	struct px_wire_cfg wcfg = inst->wcfg;

	while (!kthread_should_stop()) {
		struct px_prof_mark t0 = px_prof_start();
		u64 deadline = U64_MAX, now;
		int i;

		rx_drain(inst, &wcfg);
		for (i = 0; i < PX_NR_ROLES; i++) {
			enum px_role_id r = pass_order[i];

			if (role_configured(inst, r))
				deadline = min(deadline,
					       role_pass(&inst->thr[r]));
		}
		px_prof_end(PXP_BUSY, t0);
		cond_resched();
		if (node_has_work(inst))
			continue;

		now = px_now();
		if (deadline > now && !node_busy_poll(inst, deadline)) {
			u64 us = min_t(u64, deadline - now, USEC_PER_SEC);

			wait_event_interruptible_hrtimeout(inst->node_wq,
				kthread_should_stop() || node_has_work(inst),
				ns_to_ktime(us * NSEC_PER_USEC));
		}
	}
	return 0;
}

/* A command was written or the proposer may go on: wake the node thread. */
void px_proposer_kick(struct paxos_instance *inst)
{
	wake_up(&inst->node_wq);
}

int px_threads_start(struct paxos_instance *inst)
{
	struct task_struct *task;

	task = kthread_run(node_thread, inst, "px%u-node", inst->self);
	if (IS_ERR(task))
		return PTR_ERR(task);
	inst->node_task = task;
	return 0;
}

void px_threads_stop(struct paxos_instance *inst)
{
	if (inst->node_task) {
		kthread_stop(inst->node_task);
		inst->node_task = NULL;
	}
	nreq_cancel(&inst->mreq, &inst->mreq_lock);
	nreq_cancel(&inst->sreq, &inst->sreq_lock);
	px_queue_close(&inst->cmdq);
}
