// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * load: closed-loop load generator for kpaxos, the same code for the module
 * (/dev/paxos) and for pxd (its unix socket).
 *
 *   load TARGET [-c PROPOSERS] [-s BYTES] [-d SECONDS] [-w WARMUP_S]
 *        [--mode loop|lib|uring] [--cpu COMM]... [--label L]
 *        [--tag KEY=VALUE]... [--json]
 *
 * PROPOSERS clients, each with its own client id, keep one command each in
 * flight: when a client's command is delivered, it proposes the next.
 *
 * loop  (default) one thread multiplexes every client over one descriptor:
 *       read(2) of delivery records, then one write(2) of the command
 *       records of every client whose command was delivered (/dev/paxos
 *       takes several records per write), poll(2) in between.  Runs on
 *       both targets.
 * lib   libkpaxos, one thread per client calling kpaxos_propose()
 *       (module only; built when userlib/ is).
 * uring libkpaxos kpaxos_propose_async() over io_uring, one thread keeping
 *       PROPOSERS commands in flight (module only).
 *
 * Measured over the DURATION after WARMUP: decided commands/s and bytes/s,
 * propose->delivery latency percentiles (each command is timestamped when
 * first written; a retry keeps the first timestamp), CPU time per decided
 * command: the whole system's from /proc/stat, the tasks whose comm
 * contains one of --cpu (pxd, or the module's kernel threads), and this
 * process's own.  A per-interval series shows whether the cost per command
 * stays flat as the run gets longer.  --prof FILE: the module's hand
 * profile (a build with -DKPAXOS_PROF, kmod/prof.h) is reset at the start
 * of the measurement and read at its end: time per part and command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>

#include "bench.h"

#ifdef HAVE_KPAXOS
#include "../../userlib/kpaxos.h"
#endif

enum { MAX_PATS = 8, MAX_TAGS = 16, MAX_SERIES = 600 };

struct cfg {
	const char *target, *mode, *label;
	long conc, size;
	double duration, warmup, interval;
	long timeout_ms;
	const char *pats[MAX_PATS];
	int npats;
	const char *tags[MAX_TAGS];
	int ntags;
	const char *prof;	/* kmod/prof.h's debugfs file, or NULL */
	bool json;
};

struct series_pt {
	double t;
	u64 cmds, busy_us, match_us;
};

/* Results shared by every mode. */
struct result {
	u64 *lat;		/* ns, one per measured command */
	size_t nlat, cap;
	u64 bytes, retries, errors;
	struct bench_cpu cpu0, cpu1;
	struct paxos_status st0, st1;	/* the target node, start and end */
	bool have_st;
	double secs;
	struct series_pt series[MAX_SERIES];
	int nseries;
	char prof[4096];	/* the profile file at the end: "part ns n" */
	pthread_mutex_t lock;
};

static struct cfg cfg = {
	.mode = "loop", .conc = 1, .size = 64, .duration = 3, .warmup = 0.5,
	.timeout_ms = 1000,
};

static void add_lat(struct result *r, u64 ns, u32 len)
{
	u64 *p;

	if (r->nlat == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1 << 16;
		p = realloc(r->lat, r->cap * sizeof(*p));
		if (!p) {
			r->errors++;
			return;
		}
		r->lat = p;
	}
	r->lat[r->nlat++] = ns;
	r->bytes += len;
}

static void fill_cmd(u8 *buf, u32 len, u64 cid, u64 seq)
{
	u64 tag = cid ^ seq;

	if (len >= sizeof(tag))
		memcpy(buf, &tag, sizeof(tag));
}

static bool cmd_ok(const u8 *data, u32 len, u64 cid, u64 seq)
{
	u64 tag;

	if (len != (u32)cfg.size)
		return false;
	if (len < sizeof(tag))
		return true;
	memcpy(&tag, data, sizeof(tag));
	return tag == (cid ^ seq);
}

/* Phase clock: measurement runs from t_start to t_end. */
struct clock {
	u64 t_start, t_end, next_pt;
	u64 step;
	u64 last_cmds;
	struct bench_cpu last;
};

static void clock_init(struct clock *k)
{
	u64 now = bench_now_ns();

	memset(k, 0, sizeof(*k));
	k->t_start = now + (u64)(cfg.warmup * 1e9);
	k->t_end = k->t_start + (u64)(cfg.duration * 1e9);
	k->step = (u64)(cfg.interval * 1e9);
	k->next_pt = k->t_start;
}

static struct bconn *status_conn;	/* loop mode: its connection */

/* The node's counters; any connection to the target will do. */
static bool take_status(struct paxos_status *st)
{
	struct bconn c;
	bool ok;

	if (status_conn)
		return !bconn_status(status_conn, cfg.target, st);
	if (bconn_open(&c, cfg.target))
		return false;
	ok = !bconn_status(&c, cfg.target, st);
	bconn_close(&c);
	return ok;
}

/* Reset the module's profile (@out NULL) or read it into @out. */
static void prof_take(char *out, size_t size)
{
	FILE *f;
	size_t n;

	if (!cfg.prof)
		return;
	f = fopen(cfg.prof, out ? "r" : "w");
	if (!f) {
		fprintf(stderr, "load: %s: %s\n", cfg.prof, strerror(errno));
		return;
	}
	if (out) {
		n = fread(out, 1, size - 1, f);
		out[n] = 0;
	} else {
		fputs("0\n", f);
	}
	fclose(f);
}

/* Take CPU samples at the start, each interval and the end. */
static void clock_poll(struct clock *k, struct result *r, u64 now)
{
	struct series_pt *pt;
	struct bench_cpu s;

	if (now < k->next_pt || k->next_pt > k->t_end)
		return;
	bench_cpu_sample(&s, cfg.pats, cfg.npats);
	if (k->next_pt == k->t_start) {
		r->cpu0 = s;
		r->have_st = take_status(&r->st0);
		prof_take(NULL, 0);
	} else if (r->nseries < MAX_SERIES) {
		pt = &r->series[r->nseries++];
		pt->t = (now - k->t_start) / 1e9;
		pt->cmds = r->nlat - k->last_cmds;
		pt->busy_us = s.sys_busy_us - k->last.sys_busy_us;
		pt->match_us = s.match_us - k->last.match_us;
	}
	k->last = s;
	k->last_cmds = r->nlat;
	if (k->next_pt >= k->t_end) {
		prof_take(r->prof, sizeof(r->prof));
		r->cpu1 = s;
		if (r->have_st)
			r->have_st = take_status(&r->st1);
		r->secs = (now - k->t_start) / 1e9;
		k->next_pt = ~0ull;
		return;
	}
	k->next_pt += k->step;
	if (k->next_pt > k->t_end)
		k->next_pt = k->t_end;
}

/* ------------------------------------------------------------ loop mode */

struct lclient {
	u64 id, seq;
	u64 first_ns, sent_ns;
};

static int run_loop(struct result *r)
{
	struct pollfd pfd;
	struct paxos_delivery_hdr h;
	struct lclient *cl;
	struct bconn c;
	struct clock k;
	const u8 *data;
	u8 *buf;
	u64 base, now, idx, next_scan = 0;
	long i;
	int ret;

	ret = bconn_open(&c, cfg.target);
	if (ret) {
		fprintf(stderr, "load: %s: %s\n", cfg.target, strerror(-ret));
		return 1;
	}
	cl = calloc(cfg.conc, sizeof(*cl));
	buf = calloc(1, cfg.size + 8);
	if (!cl || !buf)
		return 1;
	if (getrandom(&base, sizeof(base), 0) != sizeof(base))
		base = bench_now_ns();
	base &= ~(1ull << 63);	/* bit 63: libkpaxos control ids */
	base &= ~0xffffffull;
	clock_init(&k);
	for (i = 0; i < cfg.conc; i++) {
		cl[i].id = base + i + 1;
		cl[i].seq = 1;
		fill_cmd(buf, cfg.size, cl[i].id, 1);
		cl[i].first_ns = cl[i].sent_ns = bench_now_ns();
		if (bconn_queue(&c, cl[i].id, 1, buf, cfg.size)) {
			perror("load: write");
			return 1;
		}
	}
	if (bconn_flush(&c)) {
		perror("load: write");
		return 1;
	}
	status_conn = &c;
	pfd.fd = c.fd;
	pfd.events = POLLIN;
	for (;;) {
		now = bench_now_ns();
		clock_poll(&k, r, now);
		if (now >= k.t_end && k.next_pt == ~0ull)
			break;
		ret = poll(&pfd, 1, 20);
		if (ret < 0 && errno != EINTR) {
			perror("load: poll");
			return 1;
		}
		if (ret > 0) {
			ssize_t n = bconn_fill(&c);

			if (n <= 0) {
				fprintf(stderr, "load: read: %s\n",
					n ? strerror(-n) : "EOF");
				return 1;
			}
		}
		/* what one read(2) returned was delivered at one moment */
		now = bench_now_ns();
		while (bconn_next(&c, &h, &data) == 1) {
			idx = h.client_id - base - 1;
			if (idx >= (u64)cfg.conc)
				continue;	/* not ours */
			if (h.seq != cl[idx].seq)
				continue;	/* an old retry */
			if (!cmd_ok(data, h.len, h.client_id, h.seq))
				r->errors++;
			if (now >= k.t_start && now < k.t_end)
				add_lat(r, now - cl[idx].first_ns, h.len);
			cl[idx].seq++;
			fill_cmd(buf, cfg.size, cl[idx].id, cl[idx].seq);
			cl[idx].first_ns = cl[idx].sent_ns = now;
			if (bconn_queue(&c, cl[idx].id, cl[idx].seq, buf,
					cfg.size)) {
				perror("load: write");
				return 1;
			}
		}
		/* a command lost to a leader change: rewrite it (a look at
		 * every client each 10 ms is enough for timeouts of 1 s)
		 */
		for (i = 0; now >= next_scan && i < cfg.conc; i++) {
			if (i == 0)
				next_scan = now + 10000000ull;
			if (now - cl[i].sent_ns < cfg.timeout_ms * 1000000ull)
				continue;
			fill_cmd(buf, cfg.size, cl[i].id, cl[i].seq);
			cl[i].sent_ns = now;
			r->retries++;
			if (bconn_queue(&c, cl[i].id, cl[i].seq, buf,
					cfg.size)) {
				perror("load: write");
				return 1;
			}
		}
		if (bconn_flush(&c)) {
			perror("load: write");
			return 1;
		}
	}
	status_conn = NULL;
	bconn_close(&c);
	free(cl);
	free(buf);
	return 0;
}

/* ------------------------------------------------- libkpaxos modes */

#ifdef HAVE_KPAXOS
struct lib_ctx {
	struct kpaxos *h;
	struct result *r;
	struct clock *k;
	volatile int *stop;
	u8 *buf;
	u64 first_ns;
	long idx;
	int err;
};

static void *lib_thread(void *arg)
{
	struct lib_ctx *t = arg;
	struct result *r = t->r;
	u64 seq = 0, t0, t1;
	ssize_t n;

	while (!*t->stop) {
		seq++;
		fill_cmd(t->buf, cfg.size, t->idx, seq);
		t0 = bench_now_ns();
		n = kpaxos_propose(t->h, t->buf, cfg.size, NULL, 0);
		t1 = bench_now_ns();
		pthread_mutex_lock(&r->lock);
		if (n < 0)
			r->errors++;
		else if (t1 >= t->k->t_start && t1 < t->k->t_end)
			add_lat(r, t1 - t0, cfg.size);
		pthread_mutex_unlock(&r->lock);
		if (n < 0 && n != -ETIMEDOUT) {
			t->err = n;
			break;
		}
	}
	return NULL;
}

static int open_lib(struct kpaxos **h, bool uring)
{
	struct kpaxos_opts o = { .device = cfg.target };
	int ret;

	o.retry_ms = cfg.timeout_ms;
	if (!uring)
		o.flags |= KPAXOS_OPEN_NO_URING;
	ret = kpaxos_open(h, &o);
	if (ret) {
		fprintf(stderr, "load: kpaxos_open %s: %s\n", cfg.target,
			strerror(-ret));
		return ret;
	}
	return 0;
}

static int run_lib(struct result *r)
{
	volatile int stop = 0;
	struct lib_ctx *t;
	struct kpaxos *h;
	struct clock k;
	pthread_t *th;
	struct kpaxos_stats ks;
	long i;
	int ret = 0;

	if (open_lib(&h, false))
		return 1;
	t = calloc(cfg.conc, sizeof(*t));
	th = calloc(cfg.conc, sizeof(*th));
	if (!t || !th)
		return 1;
	clock_init(&k);
	for (i = 0; i < cfg.conc; i++) {
		t[i] = (struct lib_ctx){ .h = h, .r = r, .k = &k,
			.stop = &stop, .idx = i };
		t[i].buf = calloc(1, cfg.size + 8);
		pthread_create(&th[i], NULL, lib_thread, &t[i]);
	}
	for (;;) {
		u64 now = bench_now_ns();

		pthread_mutex_lock(&r->lock);
		clock_poll(&k, r, now);
		pthread_mutex_unlock(&r->lock);
		if (k.next_pt == ~0ull)
			break;
		usleep(2000);
	}
	stop = 1;
	for (i = 0; i < cfg.conc; i++) {
		pthread_join(th[i], NULL);
		if (t[i].err)
			ret = 1;
		free(t[i].buf);
	}
	kpaxos_get_stats(h, &ks);
	r->retries = ks.retries;
	kpaxos_close(h);
	free(t);
	free(th);
	return ret;
}

/*
 * uring: completions are run in this thread (KPAXOS_OPEN_COMPLETION_FD);
 * each one records its latency and proposes the slot's next command, and
 * the proposals made by one batch of completions go to the kernel together.
 */
struct uring_ctx {
	struct kpaxos *h;
	struct result *r;
	struct clock *k;
	u8 *buf;
	u64 *t0;		/* per slot: time its command was proposed */
	u64 seq;
	int err;
};

struct uring_slot {
	struct uring_ctx *u;
	long idx;
};

static void uring_done(void *arg, int err, const void *res, size_t len);

static int uring_propose(struct uring_slot *s)
{
	struct uring_ctx *u = s->u;
	int ret;

	fill_cmd(u->buf, cfg.size, s->idx, ++u->seq);
	u->t0[s->idx] = bench_now_ns();
	ret = kpaxos_propose_async(u->h, u->buf, cfg.size, KPAXOS_ASYNC_MORE,
				   uring_done, s);
	if (ret)
		u->err = ret;
	return ret;
}

static void uring_done(void *arg, int err, const void *res, size_t len)
{
	struct uring_slot *s = arg;
	struct uring_ctx *u = s->u;
	u64 now = bench_now_ns();

	if (err == -ECANCELED)
		return;		/* kpaxos_close() after the run */
	if (err)
		u->r->errors++;
	else if (now >= u->k->t_start && now < u->k->t_end)
		add_lat(u->r, now - u->t0[s->idx], cfg.size);
	if (now < u->k->t_end)
		uring_propose(s);
}

static int run_uring(struct result *r)
{
	struct kpaxos_opts o = { .device = cfg.target };
	struct uring_ctx u = { .r = r };
	struct uring_slot *slots;
	struct kpaxos_stats ks;
	struct pollfd pfd;
	struct clock k;
	long i;
	int ret;

	o.retry_ms = cfg.timeout_ms;
	o.flags = KPAXOS_OPEN_COMPLETION_FD;
	ret = kpaxos_open(&u.h, &o);
	if (ret) {
		fprintf(stderr, "load: kpaxos_open %s: %s\n", cfg.target,
			strerror(-ret));
		return 1;
	}
	u.k = &k;
	u.buf = calloc(1, cfg.size + 8);
	u.t0 = calloc(cfg.conc, sizeof(u64));
	slots = calloc(cfg.conc, sizeof(*slots));
	if (!u.buf || !u.t0 || !slots)
		return 1;
	pfd.fd = kpaxos_completion_fd(u.h);
	pfd.events = POLLIN;
	if (pfd.fd < 0) {
		fprintf(stderr, "load: no completion fd\n");
		return 1;
	}
	clock_init(&k);
	for (i = 0; i < cfg.conc; i++) {
		slots[i] = (struct uring_slot){ .u = &u, .idx = i };
		if (uring_propose(&slots[i]))
			break;
	}
	kpaxos_flush(u.h);
	while (!u.err) {
		clock_poll(&k, r, bench_now_ns());
		if (k.next_pt == ~0ull)
			break;
		ret = poll(&pfd, 1, 20);
		if (ret > 0) {
			kpaxos_complete(u.h, 0);
			kpaxos_flush(u.h);
		}
	}
	if (u.err)
		fprintf(stderr, "load: propose_async: %s\n", strerror(-u.err));
	kpaxos_get_stats(u.h, &ks);
	r->retries = ks.retries;
	kpaxos_close(u.h);
	free(u.buf);
	free(u.t0);
	free(slots);
	return u.err ? 1 : 0;
}
#endif

/* --------------------------------------------------------------- report */

static void print_tag(const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *end;

	if (!eq)
		return;
	strtod(eq + 1, &end);
	if (*end || end == eq + 1)
		printf(",\"%.*s\":\"%s\"", (int)(eq - kv), kv, eq + 1);
	else
		printf(",\"%.*s\":%s", (int)(eq - kv), kv, eq + 1);
}

/* What the target node counted during the measurement. */
static void report_status(struct result *r, u64 n)
{
	const struct paxos_status *a = &r->st0, *b = &r->st1;
	u64 drops = 0;
	int i;

	if (!r->have_st) {
		printf("\"node\":null,");
		return;
	}
	for (i = 0; i < __PAXOS_DROP_MAX; i++)
		drops += b->drops[i] - a->drops[i];
	printf("\"node\":{\"id\":%u,\"is_leader\":%u,"
	       "\"leader_changes\":%llu,\"frames_tx_per_cmd\":%.3f,"
	       "\"frames_rx_per_cmd\":%.3f,\"cmds_per_instance\":%.2f,"
	       "\"drops\":%llu,\"duplicates\":%llu},",
	       b->node_id, b->is_leader,
	       (unsigned long long)(b->leader_changes - a->leader_changes),
	       n ? (double)(b->frames_tx - a->frames_tx) / n : 0,
	       n ? (double)(b->frames_rx - a->frames_rx) / n : 0,
	       b->delivered_index > a->delivered_index ?
	       (double)(b->delivered_cmds - a->delivered_cmds) /
	       (b->delivered_index - a->delivered_index) : 0,
	       (unsigned long long)drops,
	       (unsigned long long)(b->duplicates - a->duplicates));
}

/*
 * The profile as "part":[us per command, events per command, fraction of
 * events left out because their task was switched out].  The time of the
 * events left out is estimated at the mean of the others.
 */
static void report_prof(struct result *r, u64 n)
{
	const char *p = r->prof;
	long long ns, cnt, sw;
	double us;
	char name[32];
	int used;
	bool first = true;

	if (!r->prof[0] || !n)
		return;
	printf(cfg.json ? "\"prof\":{" :
	       "profile (us/cmd, events/cmd, switched):");
	while (sscanf(p, "%31s %lld %lld %lld%n", name, &ns, &cnt, &sw,
		      &used) == 4) {
		us = cnt ? ns / 1e3 / cnt * (cnt + sw) / n : 0;
		if (cfg.json)
			printf("%s\"%s\":[%.3f,%.3f,%.3f]", first ? "" : ",",
			       name, us, (double)(cnt + sw) / n,
			       cnt + sw ? (double)sw / (cnt + sw) : 0);
		else
			printf(" %s %.2f/%.2f/%.2f", name, us,
			       (double)(cnt + sw) / n,
			       cnt + sw ? (double)sw / (cnt + sw) : 0);
		first = false;
		p += used;
	}
	printf(cfg.json ? "}," : "\n");
}

static void report(struct result *r)
{
	double secs = r->secs > 0 ? r->secs : cfg.duration;
	u64 n = r->nlat, sum = 0, busy, match, self;
	double per_sys, per_match, per_self, tput;
	size_t i;

	for (i = 0; i < n; i++)
		sum += r->lat[i];
	bench_sort_u64(r->lat, n);
	busy = r->cpu1.sys_busy_us - r->cpu0.sys_busy_us;
	match = r->cpu1.match_us - r->cpu0.match_us;
	self = r->cpu1.self_us - r->cpu0.self_us;
	per_sys = n ? (double)busy / n : 0;
	per_match = n ? (double)match / n : 0;
	per_self = n ? (double)self / n : 0;
	tput = n / secs;
	if (!cfg.json) {
		printf("%s %s: %ld proposers, %ld B: %.0f cmds/s, %.2f MB/s, "
		       "latency p50 %.1f p99 %.1f p99.9 %.1f us, cpu/cmd "
		       "%.1f us (server %.1f, load %.1f), %llu retries, "
		       "%llu errors\n",
		       cfg.label ? cfg.label : cfg.target, cfg.mode, cfg.conc,
		       cfg.size, tput, r->bytes / secs / 1e6,
		       bench_pct(r->lat, n, 50) / 1e3,
		       bench_pct(r->lat, n, 99) / 1e3,
		       bench_pct(r->lat, n, 99.9) / 1e3, per_sys, per_match,
		       per_self, (unsigned long long)r->retries,
		       (unsigned long long)r->errors);
		report_prof(r, n);
		return;
	}
	printf("{\"kind\":\"load\",\"label\":\"%s\",\"target\":\"%s\","
	       "\"mode\":\"%s\",\"conc\":%ld,\"size\":%ld",
	       cfg.label ? cfg.label : "", cfg.target, cfg.mode, cfg.conc,
	       cfg.size);
	for (i = 0; i < (size_t)cfg.ntags; i++)
		print_tag(cfg.tags[i]);
	printf(",\"secs\":%.3f,\"cmds\":%llu,\"cmds_per_s\":%.1f,"
	       "\"bytes_per_s\":%.1f,\"lat_us\":{\"p50\":%.1f,\"p90\":%.1f,"
	       "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f},"
	       "\"cpu_us_per_cmd\":{\"system\":%.2f,\"server\":%.2f,"
	       "\"load\":%.2f},\"cpu_busy_frac\":%.3f,\"retries\":%llu,"
	       "\"errors\":%llu,",
	       secs, (unsigned long long)n, tput, r->bytes / secs,
	       bench_pct(r->lat, n, 50) / 1e3,
	       bench_pct(r->lat, n, 90) / 1e3,
	       bench_pct(r->lat, n, 99) / 1e3,
	       bench_pct(r->lat, n, 99.9) / 1e3,
	       n ? r->lat[n - 1] / 1e3 : 0, n ? sum / 1e3 / n : 0,
	       per_sys, per_match, per_self,
	       r->cpu1.sys_total_us > r->cpu0.sys_total_us ?
	       (double)busy / (r->cpu1.sys_total_us - r->cpu0.sys_total_us) :
	       0, (unsigned long long)r->retries,
	       (unsigned long long)r->errors);
	report_status(r, n);
	report_prof(r, n);
	printf("\"series\":[");
	for (i = 0; i < (size_t)r->nseries; i++)
		printf("%s{\"t\":%.2f,\"cmds\":%llu,\"busy_us\":%llu,"
		       "\"server_us\":%llu}", i ? "," : "", r->series[i].t,
		       (unsigned long long)r->series[i].cmds,
		       (unsigned long long)r->series[i].busy_us,
		       (unsigned long long)r->series[i].match_us);
	printf("]}\n");
}

static void usage(void)
{
	fprintf(stderr,
"usage: load TARGET [-c PROPOSERS] [-s BYTES] [-d SECONDS] [-w WARMUP_S]\n"
"            [-i INTERVAL_S] [--mode loop|lib|uring] [--cpu COMM]...\n"
"            [--label L] [--tag KEY=VALUE]... [--timeout-ms N] [--json]\n"
"            [--prof /sys/kernel/debug/paxos/prof]\n"
"TARGET is /dev/paxos or a pxd unix socket.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conc", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "label", required_argument, NULL, 'l' },
		{ "tag", required_argument, NULL, 'T' },
		{ "timeout-ms", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "prof", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct result r;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:s:d:w:i:m:C:l:T:o:jh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg.conc = strtol(optarg, NULL, 0);
			break;
		case 's':
			cfg.size = bench_parse_size(optarg);
			break;
		case 'd':
			cfg.duration = strtod(optarg, NULL);
			break;
		case 'w':
			cfg.warmup = strtod(optarg, NULL);
			break;
		case 'i':
			cfg.interval = strtod(optarg, NULL);
			break;
		case 'm':
			cfg.mode = optarg;
			break;
		case 'C':
			if (cfg.npats < MAX_PATS)
				cfg.pats[cfg.npats++] = optarg;
			break;
		case 'l':
			cfg.label = optarg;
			break;
		case 'T':
			if (cfg.ntags < MAX_TAGS)
				cfg.tags[cfg.ntags++] = optarg;
			break;
		case 'o':
			cfg.timeout_ms = strtol(optarg, NULL, 0);
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'P':
			cfg.prof = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (optind != argc - 1 || cfg.conc < 1 || cfg.conc > 100000 ||
	    cfg.size < 0 || cfg.size > PAXOS_MAX_CMD || cfg.duration <= 0 ||
	    cfg.warmup < 0) {
		usage();
		return 1;
	}
	cfg.target = argv[optind];
	if (cfg.interval <= 0)
		cfg.interval = cfg.duration / 4;
	if (cfg.duration / cfg.interval > MAX_SERIES - 1)
		cfg.interval = cfg.duration / (MAX_SERIES - 1);
	pthread_mutex_init(&r.lock, NULL);
	if (!strcmp(cfg.mode, "loop")) {
		ret = run_loop(&r);
#ifdef HAVE_KPAXOS
	} else if (!strcmp(cfg.mode, "lib")) {
		ret = run_lib(&r);
	} else if (!strcmp(cfg.mode, "uring")) {
		ret = run_uring(&r);
#endif
	} else {
		fprintf(stderr, "load: mode %s not built\n", cfg.mode);
		return 1;
	}
	if (ret)
		return ret;
	report(&r);
	return r.nlat ? 0 : 1;
}
