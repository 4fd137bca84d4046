// SPDX-License-Identifier: MIT
/*
 * kvstore: encodings and the replica's hash table.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t kv_cmd_encode(const struct kv_cmd *c, uint8_t *buf, size_t cap)
{
	size_t len = KV_CMD_HDR + (size_t)c->klen + c->vlen + c->elen;

	if (len > cap)
		return 0;
	buf[0] = c->op;
	buf[1] = c->flags;
	buf[2] = 0;
	buf[3] = 0;
	put_le32(buf + 4, c->klen);
	put_le32(buf + 8, c->vlen);
	put_le32(buf + 12, c->elen);
	memcpy(buf + KV_CMD_HDR, c->key, c->klen);
	memcpy(buf + KV_CMD_HDR + c->klen, c->val, c->vlen);
	memcpy(buf + KV_CMD_HDR + c->klen + c->vlen, c->exp, c->elen);
	return len;
}

int kv_cmd_decode(struct kv_cmd *c, const uint8_t *buf, size_t len)
{
	if (len < KV_CMD_HDR)
		return -1;
	c->op = buf[0];
	c->flags = buf[1];
	c->klen = get_le32(buf + 4);
	c->vlen = get_le32(buf + 8);
	c->elen = get_le32(buf + 12);
	if ((uint64_t)c->klen + c->vlen + c->elen != len - KV_CMD_HDR)
		return -1;
	c->key = (const char *)buf + KV_CMD_HDR;
	c->val = c->key + c->klen;
	c->exp = c->val + c->vlen;
	return 0;
}

size_t kv_res_encode(uint8_t status, const void *val, uint32_t vlen,
		     uint8_t *buf, size_t cap)
{
	if (KV_RES_HDR + (size_t)vlen > cap)
		vlen = cap - KV_RES_HDR;
	memset(buf, 0, KV_RES_HDR);
	buf[0] = status;
	put_le32(buf + 4, vlen);
	if (vlen)
		memcpy(buf + KV_RES_HDR, val, vlen);
	return KV_RES_HDR + vlen;
}

int kv_res_decode(const uint8_t *buf, size_t len, uint8_t *status,
		  const uint8_t **val, uint32_t *vlen)
{
	if (len < KV_RES_HDR)
		return -1;
	*status = buf[0];
	*vlen = get_le32(buf + 4);
	if (*vlen != len - KV_RES_HDR)
		return -1;
	*val = buf + KV_RES_HDR;
	return 0;
}

/* ---------------------------------------------------------------- table */

struct kv_ent {
	struct kv_ent *next;
	uint32_t klen, vlen;
	char *val;
	char key[];
};

struct kv_store {
	pthread_mutex_t lock;
	struct kv_ent **b;
	size_t nb, n;
	FILE *log;
};

static uint64_t hash(const char *k, uint32_t len)
{
	uint64_t h = 1469598103934665603ULL;

	while (len--)
		h = (h ^ (uint8_t)*k++) * 1099511628211ULL;
	return h;
}

