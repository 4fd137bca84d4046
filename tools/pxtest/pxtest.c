// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * pxtest: a small test client for /dev/paxos (records and ioctls of
 * uapi/linux/paxos.h).  Used by the VM tests; not an administration tool.
 *
 *   pxtest up --id N --if IF --peer ID=MAC... [--cluster C] [--group G]
 *             [--roles acc,prop,learn] [--ethertype T]
 *   pxtest down
 *   pxtest status [--get FIELD]
 *   pxtest param get NAME | set NAME VALUE
 *   pxtest propose --client C --count N [--clients K] [--size S]
 *             [--start-seq K] [--retry-ms M] [--timeout S] [--no-wait]
 *             [--fill]         (--no-wait, and stop once the queue is full)
 *             [--interval-ms M] (a client's pause between commands)
 *             [--duration S]   (write new commands for S seconds, or until
 *                               SIGUSR2; then print each client's last seq)
 *   pxtest dump [--from I] [--until-count N] [--timeout S] [--now]
 *             (--now, or SIGUSR2: stop when nothing more is readable)
 *   pxtest wait-read [--leave-netns] [--eintr]
 *   pxtest ioctl-bad
 *   pxtest frame --if IF --kind KIND [--count N] [--cluster C] [--group G]
 *             [--src ID] [--dst-mac MAC]
 *
 * Global: --dev PATH (default /dev/paxos), --expect ERRNO (the command's
 * main call must fail with this errno, e.g. EPERM; exit 0 if it does),
 * --netns NAME (run in network namespace /run/netns/NAME; for status a
 * comma-separated list gives one line per namespace).
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <linux/if_packet.h>
#include <linux/paxos.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *dev_path = "/dev/paxos";
static const char *netns_list;	/* --netns A[,B...] */
static int expect_errno;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						       noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "pxtest: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of pxtest.c\n");
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		die("not a number: '%s'", s);
	return v;
}

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EPERM", EPERM }, { "EACCES", EACCES }, { "EINVAL", EINVAL },
	{ "ENOTTY", ENOTTY }, { "ENOTCONN", ENOTCONN }, { "EEXIST", EEXIST },
	{ "EBUSY", EBUSY }, { "ENODEV", ENODEV }, { "EMSGSIZE", EMSGSIZE },
	{ "EAGAIN", EAGAIN }, { "EFAULT", EFAULT }, { "EINTR", EINTR },
	{ "EOVERFLOW", EOVERFLOW }, { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ENOENT", ENOENT }, { "EBADF", EBADF },
};

static int errno_by_name(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (!strcmp(errnos[i].name, s))
			return errnos[i].err;
	return (int)num(s);
}

static const char *errno_name(int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return strerror(err);
}

/*
 * The result of a command's main call: with --expect, success is failing
 * with exactly that errno.
 */
static int outcome(const char *what, int ret)
{
	int err = ret < 0 ? errno : 0;

	if (expect_errno) {
		if (err == expect_errno) {
			printf("%s: %s as expected\n", what, errno_name(err));
			return 0;
		}
		fprintf(stderr, "pxtest: %s: expected %s, got %s\n", what,
			errno_name(expect_errno), err ? errno_name(err) : "success");
		return 1;
	}
	if (err) {
		fprintf(stderr, "pxtest: %s: %s\n", what, strerror(err));
		return 1;
	}
	return 0;
}

static int open_dev(int flags)
{
	int fd = open(dev_path, flags);

	if (fd < 0) {
		if (expect_errno && errno == expect_errno) {
			printf("open: %s as expected\n", errno_name(errno));
			exit(0);
		}
		die("open %s: %s", dev_path, strerror(errno));
	}
	return fd;
}

/* CRC-32 (IEEE 802.3), bitwise: fast enough for test logs. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

/* Command payload: a function of (client, seq) so that logs can be checked. */
static void fill_cmd(uint8_t *p, size_t n, uint64_t client, uint64_t seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seq * 131 + client * 7 + i);
}

/* ------------------------------------------------------------------- up */

static uint32_t parse_roles(const char *s)
{
	char buf[64], *tok, *save;
	uint32_t roles = 0;

	if (s[0] >= '0' && s[0] <= '9')
		return (uint32_t)num(s);
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "acc") || !strcmp(tok, "acceptor"))
			roles |= PAXOS_ROLE_ACCEPTOR;
		else if (!strcmp(tok, "prop") || !strcmp(tok, "proposer"))
			roles |= PAXOS_ROLE_PROPOSER;
		else if (!strcmp(tok, "learn") || !strcmp(tok, "learner"))
			roles |= PAXOS_ROLE_LEARNER;
		else if (!strcmp(tok, "all"))
			roles |= PAXOS_ROLE_ALL;
		else
			die("unknown role '%s'", tok);
	}
	return roles;
}

static void parse_peer(struct paxos_config *c, const char *s)
{
	struct paxos_peer *p;
	struct ether_addr *mac;
	char buf[64], *eq;

	if (c->n_peers >= PAXOS_MAX_NODES)
		die("too many peers");
	snprintf(buf, sizeof(buf), "%s", s);
	eq = strchr(buf, '=');
	if (!eq)
		die("--peer wants ID=MAC, got '%s'", s);
	*eq = 0;
	mac = ether_aton(eq + 1);
	if (!mac)
		die("bad MAC '%s'", eq + 1);
	p = &c->peers[c->n_peers++];
	p->node_id = (uint32_t)num(buf);
	memcpy(p->mac, mac, 6);
}

