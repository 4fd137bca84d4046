// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kpaxos simulator: safety and liveness checkers.
 *
 * Every instance a learner delivers is read back with px_learner_value() and
 * checked at once:
 *   agreement  - it equals (dup flags aside) what every other learner
 *                delivered at that instance, in any incarnation;
 *   integrity  - it is a well-formed batch of commands that clients really
 *                proposed, byte for byte;
 *   exactly-once - on a node whose log is complete from instance 1, each
 *                (client, seq) is delivered non-dup once, in seq order, at
 *                the same (instance, pos) on every node, and a dup flag is
 *                only ever set on a command delivered before.
 * After the heal, durability and liveness: every node's log holds every
 * command any client issued (acknowledged or still pending).
 *
 * Membership: the checker keeps its own configuration log from the decided
 * values (its own reading of the rules: one change at a time, one node per
 * change, compare-and-swap on the old configuration, in effect alpha
 * instances later) and checks that the first delivery of every instance
 * was accepted, with that value, by a quorum of that instance's
 * configuration in one ballot (ACCEPTED as sent by the acceptors).
 */
#include <stdarg.h>

#include "sim.h"

void sim_fail(struct sim_world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	sim_trace(w, TR_NOTE, 0, 0, 0, 0, 0, 0, 0);
}

/* Command payloads are a function of (client, seq): retries carry the same. */
void sim_cmd_fill(u64 client_id, u64 seq, u8 *buf, u32 len)
{
	u64 x = client_id * 0x9E3779B97F4A7C15ull ^ seq;
	u32 i = 0;

	while (i < len) {
		u64 v = sim_splitmix(&x);
		u32 k;

		for (k = 0; k < 8 && i < len; k++, i++, v >>= 8)
			buf[i] = (u8)v;
	}
}

static bool cmd_data_ok(u64 client_id, u64 seq, const u8 *data, u32 len)
{
	u64 x = client_id * 0x9E3779B97F4A7C15ull ^ seq;
	u32 i = 0;

	while (i < len) {
		u64 v = sim_splitmix(&x);
		u32 k;

		for (k = 0; k < 8 && i < len; k++, i++, v >>= 8)
			if (data[i] != (u8)v)
				return false;
	}
	return true;
}

static int client_index(const struct sim_world *w, u64 id)
{
	int c;

	for (c = 0; c < w->nclients; c++)
		if (w->client[c].id == id)
			return c;
	return -1;
}

/*
 * Compare two batch values, flags aside.  Returns 0 if equal, 1 if they
 * differ only in dup flags (*pos set to the first such command), -1 if the
 * values differ.  Both have been validated as batches.
 */
static int value_cmp(const u8 *a, u32 alen, const u8 *b, u32 blen, u32 *pos)
{
	u32 off = PAXOS_BATCH_HDR_LEN, n, k;
	int res = 0;

	if (alen != blen || memcmp(a, b, PAXOS_BATCH_HDR_LEN))
		return -1;
	n = px_get_be32(a);
	for (k = 0; k < n; k++) {
		u32 len = px_get_be32(a + off + 16);

		if (memcmp(a + off, b + off, 20) ||
		    memcmp(a + off + 24, b + off + 24, len))
			return -1;
		if (!res && memcmp(a + off + 20, b + off + 20, 4)) {
			res = 1;
			*pos = k;
		}
		off += PAXOS_CMD_HDR_LEN + len;
	}
	return res;
}

static struct sim_slot *slot_get(struct sim_world *w, u64 inst)
{
	if (inst >= w->nslots) {
		u64 n = w->nslots ? w->nslots : 256;

		while (n <= inst)
			n *= 2;
		w->slot = realloc(w->slot, n * sizeof(*w->slot));
		if (!w->slot) {
			perror("sim: realloc");
			exit(2);
		}
		memset(w->slot + w->nslots, 0,
		       (n - w->nslots) * sizeof(*w->slot));
		w->nslots = n;
	}
	return &w->slot[inst];
}

/* Validate the batch framing on our own, independently of px_batch_iter. */
static bool batch_ok(struct sim_world *w, struct sim_node *nd, u64 inst,
		     const u8 *v, u32 len, u32 *count)
{
	u32 off = PAXOS_BATCH_HDR_LEN, n, k;

	if (len < PAXOS_BATCH_HDR_LEN) {
		sim_fail(w, "integrity: n%u delivered instance %" PRIu64
			 " with a %u-byte value", nd->id, inst, len);
		return false;
	}
	n = px_get_be32(v);
	for (k = 0; k < n; k++) {
		u32 clen;

		if (len - off < PAXOS_CMD_HDR_LEN)
			goto bad;
		clen = px_get_be32(v + off + 16);
		if (clen > PAXOS_MAX_CMD ||
		    len - off - PAXOS_CMD_HDR_LEN < clen)
			goto bad;
		off += PAXOS_CMD_HDR_LEN + clen;
	}
	if (off != len)
		goto bad;
	*count = n;
	return true;
bad:
	sim_fail(w, "integrity: n%u delivered a malformed batch at instance %"
		 PRIu64 " (%u bytes, count %u, bad at command %u)", nd->id,
		 inst, len, n, k);
	return false;
}

