// SPDX-License-Identifier: MIT
/*
 * kvstore: command line.  Talks to the `kvstore serve` of this network
 * namespace when there is one; otherwise becomes a short-lived replica of
 * its own (replaying the log from its first instance).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kpaxos.h>

#include "kv.h"
#include "wire.h"

enum { EXIT_NO = 1, EXIT_USAGE = 2, EXIT_ERR = 3 };

enum mode { MODE_AUTO, MODE_SERVER, MODE_STANDALONE };

static struct {
	const char *socket;
	const char *device;
	uint32_t timeout_ms;
	int wait_ms;
	enum mode mode;
} g = { .socket = KV_SOCKET, .timeout_ms = 30000 };

static const char usage_text[] =
"NAME\n"
"    kvstore - replicated key-value store on kpaxos (libkpaxos example)\n"
"\n"
"SYNOPSIS\n"
"    kvstore [OPTIONS] serve [--log FILE] [--from-now] [--quiet]\n"
"    kvstore [OPTIONS] put KEY VALUE\n"
"    kvstore [OPTIONS] get KEY\n"
"    kvstore [OPTIONS] delete KEY\n"
"    kvstore [OPTIONS] cas KEY EXPECTED NEW\n"
"    kvstore [OPTIONS] cas --absent KEY NEW\n"
"    kvstore [OPTIONS] incr KEY [DELTA]\n"
"    kvstore [OPTIONS] dump\n"
"    kvstore [OPTIONS] ping\n"
"    kvstore [OPTIONS] load -n COUNT [--async] [--threads T] [--key KEY]\n"
"    kvstore [OPTIONS] fill -n COUNT [--prefix P]\n"
"\n"
"DESCRIPTION\n"
"    Every change is a command in the kpaxos log; every replica applies\n"
"    the log in the same order, so all replicas hold the same data.  get\n"
"    and dump first wait until everything decided before them is applied\n"
"    locally (kpaxos_sync), so they are linearizable: a put acknowledged\n"
"    on any node is seen by a later get on every node.\n"
"\n"
"    serve keeps a replica in this process and answers the other commands\n"
"    over the abstract unix socket @kpaxos-kvstore, one per network\n"
"    namespace.  It applies the log from instance 1 (or, with --from-now,\n"
"    from the next instance) and with --log appends one line per applied\n"
"    command: INSTANCE POS CLIENT SEQ OP KEY STATUS.  SIGINT/SIGTERM stop it.\n"
"\n"
"    The other commands use the server when one runs; without one they\n"
"    replay the log in a replica of their own, which works as long as this\n"
"    node still retains the log from instance 1.\n"
"\n"
"    cas sets KEY to NEW only if its value is EXPECTED (with --absent: only\n"
"    if KEY does not exist).  incr adds DELTA (default 1) to a decimal\n"
"    value and prints the result.  load is a load generator (always its own\n"
"    replica): COUNT increments of KEY, blocking (kpaxos_propose, from T\n"
"    threads) or asynchronous (kpaxos_propose_async over io_uring, all in\n"
"    flight at once); it checks that the results are exactly the values\n"
"    BASE+1..BASE+COUNT and prints one summary line.  fill puts COUNT\n"
"    keys P1..PCOUNT (default prefix \"fill.\") with values v1..vCOUNT,\n"
"    asynchronously, in its own replica, and checks every put succeeded.\n"
"\n"
"OPTIONS\n"
"    -s, --socket NAME    server socket name (default kpaxos-kvstore)\n"
"    -d, --device PATH    kpaxos device (default /dev/paxos)\n"
"    -t, --timeout MS     give up on a command after MS ms (default 30000)\n"
"    -w, --wait MS        wait up to MS ms for the server to appear\n"
"    -S, --server         require a server (fail if none runs)\n"
"    -L, --standalone     never use a server\n"
"    -h, --help           this text\n"
"    -V, --version        print the version\n"
"\n"
"EXIT STATUS\n"
"    0 success; 1 key not found or cas mismatch (or load check failed);\n"
"    2 usage error; 3 any other error (no module, no instance, timeout).\n"
"\n"
"EXAMPLES\n"
"    ip netns exec px1 kvstore serve --log /tmp/px1.log &\n"
"    ip netns exec px2 kvstore put color blue\n"
"    ip netns exec px3 kvstore get color        # prints blue\n"
"    ip netns exec px1 kvstore cas color blue red\n"
"\n"
"SEE ALSO\n"
"    paxosctl(8), kpaxos.h, docs/userlib.md\n";

static int usage(void)
{
	fputs("usage: kvstore [OPTIONS] COMMAND ARGS... (kvstore --help)\n",
	      stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------- local replica */

