/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the benchmark tools (load, pxcheck, pingpong): clocks,
 * a connection that speaks the /dev/paxos records to either the module
 * (/dev/paxos) or pxd (its unix socket), percentiles, CPU accounting.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/paxos.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

u64 bench_now_ns(void);

/* A record connection: /dev/paxos or a pxd unix socket. */
struct bconn {
	int fd;
	bool is_sock;
	u8 *rbuf;
	size_t rlen, roff, rcap;
	u8 *wbuf;
	size_t wlen, wcap;
};

/* @target: a character device (/dev/paxos) or a unix socket path. */
int bconn_open(struct bconn *c, const char *target);
void bconn_close(struct bconn *c);
/*
 * Add one record to the write buffer (writing it first when full); the
 * records go out together, in as few write(2)s as the target takes, at
 * bconn_flush().  0 or -errno.
 */
int bconn_queue(struct bconn *c, u64 client_id, u64 seq, const void *data,
		u32 len);
int bconn_flush(struct bconn *c);
/* One record, written at once: bconn_queue() + bconn_flush(). */
int bconn_propose(struct bconn *c, u64 client_id, u64 seq,
		  const void *data, u32 len);
/*
 * The node's struct paxos_status: PAXOS_IOC_STATUS on /dev/paxos, or pxd's
 * control socket (@target + ".ctl").  0 or -errno.
 */
int bconn_status(struct bconn *c, const char *target,
		 struct paxos_status *st);
/* Read more; -errno on error, 0 on EOF, else bytes.  Honors O_NONBLOCK. */
ssize_t bconn_fill(struct bconn *c);
/* Next whole record already read: 1 and *h, *data set; 0 if none. */
int bconn_next(struct bconn *c, struct paxos_delivery_hdr *h,
	       const u8 **data);

/* Percentile @p (0..100) of @n sorted values. */
u64 bench_pct(const u64 *sorted, size_t n, double p);
void bench_sort_u64(u64 *v, size_t n);

/* CPU accounting in microseconds. */
struct bench_cpu {
	u64 sys_busy_us;	/* /proc/stat: all CPUs, not idle/iowait */
	u64 sys_total_us;
	u64 match_us;		/* tasks whose comm contains one of the pats */
	u64 self_us;		/* this process (getrusage) */
};

void bench_cpu_sample(struct bench_cpu *s, const char *const *pats,
		      int npats);

/* key=value lines, the same for pxd and the module. */
void bench_print_status(const struct paxos_status *s);

/* Parse "1k", "8KiB", "64" into bytes; -1 on error. */
long bench_parse_size(const char *s);

#endif /* BENCH_H */
