/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kpaxos user-space API and wire format.
 *
 * Shared by the kernel module (kmod/), its protocol core (kmod/core/), the
 * user library (userlib/) and the tools (tools/).  Everything that crosses a
 * boundary - a frame on the wire, a record through /dev/paxos, an ioctl or a
 * generic netlink message - is described here and nowhere else.
 *
 * All multi-byte fields on the wire are big-endian.  Records passed through
 * /dev/paxos and ioctl structs are in host byte order.
 */
#ifndef _UAPI_LINUX_PAXOS_H
#define _UAPI_LINUX_PAXOS_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#else
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

/* ------------------------------------------------------------------------
 * Limits
 * ------------------------------------------------------------------------
 */
enum paxos_limits {
	PAXOS_MAX_NODES = 32,		/* node ids are 1..PAXOS_MAX_NODES */
	PAXOS_NODE_ALL = 0xff,		/* frame dst: every node */
	PAXOS_MAX_CMD = 65536,		/* largest command payload, bytes */
	PAXOS_MIN_MTU = 576,		/* smallest interface MTU we accept */
	PAXOS_MAX_MTU = 9000,
	PAXOS_MAX_FRAGS = 4096,		/* fragments in one logical message */
	PAXOS_MAX_MSG = 4 << 20,	/* largest logical message body */
	PAXOS_AUTH_TAG_LEN = 16,	/* keyed MAC appended to a frame */
	PAXOS_KEY_LEN = 32,
	PAXOS_MAX_SNAPSHOT = 64 << 20,	/* largest application snapshot */
};

/* ------------------------------------------------------------------------
 * Wire format
 *
 * One logical protocol message is carried by one or more Ethernet frames of
 * ethertype PAXOS_ETHERTYPE.  Each frame starts with struct paxos_frame_hdr;
 * fragment payloads follow; the concatenation of all fragments' payloads in
 * frag_idx order is the message body (msg_len bytes).  When
 * PAXOS_F_AUTH is set, PAXOS_AUTH_TAG_LEN bytes of keyed MAC over the header
 * and payload follow the payload.
 * ------------------------------------------------------------------------
 */
#define PAXOS_ETHERTYPE		0x88B5	/* IEEE 802 local experimental 1 */
#define PAXOS_WIRE_MAGIC	0x5058	/* "PX" */
#define PAXOS_WIRE_VERSION	2

struct paxos_frame_hdr {
	__be16 magic;		/* PAXOS_WIRE_MAGIC */
	__u8 version;		/* PAXOS_WIRE_VERSION */
	__u8 type;		/* enum paxos_msg_type */
	__be32 cluster_id;	/* frames of other clusters are dropped */
	__be16 group_id;	/* paxos group within the cluster */
	__u8 src;		/* sender node id, 1..PAXOS_MAX_NODES */
	__u8 dst;		/* receiver node id or PAXOS_NODE_ALL */
	__be32 msg_seq;		/* per-sender message counter */
	__be16 frag_idx;	/* 0..frag_cnt-1 */
	__be16 frag_cnt;	/* 1..PAXOS_MAX_FRAGS */
	__be32 msg_len;		/* body length of the whole message */
	__be16 frag_len;	/* payload bytes in this frame */
	__u8 flags;		/* PAXOS_F_* */
	__u8 reserved;		/* must be 0 */
	__be64 ballot;		/* meaning per message type, see below */
	__be64 instance;	/* meaning per message type, see below */
} __attribute__((packed));

#define PAXOS_FRAME_HDR_LEN	44

enum paxos_frame_flags {
	PAXOS_F_AUTH = 1 << 0,	/* an auth tag follows the payload */
};

