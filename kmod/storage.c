// SPDX-License-Identifier: GPL-2.0
/*
 * Durable acceptor state: an append-only record log in a regular file,
 * written by the acceptor thread through the kernel file API (see
 * storage.h for the format, docs/durability.md for the reasoning).
 *
 * Compaction, when the log passes state_compact_bytes, without rename:
 *   1. write the live state (PROMISE, TRIM, one ACCEPT per retained
 *      instance) and an END record to PATH.new, fsync;
 *   2. truncate PATH to its header, write the same records (without END),
 *      fsync;
 *   3. truncate PATH.new to 0, fsync.
 * At open, a PATH.new that ends with an END record is authoritative (a
 * crash hit step 2): it is copied over PATH first.  One without END is the
 * remains of step 1 and ignored.
 */
#include "kpaxos.h"
#include "storage.h"

#include <linux/crc32.h>
#include <linux/moduleparam.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/string.h>

static unsigned long paxos_state_compact_bytes = 64UL << 20;
module_param_named(state_compact_bytes, paxos_state_compact_bytes, ulong,
		   0644);
MODULE_PARM_DESC(state_compact_bytes,
		 "Compact an acceptor state log larger than this (0: never)");

/* Last record of a complete PATH.new; never replayed into the acceptor. */
#define PX_STORAGE_REC_END	0xEE

static u32 rec_crc(const u8 *hdr_len, const u8 *body, u32 len)
{
	u32 crc = crc32_le(~0U, hdr_len, 4);

	return ~crc32_le(crc, body, len);
}

static size_t raw_size(u32 vlen)
{
	return PX_STORAGE_REC_HDR_LEN + PX_STORAGE_BODY_HDR_LEN + vlen;
}

static size_t rec_size(const struct px_record *r)
{
	return raw_size(r->len);
}

/* Encode one record at @p; returns its size. */
static size_t raw_encode(u8 kind, u64 ballot, u64 instance, const u8 *value,
			 u32 vlen, u8 *p)
{
	u32 len = PX_STORAGE_BODY_HDR_LEN + vlen;
	u8 *body = p + PX_STORAGE_REC_HDR_LEN;

	put_unaligned_le32(len, p);
	memset(body, 0, 4);
	body[0] = kind;
	put_unaligned_le32(vlen, body + 4);
	put_unaligned_le64(ballot, body + 8);
	put_unaligned_le64(instance, body + 16);
	if (vlen)
		memcpy(body + PX_STORAGE_BODY_HDR_LEN, value, vlen);
	put_unaligned_le32(rec_crc(p, body, len), p + 4);
	return raw_size(vlen);
}

static void rec_encode(const struct px_record *r, u8 *p)
{
	raw_encode(r->kind, r->ballot, r->instance, r->value, r->len, p);
}

/* Read exactly @len bytes at *@pos; 0, -ENODATA at end of file, -errno. */
static int read_full(struct file *f, void *buf, size_t len, loff_t *pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = kernel_read(f, buf + done, len - done, pos);

		if (n < 0)
			return n;
		if (!n)
			return -ENODATA;
		done += n;
	}
	return 0;
}

static int write_full(struct file *f, const void *buf, size_t len,
		      loff_t *pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = kernel_write(f, buf + done, len - done, pos);

		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		done += n;
	}
	return 0;
}

static void hdr_encode(const struct px_storage_id *id, u8 *h)
{
	memset(h, 0, PX_STORAGE_HDR_LEN);
	memcpy(h, PX_STORAGE_MAGIC, 8);
	put_unaligned_le32(PX_STORAGE_VERSION, h + 8);
	put_unaligned_le32(id->node_id, h + 12);
	put_unaligned_le32(id->cluster_id, h + 16);
	put_unaligned_le16(id->group_id, h + 20);
}

static int hdr_check(const struct px_storage_id *id, const u8 *h,
		     const char **why)
{
	if (memcmp(h, PX_STORAGE_MAGIC, 8) ||
	    get_unaligned_le32(h + 8) != PX_STORAGE_VERSION) {
		*why = "state file: not a kpaxos state log (bad magic/version)";
		return -EINVAL;
	}
	if (get_unaligned_le32(h + 12) != id->node_id ||
	    get_unaligned_le32(h + 16) != id->cluster_id ||
	    get_unaligned_le16(h + 20) != id->group_id) {
		*why = "state file: written by another node, cluster or group";
		return -EINVAL;
	}
	return 0;
}

/*
 * Replay records from st->end.  Stops at the first bad record and leaves
 * st->end after the last good one.  Returns 0 or a hard error (I/O,
 * memory, or a record the acceptor rejects: the state is inconsistent).
 */
