// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl: the generic netlink side (libnl-genl-3).
 *
 * Requests ask for extended acks (NETLINK_EXT_ACK); when the kernel refuses
 * one, the message it gives and the attribute it points at (mapped back to
 * the command line option that produced it) are printed.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "paxosctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct pxc_nl {
	struct nl_sock *sk;
	int family;
	int err;		/* errno of the last request */
	bool done;
	char extack[256];	/* message from the kernel */
	char where[96];		/* which option it was about */
	char valid[64];		/* what the policy accepts, if told */
	struct nl_msg *sent;	/* request, to map attribute offsets */
	/* dump / event parsing */
	struct pxc_node *node;
	int found;
	void (*ev_fn)(const struct pxc_event *ev, void *arg);
	void *ev_arg;
};

static const char *const top_names[PAXOS_A_MAX + 1] = {
	[PAXOS_A_IFNAME] = "interface name",
	[PAXOS_A_NODE_ID] = "--id",
	[PAXOS_A_CLUSTER_ID] = "--cluster",
	[PAXOS_A_GROUP_ID] = "--group",
	[PAXOS_A_ROLES] = "--roles",
	[PAXOS_A_PEERS] = "the --peer list",
	[PAXOS_A_PARAMS] = "the parameters",
	[PAXOS_A_KEY] = "--key",
	[PAXOS_A_ETHERTYPE] = "--ethertype",
	[PAXOS_A_STATE_PATH] = "--state",
	[PAXOS_A_STATE_FLAGS] = "--rejoin",
	[PAXOS_A_MEMBERS] = "members",
};

/* Name the attribute at @off in the request (offset from nlmsghdr). */
static void locate(struct pxc_nl *nl, uint32_t off)
{
	struct nlmsghdr *h = nlmsg_hdr(nl->sent);
	struct nlattr *a, *e, *i;
	int rem, erem, irem, idx;
	char *base = (char *)h;

	nl->where[0] = 0;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(h), 0),
			  genlmsg_attrlen(nlmsg_data(h), 0), rem) {
		int t = nla_type(a);
		uint32_t ao = (char *)a - base;

		if (off < ao || off >= ao + nla_total_size(nla_len(a)))
			continue;
		if (t > PAXOS_A_MAX || !top_names[t])
			snprintf(nl->where, sizeof(nl->where),
				 "attribute %d", t);
		else
			snprintf(nl->where, sizeof(nl->where), "%s",
				 top_names[t]);
		if (off == ao)
			return;
		idx = 0;
		nla_for_each_nested(e, a, erem) {
			uint32_t eo = (char *)e - base;

			idx++;
			if (off < eo || off >= eo + nla_total_size(nla_len(e)))
				continue;
			if (t == PAXOS_A_PARAMS) {
				snprintf(nl->where, sizeof(nl->where),
					 "parameter %s",
					 pxc_param_name(nla_type(e)));
				return;
			}
			if (t != PAXOS_A_PEERS)
				return;
			snprintf(nl->where, sizeof(nl->where),
				 "--peer #%d", idx);
			nla_for_each_nested(i, e, irem) {
				if ((char *)i - base != (long)off)
					continue;
				snprintf(nl->where, sizeof(nl->where),
					 "--peer #%d %s", idx,
					 nla_type(i) == PAXOS_PEER_A_ID ?
					 "node id" : "MAC address");
			}
			return;
		}
		return;
	}
}

