/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pxd: one kpaxos node in user space.  The protocol core of kmod/core/
 * (acceptor, proposer, learner; compiled from the same sources as paxos.ko)
 * driven by a single-threaded epoll + timerfd loop, talking to its peers
 * over UDP or AF_PACKET sockets with the kernel's frame format, and to its
 * clients over a unix stream socket with the /dev/paxos record formats
 * (struct paxos_propose_hdr in, struct paxos_delivery_hdr out).
 *
 * It exists to be compared with the module (tools/bench/load drives both)
 * and as a second deployment of the core (tools/bench/test-pxd.sh).
 */
#ifndef PXD_H
#define PXD_H

#include <sys/socket.h>
#include <netinet/in.h>

#include "../../kmod/core/px.h"
#include "../../kmod/core/px_wire.h"

enum pxd_transport {
	PXD_UDP,		/* frame payload in one UDP datagram */
	PXD_RAW,		/* Ethernet frame, AF_PACKET, like paxos.ko */
};

enum {
	PXD_RX_BATCH = 32,	/* datagrams per recvmmsg() */
	PXD_TX_BATCH = 64,	/* frames per sendmmsg() */
	PXD_CLIENT_IN = 256 << 10,	/* client input buffer */
	PXD_CLIENT_OUT_LOW = 256 << 10,	/* refill deliveries below this */
};

struct pxd_peer {
	u8 id;
	bool set;
	struct sockaddr_in udp;
	u8 mac[6];
};

struct pxd_stats {
	u64 frames_rx, frames_tx, msgs_rx, msgs_tx, local_msgs;
	u64 proposals, delivered_cmds, duplicates, send_errors;
	u64 drops[__PAXOS_DROP_MAX];
};

struct pxd_client;

struct pxd {
	struct px_config cfg;
	struct px_wire_cfg wcfg;
	struct px_acceptor acc;
	struct px_proposer *prop;
	struct px_learner *lrn;
	struct px_reasm reasm;

	enum pxd_transport transport;
	u16 ethertype;
	char ifname[16];
	int ifindex;
	u8 mac[6];
	struct sockaddr_in listen;
	struct pxd_peer peers[PAXOS_MAX_NODES + 1];
	u32 msg_seq;

	int ep, tfd, net_fd, lsock, ctl_sock;
	const char *sock_path;
	char ctl_path[108];
	struct pxd_client *clients;
	u32 n_blocked;		/* clients waiting for proposer queue room */

	u64 now;		/* clock read once per event-loop round */
	u64 delivered;		/* learner's delivered index, as last seen */
	u64 armed;		/* timerfd deadline, 0: disarmed */

	/* transmit staging: frames queued, flushed with sendmmsg */
	u8 *txbuf;		/* PXD_TX_BATCH frames of 14 + mtu bytes */
	u32 tx_n;
	u32 tx_len[PXD_TX_BATCH];
	u8 tx_dst[PXD_TX_BATCH];
	u8 *rxbuf;		/* PXD_RX_BATCH frames */
	u32 rx_size;		/* bytes per rx slot */

	struct pxd_stats st;
	bool verbose;
	volatile int stop;
};

u64 pxd_now(void);

/* pxd_net.c */
int pxd_net_open(struct pxd *d);
void pxd_net_close(struct pxd *d);
/* Queue every frame of @m to @dst (a node or PAXOS_NODE_ALL, self excluded) */
void pxd_net_send(struct pxd *d, const struct px_msg *m);
void pxd_net_flush(struct pxd *d);
/* Read everything pending; hands each complete message to pxd_dispatch(). */
void pxd_net_rx(struct pxd *d);

/* pxd.c */
void pxd_dispatch(struct pxd *d, const struct px_msg *m);

/* pxd_client.c */
int pxd_client_listen(struct pxd *d);
void pxd_client_close_all(struct pxd *d);
void pxd_client_accept(struct pxd *d);
void pxd_ctl_accept(struct pxd *d);
void pxd_client_event(struct pxd *d, struct pxd_client *c, u32 events);
/* Retry clients blocked on a full proposer queue. */
void pxd_client_retry(struct pxd *d);
/* The learner delivered more: push records to readers. */
void pxd_client_deliver(struct pxd *d);

#endif /* PXD_H */