/* The core's iterator must agree with our parse. */
static void iter_agrees(struct sim_world *w, struct sim_node *nd, u64 inst,
			const u8 *v, u32 len, u32 count)
{
	struct px_batch_iter it;
	struct px_cmd cmd;
	u32 off = PAXOS_BATCH_HDR_LEN, k = 0;
	int r;

	if (px_batch_iter_init(&it, v, len)) {
		sim_fail(w, "px_batch_iter_init rejects n%u's instance %" PRIu64,
			 nd->id, inst);
		return;
	}
	while ((r = px_batch_next(&it, &cmd)) == 1) {
		if (k >= count || cmd.pos != k ||
		    cmd.client_id != px_get_be64(v + off) ||
		    cmd.seq != px_get_be64(v + off + 8) ||
		    cmd.len != px_get_be32(v + off + 16) ||
		    cmd.data != v + off + PAXOS_CMD_HDR_LEN ||
		    cmd.dup != !!(px_get_be32(v + off + 20) & PAXOS_CMD_F_DUP)) {
			sim_fail(w, "px_batch_next disagrees at instance %"
				 PRIu64 " command %u", inst, k);
			return;
		}
		off += PAXOS_CMD_HDR_LEN + cmd.len;
		k++;
	}
	if (r < 0 || k != count)
		sim_fail(w, "px_batch_next: %d after %u of %u commands at instance %"
			 PRIu64, r, k, count, inst);
}

/* ------------------------------------------------------------ membership */

u32 sim_cfg_latest(const struct sim_world *w)
{
	return w->ck.members[w->ck.n - 1];
}

/* Config of @inst, or 0 if the decisions it depends on are not all in. */
static u32 cfg_at(const struct sim_world *w, u64 inst)
{
	u32 k;

	if (inst > w->ck.upto + w->alpha)
		return 0;
	for (k = w->ck.n; k-- > 0;)
		if (w->ck.from[k] <= inst)
			return w->ck.members[k];
	return 0;
}

static void cfg_apply(struct sim_world *w, u64 inst, const u8 *data,
		      u32 len)
{
	struct sim_cfglog *ck = &w->ck;
	u32 old, new, added, removed;

	if (len != PAXOS_MEMBERSHIP_LEN)
		return;
	old = px_get_be32(data);
	new = px_get_be32(data + 4);
	added = new & ~old;
	removed = old & ~new;
	if (ck->from[ck->n - 1] > inst || old != ck->members[ck->n - 1] ||
	    !new || (new & 1) || __builtin_popcount(added) > 1 ||
	    __builtin_popcount(removed) > 1 || !(added | removed))
		return;
	if (ck->n == SIM_CFG_MAX) {
		sim_fail(w, "sim: more than %d configurations", SIM_CFG_MAX);
		return;
	}
	ck->from[ck->n] = inst + w->alpha;
	ck->members[ck->n] = new;
	ck->n++;
	sim_trace(w, TR_CONFIG, 0, 0, 0, 0, inst, inst + w->alpha, new);
	sim_config_decided(w, old, new);
}

static struct sim_slot *slot_get(struct sim_world *w, u64 inst);

/* Apply the decided values to the checker's configuration log, in order. */
static void cfg_advance(struct sim_world *w)
{
	for (;;) {
		u64 i = w->ck.upto + 1;
		struct sim_slot *s;
		u32 off = PAXOS_BATCH_HDR_LEN, n, k;

		if (i >= w->nslots)
			return;
		s = slot_get(w, i);
		if (!s->val)
			return;
		n = px_get_be32(s->val);
		for (k = 0; k < n; k++) {
			u32 len = px_get_be32(s->val + off + 16);

			if (px_get_be64(s->val + off) == PAXOS_CLIENT_MEMBERSHIP)
				cfg_apply(w, i, s->val + off + PAXOS_CMD_HDR_LEN,
					  len);
			off += PAXOS_CMD_HDR_LEN + len;
		}
		w->ck.upto = i;
	}
}

static struct sim_iballots *ib_get(struct sim_world *w, u64 inst)
{
	if (inst >= w->nib) {
		u64 n = w->nib ? w->nib : 256;

		while (n <= inst)
			n *= 2;
		w->ib = realloc(w->ib, n * sizeof(*w->ib));
		if (!w->ib) {
			perror("sim: realloc");
			exit(2);
		}
		memset(w->ib + w->nib, 0, (n - w->nib) * sizeof(*w->ib));
		w->nib = n;
	}
	return &w->ib[inst];
}

