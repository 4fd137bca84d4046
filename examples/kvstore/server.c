// SPDX-License-Identifier: MIT
/*
 * `kvstore serve`: keep a replica applying the log and answer the CLI over
 * an abstract unix socket (one name space per network namespace).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <kpaxos.h>

#include "kv.h"
#include "wire.h"

struct server {
	struct kpaxos *h;
	struct kv_store *s;
};

static size_t apply(void *ctx, const struct kpaxos_cmd_info *info,
		    const void *cmd, size_t len, void *res, size_t cap)
{
	struct server *srv = ctx;

	return kv_store_apply(srv->s, info->instance, info->pos,
			      info->client_id, info->seq, cmd, len, res, cap);
}

struct conn {
	struct server *srv;
	int fd;
};

static uint8_t *result(uint8_t status, const void *val, size_t vlen,
		      uint32_t *len)
{
	uint8_t *buf = malloc(KV_RES_HDR + vlen);

	if (buf)
		*len = kv_res_encode(status, val, vlen, buf, KV_RES_HDR + vlen);
	return buf;
}

static uint8_t *error_result(int err, uint32_t *len)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", -err);
	return result(KV_ERROR, num, strlen(num), len);
}

uint8_t *kv_execute(struct kpaxos *h, struct kv_store *s, const uint8_t *msg,
		    uint32_t len, uint32_t *rlen)
{
	uint8_t res[KV_RES_HDR + KV_MAX_MSG], *out;
	struct kv_cmd c;
	size_t dlen = 0;
	char *dump;
	ssize_t n;
	int err;

	if (kv_cmd_decode(&c, msg, len))
		return result(KV_BADCMD, NULL, 0, rlen);
	switch (c.op) {
	case KV_PING:
		return result(KV_OK, NULL, 0, rlen);
	case KV_GET:
		err = kpaxos_sync(h);
		if (err)
			return error_result(err, rlen);
		n = kv_store_get(s, c.key, c.klen, res, sizeof(res));
		break;
	case KV_DUMP:
		err = kpaxos_sync(h);
		if (err)
			return error_result(err, rlen);
		dump = kv_store_dump(s, &dlen);
		if (!dump)
			return error_result(-ENOMEM, rlen);
		out = result(KV_OK, dump, dlen, rlen);
		free(dump);
		return out;
	default:
		n = kpaxos_propose(h, msg, len, res, sizeof(res));
		if (n < 0)
			return error_result(n, rlen);
		if ((size_t)n > sizeof(res))
			return error_result(-EMSGSIZE, rlen);
		break;
	}
	out = malloc(n);
	if (out) {
		memcpy(out, res, n);
		*rlen = n;
	}
	return out;
}

static void *conn_run(void *arg)
{
	struct conn *c = arg;
	uint8_t *msg;
	uint32_t len;

	uint8_t *res;
	uint32_t rlen;
	int err;

	while (!kv_recv(c->fd, &msg, &len, KV_MAX_MSG + KV_CMD_HDR * 2)) {
		res = kv_execute(c->srv->h, c->srv->s, msg, len, &rlen);
		free(msg);
		err = res ? kv_send(c->fd, res, rlen) : -1;
		free(res);
		if (err)
			break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

int kv_serve(const struct kv_serve_opts *o)
{
	struct kpaxos_opts ko = { .device = o->device,
				  .start_index = o->start,
				  .timeout_ms = o->timeout_ms };
	struct server srv = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd[2];
	pthread_attr_t attr;
	FILE *log = NULL;
	sigset_t sigs;
	int lfd = -1, sfd = -1, err, ret = 1;
	size_t nlen = strlen(o->socket);
	pthread_t t;

	if (nlen + 1 >= sizeof(sa.sun_path)) {
		fprintf(stderr, "kvstore: socket name too long\n");
		return 2;
	}
	if (o->log) {
		log = fopen(o->log, "a");
		if (!log) {
			fprintf(stderr, "kvstore: cannot open log %s: %s\n",
				o->log, strerror(errno));
			return 1;
		}
	}
	srv.s = kv_store_new(log);
	if (!srv.s)
		goto out;
	err = kpaxos_open(&srv.h, &ko);
	if (err) {
		kv_explain("open", err);
		goto out;
	}
	err = kpaxos_set_snapshot(srv.h, kv_snapshot_cb, kv_restore_cb,
				  srv.s);
	if (!err)
		err = kpaxos_register_apply(srv.h, apply, &srv);
	if (err) {
		kv_explain("start", err);
		goto out;
	}

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path + 1, o->socket, nlen);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa,
			    offsetof(struct sockaddr_un, sun_path) + 1 + nlen) ||
	    listen(lfd, 64)) {
		fprintf(stderr, "kvstore: cannot listen on @%s: %s%s\n",
			o->socket, strerror(errno), errno == EADDRINUSE ?
			" (a kvstore server already runs in this network namespace; use --socket NAME for another)" : "");
		goto out;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	if (!o->quiet)
		printf("kvstore: serving @%s, client id %016" PRIx64 "\n",
		       o->socket, kpaxos_client_id(srv.h));
	fflush(stdout);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		struct conn *c;
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			ret = 0;
			break;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->srv = &srv;
		c->fd = fd;
		if (pthread_create(&t, &attr, conn_run, c)) {
			free(c);
			close(fd);
		}
	}
out:
	/*
	 * Connection threads may still be inside kpaxos calls: leave the
	 * handle to process exit rather than closing it under them.
	 */
	if (log)
		fflush(log);
	if (!o->quiet && !ret)
		printf("kvstore: %" PRIu64 " keys, applied up to instance %"
		       PRIu64 "\n", kv_store_count(srv.s),
		       srv.h ? kpaxos_applied_index(srv.h) : 0);
	return ret;
}
