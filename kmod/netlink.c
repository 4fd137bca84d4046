// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "paxos" (uapi/linux/paxos.h, docs/netlink.md).
 *
 * Not implemented yet: the family will sit on the instance API of
 * instance.c (paxos_instance_up/down, paxos_param_get/set,
 * paxos_instance_status), the same calls the /dev/paxos ioctls use.
 */
#include "kpaxos.h"

int paxos_netlink_init(void)
{
	return 0;
}

void paxos_netlink_uninit(void)
{
}

void paxos_netlink_leader_event(struct paxos_instance *inst, u8 leader,
				u64 ballot)
{
}
