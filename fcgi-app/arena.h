/*
 * arena.h: the request arena.  Everything a request allocates comes from
 * here and is freed at once by arena_reset() after the response; foreign
 * objects (a PGresult, a libsodium buffer) are released by callbacks given
 * to arena_defer(), run in reverse order at reset.
 */
#ifndef PCS_ARENA_H
#define PCS_ARENA_H

#include <stddef.h>

#include "str.h"

struct arena_chunk;
struct arena_defer;

struct arena {
	struct arena_chunk	*head;
	struct arena_defer	*defers;
	size_t			 used;	/* bytes handed out since reset */
	size_t			 max;	/* hard cap: alloc returns NULL past it */
};

void	 arena_init(struct arena *a, size_t max);
/* Runs deferred callbacks, frees all but the first chunk. */
void	 arena_reset(struct arena *a);
void	 arena_release(struct arena *a);
/* Returns zeroed memory aligned for any type, or NULL past the cap. */
void	*arena_alloc(struct arena *a, size_t n);
/* Copies p[0..len) and a NUL; NULL on failure. */
char	*arena_strndup(struct arena *a, const char *p, size_t len);
struct str arena_strdup_str(struct arena *a, struct str s);
/* Calls fn(arg) at the next reset; returns -1 if out of memory. */
int	 arena_defer(struct arena *a, void (*fn)(void *), void *arg);

#endif