static int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", 1, NULL, 'i' }, { "if", 1, NULL, 'f' },
		{ "peer", 1, NULL, 'p' }, { "cluster", 1, NULL, 'c' },
		{ "group", 1, NULL, 'g' }, { "roles", 1, NULL, 'r' },
		{ "ethertype", 1, NULL, 'e' }, { NULL, 0, NULL, 0 },
	};
	struct paxos_config c;
	int o, fd, ret;

	memset(&c, 0, sizeof(c));
	c.roles = PAXOS_ROLE_ALL;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			c.node_id = (uint32_t)num(optarg);
			break;
		case 'f':
			snprintf(c.ifname, sizeof(c.ifname), "%s", optarg);
			break;
		case 'p':
			parse_peer(&c, optarg);
			break;
		case 'c':
			c.cluster_id = (uint32_t)num(optarg);
			break;
		case 'g':
			c.group_id = (uint16_t)num(optarg);
			break;
		case 'r':
			c.roles = parse_roles(optarg);
			break;
		case 'e':
			c.ethertype = (uint16_t)num(optarg);
			break;
		default:
			usage();
		}
	}
	fd = open_dev(O_RDWR);
	ret = ioctl(fd, PAXOS_IOC_UP, &c);
	close(fd);
	return outcome("PAXOS_IOC_UP", ret);
}

static int cmd_down(int argc, char **argv)
{
	int fd = open_dev(O_RDWR), ret;

	ret = ioctl(fd, PAXOS_IOC_DOWN);
	close(fd);
	return outcome("PAXOS_IOC_DOWN", ret);
}

/* --------------------------------------------------------------- status */

static const char *const drop_names[__PAXOS_DROP_MAX] = PAXOS_DROP_NAMES;

/* Enter network namespace @name (a name under /run/netns, or a path). */
static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die("netns %s: %s", path, strerror(errno));
	close(fd);
}

static int status_one(const char *get, const char *prefix);

/*
 * status with --netns A,B,...: one line per namespace, "A VALUE" with --get
 * (a whole status block per namespace without it); cheap polling for tests.
 */
static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "get", 1, NULL, 'g' }, { NULL, 0, NULL, 0 },
	};
	char list[1024], *tok, *save;
	const char *get = NULL;
	int o, ret = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'g')
			usage();
		get = optarg;
	}
	if (!netns_list || !strchr(netns_list, ','))
		return status_one(get, NULL);
	snprintf(list, sizeof(list), "%s", netns_list);
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enter_netns(tok);
		ret |= status_one(get, tok);
	}
	return ret;
}

static int status_one(const char *get, const char *prefix)
{
	struct paxos_status st;
	char lines[64][64];
	int fd, ret, n = 0, i;
	uint64_t drops = 0;

	fd = open_dev(O_RDONLY);
	ret = ioctl(fd, PAXOS_IOC_STATUS, &st);
	close(fd);
	if (ret < 0) {
		if (prefix && get && !expect_errno) {
			printf("%s -\n", prefix);	/* no instance */
			return 0;
		}
		return outcome("PAXOS_IOC_STATUS", ret);
	}

#define LINE(fmt, ...) snprintf(lines[n++], sizeof(lines[0]), fmt, __VA_ARGS__)
	LINE("node_id %u", st.node_id);
	LINE("leader_id %u", st.leader_id);
	LINE("is_leader %u", st.is_leader);
	LINE("members 0x%x", st.members);
	LINE("ballot %llu", (unsigned long long)st.ballot);
	LINE("promised %llu", (unsigned long long)st.promised);
	LINE("first_index %llu", (unsigned long long)st.first_index);
	LINE("last_index %llu", (unsigned long long)st.last_index);
	LINE("committed_index %llu", (unsigned long long)st.committed_index);
	LINE("delivered_index %llu", (unsigned long long)st.delivered_index);
	LINE("frames_rx %llu", (unsigned long long)st.frames_rx);
	LINE("frames_tx %llu", (unsigned long long)st.frames_tx);
	LINE("msgs_rx %llu", (unsigned long long)st.msgs_rx);
	LINE("msgs_tx %llu", (unsigned long long)st.msgs_tx);
	LINE("proposals %llu", (unsigned long long)st.proposals);
	LINE("delivered_cmds %llu", (unsigned long long)st.delivered_cmds);
	LINE("duplicates %llu", (unsigned long long)st.duplicates);
	LINE("leader_changes %llu", (unsigned long long)st.leader_changes);
	for (i = 1; i < __PAXOS_DROP_MAX; i++) {
		LINE("drop_%s %llu", drop_names[i],
		     (unsigned long long)st.drops[i]);
		drops += st.drops[i];
	}
	LINE("drops %llu", (unsigned long long)drops);
	LINE("snapshot_index %llu", (unsigned long long)st.snapshot_index);
	LINE("snapshot_every %llu", (unsigned long long)st.snapshot_every);
	LINE("snap_puts %llu", (unsigned long long)st.snap_puts);
	LINE("snap_served %llu", (unsigned long long)st.snap_served);
	LINE("snap_installed %llu", (unsigned long long)st.snap_installed);
	LINE("snap_rejected %llu", (unsigned long long)st.snap_rejected);
#undef LINE
	for (i = 0; i < n; i++) {
		size_t l;

		if (!get) {
			if (prefix)
				printf("%s ", prefix);
			puts(lines[i]);
			continue;
		}
		l = strlen(get);
		if (!strncmp(lines[i], get, l) && lines[i][l] == ' ') {
			if (prefix)
				printf("%s ", prefix);
			puts(lines[i] + l + 1);
			return 0;
		}
	}
	if (get)
		die("no status field '%s'", get);
	return 0;
}

