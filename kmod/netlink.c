// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "paxos" (uapi/linux/paxos.h has every command and
 * attribute tree; docs/netlink.md explains them).
 *
 * A thin layer over the instance API of instance.c (paxos_instance_up/down,
 * paxos_param_get/set, paxos_instance_status), the calls the /dev/paxos
 * ioctls use too.  The family is netnsok: each request acts on the
 * instance of the requester's network namespace.  Changes carry
 * GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN over the namespace); attributes are
 * validated strictly by one policy per nesting level, and whatever the
 * policies cannot express is reported with NL_SET_ERR_MSG_ATTR.
 *
 * Events (leader changes, membership, errors) go to the "events" multicast
 * group of the instance's namespace.  They may be raised from the node thread
 * until the instances are torn down, which at module exit happens after
 * this family is gone: paxos_genl_live and RCU keep them away from an
 * unregistered family.
 */
#include "kpaxos.h"

#include <linux/etherdevice.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

static struct genl_family paxos_genl_family;
static bool paxos_genl_live;
/* Bumped by every change; a dump that spans one is flagged inconsistent. */
static atomic_t paxos_genl_gen = ATOMIC_INIT(1);

enum paxos_mcgrp {
	PAXOS_MCGRP_EVENTS,
};

static const struct genl_multicast_group paxos_mcgrps[] = {
	[PAXOS_MCGRP_EVENTS] = { .name = PAXOS_GENL_MCGRP_EVENTS },
};

/* ------------------------------------------------------------- policies */

/*
 * Values are checked by code rather than by policy ranges: a range
 * violation would be ERANGE with a generic message, where these give EINVAL
 * and say what the value must be.  Binary attributes use validation
 * functions; integer ones are checked where they are used (6.1's policy
 * dump, which an extended ack may include, cannot describe a validation
 * function of an integer attribute).
 */
static int paxos_check_node_id(const struct nlattr *attr,
			       struct netlink_ext_ack *extack)
{
	u32 id = nla_get_u32(attr);

	if (id < 1 || id >= PAXOS_MAX_NODES) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "node id must be 1..31");
		return -EINVAL;
	}
	return 0;
}

static int paxos_validate_mac(const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	if (nla_len(attr) != ETH_ALEN) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "MAC address must be 6 bytes");
		return -EINVAL;
	}
	if (!is_valid_ether_addr(nla_data(attr))) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "MAC address must be unicast and non-zero");
		return -EINVAL;
	}
	return 0;
}

static int paxos_check_ethertype(const struct nlattr *attr,
				 struct netlink_ext_ack *extack)
{
	if (nla_get_u16(attr) < ETH_P_802_3_MIN) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "ethertype must be at least 0x0600");
		return -EINVAL;
	}
	return 0;
}

static int paxos_check_param(const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	if (nla_get_u64(attr) > U32_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "parameter values are at most 2^32-1");
		return -EINVAL;
	}
	return 0;
}

static int paxos_validate_key(const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	if (nla_len(attr) != PAXOS_KEY_LEN) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "key must be 32 bytes");
		return -EINVAL;
	}
	return 0;
}

static const struct nla_policy paxos_peer_policy[PAXOS_PEER_A_MAX + 1] = {
	[PAXOS_PEER_A_ID] = { .type = NLA_U32 },
	[PAXOS_PEER_A_MAC] = NLA_POLICY_VALIDATE_FN(NLA_BINARY,
						    paxos_validate_mac),
};

static const struct nla_policy paxos_params_policy[__PAXOS_PARAM_MAX] = {
	[PAXOS_PARAM_WINDOW] = { .type = NLA_U64 },
	[PAXOS_PARAM_BATCH_BYTES] = { .type = NLA_U64 },
	[PAXOS_PARAM_BATCH_DELAY_US] = { .type = NLA_U64 },
	[PAXOS_PARAM_HEARTBEAT_US] = { .type = NLA_U64 },
	[PAXOS_PARAM_ELECTION_US] = { .type = NLA_U64 },
	[PAXOS_PARAM_RETRANSMIT_US] = { .type = NLA_U64 },
	[PAXOS_PARAM_ACCEPTOR_SLOTS] = { .type = NLA_U64 },
	[PAXOS_PARAM_LEARNER_SLOTS] = { .type = NLA_U64 },
	[PAXOS_PARAM_SNAPSHOT_EVERY] = { .type = NLA_U64 },
	[PAXOS_PARAM_ALPHA] = { .type = NLA_U64 },
};

