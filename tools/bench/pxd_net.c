// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pxd transport: the kernel's frame payloads over UDP datagrams or, like
 * paxos.ko, over Ethernet frames on an AF_PACKET socket.  Frames are staged
 * and sent with sendmmsg(); received with recvmmsg().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>

#include "pxd.h"

enum {
	ETH_HLEN_ = 14,
	TX_ENTRIES = PXD_TX_BATCH * 4,
	RX_ROUNDS = 4,		/* recvmmsg() calls per readiness event */
	SOCK_BUF = 4 << 20,
};

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct mmsghdr tx_msgs[TX_ENTRIES];
static struct iovec tx_iov[TX_ENTRIES];
static struct mmsghdr rx_msgs[PXD_RX_BATCH];
static struct iovec rx_iov[PXD_RX_BATCH];
static struct sockaddr_ll rx_ll[PXD_RX_BATCH];
static u32 tx_entries;

static void set_bufs(int fd)
{
	int sz = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int open_udp(struct pxd *d)
{
	d->net_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->net_fd < 0) {
		perror("pxd: socket");
		return -1;
	}
	set_bufs(d->net_fd);
	if (bind(d->net_fd, (struct sockaddr *)&d->listen,
		 sizeof(d->listen))) {
		perror("pxd: bind");
		return -1;
	}
	if (!d->wcfg.mtu)
		d->wcfg.mtu = 1500 - 28;	/* Ethernet MTU less IP+UDP */
	return 0;
}

static int open_raw(struct pxd *d)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;

	d->net_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
			   htons(d->ethertype));
	if (d->net_fd < 0) {
		perror("pxd: socket(AF_PACKET)");
		return -1;
	}
	set_bufs(d->net_fd);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->ifname);
	if (ioctl(d->net_fd, SIOCGIFINDEX, &ifr)) {
		perror("pxd: SIOCGIFINDEX");
		return -1;
	}
	d->ifindex = ifr.ifr_ifindex;
	if (ioctl(d->net_fd, SIOCGIFHWADDR, &ifr)) {
		perror("pxd: SIOCGIFHWADDR");
		return -1;
	}
	memcpy(d->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!d->wcfg.mtu) {
		if (ioctl(d->net_fd, SIOCGIFMTU, &ifr)) {
			perror("pxd: SIOCGIFMTU");
			return -1;
		}
		d->wcfg.mtu = PX_MIN((u32)ifr.ifr_mtu, (u32)PAXOS_MAX_MTU);
	}
	sll.sll_protocol = htons(d->ethertype);
	sll.sll_ifindex = d->ifindex;
	if (bind(d->net_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("pxd: bind(AF_PACKET)");
		return -1;
	}
	return 0;
}

