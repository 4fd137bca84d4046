// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pxd: one kpaxos node in user space - options, event loop, role driving.
 *
 * One thread owns the three role objects.  Every event (a frame, a client
 * record, the timer) is stepped into the roles; then drain() carries out
 * their struct px_ready effects in the order px.h requires (persist - this
 * daemon is in-memory like the module - then send, then wake readers),
 * handing messages addressed to this node straight back to the local roles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <getopt.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include "pxd.h"
#include "bench.h"

enum { TAG_TIMER = 1, TAG_NET, TAG_LISTEN, TAG_CTL };

static struct pxd *the_pxd;

u64 pxd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void step_roles(struct pxd *d, const struct px_msg *m)
{
	u32 roles = px_msg_roles(m->type);
	u64 now = d->now;

	if (roles & PAXOS_ROLE_ACCEPTOR)
		px_acceptor_step(&d->acc, m);
	if (roles & PAXOS_ROLE_PROPOSER)
		px_proposer_step(d->prop, now, m);
	if (roles & PAXOS_ROLE_LEARNER)
		px_learner_step(d->lrn, now, m);
}

/* A message from the wire. */
void pxd_dispatch(struct pxd *d, const struct px_msg *m)
{
	d->st.msgs_rx++;
	step_roles(d, m);
}

/* Carry out one role's effects; returns true if there were any. */
static bool run_ready(struct pxd *d, struct px_ready *from)
{
	struct px_ready rd;
	struct px_obuf *o;
	struct px_msg m;

	if (px_ready_empty(from))
		return false;
	px_ready_init(&rd);
	px_ready_take(from, &rd);

	/* 1. persist: pxd keeps acceptor state in memory, as paxos.ko does */

	/* 2. send: the wire first, then this node's own roles */
	for (o = rd.msgs; o; o = o->next) {
		if (o->dst == d->cfg.self)
			continue;
		m = (struct px_msg){ .type = o->type, .src = d->cfg.self,
			.dst = o->dst, .ballot = o->ballot,
			.instance = o->instance, .body = o->body, .len = o->len };
		pxd_net_send(d, &m);
		d->st.msgs_tx++;
	}
	for (o = rd.msgs; o; o = o->next) {
		if (o->dst != d->cfg.self && o->dst != PAXOS_NODE_ALL)
			continue;
		m = (struct px_msg){ .type = o->type, .src = d->cfg.self,
			.dst = o->dst, .ballot = o->ballot,
			.instance = o->instance, .body = o->body, .len = o->len,
			.block = o };
		d->st.local_msgs++;
		step_roles(d, &m);
	}
	/* 3. readers are woken by the caller once everything is drained */
	if (rd.delivered > d->delivered)
		d->delivered = rd.delivered;
	px_ready_free(&rd);
	return true;
}

static void tick(struct pxd *d, u64 now)
{
	px_proposer_tick(d->prop, now);
	px_learner_tick(d->lrn, now);
}

static u64 next_deadline(struct pxd *d)
{
	u64 a = px_proposer_next_deadline(d->prop);
	u64 b = px_learner_next_deadline(d->lrn);

	return PX_MIN(a, b);
}

static void arm_timer(struct pxd *d, u64 when)
{
	struct itimerspec its = { 0 };

	if (when == d->armed)
		return;
	its.it_value.tv_sec = when / 1000000;
	its.it_value.tv_nsec = (when % 1000000) * 1000;
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		d->armed = when;
}

/* Run every role's effects until none is left, then wake readers. */
static void drain(struct pxd *d)
{
	struct px_learner_info li;
	bool ticked = false;
	u64 now, dl;
	int rounds;

	for (rounds = 0; rounds < 10000; rounds++) {
		bool any = false;

		any |= run_ready(d, &d->acc.out);
		any |= run_ready(d, px_proposer_ready(d->prop));
		any |= run_ready(d, px_learner_ready(d->lrn));
		if (!any && d->n_blocked) {
			u32 before = d->n_blocked;

			pxd_client_retry(d);
			any = d->n_blocked != before ||
			      !px_ready_empty(px_proposer_ready(d->prop));
		}
		if (!any) {
			if (ticked)
				break;
			now = d->now = pxd_now();
			dl = next_deadline(d);
			if (dl > now)
				break;
			tick(d, now);
			ticked = true;
		}
	}
	pxd_net_flush(d);

	px_learner_info(d->lrn, &li);
	if (li.delivered > d->delivered)
		d->delivered = li.delivered;
	pxd_client_deliver(d);

	now = d->now;
	dl = next_deadline(d);
	if (dl > now + 10000000)
		dl = now + 10000000;
	arm_timer(d, dl);
}

