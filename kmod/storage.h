/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Durable acceptor state: an append-only record log in a file.
 *
 * File layout (little-endian):
 *
 *   header, 32 bytes: "KPAXLOG1", le32 version (1), le32 node_id,
 *                     le32 cluster_id, le16 group_id, le16 0, le64 0
 *   records, each:    le32 len, le32 crc, then len bytes of body:
 *                     u8 kind, u8 pad[3], le32 vlen, le64 ballot,
 *                     le64 instance, vlen bytes of value
 *                     (len == 24 + vlen; crc = crc32_le over len and body)
 *
 * Records are the core's struct px_record (PROMISE, ACCEPT, TRIM), in the
 * order the acceptor produced them.  One px_ready batch is written with one
 * write and made durable with one fsync (group commit) before any message
 * of that batch is sent.  At open, the records are replayed into the
 * acceptor with px_acceptor_restore(); the first record that is short, out
 * of bounds or fails its checksum ends the log (a torn tail from a crash
 * in the middle of an unsynced write), and the file is truncated there so
 * that later appends never sit behind garbage.
 */
#ifndef KPAXOS_STORAGE_H
#define KPAXOS_STORAGE_H

#include <linux/types.h>

struct file;
struct px_acceptor;
struct px_record;

#define PX_STORAGE_MAGIC	"KPAXLOG1"
#define PX_STORAGE_VERSION	1
#define PX_STORAGE_HDR_LEN	32
#define PX_STORAGE_REC_HDR_LEN	8
#define PX_STORAGE_BODY_HDR_LEN	24

struct px_storage_id {
	u32 node_id;
	u32 cluster_id;
	u16 group_id;
};

struct px_storage {
	struct file *file;
	struct file *file_new;	/* PATH.new, empty between compactions */
	char *path, *path_new;	/* PATH and PATH.new (compaction) */
	struct px_storage_id id;
	loff_t end;		/* end of the last good record */
	loff_t next_compact;	/* compact when end passes this */
	bool failed;		/* a write or fsync failed: never send again */
	/* counters, for debugging and tests */
	u64 replayed;		/* records replayed at open */
	u64 torn_bytes;		/* garbage cut off the tail at open */
	u64 records, batches, syncs, bytes, compactions;
};

/*
 * Open (creating if needed) the state file at @path and replay it into
 * @acc, which must be freshly initialised.  On success *@out is the open
 * log and *@fresh tells whether it held no record at all (new or empty
 * file).  A file written for another node/cluster/group is refused.
 */
int px_storage_open(struct px_storage **out, const char *path,
		    const struct px_storage_id *id, struct px_acceptor *acc,
		    bool *fresh, const char **why);
/*
 * Append every record of the list and fsync once.  0 on success; on any
 * error the log is marked failed and every later call fails too (the
 * caller must then never send what the records covered).
 */
int px_storage_append(struct px_storage *st, const struct px_record *rec);
/*
 * After a successful append: rewrite the log as @acc's live state if it
 * grew past the state_compact_bytes module parameter.  0, or -errno with
 * the log marked failed.
 */
int px_storage_maybe_compact(struct px_storage *st,
			     const struct px_acceptor *acc);
void px_storage_close(struct px_storage *st);

#endif /* KPAXOS_STORAGE_H */
