// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kpaxos simulator: event trace.  Events are kept in a small ring of compact
 * records and formatted only when printed (--trace prints every event as it
 * happens; a violation prints the last SIM_TRACE_RING).
 */
#include "sim.h"

static const char *const msg_names[] = {
	[PAXOS_MSG_PREPARE] = "PREPARE",
	[PAXOS_MSG_PROMISE] = "PROMISE",
	[PAXOS_MSG_NACK] = "NACK",
	[PAXOS_MSG_ACCEPT] = "ACCEPT",
	[PAXOS_MSG_ACCEPTED] = "ACCEPTED",
	[PAXOS_MSG_HEARTBEAT] = "HEARTBEAT",
	[PAXOS_MSG_FORWARD] = "FORWARD",
	[PAXOS_MSG_LEARN_REQ] = "LEARN_REQ",
	[PAXOS_MSG_CHOSEN] = "CHOSEN",
	[PAXOS_MSG_STATUS] = "STATUS",
	[PAXOS_MSG_SNAP_REQ] = "SNAP_REQ",
	[PAXOS_MSG_SNAP_CHUNK] = "SNAP_CHUNK",
};

const char *sim_msg_name(u8 type)
{
	if (type < PX_ARRAY_SIZE(msg_names) && msg_names[type])
		return msg_names[type];
	return "?";
}

static const char *rec_name(u8 kind)
{
	switch (kind) {
	case PX_REC_PROMISE:
		return "PROMISE";
	case PX_REC_ACCEPT:
		return "ACCEPT";
	case PX_REC_TRIM:
		return "TRIM";
	}
	return "?";
}

static const char *role_name(u64 role)
{
	switch (role) {
	case PAXOS_ROLE_ACCEPTOR:
		return "acceptor";
	case PAXOS_ROLE_PROPOSER:
		return "proposer";
	case PAXOS_ROLE_LEARNER:
		return "learner";
	}
	return "?";
}

static const char *const drop_names[] = {
	"partition", "loss", "node down", "reassembly",
};

/* Ballots print as round.node. */
static void fmt_ballot(char *buf, size_t n, u64 b)
{
	snprintf(buf, n, "%" PRIu64 ".%u", b >> 8, (unsigned int)(b & 0xff));
}

static void fmt_dst(char *buf, size_t n, u8 dst)
{
	if (dst == PAXOS_NODE_ALL)
		snprintf(buf, n, "all");
	else
		snprintf(buf, n, "n%u", dst);
}

static void fmt_links(char *buf, size_t n, u64 mask)
{
	size_t off = 0;
	int s, d;

	if (!mask) {
		snprintf(buf, n, "all links up");
		return;
	}
	off += snprintf(buf, n, "cut:");
	for (s = 1; s <= SIM_MAX_NODES; s++)
		for (d = 1; d <= SIM_MAX_NODES; d++)
			if (mask >> ((s - 1) * SIM_MAX_NODES + (d - 1)) & 1 &&
			    off < n)
				off += snprintf(buf + off, n - off,
						" %d->%d", s, d);
}