#define PAXOS_READ_ONLY(what) \
	{ .type = NLA_REJECT, .reject_message = what " is reported, not set" }

static const struct nla_policy paxos_policy[PAXOS_A_MAX + 1] = {
	[PAXOS_A_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[PAXOS_A_NODE_ID] = { .type = NLA_U32 },
	[PAXOS_A_CLUSTER_ID] = { .type = NLA_U32 },
	[PAXOS_A_GROUP_ID] = { .type = NLA_U16 },
	[PAXOS_A_ROLES] = NLA_POLICY_MASK(NLA_U32, PAXOS_ROLE_ALL),
	[PAXOS_A_PEERS] = NLA_POLICY_NESTED_ARRAY(paxos_peer_policy),
	[PAXOS_A_PARAMS] = NLA_POLICY_NESTED(paxos_params_policy),
	[PAXOS_A_STATUS] = PAXOS_READ_ONLY("PAXOS_A_STATUS"),
	[PAXOS_A_LEADER_ID] = PAXOS_READ_ONLY("PAXOS_A_LEADER_ID"),
	[PAXOS_A_BALLOT] = PAXOS_READ_ONLY("PAXOS_A_BALLOT"),
	[PAXOS_A_EVENT] = PAXOS_READ_ONLY("PAXOS_A_EVENT"),
	[PAXOS_A_KEY] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, paxos_validate_key),
	[PAXOS_A_ETHERTYPE] = { .type = NLA_U16 },
	[PAXOS_A_PAD] = { .type = NLA_REJECT },
	[PAXOS_A_MEMBERS] = { .type = NLA_U32 },
	[PAXOS_A_ERRNO] = PAXOS_READ_ONLY("PAXOS_A_ERRNO"),
	[PAXOS_A_MESSAGE] = PAXOS_READ_ONLY("PAXOS_A_MESSAGE"),
	[PAXOS_A_STATE_PATH] = { .type = NLA_NUL_STRING,
				 .len = PAXOS_STATE_PATH_MAX - 1 },
	[PAXOS_A_STATE_FLAGS] = NLA_POLICY_MASK(NLA_U32, PAXOS_STATE_F_REJOIN),
	[PAXOS_A_MEMBERS_LATEST] = PAXOS_READ_ONLY("PAXOS_A_MEMBERS_LATEST"),
};

/* A required attribute: report it missing, with a message. */
#define PAXOS_REQUIRE(info, attr, msg) ({				\
	bool __miss = GENL_REQ_ATTR_CHECK(info, attr);			\
									\
	if (__miss)							\
		NL_SET_ERR_MSG((info)->extack, msg);			\
	__miss;								\
})

/* A static explanation from instance.c as the extended ack message. */
static void paxos_nl_why(struct netlink_ext_ack *extack,
			 const struct nlattr *attr, const char *why)
{
	if (!extack || !why)
		return;
	extack->_msg = why;
	if (attr)
		extack->bad_attr = attr;
}

static struct paxos_net *paxos_nl_net(struct genl_info *info)
{
	struct paxos_net *pn = paxos_net_get(genl_info_net(info));

	if (!pn)
		NL_SET_ERR_MSG(info->extack, "paxos is unloading");
	return pn;
}

/*
 * Under pn->lock: the instance (a reference) if it is up, or NULL with the
 * reason in the extended ack (the command fails with -ENOTCONN).
 */
static struct paxos_instance *
paxos_nl_live_instance(struct paxos_net *pn, struct netlink_ext_ack *extack)
{
	struct paxos_instance *inst;

	lockdep_assert_held(&pn->lock);
	inst = paxos_instance_get(pn);
	if (inst && !READ_ONCE(inst->dead))
		return inst;
	paxos_instance_put(inst);
	NL_SET_ERR_MSG(extack, "no instance in this network namespace");
	return NULL;
}

/* --------------------------------------------------------------- events */

static struct sk_buff *paxos_event_new(struct paxos_instance *inst,
				       u32 event, void **hdr)
{
	struct sk_buff *skb;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &paxos_genl_family, 0, PAXOS_CMD_EVENT);
	if (!*hdr || nla_put_u32(skb, PAXOS_A_EVENT, event) ||
	    nla_put_u32(skb, PAXOS_A_NODE_ID, inst->self)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* Under rcu_read_lock() with paxos_genl_live checked. */
static void paxos_event_send(struct net *net, struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&paxos_genl_family, net, skb, 0,
				PAXOS_MCGRP_EVENTS, GFP_ATOMIC);
}

