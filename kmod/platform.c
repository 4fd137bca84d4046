// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol core's platform hooks for the kernel (see core/px_platform.h).
 * The core only ever runs in the instance's kthreads, so GFP_KERNEL is fine;
 * values may be up to PAXOS_MAX_MSG, hence kvmalloc.  Blocks (values and
 * messages) are shared by reference between the roles, and with the
 * delivery log (px_value_hold()), whose readers may drop the last one.
 */
#include "kpaxos.h"

#include <linux/mm.h>
#include <linux/slab.h>

void *px_alloc(size_t size)
{
	struct px_prof_mark t0 = px_prof_start();
	void *p;

	might_sleep();
	p = kvmalloc(size, GFP_KERNEL);
	px_prof_end(size > 1024 ? PXP_ALLOC_BIG : PXP_ALLOC, t0);
	return p;
}

void px_free(void *ptr)
{
	struct px_prof_mark t0 = px_prof_start();

	kvfree(ptr);
	px_prof_end(PXP_FREE, t0);
}

/* A value and its reference count, ahead of it (data 16-byte aligned). */
struct px_value {
	refcount_t ref;
	u32 pad[3];
	u8 data[];
};

static struct px_value *to_value(const void *ptr)
{
	return container_of((void *)ptr, struct px_value, data);
}

void *px_value_alloc(size_t size)
{
	struct px_prof_mark t0 = px_prof_start();
	struct px_value *v;

	might_sleep();
	v = kvmalloc(struct_size(v, data, size), GFP_KERNEL);
	px_prof_end(size > 1024 ? PXP_ALLOC_BIG : PXP_ALLOC, t0);
	if (!v)
		return NULL;
	refcount_set(&v->ref, 1);
	return v->data;
}

/* Another reference to a px_value_alloc() block. */
void px_value_hold(const void *block)
{
	refcount_inc(&to_value(block)->ref);
}

/* Any context: the last reference may go under a spinlock (dlog.c). */
void px_value_free(const void *ptr)
{
	struct px_value *v;

	if (!ptr)
		return;
	v = to_value(ptr);
	if (refcount_dec_and_test(&v->ref)) {
		struct px_prof_mark t0 = px_prof_start();

		kvfree(v);
		px_prof_end(PXP_FREE, t0);
	}
}
