// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the module's kernel glue that runs without a NIC.
 *
 *   kpaxos_queue  bounded queues between threads (kmod/thread.c)
 *   kpaxos_dlog   the delivery log readers of /dev/paxos copy from
 *                 (kmod/dlog.c)
 *   kpaxos_eth    a live instance (kmod/instance.c, thread.c, eth.c) on a
 *                 software Ethernet device whose transmit hook captures
 *                 skbs and whose receive path the test feeds: frames the
 *                 module encodes are checked on the wire, frames the test
 *                 encodes as a peer travel up to the delivery log, and
 *                 every malformed one is counted under its drop reason.
 */
#include "kpaxos.h"

#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>

#include "px_kunit.h"

#define B(round, node)	px_ballot_make(round, node)

/* ------------------------------------------------------------- queues */

struct qitem {
	struct px_qent e;
	int v;
};

static struct qitem *qitem(struct kunit *test, int v, size_t size)
{
	struct qitem *it = kvmalloc(sizeof(*it), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, it);
	it->e.size = size;
	it->v = v;
	return it;
}

/* Push; on failure the caller still owns the item: free it. */
static int qpush(struct kunit *test, struct px_queue *q, int v, size_t size)
{
	struct qitem *it = qitem(test, v, size);
	int err = px_queue_push(q, &it->e);

	if (err)
		kvfree(it);
	return err;
}

static void queue_fifo_and_length(struct kunit *test)
{
	struct px_queue q;
	struct qitem *it;
	int v = 0;

	px_queue_init(&q, 3, 1000);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 1, 10), 0);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 2, 20), 0);
	KUNIT_EXPECT_TRUE(test, px_queue_has_room(&q, 1));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 3, 30), 0);
	KUNIT_EXPECT_FALSE(test, px_queue_has_room(&q, 1));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 4, 1), -ENOSPC);
	KUNIT_EXPECT_EQ(test, q.len, 3u);
	KUNIT_EXPECT_EQ(test, q.bytes, (size_t)60);
	list_for_each_entry(it, &q.list, e.node)
		KUNIT_EXPECT_EQ(test, it->v, ++v);
	KUNIT_EXPECT_EQ(test, v, 3);
	px_queue_close(&q);
}

static void queue_byte_budget(struct kunit *test)
{
	struct px_queue q;

	px_queue_init(&q, 100, 100);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 1, 60), 0);
	KUNIT_EXPECT_FALSE(test, px_queue_has_room(&q, 41));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 2, 41), -ENOSPC);
	KUNIT_EXPECT_TRUE(test, px_queue_has_room(&q, 40));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 3, 40), 0);
	KUNIT_EXPECT_EQ(test, q.bytes, (size_t)100);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 4, 0), 0);
	px_queue_close(&q);

	/* An entry above the budget still goes through an empty queue. */
	px_queue_init(&q, 100, 100);
	KUNIT_EXPECT_TRUE(test, px_queue_has_room(&q, 500));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 1, 500), 0);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 2, 1), -ENOSPC);
	px_queue_close(&q);
}

static void queue_close(struct kunit *test)
{
	struct px_queue q;

	px_queue_init(&q, 10, 1000);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 1, 10), 0);
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 2, 10), 0);
	px_queue_close(&q);		/* frees both */
	KUNIT_EXPECT_TRUE(test, q.closed);
	KUNIT_EXPECT_EQ(test, q.len, 0u);
	KUNIT_EXPECT_EQ(test, q.bytes, (size_t)0);
	KUNIT_EXPECT_TRUE(test, list_empty(&q.list));
	KUNIT_EXPECT_EQ(test, qpush(test, &q, 3, 10), -ENOTCONN);
	/* Writers waiting for room must wake up and see it closed. */
	KUNIT_EXPECT_TRUE(test, px_queue_has_room(&q, 1 << 20));
}

static struct kunit_case queue_cases[] = {
	KUNIT_CASE(queue_fifo_and_length),
	KUNIT_CASE(queue_byte_budget),
	KUNIT_CASE(queue_close),
	{}
};

static struct kunit_suite queue_suite = {
	.name = "kpaxos_queue",
	.test_cases = queue_cases,
};

/* -------------------------------------------------------- delivery log */

/*
 * A value as the learner hands it over: a px_value_alloc() block, which
 * the log's entries hold a reference on.  The caller drops its own with
 * px_value_free().
 */
static u8 *dlog_value(struct kunit *test, const u8 *v, u32 len)
{
	u8 *p = px_value_alloc(len);

	KUNIT_ASSERT_NOT_NULL(test, p);
	memcpy(p, v, len);
	return p;
}

static struct px_dlog *new_dlog(struct kunit *test, u32 slots, size_t bytes)
{
	struct px_dlog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_EQ(test, px_dlog_init(log, slots, bytes), 0);
	return log;
}

