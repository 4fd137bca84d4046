// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kpaxos simulator: clients.
 *
 * A client has a random 64-bit id and one command in flight at a time,
 * numbered 1, 2, 3...  It hands the command to a random node's proposer and
 * waits until that node's learner delivers it (the acknowledgement).  After
 * a timeout it retries the same (client, seq) and the same bytes on another
 * node.  New commands stop at the heal; pending ones keep being retried.
 */
#include "sim.h"

static u32 cmd_size(struct sim_world *w)
{
	u64 r = sim_below(&w->rng, 1000);

	if (r < 800)
		return sim_range(&w->rng, 1, 64);
	if (r < 950)
		return sim_range(&w->rng, 65, 4000);
	if (r < 990)
		return sim_range(&w->rng, 4001, PAXOS_MAX_CMD - 1);
	return PAXOS_MAX_CMD;
}

void sim_clients_init(struct sim_world *w)
{
	int c, d;

	w->nclients = sim_range(&w->rng, 2, SIM_MAX_CLIENTS);
	for (c = 0; c < w->nclients; c++) {
		struct sim_client *cl = &w->client[c];
		u64 id;

again:
		id = sim_rand(&w->rng);
		for (d = 0; d < c; d++)
			if (w->client[d].id == id)
				goto again;
		memset(cl, 0, sizeof(*cl));
		cl->id = id;
	}
}

void sim_clients_free(struct sim_world *w)
{
	int c;

	for (c = 0; c < w->nclients; c++) {
		free(w->client[c].lens);
		free(w->client[c].where);
		w->client[c].lens = NULL;
		w->client[c].where = NULL;
	}
}

static void client_ack(struct sim_world *w, int c)
{
	struct sim_client *cl = &w->client[c];

	cl->waiting = false;
	cl->acked = cl->seq;
	w->st.acks++;
	sim_trace(w, TR_ACK, cl->asked, c, 0, 0, cl->seq, w->now - cl->sent_at,
		  cl->attempt);
	if (!w->healed)
		sim_schedule(w, w->now + sim_range(&w->rng, 0, w->think_max),
			     EV_CLIENT_SEND, c, 0, 0);
}

static void client_ask(struct sim_world *w, int c)
{
	struct sim_client *cl = &w->client[c];
	struct sim_node *nd = &w->node[cl->asked];
	u32 len = cl->lens[cl->seq];
	int err = -ENOTCONN;

	if (nd->up && nd->hi_seq[c] >= cl->seq) {
		/* this node delivered it already (an earlier attempt) */
		client_ack(w, c);
		return;
	}
	if (nd->up) {
		u8 *buf = malloc(len);

		if (!buf) {
			perror("sim: malloc");
			exit(2);
		}
		sim_cmd_fill(cl->id, cl->seq, buf, len);
		err = px_proposer_propose(nd->prop, sim_node_now(w, nd),
					  cl->id, cl->seq, buf, len);
		free(buf);
		if (err && err != -EAGAIN) {
			sim_fail(w, "n%u: px_proposer_propose(c%d seq %" PRIu64
				 ", %u bytes) = %d", nd->id, c, cl->seq, len,
				 err);
			return;
		}
		w->st.proposals++;
	}
	sim_trace(w, TR_PROPOSE, cl->asked, c, 0, len, cl->seq, cl->attempt,
		  (u64)-err);
	if (nd->up)
		sim_node_drain(w, nd);
	sim_schedule(w, w->now + sim_range(&w->rng, 300000, 900000),
		     EV_CLIENT_TIMEOUT, c, cl->seq, cl->attempt);
}

void sim_client_send(struct sim_world *w, int c)
{
	struct sim_client *cl = &w->client[c];

	if (w->healed || w->failed)
		return;
	/*
	 * Stay well inside what learners retain (see README), unless
	 * snapshots let a lagging learner catch up from beyond that.
	 */
	if (w->max_delivered >= (w->snap_var ? 2048 :
				 w->node[1].cfg.learner_slots / 2))
		return;
	cl->seq++;
	if (cl->seq >= cl->cap) {
		u64 cap = cl->cap ? cl->cap * 2 : 64;

		cl->lens = realloc(cl->lens, cap * sizeof(*cl->lens));
		cl->where = realloc(cl->where, cap * sizeof(*cl->where));
		if (!cl->lens || !cl->where) {
			perror("sim: realloc");
			exit(2);
		}
		cl->cap = cap;
	}
	cl->lens[cl->seq] = cmd_size(w);
	cl->where[cl->seq] = 0;
	cl->waiting = true;
	cl->attempt = 0;
	cl->sent_at = w->now;
	cl->asked = 1 + sim_below(&w->rng, w->n);
	client_ask(w, c);
}

void sim_client_timeout(struct sim_world *w, int c, u64 seq, u32 attempt)
{
	struct sim_client *cl = &w->client[c];
	u8 old = cl->asked;

	if (!cl->waiting || cl->seq != seq || cl->attempt != attempt)
		return;
	cl->attempt++;
	cl->asked = 1 + (old - 1 + sim_range(&w->rng, 1, w->n - 1)) % w->n;
	w->st.retries++;
	sim_trace(w, TR_RETRY, old, c, cl->asked, 0, seq, cl->attempt, 0);
	client_ask(w, c);
}

void sim_client_delivered(struct sim_world *w, struct sim_node *nd, int c,
			  u64 seq)
{
	struct sim_client *cl = &w->client[c];

	if (cl->waiting && cl->seq == seq && cl->asked == nd->id)
		client_ack(w, c);
}
