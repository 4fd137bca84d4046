// SPDX-License-Identifier: MIT
/*
 * kvstore: the replica's state machine and encodings, without a cluster.
 */
#include <string.h>
#include <stdlib.h>

#include "check.h"
#include "kv.h"

static uint8_t res[256];

static uint8_t apply(struct kv_store *s, uint8_t op, uint8_t flags,
		     const char *k, const char *v, const char *e,
		     char *out)
{
	struct kv_cmd c = { .op = op, .flags = flags, .key = k,
			    .klen = strlen(k), .val = v ? v : "",
			    .vlen = v ? strlen(v) : 0, .exp = e ? e : "",
			    .elen = e ? strlen(e) : 0 };
	uint8_t cmd[256], st = 255;
	const uint8_t *val;
	uint32_t vlen;
	size_t n, r;

	n = kv_cmd_encode(&c, cmd, sizeof(cmd));
	r = kv_store_apply(s, 1, 0, 1, 1, cmd, n, res, sizeof(res));
	if (!kv_res_decode(res, r, &st, &val, &vlen) && out) {
		memcpy(out, val, vlen);
		out[vlen] = 0;
	}
	return st;
}

static void test_ops(void)
{
	struct kv_store *s = kv_store_new(NULL);
	char out[64];
	size_t len;
	char *d;

	CHECK_EQ(apply(s, KV_PUT, 0, "a", "1", NULL, NULL), KV_OK);
	CHECK_EQ(apply(s, KV_PUT, 0, "b", "x", NULL, NULL), KV_OK);
	CHECK_EQ(apply(s, KV_CAS, 0, "a", "2", "1", NULL), KV_OK);
	CHECK_EQ(apply(s, KV_CAS, 0, "a", "3", "1", out), KV_MISMATCH);
	CHECK(!strcmp(out, "2"));
	CHECK_EQ(apply(s, KV_CAS, 0, "zz", "3", "1", NULL), KV_NOTFOUND);
	CHECK_EQ(apply(s, KV_CAS, KV_F_ABSENT, "zz", "3", NULL, NULL), KV_OK);
	CHECK_EQ(apply(s, KV_CAS, KV_F_ABSENT, "zz", "4", NULL, out),
		 KV_MISMATCH);
	CHECK_EQ(apply(s, KV_INCR, 0, "n", "5", NULL, out), KV_OK);
	CHECK(!strcmp(out, "5"));
	CHECK_EQ(apply(s, KV_INCR, 0, "n", "-2", NULL, out), KV_OK);
	CHECK(!strcmp(out, "3"));
	CHECK_EQ(apply(s, KV_INCR, 0, "b", "1", NULL, NULL), KV_BADCMD);
	CHECK_EQ(apply(s, KV_DEL, 0, "b", NULL, NULL, NULL), KV_OK);
	CHECK_EQ(apply(s, KV_DEL, 0, "b", NULL, NULL, NULL), KV_NOTFOUND);
	CHECK_EQ(kv_store_count(s), 3);
	d = kv_store_dump(s, &len);
	CHECK(d && !strcmp(d, "a\t2\nn\t3\nzz\t3\n"));
	free(d);
	/* malformed command */
	CHECK_EQ(kv_store_apply(s, 1, 0, 1, 1, (const uint8_t *)"xx", 2, res,
				sizeof(res)), KV_RES_HDR);
	CHECK_EQ(res[0], KV_BADCMD);
	kv_store_free(s);
}

static void test_many_keys(void)
{
	struct kv_store *s = kv_store_new(NULL);
	char k[32], v[32], out[64];
	int i, bad = 0;

	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		snprintf(v, sizeof(v), "v%d", i * 7);
		apply(s, KV_PUT, 0, k, v, NULL, NULL);
	}
	for (i = 0; i < 20000; i++) {
		size_t n;
		uint8_t st;
		const uint8_t *val;
		uint32_t vlen;

		snprintf(k, sizeof(k), "key%d", i);
		snprintf(v, sizeof(v), "v%d", i * 7);
		n = kv_store_get(s, k, strlen(k), res, sizeof(res));
		if (kv_res_decode(res, n, &st, &val, &vlen) || st != KV_OK ||
		    vlen != strlen(v) || memcmp(val, v, vlen))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(kv_store_count(s), 20000);
	(void)out;
	kv_store_free(s);
}

int main(void)
{
	RUN(test_ops);
	RUN(test_many_keys);
	CHECK_DONE();
}
