// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl status [--json]
 *
 * Netlink first (configuration, parameters and counters); the status ioctl
 * on /dev/paxos when the netlink family is not there (counters and
 * parameters only).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "paxosctl.h"

static const char *const role_names[] = { "acceptor", "proposer", "learner" };

static int popcount(uint32_t v)
{
	int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* PAXOS_STATE_F_* by bit, as reported (REJOIN is only a request). */
static const char *const state_names[] = {
	[1] = "durable", [2] = "rejoining", [3] = "auth", [4] = "failed",
};

/* The acceptor's durability, and frame authentication. */
static void print_state(const struct pxc_node *n)
{
	uint32_t f = n->state_flags;

	if (f & PAXOS_STATE_F_DURABLE)
		printf("  %-15s durable in %s%s%s\n", "acceptor state:",
		       n->state_path,
		       f & PAXOS_STATE_F_REJOINING ?
		       "  (REJOINING: lost state, not voting yet)" : "",
		       f & PAXOS_STATE_F_FAILED ?
		       "  (FAILED: write error, acceptor mute)" : "");
	else
		printf("  %-15s IN MEMORY ONLY: unsafe across crashes and restarts\n",
		       "acceptor state:");
	printf("  %-15s %s\n", "frames:", f & PAXOS_STATE_F_AUTH ?
	       "authenticated (cluster key)" : "not authenticated");
}

static void print_ids(const char *label, uint32_t members)
{
	uint32_t id;

	printf("  %-15s", label);
	for (id = 1; id < PAXOS_MAX_NODES; id++)
		if (members & (1u << id))
			printf(" %u", id);
	printf("  (quorum %d)\n", popcount(members) / 2 + 1);
}

static void print_human(const struct pxc_node *n)
{
	const struct paxos_status *st = &n->st;
	char mac[18];
	uint32_t i;
	int drops = 0;

	if (n->have_config) {
		printf("node %u on %s  (cluster %u, group %u, ethertype 0x%04x)\n", n->node_id, n->ifname, n->cluster_id,
		       n->group_id, n->ethertype);
		printf("  %-15s", "roles:");
		for (i = 0; i < 3; i++)
			if (n->roles & (1u << i))
				printf(" %s", role_names[i]);
		printf("\n");
	} else {
		printf("node %u  (from %s: no configuration details)\n",
		       n->node_id, n->source);
	}
	print_ids("members:", n->members);
	if (n->have_state)
		print_state(n);
	if (n->leader_id)
		printf("  %-15s %u%s\n", "leader:", n->leader_id,
		       n->leader_id == n->node_id ? " (this node)" : "");
	else
		printf("  %-15s none known\n", "leader:");
	if (n->have_status) {
		printf("  %-15s 0x%llx (round %llu)  promised 0x%llx\n", "ballot:", st->ballot,
		       st->ballot >> 8, st->promised);
		printf("  %-15s first %llu  last %llu  committed %llu  delivered %llu\n",
		       "log:", st->first_index, st->last_index,
		       st->committed_index, st->delivered_index);
		printf("  %-15s proposed %llu  delivered %llu  duplicates %llu\n", "commands:",
		       st->proposals, st->delivered_cmds, st->duplicates);
		printf("  %-15s %llu\n", "leader changes:",
		       st->leader_changes);
		printf("  %-15s every %llu  current %llu  puts %llu  served %llu  installed %llu  rejected %llu\n",
		       "snapshots:", st->snapshot_every, st->snapshot_index,
		       st->snap_puts, st->snap_served, st->snap_installed,
		       st->snap_rejected);
		printf("  %-15s frames rx %llu tx %llu  messages rx %llu tx %llu\n",
		       "traffic:", st->frames_rx, st->frames_tx, st->msgs_rx,
		       st->msgs_tx);
		printf("  %-15s", "drops:");
		for (i = 1; i < __PAXOS_DROP_MAX; i++) {
			if (!st->drops[i])
				continue;
			printf(" %s %llu", pxc_drop_name(i), st->drops[i]);
			drops++;
		}
		printf("%s\n", drops ? "" : " none");
	}
	if (n->n_peers) {
		printf("  peers:\n");
		for (i = 0; i < n->n_peers; i++) {
			pxc_format_mac(n->peers[i].mac, mac);
			printf("    %-3u %s%s\n", n->peers[i].id, mac,
			       n->peers[i].id == n->node_id ? "  (self)" : "");
		}
	}
	if (n->have_params) {
		printf("  %-15s", "params:");
		for (i = 1; i < __PAXOS_PARAM_MAX; i++)
			printf(" %s=%" PRIu64, pxc_param_name(i), n->params[i]);
		printf("\n");
	}
}

static void print_json(const struct pxc_node *n)
{
	const struct paxos_status *st = &n->st;
	const char *sep = "";
	char mac[18];
	uint32_t i;

	printf("{\n  \"source\": \"%s\",\n  \"node_id\": %u,\n", n->source,
	       n->node_id);
	if (n->have_config) {
		printf("  \"ifname\": \"%s\",\n  \"cluster_id\": %u,\n"
		       "  \"group_id\": %u,\n  \"ethertype\": %u,\n",
		       n->ifname, n->cluster_id, n->group_id, n->ethertype);
		printf("  \"roles\": [");
		for (i = 0; i < 3; i++) {
			if (!(n->roles & (1u << i)))
				continue;
			printf("%s\"%s\"", sep, role_names[i]);
			sep = ", ";
		}
		printf("],\n  \"peers\": [");
		for (i = 0; i < n->n_peers; i++) {
			pxc_format_mac(n->peers[i].mac, mac);
			printf("%s{\"id\": %u, \"mac\": \"%s\"}",
			       i ? ", " : "", n->peers[i].id, mac);
		}
		printf("],\n");
	}
	printf("  \"members\": [");
	sep = "";
	for (i = 1; i < PAXOS_MAX_NODES; i++) {
		if (!(n->members & (1u << i)))
			continue;
		printf("%s%u", sep, i);
		sep = ", ";
	}
	printf("],\n  \"quorum\": %d,\n  \"leader_id\": %u,\n",
	       popcount(n->members) / 2 + 1, n->leader_id);
	if (n->have_state) {
		printf("  \"state_flags\": [");
		sep = "";
		for (i = 0; i < ARRAY_SIZE(state_names); i++) {
			if (!(n->state_flags & (1u << i)) || !state_names[i])
				continue;
			printf("%s\"%s\"", sep, state_names[i]);
			sep = ", ";
		}
		printf("],\n  \"state_path\": \"%s\",\n", n->state_path);
	}
	if (n->have_status) {
		printf("  \"is_leader\": %s,\n", st->is_leader ? "true" :
		       "false");
#define F(name) printf("  \"" #name "\": %" PRIu64 ",\n", \
		       (uint64_t)st->name)
		F(ballot);
		F(promised);
		F(first_index);
		F(last_index);
		F(committed_index);
		F(delivered_index);
		F(frames_rx);
		F(frames_tx);
		F(msgs_rx);
		F(msgs_tx);
		F(proposals);
		F(delivered_cmds);
		F(duplicates);
		F(leader_changes);
		F(snapshot_index);
		F(snapshot_every);
		F(snap_puts);
		F(snap_served);
		F(snap_installed);
		F(snap_rejected);
#undef F
		printf("  \"drops\": {");
		for (i = 1; i < __PAXOS_DROP_MAX; i++)
			printf("%s\"%s\": %llu", i > 1 ? ", " : "",
			       pxc_drop_name(i), st->drops[i]);
		printf("},\n");
	}
	printf("  \"params\": {");
	if (n->have_params)
		for (i = 1; i < __PAXOS_PARAM_MAX; i++)
			printf("%s\"%s\": %" PRIu64, i > 1 ? ", " : "",
			       pxc_param_name(i), n->params[i]);
	printf("}\n}\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ioctl", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pxc_node node;
	struct pxc_nl *nl;
	bool json = false, ioctl_only = false;
	int c, ret;

	optind = 0;	/* GNU: rescan from scratch */
	while ((c = getopt_long(argc, argv, "jih", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'i':
			ioctl_only = true;
			break;
		case 'h':
			return pxc_help("status"), PXC_OK;
		default:
			return pxc_usage("status");
		}
	}
	if (optind != argc)
		return pxc_usage("status");

	ret = ioctl_only ? -ENOENT : pxc_nl_open(&nl, true);
	if (!ret) {
		ret = pxc_nl_status(nl, &node);
		pxc_nl_close(nl);
		if (ret < 0)
			return PXC_ERR;
	} else {
		/* no netlink family: ask the device */
		ret = pxc_dev_status(&node);
		if (ret == -ENOTCONN) {
			ret = 0;
		} else if (ret < 0) {
			return pxc_err("status", "%s: %s%s", device_path,
				       strerror(-ret), ret == -ENOENT ?
				       " - is the paxos module loaded? (modprobe paxos)" : "");
		} else {
			ret = 1;
		}
	}
	if (!ret) {
		if (json)
			printf("{\"instance\": null}\n");
		return pxc_err("status", "no kpaxos instance in this network namespace; create one with `paxosctl up IFNAME --id N --peer ID=MAC ...`");
	}
	if (json)
		print_json(&node);
	else
		print_human(&node);
	return PXC_OK;
}