/*
 * A ballot is (round << 8) | node_id: ballots compare as integers and no two
 * nodes ever use the same ballot.
 *
 * Message types, with the meaning of ballot/instance and the body layout.
 * "value" is a batch (see below).
 *
 * PREPARE   ballot=b, instance=from.            body: empty
 * PROMISE   ballot=b, instance=from.            body: be64 trim, be64 highest,
 *           be32 n, n x { be64 inst, be64 vballot, be32 len, len bytes value }
 *           (trim: acceptor forgot instances <= trim; highest: its highest
 *           accepted instance, 0 if none)
 * NACK      ballot=promised ballot, instance=i. body: empty
 * ACCEPT    ballot=b, instance=i.               body: be64 decided,
 *           be64 commit_lo, be64 commit_hi, value
 * ACCEPTED  ballot=b, instance=i.               body: empty (sent to the
 *           node of b, the leader, only)
 * HEARTBEAT ballot=b, instance=next.            body: be64 decided, be64 trim,
 *           be64 commit_lo, be64 commit_hi
 *           (commit_lo, commit_hi]: every instance there was proposed in
 *           ballot b and accepted in b by a quorum, i.e. chosen with the
 *           value of ACCEPT(b, i); empty when commit_lo == commit_hi)
 * FORWARD   ballot=0, instance=0.               body: value (commands)
 * LEARN_REQ ballot=0, instance=from.            body: be64 to
 * CHOSEN    ballot=b, instance=i.               body: value
 * STATUS    ballot=0, instance=delivered.       body: empty, or the learner's
 *           configurations once changed: n x { be64 from, be32 members }
 *           (n <= 8; see PAXOS_CLIENT_MEMBERSHIP)
 * SNAP_REQ  ballot=0, instance=I.               body: be32 offset
 *           (a receiver pulling the snapshot at I asks for the chunk at
 *           offset; the server answers from its current snapshot, or with
 *           chunk 0 of a newer one, or not at all if it has none)
 * SNAP_CHUNK ballot=0, instance=I.              body: be32 meta_len,
 *           be32 app_len, be32 offset, n bytes: [offset, offset + n) of
 *           meta || app, 1 <= n <= 256 KiB, the chunk ends at
 *           meta_len + app_len or is exactly 256 KiB.  meta: the learner's
 *           state at I: be32 k, k x { be64 client_id, be64 seq,
 *           be64 instance } (dedup table, oldest last delivery first,
 *           k <= 4096), be32 mlog_len, mlog_len bytes (configurations as in
 *           STATUS, 0: the initial one); app: the application's state
 *           after every command <= I (<= PAXOS_MAX_SNAPSHOT bytes).
 */
enum paxos_msg_type {
	PAXOS_MSG_PREPARE = 1,
	PAXOS_MSG_PROMISE,
	PAXOS_MSG_NACK,
	PAXOS_MSG_ACCEPT,
	PAXOS_MSG_ACCEPTED,
	PAXOS_MSG_HEARTBEAT,
	PAXOS_MSG_FORWARD,
	PAXOS_MSG_LEARN_REQ,
	PAXOS_MSG_CHOSEN,
	PAXOS_MSG_STATUS,
	PAXOS_MSG_SNAP_REQ,
	PAXOS_MSG_SNAP_CHUNK,
	__PAXOS_MSG_MAX
};
#define PAXOS_MSG_MAX (__PAXOS_MSG_MAX - 1)
#define PAXOS_ACCEPT_HDR_LEN	24	/* ACCEPT body before the value */
#define PAXOS_HEARTBEAT_LEN	32	/* HEARTBEAT body */

/*
 * A value (the payload decided by one Paxos instance) is a batch of commands:
 *   be32 count, count x { be64 client_id, be64 seq, be32 len, be32 flags,
 *                         len bytes }
 * count == 0 is a no-op.  flags is 0 on the wire; a learner sets
 * PAXOS_CMD_F_DUP in its own copy on a retry it will not deliver again.
 */
#define PAXOS_BATCH_HDR_LEN	4
#define PAXOS_CMD_HDR_LEN	24
#define PAXOS_CMD_F_DUP		1

/*
 * Membership change: a command of the reserved client PAXOS_CLIENT_MEMBERSHIP
 * whose data is PAXOS_MEMBERSHIP_LEN bytes: be32 old members, be32 new
 * members (bitmaps of node ids, bit n = node n).  Decided at instance i, it
 * takes effect for instances >= i + alpha (docs/design.md, "Membership
 * change") if old is the latest configuration, no other change is pending
 * at i, and new differs from old by one node added, removed, or swapped for
 * another; otherwise it is a no-op on every replica alike.  Only the
 * administrative path proposes it (a write(2) of this client id is not
 * proposed); it is delivered in the log like any command, and readers skip
 * this client id.
 */