/* ---------------------------------------------------------------- param */

static const char *const param_names[__PAXOS_PARAM_MAX] = PAXOS_PARAM_NAMES;

static uint32_t param_key(const char *s)
{
	uint32_t i;

	for (i = 1; i < __PAXOS_PARAM_MAX; i++)
		if (!strcmp(param_names[i], s))
			return i;
	return (uint32_t)num(s);
}

static int cmd_param(int argc, char **argv)
{
	struct paxos_param_kv kv = { 0 };
	int fd, ret;

	if (argc < 3)
		usage();
	kv.key = param_key(argv[2]);
	if (!strcmp(argv[1], "get") && argc == 3) {
		fd = open_dev(O_RDONLY);
		ret = ioctl(fd, PAXOS_IOC_GET_PARAM, &kv);
		close(fd);
		if (!ret)
			printf("%llu\n", (unsigned long long)kv.value);
		return outcome("PAXOS_IOC_GET_PARAM", ret);
	}
	if (!strcmp(argv[1], "set") && argc == 4) {
		kv.value = num(argv[3]);
		fd = open_dev(O_RDWR);
		ret = ioctl(fd, PAXOS_IOC_SET_PARAM, &kv);
		close(fd);
		return outcome("PAXOS_IOC_SET_PARAM", ret);
	}
	usage();
}

/* -------------------------------------------------------------- records */

struct rec_cb {
	void (*fn)(struct rec_cb *cb, const struct paxos_delivery_hdr *h,
		   const uint8_t *data);
};

/* Walk the records of one read(2); dies on a malformed buffer. */
static void walk_records(const uint8_t *buf, size_t n, struct rec_cb *cb)
{
	size_t off = 0;

	while (off < n) {
		struct paxos_delivery_hdr h;
		size_t rec;

		if (n - off < sizeof(h))
			die("read: partial record header");
		memcpy(&h, buf + off, sizeof(h));
		rec = sizeof(h) + ((h.len + PAXOS_RECORD_ALIGN - 1) &
				   ~(size_t)(PAXOS_RECORD_ALIGN - 1));
		if (rec > n - off)
			die("read: record longer than what read returned");
		off += rec;
		/* Snapshot points are for applications that keep state. */
		if (h.flags == PAXOS_DELIVERY_F_SNAP_POINT && !h.len)
			continue;
		/* pxtest keeps no state to restore: like EOVERFLOW. */
		if (h.flags == PAXOS_DELIVERY_F_RESTORE)
			die("read: RESTORE at instance %" PRIu64 ": the commands up to it are only in a snapshot",
			    (uint64_t)h.instance);
		if (h.flags)
			die("read: record flags 0x%x", h.flags);
		cb->fn(cb, &h, buf + off - rec + sizeof(h));
	}
}

/* -------------------------------------------------------------- propose */

/*
 * The learners' exactly-once table remembers the highest seq delivered per
 * client, so a client keeps one command in flight: seq k + 1 is written
 * once seq k was delivered.  Concurrency comes from several clients
 * (--clients K: ids C, C+1, ... C+K-1, each numbering 1..N).
 */
struct client {
	uint64_t id;
	uint64_t delivered;	/* seqs 1..delivered are delivered */
	uint64_t sent_ms;	/* of seq delivered + 1; 0: not sent */
	uint64_t tries;
	uint64_t done_ms;	/* when the last one was delivered */
};

struct propose {
	struct rec_cb cb;
	struct client *c;
	uint64_t nclients, first, count, size, done, retries;
};

static void propose_rec(struct rec_cb *cb, const struct paxos_delivery_hdr *h,
			const uint8_t *data)
{
	struct propose *pr = (struct propose *)cb;
	static uint8_t want[PAXOS_MAX_CMD];
	struct client *c;

	if (h->client_id < pr->first ||
	    h->client_id - pr->first >= pr->nclients)
		return;
	c = &pr->c[h->client_id - pr->first];
	if (h->seq <= c->delivered)
		die("client %" PRIx64 " seq %" PRIu64 " delivered twice (instance %" PRIu64 ")",
		    c->id, (uint64_t)h->seq, (uint64_t)h->instance);
	if (h->seq != c->delivered + 1 || !c->sent_ms)
		die("client %" PRIx64 " seq %" PRIu64 " delivered, never written",
		    c->id, (uint64_t)h->seq);
	fill_cmd(want, pr->size, c->id, h->seq);
	if (h->len != pr->size || memcmp(want, data, pr->size))
		die("client %" PRIx64 " seq %" PRIu64 ": delivered command differs",
		    c->id, (uint64_t)h->seq);
	c->delivered++;
	c->sent_ms = 0;
	c->done_ms = now_ms();
	pr->done++;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = 1;
}

