// SPDX-License-Identifier: GPL-2.0
/*
 * Raw Ethernet transport.
 *
 * Receive: a struct packet_type for the instance's ethertype, bound to its
 * net_device.  The handler runs in softirq context and only does cheap
 * checks before queueing the skb for the node thread (thread.c), which parses,
 * reassembles and dispatches in process context.
 *
 * Send: each frame of a message is encoded by the core straight into an skb
 * (px_wire_encode) and handed to dev_queue_xmit(), to the peer's MAC address
 * or to the broadcast address for PAXOS_NODE_ALL.  Frames never exceed the
 * device MTU, so 1500 and 9000 both work.
 *
 * Device lifetime: the instance holds a reference on its device from
 * px_eth_attach() to px_eth_detach().  A netdevice notifier detaches it when
 * the device is unregistered (or leaves the namespace) and re-attaches when a
 * device of the configured name appears again.
 */
#include "kpaxos.h"

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>

/*
 * Can this frame complete a message: a message of one frame, or the last
 * fragment of one?  An earlier fragment does not wake the node thread (the
 * last one will): a wakeup per fragment costs more than the frame.  The
 * fields are not checked here, and a wrong answer only delays the frame
 * to the thread's next pass.
 */
static bool frame_ends_msg(const struct sk_buff *skb)
{
	const struct paxos_frame_hdr *h = (const void *)skb->data;

	return be16_to_cpu(h->frag_idx) + 1 >= be16_to_cpu(h->frag_cnt);
}

static int px_eth_rcv(struct sk_buff *skb, struct net_device *dev,
		      struct packet_type *pt, struct net_device *orig_dev)
{
	struct paxos_instance *inst =
		container_of(pt, struct paxos_instance, ptype);
	struct px_prof_mark t0 = px_prof_start();

	/* Unicast for another station (flooded by a bridge): not ours. */
	if (skb->pkt_type == PACKET_OTHERHOST ||
	    skb->pkt_type == PACKET_LOOPBACK) {
		kfree_skb(skb);
		return NET_RX_DROP;
	}
	atomic64_inc(&inst->cnt.frames_rx);

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		px_count_drop(inst, PAXOS_DROP_REASM);
		return NET_RX_DROP;
	}
	if (!pskb_may_pull(skb, PAXOS_FRAME_HDR_LEN)) {
		px_count_drop(inst, PAXOS_DROP_TRUNCATED);
		kfree_skb(skb);
		return NET_RX_DROP;
	}
	px_rx_enqueue(inst, skb, frame_ends_msg(skb));
	px_prof_end(PXP_RX_IRQ, t0);
	return NET_RX_SUCCESS;
}

static int check_dev(const struct net_device *dev, const char **why)
{
	if (dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN) {
		*why = "interface is not Ethernet";
		return -EINVAL;
	}
	if (dev->mtu < PAXOS_MIN_MTU) {
		*why = "interface MTU is below 576";
		return -EINVAL;
	}
	return 0;
}

int px_eth_attach(struct paxos_instance *inst, struct net_device *dev,
		  const char **why)
{
	int err;

	ASSERT_RTNL();
	if (rtnl_dereference(inst->dev))
		return -EBUSY;
	err = check_dev(dev, why);
	if (err)
		return err;

	netdev_hold(dev, &inst->dev_tracker, GFP_KERNEL);
	rcu_assign_pointer(inst->dev, dev);
	inst->ptype.type = htons(inst->ethertype);
	inst->ptype.dev = dev;
	inst->ptype.func = px_eth_rcv;
	dev_add_pack(&inst->ptype);
	pr_info("node %u: attached to %s (mtu %u, %s)\n", inst->self,
		dev->name, dev->mtu,
		netif_carrier_ok(dev) ? "carrier" : "no carrier");
	return 0;
}

