// SPDX-License-Identifier: GPL-2.0
/*
 * One paxos instance per network namespace.
 *
 * Each namespace gets a struct paxos_net (pernet device operations).  It is
 * separately allocated and reference counted because open /dev/paxos files
 * keep pointing at it after their namespace is gone.  An instance is created
 * by paxos_instance_up() (PAXOS_IOC_UP, later netlink) and torn down by
 * paxos_instance_down(), by the namespace's .pre_exit, or at module exit:
 *
 *   1. unpublish it and stop receiving (unregister the packet_type,
 *      synchronize_net, drop the device);
 *   2. mark it dead, stop the node thread;
 *   3. wake blocked readers and writers (they fail with ENOTCONN) and free
 *      the roles and the delivery log;
 *   4. drop the namespace's reference; open files drop theirs on close.
 */
#include "kpaxos.h"
#include "storage.h"

#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

/* Stored by value in net_generic(): valid until the namespace is freed. */
struct paxos_net_slot {
	struct paxos_net *pn;		/* written under RTNL */
};

static unsigned int paxos_net_id __read_mostly;

static void paxos_net_release(struct kref *ref)
{
	kfree(container_of(ref, struct paxos_net, ref));
}

void paxos_net_put(struct paxos_net *pn)
{
	if (pn)
		kref_put(&pn->ref, paxos_net_release);
}

struct paxos_net *paxos_net_get(struct net *net)
{
	struct paxos_net_slot *slot = net_generic(net, paxos_net_id);
	struct paxos_net *pn;

	rtnl_lock();
	pn = slot->pn;
	if (pn)
		kref_get(&pn->ref);
	rtnl_unlock();
	return pn;
}

struct paxos_net *paxos_net_rtnl(struct net *net)
{
	struct paxos_net_slot *slot = net_generic(net, paxos_net_id);

	ASSERT_RTNL();
	/*
	 * Devices of a namespace being set up (loopback) register before
	 * our .init has run: no slot yet.
	 */
	return slot ? slot->pn : NULL;
}

bool paxos_net_capable(struct paxos_net *pn)
{
	bool ok;

	mutex_lock(&pn->lock);
	ok = !pn->dead && ns_capable(pn->net->user_ns, CAP_NET_ADMIN);
	mutex_unlock(&pn->lock);
	return ok;
}

/* ------------------------------------------------------------ instance */

static void paxos_instance_release(struct kref *ref)
{
	struct paxos_instance *inst =
		container_of(ref, struct paxos_instance, ref);

	kfree(inst->state_path);
	kfree_rcu(inst, rcu);
}

void paxos_instance_put(struct paxos_instance *inst)
{
	if (inst)
		kref_put(&inst->ref, paxos_instance_release);
}

struct paxos_instance *paxos_instance_get(struct paxos_net *pn)
{
	struct paxos_instance *inst;

	rcu_read_lock();
	inst = rcu_dereference(pn->inst);
	if (inst && !kref_get_unless_zero(&inst->ref))
		inst = NULL;
	rcu_read_unlock();
	return inst;
}

/* Parameter key -> field of struct px_config. */
static u32 *param_field(struct px_config *cfg, u32 key)
{
	switch (key) {
	case PAXOS_PARAM_WINDOW:
		return &cfg->window;
	case PAXOS_PARAM_BATCH_BYTES:
		return &cfg->batch_bytes;
	case PAXOS_PARAM_BATCH_DELAY_US:
		return &cfg->batch_delay_us;
	case PAXOS_PARAM_HEARTBEAT_US:
		return &cfg->heartbeat_us;
	case PAXOS_PARAM_ELECTION_US:
		return &cfg->election_us;
	case PAXOS_PARAM_RETRANSMIT_US:
		return &cfg->retransmit_us;
	case PAXOS_PARAM_ACCEPTOR_SLOTS:
		return &cfg->acceptor_slots;
	case PAXOS_PARAM_LEARNER_SLOTS:
		return &cfg->learner_slots;
	case PAXOS_PARAM_SNAPSHOT_EVERY:
		return &cfg->snapshot_every;
	case PAXOS_PARAM_ALPHA:
		return &cfg->alpha;
	}
	return NULL;
}

