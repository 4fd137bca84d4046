// SPDX-License-Identifier: MIT
/*
 * kvstore: CLI <-> server framing and error messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"
#include "wire.h"

static int write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[3];
	ssize_t w;
	int i;

	memcpy(v, iov, n * sizeof(*v));
	i = 0;
	while (i < n) {
		w = writev(fd, v + i, n - i);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (i < n && (size_t)w >= v[i].iov_len) {
			w -= v[i].iov_len;
			i++;
		}
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= w;
		}
	}
	return 0;
}

int kv_send(int fd, const void *buf, size_t len)
{
	uint8_t hdr[4] = { len, len >> 8, len >> 16, len >> 24 };
	struct iovec iov[2] = {
		{ hdr, 4 }, { (void *)buf, len },
	};

	return write_all(fd, iov, 2);
}

static int read_all(int fd, void *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = read(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf = (char *)buf + r;
		len -= r;
	}
	return 0;
}

int kv_recv(int fd, uint8_t **buf, uint32_t *len, uint32_t max)
{
	uint8_t hdr[4];

	if (read_all(fd, hdr, 4))
		return -1;
	*len = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	if (*len > max)
		return -1;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -1;
	if (read_all(fd, *buf, *len)) {
		free(*buf);
		return -1;
	}
	return 0;
}

int kv_connect(const char *name, int wait_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	struct timespec ts = { 0, 50 * 1000000 };
	int fd, err;

	if (n + 1 >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path + 1, name, n);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa,
			     offsetof(struct sockaddr_un, sun_path) + 1 + n))
			return fd;
		err = -errno;
		close(fd);
		if (wait_ms <= 0)
			return err;
		nanosleep(&ts, NULL);
		wait_ms -= 50;
	}
}

void kv_explain(const char *what, int err)
{
	const char *hint = "";

	switch (-err) {
	case ENOENT:
		hint = " - is the paxos module loaded (modprobe paxos)?";
		break;
	case ENOTCONN:
		hint = " - no kpaxos instance in this network namespace; "
		       "configure one with `paxosctl up`";
		break;
	case EACCES:
	case EPERM:
		hint = " - no permission on /dev/paxos";
		break;
	case EOVERFLOW:
		hint = " - the log's beginning was trimmed on this node; run `kvstore serve` early to keep a replica";
		break;
	case ETIMEDOUT:
		hint = " - no quorum decided the command in time; check `paxosctl status`";
		break;
	}
	fprintf(stderr, "kvstore: %s: %s%s\n", what, strerror(-err), hint);
}
