// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pxd clients: a unix stream socket carrying the /dev/paxos records.
 *
 * In:  struct paxos_propose_hdr + len bytes, back to back.  A record the
 *      proposer cannot queue (-EAGAIN) stays buffered and the client is not
 *      read until there is room again: back-pressure, as a blocking write(2)
 *      on /dev/paxos.
 * Out: struct paxos_delivery_hdr + len bytes + padding to 8, for every
 *      command delivered after the client connected (duplicates and no-ops
 *      produce no record).  Records are built from the learner's retained
 *      instances when there is room in the client's buffer; a client that
 *      falls behind what the learner retains is disconnected (EOVERFLOW on
 *      /dev/paxos).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/un.h>

#include "pxd.h"

struct pxd_client {
	struct pxd_client *next;
	int fd;
	u32 events;		/* epoll mask now registered */
	bool blocked;		/* proposer queue full */
	bool dead;
	u8 *in;
	u32 in_len;
	u8 *out;
	u32 out_off, out_len, out_cap;
	u64 cursor;		/* next instance to turn into records */
};

static int listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pxd: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(fd, 64)) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int pxd_client_listen(struct pxd *d)
{
	if (!d->ctl_path[0])
		snprintf(d->ctl_path, sizeof(d->ctl_path), "%s.ctl",
			 d->sock_path);
	d->lsock = listen_unix(d->sock_path);
	if (d->lsock < 0)
		return -1;
	d->ctl_sock = listen_unix(d->ctl_path);
	return d->ctl_sock < 0 ? -1 : 0;
}

static void set_events(struct pxd *d, struct pxd_client *c, u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->events)
		return;
	if (epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

static void update_events(struct pxd *d, struct pxd_client *c)
{
	u32 ev = 0;

	if (!c->blocked)
		ev |= EPOLLIN;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	set_events(d, c, ev);
}

static void kill_client(struct pxd *d, struct pxd_client *c)
{
	if (c->dead)
		return;
	if (c->blocked)
		d->n_blocked--;
	c->blocked = false;
	c->dead = true;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* Free dead clients; only called when no epoll event can refer to them. */
static void reap(struct pxd *d)
{
	struct pxd_client **pp = &d->clients, *c;

	while ((c = *pp)) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c->in);
		free(c->out);
		free(c);
	}
}

void pxd_client_close_all(struct pxd *d)
{
	struct pxd_client *c;

	for (c = d->clients; c; c = c->next)
		kill_client(d, c);
	reap(d);
	if (d->lsock >= 0) {
		close(d->lsock);
		unlink(d->sock_path);
	}
	if (d->ctl_sock >= 0) {
		close(d->ctl_sock);
		unlink(d->ctl_path);
	}
}

void pxd_client_accept(struct pxd *d)
{
	struct epoll_event ev;
	struct pxd_client *c;
	int fd;

	while ((fd = accept4(d->lsock, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(PXD_CLIENT_IN);
		if (!c || !c->in) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->cursor = d->delivered + 1;
		c->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev)) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
	}
}

static void fill_status(struct pxd *d, struct paxos_status *s)
{
	struct px_proposer_info pi;
	struct px_learner_info li;

	px_proposer_info(d->prop, &pi);
	px_learner_info(d->lrn, &li);
	memset(s, 0, sizeof(*s));
	s->node_id = d->cfg.self;
	s->is_leader = pi.state == PX_LEADER;
	s->leader_id = s->is_leader ? d->cfg.self : pi.leader;
	s->members = d->cfg.members;
	s->ballot = pi.ballot;
	s->promised = d->acc.promised;
	s->first_index = li.first;
	s->last_index = li.last;
	s->committed_index = li.committed;
	s->delivered_index = li.delivered;
	s->frames_rx = d->st.frames_rx;
	s->frames_tx = d->st.frames_tx;
	s->msgs_rx = d->st.msgs_rx;
	s->msgs_tx = d->st.msgs_tx;
	s->proposals = d->st.proposals;
	s->delivered_cmds = li.stats.delivered_cmds;
	s->duplicates = li.stats.duplicates;
	s->leader_changes = pi.stats.leader_changes;
	memcpy(s->drops, d->st.drops, sizeof(s->drops));
}

