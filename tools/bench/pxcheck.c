// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pxcheck: the client side of test-pxd.sh (works on /dev/paxos too).
 *
 *   pxcheck propose TARGET --client ID --count N [--size B] [--window W]
 *                   [--dup] [--timeout S]
 *       propose commands (ID, 1..N) whose bytes are a function of (ID, seq),
 *       W in flight, retrying unanswered ones with the same (ID, seq); with
 *       --dup every command is written twice.  Exits 0 once every command
 *       was delivered exactly once with the right bytes.
 *
 *   pxcheck log TARGET --count N [--timeout S]
 *       print one line per delivered command until N were seen:
 *       "instance pos client_id seq len checksum"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>

#include "bench.h"

static void fill_cmd(u8 *buf, u32 len, u64 cid, u64 seq)
{
	u64 x = cid * 0x9E3779B97F4A7C15ull ^ seq * 0xBF58476D1CE4E5B9ull;
	u32 i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
}

static u32 fnv1a(const u8 *p, u32 len)
{
	u32 h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Wait for records; 1 if some arrived, 0 on timeout, -errno. */
static int wait_read(struct bconn *c, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	r = poll(&pfd, 1, ms);
	if (r <= 0)
		return r < 0 ? -errno : 0;
	n = bconn_fill(c);
	if (n == 0)
		return -EPIPE;
	return n < 0 ? (int)n : 1;
}

static int do_propose(struct bconn *c, u64 cid, long count, u32 size,
		      long window, bool dup, long timeout_s)
{
	struct paxos_delivery_hdr h;
	const u8 *data;
	u8 *buf = malloc(size ? size : 1), *seen = calloc(count + 1, 1);
	u64 *sent = calloc(count + 1, sizeof(u64));
	u64 deadline = bench_now_ns() + timeout_s * 1000000000ull;
	long next = 1, done = 0, retries = 0, bad = 0, twice = 0, s;
	int r;

	if (!buf || !seen || !sent)
		return 1;
	while (done < count) {
		while (next <= count && next - done <= window) {
			fill_cmd(buf, size, cid, next);
			if (bconn_propose(c, cid, next, buf, size) ||
			    (dup && bconn_propose(c, cid, next, buf, size))) {
				perror("pxcheck: propose");
				return 1;
			}
			sent[next++] = bench_now_ns();
		}
		r = wait_read(c, 100);
		if (r < 0) {
			fprintf(stderr, "pxcheck: read: %s\n", strerror(-r));
			return 1;
		}
		while (bconn_next(c, &h, &data) == 1) {
			if (h.client_id != cid)
				continue;
			if (!h.seq || h.seq >= (u64)next) {
				bad++;
				continue;
			}
			if (seen[h.seq]) {
				twice++;
				continue;
			}
			fill_cmd(buf, size, cid, h.seq);
			if (h.len != size || memcmp(buf, data, size))
				bad++;
			seen[h.seq] = 1;
			done++;
		}
		/* retry what has waited a second: same (client, seq) */
		for (s = 1; s < next; s++) {
			if (seen[s] || bench_now_ns() - sent[s] < 1000000000ull)
				continue;
			fill_cmd(buf, size, cid, s);
			if (bconn_propose(c, cid, s, buf, size))
				return 1;
			sent[s] = bench_now_ns();
			retries++;
		}
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "pxcheck: timeout, %ld of %ld "
				"delivered\n", done, count);
			return 1;
		}
	}
	/* anything delivered twice shows up soon after; give it a moment */
	while (wait_read(c, 200) > 0) {
		while (bconn_next(c, &h, &data) == 1)
			if (h.client_id == cid)
				twice++;
	}
	printf("client %llu: %ld proposed, %ld delivered, %ld retries, "
	       "%ld twice, %ld bad\n", (unsigned long long)cid, count, done,
	       retries, twice, bad);
	free(buf);
	free(seen);
	free(sent);
	return twice || bad ? 1 : 0;
}

static int do_log(struct bconn *c, long count, long timeout_s)
{
	struct paxos_delivery_hdr h;
	const u8 *data;
	u64 deadline = bench_now_ns() + timeout_s * 1000000000ull;
	long got = 0;
	int r;

	/* tell the caller we are connected and reading */
	fprintf(stderr, "pxcheck: reading\n");
	while (got < count) {
		r = wait_read(c, 100);
		if (r < 0) {
			fprintf(stderr, "pxcheck: read: %s\n", strerror(-r));
			return 1;
		}
		while (got < count && bconn_next(c, &h, &data) == 1) {
			printf("%llu %u %llu %llu %u %08x\n",
			       (unsigned long long)h.instance, h.pos,
			       (unsigned long long)h.client_id,
			       (unsigned long long)h.seq, h.len,
			       fnv1a(data, h.len));
			got++;
		}
		fflush(stdout);
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "pxcheck: timeout, %ld of %ld "
				"records\n", got, count);
			return 1;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
"usage: pxcheck propose TARGET --client ID --count N [--size B]\n"
"                       [--window W] [--dup] [--timeout S]\n"
"       pxcheck log TARGET --count N [--timeout S]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dup", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	u64 cid = 0;
	long count = 0, size = 16, window = 1, timeout = 30;
	bool dup = false;
	struct bconn conn;
	int c, r;

	if (argc < 3) {
		usage();
		return 1;
	}
	optind = 3;
	while ((c = getopt_long(argc, argv, "c:n:s:w:t:d", opts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			cid = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = strtol(optarg, NULL, 0);
			break;
		case 's':
			size = bench_parse_size(optarg);
			break;
		case 'w':
			window = strtol(optarg, NULL, 0);
			break;
		case 't':
			timeout = strtol(optarg, NULL, 0);
			break;
		case 'd':
			dup = true;
			break;
		default:
			usage();
			return 1;
		}
	}
	if (count < 1 || size < 0 || size > PAXOS_MAX_CMD || window < 1) {
		usage();
		return 1;
	}
	r = bconn_open(&conn, argv[2]);
	if (r) {
		fprintf(stderr, "pxcheck: %s: %s\n", argv[2], strerror(-r));
		return 1;
	}
	if (!strcmp(argv[1], "propose") && cid)
		r = do_propose(&conn, cid, count, size, window, dup, timeout);
	else if (!strcmp(argv[1], "log"))
		r = do_log(&conn, count, timeout);
	else {
		usage();
		r = 1;
	}
	bconn_close(&conn);
	return r;
}