static void dlog_append_get(struct kunit *test)
{
	static const struct kpx_cmd cmds[] = {
		{ 11, 1, "first" }, { 12, 1, "second" },
	};
	struct px_dlog *log = new_dlog(test, 16, 1 << 20);
	struct px_dent *e;
	u32 len, nlen;
	u8 *v = kpx_value(test, cmds, 2, &len);
	u8 *noop = kpx_noop(test, &nlen);
	int err;

	v = dlog_value(test, v, len);
	noop = dlog_value(test, noop, nlen);
	KUNIT_EXPECT_EQ(test, px_dlog_next(log), 1ull);
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 1));
	e = px_dlog_get(log, 1, &err, NULL);
	KUNIT_EXPECT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, err, -EAGAIN);

	/* Returns the commands a reader will get. */
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 1, v, len, v, false), 2);
	/* The learner delivers in order. */
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 3, noop, nlen, noop, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 1, noop, nlen, noop, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 2, noop, nlen, noop, false), 0);
	KUNIT_EXPECT_EQ(test, px_dlog_next(log), 3ull);

	e = px_dlog_get(log, 1, &err, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, e->instance, 1ull);
	KUNIT_EXPECT_EQ(test, e->n_cmds, 2u);
	KUNIT_ASSERT_EQ(test, e->len, len);
	KUNIT_EXPECT_EQ(test, memcmp(e->value, v, len), 0);
	px_dent_put(e);
	px_dent_put(NULL);

	/* Readable: something to return (1), nothing but no-ops (2), or
	 * not there yet (3).
	 */
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 1));
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 2));
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 3));
	px_dlog_uninit(log);
	px_value_free(v);
	px_value_free(noop);
}

static void dlog_evicts_oldest(struct kunit *test)
{
	static const struct kpx_cmd c = { 1, 1, "0123456789ab" };
	struct px_dlog *log = new_dlog(test, 16, 1 << 20);
	struct px_dent *e;
	u32 len, i;
	u8 *v = kpx_value(test, &c, 1, &len);
	int err;

	v = dlog_value(test, v, len);
	/* By count: a ring of 16 instances. */
	for (i = 1; i <= 17; i++)
		KUNIT_ASSERT_EQ(test, px_dlog_append(log, i, v, len, v, false), 1);
	e = px_dlog_get(log, 1, &err, NULL);
	KUNIT_EXPECT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, err, -EOVERFLOW);
	/* A reader left behind must hear about it. */
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 1));
	e = px_dlog_get(log, 2, &err, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	px_dent_put(e);
	px_dlog_uninit(log);

	/* By bytes: room for two values of 40 bytes in 100. */
	KUNIT_ASSERT_EQ(test, len, 40u);
	log = new_dlog(test, 16, 100);
	for (i = 1; i <= 3; i++)
		KUNIT_ASSERT_EQ(test, px_dlog_append(log, i, v, len, v, false), 1);
	e = px_dlog_get(log, 1, &err, NULL);
	KUNIT_EXPECT_EQ(test, err, -EOVERFLOW);
	e = px_dlog_get(log, 2, &err, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	px_dent_put(e);
	KUNIT_EXPECT_LE(test, log->bytes, (size_t)100);
	px_dlog_uninit(log);
	px_value_free(v);
}

/* Commands the learner flagged as retries are not counted for readers. */
static void dlog_skips_duplicates(struct kunit *test)
{
	static const struct kpx_cmd cmds[] = {
		{ 5, 1, "retry" }, { 5, 2, "new" },
	};
	struct px_dlog *log = new_dlog(test, 16, 1 << 20);
	u32 len;
	u8 *v = kpx_value(test, cmds, 2, &len);
	u8 *v1, *v2;

	/* flags of the first command */
	px_put_be32(v + PAXOS_BATCH_HDR_LEN + 20, PAXOS_CMD_F_DUP);
	v1 = dlog_value(test, v, len);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 1, v1, len, v1, false), 1);
	px_put_be32(v + PAXOS_BATCH_HDR_LEN + 20 + PAXOS_CMD_HDR_LEN + 5,
		    PAXOS_CMD_F_DUP);
	v2 = dlog_value(test, v, len);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 2, v2, len, v2, false), 0);
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 1));
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 2));
	px_dlog_uninit(log);
	px_value_free(v1);
	px_value_free(v2);
}

