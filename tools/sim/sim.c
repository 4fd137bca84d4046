// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kpaxos deterministic simulator.
 *
 *   sim --seed S [--nodes N] [--trace]     replay one run exactly
 *   sim --seeds N [--start S] [--jobs J] [--nodes N]
 *                                          run seeds S..S+N-1 in J processes
 *
 * A violation prints the seed, what was violated and the last events; the
 * exit status is non-zero if any seed failed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

struct opts {
	u64 seed, start, seeds;
	int nodes, jobs;
	bool one, trace, verbose;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sim --seed S [--nodes N] [--trace]\n"
		"       sim --seeds N [--start S] [--jobs J] [--nodes N] [--verbose]\n"
		"  --seed S    replay the run of seed S (decimal or 0x hex)\n"
		"  --nodes N   3 or 5 nodes (default: drawn from the seed)\n"
		"  --trace     print every event of the run\n"
		"  --seeds N   run N seeds starting at --start (default 1)\n"
		"  --jobs J    worker processes (default 2)\n"
		"  --verbose   one line per seed\n");
}

static bool parse_u64(const char *s, u64 *v)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;
	u64 v;

	memset(o, 0, sizeof(*o));
	o->start = 1;
	o->jobs = 2;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--trace")) {
			o->trace = true;
			continue;
		}
		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!parse_u64(arg, &v)) {
			fprintf(stderr, "sim: bad or missing value for %s\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--seed")) {
			o->seed = v;
			o->one = true;
		} else if (!strcmp(a, "--seeds")) {
			o->seeds = v;
		} else if (!strcmp(a, "--start")) {
			o->start = v;
		} else if (!strcmp(a, "--jobs") && v >= 1 && v <= 64) {
			o->jobs = v;
		} else if (!strcmp(a, "--nodes") && (v == 3 || v == 5)) {
			o->nodes = v;
		} else {
			fprintf(stderr, "sim: bad option %s %s\n", a, arg);
			return -1;
		}
	}
	if (o->one == !!o->seeds) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void print_stats(const struct sim_world *w)
{
	const struct sim_stats *s = &w->st;

	const struct px_config *c = &w->node[1].cfg;
	u64 evicted = s->reasm_evicted;
	int i;

	for (i = 1; i <= w->n; i++)
		if (w->node[i].up)
			evicted += w->node[i].reasm.evicted;

	printf("seed %" PRIu64 ": %d nodes, mtu %u, loss %.1f%%, dup %.1f%%, delay %u-%u us, faults until %.2f s, client pause up to %u us\n",
	       w->seed, w->n, w->mtu, w->loss0 / 1e4, w->dup0 / 1e4,
	       w->delay_min, w->delay_max, w->fault_end / 1e6,
	       w->think_max);
	printf("  config: window %u, batch %u/%u us, acceptor slots %u, heartbeat %u us, election %u us, retransmit %u us, catch-up %u us\n",
	       c->window, c->batch_bytes, c->batch_delay_us,
	       c->acceptor_slots, c->heartbeat_us, c->election_us,
	       c->retransmit_us, c->catchup_us);
	printf("  snapshots: learner slots %u, every %u, app %u bytes; %"
	       PRIu64 " points, %" PRIu64 " puts (%" PRIu64 " -ENOENT, %"
	       PRIu64 " -ESTALE), %" PRIu64 " installs, %" PRIu64
	       " app states compared\n", c->learner_slots, c->snapshot_every,
	       16 + 8 * SIM_MAX_CLIENTS + w->snap_pad, s->snap_points,
	       s->snap_puts, s->snap_enoent, s->snap_estale, s->snap_installs,
	       s->snap_app_checked);
	printf("  virtual time %.3f s, %" PRIu64 " events, %" PRIu64
	       " msgs, %" PRIu64 " frames (%" PRIu64 " lost, %" PRIu64
	       " cut, %" PRIu64 " duplicated), %" PRIu64
	       " reassembly drops, %" PRIu64 " evictions\n",
	       w->now / 1e6, s->events, s->msgs, s->frames, s->frames_lost,
	       s->frames_cut, s->frames_dup, s->reasm_drops, evicted);
	printf("  %d clients: %" PRIu64 " proposals, %" PRIu64 " acks, %"
	       PRIu64 " retries; %" PRIu64 " instances (%" PRIu64
	       " no-ops), %" PRIu64 " commands delivered, %" PRIu64
	       " dups flagged\n", w->nclients, s->proposals, s->acks,
	       s->retries, s->instances, s->noops, s->cmds, s->dups);
	printf("  %" PRIu64 " crashes (%" PRIu64 " vetoed), %" PRIu64
	       " restarts, %" PRIu64
	       " partitions, %" PRIu64 " leader changes, %" PRIu64
	       " disk records, %" PRIu64 " rejected messages\n", s->crashes,
	       s->crashes_vetoed, s->restarts, s->partitions, s->leader_changes,
	       s->disk_records, s->rejects);
	if (w->member_var)
		printf("  membership: alpha %u, %u configurations, %" PRIu64
		       " admin proposals%s, %" PRIu64 " leader failovers\n",
		       w->alpha, w->ck.n, w->admin_seq,
		       w->mstress ? " (stress)" : "", s->failovers);
}

