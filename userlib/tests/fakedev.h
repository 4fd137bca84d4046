/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A simulated /dev/paxos for libkpaxos unit tests: one sequencer thread
 * orders the proposals written by N handles (one SOCK_SEQPACKET socket
 * each) and sends every handle the same delivery records, with the kernel's
 * exactly-once rule (a (client, seq) at or below the client's highest
 * delivered seq is a duplicate).  It can lose, duplicate and reorder
 * proposals, like a cluster losing a leader.
 */
#ifndef FAKEDEV_H
#define FAKEDEV_H

#include <stdbool.h>
#include <stdint.h>

struct fakedev_opts {
	int replicas;		/* number of handles, 1..8 */
	unsigned int drop_pct;	/* proposals lost */
	unsigned int dup_pct;	/* proposals decided twice */
	unsigned int hold_pct;	/* proposals held back (reordered) */
	unsigned int batch;	/* max commands per instance (default 1) */
	bool flag_dups;		/* send dups with PAXOS_CMD_F_DUP (else omit) */
	uint64_t seed;
};

struct fakedev_stats {
	uint64_t written, decided, dups, dropped, held, instances;
};

struct fakedev;

struct fakedev *fakedev_start(const struct fakedev_opts *o);
/* The library's end of replica @i's socket (pass as kpaxos_opts.fd). */
int fakedev_fd(struct fakedev *f, int i);
void fakedev_stats(struct fakedev *f, struct fakedev_stats *st);
/* Change the fault rates while running. */
void fakedev_set_faults(struct fakedev *f, unsigned int drop_pct,
			unsigned int dup_pct, unsigned int hold_pct);
void fakedev_stop(struct fakedev *f);

#endif /* FAKEDEV_H */