/* Write seq @seq of client @c; false if the queue is full (EAGAIN). */
static bool propose_one(int fd, uint8_t *buf, uint64_t client, uint64_t seq,
			uint64_t size)
{
	struct paxos_propose_hdr *h = (void *)buf;

	h->client_id = client;
	h->seq = seq;
	h->len = (uint32_t)size;
	h->flags = 0;
	fill_cmd(buf + sizeof(*h), size, client, seq);
	if (write(fd, buf, sizeof(*h) + size) == (ssize_t)(sizeof(*h) + size))
		return true;
	if (errno == EAGAIN)
		return false;
	die("write client %" PRIx64 " seq %" PRIu64 ": %s", client, seq,
	    strerror(errno));
}

static int cmd_propose(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", 1, NULL, 'c' }, { "count", 1, NULL, 'n' },
		{ "size", 1, NULL, 's' }, { "start-seq", 1, NULL, 'k' },
		{ "clients", 1, NULL, 'K' }, { "retry-ms", 1, NULL, 'r' },
		{ "timeout", 1, NULL, 't' }, { "no-wait", 0, NULL, 'N' },
		{ "duration", 1, NULL, 'D' }, { "interval-ms", 1, NULL, 'I' },
		{ "fill", 0, NULL, 'F' }, { NULL, 0, NULL, 0 },
	};
	struct propose pr = { .cb.fn = propose_rec, .nclients = 1, .size = 16 };
	uint64_t retry_ms = 2000, timeout = 120, deadline, start = 1, i, k;
	uint64_t duration = 0, stop_at = UINT64_MAX, interval = 0, wake;
	static uint8_t buf[1 << 20];
	bool no_wait = false, fill = false;
	int o, fd;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			pr.first = num(optarg);
			break;
		case 'F':
			fill = no_wait = true;
			break;
		case 'n':
			pr.count = num(optarg);
			break;
		case 's':
			pr.size = num(optarg);
			break;
		case 'k':
			start = num(optarg);
			break;
		case 'K':
			pr.nclients = num(optarg);
			break;
		case 'r':
			retry_ms = num(optarg);
			break;
		case 't':
			timeout = num(optarg);
			break;
		case 'N':
			no_wait = true;
			break;
		case 'D':
			duration = num(optarg);
			break;
		case 'I':
			interval = num(optarg);
			break;
		default:
			usage();
		}
	}
	if (duration && !pr.count)
		pr.count = 1ull << 40;
	if (!pr.first || !pr.count || !start || !pr.nclients)
		die("propose: --client and --count are required (non-zero)");
	if (pr.size > PAXOS_MAX_CMD)
		die("propose: --size above %d", PAXOS_MAX_CMD);
	pr.c = calloc(pr.nclients, sizeof(*pr.c));
	if (!pr.c)
		die("out of memory");
	for (k = 0; k < pr.nclients; k++) {
		pr.c[k].id = pr.first + k;
		pr.c[k].delivered = start - 1;
	}

	if (no_wait) {
		/* Fire and forget (load for rmmod tests): blocking writes. */
		fd = open_dev(O_WRONLY | (fill ? O_NONBLOCK : 0));
		for (i = 0; i < pr.count; i++)
			for (k = 0; k < pr.nclients; k++)
				if (!propose_one(fd, buf, pr.c[k].id,
						 start + i, pr.size))
					goto full;	/* --fill */
full:
		printf("proposed %" PRIu64 "\n", i * pr.nclients + k);
		close(fd);
		return 0;
	}

	fd = open_dev(O_RDWR | O_NONBLOCK);
	deadline = now_ms() + timeout * 1000;
	if (duration) {
		struct sigaction sa;

		/* SIGUSR2 ends the duration early */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigaction(SIGUSR2, &sa, NULL);
		/* write new commands for @duration s, then finish in-flight ones */
		stop_at = now_ms() + duration * 1000;
		deadline = stop_at + timeout * 1000;
	}
	while (pr.done < pr.count * pr.nclients) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t n;

		if (now > deadline) {
			fprintf(stderr, "pxtest: propose: timeout: %" PRIu64 " of %" PRIu64 " delivered\n",
				pr.done, pr.count * pr.nclients);
			for (k = 0; k < pr.nclients; k++)
				fprintf(stderr, "pxtest:   client %" PRIx64 ": %" PRIu64 " delivered, %" PRIu64 " tries of the next\n",
					pr.c[k].id, pr.c[k].delivered - start + 1,
					pr.c[k].tries);
			return 1;
		}
		if (stop_requested && stop_at > now) {
			stop_at = now;
			deadline = now + timeout * 1000;
		}
		if (now >= stop_at) {
			for (k = 0; k < pr.nclients; k++)
				if (pr.c[k].sent_ms)
					break;
			if (k == pr.nclients)
				break;	/* nothing in flight any more */
		}
		for (k = 0; k < pr.nclients; k++) {
			struct client *c = &pr.c[k];

			if (c->delivered - start + 1 >= pr.count)
				continue;
			if (!c->sent_ms && now >= stop_at)
				continue;
			if (!c->sent_ms && now < c->done_ms + interval)
				continue;
			if (c->sent_ms && now - c->sent_ms < retry_ms)
				continue;
			if (!propose_one(fd, buf, c->id, c->delivered + 1,
					 pr.size))
				break;
			if (c->sent_ms)
				pr.retries++;
			else
				c->tries = 0;
			c->sent_ms = now;
			c->tries++;
		}
		/* sleep until a delivery, or the next retry or write is due */
		wake = now + 1000;
		for (k = 0; k < pr.nclients; k++) {
			const struct client *c = &pr.c[k];
			uint64_t t;

			if (c->sent_ms)
				t = c->sent_ms + retry_ms;
			else if (c->delivered - start + 1 >= pr.count ||
				 now >= stop_at)
				continue;
			else
				t = c->done_ms + interval;
			if (t < wake)
				wake = t;
		}
		if (stop_at > now && stop_at < wake)
			wake = stop_at;
		if (wake < now + 2)
			wake = now + 2;	/* e.g. the write queue was full */
		if (poll(&pfd, 1, (int)(wake - now)) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (;;) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0)
				die("read: %s", n ? strerror(errno) : "EOF");
			walk_records(buf, (size_t)n, &pr.cb);
		}
	}
	for (k = 0; k < pr.nclients && duration; k++)
		printf("client %" PRIx64 " last %" PRIu64 "\n", pr.c[k].id,
		       pr.c[k].delivered);
	printf("proposed %" PRIu64 " delivered %" PRIu64 " retries %" PRIu64 "\n",
	       duration ? pr.done : pr.count * pr.nclients, pr.done,
	       pr.retries);
	close(fd);
	free(pr.c);
	return 0;
}