/*
 * snapshot_every when its parameter is unset: the module parameter, whose
 * -1 means learner_slots / 4 (of the final learner_slots).
 */
static void default_snapshot_every(struct paxos_net *pn, struct px_config *cfg)
{
	int every = READ_ONCE(paxos_snapshot_every);

	if (pn->params[PAXOS_PARAM_SNAPSHOT_EVERY])
		return;
	cfg->snapshot_every = every < 0 ? cfg->learner_slots / 4 : every;
}

static void apply_params(struct paxos_net *pn, struct px_config *cfg)
{
	u32 key;

	lockdep_assert_held(&pn->lock);
	cfg->alpha = READ_ONCE(paxos_alpha);
	for (key = 1; key < __PAXOS_PARAM_MAX; key++)
		if (pn->params[key])
			*param_field(cfg, key) = pn->params[key];
	default_snapshot_every(pn, cfg);
}

/* *@known: the peers given (this node included), the nodes with a MAC. */
static int check_config(const struct paxos_config *uc, u32 *known,
			const char **why)
{
	u32 seen = 0, i;

	/* members is a u32 bitmap with bit n = node n: ids are 1..31 */
	if (uc->node_id < 1 || uc->node_id >= PAXOS_MAX_NODES) {
		*why = "node_id must be 1..31";
		return -EINVAL;
	}
	if (uc->n_peers < 1 || uc->n_peers >= PAXOS_MAX_NODES) {
		*why = "n_peers must be 1..31";
		return -EINVAL;
	}
	if (!uc->roles || uc->roles & ~PAXOS_ROLE_ALL) {
		*why = "roles must be a non-empty set of PAXOS_ROLE_*";
		return -EINVAL;
	}
	if (uc->ethertype && uc->ethertype < ETH_P_802_3_MIN) {
		*why = "ethertype is below 0x0600 (an 802.3 length)";
		return -EINVAL;
	}
	if (uc->pad) {
		*why = "pad must be 0";
		return -EINVAL;
	}
	if (!uc->ifname[0] || !memchr(uc->ifname, 0, sizeof(uc->ifname))) {
		*why = "ifname must be a non-empty NUL-terminated name";
		return -EINVAL;
	}
	for (i = 0; i < uc->n_peers; i++) {
		const struct paxos_peer *p = &uc->peers[i];

		if (p->node_id < 1 || p->node_id >= PAXOS_MAX_NODES) {
			*why = "peer node_id must be 1..31";
			return -EINVAL;
		}
		if (seen & BIT(p->node_id)) {
			*why = "duplicate peer node_id";
			return -EINVAL;
		}
		if (!is_valid_ether_addr(p->mac)) {
			*why = "peer MAC must be a unicast, non-zero address";
			return -EINVAL;
		}
		if (p->pad[0] || p->pad[1]) {
			*why = "peer pad must be 0";
			return -EINVAL;
		}
		seen |= BIT(p->node_id);
	}
	if (!(seen & BIT(uc->node_id))) {
		*why = "peers must include this node";
		return -EINVAL;
	}
	*known = seen;
	return 0;
}

/* The initial configuration: every peer, or a subset of them. */
static int check_members(const struct paxos_up_opts *opts, u32 known,
			 u32 *members, const char **why)
{
	*members = known;
	if (!opts || !opts->members)
		return 0;
	if (opts->members & ~known) {
		*why = "members must be a subset of the peers (every member needs a MAC)";
		return -EINVAL;
	}
	*members = opts->members;
	return 0;
}