#define PAXOS_CLIENT_MEMBERSHIP	0xffffffffffffffffULL
#define PAXOS_MEMBERSHIP_LEN	8

/*
 * Reasons a received frame is dropped; each has a counter.  Every reason is
 * non-zero so that -PAXOS_DROP_* return values never read as success.
 */
enum paxos_drop_reason {
	PAXOS_DROP_NONE,		/* not dropped; its counter stays 0 */
	PAXOS_DROP_TRUNCATED,		/* shorter than its header/lengths */
	PAXOS_DROP_OVERSIZED,		/* lengths beyond the limits */
	PAXOS_DROP_BAD_MAGIC,
	PAXOS_DROP_BAD_VERSION,
	PAXOS_DROP_FOREIGN_CLUSTER,
	PAXOS_DROP_FOREIGN_GROUP,
	PAXOS_DROP_UNKNOWN_TYPE,
	PAXOS_DROP_BAD_NODE,		/* src/dst not a member, or not us */
	PAXOS_DROP_BAD_FRAG,		/* inconsistent fragment fields */
	PAXOS_DROP_BAD_BODY,		/* body does not parse for its type */
	PAXOS_DROP_BAD_AUTH,
	PAXOS_DROP_REASM,		/* reassembly out of space / expired */
	PAXOS_DROP_QUEUE_FULL,		/* receive queue full */
	__PAXOS_DROP_MAX
};

/* Names of the drop reasons, for an array initialiser (status output). */
#define PAXOS_DROP_NAMES {					\
	[PAXOS_DROP_NONE] = "none",				\
	[PAXOS_DROP_TRUNCATED] = "truncated",			\
	[PAXOS_DROP_OVERSIZED] = "oversized",			\
	[PAXOS_DROP_BAD_MAGIC] = "bad_magic",			\
	[PAXOS_DROP_BAD_VERSION] = "bad_version",		\
	[PAXOS_DROP_FOREIGN_CLUSTER] = "foreign_cluster",	\
	[PAXOS_DROP_FOREIGN_GROUP] = "foreign_group",		\
	[PAXOS_DROP_UNKNOWN_TYPE] = "unknown_type",		\
	[PAXOS_DROP_BAD_NODE] = "bad_node",			\
	[PAXOS_DROP_BAD_FRAG] = "bad_frag",			\
	[PAXOS_DROP_BAD_BODY] = "bad_body",			\
	[PAXOS_DROP_BAD_AUTH] = "bad_auth",			\
	[PAXOS_DROP_REASM] = "reasm",				\
	[PAXOS_DROP_QUEUE_FULL] = "queue_full",			\
}

/* ------------------------------------------------------------------------
 * /dev/paxos records
 *
 * write(2): one or more records back to back, each a struct
 * paxos_propose_hdr followed by len bytes of command (no padding).  Each
 * record is queued whole or not at all.  A bad first record fails the
 * write; a later bad record ends it early: it returns the bytes of the
 * records before it, and a write starting at that record reports the
 * error.  A write takes at most 256 KiB of records (always at least one);
 * it blocks while the proposal queue is full.  One record per write is
 * always whole.
 * EINVAL: bad header, or len beyond the bytes written; EMSGSIZE: len >
 * PAXOS_MAX_CMD; EAGAIN: the proposal queue is full (O_NONBLOCK); ENOTCONN:
 * no instance in this network namespace; EPERM: client_id
 * PAXOS_CLIENT_MEMBERSHIP (reserved).
 *
 * read(2): whole records only, one or more struct paxos_delivery_hdr each
 * followed by len bytes of command and padding to 8 bytes.  A buffer too
 * small for the next record gives EMSGSIZE.
 *
 * Besides commands (flags 0), two kinds of record carry no command (len 0,
 * client_id, seq and pos 0) and are told apart by their flags:
 *
 * PAXOS_DELIVERY_F_SNAP_POINT  instance = I, after the commands of I, when I
 *   is a snapshot point (I % snapshot_every == 0, see PAXOS_PARAM_*): the
 *   reader, having applied every command <= I, may put its state at I with
 *   PAXOS_IOC_SNAPSHOT_PUT.  The node pairs it with its own state at I
 *   (the learner's), and serves both to replicas that fall behind what it
 *   retains.
 * PAXOS_DELIVERY_F_RESTORE  instance = I: the file's cursor was below what
 *   the node retains (it installed a snapshot from a peer, or the reader
 *   lagged), and the node's current snapshot is at I >= cursor - 1: the
 *   reader replaces its whole state by the snapshot at I
 *   (PAXOS_IOC_SNAPSHOT_GET); the next record is of an instance > I.
 *
 * EOVERFLOW: this file's cursor fell behind what the node retains and no
 * snapshot of the node covers it (none taken, or the current one is below
 * the cursor - 1 while instances after it are gone); see PAXOS_IOC_SEEK.
 * ------------------------------------------------------------------------
 */
