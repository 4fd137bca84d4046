/* SPDX-License-Identifier: GPL-2.0 */
/*
 * paxos.ko internals: the kernel glue around the pure protocol core.
 *
 *   main.c      module init/exit
 *   platform.c  px_alloc()/px_free() and the learner's shared values
 *   instance.c  one instance per network namespace: config, lifetime, status
 *   eth.c       raw Ethernet: packet_type receive, dev_queue_xmit send,
 *               netdevice notifier
 *   thread.c    the node thread: received frames, the three roles, commands
 *   dlog.c      delivered instances retained for readers of /dev/paxos
 *   chardev.c   /dev/paxos: propose, read deliveries, ioctls, poll
 *   stats.c     status snapshot, debugfs, tracepoints
 *   netlink.c   generic netlink family: configuration, status, events
 *
 * Locking, outermost first:
 *   paxos_net.lock (mutex)   - up/down/namespace exit; parameters
 *   RTNL                     - paxos_net.inst and paxos_instance.dev writes
 *   paxos_file.lock (mutex)  - one file's cursor and binding
 *   queue/dlog/snap spinlocks - leaves
 */
#ifndef KPAXOS_H
#define KPAXOS_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/types.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/rcupdate.h>
#include <linux/atomic.h>
#include <linux/refcount.h>
#include <linux/completion.h>

#include "compat.h"
#include "prof.h"
#include "core/px.h"
#include "core/px_wire.h"

/* Module parameters (main.c). */
extern unsigned int paxos_ethertype;
extern unsigned int paxos_busy_poll_us;
extern unsigned int paxos_rx_queue_len;
extern unsigned int paxos_cmd_queue_bytes;
extern unsigned int paxos_log_bytes;
extern unsigned int paxos_alpha;
extern int paxos_snapshot_every;

enum px_role_id {
	PX_ROLE_ACC,
	PX_ROLE_PROP,
	PX_ROLE_LEARN,
	PX_NR_ROLES
};

/* ------------------------------------------------------------- queues */

/* A bounded FIFO between threads (or a writer and a thread). */
struct px_queue {
	spinlock_t lock;
	struct list_head list;
	u32 len, max_len;
	size_t bytes, max_bytes;
	bool closed;		/* no more producers; contents freed */
};

/* Queue element header; @size is what the entry counts against max_bytes. */
struct px_qent {
	struct list_head node;
	size_t size;
};

/*
 * The command records of one write(2), checked, for the node thread:
 * @len bytes of struct paxos_propose_hdr + command, back to back (headers
 * not aligned); the thread proposes them from @off on.
 */
struct px_ucmd {
	struct px_qent e;
	u32 len;
	u32 off;
	u8 data[];
};

/* --------------------------------------------------------- delivery log */

/* One delivered instance, shared by readers through a reference. */
struct px_dent {
	refcount_t ref;
	u64 instance;
	u32 len;
	u32 n_cmds;		/* commands a reader gets (not flagged DUP) */
	bool snap_point;	/* a SNAP_POINT record follows the commands */
	/* the learner's value (batch encoding, DUP flags set) in @block */
	const u8 *value;
	const void *block;	/* held: px_value_hold() */
};

/* Command position of an entry's SNAP_POINT record in a file's cursor. */
#define PX_DENT_SNAP_POS	0x10000U

struct px_dlog {
	spinlock_t lock;
	struct px_dent **ring;	/* by instance & mask */
	u32 mask;
	u64 first;		/* lowest retained instance */
	u64 last;		/* highest appended instance (0: none) */
	u64 last_data;		/* highest instance with records */
	size_t bytes, max_bytes;
	bool dead;
};

int px_dlog_init(struct px_dlog *log, u32 slots, size_t max_bytes);
void px_dlog_uninit(struct px_dlog *log);
/*
 * Append @value, which lies in @block (a px_value_alloc() block: the entry
 * holds a reference, see px_value_hold(); NULL: no value).  Commands
 * readers will get from it (>= 0), or -errno.
 */
int px_dlog_append(struct px_dlog *log, u64 instance, const u8 *value,
		   u32 len, const void *block, bool snap_point);