/* Durable state (and a rejoin after lost state) for a new instance. */
static int instance_open_state(struct paxos_instance *inst,
			       const struct paxos_config *uc,
			       const struct paxos_up_opts *opts,
			       const char **why)
{
	struct px_storage_id id = {
		.node_id = uc->node_id,
		.cluster_id = uc->cluster_id,
		.group_id = uc->group_id,
	};
	bool fresh = false;
	int err;

	if (!opts || !opts->state_path) {
		if (inst->acc)
			pr_notice("node %u: acceptor state in memory only: not safe across crashes or restarts\n",
				  uc->node_id);
		return 0;
	}
	if (!inst->acc) {
		*why = "a state path needs the acceptor role";
		return -EINVAL;
	}
	inst->state_path = kstrdup(opts->state_path, GFP_KERNEL);
	if (!inst->state_path) {
		*why = "out of memory";
		return -ENOMEM;
	}
	err = px_storage_open(&inst->store, inst->state_path, &id, inst->acc,
			      &fresh, why);
	if (err)
		return err;
	inst->state_flags |= PAXOS_STATE_F_DURABLE;
	if (fresh && (opts->state_flags & PAXOS_STATE_F_REJOIN)) {
		/* Lost state: mute until the rejoin rule holds (thread.c). */
		inst->rejoining = true;
		pr_info("node %u: no acceptor state in %s: rejoining, not voting yet\n",
			uc->node_id, inst->state_path);
	} else if (!fresh) {
		pr_info("node %u: acceptor state restored from %s: %llu records, promised %llu, trim %llu, highest %llu\n",
			uc->node_id, inst->state_path, inst->store->replayed,
			inst->acc->promised, inst->acc->trim,
			inst->acc->highest);
	}
	return 0;
}

