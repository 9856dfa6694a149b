/* err.c: names and HTTP statuses of enum pcs_err. */
#include "err.h"

static const struct {
	const char	*name;
	int		 status;
} errs[] = {
	[PCS_OK] = { "ok", 200 },
	[PCS_EINPUT] = { "malformed input", 400 },
	[PCS_ETOOBIG] = { "over a limit", 413 },
	[PCS_ENOTFOUND] = { "not found", 404 },
	[PCS_EMETHOD] = { "method not allowed", 405 },
	[PCS_EGONE] = { "closed", 410 },
	[PCS_ETYPE] = { "unsupported media type", 415 },
	[PCS_EFORBIDDEN] = { "forbidden", 403 },
	[PCS_EAUTH] = { "unauthorised", 401 },
	[PCS_ECONFLICT] = { "conflict", 409 },
	[PCS_EDBDOWN] = { "database unavailable", 503 },
	[PCS_ENOMEM] = { "out of memory", 503 },
	[PCS_ECRYPTO] = { "cryptographic failure", 500 },
	[PCS_EIO] = { "input/output error", 500 },
	[PCS_EINTERNAL] = { "internal error", 500 },
};
_Static_assert(sizeof(errs) / sizeof(errs[0]) == PCS_ERR__MAX, "errs[]");

const char *
pcs_strerror(enum pcs_err e)
{
	return (unsigned)e < PCS_ERR__MAX ? errs[e].name : "unknown error";
}

int
pcs_http_status(enum pcs_err e)
{
	return (unsigned)e < PCS_ERR__MAX ? errs[e].status : 500;
}