struct local {
	struct kpaxos *h;
	struct kv_store *s;
};

static size_t local_apply(void *ctx, const struct kpaxos_cmd_info *info,
			  const void *cmd, size_t len, void *res, size_t cap)
{
	struct local *l = ctx;

	return kv_store_apply(l->s, info->instance, info->pos,
			      info->client_id, info->seq, cmd, len, res, cap);
}

static int local_open(struct local *l)
{
	struct kpaxos_opts o = { .device = g.device, .start_index = 1,
				 .timeout_ms = g.timeout_ms };
	int err;

	l->s = kv_store_new(NULL);
	if (!l->s)
		return -ENOMEM;
	err = kpaxos_open(&l->h, &o);
	if (!err)
		err = kpaxos_set_snapshot(l->h, kv_snapshot_cb, kv_restore_cb,
					  l->s);
	if (!err)
		err = kpaxos_register_apply(l->h, local_apply, l);
	if (err) {
		kpaxos_close(l->h);
		kv_store_free(l->s);
	}
	return err;
}

static void local_close(struct local *l)
{
	kpaxos_close(l->h);
	kv_store_free(l->s);
}

/* Send @msg to the server or a local replica; *res is malloc'd. */
static int request(const uint8_t *msg, size_t len, uint8_t **res,
		   uint32_t *rlen)
{
	struct local l;
	int fd, err;

	if (g.mode != MODE_STANDALONE) {
		fd = kv_connect(g.socket, g.wait_ms);
		if (fd >= 0) {
			err = kv_send(fd, msg, len) ||
			      kv_recv(fd, res, rlen, KV_MAX_REPLY) ?
			      -EPIPE : 0;
			close(fd);
			if (err)
				fprintf(stderr, "kvstore: the server closed the connection\n");
			return err;
		}
		if (g.mode == MODE_SERVER) {
			fprintf(stderr, "kvstore: no server on @%s in this network namespace - start `kvstore serve`\n",
				g.socket);
			return fd;
		}
	}
	err = local_open(&l);
	if (err) {
		kv_explain("cannot open a replica", err);
		return err;
	}
	*res = kv_execute(l.h, l.s, msg, len, rlen);
	local_close(&l);
	return *res ? 0 : -ENOMEM;
}

/* Run @c; print its result the way @c->op wants; returns the exit code. */
static int run_cmd(const struct kv_cmd *c)
{
	uint8_t *msg, *res = NULL, st;
	const uint8_t *val;
	uint32_t vlen, rlen;
	size_t len;
	int code = 0;

	msg = malloc(KV_CMD_HDR + (size_t)c->klen + c->vlen + c->elen);
	if (!msg)
		return EXIT_ERR;
	len = kv_cmd_encode(c, msg, (size_t)-1);
	if (request(msg, len, &res, &rlen)) {
		free(msg);
		return EXIT_ERR;
	}
	free(msg);
	if (kv_res_decode(res, rlen, &st, &val, &vlen)) {
		fprintf(stderr, "kvstore: malformed reply\n");
		free(res);
		return EXIT_ERR;
	}
	switch (st) {
	case KV_OK:
		if (c->op == KV_GET || c->op == KV_INCR)
			printf("%.*s\n", (int)vlen, val);
		else if (c->op == KV_DUMP)
			fwrite(val, 1, vlen, stdout);
		else if (c->op == KV_PING)
			printf("ok\n");
		break;
	case KV_NOTFOUND:
		fprintf(stderr, "kvstore: %.*s: not found\n", (int)c->klen,
			c->key);
		code = EXIT_NO;
		break;
	case KV_MISMATCH:
		fprintf(stderr, "kvstore: %.*s: value is '%.*s'%s\n",
			(int)c->klen, c->key, (int)vlen, val,
			c->flags & KV_F_ABSENT ? " (expected no key)" :
			", not the expected one");
		code = EXIT_NO;
		break;
	case KV_BADCMD:
		fprintf(stderr, "kvstore: %.*s: bad command (incr needs a decimal value and delta)\n", (int)c->klen, c->key);
		code = EXIT_NO;
		break;
	default:
		kv_explain(c->op == KV_GET ? "get" : "command",
			   -atoi((const char *)val));
		code = EXIT_ERR;
		break;
	}
	free(res);
	return code;
}