/* A reader's reference outlives the log, and the learner's on the value. */
static void dlog_reader_outlives_log(struct kunit *test)
{
	static const struct kpx_cmd c = { 1, 1, "kept" };
	struct px_dlog *log = new_dlog(test, 16, 1 << 20);
	struct px_dent *e;
	u32 len;
	u8 *v = kpx_value(test, &c, 1, &len);
	u8 *held;
	int err;

	held = dlog_value(test, v, len);
	KUNIT_ASSERT_EQ(test, px_dlog_append(log, 1, held, len, held, false), 1);
	px_value_free(held);		/* the learner let go of it */
	e = px_dlog_get(log, 1, &err, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_PTR_EQ(test, e->value, (const u8 *)held);
	px_dlog_uninit(log);
	KUNIT_EXPECT_NULL(test, px_dlog_get(log, 1, &err, NULL));
	KUNIT_EXPECT_EQ(test, err, -ENOTCONN);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 2, held, len, held, false),
			-ENOTCONN);
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 2));
	KUNIT_EXPECT_EQ(test, e->instance, 1ull);
	KUNIT_EXPECT_EQ(test, memcmp(e->value, v, len), 0);
	px_dent_put(e);
}

/*
 * A snapshot point's entry is readable even without commands (its
 * SNAP_POINT record); after an install at I the log restarts at I + 1 and
 * readers below it are told (-EOVERFLOW, with the first retained index,
 * for chardev.c's RESTORE).
 */
static void dlog_snap_point_restart(struct kunit *test)
{
	static const struct kpx_cmd c = { 1, 1, "x" };
	struct px_dlog *log = new_dlog(test, 16, 1 << 20);
	struct px_dent *e;
	u32 len, nlen;
	u8 *v = kpx_value(test, &c, 1, &len);
	u8 *noop = kpx_noop(test, &nlen);
	u64 first = 0;
	int err;

	v = dlog_value(test, v, len);
	noop = dlog_value(test, noop, nlen);
	KUNIT_ASSERT_EQ(test, px_dlog_append(log, 1, v, len, v, false), 1);
	KUNIT_ASSERT_EQ(test, px_dlog_append(log, 2, noop, nlen, noop, true), 0);
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 2));
	e = px_dlog_get(log, 2, &err, &first);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, e->snap_point);
	KUNIT_EXPECT_EQ(test, first, 1ull);
	px_dent_put(e);
	KUNIT_ASSERT_EQ(test, px_dlog_append(log, 3, noop, nlen, noop, false), 0);
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 3));

	px_dlog_restart(log, 40);
	KUNIT_EXPECT_EQ(test, px_dlog_next(log), 41ull);
	KUNIT_EXPECT_EQ(test, log->bytes, (size_t)0);
	KUNIT_EXPECT_NULL(test, px_dlog_get(log, 2, &err, &first));
	KUNIT_EXPECT_EQ(test, err, -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, first, 41ull);
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 40));
	KUNIT_EXPECT_FALSE(test, px_dlog_readable(log, 41));
	KUNIT_EXPECT_NULL(test, px_dlog_get(log, 41, &err, NULL));
	KUNIT_EXPECT_EQ(test, err, -EAGAIN);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 4, v, len, v, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, px_dlog_append(log, 41, v, len, v, false), 1);
	KUNIT_EXPECT_TRUE(test, px_dlog_readable(log, 41));
	e = px_dlog_get(log, 41, &err, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_FALSE(test, e->snap_point);
	px_dent_put(e);
	px_dlog_uninit(log);
	px_value_free(v);
	px_value_free(noop);
}

static struct kunit_case dlog_cases[] = {
	KUNIT_CASE(dlog_append_get),
	KUNIT_CASE(dlog_evicts_oldest),
	KUNIT_CASE(dlog_skips_duplicates),
	KUNIT_CASE(dlog_reader_outlives_log),
	KUNIT_CASE(dlog_snap_point_restart),
	{}
};

static struct kunit_suite dlog_suite = {
	.name = "kpaxos_dlog",
	.test_cases = dlog_cases,
};

/* ----------------------------------------------- a live instance, no NIC */

#define CLUSTER		0x5ca1ab1e
#define GROUP		3
#define MTU		1500

static const u8 node_mac[4][ETH_ALEN] = {
	{ 0 },
	{ 0x02, 0x70, 0x78, 0x00, 0x00, 0x01 },
	{ 0x02, 0x70, 0x78, 0x00, 0x00, 0x02 },
	{ 0x02, 0x70, 0x78, 0x00, 0x00, 0x03 },
};

/* The software device: transmitted skbs are queued here. */
struct tdev_priv {
	struct sk_buff_head tx;
};

static netdev_tx_t tdev_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct tdev_priv *p = netdev_priv(dev);

	skb_queue_tail(&p->tx, skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops tdev_ops = {
	.ndo_start_xmit = tdev_xmit,
};

static void tdev_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &tdev_ops;
	dev->priv_flags |= IFF_NO_QUEUE;	/* xmit in the caller */
}

struct eth_ctx {
	struct net_device *dev;
	struct paxos_net *pn;
	struct paxos_instance *inst;
	bool up;
	struct px_wire_cfg peer;	/* node 2's codec */
	u32 seq;
};