struct paxos_propose_hdr {
	__u64 client_id;	/* chosen by the client, unique in the cluster */
	__u64 seq;		/* increasing per client, starting at 1 */
	__u32 len;		/* command bytes that follow */
	__u32 flags;		/* must be 0 */
};

struct paxos_delivery_hdr {
	__u64 instance;		/* Paxos instance (log position) */
	__u64 client_id;
	__u64 seq;
	__u32 len;		/* command bytes that follow */
	__u16 pos;		/* position of the command in the instance */
	__u16 flags;		/* PAXOS_DELIVERY_F_* */
};
#define PAXOS_RECORD_ALIGN 8

/* paxos_delivery_hdr.flags (bit 0 is PAXOS_CMD_F_DUP's, never returned). */
#define PAXOS_DELIVERY_F_SNAP_POINT	(1 << 1)
#define PAXOS_DELIVERY_F_RESTORE	(1 << 2)

/* ------------------------------------------------------------------------
 * ioctls on /dev/paxos
 * ------------------------------------------------------------------------
 */
enum paxos_role_bits {
	PAXOS_ROLE_ACCEPTOR = 1 << 0,
	PAXOS_ROLE_PROPOSER = 1 << 1,
	PAXOS_ROLE_LEARNER = 1 << 2,
	PAXOS_ROLE_ALL = 7,
};

struct paxos_status {
	__u32 node_id;
	__u32 leader_id;	/* 0: unknown */
	__u32 is_leader;
	__u32 members;		/* bitmap, bit n = node n */
	__u64 ballot;		/* current ballot of this node's proposer */
	__u64 promised;		/* acceptor's promised ballot */
	__u64 first_index;	/* lowest instance retained by the learner */
	__u64 last_index;	/* highest instance known to the learner */
	__u64 committed_index;	/* all instances <= this are decided */
	__u64 delivered_index;	/* all instances <= this are delivered */
	__u64 frames_rx;
	__u64 frames_tx;
	__u64 msgs_rx;
	__u64 msgs_tx;
	__u64 proposals;	/* commands accepted by write(2) */
	__u64 delivered_cmds;
	__u64 duplicates;	/* retries recognised and not delivered */
	__u64 leader_changes;
	__u64 drops[__PAXOS_DROP_MAX];
	/* Snapshots (appended; see PAXOS_IOC_STATUS). */
	__u64 snapshot_index;	/* the learner's current snapshot, 0: none */
	__u64 snapshot_every;	/* snapshot point interval, 0: disabled */
	__u64 snap_puts;	/* application snapshots accepted */
	__u64 snap_served;	/* snapshot chunks sent to peers */
	__u64 snap_installed;	/* snapshots received from peers, installed */
	__u64 snap_rejected;	/* received snapshots with a bad meta */
};

/*
 * Protocol parameters of an instance (PAXOS_IOC_SET_PARAM, netlink
 * PAXOS_A_PARAMS); set while the instance is down, they apply at the next
 * UP; 0 restores the default.  The *_SLOTS are powers of 2 >= the window
 * (default 4096).  PAXOS_PARAM_SNAPSHOT_EVERY: instance I is a snapshot
 * point iff I % value == 0; its default is the module parameter
 * snapshot_every, whose own default (-1) is learner_slots / 4 and whose 0
 * disables snapshots (the reported value is then 0).
 * PAXOS_PARAM_ALPHA: a membership change decided at instance i takes
 * effect at i + alpha; the same on every node and >= the window; its
 * default is the module parameter alpha (whose 0 means 1024).
 */