static bool paxos_event_wanted(struct net *net)
{
	return net && READ_ONCE(paxos_genl_live) &&
	       genl_has_listeners(&paxos_genl_family, net, PAXOS_MCGRP_EVENTS);
}

void paxos_netlink_leader_event(struct paxos_instance *inst, u8 leader,
				u64 ballot)
{
	struct net *net = READ_ONCE(inst->net);
	struct sk_buff *skb;
	void *hdr;

	rcu_read_lock();
	if (!paxos_event_wanted(net))
		goto out;
	skb = paxos_event_new(inst, PAXOS_EVENT_LEADER_CHANGE, &hdr);
	if (!skb)
		goto out;
	if (nla_put_u32(skb, PAXOS_A_LEADER_ID, leader) ||
	    nla_put_u64_64bit(skb, PAXOS_A_BALLOT, ballot, PAXOS_A_PAD)) {
		nlmsg_free(skb);
		goto out;
	}
	paxos_event_send(net, skb, hdr);
out:
	rcu_read_unlock();
}

static int paxos_put_peers(struct sk_buff *skb, struct paxos_instance *inst,
			   u32 members)
{
	struct nlattr *peers, *peer;
	u32 id, idx = 0;

	peers = nla_nest_start(skb, PAXOS_A_PEERS);
	if (!peers)
		return -EMSGSIZE;
	for (id = 1; id < PAXOS_MAX_NODES; id++) {
		if (!(members & BIT(id)))
			continue;
		peer = nla_nest_start(skb, ++idx);
		if (!peer || nla_put_u32(skb, PAXOS_PEER_A_ID, id) ||
		    nla_put(skb, PAXOS_PEER_A_MAC, ETH_ALEN, inst->macs[id]))
			return -EMSGSIZE;
		nla_nest_end(skb, peer);
	}
	nla_nest_end(skb, peers);
	return 0;
}

static void paxos_membership_event(struct paxos_instance *inst, u32 members)
{
	u32 known = READ_ONCE(inst->wcfg.known);
	struct net *net = READ_ONCE(inst->net);
	struct sk_buff *skb;
	void *hdr;

	rcu_read_lock();
	if (!paxos_event_wanted(net))
		goto out;
	skb = paxos_event_new(inst, PAXOS_EVENT_MEMBERSHIP, &hdr);
	if (!skb)
		goto out;
	if (nla_put_string(skb, PAXOS_A_IFNAME, inst->ifname) ||
	    nla_put_u32(skb, PAXOS_A_MEMBERS, members) ||
	    paxos_put_peers(skb, inst, known)) {
		nlmsg_free(skb);
		goto out;
	}
	paxos_event_send(net, skb, hdr);
out:
	rcu_read_unlock();
}

void paxos_netlink_membership_event(struct paxos_instance *inst,
				    u32 members)
{
	paxos_membership_event(inst, members);
}

/* An administrative change failed: tell the monitors too. */
static void paxos_error_event(struct net *net, u32 node, int err,
			      const char *why)
{
	struct sk_buff *skb;
	void *hdr;

	rcu_read_lock();
	if (!paxos_event_wanted(net))
		goto out;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		goto out;
	hdr = genlmsg_put(skb, 0, 0, &paxos_genl_family, 0, PAXOS_CMD_EVENT);
	if (!hdr || nla_put_u32(skb, PAXOS_A_EVENT, PAXOS_EVENT_ERROR) ||
	    nla_put_u32(skb, PAXOS_A_NODE_ID, node) ||
	    nla_put_u32(skb, PAXOS_A_ERRNO, -err) ||
	    (why && nla_put_string(skb, PAXOS_A_MESSAGE, why))) {
		nlmsg_free(skb);
		goto out;
	}
	paxos_event_send(net, skb, hdr);
out:
	rcu_read_unlock();
}

/* ------------------------------------------------------------- requests */

