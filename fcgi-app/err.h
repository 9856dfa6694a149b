/*
 * err.h: the one error enum of pcsurvey and its names.  A function that can
 * fail in more than one way returns enum pcs_err.
 */
#ifndef PCS_ERR_H
#define PCS_ERR_H

#define PCS_MUST __attribute__((warn_unused_result))

enum pcs_err {
	PCS_OK = 0,
	PCS_EINPUT,		/* malformed request input: 400 */
	PCS_ETOOBIG,		/* over a limit: 413 */
	PCS_ENOTFOUND,		/* 404 */
	PCS_EMETHOD,		/* 405 */
	PCS_EGONE,		/* closed form: 410 */
	PCS_ETYPE,		/* content type: 415 */
	PCS_EFORBIDDEN,		/* CSRF or scope: 403 */
	PCS_EAUTH,		/* 401 */
	PCS_ECONFLICT,		/* unique violation, e.g. one_per_person */
	PCS_EDBDOWN,		/* database unavailable: 503 */
	PCS_ENOMEM,		/* out of memory during a request: 503 */
	PCS_ECRYPTO,		/* decryption or key failure */
	PCS_EIO,		/* file or socket */
	PCS_EINTERNAL,		/* a bug: 500 */
	PCS_ERR__MAX
};

/* Returns a static name for e, never NULL. */
const char	*pcs_strerror(enum pcs_err e);

/* Returns the HTTP status for e (200 for PCS_OK). */
int		 pcs_http_status(enum pcs_err e);

#endif