static int eth_init(struct kunit *test)
{
	struct eth_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tdev_priv *p;
	int err;

	if (!c)
		return -ENOMEM;
	test->priv = c;
	c->dev = alloc_netdev(sizeof(*p), "kpxt%d", NET_NAME_ENUM, tdev_setup);
	if (!c->dev)
		return -ENOMEM;
	p = netdev_priv(c->dev);
	skb_queue_head_init(&p->tx);
	eth_hw_addr_set(c->dev, node_mac[1]);
	err = register_netdev(c->dev);
	if (err) {
		free_netdev(c->dev);
		c->dev = NULL;
		return err;
	}
	rtnl_lock();
	err = dev_open(c->dev, NULL);
	rtnl_unlock();
	if (err)
		return err;
	netif_carrier_on(c->dev);
	c->pn = paxos_net_get(&init_net);
	if (!c->pn)
		return -ENODEV;

	c->peer.cluster_id = CLUSTER;
	c->peer.group_id = GROUP;
	c->peer.self = 2;
	c->peer.members = KPX_MEMBERS3;
	c->peer.mtu = MTU;
	return 0;
}

static void eth_exit(struct kunit *test)
{
	struct eth_ctx *c = test->priv;

	if (!c)
		return;
	paxos_instance_put(c->inst);
	if (c->up)
		paxos_instance_down(c->pn);
	paxos_net_put(c->pn);
	if (c->dev) {
		struct tdev_priv *p = netdev_priv(c->dev);

		unregister_netdev(c->dev);
		skb_queue_purge(&p->tx);
		free_netdev(c->dev);
	}
}

static void eth_config(struct eth_ctx *c, struct paxos_config *uc, u32 roles)
{
	int i;

	memset(uc, 0, sizeof(*uc));
	uc->node_id = 1;
	uc->cluster_id = CLUSTER;
	uc->group_id = GROUP;
	uc->roles = roles;
	strscpy(uc->ifname, c->dev->name, sizeof(uc->ifname));
	uc->n_peers = 3;
	for (i = 0; i < 3; i++) {
		uc->peers[i].node_id = i + 1;
		ether_addr_copy(uc->peers[i].mac, node_mac[i + 1]);
	}
}

/* Bring node 1 up on the test device with @roles. */
static struct eth_ctx *eth_up(struct kunit *test, u32 roles)
{
	struct eth_ctx *c = test->priv;
	struct paxos_config uc;
	const char *why = NULL;

	eth_config(c, &uc, roles);
	KUNIT_ASSERT_EQ_MSG(test, paxos_instance_up(c->pn, &uc, &why), 0,
			    "%s", why);
	c->up = true;
	c->inst = paxos_instance_get(c->pn);
	KUNIT_ASSERT_NOT_NULL(test, c->inst);
	return c;
}

/* Wait up to five seconds for @cond (the node thread runs on). */
#define WAIT_FOR(cond) ({						\
	int __n = 500;							\
	while (!(cond) && __n--)					\
		msleep(10);						\
	(cond);								\
})

static u64 drops(struct eth_ctx *c, int reason)
{
	return atomic64_read(&c->inst->cnt.drops[reason]);
}

/* Hand a frame to the device's receive path as if from @smac. */
static void inject(struct kunit *test, struct eth_ctx *c, const u8 *dmac,
		   const u8 *smac, const u8 *payload, u32 len)
{
	struct sk_buff *skb = alloc_skb(NET_IP_ALIGN + ETH_HLEN + len,
					GFP_KERNEL);
	struct ethhdr *eh;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, NET_IP_ALIGN);
	eh = skb_put(skb, ETH_HLEN);
	ether_addr_copy(eh->h_dest, dmac);
	ether_addr_copy(eh->h_source, smac);
	eh->h_proto = htons(PAXOS_ETHERTYPE);
	skb_put_data(skb, payload, len);
	skb->protocol = eth_type_trans(skb, c->dev);
	netif_rx(skb);
}

/* Encode @m as node 2 and inject its frames, last first if @reverse. */
static u32 inject_msg(struct kunit *test, struct eth_ctx *c,
		      const struct px_msg *m, bool reverse)
{
	u32 n = px_wire_frames(MTU, m->len, false), i;
	u8 *buf = kunit_kzalloc(test, MTU, GFP_KERNEL);
	const u8 *dmac = m->dst == PAXOS_NODE_ALL ? c->dev->broadcast :
			 node_mac[m->dst];
	int len;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_GT(test, n, 0u);
	c->seq++;
	for (i = 0; i < n; i++) {
		len = px_wire_encode(&c->peer, m, c->seq,
				     reverse ? n - 1 - i : i, buf);
		KUNIT_ASSERT_GT(test, len, 0);
		inject(test, c, dmac, node_mac[2], buf, len);
	}
	return n;
}

/* The next transmitted frame of @type, waiting for it; others dropped. */
static struct sk_buff *next_tx(struct eth_ctx *c, u8 type)
{
	struct tdev_priv *p = netdev_priv(c->dev);
	struct sk_buff *skb;
	int n = 500;