void px_eth_detach(struct paxos_instance *inst)
{
	struct net_device *dev;

	ASSERT_RTNL();
	dev = rtnl_dereference(inst->dev);
	if (!dev)
		return;
	dev_remove_pack(&inst->ptype);	/* waits for running handlers */
	RCU_INIT_POINTER(inst->dev, NULL);
	synchronize_net();		/* senders hold their own reference */
	px_rx_purge(inst);
	pr_info("node %u: detached from %s\n", inst->self, dev->name);
	netdev_put(dev, &inst->dev_tracker);
}

u32 px_eth_mtu(struct paxos_instance *inst)
{
	struct net_device *dev;
	u32 mtu = 0;

	rcu_read_lock();
	dev = rcu_dereference(inst->dev);
	if (dev)
		mtu = min_t(u32, READ_ONCE(dev->mtu), PAXOS_MAX_MTU);
	rcu_read_unlock();
	return mtu;
}

/*
 * An skb for @len bytes of data.  When it fits in a page its head is cut
 * from the instance's page fragment cache: a pointer bump, where a slab
 * object of that size often costs a refill or a remote free and is zeroed
 * (init_on_alloc).  Larger ones come from alloc_skb().  Node thread only.
 */
static struct sk_buff *frame_skb(struct paxos_instance *inst,
				 unsigned int len)
{
	unsigned int size = SKB_DATA_ALIGN(len) +
			    SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	struct sk_buff *skb;
	void *data;

	if (size > PAGE_SIZE)
		return alloc_skb(len, GFP_KERNEL);
	data = page_frag_alloc(&inst->tx_frag, size, GFP_KERNEL);
	if (!data)
		return NULL;
	skb = build_skb(data, size);
	if (!skb)
		page_frag_free(data);
	return skb;
}

static int xmit_frame(struct paxos_instance *inst, struct net_device *dev,
		      const struct px_wire_cfg *wcfg, const struct px_msg *m,
		      u32 seq, u32 idx, const u8 *dmac)
{
	unsigned int hlen = LL_RESERVED_SPACE(dev);
	unsigned int tlen = dev->needed_tailroom;
	struct sk_buff *skb;
	int len, err;
	struct px_prof_mark t0 = px_prof_start();

	/* No fragment is longer than the whole message in one frame. */
	len = min_t(u32, wcfg->mtu, PAXOS_FRAME_HDR_LEN + m->len +
		    (wcfg->key ? PAXOS_AUTH_TAG_LEN : 0));
	skb = frame_skb(inst, hlen + len + tlen);
	px_prof_end(PXP_SKB, t0);
	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, hlen);
	skb_reset_network_header(skb);
	len = px_wire_encode(wcfg, m, seq, idx, skb_tail_pointer(skb));
	if (len < 0) {
		kfree_skb(skb);
		return len;
	}
	skb_put(skb, len);
	skb->dev = dev;
	skb->protocol = htons(inst->ethertype);
	skb->priority = TC_PRIO_CONTROL;
	err = dev_hard_header(skb, dev, inst->ethertype, dmac, dev->dev_addr,
			      skb->len);
	if (err < 0) {
		kfree_skb(skb);
		return -EINVAL;
	}
	t0 = px_prof_start();
	err = dev_queue_xmit(skb);
	px_prof_end(PXP_XMIT, t0);
	if (err != NET_XMIT_SUCCESS && err != NET_XMIT_CN)
		return -ENOBUFS;
	return 0;
}

