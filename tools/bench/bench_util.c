// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark helpers: record connection, percentiles, CPU accounting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/resource.h>
#include <sys/ioctl.h>

#include "bench.h"

enum {
	RBUF = 1 << 20,
	WBUF = 4 * (sizeof(struct paxos_propose_hdr) + PAXOS_MAX_CMD),
};

u64 bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int bconn_open(struct bconn *c, const char *target)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (stat(target, &st))
		return -errno;
	if (S_ISSOCK(st.st_mode)) {
		if (strlen(target) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		strcpy(sun.sun_path, target);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return -errno;
		if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun))) {
			int err = -errno;

			close(c->fd);
			c->fd = -1;
			return err;
		}
		c->is_sock = true;
	} else {
		c->fd = open(target, O_RDWR | O_CLOEXEC);
		if (c->fd < 0)
			return -errno;
	}
	c->rcap = RBUF;
	c->rbuf = malloc(c->rcap);
	c->wcap = WBUF;
	c->wbuf = malloc(c->wcap);
	if (!c->rbuf || !c->wbuf) {
		bconn_close(c);
		return -ENOMEM;
	}
	return 0;
}

void bconn_close(struct bconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
}

/*
 * /dev/paxos takes several records per write(2) and may stop early at a
 * record boundary (256 KiB at most per write); a socket may stop anywhere.  Both fds are
 * blocking: a write that takes nothing blocks.
 */
int bconn_flush(struct bconn *c)
{
	size_t off = 0;
	ssize_t w;

	while (off < c->wlen) {
		w = write(c->fd, c->wbuf + off, c->wlen - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			c->wlen = 0;
			return -errno;
		}
		off += w;
	}
	c->wlen = 0;
	return 0;
}

int bconn_queue(struct bconn *c, u64 client_id, u64 seq, const void *data,
		u32 len)
{
	struct paxos_propose_hdr h = {
		.client_id = client_id, .seq = seq, .len = len,
	};
	size_t n = sizeof(h) + len;
	int err;

	if (len > PAXOS_MAX_CMD)
		return -EMSGSIZE;
	if (c->wlen + n > c->wcap) {
		err = bconn_flush(c);
		if (err)
			return err;
	}
	memcpy(c->wbuf + c->wlen, &h, sizeof(h));
	memcpy(c->wbuf + c->wlen + sizeof(h), data, len);
	c->wlen += n;
	return 0;
}

int bconn_propose(struct bconn *c, u64 client_id, u64 seq,
		  const void *data, u32 len)
{
	return bconn_queue(c, client_id, seq, data, len) ?: bconn_flush(c);
}

int bconn_status(struct bconn *c, const char *target,
		 struct paxos_status *st)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t got = 0;
	ssize_t n;
	int fd, err = 0;

	if (!c->is_sock)
		return ioctl(c->fd, PAXOS_IOC_STATUS, st) ? -errno : 0;
	if (strlen(target) + 4 >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.ctl", target);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		goto out;
	}
	while (got < sizeof(*st)) {
		n = read(fd, (char *)st + got, sizeof(*st) - got);
		if (n <= 0) {
			err = n ? -errno : -EPIPE;
			goto out;
		}
		got += n;
	}
out:
	close(fd);
	return err;
}

