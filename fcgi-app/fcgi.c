/*
 * fcgi.c: the only includer of fcgiapp.h.  Trusts libfcgi for record
 * framing (2.4.2 with the CVE-2025-23016 fix) and nothing else: every param
 * is bounded before it is copied, the body is read only up to max_body, and a
 * short body is flagged (T-03), never padded.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "fcgi.h"
#include "limits.h"
#include "log.h"

int
fcgi_init(void)
{
	return FCGX_Init();
}

/* A CGI param as a bounded view into the arena (NULL param: empty). */
static struct str
param(struct arena *a, FCGX_Request *rq, const char *name, size_t max)
{
	const char *v = FCGX_GetParam(name, rq->envp);
	size_t len;

	if (v == NULL)
		return STR_NULL;
	len = strnlen(v, max + 1);
	if (len > max)
		len = max + 1;	/* the parser sees it is over the limit */
	return arena_strdup_str(a, (struct str){ v, len });
}

static void
read_request(struct arena *a, FCGX_Request *rq, size_t max_body, struct http_req *r)
{
	struct str cl;
	int64_t n = 0;

	memset(r, 0, sizeof(*r));
	r->method_name = param(a, rq, "REQUEST_METHOD", 16);
	r->path = param(a, rq, "DOCUMENT_URI", PCS_MAX_PATH);
	r->raw_query = param(a, rq, "QUERY_STRING", PCS_MAX_QUERY);
	r->raw_cookie = param(a, rq, "HTTP_COOKIE", PCS_MAX_HEADER_VALUE);
	r->content_type = param(a, rq, "CONTENT_TYPE", 256);
	r->origin = param(a, rq, "HTTP_ORIGIN", 512);
	r->sec_fetch_site = param(a, rq, "HTTP_SEC_FETCH_SITE", 64);
	r->authorization = param(a, rq, "HTTP_AUTHORIZATION", 1024);
	r->accept = param(a, rq, "HTTP_ACCEPT", 1024);
	r->https = FCGX_GetParam("HTTPS", rq->envp) != NULL;
	cl = param(a, rq, "CONTENT_LENGTH", 20);
	if (cl.len && !str_to_i64(cl, &n))
		n = -1;
	if (n < 0 || (uint64_t)n > max_body) {
		r->body_too_big = true;	/* 413 without reading: no allocation from a claim */
		return;
	}
	r->content_length = (size_t)n;
	if (n > 0) {
		char *body = arena_alloc(a, (size_t)n + 1);
		int got;

		if (body == NULL) {
			r->body_too_big = true;
			return;
		}
		got = FCGX_GetStr(body, (int)n, rq->in);
		if (got != (int)n)
			r->body_short = true;
		r->raw_body = (struct str){ body, got > 0 ? (size_t)got : 0 };
	}
}

struct flush_ctx {
	FCGX_Request	*rq;
	struct buf	*head;
};

/* resp_flush(): the head once, then each chunk of body as it is made. */
static bool
flush_out(void *arg, struct resp *r)
{
	struct flush_ctx *fc = arg;

	if (!r->streaming) {
		r->streaming = true;
		buf_reset(fc->head);
		resp_serialise_head(r, fc->head);
		if (fc->head->err != PCS_OK ||
		    FCGX_PutStr(fc->head->p, (int)fc->head->len, fc->rq->out) < 0)
			return false;
	}
	if (r->body.len && FCGX_PutStr(r->body.p, (int)r->body.len, fc->rq->out) < 0)
		return false;
	buf_reset(&r->body);
	return FCGX_FFlush(fc->rq->out) == 0;
}

static void
write_response(FCGX_Request *rq, struct resp *resp, struct buf *head)
{
	if (resp->streaming) {
		struct flush_ctx fc = { rq, head };

		(void)flush_out(&fc, resp);	/* the tail */
		return;
	}
	buf_reset(head);
	resp_serialise_head(resp, head);
	if (head->err != PCS_OK)
		return;
	FCGX_PutStr(head->p, (int)head->len, rq->out);
	if (resp->body.len)
		FCGX_PutStr(resp->body.p, (int)resp->body.len, rq->out);
}

/*
 * Ends the request without libfcgi's lingering close (shutdown, then wait
 * up to 2 s for the peer to close first: a guard against TCP resets).  On
 * our unix socket nginx has sent everything once FCGI_STDIN has ended, so
 * once the rest of it is read a plain close loses nothing, and the worker
 * skips a sleep and wake-up per request (perf.md B1/B2: -45% CPU per
 * request in the fcgi "ok" responder, -15% in nginx).  The rest is read
 * with a bounded wait; input not seen to its end gets libfcgi's close.
 */
static void
finish(FCGX_Request *rq)
{
	char sink[4096];
	int reads = 0;

	if (FCGX_HasSeenEOF(rq->in) == 0) {
		struct timeval tv = { 0, 200 * 1000 };

		(void)setsockopt(rq->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (reads++ < 64 && FCGX_GetStr(sink, (int)sizeof(sink), rq->in) > 0)
			;
	}
	if (FCGX_HasSeenEOF(rq->in) != 0 && FCGX_GetError(rq->in) == 0)
		(void)FCGX_Detach(rq);
	FCGX_Finish_r(rq);
}

void
fcgi_worker_run(int listen_fd, size_t max_body, volatile sig_atomic_t *stop,
    fcgi_handler fn, void *arg)
{
	FCGX_Request rq;
	struct arena a;
	struct resp resp;
	struct buf head;
	struct http_req req;

	/* fail on EINTR so SIGTERM/SIGHUP end a blocked accept (toolchain.md 4) */
	FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	arena_init(&a, 64 * 1024 * 1024);
	resp_init(&resp);
	buf_init(&head, 32 * 1024);
	while (!*stop) {
		if (FCGX_Accept_r(&rq) < 0) {
			if (*stop)
				break;
			continue;
		}
		struct flush_ctx fc = { &rq, &head };

		read_request(&a, &rq, max_body, &req);
		resp_reset(&resp);
		resp.flush_fn = flush_out;
		resp.flush_arg = &fc;
		fn(arg, &a, &req, &resp);
		write_response(&rq, &resp, &head);
		finish(&rq);
		arena_reset(&a);
	}
	FCGX_Free(&rq, 1);
	buf_release(&head);
	resp_release(&resp);
	arena_release(&a);
}
