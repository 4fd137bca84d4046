/* SPDX-License-Identifier: MIT */
/*
 * kvstore: a replicated key-value store on libkpaxos.
 *
 * Every change (put, delete, compare-and-swap, increment) is a command in
 * the Paxos log; every replica applies the log in order to its own hash
 * table, so all replicas hold the same data.  A get first calls
 * kpaxos_sync() (everything decided before the get is applied locally),
 * then reads the local table: linearizable.
 *
 * Snapshots: at every snapshot point the replica hands its whole table
 * (kv_store_snapshot()) to the kernel; a replica that was away longer than
 * its peers retain the log, or a new one starting at instance 1 after the
 * log was trimmed, replaces its table by the node's snapshot
 * (kv_store_restore()) and applies the log after it.
 *
 * Command (log entry) and result encodings, little-endian:
 *   command: u8 op, u8 flags, u16 0, u32 klen, u32 vlen, u32 elen,
 *            key, value, expected
 *   result:  u8 status, u8 0, u16 0, u32 vlen, value
 * The same encodings travel between the CLI and `kvstore serve`, over a
 * unix socket in the abstract namespace (so one per network namespace):
 * each message is a u32 length followed by the encoding.
 */
#ifndef KV_H
#define KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kv_op {
	KV_PUT = 1,		/* key = value */
	KV_DEL,			/* remove key */
	KV_CAS,			/* key = value if key == expected */
	KV_INCR,		/* key += value (decimal integers) */
	/* local requests to `kvstore serve`, never in the log */
	KV_GET = 16,		/* sync, then read */
	KV_DUMP,		/* sync, then every key, sorted */
	KV_PING,
};

enum kv_flags {
	KV_F_ABSENT = 1,	/* CAS: expect the key to be absent */
};

enum kv_status {
	KV_OK = 0,
	KV_NOTFOUND,		/* get/delete/cas: no such key */
	KV_MISMATCH,		/* cas: value differs (result: current) */
	KV_BADCMD,		/* malformed command or not a number */
	KV_ERROR,		/* server: errno in the value (decimal) */
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define KV_CMD_HDR	16
#define KV_RES_HDR	8
#define KV_MAX_MSG	(64 * 1024)
#define KV_SOCKET	"kpaxos-kvstore"

struct kv_cmd {
	uint8_t op, flags;
	const char *key, *val, *exp;
	uint32_t klen, vlen, elen;
};

/* Encode into @buf (@cap bytes); returns the length or 0 if too long. */
size_t kv_cmd_encode(const struct kv_cmd *c, uint8_t *buf, size_t cap);
/* 0 or -1 when malformed; pointers point into @buf. */
int kv_cmd_decode(struct kv_cmd *c, const uint8_t *buf, size_t len);
size_t kv_res_encode(uint8_t status, const void *val, uint32_t vlen,
		     uint8_t *buf, size_t cap);
int kv_res_decode(const uint8_t *buf, size_t len, uint8_t *status,
		  const uint8_t **val, uint32_t *vlen);

/* The replica's table; every function takes the store's lock. */
struct kv_store;

struct kv_store *kv_store_new(FILE *log);
void kv_store_free(struct kv_store *s);
/* Apply a log command; writes the result encoding, returns its length. */
size_t kv_store_apply(struct kv_store *s, uint64_t instance, uint16_t pos,
		      uint64_t client, uint64_t seq, const uint8_t *cmd,
		      size_t len, uint8_t *res, size_t cap);
/* Look up @key; returns the result encoding's length. */
size_t kv_store_get(struct kv_store *s, const char *key, uint32_t klen,
		    uint8_t *res, size_t cap);
/* "key\tvalue\n" lines sorted by key, malloc'd; *len set. */
char *kv_store_dump(struct kv_store *s, size_t *len);
uint64_t kv_store_count(struct kv_store *s);
/*
 * Snapshot of the whole table, malloc'd (*len bytes): "KVS1", u64 count,
 * count x { u32 klen, u32 vlen, key, value } in key order, little-endian.
 */
void *kv_store_snapshot(struct kv_store *s, size_t *len);
/* Replace the whole table by a snapshot; 0, or -EINVAL / -ENOMEM (kept). */
int kv_store_restore(struct kv_store *s, uint64_t index, const void *buf,
		     size_t len);
/* kpaxos_set_snapshot() callbacks for a struct kv_store (@arg). */
int kv_snapshot_cb(void *arg, uint64_t index, void **buf, size_t *len);
int kv_restore_cb(void *arg, uint64_t index, const void *buf, size_t len);

/* server.c */
struct kv_serve_opts {
	const char *socket;	/* abstract socket name */
	const char *device;
	const char *log;	/* append applied commands here */
	uint64_t start;		/* first instance (1: whole log) */
	uint32_t timeout_ms;	/* per command (0: none) */
	bool quiet;
};

int kv_serve(const struct kv_serve_opts *o);

struct kpaxos;
/*
 * Carry out one request (any op) on handle @h and store @s: propose, or
 * sync and read.  Returns the malloc'd result encoding (*rlen bytes), or
 * NULL when out of memory.
 */
uint8_t *kv_execute(struct kpaxos *h, struct kv_store *s, const uint8_t *msg,
		    uint32_t len, uint32_t *rlen);

#endif /* KV_H */
