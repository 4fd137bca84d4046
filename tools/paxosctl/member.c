// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl member add ID=MAC | remove ID | replace OLD NEW=MAC  (MEMBERSHIP)
 * paxosctl members [--json]                                   (GET_STATUS)
 *
 * add and replace first make the new node known on this node: SET_PEERS
 * with the known nodes of GET_STATUS plus it.  The kernel takes the old
 * configuration itself (its latest); the new one is computed here from the
 * configuration in effect.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "paxosctl.h"

#define PXC_MEMBER_RETRY_MS	3000

static bool is_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static void print_members(FILE *f, uint32_t members)
{
	uint32_t id;
	bool first = true;

	for (id = 1; id < PAXOS_MAX_NODES; id++) {
		if (!(members & (1u << id)))
			continue;
		fprintf(f, "%s%u", first ? "" : " ", id);
		first = false;
	}
}

/* This node's instance over netlink; PXC_OK or an exit status. */
static int get_node(struct pxc_nl *nl, const char *what, struct pxc_node *n)
{
	int ret = pxc_nl_status(nl, n);

	if (ret < 0)
		return PXC_ERR;
	if (!ret)
		return pxc_err(what, "no instance in this network namespace");
	return PXC_OK;
}

/* Known nodes plus @p (its MAC replaced if it was known): SET_PEERS. */
static int add_peer(struct pxc_nl *nl, const struct pxc_node *n,
		    const struct pxc_peer *p)
{
	struct pxc_peer peers[PAXOS_MAX_NODES];
	uint32_t i, k = 0;
	bool found = false;

	for (i = 0; i < n->n_peers && k < PAXOS_MAX_NODES; i++) {
		peers[k] = n->peers[i];
		if (peers[k].id == p->id) {
			memcpy(peers[k].mac, p->mac, sizeof(p->mac));
			found = true;
		}
		k++;
	}
	if (found && !memcmp(n->peers, peers, k * sizeof(peers[0])))
		return 0;	/* known already, same MAC */
	if (!found) {
		if (k == PAXOS_MAX_NODES)
			return pxc_err("member", "too many peers"), -ENOSPC;
		peers[k++] = *p;
	}
	return pxc_nl_set_peers(nl, k, peers);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Wait until the configuration in effect here is @want.  A request
 * forwarded to the leader may be lost with its frame: while no change
 * from @old is decided, ask again every PXC_MEMBER_RETRY_MS.  A repeat
 * decided after the first is a no-op (its old is no longer the latest).
 */
static int wait_members(struct pxc_nl *nl, uint32_t old, uint32_t want,
			uint32_t secs)
{
	struct pxc_node n;
	long left = (long)secs * 1000, retry = PXC_MEMBER_RETRY_MS;

	for (;;) {
		if (get_node(nl, "member", &n))
			return PXC_ERR;
		if (n.members == want)
			return PXC_OK;
		if (left <= 0)
			break;
		sleep_ms(100);
		left -= 100;
		retry -= 100;
		if (retry <= 0 && n.members_latest == old) {
			retry = PXC_MEMBER_RETRY_MS;
			/* A failure here (no leader yet) is retried too. */
			pxc_nl_membership(nl, want);
		}
	}
	fprintf(stderr, "%s: member: not in effect after %u s: members are ",
		prog, secs);
	print_members(stderr, n.members);
	fputc('\n', stderr);
	return PXC_ERR;
}

int cmd_member(int argc, char **argv)
{
	struct pxc_peer add = { 0 };
	struct pxc_node n;
	struct pxc_nl *nl;
	uint32_t old_id = 0, want, secs = 0;
	bool adding = false, wait = false;
	const char *op;
	int ret, nargs;

	if (is_help(argc, argv))
		return pxc_help("member"), PXC_OK;
	if (argc >= 2 && !strcmp(argv[argc - 2], "--wait")) {
		if (pxc_parse_u32(argv[argc - 1], &secs))
			return pxc_err("member", "--wait %s: not a number of seconds",
				       argv[argc - 1]), PXC_USAGE;
		wait = true;
		argc -= 2;
	}
	if (argc < 3)
		return pxc_usage("member");
	op = argv[1];
	nargs = argc - 2;
	if (!strcmp(op, "add") && nargs == 1) {
		if (pxc_parse_peer(argv[2], &add))
			return pxc_err("member", "%s: expected ID=MAC, e.g. 4=02:00:00:00:00:04",
				       argv[2]), PXC_USAGE;
		adding = true;
	} else if (!strcmp(op, "remove") && nargs == 1) {
		if (pxc_parse_u32(argv[2], &old_id))
			return pxc_err("member", "%s: not a node id", argv[2]),
			       PXC_USAGE;
	} else if (!strcmp(op, "replace") && nargs == 2) {
		if (pxc_parse_u32(argv[2], &old_id))
			return pxc_err("member", "%s: not a node id", argv[2]),
			       PXC_USAGE;
		if (pxc_parse_peer(argv[3], &add))
			return pxc_err("member", "%s: expected NEW=MAC, e.g. 4=02:00:00:00:00:04",
				       argv[3]), PXC_USAGE;
		adding = true;
	} else {
		return pxc_usage("member");
	}
	if ((old_id && (old_id < 1 || old_id >= PAXOS_MAX_NODES)) ||
	    (adding && (add.id < 1 || add.id >= PAXOS_MAX_NODES)))
		return pxc_err("member", "node ids are 1..31"), PXC_USAGE;

	if (pxc_nl_open(&nl, false))
		return PXC_ERR;
	ret = get_node(nl, "member", &n);
	if (ret)
		goto out;
	ret = PXC_ERR;
	if (n.members_latest != n.members) {
		fprintf(stderr, "%s: member: a change is pending: ", prog);
		print_members(stderr, n.members);
		fprintf(stderr, " -> ");
		print_members(stderr, n.members_latest);
		fprintf(stderr, " (one change at a time; wait for it)\n");
		goto out;
	}
	want = n.members;
	if (old_id) {
		if (!(n.members & (1u << old_id))) {
			pxc_err("member", "node %u is not a member", old_id);
			goto out;
		}
		want &= ~(1u << old_id);
	}
	if (adding) {
		if (n.members & (1u << add.id)) {
			pxc_err("member", "node %u is a member already",
				add.id);
			goto out;
		}
		want |= 1u << add.id;
		if (add_peer(nl, &n, &add))
			goto out;
	}
	if (!want) {
		pxc_err("member", "the last member cannot be removed");
		goto out;
	}
	if (pxc_nl_membership(nl, want))
		goto out;
	printf("membership change proposed: ");
	print_members(stdout, n.members);
	printf(" -> ");
	print_members(stdout, want);
	printf("\n");
	ret = wait ? wait_members(nl, n.members, want, secs) : PXC_OK;
out:
	pxc_nl_close(nl);
	return ret;
}

int cmd_members(int argc, char **argv)
{
	struct pxc_node n;
	struct pxc_nl *nl;
	bool json = false;
	char mac[18];
	uint32_t i;
	int ret;

	if (is_help(argc, argv))
		return pxc_help("members"), PXC_OK;
	if (argc == 2 && !strcmp(argv[1], "--json"))
		json = true;
	else if (argc != 1)
		return pxc_usage("members");
	if (pxc_nl_open(&nl, false))
		return PXC_ERR;
	ret = get_node(nl, "members", &n);
	pxc_nl_close(nl);
	if (ret)
		return ret;
	if (json) {
		printf("{\"node_id\": %u, \"members\": [", n.node_id);
		for (i = 1; i < PAXOS_MAX_NODES; i++)
			if (n.members & (1u << i))
				printf("%s%u", (n.members & ((1u << i) - 1)) ?
				       ", " : "", i);
		printf("], \"members_latest\": [");
		for (i = 1; i < PAXOS_MAX_NODES; i++)
			if (n.members_latest & (1u << i))
				printf("%s%u", (n.members_latest &
						((1u << i) - 1)) ? ", " : "",
				       i);
		printf("], \"leader_id\": %u, \"known\": [", n.leader_id);
		for (i = 0; i < n.n_peers; i++) {
			pxc_format_mac(n.peers[i].mac, mac);
			printf("%s{\"id\": %u, \"mac\": \"%s\"}",
			       i ? ", " : "", n.peers[i].id, mac);
		}
		printf("]}\n");
		return PXC_OK;
	}
	printf("members: ");
	print_members(stdout, n.members);
	printf("  (quorum %d)\n", __builtin_popcount(n.members) / 2 + 1);
	if (n.members_latest != n.members) {
		printf("pending: ");
		print_members(stdout, n.members_latest);
		printf("  (decided, not in effect yet)\n");
	}
	printf("leader:  ");
	if (n.leader_id)
		printf("%u\n", n.leader_id);
	else
		printf("none known\n");
	printf("known:\n");
	for (i = 0; i < n.n_peers; i++) {
		pxc_format_mac(n.peers[i].mac, mac);
		printf("  %2u  %s  %s%s\n", n.peers[i].id, mac,
		       n.members & (1u << n.peers[i].id) ? "member" :
		       "not a member",
		       n.peers[i].id == n.node_id ? " (this node)" : "");
	}
	return PXC_OK;
}