/* A snapshot at @index was installed: drop everything, restart at index + 1. */
void px_dlog_restart(struct px_dlog *log, u64 index);
/*
 * Entry for @instance with a reference, or NULL and *err set; *first (if
 * not NULL) is the lowest retained instance then.
 */
struct px_dent *px_dlog_get(struct px_dlog *log, u64 instance, int *err,
			    u64 *first);
void px_dent_put(struct px_dent *e);
/* Whether a read at @instance would return something or an error now. */
bool px_dlog_readable(struct px_dlog *log, u64 instance);
u64 px_dlog_next(struct px_dlog *log);

/* ------------------------------------------------------------ instance */

struct paxos_instance;

/* A role of the node thread: its inbox and its flags. */
struct px_role_thread {
	struct paxos_instance *inst;
	enum px_role_id id;
	bool stepped;		/* a message since its output was taken */
	bool dirty;		/* may have changed since publish_snapshot() */
	bool cmd_blocked;	/* proposer: core queue full, wait for a step */
	bool retry_soon;	/* learner: publishing failed, try again */
};

/* Counters kept by the glue; the core's own stats come from snapshots. */
struct px_counters {
	atomic64_t frames_rx, frames_tx, msgs_rx, msgs_tx, proposals;
	atomic64_t tx_errors, tx_nodev, local_drops;
	atomic64_t drops[__PAXOS_DROP_MAX];
};

/* What the node thread last published about the role objects. */
struct px_snapshot {
	struct px_proposer_info prop;
	struct px_learner_info learn;
	struct px_acceptor_stats acc;
	u64 promised;
	u64 acc_trim;
};

/*
 * The application bytes of the learner's current snapshot, for
 * PAXOS_IOC_SNAPSHOT_GET: a reference is taken under snapbuf_lock and the
 * bytes are copied without it.
 */
struct px_snapbuf {
	refcount_t ref;
	u64 index;
	u32 len;
	u8 data[];
};

struct px_snapbuf *px_snapbuf_alloc(u64 index, u32 len);
void px_snapbuf_put(struct px_snapbuf *sb);

/*
 * A request a caller hands to the node thread and waits for (thread.c),
 * embedded in what the request carries.
 */
struct px_nreq {
	struct completion done;
	int err;
};

/* A PAXOS_IOC_SNAPSHOT_PUT handed to the node thread (thread.c). */
struct px_sreq {
	struct px_nreq nr;
	struct px_snapbuf *sb;
};

struct paxos_net;

struct paxos_instance {
	struct kref ref;
	struct rcu_head rcu;
	struct net *net;		/* valid until teardown */
	unsigned int ns_inum;

	/* Configuration: fixed at creation. */
	struct px_config cfg;
	struct px_wire_cfg wcfg;	/* mtu filled in per use */
	u32 roles;			/* PAXOS_ROLE_* */
	u16 ethertype;
	u8 self;
	char ifname[IFNAMSIZ];
	u8 macs[PAXOS_MAX_NODES + 1][ETH_ALEN];

	/* Transport (eth.c). */
	struct net_device __rcu *dev;	/* written under RTNL */
	netdevice_tracker dev_tracker;
	struct packet_type ptype;
	atomic_t msg_seq;
	struct sk_buff_head rxq;
	bool rx_wake_sent;		/* under rxq.lock: since the last drain */
	wait_queue_head_t node_wq;
	struct task_struct *node_task;
	struct px_reasm reasm;		/* node thread only */
	struct page_frag_cache tx_frag;	/* node thread only: frames sent */

	/* Roles (thread.c); each object is owned by its thread. */
	struct px_acceptor *acc;
	struct px_proposer *prop;
	struct px_learner *learn;
	struct px_role_thread thr[PX_NR_ROLES];
	u64 published;			/* learner thread: appended to dlog */
	u64 seen_committed;		/* learner thread: for tracing */
	u8 seen_leader;			/* proposer thread: for tracing */
	u32 seen_members;		/* node thread: configuration in */
	u32 seen_latest;		/* effect and latest, for events */

