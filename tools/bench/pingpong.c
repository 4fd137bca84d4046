// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pingpong: the floor a replication protocol on these links can reach - one
 * frame there and one back between two nodes, through AF_PACKET raw sockets
 * (the frames paxos.ko sends) or UDP (what pxd --udp sends).
 *
 *   pingpong server --raw IFNAME [--ethertype N]      echo frames back
 *   pingpong server --udp [HOST]:PORT
 *   pingpong client --raw IFNAME --dst MAC [-n N] [-s BYTES] [--json]
 *   pingpong client --udp HOST:PORT [-n N] [-s BYTES] [--json]
 *
 * The client sends one frame, blocks until its echo returns, and repeats;
 * it prints round-trip percentiles.  Both ends sleep in recv(), as the
 * kernel threads and pxd do, so wakeup costs are part of the floor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/if_packet.h>

#include "bench.h"

#define PP_ETHERTYPE	0x88B6	/* IEEE 802 local experimental 2 */

enum { ETH_HDR = 14, MAX_FRAME = 9018, WARMUP = 50 };

struct pp {
	bool raw, server, json;
	char ifname[IFNAMSIZ];
	u16 ethertype;
	u8 mac[6], dst[6];
	int ifindex;
	struct sockaddr_in udp;
	long count, size;
	int fd;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_mac(const char *s, u8 mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int parse_hostport(const char *s, struct sockaddr_in *sin)
{
	char host[64] = "";
	const char *colon = strrchr(s, ':');

	if (!colon || colon - s >= (long)sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(colon + 1));
	return inet_pton(AF_INET, host[0] ? host : "0.0.0.0",
			 &sin->sin_addr) == 1 ? 0 : -1;
}

static int open_raw(struct pp *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;

	p->fd = socket(AF_PACKET, SOCK_RAW, htons(p->ethertype));
	if (p->fd < 0) {
		perror("pingpong: socket(AF_PACKET)");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->ifname);
	if (ioctl(p->fd, SIOCGIFINDEX, &ifr)) {
		perror(p->ifname);
		return -1;
	}
	p->ifindex = ifr.ifr_ifindex;
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr)) {
		perror(p->ifname);
		return -1;
	}
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = htons(p->ethertype);
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("pingpong: bind");
		return -1;
	}
	return 0;
}

static int open_udp(struct pp *p)
{
	p->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (p->fd < 0) {
		perror("pingpong: socket");
		return -1;
	}
	if (p->server && bind(p->fd, (struct sockaddr *)&p->udp,
			      sizeof(p->udp))) {
		perror("pingpong: bind");
		return -1;
	}
	if (!p->server && connect(p->fd, (struct sockaddr *)&p->udp,
				  sizeof(p->udp))) {
		perror("pingpong: connect");
		return -1;
	}
	return 0;
}

static int serve(struct pp *p)
{
	static u8 buf[MAX_FRAME];
	struct sockaddr_storage from;
	struct sockaddr_ll *ll = (struct sockaddr_ll *)&from;
	socklen_t fl;
	ssize_t n;

	while (!stop) {
		fl = sizeof(from);
		n = recvfrom(p->fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("pingpong: recv");
			return 1;
		}
		if (p->raw) {
			if (ll->sll_pkttype == PACKET_OUTGOING || n < ETH_HDR)
				continue;
			memcpy(buf, buf + 6, 6);
			memcpy(buf + 6, p->mac, 6);
			n = send(p->fd, buf, n, 0);
		} else {
			n = sendto(p->fd, buf, n, 0, (struct sockaddr *)&from,
				   fl);
		}
		if (n < 0 && errno != EINTR)
			perror("pingpong: send");
	}
	return 0;
}

