/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A simulated /dev/paxos for libkpaxos unit tests: one sequencer thread
 * orders the proposals written by N handles (one SOCK_SEQPACKET socket
 * each) and sends every handle the same delivery records, with the kernel's
 * exactly-once rule (a (client, seq) at or below the client's highest
 * delivered seq is a duplicate).  It can lose, duplicate and reorder
 * proposals, like a cluster losing a leader.
 *
 * Snapshots: with snap_every, a SNAP_POINT record follows every instance I
 * with I % snap_every == 0; fakedev_ioctl() plays PAXOS_IOC_SNAPSHOT_PUT/GET
 * with one node-wide current snapshot.  A paused replica gets nothing;
 * fakedev_restore() sends it a RESTORE of the current snapshot followed by
 * every instance after it (the fake keeps the whole log), like a node that
 * installed a snapshot from a peer.
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
	unsigned int snap_every;	/* snapshot points (0: none) */
	uint64_t seed;
};

struct fakedev_stats {
	uint64_t written, decided, dups, dropped, held, instances;
	uint64_t puts, puts_refused, gets, restores;
	uint64_t snap_index;	/* current snapshot, 0: none */
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
/* Stop sending to replica @i (it is away). */
void fakedev_pause(struct fakedev *f, int i);
/* RESTORE + the log after the current snapshot to replica @i; -1: none. */
int fakedev_restore(struct fakedev *f, int i);
/*
 * PAXOS_IOC_SNAPSHOT_PUT/GET on a replica's fd: 0, or -1 with errno set;
 * 1 when @fd is not a replica's or @req not a snapshot ioctl.
 */
int fakedev_ioctl(int fd, unsigned long req, void *arg);
/* The current snapshot's bytes (copied into @buf, at most @cap); length. */
size_t fakedev_snapshot(struct fakedev *f, uint64_t *index, void *buf,
			size_t cap);

#endif /* FAKEDEV_H */
