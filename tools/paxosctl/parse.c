// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl: parsing and naming of command line values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "paxosctl.h"

static const char *const param_names[__PAXOS_PARAM_MAX] = PAXOS_PARAM_NAMES;

static const char *const drop_names[__PAXOS_DROP_MAX] = PAXOS_DROP_NAMES;

const char *pxc_param_name(uint32_t key)
{
	if (key < __PAXOS_PARAM_MAX && param_names[key])
		return param_names[key];
	return "?";
}

const char *pxc_drop_name(unsigned int reason)
{
	if (reason < __PAXOS_DROP_MAX && drop_names[reason])
		return drop_names[reason];
	return "?";
}

int pxc_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int pxc_parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (pxc_parse_u64(s, &x) || x > UINT32_MAX)
		return -EINVAL;
	*v = x;
	return 0;
}

int pxc_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

void pxc_format_mac(const uint8_t mac[6], char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		mac[3], mac[4], mac[5]);
}

int pxc_parse_peer(const char *s, struct pxc_peer *p)
{
	const char *eq = strchr(s, '=');
	char id[16];

	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(id))
		return -EINVAL;
	memcpy(id, s, eq - s);
	id[eq - s] = 0;
	if (pxc_parse_u32(id, &p->id) || pxc_parse_mac(eq + 1, p->mac))
		return -EINVAL;
	return 0;
}

int pxc_parse_ids(const char *s, uint32_t *ids)
{
	char buf[128], *tok, *save;
	uint32_t id;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*ids = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (pxc_parse_u32(tok, &id) || id < 1 || id >= PAXOS_MAX_NODES)
			return -EINVAL;
		*ids |= 1u << id;
	}
	return *ids ? 0 : -EINVAL;
}

int pxc_parse_roles(const char *s, uint32_t *roles)
{
	char buf[128], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*roles = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "acceptor"))
			*roles |= PAXOS_ROLE_ACCEPTOR;
		else if (!strcasecmp(tok, "proposer") ||
			 !strcasecmp(tok, "leader"))
			*roles |= PAXOS_ROLE_PROPOSER;
		else if (!strcasecmp(tok, "learner"))
			*roles |= PAXOS_ROLE_LEARNER;
		else if (!strcasecmp(tok, "all"))
			*roles |= PAXOS_ROLE_ALL;
		else
			return -EINVAL;
	}
	return *roles ? 0 : -EINVAL;
}

int pxc_parse_param(const char *s, uint32_t *key, uint64_t *val)
{
	const char *eq = strchr(s, '=');
	uint32_t k;

	if (!eq)
		return -EINVAL;
	for (k = 1; k < __PAXOS_PARAM_MAX; k++) {
		if (strlen(param_names[k]) == (size_t)(eq - s) &&
		    !strncasecmp(s, param_names[k], eq - s))
			break;
	}
	if (k == __PAXOS_PARAM_MAX)
		return -ENOENT;
	if (pxc_parse_u64(eq + 1, val))
		return -EINVAL;
	*key = k;
	return 0;
}