	for (;;) {
		skb = skb_dequeue(&p->tx);
		if (!skb) {
			if (!n--)
				return NULL;
			msleep(10);
			continue;
		}
		if (skb->len > ETH_HLEN + 3 && skb->data[ETH_HLEN + 3] == type)
			return skb;
		kfree_skb(skb);
	}
}

/* Check a transmitted frame's Ethernet header; parse it as node 2. */
static void check_tx(struct kunit *test, struct eth_ctx *c,
		     struct sk_buff *skb, const u8 *dmac, struct px_frame *f)
{
	struct ethhdr *eh = (struct ethhdr *)skb->data;

	KUNIT_ASSERT_GE(test, skb->len, (unsigned int)ETH_HLEN);
	KUNIT_EXPECT_LE(test, skb->len, (unsigned int)(ETH_HLEN + MTU));
	KUNIT_EXPECT_TRUE(test, ether_addr_equal(eh->h_dest, dmac));
	KUNIT_EXPECT_TRUE(test, ether_addr_equal(eh->h_source, node_mac[1]));
	KUNIT_EXPECT_EQ(test, ntohs(eh->h_proto), PAXOS_ETHERTYPE);
	KUNIT_ASSERT_EQ(test, px_wire_parse(&c->peer, skb->data + ETH_HLEN,
					    skb->len - ETH_HLEN, f), 0);
	KUNIT_EXPECT_EQ(test, f->src, 1);
}

static void eth_instance_up_down(struct kunit *test)
{
	struct eth_ctx *c = test->priv;
	struct paxos_config uc;
	const char *why = NULL;

	eth_config(c, &uc, PAXOS_ROLE_ACCEPTOR);
	strscpy(uc.ifname, "kpxt-none", sizeof(uc.ifname));
	KUNIT_EXPECT_EQ(test, paxos_instance_up(c->pn, &uc, &why), -ENODEV);
	eth_config(c, &uc, PAXOS_ROLE_ACCEPTOR);
	uc.peers[1].node_id = 1;		/* duplicate id */
	KUNIT_EXPECT_EQ(test, paxos_instance_up(c->pn, &uc, &why), -EINVAL);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, why);

	eth_up(test, PAXOS_ROLE_ACCEPTOR);
	eth_config(c, &uc, PAXOS_ROLE_ACCEPTOR);
	KUNIT_EXPECT_EQ(test, paxos_instance_up(c->pn, &uc, &why), -EEXIST);
	KUNIT_EXPECT_EQ(test, px_eth_mtu(c->inst), (u32)MTU);
	KUNIT_EXPECT_EQ(test, paxos_instance_down(c->pn), 0);
	c->up = false;
	KUNIT_EXPECT_TRUE(test, READ_ONCE(c->inst->dead));
	KUNIT_EXPECT_EQ(test, paxos_instance_down(c->pn), -ENOTCONN);
	KUNIT_EXPECT_NULL(test, paxos_instance_get(c->pn));
}

/* A message the module sends: fragments on the wire, reassembled by a peer. */
static void eth_send_fragments(struct kunit *test)
{
	const u32 blen = 5000;
	struct eth_ctx *c = eth_up(test, PAXOS_ROLE_ACCEPTOR);
	struct px_reasm *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct px_ready *rd = kunit_kzalloc(test, sizeof(*rd), GFP_KERNEL);
	u64 frames = atomic64_read(&c->inst->cnt.frames_tx);
	u64 msgs = atomic64_read(&c->inst->cnt.msgs_tx);
	struct sk_buff *skb;
	struct px_obuf *ob;
	struct px_frame f;
	struct px_msg m;
	u32 n, i;
	int ret = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, rd);
	px_ready_init(rd);
	px_reasm_init(r);
	ob = px_ready_msg(rd, PAXOS_MSG_CHOSEN, 2, B(1, 1), 9, blen);
	KUNIT_ASSERT_NOT_NULL(test, ob);
	for (i = 0; i < blen; i++)
		ob->body[i] = (u8)(i * 7 + 3);

	KUNIT_ASSERT_EQ(test, px_eth_send(c->inst, ob), 0);
	n = px_wire_frames(MTU, blen, false);
	KUNIT_EXPECT_EQ(test, n, 4u);
	for (i = 0; i < n; i++) {
		skb = next_tx(c, PAXOS_MSG_CHOSEN);
		KUNIT_ASSERT_NOT_NULL_MSG(test, skb, "frame %u missing", i);
		check_tx(test, c, skb, node_mac[2], &f);
		KUNIT_EXPECT_EQ(test, f.dst, 2);
		KUNIT_EXPECT_EQ(test, f.frag_idx, i);
		KUNIT_EXPECT_EQ(test, f.frag_cnt, n);
		ret = px_reasm_add(r, i, &f, &m);
		KUNIT_EXPECT_EQ(test, ret, i == n - 1 ? 1 : 0);
		if (ret == 1) {
			KUNIT_EXPECT_EQ(test, m.instance, 9ull);
			KUNIT_EXPECT_EQ(test, m.ballot, B(1, 1));
			KUNIT_ASSERT_EQ(test, m.len, blen);
			KUNIT_EXPECT_EQ(test, memcmp(m.body, ob->body, blen),
					0);
		}
		kfree_skb(skb);
	}
	px_reasm_uninit(r);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.frames_tx),
			frames + n);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.msgs_tx), msgs + 1);

	/* To all: the broadcast address. */
	ob = px_ready_msg(rd, PAXOS_MSG_STATUS, PAXOS_NODE_ALL, 0, 77, 0);
	KUNIT_ASSERT_NOT_NULL(test, ob);
	KUNIT_ASSERT_EQ(test, px_eth_send(c->inst, ob), 0);
	skb = next_tx(c, PAXOS_MSG_STATUS);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	check_tx(test, c, skb, c->dev->broadcast, &f);
	KUNIT_EXPECT_EQ(test, f.dst, PAXOS_NODE_ALL);
	KUNIT_EXPECT_EQ(test, f.instance, 77ull);
	kfree_skb(skb);

	/* A node without an address; then the device down. */
	ob = px_ready_msg(rd, PAXOS_MSG_STATUS, 7, 0, 1, 0);
	KUNIT_ASSERT_NOT_NULL(test, ob);
	KUNIT_EXPECT_EQ(test, px_eth_send(c->inst, ob), -EHOSTUNREACH);
	rtnl_lock();
	dev_close(c->dev);
	rtnl_unlock();
	KUNIT_EXPECT_EQ(test, px_eth_send(c->inst, rd->msgs), -ENETDOWN);
	px_ready_free(rd);
}