/* Send one message from the node thread; process context. */
int px_eth_send(struct paxos_instance *inst, const struct px_obuf *ob)
{
	struct px_msg m = {
		.type = ob->type,
		.src = inst->self,
		.dst = ob->dst,
		.ballot = ob->ballot,
		.instance = ob->instance,
		.body = ob->body,
		.len = ob->len,
	};
	netdevice_tracker tracker;
	struct px_wire_cfg wcfg;
	struct net_device *dev;
	const u8 *dmac;
	u32 n, i, seq;
	int err = 0;

	if (ob->dst == PAXOS_NODE_ALL) {
		dmac = NULL;		/* dev->broadcast, once we hold dev */
	} else if (ob->dst >= 1 && ob->dst <= PAXOS_MAX_NODES &&
		   is_valid_ether_addr(inst->macs[ob->dst])) {
		dmac = inst->macs[ob->dst];
	} else {
		atomic64_inc(&inst->cnt.tx_errors);
		return -EHOSTUNREACH;
	}

	rcu_read_lock();
	dev = rcu_dereference(inst->dev);
	if (dev)
		netdev_hold(dev, &tracker, GFP_ATOMIC);
	rcu_read_unlock();
	if (!dev) {
		atomic64_inc(&inst->cnt.tx_nodev);
		return -ENOTCONN;
	}
	if (!netif_running(dev) || !netif_carrier_ok(dev)) {
		atomic64_inc(&inst->cnt.tx_nodev);
		err = -ENETDOWN;
		goto out;
	}

	wcfg = inst->wcfg;
	wcfg.mtu = min_t(u32, READ_ONCE(dev->mtu), PAXOS_MAX_MTU);
	if (wcfg.mtu < PAXOS_MIN_MTU) {
		atomic64_inc(&inst->cnt.tx_errors);
		err = -EMSGSIZE;
		goto out;
	}
	n = px_wire_frames(wcfg.mtu, m.len, wcfg.key != NULL);
	if (!n) {
		atomic64_inc(&inst->cnt.tx_errors);
		err = -EMSGSIZE;
		goto out;
	}
	if (!dmac)
		dmac = dev->broadcast;

	seq = (u32)atomic_inc_return(&inst->msg_seq);
	for (i = 0; i < n; i++) {
		err = xmit_frame(inst, dev, &wcfg, &m, seq, i, dmac);
		if (err) {
			/* the rest is useless: the message cannot complete */
			atomic64_inc(&inst->cnt.tx_errors);
			goto out;
		}
		atomic64_inc(&inst->cnt.frames_tx);
	}
	atomic64_inc(&inst->cnt.msgs_tx);
out:
	netdev_put(dev, &tracker);
	return err;
}

/* ------------------------------------------------------------- notifier */

static int px_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct paxos_instance *inst;
	struct paxos_net *pn;
	const char *why;

	pn = paxos_net_rtnl(dev_net(dev));
	if (!pn)
		return NOTIFY_DONE;
	inst = rtnl_dereference(pn->inst);
	if (!inst)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UNREGISTER:
		if (rtnl_dereference(inst->dev) == dev)
			px_eth_detach(inst);
		break;
	case NETDEV_REGISTER:
	case NETDEV_CHANGENAME:
		if (!rtnl_dereference(inst->dev) &&
		    !strcmp(dev->name, inst->ifname) &&
		    px_eth_attach(inst, dev, &why))
			pr_warn("node %u: cannot attach to %s: %s\n",
				inst->self, dev->name, why);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		if (rtnl_dereference(inst->dev) == dev)
			pr_debug("node %u: %s is %s, %s\n", inst->self,
				 dev->name,
				 netif_running(dev) ? "up" : "down",
				 netif_carrier_ok(dev) ? "carrier" :
				 "no carrier");
		break;
	case NETDEV_CHANGEMTU:
		if (rtnl_dereference(inst->dev) == dev &&
		    dev->mtu < PAXOS_MIN_MTU)
			pr_warn("node %u: %s mtu %u is below %u: not sending\n",
				inst->self, dev->name, dev->mtu,
				PAXOS_MIN_MTU);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block px_netdev_nb = {
	.notifier_call = px_netdev_event,
};

int paxos_eth_init(void)
{
	return register_netdevice_notifier(&px_netdev_nb);
}

/* Replays NETDEV_UNREGISTER for every device: instances detach. */
void paxos_eth_uninit(void)
{
	unregister_netdevice_notifier(&px_netdev_nb);
}