static struct paxos_instance *instance_alloc(struct paxos_net *pn,
					     const struct paxos_config *uc,
					     const struct paxos_up_opts *opts,
					     u32 members, u32 known,
					     const char **why)
{
	struct paxos_instance *inst;
	u64 now = px_now();
	int err, i, r;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return ERR_PTR(-ENOMEM);
	kref_init(&inst->ref);
	inst->net = pn->net;
	inst->ns_inum = pn->ns_inum;
	inst->self = uc->node_id;
	inst->roles = uc->roles;
	inst->ethertype = uc->ethertype ? uc->ethertype : paxos_ethertype;
	strscpy(inst->ifname, uc->ifname, sizeof(inst->ifname));
	for (i = 0; i < uc->n_peers; i++)
		ether_addr_copy(inst->macs[uc->peers[i].node_id],
				uc->peers[i].mac);

	px_config_default(&inst->cfg, inst->self, members);
	apply_params(pn, &inst->cfg);
	inst->cfg.seed = get_random_u64();
	/*
	 * This node may be outside the configuration (a node being added):
	 * check the rest as if it were in, then the membership rules.
	 */
	inst->cfg.members |= BIT(inst->self);
	err = px_config_check(&inst->cfg, why);
	inst->cfg.members = members;
	if (!err && inst->cfg.window > px_config_alpha(&inst->cfg)) {
		*why = "alpha (parameter or module parameter) is below the window";
		err = -EINVAL;
	}
	if (!err && px_config_check_known(&inst->cfg)) {
		*why = "bad configuration for a node outside the members";
		err = -EINVAL;
	}
	if (err)
		goto err_free;
	inst->seen_members = members;
	inst->seen_latest = members;
	mutex_init(&inst->mreq_lock);
	mutex_init(&inst->sreq_lock);
	mutex_init(&inst->put_lock);
	spin_lock_init(&inst->snapbuf_lock);

	inst->wcfg.cluster_id = uc->cluster_id;
	inst->wcfg.group_id = uc->group_id;
	inst->wcfg.self = inst->self;
	inst->wcfg.members = members;
	inst->wcfg.known = known;
	inst->wcfg.mtu = PAXOS_MAX_MTU;
	inst->wcfg.key = NULL;
	if (opts && opts->key) {
		memcpy(inst->key, opts->key, PAXOS_KEY_LEN);
		inst->wcfg.key = inst->key;
		inst->state_flags |= PAXOS_STATE_F_AUTH;
	}

	atomic_set(&inst->msg_seq, get_random_u32());
	skb_queue_head_init(&inst->rxq);
	init_waitqueue_head(&inst->node_wq);
	init_waitqueue_head(&inst->write_wq);
	init_waitqueue_head(&inst->read_wq);
	spin_lock_init(&inst->snap_lock);
	px_queue_init(&inst->cmdq, U32_MAX, paxos_cmd_queue_bytes);
	for (r = 0; r < PX_NR_ROLES; r++) {
		inst->thr[r].inst = inst;
		inst->thr[r].id = r;
		inst->thr[r].dirty = true;
	}
	px_reasm_init(&inst->reasm);

	err = -ENOMEM;
	*why = "out of memory";
	if (inst->roles & PAXOS_ROLE_ACCEPTOR) {
		inst->acc = kzalloc(sizeof(*inst->acc), GFP_KERNEL);
		if (!inst->acc)
			goto err_roles;
		inst->cfg.volatile_acceptor = !opts || !opts->state_path;
		err = px_acceptor_init(inst->acc, &inst->cfg);
		if (err) {
			kfree(inst->acc);
			inst->acc = NULL;
			goto err_roles;
		}
	}
	err = instance_open_state(inst, uc, opts, why);
	if (err)
		goto err_roles;
	err = -ENOMEM;
	*why = "out of memory";
	if (inst->roles & PAXOS_ROLE_PROPOSER) {
		inst->prop = px_proposer_create(&inst->cfg, now);
		if (!inst->prop)
			goto err_roles;
		/* Never lead again with a ballot used before a restart. */
		if (inst->acc && inst->store)
			px_proposer_restore(inst->prop, inst->acc->promised);
	}
	if (inst->roles & PAXOS_ROLE_LEARNER) {
		inst->learn = px_learner_create(&inst->cfg, now);
		if (!inst->learn)
			goto err_roles;
	}
	err = px_dlog_init(&inst->log, inst->cfg.learner_slots,
			   paxos_log_bytes);
	if (err)
		goto err_roles;
	return inst;

err_roles:
	px_storage_close(inst->store);
	kfree(inst->state_path);
	memzero_explicit(inst->key, sizeof(inst->key));
	if (inst->learn)
		px_learner_destroy(inst->learn);
	if (inst->prop)
		px_proposer_destroy(inst->prop);
	if (inst->acc) {
		px_acceptor_uninit(inst->acc);
		kfree(inst->acc);
	}
	px_reasm_uninit(&inst->reasm);
err_free:
	kfree(inst);
	return ERR_PTR(err);
}

/* Everything but the struct, which open files may still reference. */
static void instance_free_state(struct paxos_instance *inst)
{
	struct px_snapbuf *sb;

	px_queue_close(&inst->cmdq);
	skb_queue_purge(&inst->rxq);
	px_dlog_uninit(&inst->log);
	spin_lock_bh(&inst->snapbuf_lock);
	sb = inst->snapbuf;
	inst->snapbuf = NULL;
	spin_unlock_bh(&inst->snapbuf_lock);
	px_snapbuf_put(sb);
	if (inst->learn)
		px_learner_destroy(inst->learn);
	if (inst->prop)
		px_proposer_destroy(inst->prop);
	if (inst->acc) {
		px_acceptor_uninit(inst->acc);
		kfree(inst->acc);
	}
	inst->learn = NULL;
	inst->prop = NULL;
	inst->acc = NULL;
	px_reasm_uninit(&inst->reasm);
	page_frag_cache_drain(&inst->tx_frag);
	px_storage_close(inst->store);
	inst->store = NULL;
	memzero_explicit(inst->key, sizeof(inst->key));
	/* state_path stays for status until the struct is freed */
}

