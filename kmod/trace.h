/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of paxos.ko: trace-cmd record -e paxos, or
 * /sys/kernel/tracing/events/paxos/.  Integer fields only (see compat.h).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM paxos

#if !defined(KPAXOS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KPAXOS_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(paxos_propose,
	TP_PROTO(unsigned int netns, u8 node, u64 client_id, u64 seq, u32 len),
	TP_ARGS(netns, node, client_id, seq, len),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u8, node)
		__field(u64, client_id)
		__field(u64, seq)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->node = node;
		__entry->client_id = client_id;
		__entry->seq = seq;
		__entry->len = len;
	),
	TP_printk("netns=%u node=%u client=%llx seq=%llu len=%u",
		  __entry->netns, __entry->node, __entry->client_id,
		  __entry->seq, __entry->len)
);

TRACE_EVENT(paxos_decide,
	TP_PROTO(unsigned int netns, u8 node, u64 committed),
	TP_ARGS(netns, node, committed),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u8, node)
		__field(u64, committed)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->node = node;
		__entry->committed = committed;
	),
	TP_printk("netns=%u node=%u committed=%llu",
		  __entry->netns, __entry->node, __entry->committed)
);

TRACE_EVENT(paxos_deliver,
	TP_PROTO(unsigned int netns, u8 node, u64 instance, u32 n_cmds),
	TP_ARGS(netns, node, instance, n_cmds),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u8, node)
		__field(u64, instance)
		__field(u32, n_cmds)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->node = node;
		__entry->instance = instance;
		__entry->n_cmds = n_cmds;
	),
	TP_printk("netns=%u node=%u instance=%llu cmds=%u",
		  __entry->netns, __entry->node, __entry->instance,
		  __entry->n_cmds)
);

TRACE_EVENT(paxos_leader_change,
	TP_PROTO(unsigned int netns, u8 node, u8 leader, u64 ballot),
	TP_ARGS(netns, node, leader, ballot),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u8, node)
		__field(u8, leader)
		__field(u64, ballot)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->node = node;
		__entry->leader = leader;
		__entry->ballot = ballot;
	),
	TP_printk("netns=%u node=%u leader=%u ballot=%llu.%llu",
		  __entry->netns, __entry->node, __entry->leader,
		  __entry->ballot >> 8, __entry->ballot & 0xff)
);

#endif /* KPAXOS_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