enum paxos_param {
	PAXOS_PARAM_WINDOW = 1,		/* instances in flight */
	PAXOS_PARAM_BATCH_BYTES,	/* max batch size */
	PAXOS_PARAM_BATCH_DELAY_US,	/* max wait to fill a batch */
	PAXOS_PARAM_HEARTBEAT_US,
	PAXOS_PARAM_ELECTION_US,	/* base election timeout */
	PAXOS_PARAM_RETRANSMIT_US,
	PAXOS_PARAM_ACCEPTOR_SLOTS,	/* instances an acceptor retains */
	PAXOS_PARAM_LEARNER_SLOTS,	/* instances a learner retains */
	PAXOS_PARAM_SNAPSHOT_EVERY,	/* snapshot point interval */
	PAXOS_PARAM_ALPHA,		/* membership change delay */
	__PAXOS_PARAM_MAX
};

/* Names of the parameters, for an array initialiser (tools' key=value). */
#define PAXOS_PARAM_NAMES {					\
	[PAXOS_PARAM_WINDOW] = "window",			\
	[PAXOS_PARAM_BATCH_BYTES] = "batch_bytes",		\
	[PAXOS_PARAM_BATCH_DELAY_US] = "batch_delay_us",	\
	[PAXOS_PARAM_HEARTBEAT_US] = "heartbeat_us",		\
	[PAXOS_PARAM_ELECTION_US] = "election_us",		\
	[PAXOS_PARAM_RETRANSMIT_US] = "retransmit_us",		\
	[PAXOS_PARAM_ACCEPTOR_SLOTS] = "acceptor_slots",	\
	[PAXOS_PARAM_LEARNER_SLOTS] = "learner_slots",		\
	[PAXOS_PARAM_SNAPSHOT_EVERY] = "snapshot_every",	\
	[PAXOS_PARAM_ALPHA] = "alpha",				\
}

struct paxos_param_kv {
	__u32 key;		/* enum paxos_param */
	__u32 pad;
	__u64 value;
};

struct paxos_peer {
	__u32 node_id;
	__u8 mac[6];
	__u8 pad[2];
};

struct paxos_config {
	__u32 node_id;
	__u32 cluster_id;
	__u16 group_id;
	__u16 ethertype;	/* 0: PAXOS_ETHERTYPE */
	__u32 roles;		/* PAXOS_ROLE_* */
	char ifname[16];
	__u32 n_peers;		/* including this node */
	__u32 pad;
	struct paxos_peer peers[PAXOS_MAX_NODES];
};

/*
 * Snapshots of the application's state (PAXOS_IOC_SNAPSHOT_*).
 *
 * PUT: in: index = I (a SNAPSHOT_POINT record's instance), buf/len = the
 *   application's state after every command <= I (len <=
 *   PAXOS_MAX_SNAPSHOT), flags = 0.  EINVAL: bad arguments (index 0, flags,
 *   buf NULL with len); ENOENT: I is not a pending snapshot point of the
 *   node (never delivered as one, or too old: the node keeps the last few);
 *   ESTALE: I is below the node's current snapshot; EMSGSIZE: too long;
 *   ENOMEM; EOPNOTSUPP: no learner role; ETIMEDOUT: the node thread did not
 *   take it in time.
 * GET: in: index = the snapshot wanted (0: the current one), buf/len = a
 *   buffer, flags = 0.  out: index = the snapshot's index, len = its full
 *   length; the bytes are copied into buf.  EMSGSIZE (with index and len
 *   set) when the buffer is too small; ENOENT when the node has no snapshot
 *   or its current one is not at index.
 */
struct paxos_snapshot_io {
	__u64 index;
	__u64 buf;		/* user pointer */
	__u32 len;
	__u32 flags;		/* must be 0 */
};

/*
 * PAXOS_IOC_STATUS: struct paxos_status may grow at the end; the kernel
 * copies min(size in the ioctl number, its size) bytes, so that programs
 * built with an older (shorter) struct keep working.
 */