static int replay(struct px_storage *st, struct px_acceptor *acc,
		  const char **why)
{
	u32 max_len = PX_STORAGE_BODY_HDR_LEN + acc->cfg.max_value;
	u8 rh[PX_STORAGE_REC_HDR_LEN];
	struct px_record *rec;
	u8 *body = NULL;
	u32 cap = 0, len, vlen;
	int err = 0;

	for (;;) {
		loff_t pos = st->end;

		err = read_full(st->file, rh, sizeof(rh), &pos);
		if (err == -ENODATA) {
			err = 0;
			break;
		}
		if (err)
			goto io;
		len = get_unaligned_le32(rh);
		if (len < PX_STORAGE_BODY_HDR_LEN || len > max_len)
			break;			/* torn or garbage */
		if (len > cap) {
			kvfree(body);
			body = kvmalloc(len, GFP_KERNEL);
			cap = body ? len : 0;
			err = -ENOMEM;
			if (!body)
				goto nomem;
		}
		err = read_full(st->file, body, len, &pos);
		if (err == -ENODATA) {
			err = 0;
			break;
		}
		if (err)
			goto io;
		if (rec_crc(rh, body, len) != get_unaligned_le32(rh + 4))
			break;
		vlen = get_unaligned_le32(body + 4);
		if (vlen != len - PX_STORAGE_BODY_HDR_LEN || body[1] ||
		    body[2] || body[3])
			break;
		rec = kvmalloc(struct_size(rec, value, vlen), GFP_KERNEL);
		if (!rec) {
			err = -ENOMEM;
			goto nomem;
		}
		rec->next = NULL;
		rec->kind = body[0];
		rec->len = vlen;
		rec->ballot = get_unaligned_le64(body + 8);
		rec->instance = get_unaligned_le64(body + 16);
		memcpy(rec->value, body + PX_STORAGE_BODY_HDR_LEN, vlen);
		err = px_acceptor_restore(acc, rec);
		kvfree(rec);
		if (err) {
			/* e.g. acceptor_slots or max_value were lowered */
			*why = "state file: a record does not fit the acceptor";
			goto out;
		}
		st->end = pos;
		st->replayed++;
	}
	goto out;
io:
	*why = "state file: read error";
	goto out;
nomem:
	*why = "out of memory replaying the state file";
out:
	kvfree(body);
	return err;
}

/*
 * Length of the header and records before the END record of a complete
 * PATH.new image in @buf, or 0 if it is not complete.
 */
static size_t complete_len(const struct px_storage_id *id, const u8 *buf,
			   size_t size)
{
	size_t off = PX_STORAGE_HDR_LEN;
	const char *why;
	u32 len;

	if (size < PX_STORAGE_HDR_LEN || hdr_check(id, buf, &why))
		return 0;
	while (size - off >= PX_STORAGE_REC_HDR_LEN) {
		len = get_unaligned_le32(buf + off);
		if (len < PX_STORAGE_BODY_HDR_LEN ||
		    len > size - off - PX_STORAGE_REC_HDR_LEN ||
		    rec_crc(buf + off, buf + off + PX_STORAGE_REC_HDR_LEN, len) !=
		    get_unaligned_le32(buf + off + 4))
			return 0;
		if (buf[off + PX_STORAGE_REC_HDR_LEN] == PX_STORAGE_REC_END)
			return off;
		off += PX_STORAGE_REC_HDR_LEN + len;
	}
	return 0;
}

/*
 * fsync the directory holding @path, so that a file just created there
 * survives a crash.  Some file systems cannot fsync a directory (EINVAL):
 * nothing more can be done there.
 */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct file *d;
	char *dir;
	int err;

	if (slash == path)
		dir = kstrdup("/", GFP_KERNEL);
	else
		dir = kstrndup(path, slash - path, GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	d = filp_open(dir, O_RDONLY | O_DIRECTORY, 0);
	kfree(dir);
	if (IS_ERR(d))
		return PTR_ERR(d);
	err = vfs_fsync(d, 0);
	filp_close(d, NULL);
	return err == -EINVAL ? 0 : err;
}

/* Step 3 of a compaction, and the cleanup of an interrupted one. */
static int empty_new(struct file *f)
{
	int err = vfs_truncate(&f->f_path, 0);

	return err ? err : vfs_fsync(f, 0);
}

