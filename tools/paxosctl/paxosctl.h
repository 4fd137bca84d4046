/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * paxosctl: configure and inspect the kpaxos instance of this network
 * namespace.  Subcommands (one file each) work on a transport-neutral model
 * (struct pxc_node); nl.c speaks generic netlink (libnl-genl-3) and dev.c
 * the /dev/paxos ioctls, used for status when netlink is unavailable.
 */
#ifndef PAXOSCTL_H
#define PAXOSCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <linux/paxos.h>

#define PXC_VERSION	"1.0"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit codes. */
enum { PXC_OK = 0, PXC_ERR = 1, PXC_USAGE = 2 };

struct pxc_peer {
	uint32_t id;
	uint8_t mac[6];
};

/* One instance, as far as it is known. */
struct pxc_node {
	bool have_config;	/* fields below up to peers */
	char ifname[IF_NAMESIZE];
	uint32_t node_id, cluster_id, roles, members, leader_id;
	uint32_t members_latest;	/* after a pending change */
	uint16_t group_id, ethertype;
	uint64_t ballot;
	uint32_t n_peers;
	struct pxc_peer peers[PAXOS_MAX_NODES];
	bool have_params;
	uint64_t params[__PAXOS_PARAM_MAX];
	bool have_status;
	struct paxos_status st;
	bool have_state;	/* PAXOS_A_STATE_FLAGS reported */
	uint32_t state_flags;	/* PAXOS_STATE_F_* */
	char state_path[PAXOS_STATE_PATH_MAX];
	const char *source;	/* "netlink" or "ioctl" */
};

/* What `up` sends. */
struct pxc_up {
	const char *ifname;
	uint32_t node_id;
	bool has_cluster, has_group, has_roles, has_ethertype;
	uint32_t cluster_id, roles;
	uint16_t group_id, ethertype;
	uint32_t n_peers;
	struct pxc_peer peers[PAXOS_MAX_NODES];
	uint32_t members;	/* --members: 0 for every peer */
	const char *state_path;	/* --state: durable acceptor state */
	bool rejoin;		/* --rejoin: the state was lost */
	bool has_key;		/* --key-file: never printed */
	uint8_t key[PAXOS_KEY_LEN];
	uint32_t n_params;
	uint32_t param_keys[__PAXOS_PARAM_MAX];
	uint64_t param_vals[__PAXOS_PARAM_MAX];
};

/* An event from the multicast group. */
struct pxc_event {
	uint32_t event, node_id, leader_id, members, err;
	uint64_t ballot;
	bool has_ballot, has_leader, has_members;
	char ifname[IF_NAMESIZE];
	char message[256];
	uint32_t n_peers;
	struct pxc_peer peers[PAXOS_MAX_NODES];
};

/* main.c */
extern const char *prog;
extern const char *device_path;
int pxc_usage(const char *cmd);
void pxc_help(const char *cmd);
/* "paxosctl: <what>: <message>" on stderr; returns PXC_ERR. */
int pxc_err(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* parse.c */
int pxc_parse_u32(const char *s, uint32_t *v);
int pxc_parse_u64(const char *s, uint64_t *v);
int pxc_parse_mac(const char *s, uint8_t mac[6]);
/* "ID=MAC" */
int pxc_parse_peer(const char *s, struct pxc_peer *p);
/* "1,2,3": a bitmap of node ids 1..31 */
int pxc_parse_ids(const char *s, uint32_t *ids);
/* "acceptor,proposer,learner" or "all" */
int pxc_parse_roles(const char *s, uint32_t *roles);
/* "window=64" */
int pxc_parse_param(const char *s, uint32_t *key, uint64_t *val);
const char *pxc_param_name(uint32_t key);
const char *pxc_drop_name(unsigned int reason);
void pxc_format_mac(const uint8_t mac[6], char *buf);

/* nl.c: 0 or a negative errno; messages printed as they happen. */
struct pxc_nl;
int pxc_nl_open(struct pxc_nl **nl, bool quiet_missing);
void pxc_nl_close(struct pxc_nl *nl);
int pxc_nl_up(struct pxc_nl *nl, const struct pxc_up *up);
int pxc_nl_down(struct pxc_nl *nl);
int pxc_nl_set_params(struct pxc_nl *nl, uint32_t n, const uint32_t *keys,
		      const uint64_t *vals);
int pxc_nl_set_peers(struct pxc_nl *nl, uint32_t n,
		     const struct pxc_peer *peers);
/* PAXOS_CMD_MEMBERSHIP: change the configuration to @members. */
int pxc_nl_membership(struct pxc_nl *nl, uint32_t members);
/* 1 and *node filled, 0 when there is no instance, or -errno. */
int pxc_nl_status(struct pxc_nl *nl, struct pxc_node *node);
int pxc_nl_monitor_start(struct pxc_nl *nl);
/* Wait up to @timeout_ms (-1: forever) for events; calls @fn for each. */
int pxc_nl_monitor_poll(struct pxc_nl *nl, int timeout_ms,
			void (*fn)(const struct pxc_event *ev, void *arg),
			void *arg);
/* Last error's extended-ack text, if the kernel sent one. */
const char *pxc_nl_extack(struct pxc_nl *nl);

/* dev.c */
int pxc_dev_status(struct pxc_node *node);

/* Subcommands. */
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_set_peers(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_members(int argc, char **argv);

#endif /* PAXOSCTL_H */