static u64 fnv64(const u8 *p, u32 len);
static struct sim_pval *pval_find(struct sim_world *w, u64 b, u64 inst);

/* Value @v (flags cleared) accepted by a quorum of config(@inst)? */
static void check_quorum(struct sim_world *w, struct sim_node *nd, u64 inst,
			 const u8 *v, u32 len)
{
	struct sim_iballots *ib = ib_get(w, inst);
	u32 members = cfg_at(w, inst), off = PAXOS_BATCH_HDR_LEN, n, k;
	u8 *copy;
	u64 h;

	if (!members || ib->n == SIM_IBALLOTS || !w->pval_cap) {
		w->quorum_unknown++;
		return;
	}
	copy = malloc(len ? len : 1);
	if (!copy) {
		perror("sim: malloc");
		exit(2);
	}
	memcpy(copy, v, len);
	n = px_get_be32(copy);
	for (k = 0; k < n; k++) {
		px_put_be32(copy + off + 20, 0);
		off += PAXOS_CMD_HDR_LEN + px_get_be32(copy + off + 16);
	}
	h = fnv64(copy, len);
	free(copy);
	for (k = 0; k < ib->n; k++) {
		struct sim_pval *pv = pval_find(w, ib->b[k], inst);

		if (pv->ballot && pv->hash == h && pv->len == len &&
		    __builtin_popcount(pv->acks & members) >=
		    __builtin_popcount(members) / 2 + 1) {
			w->quorum_checked++;
			return;
		}
	}
	sim_fail(w, "quorum: n%u delivered instance %" PRIu64
		 " but no ballot of that value was accepted by a quorum of its configuration %#x",
		 nd->id, inst, members);
}

static void check_cmd(struct sim_world *w, struct sim_node *nd, u64 inst,
		      u32 pos, const u8 *h, bool first)
{
	u64 id = px_get_be64(h), seq = px_get_be64(h + 8);
	u32 len = px_get_be32(h + 16), flags = px_get_be32(h + 20);
	int c = client_index(w, id);
	struct sim_client *cl;
	u64 where = inst << 16 | pos;

	if (id == PAXOS_CLIENT_MEMBERSHIP) {
		if (len != PAXOS_MEMBERSHIP_LEN || seq < 1 ||
		    seq > w->admin_seq)
			sim_fail(w, "integrity: n%u delivered a membership command (seq %"
				 PRIu64 ", %u bytes) never proposed at %"
				 PRIu64 ".%u", nd->id, seq, len, inst, pos);
		return;
	}

	if (c < 0 || seq < 1 || seq > w->client[c].seq) {
		sim_fail(w, "integrity: n%u delivered (client %016" PRIx64
			 ", seq %" PRIu64 ") at %" PRIu64 ".%u, never proposed",
			 nd->id, id, seq, inst, pos);
		return;
	}
	cl = &w->client[c];
	/* later deliveries were compared byte for byte with the first */
	if (len != cl->lens[seq] ||
	    (first && !cmd_data_ok(id, seq, h + 24, len))) {
		sim_fail(w, "integrity: n%u delivered c%d seq %" PRIu64
			 " at %" PRIu64 ".%u with wrong data (%u bytes, proposed %"
			 PRIu64 ")", nd->id, c, seq, inst, pos, len,
			 cl->lens[seq]);
		return;
	}
	if (flags & ~PAXOS_CMD_F_DUP) {
		sim_fail(w, "integrity: n%u: command flags %#x at %" PRIu64
			 ".%u", nd->id, flags, inst, pos);
		return;
	}
	if (flags & PAXOS_CMD_F_DUP) {
		w->st.dups++;
		if (!nd->partial && seq > nd->hi_seq[c])
			sim_fail(w, "exactly-once: n%u flags c%d seq %" PRIu64
				 " at %" PRIu64 ".%u as a duplicate, but only delivered up to seq %"
				 PRIu64, nd->id, c, seq, inst, pos,
				 nd->hi_seq[c]);
		return;
	}
	w->st.cmds++;
	if (!nd->partial) {
		if (seq <= nd->hi_seq[c]) {
			sim_fail(w, "exactly-once: n%u delivers c%d seq %"
				 PRIu64 " again at %" PRIu64 ".%u (first at %"
				 PRIu64 ".%u)", nd->id, c, seq, inst, pos,
				 cl->where[seq] >> 16,
				 (u32)(cl->where[seq] & 0xffff));
			return;
		}
		if (seq != nd->hi_seq[c] + 1) {
			sim_fail(w, "exactly-once: n%u delivers c%d seq %"
				 PRIu64 " at %" PRIu64 ".%u but seq %" PRIu64
				 " never", nd->id, c, seq, inst, pos,
				 nd->hi_seq[c] + 1);
			return;
		}
		if (cl->where[seq] && cl->where[seq] != where) {
			sim_fail(w, "exactly-once: c%d seq %" PRIu64
				 " delivered at %" PRIu64 ".%u on n%u but at %"
				 PRIu64 ".%u elsewhere", c, seq, inst, pos,
				 nd->id, cl->where[seq] >> 16,
				 (u32)(cl->where[seq] & 0xffff));
			return;
		}
		cl->where[seq] = where;
	}
	if (seq > nd->hi_seq[c])
		nd->hi_seq[c] = seq;
	sim_client_delivered(w, nd, c, seq);
}