/* PAXOS_A_PEERS -> uc->peers; 0 or -errno with the culprit reported. */
static int paxos_parse_peers(const struct nlattr *nest,
			     struct paxos_config *uc,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[PAXOS_PEER_A_MAX + 1];
	const struct nlattr *attr;
	u32 seen = 0, n = 0, id;
	int rem, err;

	nla_for_each_nested(attr, nest, rem) {
		if (n == ARRAY_SIZE(uc->peers)) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "too many peers");
			return -EINVAL;
		}
		err = nla_parse_nested(tb, PAXOS_PEER_A_MAX,
				       (struct nlattr *)attr,
				       paxos_peer_policy, extack);
		if (err)
			return err;
		if (!tb[PAXOS_PEER_A_ID]) {
			NL_SET_ERR_ATTR_MISS(extack, attr, PAXOS_PEER_A_ID);
			NL_SET_ERR_MSG(extack, "peer without PAXOS_PEER_A_ID");
			return -EINVAL;
		}
		if (!tb[PAXOS_PEER_A_MAC]) {
			NL_SET_ERR_ATTR_MISS(extack, attr, PAXOS_PEER_A_MAC);
			NL_SET_ERR_MSG(extack, "peer without PAXOS_PEER_A_MAC");
			return -EINVAL;
		}
		err = paxos_check_node_id(tb[PAXOS_PEER_A_ID], extack);
		if (err)
			return err;
		id = nla_get_u32(tb[PAXOS_PEER_A_ID]);
		if (seen & BIT(id)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[PAXOS_PEER_A_ID],
					    "duplicate peer node id");
			return -EINVAL;
		}
		seen |= BIT(id);
		uc->peers[n].node_id = id;
		nla_memcpy(uc->peers[n].mac, tb[PAXOS_PEER_A_MAC], ETH_ALEN);
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "no peers given");
		return -EINVAL;
	}
	uc->n_peers = n;
	return 0;
}

/* UP's PAXOS_A_MEMBERS: a non-empty subset of the peers just parsed. */
static int paxos_check_members(const struct nlattr *attr,
			       const struct paxos_config *uc,
			       struct netlink_ext_ack *extack)
{
	u32 members = nla_get_u32(attr), known = 0, i;

	for (i = 0; i < uc->n_peers; i++)
		known |= BIT(uc->peers[i].node_id);
	if (!members || (members & 1)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "members must be a non-empty bitmap of node ids 1..31");
		return -EINVAL;
	}
	if (members & ~known) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "every member must be one of PAXOS_A_PEERS (with its MAC)");
		return -EINVAL;
	}
	return 0;
}

/*
 * Apply PAXOS_A_PARAMS; all or nothing: on a bad value the ones already
 * set go back to what they were.
 */
static int paxos_set_params(struct paxos_net *pn, const struct nlattr *nest,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[__PAXOS_PARAM_MAX];
	u64 old[__PAXOS_PARAM_MAX];
	const char *why = NULL;
	u32 key, k;
	int err;

	err = nla_parse_nested(tb, __PAXOS_PARAM_MAX - 1, (struct nlattr *)nest,
			       paxos_params_policy, extack);
	if (err)
		return err;
	for (key = 1; key < __PAXOS_PARAM_MAX; key++) {
		if (!tb[key])
			continue;
		err = paxos_check_param(tb[key], extack);
		if (err)
			goto undo;
		err = paxos_param_get(pn, key, &old[key]);
		if (!err)
			err = paxos_param_set(pn, key, nla_get_u64(tb[key]),
					      &why);
		if (err) {
			paxos_nl_why(extack, tb[key], why);
			goto undo;
		}
	}
	return 0;
undo:
	for (k = 1; k < key; k++)
		if (tb[k])
			paxos_param_set(pn, k, old[k], &why);
	return err;
}