	/*
	 * Membership (netlink.c, thread.c): wcfg.known is the set of known
	 * nodes (those with a MAC in macs[]), written under paxos_net.lock
	 * with WRITE_ONCE; the node thread reads it for its wire filter.
	 * A PAXOS_CMD_MEMBERSHIP request is handed to the node thread
	 * through @mreq, under @mreq_lock.
	 */
	struct mutex mreq_lock;
	struct px_nreq *mreq;		/* in a struct px_mreq */
	u64 mreq_seq;			/* node thread: last seq proposed */

	/*
	 * Snapshots (thread.c, chardev.c): a PAXOS_IOC_SNAPSHOT_PUT is
	 * handed to the node thread through @sreq, under @sreq_lock; the
	 * node thread sets @snapbuf (under @snapbuf_lock) after a put and
	 * after an install.
	 */
	struct mutex sreq_lock;
	struct mutex put_lock;		/* one PUT at a time */
	struct px_nreq *sreq;		/* in a struct px_sreq */
	spinlock_t snapbuf_lock;
	struct px_snapbuf *snapbuf;	/* current snapshot, or NULL */

	/* Clients (chardev.c). */
	struct px_queue cmdq;
	wait_queue_head_t write_wq;
	wait_queue_head_t read_wq;
	struct px_dlog log;

	/* Observability (stats.c). */
	spinlock_t snap_lock;
	struct px_snapshot snap;
	struct px_counters cnt;
	struct dentry *debugfs;

	/* Durability and authentication (storage.c, docs/durability.md). */
	struct px_storage *store;	/* NULL: in-memory acceptor, unsafe */
	char *state_path;		/* kstrdup'ed, or NULL */
	u8 key[PAXOS_KEY_LEN];		/* wcfg.key points here when set */
	u32 state_flags;		/* PAXOS_STATE_F_DURABLE, _AUTH */
	bool state_failed;		/* acceptor thread: a write failed */
	/* Rejoin after lost state: the acceptor thread owns these. */
	bool rejoining;			/* read by others with READ_ONCE */
	bool rejoin_seen;		/* a leader heartbeat was observed */
	u64 rejoin_ballot;		/* that leader's ballot */
	u64 rejoin_next;		/* its next instance then */
	u64 rejoin_floor;		/* promised at the join, for the proposer */
	bool prop_restored;		/* proposer thread: floor applied */

	bool dead;			/* torn down: only the struct remains */
};

/* A membership change handed to the node thread (thread.c). */
struct px_mreq {
	struct px_nreq nr;
	u32 old, new;
};

/* Optional settings of an instance beyond struct paxos_config. */
struct paxos_up_opts {
	u32 members;			/* configuration; 0: every peer */
	const char *state_path;		/* NULL: in-memory acceptor */
	u32 state_flags;		/* PAXOS_STATE_F_REJOIN */
	const u8 *key;			/* PAXOS_KEY_LEN bytes, or NULL */
};

/* Per network namespace; files hold a reference, so it may outlive it. */
struct paxos_net {
	struct kref ref;
	struct mutex lock;
	struct net *net;		/* valid while !dead, under lock */
	unsigned int ns_inum;
	struct paxos_instance __rcu *inst; /* written under lock and RTNL */
	u64 params[__PAXOS_PARAM_MAX];	/* 0: core default */
	bool dead;			/* namespace gone */
};

int paxos_pernet_init(void);
void paxos_pernet_uninit(void);
/* The caller's namespace (a reference), or NULL during module exit. */
struct paxos_net *paxos_net_get(struct net *net);
void paxos_net_put(struct paxos_net *pn);
/* Under RTNL: the namespace's paxos_net, or NULL. */
struct paxos_net *paxos_net_rtnl(struct net *net);

/* The instance of @pn with a reference, or NULL. */
struct paxos_instance *paxos_instance_get(struct paxos_net *pn);
void paxos_instance_put(struct paxos_instance *inst);
int paxos_instance_up(struct paxos_net *pn, const struct paxos_config *uc,
		      const char **why);
int paxos_instance_up_opts(struct paxos_net *pn,
			   const struct paxos_config *uc,
			   const struct paxos_up_opts *opts, const char **why);