#define PAXOS_IOC_MAGIC 0xB5
#define PAXOS_IOC_STATUS	_IOR(PAXOS_IOC_MAGIC, 1, struct paxos_status)
#define PAXOS_IOC_GET_PARAM	_IOWR(PAXOS_IOC_MAGIC, 2, struct paxos_param_kv)
#define PAXOS_IOC_SET_PARAM	_IOW(PAXOS_IOC_MAGIC, 3, struct paxos_param_kv)
/* Position this file's read cursor: next record read is this instance. */
#define PAXOS_IOC_SEEK		_IOW(PAXOS_IOC_MAGIC, 4, __u64)
#define PAXOS_IOC_UP		_IOW(PAXOS_IOC_MAGIC, 5, struct paxos_config)
#define PAXOS_IOC_DOWN		_IO(PAXOS_IOC_MAGIC, 6)
#define PAXOS_IOC_SNAPSHOT_PUT	_IOW(PAXOS_IOC_MAGIC, 7, struct paxos_snapshot_io)
#define PAXOS_IOC_SNAPSHOT_GET	_IOWR(PAXOS_IOC_MAGIC, 8, struct paxos_snapshot_io)

/* ------------------------------------------------------------------------
 * Generic netlink family "paxos" (version 1); see docs/netlink.md.
 *
 * The family is per network namespace (netnsok): every command acts on the
 * one instance of the caller's namespace.  Commands that change anything
 * (UP, DOWN, SET_PEERS, SET_PARAMS, MEMBERSHIP) need CAP_NET_ADMIN in the user namespace
 * owning the network namespace (EPERM otherwise); GET_STATUS does not.
 * Attributes are validated strictly, one policy per nesting level; a bad
 * attribute fails the request with EINVAL and an extended-ack message
 * saying what is wrong, with the offset of the attribute.
 *
 * Command trees (-> reply):
 *
 * PAXOS_CMD_UP          create the namespace's instance
 *   PAXOS_A_IFNAME        string, required: interface in this namespace
 *   PAXOS_A_NODE_ID       u32, required: this node, 1..PAXOS_MAX_NODES-1
 *   PAXOS_A_PEERS         nest, required: every known node (each member and
 *                         each node being added), this node included
 *     <any type>            nest, one per member (by convention the type is
 *                           its index from 1):
 *       PAXOS_PEER_A_ID       u32, required: node id, 1..PAXOS_MAX_NODES-1
 *       PAXOS_PEER_A_MAC      binary[6], required: unicast MAC address
 *   PAXOS_A_CLUSTER_ID    u32, optional (0)
 *   PAXOS_A_GROUP_ID      u16, optional (0)
 *   PAXOS_A_ROLES         u32, optional: PAXOS_ROLE_* (PAXOS_ROLE_ALL)
 *   PAXOS_A_ETHERTYPE     u16, optional: >= 0x0600 (PAXOS_ETHERTYPE)
 *   PAXOS_A_PARAMS        nest, optional: as in SET_PARAMS, applied first
 *   PAXOS_A_MEMBERS       u32, optional: the initial configuration (voters
 *                         of instance 1), a subset of the peers (default:
 *                         every peer).  This node may be outside it: it
 *                         then learns (and its acceptor answers) without
 *                         counting in any quorum until a MEMBERSHIP change
 *                         makes it a member.
 *   -> ack; EEXIST if an instance is up, ENODEV if no such interface.
 *
 * PAXOS_CMD_DOWN        destroy it (no attributes)
 *   -> ack; ENOTCONN if there is none.
 *
 * PAXOS_CMD_SET_PEERS   replace the set of known nodes and their MACs
 *   PAXOS_A_PEERS         nest, required: as in UP, every known node.  A
 *                         member's MAC may change; a non-member may be added
 *                         or left out (it is forgotten: its frames are
 *                         dropped); a member of the configuration in effect
 *                         or pending may not be left out (EOPNOTSUPP: remove
 *                         it with PAXOS_CMD_MEMBERSHIP first)
 *   -> ack; a PAXOS_EVENT_MEMBERSHIP event follows.
 *
 * PAXOS_CMD_MEMBERSHIP  change the configuration (the voters) by one node
 *   PAXOS_A_MEMBERS       u32, required: the new configuration.  The old one
 *                         is this node's latest (pending changes included);
 *                         new must add one node, remove one, or swap one
 *                         for another (EINVAL otherwise), every node of it
 *                         must be known, with a MAC (EINVAL "node N has no
 *                         MAC: set-peers first")
 *   -> ack once the change is proposed: the proposer forwards it to the
 *      leader if it is not the leader itself; EAGAIN when no leader is
 *      known yet or the proposer's queue is full, EBUSY while another
 *      request is being handed over, EOPNOTSUPP without the proposer
 *      role, ETIMEDOUT if the node thread did not take it within 5 s.  The change is a PAXOS_CLIENT_MEMBERSHIP command:
 *      decided, it takes effect alpha instances later, on every node; if
 *      another change won the race it is a no-op.  Each node then sends a
 *      PAXOS_EVENT_MEMBERSHIP event and GET_STATUS reports it.
 *
 * PAXOS_CMD_SET_PARAMS  protocol parameters, only while the instance is
 *                       down (EBUSY otherwise); they apply at the next UP
 *   PAXOS_A_PARAMS        nest, required:
 *     PAXOS_PARAM_*         u64 each, optional; 0 restores the default
 *   -> ack.
 *
 * PAXOS_CMD_GET_STATUS  doit or dump (the dump has one message per instance
 *                       of the namespace, so zero or one)
 *   -> PAXOS_A_IFNAME, PAXOS_A_NODE_ID, PAXOS_A_CLUSTER_ID,
 *      PAXOS_A_GROUP_ID, PAXOS_A_ROLES, PAXOS_A_ETHERTYPE,
 *      PAXOS_A_MEMBERS (the configuration in effect at the next instance
 *      this node delivers), PAXOS_A_MEMBERS_LATEST (the one after the
 *      change decided and not in effect yet; = MEMBERS when none is),
 *      PAXOS_A_LEADER_ID, PAXOS_A_BALLOT,
 *      PAXOS_A_PEERS (nest of nests of PAXOS_PEER_A_ID, PAXOS_PEER_A_MAC:
 *      every known node),
 *      PAXOS_A_PARAMS (nest of PAXOS_PARAM_* -> u64, every parameter),
 *      PAXOS_A_STATUS (binary struct paxos_status; it may grow at the end:
 *      copy min(attribute length, sizeof) bytes)
 *   The doit form fails with ENOTCONN when there is no instance.
 *
 * PAXOS_CMD_EVENT       multicast to group PAXOS_GENL_MCGRP_EVENTS, sent in
 *                       the instance's namespace; never a request
 *   PAXOS_A_EVENT         u32 enum paxos_event
 *   PAXOS_A_NODE_ID       u32: the reporting node
 *   LEADER_CHANGE:  PAXOS_A_LEADER_ID (0: no leader known), PAXOS_A_BALLOT
 *   MEMBERSHIP:     PAXOS_A_IFNAME, PAXOS_A_MEMBERS (0 after DOWN),
 *                   PAXOS_A_PEERS (known nodes); after UP, SET_PEERS,
 *                   DOWN, and when this node sees a configuration change
 *                   (a decided one pending, or one taking effect)
 *   ERROR:          PAXOS_A_ERRNO (positive errno), PAXOS_A_MESSAGE
 *
 * u64 attributes are 64-bit aligned with PAXOS_A_PAD where needed (inside
 * PAXOS_A_PARAMS the pad attribute is type 0).  PAXOS_A_KEY,
 * PAXOS_A_STATE_PATH and PAXOS_A_STATE_FLAGS: see "Durability and
 * authentication" below.
 * ------------------------------------------------------------------------
 */