/* ----------------------------------------------------------------- dump */

struct dump {
	struct rec_cb cb;
	uint64_t n;
};

static void dump_rec(struct rec_cb *cb, const struct paxos_delivery_hdr *h,
		     const uint8_t *data)
{
	struct dump *d = (struct dump *)cb;

	printf("%" PRIu64 " %u %" PRIx64 " %" PRIu64 " %u %08x\n",
	       (uint64_t)h->instance, h->pos, (uint64_t)h->client_id,
	       (uint64_t)h->seq, h->len, crc32(data, h->len));
	d->n++;
}

static int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", 1, NULL, 'f' }, { "until-count", 1, NULL, 'u' },
		{ "timeout", 1, NULL, 't' }, { "now", 0, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump d = { .cb.fn = dump_rec };
	uint64_t from = 0, until = 0, timeout = 0, deadline = 0;
	static uint8_t buf[1 << 20];
	bool now_only = false;
	int o, fd;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			from = num(optarg);
			break;
		case 'u':
			until = num(optarg);
			break;
		case 't':
			timeout = num(optarg);
			break;
		case 'N':
			now_only = true;
			break;
		default:
			usage();
		}
	}
	fd = open_dev(O_RDONLY | O_NONBLOCK);
	if (from && ioctl(fd, PAXOS_IOC_SEEK, &from) < 0)
		return outcome("PAXOS_IOC_SEEK", -1);
	{
		struct sigaction sa;

		/* SIGUSR2: read what is there, then stop */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigaction(SIGUSR2, &sa, NULL);
	}
	if (timeout)
		deadline = now_ms() + timeout * 1000;
	while (!until || d.n < until) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = read(fd, buf, sizeof(buf));
		int wait = 100;

		if (n > 0) {
			walk_records(buf, (size_t)n, &d.cb);
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			fflush(stdout);
			return outcome("read", -1);
		}
		if (n == 0)
			die("read returned 0");
		if (now_only || stop_requested)
			break;
		if (deadline) {
			uint64_t t = now_ms();

			if (t >= deadline) {
				fflush(stdout);
				if (until) {
					fprintf(stderr,
						"pxtest: dump: timeout: %" PRIu64 " of %" PRIu64 " records\n",
						d.n, until);
					return 1;
				}
				break;
			}
			if (deadline - t < 100)
				wait = (int)(deadline - t);
		}
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
	fflush(stdout);
	close(fd);
	return 0;
}

static void on_usr1(int sig)
{
}

/*
 * One blocking read; reports how it ended (for rmmod/down tests).
 * --leave-netns: after open, go back to the initial network namespace so
 * that deleting the file's namespace really destroys it.  --eintr: SIGUSR1
 * interrupts the read (a handler without SA_RESTART).
 */
static int cmd_wait_read(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "leave-netns", 0, NULL, 'l' }, { "eintr", 0, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t buf[1 << 16];
	bool leave = false, eintr = false;
	ssize_t n;
	int fd, o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			leave = true;
			break;
		case 'e':
			eintr = true;
			break;
		default:
			usage();
		}
	}
	fd = open_dev(O_RDONLY);
	if (leave)
		enter_netns("/proc/1/ns/net");
	if (eintr) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
	}
	printf("blocked\n");
	fflush(stdout);
	n = read(fd, buf, sizeof(buf));
	if (n >= 0) {
		printf("read %zd bytes\n", n);
		return expect_errno ? 1 : 0;
	}
	return outcome("read", -1);
}

/* ------------------------------------------------------------ ioctl-bad */

static int failures;

static void check(const char *what, int ret, int want)
{
	int got = ret < 0 ? errno : 0;

	if (got == want) {
		printf("ok   %-44s %s\n", what, want ? errno_name(want) : "0");
		return;
	}
	printf("FAIL %-44s want %s got %s\n", what,
	       want ? errno_name(want) : "0", got ? errno_name(got) : "0");
	failures++;
}

