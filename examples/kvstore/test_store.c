// SPDX-License-Identifier: MIT
/*
 * kvstore: the replica's state machine and encodings, without a cluster.
 */
#include <errno.h>
#include <stdio.h>
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

/* snapshot -> restore into another replica: the same table */
static void test_snapshot_restore(void)
{
	struct kv_store *a = kv_store_new(NULL), *b;
	char k[32], v[32], *da, *db, logbuf[256] = "";
	size_t len, la, lb, i;
	uint8_t *snap, *bad;
	FILE *log;

	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		snprintf(v, sizeof(v), "v%zu", i * 3);
		apply(a, KV_PUT, 0, k, v, NULL, NULL);
	}
	apply(a, KV_DEL, 0, "key7", NULL, NULL, NULL);
	apply(a, KV_PUT, 0, "empty", "", NULL, NULL);
	snap = kv_store_snapshot(a, &len);
	CHECK(snap != NULL);

	log = fmemopen(logbuf, sizeof(logbuf), "w");
	b = kv_store_new(log);
	apply(b, KV_PUT, 0, "only-in-b", "x", NULL, NULL);
	CHECK_EQ(kv_store_restore(b, 64, snap, len), 0);
	fflush(log);
	CHECK(strstr(logbuf, "64 restore 5000 keys\n") != NULL);
	CHECK_EQ(kv_store_count(b), 5000);
	da = kv_store_dump(a, &la);
	db = kv_store_dump(b, &lb);
	CHECK(da && db && la == lb && !memcmp(da, db, la));
	free(db);
	/* the restored table works on */
	CHECK_EQ(apply(b, KV_PUT, 0, "key7", "back", NULL, NULL), KV_OK);
	CHECK_EQ(kv_store_count(b), 5001);
	kv_store_free(b);
	fclose(log);

	/* malformed snapshots are refused and change nothing */
	b = kv_store_new(NULL);
	apply(b, KV_PUT, 0, "keep", "me", NULL, NULL);
	CHECK_EQ(kv_store_restore(b, 1, snap, len - 1), -EINVAL);
	CHECK_EQ(kv_store_restore(b, 1, snap, 11), -EINVAL);
	bad = malloc(len + 1);
	memcpy(bad, snap, len);
	bad[len] = 0;
	CHECK_EQ(kv_store_restore(b, 1, bad, len + 1), -EINVAL);
	bad[0] = 'X';
	CHECK_EQ(kv_store_restore(b, 1, bad, len), -EINVAL);
	free(bad);
	{
		/* one key twice */
		static const uint8_t dup[] = {
			'K', 'V', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0,
			1, 0, 0, 0, 1, 0, 0, 0, 'a', '1',
			1, 0, 0, 0, 1, 0, 0, 0, 'a', '2',
		};

		CHECK_EQ(kv_store_restore(b, 1, dup, sizeof(dup)), -EINVAL);
		CHECK_EQ(kv_store_restore(b, 1, dup, 22), -EINVAL);
	}
	CHECK_EQ(kv_store_count(b), 1);
	db = kv_store_dump(b, &lb);
	CHECK(db && !strcmp(db, "keep\tme\n"));
	free(db);
	/* an empty table round-trips */
	kv_store_free(b);
	b = kv_store_new(NULL);
	free(snap);
	snap = kv_store_snapshot(b, &len);
	CHECK_EQ(len, 12);
	CHECK_EQ(kv_store_restore(a, 2, snap, len), 0);
	CHECK_EQ(kv_store_count(a), 0);

	free(snap);
	free(da);
	kv_store_free(a);
	kv_store_free(b);
}

int main(void)
{
	RUN(test_ops);
	RUN(test_many_keys);
	RUN(test_snapshot_restore);
	CHECK_DONE();
}
