// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl monitor [--json] [--count N] [--timeout SECONDS]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "paxosctl.h"

struct mon {
	bool json;
	long seen;
};

static void print_members(const struct pxc_event *ev)
{
	uint32_t id;

	for (id = 1; id < PAXOS_MAX_NODES; id++)
		if (ev->members & (1u << id))
			printf(" %u", id);
}

static void on_event(const struct pxc_event *ev, void *arg)
{
	struct mon *m = arg;
	uint32_t id;

	m->seen++;
	switch (ev->event) {
	case PAXOS_EVENT_LEADER_CHANGE:
		if (m->json)
			printf("{\"event\": \"leader_change\", \"node_id\": %u, \"leader_id\": %u, \"ballot\": %" PRIu64 "}\n",
			       ev->node_id, ev->leader_id, ev->ballot);
		else if (ev->leader_id)
			printf("node %u: leader is now %u (ballot 0x%" PRIx64
			       ")\n", ev->node_id, ev->leader_id, ev->ballot);
		else
			printf("node %u: no leader known\n", ev->node_id);
		break;
	case PAXOS_EVENT_MEMBERSHIP:
		if (m->json) {
			printf("{\"event\": \"membership\", \"node_id\": %u, \"ifname\": \"%s\", \"members\": [",
			       ev->node_id, ev->ifname);
			for (id = 1; id < PAXOS_MAX_NODES; id++)
				if (ev->members & (1u << id))
					printf("%s%u", ev->members &
					       ((1u << id) - 1) ? ", " : "",
					       id);
			printf("]}\n");
		} else if (ev->members) {
			printf("node %u: up on %s, members", ev->node_id,
			       ev->ifname);
			print_members(ev);
			printf("\n");
		} else {
			printf("node %u: down\n", ev->node_id);
		}
		break;
	case PAXOS_EVENT_ERROR:
		if (m->json)
			printf("{\"event\": \"error\", \"node_id\": %u, \"errno\": %u, \"message\": \"%s\"}\n",
			       ev->node_id, ev->err, ev->message);
		else
			printf("node %u: error: %s%s%s\n", ev->node_id,
			       strerror(ev->err), ev->message[0] ? ": " : "",
			       ev->message);
		break;
	default:
		if (m->json)
			printf("{\"event\": %u, \"node_id\": %u}\n", ev->event,
			       ev->node_id);
		else
			printf("node %u: event %u\n", ev->node_id, ev->event);
		break;
	}
	fflush(stdout);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct mon m = { 0 };
	uint32_t count = 0, timeout = 0;
	struct timespec t0;
	struct pxc_nl *nl;
	long left;
	int c, ret;

	optind = 0;	/* GNU: rescan from scratch */
	while ((c = getopt_long(argc, argv, "jc:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			m.json = true;
			break;
		case 'c':
			if (pxc_parse_u32(optarg, &count))
				return pxc_usage("monitor");
			break;
		case 't':
			if (pxc_parse_u32(optarg, &timeout))
				return pxc_usage("monitor");
			break;
		case 'h':
			return pxc_help("monitor"), PXC_OK;
		default:
			return pxc_usage("monitor");
		}
	}
	if (optind != argc)
		return pxc_usage("monitor");
	if (pxc_nl_open(&nl, false))
		return PXC_ERR;
	if (pxc_nl_monitor_start(nl)) {
		pxc_nl_close(nl);
		return PXC_ERR;
	}
	if (!m.json)
		fprintf(stderr, "%s: watching kpaxos events (Ctrl-C stops)\n",
			prog);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (count && m.seen >= count)
			break;
		left = -1;
		if (timeout) {
			left = (long)timeout * 1000 - elapsed_ms(&t0);
			if (left <= 0)
				break;
		}
		ret = pxc_nl_monitor_poll(nl, left, on_event, &m);
		if (ret < 0 && ret != -EINTR) {
			pxc_nl_close(nl);
			return pxc_err("monitor", "receiving events: %s",
				       strerror(-ret));
		}
	}
	pxc_nl_close(nl);
	/* --count not reached within --timeout: say so */
	return count && m.seen < count ? PXC_ERR : PXC_OK;
}