static void check_value(struct sim_world *w, struct sim_node *nd, u64 inst,
			const u8 *v, u32 len)
{
	struct sim_slot *s;
	u32 count, k, off, pos = 0;
	bool first = false;
	int r;

	if (!batch_ok(w, nd, inst, v, len, &count))
		return;
	iter_agrees(w, nd, inst, v, len, count);
	s = slot_get(w, inst);
	if (!s->val) {
		s->val = malloc(len ? len : 1);
		if (!s->val) {
			perror("sim: malloc");
			exit(2);
		}
		memcpy(s->val, v, len);
		s->len = len;
		s->node = nd->id;
		s->partial = nd->partial;
		w->st.instances++;
		first = true;
		check_quorum(w, nd, inst, v, len);
		cfg_advance(w);
	} else {
		r = value_cmp(s->val, s->len, v, len, &pos);
		if (r < 0) {
			sim_fail(w, "agreement: instance %" PRIu64
				 ": n%u delivered %u commands (%u bytes), n%u delivered %u commands (%u bytes)",
				 inst, s->node, px_get_be32(s->val), s->len,
				 nd->id, count, len);
			return;
		}
		if (r > 0 && !nd->partial && !s->partial) {
			sim_fail(w, "exactly-once: instance %" PRIu64
				 " command %u: n%u and n%u disagree on the dup flag",
				 inst, pos, s->node, nd->id);
			return;
		}
	}
	sim_trace(w, TR_DELIVER, nd->id, 0, 0, len, inst, count, 0);
	if (!count)
		w->st.noops += nd->id == s->node;
	off = PAXOS_BATCH_HDR_LEN;
	for (k = 0; k < count && !w->failed; k++) {
		check_cmd(w, nd, inst, k, v + off, first);
		off += PAXOS_CMD_HDR_LEN + px_get_be32(v + off + 16);
	}
}

/* ------------------------------------------------------------ snapshots */

/*
 * The application's state as bytes: be64 hash, be64 count, be64 hi_seq of
 * each client slot, then snap_pad bytes that are a function of the rest.
 */
static u32 app_len(const struct sim_world *w)
{
	return 16 + 8 * SIM_MAX_CLIENTS + w->snap_pad;
}

/* 64 bytes from (hash, index), repeated: cheap for big pads. */
static void app_pad(u64 hash, u64 index, u8 *p, u32 len)
{
	u64 x = hash ^ index * 0x9E3779B97F4A7C15ull;
	u32 i, n;

	for (i = 0; i < 64 && i < len; i += 8) {
		u8 w[8];

		px_put_be64(w, sim_splitmix(&x));
		memcpy(p + i, w, PX_MIN(8u, len - i));
	}
	for (n = 64; n < len; n *= 2)
		memcpy(p + n, p, PX_MIN(n, len - n));
}

static u8 *app_encode(const struct sim_world *w, const struct sim_node *nd,
		      u64 index, u32 *len)
{
	u8 *b = malloc(app_len(w));
	int c;

	if (!b) {
		perror("sim: malloc");
		exit(2);
	}
	px_put_be64(b, nd->app.hash);
	px_put_be64(b + 8, nd->app.count);
	for (c = 0; c < SIM_MAX_CLIENTS; c++)
		px_put_be64(b + 16 + 8 * c, nd->hi_seq[c]);
	app_pad(nd->app.hash, index, b + 16 + 8 * SIM_MAX_CLIENTS,
		w->snap_pad);
	*len = app_len(w);
	return b;
}

void sim_app_reset(struct sim_node *nd)
{
	free(nd->unput.buf);
	memset(&nd->unput, 0, sizeof(nd->unput));
	free(nd->newest.buf);
	memset(&nd->newest, 0, sizeof(nd->newest));
	nd->newest_put = false;
	memset(&nd->app, 0, sizeof(nd->app));
}