static int ep_add(struct pxd *d, int fd, u64 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int run(struct pxd *d)
{
	struct epoll_event evs[64];
	u64 junk;
	int n, i;

	d->now = pxd_now();
	drain(d);
	while (!d->stop) {
		n = epoll_wait(d->ep, evs, PX_ARRAY_SIZE(evs), -1);
		/*
		 * One clock read per round: a guest without a stable TSC pays
		 * an emulated HPET access for each.
		 */
		d->now = pxd_now();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("pxd: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_TIMER:
				if (read(d->tfd, &junk, sizeof(junk)) < 0)
					(void)0;
				d->armed = 0;
				tick(d, d->now);
				break;
			case TAG_NET:
				pxd_net_rx(d);
				break;
			case TAG_LISTEN:
				pxd_client_accept(d);
				break;
			case TAG_CTL:
				pxd_ctl_accept(d);
				break;
			default:
				pxd_client_event(d, evs[i].data.ptr,
						 evs[i].events);
				break;
			}
		}
		drain(d);
	}
	return 0;
}

/* ----------------------------------------------------------------- options */

static int parse_mac(const char *s, u8 mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_hostport(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || colon - s >= (long)sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0",
		      &sin->sin_addr) != 1)
		return -1;
	return 0;
}

/* "ID=HOST:PORT" (udp) or "ID=MAC" (raw) */
static int parse_peer(struct pxd *d, const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);
	struct pxd_peer *p;

	if (*end != '=' || id < 1 || id > PAXOS_MAX_NODES)
		return -1;
	p = &d->peers[id];
	p->id = id;
	p->set = true;
	if (strchr(end + 1, '.') || end[1] == ':')
		return parse_hostport(end + 1, &p->udp);
	return parse_mac(end + 1, p->mac);
}

static void usage(void)
{
	fprintf(stderr,
"usage: pxd --id N --sock PATH [--udp [HOST]:PORT | --raw IFNAME]\n"
"           --peer ID=HOST:PORT|ID=MAC ... [options]\n"
"       pxd --status CTLPATH\n"
"options: --window N --batch-bytes N --batch-delay-us N --heartbeat-us N\n"
"         --election-us N --retransmit-us N --mtu N --ethertype N\n"
"         --cluster-id N --group-id N --ctl PATH --verbose\n"
"Every peer, this node included, is a voting member.  Clients write\n"
"struct paxos_propose_hdr records to the unix socket and read struct\n"
"paxos_delivery_hdr records, as with /dev/paxos; CTLPATH (default\n"
"PATH.ctl) answers with one struct paxos_status.\n");
}

static int print_status(const char *path);

static void on_signal(int sig)
{
	(void)sig;
	if (the_pxd)
		the_pxd->stop = 1;
}

enum {
	OPT_WINDOW = 256, OPT_BATCH_BYTES, OPT_BATCH_DELAY, OPT_HEARTBEAT,
	OPT_ELECTION, OPT_RETRANSMIT, OPT_MTU, OPT_ETHERTYPE, OPT_CLUSTER,
	OPT_GROUP, OPT_CTL, OPT_STATUS,
};

static const struct option long_opts[] = {
	{ "id", required_argument, NULL, 'i' },
	{ "sock", required_argument, NULL, 's' },
	{ "udp", required_argument, NULL, 'u' },
	{ "raw", required_argument, NULL, 'r' },
	{ "peer", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
	{ "batch-delay-us", required_argument, NULL, OPT_BATCH_DELAY },
	{ "heartbeat-us", required_argument, NULL, OPT_HEARTBEAT },
	{ "election-us", required_argument, NULL, OPT_ELECTION },
	{ "retransmit-us", required_argument, NULL, OPT_RETRANSMIT },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "ethertype", required_argument, NULL, OPT_ETHERTYPE },
	{ "cluster-id", required_argument, NULL, OPT_CLUSTER },
	{ "group-id", required_argument, NULL, OPT_GROUP },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "status", required_argument, NULL, OPT_STATUS },
	{ NULL, 0, NULL, 0 },
};

struct overrides {
	long window, batch_bytes, batch_delay, heartbeat, election;
	long retransmit, mtu;
};

static int apply_config(struct pxd *d, u8 self, const struct overrides *o)
{
	u32 members = 0;
	const char *why = "";
	int i;

	for (i = 1; i <= PAXOS_MAX_NODES; i++)
		if (d->peers[i].set || i == self)
			members |= 1u << i;
	px_config_default(&d->cfg, self, members);
	if (o->window >= 0)
		d->cfg.window = o->window;
	if (o->batch_bytes >= 0)
		d->cfg.batch_bytes = o->batch_bytes;
	if (o->batch_delay >= 0)
		d->cfg.batch_delay_us = o->batch_delay;
	if (o->heartbeat >= 0)
		d->cfg.heartbeat_us = o->heartbeat;
	if (o->election >= 0)
		d->cfg.election_us = o->election;
	if (o->retransmit >= 0)
		d->cfg.retransmit_us = o->retransmit;
	d->cfg.seed = pxd_now() * 0x9E3779B97F4A7C15ull ^ self ^
		      (u64)getpid() << 32;
	if (px_config_check(&d->cfg, &why)) {
		fprintf(stderr, "pxd: bad configuration: %s\n", why);
		return -1;
	}
	d->wcfg.self = self;
	d->wcfg.members = members;
	d->wcfg.key = NULL;
	if (o->mtu > 0)
		d->wcfg.mtu = o->mtu;
	return 0;
}

