// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl: command table, help, global options.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "paxosctl.h"

const char *prog = "paxosctl";
const char *device_path = "/dev/paxos";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *help;
} commands[] = {
	{ "up", cmd_up,
	  "up IFNAME --id N --peer ID=MAC... [--cluster C] [--group G]\n"
	  "           [--roles LIST] [--ethertype T] [--set KEY=VALUE]...\n"
	  "           [--state PATH [--rejoin]] [--key-file F] [--members LIST]",
	  "Create this namespace's kpaxos instance on interface IFNAME as node\n"
	  "N.  Give one --peer ID=MAC for every member of the cluster, this\n"
	  "node included (its MAC is that of IFNAME on its own machine); node\n"
	  "ids are 1..31 and a majority of the members is a quorum.  Nodes\n"
	  "only talk to nodes with the same --cluster and --group (default 0).\n"
	  "--roles takes a comma-separated subset of acceptor, proposer,\n"
	  "learner (default all).  --ethertype overrides 0x88b5.  --set\n"
	  "applies protocol parameters first (see set).\n"
	  "--state PATH keeps the acceptor's promises and accepted values in\n"
	  "that file (absolute path; created if missing) and reloads them at\n"
	  "the next up: without it the state is in memory only, NOT safe\n"
	  "across crashes or restarts.  --rejoin: this node lost its state\n"
	  "file; it votes only once that is safe again.  --key-file F: the\n"
	  "cluster key (32 bytes or 64 hex digits); every frame is then\n"
	  "authenticated.  See docs/durability.md.\n"
	  "--members LIST: the configuration (the voters), a comma-separated\n"
	  "subset of the peers' ids; default: every peer.  This node may be\n"
	  "outside it: it then learns the log, without voting, until a\n"
	  "membership change adds it (see member)." },
	{ "down", cmd_down, "down",
	  "Destroy this namespace's instance.  Readers of /dev/paxos get\n"
	  "ENOTCONN; nothing is kept but the --state file, if any." },
	{ "status", cmd_status, "status [--json] [--ioctl]",
	  "Show the instance: configuration, leader, ballot, log indexes,\n"
	  "counters, drops by reason, peers and parameters.  --json prints\n"
	  "one JSON object for scripts.  Uses netlink; falls back to the\n"
	  "status ioctl on /dev/paxos when the netlink family is absent\n"
	  "(--ioctl: use only the ioctl; no configuration details then).\n"
	  "\"paxosctl\" alone is \"paxosctl status\"." },
	{ "set", cmd_set, "set KEY=VALUE...",
	  "Set protocol parameters; they take effect at the next up (while an\n"
	  "instance is up the kernel refuses with EBUSY).  VALUE 0 restores\n"
	  "the default.  Keys: window (instances in flight), batch_bytes,\n"
	  "batch_delay_us, heartbeat_us, election_us (base election timeout),\n"
	  "retransmit_us, acceptor_slots and learner_slots (instances\n"
	  "retained, powers of 2), snapshot_every (snapshot point interval;\n"
	  "default: the module parameter, learner_slots / 4)." },
	{ "set-peers", cmd_set_peers, "set-peers ID=MAC...",
	  "Set the known nodes: every node this one exchanges frames with,\n"
	  "itself included, with its MAC address.  A member may get a new\n"
	  "address; a node outside the configuration may be added (before a\n"
	  "member add or replace) or left out (after it was removed).  Every\n"
	  "member must stay: remove it with member remove first." },
	{ "member", cmd_member,
	  "member add ID=MAC | remove ID | replace OLD NEW=MAC [--wait SECONDS]",
	  "Change the configuration (the voters) by one node through the\n"
	  "log: add node ID, remove it, or swap member OLD for node NEW in\n"
	  "one step (a replace keeps the quorum size).  add and replace\n"
	  "first make the new node known on this node (set-peers with it\n"
	  "added); it must be known, and up, on the other nodes too: run\n"
	  "set-peers there, and up on the new node with --members set to\n"
	  "the current configuration.  Any node with the proposer role may\n"
	  "be asked; the change is forwarded to the leader, decided, and\n"
	  "takes effect some instances later on every node.  A change that\n"
	  "races another one is a no-op.  --wait: wait until this node has\n"
	  "the new configuration in effect (exit 1 if not within SECONDS),\n"
	  "asking again every 3 s while no change is decided (a request\n"
	  "forwarded to the leader can be lost with its frame).\n"
	  "When a removed node is down, forget it with set-peers." },
	{ "members", cmd_members, "members [--json]",
	  "Show the configuration in effect on this node (the voters and the\n"
	  "quorum), the known nodes with their MAC addresses, and the leader." },
	{ "monitor", cmd_monitor,
	  "monitor [--json] [--count N] [--timeout SECONDS]",
	  "Print events as they happen: leader changes, membership (up, down,\n"
	  "set-peers, a configuration change decided or taking effect) and\n"
	  "errors of administrative changes.  Stops after N\n"
	  "events or SECONDS seconds if asked (exit 1 if --count events did\n"
	  "not come in time)." },
};

