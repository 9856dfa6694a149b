/*
 * limits.h: every limit and default of pcsurvey, named once, each with the
 * section of ../shared/spec that sets it.  Checked before anything is
 * allocated.  No logic here.
 */
#ifndef PCS_LIMITS_H
#define PCS_LIMITS_H

/* cli.md: configuration defaults */
#define PCS_MAX_BODY_DEFAULT	65536		/* max_body: larger bodies get 413 */
#define PCS_SUPPRESS_MAX_DEFAULT 7		/* privacy.md rule 2 */
#define PCS_ROUND_TO_DEFAULT	5		/* privacy.md rule 3 */
#define PCS_COUNTS_LAG_DEFAULT	1		/* privacy.md rule 5 */
#define PCS_DRAFT_DAYS_DEFAULT	30		/* privacy.md: drafts expire */
#define PCS_WORKERS_MAX		64		/* serve --workers */
#define PCS_CONF_LINE_MAX	1024		/* one pcsurvey.conf line */
#define PCS_PATH_MAX		512		/* paths from configuration */

/* http-api.md / adversarial.md: request edge */
#define PCS_MAX_PAIRS		1024		/* T-15: fields in one body or query */
#define PCS_MAX_FIELD_NAME	200		/* T-15: bytes in a field name */
#define PCS_MAX_FIELD_VALUE	20000		/* forms.md textarea max_length ceiling, in code points; bytes checked as 4x */
#define PCS_MAX_COOKIES		32
#define PCS_MAX_PATH		1024		/* bytes of DOCUMENT_URI */
#define PCS_MAX_QUERY		4096		/* bytes of QUERY_STRING */
#define PCS_MAX_PATH_SEGS	8		/* route segments */
#define PCS_MAX_HEADER_VALUE	8192		/* one CGI param we read */

/* forms.md: Limits the checker enforces */
#define PCS_FORM_FILE_MAX	(1024 * 1024)	/* file <= 1 MiB */
#define PCS_FORM_JSON_DEPTH	32		/* nesting, checked before cJSON */
#define PCS_FORM_PAGES_MAX	50
#define PCS_FORM_PAGE_QS_MAX	100
#define PCS_FORM_QS_MAX		1000
#define PCS_FORM_OPTIONS_MAX	200
#define PCS_FORM_STMTS_MAX	30
#define PCS_FORM_ID_MAX		64
#define PCS_FORM_TITLE_MAX	200		/* code points */
#define PCS_FORM_LABEL_MAX	500
#define PCS_FORM_HINT_MAX	2000
#define PCS_FORM_VALUE_MAX	64		/* option value [a-z0-9_]{1,64} */
#define PCS_COND_DEPTH_MAX	8
#define PCS_TEXT_MAXLEN_DEFAULT	200
#define PCS_TEXT_MAXLEN_MAX	2000
#define PCS_TEXTAREA_MAXLEN_DEFAULT 5000
#define PCS_TEXTAREA_MAXLEN_MAX	20000
#define PCS_EMAIL_MAXLEN	254		/* RFC 5321 path limit */
#define PCS_FORMS_MAX		64		/* files in forms_dir */

/* a worker's PostgreSQL connection (adversarial.md T-34, T-36) */
#define PCS_DB_REPLY_MS		10000		/* longest wait for a reply: under nginx's 15 s read timeout */
#define PCS_DB_LOCK_TIMEOUT	"2s"		/* lock_timeout: a held lock gives a fast 503, not a queue */
#define PCS_DB_BUILD_WAIT	"9s"		/* lock_timeout while waiting for another worker's figures (B3) */

/* response rendering */
#define PCS_RESP_BODY_MAX	(4 * 1024 * 1024)	/* one HTML/JSON page */
#define PCS_ARENA_CHUNK		(64 * 1024)
#define PCS_HTML_ID_MAX		(PCS_FORM_ID_MAX * 2 + 16)	/* an element id: "q__statement-200" */

/* http-api.md: Researcher API and pages (issue 6) */
#define PCS_SESSION_SECONDS	28800		/* pcs_session Max-Age and expiry: 8 h */
#define PCS_TOKEN_NAME_MAX	100		/* token create --name, code points */
#define PCS_API_QUOTE_MAX	64		/* bytes of a by/question value an error may quote */
#define PCS_FIGURES_CACHE_MAX	4		/* published lattices one worker keeps (figures.c) */
#define PCS_FIGURES_SHARE_TRIES	3		/* perf.md B3: load-or-build rounds before a worker builds alone (figures.c) */
#define PCS_PUBLISHED_BLOB_MAX	(512 * 1024 * 1024)	/* one serialised lattice in pcs.published (figures.c); bytea holds 1 GiB */
#define PCS_EXPORT_CHUNK	(64 * 1024)	/* responses.csv: bytes per resp_flush() */
#define PCS_TOKEN_INPUT_MAX	256		/* bytes of a presented token or session id hashed (T-24) */

#endif
