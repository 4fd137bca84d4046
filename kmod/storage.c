// SPDX-License-Identifier: GPL-2.0
/*
 * Durable acceptor state: an append-only record log in a regular file,
 * written by the acceptor thread through the kernel file API (see
 * storage.h for the format, docs/durability.md for the reasoning).
 */
#include "kpaxos.h"
#include "storage.h"

#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/string.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>	/* 6.12: moved from asm/ */
#else
#include <asm/unaligned.h>
#endif

static u32 rec_crc(const u8 *hdr_len, const u8 *body, u32 len)
{
	u32 crc = crc32_le(~0U, hdr_len, 4);

	return ~crc32_le(crc, body, len);
}

static size_t rec_size(const struct px_record *r)
{
	return PX_STORAGE_REC_HDR_LEN + PX_STORAGE_BODY_HDR_LEN + r->len;
}

static void rec_encode(const struct px_record *r, u8 *p)
{
	u32 len = PX_STORAGE_BODY_HDR_LEN + r->len;
	u8 *body = p + PX_STORAGE_REC_HDR_LEN;

	put_unaligned_le32(len, p);
	memset(body, 0, 4);
	body[0] = r->kind;
	put_unaligned_le32(r->len, body + 4);
	put_unaligned_le64(r->ballot, body + 8);
	put_unaligned_le64(r->instance, body + 16);
	if (r->len)
		memcpy(body + PX_STORAGE_BODY_HDR_LEN, r->value, r->len);
	put_unaligned_le32(rec_crc(p, body, len), p + 4);
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
			*why = "state file: a record does not fit the acceptor "
			       "(different acceptor_slots/max_value?)";
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
	st->file = filp_open(path, O_RDWR | O_CREAT | O_LARGEFILE | O_NOATIME,
			     0600);
	if (IS_ERR(st->file)) {
		err = PTR_ERR(st->file);
		*why = "cannot open or create the state file";
		goto err_free;
	}
	err = -EINVAL;
	*why = "state path is not a regular file";
	if (!S_ISREG(file_inode(st->file)->i_mode))
		goto err_close;

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
			goto err_close;
		}
		st->end = PX_STORAGE_HDR_LEN;
		*fresh = true;
		*out = st;
		return 0;
	}

	err = read_full(st->file, hdr, sizeof(hdr), &pos);
	if (err) {
		*why = "cannot read the state file header";
		goto err_close;
	}
	err = hdr_check(id, hdr, why);
	if (err)
		goto err_close;
	st->end = PX_STORAGE_HDR_LEN;
	err = replay(st, acc, why);
	if (err)
		goto err_close;
	if (st->end < size) {
		st->torn_bytes = size - st->end;
		pr_warn("%s: ignoring %lld bytes of torn tail after %llu records\n",
			path, (long long)st->torn_bytes, st->replayed);
		err = vfs_truncate(&st->file->f_path, st->end);
		if (!err)
			err = vfs_fsync(st->file, 0);
		if (err) {
			*why = "cannot truncate the torn tail of the state file";
			goto err_close;
		}
	}
	*fresh = st->replayed == 0;
	*out = st;
	return 0;

err_close:
	filp_close(st->file, NULL);
err_free:
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
	filp_close(st->file, NULL);
	kfree(st);
}
