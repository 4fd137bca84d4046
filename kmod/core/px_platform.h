/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The protocol core's whole view of its platform.
 *
 * kmod/core/ is freestanding: it includes this header and the uapi header and
 * nothing else.  Memory comes from px_alloc()/px_free(), implemented once per
 * platform (kmod/platform.c for the kernel, tools/common/platform_user.c for
 * user space).  Time is passed in by the caller as microseconds; randomness is
 * a seeded PRNG inside the core.  The core takes no locks: each role object is
 * owned by one thread at a time.
 */
#ifndef PX_PLATFORM_H
#define PX_PLATFORM_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/math64.h>
#else
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <errno.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
#endif

#include "../../uapi/linux/paxos.h"

/* Allocation; may fail (return NULL).  Never called from atomic context. */
void *px_alloc(size_t size);
void px_free(void *ptr);

/*
 * Blocks with a reference count, for values and messages that several
 * holders share instead of copying: px_value_alloc() returns a block with
 * one reference, px_value_hold() takes another, px_value_free() drops one
 * (the last frees it; NULL is a no-op).  Outgoing messages are blocks, and
 * so is the body of a reassembled message (struct px_msg.block): a role
 * keeps a value it was sent by holding the block, and the delivery log
 * holds the learner's values.  A block is never written once shared.
 * The kernel's count is atomic (kmod/platform.c); user space's is not: its
 * users (simulator, daemon, tests) run the core in one thread.
 */
#ifdef __KERNEL__
void *px_value_alloc(size_t size);
void px_value_hold(const void *block);
void px_value_free(const void *block);
#else
#define PX_VALUE_HDR	16	/* the count, keeping data 16-byte aligned */

static inline void *px_value_alloc(size_t size)
{
	size_t *ref = (size_t *)px_alloc(PX_VALUE_HDR + size);

	if (!ref)
		return NULL;
	*ref = 1;
	return (u8 *)ref + PX_VALUE_HDR;
}

static inline void px_value_hold(const void *block)
{
	++*(size_t *)((u8 *)block - PX_VALUE_HDR);
}

static inline void px_value_free(const void *block)
{
	size_t *ref;

	if (!block)
		return;
	ref = (size_t *)((u8 *)block - PX_VALUE_HDR);
	if (!--*ref)
		px_free(ref);
}
#endif

#define px_memcpy(d, s, n)	__builtin_memcpy((d), (s), (n))
#define px_memset(d, c, n)	__builtin_memset((d), (c), (n))
#define px_memcmp(a, b, n)	__builtin_memcmp((a), (b), (n))

#define PX_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PX_MIN(a, b)		((a) < (b) ? (a) : (b))
#define PX_MAX(a, b)		((a) > (b) ? (a) : (b))

/* Big-endian load/store, independent of host byte order. */
static inline void px_put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void px_put_be32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void px_put_be64(u8 *p, u64 v)
{
	px_put_be32(p, v >> 32);
	px_put_be32(p + 4, (u32)v);
}

static inline u16 px_get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 px_get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline u64 px_get_be64(const u8 *p)
{
	return (u64)px_get_be32(p) << 32 | px_get_be32(p + 4);
}

/*
 * Plain C: __builtin_popcount() becomes a call to libgcc's __popcountdi2 in
 * kernel builds (no -mpopcnt), which the kernel does not provide.
 */
/* @a mod @b (b != 0): 32-bit kernels have no 64-bit '%' helper. */
static inline u32 px_mod64(u64 a, u32 b)
{
#ifdef __KERNEL__
	u32 r;

	div_u64_rem(a, b, &r);
	return r;
#else
	return (u32)(a % b);
#endif
}

static inline int px_popcount32(u32 x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (int)((x * 0x01010101u) >> 24);
}

/* xorshift64*: the core's only source of randomness, seeded by the caller. */
static inline u64 px_rand_next(u64 *state)
{
	u64 x = *state ? *state : 0x9E3779B97F4A7C15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif /* PX_PLATFORM_H */
