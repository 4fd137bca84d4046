// SPDX-License-Identifier: GPL-2.0
/*
 * paxos.ko: Multi-Paxos state machine replication over raw Ethernet.
 * Module init and exit only; everything else lives one concern a file.
 */
#include "kpaxos.h"

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/if_ether.h>

unsigned int paxos_ethertype = PAXOS_ETHERTYPE;
module_param_named(ethertype, paxos_ethertype, uint, 0444);
MODULE_PARM_DESC(ethertype,
		 "Ethertype of paxos frames when PAXOS_IOC_UP gives 0 (default 0x88B5, IEEE local experimental)");

unsigned int paxos_busy_poll_us;
module_param_named(busy_poll, paxos_busy_poll_us, uint, 0644);
MODULE_PARM_DESC(busy_poll,
		 "Microseconds the node thread polls its queue before sleeping (default 0: never busy-poll)");

unsigned int paxos_rx_queue_len = 4096;
module_param_named(rx_queue_len, paxos_rx_queue_len, uint, 0644);
MODULE_PARM_DESC(rx_queue_len,
		 "Received frames waiting for the node thread; beyond it frames are dropped and counted (default 4096)");

unsigned int paxos_cmd_queue_bytes = 1 << 20;
module_param_named(cmd_queue_bytes, paxos_cmd_queue_bytes, uint, 0444);
MODULE_PARM_DESC(cmd_queue_bytes,
		 "Bytes of written commands waiting for the node thread of a new instance; a full queue blocks writers (default 1 MiB)");

unsigned int paxos_log_bytes = 64 << 20;
module_param_named(log_bytes, paxos_log_bytes, uint, 0444);
MODULE_PARM_DESC(log_bytes,
		 "Bytes of delivered commands a new instance retains for /dev/paxos readers (default 64 MiB)");

unsigned int paxos_alpha;
module_param_named(alpha, paxos_alpha, uint, 0644);
MODULE_PARM_DESC(alpha,
		 "Instances between the decision of a membership change and its effect, for instances brought up afterwards without PAXOS_PARAM_ALPHA; must be the same on every node and at least the window (default 0: 1024, the largest window)");

int paxos_snapshot_every = -1;
module_param_named(snapshot_every, paxos_snapshot_every, int, 0644);
MODULE_PARM_DESC(snapshot_every,
		 "Snapshot point interval of instances brought up afterwards without PAXOS_PARAM_SNAPSHOT_EVERY: instance I is one iff I % N == 0 (default -1: learner_slots / 4; 0 disables snapshots)");

static int __init paxos_init(void)
{
	int err;

	if (paxos_snapshot_every < -1 || paxos_snapshot_every > PX_MAX_SLOTS) {
		pr_err("snapshot_every %d is not -1..%u\n", paxos_snapshot_every,
		       PX_MAX_SLOTS);
		return -EINVAL;
	}
	if (paxos_ethertype < ETH_P_802_3_MIN || paxos_ethertype > 0xffff) {
		pr_err("ethertype 0x%x is not an Ethernet II type\n",
		       paxos_ethertype);
		return -EINVAL;
	}

	err = paxos_stats_init();
	if (err)
		goto err_stats;
	err = paxos_pernet_init();
	if (err)
		goto err_pernet;
	err = paxos_eth_init();
	if (err)
		goto err_eth;
	err = paxos_netlink_init();
	if (err)
		goto err_netlink;
	err = paxos_chardev_init();
	if (err)
		goto err_chardev;

	pr_info("loaded (ethertype 0x%04x)\n", paxos_ethertype);
	return 0;

err_chardev:
	paxos_netlink_uninit();
err_netlink:
	paxos_eth_uninit();
err_eth:
	paxos_pernet_uninit();
err_pernet:
	paxos_stats_uninit();
err_stats:
	return err;
}

static void __exit paxos_exit(void)
{
	paxos_chardev_uninit();
	paxos_netlink_uninit();
	paxos_eth_uninit();
	paxos_pernet_uninit();
	paxos_stats_uninit();
	pr_info("unloaded\n");
}

module_init(paxos_init);
module_exit(paxos_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Multi-Paxos state machine replication over raw Ethernet");
MODULE_AUTHOR("kpaxos developers");