/*
 * Frames from a peer go up through the node thread to the acceptor, whose
 * ACCEPTED goes out on the wire to the leader; the leader's heartbeat
 * saying it chosen delivers it into the log readers copy from.
 */
static void eth_receive_to_delivery(struct kunit *test)
{
	const u32 big_len = 5000;
	struct eth_ctx *c = eth_up(test, PAXOS_ROLE_ACCEPTOR |
					 PAXOS_ROLE_LEARNER);
	struct kpx_cmd cmd[2] = { { 0xABC, 1, "hello" }, { 0xABC, 2, NULL } };
	struct px_cmd got[2];
	struct px_dent *e;
	struct sk_buff *skb;
	struct px_frame f;
	struct px_msg m;
	u32 vlen, blen, i;
	char *big;
	u8 *v, *body, *hb;
	int err;

	big = kunit_kzalloc(test, big_len + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	for (i = 0; i < big_len; i++)
		big[i] = 'A' + i % 23;
	cmd[1].data = big;

	for (i = 1; i <= 2; i++) {
		v = kpx_value(test, &cmd[i - 1], 1, &vlen);
		body = kpx_accept_body(test, 0, v, vlen, &blen);
		m = kpx_msg(PAXOS_MSG_ACCEPT, 2, PAXOS_NODE_ALL, B(1, 2), i,
			    body, blen);
		/* The big one in 4 fragments, last first. */
		KUNIT_EXPECT_EQ(test, inject_msg(test, c, &m, true),
				i == 1 ? 1u : 4u);

		/* To the leader only. */
		skb = next_tx(c, PAXOS_MSG_ACCEPTED);
		KUNIT_ASSERT_NOT_NULL_MSG(test, skb, "no ACCEPTED for %u", i);
		check_tx(test, c, skb, node_mac[2], &f);
		KUNIT_EXPECT_EQ(test, f.dst, 2);
		KUNIT_EXPECT_EQ(test, f.ballot, B(1, 2));
		KUNIT_EXPECT_EQ(test, f.instance, (u64)i);
		KUNIT_EXPECT_EQ(test, f.msg_len, 0u);
		kfree_skb(skb);

		/* The leader's heartbeat: (i - 1, i] chosen in its ballot. */
		hb = kpx_heartbeat_body(test, i, 0, &blen);
		px_put_be64(hb + 16, i - 1);
		px_put_be64(hb + 24, i);
		m = kpx_msg(PAXOS_MSG_HEARTBEAT, 2, PAXOS_NODE_ALL, B(1, 2),
			    i + 1, hb, blen);
		inject_msg(test, c, &m, false);
		KUNIT_ASSERT_TRUE_MSG(test,
			WAIT_FOR(px_dlog_next(&c->inst->log) > i),
			"instance %u not delivered", i);
		e = px_dlog_get(&c->inst->log, i, &err, NULL);
		KUNIT_ASSERT_NOT_NULL(test, e);
		KUNIT_EXPECT_EQ(test, e->n_cmds, 1u);
		KUNIT_EXPECT_EQ(test, kpx_value_cmds(e->value, e->len, got, 2),
				1);
		KUNIT_EXPECT_TRUE(test, kpx_cmd_is(&got[0], &cmd[i - 1]));
		px_dent_put(e);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.msgs_rx), 4ull);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.frames_rx), 7ull);
}