static int run_one(const struct opts *o)
{
	static struct sim_world w;
	int bad;

	sim_world_init(&w, o->seed, o->nodes, o->trace);
	bad = sim_world_run(&w);
	print_stats(&w);
	if (bad) {
		if (!o->trace)
			sim_trace_dump(&w, stdout);
		printf("VIOLATION seed %" PRIu64 ": %s\n", w.seed, w.why);
		printf("replay: sim --seed %" PRIu64 "%s --trace\n", w.seed,
		       o->nodes == 3 ? " --nodes 3" :
		       o->nodes == 5 ? " --nodes 5" : "");
	} else {
		printf("OK\n");
	}
	sim_world_uninit(&w);
	return bad;
}

/* ------------------------------------------------------------ many seeds */

/* One result per seed, from a worker to the parent through a pipe. */
struct result {
	u64 seed;
	u64 events;
	u64 installs;		/* snapshots installed */
	u64 enoent, estale;	/* snapshot puts refused */
	u32 bad;
	char why[240];
};

static void worker(const struct opts *o, int fd, u64 first, u64 step)
{
	static struct sim_world w;
	u64 i;

	for (i = first; i < o->seeds; i += step) {
		struct result r;

		memset(&r, 0, sizeof(r));
		r.seed = o->start + i;
		sim_world_init(&w, r.seed, o->nodes, false);
		r.bad = sim_world_run(&w);
		r.events = w.st.events;
		r.installs = w.st.snap_installs;
		r.enoent = w.st.snap_enoent;
		r.estale = w.st.snap_estale;
		if (r.bad) {
			strncpy(r.why, w.why, sizeof(r.why) - 1);
			r.why[sizeof(r.why) - 1] = 0;
		}
		sim_world_uninit(&w);
		if (write(fd, &r, sizeof(r)) != sizeof(r))
			_exit(2);
	}
	_exit(0);
}

struct job {
	pid_t pid;
	int fd;
	u64 next;		/* index of the next seed this job runs */
	u32 part;		/* bytes of a partial record in buf */
	struct result buf;
};