struct kv_store *kv_store_new(FILE *log)
{
	struct kv_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nb = 1024;
	s->b = calloc(s->nb, sizeof(*s->b));
	if (!s->b) {
		free(s);
		return NULL;
	}
	s->log = log;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void kv_store_free(struct kv_store *s)
{
	struct kv_ent *e, *n;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nb; i++) {
		for (e = s->b[i]; e; e = n) {
			n = e->next;
			free(e->val);
			free(e);
		}
	}
	free(s->b);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct kv_ent **lookup(struct kv_store *s, const char *k,
			      uint32_t klen)
{
	struct kv_ent **pp = &s->b[hash(k, klen) & (s->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->klen == klen && !memcmp((*pp)->key, k, klen))
			return pp;
	return pp;
}

static void grow(struct kv_store *s)
{
	struct kv_ent **nb, *e, *n;
	size_t i, nn = s->nb * 2;

	nb = calloc(nn, sizeof(*nb));
	if (!nb)
		return;		/* stay slower, still correct */
	for (i = 0; i < s->nb; i++) {
		for (e = s->b[i]; e; e = n) {
			size_t j = hash(e->key, e->klen) & (nn - 1);

			n = e->next;
			e->next = nb[j];
			nb[j] = e;
		}
	}
	free(s->b);
	s->b = nb;
	s->nb = nn;
}

static int set_value(struct kv_store *s, struct kv_ent **pp, const char *k,
		     uint32_t klen, const char *v, uint32_t vlen)
{
	char *val = malloc(vlen ? vlen : 1);
	struct kv_ent *e = *pp;

	if (!val)
		return -ENOMEM;
	memcpy(val, v, vlen);
	if (!e) {
		e = malloc(sizeof(*e) + klen);
		if (!e) {
			free(val);
			return -ENOMEM;
		}
		e->next = NULL;
		e->klen = klen;
		memcpy(e->key, k, klen);
		e->val = NULL;
		*pp = e;
		s->n++;
	}
	free(e->val);
	e->val = val;
	e->vlen = vlen;
	if (s->n > s->nb)
		grow(s);
	return 0;
}

static bool parse_i64(const char *p, uint32_t len, int64_t *v)
{
	char buf[32], *end;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, p, len);
	buf[len] = 0;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return !errno && *end == 0;
}

static const char *op_name(uint8_t op)
{
	switch (op) {
	case KV_PUT:
		return "put";
	case KV_DEL:
		return "delete";
	case KV_CAS:
		return "cas";
	case KV_INCR:
		return "incr";
	default:
		return "?";
	}
}

size_t kv_store_apply(struct kv_store *s, uint64_t instance, uint16_t pos,
		      uint64_t client, uint64_t seq, const uint8_t *cmd,
		      size_t len, uint8_t *res, size_t cap)
{
	struct kv_ent **pp, *e;
	uint8_t st = KV_OK;
	int64_t cur, add;
	char num[32];
	size_t out;
	struct kv_cmd c;

	if (kv_cmd_decode(&c, cmd, len))
		return kv_res_encode(KV_BADCMD, NULL, 0, res, cap);
	pthread_mutex_lock(&s->lock);
	pp = lookup(s, c.key, c.klen);
	e = *pp;
	switch (c.op) {
	case KV_PUT:
		if (set_value(s, pp, c.key, c.klen, c.val, c.vlen))
			st = KV_ERROR;
		out = kv_res_encode(st, NULL, 0, res, cap);
		break;
	case KV_DEL:
		if (e) {
			*pp = e->next;
			free(e->val);
			free(e);
			s->n--;
		} else {
			st = KV_NOTFOUND;
		}
		out = kv_res_encode(st, NULL, 0, res, cap);
		break;
	case KV_CAS:
		if (c.flags & KV_F_ABSENT ? e != NULL :
		    !e || e->vlen != c.elen ||
		    memcmp(e->val, c.exp, c.elen)) {
			st = e ? KV_MISMATCH : KV_NOTFOUND;
			out = kv_res_encode(st, e ? e->val : NULL,
					    e ? e->vlen : 0, res, cap);
			break;
		}
		if (set_value(s, pp, c.key, c.klen, c.val, c.vlen))
			st = KV_ERROR;
		out = kv_res_encode(st, NULL, 0, res, cap);
		break;
	case KV_INCR:
		cur = 0;
		if (!parse_i64(c.val, c.vlen, &add) ||
		    (e && !parse_i64(e->val, e->vlen, &cur))) {
			out = kv_res_encode(KV_BADCMD, NULL, 0, res, cap);
			break;
		}
		snprintf(num, sizeof(num), "%" PRId64, cur + add);
		if (set_value(s, pp, c.key, c.klen, num, strlen(num)))
			st = KV_ERROR;
		out = kv_res_encode(st, num, strlen(num), res, cap);
		break;
	default:
		st = KV_BADCMD;
		out = kv_res_encode(st, NULL, 0, res, cap);
		break;
	}
	if (s->log) {
		fprintf(s->log, "%" PRIu64 " %u %016" PRIx64 " %" PRIu64
			" %s %.*s %d\n", instance, pos, client, seq,
			op_name(c.op), (int)c.klen, c.key, st);
		fflush(s->log);
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

size_t kv_store_get(struct kv_store *s, const char *key, uint32_t klen,
		    uint8_t *res, size_t cap)
{
	struct kv_ent *e;
	size_t out;

	pthread_mutex_lock(&s->lock);
	e = *lookup(s, key, klen);
	if (e)
		out = kv_res_encode(KV_OK, e->val, e->vlen, res, cap);
	else
		out = kv_res_encode(KV_NOTFOUND, NULL, 0, res, cap);
	pthread_mutex_unlock(&s->lock);
	return out;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct kv_ent *x = *(struct kv_ent * const *)a;
	const struct kv_ent *y = *(struct kv_ent * const *)b;
	uint32_t n = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(x->key, y->key, n);

	return r ? r : (x->klen > y->klen) - (x->klen < y->klen);
}

char *kv_store_dump(struct kv_store *s, size_t *len)
{
	struct kv_ent **v = NULL, *e;
	size_t i, k = 0, total = 1;
	char *out = NULL, *p;

	pthread_mutex_lock(&s->lock);
	v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (!v)
		goto out;
	for (i = 0; i < s->nb; i++) {
		for (e = s->b[i]; e; e = e->next) {
			v[k++] = e;
			total += e->klen + e->vlen + 2;
		}
	}
	qsort(v, k, sizeof(*v), cmp_ent);
	out = malloc(total);
	if (!out)
		goto out;
	p = out;
	for (i = 0; i < k; i++) {
		memcpy(p, v[i]->key, v[i]->klen);
		p += v[i]->klen;
		*p++ = '\t';
		memcpy(p, v[i]->val, v[i]->vlen);
		p += v[i]->vlen;
		*p++ = '\n';
	}
	*p = 0;
	*len = p - out;
out:
	pthread_mutex_unlock(&s->lock);
	free(v);
	return out;
}

/* Under lock: the entries sorted by key (malloc'd, *n of them). */
static struct kv_ent **sorted(struct kv_store *s, size_t *n)
{
	struct kv_ent **v, *e;
	size_t i, k = 0;

	v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < s->nb; i++)
		for (e = s->b[i]; e; e = e->next)
			v[k++] = e;
	qsort(v, k, sizeof(*v), cmp_ent);
	*n = k;
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, v);
	put_le32(p + 4, v >> 32);
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

#define KV_SNAP_MAGIC	"KVS1"
#define KV_SNAP_HDR	12	/* magic, u64 count */

void *kv_store_snapshot(struct kv_store *s, size_t *len)
{
	struct kv_ent **v;
	size_t i, n = 0, total = KV_SNAP_HDR;
	uint8_t *out = NULL, *p;

	pthread_mutex_lock(&s->lock);
	v = sorted(s, &n);
	if (!v)
		goto out;
	for (i = 0; i < n; i++)
		total += 8 + (size_t)v[i]->klen + v[i]->vlen;
	out = malloc(total);
	if (!out)
		goto out;
	memcpy(out, KV_SNAP_MAGIC, 4);
	put_le64(out + 4, n);
	p = out + KV_SNAP_HDR;
	for (i = 0; i < n; i++) {
		put_le32(p, v[i]->klen);
		put_le32(p + 4, v[i]->vlen);
		memcpy(p + 8, v[i]->key, v[i]->klen);
		memcpy(p + 8 + v[i]->klen, v[i]->val, v[i]->vlen);
		p += 8 + (size_t)v[i]->klen + v[i]->vlen;
	}
	*len = total;
out:
	pthread_mutex_unlock(&s->lock);
	free(v);
	return out;
}

static void free_table(struct kv_ent **b, size_t nb)
{
	struct kv_ent *e, *n;
	size_t i;

	for (i = 0; i < nb; i++) {
		for (e = b[i]; e; e = n) {
			n = e->next;
			free(e->val);
			free(e);
		}
	}
	free(b);
}

int kv_store_restore(struct kv_store *s, uint64_t index, const void *buf,
		     size_t len)
{
	const uint8_t *p = buf, *end = p + len;
	struct kv_store *t;
	struct kv_ent **pp, **ob;
	uint64_t n, i;
	uint32_t klen, vlen;
	size_t onb;

	if (len < KV_SNAP_HDR || memcmp(p, KV_SNAP_MAGIC, 4))
		return -EINVAL;
	n = get_le64(p + 4);
	p += KV_SNAP_HDR;
	/* build the new table aside: a bad snapshot leaves the old one */
	t = kv_store_new(NULL);
	if (!t)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (end - p < 8)
			goto bad;
		klen = get_le32(p);
		vlen = get_le32(p + 4);
		p += 8;
		if ((size_t)(end - p) < (uint64_t)klen + vlen)
			goto bad;
		pp = lookup(t, (const char *)p, klen);
		if (*pp)
			goto bad;	/* a key twice */
		if (set_value(t, pp, (const char *)p, klen,
			      (const char *)p + klen, vlen)) {
			kv_store_free(t);
			return -ENOMEM;
		}
		p += (size_t)klen + vlen;
	}
	if (p != end)
		goto bad;

	pthread_mutex_lock(&s->lock);
	ob = s->b;
	onb = s->nb;
	s->b = t->b;
	s->nb = t->nb;
	s->n = t->n;
	if (s->log) {
		fprintf(s->log, "%" PRIu64 " restore %" PRIu64 " keys\n",
			index, s->n);
		fflush(s->log);
	}
	pthread_mutex_unlock(&s->lock);
	free_table(ob, onb);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return 0;
bad:
	kv_store_free(t);
	return -EINVAL;
}

int kv_snapshot_cb(void *arg, uint64_t index, void **buf, size_t *len)
{
	(void)index;
	*buf = kv_store_snapshot(arg, len);
	return *buf ? 0 : -ENOMEM;
}

int kv_restore_cb(void *arg, uint64_t index, const void *buf, size_t len)
{
	return kv_store_restore(arg, index, buf, len);
}

uint64_t kv_store_count(struct kv_store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}
