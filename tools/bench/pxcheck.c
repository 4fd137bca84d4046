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
 *
 * and, for the module's instance in the caller's network namespace:
 *
 *   pxcheck kup DEV --id N --ifname IF --peer ID=MAC... [--param K=V]...
 *       PAXOS_IOC_DOWN (if up), PAXOS_IOC_SET_PARAM for every parameter
 *       (those not given back to their defaults), PAXOS_IOC_UP.
 *       K: window batch_bytes batch_delay_us heartbeat_us election_us
 *       retransmit_us
 *   pxcheck kdown DEV
 *   pxcheck kstatus DEV        key=value lines, as pxd --status
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/ioctl.h>

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

static const char *const param_names[__PAXOS_PARAM_MAX] = {
	[PAXOS_PARAM_WINDOW] = "window",
	[PAXOS_PARAM_BATCH_BYTES] = "batch_bytes",
	[PAXOS_PARAM_BATCH_DELAY_US] = "batch_delay_us",
	[PAXOS_PARAM_HEARTBEAT_US] = "heartbeat_us",
	[PAXOS_PARAM_ELECTION_US] = "election_us",
	[PAXOS_PARAM_RETRANSMIT_US] = "retransmit_us",
};

struct kup {
	struct paxos_config uc;
	u64 params[__PAXOS_PARAM_MAX];
};

static int kup_param(struct kup *k, const char *kv)
{
	const char *eq = strchr(kv, '=');
	int i;

	if (!eq)
		return -1;
	for (i = 1; i < __PAXOS_PARAM_MAX; i++) {
		if (strlen(param_names[i]) == (size_t)(eq - kv) &&
		    !strncmp(kv, param_names[i], eq - kv)) {
			k->params[i] = strtoull(eq + 1, NULL, 0);
			return 0;
		}
	}
	return -1;
}

static int kup_peer(struct kup *k, const char *s)
{
	struct paxos_peer *p;
	unsigned int b[6], i;
	char *end;
	long id = strtol(s, &end, 10);

	if (*end != '=' || id < 1 || id >= PAXOS_MAX_NODES ||
	    k->uc.n_peers >= PAXOS_MAX_NODES ||
	    sscanf(end + 1, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	p = &k->uc.peers[k->uc.n_peers++];
	p->node_id = id;
	for (i = 0; i < 6; i++)
		p->mac[i] = b[i];
	return 0;
}

static int do_kup(int fd, struct kup *k)
{
	struct paxos_param_kv kv = { 0 };
	int i;

	if (ioctl(fd, PAXOS_IOC_DOWN) && errno != ENOTCONN) {
		perror("pxcheck: PAXOS_IOC_DOWN");
		return 1;
	}
	for (i = 1; i < __PAXOS_PARAM_MAX; i++) {
		kv.key = i;
		kv.value = k->params[i];
		if (ioctl(fd, PAXOS_IOC_SET_PARAM, &kv)) {
			fprintf(stderr, "pxcheck: %s=%llu: %s\n",
				param_names[i], (unsigned long long)kv.value,
				strerror(errno));
			return 1;
		}
	}
	k->uc.roles = PAXOS_ROLE_ALL;
	if (!k->uc.cluster_id)
		k->uc.cluster_id = 1;
	if (ioctl(fd, PAXOS_IOC_UP, &k->uc)) {
		perror("pxcheck: PAXOS_IOC_UP");
		return 1;
	}
	return 0;
}

static int kernel_cmd(const char *cmd, const char *dev, struct kup *k)
{
	struct paxos_status st;
	int fd, ret = 0;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(dev);
		return 1;
	}
	if (!strcmp(cmd, "kup")) {
		ret = do_kup(fd, k);
	} else if (!strcmp(cmd, "kdown")) {
		if (ioctl(fd, PAXOS_IOC_DOWN) && errno != ENOTCONN) {
			perror("pxcheck: PAXOS_IOC_DOWN");
			ret = 1;
		}
	} else {
		if (ioctl(fd, PAXOS_IOC_STATUS, &st)) {
			perror("pxcheck: PAXOS_IOC_STATUS");
			ret = 1;
		} else {
			bench_print_status(&st);
		}
	}
	close(fd);
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
"usage: pxcheck propose TARGET --client ID --count N [--size B]\n"
"                       [--window W] [--dup] [--timeout S]\n"
"       pxcheck log TARGET --count N [--timeout S]\n"
"       pxcheck kup DEV --id N --ifname IF --peer ID=MAC... [--param K=V]...\n"
"       pxcheck kdown DEV | kstatus DEV\n");
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
		{ "id", required_argument, NULL, 'i' },
		{ "ifname", required_argument, NULL, 'I' },
		{ "peer", required_argument, NULL, 'p' },
		{ "param", required_argument, NULL, 'P' },
		{ "cluster-id", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	static struct kup k;
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
	while ((c = getopt_long(argc, argv, "c:n:s:w:t:di:I:p:P:C:", opts,
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
		case 'i':
			k.uc.node_id = strtoul(optarg, NULL, 0);
			break;
		case 'I':
			snprintf(k.uc.ifname, sizeof(k.uc.ifname), "%s",
				 optarg);
			break;
		case 'p':
			if (kup_peer(&k, optarg)) {
				fprintf(stderr, "pxcheck: bad --peer %s\n",
					optarg);
				return 1;
			}
			break;
		case 'P':
			if (kup_param(&k, optarg)) {
				fprintf(stderr, "pxcheck: bad --param %s\n",
					optarg);
				return 1;
			}
			break;
		case 'C':
			k.uc.cluster_id = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
			return 1;
		}
	}
	if (argv[1][0] == 'k')
		return kernel_cmd(argv[1], argv[2], &k);
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
