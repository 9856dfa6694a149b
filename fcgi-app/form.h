/*
 * form.h: a survey definition (forms.md) as an immutable, checked model.
 * Built once at start (and on SIGHUP) by form_load(); never per request.
 * form.c is the only includer of cJSON.h.  All strings are NUL-terminated
 * and owned by the struct form that holds them; form_free() frees all.
 */
#ifndef PCS_FORM_H
#define PCS_FORM_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cond.h"
#include "err.h"
#include "ref.h"
#include "str.h"

enum q_type {
	Q_TEXT, Q_TEXTAREA, Q_EMAIL, Q_NUMBER, Q_DATE, Q_CHOICE, Q_SELECT,
	Q_CHOICES, Q_SCALE, Q_CONSENT, Q_INFO, Q__MAX
};

enum q_store { STORE_CLEAR, STORE_SEALED, STORE_PSEUDONYM, STORE__MAX };

enum dim {
	DIM_NONE, DIM_ICB, DIM_REGION, DIM_ROLE, DIM_STAFF_GROUP, DIM_ORG_TYPE,
	DIM__MAX
};

enum audience { AUD_STAFF, AUD_ORGANISATION, AUD_PUBLIC, AUD__MAX };
enum form_status { FS_DRAFT, FS_OPEN, FS_CLOSED, FS__MAX };
enum form_access { ACCESS_OPEN, ACCESS_INVITE, ACCESS__MAX };
enum ts_precision { TS_DAY, TS_WEEK, TS_MONTH, TS__MAX };

/* Names as they appear in the JSON, indexed by the enums above. */
extern const char *const q_type_names[Q__MAX];
extern const char *const q_store_names[STORE__MAX];
extern const char *const dim_names[DIM__MAX];
extern const char *const audience_names[AUD__MAX];
extern const char *const form_status_names[FS__MAX];
extern const char *const ts_precision_names[TS__MAX];

struct q_pre;

struct option {
	char		*value;
	char		*label;
	char		*hint;		/* NULL if none */
	bool		 exclusive;
	const char	*group;		/* optgroup label (icbs: region name), or NULL */
	const char	*parent;	/* ref parent code (icb: region, role: staff group) */
};

struct statement {
	char		*id;
	char		*label;
	char		*field;		/* "question__statement" */
};

struct question {
	char		*id;
	enum q_type	 type;
	char		*label;		/* NULL for info */
	char		*hint;		/* text, may be NULL */
	char		*text;		/* info only */
	bool		 required;	/* consent: always true */
	struct cond	*show_if;	/* NULL: always shown */
	bool		 same_page_cond; /* show_if names a question on this page */
	enum q_store	 store;
	enum dim	 dim;		/* DIM_NONE unless declared */
	size_t		 page;		/* index into form->pages */
	/* text, textarea */
	size_t		 max_length;	/* code points */
	char		*pattern_src;
	regex_t		 pattern;	/* compiled "^(src)$" when pattern_src */
	char		*pattern_message;
	/* number */
	int64_t		 min, max;
	char		*prefix, *suffix;
	/* date: days since epoch; *_today means "today" at request time */
	bool		 has_date_min, has_date_max, date_min_today, date_max_today;
	int64_t		 date_min, date_max;
	/* choice, select, choices, scale */
	struct option	*opts;
	size_t		 nopts;
	enum ref_list	 options_from;	/* REF__MAX when own options */
	bool		 other;		/* choice/select with a free "other" text */
	size_t		 min_selected, max_selected; /* choices; max 0: no limit */
	/* scale */
	struct statement *stmts;
	size_t		 nstmts;
	/* option lists pre-rendered at load (page_cache.h), or NULL */
	struct q_pre	*pre;
};

struct page {
	char		*id;
	char		*title;
	char		*intro;
	struct cond	*show_if;
	size_t		 first_q;	/* questions are form->qs[first_q .. first_q+nq) */
	size_t		 nq;
};

struct form {
	char		*id;
	int		 version;
	char		*title;
	enum audience	 audience;
	enum form_status status;
	bool		 has_opens, has_closes;
	int64_t		 opens, closes;		/* days since epoch */
	enum form_access access;
	bool		 one_per_person;
	int		 pseudonym_q;		/* index of the pseudonym question or -1 */
	char		*intro;
	char		*privacy_notice;
	enum ts_precision timestamp;
	int		 retention_days;	/* 0: keep */
	int64_t		 reference_date;
	struct page	*pages;
	size_t		 npages;
	struct question	*qs;
	size_t		 nq;
	int		 dim_q[DIM__MAX];	/* question declaring each dimension, or -1 */
};

/* A set of loaded forms, sorted by id. */
struct formset {
	struct form	**v;
	size_t		  n;
};

/*
 * Reads, checks and builds the form in path.  On success *out is the form
 * (free with form_free) and PCS_OK is returned.  Otherwise every problem is
 * written to report, one line each, as
 *   "<path>: <json path>: <message>\n"
 * (forms.md: e.g. `forms/x.json: pages[2].questions[0].show_if.question:
 * "rol" is not a question on an earlier page (did you mean "role"?)`), and
 * PCS_EINPUT is returned.  ref_load() must have succeeded.
 */
enum pcs_err	 form_load(const char *path, struct form **out, FILE *report) PCS_MUST;
/* Same, from bytes already read; name is used in messages and for the id check. */
enum pcs_err	 form_load_mem(const char *path, const char *data, size_t len,
		    struct form **out, FILE *report) PCS_MUST;
void		 form_free(struct form *f);

/*
 * Loads every *.json in dir.  A form that fails its check is reported and
 * left out; the others are kept (forms.md).  Returns the number refused.
 */
size_t		 formset_load(const char *dir, struct formset *fs, FILE *report);
void		 formset_release(struct formset *fs);
const struct form *formset_find(const struct formset *fs, struct str id);

/* Index of the page with id, or -1; likewise questions. */
int		 form_page_index(const struct form *f, struct str id);
int		 form_question_index(const struct form *f, struct str id);
/* Option with value in q, or NULL. */
const struct option *question_option(const struct question *q, struct str value);
/* True when the form takes responses today (status open, inside opens..closes). */
bool		 form_is_open(const struct form *f, int64_t today);

#endif