static void check_count(const char *what, ssize_t ret, ssize_t want)
{
	if (ret == want) {
		printf("ok   %-44s %zd\n", what, want);
		return;
	}
	printf("FAIL %-44s want %zd got %zd (%s)\n", what, want, ret,
	       ret < 0 ? errno_name(errno) : "-");
	failures++;
}

/* @n records of client @id, seqs 1..n, of @len zero bytes (*@rec each). */
static uint8_t *records(size_t n, uint64_t id, uint32_t len, size_t *rec)
{
	struct paxos_propose_hdr *h;
	uint8_t *buf;
	size_t i;

	*rec = sizeof(*h) + len;
	buf = calloc(n, *rec);
	if (!buf)
		die("out of memory");
	for (i = 0; i < n; i++) {
		h = (struct paxos_propose_hdr *)(buf + i * *rec);
		h->client_id = id;
		h->seq = i + 1;
		h->len = len;
	}
	return buf;
}

/* A write takes at most 256 KiB of whole records (uapi). */
static void check_big(int fd)
{
	size_t rec = sizeof(struct paxos_propose_hdr) + 64;
	size_t n = 2 * 256 * 1024 / rec;
	uint8_t *buf = records(n, 8, 64, &rec);

	check_count("write of 512 KiB of records takes 256 KiB",
		    write(fd, buf, n * rec), 256 * 1024 / rec * rec);
	free(buf);
}

/* Several records in one write(2); a bad one ends the write early. */
static void check_multi(int fd)
{
	struct paxos_propose_hdr *h;
	size_t rec;
	uint8_t *buf = records(3, 7, 16, &rec);

	check_count("write of three records", write(fd, buf, 3 * rec),
		    3 * rec);
	check_count("write of a record and a truncated one",
		    write(fd, buf, 2 * rec - 1), rec);
	h = (struct paxos_propose_hdr *)(buf + rec);
	h->seq = 0;
	check_count("write of a record and a bad one", write(fd, buf, 3 * rec),
		    rec);
	check("write starting at the bad one", write(fd, h, 2 * rec), EINVAL);
	free(buf);
	check_big(fd);
}