int pxd_net_open(struct pxd *d)
{
	int ret;
	u32 i;

	ret = d->transport == PXD_UDP ? open_udp(d) : open_raw(d);
	if (ret)
		return ret;
	if (d->wcfg.mtu < PAXOS_MIN_MTU || d->wcfg.mtu > PAXOS_MAX_MTU) {
		fprintf(stderr, "pxd: mtu %u out of range\n", d->wcfg.mtu);
		return -1;
	}
	d->rx_size = ETH_HLEN_ + PAXOS_MAX_MTU + 64;
	d->txbuf = malloc((size_t)PXD_TX_BATCH * (ETH_HLEN_ + d->wcfg.mtu));
	d->rxbuf = malloc((size_t)PXD_RX_BATCH * d->rx_size);
	if (!d->txbuf || !d->rxbuf) {
		fprintf(stderr, "pxd: out of memory\n");
		return -1;
	}
	for (i = 0; i < PXD_RX_BATCH; i++) {
		rx_iov[i].iov_base = d->rxbuf + (size_t)i * d->rx_size;
		rx_iov[i].iov_len = d->rx_size;
		rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
		rx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void pxd_net_close(struct pxd *d)
{
	if (d->net_fd >= 0)
		close(d->net_fd);
	d->net_fd = -1;
	free(d->txbuf);
	free(d->rxbuf);
	d->txbuf = d->rxbuf = NULL;
}

void pxd_net_flush(struct pxd *d)
{
	u32 done = 0;
	int n;

	while (done < tx_entries) {
		n = sendmmsg(d->net_fd, tx_msgs + done, tx_entries - done, 0);
		if (n <= 0) {
			/* lost frames are recovered by Paxos retransmission */
			d->st.send_errors += tx_entries - done;
			break;
		}
		done += n;
	}
	d->st.frames_tx += done;
	tx_entries = 0;
	d->tx_n = 0;
}

static void add_entry(struct pxd *d, u8 *frame, u32 len, u8 dst)
{
	struct msghdr *mh = &tx_msgs[tx_entries].msg_hdr;
	struct iovec *iov = &tx_iov[tx_entries];

	memset(mh, 0, sizeof(*mh));
	if (d->transport == PXD_UDP) {
		iov->iov_base = frame + ETH_HLEN_;
		iov->iov_len = len;
		mh->msg_name = &d->peers[dst].udp;
		mh->msg_namelen = sizeof(d->peers[dst].udp);
	} else {
		iov->iov_base = frame;
		iov->iov_len = ETH_HLEN_ + len;
	}
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	tx_entries++;
}

/* Stage one encoded frame (payload at frame + 14) for @dst. */
static void stage(struct pxd *d, u8 *frame, u32 len, u8 dst)
{
	u32 i;

	if (d->transport == PXD_RAW) {
		memcpy(frame, dst == PAXOS_NODE_ALL ? bcast :
		       d->peers[dst].mac, 6);
		memcpy(frame + 6, d->mac, 6);
		frame[12] = d->ethertype >> 8;
		frame[13] = d->ethertype;
		add_entry(d, frame, len, dst);
		return;
	}
	if (dst != PAXOS_NODE_ALL) {
		add_entry(d, frame, len, dst);
		return;
	}
	for (i = 1; i <= PAXOS_MAX_NODES; i++)
		if (d->peers[i].set)
			add_entry(d, frame, len, i);
}

void pxd_net_send(struct pxd *d, const struct px_msg *m)
{
	u32 slot = ETH_HLEN_ + d->wcfg.mtu;
	u32 frames, i;
	u32 seq = ++d->msg_seq;
	int len;

	if (m->dst != PAXOS_NODE_ALL &&
	    (m->dst > PAXOS_MAX_NODES || !d->peers[m->dst].set)) {
		d->st.send_errors++;
		return;
	}
	frames = px_wire_frames(d->wcfg.mtu, m->len, false);
	if (!frames) {
		d->st.send_errors++;
		return;
	}
	for (i = 0; i < frames; i++) {
		u8 *frame;

		if (d->tx_n == PXD_TX_BATCH ||
		    tx_entries + PAXOS_MAX_NODES > TX_ENTRIES)
			pxd_net_flush(d);
		frame = d->txbuf + (size_t)d->tx_n * slot;
		len = px_wire_encode(&d->wcfg, m, seq, i, frame + ETH_HLEN_);
		if (len < 0) {
			d->st.send_errors++;
			return;
		}
		d->tx_n++;
		stage(d, frame, len, m->dst);
	}
}

static void rx_one(struct pxd *d, const u8 *buf, u32 len, u64 now)
{
	struct px_frame f;
	struct px_msg m;
	int ret;

	d->st.frames_rx++;
	ret = px_wire_parse(&d->wcfg, buf, len, &f);
	if (ret < 0) {
		if (-ret < __PAXOS_DROP_MAX)
			d->st.drops[-ret]++;
		return;
	}
	ret = px_reasm_add(&d->reasm, now, &f, &m);
	if (ret < 0) {
		if (-ret < __PAXOS_DROP_MAX)
			d->st.drops[-ret]++;
		return;
	}
	if (ret == 1)
		pxd_dispatch(d, &m);
}

void pxd_net_rx(struct pxd *d)
{
	int round, n, i;

	for (round = 0; round < RX_ROUNDS; round++) {
		for (i = 0; i < PXD_RX_BATCH; i++) {
			rx_msgs[i].msg_hdr.msg_name = d->transport == PXD_RAW ?
						       &rx_ll[i] : NULL;
			rx_msgs[i].msg_hdr.msg_namelen = d->transport ==
				PXD_RAW ? sizeof(rx_ll[i]) : 0;
		}
		n = recvmmsg(d->net_fd, rx_msgs, PXD_RX_BATCH, MSG_DONTWAIT,
			     NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			const u8 *p = rx_iov[i].iov_base;
			u32 len = rx_msgs[i].msg_len;

			if (d->transport == PXD_RAW) {
				if (rx_ll[i].sll_pkttype == PACKET_OUTGOING ||
				    len < ETH_HLEN_)
					continue;
				p += ETH_HLEN_;
				len -= ETH_HLEN_;
			}
			rx_one(d, p, len, d->now);
		}
		if (n < PXD_RX_BATCH)
			return;
	}
}