/* Put an app state at @index; the learner's answer must make sense. */
static void app_put(struct sim_world *w, struct sim_node *nd, u64 index,
		    const u8 *buf, u32 len)
{
	struct px_snapshot_info si;
	int err = px_learner_snapshot_put(nd->lrn, index, buf, len);

	switch (err) {
	case 0:
		w->st.snap_puts++;
		if (index == nd->newest.index)
			nd->newest_put = true;
		if (!px_learner_snapshot(nd->lrn, &si) || si.index != index ||
		    si.app_len != len || memcmp(si.app, buf, len))
			sim_fail(w, "snapshot: n%u put %" PRIu64
				 " but px_learner_snapshot() differs", nd->id,
				 index);
		break;
	case -ENOENT:
		w->st.snap_enoent++;
		break;
	case -ESTALE:
		w->st.snap_estale++;
		if (!px_learner_snapshot(nd->lrn, &si) || si.index <= index)
			sim_fail(w, "snapshot: n%u put %" PRIu64
				 " = -ESTALE with no newer snapshot", nd->id,
				 index);
		break;
	default:
		sim_fail(w, "snapshot: n%u: px_learner_snapshot_put(%" PRIu64
			 ", %u bytes) = %d", nd->id, index, len, err);
		break;
	}
}

void sim_app_put_unput(struct sim_world *w, struct sim_node *nd)
{
	struct sim_unput *u = &nd->unput;

	if (!u->index)
		return;
	app_put(w, nd, u->index, u->buf, u->len);
	free(u->buf);
	memset(u, 0, sizeof(*u));
}

/*
 * At the heal: what is still unput goes now (-ENOENT if its meta was
 * dropped, -ESTALE if older than a put since), then the newest point, so
 * that every node has a recent snapshot to serve laggards with.
 */
void sim_app_heal(struct sim_world *w, struct sim_node *nd)
{
	sim_app_put_unput(w, nd);
	if (nd->newest.index && !nd->newest_put)
		app_put(w, nd, nd->newest.index, nd->newest.buf,
			nd->newest.len);
	nd->newest_put = true;
}

/*
 * The app reached snapshot point @index: put its state now, later, or (in
 * the fault phase) only at the heal, as the seed decides.
 */
static void app_point(struct sim_world *w, struct sim_node *nd, u64 index)
{
	u64 r = sim_below(&w->srng, 100);
	u8 *buf;
	u32 len;

	w->st.snap_points++;
	buf = app_encode(w, nd, index, &len);
	free(nd->newest.buf);
	nd->newest.buf = malloc(len);
	if (!nd->newest.buf) {
		perror("sim: malloc");
		exit(2);
	}
	memcpy(nd->newest.buf, buf, len);
	nd->newest.index = index;
	nd->newest.len = len;
	nd->newest_put = false;
	if (w->healed || r < 60) {
		app_put(w, nd, index, buf, len);
		free(buf);
		return;
	}
	/*
	 * One unput state at a time: the older one goes now (then -ESTALE
	 * for it later is impossible), is dropped, or is kept while this one
	 * is dropped (a busy app: put after several newer points, -ENOENT).
	 */
	if (nd->unput.index) {
		switch (sim_below(&w->srng, nd->unput.skipped ? 6 : 3)) {
		case 0:
			sim_app_put_unput(w, nd);
			break;
		case 1:
			break;
		default:
			free(buf);
			return;
		}
	}
	free(nd->unput.buf);
	nd->unput.index = index;
	nd->unput.buf = buf;
	nd->unput.len = len;
	nd->unput.skipped = r >= 85;
}

/* Every node's app state after instance @inst must be the same. */
static void app_check(struct sim_world *w, struct sim_node *nd, u64 inst,
		      const char *how)
{
	struct sim_slot *s = slot_get(w, inst);

	if (!s->app_set) {
		s->app_set = true;
		s->app_hash = nd->app.hash;
		s->app_count = nd->app.count;
		return;
	}
	w->st.snap_app_checked++;
	if (s->app_hash != nd->app.hash || s->app_count != nd->app.count)
		sim_fail(w, "app state: n%u after instance %" PRIu64
			 " (%s) has %" PRIu64 " commands applied, hash %016"
			 PRIx64 "; others %" PRIu64 ", %016" PRIx64, nd->id,
			 inst, how, nd->app.count, nd->app.hash, s->app_count,
			 s->app_hash);
}

/* Apply the commands of a delivered value to the node's app. */
static void app_apply(struct sim_node *nd, const u8 *v, u32 len)
{
	u32 off = PAXOS_BATCH_HDR_LEN, n, k;

	if (len < PAXOS_BATCH_HDR_LEN)
		return;
	n = px_get_be32(v);
	for (k = 0; k < n && off + PAXOS_CMD_HDR_LEN <= len; k++) {
		u32 clen = px_get_be32(v + off + 16);

		if (px_get_be64(v + off) != PAXOS_CLIENT_MEMBERSHIP &&
		    !(px_get_be32(v + off + 20) & PAXOS_CMD_F_DUP)) {
			/* The data is compared byte for byte elsewhere. */
			u64 x = nd->app.hash ^ fnv64(v + off, 20);

			nd->app.hash = sim_splitmix(&x);
			nd->app.count++;
		}
		off += PAXOS_CMD_HDR_LEN + clen;
	}
}

