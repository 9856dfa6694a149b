/*
 * arena.c: a bump allocator over malloc'd chunks.  The first chunk is kept
 * across resets, so a typical request allocates nothing from the system.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "limits.h"

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size, off;
	alignas(max_align_t) unsigned char data[];
};

struct arena_defer {
	struct arena_defer	*next;
	void			(*fn)(void *);
	void			*arg;
};

void
arena_init(struct arena *a, size_t max)
{
	*a = (struct arena){ .max = max };
}

void
arena_reset(struct arena *a)
{
	struct arena_defer *d;
	struct arena_chunk *c, *next;

	for (d = a->defers; d; d = d->next)
		d->fn(d->arg);
	a->defers = NULL;
	a->used = 0;
	if (a->head == NULL)
		return;
	/*
	 * privacy.md: buffers that held an identifier are wiped.  The arena
	 * holds the request body and opened drafts, so every request's bytes
	 * are cleared before the memory is reused or freed.
	 */
	for (c = a->head; c; c = c->next)
		explicit_bzero(c->data, c->off);
	/* keep one ordinary chunk; free big ones so idle RSS stays flat (B5) */
	for (c = a->head->next; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->head->off = 0;
	if (a->head->size > PCS_ARENA_CHUNK) {
		free(a->head);
		a->head = NULL;
	}
}

void
arena_release(struct arena *a)
{
	struct arena_chunk *c, *next;

	arena_reset(a);
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct arena_chunk *c = a->head;
	size_t size;
	void *p;

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (n > a->max - a->used)
		return NULL;
	if (c == NULL || c->size - c->off < n) {
		size = n > PCS_ARENA_CHUNK ? n : PCS_ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->off;
	c->off += n;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX || (s = arena_alloc(a, len + 1)) == NULL)
		return NULL;
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

struct str
arena_strdup_str(struct arena *a, struct str s)
{
	char *p = arena_strndup(a, s.p, s.len);

	return p ? (struct str){ p, s.len } : STR_NULL;
}

int
arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
	struct arena_defer *d = arena_alloc(a, sizeof(*d));

	if (d == NULL)
		return -1;
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
	return 0;
}