ssize_t bconn_fill(struct bconn *c)
{
	ssize_t n;

	if (c->roff) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	do {
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c->rlen += n;
	return n;
}

int bconn_next(struct bconn *c, struct paxos_delivery_hdr *h,
	       const u8 **data)
{
	size_t avail, rec;

	for (;;) {
		avail = c->rlen - c->roff;
		if (avail < sizeof(*h))
			return 0;
		memcpy(h, c->rbuf + c->roff, sizeof(*h));
		rec = sizeof(*h) + h->len;
		rec = (rec + PAXOS_RECORD_ALIGN - 1) &
		      ~(size_t)(PAXOS_RECORD_ALIGN - 1);
		if (avail < rec)
			return 0;
		*data = c->rbuf + c->roff + sizeof(*h);
		c->roff += rec;
		/*
		 * Snapshot records carry no command; the benchmarks keep no
		 * state a RESTORE could replace (their nodes never lag).
		 */
		if (h->flags & PAXOS_DELIVERY_F_RESTORE)
			fprintf(stderr, "bench: RESTORE at instance %llu: commands up to it skipped\n",
				(unsigned long long)h->instance);
		if (!(h->flags & (PAXOS_DELIVERY_F_SNAP_POINT |
				  PAXOS_DELIVERY_F_RESTORE)))
			return 1;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void bench_sort_u64(u64 *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

u64 bench_pct(const u64 *sorted, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return sorted[i];
}

static u64 ticks_to_us(unsigned long long t)
{
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	return t * 1000000ull / (hz > 0 ? hz : 100);
}

static void sample_proc_stat(struct bench_cpu *s)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	u64 total = 0;
	int i;

	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]) >= 4) {
		/* guest and guest_nice are already in user and nice */
		for (i = 0; i < 8; i++)
			total += v[i];
		s->sys_total_us = ticks_to_us(total);
		s->sys_busy_us = ticks_to_us(total - v[3] - v[4]);
	}
	fclose(f);
}

/* utime + stime of one /proc/<pid>/stat if its comm matches. */
static u64 task_cpu(const char *path, const char *const *pats, int npats)
{
	char buf[512], *open_p, *close_p;
	unsigned long long ut = 0, st = 0;
	FILE *f = fopen(path, "r");
	size_t n;
	int i;
	bool hit = false;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p)
		return 0;
	*close_p = 0;
	for (i = 0; i < npats; i++)
		if (strstr(open_p + 1, pats[i]))
			hit = true;
	if (!hit)
		return 0;
	/*
	 * after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime
	 */
	if (sscanf(close_p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%llu %llu", &ut, &st) != 2)
		return 0;
	return ticks_to_us(ut + st);
}

void bench_cpu_sample(struct bench_cpu *s, const char *const *pats,
		      int npats)
{
	char path[300];
	struct rusage ru;
	struct dirent *de;
	DIR *dir;

	memset(s, 0, sizeof(*s));
	sample_proc_stat(s);
	if (!getrusage(RUSAGE_SELF, &ru))
		s->self_us = ru.ru_utime.tv_sec * 1000000ull +
			     ru.ru_utime.tv_usec +
			     ru.ru_stime.tv_sec * 1000000ull +
			     ru.ru_stime.tv_usec;
	if (!npats)
		return;
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		s->match_us += task_cpu(path, pats, npats);
	}
	closedir(dir);
}

long bench_parse_size(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (end == s || v < 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	else if (*end)
		return -1;
	return v;
}

void bench_print_status(const struct paxos_status *s)
{
	printf("node_id=%u\nleader_id=%u\nis_leader=%u\nmembers=0x%x\n"
	       "ballot=%llu\npromised=%llu\nfirst_index=%llu\n"
	       "last_index=%llu\ncommitted_index=%llu\n"
	       "delivered_index=%llu\nframes_rx=%llu\nframes_tx=%llu\n"
	       "msgs_rx=%llu\nmsgs_tx=%llu\nproposals=%llu\n"
	       "delivered_cmds=%llu\nduplicates=%llu\nleader_changes=%llu\n",
	       s->node_id, s->leader_id, s->is_leader, s->members,
	       (unsigned long long)s->ballot, (unsigned long long)s->promised,
	       (unsigned long long)s->first_index,
	       (unsigned long long)s->last_index,
	       (unsigned long long)s->committed_index,
	       (unsigned long long)s->delivered_index,
	       (unsigned long long)s->frames_rx,
	       (unsigned long long)s->frames_tx,
	       (unsigned long long)s->msgs_rx, (unsigned long long)s->msgs_tx,
	       (unsigned long long)s->proposals,
	       (unsigned long long)s->delivered_cmds,
	       (unsigned long long)s->duplicates,
	       (unsigned long long)s->leader_changes);
}