/*
 * The learner installed a snapshot at @restored: the app replaces its
 * state by the snapshot's, which must be what every app had there.
 */
static void app_restore(struct sim_world *w, struct sim_node *nd,
			u64 restored)
{
	struct px_snapshot_info si;
	u8 *pad;
	int c;

	w->st.snap_installs++;
	sim_trace(w, TR_RESTORE, nd->id, 0, 0, 0, restored, 0, 0);
	if (!px_learner_snapshot(nd->lrn, &si) || si.index != restored) {
		sim_fail(w, "snapshot: n%u restored %" PRIu64
			 " but px_learner_snapshot() has another", nd->id,
			 restored);
		return;
	}
	if (si.app_len != app_len(w)) {
		sim_fail(w, "snapshot: n%u restored %" PRIu64 " with %u app bytes, not %u",
			 nd->id, restored, si.app_len, app_len(w));
		return;
	}
	nd->app.hash = px_get_be64(si.app);
	nd->app.count = px_get_be64(si.app + 8);
	for (c = 0; c < SIM_MAX_CLIENTS; c++)
		nd->hi_seq[c] = px_get_be64(si.app + 16 + 8 * c);
	pad = malloc(w->snap_pad ? w->snap_pad : 1);
	if (!pad) {
		perror("sim: malloc");
		exit(2);
	}
	app_pad(nd->app.hash, restored, pad, w->snap_pad);
	if (memcmp(pad, si.app + 16 + 8 * SIM_MAX_CLIENTS, w->snap_pad))
		sim_fail(w, "snapshot: n%u restored %" PRIu64
			 " with corrupted app bytes", nd->id, restored);
	free(pad);
	/* What the app skipped before is older than what it has now. */
	free(nd->unput.buf);
	memset(&nd->unput, 0, sizeof(nd->unput));
	nd->newest_put = true;
	nd->read_upto = restored;
	nd->partial = false;
	if (!slot_get(w, restored)->app_set)
		sim_fail(w, "snapshot: n%u restored %" PRIu64
			 ", an instance no app reached", nd->id, restored);
	else
		app_check(w, nd, restored, "restored");
}

void sim_check_delivered(struct sim_world *w, struct sim_node *nd,
			 u64 delivered, u64 restored)
{
	struct px_learner_info li;
	u64 i;

	px_learner_info(nd->lrn, &li);
	if (restored) {
		if (restored <= nd->read_upto || restored > li.delivered) {
			sim_fail(w, "snapshot: n%u restored %" PRIu64
				 " having read up to %" PRIu64
				 ", delivered %" PRIu64, nd->id, restored,
				 nd->read_upto, li.delivered);
			return;
		}
		app_restore(w, nd, restored);
		if (w->failed)
			return;
	}
	if (delivered != li.delivered) {
		sim_fail(w, "n%u: ready says delivered %" PRIu64
			 ", px_learner_info says %" PRIu64, nd->id, delivered,
			 li.delivered);
		return;
	}
	if (li.delivered < nd->read_upto) {
		sim_fail(w, "n%u: learner delivered index went back from %"
			 PRIu64 " to %" PRIu64, nd->id, nd->read_upto,
			 li.delivered);
		return;
	}
	for (i = nd->read_upto + 1; i <= li.delivered && !w->failed; i++) {
		const u8 *v;
		u32 len = 0;
		bool gone = false;

		v = px_learner_value(nd->lrn, i, &len, &gone);
		if (!v) {
			if (!gone) {
				sim_fail(w, "n%u: px_learner_value(%" PRIu64
					 ") is NULL below delivered %" PRIu64,
					 nd->id, i, li.delivered);
				return;
			}
			/* not retained: this incarnation's log has a hole */
			nd->partial = true;
			continue;
		}
		if (!nd->first_read)
			nd->first_read = i;
		nd->ndeliv++;
		check_value(w, nd, i, v, len);
		if (nd->partial || w->failed)
			continue;
		app_apply(nd, v, len);
		app_check(w, nd, i, "applied");
		if (px_learner_snap_point(nd->lrn, i))
			app_point(w, nd, i);
	}
	nd->read_upto = li.delivered;
	if (li.delivered > w->max_delivered)
		w->max_delivered = li.delivered;
}

/*
 * Who can still supply instance @inst: learners that retain it, acceptors
 * that hold an accepted value for it, current snapshots that cover it (node
 * and index), and the acceptors' trim points.
 */