/* Replay a failed seed in a child and print the end of its trace. */
static void show_trace(const struct opts *o, u64 seed)
{
	static struct sim_world w;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		sim_world_init(&w, seed, o->nodes, false);
		sim_world_run(&w);
		sim_trace_dump(&w, stdout);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void report(const struct opts *o, const struct result *r,
		   bool first)
{
	printf("VIOLATION seed %" PRIu64 ": %s\n", r->seed, r->why);
	if (first && !strstr(r->why, "simulator "))
		show_trace(o, r->seed);
	printf("  replay: tools/sim/sim --seed %" PRIu64 "%s\n", r->seed,
	       o->nodes == 3 ? " --nodes 3" : o->nodes == 5 ? " --nodes 5" : "");
	fflush(stdout);
}

static int spawn(const struct opts *o, struct job *j, u64 step)
{
	int p[2];

	if (pipe(p)) {
		perror("sim: pipe");
		return -1;
	}
	fflush(stdout);
	j->pid = fork();
	if (j->pid < 0) {
		perror("sim: fork");
		return -1;
	}
	if (!j->pid) {
		close(p[0]);
		worker(o, p[1], j->next, step);
	}
	close(p[1]);
	j->fd = p[0];
	j->part = 0;
	return 0;
}

static int run_many(const struct opts *o)
{
	struct job jobs[64];
	u64 done = 0, bad = 0, events = 0, snap_seeds = 0, installs = 0;
	u64 enoent = 0, estale = 0;
	int njobs = o->jobs, live = 0, i;
	struct timespec t0, t1;
	double secs;

	if ((u64)njobs > o->seeds)
		njobs = o->seeds;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < njobs; i++) {
		jobs[i].next = i;
		if (spawn(o, &jobs[i], njobs))
			return 2;
		live++;
	}
	while (live) {
		struct pollfd pfd[64];
		int n = 0;

		for (i = 0; i < njobs; i++) {
			pfd[i].fd = jobs[i].fd;
			pfd[i].events = POLLIN;
			n++;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("sim: poll");
			return 2;
		}
		for (i = 0; i < njobs; i++) {
			struct job *j = &jobs[i];
			ssize_t got;
			int status;

			if (j->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(j->fd, (char *)&j->buf + j->part,
				   sizeof(j->buf) - j->part);
			if (got > 0) {
				j->part += got;
				if (j->part < sizeof(j->buf))
					continue;
				j->part = 0;
				done++;
				events += j->buf.events;
				snap_seeds += j->buf.installs > 0;
				installs += j->buf.installs;
				enoent += j->buf.enoent;
				estale += j->buf.estale;
				j->next += njobs;
				if (j->buf.bad) {
					bad++;
					report(o, &j->buf, bad == 1);
				} else if (o->verbose) {
					printf("seed %" PRIu64 ": ok, %" PRIu64
					       " events\n", j->buf.seed,
					       j->buf.events);
				}
				continue;
			}
			/* worker ended */
			close(j->fd);
			j->fd = -1;
			live--;
			waitpid(j->pid, &status, 0);
			if (j->next >= o->seeds)
				continue;
			/* it died in the middle of seed j->next */
			memset(&j->buf, 0, sizeof(j->buf));
			j->buf.seed = o->start + j->next;
			j->buf.bad = 1;
			if (WIFSIGNALED(status))
				snprintf(j->buf.why, sizeof(j->buf.why),
					 "simulator crashed: %s",
					 strsignal(WTERMSIG(status)));
			else
				snprintf(j->buf.why, sizeof(j->buf.why),
					 "simulator exited with status %d",
					 WEXITSTATUS(status));
			done++;
			bad++;
			report(o, &j->buf, false);
			j->next += njobs;
			if (j->next < o->seeds) {
				if (spawn(o, j, njobs))
					return 2;
				live++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%" PRIu64 " seeds, %" PRIu64 " violations\n", done, bad);
	printf("snapshots: %" PRIu64 " seeds installed one (%" PRIu64
	       " installs; puts refused: %" PRIu64 " -ENOENT, %" PRIu64
	       " -ESTALE)\n", snap_seeds, installs, enoent, estale);
	printf("%.1f seeds/s (%.2f s, %d jobs, %.0f events/seed)\n",
	       secs > 0 ? done / secs : 0.0, secs, njobs,
	       done ? (double)events / done : 0.0);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (parse_opts(argc, argv, &o))
		return 2;
	if (o.one)
		return run_one(&o);
	return run_many(&o);
}
