/*
 * ref.h: the NHS reference lists (the CSVs in sql/reference/, compiled into the
 * binary so `pcsurvey check` needs no database and `migrate` loads the same
 * bytes).  Loaded once at start; immutable after.
 */
#ifndef PCS_REF_H
#define PCS_REF_H

#include <stdint.h>

#include "err.h"

enum ref_list {
	REF_ICBS,
	REF_REGIONS,
	REF_STAFF_ROLES,
	REF_STAFF_GROUPS,
	REF_ORG_TYPES,
	REF__MAX
};

struct ref_entry {
	const char	*code;		/* QE1, Y56, gp_partner, gp, icb */
	const char	*label;		/* the name shown to respondents */
	const char	*full_name;	/* icbs: official name; else = label */
	const char	*parent;	/* icbs: region code; roles: staff group; else NULL */
	const char	*ons_code;	/* icbs, regions; else NULL */
	int64_t		 valid_from;	/* days since epoch; INT64_MIN if none */
	int64_t		 valid_to;	/* INT64_MAX if open */
};

struct ref_table {
	const char		*name;	/* "icbs", as in options_from */
	struct ref_entry	*v;
	size_t			 n;
};

/* Parses the compiled-in CSVs; idempotent.  Fails only on a build defect. */
enum pcs_err		 ref_load(void) PCS_MUST;
const struct ref_table	*ref_table(enum ref_list l);
/* The list named s ("icbs"...), or REF__MAX. */
enum ref_list		 ref_by_name(const char *s);
/* Entry with code, or NULL. */
const struct ref_entry	*ref_find(enum ref_list l, const char *code, size_t len);
/* Entry valid on day (valid_from <= day <= valid_to). */
int			 ref_valid_on(const struct ref_entry *e, int64_t day);

#endif
