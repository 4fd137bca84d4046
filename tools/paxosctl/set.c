// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl set KEY=VALUE ...      (SET_PARAMS)
 * paxosctl set-peers ID=MAC ...   (SET_PEERS)
 */
#include <errno.h>
#include <string.h>

#include "paxosctl.h"

static bool is_help(int argc, char **argv)
{
	return argc == 2 && (!strcmp(argv[1], "-h") ||
			     !strcmp(argv[1], "--help"));
}

int cmd_set(int argc, char **argv)
{
	uint32_t keys[__PAXOS_PARAM_MAX];
	uint64_t vals[__PAXOS_PARAM_MAX];
	struct pxc_nl *nl;
	int i, n = 0, err;

	if (is_help(argc, argv))
		return pxc_help("set"), PXC_OK;
	if (argc < 2)
		return pxc_usage("set");
	for (i = 1; i < argc; i++) {
		if (n == __PAXOS_PARAM_MAX - 1)
			return pxc_err("set", "too many settings"), PXC_USAGE;
		err = pxc_parse_param(argv[i], &keys[n], &vals[n]);
		if (err == -ENOENT)
			return pxc_err("set", "%s: unknown key; keys are window, batch_bytes, batch_delay_us, heartbeat_us, election_us, retransmit_us, acceptor_slots, learner_slots, snapshot_every", argv[i]), PXC_USAGE;
		if (err)
			return pxc_err("set", "%s: expected KEY=VALUE with a non-negative number", argv[i]),
			       PXC_USAGE;
		n++;
	}
	err = pxc_nl_open(&nl, false);
	if (err)
		return PXC_ERR;
	err = pxc_nl_set_params(nl, n, keys, vals);
	pxc_nl_close(nl);
	if (err == -EBUSY)
		fprintf(stderr, "%s: parameters apply when the instance comes up: run `paxosctl down`, set, then `paxosctl up`, or give them to up with --set\n", prog);
	return err ? PXC_ERR : PXC_OK;
}

int cmd_set_peers(int argc, char **argv)
{
	struct pxc_peer peers[PAXOS_MAX_NODES];
	struct pxc_nl *nl;
	int i, n = 0, err;

	if (is_help(argc, argv))
		return pxc_help("set-peers"), PXC_OK;
	if (argc < 2)
		return pxc_usage("set-peers");
	for (i = 1; i < argc; i++) {
		if (n == PAXOS_MAX_NODES)
			return pxc_err("set-peers", "too many peers"),
			       PXC_USAGE;
		if (pxc_parse_peer(argv[i], &peers[n]))
			return pxc_err("set-peers", "%s: expected ID=MAC, e.g. 2=02:00:00:00:00:02", argv[i]),
			       PXC_USAGE;
		n++;
	}
	err = pxc_nl_open(&nl, false);
	if (err)
		return PXC_ERR;
	err = pxc_nl_set_peers(nl, n, peers);
	pxc_nl_close(nl);
	return err ? PXC_ERR : PXC_OK;
}
