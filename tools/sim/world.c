// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kpaxos simulator: the world - event queue, nodes, network, faults.
 *
 * A node is what the kernel glue is: three roles, a reassembly table and a
 * "disk".  Its loop honours the px_ready contract: records are written to the
 * disk, then messages go out (frames through the real codec, local copies for
 * dst == self or all), then new deliveries are read and checked.
 */
#include "sim.h"

/* ----------------------------------------------------------- event queue */

static bool ev_before(const struct sim_ev *x, const struct sim_ev *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void heap_push(struct sim_world *w, struct sim_ev *ev)
{
	u32 i;

	if (w->heap_n == w->heap_cap) {
		w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 1024;
		w->heap = realloc(w->heap, w->heap_cap * sizeof(*w->heap));
		if (!w->heap) {
			perror("sim: realloc");
			exit(2);
		}
	}
	i = w->heap_n++;
	while (i) {
		u32 up = (i - 1) / 2;

		if (!ev_before(ev, w->heap[up]))
			break;
		w->heap[i] = w->heap[up];
		i = up;
	}
	w->heap[i] = ev;
}

static struct sim_ev *heap_pop(struct sim_world *w)
{
	struct sim_ev *top = w->heap[0], *last;
	u32 i = 0, n;

	n = --w->heap_n;
	if (!n)
		return top;
	last = w->heap[n];
	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(w->heap[c + 1], w->heap[c]))
			c++;
		if (!ev_before(w->heap[c], last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	w->heap[i] = last;
	return top;
}

static struct sim_ev *ev_new(struct sim_world *w, u64 t, u8 kind, u8 node)
{
	struct sim_ev *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		perror("sim: calloc");
		exit(2);
	}
	ev->t = t < w->now ? w->now : t;
	ev->seq = w->ev_seq++;
	ev->kind = kind;
	ev->node = node;
	return ev;
}

static void ev_free(struct sim_ev *ev)
{
	if (ev->kind == EV_LOCAL)
		px_value_free(ev->data);	/* the roles may hold it */
	else
		free(ev->data);
	free(ev);
}

void sim_schedule(struct sim_world *w, u64 t, u8 kind, u8 node, u64 a, u64 b)
{
	struct sim_ev *ev = ev_new(w, t, kind, node);

	ev->a = a;
	ev->b = b;
	if (node >= 1 && node <= w->n)
		ev->inc = w->node[node].inc;
	heap_push(w, ev);
}

/* ------------------------------------------------------------------ nodes */

u64 sim_node_now(const struct sim_world *w, const struct sim_node *nd)
{
	return w->now + nd->clock_off;
}

static void node_arm_timer(struct sim_world *w, struct sim_node *nd)
{
	u64 d, vt;
	struct sim_ev *ev;

	d = PX_MIN(px_proposer_next_deadline(nd->prop),
		   px_learner_next_deadline(nd->lrn));
	if (d == SIM_NEVER)
		return;
	vt = d <= sim_node_now(w, nd) ? w->now + 1 : d - nd->clock_off;
	if (vt >= nd->timer_at)
		return;
	nd->timer_at = vt;
	ev = ev_new(w, vt, EV_TICK, nd->id);
	ev->a = ++nd->timer_gen;
	ev->inc = nd->inc;
	heap_push(w, ev);
}

static void disk_append(struct sim_world *w, struct sim_node *nd,
			const struct px_record *r)
{
	struct px_record *c = malloc(sizeof(*c) + r->len);

	if (!c) {
		perror("sim: malloc");
		exit(2);
	}
	memcpy(c, r, sizeof(*c));
	memcpy(c->value, r->value, r->len);
	c->next = NULL;
	*nd->disk.tail = c;
	nd->disk.tail = &c->next;
	nd->disk.records++;
	nd->disk.bytes += r->len;
	w->st.disk_records++;
	sim_trace(w, TR_PERSIST, nd->id, 0, r->kind, r->len, r->ballot,
		  r->instance, 0);
}

static void disk_free(struct sim_disk *d)
{
	struct px_record *r = d->head, *next;

	for (; r; r = next) {
		next = r->next;
		free(r);
	}
	d->head = NULL;
	d->tail = &d->head;
}

/*
 * The fault budget.  Learners and snapshots are volatile and acceptors forget
 * instances at or below the trim the leader announces, so the log below the
 * highest trim lives only in live replicas: in a learner that retains the
 * instance, or in the state of a learner that delivered it (its current
 * snapshot, or the app's state, which it puts at the heal at the latest and
 * which then serves the instances it no longer retains).  A learner that
 * delivered up to D can therefore bring a fresh one up to D, so the
 * instances at or below the highest trim survive as long as a live node
 * delivered them.  A crash that would destroy the last such copy would lose
 * them by design: it is allowed unless another live node delivered as far
 * as @nd did, up to the highest trim.  (Members or not: learners ask any
 * node they heard from.)
 */
static bool crash_allowed(struct sim_world *w, const struct sim_node *nd)
{
	struct px_learner_info li;
	u64 need;
	int k;

	px_learner_info(nd->lrn, &li);
	need = li.delivered < w->max_trim ? li.delivered : w->max_trim;
	if (!need)
		return true;
	for (k = 1; k <= w->n; k++) {
		if (k == nd->id || !w->node[k].up)
			continue;
		px_learner_info(w->node[k].lrn, &li);
		if (li.delivered >= need)
			return true;
	}
	return false;
}

static void node_crash(struct sim_world *w, struct sim_node *nd, bool midsend)
{
	w->st.reasm_evicted += nd->reasm.evicted;
	px_acceptor_uninit(&nd->acc);
	px_proposer_destroy(nd->prop);
	px_learner_destroy(nd->lrn);
	px_reasm_uninit(&nd->reasm);
	nd->prop = NULL;
	nd->lrn = NULL;
	nd->up = false;
	nd->crash_armed = false;
	nd->inc++;
	nd->timer_at = SIM_NEVER;
	w->st.crashes++;
	sim_trace(w, TR_CRASH, nd->id, 0, 0, 0, nd->inc, midsend, 0);
}

static void node_boot(struct sim_world *w, struct sim_node *nd, bool restart)
{
	u64 now = sim_node_now(w, nd);
	int err;

	nd->cfg.seed = sim_rand(&w->rng) | 1;
	err = px_acceptor_init(&nd->acc, &nd->cfg);
	if (err) {
		sim_fail(w, "n%u: px_acceptor_init failed: %d", nd->id, err);
		return;
	}
	if (restart) {
		err = px_acceptor_restore(&nd->acc, nd->disk.head);
		if (err) {
			sim_fail(w, "n%u: px_acceptor_restore of %" PRIu64
				 " records failed: %d", nd->id,
				 nd->disk.records, err);
			px_acceptor_uninit(&nd->acc);
			return;
		}
	}
	nd->prop = px_proposer_create(&nd->cfg, now);
	nd->lrn = px_learner_create(&nd->cfg, now);
	if (!nd->prop || !nd->lrn) {
		sim_fail(w, "n%u: role creation failed", nd->id);
		px_proposer_destroy(nd->prop);
		px_learner_destroy(nd->lrn);
		px_acceptor_uninit(&nd->acc);
		nd->prop = NULL;
		nd->lrn = NULL;
		return;
	}
	if (restart)
		px_proposer_restore(nd->prop, nd->acc.promised);
	px_reasm_init(&nd->reasm);
	nd->msg_seq = (u32)sim_rand(&w->rng);
	nd->up = true;
	nd->timer_at = SIM_NEVER;
	nd->prop_ballot = 0;
	nd->read_upto = 0;
	nd->partial = false;
	nd->first_read = 0;
	nd->ndeliv = 0;
	memset(nd->hi_seq, 0, sizeof(nd->hi_seq));
	sim_app_reset(nd);
	if (restart) {
		w->st.restarts++;
		sim_trace(w, TR_RESTART, nd->id, 0, 0, 0, nd->disk.records,
			  nd->acc.promised, nd->acc.highest);
	}
	sim_node_drain(w, nd);
}

/* -------------------------------------------------------------- network */

enum { DROP_PARTITION, DROP_LOSS, DROP_DOWN, DROP_REASM };

static void net_xmit(struct sim_world *w, u8 src, u8 dst, const u8 *buf,
		     u32 len, const struct px_msg *m)
{
	int copies = 1, i;

	w->st.frames++;
	if (!w->link[src][dst]) {
		sim_trace(w, TR_DROP, src, dst, m->type, len, DROP_PARTITION,
			  m->instance, 0);
		w->st.frames_cut++;
		return;
	}
	if (w->loss_ppm && sim_chance(&w->rng, w->loss_ppm)) {
		sim_trace(w, TR_DROP, src, dst, m->type, len, DROP_LOSS,
			  m->instance, 0);
		w->st.frames_lost++;
		return;
	}
	if (w->dup_ppm && sim_chance(&w->rng, w->dup_ppm)) {
		copies = 2;
		w->st.frames_dup++;
	}
	for (i = 0; i < copies; i++) {
		u64 delay = sim_range(&w->rng, w->delay_min, w->delay_max);
		struct sim_ev *ev;

		if (w->slow_ppm && sim_chance(&w->rng, w->slow_ppm))
			delay += sim_range(&w->rng, 2000, 40000);
		ev = ev_new(w, w->now + delay, EV_FRAME, dst);
		ev->src = src;
		ev->data = malloc(len);
		if (!ev->data) {
			perror("sim: malloc");
			exit(2);
		}
		memcpy(ev->data, buf, len);
		ev->len = len;
		heap_push(w, ev);
	}
}

static void send_local(struct sim_world *w, struct sim_node *nd,
		       const struct px_msg *m)
{
	struct sim_local *lm = px_value_alloc(sizeof(*lm) + m->len);
	struct sim_ev *ev;

	if (!lm) {
		perror("sim: malloc");
		exit(2);
	}
	lm->m = *m;
	memcpy(lm->body, m->body, m->len);
	lm->m.body = lm->body;
	lm->m.block = lm;	/* as the module's own messages are */
	/* a handoff between role threads: short, never lost */
	ev = ev_new(w, w->now + sim_range(&w->rng, 1, 20), EV_LOCAL, nd->id);
	ev->inc = nd->inc;
	ev->data = lm;
	heap_push(w, ev);
}

static void send_msg(struct sim_world *w, struct sim_node *nd,
		     const struct px_obuf *o)
{
	struct px_msg m = {
		.type = o->type, .src = nd->id, .dst = o->dst,
		.ballot = o->ballot, .instance = o->instance,
		.body = o->body, .len = o->len,
	};
	u32 frames, idx, seq;
	int d;

	w->st.msgs++;
	sim_trace(w, TR_SEND, nd->id, o->dst, o->type, o->len, o->ballot,
		  o->instance, 0);
	if (o->type < 1 || o->type > PAXOS_MSG_MAX) {
		sim_fail(w, "n%u sent a message of unknown type %u", nd->id,
			 o->type);
		return;
	}
	if (o->dst != PAXOS_NODE_ALL &&
	    (o->dst < 1 || o->dst > w->n)) {
		sim_fail(w, "n%u sent %s to non-member node %u", nd->id,
			 sim_msg_name(o->type), o->dst);
		return;
	}
	sim_check_sent(w, nd, o);
	if (o->dst == nd->id || o->dst == PAXOS_NODE_ALL)
		send_local(w, nd, &m);
	if (o->dst == nd->id)
		return;
	frames = px_wire_frames(w->mtu, o->len, false);
	if (!frames) {
		sim_fail(w, "n%u: %s of %u bytes does not fit on the wire",
			 nd->id, sim_msg_name(o->type), o->len);
		return;
	}
	seq = nd->msg_seq++;
	for (idx = 0; idx < frames; idx++) {
		int len = px_wire_encode(&nd->wcfg, &m, seq, idx, w->scratch);

		if (len <= 0 || (u32)len > w->mtu) {
			sim_fail(w, "codec: px_wire_encode(%s len %u, frag %u/%u, mtu %u) = %d",
				 sim_msg_name(o->type), o->len, idx, frames,
				 w->mtu, len);
			return;
		}
		if (o->dst != PAXOS_NODE_ALL) {
			net_xmit(w, nd->id, o->dst, w->scratch, len, &m);
			continue;
		}
		for (d = 1; d <= w->n; d++)
			if (d != nd->id)
				net_xmit(w, nd->id, d, w->scratch, len, &m);
	}
}

/*
 * Carry out one role's ready batch: persist, then send.  Returns false if
 * the node crashed half way through sending.
 */
static bool do_ready(struct sim_world *w, struct sim_node *nd,
		     struct px_ready *from, u64 *delivered, u64 *restored)
{
	struct px_ready rd;
	const struct px_record *r;
	const struct px_obuf *o;
	u32 cut = SIM_NEVER >> 32;

	px_ready_init(&rd);
	px_ready_take(from, &rd);
	if (delivered)
		*delivered = rd.delivered;
	if (restored)
		*restored = rd.restored;
	else if (rd.restored)
		sim_fail(w, "n%u: restored %" PRIu64 " outside the learner",
			 nd->id, rd.restored);
	for (r = rd.persist; r; r = r->next)
		disk_append(w, nd, r);
	if (nd->crash_armed && rd.msgs) {
		nd->crash_armed = false;
		if (crash_allowed(w, nd))
			cut = sim_below(&w->rng, rd.n_msgs ? rd.n_msgs : 1);
		else
			w->st.crashes_vetoed++;
	}
	for (o = rd.msgs; o && !w->failed; o = o->next) {
		if (!cut--) {
			px_ready_free(&rd);
			node_crash(w, nd, true);
			return false;
		}
		send_msg(w, nd, o);
	}
	px_ready_free(&rd);
	return true;
}

static void note_leader(struct sim_world *w, struct sim_node *nd)
{
	struct px_proposer_info pi;

	px_proposer_info(nd->prop, &pi);
	if (pi.state == PX_LEADER && pi.ballot != nd->prop_ballot) {
		nd->prop_ballot = pi.ballot;
		w->st.leader_changes++;
		sim_trace(w, TR_LEADER, nd->id, 0, 0, 0, pi.ballot, pi.next,
			  pi.decided);
	} else if (pi.state != PX_LEADER) {
		nd->prop_ballot = 0;
	}
}

void sim_node_drain(struct sim_world *w, struct sim_node *nd)
{
	int pass;
	u64 delivered, restored;

	for (pass = 0; pass < 4 && nd->up && !w->failed; pass++) {
		if (!do_ready(w, nd, &nd->acc.out, NULL, NULL))
			return;
		if (!do_ready(w, nd, px_proposer_ready(nd->prop), NULL, NULL))
			return;
		if (!do_ready(w, nd, px_learner_ready(nd->lrn), &delivered,
			      &restored))
			return;
		sim_check_delivered(w, nd, delivered, restored);
		/* A deferred put happens at some later point in time. */
		if (nd->unput.index && !nd->unput.skipped &&
		    !sim_below(&w->srng, 8))
			sim_app_put_unput(w, nd);
		if (px_ready_empty(&nd->acc.out) &&
		    px_ready_empty(px_proposer_ready(nd->prop)) &&
		    px_ready_empty(px_learner_ready(nd->lrn)))
			break;
	}
	if (!nd->up || w->failed)
		return;
	if (nd->acc.trim > w->max_trim)
		w->max_trim = nd->acc.trim;
	note_leader(w, nd);
	node_arm_timer(w, nd);
}

static void dispatch(struct sim_world *w, struct sim_node *nd,
		     const struct px_msg *m, bool local)
{
	u32 roles = px_msg_roles(m->type);
	u64 now = sim_node_now(w, nd);
	int err;

	sim_trace(w, local ? TR_LOCAL : TR_RECV, nd->id, m->src, m->type,
		  m->len, m->ballot, m->instance, 0);
	if (!roles)
		sim_fail(w, "px_msg_roles(%u) names no role", m->type);
	if (roles & PAXOS_ROLE_ACCEPTOR) {
		err = px_acceptor_step(&nd->acc, m);
		if (err) {
			w->st.rejects++;
			sim_trace(w, TR_REJECT, nd->id, m->src, m->type,
				  m->len, PAXOS_ROLE_ACCEPTOR, (u64)-err, 0);
		}
	}
	if (roles & PAXOS_ROLE_PROPOSER) {
		err = px_proposer_step(nd->prop, now, m);
		if (err) {
			w->st.rejects++;
			sim_trace(w, TR_REJECT, nd->id, m->src, m->type,
				  m->len, PAXOS_ROLE_PROPOSER, (u64)-err, 0);
		}
	}
	if (roles & PAXOS_ROLE_LEARNER) {
		err = px_learner_step(nd->lrn, now, m);
		if (err) {
			w->st.rejects++;
			sim_trace(w, TR_REJECT, nd->id, m->src, m->type,
				  m->len, PAXOS_ROLE_LEARNER, (u64)-err, 0);
		}
	}
	sim_node_drain(w, nd);
}

static void on_frame(struct sim_world *w, struct sim_ev *ev)
{
	struct sim_node *nd = &w->node[ev->node];
	struct px_frame f;
	struct px_msg m;
	int err;

	if (!nd->up) {
		sim_trace(w, TR_DROP, ev->src, ev->node, 0, ev->len, DROP_DOWN,
			  0, 0);
		return;
	}
	err = px_wire_parse(&nd->wcfg, ev->data, ev->len, &f);
	if (err) {
		w->st.parse_drops++;
		sim_fail(w, "codec: n%u rejected a frame of n%u (%u bytes): drop reason %d",
			 nd->id, ev->src, ev->len, -err);
		return;
	}
	if (f.src != ev->src) {
		sim_fail(w, "codec: frame from n%u parsed with src %u",
			 ev->src, f.src);
		return;
	}
	err = px_reasm_add(&nd->reasm, sim_node_now(w, nd), &f, &m);
	if (err < 0) {
		w->st.reasm_drops++;
		sim_trace(w, TR_DROP, ev->src, ev->node, f.type, ev->len,
			  DROP_REASM, f.instance, (u64)-err);
		return;
	}
	if (!err)
		return;
	if (m.src != f.src || m.type != f.type) {
		sim_fail(w, "codec: reassembled message src %u type %u from frame src %u type %u",
			 m.src, m.type, f.src, f.type);
		return;
	}
	dispatch(w, nd, &m, false);
}

/* ---------------------------------------------------------------- faults */

static void links_all(struct sim_world *w, bool up)
{
	int s, d;

	for (s = 1; s <= w->n; s++)
		for (d = 1; d <= w->n; d++)
			w->link[s][d] = up;
}

static u64 links_mask(const struct sim_world *w)
{
	u64 mask = 0;
	int s, d;

	for (s = 1; s <= w->n; s++)
		for (d = 1; d <= w->n; d++)
			if (s != d && !w->link[s][d])
				mask |= 1ull << ((s - 1) * SIM_MAX_NODES +
						 (d - 1));
	return mask;
}

static void fault_partition(struct sim_world *w)
{
	int s, d, x = 1 + sim_below(&w->rng, w->n);
	u32 side = 0;

	links_all(w, true);
	switch (sim_below(&w->rng, 5)) {
	case 0:	/* isolate one node */
		for (d = 1; d <= w->n; d++)
			w->link[x][d] = w->link[d][x] = d == x;
		break;
	case 1:	/* split in two groups */
		while (!side || side == (w->members >> 1))
			side = sim_below(&w->rng, 1u << w->n);
		for (s = 1; s <= w->n; s++)
			for (d = 1; d <= w->n; d++)
				if (!(side >> (s - 1) & 1) !=
				    !(side >> (d - 1) & 1))
					w->link[s][d] = false;
		break;
	case 2:	/* random one-way cuts */
		for (s = 1; s <= w->n; s++)
			for (d = 1; d <= w->n; d++)
				if (s != d && sim_chance(&w->rng, 300000))
					w->link[s][d] = false;
		break;
	case 3:	/* one node hears but is not heard */
		for (d = 1; d <= w->n; d++)
			if (d != x)
				w->link[x][d] = false;
		break;
	default: /* one node is heard but hears nothing */
		for (s = 1; s <= w->n; s++)
			if (s != x)
				w->link[s][x] = false;
		break;
	}
	w->st.partitions++;
	sim_trace(w, TR_PART, 0, 0, 0, 0, links_mask(w), 0, 0);
}

/* Crash node @x now or in its next sends; it restarts 10 ms - 1.5 s later. */
static void crash_node(struct sim_world *w, int x)
{
	struct sim_node *nd = &w->node[x];
	struct sim_ev *ev;

	if (!nd->up || nd->crash_armed)
		return;
	if (!crash_allowed(w, nd)) {
		w->st.crashes_vetoed++;
		return;
	}
	if (sim_below(&w->rng, 2)) {
		node_crash(w, nd, false);
	} else {
		/* crash in the middle of the node's next batch of sends */
		nd->crash_armed = true;
		sim_schedule(w, w->now + 20000, EV_CRASH, x, 0, 0);
	}
	/* the restart belongs to the incarnation after the crash */
	ev = ev_new(w, w->now + sim_range(&w->rng, 10000, 1500000),
		    EV_RESTART, x);
	ev->inc = nd->up ? nd->inc + 1 : nd->inc;
	heap_push(w, ev);
}

static void fault_crash(struct sim_world *w)
{
	crash_node(w, 1 + sim_below(&w->rng, w->n));
}

static void on_fault(struct sim_world *w)
{
	u64 r;

	if (w->now >= w->fault_end)
		return;
	r = sim_below(&w->rng, 100);
	if (r >= 30 && w->now < w->split_end)
		r = 90;		/* a failover's split holds: no link change */
	if (r < 30)
		fault_crash(w);
	else if (r < 65)
		fault_partition(w);
	else if (r < 90) {
		links_all(w, true);
		sim_trace(w, TR_PART, 0, 0, 0, 0, 0, 0, 0);
	}
	/* else: a quiet spell */
	sim_schedule(w, w->now + sim_range(&w->rng, 10000, 500000), EV_FAULT,
		     0, 0, 0);
}

static void on_heal(struct sim_world *w)
{
	int i;

	w->healed = true;
	links_all(w, true);
	w->loss_ppm = 0;
	w->dup_ppm = 0;
	w->slow_ppm = 0;
	sim_trace(w, TR_HEAL, 0, 0, 0, 0, 0, 0, 0);
	for (i = 1; i <= w->n && !w->failed; i++) {
		w->node[i].crash_armed = false;
		if (!w->node[i].up)
			node_boot(w, &w->node[i], true);
	}
	/* The apps put what they skipped: from now on, every point. */
	for (i = 1; i <= w->n && !w->failed; i++)
		if (w->node[i].up) {
			sim_app_heal(w, &w->node[i]);
			sim_node_drain(w, &w->node[i]);
		}
	w->live_deadline = w->now + 30000000;
	sim_schedule(w, w->now + 20000, EV_LIVE_CHECK, 0, 0, 0);
}

/* ------------------------------------------------------------------ run */

static void tune_config(struct sim_world *w, struct px_config *cfg, u8 id)
{
	struct px_config def;
	const char *why = NULL;

	px_config_default(cfg, id, w->members);
	def = *cfg;
	/* per-run variations, drawn once (the same for every node) */
	cfg->window = w->tune[0];
	cfg->batch_bytes = w->tune[1];
	cfg->acceptor_slots = w->tune[2];
	cfg->batch_delay_us = w->tune[3];
	cfg->heartbeat_us = w->tune[4];
	cfg->election_us = w->tune[5];
	cfg->retransmit_us = w->tune[6];
	cfg->catchup_us = w->tune[7];
	cfg->queue_bytes = w->tune[8];
	cfg->max_value = PX_MAX(def.max_value, cfg->batch_bytes);
	if (px_config_check(cfg, &why)) {
		sim_fail(w, "sim config rejected: %s", why);
		*cfg = def;
	}
}

void sim_world_init(struct sim_world *w, u64 seed, int nodes, bool trace)
{
	static const u32 batch[] = { 1024, 8192, 16384, 65536, 262144 };
	static const u32 slots[] = { 32, 64, 256, 1024, 4096 };
	int i, n;

	memset(w, 0, sizeof(*w));
	w->seed = seed;
	w->trace_all = trace;
	sim_rng_seed(&w->rng, seed);
	n = sim_below(&w->rng, 2) ? 5 : 3;
	w->n = nodes ? nodes : n;
	w->members = ((1u << w->n) - 1) << 1;
	w->mtu = sim_below(&w->rng, 2) ? 9000 : 1500;
	w->loss_ppm = sim_below(&w->rng, 4) ? sim_below(&w->rng, 100000) : 0;
	w->dup_ppm = sim_below(&w->rng, 2) ? sim_below(&w->rng, 50000) : 0;
	w->delay_min = sim_range(&w->rng, 20, 200);
	w->delay_max = w->delay_min + sim_range(&w->rng, 0, 3000);
	w->slow_ppm = sim_below(&w->rng, 2) ? sim_below(&w->rng, 20000) : 0;
	w->fault_end = sim_range(&w->rng, 1000000, 3000000);
	w->loss0 = w->loss_ppm;
	w->dup0 = w->dup_ppm;
	w->tune[0] = 1 + sim_below(&w->rng, 32);
	w->tune[1] = batch[sim_below(&w->rng, PX_ARRAY_SIZE(batch))];
	w->tune[2] = slots[sim_below(&w->rng, PX_ARRAY_SIZE(slots))];
	w->tune[3] = sim_range(&w->rng, 0, 2000);		/* batch delay */
	w->tune[4] = sim_range(&w->rng, 5000, 30000);		/* heartbeat */
	w->tune[5] = w->tune[4] * sim_range(&w->rng, 3, 10);	/* election */
	w->tune[6] = sim_range(&w->rng, 5000, 60000);		/* retransmit */
	w->tune[7] = sim_range(&w->rng, 10000, 100000);		/* catch-up */
	w->tune[8] = sim_below(&w->rng, 4) ? 4 << 20 : 160 << 10;	/* queue */
	w->ev_budget = 2000000;
	w->scratch = malloc(PAXOS_MAX_MTU);
	if (!w->scratch) {
		perror("sim: malloc");
		exit(2);
	}
	links_all(w, true);
	for (i = 1; i <= w->n; i++) {
		struct sim_node *nd = &w->node[i];

		nd->id = i;
		nd->disk.tail = &nd->disk.head;
		nd->clock_off = sim_below(&w->rng, 1ull << 40);
		tune_config(w, &nd->cfg, i);
		nd->wcfg.cluster_id = 0x70780000 | (seed & 0xffff);
		nd->wcfg.group_id = 1;
		nd->wcfg.self = i;
		nd->wcfg.members = w->members;	/* the known nodes */
		nd->wcfg.mtu = w->mtu;
		nd->wcfg.key = NULL;
	}
	sim_clients_init(w);
	/*
	 * Run variants drawn from a side stream, so that the main stream (and
	 * with it every run that is not a variant) stays as it was.
	 */
	sim_rng_seed(&w->xrng, seed ^ 0x53494D5641524Eull);	/* "SIMVARN" */
	w->think_max = 20000;
	if (!sim_below(&w->xrng, 4))
		w->think_max = 1000;	/* clients back to back: big batches */
	if (!sim_below(&w->xrng, 8))
		w->fault_end *= 2;	/* a longer fault phase */
	/*
	 * Membership variant, one 5-node run in 2: nodes 4 and 5 start as
	 * known nodes outside the configuration {1,2,3}, and an admin
	 * proposes changes (add, remove, swap one node) during the faults.
	 * alpha varies from the window up, identical on every node.
	 */
	if (w->n == 5 && sim_below(&w->xrng, 2)) {
		w->member_var = true;
		w->members0 = 1u << 1 | 1u << 2 | 1u << 3;
		w->alpha = w->tune[0] +
			   (u32)sim_below(&w->xrng, w->tune[0] + 8);
		for (i = 1; i <= w->n; i++) {
			w->node[i].cfg.members = w->members0;
			w->node[i].cfg.alpha = w->alpha;
		}
	}
	/*
	 * Snapshot variant, one run in 3 (its own stream): learners retain 32 to
	 * 128 instances, snapshot points come every 5 instances up to every
	 * learner_slots, and the log may grow well beyond what they retain,
	 * so a node down or cut off for long catches up by a snapshot.  One
	 * such run in 4 pads the app's snapshot to 200-600 KB: transfers of
	 * several chunks, each a message of many fragments.
	 */
	sim_rng_seed(&w->srng, seed ^ 0x534E4150ull);	/* "SNAP" */
	if (!sim_below(&w->srng, 3)) {
		static const u32 ls[] = { 32, 64, 128 };
		u32 l = ls[sim_below(&w->srng, PX_ARRAY_SIZE(ls))], every;

		switch (sim_below(&w->srng, 4)) {
		case 0:
			every = 5;
			break;
		case 1:
			every = l / 4;
			break;
		case 2:
			every = l / 2;
			break;
		default:
			every = l;
			break;
		}
		w->snap_var = true;
		if (!sim_below(&w->srng, 4) && every >= 16)
			w->snap_pad = sim_range(&w->srng, 200000, 600000);
		for (i = 1; i <= w->n; i++) {
			w->node[i].cfg.learner_slots = l;
			w->node[i].cfg.snapshot_every = every;
		}
	}
	/*
	 * Membership stress, 3 in 4 membership runs (its own stream): the
	 * admin proposes every 10-100 ms, mostly swaps in a configuration of
	 * three (the only changes after which a quorum of the new one can
	 * miss every node of a quorum of the old one), clients do not pause,
	 * and a change decided during the faults fails the leader soon after
	 * (see sim_config_decided()), so that the next one's phase 1 spans
	 * both configurations.
	 */
	sim_rng_seed(&w->mrng, seed ^ 0x4D454D42ull);	/* "MEMB" */
	if (w->member_var && sim_below(&w->mrng, 4)) {
		w->mstress = true;
		w->think_max = 1000;	/* a full queue when a change lands */
	}
	w->ck.n = 1;
	w->ck.from[0] = 1;
	w->ck.members[0] = w->member_var ? w->members0 : w->members;
	w->alpha = w->alpha ? w->alpha : PX_MAX_WINDOW;
}

/*
 * The admin: a change from the configuration the checker knows as latest
 * (it may be stale: the log then ignores it), proposed at a random node.
 */
static void on_admin(struct sim_world *w)
{
	u32 cur = sim_cfg_latest(w), out = w->members & ~cur, next = cur;
	int nc = __builtin_popcount(cur), x = 1 + sim_below(&w->rng, w->n);
	struct sim_node *nd = &w->node[x];
	u32 pick, op;

	op = sim_below(&w->rng, 3);
	if (w->mstress)		/* mostly swaps of three, back to three */
		op = nc > 3 ? 1 : sim_below(&w->mrng, 8) ? 2 : 0;
	switch (op) {
	case 0:		/* add */
		if (nc < 5 && out)
			next = cur | 1u << (31 - __builtin_clz(out));
		break;
	case 1:		/* remove, down to three */
		if (nc > 3) {
			pick = cur & -cur;
			next = cur & ~pick;
		}
		break;
	default:	/* swap one for one */
		if (out) {
			pick = 1u << (31 - __builtin_clz(cur));
			next = (cur & ~pick) | (out & -out);
		}
		break;
	}
	if (next != cur && nd->up) {
		u32 old = sim_below(&w->rng, 8) ? cur : w->members0;

		if (!px_proposer_propose_membership(nd->prop,
						    sim_node_now(w, nd),
						    ++w->admin_seq, old, next))
			sim_trace(w, TR_CONFIG, nd->id, 0, 0, 0, w->admin_seq,
				  0, next);
		sim_node_drain(w, nd);
	}
	if (w->now < w->fault_end)
		sim_schedule(w, w->now + (w->mstress ?
					  sim_range(&w->mrng, 10000, 100000) :
					  sim_range(&w->rng, 50000, 400000)),
			     EV_ADMIN, 0, 0, 0);
}

/*
 * Membership stress: the checker saw a change decided.  Soon after, while
 * the old configuration still decides the instances below the change +
 * alpha, fail the leader, so that the next one runs phase 1 over both.
 */
void sim_config_decided(struct sim_world *w, u32 old, u32 new)
{
	u64 wait;

	if (!w->mstress || w->now >= w->fault_end)
		return;
	wait = sim_range(&w->mrng, 0, 2000);
	sim_schedule(w, w->now + wait, EV_FAILOVER, 0, old, new);
}

/*
 * The leader's last instances under the old configuration: only a quorum
 * of it, the leader and (first) the nodes the change removes, hear the
 * leader, and only the leader hears them (their ACCEPTED, so that the
 * leader tells them what is chosen); then the leader crashes.  A new
 * leader that does not ask a quorum of the old configuration misses what
 * that quorum accepted.
 */
static void failover_split(struct sim_world *w, int x, u32 old, u32 new)
{
	u32 hear = 1u << x, cand = old & ~new & ~hear;
	u64 crash;
	int i, d;

	while (__builtin_popcount(hear) < px_quorum(old) && (old & ~hear)) {
		if (!cand)
			cand = old & ~hear;
		hear |= cand & -cand;
		cand &= cand - 1;
	}
	for (i = 1; i <= w->n; i++)
		for (d = 1; d <= w->n; d++)
			if (d != i && hear >> i & 1 &&
			    !(hear >> d & 1 && (i == x || d == x)))
				w->link[i][d] = false;
	crash = sim_range(&w->mrng, 1000, 150000);
	sim_schedule(w, w->now + crash, EV_FAILOVER, x, 0, 0);
	/* the split holds until a new leader could have run phase 1 */
	w->split_end = w->now + crash + 4 * w->node[1].cfg.election_us;
}

/*
 * Fail the leader (ev->a: the configuration before the change, ev->b: the
 * one after): 13 times in 16 split it off with a quorum of the old
 * configuration and crash it, else crash it now, or cut it off, or make it
 * heard by nobody.  With ev->node: crash that node (a split's end).
 */
static void on_failover(struct sim_world *w, const struct sim_ev *ev)
{
	int i, d, x = 0;

	if (w->now >= w->fault_end)
		return;
	if (ev->node) {		/* the end of a split: crash its leader */
		crash_node(w, ev->node);
		return;
	}
	for (i = 1; i <= w->n; i++)
		if (w->node[i].up && w->node[i].prop_ballot &&
		    (!x || w->node[i].prop_ballot > w->node[x].prop_ballot))
			x = i;
	if (!x)
		return;
	links_all(w, true);
	switch (sim_below(&w->mrng, 16)) {
	case 0:
		crash_node(w, x);
		break;
	case 1:		/* isolate the leader */
		for (d = 1; d <= w->n; d++)
			w->link[x][d] = w->link[d][x] = d == x;
		break;
	case 2:		/* the leader hears but is not heard */
		for (d = 1; d <= w->n; d++)
			if (d != x)
				w->link[x][d] = false;
		break;
	default:
		failover_split(w, x, ev->a, ev->b);
		break;
	}
	w->st.failovers++;
	sim_trace(w, TR_PART, 0, 0, 0, 0, links_mask(w), 0, 0);
}

void sim_world_uninit(struct sim_world *w)
{
	int i;

	while (w->heap_n)
		ev_free(heap_pop(w));
	free(w->heap);
	for (i = 1; i <= w->n; i++) {
		struct sim_node *nd = &w->node[i];

		if (nd->up) {
			px_acceptor_uninit(&nd->acc);
			px_proposer_destroy(nd->prop);
			px_learner_destroy(nd->lrn);
			px_reasm_uninit(&nd->reasm);
			nd->up = false;
		}
		disk_free(&nd->disk);
		sim_app_reset(nd);
	}
	sim_clients_free(w);
	sim_check_free(w);
	free(w->scratch);
}

static void run_event(struct sim_world *w, struct sim_ev *ev)
{
	/* client events carry a client index in ev->node */
	struct sim_node *nd = &w->node[ev->node <= SIM_MAX_NODES ?
				       ev->node : 0];

	switch (ev->kind) {
	case EV_FRAME:
		on_frame(w, ev);
		break;
	case EV_LOCAL:
		if (nd->up && ev->inc == nd->inc)
			dispatch(w, nd, &((struct sim_local *)ev->data)->m,
				 true);
		break;
	case EV_TICK:
		if (!nd->up || ev->inc != nd->inc || ev->a != nd->timer_gen)
			break;
		nd->timer_at = SIM_NEVER;
		px_proposer_tick(nd->prop, sim_node_now(w, nd));
		px_learner_tick(nd->lrn, sim_node_now(w, nd));
		sim_node_drain(w, nd);
		break;
	case EV_CRASH:
		if (nd->up && ev->inc == nd->inc && nd->crash_armed) {
			nd->crash_armed = false;
			if (crash_allowed(w, nd))
				node_crash(w, nd, false);
			else
				w->st.crashes_vetoed++;
		}
		break;
	case EV_RESTART:
		if (!nd->up && ev->inc == nd->inc)
			node_boot(w, nd, true);
		break;
	case EV_CLIENT_SEND:
		sim_client_send(w, ev->node);
		break;
	case EV_CLIENT_TIMEOUT:
		sim_client_timeout(w, ev->node, ev->a, ev->b);
		break;
	case EV_FAULT:
		on_fault(w);
		break;
	case EV_HEAL:
		on_heal(w);
		break;
	case EV_ADMIN:
		on_admin(w);
		break;
	case EV_FAILOVER:
		on_failover(w, ev);
		break;
	case EV_LIVE_CHECK:
		if (sim_check_converged(w, false)) {
			w->done = true;
			break;
		}
		if (w->now >= w->live_deadline) {
			sim_check_converged(w, true);
			break;
		}
		sim_schedule(w, w->now + 20000, EV_LIVE_CHECK, 0, 0, 0);
		break;
	}
}

int sim_world_run(struct sim_world *w)
{
	int i;

	for (i = 1; i <= w->n && !w->failed; i++)
		node_boot(w, &w->node[i], false);
	sim_schedule(w, sim_range(&w->rng, 50000, 300000), EV_FAULT, 0, 0, 0);
	sim_schedule(w, w->fault_end, EV_HEAL, 0, 0, 0);
	if (w->member_var)
		sim_schedule(w, sim_range(&w->xrng, 20000, 300000), EV_ADMIN,
			     0, 0, 0);
	for (i = 0; i < w->nclients; i++)
		sim_schedule(w, sim_range(&w->rng, 0, 50000), EV_CLIENT_SEND,
			     i, 0, 0);
	while (!w->failed && !w->done) {
		struct sim_ev *ev;

		if (!w->heap_n) {
			sim_fail(w, "event queue ran dry");
			break;
		}
		ev = heap_pop(w);
		w->now = ev->t;
		if (++w->st.events > w->ev_budget) {
			sim_fail(w, "event budget of %" PRIu64
				 " exceeded (livelock?)", w->ev_budget);
			ev_free(ev);
			break;
		}
		run_event(w, ev);
		ev_free(ev);
	}
	return w->failed;
}