/* The kernel's policy for a rejected attribute: say what it accepts. */
static void describe_policy(struct pxc_nl *nl, struct nlattr *pol)
{
	struct nlattr *a;
	uint64_t min = 0, max = 0, mask = 0;
	bool has_min = false, has_max = false, has_mask = false;
	int rem;

	nla_for_each_nested(a, pol, rem) {
		switch (nla_type(a)) {
		case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
			min = nla_get_u64(a);
			has_min = true;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
			max = nla_get_u64(a);
			has_max = true;
			break;
		case NL_POLICY_TYPE_ATTR_MIN_LENGTH:
			min = nla_get_u32(a);
			has_min = true;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
			max = nla_get_u32(a);
			has_max = true;
			break;
		case NL_POLICY_TYPE_ATTR_MASK:
			mask = nla_get_u64(a);
			has_mask = true;
			break;
		}
	}
	if (has_mask)
		snprintf(nl->valid, sizeof(nl->valid), "bits in 0x%llx",
			 (unsigned long long)mask);
	else if (has_min && has_max)
		snprintf(nl->valid, sizeof(nl->valid), "%llu..%llu",
			 (unsigned long long)min, (unsigned long long)max);
	else if (has_min)
		snprintf(nl->valid, sizeof(nl->valid), "at least %llu",
			 (unsigned long long)min);
	else if (has_max)
		snprintf(nl->valid, sizeof(nl->valid), "at most %llu",
			 (unsigned long long)max);
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct pxc_nl *nl = arg;
	struct nlattr *a;
	size_t off;
	int rem;

	(void)who;
	nl->err = -e->error;
	nl->done = true;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= h->nlmsg_len)
		return NL_STOP;
	nla_for_each_attr(a, (struct nlattr *)((char *)h + off),
			  h->nlmsg_len - off, rem) {
		switch (nla_type(a)) {
		case NLMSGERR_ATTR_MSG:
			snprintf(nl->extack, sizeof(nl->extack), "%.*s",
				 nla_len(a), (char *)nla_data(a));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (nl->sent)
				locate(nl, nla_get_u32(a));
			break;
		case NLMSGERR_ATTR_POLICY:
			describe_policy(nl, a);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			snprintf(nl->where, sizeof(nl->where),
				 "missing %s", nla_get_u32(a) <= PAXOS_A_MAX &&
				 top_names[nla_get_u32(a)] ?
				 top_names[nla_get_u32(a)] : "attribute");
			break;
		}
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct pxc_nl *nl = arg;

	(void)msg;
	nl->done = true;
	return NL_STOP;
}

const char *pxc_nl_extack(struct pxc_nl *nl)
{
	return nl->extack[0] ? nl->extack : NULL;
}

int pxc_nl_open(struct pxc_nl **nlp, bool quiet_missing)
{
	struct pxc_nl *nl = calloc(1, sizeof(*nl));
	int one = 1, fd;

	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk || genl_connect(nl->sk)) {
		pxc_err("netlink", "cannot open a generic netlink socket");
		pxc_nl_close(nl);
		return -EIO;
	}
	fd = nl_socket_get_fd(nl->sk);
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, PAXOS_GENL_NAME);
	if (nl->family < 0) {
		if (!quiet_missing)
			pxc_err("netlink", "no generic netlink family \"%s\" - is the paxos module loaded? (modprobe paxos)", PAXOS_GENL_NAME);
		pxc_nl_close(nl);
		return -ENOENT;
	}
	*nlp = nl;
	return 0;
}

void pxc_nl_close(struct pxc_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

static struct nl_msg *new_msg(struct pxc_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, PAXOS_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg and wait for its ack (or the end of a dump), calling @valid
 * for every reply.  Returns 0 or -errno; frees @msg.
 */
static int transact(struct pxc_nl *nl, struct nl_msg *msg,
		    int (*valid)(struct nl_msg *, void *))
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl->err = 0;
	nl->done = false;
	nl->extack[0] = 0;
	nl->where[0] = 0;
	nl->valid[0] = 0;
	nl->sent = msg;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, nl);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, nl);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, nl);
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, nl);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		nl->err = EIO;
		nl->done = true;
	}
	while (!nl->done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !nl->done) {
			nl->err = EIO;
			break;
		}
	}
	nl_cb_put(cb);
	nl->sent = NULL;
	nlmsg_free(msg);
	return -nl->err;
}

