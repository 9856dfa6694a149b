/*
 * record.h: a finished draft turned into the row that is stored
 * (privacy.md: What is kept): clear answers as values, sealed answers as
 * sealed boxes, pseudonyms as keyed hashes, dimensions copied out, the day
 * truncated to the form's precision, a random response id and the receipt.
 */
#ifndef PCS_RECORD_H
#define PCS_RECORD_H

#include "arena.h"
#include "crypto.h"
#include "form.h"
#include "journey.h"
#include "store.h"

/* Day of a submission at precision: the day, the Monday of its ISO week, or the 1st. */
int64_t		record_day(enum ts_precision p, int64_t today);

/*
 * Fills row (pointing into the arena) from the active answers of j.  token
 * is the resume token: the receipt code is derived from it.
 */
enum pcs_err	record_build(struct arena *a, const struct form *f, const struct journey *j,
		    struct str token, int64_t today, struct response_row *row) PCS_MUST;

/* The receipt code of the draft with this resume token, and its keyed hash. */
void		record_receipt(struct str token, char code[CRYPTO_CODE_TEXT + 1],
		    uint8_t hash[CRYPTO_HASH_BYTES]);

#endif
