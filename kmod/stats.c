// SPDX-License-Identifier: GPL-2.0
/*
 * Observability: struct paxos_status for PAXOS_IOC_STATUS (and netlink),
 * /sys/kernel/debug/paxos/<netns inode>/status, and the tracepoints.
 *
 * Role objects belong to their threads, so status is assembled from the
 * snapshots the threads publish after every loop (thread.c) and from the
 * glue's atomic counters.
 */
#include "kpaxos.h"

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#define CREATE_TRACE_POINTS
#include "trace.h"

static struct dentry *paxos_debugfs_root;

#ifdef KPAXOS_PROF
struct px_prof px_prof;

static int prof_show(struct seq_file *m, void *v)
{
	static const char *const names[PXP_NR] = PXP_NAMES;
	int i;

	for (i = 0; i < PXP_NR; i++)
		seq_printf(m, "%s %lld %lld %lld\n", names[i],
			   (long long)atomic64_read(&px_prof.ns[i]),
			   (long long)atomic64_read(&px_prof.n[i]),
			   (long long)atomic64_read(&px_prof.switched[i]));
	return 0;
}

static int prof_open(struct inode *inode, struct file *file)
{
	return single_open(file, prof_show, NULL);
}

/* Any write resets the sums. */
static ssize_t prof_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	int i;

	for (i = 0; i < PXP_NR; i++) {
		atomic64_set(&px_prof.ns[i], 0);
		atomic64_set(&px_prof.n[i], 0);
		atomic64_set(&px_prof.switched[i], 0);
	}
	return count;
}

static const struct file_operations prof_fops = {
	.owner = THIS_MODULE,
	.open = prof_open,
	.read = seq_read,
	.write = prof_write,
	.llseek = seq_lseek,
	.release = single_release,
};
#endif

/* Configurations from a snapshot; the one of UP before the first pass. */
static u32 snap_members(struct paxos_instance *inst,
			const struct px_snapshot *snap, u32 *latest)
{
	u32 m = inst->cfg.members, l = m;

	if ((inst->roles & PAXOS_ROLE_LEARNER) && snap->learn.members) {
		m = snap->learn.members;
		l = snap->learn.members_latest;
	} else if (snap->prop.members) {
		m = snap->prop.members;
		l = m;
	}
	if (latest)
		*latest = l ? l : m;
	return m;
}

u32 paxos_instance_members(struct paxos_instance *inst, u32 *latest)
{
	struct px_snapshot *snap;
	u32 m;

	spin_lock_bh(&inst->snap_lock);
	snap = &inst->snap;
	m = snap_members(inst, snap, latest);
	spin_unlock_bh(&inst->snap_lock);
	return m;
}

void paxos_instance_status(struct paxos_instance *inst,
			   struct paxos_status *st)
{
	struct px_snapshot snap;
	int i;

	spin_lock_bh(&inst->snap_lock);
	snap = inst->snap;
	spin_unlock_bh(&inst->snap_lock);

	memset(st, 0, sizeof(*st));
	st->node_id = inst->self;
	st->leader_id = snap.prop.leader;
	st->is_leader = snap.prop.state == PX_LEADER;
	st->members = snap_members(inst, &snap, NULL);
	st->ballot = snap.prop.ballot;
	st->promised = snap.promised;
	st->first_index = snap.learn.first;
	st->last_index = snap.learn.last;
	st->committed_index = snap.learn.committed;
	st->delivered_index = snap.learn.delivered;
	st->frames_rx = atomic64_read(&inst->cnt.frames_rx);
	st->frames_tx = atomic64_read(&inst->cnt.frames_tx);
	st->msgs_rx = atomic64_read(&inst->cnt.msgs_rx);
	st->msgs_tx = atomic64_read(&inst->cnt.msgs_tx);
	st->proposals = atomic64_read(&inst->cnt.proposals);
	st->delivered_cmds = snap.learn.stats.delivered_cmds;
	st->duplicates = snap.learn.stats.duplicates;
	st->leader_changes = snap.prop.stats.leader_changes;
	for (i = 0; i < __PAXOS_DROP_MAX; i++)
		st->drops[i] = atomic64_read(&inst->cnt.drops[i]);
	st->snapshot_index = snap.learn.snap_index;
	st->snapshot_every = inst->cfg.snapshot_every;
	st->snap_puts = snap.learn.stats.snap_puts;
	st->snap_served = snap.learn.stats.snap_served;
	st->snap_installed = snap.learn.stats.snap_installed;
	st->snap_rejected = snap.learn.stats.snap_rejected;
}

static const char *const drop_names[__PAXOS_DROP_MAX] = PAXOS_DROP_NAMES;