/* Print why @what failed: the kernel's words, the option, a hint. */
static int report(struct pxc_nl *nl, const char *what, int err,
		  const char *hint)
{
	if (nl->extack[0] && nl->where[0])
		pxc_err(what, "%s: %s (%s)", nl->where, nl->extack,
			strerror(-err));
	else if (nl->extack[0])
		pxc_err(what, "%s (%s)", nl->extack, strerror(-err));
	else if (nl->where[0])
		pxc_err(what, "%s: %s", nl->where, strerror(-err));
	else
		pxc_err(what, "%s%s", strerror(-err), hint ? hint : "");
	if (nl->valid[0])
		fprintf(stderr, "%s: %s: valid: %s\n", prog, what, nl->valid);
	if (err == -EPERM)
		fprintf(stderr, "%s: changing kpaxos needs CAP_NET_ADMIN (run as root)\n", prog);
	return err;
}

static int put_peers(struct nl_msg *msg, uint32_t n,
		     const struct pxc_peer *peers)
{
	struct nlattr *nest, *p;
	uint32_t i;

	nest = nla_nest_start(msg, PAXOS_A_PEERS | NLA_F_NESTED);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		p = nla_nest_start(msg, (i + 1) | NLA_F_NESTED);
		if (!p || nla_put_u32(msg, PAXOS_PEER_A_ID, peers[i].id) ||
		    nla_put(msg, PAXOS_PEER_A_MAC, 6, peers[i].mac))
			return -EMSGSIZE;
		nla_nest_end(msg, p);
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int put_params(struct nl_msg *msg, uint32_t n, const uint32_t *keys,
		      const uint64_t *vals)
{
	struct nlattr *nest;
	uint32_t i;

	nest = nla_nest_start(msg, PAXOS_A_PARAMS | NLA_F_NESTED);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u64(msg, keys[i], vals[i]))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int pxc_nl_up(struct pxc_nl *nl, const struct pxc_up *up)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_UP, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, PAXOS_A_IFNAME, up->ifname) ||
	    nla_put_u32(msg, PAXOS_A_NODE_ID, up->node_id) ||
	    (up->has_cluster &&
	     nla_put_u32(msg, PAXOS_A_CLUSTER_ID, up->cluster_id)) ||
	    (up->has_group && nla_put_u16(msg, PAXOS_A_GROUP_ID, up->group_id)) ||
	    (up->has_roles && nla_put_u32(msg, PAXOS_A_ROLES, up->roles)) ||
	    (up->has_ethertype &&
	     nla_put_u16(msg, PAXOS_A_ETHERTYPE, up->ethertype)) ||
	    put_peers(msg, up->n_peers, up->peers) ||
	    (up->state_path &&
	     nla_put_string(msg, PAXOS_A_STATE_PATH, up->state_path)) ||
	    (up->rejoin &&
	     nla_put_u32(msg, PAXOS_A_STATE_FLAGS, PAXOS_STATE_F_REJOIN)) ||
	    (up->has_key && nla_put(msg, PAXOS_A_KEY, PAXOS_KEY_LEN, up->key)) ||
	    (up->members && nla_put_u32(msg, PAXOS_A_MEMBERS, up->members)) ||
	    (up->n_params && put_params(msg, up->n_params, up->param_keys,
					up->param_vals))) {
		nlmsg_free(msg);
		return pxc_err("up", "request too large"), -EMSGSIZE;
	}
	err = transact(nl, msg, NULL);
	if (err)
		report(nl, "up", err, NULL);
	return err;
}

int pxc_nl_down(struct pxc_nl *nl)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_DOWN, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	err = transact(nl, msg, NULL);
	if (err)
		report(nl, "down", err, NULL);
	return err;
}

int pxc_nl_set_params(struct pxc_nl *nl, uint32_t n, const uint32_t *keys,
		      const uint64_t *vals)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_SET_PARAMS, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (put_params(msg, n, keys, vals)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = transact(nl, msg, NULL);
	if (err)
		report(nl, "set", err, NULL);
	return err;
}

int pxc_nl_set_peers(struct pxc_nl *nl, uint32_t n,
		     const struct pxc_peer *peers)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_SET_PEERS, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (put_peers(msg, n, peers)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = transact(nl, msg, NULL);
	if (err)
		report(nl, "set-peers", err, NULL);
	return err;
}