static void set_str(const char **p, uint32_t *len, const char *s)
{
	*p = s;
	*len = strlen(s);
}

static int cmd_simple(uint8_t op, int argc, char **argv, int nargs)
{
	struct kv_cmd c = { .op = op, .key = "", .val = "", .exp = "" };

	if (argc != nargs + 1)
		return usage();
	if (nargs >= 1)
		set_str(&c.key, &c.klen, argv[1]);
	if (nargs >= 2)
		set_str(&c.val, &c.vlen, argv[2]);
	return run_cmd(&c);
}

static int cmd_put(int argc, char **argv)
{
	return cmd_simple(KV_PUT, argc, argv, 2);
}

static int cmd_get(int argc, char **argv)
{
	return cmd_simple(KV_GET, argc, argv, 1);
}

static int cmd_delete(int argc, char **argv)
{
	return cmd_simple(KV_DEL, argc, argv, 1);
}

static int cmd_dump(int argc, char **argv)
{
	return cmd_simple(KV_DUMP, argc, argv, 0);
}

static int cmd_ping(int argc, char **argv)
{
	return cmd_simple(KV_PING, argc, argv, 0);
}

static int cmd_incr(int argc, char **argv)
{
	struct kv_cmd c = { .op = KV_INCR, .exp = "" };

	if (argc != 2 && argc != 3)
		return usage();
	set_str(&c.key, &c.klen, argv[1]);
	set_str(&c.val, &c.vlen, argc == 3 ? argv[2] : "1");
	return run_cmd(&c);
}