static int client(struct pp *p)
{
	static u8 buf[MAX_FRAME], rbuf[MAX_FRAME];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	long total = p->count + WARMUP, i, lost = 0, got = 0;
	u64 *rtt, t0, seq, sum = 0;
	size_t len, off;
	ssize_t n;

	rtt = calloc(p->count, sizeof(*rtt));
	if (!rtt)
		return 1;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	off = p->raw ? ETH_HDR : 0;
	len = off + p->size;
	if (p->raw && len < 60)
		len = 60;
	memset(buf, 0xa5, len);
	if (p->raw) {
		memcpy(buf, p->dst, 6);
		memcpy(buf + 6, p->mac, 6);
		buf[12] = p->ethertype >> 8;
		buf[13] = p->ethertype;
	}
	for (i = 0; i < total && !stop; i++) {
		seq = i + 1;
		memcpy(buf + off, &seq, sizeof(seq));
		t0 = bench_now_ns();
		if (send(p->fd, buf, len, 0) < 0) {
			perror("pingpong: send");
			return 1;
		}
		for (;;) {
			n = recv(p->fd, rbuf, sizeof(rbuf), 0);
			if (n < 0) {
				if (errno == EINTR && !stop)
					continue;
				lost++;	/* timeout: count it, go on */
				break;
			}
			if ((size_t)n >= off + sizeof(seq) &&
			    !memcmp(rbuf + off, &seq, sizeof(seq)) &&
			    (!p->raw || !memcmp(rbuf, p->mac, 6)))
				break;
		}
		if (n < 0 || i < WARMUP)
			continue;
		rtt[got] = bench_now_ns() - t0;
		sum += rtt[got];
		got++;
	}
	bench_sort_u64(rtt, got);
	if (p->json)
		printf("{\"kind\":\"pingpong\",\"transport\":\"%s\","
		       "\"size\":%ld,\"count\":%ld,\"lost\":%ld,"
		       "\"rtt_us\":{\"min\":%.1f,\"p50\":%.1f,\"p99\":%.1f,"
		       "\"p999\":%.1f,\"mean\":%.1f}}\n",
		       p->raw ? "raw" : "udp", p->size, got, lost,
		       got ? rtt[0] / 1e3 : 0,
		       bench_pct(rtt, got, 50) / 1e3,
		       bench_pct(rtt, got, 99) / 1e3,
		       bench_pct(rtt, got, 99.9) / 1e3,
		       got ? sum / 1e3 / got : 0);
	else
		printf("%s ping-pong, %ld bytes, %ld round trips (%ld lost): "
		       "min %.1f p50 %.1f p99 %.1f p99.9 %.1f mean %.1f us\n",
		       p->raw ? "raw" : "udp", p->size, got, lost,
		       got ? rtt[0] / 1e3 : 0,
		       bench_pct(rtt, got, 50) / 1e3,
		       bench_pct(rtt, got, 99) / 1e3,
		       bench_pct(rtt, got, 99.9) / 1e3,
		       got ? sum / 1e3 / got : 0);
	free(rtt);
	return got ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
"usage: pingpong server --raw IFNAME [--ethertype N] | --udp [HOST]:PORT\n"
"       pingpong client --raw IFNAME --dst MAC | --udp HOST:PORT\n"
"                       [-n COUNT] [-s BYTES] [--json]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw", required_argument, NULL, 'r' },
		{ "udp", required_argument, NULL, 'u' },
		{ "dst", required_argument, NULL, 'd' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct pp p = { .ethertype = PP_ETHERTYPE, .count = 1000,
			.size = 64, .fd = -1 };
	bool have_dst = false, have_tr = false;
	int c;

	if (argc < 2) {
		usage();
		return 1;
	}
	if (!strcmp(argv[1], "server"))
		p.server = true;
	else if (strcmp(argv[1], "client")) {
		usage();
		return 1;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "r:u:d:e:n:s:jh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			p.raw = true;
			have_tr = true;
			snprintf(p.ifname, sizeof(p.ifname), "%s", optarg);
			break;
		case 'u':
			have_tr = true;
			if (parse_hostport(optarg, &p.udp)) {
				fprintf(stderr, "pingpong: bad %s\n", optarg);
				return 1;
			}
			break;
		case 'd':
			if (parse_mac(optarg, p.dst)) {
				fprintf(stderr, "pingpong: bad MAC %s\n",
					optarg);
				return 1;
			}
			have_dst = true;
			break;
		case 'e':
			p.ethertype = strtol(optarg, NULL, 0);
			break;
		case 'n':
			p.count = strtol(optarg, NULL, 0);
			break;
		case 's':
			p.size = bench_parse_size(optarg);
			break;
		case 'j':
			p.json = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (!have_tr || (p.raw && !p.server && !have_dst) || p.count < 1 ||
	    p.size < 8 || p.size > MAX_FRAME - ETH_HDR) {
		usage();
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (p.raw ? open_raw(&p) : open_udp(&p))
		return 1;
	return p.server ? serve(&p) : client(&p);
}