int pxc_nl_membership(struct pxc_nl *nl, uint32_t members)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_MEMBERSHIP, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, PAXOS_A_MEMBERS, members)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = transact(nl, msg, NULL);
	if (err)
		report(nl, "member", err, NULL);
	return err;
}

/* ------------------------------------------------------------- parsing */

static void parse_peers(struct nlattr *nest, uint32_t *n,
			struct pxc_peer *peers)
{
	struct nlattr *tb[PAXOS_PEER_A_MAX + 1], *e;
	int rem;

	*n = 0;
	nla_for_each_nested(e, nest, rem) {
		if (*n == PAXOS_MAX_NODES ||
		    nla_parse_nested(tb, PAXOS_PEER_A_MAX, e, NULL) ||
		    !tb[PAXOS_PEER_A_ID] || !tb[PAXOS_PEER_A_MAC] ||
		    nla_len(tb[PAXOS_PEER_A_MAC]) != 6)
			continue;
		peers[*n].id = nla_get_u32(tb[PAXOS_PEER_A_ID]);
		memcpy(peers[*n].mac, nla_data(tb[PAXOS_PEER_A_MAC]), 6);
		(*n)++;
	}
}

static int on_status(struct nl_msg *msg, void *arg)
{
	struct pxc_nl *nl = arg;
	struct pxc_node *n = nl->node;
	struct nlattr *tb[PAXOS_A_MAX + 1], *e;
	int rem, len;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PAXOS_A_MAX, NULL) ||
	    !tb[PAXOS_A_NODE_ID])
		return NL_SKIP;
	memset(n, 0, sizeof(*n));
	n->source = "netlink";
	n->have_config = true;
	if (tb[PAXOS_A_IFNAME])
		nla_strlcpy(n->ifname, tb[PAXOS_A_IFNAME], sizeof(n->ifname));
	n->node_id = nla_get_u32(tb[PAXOS_A_NODE_ID]);
	if (tb[PAXOS_A_CLUSTER_ID])
		n->cluster_id = nla_get_u32(tb[PAXOS_A_CLUSTER_ID]);
	if (tb[PAXOS_A_GROUP_ID])
		n->group_id = nla_get_u16(tb[PAXOS_A_GROUP_ID]);
	if (tb[PAXOS_A_ROLES])
		n->roles = nla_get_u32(tb[PAXOS_A_ROLES]);
	if (tb[PAXOS_A_ETHERTYPE])
		n->ethertype = nla_get_u16(tb[PAXOS_A_ETHERTYPE]);
	if (tb[PAXOS_A_MEMBERS])
		n->members = nla_get_u32(tb[PAXOS_A_MEMBERS]);
	n->members_latest = n->members;
	if (tb[PAXOS_A_MEMBERS_LATEST])
		n->members_latest = nla_get_u32(tb[PAXOS_A_MEMBERS_LATEST]);
	if (tb[PAXOS_A_LEADER_ID])
		n->leader_id = nla_get_u32(tb[PAXOS_A_LEADER_ID]);
	if (tb[PAXOS_A_BALLOT])
		n->ballot = nla_get_u64(tb[PAXOS_A_BALLOT]);
	if (tb[PAXOS_A_STATE_FLAGS]) {
		n->have_state = true;
		n->state_flags = nla_get_u32(tb[PAXOS_A_STATE_FLAGS]);
	}
	if (tb[PAXOS_A_STATE_PATH])
		nla_strlcpy(n->state_path, tb[PAXOS_A_STATE_PATH],
			    sizeof(n->state_path));
	if (tb[PAXOS_A_PEERS])
		parse_peers(tb[PAXOS_A_PEERS], &n->n_peers, n->peers);
	if (tb[PAXOS_A_PARAMS]) {
		n->have_params = true;
		nla_for_each_nested(e, tb[PAXOS_A_PARAMS], rem) {
			int k = nla_type(e);

			if (k > 0 && k < __PAXOS_PARAM_MAX &&
			    nla_len(e) == 8)
				n->params[k] = nla_get_u64(e);
		}
	}
	if (tb[PAXOS_A_STATUS]) {
		len = nla_len(tb[PAXOS_A_STATUS]);
		if (len > (int)sizeof(n->st))
			len = sizeof(n->st);
		memcpy(&n->st, nla_data(tb[PAXOS_A_STATUS]), len);
		n->have_status = true;
	}
	nl->found = 1;
	return NL_OK;
}