/* Every malformed frame is dropped and counted under its reason. */
static void eth_receive_drops(struct kunit *test)
{
	static const int reasons[] = {
		PAXOS_DROP_TRUNCATED, PAXOS_DROP_BAD_MAGIC,
		PAXOS_DROP_BAD_VERSION, PAXOS_DROP_FOREIGN_CLUSTER,
		PAXOS_DROP_FOREIGN_GROUP, PAXOS_DROP_UNKNOWN_TYPE,
		PAXOS_DROP_BAD_NODE, PAXOS_DROP_BAD_FRAG,
		PAXOS_DROP_OVERSIZED, PAXOS_DROP_BAD_AUTH,
		PAXOS_DROP_BAD_BODY, PAXOS_DROP_QUEUE_FULL,
	};
	static const u8 other[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct eth_ctx *c = eth_up(test, PAXOS_ROLE_ACCEPTOR |
					 PAXOS_ROLE_LEARNER);
	u64 before[__PAXOS_DROP_MAX], rx0;
	u8 *good, *buf = kunit_kzalloc(test, MTU + 8, GFP_KERNEL);
	unsigned int old_len;
	u8 body[PAXOS_ACCEPT_HDR_LEN + 4] = { 0 };
	struct px_msg m;
	int len, i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	good = kunit_kzalloc(test, MTU, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, good);
	for (i = 0; i < __PAXOS_DROP_MAX; i++)
		before[i] = drops(c, i);
	rx0 = atomic64_read(&c->inst->cnt.frames_rx);

	/* A well-formed frame, to mutate: HEARTBEAT needs 16 bytes. */
	m = kpx_msg(PAXOS_MSG_STATUS, 2, PAXOS_NODE_ALL, 0, 0, NULL, 0);
	len = px_wire_encode(&c->peer, &m, 1, 0, good);
	KUNIT_ASSERT_EQ(test, len, PAXOS_FRAME_HDR_LEN);

#define MUTATE(off, val) do {						\
	memcpy(buf, good, len);						\
	buf[off] = (val);						\
	inject(test, c, c->dev->broadcast, node_mac[2], buf, len);	\
} while (0)
	inject(test, c, c->dev->broadcast, node_mac[2], good, 20);
	MUTATE(0, 0x00);				/* BAD_MAGIC */
	MUTATE(2, 9);					/* BAD_VERSION */
	MUTATE(7, 0x00);				/* FOREIGN_CLUSTER */
	MUTATE(9, GROUP + 1);				/* FOREIGN_GROUP */
	MUTATE(3, 0);					/* UNKNOWN_TYPE */
	MUTATE(10, 5);					/* BAD_NODE */
	MUTATE(10, 1);		/* BAD_NODE: our own id coming back */
	MUTATE(19, 0);					/* BAD_FRAG */
	MUTATE(26, PAXOS_F_AUTH);			/* BAD_AUTH */
	MUTATE(3, PAXOS_MSG_HEARTBEAT);			/* BAD_BODY */
	memcpy(buf, good, len);
	px_put_be32(buf + 20, PAXOS_MAX_MSG + 1);	/* OVERSIZED */
	inject(test, c, c->dev->broadcast, node_mac[2], buf, len);
#undef MUTATE
	/* Wire-valid, but the roles refuse the value: BAD_BODY. */
	/* a batch of 3 commands in 4 bytes */
	px_put_be32(body + PAXOS_ACCEPT_HDR_LEN, 3);
	m = kpx_msg(PAXOS_MSG_ACCEPT, 2, PAXOS_NODE_ALL, B(1, 2), 1, body,
		    sizeof(body));
	inject_msg(test, c, &m, false);
	/* The receive queue full. */
	old_len = READ_ONCE(paxos_rx_queue_len);
	WRITE_ONCE(paxos_rx_queue_len, 0);
	inject(test, c, c->dev->broadcast, node_mac[2], good, len);
	WRITE_ONCE(paxos_rx_queue_len, old_len);
	/* Unicast to another station (flooded by a bridge): ignored. */
	inject(test, c, other, node_mac[2], good, len);

	KUNIT_EXPECT_TRUE(test, WAIT_FOR(drops(c, PAXOS_DROP_BAD_BODY) >=
					 before[PAXOS_DROP_BAD_BODY] + 2));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(drops(c, PAXOS_DROP_BAD_NODE) ==
					 before[PAXOS_DROP_BAD_NODE] + 2));
	for (i = 0; i < ARRAY_SIZE(reasons); i++) {
		int r = reasons[i];
		u64 want = before[r] + (r == PAXOS_DROP_BAD_NODE ? 2 : 1);

		if (r == PAXOS_DROP_BAD_BODY)
			continue;	/* one per role that refused it */
		KUNIT_EXPECT_TRUE_MSG(test, WAIT_FOR(drops(c, r) == want),
				      "reason %d: %llu drops, want %llu", r,
				      drops(c, r), want);
	}
	KUNIT_EXPECT_EQ(test, drops(c, PAXOS_DROP_REASM),
			before[PAXOS_DROP_REASM]);
	/* Everything but the frame for another station was counted. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.frames_rx),
			rx0 + 14);
	/* Only the ACCEPT made it through the codec. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->inst->cnt.msgs_rx), 1ull);
}

/*
 * Membership glue: node 1 up outside the configuration {2,3} with peers
 * 1..3; frames from a known node pass the filter, from an unknown one
 * not, until it becomes known (SET_PEERS writes wcfg.known).
 */
