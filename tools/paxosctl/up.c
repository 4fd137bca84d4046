// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl up IFNAME --id N --peer ID=MAC ... [options]
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "paxosctl.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The cluster key from @path: 32 raw bytes, or 64 hex digits (and an
 * optional newline).  Never printed.  0 or -1.
 */
static int read_key(const char *path, uint8_t *key)
{
	uint8_t buf[PAXOS_KEY_LEN * 2 + 2];
	size_t n, i;
	FILE *f;
	int hi, lo;

	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == PAXOS_KEY_LEN) {
		memcpy(key, buf, n);
		explicit_bzero(buf, sizeof(buf));
		return 0;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n != PAXOS_KEY_LEN * 2)
		goto bad;
	for (i = 0; i < PAXOS_KEY_LEN; i++) {
		hi = hexval(buf[2 * i]);
		lo = hexval(buf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		key[i] = hi << 4 | lo;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
bad:
	explicit_bzero(buf, sizeof(buf));
	return -1;
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "peer", required_argument, NULL, 'p' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		{ "roles", required_argument, NULL, 'r' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "set", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'S' },
		{ "rejoin", no_argument, NULL, 'R' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "members", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pxc_up up = { 0 };
	struct pxc_nl *nl;
	bool have_id = false;
	uint32_t v;
	int c, err;

	optind = 0;	/* GNU: rescan from scratch */
	while ((c = getopt_long(argc, argv, "i:p:c:g:r:e:s:S:RK:m:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			if (pxc_parse_u32(optarg, &up.node_id))
				return pxc_err("up", "--id %s: not a number",
					       optarg), PXC_USAGE;
			have_id = true;
			break;
		case 'p':
			if (up.n_peers == PAXOS_MAX_NODES)
				return pxc_err("up", "too many --peer"),
				       PXC_USAGE;
			if (pxc_parse_peer(optarg, &up.peers[up.n_peers]))
				return pxc_err("up", "--peer %s: expected ID=MAC, e.g. 2=02:00:00:00:00:02",
					       optarg), PXC_USAGE;
			up.n_peers++;
			break;
		case 'c':
			if (pxc_parse_u32(optarg, &up.cluster_id))
				return pxc_err("up", "--cluster %s: not a 32-bit number", optarg),
				       PXC_USAGE;
			up.has_cluster = true;
			break;
		case 'g':
			if (pxc_parse_u32(optarg, &v) || v > 0xffff)
				return pxc_err("up", "--group %s: not a 16-bit number", optarg),
				       PXC_USAGE;
			up.group_id = v;
			up.has_group = true;
			break;
		case 'r':
			if (pxc_parse_roles(optarg, &up.roles))
				return pxc_err("up", "--roles %s: expected a comma-separated list of acceptor, proposer, learner (or all)", optarg), PXC_USAGE;
			up.has_roles = true;
			break;
		case 'e':
			if (pxc_parse_u32(optarg, &v) || v > 0xffff)
				return pxc_err("up", "--ethertype %s: not a 16-bit number", optarg),
				       PXC_USAGE;
			up.ethertype = v;
			up.has_ethertype = true;
			break;
		case 's':
			if (up.n_params == __PAXOS_PARAM_MAX - 1 ||
			    pxc_parse_param(optarg,
					    &up.param_keys[up.n_params],
					    &up.param_vals[up.n_params]))
				return pxc_err("up", "--set %s: expected KEY=VALUE with a KEY from `paxosctl set --help`", optarg),
				       PXC_USAGE;
			up.n_params++;
			break;
		case 'S':
			if (optarg[0] != '/' ||
			    strlen(optarg) >= PAXOS_STATE_PATH_MAX)
				return pxc_err("up", "--state %s: absolute path, < %d bytes",
					       optarg, PAXOS_STATE_PATH_MAX),
				       PXC_USAGE;
			up.state_path = optarg;
			break;
		case 'R':
			up.rejoin = true;
			break;
		case 'K':
			if (read_key(optarg, up.key))
				return pxc_err("up", "--key-file %s: not 32 bytes/64 hex digits",
					       optarg), PXC_USAGE;
			up.has_key = true;
			break;
		case 'm':
			if (pxc_parse_ids(optarg, &up.members))
				return pxc_err("up", "--members %s: expected a comma-separated list of node ids 1..31", optarg),
				       PXC_USAGE;
			break;
		case 'h':
			return pxc_help("up"), PXC_OK;
		default:
			return pxc_usage("up");
		}
	}
	if (optind != argc - 1)
		return pxc_err("up", "give exactly one interface name"),
		       pxc_usage("up");
	up.ifname = argv[optind];
	if (strlen(up.ifname) >= IF_NAMESIZE)
		return pxc_err("up", "interface name '%s' is too long",
			       up.ifname), PXC_USAGE;
	if (!have_id)
		return pxc_err("up", "--id N is required (this node's id)"),
		       PXC_USAGE;
	if (!up.n_peers)
		return pxc_err("up", "at least one --peer ID=MAC is required (every member, this node included)"),
		       PXC_USAGE;

	if (up.rejoin && !up.state_path)
		return pxc_err("up", "--rejoin needs --state"), PXC_USAGE;

	err = pxc_nl_open(&nl, false);
	if (err)
		return PXC_ERR;
	err = pxc_nl_up(nl, &up);
	explicit_bzero(up.key, sizeof(up.key));
	pxc_nl_close(nl);
	return err ? PXC_ERR : PXC_OK;
}