/* PAXOS_STATE_F_* of a live instance, as reported. */
u32 paxos_instance_state_flags(struct paxos_instance *inst);
int paxos_instance_down(struct paxos_net *pn);
int paxos_param_get(struct paxos_net *pn, u32 key, u64 *value);
int paxos_param_set(struct paxos_net *pn, u32 key, u64 value,
		    const char **why);
/* CAP_NET_ADMIN in the user namespace owning @pn's network namespace. */
bool paxos_net_capable(struct paxos_net *pn);

static inline void px_count_drop(struct paxos_instance *inst, int reason)
{
	if (reason >= 0 && reason < __PAXOS_DROP_MAX)
		atomic64_inc(&inst->cnt.drops[reason]);
}

/* ------------------------------------------------------------- eth.c */

int paxos_eth_init(void);
void paxos_eth_uninit(void);
int px_eth_attach(struct paxos_instance *inst, struct net_device *dev,
		  const char **why);
void px_eth_detach(struct paxos_instance *inst);
int px_eth_send(struct paxos_instance *inst, const struct px_obuf *ob);
/* Current frame payload size limit, or 0 when detached. */
u32 px_eth_mtu(struct paxos_instance *inst);

/* ---------------------------------------------------------- thread.c */

void px_queue_init(struct px_queue *q, u32 max_len, size_t max_bytes);
/* 0, -ENOSPC when full, -ENOTCONN when closed; on success owns @e. */
int px_queue_push(struct px_queue *q, struct px_qent *e);
bool px_queue_has_room(struct px_queue *q, size_t size);
/* Close and free everything queued; later pushes fail. */
void px_queue_close(struct px_queue *q);

int px_threads_start(struct paxos_instance *inst);
void px_threads_stop(struct paxos_instance *inst);
/* Softirq: a received frame for the node thread. */
void px_rx_enqueue(struct paxos_instance *inst, struct sk_buff *skb,
		   bool wake);
void px_rx_purge(struct paxos_instance *inst);
void px_proposer_kick(struct paxos_instance *inst);
/*
 * Have the node thread propose the change @old -> @new: the core's
 * px_proposer_propose_membership() result, or -ETIMEDOUT, -ENOTCONN,
 * -EBUSY (another request is being handed over).
 */
int px_membership_request(struct paxos_instance *inst, u32 old, u32 new);
/*
 * Have the node thread put the application snapshot @sb (a reference is
 * taken if kept): px_learner_snapshot_put()'s result, or -ETIMEDOUT,
 * -ENOTCONN, -EOPNOTSUPP (no learner).
 */
int px_snapshot_request(struct paxos_instance *inst, struct px_snapbuf *sb);
/* The current snapshot with a reference, or NULL. */
struct px_snapbuf *px_snapbuf_get(struct paxos_instance *inst);

static inline u64 px_now(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/* ---------------------------------------------------------- stats.c */

int paxos_stats_init(void);
void paxos_stats_uninit(void);
void paxos_instance_status(struct paxos_instance *inst,
			   struct paxos_status *st);
/*
 * The configuration in effect at the next instance the node delivers and,
 * in *@latest (if not NULL), the one after the pending change, if any.
 */
u32 paxos_instance_members(struct paxos_instance *inst, u32 *latest);
void px_debugfs_add(struct paxos_instance *inst);
void px_debugfs_del(struct paxos_instance *inst);
void px_trace_propose(struct paxos_instance *inst, u64 client_id, u64 seq,
		      u32 len);
void px_trace_decide(struct paxos_instance *inst, u64 committed);
void px_trace_deliver(struct paxos_instance *inst, u64 instance, u32 n_cmds);
void px_trace_leader(struct paxos_instance *inst, u8 leader, u64 ballot);

/* -------------------------------------------------------- chardev.c */

int paxos_chardev_init(void);
void paxos_chardev_uninit(void);

/* -------------------------------------------------------- netlink.c */

int paxos_netlink_init(void);
void paxos_netlink_uninit(void);
/* Leader change notification for the (future) multicast group. */
void paxos_netlink_leader_event(struct paxos_instance *inst, u8 leader,
				u64 ballot);
/* The configuration changed (@members now in effect). */
void paxos_netlink_membership_event(struct paxos_instance *inst,
				    u32 members);

#endif /* KPAXOS_H */