static void eth_known_outside_members(struct kunit *test)
{
	struct eth_ctx *c = test->priv;
	struct paxos_up_opts opts = { .members = BIT(2) | BIT(3) };
	struct paxos_config uc;
	const char *why = NULL;
	u64 bad0, rx0;
	u8 *buf = kunit_kzalloc(test, MTU, GFP_KERNEL);
	struct px_msg m;
	u32 latest = 0;
	int len;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	eth_config(c, &uc, PAXOS_ROLE_ALL);
	/* a member without a MAC is refused */
	opts.members = BIT(2) | BIT(4);
	KUNIT_EXPECT_EQ(test, paxos_instance_up_opts(c->pn, &uc, &opts, &why),
			-EINVAL);
	opts.members = BIT(2) | BIT(3);
	KUNIT_ASSERT_EQ_MSG(test,
			    paxos_instance_up_opts(c->pn, &uc, &opts, &why),
			    0, "%s", why);
	c->up = true;
	c->inst = paxos_instance_get(c->pn);
	KUNIT_ASSERT_NOT_NULL(test, c->inst);
	KUNIT_EXPECT_EQ(test, c->inst->cfg.members, (u32)(BIT(2) | BIT(3)));
	KUNIT_EXPECT_EQ(test, c->inst->wcfg.known,
			(u32)(BIT(1) | BIT(2) | BIT(3)));
	KUNIT_EXPECT_EQ(test, paxos_instance_members(c->inst, &latest),
			(u32)(BIT(2) | BIT(3)));
	KUNIT_EXPECT_EQ(test, latest, (u32)(BIT(2) | BIT(3)));

	bad0 = drops(c, PAXOS_DROP_BAD_NODE);
	rx0 = atomic64_read(&c->inst->cnt.msgs_rx);
	/* from node 4: not known, dropped */
	c->peer.self = 4;
	m = kpx_msg(PAXOS_MSG_STATUS, 4, PAXOS_NODE_ALL, 0, 0, NULL, 0);
	len = px_wire_encode(&c->peer, &m, 1, 0, buf);
	KUNIT_ASSERT_EQ(test, len, PAXOS_FRAME_HDR_LEN);
	inject(test, c, c->dev->broadcast, node_mac[3], buf, len);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(drops(c, PAXOS_DROP_BAD_NODE) ==
					 bad0 + 1));
	/* known now: accepted */
	WRITE_ONCE(c->inst->wcfg.known, c->inst->wcfg.known | BIT(4));
	len = px_wire_encode(&c->peer, &m, 2, 0, buf);
	inject(test, c, c->dev->broadcast, node_mac[3], buf, len);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(atomic64_read(&c->inst->cnt.msgs_rx) ==
					 rx0 + 1));
	KUNIT_EXPECT_EQ(test, drops(c, PAXOS_DROP_BAD_NODE), bad0 + 1);
	/* a member (2) passes too */
	c->peer.self = 2;
	m = kpx_msg(PAXOS_MSG_STATUS, 2, PAXOS_NODE_ALL, 0, 0, NULL, 0);
	len = px_wire_encode(&c->peer, &m, 3, 0, buf);
	inject(test, c, c->dev->broadcast, node_mac[2], buf, len);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(atomic64_read(&c->inst->cnt.msgs_rx) ==
					 rx0 + 2));
	/* outside the configuration: never leads */
	msleep(50);
	KUNIT_EXPECT_NE(test, c->inst->snap.prop.state, (u8)PX_LEADER);
}

static struct kunit_case eth_cases[] = {
	KUNIT_CASE(eth_instance_up_down),
	KUNIT_CASE(eth_send_fragments),
	KUNIT_CASE(eth_receive_to_delivery),
	KUNIT_CASE(eth_receive_drops),
	KUNIT_CASE(eth_known_outside_members),
	{}
};

static struct kunit_suite eth_suite = {
	.name = "kpaxos_eth",
	.init = eth_init,
	.exit = eth_exit,
	.test_cases = eth_cases,
};

kunit_test_suites(&queue_suite, &dlog_suite, &eth_suite);