/* Called with pn->lock held; the instance is already unpublished. */
static void instance_teardown(struct paxos_instance *inst)
{
	synchronize_net();		/* no rcu reader sees it as live */
	WRITE_ONCE(inst->dead, true);
	px_debugfs_del(inst);
	px_threads_stop(inst);
	wake_up_all(&inst->read_wq);
	wake_up_all(&inst->write_wq);
	instance_free_state(inst);
	inst->net = NULL;
	pr_info("node %u in netns %u: instance destroyed\n", inst->self,
		inst->ns_inum);
}

static struct paxos_instance *unpublish(struct paxos_net *pn)
{
	struct paxos_instance *inst;

	lockdep_assert_held(&pn->lock);
	rtnl_lock();
	inst = rtnl_dereference(pn->inst);
	if (inst) {
		RCU_INIT_POINTER(pn->inst, NULL);
		px_eth_detach(inst);
	}
	rtnl_unlock();
	return inst;
}

int paxos_instance_up(struct paxos_net *pn, const struct paxos_config *uc,
		      const char **why)
{
	return paxos_instance_up_opts(pn, uc, NULL, why);
}

u32 paxos_instance_state_flags(struct paxos_instance *inst)
{
	u32 flags = inst->state_flags;

	if (READ_ONCE(inst->rejoining))
		flags |= PAXOS_STATE_F_REJOINING;
	if (READ_ONCE(inst->state_failed))
		flags |= PAXOS_STATE_F_FAILED;
	return flags;
}

int paxos_instance_up_opts(struct paxos_net *pn,
			   const struct paxos_config *uc,
			   const struct paxos_up_opts *opts, const char **why)
{
	struct paxos_instance *inst;
	struct net_device *dev;
	u32 members, known;
	int err;

	err = check_config(uc, &known, why);
	if (!err)
		err = check_members(opts, known, &members, why);
	if (err)
		return err;

	mutex_lock(&pn->lock);
	err = -ENOTCONN;
	*why = "network namespace is going away";
	if (pn->dead)
		goto out_unlock;
	err = -EEXIST;
	*why = "an instance is already up in this namespace";
	if (rcu_access_pointer(pn->inst))
		goto out_unlock;

	inst = instance_alloc(pn, uc, opts, members, known, why);
	if (IS_ERR(inst)) {
		err = PTR_ERR(inst);
		goto out_unlock;
	}
	err = px_threads_start(inst);
	if (err) {
		*why = "cannot start kernel threads";
		goto err_inst;
	}

	rtnl_lock();
	dev = __dev_get_by_name(pn->net, inst->ifname);
	if (!dev) {
		err = -ENODEV;
		*why = "no such interface in this namespace";
	} else {
		err = px_eth_attach(inst, dev, why);
	}
	if (!err)
		rcu_assign_pointer(pn->inst, inst);
	rtnl_unlock();
	if (err)
		goto err_inst;

	px_debugfs_add(inst);
	mutex_unlock(&pn->lock);
	pr_info("node %u in netns %u: instance up on %s (members 0x%x, known 0x%x, roles 0x%x)\n",
		inst->self, inst->ns_inum, inst->ifname, members, known,
		inst->roles);
	return 0;

err_inst:
	instance_teardown(inst);
	paxos_instance_put(inst);
out_unlock:
	mutex_unlock(&pn->lock);
	return err;
}

int paxos_instance_down(struct paxos_net *pn)
{
	struct paxos_instance *inst;

	mutex_lock(&pn->lock);
	inst = unpublish(pn);
	if (inst)
		instance_teardown(inst);
	mutex_unlock(&pn->lock);
	if (!inst)
		return -ENOTCONN;
	paxos_instance_put(inst);
	return 0;
}

