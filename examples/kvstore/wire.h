/* SPDX-License-Identifier: MIT */
/*
 * kvstore: framing of messages between the CLI and `kvstore serve`
 * (u32 little-endian length, then the bytes), and error reporting.
 */
#ifndef KV_WIRE_H
#define KV_WIRE_H

#include <stdint.h>
#include <stddef.h>

#define KV_MAX_REPLY	(256u << 20)	/* dumps can be large */

int kv_send(int fd, const void *buf, size_t len);
/* 0 and a malloc'd *buf, or -1 (EOF, error, longer than @max). */
int kv_recv(int fd, uint8_t **buf, uint32_t *len, uint32_t max);
/* Connect to the server @name; -errno if none answers. */
int kv_connect(const char *name, int wait_ms);
/* Print what went wrong and what to do about it. */
void kv_explain(const char *what, int err);

#endif /* KV_WIRE_H */