/* Finish a compaction a crash interrupted in step 2 (see the top). */
static int recover_compaction(struct px_storage *st, const char **why)
{
	struct file *f = st->file_new;
	loff_t size, pos = 0;
	size_t n = 0;
	u8 *buf = NULL;
	int err;

	size = i_size_read(file_inode(f));
	err = 0;
	if (!size)
		goto out;
	err = -ENOMEM;
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		goto out;
	err = read_full(f, buf, size, &pos);
	if (err)
		goto out;
	n = complete_len(&st->id, buf, size);
	if (n) {
		pr_warn("%s: completing an interrupted compaction (%zu bytes)\n",
			st->path, n);
		pos = 0;
		err = vfs_truncate(&st->file->f_path, 0);
		if (!err)
			err = write_full(st->file, buf, n, &pos);
		if (!err)
			err = vfs_fsync(st->file, 0);
		if (err)
			goto out;
	}
	err = empty_new(f);
out:
	if (err)
		*why = "cannot recover an interrupted compaction (PATH.new)";
	kvfree(buf);
	return err;
}

int px_storage_maybe_compact(struct px_storage *st,
			     const struct px_acceptor *acc)
{
	unsigned long limit = READ_ONCE(paxos_state_compact_bytes);
	size_t size, off, tail;
	struct file *f = st->file_new;
	loff_t pos;
	u32 i;
	u8 *buf;
	int err;

	if (st->failed || !limit || st->end < limit ||
	    st->end < st->next_compact)
		return 0;
	size = PX_STORAGE_HDR_LEN + 3 * raw_size(0);
	for (i = 0; i < acc->cfg.acceptor_slots; i++)
		if (acc->slots[i].instance > acc->trim)
			size += raw_size(acc->slots[i].len);
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return 0;	/* try again after the next batch */
	hdr_encode(&st->id, buf);
	off = PX_STORAGE_HDR_LEN;
	if (acc->promised)
		off += raw_encode(PX_REC_PROMISE, acc->promised, 0, NULL, 0,
				  buf + off);
	if (acc->trim)
		off += raw_encode(PX_REC_TRIM, 0, acc->trim, NULL, 0,
				  buf + off);
	for (i = 0; i < acc->cfg.acceptor_slots; i++) {
		const struct px_acc_slot *sl = &acc->slots[i];

		if (sl->instance > acc->trim)
			off += raw_encode(PX_REC_ACCEPT, sl->ballot,
					  sl->instance, sl->value, sl->len,
					  buf + off);
	}
	tail = off;
	off += raw_encode(PX_STORAGE_REC_END, 0, 0, NULL, 0, buf + off);

	/* 1. the complete image in PATH.new (empty since the last one) */
	pos = 0;
	err = write_full(f, buf, off, &pos);
	if (!err)
		err = vfs_fsync(f, 0);
	if (err) {
		/* A failed fsync may still leave a complete image behind. */
		if (empty_new(f))
			goto fail;
		goto skip;
	}
	/* 2. the same live state in PATH; 3. PATH.new emptied */
	pos = PX_STORAGE_HDR_LEN;
	err = vfs_truncate(&st->file->f_path, PX_STORAGE_HDR_LEN);
	if (!err)
		err = write_full(st->file, buf + pos, tail - pos, &pos);
	if (!err)
		err = vfs_fsync(st->file, 0);
	if (!err)
		err = empty_new(f);
	if (err)
		goto fail;
	kvfree(buf);
	pr_info("%s: compacted %lld -> %lld bytes\n", st->path,
		(long long)st->end, (long long)pos);
	st->end = pos;
	st->compactions++;
	st->next_compact = pos + limit;
	return 0;
skip:
	kvfree(buf);
	st->next_compact = st->end + limit;
	pr_warn("%s: cannot write %s (%d): compaction postponed\n", st->path,
		st->path_new, err);
	return 0;
fail:
	kvfree(buf);
	/* PATH is unknown, PATH.new may be stale: stop for good. */
	st->failed = true;
	pr_err("%s: compaction failed (%d): acceptor stops answering\n",
	       st->path, err);
	return err;
}