static int paxos_nl_up(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct paxos_up_opts opts = { };
	struct paxos_instance *inst;
	struct paxos_config *uc;
	struct paxos_net *pn;
	const char *why = NULL;
	int err;

	if (PAXOS_REQUIRE(info, PAXOS_A_IFNAME,
			  "missing PAXOS_A_IFNAME: the interface to use") ||
	    PAXOS_REQUIRE(info, PAXOS_A_NODE_ID,
			  "missing PAXOS_A_NODE_ID: this node's id") ||
	    PAXOS_REQUIRE(info, PAXOS_A_PEERS,
			  "missing PAXOS_A_PEERS: every member with its MAC"))
		return -EINVAL;
	err = paxos_check_node_id(attrs[PAXOS_A_NODE_ID], extack);
	if (!err && attrs[PAXOS_A_ETHERTYPE])
		err = paxos_check_ethertype(attrs[PAXOS_A_ETHERTYPE], extack);
	if (err)
		return err;
	/* The key is copied into the instance; never logged or reported. */
	if (attrs[PAXOS_A_KEY])
		opts.key = nla_data(attrs[PAXOS_A_KEY]);
	if (attrs[PAXOS_A_STATE_PATH])
		opts.state_path = nla_data(attrs[PAXOS_A_STATE_PATH]);
	if (attrs[PAXOS_A_STATE_FLAGS])
		opts.state_flags = nla_get_u32(attrs[PAXOS_A_STATE_FLAGS]);
	if (opts.state_flags && !opts.state_path) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PAXOS_A_STATE_FLAGS],
				    "state flags need PAXOS_A_STATE_PATH");
		return -EINVAL;
	}
	uc = kzalloc(sizeof(*uc), GFP_KERNEL);
	if (!uc)
		return -ENOMEM;
	nla_strscpy(uc->ifname, attrs[PAXOS_A_IFNAME], sizeof(uc->ifname));
	uc->node_id = nla_get_u32(attrs[PAXOS_A_NODE_ID]);
	if (attrs[PAXOS_A_CLUSTER_ID])
		uc->cluster_id = nla_get_u32(attrs[PAXOS_A_CLUSTER_ID]);
	if (attrs[PAXOS_A_GROUP_ID])
		uc->group_id = nla_get_u16(attrs[PAXOS_A_GROUP_ID]);
	if (attrs[PAXOS_A_ETHERTYPE])
		uc->ethertype = nla_get_u16(attrs[PAXOS_A_ETHERTYPE]);
	uc->roles = PAXOS_ROLE_ALL;
	if (attrs[PAXOS_A_ROLES])
		uc->roles = nla_get_u32(attrs[PAXOS_A_ROLES]);
	if (!uc->roles) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PAXOS_A_ROLES],
				    "a node needs at least one role");
		err = -EINVAL;
		goto out_free;
	}
	err = paxos_parse_peers(attrs[PAXOS_A_PEERS], uc, extack);
	if (err)
		goto out_free;
	if (attrs[PAXOS_A_MEMBERS]) {
		err = paxos_check_members(attrs[PAXOS_A_MEMBERS], uc, extack);
		if (err)
			goto out_free;
		opts.members = nla_get_u32(attrs[PAXOS_A_MEMBERS]);
	}

	err = -ENODEV;
	pn = paxos_nl_net(info);
	if (!pn)
		goto out_free;
	if (attrs[PAXOS_A_PARAMS]) {
		err = paxos_set_params(pn, attrs[PAXOS_A_PARAMS], extack);
		if (err)
			goto out_put;
	}
	err = paxos_instance_up_opts(pn, uc, &opts, &why);
	atomic_inc(&paxos_genl_gen);
	if (err) {
		paxos_nl_why(extack, NULL, why);
		paxos_error_event(genl_info_net(info), uc->node_id, err, why);
		goto out_put;
	}
	inst = paxos_instance_get(pn);
	if (inst) {
		paxos_membership_event(inst, inst->cfg.members);
		paxos_instance_put(inst);
	}
out_put:
	paxos_net_put(pn);
out_free:
	kfree(uc);
	return err;
}

static int paxos_nl_down(struct sk_buff *skb, struct genl_info *info)
{
	struct paxos_instance *inst;
	struct paxos_net *pn;
	int err;

	pn = paxos_nl_net(info);
	if (!pn)
		return -ENODEV;
	/* Keep the struct for the event; down tears down its state only. */
	inst = paxos_instance_get(pn);
	err = paxos_instance_down(pn);
	atomic_inc(&paxos_genl_gen);
	if (err == -ENOTCONN)
		NL_SET_ERR_MSG(info->extack,
			       "no instance in this network namespace");
	if (!err && inst) {
		struct sk_buff *msg;
		void *hdr;

		/* inst->net is gone with its state: use the requester's. */
		rcu_read_lock();
		if (paxos_event_wanted(genl_info_net(info))) {
			msg = paxos_event_new(inst, PAXOS_EVENT_MEMBERSHIP, &hdr);
			if (msg && (nla_put_string(msg, PAXOS_A_IFNAME,
						   inst->ifname) ||
				    nla_put_u32(msg, PAXOS_A_MEMBERS, 0))) {
				nlmsg_free(msg);
				msg = NULL;
			}
			if (msg)
				paxos_event_send(genl_info_net(info), msg, hdr);
		}
		rcu_read_unlock();
	}
	paxos_instance_put(inst);
	paxos_net_put(pn);
	return err;
}