static void tr_print(const struct sim_world *w, const struct sim_tr *e,
		     FILE *out)
{
	char b[32], d[16], l[256];

	fmt_ballot(b, sizeof(b), e->a);
	fprintf(out, "[%4" PRIu64 ".%06" PRIu64 "] ", e->t / 1000000,
		e->t % 1000000);
	switch (e->kind) {
	case TR_SEND:
		fmt_dst(d, sizeof(d), e->peer);
		fprintf(out, "n%u -> %-3s %-9s b=%s i=%" PRIu64 " len=%u\n",
			e->node, d, sim_msg_name(e->type), b, e->b, e->len);
		break;
	case TR_RECV:
	case TR_LOCAL:
		fprintf(out, "n%u <- n%u %-9s b=%s i=%" PRIu64 " len=%u%s\n",
			e->node, e->peer, sim_msg_name(e->type), b, e->b,
			e->len, e->kind == TR_LOCAL ? " (local)" : "");
		break;
	case TR_DROP:
		fprintf(out, "n%u -> n%u frame dropped (%s) %s i=%" PRIu64
			"\n", e->node, e->peer,
			e->a < PX_ARRAY_SIZE(drop_names) ? drop_names[e->a] : "?",
			e->type ? sim_msg_name(e->type) : "", e->b);
		break;
	case TR_CRASH:
		fprintf(out, "n%u CRASH%s\n", e->node,
			e->b ? " (half way through sending)" : "");
		break;
	case TR_RESTART:
		fmt_ballot(b, sizeof(b), e->b);
		fprintf(out, "n%u RESTART: %" PRIu64
			" disk records, promised=%s highest=%" PRIu64 "\n",
			e->node, e->a, b, e->c);
		break;
	case TR_PROPOSE:
		fprintf(out, "c%u seq %" PRIu64 " (%u bytes) -> n%u attempt %"
			PRIu64 "%s\n", e->peer, e->a, e->len, e->node, e->b,
			e->c ? (e->c == ENOTCONN ? ": node down" :
				": queue full") : "");
		break;
	case TR_DELIVER:
		fprintf(out, "n%u delivers i=%" PRIu64 ": %" PRIu64
			" commands, %u bytes\n", e->node, e->a, e->b, e->len);
		break;
	case TR_LEADER:
		fprintf(out, "n%u is LEADER b=%s next=%" PRIu64 " decided=%"
			PRIu64 "\n", e->node, b, e->b, e->c);
		break;
	case TR_PART:
		fmt_links(l, sizeof(l), e->a);
		fprintf(out, "network: %s\n", l);
		break;
	case TR_HEAL:
		fprintf(out, "HEAL: fault phase over, all links up, no loss, crashed nodes restart\n");
		break;
	case TR_ACK:
		fprintf(out, "c%u seq %" PRIu64 " acknowledged by n%u after %"
			PRIu64 " us, %" PRIu64 " retries\n", e->peer, e->a,
			e->node, e->b, e->c);
		break;
	case TR_RETRY:
		fprintf(out, "c%u seq %" PRIu64 " timed out on n%u, retry %"
			PRIu64 " on n%u\n", e->peer, e->a, e->node, e->b,
			e->type);
		break;
	case TR_PERSIST:
		fmt_ballot(b, sizeof(b), e->a);
		fprintf(out, "n%u persist %s b=%s i=%" PRIu64 " len=%u\n",
			e->node, rec_name(e->type), b, e->b, e->len);
		break;
	case TR_REJECT:
		fprintf(out, "n%u %s rejects %s from n%u: error -%" PRIu64
			"\n", e->node, role_name(e->a), sim_msg_name(e->type),
			e->peer, e->b);
		break;
	case TR_NOTE:
		fprintf(out, "VIOLATION: %s\n", w->why);
		break;
	case TR_RESTORE:
		fprintf(out, "n%u RESTORE: app state from the snapshot at %"
			PRIu64 "\n", e->node, e->a);
		break;
	case TR_CONFIG:
		if (!e->b)
			fprintf(out, "admin proposes config %#" PRIx64
				" at n%u (seq %" PRIu64 ")\n", e->c, e->node,
				e->a);
		else
			fprintf(out, "config %#" PRIx64 " decided at %" PRIu64
				", in effect from %" PRIu64 "\n", e->c, e->a,
				e->b);
		break;
	}
}

void sim_trace(struct sim_world *w, u8 kind, u8 node, u8 peer, u8 type,
	       u32 len, u64 a, u64 b, u64 c)
{
	struct sim_tr *e = &w->ring[w->ring_n++ % SIM_TRACE_RING];

	e->t = w->now;
	e->kind = kind;
	e->node = node;
	e->peer = peer;
	e->type = type;
	e->len = len;
	e->a = a;
	e->b = b;
	e->c = c;
	if (w->trace_all)
		tr_print(w, e, stdout);
}

void sim_trace_dump(struct sim_world *w, FILE *out)
{
	u64 i = w->ring_n > SIM_TRACE_RING ? w->ring_n - SIM_TRACE_RING : 0;

	fprintf(out, "--- last %" PRIu64 " of %" PRIu64 " trace events ---\n",
		w->ring_n - i, w->ring_n);
	for (; i < w->ring_n; i++)
		tr_print(w, &w->ring[i % SIM_TRACE_RING], out);
	fprintf(out, "--- end of trace ---\n");
}