#define PAXOS_GENL_NAME		"paxos"
#define PAXOS_GENL_VERSION	1
#define PAXOS_GENL_MCGRP_EVENTS	"events"

enum paxos_cmd {
	PAXOS_CMD_UNSPEC,
	PAXOS_CMD_UP,		/* create the namespace's instance */
	PAXOS_CMD_DOWN,		/* destroy it */
	PAXOS_CMD_SET_PEERS,
	PAXOS_CMD_SET_PARAMS,
	PAXOS_CMD_GET_STATUS,	/* dump */
	PAXOS_CMD_EVENT,	/* multicast: leader change, error */
	PAXOS_CMD_MEMBERSHIP,	/* change the configuration by one node */
	__PAXOS_CMD_MAX
};
#define PAXOS_CMD_MAX (__PAXOS_CMD_MAX - 1)

enum paxos_attr {
	PAXOS_A_UNSPEC,
	PAXOS_A_IFNAME,		/* string */
	PAXOS_A_NODE_ID,	/* u32 */
	PAXOS_A_CLUSTER_ID,	/* u32 */
	PAXOS_A_GROUP_ID,	/* u16 */
	PAXOS_A_ROLES,		/* u32 */
	PAXOS_A_PEERS,		/* nest of nests of PAXOS_PEER_A_* */
	PAXOS_A_PARAMS,		/* nest: PAXOS_PARAM_* -> u64 */
	PAXOS_A_STATUS,		/* binary struct paxos_status */
	PAXOS_A_LEADER_ID,	/* u32, in events */
	PAXOS_A_BALLOT,		/* u64, in events */
	PAXOS_A_EVENT,		/* u32 enum paxos_event */
	PAXOS_A_KEY,		/* binary, PAXOS_KEY_LEN; never reported */
	PAXOS_A_ETHERTYPE,	/* u16 */
	PAXOS_A_PAD,		/* alignment of u64 attributes */
	PAXOS_A_MEMBERS,	/* u32 bitmap, bit n = node n: configuration */
	PAXOS_A_ERRNO,		/* u32 positive errno, in error events */
	PAXOS_A_MESSAGE,	/* string, in error events */
	PAXOS_A_STATE_PATH,	/* string: durable acceptor state file */
	PAXOS_A_STATE_FLAGS,	/* u32 PAXOS_STATE_F_* */
	PAXOS_A_MEMBERS_LATEST,	/* u32: configuration after a pending change */
	__PAXOS_A_MAX
};
#define PAXOS_A_MAX (__PAXOS_A_MAX - 1)

