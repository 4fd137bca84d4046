// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl: status through the /dev/paxos ioctls, for when the generic
 * netlink family is not there.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "paxosctl.h"

int pxc_dev_status(struct pxc_node *node)
{
	struct paxos_param_kv kv;
	int fd, err = 0;
	uint32_t k;

	fd = open(device_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(node, 0, sizeof(*node));
	node->source = "ioctl";
	if (ioctl(fd, PAXOS_IOC_STATUS, &node->st) < 0) {
		err = -errno;
		goto out;
	}
	node->have_status = true;
	node->node_id = node->st.node_id;
	node->members = node->st.members;
	node->leader_id = node->st.leader_id;
	node->ballot = node->st.ballot;
	node->have_params = true;
	for (k = 1; k < __PAXOS_PARAM_MAX; k++) {
		memset(&kv, 0, sizeof(kv));
		kv.key = k;
		if (ioctl(fd, PAXOS_IOC_GET_PARAM, &kv) < 0)
			node->have_params = false;
		else
			node->params[k] = kv.value;
	}
out:
	close(fd);
	return err;
}