static void where_is(struct sim_world *w, u64 inst, char *buf, size_t n)
{
	size_t off;
	int i;

	off = snprintf(buf, n, "instance %" PRIu64 ": learners {", inst);
	for (i = 1; i <= w->n && off < n; i++) {
		struct sim_node *nd = &w->node[i];
		bool gone;
		u32 len;

		if (nd->up && px_learner_value(nd->lrn, inst, &len, &gone))
			off += snprintf(buf + off, n - off, " n%d", i);
	}
	if (off < n)
		off += snprintf(buf + off, n - off, " } acceptors {");
	for (i = 1; i <= w->n && off < n; i++) {
		struct sim_node *nd = &w->node[i];
		const struct px_acc_slot *s;

		if (!nd->up)
			continue;
		s = &nd->acc.slots[inst & (nd->acc.cfg.acceptor_slots - 1)];
		if (s->instance == inst)
			off += snprintf(buf + off, n - off, " n%d", i);
	}
	if (off < n)
		off += snprintf(buf + off, n - off, " } snapshots {");
	for (i = 1; i <= w->n && off < n; i++) {
		struct px_learner_info li;

		if (!w->node[i].up)
			continue;
		px_learner_info(w->node[i].lrn, &li);
		if (li.snap_index >= inst)
			off += snprintf(buf + off, n - off, " n%d@%" PRIu64, i,
					li.snap_index);
	}
	if (off < n)
		off += snprintf(buf + off, n - off, " } trims {");
	for (i = 1; i <= w->n && off < n; i++)
		if (w->node[i].up)
			off += snprintf(buf + off, n - off, " %" PRIu64,
					w->node[i].acc.trim);
	if (off < n)
		snprintf(buf + off, n - off, " }");
}

/*
 * Once converged, compare the full logs: every value a learner still retains
 * must be byte for byte what was delivered first at that instance (dup flags
 * included, where both logs are complete), so a learner's copy that changed
 * after delivery is caught too.
 */
static void final_sweep(struct sim_world *w)
{
	int i;

	for (i = 1; i <= w->n && !w->failed; i++) {
		struct sim_node *nd = &w->node[i];
		struct px_learner_info li;
		u64 inst;

		px_learner_info(nd->lrn, &li);
		for (inst = li.first; inst <= li.delivered; inst++) {
			struct sim_slot *s = slot_get(w, inst);
			const u8 *v;
			u32 len = 0, pos = 0;
			bool gone;
			int r;

			v = px_learner_value(nd->lrn, inst, &len, &gone);
			if (!v || !s->val)
				continue;
			r = value_cmp(s->val, s->len, v, len, &pos);
			if (r < 0 || (r > 0 && !nd->partial && !s->partial)) {
				sim_fail(w, "final logs: n%u's retained value of instance %"
					 PRIu64 " (%u bytes) differs from the one delivered (%u bytes, n%u)",
					 i, inst, len, s->len, s->node);
				return;
			}
		}
	}
}

bool sim_check_converged(struct sim_world *w, bool report)
{
	char where[256];
	int i, c;

	for (i = 1; i <= w->n; i++) {
		struct sim_node *nd = &w->node[i];

		if (!nd->up) {
			if (report)
				sim_fail(w, "liveness: n%u is down after the heal",
					 i);
			return false;
		}
		for (c = 0; c < w->nclients; c++) {
			struct sim_client *cl = &w->client[c];

			if (nd->hi_seq[c] >= cl->seq)
				continue;
			if (!report)
				return false;
			where_is(w, nd->read_upto + 1, where, sizeof(where));
			if (nd->hi_seq[c] < cl->acked)
				sim_fail(w, "durability: acknowledged c%d seq %"
					 PRIu64 " is not in n%u's log 30 s after the heal (n%u delivered %"
					 PRIu64 ", highest anywhere %" PRIu64
					 "; %s)", c, nd->hi_seq[c] + 1, i, i,
					 nd->read_upto, w->max_delivered,
					 where);
			else
				sim_fail(w, "liveness: c%d seq %" PRIu64
					 " (%" PRIu64 " bytes) not delivered on n%u 30 s after the heal (n%u delivered %"
					 PRIu64 ", highest anywhere %" PRIu64
					 "; %s)", c, cl->seq, cl->lens[cl->seq],
					 i, i, nd->read_upto, w->max_delivered,
					 where);
			return false;
		}
	}
	for (c = 0; c < w->nclients; c++) {
		if (w->client[c].waiting) {
			if (report)
				sim_fail(w, "liveness: c%d seq %" PRIu64
					 " never acknowledged by n%u",
					 c, w->client[c].seq,
					 w->client[c].asked);
			return false;
		}
	}
	final_sweep(w);
	return !w->failed;
}