static int cmd_ioctl_bad(int argc, char **argv)
{
	struct {
		struct paxos_propose_hdr h;
		uint8_t data[PAXOS_MAX_CMD + 64];
	} *w;
	struct paxos_param_kv kv;
	struct paxos_config c;
	struct paxos_status st;
	uint64_t u;
	int fd = open_dev(O_RDWR | O_NONBLOCK), rfd;
	void *volatile bad = (void *)8;
	uint8_t small[16];

	w = calloc(1, sizeof(*w));
	if (!w)
		die("out of memory");

	check("unknown ioctl number", ioctl(fd, _IO(PAXOS_IOC_MAGIC, 99)),
	      ENOTTY);
	check("foreign ioctl type (TCGETS-like)", ioctl(fd, 0x5401, &u),
	      ENOTTY);
	check("STATUS with a size mismatch",
	      ioctl(fd, _IOR(PAXOS_IOC_MAGIC, 1, uint32_t), &u), ENOTTY);
	check("STATUS to a bad pointer",
	      ioctl(fd, PAXOS_IOC_STATUS, (void *)8), EFAULT);
	check("STATUS", ioctl(fd, PAXOS_IOC_STATUS, &st), 0);

	memset(&kv, 0, sizeof(kv));
	check("GET_PARAM key 0", ioctl(fd, PAXOS_IOC_GET_PARAM, &kv), EINVAL);
	kv.key = 1000;
	check("GET_PARAM key 1000", ioctl(fd, PAXOS_IOC_GET_PARAM, &kv),
	      EINVAL);
	kv.key = PAXOS_PARAM_WINDOW;
	kv.pad = 1;
	check("GET_PARAM pad != 0", ioctl(fd, PAXOS_IOC_GET_PARAM, &kv),
	      EINVAL);
	kv.pad = 0;
	check("GET_PARAM window", ioctl(fd, PAXOS_IOC_GET_PARAM, &kv), 0);
	kv.value = 64;
	check("SET_PARAM while up", ioctl(fd, PAXOS_IOC_SET_PARAM, &kv),
	      EBUSY);
	kv.key = 77;
	check("SET_PARAM key 77", ioctl(fd, PAXOS_IOC_SET_PARAM, &kv),
	      EINVAL);
	kv.key = PAXOS_PARAM_WINDOW;
	kv.value = 1ull << 40;
	check("SET_PARAM value 2^40", ioctl(fd, PAXOS_IOC_SET_PARAM, &kv),
	      EINVAL);

	u = 0;
	check("SEEK 0", ioctl(fd, PAXOS_IOC_SEEK, &u), EINVAL);
	check("SEEK bad pointer", ioctl(fd, PAXOS_IOC_SEEK, (void *)8),
	      EFAULT);

	memset(&c, 0, sizeof(c));
	check("UP bad pointer", ioctl(fd, PAXOS_IOC_UP, (void *)8), EFAULT);
	check("UP all zero", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.node_id = 1;
	c.roles = PAXOS_ROLE_ALL;
	snprintf(c.ifname, sizeof(c.ifname), "eth0");
	c.n_peers = 1;
	c.peers[0].node_id = 1;
	memcpy(c.peers[0].mac, "\x02\0\0\0\0\x01", 6);
	c.node_id = 40;
	check("UP node_id 40", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.node_id = 1;
	c.roles = 8;
	check("UP roles 8", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.roles = PAXOS_ROLE_ALL;
	c.n_peers = 33;
	check("UP n_peers 33", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.n_peers = 2;
	c.peers[1] = c.peers[0];
	check("UP duplicate peer", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.peers[1].node_id = 2;
	memcpy(c.peers[1].mac, "\x01\0\x5e\0\0\x01", 6);
	check("UP multicast peer MAC", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	memcpy(c.peers[1].mac, "\x02\0\0\0\0\x02", 6);
	c.peers[0].node_id = 3;
	check("UP peers without self", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.peers[0].node_id = 1;
	memset(c.ifname, 'x', sizeof(c.ifname));
	check("UP ifname not terminated", ioctl(fd, PAXOS_IOC_UP, &c),
	      EINVAL);
	snprintf(c.ifname, sizeof(c.ifname), "eth0");
	c.ethertype = 0x0100;
	check("UP ethertype 0x0100", ioctl(fd, PAXOS_IOC_UP, &c), EINVAL);
	c.ethertype = 0;
	check("UP while an instance is up", ioctl(fd, PAXOS_IOC_UP, &c),
	      EEXIST);

	/* write(2) */
	check("write shorter than the header", write(fd, w, 8), EINVAL);
	w->h.client_id = 1;
	w->h.seq = 1;
	w->h.len = 10;
	check("write len != bytes that follow", write(fd, w, sizeof(w->h) + 9),
	      EINVAL);
	w->h.flags = 1;
	check("write flags != 0", write(fd, w, sizeof(w->h) + 10), EINVAL);
	w->h.flags = 0;
	w->h.seq = 0;
	check("write seq 0", write(fd, w, sizeof(w->h) + 10), EINVAL);
	w->h.seq = 1;
	u = w->h.client_id;
	w->h.client_id = PAXOS_CLIENT_MEMBERSHIP;
	check("write as the reserved membership client",
	      write(fd, w, sizeof(w->h) + 10), EPERM);
	w->h.client_id = u;
	w->h.len = PAXOS_MAX_CMD + 1;
	check("write a command above PAXOS_MAX_CMD",
	      write(fd, w, sizeof(w->h) + PAXOS_MAX_CMD + 1), EMSGSIZE);
	w->h.len = 10;
	check("write from a bad pointer", write(fd, bad, 40), EFAULT);
	check_multi(fd);

	/* read(2) */
	check("read into a buffer below one record header",
	      read(fd, small, sizeof(small)), EMSGSIZE);
	rfd = open(dev_path, O_RDONLY | O_NONBLOCK);
	if (rfd < 0)
		die("open: %s", strerror(errno));
	check("write on a read-only file", write(rfd, w, sizeof(w->h) + 10),
	      EBADF);
	u = 1;
	check("SEEK 1 (a valid seek)", ioctl(rfd, PAXOS_IOC_SEEK, &u), 0);
	close(rfd);

	close(fd);
	free(w);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- frame */

struct frame_kind {
	const char *name;
	const char *drop;	/* counter expected to grow */
};

static const struct frame_kind kinds[] = {
	{ "truncated", "truncated" },	/* shorter than the header */
	{ "short", "truncated" },	/* payload shorter than frag_len */
	{ "oversized", "oversized" },	/* msg_len above PAXOS_MAX_MSG */
	{ "badmagic", "bad_magic" },
	{ "badver", "bad_version" },
	{ "reserved", "bad_version" },	/* reserved byte set */
	{ "foreign", "foreign_cluster" },
	{ "foreigngroup", "foreign_group" },
	{ "badtype", "unknown_type" },
	{ "badnode", "bad_node" },	/* src is not a member */
	{ "baddst", "bad_node" },	/* dst is another node */
	{ "badfrag", "bad_frag" },	/* frag_idx >= frag_cnt */
	{ "badbody", "bad_body" },	/* HEARTBEAT body of 4 bytes */
	{ "garbage", "bad_magic" },	/* random bytes */
};

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Build payload (after the Ethernet header) of @kind; returns its length. */
static size_t build_frame(const char *kind, uint8_t *p, uint32_t cluster,
			  uint16_t group, uint8_t src)
{
	struct paxos_frame_hdr h;
	size_t len, i;

	memset(&h, 0, sizeof(h));
	h.magic = htons(PAXOS_WIRE_MAGIC);
	h.version = PAXOS_WIRE_VERSION;
	h.type = PAXOS_MSG_STATUS;	/* empty body: the simplest message */
	h.cluster_id = htonl(cluster);
	h.group_id = htons(group);
	h.src = src;
	h.dst = PAXOS_NODE_ALL;
	h.msg_seq = htonl((uint32_t)rng());
	h.frag_cnt = htons(1);
	h.instance = htobe64(1);
	len = sizeof(h);

	if (!strcmp(kind, "truncated")) {
		len = 20;
	} else if (!strcmp(kind, "short")) {
		h.type = PAXOS_MSG_HEARTBEAT;
		h.msg_len = htonl(PAXOS_HEARTBEAT_LEN);
		h.frag_len = htons(PAXOS_HEARTBEAT_LEN);
		len += 6;
	} else if (!strcmp(kind, "oversized")) {
		h.type = PAXOS_MSG_ACCEPT;
		h.msg_len = htonl(PAXOS_MAX_MSG + 1);
		h.frag_cnt = htons(2);
		h.frag_len = htons(100);
		len += 100;
	} else if (!strcmp(kind, "badmagic")) {
		h.magic = htons(0x1234);
	} else if (!strcmp(kind, "badver")) {
		h.version = 7;
	} else if (!strcmp(kind, "reserved")) {
		h.reserved = 1;
	} else if (!strcmp(kind, "foreign")) {
		h.cluster_id = htonl(cluster + 1);
	} else if (!strcmp(kind, "foreigngroup")) {
		h.group_id = htons(group + 1);
	} else if (!strcmp(kind, "badtype")) {
		h.type = 0x77;
	} else if (!strcmp(kind, "badnode")) {
		h.src = 30;
	} else if (!strcmp(kind, "baddst")) {
		h.dst = 29;
	} else if (!strcmp(kind, "badfrag")) {
		h.frag_idx = htons(1);
	} else if (!strcmp(kind, "badbody")) {
		h.type = PAXOS_MSG_HEARTBEAT;
		h.msg_len = htonl(4);
		h.frag_len = htons(4);
		len += 4;
	} else if (!strcmp(kind, "garbage")) {
		len = 64 + rng() % 400;
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)rng();
		if (p[0] == PAXOS_WIRE_MAGIC >> 8)
			p[0] ^= 0xff;
	} else {
		die("unknown frame kind '%s'", kind);
	}
	if (!strcmp(kind, "garbage"))
		return len;

	memcpy(p, &h, sizeof(h) < len ? sizeof(h) : len);
	for (i = sizeof(h); i < len; i++)
		p[i] = (uint8_t)rng();
	return len;
}

static int cmd_frame(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "if", 1, NULL, 'f' }, { "kind", 1, NULL, 'k' },
		{ "count", 1, NULL, 'n' }, { "cluster", 1, NULL, 'c' },
		{ "group", 1, NULL, 'g' }, { "src", 1, NULL, 's' },
		{ "dst-mac", 1, NULL, 'd' }, { "ethertype", 1, NULL, 'e' },
		{ "list", 0, NULL, 'l' }, { NULL, 0, NULL, 0 },
	};
	const char *ifname = "eth0", *kind = NULL;
	uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t count = 1, i;
	uint32_t cluster = 0;
	uint16_t group = 0, ethertype = PAXOS_ETHERTYPE;
	uint8_t src = 2, frame[9100];
	struct sockaddr_ll sll;
	struct ether_addr *mac;
	int o, s;
	size_t k;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			ifname = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'n':
			count = num(optarg);
			break;
		case 'c':
			cluster = (uint32_t)num(optarg);
			break;
		case 'g':
			group = (uint16_t)num(optarg);
			break;
		case 's':
			src = (uint8_t)num(optarg);
			break;
		case 'e':
			ethertype = (uint16_t)num(optarg);
			break;
		case 'd':
			mac = ether_aton(optarg);
			if (!mac)
				die("bad MAC '%s'", optarg);
			memcpy(dst, mac, 6);
			break;
		case 'l':
			for (k = 0; k < ARRAY_SIZE(kinds); k++)
				printf("%s %s\n", kinds[k].name, kinds[k].drop);
			return 0;
		default:
			usage();
		}
	}
	if (!kind)
		die("frame: --kind is required (--list shows them)");
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		if (!strcmp(kinds[k].name, kind))
			break;
	if (k == ARRAY_SIZE(kinds))
		die("unknown frame kind '%s'", kind);

	s = socket(AF_PACKET, SOCK_DGRAM, htons(ethertype));
	if (s < 0)
		die("socket(AF_PACKET): %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ethertype);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dst, 6);
	if (!sll.sll_ifindex)
		die("no interface %s", ifname);
	rng_state ^= (uint64_t)getpid() << 20 ^ now_ms();
	for (i = 0; i < count; i++) {
		size_t len = build_frame(kind, frame, cluster, group, src);

		if (sendto(s, frame, len, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) < 0)
			die("sendto: %s", strerror(errno));
	}
	close(s);
	printf("sent %" PRIu64 " %s frame(s): expect drop_%s\n", count, kind,
	       kinds[k].drop);
	return 0;
}

/* ----------------------------------------------------------------- main */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "up", cmd_up },
	{ "down", cmd_down },
	{ "status", cmd_status },
	{ "param", cmd_param },
	{ "propose", cmd_propose },
	{ "dump", cmd_dump },
	{ "wait-read", cmd_wait_read },
	{ "ioctl-bad", cmd_ioctl_bad },
	{ "frame", cmd_frame },
};

int main(int argc, char **argv)
{
	size_t i;

	if (getenv("PXTEST_DEV"))
		dev_path = getenv("PXTEST_DEV");
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--dev") && argc > 2)
			dev_path = argv[2];
		else if (!strcmp(argv[1], "--netns") && argc > 2)
			netns_list = argv[2];
		else if (!strcmp(argv[1], "--expect") && argc > 2)
			expect_errno = errno_by_name(argv[2]);
		else
			usage();
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (netns_list && !strchr(netns_list, ','))
		enter_netns(netns_list);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, argv[1]))
			return cmds[i].fn(argc - 1, argv + 1);
	usage();
}
