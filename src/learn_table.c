// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A bounded table of learned addresses: slots in one array (indexes, not
 * pointers, so growing it moves nothing that matters), a doubly linked
 * list in learning order for eviction, and chained hash buckets.
 */
#include <stdlib.h>
#include <string.h>

#include "learn_table.h"
#include "util.h"

static size_t addr_len(const struct learn_table *t)
{
	return t->family == 4 ? 4 : 16;
}

/* FNV-1a over the address bytes. */
static size_t bucket_of(const struct learn_table *t, const uint8_t *addr)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < addr_len(t); i++)
		h = (h ^ addr[i]) * 16777619u;
	return h & (t->n_buckets - 1);
}

static void rehash(struct learn_table *t, size_t n_buckets)
{
	free(t->buckets);
	t->n_buckets = n_buckets;
	t->buckets = xmalloc(n_buckets * sizeof(*t->buckets));
	for (size_t i = 0; i < n_buckets; i++)
		t->buckets[i] = LT_NONE;
	for (uint32_t i = t->head; i != LT_NONE; i = t->v[i].next) {
		size_t b = bucket_of(t, t->v[i].addr);

		t->v[i].hnext = t->buckets[b];
		t->buckets[b] = i;
	}
}

void learn_table_init(struct learn_table *t, const char *set, int family,
		      size_t max)
{
	memset(t, 0, sizeof(*t));
	t->set = xstrdup(set);
	t->family = family;
	t->max = max ? max : 1;
	t->free_head = t->head = t->tail = LT_NONE;
	rehash(t, 16);
}

void learn_table_release(struct learn_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].used)
			free(t->v[i].name);
	free(t->v);
	free(t->buckets);
	free(t->set);
	memset(t, 0, sizeof(*t));
}

struct learn_entry *learn_table_find(struct learn_table *t, const uint8_t *addr)
{
	for (uint32_t i = t->buckets[bucket_of(t, addr)]; i != LT_NONE; i = t->v[i].hnext)
		if (memcmp(t->v[i].addr, addr, addr_len(t)) == 0)
			return &t->v[i];
	return NULL;
}

static void list_unlink(struct learn_table *t, uint32_t i)
{
	struct learn_entry *e = &t->v[i];

	if (e->prev != LT_NONE)
		t->v[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != LT_NONE)
		t->v[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = LT_NONE;
}

static void list_append(struct learn_table *t, uint32_t i)
{
	t->v[i].prev = t->tail;
	t->v[i].next = LT_NONE;
	if (t->tail != LT_NONE)
		t->v[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
}

static void remove_slot(struct learn_table *t, uint32_t i)
{
	struct learn_entry *e = &t->v[i];
	uint32_t *link = &t->buckets[bucket_of(t, e->addr)];

	while (*link != i)
		link = &t->v[*link].hnext;
	*link = e->hnext;
	list_unlink(t, i);
	free(e->name);
	memset(e, 0, sizeof(*e));
	e->next = t->free_head;
	t->free_head = i;
	t->n--;
}

void learn_table_del(struct learn_table *t, const uint8_t *addr)
{
	struct learn_entry *e = learn_table_find(t, addr);

	if (e)
		remove_slot(t, (uint32_t)(e - t->v));
}

static uint32_t new_slot(struct learn_table *t)
{
	uint32_t i;

	if (t->free_head == LT_NONE) {
		size_t old = t->cap;

		t->cap = old ? old * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
		memset(t->v + old, 0, (t->cap - old) * sizeof(*t->v));
		for (size_t k = t->cap; k-- > old;) {
			t->v[k].next = t->free_head;
			t->free_head = (uint32_t)k;
		}
	}
	i = t->free_head;
	t->free_head = t->v[i].next;
	return i;
}

int learn_table_put(struct learn_table *t, const uint8_t *addr,
		    const char *name, int64_t expires, uint8_t evicted[16])
{
	struct learn_entry *e = learn_table_find(t, addr);
	int did_evict = 0;
	uint32_t i;
	size_t b;

	if (e) {
		i = (uint32_t)(e - t->v);
		if (expires > e->expires)
			e->expires = expires;
		if (strcmp(e->name, name) != 0) {
			free(e->name);
			e->name = xstrdup(name);
		}
		list_unlink(t, i);
		list_append(t, i);
		return 0;
	}
	if (t->n >= t->max) {
		memset(evicted, 0, 16);
		memcpy(evicted, t->v[t->head].addr, addr_len(t));
		remove_slot(t, t->head);
		did_evict = 1;
	}
	i = new_slot(t);
	e = &t->v[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, addr_len(t));
	e->name = xstrdup(name);
	e->expires = expires;
	e->used = 1;
	t->n++;
	list_append(t, i);
	if (t->n > t->n_buckets)
		rehash(t, t->n_buckets * 2);	/* links every entry again */
	else {
		b = bucket_of(t, addr);
		e->hnext = t->buckets[b];
		t->buckets[b] = i;
	}
	return did_evict;
}

size_t learn_table_expire(struct learn_table *t, int64_t now)
{
	size_t n = 0;
	uint32_t i = t->head;

	while (i != LT_NONE) {
		uint32_t next = t->v[i].next;

		if (t->v[i].expires <= now) {
			remove_slot(t, i);
			n++;
		}
		i = next;
	}
	return n;
}
