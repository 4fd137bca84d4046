// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/paxos: the application interface (records described in
 * uapi/linux/paxos.h).
 *
 * open(2) binds the file to the caller's network namespace; the file binds
 * to that namespace's instance at open, or at its first read/write/seek if
 * none was up yet.  Once its instance is destroyed (PAXOS_IOC_DOWN, namespace
 * deletion, module unload), blocked and later reads and writes fail with
 * ENOTCONN; the file must be reopened.
 *
 * write(2) queues one command for the proposer thread.  read(2) returns
 * whole delivery records from the file's cursor, which starts at the next
 * instance to be delivered.  Commands the learner flagged as retries
 * (PAXOS_CMD_F_DUP) are never returned.  A snapshot point's entry ends with
 * a SNAP_POINT record; a cursor below the delivery log gets a RESTORE record
 * when the current snapshot covers it (then continues after the snapshot),
 * EOVERFLOW otherwise.  PAXOS_IOC_SNAPSHOT_PUT goes to the node thread (the
 * learner's owner); PAXOS_IOC_SNAPSHOT_GET copies from the instance's
 * reference-counted copy of the current snapshot.
 */
#include "kpaxos.h"

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

struct paxos_file {
	struct paxos_net *pn;
	struct mutex lock;		/* binding and cursor */
	struct paxos_instance *inst;	/* bound instance (a reference) */
	u64 cur_inst;			/* next record: instance ... */
	u32 cur_pos;			/* ... and command position in it */
};

static int paxos_open(struct inode *inode, struct file *file)
{
	struct paxos_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->pn = paxos_net_get(current->nsproxy->net_ns);
	if (!pf->pn) {
		kfree(pf);
		return -ENODEV;
	}
	mutex_init(&pf->lock);
	pf->inst = paxos_instance_get(pf->pn);
	if (pf->inst)
		pf->cur_inst = px_dlog_next(&pf->inst->log);
	file->private_data = pf;
	return stream_open(inode, file);
}

static int paxos_release(struct inode *inode, struct file *file)
{
	struct paxos_file *pf = file->private_data;

	paxos_instance_put(pf->inst);
	paxos_net_put(pf->pn);
	kfree(pf);
	return 0;
}

/* The bound instance, binding now if needed; NULL if there is none. */
static struct paxos_instance *bind_locked(struct paxos_file *pf)
{
	lockdep_assert_held(&pf->lock);
	if (!pf->inst) {
		pf->inst = paxos_instance_get(pf->pn);
		if (pf->inst)
			pf->cur_inst = px_dlog_next(&pf->inst->log);
	}
	if (pf->inst && READ_ONCE(pf->inst->dead))
		return NULL;
	return pf->inst;
}

/* A reference on the bound instance for an operation, or NULL. */
static struct paxos_instance *file_instance(struct paxos_file *pf)
{
	struct paxos_instance *inst;

	mutex_lock(&pf->lock);
	inst = bind_locked(pf);
	if (inst)
		kref_get(&inst->ref);
	mutex_unlock(&pf->lock);
	return inst;
}

/* ---------------------------------------------------------------- write */

/* Bytes of records one write(2) takes at most: always a whole record. */
#define PX_WRITE_MAX	(256 * 1024)
static_assert(sizeof(struct paxos_propose_hdr) + PAXOS_MAX_CMD <= PX_WRITE_MAX);

/* The queue entry of a write of @bytes of records (PX_WRITE_MAX at most). */
static size_t ucmd_size(size_t bytes)
{
	return struct_size((struct px_ucmd *)NULL, data, bytes);
}

/*
 * The size of the well-formed record at @p (@left bytes to the end of the
 * write), or an error.
 */
static ssize_t check_record(const u8 *p, size_t left)
{
	struct paxos_propose_hdr hdr;

	if (left < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.len > PAXOS_MAX_CMD)
		return -EMSGSIZE;
	if (hdr.flags || hdr.len > left - sizeof(hdr) || !hdr.seq)
		return -EINVAL;
	/* Membership changes come from the administrator, through netlink. */
	if (hdr.client_id == PAXOS_CLIENT_MEMBERSHIP)
		return -EPERM;
	return sizeof(hdr) + hdr.len;
}

/*
 * One or more records back to back, queued as one entry.  A bad first
 * record fails the write; a later one ends it early, with the bytes of the
 * records before it (the next write, starting there, reports why).  So
 * does PX_WRITE_MAX.  A full queue blocks (EAGAIN with O_NONBLOCK).
 */
static ssize_t paxos_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct paxos_file *pf = file->private_data;
	struct paxos_instance *inst;
	size_t take, len = 0, size;
	struct px_ucmd *c;
	ssize_t n = 0;
	u32 cmds = 0;
	struct px_prof_mark t0 = px_prof_start();
	int err;

	if (count < sizeof(struct paxos_propose_hdr))
		return -EINVAL;
	take = min_t(size_t, count, PX_WRITE_MAX);
	size = ucmd_size(take);
	c = kvmalloc(size, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	if (copy_from_user(c->data, buf, take)) {
		kvfree(c);
		return -EFAULT;
	}
	while (len < take) {
		n = check_record(c->data + len, take - len);
		if (n < 0)
			break;
		len += n;
		cmds++;
	}
	if (!len) {
		kvfree(c);
		return n;
	}
	c->e.size = size;
	c->len = len;
	c->off = 0;

	inst = file_instance(pf);
	err = -ENOTCONN;
	if (!inst)
		goto out_free;
	err = -EOPNOTSUPP;
	if (!inst->prop)
		goto out_put;
	for (;;) {
		err = px_queue_push(&inst->cmdq, &c->e);
		if (err != -ENOSPC)
			break;
		err = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			break;
		err = wait_event_interruptible(inst->write_wq,
				READ_ONCE(inst->dead) ||
				px_queue_has_room(&inst->cmdq, size));
		if (err)
			break;
	}
	if (err)
		goto out_put;
	atomic64_add(cmds, &inst->cnt.proposals);
	px_proposer_kick(inst);
	paxos_instance_put(inst);
	px_prof_end(PXP_WRITE, t0);
	return len;

out_put:
	paxos_instance_put(inst);
out_free:
	kvfree(c);
	return err;
}

/* ----------------------------------------------------------------- read */

/* A record without a command (SNAP_POINT, RESTORE). */
static int copy_marker(u64 instance, u16 flags, char __user *buf)
{
	struct paxos_delivery_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.instance = instance;
	hdr.flags = flags;
	return copy_to_user(buf, &hdr, sizeof(hdr)) ? -EFAULT : 0;
}

/*
 * One delivery record at @dst: @hdr, the command's bytes, zeros to the
 * record's alignment (@rec bytes in all).  One user access window for the
 * three: a record is small and there is one per command.
 */
static int put_record(char __user *dst, const struct paxos_delivery_hdr *hdr,
		      const u8 *data, size_t rec)
{
	static const u8 zeros[PAXOS_RECORD_ALIGN];
	size_t pad = rec - sizeof(*hdr) - hdr->len;

	if (!user_access_begin(dst, rec))
		return -EFAULT;
	unsafe_copy_to_user(dst, (const char *)hdr, sizeof(*hdr), efault);
	unsafe_copy_to_user(dst + sizeof(*hdr), (const char *)data, hdr->len,
			    efault);
	unsafe_copy_to_user(dst + sizeof(*hdr) + hdr->len, (const char *)zeros,
			    pad, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Copy the records of entry @e from command position *pos on, as many as
 * fit in @count bytes.  Returns the bytes copied, or -EMSGSIZE / -EFAULT if
 * not even the first record could be copied.  *pos is left at the first
 * command not returned; *complete tells whether none is left in @e.
 */
static ssize_t copy_entry(const struct px_dent *e, u32 *pos,
			  char __user *buf, size_t count, bool *complete)
{
	struct paxos_delivery_hdr hdr;
	struct px_batch_iter it;
	struct px_cmd cmd;
	size_t done = 0;
	int err;

	*complete = false;
	if (!e->n_cmds || px_batch_iter_init(&it, e->value, e->len))
		goto snap_point;
	while (px_batch_next(&it, &cmd) > 0) {
		size_t rec;

		/* Membership changes are the node's, not the readers'. */
		if (cmd.dup || cmd.client_id == PAXOS_CLIENT_MEMBERSHIP ||
		    cmd.pos < *pos)
			continue;
		rec = sizeof(hdr) + ALIGN(cmd.len, PAXOS_RECORD_ALIGN);
		if (rec > count - done)
			return done ? done : -EMSGSIZE;
		memset(&hdr, 0, sizeof(hdr));
		hdr.instance = e->instance;
		hdr.client_id = cmd.client_id;
		hdr.seq = cmd.seq;
		hdr.len = cmd.len;
		hdr.pos = cmd.pos;
		if (put_record(buf + done, &hdr, cmd.data, rec))
			return done ? done : -EFAULT;
		done += rec;
		*pos = cmd.pos + 1;
	}
snap_point:
	if (e->snap_point && *pos <= PX_DENT_SNAP_POS) {
		if (sizeof(hdr) > count - done)
			return done ? done : -EMSGSIZE;
		err = copy_marker(e->instance, PAXOS_DELIVERY_F_SNAP_POINT,
				  buf + done);
		if (err)
			return done ? done : err;
		done += sizeof(hdr);
		*pos = PX_DENT_SNAP_POS + 1;
	}
	*complete = true;
	return done;
}

/*
 * The cursor is below the delivery log (which starts at @first): if the
 * current snapshot S covers it (cursor <= S and first <= S + 1: every
 * instance the reader misses is in S or retained after it), write a
 * RESTORE record and move the cursor to S + 1.  Returns the bytes written,
 * or -EOVERFLOW when no snapshot helps.
 */
static ssize_t restore_record(struct paxos_file *pf,
			      struct paxos_instance *inst, u64 first,
			      char __user *buf)
{
	struct px_snapbuf *sb = px_snapbuf_get(inst);
	u64 index = sb ? sb->index : 0;
	int err;

	px_snapbuf_put(sb);
	if (!index || index < pf->cur_inst || index + 1 < first)
		return -EOVERFLOW;
	err = copy_marker(index, PAXOS_DELIVERY_F_RESTORE, buf);
	if (err)
		return err;
	pf->cur_inst = index + 1;
	pf->cur_pos = 0;
	return sizeof(struct paxos_delivery_hdr);
}

/*
 * Under pf->lock: records from the cursor on.  -EAGAIN when there is none
 * yet, -EOVERFLOW when the cursor fell behind retention.
 */
static ssize_t read_records(struct paxos_file *pf,
			    struct paxos_instance *inst, char __user *buf,
			    size_t count)
{
	size_t done = 0;
	bool complete;
	ssize_t n;
	int err;

	while (count - done >= sizeof(struct paxos_delivery_hdr)) {
		struct px_dent *e;
		u32 pos = pf->cur_pos;
		u64 first;

		e = px_dlog_get(&inst->log, pf->cur_inst, &err, &first);
		if (!e && err == -EOVERFLOW) {
			n = restore_record(pf, inst, first, buf + done);
			if (n < 0)
				return done ? done : n;
			done += n;
			continue;
		}
		if (!e)
			return done ? done : err;
		n = copy_entry(e, &pos, buf + done, count - done, &complete);
		px_dent_put(e);
		if (n < 0)
			return done ? done : n;
		done += n;
		if (!complete) {
			pf->cur_pos = pos;	/* buffer full */
			break;
		}
		pf->cur_inst++;
		pf->cur_pos = 0;
	}
	return done;
}

static ssize_t paxos_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	struct paxos_file *pf = file->private_data;
	struct paxos_instance *inst;
	ssize_t ret;

	if (count < sizeof(struct paxos_delivery_hdr))
		return -EMSGSIZE;
	for (;;) {
		struct px_prof_mark t0 = px_prof_start();
		u64 want;

		mutex_lock(&pf->lock);
		inst = bind_locked(pf);
		if (!inst) {
			mutex_unlock(&pf->lock);
			return -ENOTCONN;
		}
		ret = read_records(pf, inst, buf, count);
		want = pf->cur_inst;
		kref_get(&inst->ref);
		mutex_unlock(&pf->lock);
		px_prof_end(PXP_READ, t0);

		if (ret != -EAGAIN || (file->f_flags & O_NONBLOCK)) {
			paxos_instance_put(inst);
			return ret;
		}
		ret = wait_event_interruptible(inst->read_wq,
				READ_ONCE(inst->dead) ||
				px_dlog_readable(&inst->log, want));
		paxos_instance_put(inst);
		if (ret)
			return ret;
	}
}

static __poll_t paxos_poll(struct file *file, poll_table *wait)
{
	struct paxos_file *pf = file->private_data;
	struct paxos_instance *inst;
	__poll_t mask = 0;
	u64 want;

	inst = file_instance(pf);
	if (!inst)
		return EPOLLERR | EPOLLHUP;
	poll_wait(file, &inst->read_wq, wait);
	poll_wait(file, &inst->write_wq, wait);

	mutex_lock(&pf->lock);
	want = pf->cur_inst;
	mutex_unlock(&pf->lock);

	if (READ_ONCE(inst->dead))
		mask |= EPOLLERR | EPOLLHUP;
	else if (px_dlog_readable(&inst->log, want))
		mask |= EPOLLIN | EPOLLRDNORM;
	/* Writable: room for the largest write, so it does not block. */
	if (inst->prop && !READ_ONCE(inst->dead) &&
	    px_queue_has_room(&inst->cmdq, ucmd_size(PX_WRITE_MAX)))
		mask |= EPOLLOUT | EPOLLWRNORM;
	paxos_instance_put(inst);
	return mask;
}

/* ---------------------------------------------------------------- ioctl */

static long ioctl_up(struct paxos_file *pf, void __user *arg)
{
	struct paxos_config *uc;
	const char *why = NULL;
	int err;

	uc = memdup_user(arg, sizeof(*uc));
	if (IS_ERR(uc))
		return PTR_ERR(uc);
	err = paxos_instance_up(pf->pn, uc, &why);
	if (err && why)
		pr_warn_ratelimited("PAXOS_IOC_UP: %s (%d)\n", why, err);
	kfree(uc);
	return err;
}

/* @size: the caller's struct paxos_status, maybe an older, shorter one. */
static long ioctl_status(struct paxos_file *pf, void __user *arg,
			 size_t size)
{
	struct paxos_instance *inst = paxos_instance_get(pf->pn);
	struct paxos_status *st;
	long err = 0;

	if (!inst)
		return -ENOTCONN;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (st) {
		paxos_instance_status(inst, st);
		if (copy_to_user(arg, st, min(size, sizeof(*st))))
			err = -EFAULT;
		kfree(st);
	} else {
		err = -ENOMEM;
	}
	paxos_instance_put(inst);
	return err;
}

/* Any size of PAXOS_IOC_STATUS's struct (it grows at the end). */
static bool is_status_ioctl(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == PAXOS_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(PAXOS_IOC_STATUS) &&
	       _IOC_DIR(cmd) == _IOC_READ &&
	       _IOC_SIZE(cmd) >= offsetof(struct paxos_status, drops);
}

static int snapshot_args(void __user *arg, struct paxos_snapshot_io *io,
			 const char *what)
{
	if (copy_from_user(io, arg, sizeof(*io)))
		return -EFAULT;
	if (io->flags) {
		pr_warn_ratelimited("%s: flags must be 0\n", what);
		return -EINVAL;
	}
	if (!io->buf && io->len) {
		pr_warn_ratelimited("%s: no buffer\n", what);
		return -EINVAL;
	}
	return 0;
}

static long ioctl_snapshot_put(struct paxos_file *pf, void __user *arg)
{
	struct paxos_snapshot_io io;
	struct paxos_instance *inst;
	struct px_snapbuf *sb;
	int err;

	err = snapshot_args(arg, &io, "PAXOS_IOC_SNAPSHOT_PUT");
	if (err)
		return err;
	if (!io.index) {
		pr_warn_ratelimited("PAXOS_IOC_SNAPSHOT_PUT: instances start at 1\n");
		return -EINVAL;
	}
	if (io.len > PAXOS_MAX_SNAPSHOT)
		return -EMSGSIZE;
	inst = file_instance(pf);
	if (!inst)
		return -ENOTCONN;
	err = -EOPNOTSUPP;
	if (!inst->learn)
		goto out;
	err = -ENOMEM;
	sb = px_snapbuf_alloc(io.index, io.len);
	if (!sb)
		goto out;
	err = -EFAULT;
	if (!copy_from_user(sb->data, u64_to_user_ptr(io.buf), io.len))
		err = px_snapshot_request(inst, sb);
	px_snapbuf_put(sb);
out:
	paxos_instance_put(inst);
	return err;
}

static long ioctl_snapshot_get(struct paxos_file *pf, void __user *arg)
{
	struct paxos_snapshot_io io;
	struct paxos_instance *inst;
	struct px_snapbuf *sb;
	u32 cap;
	int err;

	err = snapshot_args(arg, &io, "PAXOS_IOC_SNAPSHOT_GET");
	if (err)
		return err;
	inst = file_instance(pf);
	if (!inst)
		return -ENOTCONN;
	sb = px_snapbuf_get(inst);
	paxos_instance_put(inst);
	if (!sb || (io.index && io.index != sb->index)) {
		px_snapbuf_put(sb);
		return -ENOENT;
	}
	cap = io.len;
	io.index = sb->index;
	io.len = sb->len;
	err = 0;
	if (cap < sb->len)
		err = -EMSGSIZE;
	else if (copy_to_user(u64_to_user_ptr(io.buf), sb->data, sb->len))
		err = -EFAULT;
	px_snapbuf_put(sb);
	if (err != -EFAULT && copy_to_user(arg, &io, sizeof(io)))
		err = -EFAULT;
	return err;
}

static long ioctl_param(struct paxos_file *pf, unsigned int cmd,
			void __user *arg)
{
	struct paxos_param_kv kv;
	const char *why = "";
	int err;

	if (copy_from_user(&kv, arg, sizeof(kv)))
		return -EFAULT;
	if (kv.pad) {
		pr_warn_ratelimited("PAXOS_IOC_*_PARAM: pad must be 0\n");
		return -EINVAL;
	}
	if (cmd == PAXOS_IOC_GET_PARAM) {
		err = paxos_param_get(pf->pn, kv.key, &kv.value);
		if (err) {
			pr_warn_ratelimited("PAXOS_IOC_GET_PARAM: unknown parameter %u\n",
					    kv.key);
			return err;
		}
		return copy_to_user(arg, &kv, sizeof(kv)) ? -EFAULT : 0;
	}
	err = paxos_param_set(pf->pn, kv.key, kv.value, &why);
	if (err)
		pr_warn_ratelimited("PAXOS_IOC_SET_PARAM %u=%llu: %s (%d)\n",
				    kv.key, kv.value, why, err);
	return err;
}

static long ioctl_seek(struct paxos_file *pf, void __user *arg)
{
	struct paxos_instance *inst;
	u64 to;

	if (copy_from_user(&to, arg, sizeof(to)))
		return -EFAULT;
	if (!to) {
		pr_warn_ratelimited("PAXOS_IOC_SEEK: instances start at 1\n");
		return -EINVAL;
	}
	mutex_lock(&pf->lock);
	inst = bind_locked(pf);
	if (inst) {
		pf->cur_inst = to;
		pf->cur_pos = 0;
	}
	mutex_unlock(&pf->lock);
	return inst ? 0 : -ENOTCONN;
}

static long paxos_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct paxos_file *pf = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (is_status_ioctl(cmd))
		return ioctl_status(pf, uarg, _IOC_SIZE(cmd));
	switch (cmd) {
	case PAXOS_IOC_SNAPSHOT_PUT:
		return ioctl_snapshot_put(pf, uarg);
	case PAXOS_IOC_SNAPSHOT_GET:
		return ioctl_snapshot_get(pf, uarg);
	case PAXOS_IOC_GET_PARAM:
		return ioctl_param(pf, cmd, uarg);
	case PAXOS_IOC_SEEK:
		return ioctl_seek(pf, uarg);
	case PAXOS_IOC_SET_PARAM:
	case PAXOS_IOC_UP:
	case PAXOS_IOC_DOWN:
		break;
	default:
		return -ENOTTY;
	}

	/* Configuration changes. */
	if (!paxos_net_capable(pf->pn))
		return -EPERM;
	switch (cmd) {
	case PAXOS_IOC_SET_PARAM:
		return ioctl_param(pf, cmd, uarg);
	case PAXOS_IOC_UP:
		return ioctl_up(pf, uarg);
	default:
		return paxos_instance_down(pf->pn);
	}
}

static const struct file_operations paxos_fops = {
	.owner = THIS_MODULE,
	.open = paxos_open,
	.release = paxos_release,
	.read = paxos_read,
	.write = paxos_write,
	.poll = paxos_poll,
	.unlocked_ioctl = paxos_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice paxos_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "paxos",
	.fops = &paxos_fops,
	.mode = 0600,
};

int paxos_chardev_init(void)
{
	return misc_register(&paxos_misc);
}

void paxos_chardev_uninit(void)
{
	misc_deregister(&paxos_misc);
}