void pxd_ctl_accept(struct pxd *d)
{
	struct paxos_status s;
	int fd;

	while ((fd = accept4(d->ctl_sock, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		fill_status(d, &s);
		if (write(fd, &s, sizeof(s)) != sizeof(s))
			(void)0;	/* the asker went away */
		close(fd);
	}
}

/* Queue what the client has sent; false if it must be disconnected. */
static bool parse_in(struct pxd *d, struct pxd_client *c)
{
	struct paxos_propose_hdr h;
	u32 off = 0, need;
	bool ok = true, queued = false;
	int ret;

	while (c->in_len - off >= sizeof(h)) {
		memcpy(&h, c->in + off, sizeof(h));
		if (h.flags || h.len > PAXOS_MAX_CMD) {
			ok = false;
			break;
		}
		need = sizeof(h) + h.len;
		if (c->in_len - off < need)
			break;
		ret = px_proposer_queue(d->prop, d->now, h.client_id, h.seq,
					c->in + off + sizeof(h), h.len);
		if (ret == -EAGAIN && queued) {
			/* full: the pipeline may take some first */
			px_proposer_flush(d->prop, d->now);
			queued = false;
			continue;
		}
		if (ret == -EAGAIN) {
			if (!c->blocked)
				d->n_blocked++;
			c->blocked = true;
			break;
		}
		if (ret < 0) {
			ok = false;
			break;
		}
		if (c->blocked)
			d->n_blocked--;
		c->blocked = false;
		d->st.proposals++;
		queued = true;
		off += need;
	}
	/* as the module does: all that came in one read, in one instance */
	if (queued)
		px_proposer_flush(d->prop, d->now);
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return ok;
}

static bool flush_out(struct pxd_client *c)
{
	ssize_t n;

	while (c->out_len > c->out_off) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out_off += n;
	}
	c->out_off = c->out_len = 0;
	return true;
}

static bool out_reserve(struct pxd_client *c, u32 more)
{
	u32 cap;
	u8 *p;

	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_off > c->out_cap / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + more <= c->out_cap)
		return true;
	cap = c->out_cap ? c->out_cap : 64 << 10;
	while (cap < c->out_len + more)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

/* Turn delivered instances into records; false if the client fell behind. */
static bool fill_out(struct pxd *d, struct pxd_client *c)
{
	struct paxos_delivery_hdr h;
	struct px_batch_iter it;
	struct px_cmd cmd;
	const u8 *val;
	bool gone;
	u32 len, rec;

	while (c->cursor <= d->delivered &&
	       c->out_len - c->out_off < PXD_CLIENT_OUT_LOW) {
		gone = false;
		val = px_learner_value(d->lrn, c->cursor, &len, &gone);
		if (!val)
			return !gone;
		if (px_batch_iter_init(&it, val, len))
			return false;
		while (px_batch_next(&it, &cmd) == 1) {
			if (cmd.dup)
				continue;
			rec = sizeof(h) + cmd.len;
			rec = (rec + PAXOS_RECORD_ALIGN - 1) &
			      ~(PAXOS_RECORD_ALIGN - 1);
			if (!out_reserve(c, rec))
				return false;
			memset(&h, 0, sizeof(h));
			h.instance = c->cursor;
			h.client_id = cmd.client_id;
			h.seq = cmd.seq;
			h.len = cmd.len;
			h.pos = cmd.pos;
			memcpy(c->out + c->out_len, &h, sizeof(h));
			memcpy(c->out + c->out_len + sizeof(h), cmd.data,
			       cmd.len);
			memset(c->out + c->out_len + sizeof(h) + cmd.len, 0,
			       rec - sizeof(h) - cmd.len);
			c->out_len += rec;
		}
		c->cursor++;
	}
	return true;
}

static void serve_out(struct pxd *d, struct pxd_client *c)
{
	int rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		if (!fill_out(d, c) || !flush_out(c)) {
			kill_client(d, c);
			return;
		}
		if (c->out_len > c->out_off || c->cursor > d->delivered)
			break;
	}
	update_events(d, c);
}

void pxd_client_event(struct pxd *d, struct pxd_client *c, u32 events)
{
	ssize_t n;

	if (c->dead)
		return;
	if (events & EPOLLOUT)
		serve_out(d, c);
	if (c->dead)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->blocked) {
		n = read(c->fd, c->in + c->in_len, PXD_CLIENT_IN - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			kill_client(d, c);
			return;
		}
		if (n > 0)
			c->in_len += n;
		if (!parse_in(d, c)) {
			kill_client(d, c);
			return;
		}
		update_events(d, c);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		kill_client(d, c);
	}
}

void pxd_client_retry(struct pxd *d)
{
	struct pxd_client *c;

	for (c = d->clients; c && d->n_blocked; c = c->next) {
		if (c->dead || !c->blocked)
			continue;
		if (!parse_in(d, c)) {
			kill_client(d, c);
			continue;
		}
		update_events(d, c);
	}
}

void pxd_client_deliver(struct pxd *d)
{
	struct pxd_client *c;

	for (c = d->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->cursor <= d->delivered && c->out_len == c->out_off)
			serve_out(d, c);
	}
	reap(d);
}
