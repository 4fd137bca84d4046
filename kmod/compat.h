/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the supported kernels, Debian 12's two
 * LTS series: 6.1 and 6.12.  The rest of kmod/ is written against the API
 * both share; each shim below names the kernel it exists for, so that it can
 * be deleted when that kernel is no longer supported.
 *
 * APIs deliberately avoided because they changed between 6.1 and 6.12:
 *  - no_llseek (removed in 6.12): files use stream_open() and no .llseek.
 *  - __assign_str(dst, src) (one argument since 6.10): tracepoints record
 *    integers only.
 *  - class_create(owner, name) (one argument since 6.4): /dev/paxos is a
 *    misc device.
 *  - pernet exit_batch_rtnl (6.10+): instances are torn down in .pre_exit.
 *  - get_random_u32_below() (6.2+) / prandom_u32_max() (removed 6.2+): the
 *    core has its own PRNG, seeded with get_random_u64().
 */
#ifndef KPAXOS_COMPAT_H
#define KPAXOS_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "paxos.ko supports Linux 6.1 and later"
#endif

/* 6.12 moved asm/unaligned.h to linux/unaligned.h; 6.1 has only the former. */
#if __has_include("linux/unaligned.h")
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* page_frag_cache_drain() is 6.9+; 6.1 drains the cache's page by hand. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#include <linux/gfp.h>
#include <linux/mm.h>

static inline void page_frag_cache_drain(struct page_frag_cache *nc)
{
	if (!nc->va)
		return;
	__page_frag_cache_drain(virt_to_head_page(nc->va), nc->pagecnt_bias);
	nc->va = NULL;
}
#endif

#endif /* KPAXOS_COMPAT_H */