/*
 * Durability and authentication (docs/durability.md).
 *
 * PAXOS_CMD_UP takes, optionally:
 *   PAXOS_A_STATE_PATH    string, < PAXOS_STATE_PATH_MAX: the acceptor's
 *                         state log (created if missing).  Without it the
 *                         acceptor keeps its state in memory only, which
 *                         is NOT safe across crashes or restarts.
 *   PAXOS_A_STATE_FLAGS   u32: PAXOS_STATE_F_REJOIN only
 *   PAXOS_A_KEY           binary[PAXOS_KEY_LEN]: cluster key; every frame
 *                         is then authenticated (PAXOS_F_AUTH) and frames
 *                         without a valid tag are dropped (BAD_AUTH).
 *                         The key is never reported, logged or dumped.
 * PAXOS_CMD_GET_STATUS reports PAXOS_A_STATE_FLAGS (the bits below) and
 * PAXOS_A_STATE_PATH when set.
 */
#define PAXOS_STATE_PATH_MAX	256

enum paxos_state_flags {
	/* request: this node may have voted before and lost its state */
	PAXOS_STATE_F_REJOIN = 1 << 0,
	/* reported: acceptor state is on disk (else: in memory, unsafe) */
	PAXOS_STATE_F_DURABLE = 1 << 1,
	/* reported: lost state, not voting until the rejoin rule holds */
	PAXOS_STATE_F_REJOINING = 1 << 2,
	/* reported: frames are authenticated with a cluster key */
	PAXOS_STATE_F_AUTH = 1 << 3,
	/* reported: a state write failed; the acceptor no longer answers */
	PAXOS_STATE_F_FAILED = 1 << 4,
};

enum paxos_peer_attr {
	PAXOS_PEER_A_UNSPEC,
	PAXOS_PEER_A_ID,	/* u32 */
	PAXOS_PEER_A_MAC,	/* binary, 6 bytes */
	__PAXOS_PEER_A_MAX
};
#define PAXOS_PEER_A_MAX (__PAXOS_PEER_A_MAX - 1)

enum paxos_event {
	PAXOS_EVENT_LEADER_CHANGE = 1,
	PAXOS_EVENT_MEMBERSHIP,
	PAXOS_EVENT_ERROR,
};

#endif /* _UAPI_LINUX_PAXOS_H */