static int paxos_nl_set_peers(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct paxos_instance *inst = NULL;
	struct paxos_config *uc;
	struct paxos_net *pn;
	u32 known = 0, members = 0, latest, old, id, i;
	int err;

	if (PAXOS_REQUIRE(info, PAXOS_A_PEERS,
			  "missing PAXOS_A_PEERS: every known node with its MAC"))
		return -EINVAL;
	uc = kzalloc(sizeof(*uc), GFP_KERNEL);
	if (!uc)
		return -ENOMEM;
	err = paxos_parse_peers(info->attrs[PAXOS_A_PEERS], uc, extack);
	if (err)
		goto out_free;
	for (i = 0; i < uc->n_peers; i++)
		known |= BIT(uc->peers[i].node_id);

	err = -ENODEV;
	pn = paxos_nl_net(info);
	if (!pn)
		goto out_free;
	mutex_lock(&pn->lock);
	inst = paxos_nl_live_instance(pn, extack);
	err = -ENOTCONN;
	if (!inst)
		goto out_unlock;
	/*
	 * Members (in effect or pending) and this node stay known: a
	 * member leaves through PAXOS_CMD_MEMBERSHIP, not here.
	 */
	members = paxos_instance_members(inst, &latest);
	err = -EOPNOTSUPP;
	if ((members | latest) & ~known) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[PAXOS_A_PEERS],
				    "peers must include every member; remove a member with a membership change first");
		goto out_unlock;
	}
	if (!(known & BIT(inst->self))) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[PAXOS_A_PEERS],
				    "peers must include this node");
		goto out_unlock;
	}
	/*
	 * The sender reads inst->macs without a lock: a frame sent while an
	 * address changes may go to the old one and is then lost like any
	 * other frame (Paxos retransmits).  A node forgotten loses its
	 * address first, then its frames are no longer accepted; a node
	 * added gets its address before its frames are.
	 */
	old = READ_ONCE(inst->wcfg.known);
	for (id = 1; id < PAXOS_MAX_NODES; id++)
		if ((old & BIT(id)) && !(known & BIT(id)))
			eth_zero_addr(inst->macs[id]);
	for (i = 0; i < uc->n_peers; i++)
		ether_addr_copy(inst->macs[uc->peers[i].node_id],
				uc->peers[i].mac);
	WRITE_ONCE(inst->wcfg.known, known);
	err = 0;
	atomic_inc(&paxos_genl_gen);
out_unlock:
	mutex_unlock(&pn->lock);
	if (!err)
		paxos_membership_event(inst, members);
	else if (err == -EOPNOTSUPP)
		paxos_error_event(genl_info_net(info), inst->self, err,
				  "SET_PEERS: a member cannot be forgotten");
	paxos_instance_put(inst);
	paxos_net_put(pn);
out_free:
	kfree(uc);
	return err;
}

/* "node N has no MAC: set-peers first", one per id (6.1 has no _FMT). */
static char paxos_nomac_msg[PAXOS_MAX_NODES][48];

/*
 * Checks of a change old -> new against what this node knows; 0 or -EINVAL
 * with the reason in the extended ack.
 */
static int paxos_check_change(struct paxos_instance *inst,
			      const struct nlattr *attr, u32 old, u32 new,
			      struct netlink_ext_ack *extack)
{
	u32 missing = new & ~READ_ONCE(inst->wcfg.known);

	if (new == old) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "PAXOS_A_MEMBERS is already the latest configuration");
		return -EINVAL;
	}
	if (!new || (new & 1) || !px_membership_valid(old, new)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "PAXOS_A_MEMBERS must add one node to the latest configuration, remove one, or swap one for another");
		return -EINVAL;
	}
	if (missing) {
		paxos_nl_why(extack, attr, paxos_nomac_msg[__ffs(missing)]);
		return -EINVAL;
	}
	return 0;
}

