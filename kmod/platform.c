// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol core's platform hooks for the kernel (see core/px_platform.h).
 * The core only ever runs in the instance's kthreads, so GFP_KERNEL is fine;
 * values may be up to PAXOS_MAX_MSG, hence kvmalloc.
 */
#include "kpaxos.h"

#include <linux/mm.h>
#include <linux/slab.h>

void *px_alloc(size_t size)
{
	might_sleep();
	return kvmalloc(size, GFP_KERNEL);
}

void px_free(void *ptr)
{
	kvfree(ptr);
}