int main(int argc, char **argv)
{
	static struct pxd pxd;
	struct pxd *d = &pxd;
	struct overrides o = { -1, -1, -1, -1, -1, -1, -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	long id = 0;
	int c, ret = 1;

	d->transport = PXD_UDP;
	d->ethertype = PAXOS_ETHERTYPE;
	d->wcfg.cluster_id = 1;
	d->wcfg.group_id = 0;
	d->ep = d->tfd = d->net_fd = d->lsock = d->ctl_sock = -1;
	while ((c = getopt_long(argc, argv, "i:s:u:r:p:vh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			id = strtol(optarg, NULL, 0);
			break;
		case 's':
			d->sock_path = optarg;
			break;
		case 'u':
			d->transport = PXD_UDP;
			if (parse_hostport(optarg, &d->listen)) {
				fprintf(stderr, "pxd: bad --udp %s\n", optarg);
				return 1;
			}
			break;
		case 'r':
			d->transport = PXD_RAW;
			snprintf(d->ifname, sizeof(d->ifname), "%s", optarg);
			break;
		case 'p':
			if (parse_peer(d, optarg)) {
				fprintf(stderr, "pxd: bad --peer %s\n", optarg);
				return 1;
			}
			break;
		case 'v':
			d->verbose = true;
			break;
		case OPT_WINDOW:
			o.window = strtol(optarg, NULL, 0);
			break;
		case OPT_BATCH_BYTES:
			o.batch_bytes = strtol(optarg, NULL, 0);
			break;
		case OPT_BATCH_DELAY:
			o.batch_delay = strtol(optarg, NULL, 0);
			break;
		case OPT_HEARTBEAT:
			o.heartbeat = strtol(optarg, NULL, 0);
			break;
		case OPT_ELECTION:
			o.election = strtol(optarg, NULL, 0);
			break;
		case OPT_RETRANSMIT:
			o.retransmit = strtol(optarg, NULL, 0);
			break;
		case OPT_MTU:
			o.mtu = strtol(optarg, NULL, 0);
			break;
		case OPT_ETHERTYPE:
			d->ethertype = strtol(optarg, NULL, 0);
			break;
		case OPT_CLUSTER:
			d->wcfg.cluster_id = strtoul(optarg, NULL, 0);
			break;
		case OPT_GROUP:
			d->wcfg.group_id = strtoul(optarg, NULL, 0);
			break;
		case OPT_CTL:
			snprintf(d->ctl_path, sizeof(d->ctl_path), "%s",
				 optarg);
			break;
		case OPT_STATUS:
			return print_status(optarg);
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (id < 1 || id > PAXOS_MAX_NODES || !d->sock_path) {
		usage();
		return 1;
	}
	if (d->transport == PXD_UDP && !d->listen.sin_port) {
		fprintf(stderr, "pxd: --udp or --raw is required\n");
		return 1;
	}
	d->peers[id].set = false;	/* self is not a peer to send to */
	if (apply_config(d, id, &o))
		return 1;

	the_pxd = d;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->ep < 0 || d->tfd < 0) {
		perror("pxd: epoll/timerfd");
		goto out;
	}
	if (pxd_net_open(d))
		goto out;
	d->cfg.volatile_acceptor = true;	/* as paxos.ko without a state path */
	if (px_acceptor_init(&d->acc, &d->cfg)) {
		fprintf(stderr, "pxd: acceptor init failed\n");
		goto out_net;
	}
	d->prop = px_proposer_create(&d->cfg, pxd_now());
	d->lrn = px_learner_create(&d->cfg, pxd_now());
	if (!d->prop || !d->lrn) {
		fprintf(stderr, "pxd: out of memory\n");
		goto out_roles;
	}
	px_reasm_init(&d->reasm);
	if (pxd_client_listen(d))
		goto out_reasm;
	if (ep_add(d, d->tfd, TAG_TIMER) || ep_add(d, d->net_fd, TAG_NET) ||
	    ep_add(d, d->lsock, TAG_LISTEN) || ep_add(d, d->ctl_sock, TAG_CTL)) {
		perror("pxd: epoll_ctl");
		goto out_clients;
	}
	if (d->verbose)
		fprintf(stderr, "pxd %u: up, members 0x%x, mtu %u, %s\n",
			d->cfg.self, d->cfg.members, d->wcfg.mtu,
			d->transport == PXD_UDP ? "udp" : "raw");
	ret = run(d);

out_clients:
	pxd_client_close_all(d);
out_reasm:
	px_reasm_uninit(&d->reasm);
out_roles:
	if (d->lrn)
		px_learner_destroy(d->lrn);
	if (d->prop)
		px_proposer_destroy(d->prop);
	px_acceptor_uninit(&d->acc);
out_net:
	pxd_net_close(d);
out:
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->ep >= 0)
		close(d->ep);
	return ret;
}

static int print_status(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct paxos_status s;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		perror("pxd: connect");
		return 1;
	}
	while (got < sizeof(s)) {
		n = read(fd, (char *)&s + got, sizeof(s) - got);
		if (n <= 0) {
			fprintf(stderr, "pxd: short status\n");
			return 1;
		}
		got += n;
	}
	close(fd);
	bench_print_status(&s);
	return 0;
}