static int paxos_nl_membership(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	const struct nlattr *attr = info->attrs[PAXOS_A_MEMBERS];
	struct paxos_instance *inst = NULL;
	struct paxos_status *st = NULL;
	struct paxos_net *pn;
	u32 old, new;
	int err;

	if (PAXOS_REQUIRE(info, PAXOS_A_MEMBERS,
			  "missing PAXOS_A_MEMBERS: the new configuration"))
		return -EINVAL;
	new = nla_get_u32(attr);
	pn = paxos_nl_net(info);
	if (!pn)
		return -ENODEV;
	mutex_lock(&pn->lock);
	inst = paxos_nl_live_instance(pn, extack);
	err = -ENOTCONN;
	if (!inst)
		goto out_unlock;
	err = -EOPNOTSUPP;
	if (!(inst->roles & PAXOS_ROLE_PROPOSER)) {
		NL_SET_ERR_MSG(extack,
			       "this node has no proposer role: ask one that has");
		goto out_unlock;
	}
	err = -ENOMEM;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		goto out_unlock;
	paxos_instance_status(inst, st);
	paxos_instance_members(inst, &old);
	err = paxos_check_change(inst, attr, old, new, extack);
	if (err)
		goto out_unlock;
	err = -EAGAIN;
	if (!st->leader_id) {
		NL_SET_ERR_MSG(extack,
			       "no leader known yet: try again after an election");
		goto out_unlock;
	}
	err = 0;
out_unlock:
	mutex_unlock(&pn->lock);
	/* Not under pn->lock: DOWN may need it to stop the node thread. */
	if (!err) {
		/* A follower's proposer forwards the command to the leader. */
		err = px_membership_request(inst, old, new);
		if (err == -EINVAL)
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "the proposer refused the change");
		else if (err == -EAGAIN)
			NL_SET_ERR_MSG(extack,
				       "the proposer's queue is full: try again");
		else if (err == -EBUSY)
			NL_SET_ERR_MSG(extack,
				       "another membership request is being handed over");
		else if (err == -ETIMEDOUT)
			NL_SET_ERR_MSG(extack,
				       "the node thread did not take the request");
		else if (err == -ENOTCONN)
			NL_SET_ERR_MSG(extack, "the instance went down");
		if (!err)
			pr_info("node %u: membership 0x%x -> 0x%x requested (leader %u)\n",
				inst->self, old, new, st->leader_id);
	}
	if (err && inst && err != -ENOTCONN)
		paxos_error_event(genl_info_net(info), inst->self, err,
				  "MEMBERSHIP: change refused");
	kfree(st);
	paxos_instance_put(inst);
	paxos_net_put(pn);
	return err;
}

static int paxos_nl_set_params(struct sk_buff *skb, struct genl_info *info)
{
	struct paxos_net *pn;
	int err;

	if (PAXOS_REQUIRE(info, PAXOS_A_PARAMS,
			  "missing PAXOS_A_PARAMS: the parameters to set"))
		return -EINVAL;
	pn = paxos_nl_net(info);
	if (!pn)
		return -ENODEV;
	err = paxos_set_params(pn, info->attrs[PAXOS_A_PARAMS], info->extack);
	atomic_inc(&paxos_genl_gen);
	paxos_net_put(pn);
	return err;
}

/* ---------------------------------------------------------------- status */

static int paxos_fill_status(struct sk_buff *skb, struct paxos_net *pn,
			     struct paxos_instance *inst, u32 portid, u32 seq,
			     int flags, struct netlink_callback *cb)
{
	struct paxos_status *st;
	struct nlattr *params;
	void *hdr;
	u32 key, latest;
	u64 val;
	int err = -EMSGSIZE;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	paxos_instance_status(inst, st);
	paxos_instance_members(inst, &latest);

	hdr = genlmsg_put(skb, portid, seq, &paxos_genl_family, flags,
			  PAXOS_CMD_GET_STATUS);
	if (!hdr)
		goto out;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_string(skb, PAXOS_A_IFNAME, inst->ifname) ||
	    nla_put_u32(skb, PAXOS_A_NODE_ID, inst->self) ||
	    nla_put_u32(skb, PAXOS_A_CLUSTER_ID, inst->wcfg.cluster_id) ||
	    nla_put_u16(skb, PAXOS_A_GROUP_ID, inst->wcfg.group_id) ||
	    nla_put_u32(skb, PAXOS_A_ROLES, inst->roles) ||
	    nla_put_u16(skb, PAXOS_A_ETHERTYPE, inst->ethertype) ||
	    nla_put_u32(skb, PAXOS_A_MEMBERS, st->members) ||
	    nla_put_u32(skb, PAXOS_A_MEMBERS_LATEST, latest) ||
	    nla_put_u32(skb, PAXOS_A_LEADER_ID, st->leader_id) ||
	    nla_put_u64_64bit(skb, PAXOS_A_BALLOT, st->ballot, PAXOS_A_PAD) ||
	    nla_put_u32(skb, PAXOS_A_STATE_FLAGS,
			paxos_instance_state_flags(inst)) ||
	    (inst->state_path &&
	     nla_put_string(skb, PAXOS_A_STATE_PATH, inst->state_path)) ||
	    paxos_put_peers(skb, inst, READ_ONCE(inst->wcfg.known)))
		goto cancel;
	params = nla_nest_start(skb, PAXOS_A_PARAMS);
	if (!params)
		goto cancel;
	for (key = 1; key < __PAXOS_PARAM_MAX; key++) {
		if (paxos_param_get(pn, key, &val))
			continue;
		/* pad attribute 0: never a parameter */
		if (nla_put_u64_64bit(skb, key, val, 0))
			goto cancel;
	}
	nla_nest_end(skb, params);
	if (nla_put(skb, PAXOS_A_STATUS, sizeof(*st), st))
		goto cancel;
	genlmsg_end(skb, hdr);
	err = 0;
	goto out;