static int status_show(struct seq_file *m, void *v)
{
	struct paxos_instance *inst = m->private;
	struct paxos_status st;
	struct px_snapshot snap;
	int i;

	paxos_instance_status(inst, &st);
	spin_lock_bh(&inst->snap_lock);
	snap = inst->snap;
	spin_unlock_bh(&inst->snap_lock);

	seq_printf(m, "node_id: %u\nleader_id: %u\nis_leader: %u\n",
		   st.node_id, st.leader_id, st.is_leader);
	seq_printf(m, "members: 0x%x\nroles: 0x%x\nifname: %s\n",
		   st.members, inst->roles, inst->ifname);
	seq_printf(m, "ballot: %llu.%llu\npromised: %llu.%llu\n",
		   st.ballot >> 8, st.ballot & 0xff,
		   st.promised >> 8, st.promised & 0xff);
	seq_printf(m, "proposer_state: %u\nleader_ballot: %llu.%llu\n",
		   snap.prop.state, snap.prop.leader_ballot >> 8,
		   snap.prop.leader_ballot & 0xff);
	seq_printf(m, "next: %llu\ndecided: %llu\nqueued_bytes: %u\n",
		   snap.prop.next, snap.prop.decided, snap.prop.queued_bytes);
	seq_printf(m, "first_index: %llu\nlast_index: %llu\n",
		   st.first_index, st.last_index);
	seq_printf(m, "committed_index: %llu\ndelivered_index: %llu\n",
		   st.committed_index, st.delivered_index);
	seq_printf(m, "frames_rx: %llu\nframes_tx: %llu\n", st.frames_rx,
		   st.frames_tx);
	seq_printf(m, "msgs_rx: %llu\nmsgs_tx: %llu\n", st.msgs_rx,
		   st.msgs_tx);
	seq_printf(m, "tx_errors: %lld\ntx_nodev: %lld\n",
		   (long long)atomic64_read(&inst->cnt.tx_errors),
		   (long long)atomic64_read(&inst->cnt.tx_nodev));
	seq_printf(m, "proposals: %llu\ndelivered_cmds: %llu\nduplicates: %llu\n",
		   st.proposals, st.delivered_cmds, st.duplicates);
	seq_printf(m, "leader_changes: %llu\nelections: %llu\n",
		   st.leader_changes, snap.prop.stats.elections);
	seq_printf(m, "instances: %llu\nbatches: %llu\nretransmits: %llu\n",
		   snap.prop.stats.instances, snap.prop.stats.batches,
		   snap.prop.stats.retransmits);
	seq_printf(m, "catchup_reqs: %llu\ncatchup_served: %llu\n",
		   snap.learn.stats.catchup_reqs,
		   snap.learn.stats.catchup_served);
	seq_printf(m, "acceptor_dropped_full: %llu\n",
		   snap.acc.dropped_full);
	seq_printf(m, "snapshot_every: %llu\nsnapshot_index: %llu\n",
		   st.snapshot_every, st.snapshot_index);
	seq_printf(m, "snap_puts: %llu\nsnap_served: %llu\n", st.snap_puts,
		   st.snap_served);
	seq_printf(m, "snap_installed: %llu\nsnap_rejected: %llu\n",
		   st.snap_installed, st.snap_rejected);
	for (i = PAXOS_DROP_NONE + 1; i < __PAXOS_DROP_MAX; i++)
		seq_printf(m, "drop_%s: %llu\n", drop_names[i], st.drops[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

void px_debugfs_add(struct paxos_instance *inst)
{
	char name[16];

	if (IS_ERR_OR_NULL(paxos_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%u", inst->ns_inum);
	inst->debugfs = debugfs_create_dir(name, paxos_debugfs_root);
	if (IS_ERR(inst->debugfs)) {
		inst->debugfs = NULL;
		return;
	}
	debugfs_create_file("status", 0400, inst->debugfs, inst,
			    &status_fops);
}

void px_debugfs_del(struct paxos_instance *inst)
{
	debugfs_remove(inst->debugfs);	/* waits for readers */
	inst->debugfs = NULL;
}

int paxos_stats_init(void)
{
	/* debugfs is optional: without it, the status ioctl remains */
	paxos_debugfs_root = debugfs_create_dir("paxos", NULL);
#ifdef KPAXOS_PROF
	debugfs_create_file("prof", 0600, paxos_debugfs_root, NULL,
			    &prof_fops);
#endif
	return 0;
}

void paxos_stats_uninit(void)
{
	debugfs_remove(paxos_debugfs_root);
	paxos_debugfs_root = NULL;
}

void px_trace_propose(struct paxos_instance *inst, u64 client_id, u64 seq,
		      u32 len)
{
	trace_paxos_propose(inst->ns_inum, inst->self, client_id, seq, len);
}

void px_trace_decide(struct paxos_instance *inst, u64 committed)
{
	trace_paxos_decide(inst->ns_inum, inst->self, committed);
}

void px_trace_deliver(struct paxos_instance *inst, u64 instance, u32 n_cmds)
{
	trace_paxos_deliver(inst->ns_inum, inst->self, instance, n_cmds);
}

void px_trace_leader(struct paxos_instance *inst, u8 leader, u64 ballot)
{
	trace_paxos_leader_change(inst->ns_inum, inst->self, leader, ballot);
}