int pxc_nl_status(struct pxc_nl *nl, struct pxc_node *node)
{
	struct nl_msg *msg = new_msg(nl, PAXOS_CMD_GET_STATUS, NLM_F_DUMP);
	int err;

	if (!msg)
		return -ENOMEM;
	nl->node = node;
	nl->found = 0;
	err = transact(nl, msg, on_status);
	if (err)
		return report(nl, "status", err, NULL);
	return nl->found;
}

/* -------------------------------------------------------------- events */

static int on_event(struct nl_msg *msg, void *arg)
{
	struct pxc_nl *nl = arg;
	struct nlattr *tb[PAXOS_A_MAX + 1];
	struct pxc_event ev = { 0 };

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PAXOS_A_MAX, NULL) ||
	    !tb[PAXOS_A_EVENT])
		return NL_SKIP;
	ev.event = nla_get_u32(tb[PAXOS_A_EVENT]);
	if (tb[PAXOS_A_NODE_ID])
		ev.node_id = nla_get_u32(tb[PAXOS_A_NODE_ID]);
	if (tb[PAXOS_A_LEADER_ID]) {
		ev.has_leader = true;
		ev.leader_id = nla_get_u32(tb[PAXOS_A_LEADER_ID]);
	}
	if (tb[PAXOS_A_BALLOT]) {
		ev.has_ballot = true;
		ev.ballot = nla_get_u64(tb[PAXOS_A_BALLOT]);
	}
	if (tb[PAXOS_A_MEMBERS]) {
		ev.has_members = true;
		ev.members = nla_get_u32(tb[PAXOS_A_MEMBERS]);
	}
	if (tb[PAXOS_A_ERRNO])
		ev.err = nla_get_u32(tb[PAXOS_A_ERRNO]);
	if (tb[PAXOS_A_IFNAME])
		nla_strlcpy(ev.ifname, tb[PAXOS_A_IFNAME], sizeof(ev.ifname));
	if (tb[PAXOS_A_MESSAGE])
		nla_strlcpy(ev.message, tb[PAXOS_A_MESSAGE],
			    sizeof(ev.message));
	if (tb[PAXOS_A_PEERS])
		parse_peers(tb[PAXOS_A_PEERS], &ev.n_peers, ev.peers);
	nl->ev_fn(&ev, nl->ev_arg);
	return NL_OK;
}

int pxc_nl_monitor_start(struct pxc_nl *nl)
{
	int grp;

	grp = genl_ctrl_resolve_grp(nl->sk, PAXOS_GENL_NAME,
				    PAXOS_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		pxc_err("monitor", "no multicast group \"%s\" in the %s family", PAXOS_GENL_MCGRP_EVENTS, PAXOS_GENL_NAME);
		return -ENOENT;
	}
	nl_socket_disable_seq_check(nl->sk);
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, nl);
	if (nl_socket_add_membership(nl->sk, grp)) {
		pxc_err("monitor", "cannot join the events group");
		return -EIO;
	}
	return 0;
}

int pxc_nl_monitor_poll(struct pxc_nl *nl, int timeout_ms,
			void (*fn)(const struct pxc_event *ev, void *arg),
			void *arg)
{
	struct pollfd p = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	int ret;

	ret = poll(&p, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 ? -errno : 0;
	nl->ev_fn = fn;
	nl->ev_arg = arg;
	ret = nl_recvmsgs_default(nl->sk);
	return ret < 0 ? -EIO : 1;
}