int px_storage_open(struct px_storage **out, const char *path,
		    const struct px_storage_id *id, struct px_acceptor *acc,
		    bool *fresh, const char **why)
{
	u8 hdr[PX_STORAGE_HDR_LEN];
	struct px_storage *st;
	loff_t pos = 0, size;
	int err;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->id = *id;
	st->path = kstrdup(path, GFP_KERNEL);
	st->path_new = kasprintf(GFP_KERNEL, "%s.new", path);
	err = -ENOMEM;
	*why = "out of memory";
	if (!st->path || !st->path_new)
		goto err_free;
	/*
	 * Both files are opened here, in the caller's context: the acceptor
	 * thread would resolve paths against another root (chroot, mount
	 * namespace).
	 */
	err = -EINVAL;
	*why = "state path must be absolute";
	if (path[0] != '/')
		goto err_free;
	st->file = filp_open(path, O_RDWR | O_CREAT | O_LARGEFILE | O_NOATIME,
			     0600);
	if (IS_ERR(st->file)) {
		err = PTR_ERR(st->file);
		*why = "cannot open or create the state file";
		goto err_free;
	}
	st->file_new = filp_open(st->path_new, O_RDWR | O_CREAT | O_LARGEFILE |
				 O_NOATIME, 0600);
	if (IS_ERR(st->file_new)) {
		err = PTR_ERR(st->file_new);
		*why = "cannot open or create the state file's PATH.new";
		goto err_close;
	}
	err = -EINVAL;
	*why = "state path is not a regular file";
	if (!S_ISREG(file_inode(st->file)->i_mode) ||
	    !S_ISREG(file_inode(st->file_new)->i_mode))
		goto err_close_new;
	err = sync_parent(path);
	if (err) {
		*why = "cannot fsync the state file's directory";
		goto err_close_new;
	}
	err = recover_compaction(st, why);
	if (err)
		goto err_close_new;

	size = i_size_read(file_inode(st->file));
	if (size < PX_STORAGE_HDR_LEN) {
		/* New (or torn while being created): start it afresh. */
		hdr_encode(id, hdr);
		err = vfs_truncate(&st->file->f_path, 0);
		if (!err)
			err = write_full(st->file, hdr, sizeof(hdr), &pos);
		if (!err)
			err = vfs_fsync(st->file, 0);
		if (err) {
			*why = "cannot write the state file header";
			goto err_close_new;
		}
		st->end = PX_STORAGE_HDR_LEN;
		*fresh = true;
		*out = st;
		return 0;
	}

	err = read_full(st->file, hdr, sizeof(hdr), &pos);
	if (err) {
		*why = "cannot read the state file header";
		goto err_close_new;
	}
	err = hdr_check(id, hdr, why);
	if (err)
		goto err_close_new;
	st->end = PX_STORAGE_HDR_LEN;
	err = replay(st, acc, why);
	if (err)
		goto err_close_new;
	if (st->end < size) {
		st->torn_bytes = size - st->end;
		pr_warn("%s: ignoring %lld bytes of torn tail after %llu records\n",
			path, (long long)st->torn_bytes, st->replayed);
		err = vfs_truncate(&st->file->f_path, st->end);
		if (!err)
			err = vfs_fsync(st->file, 0);
		if (err) {
			*why = "cannot truncate the torn tail of the state file";
			goto err_close_new;
		}
	}
	*fresh = st->replayed == 0;
	*out = st;
	return 0;

err_close_new:
	filp_close(st->file_new, NULL);
err_close:
	filp_close(st->file, NULL);
err_free:
	kfree(st->path_new);
	kfree(st->path);
	kfree(st);
	return err;
}

int px_storage_append(struct px_storage *st, const struct px_record *rec)
{
	const struct px_record *r;
	size_t size = 0, off = 0;
	loff_t pos = st->end;
	u32 n = 0;
	u8 *buf;
	int err;

	if (st->failed)
		return -EIO;
	for (r = rec; r; r = r->next) {
		size += rec_size(r);
		n++;
	}
	if (!n)
		return 0;
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf) {
		err = -ENOMEM;
		goto fail;
	}
	for (r = rec; r; r = r->next) {
		rec_encode(r, buf + off);
		off += rec_size(r);
	}
	err = write_full(st->file, buf, size, &pos);
	kvfree(buf);
	if (err)
		goto fail;
	/* Data and the file size: the records are readable after a crash. */
	err = vfs_fsync(st->file, 1);
	if (err)
		goto fail;
	st->end = pos;
	st->records += n;
	st->batches++;
	st->syncs++;
	st->bytes += size;
	return 0;
fail:
	/*
	 * What reached the disk is unknown: the in-memory acceptor already
	 * moved on, so its replies must never go out.  Stay failed.
	 */
	st->failed = true;
	pr_err("state file write failed (%d): acceptor stops answering\n",
	       err);
	return err;
}

void px_storage_close(struct px_storage *st)
{
	if (!st)
		return;
	if (!st->failed)
		vfs_fsync(st->file, 0);
	pr_info("%s: closed: %llu records in %llu fsyncs (group commit), %llu bytes, %llu compactions\n",
		st->path, st->records, st->syncs, st->bytes, st->compactions);
	filp_close(st->file_new, NULL);
	filp_close(st->file, NULL);
	kfree(st->path_new);
	kfree(st->path);
	kfree(st);
}
