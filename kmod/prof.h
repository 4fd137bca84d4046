/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand profiling, for builds with -DKPAXOS_PROF only (tools/bench/run.sh
 * --prof): perf cannot sample a TCG guest usefully (docs/bench.md), so the
 * parts of the data path sum the local_clock() time they take.  One set of
 * sums for the whole module (every instance of the guest), read and reset
 * through /sys/kernel/debug/paxos/prof.  Parts nest where the comment
 * says so: their times are inclusive.  Without KPAXOS_PROF everything
 * here compiles to nothing.
 */
#ifndef KPAXOS_PROF_H
#define KPAXOS_PROF_H

#include <linux/sched.h>
#include <linux/sched/clock.h>

enum px_prof_part {
	PXP_BUSY,	/* node thread: a pass (all below but write/read) */
	PXP_RX_IRQ,	/* packet_type handler (softirq, inside SEND too) */
	PXP_RX,		/* node thread: parse, reassemble, step (STEP_*) */
	PXP_STEP_ACC,	/* px_acceptor_step() */
	PXP_STEP_PROP,	/* px_proposer_step() */
	PXP_STEP_LEARN,	/* px_learner_step() */
	PXP_FEED,	/* commands into the proposer (px_proposer_propose) */
	PXP_TICK,	/* px_*_tick() */
	PXP_SEND,	/* px_eth_send(): a message to the wire */
	PXP_SKB,	/* inside SEND: getting each frame's skb */
	PXP_XMIT,	/* inside SEND: dev_queue_xmit() of each frame */
	PXP_LOCAL,	/* a message to the node's own roles (STEP_*) */
	PXP_PUBLISH,	/* delivered instances into the delivery log */
	PXP_SNAPSHOT,	/* publish_snapshot(): status for readers */
	PXP_ALLOC,	/* px_alloc() + px_value_alloc() up to 1 KiB (inside the steps) */
	PXP_ALLOC_BIG,	/* the same, larger */
	PXP_FREE,	/* px_free() + px_value_free() */
	PXP_WRITE,	/* write(2) on /dev/paxos */
	PXP_READ,	/* read(2) on /dev/paxos, waiting excluded */
	PXP_NR
};

#define PXP_NAMES { "busy", "rx_irq", "rx", "step_acc", "step_prop", \
	"step_learn", "feed", "tick", "send", "skb", "xmit", "local", \
	"publish", "snapshot", "alloc", "alloc_big", "free", "write", \
	"read" }

/*
 * A part's time runs from px_prof_start() to px_prof_end() on one CPU
 * clock.  A part during which its task was switched out (it slept, or was
 * preempted at a sleeping allocation, say) would count the other tasks'
 * time: it is left out of the sum and counted apart ("switched").
 */
struct px_prof_mark {
	u64 t;
	unsigned long sw;	/* context switches of current so far */
};

#ifdef KPAXOS_PROF
struct px_prof {
	atomic64_t ns[PXP_NR];
	atomic64_t n[PXP_NR];
	atomic64_t switched[PXP_NR];
};
extern struct px_prof px_prof;

static inline struct px_prof_mark px_prof_start(void)
{
	return (struct px_prof_mark){
		.t = local_clock(),
		.sw = current->nvcsw + current->nivcsw,
	};
}

static inline void px_prof_end(enum px_prof_part part, struct px_prof_mark m)
{
	if (current->nvcsw + current->nivcsw != m.sw) {
		atomic64_inc(&px_prof.switched[part]);
		return;
	}
	atomic64_add(local_clock() - m.t, &px_prof.ns[part]);
	atomic64_inc(&px_prof.n[part]);
}
#else
static inline struct px_prof_mark px_prof_start(void)
{
	return (struct px_prof_mark){ 0 };
}

static inline void px_prof_end(enum px_prof_part part, struct px_prof_mark m)
{
}
#endif

#endif /* KPAXOS_PROF_H */