cancel:
	genlmsg_cancel(skb, hdr);
out:
	kfree(st);
	return err;
}

static int paxos_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct paxos_instance *inst;
	struct paxos_net *pn;
	struct sk_buff *msg;
	int err;

	pn = paxos_nl_net(info);
	if (!pn)
		return -ENODEV;
	err = -ENOTCONN;
	inst = paxos_instance_get(pn);
	if (!inst) {
		NL_SET_ERR_MSG(info->extack,
			       "no instance in this network namespace");
		goto out;
	}
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	err = paxos_fill_status(msg, pn, inst, info->snd_portid,
				info->snd_seq, 0, NULL);
	if (err) {
		nlmsg_free(msg);
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	paxos_instance_put(inst);
	paxos_net_put(pn);
	return err;
}

/* cb->args[0]: the namespace (a reference); cb->args[1]: 1 when done. */
static int paxos_nl_dump_start(struct netlink_callback *cb)
{
	struct paxos_net *pn = paxos_net_get(sock_net(cb->skb->sk));

	if (!pn)
		return -ENODEV;
	cb->args[0] = (long)pn;
	cb->args[1] = 0;
	return 0;
}

static int paxos_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct paxos_net *pn = (struct paxos_net *)cb->args[0];
	struct paxos_instance *inst;
	int err;

	if (cb->args[1])
		return 0;
	cb->seq = atomic_read(&paxos_genl_gen);
	inst = paxos_instance_get(pn);
	if (inst) {
		err = paxos_fill_status(skb, pn, inst,
					NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI, cb);
		paxos_instance_put(inst);
		if (err)
			return err;
	}
	cb->args[1] = 1;
	return skb->len;
}

static int paxos_nl_dump_done(struct netlink_callback *cb)
{
	paxos_net_put((struct paxos_net *)cb->args[0]);
	return 0;
}

/* ---------------------------------------------------------------- family */

static const struct genl_ops paxos_genl_ops[] = {
	{
		.cmd = PAXOS_CMD_UP,
		.doit = paxos_nl_up,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = PAXOS_CMD_DOWN,
		.doit = paxos_nl_down,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = PAXOS_CMD_SET_PEERS,
		.doit = paxos_nl_set_peers,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = PAXOS_CMD_SET_PARAMS,
		.doit = paxos_nl_set_params,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = PAXOS_CMD_MEMBERSHIP,
		.doit = paxos_nl_membership,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = PAXOS_CMD_GET_STATUS,
		.doit = paxos_nl_get_status,
		.start = paxos_nl_dump_start,
		.dumpit = paxos_nl_dump,
		.done = paxos_nl_dump_done,
	},
};

static struct genl_family paxos_genl_family __ro_after_init = {
	.name = PAXOS_GENL_NAME,
	.version = PAXOS_GENL_VERSION,
	.maxattr = PAXOS_A_MAX,
	.policy = paxos_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = paxos_genl_ops,
	.n_ops = ARRAY_SIZE(paxos_genl_ops),
	.resv_start_op = PAXOS_CMD_MAX + 1,
	.mcgrps = paxos_mcgrps,
	.n_mcgrps = ARRAY_SIZE(paxos_mcgrps),
};

int paxos_netlink_init(void)
{
	int err, id;

	for (id = 1; id < PAXOS_MAX_NODES; id++)
		snprintf(paxos_nomac_msg[id], sizeof(paxos_nomac_msg[id]),
			 "node %d has no MAC: set-peers first", id);
	err = genl_register_family(&paxos_genl_family);
	if (err)
		return err;
	WRITE_ONCE(paxos_genl_live, true);
	return 0;
}

void paxos_netlink_uninit(void)
{
	WRITE_ONCE(paxos_genl_live, false);
	synchronize_rcu();	/* no event is being sent any more */
	genl_unregister_family(&paxos_genl_family);
}
