/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kpaxos deterministic simulator: shared declarations.
 *
 * One run ("world") is N nodes, each an acceptor + proposer + learner from
 * kmod/core, joined by a simulated Ethernet that carries frames made by the
 * real codec.  Everything random comes from one 64-bit seed; time is virtual
 * (microseconds).  See README.md for the fault model and the checkers.
 */
#ifndef SIM_H
#define SIM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "px.h"
#include "px_wire.h"

#define SIM_MAX_NODES	5
#define SIM_MAX_CLIENTS	8
#define SIM_NEVER	UINT64_MAX

/* ------------------------------------------------------------------ PRNG */

/* xoshiro256**, seeded through splitmix64: the simulator's only randomness. */
struct sim_rng {
	u64 s[4];
};

static inline u64 sim_splitmix(u64 *x)
{
	u64 z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline void sim_rng_seed(struct sim_rng *r, u64 seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = sim_splitmix(&seed);
}

static inline u64 sim_rotl(u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline u64 sim_rand(struct sim_rng *r)
{
	u64 res = sim_rotl(r->s[1] * 5, 7) * 9;
	u64 t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = sim_rotl(r->s[3], 45);
	return res;
}

/* Uniform in [0, n); n > 0. */
static inline u64 sim_below(struct sim_rng *r, u64 n)
{
	return (u64)(((__uint128_t)sim_rand(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static inline u64 sim_range(struct sim_rng *r, u64 lo, u64 hi)
{
	return lo + sim_below(r, hi - lo + 1);
}

/* True with probability ppm / 1e6. */
static inline bool sim_chance(struct sim_rng *r, u32 ppm)
{
	return sim_below(r, 1000000) < ppm;
}

/* ---------------------------------------------------------------- events */

enum sim_ev_kind {
	EV_FRAME,		/* a frame arrives at node */
	EV_LOCAL,		/* a message to self, handed over without wire */
	EV_TICK,		/* node's timer */
	EV_CRASH,
	EV_RESTART,
	EV_CLIENT_SEND,		/* client issues its next command */
	EV_CLIENT_TIMEOUT,	/* client gives up on the node it asked */
	EV_FAULT,		/* fault scheduler: pick the next fault */
	EV_HEAL,		/* end of the fault phase */
	EV_LIVE_CHECK,		/* liveness phase: converged yet? */
	EV_ADMIN,		/* membership variant: propose a change */
	EV_FAILOVER,		/* membership stress: fail the leader */
};

struct sim_ev {
	u64 t;
	u64 seq;		/* insertion order: ties broken by it */
	u8 kind;
	u8 node;
	u8 src;
	u32 inc;		/* node incarnation the event belongs to */
	u64 a, b;
	void *data;		/* frame bytes or struct sim_local */
	u32 len;
};

/* A message to a node's own roles: a px_value_alloc() block. */
struct sim_local {
	struct px_msg m;
	u8 body[];
};

/* One value per (ballot, instance): what the first ACCEPT carried. */
struct sim_pval {
	u64 ballot;		/* 0: empty */
	u64 instance;
	u64 hash;
	u32 len;
	u32 acks;		/* nodes that sent ACCEPTED for it */
};

/* Ballots proposed for one instance, for the quorum check. */
#define SIM_IBALLOTS	16
struct sim_iballots {
	u64 b[SIM_IBALLOTS];
	u32 n;
};

/* The checker's own configuration log, from the decided values. */
#define SIM_CFG_MAX	256
struct sim_cfglog {
	u64 from[SIM_CFG_MAX];
	u32 members[SIM_CFG_MAX];
	u32 n;
	u64 upto;		/* instances applied, in order */
};

/* A ballot a node campaigned or led with, and in which incarnation. */
struct sim_ballot {
	u64 ballot;
	u32 inc;
	bool phase2;		/* ACCEPTs went out with it */
};

#define SIM_MAX_BALLOTS	256

/* ----------------------------------------------------------------- nodes */

/*
 * The application on a node: a rolling hash of the commands it applied
 * (non-dup, not membership) and their count, plus the highest seq applied
 * per client (what the exactly-once checker calls hi_seq).  It is what a
 * snapshot carries, serialized by sim_app_encode(), padded in some runs.
 */
struct sim_app {
	u64 hash;
	u64 count;
};

/* An encoded app state at a snapshot point, not put yet. */
struct sim_unput {
	u64 index;		/* 0: none */
	u8 *buf;
	u32 len;
	bool skipped;		/* put only at the heal (else: deferred) */
};

struct sim_disk {
	struct px_record *head;
	struct px_record **tail;
	u64 records, bytes;
};

struct sim_node {
	u8 id;
	bool up;
	bool crash_armed;	/* crash in the middle of the next send */
	u32 inc;		/* incarnation, bumped by every restart */
	s64 clock_off;		/* node clock = virtual time + offset */
	struct px_config cfg;
	struct px_wire_cfg wcfg;
	struct px_acceptor acc;
	struct px_proposer *prop;
	struct px_learner *lrn;
	struct px_reasm reasm;
	u32 msg_seq;
	u64 timer_at;		/* virtual time of the live timer, or NEVER */
	u64 timer_gen;
	u64 prop_ballot;	/* last ballot seen leading, for the trace */
	struct sim_disk disk;	/* survives crashes */
	/* checker state for the current incarnation */
	u64 read_upto;		/* instances read from the learner */
	bool partial;		/* log did not start at instance 1 */
	u64 first_read;		/* first instance read in this incarnation */
	u64 hi_seq[SIM_MAX_CLIENTS];	/* highest non-dup seq delivered */
	u64 ndeliv;
	struct sim_app app;
	struct sim_unput unput;
	struct sim_unput newest;	/* state at the newest point */
	bool newest_put;
	struct sim_ballot ballots[SIM_MAX_BALLOTS];
	u32 nballots;
};

/* ---------------------------------------------------------------- client */

struct sim_client {
	u64 id;
	u64 seq;		/* current command; 0 before the first */
	u64 acked;		/* highest seq acknowledged */
	u8 asked;		/* node asked for the current command */
	u32 attempt;
	u64 sent_at;
	u64 *lens;		/* lens[s] = command length of seq s */
	u64 *where;		/* where[s] = instance << 16 | pos, or 0 */
	u64 cap;
	bool waiting;		/* current command not acknowledged yet */
};

/* --------------------------------------------------------------- checker */

struct sim_slot {
	u8 *val;		/* value as first delivered (with dup flags) */
	u32 len;
	u8 node;		/* first node that delivered it */
	bool partial;		/* that node's log has holes */
	bool app_set;		/* app state after this instance recorded */
	u64 app_hash, app_count;
};

/* ----------------------------------------------------------------- trace */

enum sim_tr_kind {
	TR_SEND, TR_RECV, TR_DROP, TR_LOCAL, TR_CRASH, TR_RESTART, TR_PROPOSE,
	TR_DELIVER, TR_LEADER, TR_PART, TR_HEAL, TR_ACK, TR_RETRY, TR_PERSIST,
	TR_REJECT, TR_NOTE, TR_CONFIG, TR_RESTORE,
};

struct sim_tr {
	u64 t;
	u8 kind, node, peer, type;
	u32 len;
	u64 a, b, c;
};

#define SIM_TRACE_RING	256

/* ----------------------------------------------------------------- world */

struct sim_stats {
	u64 events, frames, frames_lost, frames_dup, frames_cut, msgs;
	u64 reasm_drops, reasm_evicted, parse_drops, rejects, crashes, crashes_vetoed;
	u64 restarts;
	u64 partitions, proposals, acks, retries, leader_changes, failovers;
	u64 instances, noops, cmds, dups, disk_records;
	u64 snap_points, snap_puts, snap_enoent, snap_estale, snap_installs;
	u64 snap_app_checked;
};

struct sim_world {
	u64 seed;
	struct sim_rng rng;
	struct sim_rng xrng;		/* run variants */
	u64 now;
	/* event queue: binary heap ordered by (t, seq) */
	struct sim_ev **heap;
	u32 heap_n, heap_cap;
	u64 ev_seq;
	/* run parameters, drawn from the seed */
	int n;
	u32 members;
	u32 mtu;
	u32 loss_ppm, dup_ppm;
	u32 delay_min, delay_max;	/* per frame, us */
	u32 slow_ppm;			/* frames delayed much longer */
	u32 think_max;			/* client pause between commands */
	u32 loss0, dup0;		/* as drawn, before the heal */
	u32 tune[9];			/* px_config variations */
	/* membership variant: spare node slots and an admin */
	bool member_var;
	u32 members0;			/* initial configuration */
	u32 alpha;
	u64 admin_seq;
	bool mstress;			/* changes meet leader failovers */
	u64 split_end;			/* no other link change until then */
	struct sim_rng mrng;		/* its choices */
	/* snapshot variant: small learner rings, frequent points */
	bool snap_var;
	u32 snap_pad;			/* app snapshot padding, bytes */
	struct sim_rng srng;		/* app's put decisions */
	struct sim_cfglog ck;		/* checker: config per instance */
	struct sim_iballots *ib;	/* by instance */
	u64 nib;
	u64 quorum_checked, quorum_unknown;
	u64 fault_end;			/* virtual time the fault phase ends */
	u64 live_deadline;
	bool healed;
	bool link[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];	/* src->dst up */
	struct sim_node node[SIM_MAX_NODES + 1];
	int nclients;
	struct sim_client client[SIM_MAX_CLIENTS];
	/* checker */
	struct sim_slot *slot;
	u64 nslots;
	struct sim_pval *pval;		/* open addressing, power of 2 */
	u64 pval_cap, pval_n;
	u64 max_delivered;
	u64 max_trim;			/* highest acceptor trim seen */
	/* outcome */
	bool failed;
	bool done;			/* converged after the heal */
	char why[512];
	u64 ev_budget;
	/* trace */
	bool trace_all;
	struct sim_tr ring[SIM_TRACE_RING];
	u64 ring_n;
	struct sim_stats st;
	u8 *scratch;		/* frame buffer, mtu bytes */
};

/* world.c */
void sim_world_init(struct sim_world *w, u64 seed, int nodes, bool trace);
void sim_world_uninit(struct sim_world *w);
/* Run to completion.  Returns 0, or 1 on a violation (w->why). */
int sim_world_run(struct sim_world *w);
void sim_schedule(struct sim_world *w, u64 t, u8 kind, u8 node, u64 a, u64 b);
void sim_node_drain(struct sim_world *w, struct sim_node *nd);
u64 sim_node_now(const struct sim_world *w, const struct sim_node *nd);
void sim_config_decided(struct sim_world *w, u32 old, u32 new);

/* check.c */
void sim_fail(struct sim_world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sim_check_delivered(struct sim_world *w, struct sim_node *nd,
			 u64 delivered, u64 restored);
void sim_app_put_unput(struct sim_world *w, struct sim_node *nd);
void sim_app_heal(struct sim_world *w, struct sim_node *nd);
void sim_app_reset(struct sim_node *nd);
bool sim_check_converged(struct sim_world *w, bool report);
void sim_check_free(struct sim_world *w);
void sim_check_sent(struct sim_world *w, struct sim_node *nd,
		    const struct px_obuf *o);
void sim_cmd_fill(u64 client_id, u64 seq, u8 *buf, u32 len);
u32 sim_cfg_latest(const struct sim_world *w);

/* client.c */
void sim_clients_init(struct sim_world *w);
void sim_clients_free(struct sim_world *w);
void sim_client_send(struct sim_world *w, int c);
void sim_client_timeout(struct sim_world *w, int c, u64 seq, u32 attempt);
void sim_client_delivered(struct sim_world *w, struct sim_node *nd, int c,
			  u64 seq);

/* trace.c */
void sim_trace(struct sim_world *w, u8 kind, u8 node, u8 peer, u8 type,
	       u32 len, u64 a, u64 b, u64 c);
void sim_trace_dump(struct sim_world *w, FILE *out);
const char *sim_msg_name(u8 type);

#endif /* SIM_H */