static int cmd_cas(int argc, char **argv)
{
	struct kv_cmd c = { .op = KV_CAS, .exp = "" };

	if (argc == 4 && !strcmp(argv[1], "--absent")) {
		c.flags = KV_F_ABSENT;
		set_str(&c.key, &c.klen, argv[2]);
		set_str(&c.val, &c.vlen, argv[3]);
	} else if (argc == 4) {
		set_str(&c.key, &c.klen, argv[1]);
		set_str(&c.exp, &c.elen, argv[2]);
		set_str(&c.val, &c.vlen, argv[3]);
	} else {
		return usage();
	}
	return run_cmd(&c);
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "from-now", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct kv_serve_opts o = { .socket = g.socket, .device = g.device,
				   .start = 1, .timeout_ms = g.timeout_ms };
	int c;

	optind = 0;	/* GNU: rescan from scratch */
	while ((c = getopt_long(argc, argv, "l:nq", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.log = optarg;
			break;
		case 'n':
			o.start = 0;
			break;
		case 'q':
			o.quiet = true;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	return kv_serve(&o) ? EXIT_ERR : 0;
}

/* ---------------------------------------------------------------- load */

struct load {
	pthread_mutex_t lock;
	int64_t base;
	long n;
	uint8_t *seen;
	long ok, bad, errors;
	int first_err;
	struct kpaxos *h;
	const char *key;
	long next;		/* blocking: next index to claim */
};

static void load_result(struct load *ld, int err, const void *res,
			size_t len)
{
	const uint8_t *val;
	uint32_t vlen;
	uint8_t st;
	char num[32];
	int64_t v;

	pthread_mutex_lock(&ld->lock);
	if (err) {
		ld->errors++;
		if (!ld->first_err)
			ld->first_err = err;
	} else if (kv_res_decode(res, len, &st, &val, &vlen) || st != KV_OK ||
		   vlen >= sizeof(num)) {
		ld->bad++;
	} else {
		memcpy(num, val, vlen);
		num[vlen] = 0;
		v = strtoll(num, NULL, 10) - ld->base;
		if (v < 1 || v > ld->n || ld->seen[v - 1])
			ld->bad++;
		else
			ld->seen[v - 1] = 1, ld->ok++;
	}
	pthread_mutex_unlock(&ld->lock);
}

static void load_done(void *arg, int err, const void *res, size_t len)
{
	load_result(arg, err, res, len);
}

static size_t incr_cmd(const char *key, uint8_t *buf, size_t cap)
{
	struct kv_cmd c = { .op = KV_INCR, .exp = "" };

	set_str(&c.key, &c.klen, key);
	set_str(&c.val, &c.vlen, "1");
	return kv_cmd_encode(&c, buf, cap);
}

static void *load_thread(void *arg)
{
	struct load *ld = arg;
	uint8_t cmd[512], res[128];
	size_t len = incr_cmd(ld->key, cmd, sizeof(cmd));
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&ld->lock);
		if (ld->next >= ld->n) {
			pthread_mutex_unlock(&ld->lock);
			break;
		}
		ld->next++;
		pthread_mutex_unlock(&ld->lock);
		n = kpaxos_propose(ld->h, cmd, len, res, sizeof(res));
		load_result(ld, n < 0 ? (int)n : 0, res, n < 0 ? 0 : n);
	}
	return NULL;
}

static int64_t local_value(struct local *l, const char *key)
{
	uint8_t res[128], st;
	const uint8_t *val;
	uint32_t vlen;
	char num[32];
	size_t n;

	n = kv_store_get(l->s, key, strlen(key), res, sizeof(res));
	if (kv_res_decode(res, n, &st, &val, &vlen) || st != KV_OK ||
	    vlen >= sizeof(num))
		return 0;
	memcpy(num, val, vlen);
	num[vlen] = 0;
	return strtoll(num, NULL, 10);
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "async", no_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 'T' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct load ld = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct timespec t0, t1;
	struct kpaxos_stats st;
	bool async = false;
	int threads = 1, c, i, err;
	uint8_t cmd[512];
	pthread_t *tid;
	struct local l;
	int64_t final;
	double secs;
	size_t len;

	ld.key = NULL;
	optind = 0;	/* GNU: rescan from scratch */
	while ((c = getopt_long(argc, argv, "n:aT:k:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ld.n = strtol(optarg, NULL, 10);
			break;
		case 'a':
			async = true;
			break;
		case 'T':
			threads = atoi(optarg);
			break;
		case 'k':
			ld.key = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || ld.n <= 0 || threads < 1 || threads > 256)
		return usage();
	if (!ld.key)
		ld.key = async ? "load.async" : "load.blocking";
	ld.seen = calloc(ld.n, 1);
	tid = calloc(threads, sizeof(*tid));
	if (!ld.seen || !tid)
		return EXIT_ERR;
	err = local_open(&l);
	if (err) {
		kv_explain("cannot open a replica", err);
		return EXIT_ERR;
	}
	ld.h = l.h;
	err = kpaxos_sync(l.h);
	if (err) {
		kv_explain("sync", err);
		local_close(&l);
		return EXIT_ERR;
	}
	ld.base = local_value(&l, ld.key);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (async) {
		len = incr_cmd(ld.key, cmd, sizeof(cmd));
		for (i = 0; i < ld.n; i++) {
			err = kpaxos_propose_async(l.h, cmd, len,
						   i % 256 == 255 ? 0 :
						   KPAXOS_ASYNC_MORE,
						   load_done, &ld);
			if (err)
				load_result(&ld, err, NULL, 0);
		}
		kpaxos_flush(l.h);
		kpaxos_drain(l.h);
	} else {
		for (i = 0; i < threads; i++)
			pthread_create(&tid[i], NULL, load_thread, &ld);
		for (i = 0; i < threads; i++)
			pthread_join(tid[i], NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	err = kpaxos_sync(l.h);
	final = local_value(&l, ld.key);
	kpaxos_get_stats(l.h, &st);
	printf("load: mode=%s n=%ld key=%s base=%" PRId64 " final=%" PRId64
	       " results=%s ok=%ld bad=%ld errors=%ld elapsed=%.2fs rate=%.0f/s retries=%" PRIu64 " renumbered=%" PRIu64
	       " submits=%" PRIu64 "\n",
	       async ? "async" : "blocking", ld.n, ld.key, ld.base, final,
	       ld.ok == ld.n ? "exact" : "WRONG", ld.ok, ld.bad, ld.errors,
	       secs, secs > 0 ? ld.n / secs : 0.0, st.retries, st.renumbered,
	       st.submits);
	if (ld.first_err)
		kv_explain("propose", ld.first_err);
	local_close(&l);
	free(ld.seen);
	free(tid);
	if (err || ld.errors)
		return EXIT_ERR;
	return ld.ok == ld.n && final == ld.base + ld.n ? 0 : EXIT_NO;
}

/* ---------------------------------------------------------------- fill */

struct fill {
	pthread_mutex_t lock;
	long ok, failed;
	int first_err;
};

static void fill_done(void *arg, int err, const void *res, size_t len)
{
	struct fill *f = arg;
	const uint8_t *val;
	uint32_t vlen;
	uint8_t st;

	pthread_mutex_lock(&f->lock);
	if (!err && !kv_res_decode(res, len, &st, &val, &vlen) &&
	    st == KV_OK) {
		f->ok++;
	} else {
		f->failed++;
		if (err && !f->first_err)
			f->first_err = err;
	}
	pthread_mutex_unlock(&f->lock);
}

static int cmd_fill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct fill f = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *prefix = "fill.";
	char key[256], val[32];
	struct kv_cmd kc = { .op = KV_PUT, .exp = "" };
	uint8_t cmd[512];
	struct local l;
	long n = 0, i;
	size_t len;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'p':
			prefix = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || n <= 0 || strlen(prefix) > 200)
		return usage();
	err = local_open(&l);
	if (err) {
		kv_explain("cannot open a replica", err);
		return EXIT_ERR;
	}
	for (i = 1; i <= n; i++) {
		snprintf(key, sizeof(key), "%s%ld", prefix, i);
		snprintf(val, sizeof(val), "v%ld", i);
		set_str(&kc.key, &kc.klen, key);
		set_str(&kc.val, &kc.vlen, val);
		len = kv_cmd_encode(&kc, cmd, sizeof(cmd));
		err = kpaxos_propose_async(l.h, cmd, len,
					   i % 256 && i != n ?
					   KPAXOS_ASYNC_MORE : 0,
					   fill_done, &f);
		if (err)
			fill_done(&f, err, NULL, 0);
	}
	kpaxos_flush(l.h);
	kpaxos_drain(l.h);
	printf("fill: n=%ld prefix=%s ok=%ld failed=%ld\n", n, prefix, f.ok,
	       f.failed);
	if (f.first_err)
		kv_explain("propose", f.first_err);
	local_close(&l);
	return f.ok == n ? 0 : EXIT_ERR;
}

/* ---------------------------------------------------------------- main */

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "serve", cmd_serve },
	{ "put", cmd_put },
	{ "get", cmd_get },
	{ "delete", cmd_delete },
	{ "del", cmd_delete },
	{ "cas", cmd_cas },
	{ "incr", cmd_incr },
	{ "dump", cmd_dump },
	{ "ping", cmd_ping },
	{ "load", cmd_load },
	{ "fill", cmd_fill },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "server", no_argument, NULL, 'S' },
		{ "standalone", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	size_t i;
	int c;

	/* options up to the command name only */
	while ((c = getopt_long(argc, argv, "+s:d:t:w:SLhV", opts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			g.socket = optarg;
			break;
		case 'd':
			g.device = optarg;
			break;
		case 't':
			g.timeout_ms = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			g.wait_ms = atoi(optarg);
			break;
		case 'S':
			g.mode = MODE_SERVER;
			break;
		case 'L':
			g.mode = MODE_STANDALONE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("kvstore (libkpaxos %d.%d)\n",
			       KPAXOS_VERSION_MAJOR, KPAXOS_VERSION_MINOR);
			return 0;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if (!strcmp(argv[optind], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(argc - optind, argv + optind);
	fprintf(stderr, "kvstore: unknown command '%s'\n", argv[optind]);
	return usage();
}