int paxos_param_get(struct paxos_net *pn, u32 key, u64 *value)
{
	struct paxos_instance *inst;
	struct px_config cfg;

	if (key < 1 || key >= __PAXOS_PARAM_MAX)
		return -EINVAL;
	inst = paxos_instance_get(pn);
	if (inst) {
		cfg = inst->cfg;
		paxos_instance_put(inst);
	} else {
		px_config_default(&cfg, 1, BIT(1));
		mutex_lock(&pn->lock);
		apply_params(pn, &cfg);
		mutex_unlock(&pn->lock);
	}
	/* alpha 0 stands for its default: report what applies. */
	*value = key == PAXOS_PARAM_ALPHA ? px_config_alpha(&cfg) :
					    *param_field(&cfg, key);
	return 0;
}

int paxos_param_set(struct paxos_net *pn, u32 key, u64 value,
		    const char **why)
{
	struct px_config cfg;
	int err;

	if (key < 1 || key >= __PAXOS_PARAM_MAX) {
		*why = "unknown parameter";
		return -EINVAL;
	}
	if (value > U32_MAX) {
		*why = "value out of range";
		return -EINVAL;
	}
	mutex_lock(&pn->lock);
	err = -EBUSY;
	*why = "parameters can only change while the instance is down";
	if (rcu_access_pointer(pn->inst))
		goto out;
	err = 0;
	if (value) {		/* 0 restores the core's default */
		px_config_default(&cfg, 1, BIT(1));
		apply_params(pn, &cfg);
		*param_field(&cfg, key) = value;
		if (key != PAXOS_PARAM_SNAPSHOT_EVERY)
			default_snapshot_every(pn, &cfg);
		err = px_config_check(&cfg, why);
		if (!err && cfg.window > px_config_alpha(&cfg)) {
			*why = "alpha must be at least the window";
			err = -EINVAL;
		}
	}
	if (!err)
		pn->params[key] = value;
out:
	mutex_unlock(&pn->lock);
	return err;
}

/* ---------------------------------------------------------------- pernet */

static int __net_init paxos_net_init(struct net *net)
{
	struct paxos_net_slot *slot = net_generic(net, paxos_net_id);
	struct paxos_net *pn;

	pn = kzalloc(sizeof(*pn), GFP_KERNEL);
	if (!pn)
		return -ENOMEM;
	kref_init(&pn->ref);
	mutex_init(&pn->lock);
	pn->net = net;
	pn->ns_inum = net->ns.inum;
	rtnl_lock();
	slot->pn = pn;
	rtnl_unlock();
	return 0;
}

/* The namespace is dying: tear its instance down before its devices go. */
static void __net_exit paxos_net_pre_exit(struct net *net)
{
	struct paxos_net_slot *slot = net_generic(net, paxos_net_id);
	struct paxos_net *pn = slot->pn;
	struct paxos_instance *inst;

	mutex_lock(&pn->lock);
	pn->dead = true;
	inst = unpublish(pn);
	if (inst)
		instance_teardown(inst);
	pn->net = NULL;
	mutex_unlock(&pn->lock);
	paxos_instance_put(inst);
}

static void __net_exit paxos_net_exit(struct net *net)
{
	struct paxos_net_slot *slot = net_generic(net, paxos_net_id);
	struct paxos_net *pn;

	rtnl_lock();
	pn = slot->pn;
	slot->pn = NULL;
	rtnl_unlock();
	paxos_net_put(pn);
}

static struct pernet_operations paxos_net_ops = {
	.init = paxos_net_init,
	.pre_exit = paxos_net_pre_exit,
	.exit = paxos_net_exit,
	.id = &paxos_net_id,
	.size = sizeof(struct paxos_net_slot),
};

int paxos_pernet_init(void)
{
	return register_pernet_device(&paxos_net_ops);
}

void paxos_pernet_uninit(void)
{
	unregister_pernet_device(&paxos_net_ops);
}