static u64 fnv64(const u8 *p, u32 len)
{
	u64 h = 0xcbf29ce484222325ull;
	u32 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static struct sim_pval *pval_find(struct sim_world *w, u64 b, u64 inst)
{
	u64 h = (b * 0x9E3779B97F4A7C15ull) ^ (inst * 0xC2B2AE3D27D4EB4Full);
	u64 i = (h ^ h >> 29) & (w->pval_cap - 1);

	while (w->pval[i].ballot &&
	       (w->pval[i].ballot != b || w->pval[i].instance != inst))
		i = (i + 1) & (w->pval_cap - 1);
	return &w->pval[i];
}

static void pval_grow(struct sim_world *w)
{
	struct sim_pval *old = w->pval;
	u64 n = w->pval_cap, i;

	w->pval_cap = n ? 2 * n : 1024;
	w->pval = calloc(w->pval_cap, sizeof(*w->pval));
	if (!w->pval) {
		perror("sim: calloc");
		exit(2);
	}
	for (i = 0; i < n; i++)
		if (old[i].ballot)
			*pval_find(w, old[i].ballot, old[i].instance) = old[i];
	free(old);
}

/* A node must never use a ballot that an earlier incarnation led with. */
static void check_ballot(struct sim_world *w, struct sim_node *nd, u64 b,
			 bool phase2)
{
	struct sim_ballot *e;
	u32 i;

	for (i = 0; i < nd->nballots; i++) {
		e = &nd->ballots[i];
		if (e->ballot != b)
			continue;
		if (e->inc != nd->inc && (e->phase2 || phase2)) {
			sim_fail(w, "ballot reuse: n%u uses ballot %" PRIu64
				 ".%u again after a restart; it sent ACCEPTs with it before",
				 nd->id, b >> 8, (unsigned int)(b & 0xff));
			return;
		}
		e->inc = nd->inc;
		e->phase2 |= phase2;
		return;
	}
	if (nd->nballots == SIM_MAX_BALLOTS)
		return;
	e = &nd->ballots[nd->nballots++];
	e->ballot = b;
	e->inc = nd->inc;
	e->phase2 = phase2;
}

/*
 * What a node sends: PREPARE and ACCEPT ballots must be its own and fresh
 * across restarts, and one ballot proposes one value per instance.
 */
void sim_check_sent(struct sim_world *w, struct sim_node *nd,
		    const struct px_obuf *o)
{
	struct sim_pval *pv;
	u32 vlen;
	u64 h;

	if (o->type == PAXOS_MSG_ACCEPTED && w->pval_cap) {
		pv = pval_find(w, o->ballot, o->instance);
		if (pv->ballot)
			pv->acks |= 1u << nd->id;
		return;
	}

	if (o->type != PAXOS_MSG_PREPARE && o->type != PAXOS_MSG_ACCEPT)
		return;
	if (px_ballot_node(o->ballot) != nd->id) {
		sim_fail(w, "n%u sent %s with ballot %" PRIu64 ".%u of another node",
			 nd->id, sim_msg_name(o->type), o->ballot >> 8,
			 (unsigned int)(o->ballot & 0xff));
		return;
	}
	check_ballot(w, nd, o->ballot, o->type == PAXOS_MSG_ACCEPT);
	if (o->type != PAXOS_MSG_ACCEPT || o->len < PAXOS_ACCEPT_HDR_LEN)
		return;
	if (2 * (w->pval_n + 1) > w->pval_cap)
		pval_grow(w);
	vlen = o->len - PAXOS_ACCEPT_HDR_LEN;
	h = fnv64(o->body + PAXOS_ACCEPT_HDR_LEN, vlen);
	pv = pval_find(w, o->ballot, o->instance);
	if (!pv->ballot) {
		struct sim_iballots *ib = ib_get(w, o->instance);

		if (ib->n < SIM_IBALLOTS)
			ib->b[ib->n++] = o->ballot;
		pv->ballot = o->ballot;
		pv->instance = o->instance;
		pv->hash = h;
		pv->len = vlen;
		w->pval_n++;
	} else if (pv->hash != h || pv->len != vlen) {
		sim_fail(w, "two values in one ballot: n%u sent ACCEPT b=%" PRIu64
			 ".%u i=%" PRIu64 " with %u bytes, another value (%u bytes) was proposed before",
			 nd->id, o->ballot >> 8,
			 (unsigned int)(o->ballot & 0xff), o->instance,
			 vlen, pv->len);
	}
}

void sim_check_free(struct sim_world *w)
{
	u64 i;

	free(w->pval);
	w->pval = NULL;
	w->pval_cap = 0;
	w->pval_n = 0;
	for (i = 0; i < w->nslots; i++)
		free(w->slot[i].val);
	free(w->slot);
	w->slot = NULL;
	w->nslots = 0;
	free(w->ib);
	w->ib = NULL;
	w->nib = 0;
}