static const char help_head[] =
"NAME\n"
"    paxosctl - configure and inspect kpaxos, in-kernel Multi-Paxos\n"
"\n"
"SYNOPSIS\n"
"    paxosctl [-d DEVICE] COMMAND [ARGS]\n"
"    paxosctl COMMAND --help\n"
"    paxosctl --help | --version\n"
"\n"
"DESCRIPTION\n"
"    kpaxos (paxos.ko) runs one Multi-Paxos node per network namespace,\n"
"    talking raw Ethernet (ethertype 0x88b5) to its peers; applications\n"
"    propose and read the decided log through /dev/paxos (libkpaxos).\n"
"    paxosctl drives the generic netlink family \"paxos\" of the current\n"
"    network namespace: run it under `ip netns exec NS` for another.\n"
"    Changes need CAP_NET_ADMIN; status does not.\n"
"\n"
"COMMANDS\n";

static const char help_tail[] =
"OPTIONS\n"
"    -d, --device PATH   device for the status fallback (/dev/paxos)\n"
"    -h, --help          this text\n"
"    -V, --version       print the version\n"
"\n"
"EXIT STATUS\n"
"    0 success, 1 failure (the kernel's reason is printed, with the\n"
"    option it concerns), 2 usage error.\n"
"\n"
"EXAMPLES\n"
"    Three nodes, one per machine (or namespace), on eth0:\n"
"      paxosctl up eth0 --id 1 --peer 1=02:00:00:00:00:01 \\\n"
"          --peer 2=02:00:00:00:00:02 --peer 3=02:00:00:00:00:03\n"
"      (same on the others with --id 2 and --id 3)\n"
"      paxosctl status\n"
"      paxosctl status --json | python3 -m json.tool\n"
"      paxosctl down; paxosctl set election_us=200000; paxosctl up ...\n"
"    Move member 3 to a new node 4 (02:00:00:00:00:04), on a running\n"
"    cluster of 1, 2, 3:\n"
"      paxosctl set-peers 1=... 2=... 3=... 4=02:00:00:00:00:04  (on 1..3)\n"
"      paxosctl up eth0 --id 4 --members 1,2,3 --peer 1=... ... --peer 4=...\n"
"      paxosctl member replace 3 4=02:00:00:00:00:04 --wait 30\n"
"      paxosctl members\n"
"\n"
"SEE ALSO\n"
"    kvstore(1), docs/netlink.md, uapi/linux/paxos.h, ip-netns(8)\n";

static void print_text(FILE *f, const char *p)
{
	const char *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		fprintf(f, "        %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/*
 * pxc_help(NULL): the whole manual on stdout (--help); pxc_help(cmd): one
 * command's text.
 * pxc_usage(cmd): that command's synopsis - on stderr, for a usage error
 * (returns PXC_USAGE).
 */
static int find_command(const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return i;
	return -1;
}

void pxc_help(const char *cmd)
{
	int i = find_command(cmd);
	size_t k;

	if (i >= 0) {
		printf("usage: paxosctl %s\n\n", commands[i].synopsis);
		print_text(stdout, commands[i].help);
		return;
	}
	fputs(help_head, stdout);
	for (k = 0; k < ARRAY_SIZE(commands); k++) {
		printf("    %s\n", commands[k].synopsis);
		print_text(stdout, commands[k].help);
		printf("\n");
	}
	fputs(help_tail, stdout);
}

int pxc_usage(const char *cmd)
{
	int i = find_command(cmd);

	if (i >= 0)
		fprintf(stderr, "usage: paxosctl %s\n(paxosctl %s --help explains)\n", commands[i].synopsis, cmd);
	else
		fprintf(stderr, "usage: paxosctl [-d DEVICE] COMMAND [ARGS] (paxosctl --help)\n");
	return PXC_USAGE;
}

int pxc_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PXC_ERR;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+d:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device_path = optarg;
			break;
		case 'h':
			pxc_help(NULL);
			return PXC_OK;
		case 'V':
			printf("paxosctl %s (kpaxos genl family \"%s\" v%d)\n",
			       PXC_VERSION, PAXOS_GENL_NAME,
			       PAXOS_GENL_VERSION);
			return PXC_OK;
		default:
			return pxc_usage(NULL);
		}
	}
	if (optind == argc)	/* bare: status, no arguments (argv[0] unused) */
		return cmd_status(1, argv + optind - 1);
	if (!strcmp(argv[optind], "help")) {
		pxc_help(optind + 1 < argc ? argv[optind + 1] : NULL);
		return PXC_OK;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(argc - optind, argv + optind);
	fprintf(stderr, "%s: unknown command '%s' (paxosctl --help lists them)\n", prog, argv[optind]);
	return PXC_USAGE;
}
